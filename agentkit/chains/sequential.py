"""Chains of chains: :class:`SimpleSequentialChain` (one value passed along) and
:class:`SequentialChain` (named variables, wiring checked when the chain is built).

Both stream their final step: ``stream``/``astream`` yield ``{output_key: piece}`` chunks as
the last step produces them (earlier steps run to completion first), then the other keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from agentkit.chains.base import Chain, spec_of, steps_graph, str_list
from agentkit.core.errors import UsageError, WiringError
from agentkit.core.flow import Call, FlowGen, Stream
from agentkit.core.spec import add_builder

if TYPE_CHECKING:
    from agentkit.core.config import RunConfig
    from agentkit.core.graph import Graph
    from agentkit.core.runnable import Runnable
    from agentkit.core.spec import SpecContext


def _step(i: int, step: Runnable[Any, Any]) -> str:
    return f"step {i} ({step.name})"


class SimpleSequentialChain(Chain):
    """Runs steps in order, passing one value along: each step's single output is the next
    step's single input. Steps are chains with exactly one input and one output key, or any
    runnable (its input is the value and its output, as is, the next value)."""

    def __init__(
        self,
        chains: Sequence[Runnable[Any, Any]],
        input_key: str = "input",
        output_key: str = "output",
        verbose: bool = False,
    ) -> None:
        self.verbose = verbose  # print each step (LangChain's verbose=)
        if not chains:
            raise UsageError("SimpleSequentialChain needs at least one step")
        for i, step in enumerate(chains):
            if isinstance(step, Chain) and (
                len(step.input_keys) != 1 or len(step.output_keys) != 1
            ):
                raise WiringError(
                    f"SimpleSequentialChain {_step(i, step)} has input keys {step.input_keys} "
                    f"and output keys {step.output_keys}; every step must take exactly one "
                    "input and produce one output. Use SequentialChain for named variables."
                )
        self.chains = list(chains)
        self.input_key, self.output_key = input_key, output_key

    @property
    def input_keys(self) -> list[str]:
        return [self.input_key]

    @property
    def output_keys(self) -> list[str]:
        return [self.output_key]

    def call(self, inputs: dict[str, Any], config: RunConfig) -> FlowGen:
        value = inputs[self.input_key]
        last = self.chains[-1]
        for step in self.chains:
            if not isinstance(step, Chain):
                op = Stream(step, value, config, self.output_key) if step is last else None
                value = yield (op or Call(step, value, config))
                continue
            key = step.output_keys[0]
            args = {step.input_keys[0]: value}
            op = Stream(step, args, config, self.output_key, key) if step is last else None
            result = yield (op or Call(step, args, config))
            value = _value(result, key)
        return {self.output_key: value}

    def graph(self) -> Graph:
        return steps_graph(self.chains)

    def to_dict(self) -> dict[str, Any]:
        return spec_of("simple_sequential_chain", self, "chains", "input_key", "output_key")


class SequentialChain(Chain):
    """Runs chains in order over a shared set of named variables.

    Each chain reads its ``input_keys`` (and those of its ``optional_keys`` that are known)
    from the variables known so far (the chain's ``input_variables`` plus the outputs of
    earlier chains) and adds its ``output_keys``.
    The wiring is checked in ``__init__``: an unknown input variable, an output variable that
    no chain produces, or two producers of one key raise :class:`WiringError`.

    The result holds only ``output_variables``; with ``return_all=True`` it holds every
    variable (the inputs and everything the chains produced).
    """

    def __init__(
        self,
        chains: Sequence[Chain],
        input_variables: Sequence[str],
        output_variables: Sequence[str],
        return_all: bool = False,
        verbose: bool = False,
    ) -> None:
        self.verbose = verbose  # print each step (LangChain's verbose=)
        if not chains:
            raise UsageError("SequentialChain needs at least one chain")
        self.chains = _only_chains(chains)
        self.input_variables = list(input_variables)
        self.output_variables = list(output_variables)
        self.return_all = return_all
        self._produced = self._check_wiring()

    def _check_wiring(self) -> list[str]:
        producer = {var: "the SequentialChain's input_variables" for var in self.input_variables}
        for i, chain in enumerate(self.chains):
            for var in chain.input_keys:
                if var not in producer:
                    raise WiringError(
                        f"SequentialChain {_step(i, chain)} needs input variable {var!r}, which "
                        "is neither an input variable nor produced by an earlier step; "
                        f"variables available at that point: {list(producer)}. Add it to "
                        "input_variables, reorder the steps, or fix the prompt variable name."
                    )
            for key in chain.output_keys:
                if key in producer:
                    raise WiringError(
                        f"SequentialChain {_step(i, chain)} produces {key!r}, which is "
                        f"already provided by {producer[key]}; give each step a unique "
                        "output_key."
                    )
                producer[key] = _step(i, chain)
        produced = [k for k in producer if k not in self.input_variables]
        for var in self.output_variables:
            if var not in producer:
                raise WiringError(
                    f"SequentialChain output variable {var!r} is never produced; the steps "
                    f"produce {produced}. Fix output_variables or the steps' output keys."
                )
        return produced

    @property
    def input_keys(self) -> list[str]:
        return list(self.input_variables)

    @property
    def output_keys(self) -> list[str]:
        if self.return_all:
            return self.input_variables + self._produced
        return list(self.output_variables)

    def call(self, inputs: dict[str, Any], config: RunConfig) -> FlowGen:
        known = dict(inputs)
        last = self.chains[-1]
        for chain in self.chains:
            wanted = [*chain.input_keys, *chain.optional_keys]
            args = {k: known[k] for k in wanted if k in known}
            main = chain.output_keys[0]
            if chain is last and main in self.output_keys:
                result = yield Stream(chain, args, config, main, main)
                if not isinstance(result, Mapping):  # a stream's joined chunks: the main value
                    result = {main: result}
            else:
                result = yield Call(chain, args, config)
            for key in chain.output_keys:
                known[key] = result[key]
        return {k: known[k] for k in self.output_keys}

    def prep_outputs(self, inputs: dict[str, Any], outputs: dict[str, Any]) -> dict[str, Any]:
        return outputs

    def graph(self) -> Graph:
        return steps_graph(self.chains)

    def to_dict(self) -> dict[str, Any]:
        names = ("chains", "input_variables", "output_variables", "return_all")
        return spec_of("sequential_chain", self, *names)


def _only_chains(steps: Sequence[Runnable[Any, Any]]) -> list[Chain]:
    """``steps`` as chains: a ``WiringError`` names the first step that is not one."""
    chains: list[Chain] = []
    for i, step in enumerate(steps):
        if not isinstance(step, Chain):
            raise WiringError(
                f"SequentialChain {_step(i, step)} is not a Chain, so it has no named "
                "input and output keys; wrap it in an LLMChain or use SimpleSequentialChain"
            )
        chains.append(step)
    return chains


def _value(result: Any, key: str) -> Any:
    """A chain step's main output: ``result[key]`` of its dict (invoke, or a stream of dict
    chunks), else the joined chunks of a stream that yields the value itself (LLMChain)."""
    return result[key] if isinstance(result, Mapping) else result


def _simple_from_spec(ctx: SpecContext) -> SimpleSequentialChain:
    return SimpleSequentialChain(
        ctx.runnables("chains"),
        input_key=ctx.get("input_key", str, "input"),
        output_key=ctx.get("output_key", str, "output"),
    )


def _sequential_from_spec(ctx: SpecContext) -> SequentialChain:
    return SequentialChain(
        _only_chains(ctx.runnables("chains")),
        input_variables=str_list(ctx, "input_variables"),
        output_variables=str_list(ctx, "output_variables"),
        return_all=ctx.get("return_all", bool, False),
    )


add_builder("simple_sequential_chain", _simple_from_spec)
add_builder("sequential_chain", _sequential_from_spec)
