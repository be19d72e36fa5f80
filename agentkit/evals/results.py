"""Run results: per-example records, the summary, and the files of a run folder.

A run folder holds ``run.json`` (metadata), ``journal.jsonl`` (records as they finish),
``results.jsonl`` (records in dataset order), ``summary.json`` and ``report.html``.
A record is ``{"id", "index", "question", "answers", "category", "prediction": {...},
"scores": {metric: {key: value}}, "notes": {key: text}, "metric_errors": {...},
"attempts"}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.evals.metrics.base import Metric, mean_scores

RUN_FILE = "run.json"
JOURNAL_FILE = "journal.jsonl"
RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"
REPORT_FILE = "report.html"


def flat_scores(record: Mapping[str, Any]) -> dict[str, float]:
    """All of a record's scores in one dict (``{"em": 1.0, "f1": 0.5, ...}``)."""
    out: dict[str, float] = {}
    for values in (record.get("scores") or {}).values():
        out.update(values)
    return out


def summarize(records: Sequence[Mapping[str, Any]], metrics: Sequence[Metric]) -> dict[str, Any]:
    """The summary of a run: aggregates of each metric, overall and per category.

    Quality metrics go under ``metrics``; timing ones (latency) under ``timing``, so that
    two runs of the same chain on the same data have equal ``metrics``."""
    summary: dict[str, Any] = {
        "examples": len(records),
        "errors": sum(1 for r in records if (r.get("prediction") or {}).get("error")),
        "metric_errors": sum(1 for r in records if r.get("metric_errors")),
        "metrics": {},
        "timing": {},
    }
    for metric in metrics:
        rows = [(r.get("scores") or {}).get(metric.name, {}) for r in records]
        target = summary["timing"] if metric.timing else summary["metrics"]
        target.update(metric.aggregate(rows))
    quality = [m.name for m in metrics if not m.timing]
    summary["by_category"] = _grouped(records, quality, lambda r: r.get("category"))
    if any(not r.get("answers") for r in records):
        summary["by_answerable"] = _grouped(
            records, quality, lambda r: "HasAns" if r.get("answers") else "NoAns"
        )
    return summary


def _grouped(
    records: Iterable[Mapping[str, Any]], names: Sequence[str], key: Any
) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, float]]] = {}
    for record in records:
        label = key(record)
        if label is None:
            continue
        scores = record.get("scores") or {}
        row: dict[str, float] = {}
        for name in names:
            row.update(scores.get(name, {}))
        groups.setdefault(str(label), []).append(row)
    return {
        label: {"examples": len(rows), **mean_scores(rows)}
        for label, rows in sorted(groups.items())
    }


@dataclass
class EvalRun:
    """A finished (or loaded) run: its records in dataset order, summary and metadata."""

    records: list[dict[str, Any]]
    summary: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    out_dir: Path | None = None

    @property
    def report_path(self) -> Path | None:
        return None if self.out_dir is None else self.out_dir / REPORT_FILE

    def scores(self) -> dict[str, dict[str, float]]:
        """``{example id: flat scores}``."""
        return {r["id"]: flat_scores(r) for r in self.records}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    records = []
    try:
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except (ValueError, RecursionError) as exc:
                        raise UsageError(f"{path} line {number} is not valid JSON ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text ({exc}); the run is corrupt") from exc
    return records


def load_run(run_dir: str | Path) -> EvalRun:
    """Load a finished run folder (``results.jsonl`` + ``summary.json`` + ``run.json``)."""
    folder = Path(run_dir)
    results = folder / RESULTS_FILE
    if not results.is_file():
        hint = (
            f" It has a journal: finish it with 'agentkit eval run ... --resume --out {folder}'."
            if (folder / JOURNAL_FILE).exists()
            else ""
        )
        raise UsageError(f"{folder} is not a finished eval run (no {RESULTS_FILE}).{hint}")
    summary = read_json_object(folder / SUMMARY_FILE)
    meta = read_json_object(folder / RUN_FILE)
    records = read_jsonl(results)
    from agentkit.evals.checks import check_meta, check_records, clean_summary

    summary = clean_summary(folder / SUMMARY_FILE, summary)
    check_meta(folder / RUN_FILE, meta)
    check_records(results, records)
    return EvalRun(records, summary, meta, folder)


def read_json_object(path: Path) -> dict[str, Any]:
    """A run's JSON object file (``{}`` when absent), or a UsageError naming the file."""
    if not path.exists():
        return {}
    try:
        value = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        raise UsageError(
            f"{path} cannot be read ({e}); the run is half-written or corrupt: rerun it or "
            "delete the folder"
        ) from e
    if not isinstance(value, dict):
        raise UsageError(f"{path} is not a JSON object; the run is corrupt: rerun it")
    return value


def write_text(path: Path, text: str) -> None:
    """Write atomically (temp file + rename)."""
    from agentkit.core.files import atomic_write_text

    atomic_write_text(path, text)


def json_text(data: Any, indent: int | None = None) -> str:
    """``data`` as JSON that UTF-8 can encode: a lone surrogate in model text (half an
    emoji) becomes its ``\\uXXXX`` escape, which reads back as the same string."""
    text = json.dumps(data, indent=indent, ensure_ascii=False, default=str)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def write_json(path: Path, data: Any) -> None:
    write_text(path, json_text(data, indent=2) + "\n")


def write_jsonl(path: Path, records: Iterable[Mapping[str, Any]]) -> None:
    write_text(path, "".join(json_text(r) + "\n" for r in records))
