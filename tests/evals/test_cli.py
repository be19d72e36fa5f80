from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentkit.cli import app
from agentkit.core.errors import UsageError

runner = CliRunner()
CHAIN = """type: sequence
steps:
- type: prompt
  template: 'Q: {question}'
- type: fake_list_model
  responses: ['4']
- type: str_parser
"""


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "chain.yaml").write_text(CHAIN)
    rows = [
        {"id": "a", "question": "2+2?", "answers": ["4"]},
        {"id": "b", "question": "3+3?", "answers": ["6"], "category": "sum"},
        {"id": "c", "question": "2+2 again?", "answers": ["four", "4"]},
    ]
    (tmp_path / "data.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    return tmp_path


def run(*args: str) -> object:
    return runner.invoke(app, list(args))


def test_run_report_and_compare(files: Path) -> None:
    out = files / "run1"
    result = run(
        "eval",
        "run",
        "--chain",
        str(files / "chain.yaml"),
        "--dataset",
        str(files / "data.jsonl"),
        "--metrics",
        "em,f1,tokens",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert "em" in result.stdout and f"report: {out / 'report.html'}" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["metrics"]["em"] == pytest.approx(2 / 3)
    assert summary["metrics"]["model_calls_sum"] == 3.0
    assert (out / "results.jsonl").exists() and (out / "report.html").exists()

    (out / "report.html").unlink()
    result = run("eval", "report", str(out))
    assert result.exit_code == 0 and (out / "report.html").exists()

    (files / "chain2.yaml").write_text(CHAIN.replace("['4']", "['6']"))
    out2 = files / "run2"
    result = run(
        "eval",
        "run",
        "--chain",
        str(files / "chain2.yaml"),
        "--dataset",
        str(files / "data.jsonl"),
        "--metrics",
        "em,f1,tokens",
        "--out",
        str(out2),
        "--no-report",
    )
    assert result.exit_code == 0, result.output
    result = run("eval", "compare", str(out), str(out2), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    em = next(d for d in data["deltas"] if d["key"] == "em")
    assert em["delta"] == pytest.approx(-1 / 3)
    assert data["flipped"]["em"]["n_gained"] == 1 and data["flipped"]["em"]["n_lost"] == 2
    table = run("eval", "compare", str(out), str(out2))
    assert table.exit_code == 0 and "95% CI" in table.stdout and "em: 1 gained" in table.stdout


def test_run_a_suite_with_relative_paths(files: Path) -> None:
    suite = files / "suites" / "toy.yaml"
    suite.parent.mkdir()
    suite.write_text(
        "name: toy\nchain: ../chain.yaml\ndataset: ../data.jsonl\nmetrics: [em, contains]\n"
        "concurrency: 2\nlimit: 2\nout: ../runs/toy\n"
    )
    result = run("eval", "run", "--suite", str(suite))
    assert result.exit_code == 0, result.output
    summary = json.loads((files / "runs" / "toy" / "summary.json").read_text())
    assert summary["examples"] == 2 and set(summary["metrics"]) == {"em", "contains"}
    meta = json.loads((files / "runs" / "toy" / "run.json").read_text())
    assert meta["suite"] == "toy" and meta["options"]["concurrency"] == 2


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--chain", "missing.yaml", "--dataset", "{d}"], "spec file missing.yaml does not exist"),
        (["--chain", "{c}", "--dataset", "nope.jsonl"], "dataset file nope.jsonl does not exist"),
        (["--chain", "{c}"], "give --suite FILE, or both --chain and --dataset"),
        (["--chain", "{c}", "--dataset", "{d}", "--metrics", "em,bogus"], "unknown metric 'bogus'"),
        (["--chain", "{c}", "--dataset", "{d}", "--resume"], "--resume needs --out"),
        (["--chain", "nomodule_xyz:f", "--dataset", "{d}"], "refusing to import 'nomodule_xyz:f'"),
        (
            ["--chain", "nomodule_xyz:f", "--dataset", "{d}", "--allow-imports"],
            "cannot import module 'nomodule_xyz'",
        ),
        (["--suite", "{s}"], "unknown field 'chian'"),
    ],
)
def test_run_errors_are_one_line_with_a_hint(files: Path, args: list[str], fragment: str) -> None:
    (files / "bad_suite.yaml").write_text("chian: x\ndataset: data.jsonl\nchain: chain.yaml\n")
    values = {
        "c": str(files / "chain.yaml"),
        "d": str(files / "data.jsonl"),
        "s": str(files / "bad_suite.yaml"),
    }
    result = run("eval", "run", *[a.format(**values) for a in args])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("Error: ") and lines[1].startswith("Hint: ")
    assert fragment in lines[0]


def test_bad_spec_type_names_the_field(files: Path) -> None:
    (files / "bad.yaml").write_text("type: sequence\nsteps:\n- type: promtp\n  template: x\n")
    result = run(
        "eval", "run", "--chain", str(files / "bad.yaml"), "--dataset", str(files / "data.jsonl")
    )
    assert result.exit_code == 1 and "$.steps[0].type: unknown type 'promtp'" in result.stderr


def test_debug_shows_the_traceback(files: Path) -> None:
    result = run(
        "--debug", "eval", "run", "--chain", "missing.yaml", "--dataset", str(files / "data.jsonl")
    )
    assert result.exit_code == 1 and isinstance(result.exception, UsageError)


def test_rerunning_into_a_finished_folder_asks_for_resume(files: Path) -> None:
    args = [
        "eval",
        "run",
        "--chain",
        str(files / "chain.yaml"),
        "--dataset",
        str(files / "data.jsonl"),
        "--metrics",
        "em",
        "--out",
        str(files / "r"),
        "--no-report",
    ]
    assert run(*args).exit_code == 0
    again = run(*args)
    assert again.exit_code == 1 and "pass --resume" in again.stderr
    resumed = run(*args, "--resume")  # nothing left to do: the summary is rewritten as is
    assert resumed.exit_code == 0, resumed.output
    assert len((files / "r" / "journal.jsonl").read_text().splitlines()) == 3


def test_judge_metrics_through_the_command_line(files: Path) -> None:
    (files / "judge.yaml").write_text(
        'type: fake_list_model\nresponses: ["Same number.\\nGRADE: CORRECT", "GRADE: INCORRECT"]\n'
    )
    out = files / "judged"
    result = run(
        "eval",
        "run",
        "--chain",
        str(files / "chain.yaml"),
        "--dataset",
        str(files / "data.jsonl"),
        "--metrics",
        "correct",
        "--judge",
        str(files / "judge.yaml"),
        "--concurrency",
        "1",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert [r["scores"]["correct"]["correct"] for r in records] == [1.0, 0.0, 1.0]
    assert records[0]["notes"]["correct"] == "Same number."
    assert "Same number." in (out / "report.html").read_text()


@pytest.mark.parametrize(
    ("args", "option", "allowed"),
    [
        (["run", "--timeout", "nan"], "--timeout", "a finite number > 0 and <= 86400"),
        (["run", "--timeout", "inf"], "--timeout", "a finite number > 0"),
        (["run", "--timeout", "0"], "--timeout", "> 0"),
        (["run", "--timeout", "-1"], "--timeout", "> 0"),
        (["run", "--concurrency", "0"], "--concurrency", "1"),
        (["run", "--concurrency", "100000"], "--concurrency", "1024"),
        (["run", "--retries", "-1"], "--retries", "0"),
        (["run", "--retries", "1000000"], "--retries", "100"),
        (["run", "--seed", "-5"], "--seed", "0"),
        (["run", "--seed", str(2**64)], "--seed", str(2**32 - 1)),
        (["run", "--limit", "0"], "--limit", "1"),
        (["run", "--sample", "-3"], "--sample", "1"),
        (["compare", "a", "b", "--resamples", str(10**12)], "--resamples", "1000000"),
        (["compare", "a", "b", "--resamples", "10"], "--resamples", "100"),
        (["compare", "a", "b", "--seed", "-1"], "--seed", "0"),
    ],
)
def test_numeric_options_are_checked_before_anything_runs(
    files: Path, args: list[str], option: str, allowed: str
) -> None:
    """``--timeout nan`` made every example fail (exit 0); ``--resamples 10**12`` died with
    MemoryError. Out-of-range values now stop at the option, naming it and the range."""
    common = ["--chain", str(files / "chain.yaml"), "--dataset", str(files / "data.jsonl")]
    extra = [*common, "--out", str(files / "never")] if args[0] == "run" else []
    result = runner.invoke(app, ["eval", *args, *extra])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.replace("│", " ").split())
    assert f"Invalid value for '{option}'" in text
    assert allowed in text
    assert not (files / "never").exists()


def test_run_and_compare_print_control_characters_as_escapes(files: Path) -> None:
    evil = files / "run\x1b]0;pwned\x07\x1b[31m"
    args = ["--chain", str(files / "chain.yaml"), "--dataset", str(files / "data.jsonl")]
    result = run("eval", "run", *args, "--out", str(evil), "--no-report")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    output = result.output  # type: ignore[attr-defined]
    assert "\x1b" not in output and "\x07" not in output
    assert "run\\x1b]0;pwned\\x07\\x1b[31m" in output
    compared = run("eval", "compare", str(evil), str(evil))
    assert compared.exit_code == 0, compared.output  # type: ignore[attr-defined]
    assert "\x1b" not in compared.output and "\\x1b" in compared.output  # type: ignore[attr-defined]
