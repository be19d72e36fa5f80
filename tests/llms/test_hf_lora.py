"""LoRA adapters on the tiny Llama: several adapters, switching per call, the base model
unchanged, merging, saving merged weights, and loading a registered adapter by name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agentkit.core import spec
from agentkit.core.errors import UsageError
from agentkit.finetune import AdapterRegistry
from agentkit.llms import user
from agentkit.llms.hf import HFChatModel
from agentkit.llms.switch import model_requests
from agentkit.testing.tiny_models import tiny_model_path

pytestmark = pytest.mark.integration
torch = pytest.importorskip("torch")
pytest.importorskip("peft")

PROMPTS = ["What is the capital of France?", "The cat", "Water", "Tell me about snow", "Bees"]
LIMIT = {"max_new_tokens": 16}


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module", autouse=True)
def _allow_requests() -> Iterator[None]:
    with model_requests(True):
        yield


def make_adapter(base: Path, out: Path, seed: int) -> Path:
    """A randomly initialised LoRA adapter (both matrices random, so it changes outputs)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        config = LoraConfig(
            r=8,
            lora_alpha=32,
            target_modules=["q_proj", "v_proj", "up_proj", "down_proj"],
            init_lora_weights=False,
        )
        get_peft_model(model, config).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model_path(tmp_path_factory)


@pytest.fixture(scope="module")
def adapter_dirs(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("adapters")
    return {name: make_adapter(tiny, root / name, seed) for name, seed in (("a", 1), ("b", 2))}


@pytest.fixture(scope="module")
def base_replies(tiny: Path) -> list[str]:
    model = HFChatModel(tiny, params=LIMIT)
    return [model.invoke(p).content for p in PROMPTS]


@pytest.fixture(scope="module")
def with_adapters(
    tiny: Path, adapter_dirs: dict[str, Path], base_replies: list[str]
) -> HFChatModel:
    return HFChatModel(tiny, adapters=adapter_dirs, params=LIMIT).load()


def replies(model: HFChatModel) -> list[str]:
    return [r.text for r in model.generate_batch([[user(p)] for p in PROMPTS])]


def test_switching_adapters_changes_outputs(with_adapters: HFChatModel) -> None:
    base = replies(with_adapters)
    a = replies(with_adapters.bind(adapter="a"))
    b = replies(with_adapters.bind(adapter="b"))
    assert a != base and b != base and a != b
    assert replies(with_adapters.bind(adapter="a")) == a  # switching back and forth is stable
    singles = [with_adapters.bind(adapter="b").invoke(p).content for p in PROMPTS]
    assert singles == b
    result = with_adapters.bind(adapter="a").generate([user(PROMPTS[0])])
    assert result.metadata["adapter"] == "a"


def test_base_output_unchanged_by_loaded_adapters(
    tiny: Path, with_adapters: HFChatModel, base_replies: list[str]
) -> None:
    assert replies(with_adapters) == base_replies
    assert replies(with_adapters.bind(adapter="a").bind(adapter=None)) == base_replies
    shared = HFChatModel(tiny, params=LIMIT)  # shares the weights the adapters were loaded into
    assert shared.hf_model is with_adapters.hf_model
    assert [shared.invoke(p).content for p in PROMPTS] == base_replies
    perplexities = with_adapters.perplexity(PROMPTS)
    assert with_adapters.bind(adapter="a").perplexity(PROMPTS) != perplexities
    assert shared.perplexity(PROMPTS) == perplexities


def test_merge_gives_the_same_greedy_outputs(
    with_adapters: HFChatModel, base_replies: list[str], tmp_path: Path
) -> None:
    unmerged = replies(with_adapters.bind(adapter="a"))
    merged = with_adapters.merge("a")
    assert merged.hf_model is not with_adapters.hf_model
    assert replies(merged) == unmerged
    assert replies(with_adapters) == base_replies  # merging left the shared weights alone
    saved = with_adapters.bind(adapter="b").merge_and_save(tmp_path / "merged-b")
    assert (saved / "model.safetensors").exists() and (saved / "tokenizer.json").exists()
    assert replies(HFChatModel(saved, params=LIMIT)) == replies(with_adapters.bind(adapter="b"))
    with pytest.raises(UsageError, match="not empty"):
        with_adapters.merge_and_save(saved, adapter="a")
    with pytest.raises(UsageError, match="no adapter to merge"):
        with_adapters.merge()


def test_load_adapter_by_path_and_name_errors(tiny: Path, adapter_dirs: dict[str, Path]) -> None:
    model = HFChatModel(tiny, params=LIMIT)
    assert model.load_adapter(adapter_dirs["a"], "first") == "first"
    assert model.bind(adapter="first").invoke(PROMPTS[1]).content == (
        HFChatModel(tiny, adapter=adapter_dirs["a"], params=LIMIT).invoke(PROMPTS[1]).content
    )
    with pytest.raises(UsageError, match="is taken by"):
        model.load_adapter(adapter_dirs["b"], "first")
    with pytest.raises(UsageError, match="unknown adapter 'nope'"):
        model.bind(adapter="nope")
    with pytest.raises(UsageError, match="no adapter_config"):
        model.load_adapter(tiny)
    with pytest.raises(UsageError, match="is a LoRA adapter folder"):
        HFChatModel(adapter_dirs["a"])


def test_registered_adapter_loads_by_name(
    with_adapters: HFChatModel, adapter_dirs: dict[str, Path], tmp_path: Path
) -> None:
    registry = AdapterRegistry(tmp_path / "registry")
    registry.register("tiny-b", adapter_dirs["b"], {"metrics": {"loss": 0.5}})
    model = HFChatModel.from_adapter("tiny-b", registry=registry, params=LIMIT)
    assert model.adapter == "tiny-b"
    assert replies(model) == replies(with_adapters.bind(adapter="b"))
    assert registry.get("tiny-b").manifest["base_model"] == str(with_adapters.model_id)
    by_path = HFChatModel.from_adapter(adapter_dirs["b"], params=LIMIT)
    assert by_path.adapter == "b"
    with pytest.raises(UsageError, match="no adapter named 'tiny-c'"):
        HFChatModel.from_adapter("tiny-c", registry=registry)


def test_spec_round_trip_with_adapters(with_adapters: HFChatModel) -> None:
    bound = with_adapters.bind(adapter="a")
    data = bound.to_dict()
    assert data["adapter"] == "a" and set(data["adapters"]) == {"a", "b"}
    rebuilt = spec.load(data)
    assert rebuilt.to_dict() == data
    assert replies(rebuilt) == replies(bound)
    merged = with_adapters.merge("b")
    merged_data = merged.to_dict()
    assert merged_data["merge"] is True and merged_data["adapter"] == "b"
    assert replies(spec.load(merged_data)) == replies(merged)
