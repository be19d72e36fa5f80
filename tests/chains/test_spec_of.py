"""spec_of: the one way chains write their spec (plain data copied, components dumped)."""

from __future__ import annotations

import pytest

from agentkit.chains.base import spec_of
from agentkit.core import SpecError
from agentkit.core.compose import Lambda
from agentkit.llms import FakeListModel
from agentkit.prompts import PromptTemplate


class Owner:
    def __init__(self) -> None:
        self.llm = FakeListModel(["a"])
        self.prompts = {"p": PromptTemplate("Say {x}")}
        self.steps = [PromptTemplate("{y}"), FakeListModel(["b"])]
        self.keys = ["x", "y"]
        self.limit: int | None = None
        self.flag = False


def test_components_are_dumped_plain_data_copied_and_none_left_out() -> None:
    owner = Owner()
    data = spec_of("thing", owner, "llm", "prompts", "steps", "keys", "limit", "flag", extra=3)
    assert list(data) == ["type", "llm", "prompts", "steps", "keys", "flag", "extra"]
    assert data["type"] == "thing" and data["extra"] == 3 and data["flag"] is False
    assert data["llm"] == owner.llm.to_dict()
    assert data["prompts"] == {"p": owner.prompts["p"].to_dict()}
    assert data["steps"] == [s.to_dict() for s in owner.steps]
    data["keys"].append("z")  # the spec is a copy: editing it leaves the owner alone
    assert owner.keys == ["x", "y"]


def test_a_component_that_cannot_be_saved_is_named() -> None:
    owner = Owner()
    owner.llm = Lambda(lambda x: x)  # a lambda has no importable reference
    with pytest.raises(SpecError):
        spec_of("thing", owner, "llm")
    owner.steps = [object()]  # no to_dict at all, inside a list
    with pytest.raises(SpecError, match="object cannot be serialised"):
        spec_of("thing", owner, "steps")


def test_an_unknown_attribute_is_a_bug_not_a_silent_gap() -> None:
    with pytest.raises(AttributeError):
        spec_of("thing", Owner(), "no_such_field")
