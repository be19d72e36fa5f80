""":class:`RetrievalQA`: retrieve documents for a question, answer from them, cite them.

Chain types (the classic semantics):

- ``stuff`` — every document in one prompt, one model call.
- ``map_reduce`` — one extraction call per document (run concurrently), then one call that
  combines the extracts; documents whose extract is ``NONE`` are neither combined nor cited.
- ``refine`` — an answer from the first document, refined with each next one in turn.
- ``map_rerank`` — one answer per document ending in ``Score: N``; the best-scored answer
  wins and only its document is cited.
- ``reader`` — a :class:`~agentkit.readers.Reader` reads ``(question, documents)`` directly
  (no prompt). A reader model (the offline ``extractive`` one) always reads this way, whatever
  the chain type: it follows no instructions, so prompt wording never changes its answer.

The prompts are data files in ``agentkit/chains/prompts/qa_*.yaml``; pass your own by name.

Streaming (``stream``/``astream``) yields the final model call's text as ``{"result": piece}``
chunks (stuff, map_reduce's combine call, refine's last call; map_rerank must score every
answer first, so it yields its result at the end), then the other output keys in one chunk.
The streamed ``result`` is the text as generated; ``invoke`` strips surrounding whitespace.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentkit.chains.base import Chain, spec_of, steps_graph
from agentkit.core import spec
from agentkit.core.config import RunConfig
from agentkit.core.errors import OutputParserError, SpecError, UsageError
from agentkit.core.flow import Call, FlowGen, Gather, Stream
from agentkit.core.runnable import Runnable
from agentkit.parsers import RegexParser, StrOutputParser
from agentkit.prompts import BasePromptTemplate, PromptTemplate, load_prompt

# Importing these registers the retriever spec types a saved RetrievalQA may name.
from agentkit.retrievers import bm25 as _bm25  # noqa: F401
from agentkit.retrievers import hybrid as _hybrid  # noqa: F401
from agentkit.retrievers import rerank as _rerank  # noqa: F401
from agentkit.retrievers.document import Document, as_document

if TYPE_CHECKING:
    from agentkit.core.graph import Graph

PROMPTS_DIR = Path(__file__).parent / "prompts"
# chain type -> {prompt name: (file, variables the chain provides)}
CHAIN_PROMPTS: dict[str, dict[str, tuple[str, frozenset[str]]]] = {
    "stuff": {"prompt": ("qa_stuff.yaml", frozenset({"context", "question"}))},
    "map_reduce": {
        "question_prompt": ("qa_map_reduce_question.yaml", frozenset({"context", "question"})),
        "combine_prompt": ("qa_map_reduce_combine.yaml", frozenset({"summaries", "question"})),
    },
    "refine": {
        "question_prompt": ("qa_refine_question.yaml", frozenset({"context", "question"})),
        "refine_prompt": (
            "qa_refine.yaml",
            frozenset({"context", "question", "existing_answer"}),
        ),
    },
    "map_rerank": {"prompt": ("qa_map_rerank.yaml", frozenset({"context", "question"}))},
    "reader": {},
}
CHAIN_TYPES = tuple(CHAIN_PROMPTS)
SCORE_REGEX = r"(?s)^\s*(?P<answer>.*?)\s*Score:\s*(?P<score>[0-9]+(?:\.[0-9]+)?)"
NO_EXTRACT = "NONE"
SNIPPET_CHARS = 200


@cache
def default_prompt(name: str) -> BasePromptTemplate[Any]:
    """A bundled QA prompt by file name (``qa_stuff.yaml``, ``qa_document.yaml``, ...);
    loaded once (prompts are immutable: ``partial`` returns a copy)."""
    return load_prompt(PROMPTS_DIR / name)


class RetrievalQA(Chain):
    """Answers ``query`` (or ``question``) from the documents ``retriever`` finds.

    Outputs ``result`` (the answer), ``sources`` (citations of the documents used:
    ``{"id", "source", "score", "snippet"}``) and, with ``return_source_documents``,
    ``source_documents`` (the documents used: all for ``stuff`` and ``refine``, the chosen
    one for ``map_rerank``, those with an extract for ``map_reduce``) and
    ``retrieved_documents`` (everything the retriever returned, best first: what retrieval
    metrics such as hit@k and recall must be computed on).

    Args:
        llm: the chat model (any Runnable whose output is text or a message).
        retriever: a Runnable from a query string to a list of Documents.
        chain_type: ``stuff``, ``map_reduce``, ``refine`` or ``map_rerank``.
        prompts: prompts replacing the bundled ones, by name (``prompt`` for stuff and
            map_rerank; ``question_prompt``/``combine_prompt`` for map_reduce;
            ``question_prompt``/``refine_prompt`` for refine).
        document_prompt: formats one document; variables ``page_content``, ``source``,
            ``id``, ``score`` and the document's metadata keys.
        document_separator: joins formatted documents (stuff) and extracts (map_reduce).
        max_concurrency: limit on concurrent per-document calls (map_reduce, map_rerank).
    """

    def __init__(
        self,
        llm: Runnable[Any, Any],
        retriever: Runnable[str, list[Document]],
        chain_type: str = "stuff",
        prompts: Mapping[str, BasePromptTemplate[Any]] | None = None,
        document_prompt: PromptTemplate | None = None,
        document_separator: str = "\n\n",
        return_source_documents: bool = False,
        max_concurrency: int | None = None,
        verbose: bool = False,
    ) -> None:
        self.verbose = verbose  # print each step (LangChain's verbose=)
        if chain_type not in CHAIN_PROMPTS:
            raise UsageError(
                f"unknown chain_type {chain_type!r}; use one of {', '.join(CHAIN_TYPES)}"
            )
        wanted = CHAIN_PROMPTS[chain_type]
        custom = dict(prompts or {})
        unknown = sorted(set(custom) - set(wanted))
        if unknown:
            raise UsageError(
                f"chain_type {chain_type!r} has no prompt(s) named {unknown}; its prompts are "
                f"{sorted(wanted)}"
            )
        self.prompts: dict[str, BasePromptTemplate[Any]] = {}
        for name, (file, provided) in wanted.items():
            prompt = custom[name] if name in custom else default_prompt(file)
            _check_prompt(prompt, name, chain_type, provided)
            self.prompts[name] = prompt
        doc_prompt = document_prompt or default_prompt("qa_document.yaml")
        if not isinstance(doc_prompt, PromptTemplate):
            raise UsageError(
                f"document_prompt must be a PromptTemplate (text), got {type(doc_prompt).__name__}"
            )
        from agentkit.core.foreign import coerce_foreign

        llm, retriever = coerce_foreign(llm), coerce_foreign(retriever, "retriever")
        self.llm, self.retriever, self.chain_type = llm, retriever, chain_type
        self._custom = set(custom)
        self._custom_document_prompt = document_prompt is not None
        self.document_prompt = doc_prompt
        self.document_separator = document_separator
        self.return_source_documents = return_source_documents
        self.max_concurrency = max_concurrency
        self._steps = {
            name: prompt | llm | StrOutputParser() for name, prompt in self.prompts.items()
        }
        self._score_parser = RegexParser(SCORE_REGEX)

    @classmethod
    def from_llm(
        cls,
        llm: Runnable[Any, Any],
        retriever: Runnable[str, list[Document]],
        chain_type: str = "stuff",
        prompt: BasePromptTemplate[Any] | None = None,
        document_separator: str = "\n\n",
        return_source_documents: bool = False,
    ) -> RetrievalQA:
        """The common case; ``prompt`` replaces the chain type's first prompt (the QA prompt
        for stuff and map_rerank, the per-document question prompt otherwise)."""
        if chain_type not in CHAIN_PROMPTS:
            raise UsageError(
                f"unknown chain_type {chain_type!r}; use one of {', '.join(CHAIN_TYPES)}"
            )
        first = next(iter(CHAIN_PROMPTS[chain_type]), "prompt")
        return cls(
            llm,
            retriever,
            chain_type,
            prompts={first: prompt} if prompt is not None else None,
            document_separator=document_separator,
            return_source_documents=return_source_documents,
        )

    @classmethod
    def from_chain_type(
        cls,
        llm: Runnable[Any, Any],
        chain_type: str = "stuff",
        retriever: Runnable[str, list[Document]] | None = None,
        chain_type_kwargs: Mapping[str, Any] | None = None,
        return_source_documents: bool = False,
        verbose: bool = False,
    ) -> RetrievalQA:
        """LangChain's spelling: ``chain_type_kwargs`` holds the prompts by name (``prompt``,
        ``question_prompt``, ``combine_prompt``, ``refine_prompt``), ``document_prompt``
        and ``document_separator``."""
        if retriever is None:
            raise UsageError("RetrievalQA.from_chain_type needs retriever=...")
        options = dict(chain_type_kwargs or {})
        document_prompt = options.pop("document_prompt", None)
        separator = options.pop("document_separator", "\n\n")
        return cls(
            llm,
            retriever,
            chain_type,
            prompts=options or None,
            document_prompt=document_prompt,
            document_separator=separator,
            return_source_documents=return_source_documents,
            verbose=verbose,
        )

    @property
    def input_keys(self) -> list[str]:
        return ["query"]

    @property
    def output_keys(self) -> list[str]:
        keys = ["result", "sources"]
        if self.return_source_documents:
            return [*keys, "source_documents", "retrieved_documents"]
        return keys

    def prep_inputs(self, input: Any) -> dict[str, Any]:
        if isinstance(input, Mapping) and "query" not in input and "question" in input:
            input = {**input, "query": input["question"]}
        return super().prep_inputs(input)

    # --- the flow -------------------------------------------------------------------

    def call(self, inputs: dict[str, Any], config: RunConfig) -> FlowGen:
        question = inputs["query"]
        if not isinstance(question, str):
            raise UsageError(f"RetrievalQA's query must be a string, got {type(question).__name__}")
        docs = [as_document(d) for d in (yield Call(self.retriever, question, config))]
        from agentkit.readers.base import Reader

        reads = self.chain_type == "reader" or isinstance(self.llm, Reader)
        flow = self._reader if reads else getattr(self, f"_{self.chain_type}")
        answer, used = yield from flow(question, docs, config)
        out: dict[str, Any] = {"result": (answer or "").strip(), "sources": citations(used)}
        if self.return_source_documents:
            out["source_documents"], out["retrieved_documents"] = used, docs
        return out

    def _reader(self, question: str, docs: list[Document], config: RunConfig) -> FlowGen:
        from agentkit.readers.node import ReadNode

        found = yield Call(ReadNode(self.llm), {"question": question, "documents": docs}, config)
        return found.message, [found.passage] if found.passage else list(found.passages)

    def _stuff(self, question: str, docs: list[Document], config: RunConfig) -> FlowGen:
        context = self.document_separator.join(self.format_document(d) for d in docs)
        values = {"context": context, "question": question}
        answer = yield Stream(self._steps["prompt"], values, config, key="result")
        return answer, docs

    def _map_reduce(self, question: str, docs: list[Document], config: RunConfig) -> FlowGen:
        step = self._steps["question_prompt"]
        calls = [
            Call(step, {"context": self.format_document(d), "question": question}, config)
            for d in docs
        ]
        extracts = (yield Gather(calls, self.max_concurrency)) if calls else []
        kept = [
            (d, e.strip())
            for d, e in zip(docs, extracts, strict=True)
            if e.strip() and e.strip().upper().rstrip(".") != NO_EXTRACT
        ]
        summaries = self.document_separator.join(
            self.format_document(d, page_content=e) for d, e in kept
        )
        combine = {"summaries": summaries, "question": question}
        answer = yield Stream(self._steps["combine_prompt"], combine, config, key="result")
        return answer, [d for d, _ in kept]

    def _refine(self, question: str, docs: list[Document], config: RunConfig) -> FlowGen:
        context = self.format_document(docs[0]) if docs else ""
        first = {"context": context, "question": question}
        step = self._steps["question_prompt"]
        last = len(docs) <= 1  # only the last model call streams
        answer = yield (
            Stream(step, first, config, "result") if last else Call(step, first, config)
        )
        for i, doc in enumerate(docs[1:], start=2):
            values = {
                "context": self.format_document(doc),
                "question": question,
                "existing_answer": (answer or "").strip(),
            }
            step = self._steps["refine_prompt"]
            last = i == len(docs)
            answer = yield (
                Stream(step, values, config, "result") if last else Call(step, values, config)
            )
        return answer, docs

    def _map_rerank(self, question: str, docs: list[Document], config: RunConfig) -> FlowGen:
        if not docs:
            reply = yield Call(self._steps["prompt"], {"context": "", "question": question}, config)
            try:
                return self._parse_scored(reply)[0], []
            except OutputParserError:
                return reply, []
        step = self._steps["prompt"]
        calls = [
            Call(step, {"context": self.format_document(d), "question": question}, config)
            for d in docs
        ]
        replies = yield Gather(calls, self.max_concurrency)
        best: tuple[float, str, Document] | None = None
        error: OutputParserError | None = None
        for doc, reply in zip(docs, replies, strict=True):
            try:
                answer, score = self._parse_scored(reply)
            except OutputParserError as exc:  # one unscored reply does not sink the others
                error = error or exc
                continue
            if best is None or score > best[0]:
                best = (score, answer, doc)
        if best is None:
            assert error is not None
            raise error
        return best[1], [best[2]]

    def _parse_scored(self, reply: str) -> tuple[str, float]:
        fields = self._score_parser.parse(reply)
        score = float(fields["score"])
        return fields["answer"], score if math.isfinite(score) else 0.0

    def format_document(self, doc: Document, page_content: str | None = None) -> str:
        """One document as the document prompt renders it."""
        values: dict[str, Any] = dict(doc.metadata)
        values.update(
            page_content=doc.text if page_content is None else page_content,
            source=source_of(doc),
            id=doc.id,
            score="" if doc.score is None else f"{doc.score:.4g}",
        )
        return str(self.document_prompt.invoke(values))

    # --- spec -----------------------------------------------------------------------

    def graph(self) -> Graph:
        """The retriever, then the LLM steps of the chain type in order (``map_reduce``:
        the per-document question step, then the combine step)."""
        return steps_graph([self.retriever, *(self._steps[name] for name in self.prompts)])

    def to_dict(self) -> dict[str, Any]:
        """The spec; only the prompts given in place of the bundled ones are written."""
        custom = {
            "prompts": {n: self.prompts[n] for n in sorted(self._custom)} or None,
            "document_prompt": self.document_prompt if self._custom_document_prompt else None,
        }
        names = ("llm", "retriever", "chain_type", "document_separator")
        options = ("return_source_documents", "max_concurrency")
        return spec_of("retrieval_qa", self, *names, *options, **custom)


def source_of(doc: Document) -> str:
    """Where a document came from: ``source``, else ``metadata["source"]``, else its id."""
    return str(doc.source or doc.metadata.get("source") or doc.id)


def citations(docs: Sequence[Document]) -> list[dict[str, Any]]:
    """``{"id", "source", "score", "snippet"}`` for each document."""
    out = []
    for doc in docs:
        text = re.sub(r"\s+", " ", doc.text).strip()
        snippet = text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 3] + "..."
        out.append({"id": doc.id, "source": source_of(doc), "score": doc.score, "snippet": snippet})
    return out


def _check_prompt(prompt: Any, name: str, chain_type: str, provided: frozenset[str]) -> None:
    if not isinstance(prompt, BasePromptTemplate):
        raise UsageError(f"{name} must be a prompt template, got {type(prompt).__name__}")
    extra = sorted(set(prompt.input_variables) - provided)
    if extra:
        raise UsageError(
            f"the {chain_type} chain's {name} uses variable(s) {extra}, but the chain provides "
            f"only {sorted(provided)}; rename them or fix them with .partial(...)"
        )


def _prompts(ctx: spec.SpecContext) -> dict[str, BasePromptTemplate[Any]] | None:
    """The spec's ``prompts`` (absent: ``None``), each checked to be a prompt template."""
    if "prompts" not in ctx.data:
        return None
    prompts: dict[str, BasePromptTemplate[Any]] = {}
    for name, prompt in ctx.runnable_map("prompts").items():
        if not isinstance(prompt, BasePromptTemplate):
            raise SpecError(
                f"{ctx.path}.prompts.{name}",
                f"expected a prompt template, got {type(prompt).__name__}",
            )
        prompts[name] = prompt
    return prompts


def _from_spec(ctx: spec.SpecContext) -> RetrievalQA:
    return RetrievalQA(
        ctx.runnable("llm"),
        ctx.runnable("retriever"),
        chain_type=ctx.get("chain_type", str, "stuff", choices=CHAIN_TYPES),
        prompts=_prompts(ctx),
        document_prompt=ctx.runnable("document_prompt", None),
        document_separator=ctx.get("document_separator", str, "\n\n"),
        return_source_documents=ctx.get("return_source_documents", bool, False),
        max_concurrency=ctx.get("max_concurrency", int, None),
    )


spec.add_builder("retrieval_qa", _from_spec)
