"""Batch evaluation: datasets, metrics, a concurrent resumable runner, reports, comparison.

Example::

    from agentkit.evals import build_metrics, load_dataset, run_eval

    run = run_eval(chain, load_dataset("qa.jsonl"), build_metrics("em,f1"), "runs/first")
    print(run.summary["metrics"])  # runs/first/report.html holds the report

The command line does the same: ``agentkit eval run --chain chain.yaml --dataset qa.jsonl``.
"""

from __future__ import annotations

from agentkit.evals.datasets import Dataset, DatasetError, load_dataset, save_jsonl
from agentkit.evals.metrics import DEFAULT_METRICS, METRIC_NAMES, Metric, build_metrics
from agentkit.evals.qagen import generate_qa
from agentkit.evals.records import Example, Prediction, Scores
from agentkit.evals.results import EvalRun, load_run
from agentkit.evals.runner import EvalRunner, Progress, arun_eval, run_eval
from agentkit.evals.squad_score import load_predictions, score_squad

__all__ = [
    "DEFAULT_METRICS",
    "METRIC_NAMES",
    "Dataset",
    "DatasetError",
    "EvalRun",
    "EvalRunner",
    "Example",
    "Metric",
    "Prediction",
    "Progress",
    "Scores",
    "arun_eval",
    "build_metrics",
    "generate_qa",
    "load_dataset",
    "load_predictions",
    "load_run",
    "run_eval",
    "save_jsonl",
    "score_squad",
]
