"""``agentkit eval``: run suites and chains over datasets, report, compare, score files."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from agentkit.core.errors import UsageError

eval_app = typer.Typer(
    name="eval",
    help="Evaluate chain graphs on QA datasets: run, report, compare, score.",
    no_args_is_help=True,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _pairs(items: list[str] | None, option: str) -> dict[str, str] | None:
    if not items:
        return None
    result = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise UsageError(f"{option} takes KEY=VALUE, got {item!r}")
        result[key.strip()] = value.strip()
    return result


def _prices(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    import yaml

    if not path.is_file():
        raise UsageError(f"price table {path} does not exist; check the path")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise UsageError(f"price table {path} must map model names to {{input, output}} prices")
    return data


def _metrics_table(summary: dict[str, Any], title: str) -> Table:
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for section in ("metrics", "timing"):
        for key, value in (summary.get(section) or {}).items():
            table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    return table


@eval_app.command("run")
def run_command(
    suite: Path = typer.Option(None, "--suite", help="A suite YAML (chain + dataset + options)."),
    chain: str = typer.Option(None, "--chain", help="A chain spec YAML or module:function."),
    dataset: Path = typer.Option(
        None, "--dataset", help="JSONL/CSV/JSON/SQuAD file or BEIR folder."
    ),
    metrics: str = typer.Option(
        None, "--metrics", help="Comma-separated (default em,f1,contains,latency,tokens)."
    ),
    concurrency: int = typer.Option(None, "--concurrency", min=1, help="Examples at once."),
    limit: int = typer.Option(None, "--limit", min=1, help="Only the first N examples."),
    sample: int = typer.Option(None, "--sample", min=1, help="N examples at random (--seed)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out."),
    out_dir: Path = typer.Option(None, "--out", help="Run folder (default runs/<name>-<time>)."),
    timeout: float = typer.Option(None, "--timeout", help="Seconds per attempt."),
    retries: int = typer.Option(None, "--retries", min=0, help="Extra attempts on failure."),
    judge: str = typer.Option(
        None, "--judge", help="Model for judge metrics and perplexity: YAML or module:function."
    ),
    prices: Path = typer.Option(None, "--prices", help="YAML {model: {input, output}} USD/1M."),
    input_map: list[str] = typer.Option(None, "--input-map", help="CHAIN_KEY=EXAMPLE_FIELD."),
    output_map: list[str] = typer.Option(None, "--output-map", help="FIELD=OUTPUT_KEY."),
    stream: bool = typer.Option(False, "--stream", help="Stream outputs (measures TTFT)."),
    seed: int = typer.Option(0, "--seed", help="Seeds --sample; recorded, passed as config."),
    report: bool = typer.Option(True, "--report/--no-report", help="Write report.html."),
) -> None:
    """Run a chain over a dataset and score it (resumable with --resume)."""
    from agentkit.evals.datasets import load_dataset
    from agentkit.evals.metrics import DEFAULT_METRICS, build_metrics
    from agentkit.evals.runner import run_eval
    from agentkit.evals.suite import Suite, load_chain, load_suite

    base: Path | None = None  # relative paths on the command line stay relative to the cwd
    if suite is not None:
        spec = load_suite(suite)
        base = suite.parent
    elif chain and dataset:
        spec = Suite(name=dataset.name.split(".")[0], chain=chain, dataset=dataset)
    else:
        raise UsageError("give --suite FILE, or both --chain and --dataset")
    if chain:
        spec.chain, base = chain, None
    if dataset:
        spec.dataset = dataset
    if resume and out_dir is None and spec.out is None:
        raise UsageError("--resume needs --out: the folder of the run to continue")
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = out_dir or spec.out or Path("runs") / f"{spec.name}-{stamp}"
    data = load_dataset(spec.dataset)
    for warning in data.duplicates[:3]:
        err.print(f"warning: {warning}", markup=False)
    if len(data.duplicates) > 3:
        err.print(f"warning: {len(data.duplicates) - 3} more duplicate questions", markup=False)
    judge_model = (
        load_chain(judge or spec.judge, None if judge else base) if (judge or spec.judge) else None
    )
    names = metrics or ",".join(spec.metrics or DEFAULT_METRICS)
    built = build_metrics(
        names,
        v2=data.has_unanswerable,
        judge=judge_model,
        model=judge_model,
        prices=_prices(prices) or spec.prices,
        ks=spec.ks,
    )
    graph = load_chain(spec.chain, base)
    options = {
        "concurrency": concurrency or spec.concurrency,
        "timeout": timeout if timeout is not None else spec.timeout,
        "retries": retries if retries is not None else spec.retries,
        "input_map": _pairs(input_map, "--input-map") or spec.input_map,
        "output_map": _pairs(output_map, "--output-map") or spec.output_map,
        "stream": stream,
        "seed": seed,
    }
    with _progress() as progress:
        run = run_eval(
            graph,
            data,
            built,
            folder,
            limit=None if sample else (limit or spec.limit),
            sample=sample,
            resume=resume,
            report=report,
            on_progress=progress,
            meta={"suite": spec.name} if suite is not None else None,
            **options,
        )
    out.print(_metrics_table(run.summary, f"{spec.name}: {run.summary['examples']} examples"))
    for key, what in (("errors", "the chain failed on"), ("metric_errors", "a metric failed on")):
        if run.summary[key]:
            err.print(f"warning: {what} {run.summary[key]} examples (see results.jsonl)")
    out.print(f"results: {folder}", markup=False)
    if report:
        out.print(f"report: {folder / 'report.html'}", markup=False)


class _progress:
    """A rich progress bar fed by the runner's progress callback."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("eval"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[scores]}"),
            console=err,
        )
        self.task: Any = None

    def __enter__(self) -> _progress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def __call__(self, state: Any) -> None:
        if self.task is None:
            self.task = self.bar.add_task("eval", total=state.total, rate="", scores="")
        new = state.done - state.resumed
        rate = f"{new / state.elapsed:.1f}/s" if state.elapsed > 0 and new else ""
        shown = list(state.running.items())[:4]
        scores = " ".join(f"{k}={v:.3f}" for k, v in shown)
        self.bar.update(self.task, completed=state.done, rate=rate, scores=scores)


@eval_app.command("report")
def report_command(
    run_dir: Path = typer.Argument(..., help="A finished run folder."),
    output: Path = typer.Option(None, "--output", "-o", help="Where to write the HTML."),
) -> None:
    """(Re)write the HTML report of a run."""
    from agentkit.evals.report import report_run

    path = report_run(run_dir, output)
    out.print(f"report: {path}", markup=False)


@eval_app.command("compare")
def compare_command(
    run_a: Path = typer.Argument(..., help="The baseline run folder."),
    run_b: Path = typer.Argument(..., help="The run compared with it."),
    resamples: int = typer.Option(2000, "--resamples", min=100, help="Bootstrap resamples."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Per-metric deltas (B - A) with paired-bootstrap 95% intervals, and flipped examples."""
    from agentkit.evals.compare import compare

    result = compare(run_a, run_b, resamples=resamples, seed=seed)
    if as_json:
        print(json.dumps(result.to_dict()))
        return
    table = Table(title=f"{run_b} vs {run_a} ({result.common} paired examples)")
    for column in ("metric", "A", "B", "delta", "95% CI", ""):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for d in result.deltas:
        mark = "*" if d.significant else ""
        ci = f"[{d.low:+.4f}, {d.high:+.4f}]"
        table.add_row(d.key, f"{d.a:.4f}", f"{d.b:.4f}", f"{d.delta:+.4f}", ci, mark)
    out.print(table)
    out.print("* the interval excludes 0", markup=False)
    for key, flips in result.flipped.items():
        out.print(
            f"{key}: {flips.n_gained} gained (e.g. {', '.join(flips.gained[:5]) or '-'}), "
            f"{flips.n_lost} lost (e.g. {', '.join(flips.lost[:5]) or '-'})",
            markup=False,
        )
    if result.only_a or result.only_b:
        out.print(f"unpaired: {result.only_a} only in A, {result.only_b} only in B", markup=False)


@eval_app.command("score")
def score_command(
    dataset: Path = typer.Option(..., "--dataset", help="The dataset (SQuAD JSON, JSONL...)."),
    predictions: Path = typer.Option(..., "--predictions", help="JSON {question id: answer}."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Score a predictions file like the official SQuAD v1.1/v2.0 scripts (EM, F1 x 100)."""
    from agentkit.evals.datasets import load_dataset
    from agentkit.evals.squad_score import load_predictions, score_squad

    result = score_squad(load_dataset(dataset), load_predictions(predictions))
    if as_json:
        print(json.dumps(result))
        return
    table = Table(title=f"SQuAD v{result['version']} scores")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, f"{value:.3f}" if isinstance(value, float) else str(value))
    out.print(table)
