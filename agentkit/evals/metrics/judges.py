"""Metrics judged by a model: correctness, faithfulness and context relevance.

- :class:`Correctness` grades the answer CORRECT or INCORRECT against the gold answer, as
  the classic QA-eval chain does; the judge's explanation is kept as the rationale.
- :class:`Faithfulness` (ragas' definition): the answer is split into statements, each is
  checked against the retrieved contexts; the score is the fraction supported.
- :class:`ContextRelevance` (ragas' definition): the fraction of the context's sentences
  that are relevant to the question.

The prompts are data files in ``agentkit/evals/prompts/``; pass your own to override them.
A reply that cannot be parsed gives ``<name>_error = 1`` (and no score) instead of failing
the run; its text is kept in the notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from agentkit.core.errors import OutputParserError, UsageError
from agentkit.core.runnable import Runnable
from agentkit.evals.metrics.base import Metric
from agentkit.evals.records import Example, Prediction, Scores
from agentkit.parsers import extract_json, text_of
from agentkit.prompts import BasePromptTemplate, load_prompt

PROMPTS = Path(__file__).resolve().parents[1] / "prompts"
NO_ANSWER = "(none: the question cannot be answered)"


@cache
def bundled_prompt(name: str) -> BasePromptTemplate[Any]:
    """A judge prompt shipped in ``agentkit/evals/prompts`` (``qa_grade.yaml``, ...)."""
    return load_prompt(PROMPTS / name)


class _Judge(Metric):
    """A metric that asks ``model``; ``prompt`` (default: the bundled ``prompt_file``) is
    its first prompt."""

    calls_model = True
    prompt_file: ClassVar[str]

    def __init__(
        self, model: Runnable[Any, Any], prompt: BasePromptTemplate[Any] | None = None
    ) -> None:
        if not isinstance(model, Runnable):
            raise UsageError(
                f"{type(self).__name__} needs a judge model (a Runnable), got "
                f"{type(model).__name__}; pass e.g. --judge judge.yaml"
            )
        self.model = model
        self.prompt = prompt or bundled_prompt(self.prompt_file)

    def ask(self, prompt: BasePromptTemplate[Any], **values: Any) -> str:
        return text_of(self.model.invoke(prompt.invoke(values)))

    def failed(self, reply: str, problem: str) -> Scores:
        return Scores(
            {f"{self.name}_error": 1.0}, {self.name: f"{problem}; judge replied: {reply[:500]}"}
        )

    def judged(self, value: float, note: str) -> Scores:
        return Scores({self.name: value, f"{self.name}_error": 0.0}, {self.name: note})


def contexts_of(example: Example, prediction: Prediction) -> list[str]:
    """The contexts an answer is checked against: the retrieved ones, else the gold ones."""
    return list(prediction.contexts or example.contexts)


class Correctness(_Judge):
    """``correct``: 1 when the judge grades the answer CORRECT (rationale in the notes)."""

    name = "correct"
    binary_keys = ("correct",)
    prompt_file = "qa_grade.yaml"

    def score(self, example: Example, prediction: Prediction) -> dict[str, float]:
        answer = " | ".join(example.answers) if example.answers else NO_ANSWER
        reply = self.ask(self.prompt, query=example.question, result=prediction.text, answer=answer)
        grade, rationale = parse_grade(reply)
        if grade is None:
            return self.failed(reply, "no GRADE: CORRECT/INCORRECT found")
        return self.judged(float(grade), rationale)


def parse_grade(reply: str) -> tuple[bool | None, str]:
    """(CORRECT?, rationale) from a grader's reply; ``None`` when it has no grade."""
    import re

    match = re.search(r"GRADE:\s*\**\s*(CORRECT|INCORRECT)\b", reply, re.IGNORECASE)
    if match is None:
        words = re.findall(r"\b(CORRECT|INCORRECT)\b", reply.upper())
        if not words:
            return None, reply.strip()
        return words[-1] == "CORRECT", reply.strip()
    return match.group(1).upper() == "CORRECT", reply[: match.start()].strip()


class Faithfulness(_Judge):
    """``faithfulness``: the fraction of the answer's statements the contexts support."""

    name = "faithfulness"
    prompt_file = "faithfulness_statements.yaml"  # the prompt that lists the statements

    def __init__(
        self,
        model: Runnable[Any, Any],
        statements_prompt: BasePromptTemplate[Any] | None = None,
        verdicts_prompt: BasePromptTemplate[Any] | None = None,
    ) -> None:
        super().__init__(model, statements_prompt)
        self.verdicts_prompt = verdicts_prompt or bundled_prompt("faithfulness_verdicts.yaml")

    def score(self, example: Example, prediction: Prediction) -> dict[str, float]:
        contexts = contexts_of(example, prediction)
        if not prediction.text.strip() or not contexts:
            return {}
        reply = self.ask(self.prompt, question=example.question, answer=prediction.text)
        try:
            statements = _string_list(extract_json(reply), "statements")
        except OutputParserError:
            return self.failed(reply, "no statements list in the reply")
        if not statements:
            return {}
        numbered = "\n".join(f"{i}. {s}" for i, s in enumerate(statements, 1))
        reply = self.ask(self.verdicts_prompt, context="\n\n".join(contexts), statements=numbered)
        try:
            verdicts = _verdicts(extract_json(reply), len(statements))
        except OutputParserError:
            return self.failed(reply, "no verdicts list in the reply")
        supported = sum(v for v, _ in verdicts)
        notes = "\n".join(
            f"[{'supported' if v else 'unsupported'}] {s} ({why})"
            for s, (v, why) in zip(statements, verdicts, strict=True)
        )
        return self.judged(supported / len(statements), notes)


def _string_list(data: Any, key: str) -> list[str]:
    items = data.get(key) if isinstance(data, dict) else data
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise OutputParserError(f"expected a list of strings under {key!r}", str(data))
    return [i.strip() for i in items if i.strip()]


def _verdicts(data: Any, count: int) -> list[tuple[int, str]]:
    items = data.get("verdicts") if isinstance(data, dict) else data
    if not isinstance(items, list) or len(items) != count:
        raise OutputParserError(f"expected a list of {count} verdicts", str(data))
    out = []
    for item in items:
        verdict = item.get("verdict") if isinstance(item, dict) else item
        if str(verdict).strip() not in ("0", "1"):
            raise OutputParserError("a verdict must be 0 or 1", str(item))
        reason = str(item.get("reason", "")) if isinstance(item, dict) else ""
        out.append((int(str(verdict).strip()), reason))
    return out


class ContextRelevance(_Judge):
    """``context_relevance``: the fraction of context sentences relevant to the question."""

    name = "context_relevance"
    prompt_file = "context_relevance.yaml"

    def score(self, example: Example, prediction: Prediction) -> dict[str, float]:
        sentences = split_contexts(contexts_of(example, prediction))
        if not sentences:
            return {}
        numbered = "\n".join(f"{i}. {s}" for i, s in enumerate(sentences, 1))
        reply = self.ask(self.prompt, question=example.question, sentences=numbered)
        try:
            data = extract_json(reply)
            picked = data.get("relevant") if isinstance(data, dict) else data
            if not isinstance(picked, list):
                raise OutputParserError("expected a list under 'relevant'", reply)
            chosen = {int(i) for i in picked if str(i).strip().isdigit()}
        except OutputParserError:
            return self.failed(reply, "no 'relevant' list in the reply")
        valid = sorted(i for i in chosen if 1 <= i <= len(sentences))
        reason = str(data.get("reason", "")) if isinstance(data, dict) else ""
        notes = f"relevant sentences {valid} of {len(sentences)}. {reason}".strip()
        return self.judged(len(valid) / len(sentences), notes)


def split_contexts(contexts: Sequence[str]) -> list[str]:
    from agentkit.llms.sentences import split_sentences

    return [s for text in contexts for s in split_sentences(text)]
