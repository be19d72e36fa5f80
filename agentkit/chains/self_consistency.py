""":class:`SelfConsistencyChain` (Wang et al. 2022): sample several reasoning paths, extract
each one's answer, and return the majority answer with the votes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentkit.chains.base import (
    Chain,
    check_max_concurrency,
    input_keys_of,
    number_in,
    spec_of,
    steps_graph,
)
from agentkit.chains.voting import majority
from agentkit.core.errors import ModelOutputError, OutputParserError, UsageError
from agentkit.core.flow import Call, FlowGen, Gather
from agentkit.core.spec import add_builder

if TYPE_CHECKING:
    from agentkit.core.config import RunConfig
    from agentkit.core.graph import Graph
    from agentkit.core.runnable import Runnable
    from agentkit.core.spec import SpecContext


def text_of_sample(chain: Runnable[Any, Any], sample: Any) -> str:
    """The text of one sample: a chain's main output, a message's content, or the value."""
    if isinstance(chain, Chain):
        sample = sample[chain.output_keys[0]]
    content = getattr(sample, "content", None)
    return content if isinstance(content, str) else str(sample)


class SelfConsistencyChain(Chain):
    """Runs ``chain`` ``n`` times concurrently on the same input, extracts an answer from
    each sample with ``parser`` (e.g. ``RegexParser(r"The answer is (?P<answer>\\d+)")``;
    without one the sample text is the answer), and votes.

    For a parser returning a dict, ``answer_key`` names the field (optional when the dict
    has one key). Samples the parser rejects count as ``invalid``; only when every sample
    is invalid does the chain raise :class:`OutputParserError`. Answers are compared
    ignoring case, surrounding space and a final period; ties go to the answer seen first.
    The result holds ``answer``, ``votes`` ({answer: count}), ``samples`` (the texts) and
    ``invalid``. Give the model a temperature above 0 (``llm.bind(temperature=0.7)``) so
    the samples differ.
    """

    def __init__(
        self,
        chain: Runnable[Any, Any],
        n: int = 5,
        parser: Runnable[Any, Any] | None = None,
        answer_key: str | None = None,
        output_key: str = "answer",
        max_concurrency: int | None = None,
    ) -> None:
        if n < 1:
            raise UsageError(f"SelfConsistencyChain needs n >= 1 samples, got {n}")
        check_max_concurrency(max_concurrency)
        keys = getattr(parser, "output_keys", None)
        if answer_key is None and keys is not None and len(keys) > 1:
            raise UsageError(
                f"the parser gives several fields {keys}; pass answer_key= to pick the answer"
            )
        if answer_key is not None and keys is not None and answer_key not in keys:
            raise UsageError(f"answer_key {answer_key!r} is not one of the parser's fields {keys}")
        self.chain, self.n, self.parser = chain, n, parser
        self.answer_key, self.output_key = answer_key, output_key
        self.max_concurrency = max_concurrency

    @property
    def input_keys(self) -> list[str]:
        return input_keys_of(self.chain, "input")

    @property
    def output_keys(self) -> list[str]:
        return [self.output_key, "votes", "samples", "invalid"]

    def _answer(self, parsed: Any) -> Any:
        if not isinstance(parsed, Mapping):
            return parsed
        key = self.answer_key
        if key is None:
            if len(parsed) != 1:
                raise UsageError(
                    f"the parser returned the fields {sorted(parsed)}; pass answer_key= to "
                    "SelfConsistencyChain to pick the answer"
                )
            key = next(iter(parsed))
        return parsed.get(key)

    def call(self, inputs: dict[str, Any], config: RunConfig) -> FlowGen:
        calls = [Call(self.chain, inputs, config) for _ in range(self.n)]
        outputs = yield Gather(calls, self.max_concurrency or config.max_concurrency)
        samples = [text_of_sample(self.chain, out) for out in outputs]
        answers: list[Any] = []
        for text in samples:
            try:
                parsed = text if self.parser is None else (yield Call(self.parser, text, config))
            except ModelOutputError:
                continue
            answer = self._answer(parsed)
            if answer is not None and str(answer).strip():
                answers.append(answer)
        if not answers:
            raise OutputParserError(
                f"none of the {self.n} samples gave an answer",
                samples[-1],
                hint="check that the parser's pattern matches the way the prompt asks the "
                "model to state its answer",
            )
        winner, votes = majority(answers)
        return {
            self.output_key: winner,
            "votes": votes,
            "samples": samples,
            "invalid": len(samples) - len(answers),
        }

    def graph(self) -> Graph:
        return steps_graph([self.chain] + ([self.parser] if self.parser else []))

    def to_dict(self) -> dict[str, Any]:
        names = ("chain", "n", "parser", "answer_key", "output_key", "max_concurrency")
        return spec_of("self_consistency_chain", self, *names)


def _from_spec(ctx: SpecContext) -> SelfConsistencyChain:
    return SelfConsistencyChain(
        ctx.runnable("chain"),
        n=number_in(ctx, "n", int, 5, 1),
        parser=ctx.runnable("parser", None),
        answer_key=ctx.get("answer_key", str, None),
        output_key=ctx.get("output_key", str, "answer"),
        max_concurrency=number_in(ctx, "max_concurrency", int, None, 1),
    )


add_builder("self_consistency_chain", _from_spec)
