"""Errors: grouped by who must act; every message says what is wrong and how to fix it."""

from __future__ import annotations

import pytest

from agentkit.core import (
    AgentkitError,
    MissingDependencyError,
    ModelOutputError,
    OutputParserError,
    PromptVariableError,
    RunError,
    RunTimeoutError,
    SpecError,
    UsageError,
    WiringError,
)
from agentkit.core.errors import (
    ModelRequestsForbiddenError,
    import_optional,
    missing_dependency,
)


def test_hierarchy_groups_by_who_must_act() -> None:
    for cls in (PromptVariableError, WiringError, SpecError, MissingDependencyError):
        assert issubclass(cls, UsageError)
    assert issubclass(UsageError, ValueError) and issubclass(UsageError, AgentkitError)
    assert issubclass(OutputParserError, ModelOutputError)
    assert not issubclass(ModelOutputError, UsageError)
    assert issubclass(RunTimeoutError, RunError) and issubclass(RunTimeoutError, TimeoutError)
    assert issubclass(ModelRequestsForbiddenError, RunError)
    assert issubclass(PromptVariableError, KeyError)
    assert issubclass(MissingDependencyError, ImportError)


def test_prompt_variable_error_names_variables_template_and_fix() -> None:
    err = PromptVariableError({"b", "a"}, ["a", "b", "c"], "Hello {a} {b} {c}")
    text = str(err)
    assert not text.startswith(("'", '"'))  # KeyError would quote it
    assert text.startswith("missing prompt variable(s) ['a', 'b']")
    assert "'Hello {a} {b} {c}'" in text
    assert "expects ['a', 'b', 'c']" in text
    assert ".partial(name=value)" in text
    assert err.missing == ["a", "b"] and err.expected == ["a", "b", "c"]
    with pytest.raises(KeyError):
        raise err


def test_prompt_variable_error_shortens_long_templates() -> None:
    err = PromptVariableError(["x"], ["x"], "t" * 500)
    assert "t" * 77 + "..." in str(err)
    assert "t" * 78 not in str(err)


def test_spec_error_has_path_and_sorted_allowed_values() -> None:
    err = SpecError("$.steps[1].type", "unknown type 'x'", allowed=["b", "a"])
    assert str(err) == "$.steps[1].type: unknown type 'x'; allowed values: a, b"
    assert err.path == "$.steps[1].type" and err.allowed == ["a", "b"]
    assert SpecError("$", "bad").allowed is None
    assert str(SpecError("$", "bad")) == "$: bad"


def test_missing_dependency_says_what_to_install() -> None:
    err = missing_dependency("faiss", "retrieval", "FaissStore")
    assert isinstance(err, MissingDependencyError)
    assert str(err) == (
        "FaissStore needs the 'faiss' package, which is not installed. "
        "Install it with: pip install 'agentkit[retrieval]'"
    )
    assert (err.package, err.extra) == ("faiss", "retrieval")


def test_model_output_error_keeps_text_hint_and_feedback() -> None:
    err = OutputParserError("Invalid JSON", text='{"a": ', hint="Reply with one JSON object")
    assert err.text == '{"a": ' and err.hint == "Reply with one JSON object"
    assert str(err) == "Invalid JSON. Model output was: '{\"a\": '. Reply with one JSON object"
    assert err.feedback().startswith("Your output could not be parsed: Invalid JSON")


def test_model_output_error_previews_long_text() -> None:
    err = ModelOutputError("Bad", text="x" * 1000)
    assert "x" * 197 + "..." in str(err) and len(str(err)) < 300
    assert str(err).endswith("...'")  # no hint: nothing after the preview


def test_wiring_error_is_a_plain_usage_error() -> None:
    with pytest.raises(UsageError, match="output 'summary' is never produced"):
        raise WiringError("output 'summary' is never produced; add a step that outputs it")


def test_import_optional_returns_the_module_or_says_what_to_install() -> None:
    import json

    assert import_optional("json", "json", "core", "JSON") is json
    with pytest.raises(MissingDependencyError, match=r"pip install 'agentkit\[extra\]'") as info:
        import_optional("no_such_module_xyz", "no-such-package", "extra", "The feature")
    assert str(info.value).startswith("The feature needs the 'no-such-package' package")
    assert isinstance(info.value.__cause__, ImportError)
