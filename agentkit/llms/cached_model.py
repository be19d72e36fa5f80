""":class:`CachedModel`: any chat model answering from an LLM cache (``model.with_cache``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar

from agentkit.llms import cache_hooks
from agentkit.llms.base import BaseChatModel
from agentkit.llms.cache import LLMCache, as_cache
from agentkit.llms.params import GenerationParams


class CachedModel(BaseChatModel):
    """``model`` behind ``cache``: a request it has answered before (same model identity,
    params and messages) is answered from the cache; a new one goes to ``model`` and its
    reply (never an error) is stored. Streams of a hit replay the text as word chunks.

    The model-requests switch applies to the wrapped model: a hit needs no request.
    """

    uses_global_cache: ClassVar[bool] = False
    is_fake = property(lambda self: self.model.is_fake)
    batch_size = property(lambda self: self.model.batch_size)

    def __init__(self, model: BaseChatModel, cache: LLMCache | str | os.PathLike[str]) -> None:
        super().__init__(model.params)
        self.model = model
        self.cache = as_cache(cache)

    @property
    def name(self) -> str:
        return self.model.name

    def resolve_params(self, params: Any = None) -> GenerationParams:
        return self.model.resolve_params(params)

    def to_dict(self) -> dict[str, Any]:
        return self.model.to_dict()

    def structured_strategy(self, schema: Any, method: str) -> Any:
        from dataclasses import replace

        strategy = self.model.structured_strategy(schema, method)
        return replace(strategy, model=CachedModel(strategy.model, self.cache))

    generate = cache_hooks.cached_method("generate")
    generate_together = cache_hooks.cached_method("generate_together")
    stream_chunks = cache_hooks.cached_method("stream_chunks")
    agenerate = cache_hooks.cached_method("agenerate")
    astream_chunks = cache_hooks.cached_method("astream_chunks")

    def _with_params(self, params: Mapping[str, Any]) -> CachedModel:
        return CachedModel(self.model._with_params(params), self.cache)

    def __repr__(self) -> str:
        return f"<CachedModel {self.model!r} cache={self.cache!r}>"
