"""Run every example chain against the fake model and print the outputs (``make demo``).

Each example module offers ``demo_runs()``: (title, chain, input) triples. Pass a real
model to an example's ``build(llm)`` to run it for real.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

EXAMPLES = [
    "simple_sequential",
    "sequential_review",
    "router",
    "impersonation_prompt",
    "self_consistency",
]


def show(value: Any, key: str = "") -> Text:
    """A readable rendering of one input or output value (no rich markup is interpreted)."""
    if key == "destination" and isinstance(value, dict):
        name = value.get("name") or "the default chain"
        score = value.get("score")
        return Text(name + (f" (similarity {score:.2f})" if score is not None else ""))
    if isinstance(value, dict):
        return Text(", ".join(f"{k}: {v}" for k, v in value.items()))
    if isinstance(value, list):
        return Text("\n".join(f"- {item}" for item in value))
    return Text(str(value))


def render(title: str, chain: Any, chain_input: Any, result: dict[str, Any], ms: float) -> Panel:
    table = Table(show_header=False, box=None, expand=True, padding=(0, 1))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    inputs = chain_input if isinstance(chain_input, dict) else {chain.input_keys[0]: chain_input}
    for key, value in inputs.items():
        table.add_row(Text(f"in  {key}", style="dim"), show(value))
    for key in chain.output_keys:
        if key in result:
            table.add_row(f"out {key}", show(result[key], key))
    subtitle = f"{type(chain).__name__} · {ms:.1f} ms"
    return Panel(table, title=f"[bold]{title}[/]", subtitle=subtitle, title_align="left")


def main() -> int:
    import importlib

    console = Console()
    console.print("[bold]agentkit demo[/]: the example chains, answered by the fake model\n")
    for module_name in EXAMPLES:
        module = importlib.import_module(module_name)
        for title, chain, chain_input in module.demo_runs():
            start = time.perf_counter()
            result = chain.invoke(chain_input)
            ms = (time.perf_counter() - start) * 1000
            console.print(render(title, chain, chain_input, result, ms))
    console.print("[dim]Pass a real model to an example's build(llm) to run it for real.[/]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
