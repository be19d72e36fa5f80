"""How the extractive reader finds the question and the documents in a chat prompt.

The convention (agentkit's RAG prompts follow it)::

    <instructions>                      ignored when documents are marked
    Source: <id or path>                each "Source:" line starts a document, which runs
    <document text>                     to the next "Source:" line, a rule line (---, ===),
                                        or the question line
    Question: <the question>            the last "Question:" / "Query:" line
    Helpful answer:                     a label line ending in ":" (ignored)

Without ``Source:`` lines, the text between two rule lines, else the text after a
``Context:`` label, else everything but the question (minus paragraphs that are instructions
about "the question" and "the answer/context") is one document. Without a ``Question:`` line,
the question is the last sentence with a ``?`` (or the last line). In a refine prompt, the
"existing answer: ..." line is one more candidate. The last user message is parsed; system
messages are used as the context only when that message has none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agentkit.llms.messages import Message
from agentkit.llms.sentences import split_sentences

if TYPE_CHECKING:
    from agentkit.retrievers.document import Document

_QUESTION = re.compile(r"^\s*(?:question|query|q)\s*:\s*(\S.*?)\s*$", re.IGNORECASE)
_INLINE_QUESTION = re.compile(r"\bquestion\b[^:\n]{0,40}:\s*(\S.*?)\s*$", re.IGNORECASE)
_SOURCE = re.compile(r"^\s*source\s*:\s*(.*?)\s*$", re.IGNORECASE)
_CONTEXT = re.compile(r"^\s*context\s*:\s*(.*?)\s*$", re.IGNORECASE)
_RULE = re.compile(r"^\s*[-=_*~#]{3,}\s*$")
_LABEL = re.compile(r"^\s*[\w ,'()/-]{1,40}:\s*$")
_SCORE_FORMAT = re.compile(r"^\s*score\s*:", re.IGNORECASE | re.MULTILINE)
_EXACT_NONE = re.compile(r"answer exactly NONE")
_EXISTING = re.compile(r"\bexisting answer\s*:\s*(\S.*?)\s*$", re.IGNORECASE)


@dataclass
class ParsedPrompt:
    question: str
    documents: list[Document] = field(default_factory=list)
    wants_score: bool = False  # the prompt asks for a "Score: <0-100>" line
    no_answer: str = "I don't know."


def parse_prompt(messages: Sequence[Message]) -> ParsedPrompt:
    """The question, the context documents and the reply format of a chat prompt."""
    users = [m.content for m in messages if m.role == "user"]
    text = users[-1] if users else (messages[-1].content if messages else "")
    lines = text.splitlines()
    question, at, rest = _find_question(lines)
    context_lines = [line for i, line in enumerate(lines) if i != at]
    if rest:
        context_lines.insert(at if at >= 0 else len(context_lines), rest)
    documents = _documents(context_lines)
    existing = [m.group(1) for m in map(_EXISTING.search, lines) if m]
    if existing and documents:  # a refine step: the answer so far competes with the new text
        from agentkit.retrievers.document import Document

        documents.append(Document(existing[-1], id="existing answer", source="existing answer"))
    if not documents:
        for m in messages:
            if m.role == "system":
                documents += _documents(m.content.splitlines())
    return ParsedPrompt(
        question,
        documents,
        wants_score=bool(_SCORE_FORMAT.search(text)),
        no_answer="NONE" if _EXACT_NONE.search(text) else "I don't know.",
    )


def _find_question(lines: list[str]) -> tuple[str, int, str]:
    """(question, its line index or -1, context left on that line)."""
    for pattern in (_QUESTION, _INLINE_QUESTION):
        for i in range(len(lines) - 1, -1, -1):
            match = pattern.search(lines[i])
            if match:
                return match.group(1), i, ""
    candidates = [i for i, line in enumerate(lines) if "?" in line]
    if not candidates:
        candidates = [i for i, line in enumerate(lines) if line.strip() and not _LABEL.match(line)]
    if not candidates:
        return "", -1, ""
    at = candidates[-1]
    sentences = split_sentences(lines[at])
    asks = [j for j, s in enumerate(sentences) if "?" in s] or [len(sentences) - 1]
    j = asks[-1]
    return sentences[j], at, " ".join(sentences[:j] + sentences[j + 1 :])


def _documents(lines: list[str]) -> list[Document]:
    from agentkit.retrievers.document import Document

    if any(_SOURCE.match(line) for line in lines):
        return _source_blocks(lines)
    rules = [i for i, line in enumerate(lines) if _RULE.match(line)]
    if len(rules) >= 2:
        lines = lines[rules[0] + 1 : rules[-1]]
    else:
        labels = [i for i, line in enumerate(lines) if _CONTEXT.match(line)]
        if labels:  # "Context: <text>" or a "Context:" line before the text
            first = _CONTEXT.match(lines[labels[0]])
            lines = [first.group(1) if first else "", *lines[labels[0] + 1 :]]
    paragraphs = "\n".join(line for line in lines if not _is_label(line)).split("\n\n")
    kept = [p for p in paragraphs if p.strip() and not _is_instruction(p)]
    text = "\n\n".join(kept).strip()
    return [Document(text, id="context", source="context")] if text else []


def _source_blocks(lines: list[str]) -> list[Document]:
    from agentkit.retrievers.document import Document

    documents: list[Document] = []
    source: str | None = None
    body: list[str] = []

    def close() -> None:
        text = "\n".join(line for line in body if not _is_label(line)).strip()
        if source is not None and text:
            documents.append(Document(text, id=source or f"doc{len(documents)}", source=source))

    for line in lines:
        match = _SOURCE.match(line)
        if match:
            close()
            source, body = match.group(1), []
        elif _RULE.match(line):
            close()
            source, body = None, []
        elif source is not None:
            body.append(line)
    close()
    return documents


def _is_label(line: str) -> bool:
    return bool(_RULE.match(line) or _LABEL.match(line))


def _is_instruction(paragraph: str) -> bool:
    """A paragraph that talks about the task ("answer the question ... context")."""
    lower = paragraph.lower()
    return "question" in lower and ("answer" in lower or "context" in lower)
