"""Training data for span readers: SQuAD-format files (v1.1 or v2.0, gzipped or not) as
(question, passage, answer characters) examples, plus "no answer" negatives.

The default reader trains on :data:`TRAIN_ARTICLES` only, 13 articles of SQuAD v1.1 dev; the
other 35 stay held out for every reported figure. A negative pairs a question with a
paragraph of another article, labelled "no answer", so the reader learns to abstain.
"""

from __future__ import annotations

import json
import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError

TRAIN_ARTICLES = (
    "Super_Bowl_50",
    "Nikola_Tesla",
    "Teacher",
    "Martin_Luther",
    "Apollo_program",
    "Newcastle_upon_Tyne",
    "Victoria_and_Albert_Museum",
    "American_Broadcasting_Company",
    "Genghis_Khan",
    "Doctor_Who",
    "Kenya",
    "Chloroplast",
    "United_Methodist_Church",
)


@dataclass(frozen=True)
class SpanExample:
    """A question on a passage; ``answer_start`` is -1 when the passage has no answer."""

    id: str
    title: str
    question: str
    context: str
    answer_start: int = -1
    answer_text: str = ""
    answers: tuple[str, ...] = ()  # every gold answer (for scoring)

    @property
    def answerable(self) -> bool:
        return self.answer_start >= 0


def load_squad(path: str | Path) -> list[Mapping[str, Any]]:
    """The articles of a SQuAD-format file (``.gz`` read transparently)."""
    from agentkit.evals.datasets import read_bytes

    file = Path(path).expanduser()
    try:
        data = json.loads(read_bytes(file, "SQuAD file").decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise UsageError(f"{file} is not a SQuAD JSON file ({e})") from e
    articles = data.get("data") if isinstance(data, dict) else None
    if not isinstance(articles, list) or not all(isinstance(a, dict) for a in articles):
        raise UsageError(
            f'{file} is not in SQuAD format: expected {{"data": [{{"title", "paragraphs"}}]}}'
        )
    return articles


def squad_examples(
    articles: Sequence[Mapping[str, Any]],
    include: Collection[str] | None = None,
    exclude: Collection[str] = (),
) -> list[SpanExample]:
    """One example per question (its first gold answer as the target) of the articles whose
    titles are in ``include`` (all when ``None``) and not in ``exclude``."""
    out: list[SpanExample] = []
    for a, article in enumerate(articles):
        title = str(article.get("title", f"article{a}"))
        if (include is not None and title not in include) or title in exclude:
            continue
        for para in article.get("paragraphs") or ():
            context = para.get("context")
            if not isinstance(context, str):
                continue
            for qa in para.get("qas") or ():
                golds = [x for x in qa.get("answers") or () if isinstance(x.get("text"), str)]
                question, qid = qa.get("question"), str(qa.get("id", len(out)))
                if not isinstance(question, str):
                    continue
                texts = tuple(x["text"] for x in golds)
                if not golds or qa.get("is_impossible"):
                    out.append(SpanExample(qid, title, question, context))
                    continue
                start, text = _locate(context, golds[0])
                out.append(SpanExample(qid, title, question, context, start, text, texts))
    return out


def _locate(context: str, answer: Mapping[str, Any]) -> tuple[int, str]:
    text = str(answer["text"])
    start = answer.get("answer_start")
    if isinstance(start, int) and context[start : start + len(text)] == text:
        return start, text
    found = context.find(text)
    return (found, text) if found >= 0 else (-1, "")


def with_negatives(
    examples: Sequence[SpanExample], per_question: float = 0.5, seed: int = 0
) -> list[SpanExample]:
    """``examples`` plus, for a ``per_question`` share of them (> 1: several each), the
    question paired with a random paragraph of another article, labelled "no answer"."""
    if per_question < 0:
        raise UsageError(f"negatives must be >= 0, got {per_question}")
    rng = random.Random(seed)
    by_title: dict[str, list[str]] = {}
    for e in examples:
        paragraphs = by_title.setdefault(e.title, [])
        if not paragraphs or paragraphs[-1] != e.context:
            paragraphs.append(e.context)
    titles = sorted(by_title)
    out = list(examples)
    if len(titles) < 2 or per_question == 0:
        return out
    for e in examples:
        count = int(per_question) + (rng.random() < per_question - int(per_question))
        for n in range(count):
            other = rng.choice([t for t in titles if t != e.title])
            context = rng.choice(by_title[other])
            out.append(SpanExample(f"{e.id}-neg{n}", e.title, e.question, context))
    return out


def split_examples(
    examples: Sequence[SpanExample], held_back: float, seed: int = 0
) -> tuple[list[SpanExample], list[SpanExample]]:
    """(train, held back): a random ``held_back`` share of the questions is kept apart to
    choose the abstention threshold and fit the confidence."""
    order = list(examples)
    random.Random(seed).shuffle(order)
    cut = round(len(order) * held_back)
    return order[cut:], order[:cut]
