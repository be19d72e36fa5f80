""":class:`ReActAgent`: the Thought / Action / Action Input / Observation text protocol.

Each turn renders the prompt (bundled as data in ``agents/prompts/react.yaml``; pass your
own with ``prompt=``) with the tools, the question, the history and the scratchpad of steps
so far, calls the model with the stop sequence ``"\\nObservation:"``, and parses the reply
with :func:`~agentkit.agents.react_parser.parse_react`. A reply that cannot be parsed, or
that names an unknown tool, becomes a step whose observation tells the model how to fix it;
``Action: Final Answer`` (or ``final_answer``) with the answer as its input finishes, unless
one of the tools has that name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from agentkit.agents.executor import Agent, AgentRun, bundled_prompt, reply_text
from agentkit.agents.react_parser import ReActFinish, ReActParseError, parse_react
from agentkit.agents.serialize import agent_fields, agent_options, register_agent
from agentkit.agents.steps import Step
from agentkit.agents.toolbox import bind_stop, describe_tools
from agentkit.core.flow import FlowGen
from agentkit.core.messages import to_messages, user
from agentkit.core.runnable import Runnable

if TYPE_CHECKING:
    from agentkit.core.config import RunConfig
    from agentkit.core.spec import SpecContext

OBSERVATION_STOP = "\nObservation:"
REQUIRED_VARIABLES = ("input", "agent_scratchpad")


def default_react_prompt() -> Runnable[Any, Any]:
    """The bundled ReAct prompt (``agents/prompts/react.yaml``)."""
    return bundled_prompt(ReActAgent.prompt_file)


def scratchpad(steps: Sequence[Step]) -> str:
    """The steps so far in the text protocol, each ending with its observation."""
    parts = []
    for step in steps:
        if step.tool is None:  # a reply that could not be parsed: show it with the hint
            parts.append(f"{step.log.strip()}\nObservation: {step.observation}\n")
            continue
        arg = step.tool_input
        shown = json.dumps(arg, ensure_ascii=False) if isinstance(arg, dict) else arg
        thought = f"Thought: {step.thought}\n" if step.thought else ""
        parts.append(
            f"{thought}Action: {step.tool}\nAction Input: {shown}\n"
            f"Observation: {step.observation}\n"
        )
    return "".join(parts)


def action_as_answer(tool: str, tool_input: str | dict[str, Any]) -> str:
    """The answer of an ``Action: Final Answer`` (or ``final_answer``) reply, else ``""``."""
    if tool.lower().replace("_", " ") != "final answer" or not tool_input:
        return ""
    if isinstance(tool_input, dict):
        values = list(tool_input.values())
        value = tool_input.get("answer", values[0] if len(values) == 1 else tool_input)
        return (value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)).strip()
    return tool_input.strip()


class ReActAgent(Agent):
    """An agent that reasons in text and calls tools with ``Action:`` lines.

    Takes the options of :class:`~agentkit.agents.executor.Agent`: ``model`` (bound here
    with the stop sequence ``"\\nObservation:"``), ``tools``, ``prompt`` (with the variables
    ``input`` and ``agent_scratchpad``, and optionally ``tools``, ``tool_names`` and a
    ``history`` placeholder), ``memory``, ``max_iterations``, ``max_execution_time``,
    ``early_stopping`` and ``final_instruction``.
    """

    prompt_file = "react.yaml"
    final_instruction_file = "react_final.txt"
    prompt_variables = REQUIRED_VARIABLES

    def bind_model(self, model: Runnable[Any, Any]) -> Runnable[Any, Any]:
        return bind_stop(model, OBSERVATION_STOP)

    @cached_property
    def _tool_values(self) -> dict[str, str]:
        return {
            "tools": describe_tools(self.tools),
            "tool_names": ", ".join(t.name for t in self.tools),
        }

    def _messages(self, run: AgentRun, config: RunConfig) -> Any:
        values = {**run.values, **self._tool_values, "agent_scratchpad": scratchpad(run.steps)}
        return self.prompt.invoke(values, config)

    def turn(self, run: AgentRun, config: RunConfig) -> FlowGen:
        reply = yield from self.call_model(run, self._model, self._messages(run, config), config)
        text = reply_text(reply)
        try:
            parsed = parse_react(text)
        except ReActParseError as exc:
            run.add(Step(observation=exc.feedback(), error=f"parse error: {exc.problem}", log=text))
            return None
        if isinstance(parsed, ReActFinish):
            return parsed.answer
        answer = action_as_answer(parsed.tool, parsed.tool_input)
        if answer and self.find_tool(parsed.tool) is None:
            return answer  # "Action: Final Answer" (unless a tool has that name)
        requests = [(parsed.tool, parsed.tool_input, None)]
        [step] = yield from self.act(run, requests, parsed.thought, config)
        step.log = text
        run.add(step)
        return None

    def final_call(self, run: AgentRun, config: RunConfig) -> FlowGen:
        messages = [*to_messages(self._messages(run, config)), user(self.final_instruction)]
        text = reply_text((yield from self.call_model(run, self._model, messages, config)))
        try:
            parsed = parse_react(text)
        except ReActParseError:
            return text  # prose without markers: the best effort is the text itself
        return parsed.answer if isinstance(parsed, ReActFinish) else ""

    def to_dict(self) -> dict[str, Any]:
        return agent_fields(self, "react_agent")


def create_react_agent(
    model: Runnable[Any, Any], tools: Sequence[Any], **options: Any
) -> ReActAgent:
    """A :class:`ReActAgent` (options: prompt, memory, max_iterations, max_execution_time,
    early_stopping, final_instruction)."""
    return ReActAgent(model, tools, **options)


def _from_spec(ctx: SpecContext) -> ReActAgent:
    return ReActAgent(**agent_options(ctx))


register_agent("react_agent", _from_spec)
