"""Routing: :class:`RouterChain` sends each input to one of several destination chains.

The *router* is any runnable that takes the input dict and returns
``{"destination": name | None, "next_inputs": dict}`` (and optionally ``"score"``):
:class:`~agentkit.chains.llm_router.LLMRouterChain` asks a model,
:class:`~agentkit.chains.embedding_router.EmbeddingRouter` compares embeddings.

- ``destination`` ``None`` runs the default chain.
- An unknown destination runs the default chain (with a logged warning), or raises
  :class:`~agentkit.core.errors.ModelOutputError` when there is no default chain.
- The destination receives the input dict updated with ``next_inputs``.

The result is the destination's outputs (a chain's output keys, or any other runnable's
output under ``output_key``) plus ``"destination": {"name": name | None, "score": float |
None}``, the routing decision (``name`` ``None`` means the default chain ran).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentkit.chains.base import Chain, input_keys_of, output_keys_of, spec_of
from agentkit.core.errors import ModelOutputError, UsageError
from agentkit.core.flow import Call, FlowGen
from agentkit.core.spec import add_builder

if TYPE_CHECKING:
    from agentkit.core.config import RunConfig
    from agentkit.core.graph import Graph
    from agentkit.core.runnable import Runnable
    from agentkit.core.spec import SpecContext

logger = logging.getLogger(__name__)
# the spec fields of the routing part, shared by every routing chain that keeps them
ROUTING_FIELDS = ("destination_chains", "default_chain", "output_key")


class RouterChain(Chain):
    """Runs ``router`` on the input, then the destination chain it names (see the module
    docstring for the contract and the result)."""

    def __init__(
        self,
        router: Runnable[Any, Any],
        destination_chains: Mapping[str, Runnable[Any, Any]],
        default_chain: Runnable[Any, Any] | None = None,
        output_key: str = "text",
    ) -> None:
        if not destination_chains:
            raise UsageError("RouterChain needs at least one destination chain")
        self.router = router
        self.destination_chains = dict(destination_chains)
        self.default_chain = default_chain
        self.output_key = output_key

    @property
    def input_keys(self) -> list[str]:
        return input_keys_of(self.router, "input")

    @property
    def output_keys(self) -> list[str]:
        keys: list[str] = []
        for target in self._targets():
            keys += [k for k in output_keys_of(target, self.output_key) if k not in keys]
        return [*keys, "destination"]

    def _targets(self) -> list[Runnable[Any, Any]]:
        default = [self.default_chain] if self.default_chain is not None else []
        return [*self.destination_chains.values(), *default]

    def _pick(self, route: Any) -> tuple[str | None, Runnable[Any, Any]]:
        """The destination name (None: the default chain) and the runnable to run."""
        name = route.get("destination")
        known = sorted(self.destination_chains)
        if name is not None and name in self.destination_chains:
            return name, self.destination_chains[name]
        if self.default_chain is None:
            problem = (
                f"the router chose the unknown destination {name!r}"
                if name is not None
                else "the router chose no destination and the RouterChain has no default_chain"
            )
            raise ModelOutputError(
                problem,
                text=repr(dict(route)),
                hint=f"Answer with one of {known}, or give the RouterChain a default_chain",
            )
        if name is not None:
            logger.warning(
                "%s: unknown destination %r (known: %s); running the default chain",
                self.name,
                name,
                known,
            )
        return None, self.default_chain

    def call(self, inputs: dict[str, Any], config: RunConfig) -> FlowGen:
        route = yield Call(self.router, inputs, config)
        if not isinstance(route, Mapping) or not isinstance(
            route.get("next_inputs") or {}, Mapping
        ):
            raise ModelOutputError(
                f"{self.name}: the router must return a dict with 'destination' and a dict "
                "'next_inputs'",
                text=repr(route),
            )
        name, target = self._pick(route)
        result = yield Call(target, {**inputs, **(route.get("next_inputs") or {})}, config)
        if isinstance(target, Chain):
            outputs = {k: result[k] for k in target.output_keys}
        elif isinstance(result, Mapping):
            outputs = dict(result)
        else:
            outputs = {self.output_key: result}
        outputs["destination"] = {"name": name, "score": route.get("score")}
        return outputs

    def graph(self) -> Graph:
        from agentkit.core.graph import Graph

        owner: Any = self
        branches = Graph.fan_out(owner, [t.graph() for t in self._targets()], join=False)
        return Graph.chain([self.router.graph(), branches])

    def to_dict(self) -> dict[str, Any]:
        return spec_of("router_chain", self, "router", *ROUTING_FIELDS)


def routing_options(ctx: SpecContext) -> dict[str, Any]:
    """The spec fields every routing chain reads alike: ``default_chain``, ``output_key``."""
    return {
        "default_chain": ctx.runnable("default_chain", None),
        "output_key": ctx.get("output_key", str, "text"),
    }


def _from_spec(ctx: SpecContext) -> RouterChain:
    destinations = ctx.runnable_map("destination_chains")
    return RouterChain(ctx.runnable("router"), destinations, **routing_options(ctx))


add_builder("router_chain", _from_spec)
