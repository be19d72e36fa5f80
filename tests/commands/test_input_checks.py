"""Hostile command-line input: numeric options out of range (NaN, infinity, huge), escape
codes in file names, a history file that is not an SQLite database, Ctrl+C advice."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentkit.cli import app, interrupted_message
from agentkit.commands.common import number_range, printable, printable_text
from agentkit.memory.sqlite_store import SQLiteHistoryStore

runner = CliRunner()
ESC = "\x1b]0;pwned\x07\x1b[2J\u202e"


def run(*args: object, input: str | None = None) -> Any:
    return runner.invoke(app, [str(a) for a in args], input=input)


def flat(output: str) -> str:
    return " ".join(output.replace("│", " ").split())


@pytest.fixture(autouse=True)
def no_ollama(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTKIT_OLLAMA_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("AGENTKIT_MODEL", raising=False)


def test_printable_shows_control_characters_as_escapes() -> None:
    assert printable("notes.md") == "notes.md"
    assert printable("a\x1b[31mb\nc\u202ed\x00") == "a\\x1b[31mb\\nc\\u202ed\\x00"
    assert printable("café 👩\u200d💻") == "café 👩\u200d💻"  # letters and emoji stay
    assert printable_text("line 1\n\tline 2\x1b[2J\x9b") == "line 1\n\tline 2\\x1b[2J\\x9b"
    assert printable("\udcff") == "\\udcff"  # an undecodable file-name byte


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["ask", "q", "--index", "x", "--temperature", "nan"], "--temperature"),
        (["ask", "q", "--index", "x", "--temperature", "-0.5"], "--temperature"),
        (["ask", "q", "--index", "x", "--k", "0"], "--k"),
        (["chat", "--k", "1000000"], "--k"),
        (["app", "--port", "70000"], "--port"),
        (["finetune", "sft", "--lr", "nan"], "--lr"),
        (["finetune", "sft", "--lr", "inf"], "--lr"),
        (["finetune", "sft", "--epochs", "-1"], "--epochs"),
        (["finetune", "sft", "--test-size", "1"], "--test-size"),
        (["finetune", "sft", "--batch-size", "0"], "--batch-size"),
        (["finetune", "sft", "--seed", "-1"], "--seed"),
        (["finetune", "sft", "--lora-r", "0"], "--lora-r"),
        (["finetune", "dpo", "--beta", "nan"], "--beta"),
        (["finetune", "embeddings", "--negatives", "-2"], "--negatives"),
        (["serve", "qa=chain.yaml", "--graceful-timeout", "inf"], "--graceful-timeout"),
        (["finetune", "reader", "--lr", "nan"], "--lr"),
        (["finetune", "reader", "--held-back", "1"], "--held-back"),
        (["finetune", "reader", "--negatives", "inf"], "--negatives"),
        (["finetune", "reader", "--max-length", "8"], "--max-length"),
        (["serve", "qa=chain.yaml", "--graceful-timeout", "nan"], "--graceful-timeout"),
    ],
)
def test_numeric_options_name_the_option_and_its_range(args: list[str], option: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in flat(result.output)


def test_the_range_check_says_what_is_allowed() -> None:
    check = number_range(0, 1, below=True)
    assert check(None, None) is None and check(None, 0.5) == 0.5  # type: ignore[arg-type]
    for bad in (float("nan"), float("inf"), -0.1, 1.0):
        with pytest.raises(Exception, match=r"must be a finite number >= 0 and < 1, got"):
            check(None, bad)  # type: ignore[arg-type]


def test_ingest_prints_file_names_with_escape_codes_as_escapes(tmp_path: Path) -> None:
    if os.name != "posix":
        pytest.skip("control characters in file names")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / f"evil{ESC}.md").write_text("# Evil\n\nA file whose name clears the screen.\n")
    (docs / f"bin{ESC}.bin").write_bytes(b"\x00\x01binary")
    result = run("ingest", docs, "--index", tmp_path / "index", "--embedder", "hashing")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\u202e" not in result.output
    assert "evil\\x1b]0;pwned\\x07\\x1b[2J\\u202e.md" in result.output
    missing = run("ingest", tmp_path / f"no{ESC}where", "--index", tmp_path / "i2")
    assert missing.exit_code == 1 and "\x1b" not in missing.output
    assert "no\\x1b]0;pwned" in missing.output


def test_ctrl_c_during_ingest_says_how_to_continue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(self: object, paths: object, glob: object = None) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("agentkit.retrievers.ingest.Ingestor.ingest", interrupted)
    (tmp_path / "a.md").write_text("# A\n\ntext\n")
    result = run("ingest", tmp_path / "a.md", "--index", tmp_path / "i", "--embedder", "hashing")
    assert result.exit_code == 130
    assert "--resume" not in result.output
    assert "run the same agentkit ingest command again" in flat(result.output)
    assert "--resume" in interrupted_message("eval") and "--resume" in interrupted_message(
        "finetune"
    )
    assert interrupted_message("ask") == "Interrupted."


def test_a_history_file_that_is_not_sqlite_is_refused_and_kept(tmp_path: Path) -> None:
    one_byte = tmp_path / "notes.txt"
    one_byte.write_bytes(b"x")
    result = run("chat", "--history", one_byte, "--model", "fake", input="hi\n")
    assert result.exit_code == 1
    assert "is not a database" in flat(result.output) and "notes.txt" in result.output
    assert one_byte.read_bytes() == b"x"  # never overwritten
    text = tmp_path / "essay.md"
    text.write_text("# My essay\n\n" + "words " * 2000)
    before = text.read_bytes()
    with pytest.raises(Exception, match="not a database"):
        SQLiteHistoryStore(text)
    assert text.read_bytes() == before
    with pytest.raises(Exception, match="cannot be opened"):
        SQLiteHistoryStore(tmp_path)
    empty = tmp_path / "empty.sqlite"
    empty.touch()  # an empty file is a new database
    with SQLiteHistoryStore(empty) as store:
        store.set_title("s", "kept")
    assert empty.read_bytes().startswith(b"SQLite format 3\x00")
    with SQLiteHistoryStore(empty):  # and reopens
        pass


def test_chat_prints_model_text_with_escape_codes_as_escapes(tmp_path: Path) -> None:
    spec = tmp_path / "chain.yaml"
    spec.write_text('type: fake_list_model\nresponses: ["Hi\\e]0;pwned\\a\\e[2J there\\nok"]\n')
    history = tmp_path / "history.sqlite"
    result = run("chat", "--chain", spec, "--history", history, input="hello\n")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "Hi\\x1b]0;pwned\\x07\\x1b[2J there\nok" in result.output  # line breaks stay
