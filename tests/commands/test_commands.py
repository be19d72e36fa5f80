"""The ``agentkit`` commands through typer's runner: ingest, ask, chat, app, models, bench,
including bad paths and bad specs (one clear line plus a hint; ``--debug`` raises)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentkit.cli import app
from agentkit.commands import register_all
from agentkit.core.errors import UsageError
from agentkit.llms.resolve import FAKE_REPLY
from agentkit.workspace.sessions import ChatSessions

register_all(app)
runner = CliRunner()


def run(*args: str, input: str | None = None) -> Any:
    return runner.invoke(app, [str(a) for a in args], input=input)


@pytest.fixture(autouse=True)
def no_ollama(monkeypatch: pytest.MonkeyPatch) -> None:
    """``auto`` must not find a real server: point it at a closed port, no AGENTKIT_MODEL."""
    monkeypatch.setenv("AGENTKIT_OLLAMA_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("AGENTKIT_MODEL", raising=False)


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "amazon.md").write_text("# Amazon\n\nThe Amazon rainforest covers the basin.\n")
    (folder / "plague.md").write_text("# Plague\n\nThe Black Death reached Crimea in 1343.\n")
    (folder / "blob.bin").write_bytes(b"\x00\x01\x02\x03binary")
    return folder


@pytest.fixture
def index(tmp_path: Path, docs: Path) -> Path:
    result = run("ingest", docs, "--index", tmp_path / "index", "--embedder", "hashing")
    assert result.exit_code == 0, result.output
    return tmp_path / "index"


def test_register_all_is_idempotent() -> None:
    names = [c.name for c in app.registered_commands]
    groups = [g.name for g in app.registered_groups]
    register_all(app)
    assert [c.name for c in app.registered_commands] == names
    assert [g.name for g in app.registered_groups] == groups
    assert {"ingest", "ask", "chat", "app", "models", "bench"} <= set(names)
    assert {"eval", "finetune"} <= set(groups)


def test_ingest_reports_each_file_and_is_incremental(index: Path, docs: Path) -> None:
    again = run("ingest", docs, "--index", index)
    assert again.exit_code == 0, again.output
    assert "unchanged │ amazon.md" in again.output
    assert "skipped" in again.output and "blob.bin" in again.output
    assert "0 embedded" in again.output
    (docs / "plague.md").unlink()
    third = run("ingest", docs, "--index", index)
    assert "deleted   │ plague.md" in third.output


def test_ingest_bad_path_is_one_line_and_a_hint(tmp_path: Path) -> None:
    result = run("ingest", tmp_path / "nope", "--index", tmp_path / "ix", "--embedder", "hashing")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("Error: ") and "nope does not exist" in lines[0]
    assert lines[1].startswith("Hint: ") and len(lines) == 2
    debug = run("--debug", "ingest", tmp_path / "nope", "--index", tmp_path / "ix")
    assert isinstance(debug.exception, UsageError)


def test_ingest_rejects_another_embedder_for_an_existing_index(index: Path, docs: Path) -> None:
    result = run("ingest", docs, "--index", index, "--embedder", "default")
    assert result.exit_code == 1 and "was built with embedder 'hashing-256'" in result.output


def test_ask_answers_with_sources(index: Path) -> None:
    result = run("ask", "How big is the Amazon rainforest?", "--index", index, "--model", "fake")
    assert result.exit_code == 0, result.output
    assert FAKE_REPLY[:40] in result.stdout.replace("\n", " ")
    assert "Sources" in result.stdout and "Amazon" in result.stdout
    assert "model: fake (asked for 'fake')" in result.stderr
    data = json.loads(
        run("ask", "Amazon?", "--index", index, "--model", "fake", "--json", "--k", "1").stdout
    )
    assert data["answer"] == FAKE_REPLY and data["model"] == "fake"
    assert [(s["title"], s["source"]) for s in data["sources"]] == [("Amazon", "amazon.md")]


def test_ask_bad_index_and_bad_model(tmp_path: Path, index: Path) -> None:
    missing = run("ask", "q", "--index", tmp_path / "nothing", "--model", "fake")
    assert missing.exit_code == 1 and "no index in" in missing.output
    assert "agentkit ingest" in missing.output and "Hint:" in missing.output
    bad = run("ask", "q", "--index", index, "--model", "bogus:thing")
    assert bad.exit_code == 1 and "unknown model spec 'bogus:thing'" in bad.output
    empty = run("ask", "  ", "--index", index, "--model", "fake")
    assert empty.exit_code == 1 and "the question is empty" in empty.output


def test_ask_with_the_extractive_reader_over_the_index(index: Path) -> None:
    result = run("ask", "When did the Black Death reach Crimea?", "--index", index, "--json")
    data = json.loads(result.stdout)
    assert data["model"] == "extractive"
    assert "1343" in data["answer"]


def test_chat_streams_remembers_and_resumes(tmp_path: Path) -> None:
    history = tmp_path / "history.sqlite"
    result = run(
        "chat", "--model", "fake", "--history", history, input="hello\n\n/new\nsecond\n/exit\n"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.count("ai> ") == 2 and FAKE_REPLY[:30] in result.stdout
    sessions = ChatSessions(history)
    listed = sessions.recent()
    assert len(listed) == 2 and {s.message_count for s in listed} == {2}
    first = next(s.id for s in listed if s.title == "hello")
    resumed = run(
        "chat", "--model", "fake", "--history", history, "--session", first, input="again\n"
    )
    assert resumed.exit_code == 0, resumed.output
    assert [e.content for e in sessions.entries(first)][::2] == ["hello", "again"]


def test_chat_with_a_chain_spec_and_bad_specs(tmp_path: Path) -> None:
    result = run(
        "chat",
        "--chain",
        "tests.app.fixtures:fake_agent_chain",
        "--history",
        tmp_path / "h.sqlite",
        input="What is 25% of 300?\n",
    )
    assert result.exit_code == 0, result.output
    assert "25% of 300 is 75." in result.stdout
    missing = run("chat", "--chain", tmp_path / "none.yaml", input="hi\n")
    assert missing.exit_code == 1 and "does not exist" in missing.output
    bad_ref = run("chat", "--chain", "no_such_module_xyz:make", "--allow-imports", input="hi\n")
    assert bad_ref.exit_code == 1 and "cannot import module 'no_such_module_xyz'" in bad_ref.output
    refused = run("chat", "--chain", "os:getcwd", input="hi\n")
    assert refused.exit_code == 1 and "refusing to import 'os:getcwd'" in refused.output
    agent = run("chat", "--kind", "agent", "--model", "extractive", input="hi\n")
    assert agent.exit_code == 1 and "Agent mode needs a generative model" in agent.output
    kind = run("chat", "--kind", "poem", "--model", "fake", input="hi\n")
    assert kind.exit_code == 1 and "unknown chain kind 'poem'" in kind.output
    session = run("chat", "--session", "../x", "--model", "fake", input="hi\n")
    assert session.exit_code == 1 and "invalid session id" in session.output


def test_app_starts_streamlit_with_the_settings(
    monkeypatch: pytest.MonkeyPatch, index: Path, tmp_path: Path
) -> None:
    pytest.importorskip("streamlit")
    seen: dict[str, Any] = {}

    class FakeServer:
        def __init__(self, command: list[str], env: dict[str, str]) -> None:
            seen.update(command=command, env=env)

        def wait(self) -> int:
            return 0

    monkeypatch.setattr("subprocess.Popen", FakeServer)
    spec = tmp_path / "chain.yaml"
    spec.write_text("type: fake_list_model\nresponses: [hi]\n")
    result = run("app", "--index", index, "--chain", spec, "--port", "8599", "--headless")
    assert result.exit_code == 0, result.output
    command = seen["command"]
    assert command[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert command[4].endswith("agentkit/app/main.py")
    assert command[command.index("--server.port") :][:2] == ["--server.port", "8599"]
    script_args = command[command.index("--") + 1 :]
    assert script_args[script_args.index("--index") + 1] == str(index)
    assert script_args[script_args.index("--chain") + 1] == str(spec)
    assert str(Path.cwd()) in seen["env"]["PYTHONPATH"]


def test_app_rejects_bad_chains_and_folders(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, docs: Path
) -> None:
    monkeypatch.setattr("subprocess.Popen", lambda *a, **k: pytest.fail("must not start"))
    pytest.importorskip("streamlit")
    assert "does not exist" in run("app", "--chain", tmp_path / "x.yaml").output
    assert "module:function" in run("app", "--chain", "just_a_name").output
    not_index = run("app", "--index", docs)
    assert (
        not_index.exit_code == 1 and "is not an index built by agentkit ingest" in not_index.output
    )
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    missing = run("app")
    assert missing.exit_code == 1 and "streamlit" in missing.output
    assert "install" in missing.output


def test_models_says_what_auto_picks_and_why() -> None:
    result = run("models")
    assert result.exit_code == 0, result.output
    assert "extractive" in result.stdout and "no Ollama server answered" in result.stdout
    assert "Agent mode needs a generative model" in result.stdout
    data = json.loads(run("models", "fake", "--json").stdout)
    assert data["backend"] == "fake" and data["generative"] is True
    bad = run("models", "nope:x")
    assert bad.exit_code == 1 and "unknown model spec" in bad.output


def test_bench_runs_benchmarks_and_sums_up(tmp_path: Path) -> None:
    folder = tmp_path / "benchmarks"
    folder.mkdir()
    (folder / "_common.py").write_text("raise SystemExit('helpers are not benchmarks')\n")
    (folder / "fast.py").write_text(
        "import json, sys\nprint('working')\nprint(json.dumps({'quick': '--quick' in sys.argv}))\n"
    )
    (folder / "broken.py").write_text("raise SystemExit(3)\n")
    one = run("bench", "fast", "--dir", folder)
    assert one.exit_code == 0, one.output
    assert "working" in one.stdout and '{"quick": true}' in one.stdout
    full = run("bench", "fast", "--dir", folder, "--full")
    assert '{"quick": false}' in full.stdout
    both = run("bench", "--dir", folder)
    assert (
        both.exit_code == 1 and "exit 3" in both.stdout and "1 benchmark(s) failed" in both.output
    )
    unknown = run("bench", "slow", "--dir", folder)
    assert unknown.exit_code == 1 and "no benchmark named 'slow'" in unknown.output
    assert "broken, fast" in unknown.output
    missing = run("bench", "--dir", tmp_path / "none")
    assert missing.exit_code == 1 and "source checkout" in missing.output


def test_a_closed_output_pipe_ends_quietly() -> None:
    """`agentkit ... | head` closes the pipe early: exit 141 (SIGPIPE's code), no error."""
    import typer

    from agentkit.cli import AgentkitGroup

    small = typer.Typer(cls=AgentkitGroup)

    @small.command()
    def talk() -> None:
        raise BrokenPipeError(32, "Broken pipe")

    @small.command()
    def other() -> None:  # a second command keeps `talk` a sub-command
        pass

    result = runner.invoke(small, ["talk"])
    assert result.exit_code == 141
    assert "Error" not in result.output and "Broken pipe" not in result.output


def test_ingest_ivf_builds_a_trained_ivf_index_and_refuses_pq_alone(
    tmp_path: Path, docs: Path
) -> None:
    pytest.importorskip("faiss")
    from agentkit.retrievers import Index

    for i in range(40):
        (docs / f"note{i}.md").write_text(
            f"# Note {i}\n\nNote number {i} is about topic {i % 7}.\n"
        )
    result = run("ingest", docs, "--index", tmp_path / "ivf", "--embedder", "hashing", "--ivf", "2")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "ivf" / "index.json").read_text())
    assert "IVFPQStore" in json.dumps(manifest["store"])
    hits = Index.open(tmp_path / "ivf").search("Note number 17 is about topic 3.", k=1)
    assert (hits[0].source or "").endswith("note17.md"), hits[0]
    bad = run("ingest", docs, "--index", tmp_path / "pq", "--embedder", "hashing", "--pq-m", "8")
    assert bad.exit_code != 0 and "--pq-m needs --ivf" in bad.output
