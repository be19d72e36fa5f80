"""``agentkit finetune``: YAML config plus overriding flags, the live summary, bad data
reported with its line before training, merge, and registration on the root app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from agentkit.cli import AgentkitGroup
from agentkit.commands.finetune import _options, register
from agentkit.finetune.registry import AdapterRegistry
from agentkit.llms.switch import model_requests
from tests.finetune.conftest import QA, write_jsonl

runner = CliRunner()


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer(cls=AgentkitGroup, no_args_is_help=True)

    @root.callback()
    def main() -> None:
        """test root"""

    register(root)
    register(root)  # a second registration is a no-op
    return root


@pytest.fixture
def _allow_requests() -> Iterator[None]:
    with model_requests(True):
        yield


def test_register_adds_one_group(app: typer.Typer) -> None:
    assert [g.name for g in app.registered_groups] == ["finetune"]
    result = runner.invoke(app, ["finetune", "--help"])
    assert result.exit_code == 0
    for command in ("sft", "dpo", "embeddings", "merge"):
        assert command in result.output


def test_flags_override_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "job.yaml"
    config.write_text("base: m\ndata: d.jsonl\noutput: o\nepochs: 2\nlora:\n  r: 4\n")
    options = _options(config, {"epochs": 5.0, "lora_alpha": 8, "learning_rate": None})
    assert options == {
        "base": "m",
        "data": "d.jsonl",
        "output": "o",
        "epochs": 5.0,
        "lora": {"r": 4, "alpha": 8},
    }


def test_bad_data_is_reported_with_its_line(app: typer.Typer, tmp_path: Path, home: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"question": "q", "answer": "a"}\n{"question": "q2"}\n')
    args = [
        "finetune",
        "sft",
        "--base",
        "unused",
        "--data",
        str(data),
        "--output",
        str(tmp_path / "o"),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "bad.jsonl:2: missing field 'answer'" in result.output
    result = runner.invoke(app, ["finetune", "sft", "--data", str(data)])
    assert result.exit_code == 1 and "missing required option(s): output, base" in result.output
    config = tmp_path / "job.yaml"
    config.write_text("base: m\ndata: d\noutput: o\nlearning_rate_typo: 1\n")
    result = runner.invoke(app, ["finetune", "dpo", "--config", str(config)])
    assert result.exit_code == 1 and "learning_rate_typo: unknown option" in result.output


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.usefixtures("_allow_requests", "one_thread")
def test_sft_then_merge_from_the_command_line(
    app: typer.Typer, qa_base: Path, tmp_path: Path, home: Path
) -> None:
    data = write_jsonl(tmp_path / "qa.jsonl", [{"question": q, "answer": a} for q, a in QA[:6]])
    config = tmp_path / "job.yaml"
    config.write_text(
        f"base: {qa_base}\ndata: {data}\nbatch_size: 3\nlearning_rate: 0.001\nlogging_steps: 1\n"
    )
    output = tmp_path / "cli-bot"
    result = runner.invoke(
        app,
        [
            "finetune",
            "sft",
            "-c",
            str(config),
            "-o",
            str(output),
            "--max-steps",
            "3",
            "--lr",
            "0.005",
            "--lora-r",
            "4",
            "--target-modules",
            "q_proj,v_proj",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "adapter:cli-bot" in result.output and "train loss" in result.output
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["hyperparameters"]["learning_rate"] == 0.005
    assert manifest["hyperparameters"]["batch_size"] == 3
    adapter_config = json.loads((output / "adapter_config.json").read_text())
    assert adapter_config["r"] == 4 and set(adapter_config["target_modules"]) == {
        "q_proj",
        "v_proj",
    }
    assert "cli-bot" in AdapterRegistry()
    merged = tmp_path / "merged"
    result = runner.invoke(app, ["finetune", "merge", "cli-bot", str(merged)])
    assert result.exit_code == 0, result.output
    assert (merged / "config.json").exists() and "HFChatModel(" in result.output
    again = runner.invoke(app, ["finetune", "sft", "-c", str(config), "-o", str(output)])
    assert again.exit_code == 1 and "holds a finished run" in again.output
