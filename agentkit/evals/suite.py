"""Eval suites: a YAML file naming a chain graph, a dataset and how to run them.

```yaml
name: squad_v11_dev
chain: agentkit.evals.suites:squad_rag_chain   # module:function, a spec file, or
                                               # {ref: module:function, args: {...}}
dataset: ../../shared/data/squad-v1.1-dev/dev-v1.1.json.gz
metrics: [em, f1, contains, retrieval, latency]
concurrency: 4
```
Other keys: ``description``, ``limit``, ``timeout``, ``retries``, ``input_map``,
``output_map``, ``judge`` (a chain reference, as ``chain``), ``prices``, ``ks``, ``out``.
Paths (spec files, the dataset, ``out``) are relative to the suite file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentkit.core.errors import SpecError, UsageError
from agentkit.core.spec import SpecContext
from agentkit.evals.metrics import DEFAULT_METRICS

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class Suite:
    name: str
    chain: Any
    dataset: Path
    metrics: list[str] = field(default_factory=lambda: list(DEFAULT_METRICS))
    description: str = ""
    limit: int | None = None
    concurrency: int = 8
    timeout: float | None = None
    retries: int = 0
    input_map: dict[str, str] | None = None
    output_map: dict[str, str] | None = None
    judge: Any = None
    prices: dict[str, dict[str, float]] | None = None
    ks: list[int] = field(default_factory=lambda: [1, 5, 10])
    out: Path | None = None
    path: Path | None = None


def load_chain(ref: Any, base: Path | None = None, allow_imports: bool | None = None) -> Any:
    """A chain graph from a spec file, a ``module:function`` reference, a ``{ref, args}``
    dict or an inline spec dict; relative spec paths resolve against ``base``.
    ``allow_imports=True`` trusts the spec as code (see :mod:`agentkit.core.refs`)."""
    from agentkit.core import spec

    if isinstance(ref, str) and Path(ref).suffix.lower() in SPEC_SUFFIXES:
        path = Path(ref)
        if base is not None and not path.is_absolute():
            path = base / path
        return spec.load_file(path, allow_imports=allow_imports)
    if isinstance(ref, str) and ":" not in ref:
        raise UsageError(
            f"cannot load chain {ref!r}: give a .yaml/.yml/.json spec file or a "
            "'package.module:function' factory reference"
        )
    return spec.load(ref, allow_imports=allow_imports)


def _path(value: str, base: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path(os.path.normpath(base / path))


def load_suite(path: str | Path) -> Suite:
    """Read and check a suite file (the chain itself is loaded by :func:`load_chain`)."""
    import yaml

    file = Path(path)
    if not file.is_file():
        raise UsageError(f"suite file {file} does not exist; check the path")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SpecError("$", f"{file} is not valid YAML: {exc}") from exc
    if not isinstance(data, Mapping):
        raise SpecError("$", f"{file} must hold a mapping with 'chain' and 'dataset'")
    ctx = SpecContext(data)
    base = file.parent
    metrics = ctx.get("metrics", (list, str), list(DEFAULT_METRICS))
    suite = Suite(
        name=ctx.get("name", str, file.stem),
        chain=ctx.get("chain", (str, dict)),
        dataset=_path(ctx.get("dataset", str), base),
        metrics=metrics.split(",") if isinstance(metrics, str) else [str(m) for m in metrics],
        description=ctx.get("description", str, ""),
        limit=ctx.get("limit", int, None, minimum=1),
        concurrency=ctx.get("concurrency", int, 8, minimum=1),
        timeout=ctx.get("timeout", float, None),
        retries=ctx.get("retries", int, 0, minimum=0),
        input_map=ctx.get("input_map", dict, None),
        output_map=ctx.get("output_map", dict, None),
        judge=ctx.get("judge", (str, dict), None),
        prices=ctx.get("prices", dict, None),
        ks=[int(k) for k in ctx.get("ks", list, [1, 5, 10])],
        path=file,
    )
    out = ctx.get("out", str, None)
    suite.out = _path(out, base) if out else None
    ctx.check_unknown()
    return suite
