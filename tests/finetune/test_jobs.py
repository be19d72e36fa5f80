"""Job settings: checked when built, read from mappings with unknown keys rejected; the run
folder rules (finished runs, checkpoints and resume); LoRA target defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkit.core.errors import SpecError, UsageError
from agentkit.finetune.jobs import DPOJob, EmbeddingJob, LoraOptions, SFTJob
from agentkit.finetune.models import target_modules
from agentkit.finetune.runs import last_checkpoint, prepare_output


def test_sft_job_from_dict_with_lora_and_defaults(tmp_path: Path) -> None:
    job = SFTJob.from_dict(
        {"base": "m", "data": "d.jsonl", "output": str(tmp_path / "run"), "lora": {"r": 4}}
    )
    assert job.lora == LoraOptions(r=4) and job.method == "lora" and job.test_size == 0
    assert job.run_name == "run"
    assert SFTJob(data="d", output="o", base="m", name="bot").run_name == "bot"
    assert job.to_dict()["lora"]["r"] == 4


@pytest.mark.parametrize(
    ("data", "path", "fragment"),
    [
        ({"base": "m", "data": "d", "output": "o", "lr": 1}, "$.lr", "unknown option"),
        ({"base": "m", "data": "d", "output": "o", "lora": {"rank": 4}}, "$.lora.rank", "unknown"),
        ({"data": "d", "output": "o"}, "$", "missing required option(s): base"),
    ],
)
def test_from_dict_errors_name_the_key(data: dict[str, object], path: str, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        SFTJob.from_dict(data)
    assert info.value.path == path and fragment in str(info.value)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"method": "adapter"}, "method must be one of lora, qlora, full"),
        ({"epochs": 0}, "epochs must be a positive number"),
        ({"batch_size": 2.5}, "batch_size must be a positive number"),
        ({"test_size": 1.0}, r"test_size must be in \[0, 1\)"),
        ({"truncation_side": "middle"}, "truncation_side must be one of right, left"),
        ({"max_steps": 0}, "max_steps must be -1"),
        ({"lr_scheduler": "step"}, "lr_scheduler must be one of"),
        ({"eval_data": "e.jsonl", "test_size": 0.1}, "eval_data or test_size, not both"),
        ({"lora": {"dropout": 1.5}}, r"lora.dropout must be in \[0, 1\)"),
        ({"data": ""}, "data must be a non-empty string"),
    ],
)
def test_invalid_settings_fail_when_built(changes: dict[str, object], fragment: str) -> None:
    options: dict[str, object] = {"base": "m", "data": "d", "output": "o", **changes}
    with pytest.raises(UsageError, match=fragment):
        SFTJob.from_dict(options)


def test_dpo_and_embedding_job_rules() -> None:
    with pytest.raises(UsageError, match="cannot start from an adapter"):
        DPOJob(data="d", output="o", base="m", method="full", adapter="sft")
    with pytest.raises(UsageError, match="keeps their start"):
        DPOJob(data="d", output="o", base="m", truncation_side="left")
    job = EmbeddingJob(data="d", output="o")
    assert job.base == "sentence-transformers/all-MiniLM-L6-v2" and job.batch_size == 32
    with pytest.raises(UsageError, match="in-batch passages are the negatives"):
        EmbeddingJob(data="d", output="o", batch_size=1)
    with pytest.raises(UsageError, match="mine_with must be one of bm25, dense, none"):
        EmbeddingJob(data="d", output="o", mine_with="random")
    assert EmbeddingJob.from_dict({"data": "d", "output": "o", "negatives": 0}).negatives == 0


def test_lora_targets_per_architecture() -> None:
    assert target_modules("llama") == [
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
    ]
    assert target_modules("qwen2")[:4] == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert target_modules("gpt2") == ["c_attn", "c_proj"]
    assert target_modules("somethingnew") == "all-linear"
    assert target_modules("llama", ["q_proj"]) == ["q_proj"]


def test_run_folder_rules(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert prepare_output(run, resume=False) is None and run.is_dir()
    (run / "checkpoints" / "checkpoint-2").mkdir(parents=True)
    (run / "checkpoints" / "checkpoint-10").mkdir()
    assert last_checkpoint(run / "checkpoints") == str(run / "checkpoints" / "checkpoint-10")
    with pytest.raises(UsageError, match="pass resume=True"):
        prepare_output(run, resume=False)
    assert prepare_output(run, resume=True) == str(run / "checkpoints" / "checkpoint-10")
    (run / "manifest.json").write_text("{}", encoding="utf-8")
    with pytest.raises(UsageError, match="holds a finished run"):
        prepare_output(run, resume=True)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError, match="exists and is not empty"):
        prepare_output(other, resume=False)


def test_short_runs_write_no_checkpoints() -> None:
    from agentkit.finetune.runs import _checkpoints_needed

    job = SFTJob(data="d", output="o", base="m", batch_size=4, epochs=2, save_steps=10)
    assert not _checkpoints_needed(job, rows=20)  # 5 steps x 2 epochs = 10
    assert _checkpoints_needed(job, rows=24)  # 6 x 2 = 12 steps > 10
    assert _checkpoints_needed(job, rows=None)  # packed: unknown, keep checkpoints
    stepped = SFTJob(data="d", output="o", base="m", max_steps=11, save_steps=10)
    assert _checkpoints_needed(stepped, rows=1)


def test_a_training_run_publishes_its_files_then_writes_the_manifest_and_registers(
    tmp_path: Path,
) -> None:
    from agentkit.finetune.registry import AdapterRegistry, read_manifest
    from agentkit.finetune.runs import TrainingRun

    job = SFTJob(data="d", output=str(tmp_path / "run"), base="m", name="bot")
    run = TrainingRun.start(job, resume=False)
    assert run.output == tmp_path / "run" and run.name == "bot" and run.checkpoint is None
    run.save(lambda folder: (folder / "adapter_model.bin").write_bytes(b"w"))
    assert [p.name for p in run.output.iterdir()] == ["adapter_model.bin"]  # staging is gone
    registry = AdapterRegistry(tmp_path / "registry")
    result = run.finish({"kind": "lora_adapter", "resumed_from": "stale"}, registry)
    assert result.name == "bot" and result.output == run.output
    written = read_manifest(run.output)
    assert written["kind"] == "lora_adapter" and written["resumed_from"] is None
    assert written["history"] == {} and written["seconds"] >= 0 and "versions" in written
    assert registry.get("bot").manifest == written
    with pytest.raises(UsageError, match="holds a finished run"):
        TrainingRun.start(job, resume=True)  # a finished run is never trained over


def test_a_failed_save_publishes_nothing(tmp_path: Path) -> None:
    from agentkit.finetune.runs import TrainingRun

    run = TrainingRun.start(SFTJob(data="d", output=str(tmp_path / "run"), base="m"), False)

    def broken(folder: Path) -> None:
        (folder / "half.bin").write_bytes(b"x")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        run.save(broken)
    assert list(run.output.iterdir()) == []  # nothing published, no staging folder left
