"""Prompt specs round-trip through agentkit.core.spec; load_prompt reads files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentkit.core import spec
from agentkit.core.errors import SpecError, UsageError
from agentkit.llms.messages import Message
from agentkit.prompts import (
    ChatPromptTemplate,
    FewShotPromptTemplate,
    LengthBasedExampleSelector,
    MessagesPlaceholder,
    PipelinePromptTemplate,
    PromptTemplate,
    load_prompt,
)


def fixed_day() -> str:
    return "Tuesday"


def two_per_word(text: str) -> int:
    return 2 * len(text.split())


def roundtrip(obj: Any) -> Any:
    """dump -> YAML text -> load, as a saved file would go."""
    data = yaml.safe_load(yaml.safe_dump(spec.dump(obj)))
    return spec.load(data)


def test_prompt_roundtrip_with_value_and_function_partials() -> None:
    prompt = PromptTemplate("{day}/{tone}: {q}").partial(day=fixed_day, tone="calm")
    data = spec.dump(prompt)
    assert data == {
        "type": "prompt",
        "template": "{day}/{tone}: {q}",
        "partial_variables": {"tone": "calm"},
        "partial_functions": {"day": f"{__name__}:fixed_day"},
    }
    loaded = roundtrip(prompt)
    assert isinstance(loaded, PromptTemplate)
    assert loaded.input_variables == ["q"]
    assert loaded.invoke("hi") == prompt.invoke("hi") == "Tuesday/calm: hi"


def test_jinja2_prompt_roundtrip() -> None:
    prompt = PromptTemplate("{{ a }}!", template_format="jinja2")
    loaded = roundtrip(prompt)
    assert loaded.template_format == "jinja2"
    assert loaded.invoke("x") == "x!"


def test_unserialisable_partials_fail_clearly() -> None:
    with pytest.raises(SpecError, match="cannot be serialised"):
        spec.dump(PromptTemplate("{a}").partial(a=lambda: "x"))
    with pytest.raises(SpecError, match=r"\$\.partial_variables\.a"):
        spec.dump(PromptTemplate("{a}").partial(a=object()))


def test_invalid_template_format_in_spec() -> None:
    with pytest.raises(SpecError) as info:
        spec.load({"type": "prompt", "template": "{x}", "template_format": "mustache"})
    assert info.value.path == "$.template_format"
    assert info.value.allowed == ["f-string", "jinja2"]
    assert "invalid value 'mustache'" in str(info.value)
    assert "allowed values: f-string, jinja2" in str(info.value)


def test_bad_prompt_specs() -> None:
    with pytest.raises(SpecError, match=r"\$\.template: required field is missing"):
        spec.load({"type": "prompt"})
    with pytest.raises(SpecError, match=r"\$\.templat: unknown field"):
        spec.load({"type": "prompt", "template": "x", "templat": "y"})
    with pytest.raises(SpecError, match=r"\$: template .* has a positional field"):
        spec.load({"type": "prompt", "template": "{}"})
    with pytest.raises(SpecError, match=r"\$\.partial_functions\.a: .*no attribute"):
        spec.load(
            {"type": "prompt", "template": "{a}", "partial_functions": {"a": "json:nope"}},
            allow_imports=True,
        )
    with pytest.raises(
        SpecError, match=r"\$\.partial_functions\.a: refusing to import 'os:getcwd'"
    ):
        spec.load({"type": "prompt", "template": "{a}", "partial_functions": {"a": "os:getcwd"}})


def test_chat_prompt_roundtrip() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are {persona}."),
            Message("system", "Literal {braces}."),
            MessagesPlaceholder("history", optional=True),
            ("user", PromptTemplate("{{ q }}", template_format="jinja2")),
            ("ai", PromptTemplate("{a} {b}").partial(b="B")),
        ]
    ).partial(persona="kind")
    loaded = roundtrip(prompt)
    assert isinstance(loaded, ChatPromptTemplate)
    assert loaded.input_variables == prompt.input_variables == ["q", "a"]
    values = {"q": "why?", "a": "A", "history": [("user", "earlier")]}
    assert loaded.invoke(values) == prompt.invoke(values)
    assert [m.content for m in loaded.invoke(values)] == [
        "You are kind.",
        "Literal {braces}.",
        "earlier",
        "why?",
        "A B",
    ]


def test_chat_prompt_spec_errors() -> None:
    bad_role = {"type": "chat_prompt", "messages": [{"role": "robot", "template": "x"}]}
    with pytest.raises(SpecError, match=r"\$\.messages\[0\]\.role: invalid value 'robot'"):
        spec.load(bad_role)
    typo = {"type": "chat_prompt", "messages": [{"role": "user", "templte": "x"}]}
    with pytest.raises(SpecError, match=r"\$\.messages\[0\]\.template"):
        spec.load(typo)


def test_few_shot_roundtrip_with_fixed_examples() -> None:
    prompt = FewShotPromptTemplate(
        examples=[{"q": "1+1", "a": "2"}, {"q": "2+2", "a": "4"}],
        example_prompt=PromptTemplate("Q: {q}\nA: {a}"),
        prefix="Solve ({level}).",
        suffix="Q: {question}\nA:",
        example_separator="\n---\n",
    )
    loaded = roundtrip(prompt)
    assert isinstance(loaded, FewShotPromptTemplate)
    values = {"level": "easy", "question": "3+3"}
    assert loaded.invoke(values) == prompt.invoke(values)


def test_few_shot_roundtrip_with_length_selector() -> None:
    example = PromptTemplate("{q} -> {a}")
    selector = LengthBasedExampleSelector(
        [{"q": "a", "a": "b"}, {"q": "c", "a": "d"}], example, 9, get_text_length=two_per_word
    )
    data = spec.dump(selector)
    assert data["type"] == "length_based_selector"
    assert data["get_text_length"] == f"{__name__}:two_per_word"
    prompt = FewShotPromptTemplate(example_selector=selector, example_prompt=example, suffix="{x}")
    loaded = roundtrip(prompt)
    assert isinstance(loaded.example_selector, LengthBasedExampleSelector)
    assert loaded.example_selector.get_text_length is two_per_word
    assert loaded.invoke("x") == prompt.invoke("x") == "a -> b\n\nx"  # 2 + 6 fits, 2 + 12 not
    default = LengthBasedExampleSelector([], example)
    assert "get_text_length" not in spec.dump(default)
    assert roundtrip(default).max_length == 2048


def test_pipeline_roundtrip() -> None:
    prompt = PipelinePromptTemplate(
        PromptTemplate("{intro}\n{body}"),
        [("intro", PromptTemplate("I am {who}.")), ("body", PromptTemplate("Q: {q}"))],
    )
    loaded = roundtrip(prompt)
    assert isinstance(loaded, PipelinePromptTemplate)
    assert loaded.input_variables == ["who", "q"]
    assert loaded.invoke({"who": "Bo", "q": "x"}) == prompt.invoke({"who": "Bo", "q": "x"})


def test_save_and_load_file(tmp_path: Path) -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "S"), ("user", "{q}")])
    path = spec.save(prompt, tmp_path / "chat.yaml")
    assert load_prompt(path).invoke("hi") == prompt.invoke("hi")


def test_load_prompt_from_yaml_json_and_text(tmp_path: Path) -> None:
    yaml_file = tmp_path / "p.yaml"
    yaml_file.write_text("type: prompt\ntemplate: 'Hello {name}'\n", encoding="utf-8")
    json_file = tmp_path / "p.json"
    json_file.write_text(
        json.dumps({"type": "prompt", "template": "Hi {{ name }}", "template_format": "jinja2"}),
        encoding="utf-8",
    )
    text_file = tmp_path / "p.txt"
    text_file.write_text("Hey {name}", encoding="utf-8")
    jinja_file = tmp_path / "p.jinja"
    jinja_file.write_text("Yo {{ name }}", encoding="utf-8")
    plain_yaml = tmp_path / "plain.yml"
    plain_yaml.write_text("'Howdy {name}'\n", encoding="utf-8")
    outputs = [load_prompt(p).invoke("Ann") for p in (yaml_file, json_file, text_file, jinja_file)]
    assert outputs == ["Hello Ann", "Hi Ann", "Hey Ann", "Yo Ann"]
    assert load_prompt(plain_yaml).invoke("Ann") == "Howdy Ann"


def test_load_prompt_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_prompt(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("type: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_prompt(broken)
    broken_json = tmp_path / "broken.json"
    broken_json.write_text("{", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid JSON"):
        load_prompt(broken_json)
    not_prompt = tmp_path / "parser.yaml"
    not_prompt.write_text("type: str_parser\n", encoding="utf-8")
    with pytest.raises(SpecError, match="not a prompt"):
        load_prompt(not_prompt)
    bad_format = tmp_path / "bad.yaml"
    bad_format.write_text("type: prompt\ntemplate: x\ntemplate_format: erb\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"\$\.template_format: invalid value 'erb'"):
        load_prompt(bad_format)
