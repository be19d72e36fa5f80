"""Re-ranking: the Reranker protocol, RerankingRetriever, and CrossEncoderReranker over a
tiny cross-encoder built on the fly (random weights: the tests check ordering by the model's
own scores, not quality)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import agentkit.core.spec as spec
from agentkit.core.errors import UsageError
from agentkit.retrievers.bm25 import BM25Retriever
from agentkit.retrievers.document import Document
from agentkit.retrievers.rerank import CrossEncoderReranker, Reranker, RerankingRetriever

TEXTS = [
    "the cat sat on the mat",
    "dogs run in the park every morning",
    "paris is the capital of france",
    "bananas are yellow and sweet",
    "the capital of italy is rome",
    "cats and dogs are common pets",
]
CORPUS = [Document(t, id=f"d{i}") for i, t in enumerate(TEXTS)]


class ByLength:
    """A reranker preferring shorter texts (a stand-in for a model)."""

    def rerank(self, query: str, documents: Sequence[Document], k: int) -> list[Document]:
        ranked = sorted(documents, key=lambda d: len(d.text))[:k]
        return [d.with_score(-float(len(d.text))) for d in ranked]


def test_reranking_retriever_fetches_fetch_k_and_keeps_k() -> None:
    base = BM25Retriever(CORPUS, stemmer=None)
    assert isinstance(ByLength(), Reranker)
    rr = RerankingRetriever(base, ByLength(), fetch_k=3, k=2)
    candidates = base.retrieve("the capital cat", 3)
    want = sorted(candidates, key=lambda d: len(d.text))[:2]
    assert [d.id for d in rr.invoke("the capital cat")] == [d.id for d in want]
    assert [d.id for d in asyncio.run(rr.ainvoke("the capital cat"))] == [d.id for d in want]
    assert rr.invoke("zebra") == []


def test_reranking_retriever_rejects_a_non_reranker() -> None:
    with pytest.raises(UsageError, match="rerank"):
        RerankingRetriever(BM25Retriever(CORPUS), object())  # type: ignore[arg-type]


def test_an_unavailable_hub_model_fails_fast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # an empty cache
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UsageError, match="neither a local folder nor in the local"):
        CrossEncoderReranker("someone/not-a-cached-cross-encoder")


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 2-layer, 32-wide BERT cross-encoder with a WordPiece vocabulary trained here."""
    pytest.importorskip("sentence_transformers")
    torch = pytest.importorskip("torch")
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(
        TEXTS, trainers.WordPieceTrainer(vocab_size=300, special_tokens=specials)
    )
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=64,
    )
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        num_labels=1,
        initializer_range=0.5,
    )
    folder = tmp_path_factory.mktemp("tiny-cross-encoder")
    BertForSequenceClassification(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return str(folder)


@pytest.mark.integration
def test_cross_encoder_orders_by_the_models_scores(tiny_cross_encoder: str) -> None:
    from sentence_transformers import CrossEncoder

    query = "what is the capital of france"
    direct = np.asarray(CrossEncoder(tiny_cross_encoder).predict([(query, t) for t in TEXTS]))
    assert len(set(np.round(direct, 6))) == len(TEXTS)  # distinct scores: the order is defined
    reranker = CrossEncoderReranker(tiny_cross_encoder, batch_size=2)
    ranked = reranker.rerank(query, CORPUS, k=4)
    want = np.argsort(-direct)[:4]
    assert [d.id for d in ranked] == [f"d{i}" for i in want]
    assert [d.score for d in ranked] == pytest.approx([float(direct[i]) for i in want], rel=1e-4)
    assert reranker.rerank(query, [], k=2) == []


@pytest.mark.integration
def test_reranking_retriever_with_the_cross_encoder(tiny_cross_encoder: str) -> None:
    reranker = CrossEncoderReranker(tiny_cross_encoder)
    base = BM25Retriever(CORPUS, stemmer=None)
    rr = RerankingRetriever(base, reranker, fetch_k=4, k=2)
    query = "the capital of france and italy"
    candidates = base.retrieve(query, 4)
    scores = reranker.scores(query, candidates)
    want = [candidates[i].id for i in np.argsort(-scores, kind="stable")[:2]]
    assert [d.id for d in rr.invoke(query)] == want


@pytest.mark.integration
def test_reranker_spec_round_trip(tiny_cross_encoder: str, tmp_path: Path) -> None:
    base = BM25Retriever(CORPUS, stemmer=None)
    base.save(tmp_path / "bm25")
    rr = RerankingRetriever(base, CrossEncoderReranker(tiny_cross_encoder, batch_size=8), 5, 3)
    data = rr.to_dict()
    assert data["reranker"] == {
        "type": "cross_encoder_reranker",
        "model": tiny_cross_encoder,
        "batch_size": 8,
    }
    rebuilt = spec.load(data)
    assert rebuilt.to_dict() == data
    assert [d.id for d in rebuilt.invoke("cats")] == [d.id for d in rr.invoke("cats")]
