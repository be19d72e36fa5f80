"""The built-in chains, shared by the Streamlit app, ``agentkit ask``/``chat`` and the
demo, and the two thin wrappers that connect a chain to a chat front end.

- ``rag``: the index's own :meth:`~agentkit.retrievers.index.Index.qa_chain` (RetrievalQA,
  stuff, over hybrid BM25 + dense retrieval), citing its sources — the chain
  ``Index.query`` and the eval suites run too.
- ``agent``: a :class:`~agentkit.agents.ReActAgent` with a document-search tool (when an
  index is open), the calculator and today's date; it needs a generative model.
- ``chat``: a :class:`~agentkit.chains.ConversationChain` over the session's history.

A front end sees the models' tokens through the chain's event stream
(``stream_events``); :class:`HistoryMemory` shows a chain the session history the front end
records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from agentkit.core.errors import UsageError
from agentkit.core.runnable import Runnable
from agentkit.llms.messages import Message

if TYPE_CHECKING:
    from agentkit.retrievers.index import Index

KINDS = ("rag", "agent", "chat")
KIND_LABELS = {"rag": "Ask the documents", "agent": "Agent with tools", "chat": "Chat"}
NO_FREE_CHAT = (
    "Free chat needs a generative model, and the active model is the offline reader: it "
    "answers questions from your documents by quoting the passage that holds the answer. "
    "Choose 'Ask the documents' in the sidebar to ask about your documents, or pick a "
    "generative model (a running Ollama server with 'auto', hf:..., openai:...) to chat."
)


class HistoryMemory:
    """The last ``turns`` user/assistant turns of a session, read from a history store: an
    :class:`agentkit.memory.Memory`.

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
    index: Index | None = None,
    memory: Any = None,
) -> Runnable[Any, Any]:
    """A built-in chain around ``model``. ``rag`` is the
    index's own :meth:`~agentkit.retrievers.index.Index.qa_chain`; the agent searches the
    index when it has documents. ``model`` answers as given: for the extractive reader
    sharing the index's embedder, pass :meth:`Index.reader` (see
    :func:`agentkit.workspace.models.answering_model`)."""
    reads = callable(getattr(model, "read", None))  # a reader: picks passages, writes nothing
    if settings.temperature is not None and hasattr(model, "params"):
        model = model.bind(temperature=settings.temperature)
    prompts = chain_prompts(settings)
    if settings.kind == "rag":
        if index is None:
            raise UsageError(
                "the 'Ask the documents' chain needs an index; build one with agentkit ingest "
                "<files> --index DIR and start the app with --index DIR"
            )
        return index.qa_chain(
            model,
            settings.k,
            prompts={"prompt": prompts["qa"]},
            document_prompt=prompts["document"],
        )
    if settings.kind == "chat":
        from agentkit.chains.conversation import ConversationChain

        if reads:  # free chat would return document sentences: say what it can do instead
            from agentkit.core.compose import Lambda

            return Lambda(lambda _: NO_FREE_CHAT, name="no generative model")

        if memory is None:
            from agentkit.memory import InMemoryHistoryStore

            memory = HistoryMemory(InMemoryHistoryStore())
        return ConversationChain(model, memory, prompts["conversation"])
    from agentkit.agents import ReActAgent
    from agentkit.tools import calculator, retriever_tool, today

    tools: list[Any] = [calculator, today]
    # an emptied index (its last document deleted) gives the agent no search tool
    if index is not None and len(index) > 0:
        tools.insert(0, retriever_tool(index.retriever(settings.k)))
    return ReActAgent(
        model,
        tools,
        prompt=prompts["react"],
        memory=memory,
        max_iterations=6,
        early_stopping="generate",
    )
