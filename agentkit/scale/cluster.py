"""Connecting to Ray: a cluster by address, or a private local one (node address 127.0.0.1).

``address`` is resolved once, the way ``ray.init`` does: an explicit address wins
(``"ray://head:10001"`` through Ray Client, ``"head:6379"`` or ``"auto"`` for a cluster this
machine belongs to), else ``RAY_ADDRESS``, else ``"local"``: a new single-machine Ray whose
node address is 127.0.0.1, without the dashboard, with a temp dir of its own (removed on
exit). Ray 2.60's own servers still listen on every interface, behind its token
authentication (see docs/scale-out.md). When Ray is already initialised in this process (a
notebook, a test fixture, a Ray job), that connection is used as it is and left running.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

from agentkit.core.errors import UsageError, import_optional

LOCAL = "local"
LOOPBACK = "127.0.0.1"


def ray_module() -> Any:
    """``ray``, or a MissingDependencyError naming the ``ray`` extra."""
    return import_optional("ray", "ray[data]", "ray", "the Ray executor (--executor ray)")


def resolve_address(address: str | None) -> str:
    """The address to connect to: ``address``, else ``$RAY_ADDRESS``, else ``"local"``."""
    if address is not None and (not isinstance(address, str) or not address.strip()):
        raise UsageError(
            f"address must be 'local', 'auto', 'host:port' or 'ray://host:port', got {address!r}"
        )
    chosen = (address or os.environ.get("RAY_ADDRESS", "") or LOCAL).strip()
    if any(ch.isspace() for ch in chosen) or "\x00" in chosen:
        raise UsageError(f"Ray address {chosen!r} contains whitespace; check --address")
    return chosen


@contextlib.contextmanager
def connected(
    address: str | None = None,
    *,
    num_cpus: int | None = None,
    runtime_env: dict[str, Any] | None = None,
) -> Iterator[Any]:
    """Connect to Ray for the block (see the module docstring); yields the ``ray`` module.

    ``num_cpus`` sizes a local Ray only; ``runtime_env`` (``{"pip": ["agentkit[ray]"]}``,
    ``{"env_vars": ...}``) applies to a connection made here."""
    ray = ray_module()
    if ray.is_initialized():
        yield ray
        return
    if num_cpus is not None and (isinstance(num_cpus, bool) or num_cpus < 1):
        raise UsageError(f"num_cpus must be a positive integer, got {num_cpus!r}")
    chosen = resolve_address(address)
    options: dict[str, Any] = {"log_to_driver": False, "runtime_env": runtime_env}
    temp_dir = None
    if chosen == LOCAL:
        # short path: Ray's socket paths must fit in 107 bytes
        temp_dir = tempfile.mkdtemp(prefix="akray-", dir="/tmp" if os.name == "posix" else None)
        options.update(
            _node_ip_address=LOOPBACK,
            include_dashboard=False,
            _temp_dir=temp_dir,
            num_cpus=num_cpus,
        )
    try:
        ray.init(address=chosen, **options)
    except ConnectionError as e:
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
        raise UsageError(
            f"cannot connect to the Ray cluster at {chosen!r} ({e}); check --address or "
            "RAY_ADDRESS, and that the cluster's Ray and Python versions match this machine's"
        ) from e
    try:
        yield ray
    finally:
        ray.shutdown()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)


def check_executor(
    executor: str, address: str | None, actors: int | None, gpus_per_actor: float
) -> str:
    """``executor`` (``"local"`` or ``"ray"``) checked against the Ray options given with it."""
    if executor not in ("local", "ray"):
        raise UsageError(f"--executor must be 'local' or 'ray', got {executor!r}")
    if executor == "local":
        given = [
            name
            for name, value in (
                ("--address", address),
                ("--actors", actors),
                ("--gpus-per-actor", gpus_per_actor or None),
            )
            if value is not None
        ]
        if given:
            raise UsageError(f"{given[0]} applies to --executor ray only; add --executor ray")
    return executor


STARTUP_TIMEOUT_S = 300.0


def wait_ready(ray: Any, refs: list[Any], what: str, timeout: float | None = None) -> list[Any]:
    """The results of the actors' first calls; a UsageError when they are not all placed
    and started within ``timeout`` seconds (default :data:`STARTUP_TIMEOUT_S`; asking for
    more CPUs or GPUs than the cluster has leaves actors waiting forever otherwise)."""
    timeout = STARTUP_TIMEOUT_S if timeout is None else timeout
    done, waiting = ray.wait(refs, num_returns=len(refs), timeout=timeout)
    if waiting:
        have = {k: v for k, v in ray.cluster_resources().items() if k in ("CPU", "GPU")}
        raise UsageError(
            f"only {len(done)} of {len(refs)} {what} actors started within {timeout:g} s; the "
            f"cluster has {have}. Ask for fewer --actors or --gpus-per-actor, or add nodes"
        )
    return list(ray.get(refs))
