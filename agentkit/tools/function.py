""":class:`FunctionTool` and the ``@tool`` decorator: plain functions become tools.

The name comes from the function, the description from the docstring's first paragraph,
each argument's description from a Google-style ``Args:`` section, and the JSON schema from
the type hints (through a pydantic model built on first use, so importing tools stays
light). Arguments are validated (and converted: ``"3"`` for an ``int``) by pydantic; its
errors become a :class:`ToolInputError`. A parameter named ``config`` or annotated
``RunConfig`` receives the run config and is left out of the schema. Sync and async
functions both work; the result is converted to text (dicts and lists as JSON).
"""

from __future__ import annotations

import asyncio
import inspect
import typing
from collections.abc import Callable
from typing import Any, TypedDict, Unpack

from agentkit.core.config import RunConfig, ensure_config
from agentkit.core.errors import UsageError
from agentkit.tools.base import Tool, ToolInputError, in_daemon_thread, to_text
from agentkit.tools.schema import parse_docstring


def _is_config(name: str, hint: Any) -> bool:
    return name == "config" or hint is RunConfig or hint == RunConfig | None


def _run_coroutine(coro: Any) -> Any:
    """Run a coroutine to completion from sync code, inside a running loop or not."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


class ToolOptions(TypedDict, total=False):
    """The options of a tool made from a function (``Tool.from_function``, ``@tool``),
    each as :class:`FunctionTool` takes it."""

    name: str | None
    description: str | None
    timeout: float | None
    max_output_chars: int | None


class FunctionTool(Tool):
    """A tool that calls ``fn`` with validated keyword arguments."""

    def __init__(
        self,
        fn: Callable[..., Any],
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        max_output_chars: int | None = 4000,
    ) -> None:
        if not callable(fn):
            raise UsageError(f"a tool needs a function, got {type(fn).__name__}")
        self.fn = fn
        self.name = name or str(getattr(fn, "__name__", ""))
        if not self.name.isidentifier() and not self.name.replace("-", "_").isidentifier():
            raise UsageError(f"tool name {self.name!r} must be a word (letters, digits, _ or -)")
        summary, self.arg_docs = parse_docstring(inspect.getdoc(fn))
        self.description = description or summary
        if not self.description:
            raise UsageError(
                f"tool {self.name!r} has no description; give {self.name} a docstring or pass "
                "description=... (the model reads it to decide when to call the tool)"
            )
        if timeout is not None and (isinstance(timeout, bool) or timeout <= 0):
            raise UsageError(f"tool timeout must be a positive number of seconds, got {timeout!r}")
        self.timeout = None if timeout is None else float(timeout)
        self.max_output_chars = max_output_chars
        self.is_async = inspect.iscoroutinefunction(fn)
        self._params, self._config_param = self._signature()
        self._model: Any = None
        self._schema: dict[str, Any] | None = None

    def _signature(self) -> tuple[list[inspect.Parameter], str | None]:
        try:
            hints = typing.get_type_hints(self.fn)
        except Exception as exc:
            raise UsageError(
                f"cannot read the type hints of tool {self.name!r}: {exc}; define the types it "
                "uses at module level"
            ) from exc
        params: list[inspect.Parameter] = []
        config_param = None
        for p in inspect.signature(self.fn).parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise UsageError(
                    f"tool {self.name!r} takes *{p.name}; tools need named parameters so that "
                    "their JSON schema lists them"
                )
            hint = hints.get(p.name, p.annotation)
            if _is_config(p.name, hint):
                config_param = p.name
            else:
                params.append(p.replace(annotation=hint))
        return params, config_param

    # --- the pydantic model, built on first use --------------------------------------

    @property
    def model(self) -> Any:
        if self._model is None:
            from pydantic import ConfigDict, Field, create_model

            fields: dict[str, Any] = {}
            for i, p in enumerate(self._params):
                hint = Any if p.annotation is inspect.Parameter.empty else p.annotation
                default = ... if p.default is inspect.Parameter.empty else p.default
                doc = self.arg_docs.get(p.name)
                fields[f"arg{i}"] = (hint, Field(default, alias=p.name, description=doc))
            self._model = create_model(
                f"{self.name}_args",
                __config__=ConfigDict(extra="forbid", populate_by_name=False),
                **fields,
            )
        return self._model

    @property
    def args_schema(self) -> dict[str, Any]:
        if self._schema is None:
            schema = self.model.model_json_schema()
            schema.pop("title", None)
            for prop in schema.get("properties", {}).values():
                prop.pop("title", None)
            self._schema = schema
        return self._schema

    @args_schema.setter
    def args_schema(self, value: dict[str, Any]) -> None:
        self._schema = value

    # --- running ----------------------------------------------------------------------

    def check(self, args: dict[str, Any]) -> dict[str, Any]:
        """Validate with pydantic; return the converted keyword arguments."""
        from pydantic import ValidationError

        if not isinstance(args, dict):
            raise ToolInputError.for_tool(self, ["expected a JSON object of arguments"], args)
        try:
            validated = self.model.model_validate(args)
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                where = ".".join(str(part) for part in error["loc"]) or "arguments"
                got = "" if error["type"] == "missing" else f" (got {error.get('input')!r})"
                problems.append(f"{where}: {error['msg']}{got}")
            raise ToolInputError.for_tool(self, problems, args) from None
        return {p.name: getattr(validated, f"arg{i}") for i, p in enumerate(self._params)}

    def _kwargs(self, args: dict[str, Any], config: RunConfig | None) -> dict[str, Any]:
        if self._config_param is not None:
            return {**args, self._config_param: ensure_config(config)}
        return args

    def run(self, args: dict[str, Any], config: RunConfig | None = None) -> str:
        """Validate ``args`` and call the function."""
        return self.call(self.check(args), ensure_config(config))

    async def arun(self, args: dict[str, Any], config: RunConfig | None = None) -> str:
        return await self.acall(self.check(args), ensure_config(config))

    def call(self, args: dict[str, Any], config: RunConfig) -> str:
        result = self.fn(**self._kwargs(args, config))
        if self.is_async:
            result = _run_coroutine(result)
        return to_text(result)

    async def acall(self, args: dict[str, Any], config: RunConfig) -> str:
        kwargs = self._kwargs(args, config)
        if self.is_async:
            return to_text(await self.fn(**kwargs))
        return to_text(await in_daemon_thread(self.fn, **kwargs))

    def to_dict(self) -> dict[str, Any]:
        if self.spec_name:
            return super().to_dict()
        from agentkit.core.spec import function_ref

        data: dict[str, Any] = {"type": "function_tool", "fn": function_ref(self.fn)}
        if self.name != getattr(self.fn, "__name__", None):
            data["name"] = self.name
        if self.description != parse_docstring(inspect.getdoc(self.fn))[0]:
            data["description"] = self.description
        if self.timeout is not None:
            data["timeout"] = self.timeout
        if self.max_output_chars != 4000:
            data["max_output_chars"] = self.max_output_chars
        return data


def tool(fn: Callable[..., Any] | str | None = None, **options: Unpack[ToolOptions]) -> Any:
    """Make a function a tool: ``@tool``, ``@tool("name")`` or ``@tool(timeout=5)``."""
    if isinstance(fn, str):
        options["name"], fn = fn, None

    def wrap(f: Callable[..., Any]) -> FunctionTool:
        return FunctionTool(f, **options)

    return wrap if fn is None else wrap(fn)
