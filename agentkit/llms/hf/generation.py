"""Generation settings and results for ``HFChatModel``: ``generate`` keyword arguments from
:class:`GenerationParams` (plus extra Hugging Face options), stop-string and cancellation
stopping criteria, and turning generated token rows into text, usage and finish reasons."""

from __future__ import annotations

import difflib
import functools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.llms.hf.adapters import active_adapter
from agentkit.llms.hf.loading import Backbone
from agentkit.llms.messages import Usage
from agentkit.llms.params import GenerationParams

DEFAULT_MAX_NEW_TOKENS = 256
DECODE = {"skip_special_tokens": True, "clean_up_tokenization_spaces": False}
_USE_PARAMS = ("temperature", "top_p", "top_k", "max_new_tokens", "stop_strings", "seed")
_RESERVED = (
    "streamer",
    "stopping_criteria",
    "generation_config",
    "input_ids",
    "attention_mask",
    "tokenizer",
    "num_return_sequences",
)


def check_hf_params(hf_params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Extra ``generate`` options (``repetition_penalty``, ``no_repeat_ngram_size``, ...);
    the portable ones belong in :class:`GenerationParams`."""
    if hf_params is None:
        return {}
    if not isinstance(hf_params, Mapping) or not all(isinstance(k, str) for k in hf_params):
        raise UsageError(
            f"hf_params must be a dict of generate options, got {hf_params!r}; "
            "e.g. hf_params={'repetition_penalty': 1.1}"
        )
    for key in hf_params:
        if key in _USE_PARAMS:
            raise UsageError(
                f"hf_params[{key!r}]: set it as a generation parameter instead, e.g. "
                "HFChatModel(..., params={'temperature': 0.7, 'stop': ['\\n\\n']}) or "
                "model.bind(temperature=0.7)"
            )
        if key in _RESERVED:
            raise UsageError(f"hf_params[{key!r}] is managed by HFChatModel; leave it out")
    return dict(hf_params)


@functools.cache
def _generate_options() -> frozenset[str]:
    from transformers import GenerationConfig

    return frozenset(GenerationConfig().to_dict())


def check_hf_param_names(hf_params: Mapping[str, Any]) -> None:
    """Reject keys that are not ``generate`` options (imports transformers)."""
    known = _generate_options()
    for key in hf_params:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UsageError(f"hf_params: unknown generate option {key!r}{hint}")


def generate_kwargs(
    model: Any, tokenizer: Any, params: GenerationParams, hf_params: Mapping[str, Any]
) -> dict[str, Any]:
    """Keyword arguments for ``model.generate``: KV cache on, greedy when temperature is 0,
    sampling when it is > 0, the model's own defaults for what ``params`` leave unset."""
    config = model.generation_config
    kwargs: dict[str, Any] = {
        "use_cache": True,
        "pad_token_id": tokenizer.pad_token_id,
        "max_new_tokens": params.max_new_tokens or config.max_new_tokens or DEFAULT_MAX_NEW_TOKENS,
    }
    if params.temperature is not None:
        kwargs["do_sample"] = params.temperature > 0
        if params.temperature > 0:
            kwargs["temperature"] = params.temperature
    kwargs.update(hf_params)
    if kwargs.get("do_sample", config.do_sample):
        if params.top_p is not None:
            kwargs["top_p"] = params.top_p
        if params.top_k is not None:
            kwargs["top_k"] = params.top_k
    return kwargs


def stopping_criteria(
    tokenizer: Any, stops: Sequence[str], prompt_width: int, cancel: threading.Event | None
) -> Any:
    """A ``StoppingCriteriaList`` that ends a row once it shows a stop string, and every row
    once ``cancel`` is set; ``None`` when there is nothing to check."""
    from transformers import StoppingCriteriaList

    stop_on_strings, stop_on_event = _criteria_classes()
    criteria: list[Any] = []
    if stops:
        criteria.append(stop_on_strings(tokenizer, tuple(stops), prompt_width))
    if cancel is not None:
        criteria.append(stop_on_event(cancel))
    return StoppingCriteriaList(criteria) if criteria else None


@functools.cache
def _criteria_classes() -> tuple[type, type]:
    import torch
    from transformers import StoppingCriteria

    class StopOnStrings(StoppingCriteria):
        def __init__(self, tokenizer: Any, stops: tuple[str, ...], prompt_width: int) -> None:
            self.tokenizer, self.stops, self.start = tokenizer, stops, prompt_width
            self.window = 4 * max(len(s) for s in stops) + 4  # tokens: >= 1/4 char each

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            begin = max(self.start, input_ids.shape[1] - self.window)
            tails = self.tokenizer.batch_decode(input_ids[:, begin:], **DECODE)
            done = [any(s in tail for s in self.stops) for tail in tails]
            return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

    class StopOnEvent(StoppingCriteria):
        def __init__(self, event: threading.Event) -> None:
            self.event = event

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            value = self.event.is_set()
            return torch.full(
                (input_ids.shape[0],), value, dtype=torch.bool, device=input_ids.device
            )

    return StopOnStrings, StopOnEvent


def generate_rows(
    backbone: Backbone,
    prompts: Sequence[str],
    params: GenerationParams,
    hf_params: Mapping[str, Any],
    adapter: str | None = None,
    streamer: Any = None,
    cancel: threading.Event | None = None,
) -> list[Row]:
    """One ``generate`` call for the rendered ``prompts`` (left-padded into a batch) with
    peft adapter ``adapter`` active (``None``: the base model)."""
    import torch

    tok = backbone.tokenizer
    enc = tok(list(prompts), return_tensors="pt", padding=True, add_special_tokens=False)
    enc = enc.to(backbone.device)
    width = int(enc["input_ids"].shape[1])
    lengths = [int(n) for n in enc["attention_mask"].sum(dim=1).tolist()]
    kwargs = generate_kwargs(backbone.model, tok, params, hf_params)
    kwargs["max_new_tokens"] = fit_context(backbone, lengths, kwargs["max_new_tokens"])
    criteria = stopping_criteria(tok, params.stop, width, cancel)
    if criteria is not None:
        kwargs["stopping_criteria"] = criteria
    if streamer is not None:
        kwargs["streamer"] = streamer
    with backbone.lock, active_adapter(backbone, adapter) as model, torch.inference_mode():
        if params.seed is not None:
            torch.manual_seed(params.seed)
        sequences = model.generate(**enc, **kwargs)
    return finish_rows(
        tok, backbone.model, sequences, width, lengths, kwargs["max_new_tokens"], params.stop
    )


def context_window(backbone: Backbone) -> int | None:
    """The most tokens (prompt and reply) the model takes, from its config (else from the
    tokenizer); ``None`` when neither says."""
    size = getattr(backbone.model.config, "max_position_embeddings", None)
    if not isinstance(size, int) or size <= 0:
        size = getattr(backbone.tokenizer, "model_max_length", None)
    return size if isinstance(size, int) and 0 < size < 10**8 else None


def fit_context(backbone: Backbone, prompt_lengths: Sequence[int], max_new_tokens: int) -> int:
    """``max_new_tokens``, lowered so that every reply ends inside the context window (it
    then ends with finish reason ``"length"``); raises when a prompt leaves no room."""
    window = context_window(backbone)
    if window is None:
        return max_new_tokens
    for i, n in enumerate(prompt_lengths):
        if n >= window:
            which = (
                "the conversation" if len(prompt_lengths) == 1 else f"conversation {i} of the batch"
            )
            raise UsageError(
                f"{which} is {n} tokens long once rendered, but the model has a context "
                f"window of {window} tokens (prompt and reply together); shorten it: drop "
                "older messages (e.g. a windowed or summary memory) or pass fewer or shorter "
                "documents"
            )
    return max(1, min(max_new_tokens, window - max(prompt_lengths, default=0)))


@dataclass
class Row:
    """One generated reply: its text, usage and why it ended."""

    text: str
    usage: Usage
    finish_reason: str


def finish_rows(
    tokenizer: Any,
    model: Any,
    sequences: Any,
    prompt_width: int,
    prompt_lengths: Sequence[int],
    max_new_tokens: int,
    stops: Sequence[str],
) -> list[Row]:
    """Cut each generated row at its end-of-sequence (or padding) token and first stop
    string; count prompt and completion tokens. ``prompt_width`` is the padded prompt
    length (generated tokens follow it), ``prompt_lengths`` the unpadded ones."""
    generated = sequences[:, prompt_width:].tolist()
    ends = end_token_ids(tokenizer, model)
    rows = []
    for tokens, prompt_tokens in zip(generated, prompt_lengths, strict=True):
        count = len(tokens)
        ended = False
        for i, token in enumerate(tokens):
            if token in ends:
                count, ended = i + 1, True
                break
        body = tokens[: count - 1] if ended else tokens[:count]
        text, cut = cut_at_stop(tokenizer.decode(body, **DECODE), stops)
        if ended and cut:  # the row stopped on its stop string: what follows is padding
            count -= 1
        reason = "length" if count >= max_new_tokens and not (ended or cut) else "stop"
        rows.append(Row(text, Usage(prompt_tokens, count), reason))
    return rows


def end_token_ids(tokenizer: Any, model: Any) -> set[int]:
    """Token ids that end a reply: the model's end-of-sequence ids and the padding id."""
    ids = model.generation_config.eos_token_id
    ends = set(ids if isinstance(ids, list) else [ids] if ids is not None else [])
    for token in (tokenizer.eos_token_id, tokenizer.pad_token_id):
        if token is not None:
            ends.add(token)
    return ends


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """``text`` cut before the first stop string, and whether it was cut."""
    cuts = [i for i in (text.find(s) for s in stops) if i >= 0]
    return (text[: min(cuts)], True) if cuts else (text, False)
