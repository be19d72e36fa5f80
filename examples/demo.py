"""``make demo``: index the sample corpus, evaluate question answering on it, open the app.

1. Ingests ``data/sample/docs`` (three SQuAD v1.1 articles, CC BY-SA 4.0) into an index
   under ``.cache/demo-index`` (MiniLM embeddings; re-runs skip unchanged files).
2. Trains the offline span reader once (``agentkit finetune reader`` on 13 SQuAD v1.1 dev
   articles, none of them in the sample; cached and registered, later runs skip it), within
   a time budget of :data:`TRAIN_BUDGET_S` so the demo stays short; the full reader
   (``agentkit finetune reader --data ...`` with its defaults) reads better.
3. Runs the sample's 397 questions through the default offline RAG chain — the extractive
   reader over the hybrid (BM25 + dense) retriever, the same chain ``agentkit app`` and
   ``agentkit ask`` use — with the eval harness, and prints EM, F1, answer containment and
   latency, and the path of the HTML report.
   Then a before/after table: the sentence reader vs the fine-tuned reader on the same
   retrieved passages (EM, F1, abstentions).
4. Prints the command that opens the chat app on that index.

``--reader sentence`` skips the training (the untrained sentence reader answers).

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
TRAIN_BUDGET_S = 300.0  # seconds the demo's reader training may take
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
    from agentkit.retrievers.index import Index
    from agentkit.retrievers.ingest import Ingestor
    from agentkit.workspace.indexes import index_embedder

    embedder = index_embedder(index_dir, embedder_name)
    ingestor = Ingestor(index_dir, embedder, progress=console.is_terminal)
    report = ingestor.ingest(SAMPLE / "docs")
    console.print(Text(str(report), style="dim"))
    assert ingestor.store is not None
    return Index(index_dir, embedder, ingestor.store, report)


def rag_chain(index: Any, k: int, spans: bool = True) -> Any:
    """The index's own question-answering chain, answered offline by the extractive reader
    (the chain ``agentkit ask`` and the app run); ``spans=False``: the sentence reader."""
    if spans:
        return index.qa_chain("extractive", k=k)
    from agentkit.llms.extractive import ExtractiveReader

    return index.qa_chain(ExtractiveReader(index.embedder, reader="sentence"), k=k)


def ensure_reader(console: Console, choice: str) -> Path | None:
    """The registered span reader; trained here first (once) unless ``choice`` is
    ``sentence``. ``None`` when the sentence reader answers."""
    from agentkit.evals.suites import SQUAD_DEV, shared_data_dir
    from agentkit.readers import registered_reader_path

    found = registered_reader_path()
    if choice == "sentence" or found is not None:
        if found is not None and choice != "sentence":
            console.print(f"fine-tuned reader: cached ({found.name}); training skipped")
        return found if choice != "sentence" else None
    data = shared_data_dir() / SQUAD_DEV
    if not data.exists():
        console.print(f"{data} is absent: answers stay whole sentences (no reader to train)")
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from agentkit.finetune.reader import SHORT_BUDGET, ReaderJob, train_reader

    columns = (
        TextColumn("train"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[eta]}"),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("train", total=None, eta="")

        def show(event: dict[str, Any]) -> None:
            if event.get("event") in ("start", "step"):
                eta = f"eta {event['eta_s']:.0f} s" if "eta_s" in event else ""
                bar.update(task, total=event["total_steps"], completed=event["step"], eta=eta)

        job = ReaderJob(
            data=str(data), time_budget=TRAIN_BUDGET_S, eval_questions=150, **SHORT_BUDGET
        )
        result = train_reader(job, progress=show)
    held, card = result.manifest["held_out"], result.manifest
    console.print(
        f"trained {card['steps']} of {card['planned_steps']} steps in {card['train_seconds']:.0f} s"
        f" (budget {TRAIN_BUDGET_S:.0f} s); held-out SQuAD: EM {held['exact_match']:.1f}, "
        f"F1 {held['f1']:.1f}. The full reader (~40 min): agentkit finetune reader --data {data}"
    )
    return result.output


def before_after(index: Any, k: int, span: Path | None, limit: int | None) -> Table:
    """Sentence reader vs fine-tuned reader on the same retrieved passages."""
    from agentkit.evals import load_dataset
    from agentkit.evals.metrics.squad import squad_scores
    from agentkit.readers import SentenceReader
    from agentkit.readers.default import span_reader

    retriever = index.retriever(k)
    readers: dict[str, Any] = {"sentence reader": SentenceReader(index.embedder)}
    if span is not None:
        readers["fine-tuned reader"] = span_reader(span)
    rows: dict[str, list[tuple[float, float, bool]]] = {name: [] for name in readers}
    for example in load_dataset(SAMPLE / "qa.jsonl").head(limit):
        docs = retriever.invoke(example.question)
        for name, reader in readers.items():
            answer = reader.read(example.question, docs)
            em, f1 = squad_scores(answer.text, example.answers, False)
            rows[name].append((em, f1, answer.abstained))
    n = max(1, len(next(iter(rows.values()))))
    table = Table(
        title=f"Sentence reader vs fine-tuned reader ({n} questions)", title_justify="left"
    )
    for column in ("reader", "EM", "F1", "abstained"):
        table.add_column(column, justify="left" if column == "reader" else "right")
    for name, found in rows.items():
        em, f1 = (100 * sum(r[i] for r in found) / n for i in (0, 1))
        table.add_row(name, f"{em:.1f}", f"{f1:.1f}", f"{sum(r[2] for r in found) / n:.0%}")
    if span is None:
        table.add_row("fine-tuned reader", "-", "-", "not trained: agentkit finetune reader")
    return table


LEGEND = (
    "EM/F1: SQuAD exact match and token F1 (x100) vs the gold answers; abstained: share "
    "answered 'I could not find this in your documents.'"
)


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
    from agentkit.evals.legend import compact

    table = Table(title=f"Sample QA: {run.summary['examples']} questions", title_justify="left")
    table.add_column("metric")
    table.add_column("mean", justify="right")
    for key, value in compact(run.summary)[0].items():  # sums and tokens: agentkit eval show
        table.add_row(key, f"{value:.4f}")
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
    console.rule("[bold]2. The offline reader[/]: fine-tuned here once (cached)")
    span = ensure_reader(console, args.reader)
    console.rule("[bold]3. Evaluate[/]: the offline reader over the hybrid retriever")
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    chain = rag_chain(index, args.k, span is not None)
    run = evaluate(console, chain, args.runs / f"sample-qa-{stamp}", args.limit)
    from agentkit.evals.legend import legend

    console.print(metrics_table(run))
    console.print(legend(run.summary, run.records), style="dim", markup=False)
    console.print(f"HTML report: {run.report_path}", markup=False, soft_wrap=True)
    console.print(before_after(index, args.k, span, args.limit))
    console.print(LEGEND, style="dim", markup=False)
    console.rule("[bold]4. Chat with the index[/]")
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
    parser.add_argument(
        "--reader",
        choices=("auto", "sentence"),
        default="auto",
        help="auto: train the span reader once (cached), sentence: skip it (tests).",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return fake_demo() if args.fake else real_demo(args)


if __name__ == "__main__":
    raise SystemExit(main())
