"""What a new chat shows before the first question: what is indexed, three sample questions
drawn from the index, and what the active model can and cannot do."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

SAMPLES = 3
TITLE_CHARS = 60


@dataclass(frozen=True)
class IndexSummary:
    """How many documents and chunks an index holds, its embedder, and sample questions."""

    documents: int
    chunks: int
    embedder: str
    questions: tuple[str, ...]


def title_of(doc: Any) -> str:
    """A document's readable title: its ``title`` metadata, else its file name without the
    extension, ``_`` and ``-`` as spaces."""
    title = doc.metadata.get("title") if isinstance(doc.metadata, dict) else None
    if not isinstance(title, str) or not title.strip():
        source = str(doc.source or doc.metadata.get("path") or doc.id or "")
        title = PurePosixPath(source.replace("\\", "/")).stem.replace("_", " ").replace("-", " ")
    title = " ".join(title.split())
    if len(title) > TITLE_CHARS or not re.search(r"[A-Za-z]", title):
        return ""
    return title


def sample_questions(docs: list[Any], n: int = SAMPLES) -> list[str]:
    """Up to ``n`` questions about distinct documents of the index, in source order
    ("What is <title>?"), for the buttons that ask them."""
    seen: dict[str, str] = {}
    for doc in sorted(docs, key=lambda d: (str(d.source or ""), d.chunk or 0)):
        key = str(doc.source or doc.id)
        if key in seen:
            continue
        title = title_of(doc)
        if title:
            seen[key] = f"What is {title[0].upper()}{title[1:]}?"
        if len(seen) == n:
            break
    return list(dict.fromkeys(seen.values()))


def summarize_index(index_dir: str | Path) -> IndexSummary:
    """The :class:`IndexSummary` of the index in ``index_dir``."""
    from agentkit.workspace.indexes import open_index

    index = open_index(index_dir)
    docs = index.store.get(index.store.ids())
    sources = {str(d.source or d.metadata.get("path") or d.id) for d in docs}
    return IndexSummary(
        len(sources), len(docs), index.embedder.model_id, tuple(sample_questions(docs))
    )


def capabilities(backend: str, generative: bool, has_index: bool) -> tuple[list[str], list[str]]:
    """What the active model can and cannot do, as two lists of short lines."""
    can: list[str] = []
    cannot: list[str] = []
    if has_index:
        if generative:
            can.append("answer questions from your documents in its own words, citing them")
        else:
            can.append(
                "answer questions from your documents by quoting the passage that holds the answer"
            )
            can.append("say when your documents do not hold the answer")
    if generative:
        can.append("chat freely and run the agent's tools (calculator, date, document search)")
    else:
        cannot.append(
            f"write new text: {backend} only picks answers out of your documents, so free "
            "chat and the agent need a generative model (Ollama, hf:..., openai:...)"
        )
    if not has_index:
        cannot.append("answer from documents until you add some on the Documents page")
    return can, cannot
