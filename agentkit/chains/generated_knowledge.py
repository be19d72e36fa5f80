""":class:`GeneratedKnowledgeChain` (Liu et al. 2022, "Generated Knowledge Prompting"):
generate knowledge statements about a question, answer once with each, then vote or take
the most confident answer. Both prompts are bundled data (``prompts/knowledge*.txt``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentkit.chains.base import (
    Chain,
    check_max_concurrency,
    number_in,
    spec_of,
    steps_graph,
    template_text,
)
from agentkit.chains.llm_chain import LLMChain
from agentkit.chains.voting import majority
from agentkit.core.errors import ModelOutputError, OutputParserError, UsageError
from agentkit.core.flow import Call, FlowGen, Gather
from agentkit.core.spec import add_builder

if TYPE_CHECKING:
    from agentkit.core.config import RunConfig
    from agentkit.core.graph import Graph
    from agentkit.core.runnable import Runnable
    from agentkit.core.spec import SpecContext

SELECT = ("vote", "confident")
ANSWER_PATTERN = (
    r"Answer:\s*(?P<answer>[^\n]*?)\s*(?:\n\s*)?Confidence:\s*(?P<confidence>[0-9]*\.?[0-9]+)"
)


def default_answer_parser() -> Runnable[Any, Any]:
    """Reads ``Answer: ...`` and ``Confidence: 0.xx`` from a reply."""
    import re

    from agentkit.parsers import RegexParser

    return RegexParser(ANSWER_PATTERN, flags=re.IGNORECASE)


def _confidence(value: Any) -> float:
    """A confidence in [0, 1]; values in (1, 100] are read as percentages."""
    number = float(value)
    return number / 100 if 1 < number <= 100 else min(max(number, 0.0), 1.0)


def _candidate(statement: str, parsed: Any) -> dict[str, Any] | None:
    """``{"knowledge", "answer", "confidence"}`` from a parsed reply, or None if unusable."""
    if not isinstance(parsed, Mapping):
        return None
    answer = str(parsed.get("answer") or "").strip()
    try:
        confidence = _confidence(parsed.get("confidence") or 0.0)
    except (TypeError, ValueError):
        return None
    if not answer:
        return None
    return {"knowledge": statement, "answer": answer, "confidence": confidence}


class GeneratedKnowledgeChain(Chain):
    """Answers ``question`` with ``k`` generated knowledge statements.

    ``k`` knowledge statements are sampled concurrently from ``knowledge_prompt`` (input:
    the question), then the question is answered once per statement with ``answer_prompt``
    (inputs: the question and ``knowledge``), whose reply the ``answer_parser`` reads as
    ``{"answer", "confidence"}``. ``select="vote"`` returns the majority answer (ties: the
    first seen), ``"confident"`` the answer with the highest confidence. Replies the parser
    rejects are skipped; if all are rejected it raises :class:`OutputParserError`. The result
    holds ``answer``, ``knowledge`` (the statements) and ``candidates`` (one
    ``{"knowledge", "answer", "confidence"}`` per parsed reply). Give the model a
    temperature above 0 (``llm.bind(temperature=0.7)``) so the statements differ.
    """

    def __init__(
        self,
        llm: Runnable[Any, Any],
        k: int = 3,
        knowledge_prompt: Runnable[Any, Any] | None = None,
        answer_prompt: Runnable[Any, Any] | None = None,
        select: str = "vote",
        answer_parser: Runnable[Any, Any] | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        from agentkit.prompts import PromptTemplate

        if k < 1:
            raise UsageError(f"GeneratedKnowledgeChain needs k >= 1 statements, got {k}")
        check_max_concurrency(max_concurrency)
        if select not in SELECT:
            raise UsageError(f"select must be one of {list(SELECT)}, got {select!r}")
        self.llm, self.k, self.select = llm, k, select
        self.knowledge_prompt = knowledge_prompt or PromptTemplate(template_text("knowledge.txt"))
        self.answer_prompt = answer_prompt or PromptTemplate(template_text("knowledge_answer.txt"))
        self.answer_parser = answer_parser or default_answer_parser()
        self.max_concurrency = max_concurrency
        self.knowledge_chain = LLMChain(self.knowledge_prompt, llm, output_key="knowledge")
        self.answer_chain = LLMChain(self.answer_prompt, llm, output_key="reply")
        allowed = {*self.knowledge_chain.input_keys, "knowledge"}
        needed = set(self.answer_chain.input_keys)
        if "knowledge" not in needed or not needed <= allowed:
            raise UsageError(
                f"answer_prompt must use {{knowledge}} and only the knowledge prompt's "
                f"variables {sorted(allowed - {'knowledge'})}; it uses {sorted(needed)}"
            )

    @property
    def input_keys(self) -> list[str]:
        return self.knowledge_chain.input_keys

    @property
    def output_keys(self) -> list[str]:
        return ["answer", "knowledge", "candidates"]

    def call(self, inputs: dict[str, Any], config: RunConfig) -> FlowGen:
        limit = self.max_concurrency or config.max_concurrency
        question = {k: inputs[k] for k in self.input_keys}
        made = yield Gather([Call(self.knowledge_chain, question, config)] * self.k, limit)
        knowledge = [str(out["knowledge"]).strip() for out in made]
        asks = [Call(self.answer_chain, {**question, "knowledge": kn}, config) for kn in knowledge]
        replies = yield Gather(asks, limit)
        candidates: list[dict[str, Any]] = []
        for statement, reply in zip(knowledge, replies, strict=True):
            try:
                parsed = yield Call(self.answer_parser, reply["reply"], config)
            except ModelOutputError:
                continue
            candidate = _candidate(statement, parsed)
            if candidate is not None:
                candidates.append(candidate)
        if not candidates:
            raise OutputParserError(
                f"none of the {self.k} answers could be read",
                str(replies[-1]["reply"]),
                hint="the answer prompt must make the model end with 'Answer: ...' and "
                "'Confidence: 0.xx' (or pass an answer_parser that reads its format)",
            )
        if self.select == "confident":
            best = max(candidates, key=lambda c: c["confidence"])  # first of equal wins
            answer = best["answer"]
        else:
            answer, _ = majority(c["answer"] for c in candidates)
        return {"answer": answer, "knowledge": knowledge, "candidates": candidates}

    def graph(self) -> Graph:
        return steps_graph([self.knowledge_chain, self.answer_chain, self.answer_parser])

    def to_dict(self) -> dict[str, Any]:
        answering = ("knowledge_prompt", "answer_prompt", "select", "answer_parser")
        return spec_of("generated_knowledge_chain", self, "llm", "k", *answering, "max_concurrency")


def _from_spec(ctx: SpecContext) -> GeneratedKnowledgeChain:
    return GeneratedKnowledgeChain(
        ctx.runnable("llm"),
        k=number_in(ctx, "k", int, 3, 1),
        knowledge_prompt=ctx.runnable("knowledge_prompt", None),
        answer_prompt=ctx.runnable("answer_prompt", None),
        select=ctx.get("select", str, "vote", choices=SELECT),
        answer_parser=ctx.runnable("answer_parser", None),
        max_concurrency=number_in(ctx, "max_concurrency", int, None, 1),
    )


add_builder("generated_knowledge_chain", _from_spec)
