"""Model resolution: spec strings, and ``auto`` with the fake server standing in for Ollama,
without any server, and with AGENTKIT_MODEL set."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest

pytest.importorskip("httpx")

from agentkit.core.errors import UsageError
from agentkit.llms import FakeListModel, model_requests
from agentkit.llms.extractive import ExtractiveReader
from agentkit.llms.openai_compat import OpenAICompatModel
from agentkit.llms.resolve import FAKE_REPLY, load, resolve, split_vllm
from tests.llms.fake_openai_server import (  # noqa: F401  (fixtures)
    FakeOpenAIServer,
    Step,
    openai_server_fixture,
    server_fixture,
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AGENTKIT_MODEL", "AGENTKIT_OLLAMA_MODEL", "AGENTKIT_OLLAMA_URL"):
        monkeypatch.delenv(name, raising=False)


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_server_backed_specs(monkeypatch: pytest.MonkeyPatch) -> None:
    ollama = load("ollama:llama3.2")
    assert isinstance(ollama, OpenAICompatModel)
    assert (ollama.model, ollama.base_url) == ("llama3.2", "http://localhost:11434/v1")
    vllm = load("vllm:http://gpu:8000/v1/Qwen/Qwen2.5-0.5B-Instruct", timeout=5)
    assert isinstance(vllm, OpenAICompatModel)
    assert (vllm.base_url, vllm.model, vllm.timeout) == (
        "http://gpu:8000/v1",
        "Qwen/Qwen2.5-0.5B-Instruct",
        5.0,
    )
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    openai = resolve("openai:gpt-4o-mini")
    assert openai.backend == "openai" and "asked for" in openai.reason
    assert isinstance(openai.model, OpenAICompatModel)
    assert openai.model.base_url == "https://api.openai.com/v1"


def test_offline_specs() -> None:
    fake = load("fake")
    assert isinstance(fake, FakeListModel) and fake.invoke("hi").content == FAKE_REPLY
    reader = resolve("extractive")
    assert isinstance(reader.model, ExtractiveReader) and reader.backend == "extractive"


def test_hf_spec_goes_to_hf_chat_model(tmp_path: Path) -> None:
    pytest.importorskip("agentkit.llms.hf")
    from agentkit.llms.hf import HFChatModel

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    model = load(f"hf:{tmp_path}")  # lazy: nothing is loaded until the first call
    assert isinstance(model, HFChatModel)
    with pytest.raises(UsageError, match="does not exist"):
        load(f"hf:{tmp_path / 'missing'}")


def test_bad_specs_list_the_schemes() -> None:
    for spec in ("gpt-4o", "llama:3", "auto:x", "fake:x"):
        with pytest.raises(UsageError, match=r"hf:<hub id or path>.*vllm:<url>/<model>.*auto"):
            load(spec)
    with pytest.raises(UsageError, match="names no model"):
        load("ollama:")
    with pytest.raises(UsageError, match="non-empty string"):
        load("")
    with pytest.raises(UsageError, match="vllm:<server url>/<model>"):
        load("vllm:http://gpu:8000")
    assert split_vllm("https://h/m", "s") == ("https://h/v1", "m")


def test_auto_picks_a_running_ollama(
    server: FakeOpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.ollama_models = ["llama3.2:latest", "qwen2.5:0.5b"]
    with caplog.at_level(logging.INFO, logger="agentkit.llms.resolve"):
        found = resolve("auto", ollama_url=server.url)
    assert found.backend == "ollama"
    assert isinstance(found.model, OpenAICompatModel)
    assert found.model.model == "llama3.2:latest"
    assert found.model.base_url == server.base_url
    assert server.url in found.reason and "its first model" in found.reason
    assert any("ollama" in r.getMessage() and server.url in r.getMessage() for r in caplog.records)
    server.enqueue(Step.fixture("ollama_completion.json"))
    with model_requests(True):
        reply = found.model.invoke("Why is the sky blue?")
    assert reply.content.startswith("The sky is blue")
    assert server.bodies()[-1]["model"] == "llama3.2:latest"


def test_auto_uses_agentkit_ollama_model_and_url_from_env(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.ollama_models = ["llama3.2:latest"]
    monkeypatch.setenv("AGENTKIT_OLLAMA_URL", server.url)
    monkeypatch.setenv("AGENTKIT_OLLAMA_MODEL", "mistral")
    found = resolve("auto")
    assert isinstance(found.model, OpenAICompatModel) and found.model.model == "mistral"
    assert "AGENTKIT_OLLAMA_MODEL" in found.reason


def test_auto_skips_an_ollama_without_models(server: FakeOpenAIServer) -> None:
    server.ollama_models = []
    found = resolve("auto", ollama_url=server.url)
    assert found.backend == "extractive" and "has no models" in found.reason


def test_auto_falls_back_to_the_extractive_reader() -> None:
    url = closed_port_url()
    found = resolve("auto", ollama_url=url)
    assert isinstance(found.model, ExtractiveReader)
    assert found.backend == "extractive"
    assert f"no Ollama server answered at {url}" in found.reason
    assert "AGENTKIT_MODEL is not set" in found.reason


def test_auto_uses_agentkit_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = closed_port_url()
    monkeypatch.setenv("AGENTKIT_MODEL", "ollama:phi3")
    found = resolve("auto", ollama_url=url)
    assert found.backend == "ollama" and "AGENTKIT_MODEL='ollama:phi3'" in found.reason
    assert isinstance(found.model, OpenAICompatModel) and found.model.model == "phi3"

    monkeypatch.setenv("AGENTKIT_MODEL", "fake")
    assert isinstance(resolve("auto", ollama_url=url).model, FakeListModel)

    monkeypatch.setenv("AGENTKIT_MODEL", "someone/not-downloaded-model")
    missing = resolve("auto", ollama_url=url)
    assert missing.backend == "extractive"
    assert "neither a local folder nor in the Hugging Face cache" in missing.reason

    pytest.importorskip("agentkit.llms.hf")
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    monkeypatch.setenv("AGENTKIT_MODEL", str(tmp_path))
    local = resolve("auto", ollama_url=url)
    assert local.backend == "hf" and str(tmp_path) in local.reason

    monkeypatch.setenv("AGENTKIT_MODEL", "auto")
    with pytest.raises(UsageError, match="would loop"):
        resolve("auto", ollama_url=url)
