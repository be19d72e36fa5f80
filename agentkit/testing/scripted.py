""":class:`ScriptedChatModel`: a fake chat model that calls tools, for offline tool suites.

It honours ``bind(tools=[...], tool_choice=...)`` like a model with native tool calls:

- with tools bound, a turn whose last message is the user's (or any turn when
  ``tool_choice`` forces a call) calls one tool: the one ``tool_choice`` names, else the
  tool whose name appears in the user's text, else the first tool;
- the call's arguments are filled from the tool's JSON schema: strings from quoted text in
  the prompt (else the prompt itself), numbers from the numbers in the prompt in order,
  enums with their first value, booleans ``false``, arrays ``[]``, objects ``{}``;
- a turn after a tool result answers in text, quoting the result;
- otherwise it answers ``responses`` in turn (default: it repeats the user's text).

``with_structured_output(schema)`` (a pydantic model class or a JSON schema) forces a call of
a tool shaped like ``schema``; its arguments are the structured reply.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from agentkit.core.errors import UsageError
from agentkit.core.messages import ChatResult, Message, ToolCall
from agentkit.llms.base import ParamsLike
from agentkit.llms.fake import FakeModel, Response
from agentkit.llms.params import GenerationParams

if TYPE_CHECKING:
    from agentkit.llms.structured import OutputSchema, Strategy

_QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"|\u201c([^\u201d]+)\u201d")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
_FORCED = ("required", "any")
_CHOICES = ("auto", "none", *_FORCED)


def tool_spec(tool: Any) -> dict[str, Any]:
    """``{"name", "description", "parameters"}`` from that form or the OpenAI
    ``{"type": "function", "function": {...}}`` form."""
    if isinstance(tool, Mapping):
        function = tool.get("function") if tool.get("type") == "function" else tool
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            parameters = function.get("parameters") or {"type": "object", "properties": {}}
            return {
                "name": function["name"],
                "description": str(function.get("description") or ""),
                "parameters": dict(parameters),
            }
    raise UsageError(
        f"a bound tool must be a JSON schema dict with a 'name' (or the OpenAI "
        f"{{'type': 'function', 'function': {{...}}}} form), got {tool!r}"
    )


class ScriptedChatModel(FakeModel):
    """A fake model with native-style tool calls (see the module docs).

    Args:
        responses: text replies for turns that call no tool, in turn (cycled).
        tools: tool schemas (also ``bind(tools=...)``).
        tool_choice: ``"auto"`` (default), ``"required"``/``"any"``, ``"none"`` or a tool name.
    """

    def __init__(
        self,
        responses: Sequence[str] = (),
        *,
        tools: Sequence[Mapping[str, Any]] = (),
        tool_choice: str | None = None,
        latency: float = 0.0,
        token_latency: float = 0.0,
        params: ParamsLike = None,
    ) -> None:
        super().__init__(latency, token_latency, params)
        if isinstance(responses, str) or not all(isinstance(r, str) for r in responses):
            raise UsageError(f"responses must be a list of strings, got {responses!r}")
        self.responses = list(responses)
        self.tools = [tool_spec(t) for t in tools]
        self.tool_choice = self._check_choice(tool_choice)

    def _check_choice(self, choice: Any) -> str | None:
        if choice is None or choice in _CHOICES:
            return choice
        names = [t["name"] for t in self.tools]
        if isinstance(choice, str) and choice in names:
            return choice
        raise UsageError(
            f"tool_choice must be one of {', '.join(_CHOICES)} or a bound tool's name "
            f"({', '.join(names) or 'no tools bound'}), got {choice!r}"
        )

    def _with_params(self, params: Mapping[str, Any]) -> ScriptedChatModel:
        rest = {k: v for k, v in params.items() if k not in ("tools", "tool_choice")}
        bound = super()._with_params(rest)
        if "tools" in params:
            bound.tools = [tool_spec(t) for t in params["tools"] or ()]
        if "tool_choice" in params:
            bound.tool_choice = bound._check_choice(params["tool_choice"])
        return bound

    # --- the script ---------------------------------------------------------------------

    def respond(self, messages: list[Message], params: GenerationParams, index: int) -> Response:
        last = messages[-1] if messages else Message("user", "")
        tool = self._pick_tool(last)
        if tool is not None:
            call = ToolCall(f"call_{index}", tool["name"], fill_arguments(tool, last.content))
            return ChatResult("", [call], finish_reason="tool_calls")
        if last.role == "tool":
            return f"The {last.name or 'tool'} tool returned: {last.content}"
        if self.responses:
            return self.responses[index % len(self.responses)]
        text = next((m.content for m in reversed(messages) if m.role == "user"), "")
        return f"You said: {text.strip()}" if text.strip() else "Hello! How can I help?"

    def _pick_tool(self, last: Message) -> dict[str, Any] | None:
        choice = self.tool_choice
        if not self.tools or choice == "none":
            return None
        if choice not in _CHOICES and choice is not None:
            return next(t for t in self.tools if t["name"] == choice)
        if last.role != "user" and choice not in _FORCED:
            return None
        named = [t for t in self.tools if t["name"] in last.content]
        if named:
            return max(named, key=lambda t: len(t["name"]))
        return self.tools[0]

    def structured_strategy(self, schema: OutputSchema, method: str) -> Strategy:
        """``with_structured_output`` by a forced call of a tool shaped like the schema
        (methods ``auto``, ``tools`` and ``json_schema``); ``prompt`` is the default
        instruction, which a scripted model does not follow."""
        from agentkit.llms.structured import Strategy

        if method == "prompt":
            return super().structured_strategy(schema, method)
        tool = {"name": schema.name, "parameters": schema.json_schema}
        bound = self.bind(tools=[tool], tool_choice=schema.name)
        return Strategy(bound, constrained=True, instruct=False, from_tool_call=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "scripted_chat_model",
            "responses": list(self.responses),
            "tools": list(self.tools),
            "tool_choice": self.tool_choice,
            **self._spec_fields(),
        }


def fill_arguments(tool: Mapping[str, Any], text: str) -> dict[str, Any]:
    """Arguments for ``tool`` (a :func:`tool_spec`) read from ``text`` (see the module docs)."""
    parameters = tool.get("parameters") or {}
    properties = parameters.get("properties") or {}
    defs = parameters.get("$defs") or {}
    quoted = iter([next(g for g in m.groups() if g) for m in _QUOTED.finditer(text)])
    body = text.replace(str(tool.get("name", "")), " ")
    numbers = iter(_NUMBER.findall(body))
    return {
        name: _value(spec, text, quoted, numbers, defs)
        for name, spec in properties.items()
        if isinstance(spec, Mapping)
    }


def _value(
    spec: Mapping[str, Any],
    text: str,
    quoted: Iterator[str],
    numbers: Iterator[str],
    defs: Mapping[str, Any],
) -> Any:
    ref = spec.get("$ref")
    if isinstance(ref, str) and ref.split("/")[-1] in defs:
        spec = defs[ref.split("/")[-1]]
    if isinstance(spec.get("enum"), list) and spec["enum"]:
        return spec["enum"][0]
    options = spec.get("anyOf") or spec.get("oneOf")
    if isinstance(options, list):
        real = [o for o in options if isinstance(o, Mapping) and o.get("type") != "null"]
        if real:
            return _value(real[0], text, quoted, numbers, defs)
    kind = spec.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind in ("integer", "number"):
        raw = next(numbers, "0")
        return int(float(raw)) if kind == "integer" else float(raw)
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        return {}
    return next(quoted, None) or text.strip() or "text"


def _from_spec(ctx: Any) -> ScriptedChatModel:
    return ScriptedChatModel(
        ctx.get("responses", list, []),
        tools=ctx.get("tools", list, []),
        tool_choice=ctx.get("tool_choice", str, None),
        latency=ctx.get("latency", float, 0.0),
        token_latency=ctx.get("token_latency", float, 0.0),
        params=ctx.get("params", dict, None),
    )


def _register() -> None:
    from agentkit.core import spec

    spec.add_builder("scripted_chat_model", _from_spec)


_register()
