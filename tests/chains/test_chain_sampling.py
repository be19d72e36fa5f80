"""SelfConsistencyChain and GeneratedKnowledgeChain: sampling, parsing, voting."""

from __future__ import annotations

import asyncio

import pytest

from agentkit.chains import GeneratedKnowledgeChain, LLMChain, SelfConsistencyChain, majority
from agentkit.core import InMemoryTracer, OutputParserError, RunConfig, UsageError
from agentkit.llms import FakeListModel
from agentkit.parsers import RegexParser
from agentkit.prompts import PromptTemplate

ANSWER = RegexParser(r"The answer is (?P<answer>\d+)")


def sampler(*replies: str) -> LLMChain:
    return LLMChain(PromptTemplate("Q: {question}\nA:"), FakeListModel(list(replies)))


def test_majority_vote_with_votes_samples_and_invalid() -> None:
    replies = ["so 67. The answer is 67.", "The answer is 35.", "hmm", "The answer is 67."]
    chain = SelfConsistencyChain(sampler(*replies), n=4, parser=ANSWER)
    result = chain.invoke("How old is my sister?")
    assert result["answer"] == "67"
    assert result["votes"] == {"67": 2, "35": 1}
    assert sorted(result["samples"]) == sorted(replies)
    assert result["invalid"] == 1
    assert result["question"] == "How old is my sister?"


def test_every_sample_gets_the_same_prompt() -> None:
    chain = SelfConsistencyChain(sampler("The answer is 1."), n=3, parser=ANSWER)
    chain.invoke("q?")
    calls = chain.chain.llm.calls  # type: ignore[attr-defined]
    assert len(calls) == 3
    assert {c[0].content for c in calls} == {"Q: q?\nA:"}


def test_ties_go_to_the_first_seen_answer() -> None:
    chain = SelfConsistencyChain(
        sampler("The answer is 5.", "The answer is 7."), n=2, parser=ANSWER, max_concurrency=1
    )
    assert chain.invoke("q")["answer"] == "5"
    assert majority(["b", "a", "a", "b"]) == ("b", {"b": 2, "a": 2})


def test_votes_ignore_case_space_and_final_period() -> None:
    assert majority(["Paris.", " paris", "Rome"]) == ("Paris.", {"Paris.": 2, "Rome": 1})


def test_all_samples_invalid_raises_output_parser_error() -> None:
    chain = SelfConsistencyChain(sampler("no idea", "unsure"), n=2, parser=ANSWER)
    with pytest.raises(OutputParserError, match="none of the 2 samples gave an answer"):
        chain.invoke("q")


def test_without_parser_the_text_is_voted() -> None:
    chain = SelfConsistencyChain(sampler("yes", "no", "Yes."), n=3, max_concurrency=1)
    result = chain.invoke("q")
    assert (result["answer"], result["votes"]) == ("yes", {"yes": 2, "no": 1})


def test_answer_key_picks_a_field_and_is_checked() -> None:
    two = RegexParser(r"(?P<reason>.*) The answer is (?P<answer>\d+)")
    chain = SelfConsistencyChain(
        sampler("3 + 4. The answer is 7"), n=1, parser=two, answer_key="answer"
    )
    assert chain.run("q") == "7"
    with pytest.raises(UsageError, match="pass answer_key"):
        SelfConsistencyChain(sampler("x"), parser=two)
    with pytest.raises(UsageError, match="'score' is not one of"):
        SelfConsistencyChain(sampler("x"), parser=two, answer_key="score")
    with pytest.raises(UsageError, match="n >= 1"):
        SelfConsistencyChain(sampler("x"), n=0)
    with pytest.raises(UsageError, match="max_concurrency must be at least 1"):
        SelfConsistencyChain(sampler("x"), max_concurrency=0)


def test_self_consistency_async_and_tracing() -> None:
    replies = ["The answer is 2."] * 3
    sync = SelfConsistencyChain(sampler(*replies), n=3, parser=ANSWER).invoke("q")
    chain = SelfConsistencyChain(sampler(*replies), n=3, parser=ANSWER)
    assert asyncio.run(chain.ainvoke("q")) == sync
    tracer = InMemoryTracer()
    chain.invoke("q", RunConfig(tracers=(tracer,)))
    (root,) = tracer.roots()
    kids = [s.name for s in tracer.children(root)]
    assert kids.count("LLMChain") == 3
    assert kids.count("RegexParser") == 3


KNOWLEDGE = ["Penguins are birds.", "Penguins cannot fly.", "Penguins swim well."]


def knowledge_chain(replies: list[str], **kwargs: object) -> GeneratedKnowledgeChain:
    model = FakeListModel([*KNOWLEDGE, *replies])
    return GeneratedKnowledgeChain(model, k=3, max_concurrency=1, **kwargs)  # type: ignore[arg-type]


def test_generated_knowledge_votes() -> None:
    replies = [
        "Answer: yes\nConfidence: 0.6",
        "They are flightless.\nAnswer: No.\nConfidence: 0.9",
        "Answer: no Confidence: 0.8",
    ]
    chain = knowledge_chain(replies)
    result = chain.invoke({"question": "Can penguins fly?"})
    assert result["answer"] == "No."
    assert result["knowledge"] == KNOWLEDGE
    assert result["candidates"] == [
        {"knowledge": KNOWLEDGE[0], "answer": "yes", "confidence": 0.6},
        {"knowledge": KNOWLEDGE[1], "answer": "No.", "confidence": 0.9},
        {"knowledge": KNOWLEDGE[2], "answer": "no", "confidence": 0.8},
    ]
    calls = chain.llm.calls  # type: ignore[attr-defined]
    assert "Input: Can penguins fly?\nKnowledge:" in calls[0][0].content
    assert "Question: Can penguins fly?\nKnowledge: Penguins cannot fly." in calls[4][0].content


def test_generated_knowledge_most_confident_and_percentages() -> None:
    replies = ["Answer: yes\nConfidence: 95", "Answer: no\nConfidence: 0.9", "bad reply"]
    result = knowledge_chain(replies, select="confident").invoke("Can penguins fly?")
    assert result["answer"] == "yes"
    assert [c["confidence"] for c in result["candidates"]] == [0.95, 0.9]


def test_generated_knowledge_all_unreadable() -> None:
    with pytest.raises(OutputParserError, match="none of the 3 answers could be read"):
        knowledge_chain(["?", "??", "???"]).invoke("Can penguins fly?")


def test_generated_knowledge_checks_arguments() -> None:
    model = FakeListModel(["x"])
    with pytest.raises(UsageError, match="select must be one of"):
        GeneratedKnowledgeChain(model, select="best")
    with pytest.raises(UsageError, match="k >= 1"):
        GeneratedKnowledgeChain(model, k=0)
    with pytest.raises(UsageError, match="must use \\{knowledge\\}"):
        GeneratedKnowledgeChain(model, answer_prompt=PromptTemplate("Q: {question}"))


def test_generated_knowledge_async_matches_sync() -> None:
    replies = ["Answer: no\nConfidence: 0.7"] * 3
    sync = knowledge_chain(replies).invoke("Can penguins fly?")
    assert asyncio.run(knowledge_chain(replies).ainvoke("Can penguins fly?")) == sync
