"""with_structured_output: validation and retry with the error fed back (fakes), the
OpenAI-compatible backend (local fake server), grammar-constrained decoding on a tiny real
HF model (single, batched, tool calls) and the fallback when llguidance is missing."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from agentkit.core.errors import ModelOutputError, UsageError
from agentkit.llms import model_requests
from agentkit.llms.fake import FakeListModel, FunctionModel
from agentkit.llms.structured import OutputSchema, extract_json

pytest.importorskip("jsonschema")


class City(BaseModel):
    name: str = Field(max_length=12)
    population: int = Field(ge=0)
    kind: Literal["town", "city"]


# five schemas whose valid replies are short: nested objects, enums, arrays, numbers,
# required and optional fields
SCHEMAS: list[dict[str, Any]] = [
    {
        "type": "object",
        "properties": {
            "point": {
                "type": "object",
                "properties": {
                    "x": {"type": "integer", "minimum": 0, "maximum": 99},
                    "y": {"type": "integer", "minimum": 0, "maximum": 99},
                },
                "required": ["x", "y"],
            }
        },
        "required": ["point"],
    },
    {
        "type": "object",
        "properties": {"color": {"enum": ["red", "green", "blue"]}, "ok": {"type": "boolean"}},
        "required": ["color", "ok"],
    },
    {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"enum": ["a", "b", "c"]}, "maxItems": 3}
        },
        "required": ["tags"],
    },
    {
        "type": "object",
        "properties": {
            "score": {"type": "integer", "minimum": -50, "maximum": 50},
            "level": {"enum": [1, 2, 3]},
        },
        "required": ["score", "level"],
    },
    {
        "type": "object",
        "properties": {
            "id": {"type": "string", "maxLength": 4},
            "note": {"type": "string", "maxLength": 4},
        },
        "required": ["id"],
    },
]


def _valid(data: Any, schema: dict[str, Any]) -> bool:
    import jsonschema

    return not list(jsonschema.Draft202012Validator(schema).iter_errors(data))


# --- validation and retry (fakes) -------------------------------------------------------


def test_pydantic_reply_validates_to_an_instance() -> None:
    model = FakeListModel(['{"name": "Oslo", "population": 700000, "kind": "city"}'])
    city = model.with_structured_output(City).invoke("Tell me about Oslo")
    assert city == City(name="Oslo", population=700000, kind="city")


def test_invalid_reply_is_sent_back_with_the_validation_error() -> None:
    seen: list[list[Any]] = []
    replies = iter(
        [
            '{"name": "Oslo", "population": -3, "kind": "metropolis"}',
            '```json\n{"name": "Oslo", "population": 3, "kind": "city"}\n```',
        ]
    )

    def fn(messages: list[Any], params: Any) -> str:
        seen.append(list(messages))
        return next(replies)

    structured = FunctionModel(fn).with_structured_output(City)
    assert structured.invoke("Oslo?").population == 3
    first, second = seen
    assert first[0].role == "system" and '"kind"' in first[0].content  # the schema is asked for
    assert second[-2].role == "assistant" and "metropolis" in second[-2].content
    feedback = second[-1].content
    assert second[-1].role == "user" and "population" in feedback and "kind" in feedback


def test_retries_exhausted_raise_model_output_error_naming_the_schema() -> None:
    model = FakeListModel(["not json at all", '{"name": 1}'])
    with pytest.raises(ModelOutputError, match=r"3 attempt.*schema City"):
        model.with_structured_output(City, max_retries=2).invoke("Oslo?")


def test_dict_schema_reply_is_validated_and_errors_name_the_field() -> None:
    schema = SCHEMAS[0]
    schema_check = OutputSchema(schema)
    assert schema_check.validate('{"point": {"x": 1, "y": 2}}') == {"point": {"x": 1, "y": 2}}
    with pytest.raises(ModelOutputError, match=r"\$\.point\.x"):
        schema_check.validate('{"point": {"x": 500, "y": 2}}')


@pytest.mark.parametrize(
    "text",
    ["", "{", "[1, 2", '{"a": ' * 5000, "null", "\x00\x01", '{"point": {"x": "1", "y": 2}}'],
)
def test_hostile_replies_raise_model_output_error(text: str) -> None:
    with pytest.raises(ModelOutputError):
        OutputSchema(SCHEMAS[0]).validate(text)


@pytest.mark.parametrize("bad", [42, "a string", str, {"type": "no-such-type"}])
def test_bad_schemas_raise_usage_error(bad: Any) -> None:
    with pytest.raises(UsageError):
        FakeListModel(["{}"]).with_structured_output(bad)


def test_bad_method_and_retries_raise_usage_error() -> None:
    model = FakeListModel(["{}"])
    with pytest.raises(UsageError, match="method"):
        model.with_structured_output(City, method="magic")
    with pytest.raises(UsageError, match="max_retries"):
        model.with_structured_output(City, max_retries=-1)
    with pytest.raises(UsageError, match="cannot constrain"):
        model.with_structured_output(City, method="json_schema")


def test_extract_json_finds_fenced_and_embedded_objects() -> None:
    assert extract_json('Sure:\n```json\n{"a": 1}\n```') == '{"a": 1}'
    assert extract_json('Here it is {"a": 1} ok') == '{"a": 1}'


def test_closed_schema_forbids_extra_properties_only_where_unspecified() -> None:
    closed = OutputSchema(
        {
            "type": "object",
            "properties": {"inner": {"type": "object", "additionalProperties": True}},
        }
    ).closed()
    assert closed["additionalProperties"] is False
    assert closed["properties"]["inner"]["additionalProperties"] is True


def test_batch_validates_each_reply_and_retries_only_the_failures() -> None:
    model = FakeListModel(
        [
            '{"color": "red", "ok": true}',
            '{"color": "pink", "ok": true}',
            '{"color": "blue", "ok": false}',
        ]
    )
    out = model.with_structured_output(SCHEMAS[1]).batch(["a", "b"], max_concurrency=1)
    assert out == [{"color": "red", "ok": True}, {"color": "blue", "ok": False}]


# --- OpenAI-compatible servers ----------------------------------------------------------

httpx = pytest.importorskip("httpx")
from tests.llms.fake_openai_server import (  # noqa: E402, F401  (fixtures)
    FakeOpenAIServer,
    Step,
    openai_server_fixture,
    server_fixture,
)


@pytest.fixture
def _allowed() -> Iterator[None]:
    with model_requests(True):
        yield


def _completion(content: str | None, tool_calls: list[dict[str, Any]] | None = None) -> Step:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    body = {
        "id": "x",
        "object": "chat.completion",
        "model": "fake-model",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
    }
    return Step(json.dumps(body))


@pytest.mark.usefixtures("_allowed")
def test_openai_sends_the_json_schema_as_response_format(server: FakeOpenAIServer) -> None:
    from agentkit.llms.openai_compat import OpenAICompatModel

    server.enqueue(_completion('{"name": "Oslo", "population": 1, "kind": "city"}'))
    model = OpenAICompatModel("fake-model", server.base_url)
    city = model.with_structured_output(City).invoke("Oslo?")
    assert city.kind == "city"
    body = server.bodies()[-1]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "City"
    assert body["response_format"]["json_schema"]["schema"]["required"] == [
        "name",
        "population",
        "kind",
    ]
    assert all(m["role"] != "system" for m in body["messages"])  # the server has the schema


@pytest.mark.usefixtures("_allowed")
def test_openai_tools_method_forces_a_call_and_reads_its_arguments(
    server: FakeOpenAIServer,
) -> None:
    from agentkit.llms.openai_compat import OpenAICompatModel

    call = {
        "id": "c1",
        "type": "function",
        "function": {
            "name": "City",
            "arguments": '{"name": "Rome", "population": 5, "kind": "city"}',
        },
    }
    server.enqueue(_completion(None, [call]))
    model = OpenAICompatModel("fake-model", server.base_url)
    city = model.with_structured_output(City, method="tools").invoke("Rome?")
    assert city.name == "Rome"
    body = server.bodies()[-1]
    assert body["tools"][0]["function"]["name"] == "City"
    assert body["tool_choice"]["function"]["name"] == "City"


@pytest.mark.usefixtures("_allowed")
def test_openai_invalid_reply_is_retried_with_the_error(server: FakeOpenAIServer) -> None:
    from agentkit.llms.openai_compat import OpenAICompatModel

    server.enqueue(
        _completion('{"name": "Oslo", "population": "many", "kind": "city"}'),
        _completion('{"name": "Oslo", "population": 9, "kind": "city"}'),
    )
    model = OpenAICompatModel("fake-model", server.base_url)
    assert model.with_structured_output(City).invoke("Oslo?").population == 9
    retry = server.bodies()[-1]["messages"]
    assert retry[-2]["role"] == "assistant" and "many" in retry[-2]["content"]
    assert "population" in retry[-1]["content"]


# --- Hugging Face: grammar-constrained decoding on a tiny random model ------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("llguidance")
    from agentkit.llms.hf import HFChatModel
    from agentkit.testing.tiny_models import tiny_model_path

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    with model_requests(True):
        path = tiny_model_path(tmp_path_factory, pretrain_steps=0, max_positions=1024)
        yield HFChatModel(path, params={"max_new_tokens": 40, "temperature": 1.0, "seed": 0})
    torch.set_num_threads(previous)


PROMPTS = ["The cat", "Water", "Two plus two", "The sun", "Bees", "A week", "Trees", "Birds"]


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(SCHEMAS)))
def test_constrained_batches_are_always_schema_valid(tiny: Any, index: int) -> None:
    schema = SCHEMAS[index]
    structured = tiny.with_structured_output(schema, max_retries=0, instruct=False)
    assert structured.strategy.constrained
    outputs = structured.batch(PROMPTS, return_exceptions=True)
    assert all(_valid(out, schema) for out in outputs), outputs


@pytest.mark.integration
def test_constrained_single_generation_returns_a_pydantic_instance(tiny: Any) -> None:
    class Pick(BaseModel):
        kind: Literal["town", "city"]
        n: int = Field(ge=0, le=9)

    for seed in range(4):
        pick = tiny.bind(seed=seed).with_structured_output(Pick, max_retries=0, instruct=False)
        assert isinstance(pick.invoke("Pick one"), Pick)


@pytest.mark.integration
def test_unconstrained_tiny_model_does_not_produce_json(tiny: Any) -> None:
    """The control for the test above: the random model alone writes no valid JSON."""
    replies = tiny.batch(PROMPTS)
    assert not any(r.content.strip().startswith("{") for r in replies)


TOOLS = [
    {
        "name": "add",
        "description": "Add two digits.",
        "parameters": {
            "type": "object",
            "properties": {
                "a": {"type": "integer", "minimum": 0, "maximum": 9},
                "b": {"type": "integer", "minimum": 0, "maximum": 9},
            },
            "required": ["a", "b"],
        },
    },
    {
        "name": "weather",
        "description": "Weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"enum": ["Paris", "Rome"]}},
            "required": ["city"],
        },
    },
]


@pytest.mark.integration
def test_hf_tool_calls_are_constrained_to_the_bound_schemas(tiny: Any) -> None:
    model = tiny.bind(tools=TOOLS, tool_choice="required", max_new_tokens=100)
    replies = model.batch(PROMPTS[:4])
    for reply in replies:
        assert len(reply.tool_calls) == 1, reply
        call = reply.tool_calls[0]
        schema = next(t["parameters"] for t in TOOLS if t["name"] == call.name)
        assert call.arguments_error is None and _valid(call.arguments, schema)
    streamed = list(model.stream("Rome weather"))
    assert streamed[-1].tool_calls and streamed[-1].tool_calls[0].name in ("add", "weather")


@pytest.mark.integration
def test_hf_tool_choice_by_name_calls_that_tool(tiny: Any) -> None:
    reply = tiny.bind(tools=TOOLS, tool_choice="weather", max_new_tokens=100).invoke("hi")
    assert reply.tool_calls[0].name == "weather"
    assert reply.tool_calls[0].arguments["city"] in ("Paris", "Rome")
    with pytest.raises(UsageError, match="names no bound tool"):
        tiny.bind(tools=TOOLS, tool_choice="nope").invoke("hi")


@pytest.mark.integration
def test_without_llguidance_hf_falls_back_to_prompt_and_retry(
    tiny: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "llguidance", None)  # import llguidance -> ImportError
    structured = tiny.with_structured_output(SCHEMAS[1], max_retries=1, instruct=False)
    assert not structured.strategy.constrained
    with pytest.raises(ModelOutputError, match="2 attempt"):  # a random model writes no JSON
        structured.invoke("The cat")
    with pytest.raises(UsageError, match=r"agentkit\[structured\]"):
        tiny.with_structured_output(SCHEMAS[1], method="json_schema")
