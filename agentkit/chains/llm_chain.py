""":class:`LLMChain`: prompt, then model, then output parser, as one named-key chain."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from agentkit.chains.base import Chain, spec_of, steps_graph
from agentkit.core.config import ConfigLike
from agentkit.core.errors import UsageError
from agentkit.core.flow import Call, FlowGen
from agentkit.core.runnable import Runnable
from agentkit.core.spec import add_builder

if TYPE_CHECKING:
    from agentkit.core.config import RunConfig
    from agentkit.core.graph import Graph
    from agentkit.core.spec import SpecContext


class LLMChain(Chain):
    """Formats ``prompt`` with the input, asks ``llm``, parses the reply with
    ``output_parser`` (default: :class:`~agentkit.parsers.StrOutputParser`) and returns it
    under ``output_key``. The input keys are the prompt's ``input_variables``.

    ``stream`` yields the parser's stream (text tokens for the default parser), not dicts:
    the joined tokens equal ``invoke(...)[output_key]``.
    """

    def __init__(
        self,
        prompt: Runnable[Any, Any],
        llm: Runnable[Any, Any],
        output_parser: Runnable[Any, Any] | None = None,
        output_key: str = "text",
        verbose: bool = False,
    ) -> None:
        self.verbose = verbose  # print each step (LangChain's verbose=)
        if getattr(prompt, "input_variables", None) is None:
            raise UsageError(
                f"LLMChain needs a prompt template with input_variables, got "
                f"{type(prompt).__name__}; use PromptTemplate.from_template('...{{var}}...')"
            )
        if output_parser is None:
            from agentkit.parsers import StrOutputParser

            output_parser = StrOutputParser()
        from agentkit.core.foreign import coerce_foreign

        llm = coerce_foreign(llm)  # a LangChain model works as the llm
        self.prompt, self.llm, self.output_parser = prompt, llm, output_parser
        self.output_key = output_key

    @property
    def input_keys(self) -> list[str]:
        return list(self.prompt.input_variables)  # type: ignore[attr-defined]

    @property
    def optional_keys(self) -> list[str]:
        return list(getattr(self.prompt, "optional_variables", []))

    @property
    def output_keys(self) -> list[str]:
        return [self.output_key]

    def call(self, inputs: dict[str, Any], config: RunConfig) -> FlowGen:
        prompt_value = yield Call(self.prompt, inputs, config)
        reply = yield Call(self.llm, prompt_value, config)
        parsed = yield Call(self.output_parser, reply, config)
        return {self.output_key: parsed}

    def stream(self, input: Any, config: ConfigLike = None) -> Iterator[Any]:
        chunks = self.prompt.stream(self.prep_inputs(input), config)
        chunks = self.llm.transform(chunks, config)
        yield from self.output_parser.transform(chunks, config)

    def _with_params(self, params: Mapping[str, Any]) -> LLMChain:
        """``chain.bind(temperature=0.7)`` binds the params on the model."""
        return LLMChain(self.prompt, self.llm.bind(**params), self.output_parser, self.output_key)

    def graph(self) -> Graph:
        return steps_graph([self.prompt, self.llm, self.output_parser])

    def to_dict(self) -> dict[str, Any]:
        return spec_of("llm_chain", self, "prompt", "llm", "output_parser", "output_key")


def _from_spec(ctx: SpecContext) -> LLMChain:
    return LLMChain(
        ctx.runnable("prompt"),
        ctx.runnable("llm"),
        output_parser=ctx.runnable("output_parser", None),
        output_key=ctx.get("output_key", str, "text"),
    )


add_builder("llm_chain", _from_spec)
