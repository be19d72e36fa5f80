"""Where fine-tuning meets the local model backend: an adapter (or merged / fully fine-tuned
model) chats with the chat template it was trained with, and an adapter trained on a hub id
names that id as its base (not a snapshot folder of the local cache)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentkit.finetune.jobs import DPOJob, SFTJob
from agentkit.finetune.registry import AdapterRegistry
from agentkit.finetune.sft import train_sft
from agentkit.llms.switch import model_requests
from tests.finetune.conftest import QA, write_jsonl

pytestmark = [pytest.mark.integration, pytest.mark.slow]
pytest.importorskip("trl")
GREEDY = {"temperature": 0, "max_new_tokens": 12}
QUESTIONS = [q for q, _ in QA[:3]]


@pytest.fixture(scope="module", autouse=True)
def _setup(one_thread: None) -> Iterator[None]:
    with model_requests(True):
        yield


@pytest.fixture(scope="module")
def no_template_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Llama whose tokenizer has no chat template (many base models ship none)."""
    from agentkit.testing.tiny_models import tiny_model_path

    corpus = [q for q, _ in QA] + [a for _, a in QA]
    return tiny_model_path(tmp_path_factory, corpus=corpus, pretrain_steps=50, chat_template=None)


def sft_job(base: Path, tmp_path: Path, name: str, **options: Any) -> SFTJob:
    data = write_jsonl(tmp_path / "qa.jsonl", [{"question": q, "answer": a} for q, a in QA[:8]])
    settings: dict[str, Any] = {
        "max_steps": 4,
        "batch_size": 4,
        "learning_rate": 5e-3,
        "save_steps": 1000,
        **options,
    }
    return SFTJob(data=str(data), output=str(tmp_path / name), base=str(base), **settings)


def replies(model: Any) -> list[str]:
    return [model.invoke(q).content for q in QUESTIONS]


def test_adapter_chats_with_the_template_it_was_trained_with(
    qa_base: Path, tmp_path: Path, home: Path
) -> None:
    from agentkit.llms.hf import PLAIN_CHAT_TEMPLATE, HFChatModel
    from agentkit.llms.resolve import load

    train_sft(sft_job(qa_base, tmp_path, "plain", chat_template=PLAIN_CHAT_TEMPLATE))
    # the base has its own template; the adapter learned PLAIN_CHAT_TEMPLATE's prompts
    model = load("adapter:plain", params=GREEDY)
    assert isinstance(model, HFChatModel) and model.chat_template == PLAIN_CHAT_TEMPLATE
    # an explicit template still wins
    other = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    assert load("adapter:plain", chat_template=other).chat_template == other  # type: ignore[attr-defined]


def test_adapter_merge_and_full_model_of_a_base_without_template(
    no_template_base: Path, tmp_path: Path, home: Path
) -> None:
    from agentkit.finetune.merge import merge_adapter
    from agentkit.llms.hf import PLAIN_CHAT_TEMPLATE
    from agentkit.llms.resolve import load

    train_sft(sft_job(no_template_base, tmp_path, "bot", chat_template=PLAIN_CHAT_TEMPLATE))
    adapter = load("adapter:bot", params=GREEDY)
    expected = replies(adapter)
    target = merge_adapter("bot", tmp_path / "merged", name="bot-merged")
    assert replies(load(f"hf:{target}", params=GREEDY)) == expected
    assert replies(load("adapter:bot-merged", params=GREEDY)) == expected

    job = sft_job(
        no_template_base,
        tmp_path,
        "full",
        method="full",
        max_steps=1,
        chat_template=PLAIN_CHAT_TEMPLATE,
    )
    train_sft(job, registry=AdapterRegistry(tmp_path / "reg"))
    assert isinstance(load(f"hf:{tmp_path / 'full'}", params=GREEDY).invoke("Hi").content, str)


def test_dpo_from_an_adapter_keeps_its_chat_template(
    no_template_base: Path, tmp_path: Path, home: Path
) -> None:
    from agentkit.finetune.dpo import train_dpo
    from agentkit.llms.hf import PLAIN_CHAT_TEMPLATE
    from agentkit.llms.resolve import load

    train_sft(sft_job(no_template_base, tmp_path, "sft", chat_template=PLAIN_CHAT_TEMPLATE))
    pairs = [{"prompt": q, "chosen": a, "rejected": "No."} for q, a in QA[:4]]
    data = write_jsonl(tmp_path / "pairs.jsonl", pairs)
    job = DPOJob(
        data=str(data),
        output=str(tmp_path / "dpo"),
        base=str(no_template_base),
        adapter="sft",
        max_steps=1,
        batch_size=2,
    )
    result = train_dpo(job)
    assert result.manifest["chat_template"] == PLAIN_CHAT_TEMPLATE
    assert load("adapter:dpo").chat_template == PLAIN_CHAT_TEMPLATE  # type: ignore[attr-defined]


@pytest.fixture
def hub_cache(qa_base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny model as hub id 'tiny-org/qa' in a local Hugging Face cache (offline)."""
    import huggingface_hub.constants

    cache = tmp_path / "hub"
    repo = cache / "models--tiny-org--qa"
    shutil.copytree(qa_base, repo / "snapshots" / "abc123")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return repo


def test_adapter_of_a_hub_model_names_the_hub_id(
    hub_cache: Path, tmp_path: Path, home: Path
) -> None:
    from agentkit.llms.hf import HFChatModel

    result = train_sft(sft_job(Path("tiny-org/qa"), tmp_path, "hubbot"))
    config = json.loads((tmp_path / "hubbot" / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "tiny-org/qa"
    assert result.manifest["base_model"] == "tiny-org/qa"
    # a cache update (a new snapshot) or another machine's cache still finds the base
    (hub_cache / "snapshots" / "abc123").rename(hub_cache / "snapshots" / "def456")
    (hub_cache / "refs" / "main").write_text("def456")
    model = HFChatModel.from_adapter("hubbot", params=GREEDY)
    assert model.model_id == "tiny-org/qa" and isinstance(model.invoke("Hi").content, str)
