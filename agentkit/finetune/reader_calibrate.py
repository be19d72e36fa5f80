"""After training: choose the abstention threshold and fit the confidence on questions held
back from the training articles (never on held-out articles), and score held-out questions
for the training card."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentkit.core.spec import atomic_write_text
from agentkit.finetune.reader_data import SpanExample
from agentkit.finetune.reader_eval import score_pairs, summary
from agentkit.readers.scoring import balanced_threshold, fit_logistic


def calibrate(folder: Path, examples: Sequence[SpanExample], seed: int = 0) -> dict[str, Any]:
    """Write ``threshold`` and ``calibration`` into ``folder/reader.json``; returns them
    with the rates they give on ``examples``."""
    from agentkit.readers.span import READER_CONFIG, SpanReader

    reader = SpanReader(folder, threshold=-1e9)
    config = json.loads((folder / READER_CONFIG).read_text(encoding="utf-8"))
    if not examples:
        config.update(threshold=0.0, calibration=[1.0, 0.0])
        atomic_write_text(folder / READER_CONFIG, json.dumps(config, indent=2) + "\n")
        return {"threshold": 0.0, "questions": 0}
    scores = score_pairs(reader, examples, negatives=True, seed=seed)
    threshold = balanced_threshold(scores.positive, scores.negative)
    margins = scores.positive + scores.negative
    labels = [int(f >= 0.5) for f in scores.positive_f1] + [0] * len(scores.negative)
    a, b = fit_logistic(margins, labels)
    config.update(threshold=round(threshold, 4), calibration=[round(a, 5), round(b, 5)])
    atomic_write_text(folder / READER_CONFIG, json.dumps(config, indent=2) + "\n")
    reader.config["threshold"] = threshold
    rates = summary(scores, threshold, len(margins))
    return {"threshold": round(threshold, 4), "calibration": [a, b], **rates}


def held_out_scores(folder: Path, examples: Sequence[SpanExample], seed: int = 0) -> dict[str, Any]:
    """EM/F1 and abstention rates of the saved reader on ``examples`` (empty: ``{}``)."""
    from agentkit.readers.span import SpanReader

    if not examples:
        return {}
    scores = score_pairs(SpanReader(folder), examples, negatives=True, seed=seed)
    return summary(scores, SpanReader(folder).threshold, len(scores.positive) * 2)
