"""Components travel to Ray workers as specs (``to_dict`` there, ``agentkit.load`` here),
never as pickles; each worker loads them under the import policy the driver used."""

from __future__ import annotations

from typing import Any

from agentkit.core import spec
from agentkit.core.errors import SpecError, UsageError
from agentkit.core.refs import AllowImports, allowing_imports


def portable(component: Any, what: str) -> dict[str, Any]:
    """The spec of ``component`` (a chain, an embedder...), or a SpecError naming it and
    saying why it cannot run on a Ray worker."""
    try:
        data = spec.dump(component)
    except (SpecError, UsageError, TypeError) as e:
        raise SpecError(
            what,
            f"{type(component).__name__} ({component!r:.80}) cannot travel to Ray workers: "
            f"{e}. Components are sent as specs, never pickled; build it from registered "
            "types or a 'module:function' factory (see docs/scale-out.md)",
        ) from e
    if not isinstance(data, dict):
        raise SpecError(
            what, f"{type(component).__name__}.to_dict() returned {type(data).__name__}"
        )
    return data


def policy_of(allow_imports: AllowImports) -> bool | list[str]:
    """The import policy in force on the driver for ``allow_imports`` (its
    ``AGENTKIT_ALLOW_IMPORTS`` included), in a form a worker passes to ``load``."""
    with allowing_imports(allow_imports) as policy:
        if policy.everything:
            return True
        return list(policy.prefixes)


def load_portable(data: dict[str, Any], policy: bool | list[str], what: str) -> Any:
    """Build a component on a worker from its spec under the driver's policy."""
    return spec.load(data, what, allow_imports=policy if policy else False)


class WorkerFailed(UsageError):
    """A worker could not build its component or stopped the run with a UsageError (a
    developer mistake); the message is the worker's own."""


def reported(error: UsageError) -> str:
    """A worker's UsageError as text: agentkit's errors do not survive Ray's pickling."""
    return f"{type(error).__name__}: {error}"


def raise_reported(message: str | None, what: str) -> None:
    if message is not None:
        raise WorkerFailed(f"a Ray worker failed ({what}): {message}")
