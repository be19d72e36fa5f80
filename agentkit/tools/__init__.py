"""Tools: functions a model can call, with JSON schemas, validation, timeouts and limits.

- :class:`Tool` (one abstract method, ``run(args, config)``), :class:`FunctionTool`,
  ``@tool`` / :meth:`Tool.from_function`;
- errors: :class:`ToolInputError` (bad arguments, for the model to fix) and
  :class:`ToolExecutionError` (the tool raised or timed out);
- :func:`run_tool_safely` / :func:`arun_tool_safely` -> :class:`ToolOutcome` (agents use
  these: errors become observations);
- built-ins: ``calculator``, ``wikipedia``, ``web_search``, ``python_repl``, ``today``,
  ``now`` and :func:`retriever_tool`; by name with :func:`get_tool`.

Importing this package is light (pydantic, wikipedia and ddgs load on first use) and
registers the tools' spec types.
"""

from __future__ import annotations

from agentkit.tools.arithmetic import calculator, evaluate
from agentkit.tools.base import Tool, ToolExecutionError, ToolInputError, truncate
from agentkit.tools.clock import now_tool as now
from agentkit.tools.clock import today_tool as today
from agentkit.tools.function import FunctionTool, tool
from agentkit.tools.pyexec import PythonREPLTool, python_repl
from agentkit.tools.registry import builtin_tools, get_tool, register_tool
from agentkit.tools.retrieval import RetrieverTool, retriever_tool
from agentkit.tools.safe import ToolOutcome, ToolRunner, arun_tool_safely, run_tool_safely
from agentkit.tools.websearch import WebSearchTool, web_search
from agentkit.tools.wiki import WikipediaTool, wikipedia

__all__ = [
    "FunctionTool",
    "PythonREPLTool",
    "RetrieverTool",
    "Tool",
    "ToolExecutionError",
    "ToolInputError",
    "ToolOutcome",
    "ToolRunner",
    "WebSearchTool",
    "WikipediaTool",
    "arun_tool_safely",
    "builtin_tools",
    "calculator",
    "evaluate",
    "get_tool",
    "now",
    "python_repl",
    "register_tool",
    "retriever_tool",
    "run_tool_safely",
    "today",
    "tool",
    "truncate",
    "web_search",
    "wikipedia",
]
