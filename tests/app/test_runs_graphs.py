"""Eval runs are found and summarised; graph parameters are found and applied; settings
come from arguments over the environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentkit.core.errors import UsageError
from agentkit.llms import FakeListModel
from agentkit.workspace.chains import ChainSettings, build_chain, editable_texts
from agentkit.workspace.graphs import (
    apply_builtin,
    apply_spec,
    builtin_params,
    graph_view,
    spec_params,
)
from agentkit.workspace.runs import example_rows, histogram, list_runs, score_keys, trace_lines
from agentkit.workspace.settings import AppSettings
from tests.app import fixtures


def make_run(folder: Path, answers: list[str]) -> Any:
    """A finished two-question eval run of a fake model in ``folder``."""
    from agentkit.evals import build_metrics, load_dataset, run_eval

    folder.parent.mkdir(parents=True, exist_ok=True)
    data = folder.parent / f"{folder.name}-qa.jsonl"
    rows = [
        {"id": "q1", "question": "Capital of France?", "answers": ["Paris"], "category": "geo"},
        {"id": "q2", "question": "2+2?", "answers": ["4"], "category": "math"},
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    chain = FakeListModel(answers)
    return run_eval(
        chain, load_dataset(data), build_metrics("em,f1,latency"), folder, concurrency=1
    )


def test_runs_are_listed_summarised_and_drilled_into(tmp_path: Path) -> None:
    make_run(tmp_path / "runs" / "a", ["Paris", "5"])
    make_run(tmp_path / "runs" / "nested" / "b", ["Paris", "4"])
    (tmp_path / "runs" / "unfinished").mkdir()
    runs = list_runs(tmp_path / "runs")
    assert sorted(r.name for r in runs) == ["a", "nested/b"]
    b = next(r for r in runs if r.name == "nested/b")
    assert b.examples == 2 and b.metrics["em"] == 1.0 and b.dataset == "b-qa.jsonl"
    from agentkit.evals.results import load_run

    run = load_run(b.path)
    keys = score_keys(run.summary)
    assert keys[:2] == ["em", "f1"]
    rows = example_rows(run.records, ["em"])
    assert rows[0]["prediction"] == "Paris" and rows[0]["em"] == 1.0 and rows[0]["gold"] == "Paris"
    assert any("FakeListModel [model]" in line for line in trace_lines(run.records[0]))
    assert list_runs(tmp_path / "missing") == []
    assert histogram([0.0, 0.5, 1.0], bins=2) == {"0 to 0.5": 1, "0.5 to 1": 2}
    assert histogram([1.0, 1.0]) == {"1": 2} and histogram([]) == {}


def test_builtin_params_and_apply(tmp_path: Path) -> None:
    settings = ChainSettings("rag", k=4)
    params = {p.key: p for p in builtin_params(settings)}
    assert params["k"].value == 4 and params["temperature"].value is None
    assert "Use the following pieces of context" in params["prompt:qa"].value
    new = apply_builtin(
        settings, {"k": 7, "temperature": 0.3, "prompt:qa": "Context: {context}\nQ: {question}"}
    )
    assert (
        new.k == 7
        and new.temperature == 0.3
        and new.prompts == {"qa": "Context: {context}\nQ: {question}"}
    )
    assert apply_builtin(settings, {"prompt:qa": params["prompt:qa"].value}).prompts == {}
    model = FakeListModel(["ok"])
    chain = build_chain(new, model, fixtures.docs_index(tmp_path / "ix"))
    chain.invoke({"query": "where?"})
    assert model.calls[0][0].content.startswith("Context: ")
    view = graph_view(chain)
    assert view.mermaid.startswith("graph TD")
    assert view.ascii.startswith("[HybridRetriever] (retriever)") and "FakeListModel" in view.ascii
    with pytest.raises(UsageError, match="unknown parameter"):
        apply_builtin(settings, {"top_p": 1})
    assert "react.system" in editable_texts(ChainSettings("agent"))
    with pytest.raises(UsageError, match="top-k"):
        ChainSettings("rag", k=0)


def test_spec_params_and_apply_rebuild_a_custom_chain() -> None:
    from agentkit.core import spec

    chain = fixtures.fake_text_chain()
    data = chain.to_dict()
    params = {p.key: p for p in spec_params(data)}
    template_key = next(k for k in params if k.endswith(".template"))
    temperature_key = next(k for k in params if k.endswith(".temperature"))
    assert params[template_key].value == "Answer briefly: {question}"
    edited = apply_spec(data, {template_key: "Say: {question}", temperature_key: 0.2})
    rebuilt = spec.load(edited)
    rebuilt.invoke({"question": "hi"})
    model = rebuilt.steps[-1]
    assert model.calls[0][0].content == "Say: hi" and model.params.temperature == 0.2
    assert spec_params(edited) != spec_params(data)
    assert apply_spec(edited, {temperature_key: None}) == apply_spec(
        data, {template_key: "Say: {question}"}
    )
    view = graph_view(chain)
    assert view.yaml is not None and "fake_list_model" in view.yaml


def test_settings_from_args_over_env(tmp_path: Path) -> None:
    env = {"AGENTKIT_APP_HOME": str(tmp_path), "AGENTKIT_APP_MODEL": "extractive"}
    settings = AppSettings.load(["--index", str(tmp_path / "ix"), "--chain", "m:f"], env)
    assert settings.index == tmp_path / "ix" and settings.chain == "m:f"
    assert settings.model == "extractive"
    # chats are kept per index and chain; uploads go next to the index
    assert settings.history.parent == tmp_path / "chats"
    assert settings.history.name.startswith("ix-") and settings.history.suffix == ".sqlite"
    assert settings.uploads == tmp_path / "ix-uploads"
    builtin = AppSettings.load(["--index", str(tmp_path / "ix")], env)
    other = AppSettings.load(["--index", str(tmp_path / "other")], env)
    assert len({settings.history, builtin.history, other.history}) == 3
    assert AppSettings.load(["--history", str(tmp_path / "h.sqlite")], env).history == (
        tmp_path / "h.sqlite"
    )
    hostile = AppSettings.load(["--index", str(tmp_path / "../../etc/x y;rm")], env)
    assert hostile.history.parent == tmp_path / "chats"  # the name cannot leave the folder
    assert AppSettings.load(settings.to_args(), {}) == settings
    with pytest.raises(UsageError, match="bad app arguments"):
        AppSettings.load(["--bogus", "1"], env)
    with pytest.raises(UsageError, match="embedder must be"):
        AppSettings.load(["--embedder", "glove"], env)
