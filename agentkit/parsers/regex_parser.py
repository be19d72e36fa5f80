"""``RegexParser``: fields extracted from a model's text with a regular expression."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from agentkit.core.errors import OutputParserError, UsageError
from agentkit.core.spec import SpecContext, add_builder
from agentkit.parsers.base import BaseOutputParser


class RegexParser(BaseOutputParser[dict[str, Any]]):
    """Searches ``regex`` in the text: named groups become the dict's keys, or
    ``output_keys`` name the groups in order. With no match it raises, unless
    ``default_output_key`` is set: then the whole text goes to that key (others are "")."""

    def __init__(
        self,
        regex: str | re.Pattern[str],
        output_keys: Sequence[str] | None = None,
        default_output_key: str | None = None,
        flags: int = 0,
    ) -> None:
        try:
            self.pattern = re.compile(regex, flags) if isinstance(regex, str) else regex
        except re.error as exc:
            raise UsageError(f"invalid regular expression {regex!r}: {exc}") from exc
        groups = self.pattern.groups
        if output_keys is not None:
            self.output_keys = list(output_keys)
            if len(self.output_keys) > groups:
                raise UsageError(
                    f"output_keys {self.output_keys} name {len(self.output_keys)} groups but "
                    f"the regex {self.pattern.pattern!r} has {groups}; add groups or drop keys"
                )
        else:
            self.output_keys = list(self.pattern.groupindex)
            if not self.output_keys:
                raise UsageError(
                    f"the regex {self.pattern.pattern!r} has no named groups; name them "
                    "((?P<answer>...)) or pass output_keys=[...] for its groups in order"
                )
        if default_output_key is not None and default_output_key not in self.output_keys:
            raise UsageError(
                f"default_output_key {default_output_key!r} is not one of the output keys "
                f"{self.output_keys}"
            )
        self.default_output_key = default_output_key
        self._named = output_keys is None

    def parse(self, text: str) -> dict[str, Any]:
        match = self.pattern.search(text)
        if match is None:
            if self.default_output_key is None:
                raise OutputParserError(
                    f"the text does not match the pattern {self.pattern.pattern!r}",
                    text,
                    hint=self.format_instructions(),
                )
            return {k: text if k == self.default_output_key else "" for k in self.output_keys}
        if self._named:
            return match.groupdict()
        return {key: match.group(i + 1) for i, key in enumerate(self.output_keys)}

    def format_instructions(self) -> str:
        return (
            f"Answer in a form that matches the regular expression {self.pattern.pattern!r}, "
            f"giving: {', '.join(self.output_keys)}"
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "regex_parser", "regex": self.pattern.pattern}
        if not self._named:
            data["output_keys"] = list(self.output_keys)
        if self.default_output_key is not None:
            data["default_output_key"] = self.default_output_key
        flags = int(self.pattern.flags & ~re.UNICODE)
        if flags:
            data["flags"] = flags
        return data


def _build(ctx: SpecContext) -> RegexParser:
    return RegexParser(
        ctx.get("regex", str),
        ctx.get("output_keys", list, None),
        ctx.get("default_output_key", str, None),
        ctx.get("flags", int, 0),
    )


add_builder("regex_parser", _build)
