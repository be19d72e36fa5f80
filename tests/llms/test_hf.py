"""HFChatModel on a tiny real Llama (CPU): the shared conformance suite, streaming, true
batching, stop strings, usage, sampling seeds, perplexity, loading errors and the model cache."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentkit.core import spec
from agentkit.core.errors import MissingDependencyError, UsageError
from agentkit.llms import GenerationParams, Message, user
from agentkit.llms.base import BaseChatModel
from agentkit.llms.hf import PLAIN_CHAT_TEMPLATE, HFChatModel
from agentkit.llms.hf.streaming import ThreadedGeneration, stream_messages
from agentkit.llms.switch import model_requests
from agentkit.testing import ChatModelConformance
from agentkit.testing.tiny_models import DEFAULT_CORPUS, build_tiny_model, tiny_model_path

pytestmark = pytest.mark.integration
torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

PROMPTS = [
    "What is the capital of France?",
    "What is two plus two?",
    "Where do rivers go?",
    "The cat",
    "Water",
    "The sun",
    "Bees",
    "A week",
    "The moon",
    "Trees",
    "The train",
    "Birds",
    "Tell me about snow",
    "The farmer",
    "Children",
    "Hello there, who are you?",
]
LIMIT = {"max_new_tokens": 24}


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    """Tiny models run fastest on one thread (and do not fight other processes)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module", autouse=True)
def _allow_requests() -> Iterator[None]:
    with model_requests(True):
        yield


@pytest.fixture(scope="session")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model_path(tmp_path_factory)


@pytest.fixture(scope="module")
def model(tiny_path: Path) -> HFChatModel:
    return HFChatModel(tiny_path, params=LIMIT).load()


class TestHFConformance(ChatModelConformance):
    scripted = False

    @pytest.fixture(autouse=True)
    def _model_path(self, model: HFChatModel) -> None:
        self.loaded = model  # keeps the weights cached for the fresh models below

    def make_model(self, responses: list[str]) -> BaseChatModel:
        return HFChatModel(self.loaded.model_id, params=LIMIT)


def test_weights_are_shared_between_models_of_the_same_folder(model: HFChatModel) -> None:
    again = HFChatModel(model.model_id).load()
    assert again.hf_model is model.hf_model
    assert again.tokenizer is model.tokenizer
    other_dtype = HFChatModel(model.model_id, dtype="bfloat16").load()
    assert other_dtype.hf_model is not model.hf_model


def test_stream_equals_generate_for_many_prompts(model: HFChatModel) -> None:
    for prompt in PROMPTS[:6]:
        expected = model.generate([user(prompt)])
        chunks = list(model.stream(prompt))
        assert "".join(c.content for c in chunks) == expected.text
        assert chunks[-1].usage == expected.usage
        assert chunks[-1].metadata["finish_reason"] == expected.finish_reason


def test_generate_batch_of_16_equals_16_single_calls(model: HFChatModel) -> None:
    singles = [model.generate([user(p)]) for p in PROMPTS]
    batch = model.generate_batch([[user(p)] for p in PROMPTS])
    assert [r.text for r in batch] == [r.text for r in singles]
    assert [r.usage for r in batch] == [r.usage for r in singles]
    assert [r.finish_reason for r in batch] == [r.finish_reason for r in singles]
    assert len({r.text for r in singles}) > 8, "replies should depend on the prompt"
    chunked = model.generate_batch([[user(p)] for p in PROMPTS], max_concurrency=5)
    assert [r.text for r in chunked] == [r.text for r in singles]


def test_batch_with_stop_strings_matches_single_calls(model: HFChatModel) -> None:
    params = GenerationParams(stop=(" the",), max_new_tokens=24)
    singles = [model.generate([user(p)], params) for p in PROMPTS[:8]]
    batch = model.generate_batch([[user(p)] for p in PROMPTS[:8]], params)
    assert [r.text for r in batch] == [r.text for r in singles]
    assert all(" the" not in r.text for r in batch)


def test_usage_counts_prompt_and_completion_tokens(model: HFChatModel) -> None:
    messages = [user("Where do rivers go?")]
    result = model.generate(messages)
    prompt = model.tokenizer.apply_chat_template(
        [m.to_dict() for m in messages], tokenize=False, add_generation_prompt=True
    )
    assert result.usage.prompt_tokens == len(
        model.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    )
    completion = model.tokenizer(result.text, add_special_tokens=False)["input_ids"]
    assert result.finish_reason == "stop"  # the model ended the reply: its end token counts
    assert result.usage.completion_tokens == len(completion) + 1


def test_max_new_tokens_counts_tokens(model: HFChatModel) -> None:
    for n in (1, 3, 5):
        result = model.generate([user(PROMPTS[3])], GenerationParams(max_new_tokens=n))
        assert result.usage.completion_tokens == n
        assert result.finish_reason == "length"


def test_sampling_is_reproducible_with_a_seed(model: HFChatModel) -> None:
    hot = model.bind(temperature=1.5, top_k=0, max_new_tokens=16)
    first = hot.bind(seed=7).invoke(PROMPTS[0]).content
    assert hot.bind(seed=7).invoke(PROMPTS[0]).content == first
    others = {hot.bind(seed=s).invoke(PROMPTS[0]).content for s in range(8)}
    assert len(others) > 1, "sampling at temperature 1.5 should vary with the seed"
    greedy = model.generate([user(PROMPTS[0])]).text
    assert model.bind(temperature=0.0, seed=3).invoke(PROMPTS[0]).content == greedy


def test_hf_params_reach_generate(model: HFChatModel) -> None:
    plain = model.generate([user(PROMPTS[2])]).text
    strict = model.bind(hf_params={"no_repeat_ngram_size": 1}).generate([user(PROMPTS[2])]).text
    assert strict != plain
    with pytest.raises(UsageError, match="set it as a generation parameter"):
        model.bind(hf_params={"temperature": 0.5})
    with pytest.raises(UsageError, match="repetition_penalty"):
        HFChatModel(model.model_id, hf_params={"repetition_penalti": 1.1}).load()


def test_perplexity_is_lower_on_training_text(model: HFChatModel) -> None:
    seen = list(DEFAULT_CORPUS[:4])
    noise = ["zq xv kkp wqz brrt oo", "mmh qqk zzv wwp ttr ee", "xo xo pq lk jh gf", "uu yy ii oo"]
    scores = model.perplexity(seen + noise)
    assert len(scores) == 8 and all(s > 1.0 for s in scores)
    assert max(scores[:4]) < min(scores[4:])
    with pytest.raises(UsageError, match="list of strings"):
        model.perplexity("one text")  # type: ignore[arg-type]


def test_closing_a_stream_cancels_the_generation(model: HFChatModel) -> None:
    params = GenerationParams(max_new_tokens=400)
    long = model.bind(hf_params={"min_new_tokens": 400})
    job = ThreadedGeneration(
        model.tokenizer,
        lambda streamer, cancel: long._run([[user("Hi")]], params, streamer, cancel)[0],
    )
    chunks = stream_messages(job, (), (), {})
    assert isinstance(next(chunks), Message)
    chunks.close()  # the worker sees the cancel flag after its current token
    row = job.result()
    assert row.usage.completion_tokens < 400
    assert (
        model.generate(
            [user(PROMPTS[1])], GenerationParams(max_new_tokens=3)
        ).usage.completion_tokens
        == 3
    )


def test_missing_chat_template_is_a_clear_error(tmp_path: Path) -> None:
    folder = build_tiny_model(tmp_path / "plain", chat_template=None, hidden=32, layers=1)
    bare = HFChatModel(folder)
    with pytest.raises(UsageError, match="has no chat template; pass one"):
        bare.invoke("hi")
    fixed = HFChatModel(folder, chat_template=PLAIN_CHAT_TEMPLATE, params={"max_new_tokens": 3})
    assert fixed.invoke("hi").usage.completion_tokens <= 3


def test_template_errors_surface_in_generate_and_stream(tiny_path: Path) -> None:
    broken = HFChatModel(tiny_path, chat_template="{{ raise_exception('no turns here') }}")
    with pytest.raises(UsageError, match="no turns here"):
        broken.invoke("hi")
    with pytest.raises(UsageError, match="no turns here"):  # raised in the worker thread
        list(broken.stream("hi"))


def test_system_prompt_folds_into_the_user_turn_when_the_template_rejects_it(
    tiny_path: Path,
) -> None:
    no_system = (
        "{% for m in messages %}{% if m['role'] == 'system' %}"
        "{{ raise_exception('System role not supported') }}{% endif %}"
        "<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
    )
    model = HFChatModel(tiny_path, chat_template=no_system, params=LIMIT)
    folded = model.generate([Message("system", "Be brief."), user("The cat")])
    direct = model.generate([user("Be brief.\n\nThe cat")])
    assert folded.text == direct.text and folded.usage == direct.usage


def test_unknown_hub_id_fails_fast_when_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UsageError) as info:
        HFChatModel("agentkit-tests/no-such-model-anywhere")
    message = str(info.value)
    assert "HF_HUB_OFFLINE=0" in message
    assert "huggingface-cli download agentkit-tests/no-such-model-anywhere" in message
    assert "ollama:" in message and "extractive" in message


def test_hub_ids_come_from_the_local_cache_first(
    tiny_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub

    def cached(repo_id: str, local_files_only: bool = False, **kwargs: object) -> str:
        assert local_files_only, "the local cache must be tried before the network"
        return str(tiny_path)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", cached)
    model = HFChatModel("agentkit-tests/tiny", params=LIMIT)
    assert model.model_id == "agentkit-tests/tiny"
    assert model.to_dict()["model"] == "agentkit-tests/tiny"
    assert (
        model.invoke(PROMPTS[0]).content
        == HFChatModel(tiny_path, params=LIMIT).invoke(PROMPTS[0]).content
    )


def test_unreachable_hub_fails_fast_when_online(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    def missing(repo_id: str, **kwargs: object) -> str:
        raise FileNotFoundError("not cached")

    def unreachable(repo_id: str, timeout: float | None = None, **kwargs: object) -> None:
        assert timeout is not None and timeout <= 10, "the hub probe needs a short timeout"
        raise ConnectionError("Name or service not known")

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")
    monkeypatch.setattr(huggingface_hub, "snapshot_download", missing)
    monkeypatch.setattr(huggingface_hub, "model_info", unreachable)
    with pytest.raises(UsageError, match="cannot be downloaded") as info:
        HFChatModel("agentkit-tests/gated-model")
    assert "ConnectionError" in str(info.value) and "openai:" in str(info.value)


def test_bad_local_paths_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        HFChatModel(tmp_path / "missing")
    with pytest.raises(UsageError, match=r"no config\.json"):
        HFChatModel(tmp_path)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without CUDA")
def test_4bit_without_cuda_is_a_clear_error(tiny_path: Path) -> None:
    with pytest.raises(UsageError, match="needs a CUDA GPU") as info:
        HFChatModel(tiny_path, load_in_4bit=True)
    assert not isinstance(info.value, MissingDependencyError)


def test_device_and_dtype_are_checked(tiny_path: Path) -> None:
    with pytest.raises(UsageError, match="invalid dtype"):
        HFChatModel(tiny_path, dtype="float8")
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="CUDA is not available"):
            HFChatModel(tiny_path, device="cuda")
    model = HFChatModel(tiny_path, device="cpu", dtype="float32").load()
    assert str(model.hf_model.device) == "cpu" and model.hf_model.dtype == torch.float32


def test_spec_round_trip(model: HFChatModel, tmp_path: Path) -> None:
    bound = model.bind(temperature=0.0, stop=["\n"], hf_params={"repetition_penalty": 1.1})
    data = bound.to_dict()
    assert data == {
        "type": "hf_model",
        "model": model.model_id,
        "params": {"temperature": 0.0, "max_new_tokens": 24, "stop": ["\n"]},
        "hf_params": {"repetition_penalty": 1.1},
    }
    rebuilt = spec.load(data)
    assert isinstance(rebuilt, HFChatModel) and rebuilt.to_dict() == data
    assert rebuilt.invoke(PROMPTS[0]).content == bound.invoke(PROMPTS[0]).content


def test_saved_copy_loads_from_a_new_folder(tiny_path: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(tiny_path, tmp_path / "copy"))
    original = HFChatModel(tiny_path, params=LIMIT)
    moved = HFChatModel(copy, params=LIMIT)
    assert moved.invoke(PROMPTS[2]).content == original.invoke(PROMPTS[2]).content
    assert moved.hf_model is not original.hf_model
