"""One question, one pipeline: ``agentkit ask`` answers exactly as ``Index.query`` does;
the read-only commands never write to the index folder; the commands share the app's logic
through :mod:`agentkit.workspace`, never by importing the Streamlit package."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import agentkit.commands
from agentkit.cli import app
from agentkit.commands import register_all
from agentkit.retrievers.index import Index
from agentkit.retrievers.ingest.sidecar import bm25_path, is_current

register_all(app)
runner = CliRunner()
QUESTIONS = ["When did the Black Death reach Crimea?", "What does the rainforest cover?"]


def run(*args: Any, input: str | None = None) -> Any:
    return runner.invoke(app, [str(a) for a in args], input=input)


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """``auto`` finds no Ollama (a closed port) and no AGENTKIT_MODEL: the offline reader."""
    monkeypatch.setenv("AGENTKIT_OLLAMA_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("AGENTKIT_MODEL", raising=False)


@pytest.fixture
def index(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "amazon.md").write_text(
        "# Amazon\n\nThe Amazon rainforest covers most of the Amazon basin. It is humid.\n"
    )
    (docs / "plague.md").write_text(
        "# Plague\n\nThe Black Death reached Crimea in 1343. It spread along trade routes.\n"
    )
    (docs / "bread.md").write_text("# Bread\n\nBread is baked from flour and water.\n")
    folder = tmp_path / "index"
    result = run("ingest", docs, "--index", folder, "--embedder", "hashing")
    assert result.exit_code == 0, result.output
    return folder


@pytest.mark.parametrize("question", QUESTIONS)
def test_ask_and_index_query_give_the_same_answer_and_sources(index: Path, question: str) -> None:
    result = run("ask", question, "--index", index, "--json", "--k", "2")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    expected = Index.open(index).query(question, k=2)
    assert data["model"] == "extractive"
    assert data["answer"] == expected["result"] and data["answer"]
    used = expected["source_documents"]
    assert [s["id"] for s in data["sources"]] == [d.id for d in used]
    assert [s["score"] for s in data["sources"]] == pytest.approx([d.score for d in used])
    assert used and len(expected["retrieved_documents"]) == 2


def test_read_only_commands_never_write_to_the_index(index: Path, tmp_path: Path) -> None:
    before = snapshot(index)
    assert run("ask", QUESTIONS[0], "--index", index).exit_code == 0
    chat = run(
        "chat", "--index", index, "--history", tmp_path / "h.sqlite", input=QUESTIONS[1] + "\n"
    )
    assert chat.exit_code == 0, chat.output
    assert snapshot(index) == before


def test_an_index_without_a_sidecar_is_answered_without_writing(index: Path) -> None:
    """An index built before sidecars: ``ask`` builds BM25 in memory, writes nothing, and
    answers as ``Index.query`` does; re-running ingest saves the sidecar."""
    shutil.rmtree(bm25_path(index))
    before = snapshot(index)
    result = run("ask", QUESTIONS[0], "--index", index, "--json")
    assert result.exit_code == 0, result.output
    assert snapshot(index) == before and not is_current(index)
    assert json.loads(result.stdout)["answer"] == Index.open(index).query(QUESTIONS[0])["result"]


def test_commands_do_not_import_the_streamlit_package() -> None:
    """``grep -rn "agentkit.app" agentkit/commands`` finds nothing (the pattern as grep
    reads it: the dot is any character)."""
    pattern = re.compile("agentkit.app")
    root = Path(agentkit.commands.__file__).parent
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(root.rglob("*.py"))
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []


def test_the_shared_logic_imports_no_ui() -> None:
    """Every module of agentkit.workspace and agentkit.commands imports without loading
    streamlit or the app package."""
    import subprocess
    import sys

    code = (
        "import importlib, pkgutil, sys\n"
        "import agentkit.workspace, agentkit.commands\n"
        "for pkg in (agentkit.workspace, agentkit.commands):\n"
        "    for m in pkgutil.iter_modules(pkg.__path__):\n"
        "        importlib.import_module(f'{pkg.__name__}.{m.name}')\n"
        "bad = sorted(n for n in sys.modules if n == 'streamlit' or n.startswith('agentkit.app'))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
