"""LangChain's own standard test suites run against ``to_langchain(chat model)``.

The model is the scripted fake (``agentkit.testing.ScriptedChatModel``): it calls the tool
the prompt names with arguments read from the prompt, so the tool-calling and
structured-output tests run offline. Skips are only the suites' own skips for features the
adapter declares absent (docs/from-langchain.md lists them)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("langchain_tests")

from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from agentkit.interop.langchain.chat_out import AgentkitChatModel
from agentkit.testing import ScriptedChatModel


class _Scripted:
    @property
    def chat_model_class(self) -> type[AgentkitChatModel]:
        return AgentkitChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"agentkit_model": ScriptedChatModel()}

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True  # with_structured_output(method="json_mode") uses the same forced call

    @property
    def supports_model_override(self) -> bool:
        return False  # one adapter wraps one agentkit model; model= cannot switch it


class TestAgentkitChatModelUnit(_Scripted, ChatModelUnitTests):
    pass


class TestAgentkitChatModelIntegration(_Scripted, ChatModelIntegrationTests):
    pass
