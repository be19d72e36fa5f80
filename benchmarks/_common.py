"""Shared helpers for the benchmarks: argument parsing, timing, and result output.

Every benchmark prints one JSON object as its LAST line; a full (non ``--quick``) run also
writes it, with the date and the machine, to ``benchmarks/results/<name>.json``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def parse_args(description: str, argv: list[str] | None = None) -> argparse.Namespace:
    """An argument parser with ``--quick``; returns the parsed namespace."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="a short run (< 45 s on 2 cores), no results file"
    )
    return parser.parse_args(argv)


def machine() -> dict[str, Any]:
    """A short description of the machine the benchmark ran on."""
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
    }


def timeit_us(fn: Callable[[], Any], repeat: int = 5, number: int = 100) -> float:
    """Median over ``repeat`` rounds of the mean time of one ``fn()`` call, in microseconds."""
    if repeat < 1 or number < 1:
        raise ValueError("repeat and number must be at least 1")
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        rounds.append((time.perf_counter() - start) / number)
    return statistics.median(rounds) * 1e6


def compare_us(
    fns: Mapping[str, Callable[[], Any]], repeat: int = 5, number: int = 100
) -> dict[str, float]:
    """Like :func:`timeit_us` for several functions, with their rounds interleaved so that
    load from other processes hits all of them alike. Returns ``{name: median us}``."""
    if repeat < 1 or number < 1:
        raise ValueError("repeat and number must be at least 1")
    for fn in fns.values():  # warm up caches and lazy imports
        fn()
    rounds: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(number):
                fn()
            rounds[name].append((time.perf_counter() - start) / number)
    return {name: statistics.median(times) * 1e6 for name, times in rounds.items()}


def time_once_s(fn: Callable[[], Any]) -> float:
    """Wall-clock seconds of one ``fn()`` call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def emit(result: dict[str, Any], name: str, quick: bool) -> None:
    """Print ``result`` as the last line (JSON); when not ``quick`` also write it, with the
    date and machine, atomically to ``benchmarks/results/<name>.json``."""
    if not quick:
        record = {
            **result,
            "date": _dt.datetime.now().isoformat(timespec="seconds"),
            "machine": machine(),
        }
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        target = RESULTS_DIR / f"{name}.json"
        fd, tmp = tempfile.mkstemp(dir=RESULTS_DIR, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(record, fh, indent=2, default=str)
                fh.write("\n")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    print(json.dumps(result, default=str), flush=True)
