"""Tampered folders never run code: mutations of a real index folder (built with the
hashing embedder), a finished eval run folder, the adapter registry and chain YAML. Each
mutation ends in one clear error naming the file (through the Python API, and through the
CLI for a sample), and a canary proves nothing ran: no file written, no module imported,
nothing deleted."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import agentkit
from agentkit.cli import app
from agentkit.commands import register_all
from agentkit.core.errors import AgentkitError

register_all(app)
runner = CliRunner()


def cli(*args: Any) -> Any:
    return runner.invoke(app, [str(a) for a in args])


class Canary:
    """Files and a folder that hostile input would create or delete if it ran code."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.file = root / "PWNED"
        self.imported = root / "IMPORTED"
        self.precious = root / "precious"
        self.precious.mkdir()
        (self.precious / "keep.txt").write_text("keep")
        (root / "canary_mod.py").write_text(
            "from pathlib import Path\n"
            f"def fire(*args, **kwargs):\n    Path({str(self.file)!r}).write_text('x')\n"
            "class Model:\n"
            f"    def __init__(self, *a, **k):\n        Path({str(self.file)!r}).write_text('x')\n"
        )
        (root / "canary_import.py").write_text(
            f"from pathlib import Path\nPath({str(self.imported)!r}).write_text('x')\n"
        )

    def assert_quiet(self) -> None:
        assert not self.file.exists(), "hostile input ran code (canary file written)"
        assert not self.imported.exists(), "hostile input imported a module"
        assert (self.precious / "keep.txt").exists(), "hostile input deleted files"


@pytest.fixture(autouse=True)
def default_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default trust policy: the test suite's own trusted prefixes are cleared."""
    monkeypatch.delenv("AGENTKIT_ALLOW_IMPORTS", raising=False)


@pytest.fixture
def canary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Canary]:
    root = tmp_path / "canary"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.chdir(tmp_path)
    bird = Canary(root)
    yield bird
    bird.assert_quiet()


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("index")
    docs = root / "docs"
    docs.mkdir()
    (docs / "amazon.md").write_text("# Amazon\n\nThe Amazon rainforest covers the basin.\n")
    (docs / "plague.md").write_text("# Plague\n\nThe Black Death reached Crimea in 1343.\n")
    result = cli("ingest", docs, "--index", root / "idx", "--embedder", "hashing")
    assert result.exit_code == 0, result.output
    return root / "idx"


@pytest.fixture(scope="session")
def built_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("evalrun")
    (root / "d.jsonl").write_text(
        '{"id": "q1", "question": "Capital of France?", "answers": ["Paris"]}\n'
        '{"id": "q2", "question": "2+2?", "answers": ["4"]}\n'
    )
    (root / "chain.yaml").write_text('type: fake_list_model\nresponses: ["Paris", "5"]\n')
    result = cli(
        "eval", "run", "--chain", root / "chain.yaml", "--dataset", root / "d.jsonl",
        "--out", root / "run", "--metrics", "em,f1", "--no-report",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return root / "run"


@pytest.fixture
def index_dir(built_index: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(built_index, tmp_path / "idx"))


@pytest.fixture
def run_dir(built_run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(built_run, tmp_path / "run"))


@pytest.fixture
def registry_root(tmp_path: Path) -> Path:
    from agentkit.finetune.registry import AdapterRegistry

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text('{"base_model_name_or_path": "tiny"}')
    AdapterRegistry(tmp_path / "adapters").register("bot", adapter)
    return tmp_path / "adapters"


# --- mutations ---------------------------------------------------------------------------
# Each takes (folder, canary) and damages one file; the canary's paths make any code that
# ran leave a trace.

Mutation = Callable[[Path, Canary], None]


def _json_edit(name: str, change: Callable[[Any, Canary], Any]) -> Mutation:
    def mutate(folder: Path, bird: Canary) -> None:
        path = folder / name
        data = json.loads(path.read_text())
        changed = change(data, bird)
        path.write_text(json.dumps(data if changed is None else changed))

    return mutate


def _raw(name: str, text: Callable[[str], str | bytes]) -> Mutation:
    def mutate(folder: Path, bird: Canary) -> None:
        path = folder / name
        new = text(path.read_text())
        if isinstance(new, bytes):
            path.write_bytes(new)
        else:
            path.write_text(new)

    return mutate


def _spec(value: Callable[[Canary], Any]) -> Mutation:
    return _json_edit("index.json", lambda m, b: m["embedder"].__setitem__("spec", value(b)))


def _manifest(key: str, value: Any) -> Mutation:
    def change(manifest: Any, bird: Canary) -> None:
        target = manifest
        *parents, last = key.split(".")
        for part in parents:
            target = target[part]
        target[last] = value

    return _json_edit("index.json", change)


def _touch(b: Canary) -> dict[str, Any]:
    return {"ref": "os:system", "args": {"command": f"touch {b.file}"}}


INDEX_MUTATIONS: dict[str, Mutation] = {
    "spec-os-system": _spec(_touch),
    "spec-os-system-string": _spec(lambda b: "os:system"),
    "spec-subprocess-run": _spec(
        lambda b: {"ref": "subprocess:run", "args": {"args": ["touch", str(b.file)]}}
    ),
    "spec-builtins-exec": _spec(
        lambda b: {"ref": "builtins:exec", "args": {"source": f"open({str(b.file)!r}, 'w')"}}
    ),
    "spec-import-module": _spec(
        lambda b: {"ref": "importlib:import_module", "args": {"name": "canary_import"}}
    ),
    "spec-shutil-rmtree": _spec(
        lambda b: {"ref": "shutil:rmtree", "args": {"path": str(b.precious)}}
    ),
    "spec-canary-function": _spec(lambda b: {"ref": "canary_mod:fire"}),
    "spec-nested-ref": _spec(lambda b: {"type": "cached_embedder", "inner": _touch(b)}),
    "spec-lambda-type": _spec(lambda b: {"type": "lambda", "fn": "canary_mod:fire"}),
    "spec-function-tool": _spec(lambda b: {"type": "function_tool", "fn": "os:system"}),
    "spec-agentkit-runner": _spec(
        lambda b: {"ref": "agentkit.tools.pyexec:PythonREPLTool", "args": {}}
    ),
    "spec-remote-code": _spec(
        lambda b: {"type": "sentence_transformer_embedder", "trust_remote_code": True}
    ),
    "spec-wrong-field-type": _spec(lambda b: {"type": "hashing_embedder", "dimension": "big"}),
    "spec-unicode-type": _spec(lambda b: {"type": "hashing_embedd\u0435r"}),  # Cyrillic e
    "spec-list": _spec(lambda b: [1, 2, 3]),
    "store-os-system": _manifest("store", "os:system"),
    "store-rmtree": _manifest("store", "shutil:rmtree"),
    "store-canary-import": _manifest("store", "canary_import:Store"),
    "store-dunder-traversal": _manifest(
        "store", "agentkit.retrievers.vectorstores.faiss_store:FaissStore.__init__.__globals__"
    ),
    "store-fullwidth-unicode": _manifest(
        "store",
        "\uff41\uff47\uff45\uff4e\uff54\uff4b\uff49\uff54.retrievers.vectorstores.faiss_store:FaissStore",
    ),
    "store-number": _manifest("store", 12345),
    "store-path-traversal": _manifest("store", "../../../../etc/passwd"),
    "dimension-huge": _manifest("embedder.dimension", 10**400),
    "dimension-string": _manifest("embedder.dimension", "256"),
    "dimension-negative": _manifest("embedder.dimension", -1),
    "model-id-number": _manifest("embedder.model_id", 7),
    "embedder-list": _manifest("embedder", []),
    "format-other": _manifest("format", "something.else"),
    "version-future": _manifest("version", 99),
    "top-level-list": _raw("index.json", lambda t: "[1, 2]"),
    "truncated": _raw("index.json", lambda t: t[: len(t) // 2]),
    "not-utf8": _raw("index.json", lambda t: b"\xff\xfe" + t.encode("utf-16-le")),
    "deep-nesting": _raw("index.json", lambda t: "[" * 200_000 + "]" * 200_000),
    "empty": _raw("index.json", lambda t: ""),
    "nul-bytes": _raw("index.json", lambda t: "\x00" * 64),
}


@pytest.mark.parametrize("name", sorted(INDEX_MUTATIONS))
def test_tampered_index_folder_runs_no_code(name: str, index_dir: Path, canary: Canary) -> None:
    from agentkit.retrievers.index import Index

    INDEX_MUTATIONS[name](index_dir, canary)
    with pytest.raises(AgentkitError) as caught:
        Index.open(index_dir)
    message = str(caught.value)
    assert str(index_dir) in message and "index.json" in message, message
    assert "\n" not in message.strip()
    canary.assert_quiet()


@pytest.mark.parametrize(
    "name", ["spec-os-system", "spec-subprocess-run", "store-os-system", "truncated"]
)
def test_tampered_index_through_the_cli(name: str, index_dir: Path, canary: Canary) -> None:
    INDEX_MUTATIONS[name](index_dir, canary)
    for args in (["ask", "x", "--index", index_dir, "--model", "fake"],
                 ["ingest", canary.root, "--index", index_dir]):  # fmt: skip
        result = cli(*args)
        lines = result.output.strip().splitlines()
        assert result.exit_code == 1, result.output
        assert lines[0].startswith("Error: ") and "index.json" in lines[0], lines
        assert lines[1].startswith("Hint: ") and len(lines) == 2, lines
    canary.assert_quiet()


def _record_edit(change: Callable[[dict[str, Any]], Any]) -> Mutation:
    def mutate(folder: Path, bird: Canary) -> None:
        path = folder / "results.jsonl"
        records = [json.loads(line) for line in path.read_text().splitlines()]
        changed = change(records[0])
        records[0] = records[0] if changed is None else changed
        path.write_text("".join(json.dumps(r) + "\n" for r in records))

    return mutate


RUN_MUTATIONS: dict[str, tuple[str, Mutation]] = {
    "summary-truncated": ("summary.json", _raw("summary.json", lambda t: t[: len(t) // 2])),
    "summary-list": ("summary.json", _raw("summary.json", lambda t: "[]")),
    "summary-metrics-list": (
        "summary.json",
        _json_edit("summary.json", lambda s, b: s.__setitem__("metrics", ["em"])),
    ),
    "summary-category-text": (
        "summary.json",
        _json_edit("summary.json", lambda s, b: s.__setitem__("by_category", {"a": "x"})),
    ),
    "run-truncated": ("run.json", _raw("run.json", lambda t: t[:10])),
    "run-chain-string": (
        "run.json",
        _json_edit("run.json", lambda m, b: m.__setitem__("chain", "os:system")),
    ),
    "run-models-numbers": (
        "run.json",
        _json_edit("run.json", lambda m, b: m.__setitem__("models", [1, 2])),
    ),
    "run-deep-nesting": ("run.json", _raw("run.json", lambda t: "[" * 200_000)),
    "results-record-list": ("results.jsonl", _record_edit(lambda r: [1, 2])),
    "results-id-object": ("results.jsonl", _record_edit(lambda r: r.__setitem__("id", {}))),
    "results-score-text": (
        "results.jsonl",
        _record_edit(lambda r: r.__setitem__("scores", {"em": {"em": "1"}})),
    ),
    "results-answers-numbers": (
        "results.jsonl",
        _record_edit(lambda r: r.__setitem__("answers", [1])),
    ),
    "results-prediction-string": (
        "results.jsonl",
        _record_edit(lambda r: r.__setitem__("prediction", "os:system")),
    ),
    "results-latency-text": (
        "results.jsonl",
        _record_edit(lambda r: r["prediction"].__setitem__("latency", "slow")),
    ),
    "results-huge-integer": (
        "results.jsonl",
        _raw("results.jsonl", lambda t: t.replace('"index": 0', '"index": ' + "9" * 5000)),
    ),
    "results-not-utf8": ("results.jsonl", _raw("results.jsonl", lambda t: b"\xff" + t.encode())),
    "results-truncated": ("results.jsonl", _raw("results.jsonl", lambda t: t[: len(t) // 3])),
}


@pytest.mark.parametrize("name", sorted(RUN_MUTATIONS))
def test_tampered_eval_run_folder(name: str, run_dir: Path, canary: Canary) -> None:
    from agentkit.evals.results import load_run

    file, mutate = RUN_MUTATIONS[name]
    mutate(run_dir, canary)
    with pytest.raises(AgentkitError) as caught:
        load_run(run_dir)
    message = str(caught.value)
    assert str(run_dir / file) in message, message
    canary.assert_quiet()


@pytest.mark.parametrize("name", ["summary-truncated", "run-chain-string", "results-score-text"])
def test_tampered_eval_run_through_the_cli(name: str, run_dir: Path, canary: Canary) -> None:
    file, mutate = RUN_MUTATIONS[name]
    mutate(run_dir, canary)
    result = cli("eval", "report", run_dir)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1, result.output
    assert lines[0].startswith("Error: ") and file in lines[0] and len(lines) == 2, lines


def test_a_chain_spec_recorded_in_run_json_is_never_loaded(run_dir: Path, canary: Canary) -> None:
    from agentkit.evals.results import load_run

    meta = json.loads((run_dir / "run.json").read_text())
    meta["chain"]["spec"] = _touch(canary)
    (run_dir / "run.json").write_text(json.dumps(meta))
    assert load_run(run_dir).meta["chain"]["spec"]["ref"] == "os:system"  # data, not code
    result = cli("eval", "report", run_dir)
    assert result.exit_code == 0, result.output
    canary.assert_quiet()


def _registry(change: Callable[[dict[str, Any]], Any]) -> Mutation:
    def mutate(root: Path, bird: Canary) -> None:
        path = root / "registry.json"
        data = json.loads(path.read_text())
        changed = change(data)
        path.write_text(json.dumps(data if changed is None else changed))

    return mutate


REGISTRY_MUTATIONS: dict[str, Mutation] = {
    "truncated": _raw("registry.json", lambda t: t[: len(t) // 2]),
    "list": _registry(lambda d: []),
    "adapters-list": _registry(lambda d: d.__setitem__("adapters", [])),
    "entry-string": _registry(lambda d: d["adapters"].__setitem__("bot", "os:system")),
    "path-number": _registry(lambda d: d["adapters"]["bot"].__setitem__("path", 5)),
    "manifest-string": _registry(
        lambda d: d["adapters"]["bot"].__setitem__("manifest", "os:system")
    ),
    "name-traversal": _registry(
        lambda d: d["adapters"].__setitem__("../../evil", d["adapters"]["bot"])
    ),
    "name-escape-codes": _registry(
        lambda d: d["adapters"].__setitem__("\x1b[31mred", d["adapters"]["bot"])
    ),
    "deep-nesting": _raw("registry.json", lambda t: '{"adapters": ' + "[" * 200_000),
}


@pytest.mark.parametrize("name", sorted(REGISTRY_MUTATIONS))
def test_tampered_adapter_registry(name: str, registry_root: Path, canary: Canary) -> None:
    from agentkit.finetune.embedder_registry import EmbedderRegistry
    from agentkit.finetune.registry import AdapterRegistry

    REGISTRY_MUTATIONS[name](registry_root, canary)
    for call in (lambda: AdapterRegistry(registry_root).get("bot"),
                 lambda: AdapterRegistry(registry_root).list(),
                 lambda: EmbedderRegistry(registry_root).list()):  # fmt: skip
        with pytest.raises(AgentkitError) as caught:
            call()
        assert str(registry_root / "registry.json") in str(caught.value)
        assert "\x1b" not in str(caught.value).replace("\\x1b", "")
    canary.assert_quiet()


CHAIN_MUTATIONS: dict[str, Callable[[Canary], str]] = {
    "ref-os-system": lambda b: f"ref: os:system\nargs: {{command: 'touch {b.file}'}}\n",
    "ref-string": lambda b: "os:getcwd\n",
    "function-tool": lambda b: "type: function_tool\nfn: os:system\n",
    "sequence-subprocess-first": lambda b: (
        "type: sequence\nsteps:\n"
        f"  - {{ref: 'subprocess:run', args: {{args: [touch, '{b.file}']}}}}\n"
        "  - {type: no_such_type}\n"
    ),
    "lambda-exec": lambda b: "type: lambda\nfn: builtins:exec\n",
    "lambda-eval": lambda b: "type: lambda\nfn: builtins:eval\n",
    "import-module": lambda b: "ref: importlib:import_module\nargs: {name: canary_import}\n",
    "rmtree": lambda b: f"ref: shutil:rmtree\nargs: {{path: '{b.precious}'}}\n",
    "canary-function": lambda b: "type: lambda\nfn: canary_mod:fire\n",
    "agentkit-spec-loader": lambda b: "type: lambda\nfn: agentkit.core.spec:load_file\n",
    "agentkit-file-writer": lambda b: (
        f"ref: agentkit.core.files:atomic_write_text\nargs: {{path: '{b.file}', text: 'x'}}\n"
    ),
    "agentkit-repl-runner": lambda b: "ref: agentkit.tools:PythonREPLTool\n",
    "agentkit-module-traversal": lambda b: "type: lambda\nfn: agentkit.llms.resolve:os.system\n",
    "agentkit-dunder": lambda b: (
        "type: lambda\nfn: agentkit.core.compose:Lambda.__init__.__globals__\n"
    ),
    "retry-on-os-system": lambda b: "type: retry\ninner: {type: passthrough}\non: [os.system]\n",
    "prompt-partial-function": lambda b: (
        "type: prompt\ntemplate: '{a}'\npartial_functions: {a: 'canary_mod:fire'}\n"
    ),
    "pydantic-model": lambda b: "type: pydantic_parser\nmodel: canary_mod:Model\n",
    "hf-remote-code": lambda b: f"type: hf_model\nsource: '{b.root}'\ntrust_remote_code: true\n",
    "agent-tool-ref": lambda b: (
        "type: react_agent\nmodel: {type: fake_list_model, responses: [hi]}\ntools: ['os:system']\n"
    ),
    "agent-tool-traversal": lambda b: (
        "type: react_agent\nmodel: {type: fake_list_model, responses: [hi]}\n"
        "tools: ['../../canary_mod:fire']\n"
    ),
    "python-tag": lambda b: f"!!python/object/apply:os.system ['touch {b.file}']\n",
    "fullwidth-module": lambda b: "type: lambda\nfn: \uff4f\uff53:system\n",
    "alias-bomb": lambda b: (
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
        + "type: sequence\nsteps: *i\n"
    ),
    "not-a-mapping": lambda b: "[1, 2, 3]\n",
    "deep-nesting": lambda b: "type: sequence\nsteps: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "huge-number": lambda b: "type: pick\nkeys: [" + "9" * 100_000 + "]\n",
    "not-utf8": lambda b: "type: lambda\nfn: \udcff\n",
    "truncated": lambda b: "type: sequence\nsteps: [{type: lamb",
}


@pytest.mark.parametrize("name", sorted(CHAIN_MUTATIONS))
def test_hostile_chain_yaml_is_refused(name: str, tmp_path: Path, canary: Canary) -> None:
    path = tmp_path / "chain.yaml"
    path.write_text(CHAIN_MUTATIONS[name](canary), encoding="utf-8", errors="surrogateescape")
    with pytest.raises(AgentkitError) as caught:
        agentkit.load(path)
    assert str(path) in str(caught.value), caught.value
    canary.assert_quiet()


@pytest.mark.parametrize("name", ["ref-os-system", "function-tool", "sequence-subprocess-first"])
def test_hostile_chain_yaml_through_the_cli(name: str, tmp_path: Path, canary: Canary) -> None:
    path = tmp_path / "chain.yaml"
    path.write_text(CHAIN_MUTATIONS[name](canary), encoding="utf-8")
    (tmp_path / "d.jsonl").write_text('{"id": "1", "question": "q", "answers": ["a"]}\n')
    result = cli("eval", "run", "--chain", path, "--dataset", tmp_path / "d.jsonl",
                 "--out", tmp_path / "run")  # fmt: skip
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1, result.output
    assert lines[0].startswith("Error: ") and "refusing to import" in lines[0], lines
    assert "--allow-imports" in lines[0] and len(lines) == 2
    canary.assert_quiet()


def test_finetune_yaml_errors_name_the_file(tmp_path: Path) -> None:
    from agentkit.finetune.jobs import SFTJob, read_config

    config = tmp_path / "job.yaml"
    for text, problem in [
        ("data: [unclosed", "not valid YAML"),
        ("- a\n- b\n", "must be a mapping"),
        ("data: d\noutput: o\nbase: b\nepochs: lots\n", "epochs must be a positive number"),
        ("data: d\noutput: o\nbase: b\nlora: [1]\n", "must be a mapping of LoRA options"),
        ("!!python/object/apply:os.system ['true']\n", "not valid YAML"),
    ]:
        config.write_text(text)
        with pytest.raises(AgentkitError, match=problem) as caught:
            SFTJob.from_dict(read_config(config), where=str(config))
        assert str(config) in str(caught.value)
    result = cli("finetune", "sft", "--config", config)
    assert result.exit_code == 1 and "job.yaml" in result.output.splitlines()[0]


def test_odd_summary_values_are_left_out_not_fatal(run_dir: Path, canary: Canary) -> None:
    from agentkit.evals.results import load_run

    summary = json.loads((run_dir / "summary.json").read_text())
    summary["metrics"]["em"] = "os:system"
    summary["timing"]["wall_s"] = [1]
    (run_dir / "summary.json").write_text(json.dumps(summary))
    loaded = load_run(run_dir)
    assert "em" not in loaded.summary["metrics"] and "f1" in loaded.summary["metrics"]
    assert "wall_s" not in loaded.summary["timing"]
    result = cli("eval", "report", run_dir)
    assert result.exit_code == 0, result.output
