"""Routing without a model call: :class:`EmbeddingRouter` picks the destination whose
description is most similar (cosine) to the input; :class:`EmbeddingRouterChain` is a
:class:`~agentkit.chains.router.RouterChain` with that router."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentkit.chains.base import number_in, spec_of
from agentkit.chains.router import ROUTING_FIELDS, RouterChain, routing_options
from agentkit.core.config import ConfigLike
from agentkit.core.errors import UsageError
from agentkit.core.runnable import Runnable
from agentkit.core.spec import add_builder

if TYPE_CHECKING:
    import numpy as np

    from agentkit.core.spec import SpecContext
    from agentkit.retrievers.base import Embedder


ROUTER_FIELDS = ("embedder", "destinations", "threshold", "input_key")


class EmbeddingRouter(Runnable[Any, dict[str, Any]]):
    """Returns ``{"destination", "next_inputs": {}, "score"}``: the destination whose
    description is closest to ``input[input_key]`` by cosine similarity, or ``None`` when the
    best score is below ``threshold``. Descriptions are embedded once, on first use."""

    kind = "router"

    def __init__(
        self,
        embedder: Embedder,
        destinations: Mapping[str, str],
        threshold: float = 0.0,
        input_key: str = "input",
    ) -> None:
        if not destinations:
            raise UsageError("EmbeddingRouter needs at least one destination description")
        if not -1.0 <= threshold <= 1.0:
            raise UsageError(f"threshold is a cosine similarity in [-1, 1], got {threshold}")
        self.embedder = embedder
        self.destinations = dict(destinations)
        self.threshold = float(threshold)
        self.input_key = input_key
        self._matrix: np.ndarray | None = None
        self._lock = threading.Lock()

    @property
    def input_keys(self) -> list[str]:
        return [self.input_key]

    def _descriptions(self) -> np.ndarray:
        if self._matrix is None:
            with self._lock:
                if self._matrix is None:
                    self._matrix = _normalised(
                        self.embedder.embed_batch(list(self.destinations.values()))
                    )
        return self._matrix

    def scores(self, text: str) -> dict[str, float]:
        """Cosine similarity of ``text`` to each destination's description."""
        query = _normalised(self.embedder.embed_batch([str(text)]))[0]
        sims = self._descriptions() @ query
        return {name: float(s) for name, s in zip(self.destinations, sims, strict=True)}

    def invoke(self, input: Any, config: ConfigLike = None) -> dict[str, Any]:
        if isinstance(input, Mapping):
            if self.input_key not in input:
                raise UsageError(
                    f"EmbeddingRouter needs the input key {self.input_key!r}, got {sorted(input)}"
                )
            input = input[self.input_key]
        scores = self.scores(input)
        best = max(scores, key=scores.__getitem__)  # first of equal scores wins
        score = scores[best]
        return {
            "destination": best if score >= self.threshold else None,
            "next_inputs": {},
            "score": score,
        }

    def to_dict(self) -> dict[str, Any]:
        return spec_of("embedding_router", self, *ROUTER_FIELDS)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    import numpy as np

    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


class EmbeddingRouterChain(RouterChain):
    """Routes ``input[input_key]`` to the destination chain whose description is most
    similar to it, with no model call; below ``threshold`` the default chain runs.
    ``destinations`` maps each name of ``destination_chains`` to its description."""

    def __init__(
        self,
        embedder: Embedder,
        destinations: Mapping[str, str],
        destination_chains: Mapping[str, Runnable[Any, Any]],
        default_chain: Runnable[Any, Any] | None = None,
        threshold: float = 0.0,
        input_key: str = "input",
        output_key: str = "text",
    ) -> None:
        if set(destinations) != set(destination_chains):
            raise UsageError(
                "EmbeddingRouterChain needs one description per destination chain; "
                f"descriptions: {sorted(destinations)}, chains: {sorted(destination_chains)}"
            )
        router = EmbeddingRouter(embedder, destinations, threshold, input_key)
        super().__init__(router, destination_chains, default_chain, output_key)
        self.embedding_router = router

    def to_dict(self) -> dict[str, Any]:
        kind = "embedding_router_chain"  # the router's fields, then the routing chain's
        router = spec_of(kind, self.embedding_router, *ROUTER_FIELDS)
        return router | spec_of(kind, self, *ROUTING_FIELDS)


def _destinations(ctx: SpecContext) -> dict[str, str]:
    from agentkit.core.errors import SpecError

    data = ctx.get("destinations", dict)
    for name, text in data.items():
        if not isinstance(text, str):
            raise SpecError(
                f"{ctx.path}.destinations.{name}",
                f"expected a description string, got {type(text).__name__}",
            )
    return {str(k): v for k, v in data.items()}


def _router_from_spec(ctx: SpecContext) -> EmbeddingRouter:
    return EmbeddingRouter(
        ctx.component("embedder"),
        _destinations(ctx),
        threshold=number_in(ctx, "threshold", float, 0.0, -1.0, 1.0),
        input_key=ctx.get("input_key", str, "input"),
    )


def _chain_from_spec(ctx: SpecContext) -> EmbeddingRouterChain:
    return EmbeddingRouterChain(
        ctx.component("embedder"),
        _destinations(ctx),
        ctx.runnable_map("destination_chains"),
        threshold=number_in(ctx, "threshold", float, 0.0, -1.0, 1.0),
        input_key=ctx.get("input_key", str, "input"),
        **routing_options(ctx),
    )


add_builder("embedding_router", _router_from_spec)
add_builder("embedding_router_chain", _chain_from_spec)
