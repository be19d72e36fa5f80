"""Tools inside agents: checking the tool list, describing it to a text model, and binding
it to a model with native tool calls. (Agents run tools with
:class:`agentkit.tools.ToolRunner`, which turns every failure into an observation.)"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.core.foreign import coerce_foreign
from agentkit.core.runnable import Runnable
from agentkit.tools import Tool, get_tool


def as_tools(tools: Sequence[Any]) -> list[Tool]:
    """The agent's tools: Tool objects, registered tool names, or plain functions (made into
    tools with ``Tool.from_function``). Names must be unique."""
    if isinstance(tools, str | Tool) or not isinstance(tools, Sequence):
        raise UsageError(
            f"an agent's tools must be a list of tools, got {type(tools).__name__}; "
            "e.g. create_react_agent(model, [calculator, today])"
        )
    out: list[Tool] = []
    for i, item in enumerate(tools):
        item = coerce_foreign(item, "tool")  # a LangChain tool works as it is
        if isinstance(item, Tool):
            out.append(item)
        elif isinstance(item, str):
            out.append(get_tool(item))
        elif callable(item):
            out.append(Tool.from_function(item))
        else:
            raise UsageError(
                f"tools[{i}] is a {type(item).__name__} ({item!r}); give a Tool, a registered "
                "tool name such as 'calculator', or a function"
            )
    names = [t.name for t in out]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UsageError(f"tool names must be unique; {duplicates} appear more than once")
    return out


def describe_tools(tools: Sequence[Tool]) -> str:
    """One line per tool for a text prompt: name, description and arguments, each with its
    type, and ``optional`` (with the default) for those not required:
    ``Arguments: city (string), units (one of "C" | "F", optional, default "C")``."""
    lines = []
    for t in tools:
        schema = t.args_schema or {}
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        args = [
            f"{name} ({_argument_text(spec, name in required)})"
            for name, spec in properties.items()
            if isinstance(spec, dict)
        ]
        suffix = f" Arguments: {', '.join(args)}" if args else ""
        lines.append(f"{t.name}: {t.description.strip()}{suffix}")
    return "\n".join(lines)


def _argument_text(spec: dict[str, Any], required: bool) -> str:
    text = _type_text(spec)
    if not required:
        text += ", optional"
        if "default" in spec and spec["default"] is not None:
            text += f", default {json.dumps(spec['default'], ensure_ascii=False, default=str)}"
    return text


def _type_text(spec: Any) -> str:
    """A JSON schema's type in a few words (``string``, ``array of number``, ``one of
    [...]``, ``string or integer``; ``any`` when it says nothing)."""
    if not isinstance(spec, dict):
        return "any"
    if isinstance(spec.get("enum"), list):
        values = (json.dumps(v, ensure_ascii=False, default=str) for v in spec["enum"])
        return "one of " + " | ".join(values)
    options = spec.get("anyOf") or spec.get("oneOf")
    if isinstance(options, list):
        kinds = [
            _type_text(o) for o in options if not (isinstance(o, dict) and o.get("type") == "null")
        ]
        return " or ".join(dict.fromkeys(kinds)) or "any"
    kind = spec.get("type")
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind if k != "null") or "any"
    if kind == "array":
        return f"array of {_type_text(spec.get('items'))}" if spec.get("items") else "array"
    return str(kind) if kind else "any"


def unknown_tool_message(name: str, names: Sequence[str]) -> str:
    """The observation for a call of a tool that does not exist."""
    available = ", ".join(names) if names else "none"
    return (
        f"Unknown tool {name!r}. Available tools: {available}. Call one of them by its exact "
        "name, or give your final answer."
    )


def bind_stop(model: Runnable[Any, Any], stop: str) -> Runnable[Any, Any]:
    """The model with ``stop`` added to its bound stop sequences, where the model takes
    generation params; else the model unchanged (the ReAct parser ignores text after an
    imagined observation anyway)."""
    bound = tuple(getattr(getattr(model, "params", None), "stop", None) or ())
    try:
        return model.bind(stop=[*bound, stop] if stop not in bound else list(bound))
    except UsageError:
        return model


def bind_tools(model: Runnable[Any, Any], schemas: list[dict[str, Any]]) -> Runnable[Any, Any]:
    """The model with the tools' schemas bound (``bind_tools(schemas)`` or
    ``bind(tools=schemas)``). Fake models that reject the parameter are used as they are:
    their scripts supply the tool calls."""
    binder = getattr(model, "bind_tools", None)
    if callable(binder):
        return binder(schemas)
    try:
        return model.bind(tools=schemas)
    except UsageError as exc:
        if getattr(model, "is_fake", False):
            return model
        raise UsageError(
            f"{model.name} does not accept tools (bind(tools=...) failed: {exc}); use a model "
            "with native tool calls, or create_react_agent, which works with any chat model"
        ) from exc
