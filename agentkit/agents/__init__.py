"""Agents: ReAct (text protocol) and native tool calling, with step records and streaming;
durable runs (``checkpointer=SQLiteCheckpointer(path)``), approvals and interrupts.

Importing this package registers the spec types ``react_agent`` and ``tool_agent``.
"""

from __future__ import annotations

from agentkit.agents.checkpoint import CheckpointError, SQLiteCheckpointer
from agentkit.agents.executor import Agent, AgentRun
from agentkit.agents.interrupts import (
    Decision,
    Interrupt,
    Interrupted,
    PendingCall,
    approve,
    edit,
    interrupt,
    reject,
)
from agentkit.agents.react import ReActAgent, create_react_agent, default_react_prompt
from agentkit.agents.react_parser import ReActAction, ReActFinish, ReActParseError, parse_react
from agentkit.agents.steps import AgentResult, Step, result_to_dict
from agentkit.agents.tool_calling import ToolCallingAgent, create_tool_agent, default_tool_prompt

__all__ = [
    "Agent",
    "AgentResult",
    "AgentRun",
    "CheckpointError",
    "Decision",
    "Interrupt",
    "Interrupted",
    "PendingCall",
    "ReActAction",
    "ReActAgent",
    "ReActFinish",
    "ReActParseError",
    "SQLiteCheckpointer",
    "Step",
    "ToolCallingAgent",
    "approve",
    "create_react_agent",
    "create_tool_agent",
    "default_react_prompt",
    "default_tool_prompt",
    "edit",
    "interrupt",
    "parse_react",
    "reject",
    "result_to_dict",
]
