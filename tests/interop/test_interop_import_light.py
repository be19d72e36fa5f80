"""Interop costs nothing when unused: agentkit's coercion points recognise LangChain and
LlamaIndex objects by module name, without importing either package."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import agentkit
import agentkit.interop
from agentkit.chains.retrieval_qa import RetrievalQA
from agentkit.agents.tool_calling import ToolCallingAgent
from agentkit.core.compose import coerce
from agentkit.core.foreign import coerce_foreign, foreign_origin
coerce(lambda x: x)
assert coerce_foreign({"a": 1}) == {"a": 1} and foreign_origin(3) is None
print(sorted(m for m in sys.modules if m.startswith(("langchain", "llama_index"))))
"""


def test_agentkit_and_its_coercion_points_import_no_langchain_or_llamaindex() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_foreign_origin_reads_the_class_hierarchy() -> None:
    from langchain_core.retrievers import BaseRetriever

    from agentkit.core.foreign import foreign_origin

    class Mine(BaseRetriever):  # defined here, in a test module: found through its base
        def _get_relevant_documents(self, query, *, run_manager):  # type: ignore[no-untyped-def]
            return []

    assert foreign_origin(Mine()) == "langchain"
    assert foreign_origin(Mine) == "langchain"
    assert foreign_origin(object()) is None

    from llama_index.core.schema import TextNode

    assert foreign_origin(TextNode(text="x")) == "llamaindex"
