"""``make demo`` end to end, quickly: the sample corpus is indexed (model-free embedder
here), the reader training is skipped (``--reader sentence``), its first questions are
evaluated with the offline reader over the hybrid retriever, and the metrics, the
before/after reader table with its legend, the report path and the app command are
printed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_indexes_evaluates_and_prints_the_app_command(tmp_path: Path) -> None:
    index, runs = tmp_path / "index", tmp_path / "runs"
    command = [
        sys.executable, str(ROOT / "examples" / "demo.py"), "--embedder", "hashing",
        "--limit", "12", "--index", str(index), "--runs", str(runs), "--reader", "sentence",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "files: 3 added" in out and "Sample QA: 12 questions" in out
    for metric in ("em", "f1", "contains", "latency_p50"):
        assert f"│ {metric}" in out
    assert "Sentence reader vs fine-tuned reader (12 questions)" in out
    assert "│ sentence reader" in out and "not trained: agentkit finetune reader" in out
    assert "EM/F1: SQuAD exact match" in out and "training skipped" not in out
    [run_dir] = [p for p in runs.iterdir() if p.name.startswith("sample-qa-")]
    assert f"HTML report: {run_dir / 'report.html'}" in out
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["examples"] == 12 and summary["errors"] == 0
    assert 0.0 < summary["metrics"]["contains"] <= 1.0
    assert "open the chat app:  agentkit app --index index --runs runs" in out  # cwd-relative
    again = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert "0 added, 0 updated, 3 unchanged" in again.stdout
