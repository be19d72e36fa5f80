"""Evaluation datasets: JSONL, CSV, JSON lists and SQuAD JSON (v1.1 and v2.0), gzip or not.

Each row becomes an :class:`~agentkit.evals.records.Example`. Fields: ``question`` (or
``query``), ``answers`` (a list, or one ``answer``), optional ``contexts`` (or ``context``),
``relevant_ids`` (or ``relevant_doc_ids``), ``category`` and ``id`` (default ``row-<line>``);
other fields are kept as metadata. An invalid row raises :class:`DatasetError` naming the
file, the line and the field. Duplicate ids are an error (results are keyed by id);
identical questions are reported in :attr:`Dataset.duplicates`.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.evals.records import Example

ALIASES = {
    "question": ("question", "query"),
    "answers": ("answers", "answer"),
    "contexts": ("contexts", "context"),
    "relevant_ids": ("relevant_ids", "relevant_doc_ids"),
}
KNOWN = {name for names in ALIASES.values() for name in names} | {"id", "category"}


class DatasetError(UsageError):
    """An invalid dataset file or row; ``file``, ``line`` and ``field`` locate it."""

    def __init__(self, file: str, line: int | str | None, field: str | None, problem: str):
        self.file, self.line, self.field = file, line, field
        where = file if line is None else f"{file}, line {line}"
        what = f", field {field!r}" if field else ""
        super().__init__(f"{where}{what}: {problem}")


@dataclass
class Dataset:
    """Examples loaded from one file, with the file's hash and any duplicate warnings."""

    examples: list[Example]
    path: str = ""
    format: str = "jsonl"
    sha256: str = ""
    squad_version: str | None = None
    duplicates: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.examples)

    def __iter__(self) -> Iterator[Example]:
        return iter(self.examples)

    def duplicate_note(self) -> str | None:
        """The duplicate-question warnings as one line (``None`` when there are none)."""
        if not self.duplicates:
            return None
        n = len(self.duplicates)
        first = self.duplicates[0]
        return (
            f"{n} question{'s' if n > 1 else ''} repeat an earlier one (e.g. {first}); "
            "each is scored separately, so repeats weigh more in the means"
        )

    @property
    def has_unanswerable(self) -> bool:
        """Whether some question has no gold answer (scored with SQuAD v2.0 rules)."""
        return self.squad_version == "2.0" or any(not e.answers for e in self.examples)

    def head(self, limit: int | None) -> list[Example]:
        return self.examples if limit is None else self.examples[:limit]

    def sample(self, n: int, seed: int = 0) -> list[Example]:
        """``n`` examples drawn at random (the same for the same seed), in dataset order."""
        import random

        if n >= len(self.examples):
            return list(self.examples)
        chosen = sorted(random.Random(seed).sample(range(len(self.examples)), n))
        return [self.examples[i] for i in chosen]

    def select(
        self, limit: int | None = None, sample: int | None = None, seed: int = 0
    ) -> list[Example]:
        """The examples a run covers: a seeded random ``sample``, else the first ``limit``."""
        if limit is not None and sample is not None:
            raise UsageError("give limit (the first N examples) or sample (N at random), not both")
        return self.sample(sample, seed) if sample is not None else self.head(limit)


def read_bytes(path: Path, what: str = "dataset file") -> bytes:
    """File bytes, gunzipped when the file is gzip (by content, whatever its name)."""
    if not path.is_file():
        raise UsageError(f"{what} {path} does not exist; check the path")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DatasetError(str(path), None, None, f"corrupt gzip data ({exc})") from exc
    return raw


def load_dataset(path: str | Path, format: str | None = None, split: str = "test") -> Dataset:
    """Load a dataset; ``format`` (jsonl, csv, json, squad, beir) defaults to the file's
    suffix (``.gz`` ignored), to ``squad`` for a JSON object with a ``data`` list, and to
    ``beir`` for a BEIR folder (whose qrels ``split`` is read)."""
    file = Path(path)
    from agentkit.evals import beir_data

    if format == "beir" or (format is None and beir_data.is_beir(file)):
        examples = beir_data.parse_beir(file, split)
        raw = (file / "qrels" / f"{split}.tsv").read_bytes()
        return _finish(examples, file, "beir", raw, None)
    raw = read_bytes(file)
    name = file.name[:-3] if file.name.endswith(".gz") else file.name
    fmt = format or Path(name).suffix.lstrip(".").lower()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(str(file), None, None, f"not UTF-8 text ({exc})") from exc
    version = None
    if fmt == "jsonl":
        rows = list(_jsonl_rows(text, str(file)))
    elif fmt == "csv":
        rows = list(_csv_rows(text, str(file)))
    elif fmt in ("json", "squad"):
        from agentkit.evals import squad_data

        data = _json_document(text, str(file))
        if isinstance(data, Mapping):
            examples, version = squad_data.parse_squad(data, str(file))
            fmt = "squad"
            return _finish(examples, file, fmt, raw, version)
        rows = list(_json_list_rows(text, data, str(file)))
    else:
        raise UsageError(
            f"unknown dataset format {fmt!r} for {file}; use a .jsonl, .csv or .json file "
            "(gzipped or not), a BEIR folder, or pass format='jsonl'|'csv'|'json'|'squad'|'beir'"
        )
    examples = [example_from_row(row, str(file), line) for line, row in rows]
    return _finish(examples, file, fmt, raw, version)


def _finish(
    examples: list[Example], file: Path, fmt: str, raw: bytes, version: str | None
) -> Dataset:
    if not examples:
        raise DatasetError(str(file), None, None, "no examples found; the file is empty")
    return Dataset(
        examples,
        str(file),
        fmt,
        hashlib.sha256(raw).hexdigest(),
        version,
        check_duplicates(examples, str(file)),
    )


def check_duplicates(examples: Sequence[Example], file: str) -> list[str]:
    """Raise on a duplicate id; return warnings for identical questions."""
    first_id: dict[str, int] = {}
    for i, ex in enumerate(examples):
        if ex.id in first_id:
            raise DatasetError(
                file,
                ex.line if ex.line is not None else i + 1,
                "id",
                f"duplicate id {ex.id!r} (first at example {first_id[ex.id] + 1}); ids must be "
                "unique because results are keyed by id",
            )
        first_id[ex.id] = i
    seen: dict[str, str] = {}
    warnings = []
    for ex in examples:
        key = " ".join(ex.question.split()).lower()
        if key in seen:
            warnings.append(f"examples {seen[key]!r} and {ex.id!r} ask the same question")
        else:
            seen[key] = ex.id
    return warnings


# --- row parsing ------------------------------------------------------------------------


def example_from_row(row: Mapping[str, Any], file: str, line: int | str) -> Example:
    """Validate one row (a dict of fields) and build its Example."""
    if not isinstance(row, Mapping):
        raise DatasetError(file, line, None, f"expected an object of fields, got {_kind(row)}")

    def pick(key: str) -> tuple[str, Any]:
        found = [(name, row[name]) for name in ALIASES[key] if name in row]
        if len(found) > 1:
            names = " and ".join(repr(n) for n, _ in found)
            raise DatasetError(file, line, found[1][0], f"both {names} given; keep one")
        return found[0] if found else (ALIASES[key][0], None)

    name, question = pick("question")
    if not isinstance(question, str) or not question.strip():
        problem = (
            "missing" if question is None else f"expected non-empty text, got {_kind(question)}"
        )
        raise DatasetError(file, line, name, f"{problem}; every row needs a question")
    fields = {}
    for key in ("answers", "contexts", "relevant_ids"):
        name, value = pick(key)
        fields[key] = _strings(value, file, line, name, allow_ids=key == "relevant_ids")
    ident = row.get("id", f"row-{line}")
    if isinstance(ident, bool) or not isinstance(ident, str | int) or str(ident) == "":
        raise DatasetError(file, line, "id", f"expected a non-empty string, got {_kind(ident)}")
    category = row.get("category")
    if category is not None and not isinstance(category, str | int):
        raise DatasetError(file, line, "category", f"expected text, got {_kind(category)}")
    extra = {k: v for k, v in row.items() if k not in KNOWN}
    return Example(
        id=str(ident),
        question=question.strip(),
        answers=fields["answers"],
        contexts=fields["contexts"],
        relevant_ids=fields["relevant_ids"],
        category=None if category is None or category == "" else str(category),
        metadata=extra,
        line=line,
    )


def _strings(value: Any, file: str, line: int | str, name: str, allow_ids: bool) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if allow_ids and isinstance(value, int) and not isinstance(value, bool):
        return (str(value),)
    if isinstance(value, list):
        out = []
        for i, item in enumerate(value):
            ok = isinstance(item, str) or (allow_ids and isinstance(item, int))
            if not ok or isinstance(item, bool):
                raise DatasetError(file, line, f"{name}[{i}]", f"expected text, got {_kind(item)}")
            out.append(str(item))
        return tuple(out)
    raise DatasetError(file, line, name, f"expected a list of strings, got {_kind(value)}")


def _kind(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _jsonl_rows(text: str, file: str) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(file, number, None, f"invalid JSON ({exc.msg})") from exc


def _csv_rows(text: str, file: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        return
    line = 1
    for record in reader:
        start, line = line + 1, reader.line_num
        if None in record:
            raise DatasetError(file, start, None, "more cells than header columns")
        yield start, {k: _cell(k, v) for k, v in record.items() if v not in (None, "")}


def _cell(key: str, value: str) -> Any:
    """A CSV cell: list fields may hold a JSON list or ``|``-separated values."""
    if key not in KNOWN - {"id", "category", "question", "query"}:
        return value
    stripped = value.strip()
    if stripped.startswith("["):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return value
    if key in ("answer", "context"):
        return value
    return [part.strip() for part in value.split("|")] if "|" in value else value


def _json_document(text: str, file: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(file, exc.lineno, None, f"invalid JSON ({exc.msg})") from exc


def _json_list_rows(text: str, data: Any, file: str) -> Iterator[tuple[int, Any]]:
    """Items of a top-level JSON array, each with the line it starts on."""
    if not isinstance(data, list):
        raise DatasetError(
            file, 1, None, f"expected a list of rows or a SQuAD object, got {type(data).__name__}"
        )
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    for item in data:
        while text[pos] in " \t\r\n,":
            pos += 1
        _, end = decoder.raw_decode(text, pos)
        yield text.count("\n", 0, pos) + 1, item
        pos = end


def save_jsonl(examples: Sequence[Example], path: str | Path) -> Path:
    """Write examples as a JSONL dataset (atomically)."""
    from agentkit.core.spec import atomic_write_text

    target = Path(path)
    lines = []
    for ex in examples:
        data = ex.to_dict()
        meta = data.pop("metadata", {})
        lines.append(json.dumps({**meta, **data}, ensure_ascii=False))
    atomic_write_text(target, "\n".join(lines) + "\n")
    return target
