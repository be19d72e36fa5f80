from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from agentkit.core.errors import UsageError
from agentkit.evals import DatasetError, load_dataset, save_jsonl
from agentkit.evals.records import Example
from agentkit.evals.squad_data import load_paragraphs, paragraph_id

SQUAD_V2 = {
    "version": "v2.0",
    "data": [
        {
            "title": "Normans",
            "paragraphs": [
                {
                    "context": "The Normans were in Normandy. Rollo was their leader.",
                    "qas": [
                        {
                            "id": "a1",
                            "question": "Where were the Normans?",
                            "answers": [{"text": "Normandy", "answer_start": 20}],
                            "is_impossible": False,
                        },
                        {
                            "id": "a2",
                            "question": "Who ruled France in 3000?",
                            "answers": [],
                            "plausible_answers": [{"text": "Rollo", "answer_start": 30}],
                            "is_impossible": True,
                        },
                    ],
                }
            ],
        }
    ],
}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_rows_with_aliases_and_metadata(tmp_path: Path) -> None:
    rows = [
        {"id": "x", "question": " Q1? ", "answers": ["a", "b"], "category": "c1", "lang": "en"},
        {"query": "Q2?", "answer": "c", "context": "ctx", "relevant_doc_ids": [3]},
    ]
    ds = load_dataset(write(tmp_path / "d.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n"))
    first, second = ds.examples
    assert (first.id, first.question, first.answers, first.category) == (
        "x",
        "Q1?",
        ("a", "b"),
        "c1",
    )
    assert first.metadata["lang"] == "en"
    assert second.id == "row-2" and second.answers == ("c",)
    assert second.contexts == ("ctx",) and second.relevant_ids == ("3",)
    assert ds.format == "jsonl" and len(ds.sha256) == 64 and not ds.has_unanswerable


def test_csv_with_list_cells(tmp_path: Path) -> None:
    text = (
        "id,question,answers,relevant_ids\n"
        'q1,"Who, really?","[""A"", ""B""]",d1|d2\n'
        "q2,Why?,because,\n"
    )
    ds = load_dataset(write(tmp_path / "d.csv", text))
    assert ds.examples[0].question == "Who, really?"
    assert ds.examples[0].answers == ("A", "B")
    assert ds.examples[0].relevant_ids == ("d1", "d2")
    assert ds.examples[1].answers == ("because",) and ds.examples[1].relevant_ids == ()


def test_json_list_reports_the_line_of_a_bad_item(tmp_path: Path) -> None:
    text = (
        '[\n  {"question": "ok?", "answers": ["y"]},\n\n  {"question": "bad?", "answers": [1]}\n]'
    )
    with pytest.raises(DatasetError) as info:
        load_dataset(write(tmp_path / "d.json", text))
    assert info.value.line == 4 and info.value.field == "answers[0]"
    assert "d.json, line 4, field 'answers[0]'" in str(info.value)


@pytest.mark.parametrize(
    ("row", "field", "fragment"),
    [
        ({"answers": ["a"]}, "question", "missing"),
        ({"question": "", "answers": ["a"]}, "question", "non-empty"),
        ({"question": "q", "answers": 3}, "answers", "list of strings"),
        ({"question": "q", "id": ["x"]}, "id", "non-empty string"),
        ({"question": "q", "answer": "a", "answers": ["b"]}, "answer", "keep one"),
    ],
)
def test_invalid_jsonl_rows_name_file_line_and_field(
    tmp_path: Path, row: dict, field: str, fragment: str
) -> None:
    path = write(tmp_path / "bad.jsonl", json.dumps({"question": "fine"}) + "\n" + json.dumps(row))
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    assert isinstance(info.value, UsageError)
    assert (info.value.file, info.value.line, info.value.field) == (str(path), 2, field)
    assert fragment in str(info.value) and "line 2" in str(info.value)


def test_invalid_json_line(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"line 2: invalid JSON"):
        load_dataset(write(tmp_path / "d.jsonl", '{"question": "a"}\n{"question": '))


def test_duplicate_ids_fail_and_duplicate_questions_are_reported(tmp_path: Path) -> None:
    dup_ids = [{"id": "1", "question": "a"}, {"id": "1", "question": "b"}]
    path = write(tmp_path / "d.jsonl", "\n".join(json.dumps(r) for r in dup_ids))
    with pytest.raises(DatasetError, match="duplicate id '1'"):
        load_dataset(path)
    same_q = [{"id": "1", "question": "What is X?"}, {"id": "2", "question": "what is  x?"}]
    ds = load_dataset(write(tmp_path / "e.jsonl", "\n".join(json.dumps(r) for r in same_q)))
    assert ds.duplicates == ["examples '1' and '2' ask the same question"]


def test_squad_v2_gzip_with_unanswerable(tmp_path: Path) -> None:
    path = tmp_path / "dev.json.gz"
    path.write_bytes(gzip.compress(json.dumps(SQUAD_V2).encode()))
    ds = load_dataset(path)
    assert ds.format == "squad" and ds.squad_version == "2.0" and ds.has_unanswerable
    a1, a2 = ds.examples
    assert a1.answers == ("Normandy",) and a1.relevant_ids == (paragraph_id("Normans", 0),)
    assert a1.category == "Normans" and a1.contexts[0].startswith("The Normans")
    assert a2.answers == () and not a2.answerable  # plausible answers are not gold
    assert [p.id for p in load_paragraphs(path)] == ["Normans#0"]


def test_squad_answerable_question_without_answers_is_an_error(tmp_path: Path) -> None:
    data = json.loads(json.dumps(SQUAD_V2))
    data["data"][0]["paragraphs"][0]["qas"][0]["answers"] = []
    with pytest.raises(DatasetError, match=r"qas\[0\].*'answers'.*not is_impossible"):
        load_dataset(write(tmp_path / "s.json", json.dumps(data)))


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown dataset format 'txt'"):
        load_dataset(write(tmp_path / "d.txt", "x"))
    with pytest.raises(UsageError, match="does not exist"):
        load_dataset(tmp_path / "missing.jsonl")
    with pytest.raises(DatasetError, match="no examples"):
        load_dataset(write(tmp_path / "empty.jsonl", "\n"))


def test_save_jsonl_round_trips(tmp_path: Path) -> None:
    examples = [
        Example("a", "Q?", ("x",), ("ctx",), ("d1",), "cat", {"lang": "en"}),
        Example("b", "R?", ()),
    ]
    ds = load_dataset(save_jsonl(examples, tmp_path / "out.jsonl"))
    assert ds.examples[1].to_dict() == {"id": "b", "question": "R?", "answers": []}
    assert ds.examples[1].line == 2
    first = ds.examples[0]
    assert (first.answers, first.contexts, first.relevant_ids, first.category) == (
        ("x",),
        ("ctx",),
        ("d1",),
        "cat",
    )
    assert first.metadata["lang"] == "en"
