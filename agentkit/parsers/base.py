"""The shared base of output parsers: text in (a str or a Message), parsed value out."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, TypeVar

from agentkit.core.config import ConfigLike
from agentkit.core.errors import UsageError
from agentkit.core.runnable import Runnable
from agentkit.core.streams import join_chunks

T = TypeVar("T")


def text_of(value: Any) -> str:
    """The text of a parser input: a string, or a message's ``content``."""
    if type(value) is str:
        return value
    content = getattr(value, "content", None)
    if isinstance(content, str):
        return content
    if isinstance(value, str):
        return str(value)
    raise UsageError(
        f"an output parser takes a str or a Message, got {type(value).__name__}; put it "
        "after a model, or pass the model's text"
    )


class BaseOutputParser(Runnable[Any, T]):
    """Parses a model's text. Subclasses implement :meth:`parse` and
    :meth:`format_instructions`; failures raise :class:`OutputParserError`."""

    kind = "parser"

    @abstractmethod
    def parse(self, text: str) -> T:
        """The parsed value of ``text``."""

    def format_instructions(self) -> str:
        """Text to add to a prompt so the model answers in the parsable format."""
        return ""

    def invoke(self, input: Any, config: ConfigLike = None) -> T:
        return self.parse(text_of(input))

    async def ainvoke(self, input: Any, config: ConfigLike = None) -> T:
        """Parsing is quick and never blocks: run inline, not in a worker thread."""
        return self.parse(text_of(input))

    def transform(self, chunks: Iterable[Any], config: ConfigLike = None) -> Iterator[T]:
        """Parse the joined chunks; an empty stream parses as the empty text (so a parser
        fails on it as it does on an empty reply, with an OutputParserError)."""
        items = list(chunks)
        yield from self.stream(join_chunks(items) if items else "", config)

    async def atransform(
        self, chunks: AsyncIterator[Any], config: ConfigLike = None
    ) -> AsyncIterator[T]:
        items = [chunk async for chunk in chunks]
        async for out in self.astream(join_chunks(items) if items else "", config):
            yield out

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
