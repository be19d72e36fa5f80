"""Built-in read-only tools are safe to run again after a crash; python_repl is not."""

from __future__ import annotations

from agentkit.core.compose import Lambda
from agentkit.retrievers.document import Document
from agentkit.tools.arithmetic import calculator
from agentkit.tools.clock import now_tool, today_tool
from agentkit.tools.pyexec import PythonREPLTool
from agentkit.tools.retrieval import RetrieverTool
from agentkit.tools.websearch import WebSearchTool
from agentkit.tools.wiki import WikipediaTool


def test_read_only_tools_are_idempotent_and_python_repl_is_not() -> None:
    retriever = RetrieverTool(Lambda(lambda q: [Document("x")]))
    for tool in (calculator, today_tool, now_tool, retriever):
        assert tool.idempotent, tool.name
    assert WikipediaTool.idempotent and WebSearchTool.idempotent
    assert not PythonREPLTool.idempotent
