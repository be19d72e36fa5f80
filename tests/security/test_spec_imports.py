"""Specs are data unless the caller says otherwise: the reproducers of issue 12 (a tampered
index.json or chain YAML ran any command) and the opt-in (``allow_imports``)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

import agentkit
from agentkit.cli import app
from agentkit.commands import register_all
from agentkit.core import Lambda, spec
from agentkit.core.errors import SpecError, UsageError

register_all(app)
runner = CliRunner()


@pytest.fixture(autouse=True)
def default_policy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The default policy (the suite's trusted test prefixes cleared); a user module
    ``userproj`` that leaves a file behind when any of its functions runs."""
    monkeypatch.delenv("AGENTKIT_ALLOW_IMPORTS", raising=False)
    monkeypatch.chdir(tmp_path)
    pkg = tmp_path / "lib" / "userproj"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "chains.py").write_text(
        "from os import system\n"  # re-exported: must not be reachable as userproj.chains:system
        "from agentkit.core import Lambda\n"
        "def shout():\n    return Lambda(lambda s: s.upper() + '!')\n"
        "def make(step=1):\n    return Lambda(lambda x: x + step)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))


def _index(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nThe Amazon rainforest covers the basin.\n")
    result = runner.invoke(app, ["ingest", str(docs), "--index", str(tmp_path / "idx"),
                                 "--embedder", "hashing"])  # fmt: skip
    assert result.exit_code == 0, result.output
    return tmp_path / "idx"


def _tamper(index: Path, spec_value: object) -> None:
    path = index / "index.json"
    manifest = json.loads(path.read_text())
    manifest["embedder"]["spec"] = spec_value
    path.write_text(json.dumps(manifest))


def test_reproducer_tampered_index_json_runs_no_command(tmp_path: Path) -> None:
    from agentkit.retrievers.index import Index

    index = _index(tmp_path)
    _tamper(index, {"ref": "os:system", "args": {"command": "id > PWNED"}})
    for args in (["ask", "x", "--index", str(index), "--model", "fake"],
                 ["ingest", str(tmp_path / "docs"), "--index", str(index)]):  # fmt: skip
        result = runner.invoke(app, args)
        assert result.exit_code == 1
        assert "index.json" in result.output and "code reference" in result.output
    with pytest.raises(UsageError, match=r"index\.json is corrupt: .*never imports code"):
        Index.open(index)
    assert not (tmp_path / "PWNED").exists()


def test_manifest_refs_are_refused_even_when_the_process_trusts_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentkit.retrievers.index import Index

    index = _index(tmp_path)
    _tamper(index, {"ref": "userproj.chains:make"})
    monkeypatch.setenv("AGENTKIT_ALLOW_IMPORTS", "1")
    with spec.allowing_imports(True), pytest.raises(UsageError, match="code reference"):
        Index.open(index)


@pytest.mark.parametrize(
    "text",
    [
        "ref: os:system\nargs: {command: 'id > PWNED'}\n",
        "type: function_tool\nfn: os:system\n",
        "type: sequence\nsteps:\n  - {ref: 'subprocess:run', args: {args: [touch, PWNED]}}\n"
        "  - {type: nope}\n",
    ],
)
def test_reproducer_chain_yaml_runs_no_command(tmp_path: Path, text: str) -> None:
    path = tmp_path / "chain.yaml"
    path.write_text(text)
    with pytest.raises(SpecError, match="refusing to import") as caught:
        agentkit.load(path)
    assert str(path) in str(caught.value) and "allow_imports=True" in str(caught.value)
    assert not (tmp_path / "PWNED").exists()


def test_allow_imports_lets_a_users_own_code_load(tmp_path: Path) -> None:
    path = tmp_path / "chain.yaml"
    path.write_text(
        "type: sequence\nsteps:\n  - {ref: 'userproj.chains:make', args: {step: 2}}\n"
        "  - userproj.chains:make\n"
    )
    with pytest.raises(SpecError, match=r"refusing to import 'userproj\.chains:make'"):
        agentkit.load(path)
    assert agentkit.load(path, allow_imports=True).invoke(1) == 4
    assert agentkit.load(path, allow_imports=["userproj."]).invoke(1) == 4
    assert agentkit.load(path, allow_imports=["userproj"]).invoke(1) == 4
    with pytest.raises(SpecError, match="not trusted"):
        agentkit.load(path, allow_imports=["userpro"])  # a prefix is a whole package name
    with spec.allowing_imports(["userproj."]):  # nested loads inherit the permission
        assert spec.load({"type": "lambda", "fn": "userproj.chains:shout"}) is not None


def test_an_allow_list_does_not_reach_code_imported_into_a_trusted_module(
    tmp_path: Path,
) -> None:
    hostile = {"ref": "userproj.chains:system", "args": {"command": "touch PWNED"}}
    with pytest.raises(SpecError, match="defined in 'posix'"):
        spec.load(hostile, allow_imports=["userproj."])
    with pytest.raises(SpecError, match="is a module"):
        spec.load({"type": "lambda", "fn": "userproj:chains"}, allow_imports=["userproj."])
    assert not (tmp_path / "PWNED").exists()


def test_the_environment_variable_trusts_prefixes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTKIT_ALLOW_IMPORTS", "otherproj., userproj.")
    assert spec.load("userproj.chains:make").invoke(1) == 2
    with pytest.raises(SpecError, match="refusing"):
        spec.load("os:getcwd")


def test_agentkit_builtin_refs_keep_working_by_default() -> None:
    tool = spec.load({"type": "function_tool", "fn": "agentkit.tools.arithmetic:calculate"})
    assert tool.name == "calculate"
    assert spec.load({"type": "lambda", "fn": "builtins:len"}).invoke("abc") == 3
    assert spec.resolve_ref("agentkit.core:Sequence").__name__ == "Sequence"
    retry = {"type": "retry", "inner": {"type": "passthrough"}, "on": ["builtins.KeyError"]}
    assert spec.load(retry).invoke(5) == 5


@pytest.mark.parametrize(
    "ref",
    [
        "agentkit.tools.pyexec:PythonREPLTool",
        "agentkit.tools:PythonREPLTool",  # re-exported: judged by where it is defined
        "agentkit.core.files:atomic_write_text",
        "agentkit.core.spec:load_file",
        "agentkit.core.refs:allowing_imports",
        "agentkit:load",
        "agentkit:index",
        "agentkit.core.errors:import_optional",
        "agentkit.core.tracing:JsonlTracer",
        "agentkit.llms.resolve:os.system",
        "agentkit.core.compose:_register_builders",
        "agentkit.commands.app:serve",
        "builtins:exec",
        "builtins:__import__",
    ],
)
def test_no_agentkit_function_that_runs_code_is_reachable_by_default(ref: str) -> None:
    with pytest.raises(SpecError, match="refusing to import"):
        spec.load({"ref": ref, "args": {}})


def test_cli_allow_imports_flag(tmp_path: Path) -> None:
    chain = tmp_path / "chain.yaml"
    chain.write_text("ref: userproj.chains:shout\n")
    data = tmp_path / "d.jsonl"
    data.write_text('{"id": "1", "question": "hi", "answers": ["HI!"]}\n')
    base = ["eval", "run", "--chain", str(chain), "--dataset", str(data), "--metrics", "em"]
    refused = runner.invoke(app, [*base, "--out", str(tmp_path / "r1")])
    assert refused.exit_code == 1 and "--allow-imports" in refused.output
    allowed = runner.invoke(app, [*base, "--out", str(tmp_path / "r2"), "--allow-imports"])
    assert allowed.exit_code == 0, allowed.output
    summary = json.loads((tmp_path / "r2" / "summary.json").read_text())
    assert summary["metrics"]["em"] == 1.0
    for command in (["eval", "run"], ["chat"], ["app"]):
        shown = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"}).output
        assert "--allow-imports" in shown and "trust" in shown


def test_trust_remote_code_needs_allow_imports() -> None:
    hostile = {"type": "hf_model", "source": "some/model", "trust_remote_code": True}
    with pytest.raises(SpecError, match="trust_remote_code runs Python code"):
        spec.load(hostile)
    with pytest.raises(SpecError, match="trust_remote_code"):
        spec.load({"ref": "agentkit.llms.hf:HFChatModel", "args": {"options": hostile}})


def test_saving_a_spec_that_names_main_warns(tmp_path: Path) -> None:
    def helper(x: int) -> int:
        return x + 1

    helper.__module__, helper.__qualname__ = "__main__", "helper"
    with pytest.warns(UserWarning, match=r"__main__:helper.*Move that code into a module"):
        agentkit.save(Lambda(helper), tmp_path / "c.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        agentkit.save(Lambda(len), tmp_path / "ok.yaml")  # nothing to warn about


def test_app_allow_imports_reaches_the_app_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import agentkit.commands.app as app_command

    pytest.importorskip("streamlit")
    seen: list[dict[str, str]] = []
    monkeypatch.setattr(app_command, "serve", lambda command, env: seen.append(env) or 0)
    assert runner.invoke(app, ["app", "--headless"]).exit_code == 0
    assert runner.invoke(app, ["app", "--headless", "--allow-imports"]).exit_code == 0
    assert "AGENTKIT_ALLOW_IMPORTS" not in seen[0]
    assert seen[1]["AGENTKIT_ALLOW_IMPORTS"] == "1"


def test_agentkit_modules_a_ref_may_reach_run_no_commands() -> None:
    """Every agentkit module a spec may name by default was reviewed: none of its public
    functions runs a command or imports a module named by its arguments. A new module that
    runs processes or imports by name fails here until it is reviewed (denied in
    ``agentkit.core.refs`` or added below with the reason it is safe)."""
    import re

    from agentkit.core.refs import agentkit_refable

    risky = re.compile(
        r"\bsubprocess\b|\bos\.(system|popen|exec\w*|spawn\w*|fork)\b|\bpty\.|"
        r"(?<![.\w])(exec|eval)\(|import_module\(|__import__\("
    )
    reviewed = {
        "agentkit.core.errors",  # import_optional: denied by name (AGENTKIT_NEVER_OBJECTS)
        "agentkit.core.foreign",  # imports fixed agentkit modules
        "agentkit.llms",  # module __getattr__: lazy re-exports (dunder names are refused)
        "agentkit.tools.websearch",  # _ddgs_class: fixed module names, private
    }
    root = Path(agentkit.__file__).parent
    found = set()
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if agentkit_refable(module, defined_in=True) and risky.search(path.read_text("utf-8")):
            found.add(module)
    assert found == reviewed
