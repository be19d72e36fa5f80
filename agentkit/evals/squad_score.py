"""Score a predictions file the way the official SQuAD v1.1 and v2.0 scripts do.

``score_squad(dataset, {id: answer})`` returns ``exact_match`` and ``f1`` (percentages, as
the official scripts print them) and, for v2.0 data, the ``HasAns_*`` / ``NoAns_*``
breakdown. A question without a prediction scores 0 (and is counted in ``missing``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.evals.datasets import Dataset, read_bytes
from agentkit.evals.metrics.squad import squad_scores


def load_predictions(path: str | Path) -> dict[str, str]:
    """A ``{question id: answer}`` JSON file (gzip read transparently)."""
    file = Path(path)
    try:
        data = json.loads(read_bytes(file, "predictions file").decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"predictions file {file} is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise UsageError(
            f"predictions file {file} must hold one JSON object {{question id: answer}}, "
            f"got a {type(data).__name__}"
        )
    bad = [k for k, v in data.items() if not isinstance(v, str)]
    if bad:
        raise UsageError(
            f"predictions file {file}: the answer for id {bad[0]!r} is "
            f'{type(data[bad[0]]).__name__}, not text; use "" for no answer'
        )
    return data


def score_squad(
    dataset: Dataset, predictions: Mapping[str, str], v2: bool | None = None
) -> dict[str, Any]:
    """Official-style EM/F1 (x 100) over every question of ``dataset``."""
    use_v2 = dataset.has_unanswerable if v2 is None else v2
    groups: dict[str, list[tuple[float, float]]] = {"all": [], "HasAns": [], "NoAns": []}
    missing = 0
    for example in dataset:
        if example.id in predictions:
            em, f1 = squad_scores(predictions[example.id], example.answers, use_v2)
        else:
            em, f1, missing = 0.0, 0.0, missing + 1
        groups["all"].append((em, f1))
        groups["HasAns" if example.answers else "NoAns"].append((em, f1))
    out: dict[str, Any] = {**_means(groups["all"], "exact_match", "f1"), "total": len(dataset)}
    if use_v2:
        for name in ("HasAns", "NoAns"):
            if groups[name]:
                out.update(_means(groups[name], f"{name}_exact", f"{name}_f1"))
                out[f"{name}_total"] = len(groups[name])
    out["missing"] = missing
    known = {e.id for e in dataset}
    out["unknown_ids"] = sum(1 for key in predictions if key not in known)
    out["version"] = "2.0" if use_v2 else "1.1"
    return out


def _means(rows: list[tuple[float, float]], em_key: str, f1_key: str) -> dict[str, float]:
    n = len(rows)
    return {
        em_key: 100.0 * sum(r[0] for r in rows) / n,
        f1_key: 100.0 * sum(r[1] for r in rows) / n,
    }
