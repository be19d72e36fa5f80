"""Where the eval harness meets chains: resuming with another chain or other examples,
chain outputs the harness cannot read, and failures on single examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentkit.core.compose import Lambda
from agentkit.core.errors import UsageError, WiringError
from agentkit.evals import Dataset, Example, build_metrics, run_eval
from agentkit.evals.mapping import read_output
from agentkit.llms import FakeListModel


def examples(n: int = 6, answer: str | None = None) -> list[Example]:
    return [Example(f"q{i}", f"What is {i}?", (answer or str(i),)) for i in range(n)]


def number_of(question: str) -> str:
    return question.split()[-1].rstrip("?")


def test_resuming_with_another_chain_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "r"
    data = Dataset(examples(), path="mem.jsonl", sha256="0" * 64)
    metrics = build_metrics("em,f1")
    run_eval(FakeListModel(responses=["0"]), data, metrics, out, limit=3, report=False)
    journal = (out / "journal.jsonl").read_text()
    with pytest.raises(UsageError, match="different chain") as info:
        run_eval(FakeListModel(responses=["zzz"]), data, metrics, out, resume=True)
    assert "another --out" in str(info.value)
    assert (out / "journal.jsonl").read_text() == journal  # nothing was mixed in
    # the same chain (built again) resumes, and run.json records the whole selection
    resumed = run_eval(FakeListModel(responses=["0"]), data, metrics, out, resume=True)
    assert [r["prediction"]["text"] for r in resumed.records] == ["0"] * 6
    assert json.loads((out / "run.json").read_text())["selection"]["n"] == 6


def test_resuming_with_changed_examples_is_refused(tmp_path: Path) -> None:
    # an in-memory dataset has no file hash: the journal's records are checked instead
    out = tmp_path / "r"
    metrics = build_metrics("em")
    chain = Lambda(number_of)
    run_eval(chain, Dataset(examples()), metrics, out, limit=3, report=False)
    changed = Dataset(examples(answer="other"))
    with pytest.raises(UsageError, match=r"q0.*changed"):
        run_eval(chain, changed, metrics, out, resume=True)
    resumed = run_eval(chain, Dataset(examples()), metrics, out, resume=True)
    assert resumed.summary["metrics"]["em"] == 1.0 and len(resumed.records) == 6


def test_an_output_map_failing_on_one_example_is_recorded_not_fatal(tmp_path: Path) -> None:
    def chain(question: str) -> dict[str, Any]:
        n = number_of(question)
        return {"oops": n} if n == "3" else {"answer": n}

    def output_map(output: dict[str, Any]) -> dict[str, Any]:
        return {"text": output["answer"]}

    run = run_eval(
        Lambda(chain),
        Dataset(examples()),
        build_metrics("em"),
        tmp_path / "r",
        output_map=output_map,
        concurrency=2,
    )
    assert [r["id"] for r in run.records] == [f"q{i}" for i in range(6)]
    assert run.summary["errors"] == 1
    failed = run.records[3]["prediction"]
    assert failed["error"].startswith("KeyError") and failed["text"] == ""
    assert run.summary["metrics"]["em"] == pytest.approx(5 / 6)
    lines = (tmp_path / "r" / "results.jsonl").read_text().splitlines()
    assert len(lines) == 6


def test_a_dict_output_without_a_known_key_names_its_keys() -> None:
    with pytest.raises(WiringError, match=r"answer_text.*output_map"):
        read_output({"answer_text": "Paris", "score": 0.4})
    with pytest.raises(WiringError, match="answer_text"):
        run_eval(
            Lambda(lambda q: {"answer_text": number_of(q)}),
            Dataset(examples()),
            [*build_metrics("em")],
        )
    # a retriever-style dict with no documents found is not an error
    assert read_output({"documents": []})["retrieved_ids"] == []
    assert read_output({"result": None, "sources": []})["text"] == ""


def test_an_answer_with_a_lone_surrogate_is_stored_and_reported(tmp_path: Path) -> None:
    # json.loads of an API reply cut inside an emoji escape ("\ud83d") gives such a string
    broken = json.loads('"half \\ud83d emoji"')

    def chain(question: str) -> str:
        return broken if question.endswith("2?") else number_of(question)

    out = tmp_path / "r"
    data = Dataset(examples(4))
    run = run_eval(Lambda(chain), data, build_metrics("em,f1"), out)
    assert run.summary["examples"] == 4 and run.summary["metrics"]["em"] == 0.75
    from agentkit.evals.journal import Journal
    from agentkit.evals.results import load_run

    journaled = {r["id"]: r for r in Journal(out / "journal.jsonl").read()}
    assert journaled["q2"]["prediction"]["text"] == broken  # stored exactly (JSON escape)
    assert load_run(out).records[2]["prediction"]["text"] == broken
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "half" in html and "emoji" in html


def test_retrieval_metrics_score_everything_retrieved_not_only_the_document_used() -> None:
    """map_rerank answers from one document; hit@k and recall still see all k retrieved."""
    from agentkit.chains.retrieval_qa import RetrievalQA
    from agentkit.core import Lambda
    from agentkit.evals.mapping import read_output
    from agentkit.llms.fake import FunctionModel
    from agentkit.retrievers.document import Document

    docs = [Document("Lyon is big.", id="lyon"), Document("Paris is the capital.", id="paris")]

    def reply(messages: Any, params: Any) -> str:
        return "Paris\nScore: 90" if "Paris" in messages[-1].content else "none\nScore: 1"

    chain = RetrievalQA(
        FunctionModel(reply), Lambda(lambda q: docs), "map_rerank", return_source_documents=True
    )
    fields = read_output(chain.invoke({"query": "capital?"}), None)
    assert fields["text"] == "Paris"
    assert fields["retrieved_ids"] == ["lyon", "paris"]
