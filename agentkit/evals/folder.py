"""The folder of one run: metadata, the journal, and the files written when it finishes."""

from __future__ import annotations

import datetime as _dt
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentkit.core.errors import UsageError
from agentkit.evals import results as res
from agentkit.evals.checks import check_meta
from agentkit.evals.datasets import Dataset
from agentkit.evals.journal import Journal
from agentkit.evals.meta import chain_info, environment, run_metadata, same_chain

if TYPE_CHECKING:
    from agentkit.evals.runner import EvalRunner


class RunFolder:
    """Opens (or resumes) a run folder; ``start`` returns the records already done."""

    def __init__(
        self,
        path: str | Path,
        runner: EvalRunner,
        dataset: Dataset,
        resume: bool,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.path = Path(path)
        self.runner, self.dataset, self.resume, self.extra = runner, dataset, resume, extra
        self.journal = Journal(self.path / res.JOURNAL_FILE)
        self.meta: dict[str, Any] = {}
        self._environment: Future[dict[str, Any]] | None = None

    def start(self) -> dict[str, dict[str, Any]]:
        done = self.journal.read()
        run_file = self.path / res.RUN_FILE
        names = [m.name for m in self.runner.metrics]
        if done and not self.resume:
            raise UsageError(
                f"{self.path} already holds a run ({len(done)} examples in its journal); pass "
                "--resume (resume=True) to continue it, or choose another --out folder"
            )
        if self.resume and run_file.exists():
            self.meta = res.read_json_object(run_file)
            check_meta(run_file, self.meta)
            self._check_same(names, done)
            self.meta.setdefault("resumed", []).append(_now())
            if self.extra and "selection" in self.extra:
                self.meta["selection"] = self.extra["selection"]
        else:
            self.meta = run_metadata(
                self.runner.chain, self.dataset, names, self.runner.options(), self.extra
            )
        res.write_json(run_file, self.meta)
        pool = ThreadPoolExecutor(max_workers=1)
        self._environment = pool.submit(environment)
        pool.shutdown(wait=False)
        self.journal.open()
        return {r["id"]: r for r in done}

    def _check_same(self, names: list[str], done: list[dict[str, Any]]) -> None:
        """Refuse to mix results: the chain, dataset and metrics must be the run's own."""
        chain = self.meta.get("chain")
        if chain and not same_chain(chain, chain_info(self.runner.chain)):
            raise UsageError(
                f"cannot resume {self.path}: it was run with a different chain "
                f"({chain.get('name')!r}; its spec or graph has changed since); resuming would "
                "mix the two chains' answers. Use another --out, or the chain it was run with"
            )
        before = self.meta.get("dataset", {}).get("sha256")
        if before and before != self.dataset.sha256:
            raise UsageError(
                f"cannot resume {self.path}: it was run on a different dataset file "
                f"(sha256 {before[:12]}..., now {self.dataset.sha256[:12]}...); use another --out"
            )
        if self.meta.get("metrics") and self.meta["metrics"] != names:
            raise UsageError(
                f"cannot resume {self.path}: it was run with metrics {self.meta['metrics']}, "
                f"now {names}; resume with the same --metrics or use another --out"
            )
        examples = {ex.id: ex for ex in self.dataset}
        for record in done:
            ex = examples.get(record["id"])
            if ex is not None and (
                record.get("question") != ex.question
                or list(record.get("answers") or []) != list(ex.answers)
            ):
                raise UsageError(
                    f"cannot resume {self.path}: example {ex.id!r} has changed since it was "
                    "scored (question or gold answers differ from the journal); use another --out"
                )

    def close(self) -> None:
        self.journal.close()

    def finish(self, run: res.EvalRun, report: bool) -> None:
        """Write results, summary, metadata (with the models seen) and the HTML report."""
        self.close()
        models = sorted(
            {
                str(span.get("name"))
                for record in run.records
                for span in (record.get("prediction") or {}).get("spans") or []
                if span.get("kind") == "model"
            }
        )
        self.meta["models"] = models
        self.meta["finished"] = _now()
        if self._environment is not None:
            self.meta.update(self._environment.result())
        run.meta, run.out_dir = self.meta, self.path
        res.write_jsonl(self.path / res.RESULTS_FILE, run.records)
        res.write_json(self.path / res.SUMMARY_FILE, run.summary)
        res.write_json(self.path / res.RUN_FILE, self.meta)
        if report:
            from agentkit.evals.report import write_report

            write_report(run, self.path / res.REPORT_FILE)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
