"""The rule-based sentence splitter used by the extractive reader."""

from __future__ import annotations

from agentkit.llms.sentences import sentence_spans, split_sentences


def test_splits_on_end_marks_followed_by_a_capital() -> None:
    text = "It rained. Did it snow? No! Then the sun came out."
    assert split_sentences(text) == ["It rained.", "Did it snow?", "No!", "Then the sun came out."]


def test_abbreviations_initials_and_decimals_do_not_end_sentences() -> None:
    text = (
        "Dr. Smith met Mr. J. R. R. Tolkien at 3.14 p.m. in St. Louis, e.g. near the U.S. "
        "Army base. They paid $2.50 each, i.e. a bargain. Brown v. Board of Education was cited."
    )
    assert split_sentences(text) == [
        "Dr. Smith met Mr. J. R. R. Tolkien at 3.14 p.m. in St. Louis, e.g. near the U.S. "
        "Army base.",
        "They paid $2.50 each, i.e. a bargain.",
        "Brown v. Board of Education was cited.",
    ]


def test_quotes_brackets_and_lowercase_continuations() -> None:
    text = 'He said "Stop." Then he left. (It was late.) The end... or not. "Why?" she asked.'
    assert split_sentences(text) == [
        'He said "Stop."',
        "Then he left.",
        "(It was late.)",
        "The end... or not.",
        '"Why?" she asked.',
    ]


def test_blank_lines_end_sentences_and_spans_point_into_the_text() -> None:
    text = "  A heading without a period\n\nFirst line\ncontinues here. Second one.\n"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == [
        "A heading without a period",
        "First line\ncontinues here.",
        "Second one.",
    ]
    assert split_sentences("") == [] and split_sentences(" \n\n ") == []
    assert split_sentences("no end mark") == ["no end mark"]
