"""``FewShotPromptTemplate``: a prefix, formatted examples, and a suffix."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agentkit.core.errors import SpecError, UsageError
from agentkit.core.spec import SpecContext, add_builder, dump
from agentkit.prompts.base import BasePromptTemplate, partials_from_spec
from agentkit.prompts.formats import FORMATS
from agentkit.prompts.selectors import ExampleSelector
from agentkit.prompts.template import PromptTemplate


class FewShotPromptTemplate(BasePromptTemplate[str]):
    """``prefix``, then each example formatted with ``example_prompt``, then ``suffix``,
    joined by ``example_separator``. Examples are fixed (``examples``) or chosen per input
    by an ``example_selector``. The prompt's variables are those of prefix and suffix."""

    def __init__(
        self,
        *,
        example_prompt: PromptTemplate,
        suffix: str,
        examples: Iterable[Mapping[str, Any]] | None = None,
        example_selector: ExampleSelector | None = None,
        prefix: str = "",
        example_separator: str = "\n\n",
        template_format: str = "f-string",
        input_variables: Iterable[str] | None = None,
        partial_variables: Mapping[str, Any] | None = None,
    ) -> None:
        if (examples is None) == (example_selector is None):
            raise UsageError(
                "FewShotPromptTemplate needs exactly one of examples=[...] or example_selector="
            )
        if example_selector is not None and not isinstance(example_selector, ExampleSelector):
            raise UsageError(
                f"example_selector must have select_examples(input_variables) and "
                f"add_example(example); got {type(example_selector).__name__}"
            )
        if not isinstance(example_prompt, PromptTemplate):
            raise UsageError(
                f"example_prompt must be a PromptTemplate, got {type(example_prompt).__name__}"
            )
        self.examples = None if examples is None else [dict(e) for e in examples]
        self.example_selector = example_selector
        self.example_prompt = example_prompt
        self.prefix = PromptTemplate(prefix, template_format)
        self.suffix = PromptTemplate(suffix, template_format)
        self.example_separator = example_separator
        self.template_format = template_format
        for i, example in enumerate(self.examples or []):
            missing = [v for v in example_prompt.input_variables if v not in example]
            if missing:
                raise UsageError(
                    f"example {i} lacks {missing}, which example_prompt "
                    f"{example_prompt.template!r} needs"
                )
        self.source = prefix + example_separator + "{examples}" + example_separator + suffix
        self._init_variables(
            self.prefix.input_variables + self.suffix.input_variables,
            input_variables,
            partial_variables,
        )

    def select(self, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The examples used for these values."""
        if self.example_selector is not None:
            return self.example_selector.select_examples(
                {k: values[k] for k in self.input_variables}
            )
        return list(self.examples or [])

    def render(self, values: Mapping[str, Any]) -> str:
        pieces = [self.prefix.render(values)] if self.prefix.template else []
        pieces.extend(self.example_prompt.format(**e) for e in self.select(values))
        pieces.append(self.suffix.render(values))
        return self.example_separator.join(pieces)

    def format(self, **values: Any) -> str:
        """The prompt text for keyword values."""
        return self.render(self.values(values))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "few_shot_prompt"}
        if self.example_selector is not None:
            data["example_selector"] = dump(self.example_selector)
        else:
            data["examples"] = self.examples
        data["example_prompt"] = dump(self.example_prompt)
        data["prefix"] = self.prefix.template
        data["suffix"] = self.suffix.template
        data["example_separator"] = self.example_separator
        if self.template_format != "f-string":
            data["template_format"] = self.template_format
        data.update(self.partials_to_dict())
        return data


def _build(ctx: SpecContext) -> FewShotPromptTemplate:
    prompt = ctx.runnable("example_prompt")
    if not isinstance(prompt, PromptTemplate):
        raise SpecError(f"{ctx.path}.example_prompt", "expected a spec of type 'prompt'")
    return FewShotPromptTemplate(
        example_prompt=prompt,
        suffix=ctx.get("suffix", str),
        examples=ctx.get("examples", list, None),
        example_selector=ctx.component("example_selector", None),
        prefix=ctx.get("prefix", str, ""),
        example_separator=ctx.get("example_separator", str, "\n\n"),
        template_format=ctx.get("template_format", str, "f-string", choices=FORMATS),
        input_variables=ctx.get("input_variables", list, None),
        partial_variables=partials_from_spec(ctx),
    )


add_builder("few_shot_prompt", _build)
