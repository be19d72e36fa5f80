"""Tracing: span trees, errors, usage, JSONL and console tracers, debug switch."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import agentkit
from agentkit.core import (
    ConsoleTracer,
    InMemoryTracer,
    JsonlTracer,
    Lambda,
    RunConfig,
    Runnable,
    Span,
    Tracer,
    traced,
)
from agentkit.core.config import default_config


def inc(x: int) -> int:
    return x + 1


def double(x: int) -> int:
    return x * 2


def fail(x: Any) -> Any:
    raise KeyError("nope")


class WithUsage:
    """An output that carries token usage, like a model message."""

    class _Usage:
        def as_dict(self) -> dict[str, int]:
            return {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}

    usage = _Usage()


def test_span_tree_parent_ids() -> None:
    tracer = InMemoryTracer()
    chain = Lambda(inc) | {"d": double, "i": inc} | Lambda(lambda d: d["d"] + d["i"], name="sum")
    assert chain.invoke(1, RunConfig(tracers=(tracer,))) == 7
    by_name = {s.name: s for s in tracer.spans if s.name != "inc"}
    root = by_name["Sequence"]
    assert root.parent_id is None and root.kind == "sequence"
    par = by_name["Parallel"]
    assert par.parent_id == root.id
    assert by_name["double"].parent_id == par.id
    assert by_name["sum"].parent_id == root.id
    incs = [s for s in tracer.spans if s.name == "inc"]
    assert sorted(s.parent_id == root.id for s in incs) == [False, True]
    assert len({s.id for s in tracer.spans}) == len(tracer.spans) == 6
    assert all(s.end is not None and s.end >= s.start for s in tracer.spans)


def test_span_previews_and_kind() -> None:
    tracer = InMemoryTracer()
    Lambda(inc).invoke(41, {"callbacks": [tracer]})
    (span,) = tracer.spans
    assert (span.input, span.output, span.kind, span.error) == ("41", "42", "lambda", None)
    assert span.duration >= 0


def test_long_previews_are_truncated() -> None:
    tracer = InMemoryTracer()
    Lambda(str.upper).invoke("x" * 1000, RunConfig(tracers=(tracer,)))
    assert len(tracer.spans[0].input) == 200 and tracer.spans[0].input.endswith("...")


def test_async_spans_have_the_same_tree() -> None:
    tracer = InMemoryTracer()
    chain = Lambda(inc) | Lambda(double)
    assert asyncio.run(chain.ainvoke(1, RunConfig(tracers=(tracer,)))) == 4
    (root,) = tracer.roots()
    assert [s.name for s in tracer.children(root)] == ["inc", "double"]


def test_error_recorded_on_the_failing_span_and_its_parents() -> None:
    tracer = InMemoryTracer()
    chain = Lambda(inc) | Lambda(fail)
    with pytest.raises(KeyError):
        chain.invoke(1, RunConfig(tracers=(tracer,)))
    errors = {s.name: s.error for s in tracer.spans}
    assert errors == {"inc": None, "fail": "KeyError: 'nope'", "Sequence": "KeyError: 'nope'"}
    assert "error: KeyError" in tracer.tree()


def test_usage_is_copied_from_the_output() -> None:
    class Model(Runnable[str, Any]):
        kind = "model"

        @traced
        def invoke(self, input: str, config: Any = None) -> Any:
            return WithUsage()

    tracer = InMemoryTracer()
    Model().invoke("hi", RunConfig(tracers=(tracer,)))
    assert tracer.spans[0].usage == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def test_names_tree_and_clear() -> None:
    tracer = InMemoryTracer()
    (Lambda(inc) | Lambda(double)).invoke(1, RunConfig(tracers=(tracer,)))
    assert tracer.names() == ["Sequence", "inc", "double"]
    lines = tracer.tree().splitlines()
    assert lines[0].startswith("Sequence [sequence]")
    assert lines[1].startswith("  inc [lambda]") and lines[1].endswith("ms")
    tracer.clear()
    assert tracer.spans == [] and tracer.tree() == ""


def test_jsonl_tracer_writes_one_line_per_span(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "trace.jsonl"
    tracer = JsonlTracer(path)
    assert isinstance(tracer, Tracer)
    (Lambda(inc) | Lambda(double)).invoke(1, RunConfig(tracers=(tracer,), tags=("t",)))
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["name"] for r in rows] == ["inc", "double", "Sequence"]
    assert rows[0]["parent_id"] == rows[2]["id"]
    assert rows[2]["output"] == "4" and rows[2]["tags"] == ["t"]
    assert set(rows[0]) >= {"id", "parent_id", "kind", "start", "end", "input", "error", "usage"}


def test_span_to_dict_round_trips_through_json() -> None:
    span = Span(id="1", parent_id=None, name="n", kind="k", start=1.0, end=2.0, tags=("a",))
    assert json.loads(json.dumps(span.to_dict()))["tags"] == ["a"]
    assert span.duration == 1.0


def test_custom_tracer_gets_on_start_and_on_end() -> None:
    events: list[tuple[str, str]] = []

    class Recorder:
        def on_start(self, span: Span) -> None:
            events.append(("start", span.name))

        def on_end(self, span: Span) -> None:
            events.append(("end", span.name))

    (Lambda(inc) | Lambda(double)).invoke(1, RunConfig(tracers=(Recorder(),)))
    assert events == [
        ("start", "Sequence"),
        ("start", "inc"),
        ("end", "inc"),
        ("start", "double"),
        ("end", "double"),
        ("end", "Sequence"),
    ]


@pytest.fixture
def debug_off() -> Any:
    yield
    agentkit.debug(False)


def test_debug_prints_to_stderr_and_turns_off(
    capsys: pytest.CaptureFixture[str], debug_off: Any
) -> None:
    agentkit.debug(True)
    assert any(isinstance(t, ConsoleTracer) for t in default_config().tracers)
    (Lambda(inc, name="step_one") | Lambda(double, name="step_two")).invoke(1)
    err = capsys.readouterr().err
    assert "▶ step_one" in err and "✔ step_two" in err and "output: 4" in err
    agentkit.debug(True)  # idempotent: still one console tracer
    assert sum(isinstance(t, ConsoleTracer) for t in default_config().tracers) == 1

    agentkit.debug(False)
    assert default_config().tracers == ()
    Lambda(inc, name="quiet_step").invoke(1)
    assert "quiet_step" not in capsys.readouterr().err


def test_debug_shows_errors(capsys: pytest.CaptureFixture[str], debug_off: Any) -> None:
    agentkit.debug(True)
    with pytest.raises(KeyError):
        Lambda(fail).invoke(1)
    assert "✖ fail" in capsys.readouterr().err


def test_agentkit_debug_env_var_turns_on_console_tracing() -> None:
    code = "from agentkit import Lambda\nLambda(lambda x: x + 1, name='env_step').invoke(1)\n"
    env = {**os.environ, "AGENTKIT_DEBUG": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "env_step" in out.stderr
    env["AGENTKIT_DEBUG"] = "0"
    quiet = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert quiet.returncode == 0 and "env_step" not in quiet.stderr


def test_debug_also_traces_runs_with_an_explicit_config(
    capsys: pytest.CaptureFixture[str], debug_off: Any
) -> None:
    agentkit.debug(True)
    tracer = InMemoryTracer()
    (Lambda(inc, name="explicit_step") | Lambda(double)).invoke(1, RunConfig(tracers=(tracer,)))
    assert "explicit_step" in capsys.readouterr().err
    assert len(tracer.spans) == 3  # the caller's tracer still gets every span, once
