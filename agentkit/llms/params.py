"""Generation parameters shared by every chat model.

:class:`GenerationParams` is immutable and validated once, when it is built; models merge
the params bound to them with the params of a call through :meth:`GenerationParams.merge`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from agentkit.core.errors import UsageError

PARAM_NAMES = ("temperature", "top_p", "top_k", "max_new_tokens", "stop", "seed")
_OTHER_NAMES = {  # what LangChain, OpenAI, Ollama and Anthropic call them
    "max_tokens": "max_new_tokens",
    "max_completion_tokens": "max_new_tokens",
    "num_predict": "max_new_tokens",
    "max_length": "max_new_tokens",
    "stop_sequences": "stop",
    "random_seed": "seed",
}


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    return float(value)


def _integer(name: str, value: Any, rule: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{name} must be an integer {rule}, got {type(value).__name__} {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class GenerationParams:
    """Sampling and length settings. ``None`` (and an empty ``stop``) means "model default".

    Attributes:
        temperature: >= 0; 0 means greedy decoding.
        top_p: nucleus sampling mass, 0 < top_p <= 1.
        top_k: sample from the k most likely tokens, >= 0 (0 disables it).
        max_new_tokens: the most tokens to generate, >= 1.
        stop: strings that end generation; the reply is cut before the first one
            (a list or tuple, stored as a tuple; one string is one stop string).
        seed: random seed for reproducible sampling.
    """

    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_new_tokens: int | None = None
    stop: Sequence[str] = ()  # stored as a tuple
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.temperature is not None:
            t = _number("temperature", self.temperature)
            if t < 0:
                raise UsageError(f"temperature must be >= 0 (0 = greedy), got {t}")
        if self.top_p is not None:
            p = _number("top_p", self.top_p)
            if not 0 < p <= 1:
                raise UsageError(f"top_p must be in the range 0 < top_p <= 1, got {p}")
        if self.top_k is not None and _integer("top_k", self.top_k, ">= 0") < 0:
            raise UsageError(f"top_k must be an integer >= 0 (0 disables it), got {self.top_k}")
        if (
            self.max_new_tokens is not None
            and _integer("max_new_tokens", self.max_new_tokens, ">= 1") < 1
        ):
            raise UsageError(f"max_new_tokens must be an integer >= 1, got {self.max_new_tokens}")
        if self.seed is not None:
            _integer("seed", self.seed, "")
        object.__setattr__(self, "stop", _stop_tuple(self.stop))

    def merge(self, other: GenerationParams | Mapping[str, Any] | None) -> GenerationParams:
        """A copy with the set fields of ``other`` applied (``None`` fields don't override)."""
        if other is None:
            return self
        if isinstance(other, GenerationParams):
            changes = other.to_dict()
        elif isinstance(other, Mapping):
            unknown = sorted(set(other) - set(PARAM_NAMES))
            if unknown:
                hints = "".join(_hint(name) for name in unknown)
                raise UsageError(
                    f"unknown generation parameter(s) {unknown}{hints}; "
                    f"allowed: {', '.join(PARAM_NAMES)}"
                )
            changes = {k: v for k, v in other.items() if v is not None}
        else:
            raise UsageError(
                f"cannot merge {type(other).__name__} into GenerationParams; "
                "pass a GenerationParams, a dict of parameters, or None"
            )
        if not changes:
            return self
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The fields that are set (``stop`` as a list), for specs and backends."""
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "stop":
                if value:
                    data["stop"] = list(value)
            elif value is not None:
                data[f.name] = value
        return data


def _hint(name: str) -> str:
    """`` (use 'max_new_tokens' for 'max_tokens')`` for a name we know under another one."""
    close = difflib.get_close_matches(name, PARAM_NAMES, n=1)
    fix = _OTHER_NAMES.get(name) or (close[0] if close else None)
    return f" (use {fix!r} for {name!r})" if fix else ""


def _stop_tuple(stop: Any) -> tuple[str, ...]:
    if stop is None:
        return ()
    if isinstance(stop, str):
        stop = (stop,)
    if not isinstance(stop, list | tuple):
        raise UsageError(f"stop must be a list of strings, got {type(stop).__name__} {stop!r}")
    for item in stop:
        if not isinstance(item, str) or not item:
            raise UsageError(f"stop must be a list of non-empty strings, got {list(stop)!r}")
    return tuple(stop)


NO_PARAMS = GenerationParams()
