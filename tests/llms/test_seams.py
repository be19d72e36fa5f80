"""Seams of the chat-model backends as embedding developers meet them: HF usage in batches
that stop on a stop string, prompts beyond the context window, streams that end early,
API keys echoed by a server, and LangChain-style parameter names."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentkit.core.errors import RunError, UsageError
from agentkit.llms import GenerationParams, Message, model_requests, user
from agentkit.llms.base import BaseChatModel
from agentkit.llms.fake import FakeListModel

# --- params --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fix"),
    [("max_tokens", "max_new_tokens"), ("stop_sequences", "stop"), ("temprature", "temperature")],
)
def test_foreign_param_names_say_which_name_to_use(name: str, fix: str) -> None:
    model: BaseChatModel = FakeListModel(["ok"])
    with pytest.raises(UsageError, match=f"use {fix!r}"):
        model.bind(**{name: 1})


# --- OpenAI-compatible servers ---------------------------------------------------------------

httpx = pytest.importorskip("httpx")

from agentkit.llms.openai_compat import ModelServerError, OpenAICompatModel  # noqa: E402
from tests.llms.fake_openai_server import (  # noqa: E402, F401  (fixtures)
    FakeOpenAIServer,
    Step,
    openai_server_fixture,
    server_fixture,
)

KEY = "sk-test-0123456789abcdefSECRET"


@pytest.fixture(autouse=True)
def _requests_allowed() -> Iterator[None]:
    with model_requests(True):
        yield


@pytest.mark.parametrize(("status", "error"), [(401, UsageError), (500, ModelServerError)])
def test_an_api_key_echoed_by_the_server_is_not_in_the_error(
    server: FakeOpenAIServer, status: int, error: type[Exception]
) -> None:
    server.enqueue(Step.error(status, f"Incorrect API key provided: {KEY}."))
    model = OpenAICompatModel("m", server.base_url, api_key=KEY, max_retries=0, timeout=5)
    with pytest.raises(error) as info:
        model.invoke("hi")
    assert KEY not in str(info.value) and "Incorrect API key provided" in str(info.value)
    assert KEY not in getattr(info.value, "body", "")


def _chunk(text: str) -> bytes:
    data = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
    return f"data: {json.dumps(data)}\n\n".encode()


def _serve_once(reply: bytes) -> str:
    """A one-request HTTP server that sends ``reply`` then closes; its base URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        with listener:
            conn, _ = listener.accept()
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(65536)
                head, _, body = request.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                while len(body) < length:  # read it all, so closing sends no reset
                    body += conn.recv(65536)
                conn.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/v1"


CUT = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
    + _chunk("Hello")
    + _chunk(" wor")
)


def test_a_stream_cut_before_its_end_is_an_error_not_a_short_reply() -> None:
    model = OpenAICompatModel("m", _serve_once(CUT), max_retries=0, timeout=5)
    seen: list[Message] = []
    with pytest.raises(RunError, match="ended before the reply was complete"):
        for chunk in model.stream("hi"):
            seen.append(chunk)
    assert "".join(c.content for c in seen) == "Hello wor"  # what came is still streamed

    async def collect() -> None:
        async for _ in model.astream("hi"):
            pass

    model = OpenAICompatModel("m", _serve_once(CUT), max_retries=0, timeout=5)
    with pytest.raises(RunError, match="ended before the reply was complete"):
        asyncio.run(collect())


# --- Hugging Face ----------------------------------------------------------------------------

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from agentkit.llms.hf import HFChatModel  # noqa: E402
from agentkit.testing.tiny_models import build_tiny_model, tiny_model_path  # noqa: E402

PROMPTS = ["The cat", "What is the capital of France?", "Where do rivers go?", "Bees"]
LONG = " ".join(["The cat sat on the mat and looked at the dog in the garden."] * 8)


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> HFChatModel:
    return HFChatModel(tiny_model_path(tmp_path_factory), params={"max_new_tokens": 24}).load()


@pytest.fixture(scope="module")
def short_context(tmp_path_factory: pytest.TempPathFactory) -> HFChatModel:
    """A GPT-2 (learned positions: it cannot run past its window) with 64 positions."""
    folder = build_tiny_model(
        tmp_path_factory.mktemp("gpt2_64"), arch="gpt2", hidden=32, layers=1, max_positions=64
    )
    return HFChatModel(folder, params={"max_new_tokens": 8}).load()


def test_batch_usage_equals_single_calls_when_rows_stop_on_a_stop_string(
    tiny: HFChatModel,
) -> None:
    params = GenerationParams(stop=("e ma", " the"), max_new_tokens=24)
    singles = [tiny.generate([user(p)], params) for p in PROMPTS]
    batch = tiny.generate_batch([[user(p)] for p in PROMPTS], params)
    assert [r.text for r in batch] == [r.text for r in singles]
    assert [r.usage for r in batch] == [r.usage for r in singles]
    stream = list(tiny.stream_chunks([user(PROMPTS[0])], params))
    assert stream[-1].usage == singles[0].usage


def test_a_prompt_beyond_the_context_window_is_a_clear_error(short_context: HFChatModel) -> None:
    with pytest.raises(UsageError, match="context window of 64 tokens") as info:
        short_context.invoke(LONG)
    assert "shorten" in str(info.value)
    with pytest.raises(UsageError, match="conversation 1 of the batch"):
        short_context.generate_batch([[user("Hi")], [user(LONG)], [user("Bees")]])
    replies = short_context.batch(["Hi", LONG], return_exceptions=True)
    assert isinstance(replies[0], Message) and isinstance(replies[1], UsageError)


@pytest.mark.filterwarnings("ignore:Unfeasible length constraints")
def test_a_reply_that_would_run_past_the_context_window_stops_there(
    short_context: HFChatModel,
) -> None:
    prompt = " ".join(LONG.split()[:16])
    longer = short_context.bind(max_new_tokens=60, hf_params={"min_new_tokens": 60})
    result = longer.generate([user(prompt)])
    assert result.usage.prompt_tokens + result.usage.completion_tokens == 64
    assert result.finish_reason == "length"


def test_stop_strings_split_across_tokens_at_the_start_and_several(tiny: HFChatModel) -> None:
    plain = tiny.generate([user("The cat")]).text
    assert plain.startswith("sat on the mat")  # the tiny model's greedy reply
    for stops in (["e ma"], [plain[:2]], ["mat", "t on the"], ["\n"]):
        params = GenerationParams(stop=tuple(stops), max_new_tokens=24)
        whole = tiny.generate([user("The cat")], params)
        chunks = list(tiny.stream_chunks([user("The cat")], params))
        assert "".join(c.content for c in chunks) == whole.text
        assert not any(s in whole.text for s in stops)
        first = min((i for i in (plain.find(s) for s in stops) if i >= 0), default=len(plain))
        assert whole.text == plain[:first]
        assert chunks[-1].usage == whole.usage


def test_bound_params_reach_invoke(tiny: HFChatModel, tmp_path: Path) -> None:
    short = tiny.bind(max_new_tokens=3).invoke("The cat")
    assert short.usage is not None and short.usage.completion_tokens == 3
    with pytest.raises(UsageError, match="max_new_tokens must be an integer >= 1"):
        tiny.bind(max_new_tokens=-1)
