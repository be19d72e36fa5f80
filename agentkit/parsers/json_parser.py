"""``JsonOutputParser``: the first JSON value in a model's text.

Tolerates code fences (```json ... ```) and prose before or after the JSON. Any input
string gives a value or an :class:`OutputParserError`, never another exception.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agentkit.core.errors import OutputParserError
from agentkit.core.spec import SpecContext, add_builder
from agentkit.parsers.base import BaseOutputParser

_OPEN = r"```[ \t]*(?:json|JSON|javascript|js)?[ \t]*\r?\n?"
_FENCE = re.compile(_OPEN + r"(.*?)```", re.DOTALL)
_FENCE_OPEN = re.compile(_OPEN)
_DECODER = json.JSONDecoder()
MAX_CANDIDATES = 64
JSON_HINT = "Answer with one JSON value only, optionally inside a ```json code fence"


def _loads(text: str) -> tuple[bool, Any, str]:
    try:
        return True, json.loads(text), ""
    except (ValueError, RecursionError) as exc:
        return False, None, str(exc)


def extract_json(text: str, hint: str = JSON_HINT) -> Any:
    """The JSON value in ``text``: the whole text, a fenced block, or the first balanced
    object or array found in it. Raises :class:`OutputParserError` (with ``hint``) when
    there is none."""
    stripped = text.strip()
    ok, value, first_error = _loads(stripped)
    if ok:
        return value
    for match in _FENCE.finditer(text):
        ok, value, _ = _loads(match.group(1).strip())
        if ok:
            return value
    opener = _FENCE_OPEN.search(text)
    last = text.rfind("```")
    if opener is not None and last > opener.end():  # a fence whose JSON contains ```
        ok, value, _ = _loads(text[opener.end() : last].strip())
        if ok:
            return value
    start = 0
    for _ in range(MAX_CANDIDATES):
        starts = [i for i in (text.find("{", start), text.find("[", start)) if i >= 0]
        if not starts:
            break
        index = min(starts)
        try:
            value, _end = _DECODER.raw_decode(text, index)
            return value
        except (ValueError, RecursionError):
            start = index + 1
    raise OutputParserError(
        f"no valid JSON found ({first_error or 'empty output'})", text, hint=hint
    )


class JsonOutputParser(BaseOutputParser[Any]):
    """Parses JSON from a model's text. ``schema_hint`` (a JSON schema or example, as a
    dict or string) is shown in the format instructions."""

    def __init__(self, schema_hint: dict[str, Any] | str | None = None) -> None:
        self.schema_hint = schema_hint

    def parse(self, text: str) -> Any:
        return extract_json(text)

    def format_instructions(self) -> str:
        base = "Return your answer as JSON only, with no other text."
        if self.schema_hint is None:
            return base
        hint = (
            self.schema_hint
            if isinstance(self.schema_hint, str)
            else json.dumps(self.schema_hint, indent=2)
        )
        return f"{base} It must match this schema:\n```json\n{hint}\n```"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "json_parser"}
        if self.schema_hint is not None:
            data["schema_hint"] = self.schema_hint
        return data


def _build(ctx: SpecContext) -> JsonOutputParser:
    return JsonOutputParser(ctx.get("schema_hint", (dict, str), None))


add_builder("json_parser", _build)
