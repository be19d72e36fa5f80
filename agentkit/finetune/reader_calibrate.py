"""After training: choose the longest answer the reader may give, the abstention threshold and
the confidence on questions held back from the training articles (never on held-out
articles), and score held-out questions for the training card. ``recalibrate_reader`` does
it again for a saved reader (same held-back questions as its training run)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentkit.core.spec import atomic_write_text
from agentkit.finetune.reader_data import SpanExample
from agentkit.finetune.reader_eval import score_pairs, summary
from agentkit.finetune.runs import write_manifest
from agentkit.readers.scoring import balanced_threshold, best_spans, fit_logistic

if TYPE_CHECKING:
    from agentkit.readers.span import SpanReader

ANSWER_TOKENS = (8, 12, 16, 20, 30)  # candidate limits on an answer's length, in tokens


def choose_answer_tokens(
    reader: SpanReader, examples: Sequence[SpanExample], batch: int = 64
) -> tuple[int, dict[int, float]]:
    """The answer-length limit of :data:`ANSWER_TOKENS` that reads the answerable
    ``examples`` best on their own paragraphs (mean of EM and F1; ties: the longer limit),
    with every candidate's score. The logits are computed once for all candidates."""
    from agentkit.evals.metrics.squad import squad_scores

    answerable = [e for e in examples if e.answerable]
    read = []
    for at in range(0, len(answerable), batch):
        chunk = answerable[at : at + batch]
        features, logits = reader.window_scores(
            [e.question for e in chunk], [e.context for e in chunk]
        )
        read.append((chunk, features, logits))
    scores: dict[int, float] = {}
    for limit in ANSWER_TOKENS:
        total = 0.0
        for chunk, features, logits in read:
            spans = best_spans(features, logits, len(chunk), limit)
            for example, span in zip(chunk, spans, strict=True):
                text = example.context[span.start : span.end].strip() if span else ""
                em, f1 = squad_scores(text, example.answers, False)
                total += (em + f1) / 2
        scores[limit] = round(100.0 * total / max(1, len(answerable)), 2)
    best = max(ANSWER_TOKENS, key=lambda n: (scores[n], n))
    return best, scores


def calibrate(folder: Path, examples: Sequence[SpanExample], seed: int = 0) -> dict[str, Any]:
    """Write ``max_answer_tokens``, ``threshold`` and ``calibration`` into
    ``folder/reader.json``; returns them with the rates they give on ``examples``."""
    from agentkit.readers.span import READER_CONFIG, SpanReader

    reader = SpanReader(folder, threshold=-1e9)
    config = json.loads((folder / READER_CONFIG).read_text(encoding="utf-8"))
    if not examples:
        config.update(threshold=0.0, calibration=[1.0, 0.0])
        atomic_write_text(folder / READER_CONFIG, json.dumps(config, indent=2) + "\n")
        return {"threshold": 0.0, "questions": 0}
    limit, by_limit = choose_answer_tokens(reader, examples)
    reader.config["max_answer_tokens"] = limit
    scores = score_pairs(reader, examples, negatives=True, seed=seed)
    threshold = balanced_threshold(scores.positive, scores.negative)
    margins = scores.positive + scores.negative
    labels = [int(f >= 0.5) for f in scores.positive_f1] + [0] * len(scores.negative)
    a, b = fit_logistic(margins, labels)
    config.update(
        max_answer_tokens=limit,
        threshold=round(threshold, 4),
        calibration=[round(a, 5), round(b, 5)],
    )
    atomic_write_text(folder / READER_CONFIG, json.dumps(config, indent=2) + "\n")
    reader.config["threshold"] = threshold
    rates = summary(scores, threshold, len(margins))
    return {
        "threshold": round(threshold, 4),
        "calibration": [a, b],
        "max_answer_tokens": limit,
        "answer_tokens_scores": {str(n): score for n, score in by_limit.items()},
        **rates,
    }


def held_out_scores(folder: Path, examples: Sequence[SpanExample], seed: int = 0) -> dict[str, Any]:
    """EM/F1 and abstention rates of the saved reader on ``examples`` (empty: ``{}``)."""
    from agentkit.readers.span import SpanReader

    if not examples:
        return {}
    scores = score_pairs(SpanReader(folder), examples, negatives=True, seed=seed)
    return summary(scores, SpanReader(folder).threshold, len(scores.positive) * 2)


def recalibrate_reader(folder: str | Path) -> dict[str, Any]:
    """Calibrate a saved reader again with today's rules, on the questions its training run
    held back (its manifest names the data, articles, share and seed), re-score its card's
    held-out questions, and update ``reader.json`` and ``manifest.json``; returns the
    calibration."""
    from agentkit.core.errors import UsageError
    from agentkit.finetune.reader import ReaderJob, job_examples
    from agentkit.finetune.runs import MANIFEST_FILE

    path = Path(folder).expanduser()
    try:
        manifest = json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8"))
        settings = dict(manifest["settings"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UsageError(
            f"{path} has no readable training card ({MANIFEST_FILE}); only readers trained by "
            "`agentkit finetune reader` can be recalibrated"
        ) from e
    articles = settings.get("articles")
    settings["articles"] = None if articles == "all" else tuple(articles or ())
    known = set(ReaderJob.__dataclass_fields__)
    job = ReaderJob(**{k: v for k, v in settings.items() if k in known})
    _, calib, held = job_examples(job, None, None)
    calibration = calibrate(path, calib, job.seed)
    manifest.update(
        threshold=calibration["threshold"],
        calibration=calibration,
        held_out=held_out_scores(path, held, job.seed),
    )
    write_manifest(path, manifest)
    return calibration
