"""Text parsers: the plain string and the comma-separated list."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from agentkit.core.config import ConfigLike
from agentkit.core.spec import add_builder
from agentkit.parsers.base import BaseOutputParser, text_of


class StrOutputParser(BaseOutputParser[str]):
    """The model's text as a string. Streams: each chunk's text is passed on as it comes."""

    def invoke(self, input: Any, config: ConfigLike = None) -> str:
        return input if type(input) is str else text_of(input)

    def parse(self, text: str) -> str:
        return text

    def transform(self, chunks: Iterable[Any], config: ConfigLike = None) -> Iterator[str]:
        for chunk in chunks:
            yield chunk if type(chunk) is str else text_of(chunk)

    async def atransform(
        self, chunks: AsyncIterator[Any], config: ConfigLike = None
    ) -> AsyncIterator[str]:
        async for chunk in chunks:
            yield chunk if type(chunk) is str else text_of(chunk)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "str_parser"}


class CommaSeparatedListOutputParser(BaseOutputParser[list[str]]):
    """``"red, green , blue"`` -> ``["red", "green", "blue"]`` (empty items dropped)."""

    def parse(self, text: str) -> list[str]:
        return [item.strip() for item in text.strip().split(",") if item.strip()]

    def format_instructions(self) -> str:
        return (
            "Your response should be a list of comma separated values, "
            "eg: `foo, bar, baz` or `foo,bar,baz`"
        )

    def to_dict(self) -> dict[str, Any]:
        return {"type": "list_parser"}


add_builder("str_parser", lambda ctx: StrOutputParser())
add_builder("list_parser", lambda ctx: CommaSeparatedListOutputParser())
