"""The reader contract without trained models: the sentence fallback as a reader, the
RetrievalQA reader chain type (and that prompt wording cannot change the offline reader's
answer), span scoring from logits, threshold and calibration fitting, hostile input."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from agentkit.chains.retrieval_qa import RetrievalQA
from agentkit.core.compose import Lambda
from agentkit.core.errors import UsageError
from agentkit.llms.extractive import ExtractiveReader
from agentkit.prompts import PromptTemplate
from agentkit.readers import NOT_FOUND, Answer, Reader, ReadNode, SentenceReader, default
from agentkit.readers.features import Feature
from agentkit.readers.scoring import balanced_threshold, best_spans, fit_logistic
from agentkit.retrievers.document import Document
from agentkit.retrievers.embeddings import HashingEmbedder

ACME = Document(
    "Acme Corporation was founded by Dr. Jane Roe in 1949. It makes anvils and rockets.",
    id="acme",
    source="acme.txt",
)
HQ = Document("The headquarters of Acme are in Phoenix, Arizona. The building is tall.", id="hq")
QUESTION = "Who founded Acme Corporation?"
FOUNDED = "Acme Corporation was founded by Dr. Jane Roe in 1949."


def offline() -> ExtractiveReader:
    return ExtractiveReader(HashingEmbedder(), reader="sentence")


def test_sentence_reader_returns_the_sentence_with_its_passage_and_offsets() -> None:
    answer = SentenceReader(HashingEmbedder()).read(QUESTION, [HQ, ACME])
    assert isinstance(answer, Answer) and answer.text == FOUNDED and not answer.abstained
    assert answer.passage is ACME and ACME.text[answer.start : answer.end] == FOUNDED
    assert answer.highlighted().startswith(f"**{FOUNDED}**") and answer.reader == "sentence"
    assert 0.0 <= answer.confidence <= 1.0
    assert answer.metadata()["citations"] == [{"id": "acme", "source": "acme.txt"}]


def test_sentence_reader_abstains_below_its_confidence_floor() -> None:
    answer = SentenceReader(HashingEmbedder(), min_confidence=1.0).read(QUESTION, [ACME, HQ])
    assert answer.abstained and answer.message == NOT_FOUND and answer.passage is None
    assert answer.highlighted() == "" and answer.passages[0] is ACME


def test_the_offline_model_is_a_reader_and_reads_documents_directly() -> None:
    model = offline()
    assert isinstance(model, Reader) and not model.spans
    assert model.read(QUESTION, [HQ, ACME]).text == FOUNDED


@pytest.mark.parametrize("chain_type", ["reader", "stuff", "map_rerank"])
def test_retrieval_qa_reads_with_the_reader_and_cites_the_passage(chain_type: str) -> None:
    qa = RetrievalQA(offline(), Lambda(lambda q: [HQ, ACME]), chain_type=chain_type)
    out = qa.invoke({"query": QUESTION})
    assert out["result"] == FOUNDED
    assert [s["id"] for s in out["sources"]] == ["acme"]


def test_an_edited_prompt_does_not_change_the_offline_readers_answer() -> None:
    edited = PromptTemplate.from_template(
        "You are terse. Passages follow.\n{context}\n~~~\nWhat the user wants: {question}\n"
        "Reply in one line, or with 'unknown'."
    )
    retriever = Lambda(lambda q: [HQ, ACME])
    plain = RetrievalQA.from_llm(offline(), retriever).invoke({"query": QUESTION})
    custom = RetrievalQA.from_llm(offline(), retriever, prompt=edited).invoke({"query": QUESTION})
    assert custom["result"] == plain["result"] == FOUNDED
    assert custom["sources"] == plain["sources"]


def test_reader_chain_type_rejects_a_model_that_cannot_read() -> None:
    from agentkit.llms.fake import FakeListModel

    qa = RetrievalQA(FakeListModel(["x"]), Lambda(lambda q: [ACME]), chain_type="reader")
    with pytest.raises(UsageError, match="needs a reader"):
        qa.invoke({"query": QUESTION})
    with pytest.raises(UsageError, match="takes"):
        ReadNode(offline()).invoke("just a string")  # type: ignore[arg-type]


def test_default_reader_falls_back_to_sentences_and_says_so_once(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AGENTKIT_CACHE_DIR", str(tmp_path))
    monkeypatch.setitem(default._NOTICE, "said", False)
    with caplog.at_level(logging.WARNING, logger="agentkit.readers.default"):
        first = default.default_reader(HashingEmbedder())
        default.default_reader(HashingEmbedder())
    assert isinstance(first, SentenceReader)
    notices = [r for r in caplog.records if "agentkit finetune reader" in r.getMessage()]
    assert len(notices) == 1


@pytest.mark.parametrize(
    "question, documents",
    [
        ("Who?", []),
        ("", [ACME]),
        ("?!...", [ACME, HQ]),
        ("Who founded it?", ["", "   "]),
        ("Wh\udcffo \x00founded?", ["caf\u00e9 \ufffd\x00 bytes \udcff here.", ACME]),
        ("Who founded Acme?", ["word " * 20000 + "Acme was founded by Jane."]),
    ],
)
def test_hostile_input_does_not_crash_the_sentence_reader(
    question: str, documents: list[object]
) -> None:
    answer = SentenceReader(HashingEmbedder()).read(question, documents)  # type: ignore[arg-type]
    assert isinstance(answer, Answer) and isinstance(answer.message, str)


def test_bad_arguments_are_usage_errors() -> None:
    reader = SentenceReader(HashingEmbedder())
    with pytest.raises(UsageError, match="question must be a string"):
        reader.read(None, [ACME])  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="not one string"):
        reader.read("q", "a single string")
    with pytest.raises(UsageError, match="Document objects or strings"):
        reader.read("q", [42])  # type: ignore[list-item]
    with pytest.raises(UsageError, match="reader must be"):
        ExtractiveReader(HashingEmbedder(), reader=42)  # type: ignore[arg-type]


def _feature(pair: int, n_question: int, n_passage: int) -> Feature:
    offsets = [None] * (n_question + 2) + [(i * 5, i * 5 + 4) for i in range(n_passage)] + [None]
    return Feature(pair, list(range(len(offsets))), None, offsets)  # type: ignore[arg-type]


def test_best_spans_picks_the_top_span_and_its_margin_over_no_answer() -> None:
    first, second = _feature(0, 2, 6), _feature(1, 2, 6)
    n = len(first.input_ids)
    start, end = np.zeros(n), np.zeros(n)
    start[5], end[7] = 4.0, 3.0  # passage tokens 1..3 -> characters 5..19
    start[0], end[0] = 1.0, 1.0  # "no answer" scores 2
    null_start, null_end = np.zeros(n), np.zeros(n)
    null_start[0], null_end[0] = 9.0, 9.0  # the second pair prefers "no answer"
    spans = best_spans([first, second], [(start, end), (null_start, null_end)], 3)
    assert spans[0] is not None and (spans[0].start, spans[0].end) == (5, 19)
    assert spans[0].margin == pytest.approx(5.0)
    assert spans[1] is not None and spans[1].margin < 0
    assert best_spans([first], [(start, end)], 2, max_answer_tokens=1)[0].margin < 5.0  # type: ignore[union-attr]
    assert best_spans([], [], 2) == [None, None]


def test_threshold_balances_answering_and_abstaining_and_calibration_is_monotone() -> None:
    positives = [2.0, 3.0, 4.0, 5.0, 0.5]
    negatives = [-3.0, -2.0, -1.0, 1.0, 0.0]
    t = balanced_threshold(positives, negatives)
    answered = sum(p >= t for p in positives) / 5
    abstained = sum(n < t for n in negatives) / 5
    assert min(answered, abstained) == 0.8
    a, b = fit_logistic(positives + negatives, [1] * 5 + [0] * 5)
    assert a > 0 and (a * 4 + b) > (a * -3 + b)
    assert balanced_threshold([], [1.0]) == 0.0


def test_the_extractive_spec_says_answers_are_sentences_until_a_reader_is_trained(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentkit.llms.resolve import resolve

    monkeypatch.setenv("AGENTKIT_CACHE_DIR", str(tmp_path))
    found = resolve("extractive")
    assert isinstance(found.model, ExtractiveReader) and found.backend == "extractive"
    assert "whole sentences" in found.reason and "agentkit finetune reader" in found.reason


def test_ask_shows_the_span_in_bold_inside_its_passage_or_points_to_the_passages() -> None:
    from agentkit.commands.ask import in_passage

    sources = [{"snippet": "The headquarters of Acme are in Phoenix, Arizona. It is tall."}]
    shown = in_passage("Phoenix, Arizona", sources)
    assert shown.plain == "in context: " + sources[0]["snippet"]
    bold = [shown.plain[s.start : s.end] for s in shown.spans if "bold" in str(s.style)]
    assert bold == ["Phoenix, Arizona"]
    assert in_passage(NOT_FOUND, sources).plain == "The closest passages are listed above."
    assert in_passage(sources[0]["snippet"], sources).plain == ""  # a whole passage: no bold
    assert in_passage("absent", [{"snippet": None}]).plain == ""
