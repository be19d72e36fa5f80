"""A run killed with SIGKILL midway resumes with every example scored exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentkit.core.refs import allowing_imports
from agentkit.core.spec import resolve_ref
from agentkit.evals import build_metrics, load_dataset, run_eval

CHAIN_MODULE = """
import asyncio
from agentkit.core.compose import Lambda


async def answer(question: str) -> str:
    await asyncio.sleep(0.05)
    n = int(question.split()[-1].rstrip("?"))
    return str(n) if n % 3 else f"not {n}"


def make_chain():
    return Lambda(answer)
"""
N = 100


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_midway_then_resume(tmp_path: Path) -> None:
    (tmp_path / "killchain.py").write_text(CHAIN_MODULE)
    rows = [
        {
            "id": f"q{i:03d}",
            "question": f"What is {i}?",
            "answers": [str(i)],
            "category": f"c{i % 4}",
        }
        for i in range(N)
    ]
    data = tmp_path / "data.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    command = [
        sys.executable,
        "-m",
        "agentkit.cli",
        "eval",
        "run",
        "--chain",
        "killchain:make_chain",
        "--dataset",
        str(data),
        "--metrics",
        "em,f1,contains",
        "--concurrency",
        "2",
        "--out",
        str(out),
        "--no-report",
        "--allow-imports",  # killchain is the test's own module
    ]
    journal = out / "journal.jsonl"
    proc = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if journal.exists() and journal.read_bytes().count(b"\n") >= 20:
                break
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    done_before = journal.read_bytes().count(b"\n")
    assert 20 <= done_before < N, "the run should have been killed midway"
    assert not (out / "results.jsonl").exists()

    resumed = subprocess.run(
        [*command, "--resume"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr

    ids = [json.loads(line)["id"] for line in journal.read_text().splitlines()]
    assert len(ids) == N and len(set(ids)) == N  # every example scored exactly once
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in results] == [r["id"] for r in rows]
    summary = json.loads((out / "summary.json").read_text())

    sys.path.insert(0, str(tmp_path))
    try:
        with allowing_imports(["killchain"]):
            chain = resolve_ref("killchain:make_chain")()
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("killchain", None)
    baseline = run_eval(chain, load_dataset(data), build_metrics("em,f1,contains"), concurrency=8)
    assert summary["metrics"] == baseline.summary["metrics"]
    assert summary["by_category"] == baseline.summary["by_category"]
    assert summary["examples"] == N and summary["errors"] == 0
    assert summary["metrics"]["em"] == pytest.approx(66 / 100)  # n % 3 != 0 for 66 of 0..99
