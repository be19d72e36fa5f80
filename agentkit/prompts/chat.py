"""``ChatPromptTemplate``: a list of message templates, literal messages and history
placeholders that formats into a list of :class:`~agentkit.core.messages.Message`."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agentkit.core.errors import SpecError, UsageError
from agentkit.core.messages import Message, normalize_role, to_messages
from agentkit.core.spec import SpecContext, add_builder, dump
from agentkit.prompts.base import BasePromptTemplate, partials_from_spec
from agentkit.prompts.formats import FORMATS
from agentkit.prompts.template import PromptTemplate

TEMPLATE_ROLES = ("system", "user", "human", "assistant", "ai")


@dataclass(frozen=True)
class MessagesPlaceholder:
    """A slot for a list of messages (chat history) passed in variable ``variable_name``.
    Messages, ``(role, content)`` tuples and ``{"role", "content"}`` dicts are accepted; an
    ``optional`` placeholder may be left out of the input."""

    variable_name: str
    optional: bool = False


@dataclass(frozen=True)
class MessageTemplate:
    """One message whose content is a prompt template."""

    role: str
    prompt: PromptTemplate


Part = MessageTemplate | Message | MessagesPlaceholder


def _part(item: Any, template_format: str, index: int) -> Part:
    if isinstance(item, MessageTemplate | Message | MessagesPlaceholder):
        return item
    if isinstance(item, str):
        return MessageTemplate("user", PromptTemplate(item, template_format))
    if isinstance(item, tuple) and len(item) == 2:
        role, template = item
        if role not in TEMPLATE_ROLES:
            raise UsageError(
                f"message {index} has the role {role!r}; use one of {', '.join(TEMPLATE_ROLES)}"
            )
        if isinstance(template, str):
            template = PromptTemplate(template, template_format)
        if not isinstance(template, PromptTemplate):
            raise UsageError(
                f"message {index} ({role}) needs a template string or a PromptTemplate, got "
                f"{type(template).__name__}"
            )
        return MessageTemplate(normalize_role(role), template)
    raise UsageError(
        f"message {index} is a {type(item).__name__} ({item!r}); use (role, template) tuples, "
        "Message objects (literal) or MessagesPlaceholder('history')"
    )


class ChatPromptTemplate(BasePromptTemplate[list[Message]]):
    """Formats variables into chat messages.

    ``ChatPromptTemplate.from_messages([("system", "You are {persona}."),
    MessagesPlaceholder("history"), ("user", "{question}")])``
    """

    def __init__(
        self,
        messages: Sequence[Any],
        template_format: str = "f-string",
        input_variables: Iterable[str] | None = None,
        partial_variables: Mapping[str, Any] | None = None,
    ) -> None:
        self.template_format = template_format
        self.messages: list[Part] = [_part(m, template_format, i) for i, m in enumerate(messages)]
        variables: list[str] = []
        optional: list[str] = []
        for part in self.messages:
            if isinstance(part, MessageTemplate):
                variables.extend(part.prompt.input_variables)
            elif isinstance(part, MessagesPlaceholder):
                (optional if part.optional else variables).append(part.variable_name)
        self.source = " | ".join(_describe(p) for p in self.messages)
        if input_variables is not None:
            input_variables = [v for v in input_variables if v not in optional]
        self._init_variables(variables, input_variables, partial_variables, optional)

    @classmethod
    def from_messages(
        cls, messages: Sequence[Any], template_format: str = "f-string"
    ) -> ChatPromptTemplate:
        """Build from ``(role, template)`` tuples, literal Messages and placeholders."""
        return cls(messages, template_format)

    @classmethod
    def from_template(cls, template: str, template_format: str = "f-string") -> ChatPromptTemplate:
        """One user message from a template."""
        return cls([("user", template)], template_format)

    def render(self, values: Mapping[str, Any]) -> list[Message]:
        out: list[Message] = []
        for part in self.messages:
            if isinstance(part, MessageTemplate):
                out.append(Message(part.role, part.prompt.render(part.prompt.values(values))))
            elif isinstance(part, MessagesPlaceholder):
                out.extend(self._history(part, values))
            else:
                out.append(copy.copy(part))
        return out

    def _history(self, part: MessagesPlaceholder, values: Mapping[str, Any]) -> list[Message]:
        value = values.get(part.variable_name)
        if value is None and part.optional:
            return []
        if isinstance(value, str | Message) or not isinstance(value, list | tuple):
            raise UsageError(
                f"the placeholder {part.variable_name!r} needs a list of messages, got "
                f"{type(value).__name__}; pass Messages, (role, content) tuples or "
                "{'role': ..., 'content': ...} dicts"
            )
        try:
            return to_messages(list(value))
        except UsageError as exc:
            raise UsageError(f"placeholder {part.variable_name!r}: {exc}") from exc

    def format_messages(self, **values: Any) -> list[Message]:
        """The messages for keyword values."""
        return self.render(self.values(values))

    def __add__(self, other: Any) -> ChatPromptTemplate:
        """Append messages: another chat prompt, a message part, or a list of parts."""
        if isinstance(other, ChatPromptTemplate):
            extra: list[Any] = list(other.messages)
            partials = other.partial_variables
        elif isinstance(other, list):
            extra, partials = other, {}
        elif isinstance(other, MessageTemplate | Message | MessagesPlaceholder | tuple | str):
            extra, partials = [other], {}
        else:
            return NotImplemented
        return ChatPromptTemplate(
            [*self.messages, *extra],
            self.template_format,
            partial_variables={**self.partial_variables, **partials},
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": "chat_prompt",
            "messages": [_part_to_dict(p) for p in self.messages],
        }
        data.update(self.partials_to_dict())
        return data


def _describe(part: Part) -> str:
    if isinstance(part, MessageTemplate):
        return f"{part.role}: {part.prompt.template}"
    if isinstance(part, MessagesPlaceholder):
        return f"[{part.variable_name}]"
    return f"{part.role}: {part.content}"


def _part_to_dict(part: Part) -> dict[str, Any]:
    if isinstance(part, MessagesPlaceholder):
        return {"placeholder": part.variable_name, "optional": part.optional}
    if isinstance(part, Message):
        return {"message": part.to_dict()}
    if part.prompt.partial_variables:
        return {"role": part.role, "prompt": dump(part.prompt)}
    data = {"role": part.role, "template": part.prompt.template}
    if part.prompt.template_format != "f-string":
        data["template_format"] = part.prompt.template_format
    return data


def _part_from_spec(ctx: SpecContext) -> Part:
    if "placeholder" in ctx.data:
        return MessagesPlaceholder(ctx.get("placeholder", str), ctx.get("optional", bool, False))
    if "message" in ctx.data:
        return Message.from_dict(ctx.get("message", dict))
    role = ctx.get("role", str, choices=TEMPLATE_ROLES)
    if "prompt" in ctx.data:
        prompt = ctx.runnable("prompt")
        if not isinstance(prompt, PromptTemplate):
            raise SpecError(f"{ctx.path}.prompt", "expected a spec of type 'prompt'")
    else:
        fmt = ctx.get("template_format", str, "f-string", choices=FORMATS)
        prompt = PromptTemplate(ctx.get("template", str), fmt)
    return MessageTemplate(normalize_role(role), prompt)


def _build(ctx: SpecContext) -> ChatPromptTemplate:
    items = ctx.get("messages", list)
    parts = []
    for i, item in enumerate(items):
        path = f"{ctx.path}.messages[{i}]"
        if not isinstance(item, Mapping):
            raise SpecError(path, f"expected a dict, got {type(item).__name__}")
        sub = SpecContext(item, path)
        parts.append(_part_from_spec(sub))
        sub.check_unknown()
    return ChatPromptTemplate(parts, partial_variables=partials_from_spec(ctx))


add_builder("chat_prompt", _build)
