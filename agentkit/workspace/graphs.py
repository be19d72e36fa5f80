"""The Graph page's logic: a chain's graph (Mermaid source and ASCII), its YAML spec, and its
editable parameters — top-k, temperature and prompt texts.

For the built-in chains the parameters are :class:`~agentkit.workspace.chains.ChainSettings`
fields. For a custom chain they are found in its spec (``k`` of retrievers, ``temperature``
of models, ``template`` of prompts); edited values are written into a copy of the spec and
the chain is rebuilt from it, so a change applies at once without restarting the app.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from agentkit.core.errors import AgentkitError, UsageError
from agentkit.workspace.chains import ChainSettings, default_prompts, editable_texts, with_texts

MODEL_HINTS = ("model", "reader", "llm")
OPEN_PROMPTS = ("document",)  # filled from each document's metadata: any variable may do


@dataclass(frozen=True)
class Param:
    """One editable parameter. ``kind`` is ``int`` (top-k), ``float`` (temperature, ``None``
    meaning the model's default) or ``text`` (a prompt)."""

    key: str
    label: str
    kind: str
    value: Any


NODE_STYLES = {
    "retriever": "#dbeafe",
    "model": "#fde68a",
    "reader": "#fde68a",
    "prompt": "#e9d5ff",
    "tool": "#bbf7d0",
    "join": "#e5e7eb",
}


@dataclass(frozen=True)
class GraphView:
    mermaid: str
    ascii: str
    yaml: str | None
    yaml_error: str | None = None
    dot: str = ""


def dot_label(text: str, limit: int = 60) -> str:
    """``text`` as a quoted DOT string: one line, cut to ``limit``, quotes and backslashes
    escaped (a node name is data; it must not end the string or add attributes)."""
    line = " ".join(str(text).split())
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    return '"' + line.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(graph: Any) -> str:
    """A chain graph as Graphviz DOT (top to bottom, nodes coloured by kind), which the app
    renders in the browser (``st.graphviz_chart``: no Graphviz install, no network)."""
    lines = [
        "digraph chain {",
        '  rankdir=TB; bgcolor="transparent";',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fillcolor="#f3f4f6"];',
    ]
    for node in graph.nodes:
        fill = NODE_STYLES.get(node.kind, "#f3f4f6")
        label = dot_label(f"{node.name}\u2002({node.kind})")
        lines.append(f'  {node.id} [label={label}, fillcolor="{fill}"];')
    lines += [f"  {a} -> {b};" for a, b in graph.edges]
    lines.append("}")
    return "\n".join(lines)


def graph_view(chain: Any) -> GraphView:
    """The chain's graph as DOT, Mermaid and ASCII, and its spec as YAML (or why it has
    none)."""
    import yaml

    graph = chain.graph()
    try:
        text: str | None = yaml.safe_dump(chain.to_dict(), sort_keys=False, allow_unicode=True)
        error = None
    except (AgentkitError, TypeError, ValueError) as exc:
        text, error = None, f"{type(exc).__name__}: {exc}"
    return GraphView(graph.to_mermaid(), graph.to_ascii(), text, error, to_dot(graph))


# --- built-in chains --------------------------------------------------------------------


def builtin_params(settings: ChainSettings) -> list[Param]:
    params = [
        Param("k", "Top-k (documents retrieved)", "int", settings.k),
        Param("temperature", "Temperature", "float", settings.temperature),
    ]
    for name, text in editable_texts(settings).items():
        params.append(Param(f"prompt:{name}", f"Prompt: {name}", "text", text))
    return params


def apply_builtin(settings: ChainSettings, values: Mapping[str, Any]) -> ChainSettings:
    """Settings with edited values applied (prompt texts equal to the current ones are
    not stored as overrides)."""
    changes: dict[str, Any] = {}
    prompts = dict(settings.prompts)
    current = editable_texts(settings)
    for key, value in values.items():
        if key in ("k", "temperature"):
            changes[key] = value
        elif key.startswith("prompt:"):
            name = key.removeprefix("prompt:")
            if name not in current:
                raise UsageError(f"the chain has no prompt text {name!r}")
            if value != current[name]:
                prompts[name] = value
        else:
            raise UsageError(f"unknown parameter {key!r}")
    updated = settings.updated(**changes, prompts=prompts)
    check_prompts(updated)
    return updated


def check_prompts(settings: ChainSettings) -> None:
    """Refuse edited prompt texts that do not parse or use a variable the chain does not
    fill (the chain would fail on every question after the edit)."""
    for name, bundled in default_prompts(settings.kind).items():
        try:
            edited = with_texts(name, bundled, settings.prompts)
        except AgentkitError as exc:
            raise UsageError(f"Prompt: {name} is not a valid template: {exc}") from exc
        if name in OPEN_PROMPTS:
            continue
        filled = set(bundled.input_variables) | set(getattr(bundled, "partial_variables", {}))
        unknown = [v for v in edited.input_variables if v not in filled]
        if unknown:
            raise UsageError(
                f"Prompt: {name} uses {', '.join('{' + v + '}' for v in unknown)}, which the "
                f"chain does not fill; use only {', '.join('{' + v + '}' for v in sorted(filled))}"
                " (write a literal brace as {{ or }})"
            )


# --- custom chains: parameters in the spec ----------------------------------------------


def _walk(node: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if isinstance(node, Mapping):
        if "type" in node:
            yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def spec_params(spec: Mapping[str, Any]) -> list[Param]:
    """Top-k of retrievers, temperature of models and prompt texts found in a spec."""
    params = []
    for path, node in _walk(spec, "$"):
        kind = str(node.get("type", ""))
        if "retriever" in kind and isinstance(node.get("k"), int):
            params.append(Param(f"{path}.k", f"Top-k of {kind} ({path})", "int", node["k"]))
        settings = node.get("params")
        if isinstance(settings, Mapping) or any(h in kind for h in MODEL_HINTS):
            value = settings.get("temperature") if isinstance(settings, Mapping) else None
            params.append(
                Param(
                    f"{path}.params.temperature", f"Temperature of {kind} ({path})", "float", value
                )
            )
        if isinstance(node.get("template"), str):
            params.append(
                Param(f"{path}.template", f"Prompt text ({path})", "text", node["template"])
            )
    return params


def _steps(key: str) -> list[str | int]:
    if not key.startswith("$"):
        raise UsageError(f"a spec parameter path starts with '$', got {key!r}")
    steps: list[str | int] = []
    for part in key[1:].split("."):
        if not part:
            continue
        name, _, rest = part.partition("[")
        if name:
            steps.append(name)
        while rest:
            index, _, rest = rest.partition("]")
            steps.append(int(index))
            rest = rest.removeprefix("[")
    return steps


def apply_spec(spec: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``spec`` with the parameters at the given paths set (``None`` removes a
    temperature)."""
    out: dict[str, Any] = copy.deepcopy(dict(spec))
    for key, value in values.items():
        steps = _steps(key)
        node: Any = out
        parents: list[tuple[Any, str | int]] = []
        for step in steps[:-1]:
            if isinstance(step, str) and isinstance(node, dict) and step not in node:
                node[step] = {}
            parents.append((node, step))
            node = node[step]
        last = steps[-1]
        if value is not None:
            node[last] = value
        elif isinstance(node, dict):
            node.pop(last, None)
            if not node and parents:  # e.g. "params: {}" once its temperature is gone
                parent, step = parents[-1]
                del parent[step]
    return out
