"""``agentkit ingest`` / ``agentkit ask`` on a user's own folder: ``--index`` inside the
documents, ``--index`` that is a file or another folder, and ``ask`` from a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentkit.cli import app
from agentkit.commands import register_all

register_all(app)
runner = CliRunner()


def run(*args: str | Path) -> Any:
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "amazon.md").write_text("# Amazon\n\nThe Amazon rainforest covers the basin.\n")
    (folder / "plague.md").write_text("# Plague\n\nThe Black Death reached Crimea in 1343.\n")
    return folder


def test_index_inside_the_documents_is_not_ingested(docs: Path) -> None:
    first = run("ingest", docs, "--index", docs / "index", "--embedder", "hashing")
    second = run("ingest", docs, "--index", docs / "index")
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    assert "index.json" not in second.output and "skipped" not in second.output
    assert "2 chunks in the index" in second.output


def test_index_that_is_a_file_or_another_folder_is_one_clear_line(docs: Path) -> None:
    as_file = run("ingest", docs, "--index", docs / "amazon.md", "--embedder", "hashing")
    assert as_file.exit_code == 1 and "is a file" in as_file.output
    assert "Errno" not in as_file.output
    as_docs = run("ingest", docs, "--index", docs, "--embedder", "hashing")
    assert as_docs.exit_code == 1 and "is not an index" in as_docs.output
    assert sorted(p.name for p in docs.iterdir()) == ["amazon.md", "plague.md"]


def test_ask_in_a_fresh_process_uses_the_ingested_index(docs: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert run("ingest", docs, "--index", index, "--embedder", "hashing").exit_code == 0
    code = "from agentkit.cli import main; main()"
    args = ["ask", "When did the Black Death reach Crimea?", "--index", str(index)]
    done = subprocess.run(
        [sys.executable, "-c", code, *args, "--model", "extractive", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert "1343" in answer["answer"]
    assert "plague.md" in json.dumps(answer["sources"])
