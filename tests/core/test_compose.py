"""Composition: sequences, parallel fan-out, passthrough/assign, pick, branch, retry,
fallbacks, bind and coercion."""

from __future__ import annotations

import asyncio
import functools
import time

import pytest

import agentkit
from agentkit.core import (
    Assign,
    Branch,
    Fallbacks,
    Lambda,
    Parallel,
    Passthrough,
    Pick,
    Retry,
    RunConfig,
    Runnable,
    Sequence,
    UsageError,
    coerce,
    traced,
)


def double(x: int) -> int:
    return x * 2


def inc(x: int) -> int:
    return x + 1


async def ainc(x: int) -> int:
    await asyncio.sleep(0)
    return x + 1


class Flaky(Runnable[int, int]):
    """Fails ``failures`` times with ``exc`` then returns its input; counts attempts."""

    def __init__(self, failures: int, exc: type[Exception] = ValueError) -> None:
        self.failures, self.exc, self.attempts = failures, exc, 0

    @traced
    def invoke(self, input: int, config: object = None) -> int:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise self.exc(f"attempt {self.attempts} failed")
        return input


# --- sequence -----------------------------------------------------------------------


def test_pipe_functions_and_runnables_in_order() -> None:
    chain = Lambda(inc) | double | inc
    assert isinstance(chain, Sequence)
    assert chain.invoke(3) == 9  # (3 + 1) * 2 + 1
    assert asyncio.run(chain.ainvoke(3)) == 9


def test_function_on_the_left_of_a_runnable() -> None:
    chain = inc | Lambda(double)
    assert chain.invoke(1) == 4


def test_nested_sequences_are_flattened() -> None:
    inner = Lambda(inc) | double
    chain = inner | inc | (Lambda(double) | inc)
    assert isinstance(chain, Sequence)
    assert len(chain.steps) == 5
    assert chain.invoke(1) == 11


def test_pipe_method_appends_steps() -> None:
    chain = Lambda(inc).pipe(double, inc)
    assert chain.invoke(0) == 3


def test_sequence_needs_two_steps() -> None:
    with pytest.raises(UsageError, match="at least two steps"):
        Sequence(inc)


def test_dict_in_a_sequence_fans_out() -> None:
    chain = Lambda(inc) | {"a": double, "b": inc}
    assert chain.invoke(1) == {"a": 4, "b": 3}
    chain2 = {"a": double, "b": inc} | Lambda(lambda d: d["a"] + d["b"])
    assert chain2.invoke(1) == 4


def test_async_function_node_in_sync_and_async_runs() -> None:
    chain = Lambda(ainc) | double
    assert chain.invoke(1) == 4
    assert asyncio.run(chain.ainvoke(1)) == 4


def test_async_function_invoked_inside_a_loop_says_use_ainvoke() -> None:
    async def main() -> None:
        Lambda(ainc).invoke(1)

    with pytest.raises(UsageError, match="ainvoke"):
        asyncio.run(main())


def test_lambda_receives_config_when_it_asks() -> None:
    def read(x: str, config: RunConfig) -> str:
        return f"{x}:{config.get('session_id')}"

    chain = Lambda(str.strip) | Lambda(read)
    assert chain.invoke(" a ", {"configurable": {"session_id": "s1"}}) == "a:s1"


def test_blocking_lambda_runs_in_a_thread_under_ainvoke() -> None:
    import threading

    seen: list[int | None] = []

    def where(x: int) -> int:
        seen.append(threading.get_ident())
        return x

    async def main() -> int:
        seen.append(threading.get_ident())
        return await Lambda(where, blocking=True).ainvoke(5)

    assert asyncio.run(main()) == 5
    assert seen[0] != seen[1]


def test_lambda_name_and_non_callable() -> None:
    assert Lambda(inc).name == "inc"
    assert Lambda(inc, name="step").name == "step"
    with pytest.raises(UsageError, match="callable"):
        Lambda(3)  # type: ignore[arg-type]


def test_coerce_rejects_other_values() -> None:
    with pytest.raises(UsageError, match="cannot use int as a chain step"):
        coerce(5)
    with pytest.raises(UsageError, match="chain step"):
        _ = Lambda(inc) | 5


# --- parallel, passthrough, assign, pick ---------------------------------------------


def test_parallel_runs_every_branch_on_the_input() -> None:
    par = Parallel({"d": double, "i": inc, "same": Passthrough()})
    assert par.invoke(5) == {"d": 10, "i": 6, "same": 5}
    assert asyncio.run(par.ainvoke(5)) == {"d": 10, "i": 6, "same": 5}


def test_parallel_honours_max_concurrency_one() -> None:
    par = Parallel({"d": double, "i": inc})
    assert par.invoke(1, RunConfig(max_concurrency=1)) == {"d": 2, "i": 2}
    assert asyncio.run(par.ainvoke(1, RunConfig(max_concurrency=1))) == {"d": 2, "i": 2}


def test_parallel_needs_a_branch() -> None:
    with pytest.raises(UsageError, match="at least one branch"):
        Parallel({})


def test_parallel_branch_error_propagates() -> None:
    par = Parallel({"ok": inc, "bad": Flaky(5)})
    with pytest.raises(ValueError, match="attempt 1 failed"):
        par.invoke(1)


def test_passthrough_and_helpers() -> None:
    assert Passthrough().invoke({"x": 1}) == {"x": 1}
    assert asyncio.run(Passthrough().ainvoke("a")) == "a"
    assert agentkit.passthrough().invoke(3) == 3


def test_assign_adds_keys_computed_from_the_input() -> None:
    step = agentkit.assign(total=lambda d: d["a"] + d["b"], neg=lambda d: -d["a"])
    assert isinstance(step, Assign)
    assert step.invoke({"a": 1, "b": 2}) == {"a": 1, "b": 2, "total": 3, "neg": -1}
    assert asyncio.run(step.ainvoke({"a": 1, "b": 2}))["total"] == 3
    assert Passthrough.assign(k=lambda d: 0).invoke({}) == {"k": 0}


def test_assign_needs_a_dict_input() -> None:
    with pytest.raises(UsageError, match="needs a dict input, got int"):
        agentkit.assign(x=inc).invoke(1)


def test_pick_one_or_several_keys() -> None:
    data = {"a": 1, "b": 2, "c": 3}
    assert Pick("a").invoke(data) == 1
    assert Pick("a", "c").invoke(data) == {"a": 1, "c": 3}
    assert asyncio.run(Pick("b").ainvoke(data)) == 2
    with pytest.raises(UsageError, match=r"\['z'\] not in the input; available: \['a', 'b', 'c'\]"):
        Pick("z").invoke(data)
    with pytest.raises(UsageError, match="at least one key"):
        Pick()


# --- branch ---------------------------------------------------------------------------


def _router() -> Branch:
    return agentkit.branch(
        (lambda x: x < 0, lambda x: "negative"),
        (lambda x: x == 0, lambda x: "zero"),
        default=lambda x: "positive",
    )


def test_branch_picks_the_first_true_condition_or_default() -> None:
    router = _router()
    assert [router.invoke(v) for v in (-3, 0, 7)] == ["negative", "zero", "positive"]
    assert asyncio.run(router.ainvoke(-1)) == "negative"


def test_branch_only_runs_the_chosen_step() -> None:
    ran: list[str] = []

    def record(label: str) -> Lambda:
        def step(x: object) -> str:
            ran.append(label)
            return label

        return Lambda(step)

    router = agentkit.branch((lambda x: True, record("first")), default=record("default"))
    assert router.invoke(0) == "first"
    assert ran == ["first"]


def test_branch_streams_from_the_chosen_step() -> None:
    router = _router()
    assert list(router.stream(0)) == ["zero"]


# --- retry ------------------------------------------------------------------------------


def test_retry_succeeds_after_failures_and_counts_attempts() -> None:
    node = Flaky(2)
    assert node.with_retry(attempts=3).invoke(7) == 7
    assert node.attempts == 3


def test_retry_gives_up_after_attempts() -> None:
    node = Flaky(5)
    with pytest.raises(ValueError, match="attempt 3 failed"):
        node.with_retry(attempts=3).invoke(1)
    assert node.attempts == 3


def test_retry_async_counts_attempts() -> None:
    node = Flaky(1)
    assert asyncio.run(node.with_retry(attempts=2).ainvoke(4)) == 4
    assert node.attempts == 2


def test_retry_only_on_listed_exceptions() -> None:
    node = Flaky(1, exc=KeyError)
    with pytest.raises(KeyError):
        node.with_retry(attempts=3, on=(ValueError,)).invoke(1)
    assert node.attempts == 1


def test_retry_backoff_sleeps_double(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    node = Flaky(3)
    assert node.with_retry(attempts=4, backoff=0.5).invoke(1) == 1
    assert slept == [0.5, 1.0, 2.0]


def test_retry_backoff_sleeps_async(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    node = Flaky(2)
    assert asyncio.run(node.with_retry(attempts=3, backoff=0.25).ainvoke(1)) == 1
    assert slept == [0.25, 0.5]


def test_retry_no_sleep_without_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    Flaky(2).with_retry(attempts=3).invoke(1)
    assert slept == []


def test_retry_validates_arguments() -> None:
    with pytest.raises(UsageError, match="attempts must be at least 1"):
        Lambda(inc).with_retry(attempts=0)
    with pytest.raises(UsageError, match="backoff must be >= 0"):
        Lambda(inc).with_retry(backoff=-1)
    assert isinstance(Lambda(inc).with_retry(), Retry)
    assert Lambda(inc).with_retry().name == "Retry(inc)"


# --- fallbacks -------------------------------------------------------------------------


def test_fallbacks_used_in_order_when_the_primary_fails() -> None:
    primary, backup = Flaky(9), Flaky(9)
    chain = primary.with_fallbacks([backup, lambda x: x * 10])
    assert isinstance(chain, Fallbacks)
    assert chain.invoke(2) == 20
    assert (primary.attempts, backup.attempts) == (1, 1)
    assert asyncio.run(chain.ainvoke(3)) == 30


def test_fallbacks_not_used_when_primary_succeeds() -> None:
    backup = Flaky(0)
    assert Lambda(inc).with_fallbacks([backup]).invoke(1) == 2
    assert backup.attempts == 0


def test_fallbacks_reraise_the_first_error_when_all_fail() -> None:
    chain = Flaky(9, exc=KeyError).with_fallbacks([Flaky(9, exc=ValueError)], on=(Exception,))
    with pytest.raises(KeyError, match="attempt 1"):
        chain.invoke(1)


def test_fallbacks_respect_on_filter() -> None:
    backup = Flaky(0)
    chain = Flaky(9, exc=KeyError).with_fallbacks([backup], on=(ValueError,))
    with pytest.raises(KeyError):
        chain.invoke(1)
    assert backup.attempts == 0


def test_fallbacks_need_one() -> None:
    with pytest.raises(UsageError, match="at least one fallback"):
        Lambda(inc).with_fallbacks([])


# --- bind -------------------------------------------------------------------------------


def scale(x: int, factor: int = 1, offset: int = 0) -> int:
    return x * factor + offset


def test_bind_on_a_lambda_makes_a_partial() -> None:
    node = Lambda(scale, name="scale")
    bound = node.bind(factor=3, offset=1)
    assert bound.invoke(2) == 7
    assert node.invoke(2) == 2  # the original is unchanged
    assert bound.name == "scale"
    assert isinstance(bound, Lambda) and isinstance(bound.fn, functools.partial)


def test_bind_on_a_node_without_params_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"Passthrough takes no bound parameters \(got \['x'\]\)"):
        Passthrough().bind(x=1)
    with pytest.raises(UsageError, match="takes no bound parameters"):
        (Lambda(inc) | double).bind(temperature=0)
