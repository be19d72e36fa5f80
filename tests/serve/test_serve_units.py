"""The served app in process (Starlette's test client): protocol checks with hostile
input, input mapping, exposure and key rules, loading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient

from agentkit.core.errors import SpecError, UsageError
from agentkit.core.tracing import InMemoryTracer
from agentkit.llms.fake import FakeListModel
from agentkit.serve import ServeSettings, create_app, make_target
from agentkit.serve.errors import APIError
from agentkit.serve.guard import key_matches
from agentkit.serve.loading import load_targets, parse_pair
from agentkit.serve.protocol import parse_chat_request
from agentkit.serve.server import check_exposure, keys_from
from agentkit.serve.targets import InputMapping


def chat(**extra: object) -> dict[str, object]:
    return {"model": "m", "messages": [{"role": "user", "content": "hi"}], **extra}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ([], "JSON object"),
        ({"messages": [{"role": "user", "content": "x"}]}, "'model' is required"),
        ({"model": "m", "messages": []}, "non-empty list"),
        ({"model": "m", "messages": [{"role": "root", "content": "x"}]}, "not supported"),
        ({"model": "m", "messages": [{"role": "tool", "content": "x"}]}, "tool_call_id"),
        ({"model": "m", "messages": ["hello"]}, "must be an object"),
        (chat(n=3), "only n=1"),
        (chat(temperature=9), "'temperature'"),
        (chat(temperature=True), "'temperature'"),
        (chat(max_tokens=0), "'max_tokens'"),
        (chat(max_completion_tokens="5"), "'max_completion_tokens'"),
        (chat(stop=["a", "b", "c", "d", "e"]), "'stop'"),
        (chat(stop=[""]), "'stop'"),
        (chat(tools=[{"type": "function"}]), "'tools'"),
        (chat(stream_options="yes"), "stream_options"),
        (
            {"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"id": 1}]}]},
            "tool_calls",
        ),
    ],
)
def test_bad_requests_name_the_problem(body: object, fragment: str) -> None:
    with pytest.raises(APIError, match=fragment) as info:
        parse_chat_request(body)
    assert info.value.status == 400


def test_request_maps_params_and_roles() -> None:
    request = parse_chat_request(
        chat(max_completion_tokens=5, max_tokens=9, stop="END", temperature=0, n=1)
        | {"messages": [{"role": "developer", "content": None}, {"role": "user", "content": "q"}]}
    )
    assert [m.role for m in request.messages] == ["system", "user"]
    assert request.params == {"temperature": 0.0, "max_new_tokens": 5, "stop": ["END"]}


def test_in_process_app_traces_each_request_and_hides_keys() -> None:
    tracer = InMemoryTracer()
    settings = ServeSettings(api_keys=("k1",), tracers=(tracer,))
    assert "k1" not in repr(settings)
    app = create_app({"m": make_target("m", FakeListModel(["hello world"]))}, settings)
    with TestClient(app) as client:
        auth = {"Authorization": "Bearer k1"}
        answer = client.post("/v1/chat/completions", json=chat(), headers=auth)
        assert answer.status_code == 200
        assert client.post("/v1/chat/completions", json=chat()).status_code == 401
        assert client.get("/v1/models", headers={"Authorization": "Bearer k1 "}).status_code == 200
        assert client.delete("/v1/models", headers=auth).status_code == 405
        deep = client.post("/v1/chat/completions", content=b"[" * 5000, headers=auth)
        assert deep.status_code == 400 and "not valid JSON" in deep.json()["error"]["message"]
        odd = client.post(
            "/v1/chat/completions",
            content=json.dumps(chat()).encode(),
            headers={**auth, "Content-Length": "x"},
        )
        assert odd.status_code == 400 and "Content-Length" in odd.json()["error"]["message"]
        bad = client.post(
            "/v1/chat/completions", json=chat(stream=True, max_tokens=-1), headers=auth
        )
        assert bad.status_code == 400
    root = tracer.roots()[0]
    assert root.name == "serve:m" and root.metadata["served"] == "m"


def test_keys_and_exposure_rules() -> None:
    assert keys_from("a, b", {"AGENTKIT_API_KEYS": "c,,"}) == ("a", "b", "c")
    assert key_matches("b", ("a", "b")) and not key_matches("", ("a",))
    check_exposure("127.0.0.1", ServeSettings())
    check_exposure("::1", ServeSettings())
    with pytest.raises(UsageError, match="needs an API key"):
        check_exposure("0.0.0.0", ServeSettings())
    check_exposure("0.0.0.0", ServeSettings(api_keys=("k",)))
    with pytest.raises(UsageError):
        ServeSettings(max_concurrency=0)


def test_loading_names_and_trust(tmp_path: Path) -> None:
    assert parse_pair("qa=chain.yaml") == ("qa", "chain.yaml")
    assert parse_pair("chain.yaml") == ("chain", "chain.yaml")
    for bad in ("=x.yaml", "a b=x.yaml", "../x=y.yaml", "qa="):
        with pytest.raises(UsageError):
            parse_pair(bad)
    spec = tmp_path / "evil.yaml"
    spec.write_text("type: lambda\nfn: os:system\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"allow_imports|refusing"):
        load_targets([f"evil={spec}"])
    block = tmp_path / "typo.yaml"
    block.write_text("serve: {inptu: q}\ntype: fake_list_model\nresponses: [a]\n", encoding="utf-8")
    with pytest.raises(UsageError, match="inptu"):
        load_targets([f"t={block}"])
    good = tmp_path / "good.yaml"
    good.write_text(
        "serve: {output: answer}\ntype: fake_list_model\nresponses: [a]\n", encoding="utf-8"
    )
    assert load_targets([f"g={good}"])["g"].kind == "model"
    with pytest.raises(UsageError, match="served twice"):
        load_targets([f"a={good}", f"a={good}"])
    with pytest.raises(UsageError, match="does not exist"):
        load_targets([f"a={tmp_path / 'missing.yaml'}"])


def test_chain_dict_output_answer_extras_and_events() -> None:
    from agentkit.core.compose import Lambda

    def answer(values: dict[str, object]) -> dict[str, object]:
        return {"answer": f"A: {values['question']}", "sources": [{"title": "doc 1"}]}

    chain = Lambda(answer, name="qa")
    app = create_app({"qa": make_target("qa", chain, InputMapping(input="question"))})
    with TestClient(app) as client:
        body = chat(model="qa") | {"model": "qa"}
        whole = client.post("/v1/chat/completions", json=body).json()
        streamed = client.post("/v1/chat/completions", json=body | {"stream": True}).text
        refused = client.post(
            "/v1/chat/completions", json=body | {"response_format": {"type": "json_object"}}
        )
    assert whole["choices"][0]["message"]["content"] == "A: hi"
    assert whole["agentkit"] == {"sources": [{"title": "doc 1"}]}
    assert '"content": "A: hi"' in streamed
    assert '"event": {"type": "output", "data": {"sources": [{"title": "doc 1"}]}}' in streamed
    assert streamed.rstrip().endswith("data: [DONE]")
    assert refused.status_code == 400 and "models only" in refused.json()["error"]["message"]


def test_model_params_are_checked_and_the_format_is_bound() -> None:
    app = create_app({"m": make_target("m", FakeListModel(["one two three"]))})
    with TestClient(app) as client:
        bad_seed = client.post("/v1/chat/completions", json=chat(seed="x"))
        bad_format = client.post("/v1/chat/completions", json=chat(response_format={"type": "xml"}))
        json_mode = client.post(
            "/v1/chat/completions", json=chat(response_format={"type": "json_object"}, seed=3)
        )
    assert bad_seed.status_code == 400 and bad_seed.json()["error"]["param"] == "seed"
    assert bad_format.status_code == 400
    assert json_mode.status_code == 200  # a fake runs without the schema, as with tools


def test_a_chain_with_memory_keeps_each_users_session() -> None:
    from agentkit.chains.conversation import ConversationChain
    from agentkit.memory.buffer import BufferMemory

    model = FakeListModel(["first reply", "second reply", "other reply", "streamed reply"])
    app = create_app({"c": make_target("c", ConversationChain(model, BufferMemory()))})
    with TestClient(app) as client:
        for text, user in (("hello", "alice"), ("again", "alice"), ("hi", "bob")):
            body = chat(user=user) | {"model": "c", "messages": [{"role": "user", "content": text}]}
            answer = client.post("/v1/chat/completions", json=body)
            assert answer.status_code == 200, answer.text
        streamed = client.post("/v1/chat/completions", json=body | {"stream": True}).text
    assert answer.json()["choices"][0]["message"]["content"] == "other reply"
    assert '"content": "streamed"' in streamed and '"content": " reply"' in streamed
    assert '"agentkit"' not in streamed  # the chain's echo of its input is not an event
    alice_second, bob_first = model.calls[1], model.calls[2]
    assert [m.content for m in alice_second if m.role != "system"] == [
        "hello",
        "first reply",
        "again",
    ]
    assert [m.content for m in bob_first if m.role != "system"] == ["hi"]
