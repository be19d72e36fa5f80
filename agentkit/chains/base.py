"""The :class:`Chain`: a dict-in, dict-out node with named input and output keys.

A chain's output is ``{**inputs, **outputs}`` (as in LangChain): the input keys it was given
stay in the result next to the keys it produced, so chains can be wired by name
(:class:`~agentkit.chains.sequential.SequentialChain` checks that wiring when it is built).
Subclasses implement :meth:`Chain.call`, a flow (see :mod:`agentkit.core.flow`) that yields
operations and returns a dict of its output keys; ``invoke`` and a native ``ainvoke`` come
from that one generator.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentkit.core.config import ConfigLike, RunConfig
from agentkit.core.errors import SpecError, UsageError
from agentkit.core.flow import Flow, FlowGen
from agentkit.core.runnable import Runnable
from agentkit.core.spec import dump

if TYPE_CHECKING:
    from agentkit.core.graph import Graph
    from agentkit.core.spec import SpecContext


class Chain(Flow[Any, dict[str, Any]]):
    """A dict-in, dict-out runnable with declared ``input_keys`` and ``output_keys``.

    ``invoke`` accepts a dict holding every input key (extra keys are kept and returned),
    or a single plain value when the chain has exactly one input key.
    """

    kind = "chain"
    verbose: bool = False  # LangChain's verbose=True: print each step (a ConsoleTracer)

    @property
    @abstractmethod
    def input_keys(self) -> list[str]:
        """Keys the chain reads from its input dict."""

    @property
    @abstractmethod
    def output_keys(self) -> list[str]:
        """Keys the chain adds to its output dict (the first is its main output)."""

    @property
    def optional_keys(self) -> list[str]:
        """Keys the chain reads when they are given (an optional history placeholder)."""
        return []

    @abstractmethod
    def call(self, inputs: dict[str, Any], config: RunConfig) -> FlowGen:
        """Yield operations on the validated inputs; return a dict of the output keys."""

    def flow(self, input: Any, config: RunConfig) -> FlowGen:
        if self.verbose:
            config = verbose_config(config)
        inputs = self.prep_inputs(input)
        outputs = yield from self.call(inputs, config)
        return self.prep_outputs(inputs, outputs)

    def prep_inputs(self, input: Any) -> dict[str, Any]:
        """Check the input and return it as a dict that holds every input key."""
        keys = self.input_keys
        if not isinstance(input, Mapping):
            if len(keys) == 1:
                return {keys[0]: input}
            raise UsageError(
                f"{self.name} takes a dict with the keys {keys}, got a single "
                f"{type(input).__name__}; pass {{{', '.join(repr(k) + ': ...' for k in keys)}}}"
            )
        missing = [k for k in keys if k not in input]
        if missing:
            raise UsageError(
                f"{self.name} is missing input key(s) {missing}; it expects {keys} and got "
                f"{sorted(input)}. Add the missing keys to the input dict."
            )
        return dict(input)

    def prep_outputs(self, inputs: dict[str, Any], outputs: dict[str, Any]) -> dict[str, Any]:
        """The chain's result: the inputs with the outputs added (outputs win)."""
        return {**inputs, **outputs}

    def run(self, *args: Any, config: ConfigLike = None, **kwargs: Any) -> Any:
        """Invoke and return the main output only: ``chain.run("socks")`` or
        ``chain.run(product="socks")``. Use ``invoke`` to get every output key."""
        if args and kwargs:
            raise UsageError(f"{self.name}.run takes one positional value or keywords, not both")
        if len(args) > 1:
            raise UsageError(
                f"{self.name}.run takes at most one positional value, got {len(args)}; "
                "pass the inputs as keywords"
            )
        result = self.invoke(args[0] if args else kwargs, config)
        return result[self.output_keys[0]]

    def predict(self, config: ConfigLike = None, **kwargs: Any) -> Any:
        """LangChain's spelling of :meth:`run` with keywords: ``chain.predict(input="hi")``."""
        return self.run(config=config, **kwargs)


def verbose_config(config: RunConfig) -> RunConfig:
    """``config`` with a :class:`~agentkit.core.tracing.ConsoleTracer` (unless it has one)."""
    from agentkit.core.tracing import ConsoleTracer

    if any(isinstance(t, ConsoleTracer) for t in config.tracers):
        return config
    return config.merge(tracers=[ConsoleTracer()])


def output_keys_of(runnable: Runnable[Any, Any], fallback: str) -> list[str]:
    """The output keys of a chain, or ``[fallback]`` for any other runnable."""
    return runnable.output_keys if isinstance(runnable, Chain) else [fallback]


def input_keys_of(runnable: Runnable[Any, Any], fallback: str) -> list[str]:
    """The ``input_keys`` a runnable declares (chains, routers), or ``[fallback]``."""
    keys = getattr(runnable, "input_keys", None)
    return list(keys) if keys is not None else [fallback]


def check_max_concurrency(max_concurrency: int | None) -> None:
    """A UsageError unless ``max_concurrency`` is ``None`` (no limit) or at least 1."""
    if max_concurrency is not None and max_concurrency < 1:
        raise UsageError(f"max_concurrency must be at least 1, got {max_concurrency}")


def steps_graph(steps: Iterable[Runnable[Any, Any]]) -> Graph:
    """The graph of ``steps`` run one after the other."""
    from agentkit.core.graph import Graph

    return Graph.chain([step.graph() for step in steps])


def spec_of(type_name: str, owner: object, *names: str, **fields: Any) -> dict[str, Any]:
    """A component's spec: ``type``, the attributes ``names`` of ``owner``, then ``fields``.
    Plain data is copied and each component dumped, also inside lists and dicts (a
    ``SpecError`` names one that cannot be). A field that is ``None`` is left out: a
    missing field builds the default."""
    values = {name: getattr(owner, name) for name in names} | fields
    data: dict[str, Any] = {"type": type_name}
    for key, value in values.items():
        if value is not None:
            data[key] = _spec_value(value)
    return data


def _spec_value(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_spec_value(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _spec_value(item) for key, item in value.items()}
    return dump(value)


def str_list(ctx: SpecContext, key: str) -> list[str]:
    """A spec field holding a list of strings (``SpecError`` with the item's path if not)."""
    items = ctx.get(key, list)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise SpecError(
                f"{ctx.path}.{key}[{i}]", f"expected a string, got {type(item).__name__} {item!r}"
            )
    return list(items)


def number_in(
    ctx: SpecContext,
    key: str,
    kind: type[int] | type[float],
    default: float | None,
    low: float,
    high: float | None = None,
) -> Any:
    """A numeric spec field checked to lie in ``[low, high]`` (``SpecError`` with the path);
    a missing field gives ``default``, which may be ``None``."""
    value = ctx.get(key, kind, default)
    if value is None:
        return None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise SpecError(f"{ctx.path}.{key}", f"must be {bounds}, got {value!r}")
    return value


def template_text(name: str) -> str:
    """A bundled prompt text from ``agentkit/chains/prompts/`` (prompts are data)."""
    return (Path(__file__).parent / "prompts" / name).read_text(encoding="utf-8").rstrip("\n")
