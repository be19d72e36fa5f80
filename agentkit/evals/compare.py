"""Compare two runs: per-metric deltas with paired-bootstrap confidence intervals, and the
examples whose pass/fail scores flipped.

Runs are paired by example id (examples in only one run are counted, not compared). The
bootstrap resamples the examples with replacement ``resamples`` times (seeded) and takes
the percentile interval of the mean difference (B minus A).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.evals.results import EvalRun

CHUNK = 256  # resamples drawn at once (bounds memory on large runs)


@dataclass
class MetricDelta:
    key: str
    a: float
    b: float
    delta: float
    low: float
    high: float
    examples: int

    @property
    def significant(self) -> bool:
        """Whether the interval excludes zero."""
        return self.low > 0 or self.high < 0


@dataclass
class Flips:
    """Examples of a 0/1 score that went from 0 to 1 (gained) or 1 to 0 (lost); the id
    lists are cut to ``max_flipped``, the counts are complete."""

    gained: list[str]
    lost: list[str]
    n_gained: int
    n_lost: int


@dataclass
class Comparison:
    """B against A: ``deltas`` (B minus A) in metric order, ``flipped`` examples,
    the paired/unpaired counts, the runs' names (``a``, ``b``) and ``warnings`` about
    what makes a difference misleading (latency measured at another cache warmth)."""

    deltas: list[MetricDelta]
    flipped: dict[str, Flips] = field(default_factory=dict)
    common: int = 0
    only_a: int = 0
    only_b: int = 0
    confidence: float = 0.95
    a: str = "A"
    b: str = "B"
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for row, delta in zip(data["deltas"], self.deltas, strict=True):
            row["significant"] = delta.significant
        return data


def bootstrap_ci(
    diffs: Any, resamples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile interval of the mean of ``diffs`` under resampling with replacement."""
    import numpy as np

    values = np.asarray(diffs, dtype=np.float64)
    n = len(values)
    if n == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    for start in range(0, resamples, CHUNK):
        stop = min(start + CHUNK, resamples)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = values[idx].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def _as_run(run: EvalRun | str | Path) -> EvalRun:
    from agentkit.evals.report import open_run

    return run if isinstance(run, EvalRun) else open_run(run)


def _name(run: EvalRun | str | Path, fallback: str) -> str:
    folder = run.out_dir if isinstance(run, EvalRun) else Path(run)
    return str(folder) if folder is not None else fallback


def _warmth(run: EvalRun) -> dict[str, str] | None:
    found = run.meta.get("warmth")
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else None


def warmth_warnings(a: EvalRun, b: EvalRun, keys: list[str]) -> list[str]:
    """A warning when latency is compared between runs that started at another warmth
    (a cold vs a warm LLM cache, an index built in the run vs opened)."""
    if not any(k.startswith(("latency", "ttft")) for k in keys):
        return []
    wa, wb = _warmth(a), _warmth(b)
    if wa is None and wb is None:
        return []  # neither run recorded it (Python API runs, older runs): nothing to compare
    if wa is None or wb is None:
        missing = "A" if wa is None else "B"
        return [
            f"latency: run {missing} did not record its cache warmth (an older run, or one "
            "started from Python); a latency difference may come from a cold vs warm start"
        ]
    differ = sorted(k for k in {*wa, *wb} if wa.get(k) != wb.get(k))
    if not differ:
        return []
    shown = "; ".join(f"{k}: A {wa.get(k, '?')}, B {wb.get(k, '?')}" for k in differ)
    return [
        f"latency: the runs started at another cache warmth ({shown}); the latency "
        "difference measures the cache, not the chain: rerun both alike to compare speed"
    ]


def compare(
    run_a: EvalRun | str | Path,
    run_b: EvalRun | str | Path,
    *,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    max_flipped: int = 50,
) -> Comparison:
    """Compare run B against run A (runs or run folders)."""
    if not 0 < confidence < 1:
        raise UsageError(f"confidence must lie between 0 and 1, got {confidence}")
    if resamples < 100:
        raise UsageError(f"use at least 100 bootstrap resamples, got {resamples}")
    first, second = _as_run(run_a), _as_run(run_b)
    a, b = first.scores(), second.scores()
    common = [i for i in a if i in b]
    if not common:
        raise UsageError("the two runs share no example ids; compare runs on the same dataset")
    keys = sorted({k for i in common for k in a[i] if k in b[i]})
    deltas, flipped = [], {}
    for key in keys:
        ids = [i for i in common if key in a[i] and key in b[i]]
        xs = [a[i][key] for i in ids]
        ys = [b[i][key] for i in ids]
        diffs = [y - x for x, y in zip(xs, ys, strict=True)]
        low, high = bootstrap_ci(diffs, resamples, confidence, seed)
        mean_a, mean_b = sum(xs) / len(xs), sum(ys) / len(ys)
        deltas.append(MetricDelta(key, mean_a, mean_b, mean_b - mean_a, low, high, len(ids)))
        if set(xs) | set(ys) <= {0.0, 1.0}:
            gained = [i for i, x, y in zip(ids, xs, ys, strict=True) if x < y]
            lost = [i for i, x, y in zip(ids, xs, ys, strict=True) if x > y]
            if gained or lost:
                flipped[key] = Flips(
                    gained[:max_flipped], lost[:max_flipped], len(gained), len(lost)
                )
    return Comparison(
        deltas,
        flipped,
        common=len(common),
        only_a=sum(1 for i in a if i not in b),
        only_b=sum(1 for i in b if i not in a),
        confidence=confidence,
        a=_name(run_a, "A"),
        b=_name(run_b, "B"),
        warnings=warmth_warnings(first, second, keys),
    )
