"""Tools both ways: a LangChain tool as an agentkit :class:`~agentkit.tools.Tool`
(:class:`LangChainTool`) and an agentkit tool as a LangChain ``BaseTool``
(:class:`AgentkitTool`). The JSON schema of the arguments travels unchanged."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool, ToolException

from agentkit.core.config import RunConfig
from agentkit.core.errors import UsageError
from agentkit.tools.base import Tool, ToolExecutionError, ToolInputError, to_text


def lc_args_schema(tool: Any) -> dict[str, Any]:
    """The JSON schema of a LangChain tool's model-facing arguments."""
    from langchain_core.utils.function_calling import convert_to_openai_tool

    parameters = convert_to_openai_tool(tool)["function"].get("parameters")
    return dict(parameters or {"type": "object", "properties": {}})


class LangChainTool(Tool):
    """An agentkit tool that runs a LangChain tool (``BaseTool`` or ``@tool``)."""

    def __init__(self, tool: Any, max_output_chars: int | None = 4000) -> None:
        if not isinstance(tool, BaseTool):
            raise UsageError(f"LangChainTool needs a LangChain BaseTool, got {type(tool).__name__}")
        self.tool = tool
        self.name = tool.name
        self.description = tool.description or tool.name
        self.args_schema = lc_args_schema(tool)
        self.max_output_chars = max_output_chars

    def run(self, args: dict[str, Any], config: RunConfig | None = None) -> str:
        return to_text(self.tool.invoke(args))

    async def arun(self, args: dict[str, Any], config: RunConfig | None = None) -> str:
        return to_text(await self.tool.ainvoke(args))


class AgentkitTool(BaseTool):
    """A LangChain tool running an agentkit tool (``agentkit_tool``). Bad arguments and
    tool failures raise ``ToolException`` (set ``handle_tool_error`` to show them to the
    model instead)."""

    agentkit_tool: Any
    args_schema: Any = None

    def __init__(self, agentkit_tool: Any, **kwargs: Any) -> None:
        if not isinstance(agentkit_tool, Tool):
            raise UsageError(
                f"AgentkitTool needs an agentkit Tool, got {type(agentkit_tool).__name__}"
            )
        super().__init__(
            agentkit_tool=agentkit_tool,
            name=agentkit_tool.name,
            description=agentkit_tool.description,
            args_schema=dict(agentkit_tool.args_schema),
            **kwargs,
        )

    def _run(self, **kwargs: Any) -> str:
        kwargs.pop("run_manager", None)
        try:
            return str(self.agentkit_tool.invoke(kwargs))
        except (ToolInputError, ToolExecutionError) as exc:
            raise ToolException(str(exc)) from exc

    async def _arun(self, **kwargs: Any) -> str:
        kwargs.pop("run_manager", None)
        try:
            return str(await self.agentkit_tool.ainvoke(kwargs))
        except (ToolInputError, ToolExecutionError) as exc:
            raise ToolException(str(exc)) from exc
