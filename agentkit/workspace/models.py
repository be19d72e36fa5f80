"""Model choice for the app and the CLI: a spec resolved with the ``auto`` rules of
:func:`agentkit.llms.resolve.resolve`, and what the front end says about it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentkit.llms.resolve import Resolution
    from agentkit.retrievers.index import Index

MODEL_CHOICES = ("auto", "extractive", "fake")
ENABLE_GENERATIVE = (
    "Agent mode needs a generative model. Start a local Ollama server (ollama serve; "
    "ollama pull llama3.2) and choose 'auto', or enter a model such as "
    "'hf:<hub id or local path>' or 'openai:<model>' (with OPENAI_API_KEY set)."
)


@dataclass(frozen=True)
class ModelChoice:
    """A resolved model: the model, its backend, why it was picked, and whether it writes
    text (a generative model) or only picks sentences (the extractive reader)."""

    spec: str
    model: Any
    backend: str
    reason: str

    @property
    def resolution(self) -> Resolution:
        """The choice as :func:`~agentkit.llms.resolve.resolve` answers it."""
        from agentkit.llms.resolve import Resolution

        return Resolution(self.model, self.backend, self.reason)

    @property
    def generative(self) -> bool:
        return self.backend != "extractive"

    def describe(self) -> str:
        return f"{self.backend} — {self.reason}"


def choose_model(spec: str = "auto") -> ModelChoice:
    """Resolve ``spec`` (``auto``, ``extractive``, ``fake``, ``hf:...``, ``ollama:...``,
    ``openai:...``, ...) into a model."""
    from agentkit.llms.resolve import resolve

    found = resolve(spec)
    return ModelChoice(spec, found.model, str(found.backend), str(found.reason))


def answering_model(choice: ModelChoice, index: Index | None) -> Any:
    """The model that answers over ``index``: the index decides
    (:meth:`~agentkit.retrievers.index.Index.reader`: the extractive reader shares its
    embedder); without an index, the chosen model."""
    return index.reader(choice.resolution) if index is not None else choice.model
