"""The app's built-in chains, shared by the Streamlit app, ``agentkit ask``/``chat`` and the
demo, and the two thin wrappers that connect a chain to a chat front end.

- ``rag``: :class:`~agentkit.chains.retrieval_qa.RetrievalQA` (stuff) over the hybrid
  retriever of an index, citing its sources — the same chain the eval harness measures.
- ``agent``: a :class:`~agentkit.agents.ReActAgent` with a document-search tool (when an
  index is open), the calculator and today's date; it needs a generative model.
- ``chat``: a :class:`~agentkit.chains.ConversationChain` over the session's history.

:class:`TokenTap` lets a front end see a model's tokens while the chain around it runs
unchanged; :class:`HistoryMemory` shows a chain the session history the front end records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from agentkit.core.config import ConfigLike, ensure_config
from agentkit.core.errors import UsageError
from agentkit.core.graph import Graph
from agentkit.core.runnable import Runnable
from agentkit.core.streams import join_chunks
from agentkit.llms.messages import Message

KINDS = ("rag", "agent", "chat")
KIND_LABELS = {"rag": "Ask the documents", "agent": "Agent with tools", "chat": "Chat"}
TOKEN_SINK = "token_sink"


class TokenTap(Runnable[Any, Any]):
    """Wraps a chat model: when the run config carries a ``token_sink`` callable
    (``configurable={"token_sink": fn}``), the model is streamed and ``fn`` receives each
    text piece as it is generated; the output is the same message ``invoke`` would give.
    Without a sink it is the plain model. Its spec is the model's own."""

    kind = "model"

    def __init__(self, inner: Runnable[Any, Any]) -> None:
        if not isinstance(inner, Runnable):
            raise UsageError(f"TokenTap wraps a chat model, got {type(inner).__name__}")
        self.inner = inner

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def params(self) -> Any:
        return getattr(self.inner, "params", None)

    def invoke(self, input: Any, config: ConfigLike = None) -> Any:
        cfg = ensure_config(config)
        sink: Callable[[str], None] | None = cfg.get(TOKEN_SINK)
        if sink is None:
            return self.inner.invoke(input, cfg)
        chunks = []
        for chunk in self.inner.stream(input, cfg):
            text = chunk.content if isinstance(chunk, Message) else str(chunk)
            if text:
                sink(text)
            chunks.append(chunk)
        return join_chunks(chunks) if chunks else self.inner.invoke(input, cfg)

    def stream(self, input: Any, config: ConfigLike = None) -> Any:
        yield from self.inner.stream(input, ensure_config(config))

    def _with_params(self, params: Mapping[str, Any]) -> TokenTap:
        return TokenTap(self.inner.bind(**params))

    def graph(self) -> Graph:
        return self.inner.graph()

    def to_dict(self) -> dict[str, Any]:
        from agentkit.core import spec

        return spec.dump(self.inner)

    def __repr__(self) -> str:
        return f"TokenTap({self.inner!r})"


class HistoryMemory:
    """The last ``turns`` user/assistant turns of a session, read from a history store.

    ``save`` records nothing: the front end appends every turn to the store itself, with
    its sources, steps and feedback, so a chain given this memory must not write it twice.
    Turns whose answer failed are left out (see :func:`answered_turns`).
    """

    def __init__(self, store: Any, turns: int = 5) -> None:
        if not callable(getattr(store, "messages", None)):
            raise UsageError(f"HistoryMemory needs a history store, got {type(store).__name__}")
        self.store, self.turns = store, turns

    def load(self, session: str) -> list[Message]:
        turns = answered_turns(self.store.messages(session))
        return [m for turn in turns[-self.turns :] for m in turn] if self.turns else []

    def save(self, session: str, turn: Sequence[Message]) -> None:
        """Nothing to do: the front end has recorded the turn (see the class docstring)."""


def answered_turns(messages: Sequence[Message]) -> list[list[Message]]:
    """The user/assistant turns of a chat as a model should see them again: plain messages
    (no metadata), without the turns whose answer failed (``metadata["error"]``): their
    partial or empty reply was never an answer."""
    from agentkit.memory import split_turns

    kept = [m for m in messages if m.role in ("user", "assistant")]
    return [
        [Message(m.role, m.content) for m in turn]
        for turn in split_turns(kept)
        if not any(m.role == "assistant" and m.metadata.get("error") for m in turn)
    ]


@dataclass(frozen=True)
class ChainSettings:
    """What the sidebar and the Graph page change: the chain kind, top-k, temperature and
    prompt texts (``{"<prompt>.<part>": text}`` replacing the bundled ones)."""

    kind: str = "rag"
    k: int = 4
    temperature: float | None = None
    prompts: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UsageError(f"unknown chain kind {self.kind!r}; use one of {', '.join(KINDS)}")
        if isinstance(self.k, bool) or not isinstance(self.k, int) or not 1 <= self.k <= 50:
            raise UsageError(f"top-k must be an integer from 1 to 50, got {self.k!r}")
        if self.temperature is not None and not 0.0 <= self.temperature <= 2.0:
            raise UsageError(f"temperature must be between 0 and 2, got {self.temperature}")

    def updated(self, **changes: Any) -> ChainSettings:
        return replace(self, **changes)


# --- prompts ----------------------------------------------------------------------------


def default_prompts(kind: str) -> dict[str, Any]:
    """The bundled prompt objects of a built-in chain, by name."""
    if kind == "rag":
        from agentkit.chains.retrieval_qa import default_prompt

        return {
            "qa": default_prompt("qa_stuff.yaml"),
            "document": default_prompt("qa_document.yaml"),
        }
    if kind == "chat":
        from agentkit.chains.conversation import default_conversation_prompt

        return {"conversation": default_conversation_prompt()}
    if kind == "agent":
        from agentkit.agents import default_react_prompt

        return {"react": default_react_prompt()}
    raise UsageError(f"unknown chain kind {kind!r}; use one of {', '.join(KINDS)}")


def prompt_texts(name: str, prompt: Any) -> dict[str, str]:
    """The editable texts of a prompt: ``{name: template}`` for a text prompt,
    ``{"name.<role>": template}`` for each templated message of a chat prompt."""
    from agentkit.prompts import ChatPromptTemplate, PromptTemplate
    from agentkit.prompts.chat import MessageTemplate

    if isinstance(prompt, PromptTemplate):
        return {name: prompt.template}
    if isinstance(prompt, ChatPromptTemplate):
        out: dict[str, str] = {}
        for i, part in enumerate(prompt.messages):
            if isinstance(part, MessageTemplate):
                key = f"{name}.{part.role}"
                out[key if key not in out else f"{key}{i}"] = part.prompt.template
        return out
    return {}


def with_texts(name: str, prompt: Any, texts: Mapping[str, str]) -> Any:
    """``prompt`` with the texts named as in :func:`prompt_texts` replaced."""
    from agentkit.prompts import ChatPromptTemplate, PromptTemplate
    from agentkit.prompts.chat import MessageTemplate

    if isinstance(prompt, PromptTemplate):
        text = texts.get(name)
        return prompt if text is None else PromptTemplate(text, prompt.template_format)
    if not isinstance(prompt, ChatPromptTemplate):
        return prompt
    parts: list[Any] = []
    seen: set[str] = set()
    for i, part in enumerate(prompt.messages):
        if isinstance(part, MessageTemplate):
            key = f"{name}.{part.role}"
            key = key if key not in seen else f"{key}{i}"
            seen.add(key)
            if key in texts:
                template = PromptTemplate(texts[key], part.prompt.template_format)
                part = MessageTemplate(part.role, template)
        parts.append(part)
    return ChatPromptTemplate(parts, partial_variables=prompt.partial_variables)


def chain_prompts(settings: ChainSettings) -> dict[str, Any]:
    """The prompts of a built-in chain with the settings' texts applied."""
    return {
        name: with_texts(name, prompt, settings.prompts)
        for name, prompt in default_prompts(settings.kind).items()
    }


def editable_texts(settings: ChainSettings) -> dict[str, str]:
    """Every editable prompt text of the chain (current values)."""
    out: dict[str, str] = {}
    for name, prompt in chain_prompts(settings).items():
        out.update(prompt_texts(name, prompt))
    return out


# --- building ---------------------------------------------------------------------------


def build_chain(
    settings: ChainSettings,
    model: Runnable[Any, Any],
    retriever: Runnable[str, Any] | None = None,
    memory: Any = None,
) -> Runnable[Any, Any]:
    """A built-in chain around ``model`` (wrapped in a :class:`TokenTap`)."""
    if settings.temperature is not None and hasattr(model, "params"):
        model = model.bind(temperature=settings.temperature)
    tap = TokenTap(model)
    prompts = chain_prompts(settings)
    if settings.kind == "rag":
        from agentkit.chains.retrieval_qa import RetrievalQA

        if retriever is None:
            raise UsageError(
                "the 'Ask the documents' chain needs an index; build one with agentkit ingest "
                "<files> --index DIR and start the app with --index DIR"
            )
        return RetrievalQA(
            tap,
            retriever,
            "stuff",
            prompts={"prompt": prompts["qa"]},
            document_prompt=prompts["document"],
            return_source_documents=True,
        )
    if settings.kind == "chat":
        from agentkit.chains.conversation import ConversationChain

        if memory is None:
            from agentkit.memory import InMemoryHistoryStore

            memory = HistoryMemory(InMemoryHistoryStore())
        return ConversationChain(tap, memory, prompts["conversation"])
    from agentkit.agents import ReActAgent
    from agentkit.tools import calculator, retriever_tool, today

    tools: list[Any] = [calculator, today]
    if retriever is not None:
        tools.insert(0, retriever_tool(retriever))
    return ReActAgent(
        tap,
        tools,
        prompt=prompts["react"],
        memory=memory,
        max_iterations=6,
        early_stopping="generate",
    )
