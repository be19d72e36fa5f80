"""The tiny-model factory: tokenizer and chat template, seeded weights, pretraining, and
loading through the normal ``HFChatModel`` path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agentkit.core.errors import UsageError
from agentkit.llms import user
from agentkit.llms.switch import model_requests
from agentkit.testing.tiny_models import (
    CHAT_TEMPLATE,
    DEFAULT_CORPUS,
    build_tiny_model,
    pretrain,
    tiny_model_path,
    training_ids,
)

pytestmark = pytest.mark.integration
torch = pytest.importorskip("torch")
SMALL = {"hidden": 32, "layers": 1, "heads": 2}


@pytest.fixture(scope="module", autouse=True)
def _one_thread_and_requests() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    with model_requests(True):
        yield
    torch.set_num_threads(previous)


def weights(folder: Path) -> dict[str, object]:
    from safetensors.torch import load_file

    return load_file(folder / "model.safetensors")


@pytest.mark.parametrize("arch", ["llama", "gpt2"])
def test_builds_a_loadable_chat_model(arch: str, tmp_path: Path) -> None:
    from agentkit.llms.hf import HFChatModel

    folder = build_tiny_model(tmp_path / arch, arch=arch, **SMALL)
    for name in ("config.json", "model.safetensors", "tokenizer.json", "generation_config.json"):
        assert (folder / name).exists(), name
    model = HFChatModel(folder, params={"max_new_tokens": 5})
    tok = model.tokenizer
    assert (tok.bos_token, tok.eos_token, tok.pad_token) == ("<|bos|>", "<|end|>", "<|pad|>")
    assert model.hf_model.config.model_type == arch
    assert model.hf_model.config.vocab_size == len(tok)
    prompt = tok.apply_chat_template(
        [{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True
    )
    assert prompt == "<|bos|><|user|>\nHi<|end|>\n<|assistant|>\n"
    assert not prompt.endswith(" ")
    tokens = tok.convert_ids_to_tokens(tok(prompt, add_special_tokens=False)["input_ids"])
    assert tokens[:2] == ["<|bos|>", "<|user|>"] and tokens[-1] != "Ġ"
    assert tok.decode(tok("The river Seine.")["input_ids"], skip_special_tokens=True) == (
        "The river Seine."
    )
    result = model.generate([user("Hi")])
    assert 1 <= result.usage.completion_tokens <= 5


def test_weights_are_seeded(tmp_path: Path) -> None:
    first = weights(build_tiny_model(tmp_path / "a", seed=3, **SMALL))
    again = weights(build_tiny_model(tmp_path / "b", seed=3, **SMALL))
    other = weights(build_tiny_model(tmp_path / "c", seed=4, **SMALL))
    assert first.keys() == again.keys() == other.keys()
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_pretraining_lowers_the_loss(tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = build_tiny_model(tmp_path / "m", **SMALL)
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    ids = training_ids(tok, DEFAULT_CORPUS)
    assert tok.apply_chat_template is not None and len(ids) > 4 * len(DEFAULT_CORPUS)
    start = pretrain(model, ids, 1)
    end = pretrain(model, ids, 60)
    assert end < start / 2


def test_no_chat_template_and_custom_corpus(tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    folder = build_tiny_model(
        tmp_path / "m", corpus=["alpha beta gamma", "delta epsilon"], chat_template=None, **SMALL
    )
    tok = AutoTokenizer.from_pretrained(folder)
    assert not tok.chat_template
    assert tok.decode(tok("alpha delta")["input_ids"], skip_special_tokens=True) == "alpha delta"
    assert "add_generation_prompt" in CHAT_TEMPLATE


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="arch must be one of llama, gpt2"):
        build_tiny_model(tmp_path, arch="t5")
    with pytest.raises(UsageError, match="non-empty list"):
        build_tiny_model(tmp_path, corpus=[])
    with pytest.raises(UsageError, match="pretrain_steps must be >= 0"):
        build_tiny_model(tmp_path, pretrain_steps=-1)


def test_session_helper_builds_once(tmp_path_factory: pytest.TempPathFactory) -> None:
    first = tiny_model_path(tmp_path_factory, pretrain_steps=0, **SMALL)
    assert tiny_model_path(tmp_path_factory, pretrain_steps=0, **SMALL) == first
    assert tiny_model_path(tmp_path_factory, pretrain_steps=0, seed=1, **SMALL) != first
