""":class:`ConversationChain`: a chat turn with history loaded from and saved to a memory.

It streams: ``stream``/``astream`` yield the reply as ``{output_key: piece}`` chunks as the
model generates it, then the input keys; the turn is saved once the reply is complete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentkit.chains.base import Chain, spec_of, template_text
from agentkit.chains.llm_chain import LLMChain
from agentkit.core.compose import Lambda
from agentkit.core.errors import SpecError, UsageError
from agentkit.core.flow import Call, FlowGen, Stream
from agentkit.core.spec import add_builder
from agentkit.memory.protocol import Memory

if TYPE_CHECKING:
    from agentkit.core.config import RunConfig
    from agentkit.core.graph import Graph
    from agentkit.core.runnable import Runnable
    from agentkit.core.spec import SpecContext

HISTORY = "history"


ConversationMemory = Memory  # the earlier name of agentkit.memory.Memory, kept


def default_conversation_prompt() -> Runnable[Any, Any]:
    """System text, the ``history`` placeholder, then the user's ``{input}``."""
    from agentkit.prompts import ChatPromptTemplate, MessagesPlaceholder

    return ChatPromptTemplate.from_messages(
        [
            ("system", template_text("conversation_system.txt")),
            MessagesPlaceholder(HISTORY),
            ("user", "{input}"),
        ]
    )


def history_is_text(prompt: Runnable[Any, Any]) -> bool:
    """Whether ``{history}`` is a text variable (a classic ``PromptTemplate`` or a chat
    message's text) rather than a ``MessagesPlaceholder``: then the history is shown as
    ``"Human: ...\\nAI: ..."`` lines, not as a list of messages."""
    from agentkit.prompts import (
        ChatPromptTemplate,
        FewShotPromptTemplate,
        MessagesPlaceholder,
        PromptTemplate,
    )

    if isinstance(prompt, PromptTemplate | FewShotPromptTemplate):
        return True
    if isinstance(prompt, ChatPromptTemplate):
        return not any(
            isinstance(p, MessagesPlaceholder) and p.variable_name == HISTORY
            for p in prompt.messages
        )
    return False


class ConversationChain(Chain):
    """Answers ``input[input_key]`` with the conversation so far.

    Per run: ``memory.load(session)`` fills the prompt's ``history`` placeholder (or, in a
    text template such as LangChain's classic ``"{history}\\nHuman: {input}\\nAI:"``, the
    ``history`` variable with ``"Human: ...\\nAI: ..."`` lines), the model
    answers, and ``memory.save(session, [user message, assistant message])`` records the
    turn. The session id is the run config's ``configurable[session_key]`` (default
    ``"default"``): ``chain.invoke("hi", {"configurable": {"session_id": "alice"}})``.
    ``memory`` is any object with ``load(session)`` and ``save(session, turn)``.
    """

    def __init__(
        self,
        llm: Runnable[Any, Any],
        memory: ConversationMemory,
        prompt: Runnable[Any, Any] | None = None,
        input_key: str = "input",
        output_key: str = "response",
        session_key: str = "session_id",
        verbose: bool = False,
    ) -> None:
        self.verbose = verbose  # print each step (LangChain's verbose=)
        if not isinstance(memory, ConversationMemory):
            raise UsageError(
                f"ConversationChain memory must have load(session) and save(session, turn); "
                f"got {type(memory).__name__}"
            )
        prompt = prompt if prompt is not None else default_conversation_prompt()
        variables = list(getattr(prompt, "input_variables", []))
        variables += list(getattr(prompt, "optional_variables", []))
        missing = [v for v in (HISTORY, input_key) if v not in variables]
        if missing:
            raise UsageError(
                f"ConversationChain's prompt lacks the variable(s) {missing} (it has "
                f"{variables}); add MessagesPlaceholder('history') and a '{{{input_key}}}' "
                "user message"
            )
        self.llm, self.memory, self.prompt = llm, memory, prompt
        self.input_key, self.output_key, self.session_key = input_key, output_key, session_key
        self.llm_chain = LLMChain(prompt, llm, output_key=output_key)
        self._history_as_text = history_is_text(prompt)
        self._load = Lambda(memory.load, name="memory.load", blocking=True)
        self._save = Lambda(lambda args: memory.save(*args), name="memory.save", blocking=True)

    @property
    def input_keys(self) -> list[str]:
        return [k for k in self.llm_chain.input_keys if k != HISTORY]

    @property
    def output_keys(self) -> list[str]:
        return [self.output_key]

    def call(self, inputs: dict[str, Any], config: RunConfig) -> FlowGen:
        from agentkit.llms.messages import assistant, user

        session = str(config.get(self.session_key, "default"))
        history = yield Call(self._load, session, config)
        shown: Any = list(history)
        if self._history_as_text:
            from agentkit.memory.base import buffer_string

            human = getattr(self.memory, "human_prefix", "Human")
            shown = buffer_string(shown, human, getattr(self.memory, "ai_prefix", "AI"))
        key = self.output_key
        result = yield Stream(self.llm_chain, {**inputs, HISTORY: shown}, config, key, key)
        # invoke gets the LLMChain's dict; a stream its joined chunks (the parsed reply)
        response = result[key] if isinstance(result, Mapping) else result
        turn = [user(str(inputs[self.input_key])), assistant(str(response))]
        yield Call(self._save, (session, turn), config)
        return {self.output_key: response}

    def graph(self) -> Graph:
        return self.llm_chain.graph()

    def to_dict(self) -> dict[str, Any]:
        if getattr(self.memory, "to_dict", None) is None:
            raise SpecError(
                "$.memory",
                f"the memory {type(self.memory).__name__} cannot be serialised; give it "
                "to_dict() returning {'type': <registered name>, ...} and register a builder "
                "with agentkit.core.spec.add_builder",
            )
        names = ("llm", "memory", "prompt", "input_key", "output_key", "session_key")
        return spec_of("conversation_chain", self, *names)


def _from_spec(ctx: SpecContext) -> ConversationChain:
    memory = ctx.component("memory")
    if not isinstance(memory, ConversationMemory):
        raise SpecError(
            f"{ctx.path}.memory",
            f"{type(memory).__name__} is not a memory: it needs load(session) and "
            "save(session, turn)",
        )
    return ConversationChain(
        ctx.runnable("llm"),
        memory,
        prompt=ctx.runnable("prompt", None),
        input_key=ctx.get("input_key", str, "input"),
        output_key=ctx.get("output_key", str, "response"),
        session_key=ctx.get("session_key", str, "session_id"),
    )


add_builder("conversation_chain", _from_spec)
