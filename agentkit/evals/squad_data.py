"""The SQuAD JSON format (v1.1 and v2.0): questions, and the paragraphs as a closed corpus.

``{"version", "data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question",
"answers": [{"text", "answer_start"}], "is_impossible"}]}]}]}``. In v2.0 an ``is_impossible``
question has no gold answer (its ``plausible_answers`` are not gold). Each question's
relevant document is its paragraph, with the id :func:`paragraph_id`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentkit.evals.records import Example


@dataclass(frozen=True)
class Paragraph:
    id: str
    title: str
    text: str


def paragraph_id(title: str, index: int) -> str:
    """The document id of a SQuAD paragraph: ``"<title>#<index within the article>"``."""
    return f"{title}#{index}"


def _error(file: str, where: str, field: str | None, problem: str) -> Exception:
    from agentkit.evals.datasets import DatasetError

    return DatasetError(file, where, field, problem)


def _list(node: Mapping[str, Any], key: str, file: str, where: str) -> list[Any]:
    value = node.get(key)
    if not isinstance(value, list):
        raise _error(file, where, key, f"expected a list, got {type(value).__name__}")
    return value


def _text(node: Mapping[str, Any], key: str, file: str, where: str) -> str:
    value = node.get(key)
    if not isinstance(value, str):
        raise _error(file, where, key, f"expected text, got {type(value).__name__}")
    return value


def parse_squad(data: Mapping[str, Any], file: str) -> tuple[list[Example], str]:
    """Examples of a parsed SQuAD file and its version (``"1.1"`` or ``"2.0"``)."""
    version = str(data.get("version", "1.1"))
    examples: list[Example] = []
    impossible_seen = False
    for a, article in enumerate(_list(data, "data", file, "$")):
        where_a = f"$.data[{a}]"
        if not isinstance(article, Mapping):
            raise _error(file, where_a, None, "expected an article object")
        title = str(article.get("title", f"article{a}"))
        for p, para in enumerate(_list(article, "paragraphs", file, where_a)):
            where_p = f"{where_a}.paragraphs[{p}]"
            if not isinstance(para, Mapping):
                raise _error(file, where_p, None, "expected a paragraph object")
            context = _text(para, "context", file, where_p)
            for q, qa in enumerate(_list(para, "qas", file, where_p)):
                where = f"{where_p}.qas[{q}]"
                if not isinstance(qa, Mapping):
                    raise _error(file, where, None, "expected a question object")
                impossible = bool(qa.get("is_impossible", False))
                impossible_seen |= impossible
                answers: list[str] = []
                for i, ans in enumerate(_list(qa, "answers", file, where)):
                    if not isinstance(ans, Mapping) or not isinstance(ans.get("text"), str):
                        raise _error(file, where, f"answers[{i}].text", "expected text")
                    answers.append(ans["text"])
                if not answers and not impossible:
                    raise _error(
                        file, where, "answers", "empty, but the question is not is_impossible"
                    )
                question = _text(qa, "question", file, where)
                examples.append(
                    Example(
                        id=str(qa.get("id", f"{title}-{p}-{q}")),
                        question=question.strip(),
                        answers=() if impossible else tuple(answers),
                        contexts=(context,),
                        relevant_ids=(paragraph_id(title, p),),
                        category=title,
                        line=where,
                    )
                )
    if impossible_seen and not version.startswith("2"):
        version = "2.0"
    return examples, "2.0" if version.startswith("2") else "1.1"


def load_paragraphs(path: str | Path) -> list[Paragraph]:
    """The paragraphs of a SQuAD file, each once, with :func:`paragraph_id` ids."""
    import json

    from agentkit.evals.datasets import read_bytes

    data = json.loads(read_bytes(Path(path)).decode("utf-8-sig"))
    out = []
    for article in data["data"]:
        title = str(article.get("title", ""))
        for p, para in enumerate(article["paragraphs"]):
            out.append(Paragraph(paragraph_id(title, p), title, para["context"]))
    return out
