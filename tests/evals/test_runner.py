from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from agentkit.chains.retrieval_qa import RetrievalQA
from agentkit.core.compose import Lambda
from agentkit.core.errors import UsageError, WiringError
from agentkit.evals import Dataset, Example, build_metrics, run_eval
from agentkit.evals.mapping import make_input, read_output
from agentkit.llms import FakeListModel, FunctionModel
from agentkit.parsers import StrOutputParser
from agentkit.prompts import PromptTemplate
from agentkit.retrievers.document import Document


def dataset(n: int = 10, prefix: str = "q") -> Dataset:
    examples = [
        Example(
            f"{prefix}{i}",
            f"What is {i}?",
            (str(i),),
            relevant_ids=(f"d{i}",),
            category="even" if i % 2 == 0 else "odd",
        )
        for i in range(n)
    ]
    return Dataset(examples, path="mem.jsonl", sha256="0" * 64)


def number_of(question: str) -> str:
    return question.split()[-1].rstrip("?")


def test_retrieval_qa_outputs_are_read_by_default(tmp_path: Path) -> None:
    def retrieve(query: str) -> list[Document]:
        n = number_of(query)
        return [Document(f"The number is {n}.", id=f"d{n}"), Document("noise", id="dx")]

    def answer(messages: Any, params: Any) -> str:
        return messages[-1].content.split("The number is ")[1].split(".")[0]

    chain = RetrievalQA.from_llm(
        FunctionModel(answer), Lambda(retrieve), return_source_documents=True
    )
    run = run_eval(
        chain, dataset(4), build_metrics("em,retrieval,context_contains"), tmp_path / "r"
    )
    assert run.summary["metrics"]["em"] == 1.0
    assert run.summary["metrics"]["hit@1"] == 1.0 and run.summary["metrics"]["mrr"] == 1.0
    assert run.summary["metrics"]["context_contains"] == 1.0
    first = run.records[0]["prediction"]
    assert first["retrieved_ids"] == ["d0", "dx"] and first["contexts"][0] == "The number is 0."
    names = {span["name"] for span in first["spans"]}
    assert {"RetrievalQA", "retrieve", "FunctionModel(answer)"} <= names
    assert all(s["metadata"]["example_id"] == "q0" for s in first["spans"])
    assert run.summary["by_category"]["even"]["examples"] == 2
    meta = json.loads((tmp_path / "r" / "run.json").read_text())
    assert meta["dataset"]["sha256"] == "0" * 64 and meta["metrics"] == [
        "em",
        "retrieval",
        "context_contains",
    ]
    assert meta["models"] == ["FunctionModel(answer)"] and "python" in meta["versions"]
    assert meta["chain"]["spec"] is None and "cannot be serialised" in meta["chain"]["spec_error"]
    assert [json.loads(line)["id"] for line in (tmp_path / "r" / "results.jsonl").open()] == [
        "q0",
        "q1",
        "q2",
        "q3",
    ]


def test_serialisable_chain_spec_is_saved(tmp_path: Path) -> None:
    chain = PromptTemplate.from_template("{question}") | FakeListModel(["1"]) | StrOutputParser()
    run_eval(chain, dataset(2), build_metrics("em"), tmp_path / "r", report=False)
    meta = json.loads((tmp_path / "r" / "run.json").read_text())
    assert meta["chain"]["spec"]["type"] == "sequence"
    assert meta["options"]["concurrency"] == 8


def test_concurrency_is_bounded() -> None:
    state = {"now": 0, "peak": 0}

    async def slow(question: str) -> str:
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
        await asyncio.sleep(0.02)
        state["now"] -= 1
        return number_of(question)

    run = run_eval(Lambda(slow), dataset(20), build_metrics("em"), concurrency=3)
    assert state["peak"] == 3
    assert run.summary["metrics"]["em"] == 1.0


def test_timeouts_retries_and_errors() -> None:
    attempts: dict[str, int] = {}

    async def flaky(question: str) -> str:
        n = number_of(question)
        attempts[n] = attempts.get(n, 0) + 1
        if n == "1" and attempts[n] == 1:
            raise RuntimeError("transient")
        if n == "2":
            await asyncio.sleep(5)
        if n == "3":
            raise ValueError("always broken")
        return n

    run = run_eval(Lambda(flaky), dataset(4), build_metrics("em,latency"), timeout=0.2, retries=1)
    by_id = {r["id"]: r for r in run.records}
    assert by_id["q1"]["attempts"] == 2 and by_id["q1"]["scores"]["em"] == {"em": 1.0}
    assert by_id["q2"]["prediction"]["error"].startswith("RunTimeoutError")
    assert by_id["q3"]["prediction"]["error"] == "ValueError: always broken"
    assert by_id["q3"]["scores"]["em"] == {"em": 0.0} and by_id["q3"]["attempts"] == 2
    assert run.summary["errors"] == 2 and run.summary["metrics"]["em"] == 0.5
    assert "latency_p95" in run.summary["timing"]


def test_a_usage_error_stops_the_run(tmp_path: Path) -> None:
    def broken(question: str) -> str:
        if question.endswith("5?"):
            raise UsageError("bad prompt variable")
        return number_of(question)

    with pytest.raises(UsageError, match="bad prompt variable"):
        run_eval(Lambda(broken), dataset(10), build_metrics("em"), tmp_path / "r", concurrency=1)
    lines = (tmp_path / "r" / "journal.jsonl").read_text().splitlines()
    assert [json.loads(x)["id"] for x in lines] == ["q0", "q1", "q2", "q3", "q4"]


def test_resume_skips_journaled_examples_and_ignores_a_torn_line(tmp_path: Path) -> None:
    calls: list[str] = []

    def answer(question: str) -> str:
        calls.append(question)
        return number_of(question)

    out = tmp_path / "r"
    full = run_eval(Lambda(answer), dataset(10), build_metrics("em,f1"), out, report=False)
    journal = out / "journal.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(lines[:4]) + lines[4][:30])  # 4 complete lines + a torn one
    (out / "results.jsonl").unlink()
    with pytest.raises(UsageError, match="--resume"):
        run_eval(Lambda(answer), dataset(10), build_metrics("em,f1"), out)
    calls.clear()
    resumed = run_eval(Lambda(answer), dataset(10), build_metrics("em,f1"), out, resume=True)
    assert len(calls) == 6
    ids = [json.loads(x)["id"] for x in journal.read_text().splitlines()]
    assert sorted(ids) == sorted(f"q{i}" for i in range(10)) and len(ids) == 10
    assert resumed.summary["metrics"] == full.summary["metrics"]
    assert "resumed" in json.loads((out / "run.json").read_text())
    with pytest.raises(UsageError, match="different dataset"):
        other = dataset(10)
        other.sha256 = "1" * 64
        run_eval(Lambda(answer), other, build_metrics("em,f1"), out, resume=True)
    with pytest.raises(UsageError, match="metrics"):
        run_eval(Lambda(answer), dataset(10), build_metrics("em"), out, resume=True)


def test_limit_and_progress_reports() -> None:
    seen: list[tuple[int, int]] = []
    run_eval(
        Lambda(number_of),
        dataset(10),
        build_metrics("em"),
        limit=3,
        on_progress=lambda p: seen.append((p.done, p.total)),
    )
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_streaming_measures_time_to_first_token() -> None:
    model = FakeListModel(["one two three four"], latency=0.05, token_latency=0.05)
    chain = PromptTemplate.from_template("{question}") | model | StrOutputParser()
    run = run_eval(chain, dataset(2), build_metrics("latency"), stream=True)
    pred = run.records[0]["prediction"]
    assert pred["text"] == "one two three four"
    assert pred["ttft"] < pred["latency"]
    assert "ttft_p50" in run.summary["timing"]


def test_input_and_output_maps() -> None:
    ex = Example("a", "Q?", ("x",), ("c1", "c2"), category="k", metadata={"lang": "en"})

    class Keys:
        input_keys = ["query", "context", "lang"]

    assert make_input(ex, Keys()) == {"query": "Q?", "context": "c1\n\nc2", "lang": "en"}
    assert make_input(ex, None, {"q": "question", "cat": "category"}) == {"q": "Q?", "cat": "k"}
    assert make_input(ex, None, "answer") == "x"
    assert make_input(ex, None, lambda e: e.id) == "a"

    class Other:
        input_keys = ["history"]

    with pytest.raises(WiringError, match="'history'"):
        make_input(ex, Other())
    assert read_output({"answer": "A", "docs": [{"id": 1, "text": "t"}]}) == {
        "text": "A",
        "retrieved_ids": ["1"],
        "contexts": ["t"],
    }
    assert read_output([Document("t", id="d")]) == {
        "text": "",
        "retrieved_ids": ["d"],
        "contexts": ["t"],
    }
    assert read_output({"out": "A", "hits": ["d1"]}, {"text": "out", "retrieved_ids": "hits"}) == {
        "text": "A",
        "retrieved_ids": ["d1"],
        "contexts": [],
    }
    with pytest.raises(WiringError, match="only"):
        read_output({"out": "A"}, {"text": "missing"})
    with pytest.raises(WiringError, match="output_map"):
        read_output(3.5)


def test_runner_rejects_bad_options() -> None:
    with pytest.raises(UsageError, match="concurrency"):
        run_eval(Lambda(number_of), dataset(1), build_metrics("em"), concurrency=0)
    with pytest.raises(UsageError, match="unique"):
        run_eval(Lambda(number_of), dataset(1), build_metrics("em") + build_metrics("em"))
    with pytest.raises(TypeError, match="concurency"):  # a misspelt option is not ignored
        run_eval(Lambda(number_of), dataset(1), build_metrics("em"), concurency=2)


def test_sample_is_seeded_and_kept_in_dataset_order(tmp_path: Path) -> None:
    data = dataset(50)
    first = run_eval(Lambda(number_of), data, build_metrics("em"), tmp_path / "a", sample=7, seed=3)
    again = run_eval(Lambda(number_of), data, build_metrics("em"), sample=7, seed=3)
    other = run_eval(Lambda(number_of), data, build_metrics("em"), sample=7, seed=4)
    ids = [r["id"] for r in first.records]
    assert ids == [r["id"] for r in again.records] != [r["id"] for r in other.records]
    assert len(ids) == 7 and [int(i[1:]) for i in ids] == sorted(int(i[1:]) for i in ids)
    meta = json.loads((tmp_path / "a" / "run.json").read_text())
    assert meta["selection"] == {"limit": None, "sample": 7, "n": 7}
    with pytest.raises(UsageError, match="not both"):
        run_eval(Lambda(number_of), data, build_metrics("em"), sample=3, limit=3)
