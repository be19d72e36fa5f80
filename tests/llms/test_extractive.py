"""ExtractiveReader with the HashingEmbedder: sentence choice, citations, confidence, the
prompt convention, RetrievalQA chain types, spec round trip and the chat-model conformance."""

from __future__ import annotations

import pytest

from agentkit.core import spec
from agentkit.core.compose import Lambda
from agentkit.core.errors import UsageError
from agentkit.llms import BaseChatModel, GenerationParams, Message, model_requests, system, user
from agentkit.llms.extractive import ExtractiveReader, parse_prompt
from agentkit.llms.extractive.scoring import lexical_scores
from agentkit.retrievers.document import Document
from agentkit.retrievers.embeddings import HashingEmbedder
from agentkit.testing.chat_model import ChatModelConformance

ACME = Document(
    "Acme Corporation was founded by Dr. Jane Roe in 1949. It makes anvils, rockets and "
    "giant magnets. Its products are sold mainly to coyotes.",
    id="acme-1",
    source="acme.txt",
)
HQ = Document(
    "The headquarters of Acme are in Phoenix, Arizona. The building has 5.5 floors and a "
    "rooftop garden. About 1,200 people work there.",
    id="hq-1",
    metadata={"source": "hq.md"},
)


def reader(**kwargs: object) -> ExtractiveReader:
    return ExtractiveReader(HashingEmbedder(), **kwargs)  # type: ignore[arg-type]


def test_answers_with_the_best_sentence_and_cites_it() -> None:
    found = reader().answer("Who founded Acme Corporation?", [ACME, HQ])
    assert found.text == "Acme Corporation was founded by Dr. Jane Roe in 1949."
    assert found.answered and found.document_index == 0 and found.sentence_index == 0
    [citation] = found.citations
    assert citation["id"] == "acme-1" and citation["source"] == "acme.txt"
    assert citation["sentence"] == found.text and 0 < citation["score"] <= 1
    where = reader().answer("In which city are the headquarters?", [ACME, HQ])
    assert where.text == "The headquarters of Acme are in Phoenix, Arizona."
    assert where.citations[0]["source"] == "hq.md"  # from metadata["source"]
    assert where.sentence_index == 3 and where.document_index == 1


def test_accepts_plain_strings_and_joins_several_sentences_best_first() -> None:
    found = reader(max_sentences=2).answer(
        "How many people work in the headquarters building?",
        [HQ.text, "Bananas are yellow. Apples are red."],
    )
    assert found.text.startswith("About 1,200 people work there.")
    assert len(found.citations) == 2
    assert found.citations[0]["score"] >= found.citations[1]["score"]
    assert found.citations[0]["id"] == Document(HQ.text).id


def test_confidence_is_a_probability_higher_for_clear_answers() -> None:
    clear = reader().answer("Who founded Acme Corporation?", [ACME, HQ])
    unrelated = reader().answer("What is the boiling point of mercury?", [ACME, HQ])
    assert 0.0 <= unrelated.confidence < clear.confidence <= 1.0
    assert clear.metadata() == {
        "extractive": True,
        "citations": clear.citations,
        "confidence": clear.confidence,
    }


def test_min_confidence_gives_no_answer() -> None:
    found = reader(min_confidence=0.99).answer("What is the boiling point of mercury?", [ACME])
    assert (found.text, found.citations, found.answered) == ("I don't know.", [], False)
    empty = reader().answer("Who founded Acme?", [])
    assert (empty.text, empty.confidence) == ("I don't know.", 0.0)


def test_lexical_score_ignores_question_words_and_weights_rare_terms() -> None:
    sentences = [
        "What year was it when the name was chosen?",
        "The anvil factory opened in Phoenix.",
        "The factory made anvils for years.",
    ]
    scores = lexical_scores("What year did the anvil factory open in Phoenix?", sentences)
    assert scores[0] == 0.0  # only question words in common
    assert scores[1] == pytest.approx(1.0) and 0 < scores[2] < scores[1]
    assert all(s == 0 for s in lexical_scores("What is it?", sentences))


def test_invalid_arguments() -> None:
    with pytest.raises(UsageError, match="lexical_weight must be a number between 0 and 1"):
        reader(lexical_weight=1.5)
    with pytest.raises(UsageError, match="max_sentences"):
        reader(max_sentences=0)
    with pytest.raises(UsageError, match="embedder must be an Embedder"):
        ExtractiveReader(embedder="minilm")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="Document objects or strings"):
        reader().answer("q?", [42])  # type: ignore[list-item]


# --- the prompt convention -----------------------------------------------------------------

STUFF = """Use the following pieces of context to answer the question at the end. If you don't \
know the answer, just say that you don't know; don't try to make up an answer.

Source: acme.txt
Acme Corporation was founded by Dr. Jane Roe in 1949.

Source: hq.md
The headquarters of Acme are in Phoenix, Arizona.
------
Question: Where are the headquarters of Acme?
Helpful answer:"""


def test_parse_prompt_reads_source_blocks_and_the_question_line() -> None:
    parsed = parse_prompt([system("You are terse."), user(STUFF)])
    assert parsed.question == "Where are the headquarters of Acme?"
    assert [(d.source, d.text) for d in parsed.documents] == [
        ("acme.txt", "Acme Corporation was founded by Dr. Jane Roe in 1949."),
        ("hq.md", "The headquarters of Acme are in Phoenix, Arizona."),
    ]
    assert not parsed.wants_score and parsed.no_answer == "I don't know."


def test_parse_prompt_fallbacks() -> None:
    inline = parse_prompt([user("Paris is in France. Rome is in Italy. Where is Rome?")])
    assert inline.question == "Where is Rome?"
    assert inline.documents[0].text == "Paris is in France. Rome is in Italy."
    delimited = parse_prompt(
        [user("Context information is below.\n-----\nRome is in Italy.\n-----\nAnswer: where?")]
    )
    assert delimited.documents[0].text == "Rome is in Italy."
    labelled = parse_prompt([user("Context: Rome is in Italy.\nQ: Where is Rome")])
    assert labelled.question == "Where is Rome"
    assert labelled.documents[0].text == "Rome is in Italy."
    from_system = parse_prompt([system("Source: notes\nRome is in Italy."), user("Where is Rome?")])
    assert from_system.documents[0].source == "notes"
    assert parse_prompt([user("What is the capital of France?")]).documents == []


def test_invoke_returns_an_extractive_message_even_with_requests_forbidden() -> None:
    with model_requests(False):  # no network, no generative model: allowed like the fakes
        message = reader().invoke(STUFF)
    assert isinstance(message, Message) and message.role == "assistant"
    assert message.content == "The headquarters of Acme are in Phoenix, Arizona."
    assert message.metadata["extractive"] is True
    assert message.metadata["citations"][0]["source"] == "hq.md"
    assert 0 <= message.metadata["confidence"] <= 1
    assert message.usage is not None and message.usage.completion_tokens == 8
    cut = reader().generate([user(STUFF)], GenerationParams(max_new_tokens=3))
    assert cut.text == "The headquarters of" and cut.finish_reason == "length"


def test_every_retrieval_qa_chain_type_works_with_the_reader() -> None:
    from agentkit.chains.retrieval_qa import RetrievalQA

    docs = [HQ, ACME]
    for chain_type in ("stuff", "map_reduce", "refine", "map_rerank"):
        qa = RetrievalQA(reader(), Lambda(lambda q: docs), chain_type=chain_type)
        out = qa.invoke({"query": "Who founded Acme Corporation?"})
        assert out["result"] == "Acme Corporation was founded by Dr. Jane Roe in 1949.", chain_type
    rerank = parse_prompt([user("Score: [a number between 0 and 100]\nQuestion: q?")])
    assert rerank.wants_score
    assert parse_prompt([user("If none, answer exactly NONE.\nQuestion: q?")]).no_answer == "NONE"


def test_spec_round_trip() -> None:
    model = reader(lexical_weight=0.5, max_sentences=2, min_confidence=0.1)
    data = model.to_dict()
    assert data["type"] == "extractive_reader" and data["embedder"]["type"] == "hashing_embedder"
    loaded = spec.load(data)
    assert isinstance(loaded, ExtractiveReader) and loaded.to_dict() == data
    assert loaded.answer("Who founded Acme Corporation?", [ACME]).citations


class TestExtractiveReaderConformance(ChatModelConformance):
    scripted = False
    streams_tokens = False
    prompts = [
        "Paris is the capital of France. It lies on the Seine in the north of the country. "
        "What is the capital of France?",
        "Two plus two makes four, as every pupil learns. What is two plus two?",
        "Rivers flow to the sea and the sea returns as rain. Where do rivers go?",
    ]

    def make_model(self, responses: list[str]) -> BaseChatModel:
        return reader()
