"""Generate question-answer pairs from documents with a model (the classic QA-generate
chain): one prompt per document asks for ``n`` pairs as JSON, parsed with
:class:`~agentkit.parsers.JsonOutputParser`. The prompt is the data file
``agentkit/evals/prompts/qa_generate.yaml`` (variables ``document`` and ``n``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agentkit.core.errors import OutputParserError, UsageError
from agentkit.core.runnable import Runnable
from agentkit.evals.metrics.judges import bundled_prompt
from agentkit.evals.records import Example
from agentkit.parsers import JsonOutputParser
from agentkit.prompts import BasePromptTemplate
from agentkit.retrievers.document import Document


def qa_generate_chain(
    llm: Runnable[Any, Any], prompt: BasePromptTemplate[Any] | None = None
) -> Runnable[Any, Any]:
    """``prompt | llm | JsonOutputParser()`` taking ``{"document", "n"}``."""
    template = prompt or bundled_prompt("qa_generate.yaml")
    if "document" not in template.input_variables:
        raise UsageError(
            f"a QA-generation prompt needs the variable 'document' (and may use 'n'); "
            f"it has {sorted(template.input_variables)}"
        )
    return template | llm | JsonOutputParser()


def pairs_of(data: Any) -> list[tuple[str, str]]:
    """(question, answer) pairs from parsed JSON: a list of objects, one object, or an
    object holding the list under ``pairs``/``questions``/``qa``."""
    if isinstance(data, Mapping):
        for key in ("pairs", "questions", "qa"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            data = [data]
    if not isinstance(data, list):
        raise OutputParserError("expected a JSON list of question/answer objects", str(data))
    pairs = []
    for item in data:
        if not isinstance(item, Mapping):
            continue
        question, answer = item.get("question"), item.get("answer")
        if isinstance(question, str) and question.strip() and isinstance(answer, str | int):
            pairs.append((question.strip(), str(answer).strip()))
    if not pairs:
        raise OutputParserError("no object with a 'question' and an 'answer'", str(data))
    return pairs


def generate_qa(
    documents: Sequence[Document | str],
    llm: Runnable[Any, Any],
    n_per_doc: int = 1,
    *,
    prompt: BasePromptTemplate[Any] | None = None,
    max_concurrency: int = 8,
    skip_invalid: bool = False,
) -> list[Example]:
    """Up to ``n_per_doc`` examples per document; each keeps its document as context and
    relevant id. A reply without valid pairs raises :class:`OutputParserError` (naming the
    document), or is skipped with ``skip_invalid=True``."""
    if isinstance(n_per_doc, bool) or not isinstance(n_per_doc, int) or n_per_doc < 1:
        raise UsageError(f"n_per_doc must be an integer >= 1, got {n_per_doc!r}")
    docs = [d if isinstance(d, Document) else Document(str(d)) for d in documents]
    chain = qa_generate_chain(llm, prompt)
    inputs = [{"document": d.text, "n": str(n_per_doc)} for d in docs]
    outputs = chain.batch(inputs, max_concurrency=max_concurrency, return_exceptions=True)
    examples: list[Example] = []
    for doc, output in zip(docs, outputs, strict=True):
        try:
            if isinstance(output, Exception):
                raise output  # a parse failure is handled below; others propagate
            pairs = pairs_of(output)
        except OutputParserError as exc:
            if skip_invalid:
                continue
            raise OutputParserError(
                f"QA generation for document {doc.id!r} gave no valid pairs", exc.text
            ) from exc
        for j, (question, answer) in enumerate(pairs[:n_per_doc]):
            examples.append(
                Example(
                    id=f"{doc.id}-q{j}",
                    question=question,
                    answers=(answer,),
                    contexts=(doc.text,),
                    relevant_ids=(doc.id,),
                    metadata={"source": doc.source} if doc.source else {},
                )
            )
    return examples
