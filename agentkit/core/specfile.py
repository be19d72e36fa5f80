"""Spec files: ``save`` writes a runnable's spec as YAML or JSON, atomically; ``load_file``
reads one back (or takes a spec dict or a ``module:function`` reference) under the import
policy of :mod:`agentkit.core.refs`. Both are re-exported by :mod:`agentkit.core.spec`."""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentkit.core.errors import SpecError, UsageError
from agentkit.core.files import atomic_write_text
from agentkit.core.refs import AllowImports, allowing_imports
from agentkit.core.runnable import Runnable
from agentkit.core.spec import dump, load


def save(runnable: Runnable[Any, Any], path: str | Path) -> Path:
    """Write the runnable's spec as YAML (or JSON for ``.json``), atomically. A spec that
    names code in ``__main__`` (a script) warns: it loads nowhere else."""
    import yaml

    target = Path(path)
    spec = dump(runnable)
    _warn_main_refs(spec, target)
    text = (
        json.dumps(spec, indent=2)
        if target.suffix == ".json"
        else yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
    )
    atomic_write_text(target, text)
    return target


def _main_refs(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data] if data.startswith(("__main__:", "__main__.")) else []
    if isinstance(data, Mapping):
        return [r for value in data.values() for r in _main_refs(value)]
    if isinstance(data, list | tuple):
        return [r for value in data for r in _main_refs(value)]
    return []


def _warn_main_refs(spec: Any, target: Path) -> None:
    refs = sorted(set(_main_refs(spec)))
    if refs:
        warnings.warn(
            f"{target} refers to {', '.join(refs)}, defined in the script being run "
            "(__main__); it will not load anywhere else. Move that code into a module (e.g. "
            "mytools.py next to the script), import it from there and save again, so the "
            "spec says 'mytools:name'; load it with allow_imports=['mytools.']",
            UserWarning,
            stacklevel=3,
        )


def load_file(
    source: str | Path | Mapping[str, Any], *, allow_imports: AllowImports = None
) -> Runnable[Any, Any]:
    """Load a graph from a YAML/JSON file, a spec dict, or a ``module:function`` reference.

    Specs are data: references import agentkit's own components only, unless
    ``allow_imports`` is ``True`` (trust the spec as code) or a list of module prefixes
    (``["myproject."]``) whose code the spec may use."""
    with allowing_imports(allow_imports):
        return _load_file(source)


def _load_file(source: str | Path | Mapping[str, Any]) -> Runnable[Any, Any]:
    if isinstance(source, Mapping):
        return load(source)
    text_source = str(source)
    path = Path(text_source)
    if path.suffix in (".yaml", ".yml", ".json"):
        data = read_spec_file(path)
        try:
            return load(data, "$")
        except SpecError as exc:  # name the file in the one-line error
            exc.args = (f"{path}: {exc.args[0]}", *exc.args[1:])
            raise
    if ":" in text_source and not path.exists():
        return load(text_source)
    raise UsageError(
        f"cannot load {text_source!r}: give a .yaml/.yml/.json spec file or a "
        "'package.module:function' factory reference"
    )


MAX_SPEC_BYTES = 10_000_000
MAX_SPEC_NODES = 200_000


def read_spec_file(path: Path) -> Any:
    """The data of a YAML/JSON spec file, refusing files too big to be a spec and YAML
    whose aliases expand to more than ``MAX_SPEC_NODES`` values (an alias bomb)."""
    import yaml

    if not path.is_file():
        raise UsageError(f"spec file {path} does not exist; check the path")
    if path.stat().st_size > MAX_SPEC_BYTES:
        raise SpecError("$", f"{path} is larger than {MAX_SPEC_BYTES} bytes; not a spec file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, ValueError, RecursionError) as exc:  # ValueError: bad UTF-8, huge ints
        problem = " ".join(str(exc).split()) or type(exc).__name__
        raise SpecError("$", f"{path} is not valid YAML: {problem}") from exc
    if _count_nodes(data, MAX_SPEC_NODES) > MAX_SPEC_NODES:
        raise SpecError(
            "$",
            f"{path} expands to more than {MAX_SPEC_NODES} values (YAML aliases?); "
            "a spec is small: write it out without aliases",
        )
    return data


def _count_nodes(data: Any, limit: int) -> int:
    """How many values ``data`` holds, counting shared (aliased) ones each time; stops
    counting past ``limit``."""
    count, stack = 0, [data]
    while stack and count <= limit:
        item = stack.pop()
        count += 1
        if isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count
