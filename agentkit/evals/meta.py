"""Run metadata saved with the results: the chain's spec, the dataset's hash, the git
commit, the seed, package versions and the run options."""

from __future__ import annotations

import datetime as _dt
import json
import platform
import subprocess
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from agentkit.core.errors import AgentkitError
from agentkit.evals.datasets import Dataset

PACKAGES = (
    "agentkit",
    "numpy",
    "sacrebleu",
    "torch",
    "transformers",
    "sentence-transformers",
    "faiss-cpu",
    "bm25s",
    "peft",
)


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that affect results (absent ones left out)."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return out


def git_commit(cwd: str | Path | None = None) -> dict[str, Any] | None:
    """``{"commit", "dirty"}`` of the git checkout holding ``cwd``, or None outside one."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
        if commit.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}


def environment() -> dict[str, Any]:
    """The git commit and package versions (a few subprocess and file reads: the runner
    collects them in the background while the examples run)."""
    return {"git": git_commit(), "versions": package_versions()}


def chain_spec(chain: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The chain's spec (``agentkit.core.spec.dump``) or, when it cannot be serialised,
    None and the reason."""
    from agentkit.core import spec

    try:
        return spec.dump(chain), None
    except (AgentkitError, TypeError, ValueError) as exc:
        return None, str(exc)


def chain_info(chain: Any) -> dict[str, Any]:
    """The chain's name, spec (with ``spec_error`` when it has none) and graph node names,
    as saved in ``run.json`` (JSON round-tripped, so it compares equal to a loaded copy)."""
    spec_data, spec_error = chain_spec(chain)
    info: dict[str, Any] = {
        "name": getattr(chain, "name", type(chain).__name__),
        "spec": spec_data,
        "graph": _graph_names(chain),
    }
    if spec_error:
        info["spec_error"] = spec_error
    loaded: dict[str, Any] = json.loads(json.dumps(info, ensure_ascii=False, default=str))
    return loaded


def same_chain(before: Mapping[str, Any], now: Mapping[str, Any]) -> bool:
    """Whether two :func:`chain_info` describe the same chain: equal specs when both have
    one, else the same name and graph (a chain of local functions has no spec, and one
    over a freshly built index may have none until the index is saved)."""
    if before.get("spec") is not None and now.get("spec") is not None:
        return before.get("spec") == now.get("spec")
    return (before.get("name"), before.get("graph")) == (now.get("name"), now.get("graph"))


def run_metadata(
    chain: Any,
    dataset: Dataset,
    metric_names: Sequence[str],
    options: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What produced a run's results (see also :func:`environment`)."""
    meta: dict[str, Any] = {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "chain": chain_info(chain),
        "dataset": {
            "path": dataset.path,
            "sha256": dataset.sha256,
            "format": dataset.format,
            "examples": len(dataset),
            "squad_version": dataset.squad_version,
        },
        "metrics": list(metric_names),
        "options": dict(options),
        "argv": list(sys.argv),
    }
    if extra:
        meta.update(extra)
    return meta


def _graph_names(chain: Any) -> list[str]:
    try:
        return [f"{n.name} ({n.kind})" for n in chain.graph().nodes]
    except Exception:  # graph() is informational: a node that cannot draw itself is fine
        return []
