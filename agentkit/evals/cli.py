"""``agentkit eval``: run suites and chains over datasets, report, compare, score files."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from agentkit.commands.common import number_range, printable
from agentkit.core.errors import UsageError
from agentkit.core.refs import ALLOW_IMPORTS_HELP
from agentkit.scale.cluster import check_executor

eval_app = typer.Typer(
    name="eval",
    help="Evaluate chain graphs on QA datasets: run, report, compare, score.",
    no_args_is_help=True,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
MAX_CONCURRENCY = 1024
MAX_TIMEOUT = 86_400.0  # seconds per attempt: one day
MAX_RETRIES = 100
MAX_RESAMPLES = 1_000_000  # bootstrap means are held in memory: 8 MB
MAX_SEED = 2**32 - 1  # numpy's seed range


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
    """The compact table: quality means and median/p95 latency (details: :func:`_details`)."""
    from agentkit.evals.legend import compact

    table = Table(title=Text(printable(title)))
    table.add_column("metric")
    table.add_column("mean", justify="right")
    for key, value in compact(summary)[0].items():
        table.add_row(Text(printable(key)), Text(f"{value:.4f}"))
    return table


def _details(summary: dict[str, Any]) -> str:
    """Sums, token counts and the other timing values, on one line."""
    from agentkit.evals.legend import compact

    shown = [f"{k} {v:.4g}" for k, v in compact(summary)[1].items()]
    return "details: " + ", ".join(shown) if shown else ""


def print_summary(
    summary: dict[str, Any], title: str, records: Any = (), folder: Path | None = None
) -> None:
    """The compact table, the legend line, then the details (or, given the run ``folder``,
    the command that shows them)."""
    from agentkit.evals.legend import legend

    out.print(_metrics_table(summary, title))
    line = legend(summary, records)
    if line:
        out.print(printable(line), markup=False, style="dim")
    details = _details(summary)
    if details:
        hint = f"sums, tokens and timing: agentkit eval show {folder}" if folder else details
        out.print(printable(hint), markup=False, style="dim")


def _warmth(cache: Path | None) -> dict[str, str]:
    """Whether this run starts cold or warm: the LLM response cache (off, cold: empty, warm:
    holds answers) and whether a suite index was built in this run (its model is loaded)."""
    from agentkit.evals import suites
    from agentkit.llms.cache import get_llm_cache

    state = {"llm_cache": "off", "index": "opened"}
    found = get_llm_cache() if cache is not None else None
    if found is not None:
        try:
            state["llm_cache"] = "warm" if len(found) else "cold"  # type: ignore[arg-type]
        except TypeError:
            state["llm_cache"] = "unknown"
    if suites.BUILT:
        state["index"] = "built in this run"
    return state


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
    concurrency: int = typer.Option(
        None, "--concurrency", min=1, max=MAX_CONCURRENCY, help="Examples at once."
    ),
    limit: int = typer.Option(None, "--limit", min=1, help="Only the first N examples."),
    sample: int = typer.Option(None, "--sample", min=1, help="N examples at random (--seed)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out."),
    out_dir: Path = typer.Option(None, "--out", help="Run folder (default runs/<name>-<time>)."),
    timeout: float = typer.Option(
        None,
        "--timeout",
        callback=number_range(0, MAX_TIMEOUT, above=True),
        help="Seconds per attempt.",
    ),
    retries: int = typer.Option(
        None, "--retries", min=0, max=MAX_RETRIES, help="Extra attempts on failure."
    ),
    judge: str = typer.Option(
        None, "--judge", help="Model for judge metrics and perplexity: YAML or module:function."
    ),
    prices: Path = typer.Option(None, "--prices", help="YAML {model: {input, output}} USD/1M."),
    input_map: list[str] = typer.Option(None, "--input-map", help="CHAIN_KEY=EXAMPLE_FIELD."),
    output_map: list[str] = typer.Option(None, "--output-map", help="FIELD=OUTPUT_KEY."),
    stream: bool = typer.Option(False, "--stream", help="Stream outputs (measures TTFT)."),
    seed: int = typer.Option(
        0, "--seed", min=0, max=MAX_SEED, help="Seeds --sample; recorded, passed as config."
    ),
    report: bool = typer.Option(True, "--report/--no-report", help="Write report.html."),
    allow_imports: bool = typer.Option(False, "--allow-imports", help=ALLOW_IMPORTS_HELP),
    cache: Path = typer.Option(
        None, "--cache", help="SQLite LLM response cache: reruns answer from it."
    ),
    executor: str = typer.Option(
        "local", "--executor", help="'local', or 'ray': run examples on Ray actors."
    ),
    address: str = typer.Option(
        None, "--address", help="Ray cluster address (default $RAY_ADDRESS, else a local Ray)."
    ),
    actors: int = typer.Option(
        None, "--actors", min=1, max=10_000, help="Ray actors (default: one per CPU)."
    ),
    gpus_per_actor: float = typer.Option(
        0.0, "--gpus-per-actor", min=0.0, max=64.0, help="GPUs of each Ray actor."
    ),
    max_calls: int = typer.Option(
        None, "--max-calls", min=1, help="Ray: examples in flight across all actors (rate cap)."
    ),
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
    from agentkit.evals.data_home import find_data

    spec.dataset = find_data(spec.dataset, dataset) if dataset else find_data(spec.dataset)
    if resume and out_dir is None and spec.out is None:
        raise UsageError("--resume needs --out: the folder of the run to continue")
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = out_dir or spec.out or Path("runs") / f"{spec.name}-{stamp}"
    data = load_dataset(spec.dataset)
    note = data.duplicate_note()
    if note:
        err.print(f"warning: {printable(note)}", markup=False)
    trust = True if allow_imports else None  # None: the default (or $AGENTKIT_ALLOW_IMPORTS)
    judge_model = (
        load_chain(judge or spec.judge, None if judge else base, trust)
        if (judge or spec.judge)
        else None
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
    graph = load_chain(spec.chain, base, trust)
    options = {
        "concurrency": concurrency or spec.concurrency,
        "timeout": timeout if timeout is not None else spec.timeout,
        "retries": retries if retries is not None else spec.retries,
        "input_map": _pairs(input_map, "--input-map") or spec.input_map,
        "output_map": _pairs(output_map, "--output-map") or spec.output_map,
        "stream": stream,
        "seed": seed,
    }
    on_ray = check_executor(executor, address, actors, gpus_per_actor) == "ray"
    if on_ray and cache is not None:
        raise UsageError("--cache works with --executor local only (workers do not share it)")
    if max_calls is not None and not on_ray:
        raise UsageError("--max-calls applies to --executor ray only; add --executor ray")
    from agentkit.llms.cache import get_llm_cache, set_llm_cache

    previous = get_llm_cache()
    if cache is not None:  # opened (and checked) before the run starts
        set_llm_cache(cache)
    meta: dict[str, Any] = {"warmth": _warmth(cache)}
    if suite is not None:
        meta["suite"] = spec.name
    with _progress() as progress:
        if on_ray:  # the same run, its examples on Ray actors (chain and metrics as specs)
            from agentkit.scale import ray_run_eval

            run = ray_run_eval(
                graph, data, names, folder, judge=judge_model,
                prices=_prices(prices) or spec.prices, ks=spec.ks, address=address,
                actors=actors, gpus_per_actor=gpus_per_actor, max_calls=max_calls,
                allow_imports=trust, limit=None if sample else (limit or spec.limit),
                sample=sample, resume=resume, report=report, on_progress=progress,
                meta=meta, **options,
            )  # fmt: skip
        else:
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
                meta=meta,
                **options,
            )
    set_llm_cache(previous)
    title = f"{spec.name}: {run.summary['examples']} examples"
    print_summary(run.summary, title, run.records, folder)
    for key, what in (("errors", "the chain failed on"), ("metric_errors", "a metric failed on")):
        if run.summary[key]:
            err.print(f"warning: {what} {run.summary[key]} examples (see results.jsonl)")
    out.print(f"results: {printable(folder)}", markup=False)
    if report:
        out.print(f"report: {printable(folder / 'report.html')}", markup=False)


class _progress:
    """A rich progress bar fed by the runner's progress callback."""

    def __init__(self) -> None:
        from agentkit.retrievers.ingest.progress import rich_progress

        columns = ("eval", "bar", "count", "{rate}", "elapsed", "ETA", "remaining", "{scores}")
        self.bar = rich_progress(*columns, console=err)
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


@eval_app.command("show")
def show_command(
    run_dir: Path = typer.Argument(..., help="A finished run folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """The metrics of a finished run: the compact table, what each metric means, details."""
    from agentkit.evals.report import open_run

    run = open_run(run_dir)
    if as_json:
        print(json.dumps(run.summary))
        return
    name = run.meta.get("suite") or (run.meta.get("chain") or {}).get("name") or run_dir.name
    print_summary(run.summary, f"{name}: {run.summary.get('examples', 0)} examples", run.records)
    warmth = run.meta.get("warmth")
    if isinstance(warmth, dict):
        shown = ", ".join(f"{k}: {v}" for k, v in warmth.items())
        out.print(printable(f"start: {shown}"), markup=False, style="dim")


@eval_app.command("report")
def report_command(
    run_dir: Path = typer.Argument(..., help="A finished run folder."),
    output: Path = typer.Option(None, "--output", "-o", help="Where to write the HTML."),
) -> None:
    """(Re)write the HTML report of a run."""
    from agentkit.evals.report import report_run

    path = report_run(run_dir, output)
    out.print(f"report: {printable(path)}", markup=False)


@eval_app.command("compare")
def compare_command(
    run_a: Path = typer.Argument(..., help="The baseline run folder."),
    run_b: Path = typer.Argument(..., help="The run compared with it."),
    resamples: int = typer.Option(
        2000, "--resamples", min=100, max=MAX_RESAMPLES, help="Bootstrap resamples."
    ),
    seed: int = typer.Option(0, "--seed", min=0, max=MAX_SEED, help="Bootstrap seed."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Per-metric deltas (B - A) with paired-bootstrap 95% intervals, and flipped examples."""
    from agentkit.evals.compare import compare

    result = compare(run_a, run_b, resamples=resamples, seed=seed)
    if as_json:
        print(json.dumps(result.to_dict()))
        return
    for line in compare_lines(result):
        out.print(line if isinstance(line, Table) else printable(line), markup=False)
    for warning in result.warnings:
        err.print(f"warning: {printable(warning)}", markup=False)


def compare_lines(result: Any) -> list[Any]:
    """The comparison as printed: A and B named first, then a table with A before B in
    every row, the flips (A -> B) and the unpaired counts; empty parts say so."""
    from agentkit.evals.legend import meaning

    lines: list[Any] = [
        f"A: {result.a}",
        f"B: {result.b}",
        f"{result.common} paired examples; delta = B - A",
    ]
    if result.deltas:
        table = Table()
        for column in ("metric", "A", "B", "delta (B - A)", "95% CI", ""):
            table.add_column(column, justify="left" if column == "metric" else "right")
        for d in result.deltas:
            ci = f"[{d.low:+.4f}, {d.high:+.4f}]"
            mark = "*" if d.significant else ""
            table.add_row(
                Text(printable(d.key)), f"{d.a:.4f}", f"{d.b:.4f}", f"{d.delta:+.4f}", ci, mark
            )
        lines += [table, "* the interval excludes 0"]
        known = [f"{d.key} = {meaning(d.key)}" for d in result.deltas if meaning(d.key)]
        if known:
            lines.append("; ".join(known))
    else:
        lines.append("no metric is scored in both runs: nothing to compare")
    for key, flips in result.flipped.items():
        gained = f" (e.g. {', '.join(flips.gained[:5])})" if flips.gained else ""
        lost = f" (e.g. {', '.join(flips.lost[:5])})" if flips.lost else ""
        lines.append(
            f"{key}: {flips.n_gained} gained (A 0 -> B 1){gained}, "
            f"{flips.n_lost} lost (A 1 -> B 0){lost}"
        )
    if result.deltas and not result.flipped:
        lines.append("no pass/fail score changed between A and B")
    if result.only_a or result.only_b:
        lines.append(f"unpaired: {result.only_a} only in A, {result.only_b} only in B")
    return lines


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
        shown = f"{value:.3f}" if isinstance(value, float) else printable(value)
        table.add_row(Text(printable(key)), Text(shown))
    out.print(table)
