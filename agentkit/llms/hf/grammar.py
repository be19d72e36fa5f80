"""Grammar-constrained decoding for ``HFChatModel`` with llguidance (extra ``structured``).

:class:`GrammarProcessor` is a transformers logits processor: each row of a (batched)
``generate`` call has its own llguidance matcher, which advances on the row's last token
and masks every token the grammar does not allow next; once the grammar is complete only
an end-of-sequence token is allowed. Grammars: a JSON schema (:func:`json_grammar`) or
"plain text or one call of these tools" (:func:`tool_grammar`).

Why llguidance (measured on the tiny test model's 512-token vocabulary with random walks
under JSON schemas, see docs/structured-output.md): every llguidance walk was schema-valid;
xgrammar 0.2.9 computes a mask faster (31-67 vs 48-100 us, both far below a decoding step)
but let raw control characters into strings (64% valid on a string schema); outlines-core
0.2.14 ignored integer minimum/maximum (53/200 valid). llguidance has no dependencies.
"""

from __future__ import annotations

import json
import logging
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from agentkit.core.errors import UsageError, missing_dependency

log = logging.getLogger(__name__)
# per tokenizer: its llguidance tokenizers (by vocab size and end ids) and "matchers"
_TOKENIZERS: weakref.WeakKeyDictionary[Any, dict[Any, Any]] = weakref.WeakKeyDictionary()
_MAX_MATCHERS = 64  # compiled grammars kept per tokenizer
# fixed whitespace, laid out like json.dumps (and the tool prompt's examples): ", " and ": "
_JSON_OPTIONS = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}
# plain text does not start like JSON or a fence and holds no ``` (a fence opens a call,
# which the tool schemas constrain): PRE (no backticks), then inline `code` pieces
_PRE = r"/[ \t\n]*[^{\[`\s][^`]*/"
_OPEN = r"/```(json)?[ \t]*\n?/"  # a call may come in the fenced form of the tool prompt
_CLOSE = r"/\n?```/"


def available() -> bool:
    """Whether llguidance is installed (``pip install 'agentkit[structured]'``)."""
    try:
        import llguidance  # noqa: F401
    except ImportError:
        return False
    return True


def _llguidance() -> Any:
    try:
        import llguidance
    except ImportError as e:
        raise missing_dependency("llguidance", "structured", "constrained decoding") from e
    return llguidance


def json_grammar(schema: Mapping[str, Any]) -> str:
    """A grammar for JSON valid against ``schema``, laid out like ``json.dumps``."""
    ll = _llguidance()
    try:
        return str(ll.LLMatcher.grammar_from_json_schema(dict(schema), defaults=_JSON_OPTIONS))
    except ValueError as e:
        raise UsageError(f"cannot build a grammar from this JSON schema: {e}") from e


def call_schema(tools: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The JSON schema of one call ``{"tool": <name>, "arguments": {...}}`` of ``tools``."""
    from agentkit.llms.structured.schema import close_schema

    options = []
    for tool in tools:
        arguments = json.loads(json.dumps(tool["parameters"]))
        close_schema(arguments)
        options.append(
            {
                "type": "object",
                "properties": {"tool": {"const": tool["name"]}, "arguments": arguments},
                "required": ["tool", "arguments"],
                "additionalProperties": False,
            }
        )
    return options[0] if len(options) == 1 else {"anyOf": options}


def tool_grammar(tools: Sequence[Mapping[str, Any]], required: bool) -> str:
    """Plain text, or one JSON call of ``tools``: bare, or in a ```json fence after some
    text (the tool prompt's format); with ``required``, only the call."""
    ll = _llguidance()
    schema = json.dumps({**call_schema(tools), "x-guidance": _JSON_OPTIONS})
    alternatives = "WS? (call | fenced)" if required else "WS? call | PRE? fenced | text"
    rules = f"start: {alternatives}\n"
    rules += "text: PRE (INLINE MID)* INLINE?\nfenced: OPEN call CLOSE\n"
    rules += f"OPEN: {_OPEN}\nCLOSE: {_CLOSE}\nPRE: {_PRE}\nWS: /[ \\t\\n]{{1,4}}/\n"
    rules += "INLINE: /`{1,2}/\nMID: /[^`]+/\n"
    return str(ll.grammar_from("lark", f"{rules}call: %json {schema}\n"))


def check_grammar(grammar: str, tokenizer: Any, vocab_size: int, end_ids: Iterable[int]) -> None:
    """Raise :class:`UsageError` when llguidance rejects ``grammar``."""
    ll = _llguidance()
    error = ll.LLMatcher.validate_grammar(grammar, ll_tokenizer(tokenizer, vocab_size, end_ids))
    if error and not error.startswith("WARNING"):
        raise UsageError(f"the output grammar is not usable: {error}")


def ll_tokenizer(tokenizer: Any, vocab_size: int, end_ids: Iterable[int]) -> Any:
    """llguidance's view of a fast Hugging Face tokenizer (built once per tokenizer)."""
    _llguidance()
    import llguidance.hf

    ends = tuple(sorted(end_ids))
    cached = _TOKENIZERS.setdefault(tokenizer, {})
    key = (vocab_size, ends)
    if key not in cached:
        try:
            cached[key] = llguidance.hf.from_tokenizer(
                tokenizer, n_vocab=vocab_size, eos_token=list(ends) or None
            )
        except ValueError as e:
            raise UsageError(
                f"constrained decoding needs a fast (Rust) tokenizer: {e}; load the "
                "model's tokenizer.json, or use method='prompt'"
            ) from e
    return cached[key]


def compiled(grammar: str, tokenizer: Any, vocab_size: int, end_ids: Iterable[int]) -> Any:
    """A matcher of ``grammar`` in its start state, compiled once per grammar and tokenizer
    (kept with the tokenizer); each row of a batch gets a cheap ``deep_copy``."""
    lltok = ll_tokenizer(tokenizer, vocab_size, end_ids)
    matchers = _TOKENIZERS.setdefault(tokenizer, {}).setdefault("matchers", {})
    key = (vocab_size, tuple(sorted(end_ids)), grammar)
    template = matchers.get(key)
    if template is None:
        template = _llguidance().LLMatcher(lltok, grammar)
        if template.is_error():
            raise UsageError(f"the output grammar is not usable: {template.get_error()}")
        if len(matchers) >= _MAX_MATCHERS:
            matchers.pop(next(iter(matchers)))
        matchers[key] = template
    return template


class GrammarProcessor:
    """A logits processor keeping every row of a ``generate`` call inside ``grammar``.

    A row whose matcher fails (a token the grammar did not allow, which masking prevents)
    is logged and left unconstrained; validation of the reply then catches it.
    """

    def __init__(self, grammar: str, tokenizer: Any, end_ids: Iterable[int]) -> None:
        self.grammar = grammar
        self.tokenizer = tokenizer
        self.end_ids = set(end_ids)
        self._matchers: list[Any] = []
        self._free: list[bool] = []
        self._started = False

    def _start(self, rows: int, vocab_size: int) -> None:
        template = compiled(self.grammar, self.tokenizer, vocab_size, self.end_ids)
        self._matchers = [template.deep_copy() for _ in range(rows)]
        self._free = [False] * rows
        self._started = True

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import numpy as np
        import torch

        rows, vocab = scores.shape
        if not self._started:
            self._start(rows, vocab)
        else:
            for i, token in enumerate(input_ids[:, -1].tolist()):
                if self._free[i]:
                    continue
                if token in self.end_ids:  # the row ended; padding follows
                    self._free[i] = True
                elif not self._matchers[i].consume_token(token):
                    log.warning("grammar matcher failed: %s", self._matchers[i].get_error())
                    self._free[i] = True
        if all(self._free):
            return scores
        words = (vocab + 31) // 32
        bitmask = np.full((rows, words), -1, dtype=np.int32)
        for i, matcher in enumerate(self._matchers):
            if not self._free[i]:
                row = bitmask[i]
                matcher.unsafe_compute_mask_ptr(row.ctypes.data, row.nbytes)
        bits = torch.from_numpy(bitmask).to(scores.device)
        shifts = torch.arange(32, dtype=torch.int32, device=scores.device)
        allowed = ((bits.unsqueeze(-1) >> shifts) & 1).bool().view(rows, words * 32)[:, :vocab]
        return scores.masked_fill(~allowed, float("-inf"))
