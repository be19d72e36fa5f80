"""The :class:`Tool`: a named, described function a model can call with JSON arguments.

A tool implements ONE method, :meth:`Tool.run` (``args`` dict -> text). As a Runnable,
``invoke`` accepts a dict, a JSON object string, or (for a tool with one main argument) a
plain string; it checks the arguments against ``args_schema``, runs the tool under its
``timeout`` and truncates the text to ``max_output_chars``. Bad arguments raise
:class:`ToolInputError` (a :class:`ModelOutputError`: its message is written for the model);
a tool that raises or times out raises :class:`ToolExecutionError`. Agents use
:func:`~agentkit.tools.run_tool_safely`, which turns both into observations.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import threading
from abc import abstractmethod
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Unpack

from agentkit.core.config import ConfigLike, RunConfig, ensure_config
from agentkit.core.errors import ModelOutputError, RunError, SpecError, UsageError
from agentkit.core.futures import settle
from agentkit.core.runnable import Runnable
from agentkit.tools.schema import accepts_text, check_args, primary_arg

if TYPE_CHECKING:
    from agentkit.tools.function import ToolOptions

EMPTY_INPUTS = ("", "{}", "null", "none", "None")


class ToolInputError(ModelOutputError):
    """A tool was called with invalid arguments. The message lists the problems and the
    expected schema, so it can be shown to the model as an observation."""

    @classmethod
    def for_tool(cls, tool: Tool, problems: list[str], given: Any) -> ToolInputError:
        return cls(
            f"invalid arguments for tool {tool.name!r}: {'; '.join(problems)}",
            given if isinstance(given, str) else _json(given),
            f"Expected arguments (JSON schema): {_json(tool.args_schema)}",
        )


class ToolExecutionError(RunError):
    """A tool raised or timed out; the message names the tool and the cause."""

    def __init__(self, message: str, tool: str = "") -> None:
        super().__init__(message)
        self.tool = tool


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def to_text(value: Any) -> str:
    """A tool's return value as text (dicts and lists as JSON)."""
    if isinstance(value, str):
        return value
    if value is None:
        return "(no output)"
    if isinstance(value, dict | list | tuple):
        return _json(value)
    dump = getattr(value, "model_dump_json", None)  # pydantic models
    if callable(dump):
        return str(dump())
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def truncate(text: str, limit: int | None) -> str:
    """``text`` cut to ``limit`` characters, with a marker saying how much was cut."""
    if limit is None or len(text) <= limit:
        return text
    return f"{text[:limit]}\n[... truncated {len(text) - limit} of {len(text)} characters]"


async def in_daemon_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Await ``fn(*args, **kwargs)`` run in a daemon thread. Unlike ``asyncio.to_thread``,
    a call abandoned at a timeout does not hold up ``asyncio.run`` when it exits."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    context = contextvars.copy_context()

    def target() -> None:
        try:
            value, error = context.run(fn, *args, **kwargs), None
        except BaseException as exc:
            value, error = None, exc
        with contextlib.suppress(RuntimeError):  # a closed loop: the caller gave up
            loop.call_soon_threadsafe(settle, future, value, error)

    threading.Thread(target=target, name="tool-async", daemon=True).start()
    return await future


class Tool(Runnable[Any, str]):
    """Base of the tools. Subclasses set ``name``, ``description`` and ``args_schema`` and
    implement :meth:`run`; :meth:`from_function` and ``@tool`` build one from a function."""

    kind = "tool"
    name: str = ""
    description: str = ""
    args_schema: dict[str, Any] = {"type": "object", "properties": {}}
    timeout: float | None = None
    max_output_chars: int | None = 4000
    spec_name: str | None = None  # the registered name this tool serialises by
    registered_options: dict[str, Any] = {}  # options get_tool built it with
    # durable agent runs (docs/durable-agents.md): a call that was running when the run
    # stopped is run again only when idempotent (default: not, as a tool may act on the
    # world); a tool that requires approval waits for a person's decision before each call
    idempotent: bool = False
    requires_approval: bool = False

    @abstractmethod
    def run(self, args: dict[str, Any], config: RunConfig | None = None) -> str:
        """Run on checked arguments; return the result as text."""

    async def arun(self, args: dict[str, Any], config: RunConfig | None = None) -> str:
        """Async :meth:`run` (by default ``run`` in a worker thread)."""
        return to_text(await in_daemon_thread(self.run, args, config))

    @classmethod
    def from_function(cls, fn: Callable[..., Any], **options: Unpack[ToolOptions]) -> Tool:
        """A tool from a (sync or async) function: name, description and schema come from
        the function, its docstring and its type hints unless ``options`` set them (see
        :class:`FunctionTool`)."""
        from agentkit.tools.function import FunctionTool

        return FunctionTool(fn, **options)

    def marked(
        self, *, idempotent: bool | None = None, requires_approval: bool | None = None
    ) -> Tool:
        """A copy of this tool with its durable-run flags set (``None`` keeps a flag):
        ``calculator.marked(idempotent=True)``, ``send_mail.marked(requires_approval=True)``."""
        import copy

        for label, value in (("idempotent", idempotent), ("requires_approval", requires_approval)):
            if value is not None and not isinstance(value, bool):
                raise UsageError(f"{label} must be True or False, got {value!r}")
        twin = copy.copy(self)
        if idempotent is not None:
            twin.idempotent = idempotent
        if requires_approval is not None:
            twin.requires_approval = requires_approval
        return twin

    # --- the pipeline: parse, check, run under the timeout, truncate -----------------

    def parse_input(self, input: Any) -> dict[str, Any]:
        """Arguments from a dict, a JSON object string, or a plain value for the tool's
        one main argument (read as JSON when that argument is not a string: ``"[1, 2]"``
        for a list)."""
        main = primary_arg(self.args_schema)
        if isinstance(input, Mapping):
            return dict(input)
        if input is None:
            return {}
        if isinstance(input, str):
            text = input.strip()
            properties = self.args_schema.get("properties") or {}
            takes_text = main is None or accepts_text(properties.get(main))
            parsed: Any = None
            if text[:1] in ("{", '"') or not takes_text:  # "[1, 2]" for a list argument
                try:
                    parsed = json.loads(text)
                except (ValueError, RecursionError):
                    parsed = None
            if isinstance(parsed, dict) and (main is None or main in parsed):
                return parsed
            if text in EMPTY_INPUTS and not self.args_schema.get("required"):
                return {}  # "Action Input: None" for a tool whose arguments are optional
            if not properties and self.args_schema.get("additionalProperties") is not True:
                return {}  # a tool that takes no arguments: "Action Input: N/A" is no input
            if main is not None:
                if isinstance(parsed, str) or (parsed is not None and not takes_text):
                    return {main: parsed}
                return {main: input}
            raise ToolInputError.for_tool(self, ["expected a JSON object of arguments"], input)
        if main is not None:
            return {main: input}
        raise ToolInputError.for_tool(
            self, [f"expected a JSON object of arguments, got {type(input).__name__}"], input
        )

    def check(self, args: dict[str, Any]) -> dict[str, Any]:
        """Check ``args`` against ``args_schema``; return them (possibly converted)."""
        problems = check_args(args, self.args_schema)
        if problems:
            raise ToolInputError.for_tool(self, problems, args)
        return args

    def call(self, args: dict[str, Any], config: RunConfig) -> str:
        """Run on arguments already checked by :meth:`check` (FunctionTool skips a second
        validation here)."""
        return self.run(args, config)

    async def acall(self, args: dict[str, Any], config: RunConfig) -> str:
        return await self.arun(args, config)

    def invoke(self, input: Any, config: ConfigLike = None) -> str:
        args = self.check(self.parse_input(input))
        if self.timeout is None:
            return self._finish(self._guard(self.call, args, ensure_config(config)))
        return self._finish(self._in_thread(args, ensure_config(config)))

    async def ainvoke(self, input: Any, config: ConfigLike = None) -> str:
        args = self.check(self.parse_input(input))
        running = self.acall(args, ensure_config(config))
        try:
            if self.timeout is None:
                output = await running
            else:
                output = await asyncio.wait_for(running, self.timeout)
        except (ToolInputError, ToolExecutionError):
            raise
        except asyncio.TimeoutError as exc:
            if self.timeout is None:  # the tool's own TimeoutError
                raise self._failed(exc) from exc
            raise self._timed_out() from None
        except Exception as exc:
            raise self._failed(exc) from exc
        return self._finish(output)

    def _guard(self, fn: Callable[..., str], args: dict[str, Any], config: RunConfig) -> str:
        try:
            return fn(args, config)
        except (ToolInputError, ToolExecutionError):
            raise
        except Exception as exc:
            raise self._failed(exc) from exc

    def _in_thread(self, args: dict[str, Any], config: RunConfig) -> str:
        """Run in a daemon thread and stop waiting at the timeout (the thread is left to
        finish on its own: Python cannot kill a thread)."""
        box: dict[str, Any] = {}
        context = contextvars.copy_context()

        def target() -> None:
            try:
                box["value"] = context.run(self._guard, self.call, args, config)
            except BaseException as exc:
                box["error"] = exc

        thread = threading.Thread(target=target, name=f"tool-{self.name}", daemon=True)
        thread.start()
        thread.join(self.timeout)
        if thread.is_alive():
            raise self._timed_out()
        if "error" in box:
            raise box["error"]
        return str(box["value"])

    def _timed_out(self) -> ToolExecutionError:
        return ToolExecutionError(
            f"tool {self.name!r} timed out: no result within its {self.timeout} s limit; "
            "try a simpler input, or raise the tool's timeout",
            self.name,
        )

    def _failed(self, exc: Exception) -> ToolExecutionError:
        return ToolExecutionError(
            f"tool {self.name!r} failed: {type(exc).__name__}: {exc}", self.name
        )

    def _finish(self, output: Any) -> str:
        return truncate(to_text(output), self.max_output_chars)

    # --- description for models, and specs -------------------------------------------

    def to_schema(self) -> dict[str, Any]:
        """The OpenAI-style function schema of this tool."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.args_schema,
            },
        }

    def spec_options(self) -> dict[str, Any]:
        """Options a registered tool is rebuilt with (non-default ones)."""
        return dict(self.registered_options)

    def to_dict(self) -> dict[str, Any]:
        if not self.spec_name:
            raise SpecError(
                "$",
                f"tool {self.name!r} ({type(self).__name__}) cannot be serialised; register "
                "it with agentkit.tools.register_tool(name, factory) or build it from a "
                "module-level function",
            )
        return {"type": "tool", "name": self.spec_name, **self.spec_options()}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
