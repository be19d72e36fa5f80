"""Where an answer sits in its sources, the one-line summary of an answer's steps, the
welcome screen's content, and readable steps."""

from __future__ import annotations

from agentkit.readers import Answer
from agentkit.retrievers import Document
from agentkit.workspace.highlights import best_sentence, highlight_of, mark_sources, span_in
from agentkit.workspace.turns import readable, summary
from agentkit.workspace.welcome import capabilities, sample_questions


def test_span_in_finds_the_words_else_the_best_sentence() -> None:
    passage = "The Amazon is vast. It covers 5,500,000 square kilometres. Rain falls."
    assert span_in("5,500,000 square kilometres", passage) == (30, 57)
    start, end = span_in("The forest covers 5,500,000 square kilometres of land", passage) or (0, 0)
    assert passage[start:end] == "It covers 5,500,000 square kilometres."
    assert best_sentence("Paris is the capital of France", passage) is None
    assert span_in("", passage) is None


def test_mark_sources_prefers_the_readers_passage_and_reports_abstention() -> None:
    doc = Document("Alpha beta. The Black Death reached Crimea by 1343.", id="b#1")
    sources = [
        {"id": "a#1", "passage": "Crimea by 1343 is also here."},
        {"id": "b#1", "passage": doc.text},
    ]
    read = Answer("Crimea by 1343", 0.8, doc, 36, 50, reader="span")
    info = mark_sources("Crimea by 1343", sources, read)
    assert info == {"abstained": False, "confidence": 0.8}
    assert "highlight" not in sources[0] and highlight_of(sources[1]) == (36, 50)
    closest = [{"id": "b#1", "passage": doc.text}]
    info = mark_sources("I could not find this in your documents.", closest, Answer("", 0.1))
    assert info["abstained"] is True and "highlight" not in closest[0]


def test_highlight_of_rejects_bad_stored_offsets() -> None:
    assert highlight_of({"passage": "abc", "highlight": [0, 2]}) == (0, 2)
    for bad in ([2, 1], [0, 9], [-1, 2], ["0", "2"], [0], "0-2", None):
        assert highlight_of({"passage": "abc", "highlight": bad}) is None


def test_summary_is_one_line() -> None:
    steps = [
        {"kind": "span", "span_kind": "retriever", "documents": 4},
        {"kind": "span", "span_kind": "retriever", "documents": 9},  # a member: not counted
        {"kind": "span", "span_kind": "model"},
    ]
    assert summary({"steps": steps, "latency": 0.312}) == "Retrieved 4 passages · 0.31 s"
    tools = [{"kind": "tool"}, {"kind": "tool"}]
    assert summary({"steps": tools, "latency": 1.0}) == "2 tool calls · 1.00 s"
    abstained = {"steps": steps[:1], "reader": {"abstained": True}}
    assert summary(abstained) == "Retrieved 4 passages · no answer found"
    assert summary({"steps": "garbage"}) == "Answered"


def test_readable_steps_are_not_python_reprs() -> None:
    from agentkit.llms.messages import assistant, user

    docs = [Document("Some text " * 40, id="x#1", metadata={"title": "T"}, source="t.md")]
    shown = readable(docs)
    assert shown.startswith("1. T: Some text") and shown.endswith("…") and "Document(" not in shown
    assert readable([user("hi"), assistant("hello")]) == "1. user: hi\n2. assistant: hello"
    assert readable({"question": "q", "n": 2}) == "question: q\nn: 2"
    assert readable(Answer("", 0.2)) == "(abstained) · confidence 0.20"


def test_sample_questions_come_from_distinct_documents() -> None:
    docs = [
        Document("a", id="1", source="amazon_rainforest.md"),
        Document("b", id="2", source="amazon_rainforest.md", chunk=1),
        Document("c", id="3", source="x.md", metadata={"title": "Black Death"}),
        Document("d", id="4", source="0000.txt"),  # no readable title: skipped
        Document("e", id="5", source="packet-switching.md"),
        Document("f", id="6", source="zebra.md"),
    ]
    assert sample_questions(docs) == [
        "What is Amazon rainforest?",
        "What is Packet switching?",
        "What is Black Death?",
    ]
    assert sample_questions([]) == []


def test_capabilities_say_what_the_reader_cannot_do() -> None:
    can, cannot = capabilities("extractive", generative=False, has_index=True)
    assert any("quoting the passage" in line for line in can)
    assert any("generative model" in line for line in cannot)
    can, cannot = capabilities("ollama", generative=True, has_index=False)
    assert any("chat freely" in line for line in can)
    assert any("Documents page" in line for line in cannot)
