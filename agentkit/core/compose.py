"""Composition: sequences, parallel fan-out, passthrough/assign, pick, branches, and plain
functions as nodes. Retries, fallbacks and bound configs live in :mod:`agentkit.core.wrappers`
and are re-exported here."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from collections.abc import Sequence as Seq
from typing import TYPE_CHECKING, Any

from agentkit.core.config import ConfigLike, RunConfig, ensure_config
from agentkit.core.errors import UsageError
from agentkit.core.flow import Call, Flow, FlowGen, Gather, Stream
from agentkit.core.foreign import coerce_foreign
from agentkit.core.runnable import Runnable
from agentkit.core.streams import iterate_in_thread
from agentkit.core.wrappers import Configured, Fallbacks, Retry

if TYPE_CHECKING:
    from agentkit.core.graph import Graph


def coerce(obj: Any) -> Runnable[Any, Any]:
    """Turn a Runnable, a dict of runnables (parallel) or a function into a Runnable."""
    if isinstance(obj, Runnable):
        return obj
    foreign = coerce_foreign(obj)  # a LangChain / LlamaIndex object, converted
    if foreign is not obj:
        return foreign
    if isinstance(obj, Mapping):
        return Parallel({str(k): coerce(v) for k, v in obj.items()})
    if callable(obj):
        return Lambda(obj)
    raise UsageError(
        f"cannot use {type(obj).__name__} as a chain step; pass a Runnable, a function "
        "or a dict of them"
    )


class Lambda(Runnable[Any, Any]):
    """A plain function (sync or async) as a node. A ``config`` parameter receives the run
    config. Sync functions run inline in ``ainvoke``; pass ``blocking=True`` for functions
    that do blocking I/O so they run in a worker thread instead."""

    kind = "lambda"

    def __init__(self, fn: Callable[..., Any], *, name: str | None = None, blocking: bool = False):
        if not callable(fn):
            raise UsageError(f"Lambda needs a callable, got {type(fn).__name__}")
        self.fn = fn
        self.blocking = blocking
        self.is_async = inspect.iscoroutinefunction(fn)
        try:
            self.wants_config = "config" in inspect.signature(fn).parameters
        except (TypeError, ValueError):
            self.wants_config = False
        self._name: str = name or str(getattr(fn, "__name__", "lambda"))

    @property
    def name(self) -> str:
        return self._name

    def _args(self, input: Any, config: RunConfig) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (input,), ({"config": config} if self.wants_config else {})

    def invoke(self, input: Any, config: ConfigLike = None) -> Any:
        args, kwargs = self._args(input, ensure_config(config))
        if self.is_async:
            import asyncio

            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return asyncio.run(self.fn(*args, **kwargs))
            raise UsageError(
                f"{self.name} is an async function called with invoke() inside a running "
                "event loop; call ainvoke() instead"
            )
        return self.fn(*args, **kwargs)

    async def ainvoke(self, input: Any, config: ConfigLike = None) -> Any:
        args, kwargs = self._args(input, ensure_config(config))
        if self.is_async:
            return await self.fn(*args, **kwargs)
        if self.blocking:
            import asyncio

            return await asyncio.to_thread(self.fn, *args, **kwargs)
        return self.fn(*args, **kwargs)

    def _with_params(self, params: Mapping[str, Any]) -> Runnable[Any, Any]:
        import functools

        return Lambda(functools.partial(self.fn, **params), name=self._name, blocking=self.blocking)

    def to_dict(self) -> dict[str, Any]:
        from agentkit.core.spec import function_ref

        spec: dict[str, Any] = {"type": "lambda", "fn": function_ref(self.fn)}
        if self._name != getattr(self.fn, "__name__", "lambda"):
            spec["name"] = self._name
        if self.blocking:
            spec["blocking"] = True
        return spec


class Sequence(Flow[Any, Any]):
    """Steps run one after another, each receiving the previous output. Streaming passes
    through: the last step that streams feeds the caller as it produces."""

    kind = "sequence"
    steps: list[Runnable[Any, Any]]

    def __init__(self, *steps: Any) -> None:
        flat: list[Runnable[Any, Any]] = []
        for step in steps:
            node = coerce(step)
            flat.extend(node.steps if isinstance(node, Sequence) else [node])
        if len(flat) < 2:
            raise UsageError("a Sequence needs at least two steps")
        self.steps = flat

    def flow(self, input: Any, config: RunConfig) -> FlowGen:
        for step in self.steps:
            input = yield Call(step, input, config)
        return input

    def stream(self, input: Any, config: ConfigLike = None) -> Iterator[Any]:
        chunks = self.steps[0].stream(input, config)
        for step in self.steps[1:]:
            chunks = step.transform(chunks, config)
        yield from chunks

    async def astream(self, input: Any, config: ConfigLike = None) -> AsyncIterator[Any]:
        """Natively async: each step's ``atransform`` consumes the previous step's chunks
        on the event loop (a model's async stream is used as it is, not through a thread)."""
        chunks = self.steps[0].astream(input, config)
        for step in self.steps[1:]:
            chunks = step.atransform(chunks, config)
        async for chunk in chunks:
            yield chunk

    def graph(self) -> Graph:
        from agentkit.core.graph import Graph

        return Graph.chain([s.graph() for s in self.steps])

    def to_dict(self) -> dict[str, Any]:
        from agentkit.core.spec import dump

        return {"type": "sequence", "steps": [dump(s) for s in self.steps]}


class Parallel(Flow[Any, dict[str, Any]]):
    """Runs every branch on the same input and returns ``{key: output}``."""

    kind = "parallel"

    def __init__(self, branches: Mapping[str, Any]) -> None:
        if not branches:
            raise UsageError("Parallel needs at least one branch")
        self.branches = {k: coerce(v) for k, v in branches.items()}

    def flow(self, input: Any, config: RunConfig) -> FlowGen:
        calls = [Call(r, input, config) for r in self.branches.values()]
        outputs = yield Gather(calls, config.max_concurrency)
        return dict(zip(self.branches, outputs, strict=True))

    def graph(self) -> Graph:
        from agentkit.core.graph import Graph

        return Graph.fan_out(self, [b.graph() for b in self.branches.values()])

    def to_dict(self) -> dict[str, Any]:
        from agentkit.core.spec import dump

        return {"type": "parallel", "branches": {k: dump(v) for k, v in self.branches.items()}}


class Passthrough(Runnable[Any, Any]):
    """Returns its input unchanged. ``Passthrough.assign(k=step)`` adds keys to a dict input."""

    kind = "passthrough"

    def invoke(self, input: Any, config: ConfigLike = None) -> Any:
        return input

    async def ainvoke(self, input: Any, config: ConfigLike = None) -> Any:
        return input

    def transform(self, chunks: Any, config: ConfigLike = None) -> Iterator[Any]:
        yield from chunks

    async def atransform(self, chunks: Any, config: ConfigLike = None) -> AsyncIterator[Any]:
        async for chunk in chunks:
            yield chunk

    @staticmethod
    def assign(**steps: Any) -> Assign:
        return Assign(steps)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "passthrough"}


class Assign(Flow[Mapping[str, Any], dict[str, Any]]):
    """Runs the steps in parallel on a dict input and returns the input with their outputs
    added under their keys."""

    kind = "assign"

    def __init__(self, steps: Mapping[str, Any]) -> None:
        self.mapper = Parallel(steps)

    def flow(self, input: Any, config: RunConfig) -> FlowGen:
        if not isinstance(input, Mapping):
            raise UsageError(
                f"assign() needs a dict input, got {type(input).__name__}; put a step that "
                "returns a dict before it"
            )
        extra = yield Call(self.mapper, input, config)
        return {**input, **extra}

    def graph(self) -> Graph:
        from agentkit.core.graph import Graph

        return Graph.fan_out(self, [b.graph() for b in self.mapper.branches.values()])

    def to_dict(self) -> dict[str, Any]:
        from agentkit.core.spec import dump

        return {"type": "assign", "steps": {k: dump(v) for k, v in self.mapper.branches.items()}}


class Pick(Runnable[Mapping[str, Any], Any]):
    """Selects one key (returns the value) or several keys (returns a dict) of a dict."""

    kind = "pick"

    def __init__(self, *keys: str) -> None:
        if not keys:
            raise UsageError("Pick needs at least one key")
        self.keys = keys

    def invoke(self, input: Mapping[str, Any], config: ConfigLike = None) -> Any:
        return self._pick(input)

    async def ainvoke(self, input: Mapping[str, Any], config: ConfigLike = None) -> Any:
        return self._pick(input)

    def _pick(self, input: Mapping[str, Any]) -> Any:
        missing = [k for k in self.keys if k not in input]
        if missing:
            raise UsageError(f"Pick: key(s) {missing} not in the input; available: {sorted(input)}")
        if len(self.keys) == 1:
            return input[self.keys[0]]
        return {k: input[k] for k in self.keys}

    def to_dict(self) -> dict[str, Any]:
        return {"type": "pick", "keys": list(self.keys)}


class Branch(Flow[Any, Any]):
    """Runs the first runnable whose condition is true, else ``default``."""

    kind = "branch"

    def __init__(self, cases: Seq[tuple[Any, Any]], default: Any) -> None:
        self.cases = [(coerce(cond), coerce(step)) for cond, step in cases]
        self.default = coerce(default)

    def select(self, input: Any, config: RunConfig) -> FlowGen:
        for condition, step in self.cases:
            if (yield Call(condition, input, config)):
                return step
        return self.default

    def flow(self, input: Any, config: RunConfig) -> FlowGen:
        target = yield from self.select(input, config)
        return (yield Stream(target, input, config))

    def graph(self) -> Graph:
        from agentkit.core.graph import Graph

        targets = [s.graph() for _, s in self.cases] + [self.default.graph()]
        return Graph.fan_out(self, targets, join=False)

    def to_dict(self) -> dict[str, Any]:
        from agentkit.core.spec import dump

        return {
            "type": "branch",
            "cases": [{"when": dump(c), "then": dump(s)} for c, s in self.cases],
            "default": dump(self.default),
        }


def branch(*cases: tuple[Any, Any], default: Any) -> Branch:
    """``branch((is_math, math_chain), (is_code, code_chain), default=general_chain)``."""
    return Branch(cases, default)


def _register_builders() -> None:
    from agentkit.core.errors import SpecError
    from agentkit.core.spec import SpecContext, add_builder

    def lam(c: SpecContext) -> Runnable[Any, Any]:
        return Lambda(
            c.function("fn"), name=c.get("name", str, None), blocking=c.get("blocking", bool, False)
        )

    def seq(c: SpecContext) -> Runnable[Any, Any]:
        return Sequence(*c.runnables("steps"))

    def branch_(c: SpecContext) -> Runnable[Any, Any]:
        items = c.get("cases", list)
        cases = []
        for i, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise SpecError(f"{c.path}.cases[{i}]", "must be a dict with 'when' and 'then'")
            case = SpecContext(item, f"{c.path}.cases[{i}]")
            cases.append((case.runnable("when"), case.runnable("then")))
            case.check_unknown()
        return Branch(cases, c.runnable("default"))

    add_builder("lambda", lam)
    add_builder("sequence", seq)
    add_builder("parallel", lambda c: Parallel(c.runnable_map("branches")))
    add_builder("passthrough", lambda c: Passthrough())
    add_builder("assign", lambda c: Assign(c.runnable_map("steps")))
    add_builder("pick", lambda c: Pick(*c.get("keys", list)))
    add_builder("branch", branch_)


_register_builders()

__all__ = [
    "Assign",
    "Branch",
    "Configured",
    "Fallbacks",
    "Lambda",
    "Parallel",
    "Passthrough",
    "Pick",
    "Retry",
    "Sequence",
    "branch",
    "coerce",
    "iterate_in_thread",
]
