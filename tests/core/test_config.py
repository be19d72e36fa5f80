"""RunConfig, ensure_config, with_config (tags, metadata, run_name, timeout)."""

from __future__ import annotations

import asyncio
import dataclasses
import threading

import pytest

from agentkit.core import (
    Configured,
    InMemoryTracer,
    Lambda,
    RunConfig,
    RunTimeoutError,
    UsageError,
    ensure_config,
)
from agentkit.core.config import default_config


def inc(x: int) -> int:
    return x + 1


def test_defaults_and_get() -> None:
    cfg = RunConfig(configurable={"session_id": "s"})
    assert cfg.get("session_id") == "s"
    assert cfg.get("missing", 3) == 3
    assert cfg.plain
    assert not RunConfig(tracers=(InMemoryTracer(),)).plain
    assert not RunConfig(timeout=1.0).plain


def test_validation_messages() -> None:
    with pytest.raises(UsageError, match="max_concurrency must be at least 1, got 0"):
        RunConfig(max_concurrency=0)
    with pytest.raises(UsageError, match="timeout must be a positive number of seconds"):
        RunConfig(timeout=0)


def test_lists_are_normalised_so_merge_appends() -> None:
    tracer = InMemoryTracer()
    cfg = RunConfig(tags=["a"], tracers=[tracer])  # type: ignore[arg-type]
    assert cfg.tags == ("a",) and cfg.tracers == (tracer,)
    merged = cfg.merge(tags=["b"], metadata={"k": 1})
    assert merged.tags == ("a", "b")
    assert merged.metadata == {"k": 1}
    assert cfg.merge(tags="single").tags == ("a", "single")


def test_merge_appends_tracers_and_merges_dicts() -> None:
    t1, t2 = InMemoryTracer(), InMemoryTracer()
    cfg = RunConfig(tracers=(t1,), metadata={"a": 1}, configurable={"x": 1})
    out = cfg.merge(callbacks=[t2], metadata={"b": 2}, configurable={"x": 2}, run_name="r")
    assert out.tracers == (t1, t2)
    assert out.metadata == {"a": 1, "b": 2}
    assert out.configurable == {"x": 2}
    assert out.run_name == "r"
    assert cfg.metadata == {"a": 1}  # the original is untouched


def test_merge_rejects_unknown_fields() -> None:
    with pytest.raises(UsageError, match="unknown run config field 'tag'; allowed: tracers"):
        RunConfig().merge(tag=["x"])


def test_child_matches_replace_and_drops_run_scoped_fields() -> None:
    tracer = InMemoryTracer()
    cfg = RunConfig(
        tracers=(tracer,),
        tags=("t",),
        metadata={"m": 1},
        run_name="root",
        max_concurrency=4,
        timeout=3.0,
        configurable={"c": 1},
        parent_run_id="p",
    )
    child = cfg.child("span-1")
    expected = dataclasses.replace(cfg, parent_run_id="span-1", run_name=None, timeout=None)
    assert child == expected
    assert child.plain is False
    assert RunConfig(timeout=2.0).child(None).plain is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        child.tags = ()  # type: ignore[misc]


def test_ensure_config_accepts_none_dict_and_config() -> None:
    assert ensure_config(None) is default_config()
    cfg = RunConfig(tags=("x",))
    assert ensure_config(cfg) is cfg
    from_dict = ensure_config({"tags": ["a"], "configurable": {"session_id": "s"}})
    assert from_dict.tags == ("a",) and from_dict.get("session_id") == "s"


def test_ensure_config_errors_say_how_to_fix() -> None:
    with pytest.raises(UsageError, match=r"unknown run config field\(s\) \['tagz'\]"):
        ensure_config({"tagz": []})
    with pytest.raises(UsageError, match="must be a RunConfig or a dict, got int"):
        ensure_config(3)  # type: ignore[arg-type]


def test_with_config_sets_tags_metadata_and_run_name_on_spans() -> None:
    tracer = InMemoryTracer()
    chain = (Lambda(inc) | Lambda(inc)).with_config(
        run_name="my-run", tags=["exp"], metadata={"user": "u1"}
    )
    assert isinstance(chain, Configured)
    assert chain.name == "Sequence"
    assert chain.invoke(1, RunConfig(tracers=(tracer,), tags=("outer",))) == 3
    root = tracer.roots()
    assert [s.name for s in root] == ["my-run"]
    assert {s.name for s in tracer.children(root[0])} == {"inc"}
    assert len(tracer.spans) == 3
    for span in tracer.spans:
        assert span.tags == ("outer", "exp")
        assert span.metadata == {"user": "u1"}


def test_with_config_configurable_reaches_nodes() -> None:
    def read(x: int, config: RunConfig) -> str:
        return str(config.get("who"))

    assert Lambda(read).with_config(configurable={"who": "me"}).invoke(0) == "me"
    assert asyncio.run(Lambda(read).with_config({"configurable": {"who": "a"}}).ainvoke(0)) == "a"


def test_with_config_validates_now() -> None:
    with pytest.raises(UsageError, match="unknown run config field 'colour'"):
        Lambda(inc).with_config(colour="red")
    with pytest.raises(UsageError, match="timeout must be a positive"):
        Lambda(inc).with_config(timeout=-1)
    with pytest.raises(UsageError, match="not a RunConfig"):
        Lambda(inc).with_config(RunConfig())


def test_sync_timeout_raises_run_timeout_error() -> None:
    release = threading.Event()

    def slow(x: int) -> int:
        release.wait(10)
        return x

    try:
        with pytest.raises(RunTimeoutError, match=r"slow did not finish within 0.05 s"):
            Lambda(slow).with_config(timeout=0.05).invoke(1)
    finally:
        release.set()


def test_sync_timeout_not_hit_returns_output_and_traces() -> None:
    tracer = InMemoryTracer()
    out = Lambda(inc).with_config(timeout=30).invoke(1, RunConfig(tracers=(tracer,)))
    assert out == 2
    assert tracer.names() == ["inc"]


def test_async_timeout_raises_run_timeout_error() -> None:
    async def slow(x: int) -> int:
        await asyncio.sleep(10)
        return x

    with pytest.raises(RunTimeoutError, match="did not finish within"):
        asyncio.run(Lambda(slow).with_config(timeout=0.05).ainvoke(1))


def test_async_timeout_not_hit_returns_output() -> None:
    async def quick(x: int) -> int:
        await asyncio.sleep(0)
        return x + 1

    assert asyncio.run(Lambda(quick).with_config(timeout=30).ainvoke(1)) == 2


def test_timeout_error_is_a_timeout_error() -> None:
    assert issubclass(RunTimeoutError, TimeoutError)


def test_sequence_timeout_covers_the_whole_chain() -> None:
    release = threading.Event()

    def slow(x: int) -> int:
        release.wait(10)
        return x

    chain = (Lambda(inc) | Lambda(slow)).with_config(timeout=0.05)
    try:
        with pytest.raises(RunTimeoutError, match="Sequence did not finish"):
            chain.invoke(1)
    finally:
        release.set()
