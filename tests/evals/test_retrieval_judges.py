from __future__ import annotations

import json
import math

import pytest

from agentkit.core.errors import UsageError
from agentkit.evals.metrics import (
    ContextRelevance,
    Correctness,
    Cost,
    Faithfulness,
    Latency,
    Perplexity,
    RetrievalMetrics,
    Tokens,
    build_metrics,
)
from agentkit.evals.metrics.judges import parse_grade
from agentkit.evals.records import Example, Prediction
from agentkit.llms import FakeListModel


def test_retrieval_metrics_by_hand() -> None:
    ex = Example("e", "q", ("a",), relevant_ids=("d2", "d9"))
    pred = Prediction(retrieved_ids=["d1", "d2", "d2", "d3", "d9"])  # duplicate d2 dropped
    got = RetrievalMetrics(ks=(1, 3)).score(ex, pred)
    assert got["hit@1"] == 0.0 and got["hit@3"] == 1.0
    assert got["recall@1"] == 0.0 and got["recall@3"] == 0.5
    assert got["mrr"] == 0.5
    ideal = 1 + 1 / math.log2(3)
    assert got["ndcg@3"] == pytest.approx((1 / math.log2(3)) / ideal)
    assert got["ndcg@1"] == 0.0
    assert RetrievalMetrics().score(Example("e", "q"), pred) == {}
    with pytest.raises(UsageError, match="cut-offs"):
        RetrievalMetrics(ks=(0,))


def test_correctness_keeps_the_rationale() -> None:
    judge = FakeListModel(["The student says Paris, which matches.\nGRADE: CORRECT"])
    metric = Correctness(judge)
    scores = metric.score(Example("e", "Capital of France?", ("Paris",)), Prediction("Paris"))
    assert scores == {"correct": 1.0, "correct_error": 0.0}
    assert scores.notes["correct"] == "The student says Paris, which matches."  # type: ignore[attr-defined]
    prompt = judge.calls[0][0].content
    assert "STUDENT ANSWER: Paris" in prompt and "TRUE ANSWER: Paris" in prompt


def test_grade_parsing() -> None:
    assert parse_grade("reasons\nGRADE: INCORRECT") == (False, "reasons")
    assert parse_grade("grade: **correct**")[0] is True
    assert parse_grade("I think this is INCORRECT")[0] is False
    assert parse_grade("no idea")[0] is None


def test_unparsable_judge_reply_is_recorded_not_raised() -> None:
    metric = Correctness(FakeListModel(["no idea"]))
    scores = metric.score(Example("e", "q", ("a",)), Prediction("a"))
    assert scores == {"correct_error": 1.0}
    assert "no idea" in scores.notes["correct"]  # type: ignore[attr-defined]


def test_faithfulness_is_the_supported_fraction() -> None:
    statements = json.dumps({"statements": ["Paris is in France.", "Paris has 90M people."]})
    verdicts = json.dumps(
        {
            "verdicts": [
                {"statement": "a", "reason": "stated", "verdict": 1},
                {"statement": "b", "reason": "not stated", "verdict": 0},
            ]
        }
    )
    judge = FakeListModel([statements, verdicts])
    scores = Faithfulness(judge).score(
        Example("e", "q", ("Paris",)),
        Prediction("Paris is in France and has 90M people.", contexts=["Paris is in France."]),
    )
    assert scores["faithfulness"] == 0.5
    assert "[unsupported] Paris has 90M people. (not stated)" in scores.notes["faithfulness"]  # type: ignore[attr-defined]
    assert "Paris is in France." in judge.calls[1][0].content  # the context reached the judge
    assert Faithfulness(judge).score(Example("e", "q"), Prediction("")) == {}


def test_faithfulness_wrong_verdict_count_is_a_judge_error() -> None:
    judge = FakeListModel(['{"statements": ["a", "b"]}', '{"verdicts": [{"verdict": 1}]}'])
    scores = Faithfulness(judge).score(Example("e", "q"), Prediction("x", contexts=["c"]))
    assert scores == {"faithfulness_error": 1.0}


def test_context_relevance_counts_sentences() -> None:
    judge = FakeListModel(['```json\n{"relevant": [1, 3, 3, 9], "reason": "r"}\n```'])
    ctx = ["Paris is the capital. It rains. France is in Europe.", "Cats purr."]
    scores = ContextRelevance(judge).score(Example("e", "q"), Prediction("x", contexts=ctx))
    assert scores["context_relevance"] == pytest.approx(2 / 4)  # 4 sentences, 1 and 3 valid
    assert "4. Cats purr." in judge.calls[0][0].content


def test_latency_tokens_and_cost_from_spans() -> None:
    spans = [
        {"id": "1", "parent_id": None, "kind": "chain", "name": "qa", "usage": None},
        {
            "id": "2",
            "parent_id": "1",
            "kind": "model",
            "name": "m1",
            "usage": {"prompt_tokens": 1000, "completion_tokens": 10},
        },
        {
            "id": "3",
            "parent_id": "2",
            "kind": "model",
            "name": "inner",
            "usage": {"prompt_tokens": 5, "completion_tokens": 5},
        },  # nested: not counted
        {
            "id": "4",
            "parent_id": "1",
            "kind": "model",
            "name": "m2",
            "usage": {"prompt_tokens": 2000, "completion_tokens": 0},
        },
    ]
    pred = Prediction("x", latency=0.5, ttft=0.1, spans=spans)
    ex = Example("e", "q")
    assert Tokens().score(ex, pred) == {
        "prompt_tokens": 3000.0,
        "completion_tokens": 10.0,
        "total_tokens": 3010.0,
        "model_calls": 2.0,
    }
    cost = Cost({"m1": {"input": 1.0, "output": 100.0}})
    assert cost.score(ex, pred) == {
        "cost_usd": pytest.approx(0.001 + 0.001),
        "unpriced_models": 1.0,
    }
    star = Cost({"m1": {"input": 1.0, "output": 100.0}, "*": {"input": 0.5}})
    assert star.score(ex, pred)["cost_usd"] == pytest.approx(0.002 + 0.001)
    with pytest.raises(UsageError, match="price of 'm'"):
        Cost({"m": {"inp": 1}})
    latency = Latency()
    rows = [latency.score(ex, Prediction(latency=float(i))) for i in range(1, 101)]
    summary = latency.aggregate(rows)
    assert summary["latency_p50"] == pytest.approx(50.5)
    assert summary["latency_p95"] == pytest.approx(95.05)
    assert summary["latency_p99"] == pytest.approx(99.01)
    assert latency.score(ex, pred) == {"latency_s": 0.5, "ttft_s": 0.1}


def test_perplexity_calls_the_model() -> None:
    class LM:
        def __init__(self) -> None:
            self.seen: list[list[str]] = []

        def perplexity(self, texts: list[str]) -> list[float]:
            self.seen.append(list(texts))
            return [float(len(t)) for t in texts]

    lm = LM()
    assert Perplexity(lm).score(Example("e", "q", ("abcd",)), Prediction("xy")) == {
        "perplexity": 4.0
    }
    assert Perplexity(lm, on="prediction").score(Example("e", "q"), Prediction("xy")) == {
        "perplexity": 2.0
    }
    assert lm.seen == [["abcd"], ["xy"]]
    with pytest.raises(UsageError, match="perplexity"):
        Perplexity(object())


def test_build_metrics_names_and_errors() -> None:
    names = [m.name for m in build_metrics("squad, contains,hit,mrr,rouge")]
    assert names == ["em", "f1", "contains", "retrieval", "rouge"]
    with pytest.raises(UsageError, match="unknown metric 'emm'"):
        build_metrics("emm")
    with pytest.raises(UsageError, match="needs a judge model"):
        build_metrics("correct")
    assert build_metrics(["em"], v2=True)[0].v2  # type: ignore[attr-defined]
