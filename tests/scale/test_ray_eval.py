"""Evals with ``--executor ray``: the same per-example records as a local run, the same run
folder, and a driver killed midway resumes with every example run once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from agentkit.core.errors import SpecError, UsageError
from agentkit.evals import build_metrics, load_dataset, run_eval
from agentkit.scale.specs import WorkerFailed

pytestmark = pytest.mark.slow
N = 40
METRICS = "em,f1,contains"


def write_dataset(folder: Path, n: int = N) -> Path:
    rows = [{"id": f"q{i:03d}", "question": f"What is {i}?", "answers": [str(i)]} for i in range(n)]
    path = folder / "data.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def scores(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {r["id"]: (r["scores"], r["prediction"]["text"], r["attempts"]) for r in records}


def test_same_scores_as_local_and_same_run_folder(ray_cluster: Any, tmp_path: Path) -> None:
    from scalechain import make_chain

    from agentkit.scale import ray_run_eval

    data = load_dataset(write_dataset(tmp_path))
    local = run_eval(make_chain(), data, build_metrics(METRICS), tmp_path / "local", report=False)
    on_ray = ray_run_eval(
        make_chain(),
        data,
        METRICS,
        tmp_path / "ray",
        actors=2,
        concurrency=4,
        allow_imports=["scalechain"],
        report=False,
    )
    assert scores(on_ray.records) == scores(local.records)
    assert {k: v for k, v in on_ray.summary["metrics"].items()} == local.summary["metrics"]
    journal = (tmp_path / "ray" / "journal.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["id"] for line in journal) == sorted(scores(local.records))
    # a finished run resumes with nothing left to do and the same results
    again = ray_run_eval(
        make_chain(), data, METRICS, tmp_path / "ray", actors=1, resume=True, report=False,
        allow_imports=["scalechain"],
    )  # fmt: skip
    assert scores(again.records) == scores(local.records)
    assert len((tmp_path / "ray" / "journal.jsonl").read_text().splitlines()) == N


def test_shared_cap_bounds_examples_in_flight(ray_cluster: Any, tmp_path: Path) -> None:
    from scalechain import make_slow_chain

    from agentkit.scale import ray_run_eval, shared_cap

    data = load_dataset(write_dataset(tmp_path, 12))
    run = ray_run_eval(
        make_slow_chain(), data, "em", None, actors=2, concurrency=4, max_calls=2,
        allow_imports=["scalechain"], report=False,
    )  # fmt: skip
    assert run.summary["examples"] == 12
    stats = ray_cluster.get(shared_cap("default", 2).stats.remote())
    assert stats["limit"] == 2 and 1 <= stats["peak"] <= 2 and stats["held"] == 0


def test_driver_killed_midway_resumes_each_example_once(ray_cluster: Any, tmp_path: Path) -> None:
    address = ray_cluster.get_runtime_context().gcs_address
    data, out = write_dataset(tmp_path, 60), tmp_path / "run"
    command = [
        sys.executable, "-m", "agentkit.cli", "eval", "run",
        "--chain", "scalechain:make_slow_chain",
        "--dataset", str(data), "--metrics", METRICS, "--out", str(out), "--no-report",
        "--allow-imports", "--executor", "ray", "--address", address, "--actors", "1",
        "--concurrency", "2",
    ]  # fmt: skip
    journal = out / "journal.jsonl"
    proc = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if journal.exists() and journal.read_bytes().count(b"\n") >= 6:
                break
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    before = journal.read_bytes().count(b"\n")
    assert 6 <= before < 60, "the driver must die midway"
    resumed = subprocess.run(
        [*command, "--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr
    ids = [json.loads(line)["id"] for line in journal.read_text().splitlines()]
    assert len(ids) == 60 and len(set(ids)) == 60
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in results] == [f"q{i:03d}" for i in range(60)]


def test_unspecced_chain_is_refused_by_name(ray_cluster: Any, tmp_path: Path) -> None:
    from agentkit.core.compose import Lambda
    from agentkit.scale import ray_run_eval

    data = load_dataset(write_dataset(tmp_path, 3))
    closure = Lambda(lambda q: q)  # a lambda has no importable name: no spec
    with pytest.raises(SpecError, match=r"chain.*Lambda.*cannot travel to Ray workers"):
        ray_run_eval(closure, data, "em", None, actors=1, report=False)
    with pytest.raises(UsageError, match="output_map is a function"):
        ray_run_eval(closure, data, "em", None, output_map=lambda o: {"text": o})


def test_worker_loads_specs_under_the_drivers_policy(ray_cluster: Any, tmp_path: Path) -> None:
    from scalechain import make_chain

    from agentkit.scale import ray_run_eval

    data = load_dataset(write_dataset(tmp_path, 3))
    # the driver trusts agentkit only (no opt-in for scalechain): the worker refuses too
    with pytest.raises(
        WorkerFailed, match=r"SpecError: \$\.chain\.fn: refusing to import 'scalechain"
    ):
        ray_run_eval(make_chain(), data, "em", None, actors=1, allow_imports=False, report=False)


def test_executor_options_checked(tmp_path: Path) -> None:
    from agentkit.scale.cluster import check_executor, resolve_address

    with pytest.raises(UsageError, match="--executor must be 'local' or 'ray'"):
        check_executor("dask", None, None, 0.0)
    with pytest.raises(UsageError, match="--address applies to --executor ray only"):
        check_executor("local", "ray://head:10001", None, 0.0)
    with pytest.raises(UsageError, match="whitespace"):
        resolve_address("head:6379; rm -rf /")
    assert resolve_address(None) in ("local", os.environ.get("RAY_ADDRESS", "local"))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--max-calls", "2"], "--max-calls applies to --executor ray only"),
        (["--actors", "2"], "--actors applies to --executor ray only"),
        (["--executor", "ray", "--cache", "c.sqlite"], "--cache works with --executor local only"),
        (["--executor", "spark"], "--executor must be 'local' or 'ray'"),
    ],
)
def test_cli_refuses_mixed_executor_options(tmp_path: Path, extra: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from agentkit.cli import app

    chain = tmp_path / "chain.yaml"
    chain.write_text("type: fake_list_model\nresponses: [x]\n", encoding="utf-8")
    args = ["eval", "run", "--chain", str(chain), "--dataset", str(write_dataset(tmp_path, 2))]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "run"), *extra])
    assert result.exit_code != 0
    assert message in result.output + repr(result.exception)
    assert not (tmp_path / "run" / "journal.jsonl").exists()
