"""Import time of ``agentkit`` vs ``langchain_core.runnables`` and ``llama_index.core``.

Each figure is the median over fresh interpreters (one subprocess per import) of the time the
``import`` statement takes inside that interpreter, so Python's own start-up is not counted
(``python_startup_s`` reports it separately). Target: ``agentkit_import_s`` < 0.3.

Run: ``.venv/bin/python benchmarks/import_time.py [--quick]``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, parse_args

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 0.3
MODULES = {
    "agentkit_import_s": "agentkit",
    "agentkit_chains_import_s": "agentkit.chains",
    "langchain_core_runnables_import_s": "langchain_core.runnables",
    "llama_index_core_import_s": "llama_index.core",
}
PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def import_seconds(module: str, runs: int) -> float:
    """Median seconds of ``import module`` in ``runs`` fresh interpreters."""
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(module=module)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
            check=True,
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def startup_seconds(runs: int) -> float:
    """Median wall-clock seconds of ``python -c pass`` (interpreter start-up)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, timeout=60)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    args = parse_args("import time of agentkit vs its peers (fresh interpreters)")
    runs = 5
    peer_runs = 3 if args.quick else 5
    result: dict[str, Any] = {}
    for key, module in MODULES.items():
        n = runs if module.startswith("agentkit") else peer_runs
        result[key] = round(import_seconds(module, n), 4)
        print(f"{module:<26} {result[key] * 1000:8.1f} ms (median of {n})")
    result["python_startup_s"] = round(startup_seconds(runs), 4)
    result["target_agentkit_import_s"] = TARGET_S
    result["meets_target"] = result["agentkit_import_s"] < TARGET_S
    result["quick"] = args.quick
    emit(result, "import_time", args.quick)


if __name__ == "__main__":
    main()
