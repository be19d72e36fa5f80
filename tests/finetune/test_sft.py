"""SFT acceptance on the tiny Llama (CPU): 20 question/answer pairs, the loss at least
halves, greedy decoding reproduces >= 18 answers, the adapter works as ``adapter:<name>`` in
an LLMChain, merging keeps the greedy outputs, bad data fails before any model loads, and an
interrupted run resumes from its checkpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentkit.core.errors import UsageError
from agentkit.finetune.data import DataError
from agentkit.finetune.jobs import LoraOptions, SFTJob
from agentkit.finetune.registry import AdapterRegistry
from agentkit.finetune.sft import train_sft
from agentkit.llms.switch import model_requests
from tests.finetune.conftest import QA, write_jsonl

pytestmark = [pytest.mark.integration, pytest.mark.slow]
pytest.importorskip("trl")
GREEDY = {"temperature": 0, "max_new_tokens": 24}


@pytest.fixture(scope="module", autouse=True)
def _setup(one_thread: None) -> Iterator[None]:
    with model_requests(True):
        yield


@pytest.fixture(scope="module")
def trained(qa_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One SFT run on the 20 pairs, registered as 'qa-bot' in a temporary AGENTKIT_CACHE_DIR."""
    root = tmp_path_factory.mktemp("sft")
    data = write_jsonl(root / "qa.jsonl", [{"question": q, "answer": a} for q, a in QA])
    job = SFTJob(
        data=str(data),
        output=str(root / "qa-bot"),
        base=str(qa_base),
        epochs=30,
        batch_size=4,
        learning_rate=5e-3,
        logging_steps=1,
        save_steps=1000,
        lora=LoraOptions(r=16, alpha=32, dropout=0.0),
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AGENTKIT_CACHE_DIR", str(root / "home"))
        result = train_sft(job)
        yield {"result": result, "job": job, "root": root}


def answers(model: Any) -> list[str]:
    return [model.invoke(q).content.strip() for q, _ in QA]


def test_loss_halves_and_answers_are_reproduced(trained: dict[str, Any]) -> None:
    from agentkit.llms.hf import HFChatModel

    result = trained["result"]
    losses = result.train_losses
    assert len(losses) == 150  # 30 epochs x 5 steps, every step logged
    assert losses[-1] <= losses[0] / 2, losses
    model = HFChatModel.from_adapter("qa-bot", params=GREEDY)
    got = answers(model)
    correct = sum(g == a for g, (_, a) in zip(got, QA, strict=True))
    assert correct >= 18, list(zip(got, [a for _, a in QA], strict=True))
    base = HFChatModel(trained["job"].base, params=GREEDY)
    assert sum(g == a for g, (_, a) in zip(answers(base), QA, strict=True)) < 5


def test_manifest_and_registry_entry(trained: dict[str, Any]) -> None:
    result, job = trained["result"], trained["job"]
    folder = Path(job.output)
    assert (folder / "adapter_config.json").exists()
    assert (folder / "adapter_model.safetensors").exists()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "lora_adapter" and manifest["method"] == "sft"
    assert manifest["base_model"] == str(Path(job.base).resolve())
    assert manifest["data"]["format"] == "qa" and manifest["data"]["train"] == 20
    assert len(manifest["data"]["sha256"]) == 64
    assert manifest["hyperparameters"]["learning_rate"] == 5e-3
    assert manifest["hyperparameters"]["lora"]["r"] == 16
    assert {"torch", "transformers", "peft", "trl"} <= set(manifest["versions"])
    assert manifest["history"]["train"][0]["step"] == 1 and "created" in manifest
    entry = AdapterRegistry().get("qa-bot")
    assert entry.path == folder.resolve() and entry.manifest["method"] == "sft"
    assert result.name == "qa-bot"


def test_adapter_by_name_in_an_llm_chain(trained: dict[str, Any]) -> None:
    from agentkit.chains import LLMChain
    from agentkit.llms.resolve import load
    from agentkit.prompts import PromptTemplate

    chain = LLMChain(
        PromptTemplate.from_template("{question}"), load("adapter:qa-bot", params=GREEDY)
    )
    out = chain.invoke({"question": QA[0][0]})
    assert out["text"].strip() == QA[0][1]


def test_merge_keeps_greedy_outputs(trained: dict[str, Any]) -> None:
    from agentkit.finetune.merge import merge_adapter
    from agentkit.llms.hf import HFChatModel

    target = merge_adapter("qa-bot", trained["root"] / "merged", name="qa-bot-merged")
    assert (target / "config.json").exists() and not (target / "adapter_config.json").exists()
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["method"] == "merge" and manifest["adapter_manifest"]["name"] == "qa-bot"
    merged = HFChatModel(target, params=GREEDY)
    adapter = HFChatModel.from_adapter("qa-bot", params=GREEDY)
    assert answers(merged) == answers(adapter)
    assert AdapterRegistry().resolve("qa-bot-merged") == target.resolve()


def test_bad_data_fails_before_any_model_loads(
    qa_base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agentkit.finetune.sft as sft

    def no_load(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the model was loaded before the data was checked")

    monkeypatch.setattr(sft, "load_job_model", no_load)
    data = tmp_path / "bad.jsonl"
    data.write_text('{"question": "q", "answer": "a"}\n{"question": "q2", "answer": 5}\n')
    job = SFTJob(data=str(data), output=str(tmp_path / "run"), base=str(qa_base))
    with pytest.raises(DataError, match=r"bad.jsonl:2: field 'answer' must be a string"):
        train_sft(job, registry=AdapterRegistry(tmp_path / "reg"))
    assert not (tmp_path / "run").exists()
    data.write_text("")
    with pytest.raises(DataError, match="has no records"):
        train_sft(job, registry=AdapterRegistry(tmp_path / "reg"))


def test_interrupted_run_resumes_from_its_checkpoint(qa_base: Path, tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "qa.jsonl", [{"question": q, "answer": a} for q, a in QA[:8]])
    job = SFTJob(
        data=str(data),
        output=str(tmp_path / "run"),
        base=str(qa_base),
        max_steps=4,
        batch_size=4,
        save_steps=2,
        logging_steps=1,
        learning_rate=5e-3,
    )
    registry = AdapterRegistry(tmp_path / "reg")

    def stop_at_three(event: dict[str, Any]) -> None:
        if event["event"] == "step" and event["step"] == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_sft(job, progress=stop_at_three, registry=registry)
    assert (tmp_path / "run" / "checkpoints" / "checkpoint-2").is_dir()
    with pytest.raises(UsageError, match="pass resume=True"):
        train_sft(job, registry=registry)
    events: list[dict[str, Any]] = []
    result = train_sft(job, resume=True, progress=events.append, registry=registry)
    assert result.manifest["resumed_from"].endswith("checkpoint-2")
    assert [e["step"] for e in events if e["event"] == "step"] == [3, 4]
    assert events[0] == {"event": "start", "total_steps": 4, "step": 2}
    assert "run" in registry


def test_full_fine_tuning_writes_a_model(qa_base: Path, tmp_path: Path) -> None:
    from agentkit.llms.hf import HFChatModel

    data = write_jsonl(tmp_path / "qa.jsonl", [{"question": q, "answer": a} for q, a in QA[:4]])
    job = SFTJob(
        data=str(data),
        output=str(tmp_path / "full"),
        base=str(qa_base),
        method="full",
        max_steps=2,
        batch_size=2,
        learning_rate=1e-3,
    )
    result = train_sft(job, registry=AdapterRegistry(tmp_path / "reg"))
    assert result.manifest["kind"] == "model"
    assert (tmp_path / "full" / "config.json").exists()
    assert isinstance(HFChatModel(tmp_path / "full", params=GREEDY).invoke("Hi").content, str)


def test_packing_and_eval_split(qa_base: Path, tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "qa.jsonl", [{"question": q, "answer": a} for q, a in QA])
    job = SFTJob(
        data=str(data),
        output=str(tmp_path / "packed"),
        base=str(qa_base),
        packing=True,
        max_length=64,
        epochs=2,
        batch_size=2,
        logging_steps=1,
        test_size=0.2,
        learning_rate=5e-3,
    )
    result = train_sft(job, registry=AdapterRegistry(tmp_path / "reg"))
    assert result.manifest["data"]["train"] == 16 and result.manifest["data"]["eval"] == 4
    assert len(result.eval_losses) == 2 and all(loss > 0 for loss in result.train_losses)


def test_qlora_needs_cuda(qa_base: Path, tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    data = write_jsonl(tmp_path / "qa.jsonl", [{"question": "q", "answer": "a"}])
    job = SFTJob(data=str(data), output=str(tmp_path / "q"), base=str(qa_base), method="qlora")
    with pytest.raises(UsageError, match=r"method='qlora' .* needs a CUDA GPU"):
        train_sft(job, registry=AdapterRegistry(tmp_path / "reg"))


FORMAT_RECORDS = {
    "alpaca": [{"instruction": "Name the capital.", "input": "France", "output": "Paris."}] * 4,
    "messages": [
        {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
        for q, a in QA[:4]
    ],
    "prompt_completion": [{"prompt": q, "completion": a} for q, a in QA[:4]],
    "text": [{"text": a} for _, a in QA[:4]],
}


@pytest.mark.parametrize("format", sorted(FORMAT_RECORDS))
def test_every_sft_format_trains(qa_base: Path, tmp_path: Path, format: str) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", FORMAT_RECORDS[format])
    job = SFTJob(
        data=str(data),
        output=str(tmp_path / "run"),
        base=str(qa_base),
        max_steps=2,
        batch_size=2,
        logging_steps=1,
    )
    result = train_sft(job, registry=AdapterRegistry(tmp_path / "reg"))
    assert result.manifest["data"]["format"] == format
    assert len(result.train_losses) == 2 and (tmp_path / "run" / "adapter_config.json").exists()


def test_gpt2_gets_its_own_lora_targets(tmp_path: Path) -> None:
    from agentkit.testing.tiny_models import build_tiny_model

    base = build_tiny_model(tmp_path / "gpt2", arch="gpt2", corpus=[a for _, a in QA])
    data = write_jsonl(tmp_path / "qa.jsonl", [{"question": q, "answer": a} for q, a in QA[:4]])
    job = SFTJob(
        data=str(data), output=str(tmp_path / "run"), base=str(base), max_steps=1, batch_size=2
    )
    train_sft(job, registry=AdapterRegistry(tmp_path / "reg"))
    config = json.loads((tmp_path / "run" / "adapter_config.json").read_text())
    assert set(config["target_modules"]) == {"c_attn", "c_proj"} and config["fan_in_fan_out"]
