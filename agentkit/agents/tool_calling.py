""":class:`ToolCallingAgent`: an agent for models with native tool calls.

The tools' JSON schemas are bound to the model (``model.bind(tools=[...])``); each turn the
model's reply either carries tool calls, which run concurrently and come back as ``tool``
messages answering each call id, or is the final answer. A call whose arguments are not a
JSON object (``ToolCall.arguments_error``) is answered with that error, so the model can
retry; the other calls of the reply still run. The conversation starts from a
prompt bundled as data (``agents/prompts/tool_agent.yaml``; pass your own with ``prompt=``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from agentkit.agents.executor import Agent, AgentRun, bundled_prompt, reply_text
from agentkit.agents.serialize import agent_fields, agent_options, register_agent
from agentkit.agents.steps import Step
from agentkit.agents.toolbox import bind_tools
from agentkit.core.flow import FlowGen
from agentkit.core.messages import Message, ToolCall, assistant, to_messages, tool, user
from agentkit.core.runnable import Runnable

if TYPE_CHECKING:
    from agentkit.core.config import RunConfig
    from agentkit.core.spec import SpecContext
    from agentkit.tools import Tool

_PREVIEW = 500  # characters of malformed arguments quoted back to the model


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
        reply = yield from self.call_model(run, self._model, run.messages, config)
        if not isinstance(reply, Message) or not reply.tool_calls:
            return reply_text(reply)
        offset = len(run.steps)
        calls = [
            replace(c, id=c.id or f"call_{offset + i}") for i, c in enumerate(reply.tool_calls)
        ]
        run.messages.append(assistant(reply.content, calls))
        thought = reply.content.strip()
        # a known tool called with arguments that are not a JSON object: tell the model
        answered: dict[int, Step] = {}
        requests: list[tuple[str, str | dict[str, Any], str | None]] = []
        for i, call in enumerate(calls):
            target = self.find_tool(call.name)
            if call.arguments_error is None:
                requests.append((call.name, call.arguments, call.id))
            elif target is None:  # the unknown-tool message says more
                requests.append((call.name, call.raw_arguments or "", call.id))
            else:
                answered[i] = arguments_error_step(call, target, thought)
        ran = iter((yield from self.act(run, requests, thought, config)))
        for i, call in enumerate(calls):
            step = answered[i] if i in answered else next(ran)
            run.add(step)
            run.messages.append(tool(step.observation, call.id, call.name))
        return None

    def final_call(self, run: AgentRun, config: RunConfig) -> FlowGen:
        # the model without tools bound: it can only answer
        messages = [*run.messages, user(self.final_instruction)]
        reply = yield from self.call_model(run, self.model, messages, config)
        return reply_text(reply)

    def to_dict(self) -> dict[str, Any]:
        return agent_fields(self, "tool_agent")


def arguments_error_step(call: ToolCall, target: Tool, thought: str) -> Step:
    """The step answering a call of ``target`` whose arguments are not a JSON object: the
    observation quotes the model's text, says what is wrong and shows the tool's schema."""
    raw = call.raw_arguments or ""
    preview = raw if len(raw) <= _PREVIEW else raw[: _PREVIEW - 3] + "..."
    schema = json.dumps(target.args_schema, ensure_ascii=False)
    observation = (
        f"Error: the arguments of your call to tool {target.name!r} are {call.arguments_error}: "
        f"{preview}. Call the tool again with its arguments as one JSON object matching its "
        f"schema: {schema}"
    )
    error = f"invalid tool arguments: {call.arguments_error}"
    return Step(thought, target.name, raw, observation, 0.0, error, call.id)


def create_tool_agent(
    model: Runnable[Any, Any], tools: Sequence[Any], **options: Any
) -> ToolCallingAgent:
    """A :class:`ToolCallingAgent` (options: prompt, memory, max_iterations,
    max_execution_time, early_stopping, final_instruction)."""
    return ToolCallingAgent(model, tools, **options)


def _from_spec(ctx: SpecContext) -> ToolCallingAgent:
    return ToolCallingAgent(**agent_options(ctx))


register_agent("tool_agent", _from_spec)
