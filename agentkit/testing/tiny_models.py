"""Tiny real causal LMs for tests: a byte-level BPE tokenizer trained on the fly, a small
Llama or GPT-2 with seeded weights, and a chat template, saved like any Hugging Face model.

``build_tiny_model(path)`` writes a folder that ``HFChatModel(path)`` (``hf:<path>``) loads
through the normal code path, so generation, streaming, batching and adapter tests run the
real code on CPU in seconds. With ``pretrain_steps`` the model is first trained on its corpus,
so greedy decoding gives deterministic, corpus-like text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError, missing_dependency

BOS, EOS, PAD = "<|bos|>", "<|end|>", "<|pad|>"
ROLE_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>", "<|tool|>")
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
"""Role tokens around each message; the generation prompt ends with a newline, not a space
(a trailing space would tokenize unlike the training text, where spaces start words)."""

DEFAULT_CORPUS = (
    "The capital of France is Paris. Paris lies on the river Seine.",
    "Two plus two makes four. Three plus three makes six.",
    "Rivers flow to the sea, and the sea returns to the clouds as rain.",
    "The cat sat on the mat and looked at the dog in the garden.",
    "Water boils at one hundred degrees at sea level.",
    "The sun rises in the east and sets in the west.",
    "Bees make honey from the nectar of flowers in spring.",
    "A week has seven days and a year has twelve months.",
    "The moon goes around the earth once a month.",
    "Trees grow tall in the forest where the rain falls often.",
    "The train leaves the station at nine in the morning.",
    "Birds build their nests high in the old oak tree.",
    "The library opens at ten and closes at six in the evening.",
    "Snow covers the mountains in the long cold winter.",
    "The farmer grows wheat and corn in the fields near the river.",
    "Children play in the park after school on sunny days.",
)
_ARCHS = ("llama", "gpt2")
_DEFAULT = object()


def build_tiny_model(
    path: str | Path,
    arch: str = "llama",
    corpus: Sequence[str] | None = None,
    *,
    vocab_size: int = 512,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    seed: int = 0,
    chat_template: Any = _DEFAULT,
    pretrain_steps: int = 0,
    max_positions: int = 512,
) -> Path:
    """Build and save a tiny causal LM (weights as safetensors) and its tokenizer to ``path``.

    Args:
        arch: ``"llama"`` or ``"gpt2"``.
        corpus: texts to train the tokenizer on (and to pretrain on); default: a few dozen
            short English sentences.
        vocab_size: the most BPE tokens (a small corpus may give fewer).
        chat_template: a Jinja chat template; default :data:`CHAT_TEMPLATE`; ``None`` saves a
            tokenizer without one.
        pretrain_steps: steps of causal-LM training on the corpus (a few seconds on CPU for
            a few hundred); 0 keeps the seeded random weights.
    """
    if arch not in _ARCHS:
        raise UsageError(f"arch must be one of {', '.join(_ARCHS)}, got {arch!r}")
    if pretrain_steps < 0:
        raise UsageError(f"pretrain_steps must be >= 0, got {pretrain_steps}")
    texts = _corpus(corpus)
    try:
        import torch
    except ImportError as e:
        raise missing_dependency("torch", "hf", "build_tiny_model") from e
    template = CHAT_TEMPLATE if chat_template is _DEFAULT else chat_template
    tokenizer = _train_tokenizer(texts, vocab_size, template)
    with torch.random.fork_rng(), _one_thread():
        torch.manual_seed(seed)
        model = _new_model(arch, tokenizer, hidden, layers, heads, max_positions)
        if pretrain_steps:
            pretrain(model, training_ids(tokenizer, texts), pretrain_steps, seed=seed)
    model.eval()
    out = _save(path, model, tokenizer)
    info = {"arch": arch, "seed": seed, "pretrain_steps": pretrain_steps, "corpus_size": len(texts)}
    (out / "tiny_model.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return out


def _corpus(corpus: Sequence[str] | None) -> list[str]:
    """The texts to train the tokenizer on: ``corpus``, else :data:`DEFAULT_CORPUS`."""
    texts = list(corpus) if corpus is not None else list(DEFAULT_CORPUS)
    if not texts or not all(isinstance(t, str) and t for t in texts):
        raise UsageError("corpus must be a non-empty list of non-empty strings")
    return texts


def _save(path: str | Path, model: Any, tokenizer: Any) -> Path:
    """Save the model (safetensors) and its tokenizer into ``path``; returns the folder."""
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def _train_tokenizer(texts: list[str], vocab_size: int, chat_template: str | None) -> Any:
    try:
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
        from transformers import PreTrainedTokenizerFast
    except ImportError as e:
        raise missing_dependency("transformers", "hf", "build_tiny_model") from e
    specials = [PAD, BOS, EOS, *ROLE_TOKENS]
    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    raw.train_from_iterator(texts, trainer)
    bos_id = raw.token_to_id(BOS)
    raw.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, bos_id)]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=list(ROLE_TOKENS),
    )
    if chat_template is not None:
        tokenizer.chat_template = chat_template
    return tokenizer


def _new_model(
    arch: str, tokenizer: Any, hidden: int, layers: int, heads: int, max_positions: int
) -> Any:
    ids = {
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    if arch == "llama":
        from transformers import LlamaConfig, LlamaForCausalLM

        config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=hidden,
            intermediate_size=hidden * 4,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            num_key_value_heads=max(1, heads // 2),
            max_position_embeddings=max_positions,
            tie_word_embeddings=True,
            **ids,
        )
        return LlamaForCausalLM(config)
    from transformers import GPT2Config, GPT2LMHeadModel

    gpt2 = GPT2Config(
        vocab_size=len(tokenizer),
        n_embd=hidden,
        n_layer=layers,
        n_head=heads,
        n_positions=max_positions,
        **ids,
    )
    return GPT2LMHeadModel(gpt2)


def training_ids(tokenizer: Any, texts: Sequence[str]) -> list[int]:
    """Token ids to pretrain on: each text as ``<bos> text <eos>`` and, when the tokenizer
    has a chat template, also as chats whose user turn is the text's first words and whose
    assistant turn is the rest (so replies depend on the prompt)."""
    ids: list[int] = []
    for text in texts:
        ids += tokenizer(text)["input_ids"] + [tokenizer.eos_token_id]
    if tokenizer.chat_template is None:
        return ids
    for text in texts:
        words = text.split()
        for k in range(1, min(4, len(words) - 1) + 1):
            chat = [
                {"role": "user", "content": " ".join(words[:k])},
                {"role": "assistant", "content": " ".join(words[k:])},
            ]
            rendered = tokenizer.apply_chat_template(chat, tokenize=False)
            ids += tokenizer(rendered, add_special_tokens=False)["input_ids"]
    return ids


def pretrain(
    model: Any,
    ids: Sequence[int],
    steps: int,
    *,
    seed: int = 0,
    batch_size: int = 8,
    block: int = 64,
    lr: float = 3e-3,
) -> float:
    """Plain causal-LM training on random ``block``-token windows of ``ids``.
    Returns the last loss."""
    import torch

    tokens = list(ids)
    while len(tokens) < block + 2:
        tokens = tokens + tokens
    data = torch.tensor(tokens)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    loss = torch.tensor(float("nan"))
    for _ in range(steps):
        starts = torch.randint(0, len(tokens) - block, (batch_size,), generator=generator)
        batch = torch.stack([data[s : s + block] for s in starts.tolist()])
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    return float(loss.item())


@contextmanager
def _one_thread() -> Iterator[None]:
    """Tiny matrices train fastest on one thread (and do not fight other processes)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


_BUILT: dict[str, Path] = {}


def tiny_model_path(tmp_path_factory: Any, **options: Any) -> Path:
    """A tiny model built once per test session for each set of ``options`` (passed to
    :func:`build_tiny_model`; ``pretrain_steps`` defaults to 200 here). Call it from a
    session-scoped fixture with pytest's ``tmp_path_factory``."""
    options.setdefault("pretrain_steps", 200)
    key = json.dumps(options, sort_keys=True, default=repr)
    if key not in _BUILT or not (_BUILT[key] / "config.json").exists():
        folder = tmp_path_factory.mktemp("tiny_model")
        _BUILT[key] = build_tiny_model(folder, **options)
    return _BUILT[key]


# --- a tiny encoder (BERT) for span-reader tests ----------------------------------------

ENCODER_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def build_tiny_encoder(
    path: str | Path,
    corpus: Sequence[str] | None = None,
    *,
    vocab_size: int = 400,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    seed: int = 0,
    max_positions: int = 256,
) -> Path:
    """Build and save a tiny BERT encoder (seeded random weights, safetensors) and a
    WordPiece tokenizer trained on ``corpus`` (lower-cased, ``[CLS] q [SEP] p [SEP]`` pairs
    with token types) to ``path``; ``AutoModelForQuestionAnswering`` loads it with a new
    span head, so reader training runs the real code on CPU in seconds."""
    texts = _corpus(corpus)
    try:
        import torch
        from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
        from tokenizers import trainers as tok_trainers
        from transformers import BertConfig, BertModel, PreTrainedTokenizerFast
    except ImportError as e:
        raise missing_dependency("transformers", "hf", "build_tiny_encoder") from e
    raw = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    raw.normalizer = normalizers.BertNormalizer(lowercase=True)
    raw.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    raw.decoder = decoders.WordPiece()
    trainer = tok_trainers.WordPieceTrainer(
        vocab_size=vocab_size, special_tokens=list(ENCODER_SPECIALS), show_progress=False
    )
    raw.train_from_iterator(texts, trainer)
    cls, sep = raw.token_to_id("[CLS]"), raw.token_to_id("[SEP]")
    raw.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=max_positions,
    )
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=hidden * 4,
        max_position_embeddings=max_positions,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = BertModel(config)
    return _save(path, model, tokenizer)
