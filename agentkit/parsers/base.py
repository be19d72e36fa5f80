"""The shared base of output parsers: text in (a str or a Message), parsed value out."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, TypeVar

from agentkit.core.config import ConfigLike
from agentkit.core.errors import UsageError
from agentkit.core.runnable import Runnable, traced

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

    @traced
    def invoke(self, input: Any, config: ConfigLike = None) -> T:
        return self.parse(text_of(input))

    @traced
    async def ainvoke(self, input: Any, config: ConfigLike = None) -> T:
        """Parsing is quick and never blocks: run inline, not in a worker thread."""
        return self.parse(text_of(input))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
