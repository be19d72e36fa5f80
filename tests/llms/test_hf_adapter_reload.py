"""A LoRA adapter folder rewritten while its base model stays loaded (retraining into the
same run folder in a notebook): the next model naming the folder uses the new weights."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentkit.llms.hf import HFChatModel
from agentkit.llms.switch import model_requests
from agentkit.testing.tiny_models import tiny_model_path
from tests.llms.test_hf_lora import PROMPTS, make_adapter

pytestmark = pytest.mark.integration
torch = pytest.importorskip("torch")
pytest.importorskip("peft")
GREEDY = {"temperature": 0, "max_new_tokens": 12}


@pytest.fixture(autouse=True)
def _allow_requests() -> Iterator[None]:
    with model_requests(True):
        yield


def replies(model: HFChatModel) -> list[str]:
    return [model.invoke(p).content for p in PROMPTS[:3]]


def test_rewritten_adapter_folder_is_reloaded(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    tiny = tiny_model_path(tmp_path_factory)
    folder = make_adapter(tiny, tmp_path / "bot", seed=1)
    first = HFChatModel(tiny, adapters={"bot": folder}, adapter="bot", params=GREEDY)
    old = replies(first)
    shutil.rmtree(folder)
    make_adapter(tiny, folder, seed=2)  # retrained into the same folder
    second = HFChatModel(tiny, adapters={"bot": folder}, adapter="bot", params=GREEDY)
    assert second.hf_model is first.hf_model  # the base weights are shared
    new = replies(second)
    assert new != old
    fresh = HFChatModel(tiny, adapters={"bot": folder}, adapter="bot", params=GREEDY)
    assert replies(fresh) == new == replies(first)  # every user of the folder sees it now
