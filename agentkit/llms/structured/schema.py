""":class:`OutputSchema`: the shape a structured reply must have (a pydantic model class or
a JSON schema dict), its JSON schema, and the validation of a reply's text against it."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

from agentkit.core.errors import ModelOutputError, UsageError, import_optional

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_MAP_KEYS = ("properties", "patternProperties", "$defs", "definitions")
_LIST_KEYS = ("anyOf", "oneOf", "allOf", "prefixItems")
_ONE_KEYS = ("items", "additionalProperties", "not", "if", "then", "else", "contains")


class OutputSchema:
    """A pydantic model class (replies validate to an instance of it) or a JSON schema dict
    (replies validate to a plain dict; needs the ``jsonschema`` package, extra
    ``structured``)."""

    def __init__(self, schema: Any) -> None:
        self.model: Any = None
        if isinstance(schema, type) and hasattr(schema, "model_json_schema"):
            self.model = schema
            self.json_schema: dict[str, Any] = schema.model_json_schema()
            self.name = schema.__name__
        elif isinstance(schema, Mapping):
            self.json_schema = dict(schema)
            self.name = str(schema.get("title") or "response")
            self._validator = _validator(self.json_schema)
        else:
            raise UsageError(
                "with_structured_output takes a pydantic model class or a JSON schema dict, "
                f"got {type(schema).__name__} {schema!r}"
            )
        self.name = re.sub(r"[^A-Za-z0-9_-]+", "_", self.name)[:64] or "response"

    def closed(self) -> dict[str, Any]:
        """The JSON schema with ``additionalProperties: false`` on every object schema that
        does not say otherwise: what constrained decoding enforces (every reply it allows
        is valid against the original schema, and stays short)."""
        schema = copy.deepcopy(self.json_schema)
        close_schema(schema)
        return schema

    def validate(self, text: str) -> Any:
        """The reply's JSON (the whole text, a fenced block, or the first ``{...}`` span)
        validated: a pydantic instance or a dict. Raises :class:`ModelOutputError` with the
        validation errors, which :meth:`ModelOutputError.feedback` turns into a retry
        prompt."""
        raw = extract_json(text)
        if self.model is not None:
            import pydantic

            try:
                return self.model.model_validate_json(raw)
            except pydantic.ValidationError as e:
                raise ModelOutputError(
                    f"the reply does not match schema {self.name}: {_pydantic_errors(e)}",
                    text,
                    "Reply with only a JSON object that matches the schema.",
                ) from e
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as e:
            raise ModelOutputError(
                f"the reply is not valid JSON ({e})", text, "Reply with only a JSON object."
            ) from e
        errors = sorted(self._validator.iter_errors(data), key=lambda err: list(err.path))
        if errors:
            found = "; ".join(f"{_where(err.path)}: {err.message}" for err in errors[:5])
            raise ModelOutputError(
                f"the reply does not match schema {self.name}: {found}",
                text,
                "Reply with only a JSON object that matches the schema.",
            )
        return data

    def instruction(self) -> str:
        """The system-prompt text that asks for a reply in this schema."""
        compact = _untitled(self.json_schema)
        return (
            "Reply with only a JSON object (no prose, no code fence) that matches this JSON "
            f"schema:\n{json.dumps(compact, sort_keys=True, separators=(',', ':'))}"
        )


def extract_json(text: str) -> str:
    """The JSON part of a reply: the stripped text if it starts like JSON, else the first
    fenced block, else the span from the first ``{`` to the last ``}``."""
    body = text.strip()
    if body.startswith(("{", "[")):
        return body
    fenced = _FENCE.search(text)
    if fenced:
        return fenced.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else body


def _validator(schema: dict[str, Any]) -> Any:
    jsonschema = import_optional(
        "jsonschema", "jsonschema", "structured", "structured output with a JSON schema dict"
    )
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as e:
        raise UsageError(
            f"the output schema is not a valid JSON schema: {e.message} (at "
            f"{_where(e.path)}); pass a JSON schema dict such as "
            "{'type': 'object', 'properties': {'name': {'type': 'string'}}}"
        ) from e
    return cls(schema)


def close_schema(node: Any) -> None:
    """Set ``additionalProperties: false`` in place on every object schema under ``node``
    that does not set it."""
    if not isinstance(node, dict):
        return
    is_object = node.get("type") == "object" or "properties" in node
    if is_object and "additionalProperties" not in node:
        node["additionalProperties"] = False
    for key in _MAP_KEYS:
        if isinstance(node.get(key), dict):
            for sub in node[key].values():
                close_schema(sub)
    for key in _LIST_KEYS:
        if isinstance(node.get(key), list):
            for sub in node[key]:
                close_schema(sub)
    for key in _ONE_KEYS:
        close_schema(node.get(key))


def _untitled(node: Any) -> Any:
    """The schema without the ``title`` keys pydantic adds to every node (shorter prompts)."""
    if isinstance(node, list):
        return [_untitled(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _MAP_KEYS and isinstance(value, dict):
            out[key] = {name: _untitled(sub) for name, sub in value.items()}
        elif not (key == "title" and isinstance(value, str)):
            out[key] = _untitled(value)
    return out


def _where(path: Any) -> str:
    return "$" + "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in path)


def _pydantic_errors(error: Any) -> str:
    parts = []
    for item in error.errors()[:5]:
        loc = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in item["loc"])
        parts.append(f"{loc}: {item['msg']}")
    return "; ".join(parts)
