"""``PydanticOutputParser``: JSON from a model's text, validated into a pydantic model."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from agentkit.core.errors import OutputParserError, SpecError, UsageError
from agentkit.core.spec import SpecContext, add_builder, function_ref
from agentkit.parsers.base import BaseOutputParser
from agentkit.parsers.json_parser import extract_json

if TYPE_CHECKING:
    from pydantic import BaseModel

M = TypeVar("M", bound="BaseModel")


def _is_model(value: Any) -> bool:
    from pydantic import BaseModel

    return isinstance(value, type) and issubclass(value, BaseModel)


class PydanticOutputParser(BaseOutputParser[M], Generic[M]):
    """Parses JSON (fences and prose tolerated) and validates it with ``model``. The
    format instructions include the model's JSON schema."""

    def __init__(self, model: type[M]) -> None:
        if not _is_model(model):
            raise UsageError(
                f"PydanticOutputParser needs a pydantic BaseModel subclass, got {model!r}"
            )
        self.model = model

    def parse(self, text: str) -> M:
        from pydantic import ValidationError

        hint = f"Answer with a JSON object with the fields {self._fields()}"
        data = extract_json(text, hint)
        try:
            return self.model.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
                for err in exc.errors()
            )
            raise OutputParserError(
                f"the JSON does not match {self.model.__name__} ({problems})",
                text,
                hint=hint,
            ) from exc

    def _fields(self) -> list[str]:
        return list(self.model.model_fields)

    def format_instructions(self) -> str:
        schema = self.model.model_json_schema()
        return (
            "Return your answer as a JSON object that conforms to the JSON schema below, "
            "with no other text.\n"
            "For example, for the schema "
            '{"properties": {"foo": {"type": "array", "items": {"type": "string"}}}, '
            '"required": ["foo"]} the object {"foo": ["bar", "baz"]} conforms, and '
            '{"properties": {"foo": ["bar", "baz"]}} does not.\n'
            f"Here is the schema:\n```json\n{json.dumps(schema)}\n```"
        )

    @property
    def name(self) -> str:
        return f"PydanticOutputParser[{self.model.__name__}]"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "pydantic_parser", "model": function_ref(self.model)}


def _build(ctx: SpecContext) -> PydanticOutputParser[Any]:
    model: Any = ctx.function("model")
    if not _is_model(model):
        raise SpecError(f"{ctx.path}.model", f"{model!r} is not a pydantic BaseModel subclass")
    return PydanticOutputParser(model)


add_builder("pydantic_parser", _build)
