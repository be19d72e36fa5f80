"""GenerationParams: validation, merging, serialisation."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from agentkit.core.errors import UsageError
from agentkit.llms import GenerationParams


def test_defaults_are_unset() -> None:
    params = GenerationParams()
    assert params.to_dict() == {}
    assert params.stop == ()


def test_valid_values_are_kept() -> None:
    params = GenerationParams(0, 0.9, 40, 64, ["\n", "END"], 7)
    assert params.stop == ("\n", "END")
    assert params.to_dict() == {
        "temperature": 0,
        "top_p": 0.9,
        "top_k": 40,
        "max_new_tokens": 64,
        "stop": ["\n", "END"],
        "seed": 7,
    }
    assert GenerationParams(stop="###").stop == ("###",)


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("temperature", -0.1, "temperature must be >= 0"),
        ("temperature", "hot", "temperature must be a number"),
        ("temperature", True, "temperature must be a number"),
        ("top_p", 0, "0 < top_p <= 1"),
        ("top_p", 1.01, "0 < top_p <= 1"),
        ("top_k", -1, "top_k must be an integer >= 0"),
        ("top_k", 2.5, "top_k must be an integer >= 0"),
        ("max_new_tokens", 0, "max_new_tokens must be an integer >= 1"),
        ("max_new_tokens", 1.5, "max_new_tokens must be an integer >= 1"),
        ("stop", ["ok", ""], "non-empty strings"),
        ("stop", [1], "non-empty strings"),
        ("stop", 5, "stop must be a list of strings"),
        ("seed", "abc", "seed must be an integer"),
    ],
)
def test_invalid_values_raise_with_the_allowed_range(field: str, value: Any, fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment):
        GenerationParams(**{field: value})


def test_params_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        GenerationParams().temperature = 1.0  # type: ignore[misc]


def test_merge_overrides_only_set_fields() -> None:
    base = GenerationParams(temperature=0.7, stop=("\n",), max_new_tokens=10)
    merged = base.merge(GenerationParams(temperature=0.0))
    assert merged == GenerationParams(temperature=0.0, stop=("\n",), max_new_tokens=10)
    assert base.merge({"top_k": 5, "seed": None}).to_dict() == {
        "temperature": 0.7,
        "top_k": 5,
        "max_new_tokens": 10,
        "stop": ["\n"],
    }
    assert base.merge(None) is base
    assert base.merge({}) is base


def test_merge_validates_and_rejects_unknown_keys() -> None:
    with pytest.raises(UsageError, match=r"unknown generation parameter.*allowed: temperature"):
        GenerationParams().merge({"temp": 1})
    with pytest.raises(UsageError, match="top_p"):
        GenerationParams().merge({"top_p": 2})
    with pytest.raises(UsageError, match="cannot merge list"):
        GenerationParams().merge([("top_p", 2)])  # type: ignore[arg-type]


def test_round_trip_through_to_dict() -> None:
    params = GenerationParams(temperature=0.2, stop=("a", "b"), seed=3)
    assert GenerationParams(**params.to_dict()) == params
