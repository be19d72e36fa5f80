"""The served app for the tests in this folder: one ``agentkit serve`` subprocess per
module, always stopped (its whole process group) in teardown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.serve.server_process import Server, start_server, stop_server

SERVED = [
    "echo=served_components:echo",
    "failing=served_components:failing",
    "down=served_components:down",
    "slow=served_components:slow",
    "agent=served_components:agent",
    "emb=served_components:emb",
    "qa=qa.yaml",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("serve")
    running = start_server(
        tmp,
        [
            *SERVED,
            "--allow-imports",
            "--max-concurrency",
            "2",
            "--max-body-bytes",
            "20000",
            "--trace",
            str(tmp / "spans.jsonl"),
        ],
    )
    running.trace = tmp / "spans.jsonl"
    try:
        yield running
    finally:
        stop_server(running)
