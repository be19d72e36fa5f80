"""Reusable test support: conformance suites that every implementation of a protocol passes.

Subclass a suite in your tests and implement its factory hook, e.g.::

    class TestMyModel(ChatModelConformance):
        def make_model(self, responses):
            return MyModel(...)
"""

from __future__ import annotations

from agentkit.memory.conformance import HistoryStoreConformance
from agentkit.testing.chat_model import ChatModelConformance
from agentkit.testing.scripted import ScriptedChatModel
from agentkit.testing.vectorstore import VectorStoreConformance

__all__ = [
    "ChatModelConformance",
    "HistoryStoreConformance",
    "ScriptedChatModel",
    "VectorStoreConformance",
]
