"""``agentkit bench``: run the benchmarks of a source checkout (``benchmarks/*.py``).

Each benchmark prints one JSON object as its last line; this command runs them (``--quick``
unless ``--full``), shows their output as it comes, and sums up their JSON results.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from agentkit.commands.common import err, out


def checkout_benchmarks() -> Path:
    """``benchmarks/`` beside the ``agentkit`` package (present in a source checkout)."""
    import agentkit

    return Path(agentkit.__file__).resolve().parents[1] / "benchmarks"


def find_benchmarks(folder: Path, name: str | None) -> list[Path]:
    from agentkit.core.errors import UsageError

    if not folder.is_dir():
        raise UsageError(
            f"no benchmarks folder at {folder}: agentkit bench runs the benchmarks of a source "
            "checkout; clone the agentkit repository and run it there (or pass --dir)"
        )
    scripts = sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))
    if name is None:
        return scripts
    wanted = name.removesuffix(".py")
    picked = [p for p in scripts if p.stem == wanted]
    if not picked:
        names = ", ".join(p.stem for p in scripts) or "none"
        raise UsageError(f"no benchmark named {name!r} in {folder}; available: {names}")
    return picked


def last_json(lines: list[str]) -> dict[str, Any] | None:
    for line in reversed(lines):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
        if line:
            return None
    return None


def run_one(script: Path, quick: bool) -> tuple[int, float, dict[str, Any] | None]:
    command = [sys.executable, str(script), *(["--quick"] if quick else [])]
    start = time.perf_counter()
    lines: list[str] = []
    with subprocess.Popen(
        command, cwd=script.parent.parent, stdout=subprocess.PIPE, text=True, bufsize=1
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            out.print(Text(line.rstrip("\n"), style="dim"))
    return proc.returncode, time.perf_counter() - start, last_json(lines)


def bench(
    name: str = typer.Argument(None, help="One benchmark (file name without .py)."),
    full: bool = typer.Option(False, "--full", help="Full runs (default: --quick)."),
    directory: Path = typer.Option(None, "--dir", help="The benchmarks folder."),
) -> None:
    """Run the benchmarks (all, or NAME) and sum up their results."""
    scripts = find_benchmarks(directory or checkout_benchmarks(), name)
    table = Table(title="Benchmarks" + ("" if full else " (--quick)"), title_justify="left")
    for column in ("benchmark", "status", "seconds", "result"):
        table.add_column(column)
    failed = 0
    for script in scripts:
        err.print(f"== {script.name}", markup=False)
        code, seconds, result = run_one(script, not full)
        failed += code != 0
        status = "ok" if code == 0 else f"exit {code}"
        shown = json.dumps(result)[:200] if result is not None else "(no JSON line)"
        table.add_row(script.stem, status, f"{seconds:.1f}", Text(shown))
    out.print(table)
    if failed:
        err.print(f"{failed} benchmark(s) failed", markup=False)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)
