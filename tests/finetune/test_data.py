"""Fine-tuning data: format detection, validation with file:line and field, the seeded split,
and the Alpaca templates / conversations built from records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentkit.core.errors import UsageError
from agentkit.finetune.data import DataError, detect_format, from_records, load_data, split
from agentkit.finetune.templates import (
    ALPACA_NO_INPUT,
    ALPACA_WITH_INPUT,
    alpaca_prompt,
    preference_prompt,
    to_chat,
)
from tests.finetune.conftest import write_jsonl


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"question": "q", "answer": "a"}, "qa"),
        ({"instruction": "i", "input": "x", "output": "o"}, "alpaca"),
        ({"instruction": "i", "output": "o"}, "alpaca"),
        ({"prompt": "p", "completion": "c"}, "prompt_completion"),
        ({"messages": [{"role": "user", "content": "hi"}]}, "messages"),
        ({"prompt": "p", "chosen": "c", "rejected": "r"}, "preference"),
        ({"text": "t", "id": 3}, "text"),
        ({"query": "q", "passage": "p"}, "pairs"),
        ({"foo": 1}, None),
    ],
)
def test_detect_format(record: dict[str, object], expected: str | None) -> None:
    assert detect_format(record) == expected


def test_load_data_reads_records_lines_and_hash(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(
        '{"question": "a?", "answer": "b", "id": 7}\n\n{"question": "c?", "answer": "d"}\n',
        encoding="utf-8",
    )
    data = load_data(path)
    assert data.format == "qa"
    assert [e.line for e in data.examples] == [1, 3]  # blank lines skipped, numbers kept
    assert data.examples[0]["id"] == 7  # extra fields are kept
    assert len(data.sha256) == 64 and data.summary()["records"] == 2
    path.write_text('{"question": "a?", "answer": "B"}\n', encoding="utf-8")
    assert load_data(path).sha256 != data.sha256


@pytest.mark.parametrize(
    ("lines", "line", "fragment", "field"),
    [
        (
            ['{"question": "q", "answer": "a"}', '{"question": "q2"}'],
            2,
            "missing field 'answer'",
            "answer",
        ),
        (['{"question": "q", "answer": 3}'], 1, "'answer' must be a string, got int", "answer"),
        (['{"question": "q", "answer": "a"}', "{not json"], 2, "invalid JSON", None),
        (['{"question": "q", "answer": "a"}', "[1, 2]"], 2, "expected a JSON object", None),
        (['{"question": "  ", "answer": "a"}'], 1, "'question' is empty", "question"),
        (
            ['{"messages": [{"role": "user", "content": "hi"}]}'],
            1,
            "no assistant message",
            "messages",
        ),
        (
            ['{"messages": [{"role": "robot", "content": "hi"}]}'],
            1,
            "messages[0].role must be one of",
            "messages[0].role",
        ),
        (
            ['{"prompt": "p", "chosen": "c", "rejected": null}'],
            1,
            "missing field 'rejected'",
            "rejected",
        ),
        (
            ['{"query": "q", "passage": "p", "negative": [1]}'],
            1,
            "'negative[0]' must be",
            "negative[0]",
        ),
        (['{"foo": "bar"}'], 1, "unrecognised record shape (fields: foo)", None),
    ],
)
def test_bad_records_name_file_line_and_field(
    tmp_path: Path, lines: list[str], line: int, fragment: str, field: str | None
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_data(path)
    assert isinstance(info.value, UsageError)
    assert f"bad.jsonl:{line}: " in str(info.value)
    assert fragment in str(info.value)
    assert info.value.line == line and info.value.field == field


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DataError, match="has no records"):
        load_data(empty)
    with pytest.raises(DataError, match="does not exist"):
        load_data(tmp_path / "nope.jsonl")


def test_format_is_enforced_for_every_record(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "mixed.jsonl", [{"question": "q", "answer": "a"}, {"text": "plain"}]
    )
    with pytest.raises(DataError, match=r"mixed.jsonl:2: missing field 'question'"):
        load_data(path)
    with pytest.raises(DataError, match="'qa' format cannot be used here; expected preference"):
        load_data(path, allowed=("preference",))
    with pytest.raises(UsageError, match="format must be one of preference"):
        load_data(path, format="qa", allowed=("preference",))


def test_from_records_validates_like_files() -> None:
    data = from_records([{"query": "q", "passage": "p", "negative": ["n1", "n2"]}])
    assert data.format == "pairs" and data.source == "<records>"
    with pytest.raises(DataError, match=r"<records>:2: missing field 'passage'"):
        from_records([{"query": "q", "passage": "p"}, {"query": "q"}])


def test_split_is_seeded_and_disjoint() -> None:
    data = from_records([{"text": f"t{i}"} for i in range(20)])
    train, test = data.split(0.25, seed=3)
    assert len(test) == 5 and len(train) == 15
    assert {e.line for e in train}.isdisjoint({e.line for e in test})
    assert [e.line for e in data.split(0.25, seed=3)[1]] == [e.line for e in test]
    assert [e.line for e in data.split(0.25, seed=4)[1]] != [e.line for e in test]
    assert data.split(0.0) == (list(data.examples), [])
    assert len(split(data.examples[:3], 0.01)[1]) == 1  # at least one held out
    with pytest.raises(UsageError, match=r"test_size must be in \[0, 1\)"):
        data.split(1.0)
    with pytest.raises(UsageError, match="leaves no training records"):
        split(data.examples[:1], 0.5)


def test_alpaca_templates() -> None:
    assert alpaca_prompt("Sum it", "1 2") == ALPACA_WITH_INPUT.format(
        instruction="Sum it", input="1 2"
    )
    assert alpaca_prompt("Sum it", "  ") == ALPACA_NO_INPUT.format(instruction="Sum it")
    assert "### Input:\n1 2" in alpaca_prompt("Sum it", "1 2")
    assert alpaca_prompt("Sum it").endswith("### Response:")


def test_records_become_conversations() -> None:
    qa = to_chat({"question": "q?", "answer": "a."}, "qa", system="Be brief.")
    assert qa == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "q?"},
        {"role": "assistant", "content": "a."},
    ]
    own = to_chat({"question": "q?", "answer": "a.", "system": "Mine."}, "qa", system="Default")
    assert own[0]["content"] == "Mine."
    alpaca = to_chat({"instruction": "Do it", "output": "Done."}, "alpaca")
    assert alpaca[0] == {"role": "user", "content": alpaca_prompt("Do it")}
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    assert to_chat({"messages": messages}, "messages") == messages
    assert preference_prompt({"prompt": "p?"}) == [{"role": "user", "content": "p?"}]
    with pytest.raises(UsageError, match="not an instruction format"):
        to_chat({"text": "x"}, "text")


def test_jsonl_written_by_json_module_round_trips(tmp_path: Path) -> None:
    record = {"instruction": "Translate", "input": "chat", "output": "cat", "extra": [1]}
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    assert dict(load_data(path).examples[0].data) == record
