"""Example selectors: choose which few-shot examples go into a prompt for one input."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from agentkit.core.errors import SpecError, UsageError
from agentkit.core.spec import SpecContext, add_builder, dump, function_ref
from agentkit.prompts.template import PromptTemplate


@runtime_checkable
class ExampleSelector(Protocol):
    """Chooses examples (dicts of variables) for the input variables of one prompt run."""

    def select_examples(self, input_variables: Mapping[str, Any]) -> list[dict[str, Any]]: ...

    def add_example(self, example: Mapping[str, Any]) -> None: ...


def word_count(text: str) -> int:
    """The default text length: the number of whitespace-separated words."""
    return len(text.split())


class LengthBasedExampleSelector:
    """Takes examples in order while the prompt stays within ``max_length``.

    The input's own length (its values joined) counts against the budget, so long inputs
    get fewer examples. ``get_text_length`` measures text (words by default).
    """

    def __init__(
        self,
        examples: Iterable[Mapping[str, Any]],
        example_prompt: PromptTemplate,
        max_length: int = 2048,
        get_text_length: Callable[[str], int] = word_count,
    ) -> None:
        if max_length < 1:
            raise UsageError(f"max_length must be at least 1, got {max_length}")
        if not isinstance(example_prompt, PromptTemplate):
            raise UsageError(
                f"example_prompt must be a PromptTemplate, got {type(example_prompt).__name__}"
            )
        self.example_prompt = example_prompt
        self.max_length = max_length
        self.get_text_length = get_text_length
        self.examples: list[dict[str, Any]] = []
        self._lengths: list[int] = []
        for example in examples:
            self.add_example(example)

    def add_example(self, example: Mapping[str, Any]) -> None:
        """Append an example (checked against ``example_prompt``)."""
        item = dict(example)
        self._lengths.append(self.get_text_length(self.example_prompt.format(**item)))
        self.examples.append(item)

    def select_examples(self, input_variables: Mapping[str, Any]) -> list[dict[str, Any]]:
        text = " ".join(str(v) for v in input_variables.values())
        remaining = self.max_length - self.get_text_length(text)
        chosen: list[dict[str, Any]] = []
        for example, length in zip(self.examples, self._lengths, strict=True):
            remaining -= length
            if remaining < 0:
                break
            chosen.append(example)
        return chosen

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": "length_based_selector",
            "examples": [dict(e) for e in self.examples],
            "example_prompt": dump(self.example_prompt),
            "max_length": self.max_length,
        }
        if self.get_text_length is not word_count:
            data["get_text_length"] = function_ref(self.get_text_length)
        return data


def _build(ctx: SpecContext) -> LengthBasedExampleSelector:
    prompt = ctx.runnable("example_prompt")
    if not isinstance(prompt, PromptTemplate):
        raise SpecError(f"{ctx.path}.example_prompt", "expected a spec of type 'prompt'")
    length = ctx.function("get_text_length") if "get_text_length" in ctx.data else word_count
    return LengthBasedExampleSelector(
        ctx.get("examples", list), prompt, ctx.get("max_length", int, 2048), length
    )


add_builder("length_based_selector", _build)
