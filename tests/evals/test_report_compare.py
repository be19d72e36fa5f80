from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agentkit.core.compose import Lambda
from agentkit.core.errors import UsageError
from agentkit.evals import Dataset, EvalRun, Example, build_metrics, load_run, run_eval
from agentkit.evals.compare import bootstrap_ci, compare
from agentkit.evals.report import render_report, report_run

EVIL = '<script>alert("x")</script>'


def dataset(n: int) -> Dataset:
    examples = [
        Example(f"q{i}", f"Question {i} <b>bold</b>?", (str(i),), category=f"cat<{i % 3}>")
        for i in range(n)
    ]
    return Dataset(examples, path="toy.jsonl", sha256="f" * 64)


def test_report_escapes_model_output_and_is_self_contained(tmp_path: Path) -> None:
    def answer(question: str) -> str:
        n = question.split()[1]
        return n if int(n) % 2 else f"{EVIL} {n}x"

    run = run_eval(
        Lambda(answer, name="answer<chain>"),
        dataset(12),
        build_metrics("em,f1,latency"),
        tmp_path / "run",
    )
    html = (tmp_path / "run" / "report.html").read_text()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    from agentkit.evals.report import FILTER_JS

    assert html.lower().count("<script") == 1 and f"<script>{FILTER_JS}</script>" in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "cat&lt;0&gt;" in html and "<0>" not in html
    assert not re.search(r"(src|href)\s*=", html, re.IGNORECASE)  # nothing fetched
    assert "<link" not in html.lower() and "@import" not in html
    assert html.count("<svg") >= 3  # f1 distribution, latency histogram, per-category bars
    assert "Worst examples by f1" in html and "answer&lt;chain&gt;" in html
    # the worst examples come with their traces
    worst = html.split("Worst examples by f1")[1]
    assert "<details><summary>trace</summary>" in worst
    assert run.report_path == tmp_path / "run" / "report.html"


def test_report_command_rewrites_a_report(tmp_path: Path) -> None:
    run_eval(
        Lambda(lambda q: q.split()[1]),
        dataset(3),
        build_metrics("em"),
        tmp_path / "r",
        report=False,
    )
    assert not (tmp_path / "r" / "report.html").exists()
    path = report_run(tmp_path / "r")
    assert path.exists() and "Eval report" in path.read_text()
    with pytest.raises(UsageError, match="not a finished eval run"):
        report_run(tmp_path)


def synthetic(scores: list[tuple[str, float, float]]) -> EvalRun:
    records = [
        {
            "id": i,
            "question": i,
            "answers": [],
            "prediction": {"text": ""},
            "scores": {"em": {"em": em}, "f1": {"f1": f1}},
        }
        for i, em, f1 in scores
    ]
    return EvalRun(records, {"metrics": {}})


def test_compare_paired_bootstrap_and_flips() -> None:
    n = 400
    a = synthetic([(f"e{i}", float(i % 2), 0.5) for i in range(n)])
    # B gains 40 examples on em (odd -> all good for i < 80) and +0.1 f1 everywhere
    b = synthetic([(f"e{i}", 1.0 if i < 80 else float(i % 2), 0.6) for i in range(n)])
    result = compare(a, b, seed=1)
    em = next(d for d in result.deltas if d.key == "em")
    assert em.delta == pytest.approx(40 / n) and em.examples == n
    assert em.low < 40 / n < em.high and em.low > 0 and em.significant
    f1 = next(d for d in result.deltas if d.key == "f1")
    assert f1.low == pytest.approx(0.1) and f1.high == pytest.approx(0.1)
    flips = result.flipped["em"]
    assert flips.n_gained == 40 and flips.n_lost == 0 and flips.gained[0] == "e0"
    assert "f1" not in result.flipped  # not a 0/1 score
    again = compare(a, b, seed=1)
    assert (again.deltas[0].low, again.deltas[0].high) == (
        result.deltas[0].low,
        result.deltas[0].high,
    )
    assert json.loads(json.dumps(result.to_dict()))["deltas"][0]["significant"] is True


def test_compare_no_difference_interval_contains_zero() -> None:
    a = synthetic([(f"e{i}", float(i % 2), 0.5) for i in range(200)])
    # flip i % 4 == 0 (0 -> 1) and i % 4 == 1 (1 -> 0): 50 gains, 50 losses
    b = synthetic([(f"e{i}", float((i % 2 == 1) != (i % 4 in (0, 1))), 0.5) for i in range(200)])
    em = next(d for d in compare(a, b).deltas if d.key == "em")
    assert em.delta == 0.0 and em.low < 0 < em.high and not em.significant
    assert compare(a, b).flipped["em"].n_gained == compare(a, b).flipped["em"].n_lost == 50


def test_compare_requires_shared_examples_and_loads_folders(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="share no example"):
        compare(synthetic([("a", 1.0, 1.0)]), synthetic([("b", 1.0, 1.0)]))
    low, high = bootstrap_ci([1.0, 1.0, 1.0])
    assert low == high == 1.0
    run_eval(Lambda(lambda q: q.split()[1]), dataset(5), build_metrics("em"), tmp_path / "a")
    run_eval(Lambda(lambda q: "?"), dataset(5), build_metrics("em"), tmp_path / "b")
    result = compare(tmp_path / "a", tmp_path / "b")
    assert result.deltas[0].delta == -1.0 and result.flipped["em"].n_lost == 5
    assert load_run(tmp_path / "a").summary["metrics"]["em"] == 1.0


def test_render_report_of_an_empty_metric_run() -> None:
    html = render_report(EvalRun([], {"metrics": {}}, {}))
    assert html.startswith("<!DOCTYPE html>") and "Eval report" in html


def test_a_corrupt_summary_or_run_file_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "results.jsonl").write_text("")
    (folder / "summary.json").write_text('{"metrics": {"em": 1')  # torn write
    with pytest.raises(UsageError, match=r"summary\.json cannot be read"):
        load_run(folder)
    (folder / "summary.json").write_text("{}")
    (folder / "run.json").write_text("[1, 2]")
    with pytest.raises(UsageError, match=r"run\.json is not a JSON object"):
        load_run(folder)
