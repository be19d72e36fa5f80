"""The reader's step plan: linear warm-up and decay to zero at the planned total, shrunk to
the steps that fit in a time budget (never grown past the plan), stopping when it is spent."""

from __future__ import annotations

import pytest

from agentkit.core.errors import UsageError
from agentkit.finetune.reader import ReaderJob
from agentkit.finetune.reader_loop import FIT_EVERY, Plan


def test_without_a_budget_the_plan_warms_up_then_decays_to_zero() -> None:
    plan = Plan(100, 0.1)
    factors = [plan.factor(step) for step in range(101)]
    assert factors[0] < factors[5] < factors[10] == 1.0
    assert factors[50] == pytest.approx(50 / 90) and factors[100] == 0.0
    assert all(plan.fit(step, 1e9) == 100 for step in range(1, 100))  # no budget: no change


def test_a_budget_shrinks_the_plan_to_what_fits_and_stops_when_spent() -> None:
    plan = Plan(1000, 0.1, budget_s=60.0)
    assert plan.fit(FIT_EVERY - 1, 1.0) == 1000  # estimates only every FIT_EVERY steps
    assert plan.fit(FIT_EVERY, FIT_EVERY * 2.0) == 30  # 2 s a step: 30 steps fit in 60 s
    assert plan.factor(29) > 0.0 and plan.factor(30) == 0.0  # the schedule follows the plan
    assert plan.fit(2 * FIT_EVERY, 0.01) == 1000  # faster later: back up, but not past the plan
    assert plan.fit(12, 61.0) == 12  # the budget is spent: stop now
    slow = Plan(1000, 0.1, budget_s=1.0)
    assert slow.fit(FIT_EVERY, 0.9) == FIT_EVERY + 1  # always one more step than done


@pytest.mark.parametrize("budget", [-1.0, float("inf"), float("nan")])
def test_a_bad_time_budget_is_a_usage_error(budget: float) -> None:
    with pytest.raises(UsageError, match="time_budget must be a number of seconds"):
        ReaderJob(time_budget=budget)


def test_the_short_budget_recipe_is_a_valid_job() -> None:
    from agentkit.finetune.reader import SHORT_BUDGET

    job = ReaderJob(time_budget=300, **SHORT_BUDGET)
    assert (job.freeze_layers, job.learning_rate, job.max_length) == (2, 3e-4, 256)
    assert job.settings()["time_budget"] == 300
