"""Fine-tuning data: JSONL files in the common shapes, validated line by line before any
training starts, and a seeded train/test split.

Formats (detected from the first record, or named):

- ``qa``: ``question``, ``answer`` (optional ``system``)
- ``alpaca``: ``instruction``, ``output``, optional ``input`` (and ``system``)
- ``prompt_completion``: ``prompt``, ``completion`` (optional ``system``)
- ``messages``: ``messages``, a list of ``{"role", "content"}`` with an assistant turn
- ``preference``: ``prompt`` (text or messages), ``chosen``, ``rejected``
- ``text``: ``text`` (continued pre-training)
- ``pairs``: ``query``, ``passage``, optional ``negative`` (text or list of texts)

Extra fields (ids, metadata) are allowed and ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError

ROLES = ("system", "user", "assistant", "tool")
_TEXT, _OPTIONAL_TEXT, _MESSAGES, _PROMPT, _NEGATIVES = "t", "o", "m", "p", "n"
SCHEMAS: dict[str, dict[str, str]] = {
    "qa": {"question": _TEXT, "answer": _TEXT, "system": _OPTIONAL_TEXT},
    "alpaca": {
        "instruction": _TEXT,
        "output": _TEXT,
        "input": _OPTIONAL_TEXT,
        "system": _OPTIONAL_TEXT,
    },
    "prompt_completion": {"prompt": _TEXT, "completion": _TEXT, "system": _OPTIONAL_TEXT},
    "messages": {"messages": _MESSAGES},
    "preference": {"prompt": _PROMPT, "chosen": _TEXT, "rejected": _TEXT},
    "text": {"text": _TEXT},
    "pairs": {"query": _TEXT, "passage": _TEXT, "negative": _NEGATIVES},
}
FORMATS = tuple(SCHEMAS)
# the first record's keys decide the format; the most specific shapes are tried first
_DETECT = ("preference", "alpaca", "qa", "prompt_completion", "messages", "pairs", "text")


class DataError(UsageError):
    """A record of a fine-tuning file is invalid. ``source`` and ``line`` locate it (line 0:
    the whole file); ``field`` names the bad field when there is one."""

    def __init__(self, source: str, line: int, problem: str, field: str | None = None) -> None:
        self.source, self.line, self.field = source, line, field
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Example:
    """One validated record and the line it came from."""

    line: int
    data: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


@dataclass(frozen=True)
class TrainingData:
    """A validated fine-tuning data set: its source, format, records and content hash."""

    source: str
    format: str
    examples: tuple[Example, ...]
    sha256: str

    def __len__(self) -> int:
        return len(self.examples)

    def split(self, test_size: float, seed: int = 0) -> tuple[list[Example], list[Example]]:
        """(train, test): a seeded random ``test_size`` fraction (at least one record when
        ``test_size > 0``) held out; ``test_size=0`` keeps everything for training."""
        return split(self.examples, test_size, seed)

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "records": len(self),
            "sha256": self.sha256,
        }


def load_data(
    path: str | os.PathLike[str],
    format: str | None = None,
    allowed: Sequence[str] | None = None,
) -> TrainingData:
    """Read and validate a JSONL file. ``format`` defaults to the first record's shape;
    ``allowed`` limits the formats a trainer accepts. Raises :class:`DataError` naming the
    file, line and field of the first problem."""
    file = Path(path).expanduser()
    source = str(path)
    if not file.is_file():
        raise DataError(source, 0, "file does not exist; check the path")
    raw = file.read_bytes()
    records: list[tuple[int, Any]] = []
    for number, text in enumerate(raw.decode("utf-8", errors="replace").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            records.append((number, json.loads(text)))
        except ValueError as e:
            raise DataError(
                source,
                number,
                f"invalid JSON ({e.args[0] if e.args else e}); each line must be one JSON object",
            ) from e
    return _validate(source, records, format, allowed, hashlib.sha256(raw).hexdigest())


def from_records(
    records: Iterable[Mapping[str, Any]],
    format: str | None = None,
    allowed: Sequence[str] | None = None,
    source: str = "<records>",
) -> TrainingData:
    """Validate in-memory records (``line`` is the 1-based record number)."""
    items = list(enumerate(records, start=1))
    text = "\n".join(json.dumps(r, sort_keys=True, ensure_ascii=False) for _, r in items)
    return _validate(source, items, format, allowed, hashlib.sha256(text.encode()).hexdigest())


def detect_format(record: Mapping[str, Any]) -> str | None:
    """The format whose required fields ``record`` has, or ``None``."""
    for name in _DETECT:
        required = [
            k for k, kind in SCHEMAS[name].items() if kind not in (_OPTIONAL_TEXT, _NEGATIVES)
        ]
        if all(k in record for k in required):
            return name
    return None


def split(
    examples: Sequence[Example], test_size: float, seed: int = 0
) -> tuple[list[Example], list[Example]]:
    """(train, test) with a seeded shuffle; see :meth:`TrainingData.split`."""
    if not 0 <= test_size < 1:
        raise UsageError(f"test_size must be in [0, 1), got {test_size!r} (e.g. 0.1)")
    items = list(examples)
    if test_size == 0:
        return items, []
    n_test = max(1, round(len(items) * test_size))
    if n_test >= len(items):
        raise UsageError(
            f"test_size={test_size} leaves no training records out of {len(items)}; lower it"
        )
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    test_ids = set(order[:n_test])
    train = [e for i, e in enumerate(items) if i not in test_ids]
    return train, [e for i, e in enumerate(items) if i in test_ids]


# --- validation --------------------------------------------------------------------------


def _validate(
    source: str,
    records: list[tuple[int, Any]],
    format: str | None,
    allowed: Sequence[str] | None,
    sha256: str,
) -> TrainingData:
    allowed = tuple(allowed) if allowed is not None else FORMATS
    if format is not None and format not in allowed:
        raise UsageError(f"format must be one of {', '.join(allowed)}, got {format!r}")
    if not records:
        raise DataError(source, 0, "has no records; add one JSON object per line")
    for number, record in records:
        if not isinstance(record, dict):
            raise DataError(source, number, f"expected a JSON object, got {type(record).__name__}")
    if format is None:
        number, first = records[0]
        format = detect_format(first)
        shapes = "; ".join(_describe(name) for name in allowed)
        if format is None and len(allowed) == 1:
            format = allowed[0]  # the only shape accepted: report its missing fields
        if format is None:
            found = ", ".join(sorted(first)) or "none"
            raise DataError(
                source, number, f"unrecognised record shape (fields: {found}); expected {shapes}"
            )
        if format not in allowed:
            raise DataError(
                source,
                number,
                f"records in the {format!r} format cannot be used here; expected {shapes}",
            )
    examples = tuple(Example(n, _check(source, n, r, format)) for n, r in records)
    return TrainingData(source, format, examples, sha256)


def _describe(name: str) -> str:
    fields = [
        k if kind not in (_OPTIONAL_TEXT, _NEGATIVES) else f"[{k}]"
        for k, kind in SCHEMAS[name].items()
    ]
    return f"{name} ({', '.join(fields)})"


def _check(source: str, line: int, record: dict[str, Any], format: str) -> dict[str, Any]:
    for key, kind in SCHEMAS[format].items():
        if key not in record or record[key] is None:
            if kind in (_OPTIONAL_TEXT, _NEGATIVES):
                continue
            raise DataError(
                source, line, f"missing field {key!r} (format {_describe(format)})", key
            )
        value = record[key]
        if kind in (_TEXT, _OPTIONAL_TEXT):
            _text(source, line, key, value, required=kind == _TEXT)
        elif kind == _MESSAGES:
            _messages(source, line, key, value)
        elif kind == _PROMPT:
            if isinstance(value, list):
                _messages(source, line, key, value, need_assistant=False)
            else:
                _text(source, line, key, value)
        elif kind == _NEGATIVES:
            values = value if isinstance(value, list) else [value]
            for i, item in enumerate(values):
                _text(source, line, f"{key}[{i}]" if isinstance(value, list) else key, item)
    return record


def _text(source: str, line: int, key: str, value: Any, required: bool = True) -> None:
    if not isinstance(value, str):
        raise DataError(
            source, line, f"field {key!r} must be a string, got {type(value).__name__}", key
        )
    if required and not value.strip():
        raise DataError(source, line, f"field {key!r} is empty", key)


def _messages(source: str, line: int, key: str, value: Any, need_assistant: bool = True) -> None:
    if not isinstance(value, list) or not value:
        raise DataError(
            source,
            line,
            f'field {key!r} must be a non-empty list of {{"role": ..., "content": ...}} objects',
            key,
        )
    for i, message in enumerate(value):
        where = f"{key}[{i}]"
        if not isinstance(message, dict):
            raise DataError(source, line, f"{where} must be an object with role and content", where)
        role = message.get("role")
        if role not in ROLES:
            raise DataError(
                source,
                line,
                f"{where}.role must be one of {', '.join(ROLES)}, got {role!r}",
                f"{where}.role",
            )
        if not isinstance(message.get("content"), str):
            raise DataError(
                source,
                line,
                f"{where}.content must be a string, got {type(message.get('content')).__name__}",
                f"{where}.content",
            )
    if need_assistant and not any(m["role"] == "assistant" for m in value):
        raise DataError(source, line, f"field {key!r} has no assistant message to learn", key)
    if not need_assistant and value[-1]["role"] == "assistant":
        raise DataError(
            source,
            line,
            f"field {key!r} must end with a user turn (the replies are 'chosen' and 'rejected')",
            key,
        )
