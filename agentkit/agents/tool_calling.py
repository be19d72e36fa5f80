""":class:`ToolCallingAgent`: an agent for models with native tool calls.

The tools' JSON schemas are bound to the model (``model.bind(tools=[...])``); each turn the
model's reply either carries tool calls, which run concurrently and come back as ``tool``
messages answering each call id, or is the final answer. The conversation starts from a
prompt bundled as data (``agents/prompts/tool_agent.yaml``; pass your own with ``prompt=``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agentkit.agents.executor import Agent, AgentRun, bundled_prompt, reply_text
from agentkit.agents.serialize import agent_fields, agent_options, register_agent
from agentkit.agents.toolbox import bind_tools
from agentkit.core.flow import Call, FlowGen
from agentkit.core.runnable import Runnable
from agentkit.llms.messages import Message, ToolCall, assistant, to_messages, tool, user

if TYPE_CHECKING:
    from agentkit.core.config import RunConfig
    from agentkit.core.spec import SpecContext


def default_tool_prompt() -> Runnable[Any, Any]:
    """The bundled prompt of the tool-calling agent (``agents/prompts/tool_agent.yaml``)."""
    return bundled_prompt(ToolCallingAgent.prompt_file)


class ToolCallingAgent(Agent):
    """An agent whose model returns native tool calls (``ChatResult.tool_calls``).

    Takes the same options as :class:`~agentkit.agents.react.ReActAgent`; ``prompt`` needs
    the variable ``input`` (and a ``history`` placeholder when a memory is given). Parallel
    tool calls run concurrently, at most ``config.max_concurrency`` at once.
    """

    prompt_file = "tool_agent.yaml"
    final_instruction_file = "tool_agent_final.txt"

    def bind_model(self, model: Runnable[Any, Any]) -> Runnable[Any, Any]:
        return bind_tools(model, [t.to_schema() for t in self.tools])

    def begin(self, run: AgentRun, config: RunConfig) -> None:
        run.messages = to_messages(self.prompt.invoke(run.values, config))

    def turn(self, run: AgentRun, config: RunConfig) -> FlowGen:
        reply = yield Call(self._model, run.messages, config)
        if not isinstance(reply, Message) or not reply.tool_calls:
            return reply_text(reply)
        offset = len(run.steps)
        calls = [
            ToolCall(c.id or f"call_{offset + i}", c.name, c.arguments)
            for i, c in enumerate(reply.tool_calls)
        ]
        run.messages.append(assistant(reply.content, calls))
        requests = [(c.name, c.arguments, c.id) for c in calls]
        steps = yield from self.act(requests, reply.content.strip(), config)
        for step, call in zip(steps, calls, strict=True):
            run.add(step)
            run.messages.append(tool(step.observation, call.id, call.name))
        return None

    def final_call(self, run: AgentRun, config: RunConfig) -> FlowGen:
        # the model without tools bound: it can only answer
        reply = yield Call(self.model, [*run.messages, user(self.final_instruction)], config)
        return reply_text(reply)

    def to_dict(self) -> dict[str, Any]:
        return agent_fields(self, "tool_agent")


def create_tool_agent(
    model: Runnable[Any, Any], tools: Sequence[Any], **options: Any
) -> ToolCallingAgent:
    """A :class:`ToolCallingAgent` (options: prompt, memory, max_iterations,
    max_execution_time, early_stopping, final_instruction)."""
    return ToolCallingAgent(model, tools, **options)


def _from_spec(ctx: SpecContext) -> ToolCallingAgent:
    return ToolCallingAgent(**agent_options(ctx))


register_agent("tool_agent", _from_spec)
