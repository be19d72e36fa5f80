"""Tokenising training records with the tiny model's tokenizer: prompts tokenised exactly
as HFChatModel tokenises them, labels on the replies only, truncation sides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentkit.core.errors import UsageError
from agentkit.finetune.data import from_records
from agentkit.finetune.encode import (
    IGNORE,
    Encoded,
    check_chat_template,
    encode_chat,
    encode_examples,
    encode_text,
    truncate,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tokenizer(qa_base: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(qa_base)


def labelled_text(tokenizer: Any, encoded: Encoded) -> str:
    return str(tokenizer.decode([t for t in encoded.labels if t != IGNORE]))


def test_prompt_tokens_match_inference_and_labels_cover_the_reply(tokenizer: Any) -> None:
    from agentkit.llms.hf.chat_template import render_prompt

    chat = [
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Paris is the capital of France."},
    ]
    encoded = encode_chat(tokenizer, chat)
    prompt = render_prompt(tokenizer, chat[:1], None, "tiny")
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    assert encoded.input_ids[: len(prompt_ids)] == prompt_ids
    assert set(encoded.labels[: len(prompt_ids)]) == {IGNORE}
    assert labelled_text(tokenizer, encoded) == "Paris is the capital of France.<|end|>\n"
    assert tokenizer.eos_token_id in [t for t in encoded.labels if t != IGNORE]


def test_every_assistant_turn_is_labelled(tokenizer: Any) -> None:
    chat = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Bye"},
        {"role": "assistant", "content": "Goodbye."},
    ]
    encoded = encode_chat(tokenizer, chat)
    assert labelled_text(tokenizer, encoded) == "Hello.<|end|>\nGoodbye.<|end|>\n"
    whole = tokenizer.apply_chat_template(chat, tokenize=False)
    assert tokenizer.decode(encoded.input_ids) == whole


def test_a_template_that_reorders_turns_is_rejected(tokenizer: Any) -> None:
    reverse = "{% for m in messages|reverse %}{{ m['content'] }}\n{% endfor %}"
    chat = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    with pytest.raises(UsageError, match="prefixes of the whole conversation"):
        encode_chat(tokenizer, chat, reverse)


def test_text_gets_eos_and_full_loss(tokenizer: Any) -> None:
    encoded = encode_text(tokenizer, "The cat sat on the mat.")
    assert encoded.input_ids[-1] == tokenizer.eos_token_id
    assert encoded.labels == encoded.input_ids


def test_truncation_sides() -> None:
    encoded = Encoded([1, 2, 3, 4, 5], [IGNORE, IGNORE, 3, 4, 5])
    assert truncate(encoded, 3, "right") == Encoded([1, 2, 3], [IGNORE, IGNORE, 3])
    assert truncate(encoded, 3, "left") == Encoded([3, 4, 5], [3, 4, 5])
    assert truncate(encoded, None) is encoded
    with pytest.raises(UsageError, match="'right' or 'left'"):
        truncate(encoded, 3, "middle")


def test_encode_examples_drops_records_left_without_reply_tokens(tokenizer: Any) -> None:
    data = from_records(
        [
            {"question": "What is the capital of France? " * 6, "answer": "Paris."},
            {"question": "Hi", "answer": "Hello."},
        ]
    )
    rows, dropped = encode_examples(tokenizer, data.examples, "qa", max_length=20)
    assert dropped == 1 and len(rows) == 1
    kept, dropped = encode_examples(
        tokenizer, data.examples, "qa", max_length=20, truncation_side="left"
    )
    assert dropped == 0 and all(len(r.input_ids) <= 20 for r in kept)
    full, _ = encode_examples(
        tokenizer, data.examples, "qa", max_length=None, completion_only_loss=False
    )
    assert full[1].labels == full[1].input_ids
    with pytest.raises(UsageError, match="cannot be used for supervised fine-tuning"):
        encode_examples(
            tokenizer,
            from_records([{"query": "q", "passage": "p"}]).examples,
            "pairs",
            max_length=None,
        )


def test_missing_chat_template_is_explained(tokenizer: Any) -> None:
    class NoTemplate:
        chat_template = None

    with pytest.raises(UsageError, match="has no chat template"):
        check_chat_template(NoTemplate(), None, "base")
    check_chat_template(NoTemplate(), "{{ messages }}", "base")
    check_chat_template(tokenizer, None, "base")
