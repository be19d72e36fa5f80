"""A rule-based sentence splitter for English prose (no model, no dependency).

A sentence ends at ``.``, ``!`` or ``?`` (plus closing quotes or brackets) followed by white
space and a capital letter, a digit or an opening quote/bracket, and at every blank line. A
period does not end a sentence after a known abbreviation (``e.g.``, ``Dr.``, ``U.S.``,
``Jan.``), a single initial (``John F. Kennedy``), or inside a number (``3.14``, which never
has space after the period anyway).
"""

from __future__ import annotations

import re

_ABBREVIATION_WORDS = """
    mr mrs ms dr prof sr jr st mt ft rev gen col lt sgt capt cmdr adm gov sen rep pres hon
    messrs mme mlle fr br sra srta
    e.g i.e etc vs v ps cf al approx ca c est dept univ assn bros inc ltd co corp plc vol
    vols fig figs p pp ed eds op ch sec para viz
    jan feb mar apr jun jul aug sep sept oct nov dec tue tues thu thur thurs fri
    a.m p.m a.d b.c b.c.e c.e u.s u.k u.n u.s.a u.s.s.r d.c
"""
ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
_CLOSERS = "\"'\u201d\u2019)]"  # closing quotes and brackets after the end mark
_BOUNDARY = re.compile(
    r"""[.!?]+["'\u201d\u2019)\]]*(?=\s+["'\u201c\u2018(\[]?[A-Z0-9\u00c0-\u00dd])"""
)
_BLANK_LINE = re.compile(r"\n\s*\n")
_WORD_BEFORE = re.compile(r"([\w.]+)$")
_INITIAL = re.compile(r"^[A-Z]$")
_DOTTED = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]$")  # U.S, e.g, Ph.D


def _ends_sentence(text: str, end: int) -> bool:
    """Whether the punctuation run at ``text[end-?:end]`` ends a sentence."""
    head = text[:end].rstrip(_CLOSERS)
    if not head.endswith("."):
        return True  # "!" or "?"
    match = _WORD_BEFORE.search(head[:-1])
    if match is None:
        return True
    word = match.group(1)
    if "." in word and not _DOTTED.match(word):
        word = word.rsplit(".", 1)[-1]
    if _INITIAL.match(word) or _DOTTED.match(word):
        return False
    return word.lower() not in ABBREVIATIONS


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` character offsets of the sentences of ``text``, white space trimmed."""
    spans: list[tuple[int, int]] = []
    block_start = 0
    for block_end in [m.start() for m in _BLANK_LINE.finditer(text)] + [len(text)]:
        start = block_start
        for match in _BOUNDARY.finditer(text, block_start, block_end):
            if _ends_sentence(text, match.end()):
                _add(text, start, match.end(), spans)
                start = match.end()
        _add(text, start, block_end, spans)
        block_start = block_end
    return spans


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``: ``split_sentences("Dr. Li came. He left.")`` is
    ``["Dr. Li came.", "He left."]``."""
    return [text[a:b] for a, b in sentence_spans(text)]


def _add(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))
