"""Calibration picks the answer-length limit that reads the held-back questions best (the
logits are read once), and a saved reader without a training card cannot be recalibrated."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agentkit.core.errors import UsageError
from agentkit.finetune.reader_calibrate import (
    ANSWER_TOKENS,
    choose_answer_tokens,
    recalibrate_reader,
)
from agentkit.finetune.reader_data import SpanExample
from agentkit.readers.features import Feature

WORDS = [f"w{i}" for i in range(30)]
CONTEXT = " ".join(WORDS)


def _offsets() -> list[tuple[int, int] | None]:
    out: list[tuple[int, int] | None] = [None, None]  # [CLS] and one question token
    at = 0
    for word in WORDS:
        out.append((at, at + len(word)))
        at += len(word) + 1
    return [*out, None]


class Scripted:
    """A reader whose logits are set by hand: example -> {start token: score}, {end: score}
    (word i is token i + 2)."""

    def __init__(self, logits: dict[str, tuple[dict[int, float], dict[int, float]]]) -> None:
        self.logits = logits
        self.calls = 0

    def window_scores(
        self, questions: Sequence[str], passages: Sequence[str]
    ) -> tuple[list[Feature], list[tuple[np.ndarray, np.ndarray]]]:
        self.calls += 1
        offsets = _offsets()
        features, logits = [], []
        for pair, question in enumerate(questions):
            start, end = np.zeros(len(offsets)), np.zeros(len(offsets))
            starts, ends = self.logits[question]
            for word, score in starts.items():
                start[word + 2] = score
            for word, score in ends.items():
                end[word + 2] = score
            features.append(Feature(pair, list(range(len(offsets))), None, offsets))
            logits.append((start, end))
        return features, logits


def example(question: str, first: int, last: int) -> SpanExample:
    text = " ".join(WORDS[first : last + 1])
    return SpanExample(question, "T", question, CONTEXT, CONTEXT.index(text), text, (text,))


def test_the_longest_limit_that_reads_best_is_chosen_from_one_read() -> None:
    reader = Scripted({
        # a 10-word answer: limit 8 cuts it short
        "long?": ({3: 5.0}, {12: 5.0}),
        # a 1-word answer, but a 26-token span scores higher once limit 30 allows it
        "short?": ({0: 5.0}, {0: 5.0, 25: 6.0}),
    })  # fmt: skip
    examples = [example("long?", 3, 12), example("short?", 0, 0)]
    examples.append(SpanExample("none", "T", "long?", CONTEXT))  # unanswerable: not scored
    best, scores = choose_answer_tokens(reader, examples)  # type: ignore[arg-type]
    assert set(scores) == set(ANSWER_TOKENS)
    assert scores[12] == scores[16] == scores[20] == 100.0
    assert scores[8] < 100.0 and scores[30] < 100.0
    assert best == 20  # ties go to the longer limit
    assert reader.calls == 1  # every limit is scored from the same logits


def test_recalibration_needs_a_training_card(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no readable training card"):
        recalibrate_reader(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"settings": "not a mapping"}))
    with pytest.raises(UsageError, match="recalibrated"):
        recalibrate_reader(tmp_path)
    hostile: dict[str, Any] = {"settings": {"data": "", "articles": "all", "__class__": 1}}
    (tmp_path / "manifest.json").write_text(json.dumps(hostile))
    with pytest.raises(UsageError, match="no training data"):
        recalibrate_reader(tmp_path)  # unknown keys are dropped; no data file is named
