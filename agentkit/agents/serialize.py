"""Specs of agents: the model, the tools, the prompt, the memory and the options.

Tools are written by this rule:

1. a registered tool built without options (``get_tool("calculator")``, ``calculator``) is
   written as its registered name: ``"calculator"``;
2. a tool made with ``@tool`` on a module-level function, with no other settings, is
   written as the reference ``"module:function"``;
3. any other serialisable tool is written as its own spec (``tool.to_dict()``: a registered
   tool with options, or a function tool with a custom name, description or timeout).

A tool that has no spec (a subclass that is not registered, a tool made from a lambda or a
nested function) raises a :class:`SpecError` saying how to make it serialisable. Loading
reverses the rule: a name without ``:`` comes from the registry, ``"module:function"`` must
import a tool (or a function, which becomes one), and a dict is loaded as a spec. Specs are
data: a reference outside agentkit imports only when the caller allows it
(``agentkit.load(path, allow_imports=...)``, see :mod:`agentkit.core.refs`).

A durable agent's spec also holds ``checkpointer`` (the SQLite file's path), the names of
its tools that need approval (``requires_approval: [...]``) or are idempotent
(``idempotent: [...]``), and its ``approval`` policy as a ``module:function`` reference.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentkit.core import spec
from agentkit.core.errors import SpecError, UsageError

if TYPE_CHECKING:
    from agentkit.agents.executor import Agent
    from agentkit.core.spec import SpecContext

DEFAULTS = {"max_iterations": 10, "max_execution_time": None, "early_stopping": "force"}
FLAGS = ("requires_approval", "idempotent")  # tool flags an agent spec lists by tool name


def tool_to_spec(tool: Any, path: str) -> str | dict[str, Any]:
    """The spec of one tool, by the rule in the module docstring."""
    try:
        data = tool.to_dict()
    except SpecError as exc:
        raise SpecError(
            path,
            f"the tool {tool.name!r} cannot be serialised ({exc}); define it with @tool on a "
            "module-level function, or register it with agentkit.tools.register_tool",
        ) from exc
    if data.get("type") == "tool" and set(data) == {"type", "name"}:
        return str(data["name"])
    if data.get("type") == "function_tool" and set(data) == {"type", "fn"}:
        return str(data["fn"])
    return dict(data)


def tool_from_spec(item: Any, path: str) -> Any:
    """A tool from a registered name, a ``"module:function"`` reference or a spec dict."""
    from agentkit.tools import Tool, get_tool

    if isinstance(item, str) and ":" not in item:
        try:
            return get_tool(item)
        except UsageError as exc:
            raise SpecError(path, str(exc)) from exc
    if isinstance(item, str):
        target = spec.resolve_ref(item, path)
        if callable(target) and not isinstance(target, Tool):
            try:
                target = Tool.from_function(target)
            except UsageError as exc:
                raise SpecError(path, str(exc)) from exc
    elif isinstance(item, dict):
        target = spec.load(item, path)
    else:
        raise SpecError(
            path,
            f"expected a tool name, a 'module:function' reference or a spec dict, "
            f"got {type(item).__name__} {item!r}",
        )
    if not isinstance(target, Tool):
        raise SpecError(
            path, f"{item!r} is a {type(target).__name__}, not a tool; use @agentkit.tools.tool"
        )
    return target


def agent_fields(agent: Agent, type_name: str) -> dict[str, Any]:
    """The spec of an agent; options at their defaults are left out."""
    data: dict[str, Any] = {
        "type": type_name,
        "model": spec.dump(agent.model),
        "tools": [tool_to_spec(t, f"$.tools[{i}]") for i, t in enumerate(agent.tools)],
    }
    if agent.custom_prompt:
        data["prompt"] = spec.dump(agent.prompt)
    if agent.memory is not None:
        if getattr(agent.memory, "to_dict", None) is None:
            raise SpecError(
                "$.memory",
                f"the memory {type(agent.memory).__name__} cannot be serialised; give it "
                "to_dict() and register a builder with agentkit.core.spec.add_builder",
            )
        data["memory"] = spec.dump(agent.memory)
    for key, default in DEFAULTS.items():
        value = getattr(agent, key)
        if value != default:
            data[key] = value
    if agent.final_instruction != agent.default_final_instruction():
        data["final_instruction"] = agent.final_instruction
    data.update(durable_fields(agent))
    return data


def durable_fields(agent: Agent) -> dict[str, Any]:
    """The durable-run settings of an agent's spec: the checkpoint file, the tools that
    need approval or are idempotent (tool specs do not carry these flags), the policy."""
    data: dict[str, Any] = {}
    if agent.checkpointer is not None:
        data["checkpointer"] = str(agent.checkpointer.path)
    for flag in FLAGS:
        names = [t.name for t in agent.tools if getattr(t, flag) and not _flag_default(t, flag)]
        if names:
            data[flag] = names
    if agent.approval is not None:
        data["approval"] = spec.function_ref(agent.approval)
    return data


def _flag_default(tool: Any, flag: str) -> bool:
    """The flag a tool has when rebuilt from its own spec (a registered tool keeps its
    registered flags: the calculator is idempotent), so the agent spec lists only marks."""
    from agentkit.tools import get_tool

    try:
        item = tool_to_spec(tool, "$")
    except SpecError:
        return False
    if isinstance(item, str) and ":" not in item:
        try:
            return bool(getattr(get_tool(item), flag, False))
        except UsageError:
            return False
    return bool(getattr(type(tool), flag, False))


def agent_options(ctx: SpecContext) -> dict[str, Any]:
    """Constructor arguments of an agent from its spec."""
    items = ctx.get("tools", list)
    limit = ctx.get("max_execution_time", (int, float), None)
    tools = [tool_from_spec(item, f"{ctx.path}.tools[{i}]") for i, item in enumerate(items)]
    return {
        "model": ctx.runnable("model"),
        "tools": tools,
        "prompt": ctx.runnable("prompt", None),
        "memory": ctx.component("memory", None),
        "max_iterations": ctx.get("max_iterations", int, 10, minimum=1),
        "max_execution_time": None if limit is None else float(limit),
        "early_stopping": ctx.get("early_stopping", str, "force", choices=("force", "generate")),
        "final_instruction": ctx.get("final_instruction", str, None),
        **durable_options(ctx, tools),
    }


def durable_options(ctx: SpecContext, tools: list[Any]) -> dict[str, Any]:
    """The checkpointer and approval policy of an agent spec; marks its tools' flags."""
    from agentkit.agents.checkpoint import SQLiteCheckpointer

    names = [t.name for t in tools]
    for flag in FLAGS:
        listed = ctx.get(flag, list, [])
        for i, name in enumerate(listed):
            if name not in names:
                raise SpecError(
                    f"{ctx.path}.{flag}[{i}]", f"no tool named {name!r}; the tools are {names}"
                )
            tools[names.index(name)] = tools[names.index(name)].marked(**{flag: True})
    path = ctx.get("checkpointer", str, None)
    return {
        "checkpointer": None if path is None else SQLiteCheckpointer(path),
        "approval": ctx.function("approval") if "approval" in ctx.data else None,
    }


def register_agent(type_name: str, builder: Callable[[SpecContext], Any]) -> None:
    spec.add_builder(type_name, builder)
