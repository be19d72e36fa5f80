"""BEIR retrieval datasets: a folder with ``queries.jsonl`` (``{"_id", "text"}``) and
``qrels/<split>.tsv`` (header ``query-id corpus-id score``). Each judged query becomes an
example whose ``relevant_ids`` are the documents with a score above 0 (no gold answers:
score it with retrieval metrics)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from agentkit.evals.records import Example


def is_beir(path: Path) -> bool:
    return path.is_dir() and (path / "qrels").is_dir()


def parse_beir(folder: Path, split: str = "test") -> list[Example]:
    """The judged queries of ``split``, in qrels order."""
    from agentkit.evals.datasets import DatasetError, read_bytes

    qrels_file = folder / "qrels" / f"{split}.tsv"
    queries_file = next(
        (p for p in (folder / "queries.jsonl", folder / "queries.jsonl.gz") if p.exists()),
        folder / "queries.jsonl",
    )
    queries: dict[str, str] = {}
    text = read_bytes(queries_file, "BEIR queries file").decode("utf-8-sig")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            queries[str(row["_id"])] = str(row["text"])
        except (ValueError, KeyError, TypeError) as exc:
            raise DatasetError(str(queries_file), number, None, f"bad query row ({exc})") from exc
    relevant: dict[str, list[str]] = {}
    rows = csv.reader(
        io.StringIO(read_bytes(qrels_file, "BEIR qrels file").decode()), delimiter="\t"
    )
    for number, row in enumerate(rows, 1):
        if number == 1 and row and not row[-1].strip().lstrip("-").isdigit():
            continue  # the header
        if len(row) != 3 or not row[2].strip().lstrip("-").isdigit():
            raise DatasetError(str(qrels_file), number, None, "expected query-id, corpus-id, score")
        if int(row[2]) > 0:
            relevant.setdefault(row[0], []).append(row[1])
    missing = [q for q in relevant if q not in queries]
    if missing:
        raise DatasetError(
            str(qrels_file), None, "query-id", f"query {missing[0]!r} is not in {queries_file.name}"
        )
    return [
        Example(id=q, question=queries[q], relevant_ids=tuple(ids), line=f"{split}:{q}")
        for q, ids in relevant.items()
    ]
