"""Output parsers: turn a model's text (or message) into strings, JSON, pydantic models,
regex fields, lists, or router decisions. Failures raise ``OutputParserError``."""

from __future__ import annotations

from agentkit.parsers.base import BaseOutputParser, text_of
from agentkit.parsers.json_parser import JsonOutputParser, extract_json
from agentkit.parsers.pydantic_parser import PydanticOutputParser
from agentkit.parsers.regex_parser import RegexParser
from agentkit.parsers.router_parser import RouterOutputParser
from agentkit.parsers.text import CommaSeparatedListOutputParser, StrOutputParser

__all__ = [
    "BaseOutputParser",
    "CommaSeparatedListOutputParser",
    "JsonOutputParser",
    "PydanticOutputParser",
    "RegexParser",
    "RouterOutputParser",
    "StrOutputParser",
    "extract_json",
    "text_of",
]
