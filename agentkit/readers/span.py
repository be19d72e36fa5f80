""":class:`SpanReader`: a question-answering model (start/end logits over the passage's
tokens, as BERT on SQuAD) fine-tuned here with ``agentkit finetune reader``.

It reads every passage it is given, returns the best span with its passage, character
offsets and a calibrated confidence, and abstains (an empty :class:`Answer` with the
closest passages) when the best span's margin over "no answer" is below the threshold
chosen on the training articles. A reader folder holds the model (safetensors), its
tokenizer, ``reader.json`` (threshold, calibration, window settings) and ``manifest.json``
(the training card).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentkit.core.errors import UsageError, missing_dependency
from agentkit.readers.base import Answer, as_documents, check_question
from agentkit.readers.scoring import best_spans, sigmoid, window_logits

if TYPE_CHECKING:
    import numpy as np

    from agentkit.readers.features import Feature
    from agentkit.readers.scoring import PairSpan
    from agentkit.retrievers.document import Document

READER_CONFIG = "reader.json"
DEFAULTS: dict[str, Any] = {
    "threshold": 0.0,
    "calibration": [1.0, 0.0],
    "max_length": 256,
    "stride": 96,
    "max_question_tokens": 64,
    "max_answer_tokens": 30,
}


def read_reader_config(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """``reader.json`` of a reader folder, over :data:`DEFAULTS`."""
    path = Path(folder) / READER_CONFIG
    data = dict(DEFAULTS)
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as e:
            raise UsageError(f"{path} is not valid JSON ({e}); retrain or repair it") from e
        if isinstance(loaded, dict):
            data.update(loaded)
    return data


class SpanReader:
    """Reads answer spans with a fine-tuned question-answering model.

    Args:
        path: a reader folder (from ``agentkit finetune reader``), or a registered reader name.
        threshold: the abstention margin (default: the one chosen at training time); lower
            answers more, higher abstains more.
        max_passages: how many of the given passages are read (the first ones).
        device: ``"cpu"``, ``"cuda"`` (default: CPU).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        threshold: float | None = None,
        max_passages: int = 20,
        batch_size: int = 32,
        device: str | None = None,
    ) -> None:
        if isinstance(max_passages, bool) or not isinstance(max_passages, int) or max_passages < 1:
            raise UsageError(f"max_passages must be an integer >= 1, got {max_passages!r}")
        folder = Path(path).expanduser()
        if not folder.is_dir():
            from agentkit.finetune.reader_registry import ReaderRegistry

            folder = ReaderRegistry().resolve(str(path))
        if not (folder / "config.json").exists():
            raise UsageError(
                f"{folder} is not a saved reader (no config.json); train one with "
                "`agentkit finetune reader`"
            )
        self.path = folder
        self.config = read_reader_config(folder)
        if threshold is not None:
            self.config["threshold"] = float(threshold)
        self.max_passages = max_passages
        self.batch_size = batch_size
        self.device = device or "cpu"
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @property
    def threshold(self) -> float:
        return float(self.config["threshold"])

    def load(self) -> tuple[Any, Any]:
        """The model and tokenizer (loaded on first use)."""
        with self._lock:
            if self._model is None:
                try:
                    from transformers import AutoModelForQuestionAnswering, AutoTokenizer
                except ImportError as e:
                    raise missing_dependency("transformers", "hf", "the span reader") from e
                self._tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
                model = AutoModelForQuestionAnswering.from_pretrained(
                    self.path, local_files_only=True
                )
                self._model = model.to(self.device).eval()
            return self._model, self._tokenizer

    def margins(self, question: str, passages: Sequence[str]) -> list[PairSpan | None]:
        """The best span of ``question`` in each passage (``None`` where nothing fits)."""
        return self.pair_spans([question] * len(passages), passages)

    def window_scores(
        self, questions: Sequence[str], passages: Sequence[str]
    ) -> tuple[list[Feature], list[tuple[np.ndarray, np.ndarray]]]:
        """Every window of each (question, passage) pair with its start and end logits."""
        from agentkit.readers.features import encode_pairs, fit_window

        model, tokenizer = self.load()
        cfg = self.config
        # a hand-edited reader.json may ask for more positions than the encoder has
        max_length, stride = fit_window(int(cfg["max_length"]), int(cfg["stride"]), model)
        features = encode_pairs(
            tokenizer,
            list(questions),
            list(passages),
            max_length=max_length,
            stride=stride,
            max_question_tokens=int(cfg["max_question_tokens"]),
        )
        if not features:
            return [], []
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        return features, window_logits(model, features, pad, self.batch_size)

    def pair_spans(
        self, questions: Sequence[str], passages: Sequence[str]
    ) -> list[PairSpan | None]:
        """The best span of each (question, passage) pair (``None`` where nothing fits),
        read in batches."""
        features, logits = self.window_scores(questions, passages)
        return best_spans(features, logits, len(passages), int(self.config["max_answer_tokens"]))

    def confidence(self, margin: float) -> float:
        a, b = self.config["calibration"]
        return sigmoid(float(a) * margin + float(b))

    def read(self, question: str, documents: Sequence[Document | str]) -> Answer:
        """The best span of ``documents`` for ``question``, or an abstention."""
        question = check_question(question)
        docs = as_documents(documents)[: self.max_passages]
        if not question.strip() or not any(d.text.strip() for d in docs):
            return Answer("", 0.0, passages=tuple(docs[:3]), reader="span")
        spans = self.margins(question, [d.text for d in docs])
        ranked = sorted(
            (i for i, s in enumerate(spans) if s is not None),
            key=lambda i: -spans[i].margin,  # type: ignore[union-attr]
        )
        closest = tuple(docs[i] for i in ranked[:3])
        if not ranked:
            return Answer("", 0.0, passages=tuple(docs[:3]), reader="span")
        top = spans[ranked[0]]
        assert top is not None
        confidence = self.confidence(top.margin)
        text = docs[ranked[0]].text[top.start : top.end].strip()
        if top.margin < self.threshold or not text:
            return Answer("", confidence, passages=closest, reader="span")
        passage = docs[ranked[0]]
        start = passage.text.index(text, top.start)
        return Answer(
            text, confidence, passage, start, start + len(text), passages=closest, reader="span"
        )

    def __repr__(self) -> str:
        return f"SpanReader({str(self.path)!r}, threshold={self.threshold:.3f})"
