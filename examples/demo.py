"""``make demo``: index the sample corpus, evaluate question answering on it, open the app.

1. Ingests ``data/sample/docs`` (three SQuAD v1.1 articles, CC BY-SA 4.0) into an index
   under ``.cache/demo-index`` (MiniLM embeddings; re-runs skip unchanged files).
2. Runs the sample's 397 questions through the default offline RAG chain — the extractive
   reader over the hybrid (BM25 + dense) retriever, the same chain ``agentkit app`` and
   ``agentkit ask`` use — with the eval harness, and prints EM, F1, answer containment and
   latency, and the path of the HTML report.
3. Prints the command that opens the chat app on that index.

``--fake`` instead shows the example chains of ``examples/`` answered by the fake model.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
EXAMPLES = [
    "simple_sequential",
    "sequential_review",
    "router",
    "impersonation_prompt",
    "self_consistency",
]
METRICS = "em,f1,contains,latency"


# --- the real demo ----------------------------------------------------------------------


def build_index(console: Console, index_dir: Path, embedder_name: str) -> Any:
    from agentkit.app.retrieval import make_embedder
    from agentkit.retrievers.index import Index
    from agentkit.retrievers.ingest import Ingestor
    from agentkit.retrievers.ingest.manifest import embedder_from, read_manifest

    manifest = read_manifest(index_dir) if index_dir.is_dir() else None
    embedder = embedder_from(index_dir, manifest) if manifest else make_embedder(embedder_name)
    ingestor = Ingestor(index_dir, embedder, progress=console.is_terminal)
    report = ingestor.ingest(SAMPLE / "docs")
    console.print(Text(str(report), style="dim"))
    assert ingestor.store is not None
    return Index(index_dir, embedder, ingestor.store, report)


def rag_chain(index: Any, k: int) -> Any:
    from agentkit.app.chains import ChainSettings, build_chain
    from agentkit.app.retrieval import hybrid_retriever
    from agentkit.llms.extractive import ExtractiveReader

    reader = ExtractiveReader(embedder=index.embedder)
    return build_chain(ChainSettings("rag", k=k), reader, hybrid_retriever(index, k))


def evaluate(console: Console, chain: Any, out_dir: Path, limit: int | None) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from agentkit.evals import build_metrics, load_dataset, run_eval

    dataset = load_dataset(SAMPLE / "qa.jsonl")
    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, disable=not console.is_terminal) as bar:
        task = bar.add_task("eval", total=len(dataset.head(limit)))
        run = run_eval(
            chain,
            dataset,
            build_metrics(METRICS),
            out_dir,
            limit=limit,
            concurrency=4,
            on_progress=lambda state: bar.update(task, completed=state.done),
        )
    return run


def metrics_table(run: Any) -> Table:
    table = Table(title=f"Sample QA: {run.summary['examples']} questions", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for section in ("metrics", "timing"):
        for key, value in run.summary[section].items():
            table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    return table


def app_command(index_dir: Path, runs_dir: Path) -> str:
    exe = Path(sys.executable).with_name("agentkit")
    program = str(exe.relative_to(Path.cwd())) if exe.is_relative_to(Path.cwd()) else "agentkit"
    return f"{program} app --index {_shown(index_dir)} --runs {_shown(runs_dir)}"


def _shown(path: Path) -> str:
    resolved = path.resolve()
    return (
        str(resolved.relative_to(Path.cwd())) if resolved.is_relative_to(Path.cwd()) else str(path)
    )


def real_demo(args: argparse.Namespace) -> int:
    console = Console()
    start = time.perf_counter()
    console.rule("[bold]1. Index the sample corpus[/] (3 SQuAD v1.1 articles, CC BY-SA 4.0)")
    index = build_index(console, args.index, args.embedder)
    console.print(f"{len(index)} chunks in {_shown(args.index)}")
    console.rule("[bold]2. Evaluate[/]: extractive reader over the hybrid retriever (offline)")
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run = evaluate(console, rag_chain(index, args.k), args.runs / f"sample-qa-{stamp}", args.limit)
    console.print(metrics_table(run))
    console.print(f"HTML report: {run.report_path}", markup=False, soft_wrap=True)
    console.rule("[bold]3. Chat with the index[/]")
    if importlib.util.find_spec("streamlit") is None:
        console.print(
            "first install the app extra:  .venv/bin/pip install -e '.[app]'", markup=False
        )
    console.print(
        f"open the chat app:  {app_command(args.index, args.runs)}", markup=False, soft_wrap=True
    )
    console.print(f"[dim]demo finished in {time.perf_counter() - start:.0f} s[/]")
    return 0


# --- the example chains with the fake model (--fake) ------------------------------------


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


def fake_demo() -> int:
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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fake", action="store_true", help="Show the example chains instead.")
    parser.add_argument("--index", type=Path, default=Path(".cache/demo-index"))
    parser.add_argument("--runs", type=Path, default=Path(".cache/demo-runs"))
    parser.add_argument("--embedder", choices=("default", "hashing"), default="default")
    parser.add_argument("--limit", type=int, default=None, help="Only the first N questions.")
    parser.add_argument("--k", type=int, default=4, help="Chunks retrieved per question.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return fake_demo() if args.fake else real_demo(args)


if __name__ == "__main__":
    raise SystemExit(main())
