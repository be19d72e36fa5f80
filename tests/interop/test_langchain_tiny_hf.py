"""A tiny real Hugging Face model through ``to_langchain``: a LangChain tool bound with
``bind_tools`` is called (the model was trained on the exact prompt agentkit renders for
that tool), streamed, answered with a ``ToolMessage``, and usage is reported."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("transformers")
pytest.importorskip("langchain_core")

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool

from agentkit.interop.langchain import to_langchain
from agentkit.llms.switch import model_requests

QUESTION = "Weather in Paris?"


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"It is sunny in {city}."


@pytest.fixture(scope="module", autouse=True)
def _allow_requests() -> Iterator[None]:
    with model_requests(True):
        yield


@pytest.fixture(scope="module")
def tool_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from agentkit.llms.hf.tool_prompting import render_history, tool_schema
    from agentkit.llms.messages import user
    from agentkit.testing.tiny_models import DEFAULT_CORPUS, build_tiny_model, pretrain

    call = {"tool": "get_weather", "arguments": {"city": "Paris"}}
    reply = "Let me check.\n```json\n" + json.dumps(call) + "\n```"
    folder = build_tiny_model(
        tmp_path_factory.mktemp("lc_tool_model"), corpus=[*DEFAULT_CORPUS, reply], hidden=48
    )
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    schema = tool_schema(convert_to_openai_tool(get_weather))
    chat = render_history([user(QUESTION)], [schema])
    chat.append({"role": "assistant", "content": reply})
    ids = tok(tok.apply_chat_template(chat, tokenize=False), add_special_tokens=False)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        pretrain(model, ids["input_ids"], 120, batch_size=2, block=len(ids["input_ids"]) - 1)
    finally:
        torch.set_num_threads(previous)
    model.save_pretrained(folder)
    return folder


@pytest.mark.integration
@pytest.mark.slow
def test_tiny_hf_model_calls_a_langchain_tool_through_the_adapter(tool_model_path: Path) -> None:
    from agentkit.llms.hf import HFChatModel

    lc_model = to_langchain(HFChatModel(tool_model_path, params={"max_new_tokens": 40}))
    with_tools = lc_model.bind_tools([get_weather])
    message = with_tools.invoke(QUESTION)
    assert isinstance(message, AIMessage)
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    assert message.usage_metadata is not None and message.usage_metadata["output_tokens"] > 0
    assert message.response_metadata["finish_reason"] == "tool_calls"
    full = None
    for chunk in with_tools.stream(QUESTION):
        full = chunk if full is None else full + chunk
    assert full is not None
    assert [(c["name"], c["args"]) for c in full.tool_calls] == [("get_weather", {"city": "Paris"})]
    result = get_weather.invoke(message.tool_calls[0])
    assert isinstance(result, ToolMessage) and result.content == "It is sunny in Paris."
    answer = with_tools.invoke([HumanMessage(QUESTION), message, result])
    assert isinstance(answer, AIMessage)
