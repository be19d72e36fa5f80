"""Argument schemas: a light JSON-schema check for hand-written tools, the main argument of
a schema, and docstring parsing (description and Google-style ``Args:``) for ``@tool``."""

from __future__ import annotations

import inspect
import re
from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict,),
    "null": (type(None),),
}
_SECTION = re.compile(r"^(Args|Arguments|Parameters|Params)\s*:\s*$")
_ENTRY = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def primary_arg(schema: dict[str, Any]) -> str | None:
    """The argument a plain-string input fills: the only required one, else the only one."""
    required = list(schema.get("required") or ())
    if len(required) == 1:
        return str(required[0])
    properties = list((schema.get("properties") or {}).keys())
    if not required and len(properties) == 1:
        return str(properties[0])
    return None


def accepts_text(spec: Any) -> bool:
    """Whether an argument's schema takes a string (or says nothing about its type)."""
    if not isinstance(spec, dict):
        return True
    wanted = spec.get("type")
    if wanted is None:
        options = spec.get("anyOf") or spec.get("oneOf")
        return options is None or any(accepts_text(o) for o in options)
    names = wanted if isinstance(wanted, list) else [wanted]
    return "string" in names or any(name not in _TYPES for name in names)


def _type_ok(value: Any, spec: dict[str, Any]) -> bool:
    wanted = spec.get("type")
    if wanted is None:
        options = spec.get("anyOf") or spec.get("oneOf")
        return options is None or any(_type_ok(value, o) for o in options)
    names = wanted if isinstance(wanted, list) else [wanted]
    for name in names:
        types = _TYPES.get(name)
        if types is None:
            return True  # a type this light check does not know: accept
        if isinstance(value, bool) and name in ("integer", "number"):
            continue
        if isinstance(value, types):
            return True
    return False


def check_args(args: Any, schema: dict[str, Any]) -> list[str]:
    """Problems of ``args`` against an object schema: missing and unknown arguments, wrong
    JSON types, values outside an ``enum``. Nested schemas are not checked."""
    if not isinstance(args, dict):
        return [f"expected a JSON object of arguments, got {type(args).__name__}"]
    properties: dict[str, Any] = schema.get("properties") or {}
    problems = [
        f"{name}: missing (required)" for name in schema.get("required") or () if name not in args
    ]
    for name, value in args.items():
        spec = properties.get(name)
        if spec is None:
            if schema.get("additionalProperties") is not True:
                allowed = ", ".join(properties) or "none"
                problems.append(f"{name}: unknown argument (allowed: {allowed})")
            continue
        if not _type_ok(value, spec):
            problems.append(f"{name}: expected {spec.get('type', 'another type')}, got {value!r}")
        elif "enum" in spec and value not in spec["enum"]:
            problems.append(f"{name}: must be one of {spec['enum']}, got {value!r}")
    return problems


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """The first paragraph (joined into one line) and the descriptions of a Google-style
    ``Args:`` section."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    first: list[str] = []
    for line in lines:
        if not line.strip() or _SECTION.match(line.strip()):
            break
        first.append(line.strip())
    params: dict[str, str] = {}
    current: str | None = None
    section_indent: int | None = None
    entry_indent: int | None = None
    for line in lines:
        indent = len(line) - len(line.lstrip())
        text = line.strip()
        if section_indent is None:
            if _SECTION.match(text):
                section_indent = indent
            continue
        if not text:
            continue
        if indent <= section_indent:  # the next section ("Returns:") ends the arguments
            break
        if entry_indent is None:
            entry_indent = indent
        match = _ENTRY.match(text)
        if indent == entry_indent and match:
            current = match.group(1)
            params[current] = match.group(2).strip()
        elif current is not None:
            params[current] = f"{params[current]} {text}".strip()
    return " ".join(first), params
