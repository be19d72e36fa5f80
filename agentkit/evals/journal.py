"""The run journal: an append-only JSONL file, one line per finished example.

Each line is written whole, flushed and fsynced before the example counts as done, so a
killed run loses at most the examples in flight. On reopening, a torn last line (a write
cut short) is cut off before anything is appended; a resumed run skips the ids already in
the journal, so no example is scored twice. :class:`GroupCommit` lets concurrent examples
share one fsync when they finish together.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from agentkit.core.errors import UsageError
from agentkit.core.futures import settle


class Journal:
    """Append-only JSONL of result records (dicts with an ``id``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh: IO[str] | None = None
        self._lock = threading.Lock()

    def read(self) -> list[dict[str, Any]]:
        """The complete records, in the order written (the first record of an id wins)."""
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        records: list[dict[str, Any]] = []
        seen: set[str] = set()
        lines = data.split(b"\n")
        complete = lines[:-1]  # the part after the last newline is torn (or empty)
        for number, raw in enumerate(complete, 1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError as exc:
                raise UsageError(
                    f"journal {self.path} line {number} is not valid JSON ({exc}); the file "
                    "was edited or corrupted; start a new run in another --out folder"
                ) from exc
            ident = record.get("id") if isinstance(record, dict) else None
            if not isinstance(ident, str):
                raise UsageError(f"journal {self.path} line {number} has no string 'id'")
            if ident not in seen:
                seen.add(ident)
                records.append(record)
        return records

    def open(self) -> None:
        """Open for appending, cutting off a torn last line first."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            data = self.path.read_bytes()
            keep = data.rfind(b"\n") + 1
            if keep < len(data):
                with self.path.open("r+b") as fh:
                    fh.truncate(keep)
                    fh.flush()
                    os.fsync(fh.fileno())
        # a lone surrogate in model text (half an emoji) is written as its JSON escape
        self._fh = self.path.open("a", encoding="utf-8", errors="backslashreplace")

    def append(self, record: dict[str, Any]) -> None:
        """Write one record durably (thread-safe)."""
        self.append_many([record])

    def append_many(self, records: list[dict[str, Any]]) -> None:
        """Write records, each on its own line, then flush and fsync once (thread-safe)."""
        text = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
        with self._lock:
            if self._fh is None:
                raise UsageError("the journal is not open; call open() first")
            self._fh.write(text)
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None

    def __enter__(self) -> Journal:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class GroupCommit:
    """Appends records from many coroutines through one writer thread: the records that
    arrive while a write is in flight go together in the next write (one fsync for all).
    ``await append(record)`` returns once that record is on disk."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._busy = False
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")

    async def append(self, record: dict[str, Any]) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((record, done))
        if not self._busy:
            self._flush()
        await done

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        self._busy = True
        loop = asyncio.get_running_loop()
        write = loop.run_in_executor(self._pool, self.journal.append_many, [r for r, _ in batch])
        write.add_done_callback(lambda task: self._written(batch, task))

    def _written(self, batch: list[tuple[dict[str, Any], asyncio.Future[None]]], task: Any) -> None:
        self._busy = False
        error = task.exception()
        for _, done in batch:
            settle(done, None, error)
        if self._pending:
            self._flush()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
