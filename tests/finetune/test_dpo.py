"""DPO on the tiny Llama: training raises the chosen-minus-rejected log-probability margin
on its pairs, from the base model and from an SFT adapter; bad pairs fail up front."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentkit.finetune.data import DataError
from agentkit.finetune.dpo import preference_margins, train_dpo
from agentkit.finetune.jobs import DPOJob, LoraOptions, SFTJob
from agentkit.finetune.registry import AdapterRegistry
from agentkit.finetune.sft import train_sft
from agentkit.llms.switch import model_requests
from tests.finetune.conftest import QA, write_jsonl

pytestmark = [pytest.mark.integration, pytest.mark.slow]
pytest.importorskip("trl")
PAIRS = [
    {"prompt": q, "chosen": a, "rejected": QA[(i + 7) % len(QA)][1]}
    for i, (q, a) in enumerate(QA[:10])
]


@pytest.fixture(scope="module", autouse=True)
def _setup(one_thread: None) -> Iterator[None]:
    with model_requests(True):
        yield


def dpo_job(base: Path, tmp_path: Path, name: str, **options: object) -> DPOJob:
    data = write_jsonl(tmp_path / "pairs.jsonl", PAIRS)
    settings: dict[str, object] = {
        "epochs": 5,
        "batch_size": 5,
        "learning_rate": 5e-3,
        "logging_steps": 1,
        "save_steps": 1000,
        "lora": LoraOptions(r=8, alpha=16, dropout=0.0),
        **options,
    }
    return DPOJob(data=str(data), output=str(tmp_path / name), base=str(base), **settings)  # type: ignore[arg-type]


def test_dpo_raises_the_preference_margin(qa_base: Path, tmp_path: Path) -> None:
    from agentkit.llms.hf import HFChatModel

    registry = AdapterRegistry(tmp_path / "reg")
    result = train_dpo(dpo_job(qa_base, tmp_path, "dpo"), registry=registry)
    manifest = result.manifest
    assert manifest["margin_after"] > manifest["margin_before"] + 1.0, manifest
    assert manifest["method"] == "dpo" and manifest["margin_pairs"] == 10
    assert result.train_losses[-1] < result.train_losses[0]
    # the saved adapter, loaded fresh, shows the same margin
    model = HFChatModel.from_adapter("dpo", registry=registry).load()
    margins = preference_margins(model.hf_model, model.tokenizer, PAIRS)
    assert sum(margins) / len(margins) == pytest.approx(manifest["margin_after"], abs=1e-2)
    assert json.loads((result.output / "adapter_config.json").read_text())["r"] == 8


def test_dpo_continues_an_sft_adapter(qa_base: Path, tmp_path: Path) -> None:
    registry = AdapterRegistry(tmp_path / "reg")
    sft_data = write_jsonl(tmp_path / "qa.jsonl", [{"question": q, "answer": a} for q, a in QA])
    train_sft(
        SFTJob(
            data=str(sft_data),
            output=str(tmp_path / "sft"),
            base=str(qa_base),
            max_steps=5,
            batch_size=4,
            learning_rate=5e-3,
            lora=LoraOptions(r=4, alpha=8),
        ),
        registry=registry,
    )
    job = dpo_job(qa_base, tmp_path, "dpo-on-sft", adapter="sft", epochs=3)
    result = train_dpo(job, registry=registry)
    assert result.manifest["start_adapter"] == str((tmp_path / "sft").resolve())
    assert result.manifest["margin_after"] > result.manifest["margin_before"]
    config = json.loads((result.output / "adapter_config.json").read_text())
    assert config["r"] == 4  # the SFT adapter's settings, trained further
    assert not (result.output / "ref").exists()  # only the trained adapter is saved


def test_bad_pairs_fail_before_training(qa_base: Path, tmp_path: Path) -> None:
    data = tmp_path / "pairs.jsonl"
    data.write_text(json.dumps({"prompt": "q", "chosen": "a"}) + "\n")
    job = DPOJob(data=str(data), output=str(tmp_path / "run"), base=str(qa_base))
    with pytest.raises(DataError, match=r"pairs.jsonl:1: missing field 'rejected'"):
        train_dpo(job, registry=AdapterRegistry(tmp_path / "reg"))
    data.write_text(json.dumps({"question": "q", "answer": "a"}) + "\n")
    with pytest.raises(DataError, match="records in the 'qa' format cannot be used here"):
        train_dpo(job, registry=AdapterRegistry(tmp_path / "reg"))
    assert not (tmp_path / "run").exists()
