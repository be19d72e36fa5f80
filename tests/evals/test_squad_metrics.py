from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentkit.cli import app
from agentkit.evals.metrics import F1, AnswerContainment, ExactMatch, normalize_answer
from agentkit.evals.metrics.squad import f1
from agentkit.evals.records import Example, Prediction

runner = CliRunner()

TOY_V2 = {
    "version": "v2.0",
    "data": [
        {
            "title": "Normans",
            "paragraphs": [
                {
                    "context": "The Normans were in Normandy. Rollo the Viking led them.",
                    "qas": [
                        {
                            "id": "a1",
                            "question": "Where?",
                            "is_impossible": False,
                            "answers": [{"text": "Normandy", "answer_start": 20}],
                        },
                        {
                            "id": "a2",
                            "question": "Who ruled in 3000?",
                            "is_impossible": True,
                            "answers": [],
                            "plausible_answers": [{"text": "Rollo", "answer_start": 30}],
                        },
                        {
                            "id": "a3",
                            "question": "Who ruled Mars?",
                            "is_impossible": True,
                            "answers": [],
                        },
                        {
                            "id": "a4",
                            "question": "Who led?",
                            "is_impossible": False,
                            "answers": [
                                {"text": "Rollo", "answer_start": 30},
                                {"text": "Rollo the Viking", "answer_start": 30},
                            ],
                        },
                    ],
                }
            ],
        }
    ],
}


def test_normalisation_is_the_official_one() -> None:
    assert normalize_answer("The  Quick, brown FOX!") == "quick brown fox"
    assert normalize_answer("an apple a day") == "apple day"
    assert normalize_answer("theatre") == "theatre"  # articles only as whole words


def test_f1_v1_and_v2_rules_for_empty_answers() -> None:
    assert f1("in Normandy", "Normandy") == pytest.approx(2 / 3)
    assert f1("", "") == 0.0  # v1.1: no overlap scores 0
    assert f1("", "", v2=True) == 1.0  # v2.0: both empty is a match
    assert f1("x", "", v2=True) == 0.0


def test_metric_classes_score_unanswerable_as_v2() -> None:
    unanswerable = Example("u", "q", ())
    assert ExactMatch().score(unanswerable, Prediction("")) == {"em": 1.0}
    assert F1().score(unanswerable, Prediction("something")) == {"f1": 0.0}
    ex = Example("e", "q", ("Rollo", "Rollo the Viking"))
    assert ExactMatch().score(ex, Prediction("the Rollo")) == {"em": 1.0}
    assert F1().score(ex, Prediction("Rollo the Dane")) == {"f1": pytest.approx(2 / 3)}


def test_answer_containment() -> None:
    ex = Example("e", "q", ("Denver Broncos",))
    assert AnswerContainment().score(ex, Prediction("The denver broncos won.")) == {"contains": 1.0}
    assert AnswerContainment().score(ex, Prediction("Denver Broncosx")) == {"contains": 0.0}
    in_ctx = AnswerContainment(in_contexts=True)
    assert in_ctx.score(ex, Prediction("", contexts=["x", "the Denver Broncos"])) == {
        "context_contains": 1.0
    }
    assert AnswerContainment().score(Example("u", "q", ()), Prediction("x")) == {}


def test_score_command_on_a_v2_toy_file(tmp_path: Path) -> None:
    data = tmp_path / "toy.json"
    data.write_text(json.dumps(TOY_V2))
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps({"a1": "in Normandy", "a2": "", "a3": "Rollo", "a4": "the Rollo"}))
    result = runner.invoke(
        app, ["eval", "score", "--dataset", str(data), "--predictions", str(preds), "--json"]
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    # hand-computed: EM a1 0, a2 1, a3 0, a4 1; F1 a1 2/3 (1 of 2 tokens), a2 1, a3 0, a4 1
    assert scores["exact_match"] == pytest.approx(50.0)
    assert scores["f1"] == pytest.approx(100 * (2 / 3 + 1 + 0 + 1) / 4)
    assert scores["HasAns_exact"] == pytest.approx(50.0)
    assert scores["HasAns_f1"] == pytest.approx(100 * (2 / 3 + 1) / 2)
    assert scores["NoAns_exact"] == pytest.approx(50.0) and scores["NoAns_f1"] == pytest.approx(
        50.0
    )
    assert (scores["HasAns_total"], scores["NoAns_total"], scores["total"]) == (2, 2, 4)


def test_score_command_counts_missing_predictions_as_zero(tmp_path: Path) -> None:
    data = tmp_path / "toy.json"
    data.write_text(json.dumps(TOY_V2))
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps({"a4": "Rollo", "zzz": "x"}))
    result = runner.invoke(
        app, ["eval", "score", "--dataset", str(data), "--predictions", str(preds), "--json"]
    )
    scores = json.loads(result.stdout)
    assert scores["exact_match"] == pytest.approx(25.0)
    assert (scores["missing"], scores["unknown_ids"]) == (3, 1)


def test_score_command_rejects_bad_predictions(tmp_path: Path) -> None:
    data = tmp_path / "toy.json"
    data.write_text(json.dumps(TOY_V2))
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps({"a1": 3}))
    result = runner.invoke(
        app, ["eval", "score", "--dataset", str(data), "--predictions", str(preds)]
    )
    assert result.exit_code == 1
    assert "the answer for id 'a1' is int" in result.stderr and "Hint:" in result.stderr


def test_golden_squad_v11_reference_predictions(shared_data: Path) -> None:
    squad = shared_data / "squad-v1.1-dev"
    result = runner.invoke(
        app,
        [
            "eval",
            "score",
            "--dataset",
            str(squad / "dev-v1.1.json.gz"),
            "--predictions",
            str(squad / "reference_predictions" / "bert_ensemble_google.json.gz"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert round(scores["exact_match"], 3) == 86.206
    assert round(scores["f1"], 3) == 92.196
    assert scores["total"] == 10570 and scores["missing"] == 0 and scores["version"] == "1.1"
