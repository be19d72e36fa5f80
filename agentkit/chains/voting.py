"""Majority voting over model answers, shared by the sampling chains."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def answer_key(answer: Any) -> str:
    """The form answers are compared in: stripped, case-folded, without a final period."""
    return str(answer).strip().rstrip(".").strip().casefold()


def majority(answers: Iterable[Any]) -> tuple[str, dict[str, int]]:
    """The most common answer and the vote counts, keyed by each answer's first-seen form.

    Answers that differ only in case, surrounding space or a final period count as one.
    Ties go to the answer seen first, so the result is deterministic.
    """
    votes: dict[str, int] = {}
    shown: dict[str, str] = {}
    for answer in answers:
        key = answer_key(answer)
        label = shown.setdefault(key, str(answer).strip())
        votes[label] = votes.get(label, 0) + 1
    if not votes:
        raise ValueError("majority() needs at least one answer")
    winner = max(votes, key=votes.__getitem__)  # max keeps the first of equal counts
    return winner, votes
