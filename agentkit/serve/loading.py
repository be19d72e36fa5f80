"""Load what ``agentkit serve`` serves: ``name=source`` pairs, where a source is a YAML/JSON
spec file or a ``package.module:attr`` reference.

A spec file is a component spec, optionally with a top-level ``serve:`` block mapping a
chat turn to a chain's input (see :class:`~agentkit.serve.targets.InputMapping`)::

    serve: {input: question, history: chat_history, output: answer}
    type: sequence
    steps: [...]

Trust: a ``module:attr`` named on the command line is code the user chose to run, so it is
imported; references *inside* a spec file import agentkit's own components only unless the
caller passes ``allow_imports`` (``agentkit serve --allow-imports``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agentkit.core.errors import SpecError, UsageError
from agentkit.core.runnable import Runnable
from agentkit.serve.targets import InputMapping, Target, make_target

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


def parse_pair(text: str) -> tuple[str, str]:
    """``"qa=chain.yaml"`` -> ``("qa", "chain.yaml")``; a bare path is named after its stem."""
    name, sep, source = text.partition("=")
    if not sep:
        source = text
        name = Path(text).stem if Path(text).suffix else text.rpartition(":")[2]
    if not _NAME.match(name):
        raise UsageError(
            f"bad served name {name!r} in {text!r}: use letters, digits, '.', '_', ':' or '-' "
            "(at most 64), e.g. qa=chain.yaml"
        )
    if not source:
        raise UsageError(
            f"{text!r} names nothing to serve; write NAME=spec.yaml or NAME=pkg.mod:obj"
        )
    return name, source


def load_component(source: str, allow_imports: bool = False) -> tuple[Any, InputMapping | None]:
    """The component a source names, and the input mapping of its spec's ``serve`` block."""
    from agentkit.core import spec

    path = Path(source)
    if path.suffix in (".yaml", ".yml", ".json"):
        if not path.is_file():
            raise UsageError(f"spec file {path} does not exist; check the path")
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise SpecError(str(path), f"not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise SpecError(str(path), "a spec file must hold a mapping with a 'type'")
        block = data.pop("serve", None)
        if block is not None and not isinstance(block, dict):
            raise SpecError(f"{path}: $.serve", "expected a mapping {input, history, output}")
        mapping = InputMapping.from_dict(block, str(path)) if block else None
        return spec.load(data, "$", allow_imports=True if allow_imports else None), mapping
    if ":" in source:
        from agentkit.core.refs import allowing_imports, resolve_ref

        with allowing_imports(True):  # named on the command line: the user's own code
            target = resolve_ref(source, source)
            if not isinstance(target, Runnable) and not hasattr(target, "embed_batch"):
                if not callable(target):
                    raise UsageError(f"{source} is neither a component nor a factory")
                target = target()
        return target, None
    raise UsageError(
        f"cannot serve {source!r}: give a .yaml/.yml/.json spec file or a "
        "'package.module:attr' reference"
    )


def load_targets(pairs: Iterable[str], allow_imports: bool = False) -> dict[str, Target]:
    """Targets by name from ``name=source`` strings (names must be unique)."""
    targets: dict[str, Target] = {}
    for text in pairs:
        name, source = parse_pair(text)
        if name in targets:
            raise UsageError(f"the name {name!r} is served twice; give each source its own name")
        component, mapping = load_component(source, allow_imports)
        targets[name] = make_target(name, component, mapping)
    if not targets:
        raise UsageError(
            "nothing to serve: name at least one spec, e.g. agentkit serve qa=chain.yaml"
        )
    return targets
