"""Tools by registered name, so that agents serialise their tools as names.

``get_tool("calculator")`` returns the built-in calculator; ``get_tool("python_repl",
timeout=5)`` builds one with options. A registered tool's spec is
``{"type": "tool", "name": ..., **options}``; a tool made from a module-level function is
``{"type": "function_tool", "fn": "module:function", ...}``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from agentkit.core.errors import SpecError, UsageError
from agentkit.core.spec import SpecContext, add_builder
from agentkit.tools.base import Tool

_TOOLS: dict[str, Tool | Callable[..., Tool]] = {}
_LOCK = threading.Lock()


def register_tool(name: str, tool_or_factory: Tool | Callable[..., Tool]) -> None:
    """Register a tool instance (no options) or a factory ``(**options) -> Tool``."""
    if isinstance(tool_or_factory, Tool):
        tool_or_factory.spec_name = name
    elif not callable(tool_or_factory):
        raise UsageError(f"register_tool needs a Tool or a factory, got {tool_or_factory!r}")
    with _LOCK:
        _TOOLS[name] = tool_or_factory


def builtin_tools() -> list[str]:
    """Names of the registered tools (the built-ins and any you registered)."""
    with _LOCK:
        return sorted(_TOOLS)


def get_tool(name: str, **options: Any) -> Tool:
    """The tool registered as ``name``, built with ``options`` when it takes any."""
    with _LOCK:
        entry = _TOOLS.get(name)
    if entry is None:
        raise UsageError(f"unknown tool {name!r}; registered tools: {', '.join(builtin_tools())}")
    if isinstance(entry, Tool):
        if options:
            raise UsageError(f"tool {name!r} takes no options, got {sorted(options)}")
        return entry
    try:
        built = entry(**options)
    except TypeError as exc:
        raise UsageError(
            f"tool {name!r} does not accept the options {sorted(options)}: {exc}"
        ) from exc
    if not isinstance(built, Tool):
        raise UsageError(
            f"the factory of tool {name!r} returned {type(built).__name__}, not a Tool"
        )
    if built.spec_name is None:
        built.spec_name = name
        built.registered_options = dict(options)
    return built


def _build_registered(ctx: SpecContext) -> Tool:
    name = ctx.get("name", str, choices=builtin_tools())
    options = {key: ctx.get(key) for key in ctx.data if key not in ("type", "name")}
    try:
        return get_tool(name, **options)
    except UsageError as exc:
        raise SpecError(ctx.path, str(exc)) from exc


def _build_function_tool(ctx: SpecContext) -> Tool:
    from agentkit.tools.function import FunctionTool

    target = ctx.function("fn")
    fn = target.fn if isinstance(target, FunctionTool) else target  # @tool replaced the name
    return FunctionTool(
        fn,
        ctx.get("name", str, None),
        ctx.get("description", str, None),
        ctx.get("timeout", float, None),
        ctx.get("max_output_chars", (int, type(None)), 4000),
    )


add_builder("tool", _build_registered)
add_builder("function_tool", _build_function_tool)
