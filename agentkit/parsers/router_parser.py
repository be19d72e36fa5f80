"""``RouterOutputParser``: the classic multi-prompt router's JSON answer,
``{"destination": "physics", "next_inputs": "What is light?"}``."""

from __future__ import annotations

from typing import Any

from agentkit.core.errors import OutputParserError, UsageError
from agentkit.core.spec import SpecContext, add_builder
from agentkit.parsers.base import BaseOutputParser
from agentkit.parsers.json_parser import extract_json

_TYPES: dict[str, type] = {"str": str, "dict": dict, "list": list}
ROUTER_HINT = (
    'Answer with a JSON object {"destination": <one of the destination names or DEFAULT>, '
    '"next_inputs": <the (possibly revised) input>} inside a ```json code fence'
)


class RouterOutputParser(BaseOutputParser[dict[str, Any]]):
    """Parses ``{"destination": ..., "next_inputs": ...}`` (fences and prose tolerated) to
    ``{"destination": name or None, "next_inputs": {next_inputs_inner_key: value}}``. A
    destination equal to ``default_destination`` (any case) becomes ``None``."""

    def __init__(
        self,
        default_destination: str = "DEFAULT",
        next_inputs_type: type = str,
        next_inputs_inner_key: str = "input",
    ) -> None:
        if next_inputs_type not in _TYPES.values():
            raise UsageError(
                f"next_inputs_type must be one of str, dict, list; got {next_inputs_type!r}"
            )
        self.default_destination = default_destination
        self.next_inputs_type = next_inputs_type
        self.next_inputs_inner_key = next_inputs_inner_key

    def parse(self, text: str) -> dict[str, Any]:
        data = extract_json(text, ROUTER_HINT)
        if not isinstance(data, dict):
            raise OutputParserError(
                f"the router answer is a JSON {type(data).__name__}, not an object",
                text,
                ROUTER_HINT,
            )
        missing = [k for k in ("destination", "next_inputs") if k not in data]
        if missing:
            raise OutputParserError(
                f"the router answer lacks the key(s) {missing}", text, hint=ROUTER_HINT
            )
        destination, next_inputs = data["destination"], data["next_inputs"]
        if destination is not None and not isinstance(destination, str):
            raise OutputParserError(
                f"the destination must be a string, got {destination!r}", text, ROUTER_HINT
            )
        if not isinstance(next_inputs, self.next_inputs_type):
            raise OutputParserError(
                f"next_inputs must be a JSON {_json_name(self.next_inputs_type)}, got "
                f"{type(next_inputs).__name__}",
                text,
                ROUTER_HINT,
            )
        if destination is None or (destination.strip().lower() == self.default_destination.lower()):
            destination = None
        else:
            destination = destination.strip()
        return {
            "destination": destination,
            "next_inputs": {self.next_inputs_inner_key: next_inputs},
        }

    def format_instructions(self) -> str:
        return ROUTER_HINT + f"; use {self.default_destination!r} when no destination fits."

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "router_parser",
            "default_destination": self.default_destination,
            "next_inputs_type": self.next_inputs_type.__name__,
            "next_inputs_inner_key": self.next_inputs_inner_key,
        }


def _json_name(kind: type) -> str:
    names: dict[type, str] = {str: "string", dict: "object", list: "array"}
    return names[kind]


def _build(ctx: SpecContext) -> RouterOutputParser:
    return RouterOutputParser(
        ctx.get("default_destination", str, "DEFAULT"),
        _TYPES[ctx.get("next_inputs_type", str, "str", choices=list(_TYPES))],
        ctx.get("next_inputs_inner_key", str, "input"),
    )


add_builder("router_parser", _build)
