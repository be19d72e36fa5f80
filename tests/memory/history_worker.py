"""Appends numbered messages to a shared SQLite history (run as a separate process)."""

from __future__ import annotations

import sys

from agentkit.llms.messages import assistant, user
from agentkit.memory import SQLiteHistoryStore


def main(path: str, worker: str, count: int) -> None:
    store = SQLiteHistoryStore(path)
    for i in range(count):
        # one turn per append: both messages land together or not at all
        store.append("shared", [user(f"{worker}:{i}"), assistant(f"{worker}:{i}!")])
        store.append(f"own-{worker}", [user(f"{worker}:{i}")])
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
