"""Shape checks for a run folder read back from disk (``run.json``, ``summary.json``,
``results.jsonl``): a corrupt or tampered file ends in one :class:`UsageError` naming the
file and the field, before the report, the comparison or the app trips over it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError

FIX = "the run is corrupt: rerun it, or delete the folder"
_NUMBER = (int, float)


def _fail(path: Path, where: str, expected: str, value: Any) -> UsageError:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return UsageError(f"{path}: {where} must be {expected}, got {shown}; {FIX}")


def _number_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, _NUMBER) and not isinstance(value, bool))


def _numbers(path: Path, where: str, value: Any) -> None:
    """A mapping of names to numbers (``{"em": 0.5, ...}``)."""
    if not isinstance(value, Mapping):
        raise _fail(path, where, "an object of numbers", value)
    for key, number in value.items():
        if not _number_or_none(number):
            raise _fail(path, f"{where}.{key}", "a number", number)


def _typed(path: Path, data: Mapping[str, Any], where: str, fields: dict[str, Any]) -> None:
    """Each present field of ``fields`` has its type (``None`` allowed)."""
    for key, (types, label) in fields.items():
        value = data.get(key)
        if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
            raise _fail(path, f"{where}{key}", label, value)


def clean_summary(path: Path, summary: dict[str, Any]) -> dict[str, Any]:
    """The summary with its sections checked to be objects (else a UsageError). An odd
    value inside one (``"em": "n/a"``) is left out rather than refused, so the rest of the
    run can still be shown: the records hold the scores that comparisons use."""
    for key in ("metrics", "timing", "by_category", "by_answerable"):
        section = summary.get(key)
        if section is not None and not isinstance(section, Mapping):
            raise _fail(path, key, "an object", section)
    for key in ("metrics", "timing"):
        if key in summary:
            summary[key] = {k: v for k, v in summary[key].items() if _number_or_none(v)}
    for key in ("by_category", "by_answerable"):
        groups = summary.get(key) or {}
        for label, row in groups.items():
            if not isinstance(row, Mapping):
                raise _fail(path, f"{key}.{label}", "an object", row)
            groups[label] = {k: v for k, v in row.items() if _number_or_none(v)}
    return summary


_OBJECT = (Mapping, "an object")
_STRING = (str, "a string")
META_FIELDS = {
    **dict.fromkeys(("chain", "dataset", "options", "git", "selection", "versions"), _OBJECT),
    **dict.fromkeys(("metrics", "models"), (list, "a list of names")),
    **dict.fromkeys(("created", "finished"), (str, "a date string")),
}
RECORD_FIELDS = {
    **dict.fromkeys(("question", "category"), _STRING),
    "answers": (list, "a list of strings"),
    **dict.fromkeys(("prediction", "notes", "metric_errors"), _OBJECT),
    "scores": (Mapping, "an object of metric scores"),
}
PREDICTION_FIELDS = {"latency": (_NUMBER, "a number"), "spans": (list, "a list")}


def _each(path: Path, where: str, items: Any, kind: tuple[Any, str]) -> None:
    """Each item of the list ``items`` (``None``: no items) is of ``kind``."""
    types, label = kind
    for i, item in enumerate(items or []):
        if not isinstance(item, types):
            raise _fail(path, f"{where}[{i}]", label, item)


def check_meta(path: Path, meta: Mapping[str, Any]) -> None:
    _typed(path, meta, "", META_FIELDS)
    for key in ("metrics", "models"):
        _each(path, key, meta.get(key), _STRING)
    for key, fields in (("chain", ("name",)), ("dataset", ("path", "sha256"))):
        part = meta.get(key) or {}
        _typed(path, part, f"{key}.", dict.fromkeys(fields, _STRING))


def check_records(path: Path, records: list[Any]) -> None:
    for number, record in enumerate(records, 1):
        where = f"line {number}"
        if not isinstance(record, Mapping):
            raise _fail(path, where, "a JSON object (one example's record)", record)
        if not isinstance(record.get("id"), str | int) or isinstance(record.get("id"), bool):
            raise _fail(path, f"{where}: id", "a string", record.get("id"))
        _typed(path, record, f"{where}: ", RECORD_FIELDS)
        _each(path, f"{where}: answers", record.get("answers"), _STRING)
        for metric, values in (record.get("scores") or {}).items():
            _numbers(path, f"{where}: scores.{metric}", values)
        prediction = record.get("prediction") or {}
        _typed(path, prediction, f"{where}: prediction.", PREDICTION_FIELDS)
        _each(path, f"{where}: prediction.spans", prediction.get("spans"), _OBJECT)
