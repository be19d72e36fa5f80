"""Evals a person can read: the legend and compact table everywhere metrics show, progress
while a suite index is built, data found or a download hint, compare's warmth warning and
A/B order, the folded HTML report, one duplicate warning line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentkit.cli import app
from agentkit.core.compose import Lambda
from agentkit.core.errors import UsageError
from agentkit.evals import Dataset, Example, build_metrics, run_eval
from agentkit.evals.compare import compare
from agentkit.evals.data_home import find_data
from agentkit.evals.legend import compact, focus, legend, meaning
from agentkit.evals.report import FOLD_ROWS, render_report
from agentkit.evals.suites import cached_index
from agentkit.retrievers.document import Document
from agentkit.retrievers.embeddings import HashingEmbedder

runner = CliRunner()
SUMMARY = {
    "examples": 3,
    "metrics": {
        "em": 0.0,
        "f1": 0.3,
        "contains": 1.0,
        "prompt_tokens": 12.0,
        "prompt_tokens_sum": 36.0,
        "correct_error": 0.0,
    },
    "timing": {"latency_p50": 0.2, "latency_p95": 0.4, "latency_mean": 0.25, "wall_s": 1.0},
}


def records(prediction: str) -> list[dict[str, Any]]:
    return [{"answers": ["Denver Broncos"], "prediction": {"text": prediction}}] * 3


def test_compact_keeps_means_and_moves_sums_tokens_and_timing_to_details() -> None:
    main, details = compact(SUMMARY)
    assert list(main) == ["em", "f1", "contains", "latency_p50", "latency_p95"]
    assert set(details) == {
        "prompt_tokens",
        "prompt_tokens_sum",
        "correct_error",
        "latency_mean",
        "wall_s",
    }


def test_legend_explains_each_metric_and_picks_those_that_matter() -> None:
    sentence = "The Denver Broncos defeated the Carolina Panthers 24 to 10 in Super Bowl 50."
    line = legend(SUMMARY, records(sentence))
    assert "\n" not in line
    assert "em = exact match" in line and "f1 = word overlap" in line
    assert "Matter here: contains, f1 (answers are sentences" in line
    short = legend(SUMMARY, records("Broncos"))
    assert "Matter here: em, f1" in short
    retrieval = {"metrics": {"hit@1": 0.5, "ndcg@10": 0.6, "mrr": 0.55}, "timing": {}}
    assert focus(retrieval)[0] == ["ndcg@10", "mrr", "hit@1"]
    assert meaning("recall@100") == "share of relevant documents in the top 100"
    assert meaning("latency_p95") == "seconds per example, p95 percentile"
    assert meaning("cost_usd_sum") == "total US dollars over the run"
    assert meaning("no-such<metric>") is None
    assert legend({"metrics": "garbage", "timing": None}) == ""  # hostile summary: no crash


@pytest.fixture
def files(tmp_path: Path) -> Path:
    chain = "type: sequence\nsteps:\n- type: prompt\n  template: 'Q: {question}'\n"
    chain += "- type: fake_list_model\n  responses: ['4']\n- type: str_parser\n"
    (tmp_path / "chain.yaml").write_text(chain)
    rows = [{"id": f"r{i}", "question": "2+2?", "answers": ["4", "4", "four"]} for i in range(42)]
    (tmp_path / "data.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    return tmp_path


def cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_cli_run_and_show_print_the_compact_table_legend_and_details(files: Path) -> None:
    out = files / "run"
    args = ["--chain", str(files / "chain.yaml"), "--dataset", str(files / "data.jsonl")]
    result = cli("eval", "run", *args, "--metrics", "em,f1,tokens,latency", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "em = exact match" in result.stdout and "Matter here: em, f1" in result.stdout
    assert "_sum" not in result.stdout  # sums live in the details
    assert f"agentkit eval show {out}" in result.stdout
    # 41 repeated questions: one warning line, not 41
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning")]
    assert len(warnings) == 1 and "41 questions repeat an earlier one" in warnings[0]

    shown = cli("eval", "show", str(out))
    assert shown.exit_code == 0, shown.output
    assert "details: " in shown.stdout and "model_calls_sum 42" in shown.stdout
    assert "start: llm_cache: off, index: opened" in shown.stdout
    assert json.loads((out / "run.json").read_text())["warmth"]["llm_cache"] == "off"

    html = (out / "report.html").read_text()
    assert "em = exact match" in html and "<summary>Sums, tokens and timing</summary>" in html
    assert "<td>4 | four</td>" in html  # gold answers once each


@pytest.mark.parametrize("command", ["report", "show"])
def test_missing_run_folder_says_it_does_not_exist(command: str, tmp_path: Path) -> None:
    result = cli("eval", command, str(tmp_path / "missing"))
    assert result.exit_code == 1
    assert f"run folder {tmp_path / 'missing'} does not exist" in result.stderr


def run_to(folder: Path, answers: dict[str, str], warmth: dict[str, str] | None) -> Path:
    examples = [Example(q, f"question {q}", (a,)) for q, a in answers.items()]
    run_eval(
        Lambda(lambda question: "yes"),
        Dataset(examples, path="toy.jsonl", sha256="0" * 64),
        build_metrics("em,latency"),
        folder,
        meta={"warmth": warmth} if warmth else None,
        report=False,
    )
    return folder


def test_compare_warns_on_warmth_prints_a_before_b_and_empty_parts(tmp_path: Path) -> None:
    a = run_to(tmp_path / "a", {"1": "yes", "2": "no"}, {"llm_cache": "cold", "index": "opened"})
    b = run_to(tmp_path / "b", {"1": "yes", "2": "no"}, {"llm_cache": "warm", "index": "opened"})
    result = compare(a, b, resamples=100)
    assert result.a == str(a) and result.b == str(b)
    assert len(result.warnings) == 1 and "llm_cache: A cold, B warm" in result.warnings[0]
    printed = cli("eval", "compare", str(a), str(b), "--resamples", "100")
    assert printed.exit_code == 0, printed.output
    lines = printed.stdout.splitlines()
    assert lines[0] == f"A: {a}" and lines[1] == f"B: {b}"
    assert "no pass/fail score changed between A and B" in printed.stdout
    assert "warning: latency: the runs started at another cache warmth" in printed.stderr
    header = next(line for line in lines if "delta (B - A)" in line)
    assert header.index(" A ") < header.index(" B ")
    same = compare(a, run_to(tmp_path / "c", {"1": "yes", "2": "no"}, None), resamples=100)
    assert "run B did not record its cache warmth" in same.warnings[0]


def test_data_found_through_the_env_folder_else_a_download_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENTKIT_SHARED_DATA", raising=False)
    monkeypatch.setattr("agentkit.evals.data_home.CHECKOUT_DATA", tmp_path / "no-shared")
    monkeypatch.setenv("AGENTKIT_DATA_DIR", str(tmp_path))
    (tmp_path / "scifact-beir").mkdir()
    yaml_path = tmp_path / "elsewhere" / "shared" / "data" / "scifact-beir"
    assert find_data(yaml_path) == tmp_path / "scifact-beir"
    assert find_data("anything", explicit=tmp_path / "scifact-beir") == tmp_path / "scifact-beir"
    with pytest.raises(UsageError) as info:
        find_data("squad-v1.1-dev/dev-v1.1.json.gz")
    text = str(info.value)
    assert str(tmp_path / "squad-v1.1-dev" / "dev-v1.1.json.gz") in text  # where it looked
    assert "https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v1.1.json" in text
    assert "sha256:95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9" in text
    assert "does not exist" not in text
    with pytest.raises(UsageError, match="md5:5f7d1de60b170fc8027bb7898e2efca1"):
        find_data("x", explicit=tmp_path / "../../nope/scifact-beir")  # hostile explicit path


def test_suite_index_build_reports_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = [Document(f"text number {i}", id=f"d{i}") for i in range(600)]
    seen: list[tuple[int, int]] = []
    cached_index(
        lambda: docs, tmp_path / "idx", HashingEmbedder(32), lambda d, t: seen.append((d, t))
    )
    assert seen == [(256, 600), (512, 600), (600, 600)]
    assert "building the index of 600 documents" in capsys.readouterr().err
    cached_index(lambda: docs, tmp_path / "idx2", HashingEmbedder(32))  # default: lines on stderr
    err = capsys.readouterr().err
    assert "256/600 embedded (43%" in err and "600/600 embedded (100%" in err


def test_report_titles_with_the_suite_and_folds_long_lists(tmp_path: Path) -> None:
    n = FOLD_ROWS + 5
    examples = [Example(f"q{i}", f"question {i}", ("a", "a", "b")) for i in range(n)]
    run = run_eval(
        Lambda(lambda question: "a"),
        Dataset(examples, path="toy.jsonl", sha256="0" * 64),
        build_metrics("em,f1"),
        tmp_path / "run",
        meta={"suite": "my<suite>"},
    )
    html = render_report(run)
    assert "<title>my&lt;suite&gt;: " in html and "<h1>my&lt;suite&gt;: " in html
    assert f"<summary>Show all {n} rows</summary>" in html
    assert 'class="filter"' in html and "<td>a | b</td>" in html and "a | a" not in html
    worst = html.split("Worst examples by f1")[1].split("All examples")[0]
    assert worst.count('<details class="ex" open>') == 3
    assert worst.count('<details class="ex">') == 17
