"""Eval runs for the Evaluations page: find the run folders, read their summaries and
records, bin scores for plots, and compare two runs (with :mod:`agentkit.evals`)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentkit.evals.results import RESULTS_FILE, RUN_FILE, SUMMARY_FILE, flat_scores

MAX_DEPTH = 3


@dataclass(frozen=True)
class RunInfo:
    """A finished run folder: where, when, what, and its summary."""

    path: Path
    name: str
    finished: str
    chain: str
    dataset: str
    examples: int
    metrics: dict[str, float]

    @property
    def label(self) -> str:
        return f"{self.name} · {self.examples} examples · {self.finished or 'unfinished'}"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _count(value: Any) -> int:
    """A count from a summary that may be half-written or hand-edited (else 0)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def run_info(folder: Path, root: Path | None = None) -> RunInfo | None:
    """The run in ``folder`` (``None`` unless it holds finished results)."""
    if not (folder / RESULTS_FILE).is_file():
        return None
    meta, summary = _read_json(folder / RUN_FILE), _read_json(folder / SUMMARY_FILE)
    name = folder.relative_to(root).as_posix() if root is not None else folder.name
    found = summary.get("metrics")
    metrics = {
        k: float(v)
        for k, v in (found.items() if isinstance(found, Mapping) else ())
        if isinstance(v, int | float)
    }
    return RunInfo(
        path=folder,
        name=name,
        finished=str(meta.get("finished", "")),
        chain=str((meta.get("chain") or {}).get("name", "")),
        dataset=Path(str((meta.get("dataset") or {}).get("path", ""))).name,
        examples=_count(summary.get("examples")),
        metrics=metrics,
    )


def list_runs(root: str | Path) -> list[RunInfo]:
    """Finished runs in ``root`` (or ``root`` itself), newest first."""
    base = Path(root)
    if not base.is_dir():
        return []
    found: list[RunInfo] = []
    own = run_info(base, base.parent)
    if own is not None:
        found.append(own)
    for depth in range(1, MAX_DEPTH + 1):
        for results in base.glob("/".join(["*"] * depth) + "/" + RESULTS_FILE):
            info = run_info(results.parent, base)
            if info is not None:
                found.append(info)
    found.sort(key=lambda r: (r.finished, r.name), reverse=True)
    return found


def example_rows(records: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """One table row per example: id, question, answer, error and the chosen scores."""
    rows = []
    for record in records:
        prediction = record.get("prediction") or {}
        scores = flat_scores(record)
        row: dict[str, Any] = {
            "id": record.get("id"),
            "question": record.get("question", ""),
            "prediction": prediction.get("text", ""),
            "gold": " | ".join(record.get("answers") or []),
            "category": record.get("category") or "",
        }
        row.update({k: scores.get(k) for k in keys})
        row["error"] = prediction.get("error") or ""
        rows.append(row)
    return rows


def score_keys(summary: Mapping[str, Any]) -> list[str]:
    """The per-example score keys worth a column or a plot (numeric summary metrics)."""
    metrics = summary.get("metrics")
    if not isinstance(metrics, Mapping):
        return []
    return [
        k
        for k, v in metrics.items()
        if isinstance(v, int | float)
        and not isinstance(v, bool)
        and not k.endswith(("_sum", "_error", "_count"))
        and not k.startswith(("p50", "p95"))
    ]


def histogram(values: Sequence[float], bins: int = 10) -> dict[str, int]:
    """Counts of ``values`` in ``bins`` equal-width bins, labelled by their range."""
    finite = [v for v in values if isinstance(v, int | float) and math.isfinite(v)]
    if not finite:
        return {}
    low, high = min(finite), max(finite)
    if high == low:
        return {f"{low:.3g}": len(finite)}
    width = (high - low) / bins
    counts = [0] * bins
    for v in finite:
        counts[min(int((v - low) / width), bins - 1)] += 1
    return {
        f"{low + i * width:.3g} to {low + (i + 1) * width:.3g}": c for i, c in enumerate(counts)
    }


def latencies(records: Sequence[Mapping[str, Any]]) -> list[float]:
    out = []
    for record in records:
        value = (record.get("prediction") or {}).get("latency")
        if isinstance(value, int | float):
            out.append(float(value))
    return out


def trace_lines(record: Mapping[str, Any]) -> list[str]:
    """The example's trace: one line per span, indented by depth (start order)."""
    spans = list((record.get("prediction") or {}).get("spans") or [])
    by_id = {s.get("id"): s for s in spans}

    def depth(span: Mapping[str, Any]) -> int:
        d, parent = 0, span.get("parent_id")
        while parent in by_id and d < 20:
            d, parent = d + 1, by_id[parent].get("parent_id")
        return d

    lines = []
    for span in sorted(spans, key=lambda s: (s.get("start") or 0, s.get("id") or "")):
        took = (span.get("end") or 0) - (span.get("start") or 0)
        status = f"error: {span['error']}" if span.get("error") else f"{took * 1000:.1f} ms"
        lines.append(f"{'  ' * depth(span)}{span.get('name')} [{span.get('kind')}] {status}")
    return lines


TOP_N = 10  # categories shown at each end when there are too many to read in one chart


def example_ids(folder: Path) -> frozenset[str]:
    """The example ids of the run in ``folder`` (unreadable lines are skipped)."""
    ids: set[str] = set()
    try:
        with (folder / RESULTS_FILE).open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, Mapping) and record.get("id") is not None:
                    ids.add(str(record["id"]))
    except OSError:
        return frozenset()
    return frozenset(ids)


def comparable(runs: Sequence[RunInfo], baseline: RunInfo) -> list[RunInfo]:
    """The runs that share at least one example with ``baseline`` (itself excluded):
    the only ones a paired comparison can use."""
    mine = example_ids(baseline.path)
    return [r for r in runs if r.path != baseline.path and mine & example_ids(r.path)]


def score_rows(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An example's scores as table rows (``metric``, ``value``), nested keys flattened."""
    return [{"metric": key, "value": value} for key, value in flat_scores(record).items()]


def category_scores(
    categories: Mapping[str, Any], key: str, n: int = TOP_N
) -> tuple[dict[str, float], str]:
    """``{category: score}`` for a bar chart that stays readable: every category when
    there are at most ``2 n``, else the best ``n`` and the worst ``n``; and a caption
    saying which."""
    scores = {
        str(name): float(row[key])
        for name, row in categories.items()
        if isinstance(row, Mapping) and isinstance(row.get(key), int | float)
    }
    if len(scores) <= 2 * n:
        return scores, f"{key} by category"
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    kept = dict(ranked[:n] + ranked[-n:])
    return kept, f"{key} by category: the best {n} and the worst {n} of {len(scores)}"
