"""The eval runner: any chain graph over a dataset, concurrently, traced, resumable.

Examples run on the event loop (``ainvoke``), at most ``concurrency`` at once, each with a
timeout per attempt and ``retries`` more attempts on failure, traced with its own
:class:`~agentkit.core.tracing.InMemoryTracer` (the spans are kept with the result). Each
finished example is appended to the run's journal and fsynced, so a killed run resumes
where it stopped (``resume=True``) without losing or re-scoring an example. A chain that
raises a :class:`~agentkit.core.errors.UsageError` (a developer mistake, such as an output
the harness cannot read) stops the run; other failures, of the chain or of an ``output_map``
function, are recorded on the example, which is scored as an empty answer. (A chain
without native async runs in a worker thread, which a timeout cannot stop: the example is
recorded as timed out while the thread finishes in the background.)
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentkit.core.config import RunConfig
from agentkit.core.errors import UsageError
from agentkit.core.streams import join_chunks
from agentkit.core.tracing import InMemoryTracer
from agentkit.evals import results as res
from agentkit.evals.datasets import Dataset
from agentkit.evals.journal import GroupCommit
from agentkit.evals.mapping import InputMap, OutputMap, make_input, read_output
from agentkit.evals.metrics.base import Metric
from agentkit.evals.records import Example, Prediction

# results keep the first contexts, cut to a length (the metrics see them all, whole)
MAX_STORED_CONTEXTS = 10
MAX_CONTEXT_CHARS = 2000


@dataclass
class Progress:
    """Reported after each finished example."""

    done: int
    total: int
    resumed: int
    errors: int
    elapsed: float
    running: dict[str, float] = field(default_factory=dict)


ProgressFn = Callable[[Progress], None]


class EvalRunner:
    """Runs one chain over examples and scores the predictions."""

    def __init__(
        self,
        chain: Any,
        metrics: Sequence[Metric],
        *,
        input_map: InputMap = None,
        output_map: OutputMap = None,
        concurrency: int = 8,
        timeout: float | None = None,
        retries: int = 0,
        backoff: float = 0.0,
        stream: bool = False,
        keep_spans: bool = True,
        seed: int = 0,
    ) -> None:
        if concurrency < 1:
            raise UsageError(f"concurrency must be at least 1, got {concurrency}")
        if timeout is not None and timeout <= 0:
            raise UsageError(f"timeout must be a positive number of seconds, got {timeout}")
        if retries < 0:
            raise UsageError(f"retries must be 0 or more, got {retries}")
        if not metrics:
            raise UsageError("give at least one metric (see agentkit.evals.build_metrics)")
        names = [m.name for m in metrics]
        if len(set(names)) != len(names):
            raise UsageError(f"metric names must be unique, got {names}")
        self.chain, self.metrics = chain, list(metrics)
        self.input_map, self.output_map = input_map, output_map
        self.concurrency, self.timeout, self.retries, self.backoff = (
            concurrency,
            timeout,
            retries,
            backoff,
        )
        self.stream, self.keep_spans, self.seed = stream, keep_spans, seed

    def options(self) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "timeout": self.timeout,
            "retries": self.retries,
            "backoff": self.backoff,
            "stream": self.stream,
            "seed": self.seed,
        }

    # --- one example ----------------------------------------------------------------

    async def _call(self, input: Any, config: RunConfig) -> tuple[Any, float | None]:
        """The chain's output and, when streaming, the seconds to its first chunk."""
        if not self.stream:
            return await self.chain.ainvoke(input, config), None
        start, first, chunks = time.perf_counter(), None, []
        async for chunk in self.chain.astream(input, config):
            if first is None:
                first = time.perf_counter() - start
            chunks.append(chunk)
        return join_chunks(chunks), first

    async def predict(self, example: Example) -> tuple[Prediction, int]:
        """The chain's prediction for one example and the number of attempts it took."""
        input = make_input(example, self.chain, self.input_map)
        error: str | None = None
        for attempt in range(1, self.retries + 2):
            tracer = InMemoryTracer()
            config = RunConfig(
                tracers=(tracer,),
                tags=("eval",),
                metadata={"example_id": example.id},
                configurable={"seed": self.seed},
            )
            start = time.perf_counter()
            try:
                output, ttft = await asyncio.wait_for(self._call(input, config), self.timeout)
                latency = time.perf_counter() - start
                # an output_map that fails on one odd output fails that example only
                fields = read_output(output, self.output_map)
            except UsageError:
                raise
            except asyncio.TimeoutError:
                error = f"RunTimeoutError: no answer within {self.timeout} s (attempt {attempt})"
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
            else:
                return Prediction(
                    **fields, latency=latency, ttft=ttft, spans=_spans(tracer)
                ), attempt
            if attempt <= self.retries and self.backoff:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        latency = time.perf_counter() - start
        return Prediction(latency=latency, spans=_spans(tracer), error=error), self.retries + 1

    async def score(
        self, example: Example, prediction: Prediction
    ) -> tuple[dict[str, dict[str, float]], dict[str, str], dict[str, str]]:
        """(scores by metric, notes, metric errors) of one prediction."""
        scores: dict[str, dict[str, float]] = {}
        notes: dict[str, str] = {}
        errors: dict[str, str] = {}
        for metric in self.metrics:
            try:
                if metric.calls_model:
                    values = await asyncio.to_thread(metric.score, example, prediction)
                else:
                    values = metric.score(example, prediction)
            except UsageError:
                raise
            except Exception as exc:
                errors[metric.name] = f"{type(exc).__name__}: {exc}"
                continue
            scores[metric.name] = {k: float(v) for k, v in values.items()}
            notes.update(getattr(values, "notes", {}))
        return scores, notes, errors

    async def run_one(self, index: int, example: Example) -> dict[str, Any]:
        """The result record of one example."""
        prediction, attempts = await self.predict(example)
        scores, notes, errors = await self.score(example, prediction)
        stored = prediction.to_dict(with_spans=self.keep_spans)
        stored["contexts"] = [
            c[:MAX_CONTEXT_CHARS] for c in prediction.contexts[:MAX_STORED_CONTEXTS]
        ]
        record: dict[str, Any] = {
            "id": example.id,
            "index": index,
            "question": example.question,
            "answers": list(example.answers),
            "category": example.category,
            "relevant_ids": list(example.relevant_ids),
            "prediction": stored,
            "scores": scores,
            "attempts": attempts,
        }
        if notes:
            record["notes"] = notes
        if errors:
            record["metric_errors"] = errors
        return record

    # --- many examples --------------------------------------------------------------

    async def run(
        self,
        dataset: Dataset,
        out_dir: str | Path | None = None,
        *,
        limit: int | None = None,
        sample: int | None = None,
        resume: bool = False,
        report: bool = True,
        on_progress: ProgressFn | None = None,
        meta: dict[str, Any] | None = None,
        execute: Callable[[int, Example], Awaitable[dict[str, Any]]] | None = None,
    ) -> res.EvalRun:
        """Run every example of ``dataset`` (the first ``limit``, or ``sample`` drawn with
        the run's seed) not yet in the journal. ``execute`` makes the record of one
        example in place of :meth:`run_one` (a Ray executor runs it on a worker)."""
        from agentkit.evals.folder import RunFolder

        examples = dataset.select(limit, sample, self.seed)
        meta = {**(meta or {}), "selection": {"limit": limit, "sample": sample, "n": len(examples)}}
        folder = RunFolder(out_dir, self, dataset, resume, meta) if out_dir is not None else None
        done = folder.start() if folder is not None else {}
        pending = [(i, ex) for i, ex in enumerate(examples) if ex.id not in done]
        tracker = _Tracker(len(examples), len(examples) - len(pending), self.metrics, on_progress)
        for ex in examples:
            if ex.id in done:
                tracker.add(done[ex.id], resumed=True)
        tracker.report()
        records = dict(done)
        queue: asyncio.Queue[tuple[int, Example]] = asyncio.Queue()
        for item in pending:
            queue.put_nowait(item)
        writer = GroupCommit(folder.journal) if folder is not None else None

        async def worker() -> None:
            while not queue.empty():
                index, example = queue.get_nowait()
                record = await (execute or self.run_one)(index, example)
                if writer is not None:  # durable before it counts as done
                    await writer.append(record)
                records[example.id] = record
                tracker.add(record)
                tracker.report()

        workers = [
            asyncio.create_task(worker()) for _ in range(min(self.concurrency, len(pending)))
        ]
        try:
            await asyncio.gather(*workers)
        except BaseException:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            raise
        finally:  # the writer thread finishes its last write before the file closes
            if writer is not None:
                writer.close()
            if folder is not None:
                folder.close()
        ordered = [records[ex.id] for ex in examples]
        summary = res.summarize(ordered, self.metrics)
        summary["timing"].update(tracker.timing())
        run = res.EvalRun(ordered, summary, folder.meta if folder else dict(meta or {}))
        if folder is not None:
            folder.finish(run, report)
        return run


SPAN_FIELDS = ("id", "parent_id", "name", "kind", "start", "end", "input", "output", "error")


def _spans(tracer: InMemoryTracer) -> list[dict[str, Any]]:
    """The spans as plain dicts, in start order (``Span.to_dict`` without its deep copy)."""
    out = []
    for span in sorted(tracer.spans, key=lambda s: (s.start, s.id)):
        data = {name: getattr(span, name) for name in SPAN_FIELDS}
        data["tags"] = list(span.tags)
        data["metadata"] = dict(span.metadata)
        data["usage"] = dict(span.usage) if span.usage else None
        out.append(data)
    return out


class _Tracker:
    """Counts finished examples and keeps running means for the progress display."""

    def __init__(
        self, total: int, resumed: int, metrics: Sequence[Metric], on_progress: ProgressFn | None
    ) -> None:
        self.total, self.resumed, self.on_progress = total, resumed, on_progress
        self.quality = [m.name for m in metrics if not m.timing]
        self.done = self.errors = self.new = 0
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self.start = time.perf_counter()

    def add(self, record: dict[str, Any], resumed: bool = False) -> None:
        self.done += 1
        self.new += 0 if resumed else 1
        self.errors += 1 if (record.get("prediction") or {}).get("error") else 0
        scores = record.get("scores") or {}
        for name in self.quality:
            for key, value in scores.get(name, {}).items():
                self.sums[key] = self.sums.get(key, 0.0) + value
                self.counts[key] = self.counts.get(key, 0) + 1

    def report(self) -> None:
        if self.on_progress is not None:
            running = {k: self.sums[k] / self.counts[k] for k in self.sums}
            elapsed = time.perf_counter() - self.start
            self.on_progress(
                Progress(self.done, self.total, self.resumed, self.errors, elapsed, running)
            )

    def timing(self) -> dict[str, float]:
        wall = time.perf_counter() - self.start
        return {"wall_s": wall, "examples_per_s": self.new / wall if wall > 0 else 0.0}


# the keyword options of EvalRunner; arun_eval passes the others on to EvalRunner.run
RUNNER_OPTIONS = tuple(
    name
    for name, parameter in inspect.signature(EvalRunner.__init__).parameters.items()
    if parameter.kind is parameter.KEYWORD_ONLY
)


async def arun_eval(
    chain: Any,
    dataset: Dataset,
    metrics: Sequence[Metric],
    out_dir: str | Path | None = None,
    **options: Any,
) -> res.EvalRun:
    """Evaluate ``chain`` on ``dataset``. ``options`` are those of :class:`EvalRunner`
    (input_map, output_map, concurrency, timeout, retries, backoff, stream, keep_spans,
    seed) and of :meth:`EvalRunner.run` (limit, sample, resume, report, on_progress,
    meta). With ``out_dir``, results, summary and report are written there."""
    runner_options = {key: options.pop(key) for key in RUNNER_OPTIONS if key in options}
    runner = EvalRunner(chain, metrics, **runner_options)
    return await runner.run(dataset, out_dir, **options)


def run_eval(
    chain: Any,
    dataset: Dataset,
    metrics: Sequence[Metric],
    out_dir: str | Path | None = None,
    **kwargs: Any,
) -> res.EvalRun:
    """Blocking :func:`arun_eval` on a fresh event loop whose worker threads (for chains
    without native async) are as many as the concurrency."""
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise UsageError("run_eval was called inside a running event loop; await arun_eval(...)")
    workers = max(int(kwargs.get("concurrency", 8)) + 4, 8)

    async def main() -> res.EvalRun:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=workers))
        return await arun_eval(chain, dataset, metrics, out_dir, **kwargs)

    return asyncio.run(main())
