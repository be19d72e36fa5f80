from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentkit.core.errors import OutputParserError, UsageError
from agentkit.evals import load_dataset, save_jsonl
from agentkit.evals.qagen import generate_qa, pairs_of
from agentkit.llms import FunctionModel
from agentkit.prompts import PromptTemplate
from agentkit.retrievers.document import Document


def replies(messages: list, params: object) -> str:
    prompt = messages[-1].content
    if "broken" in prompt:
        return "Sorry, I cannot."
    n = int(prompt.split("write ")[1].split(" ")[0])
    topic = prompt.split("<Begin Document>")[1].split()[0]
    pairs = [
        {"question": f"What about {topic} #{i}?", "answer": f"{topic}{i}"} for i in range(n + 1)
    ]
    return "Here you go:\n```json\n" + json.dumps(pairs) + "\n```"


def test_generate_qa_from_documents(tmp_path: Path) -> None:
    docs = [Document("Paris is in France.", id="d1", source="geo.txt"), "Rome is in Italy."]
    examples = generate_qa(docs, FunctionModel(replies), n_per_doc=2)
    assert [e.question for e in examples] == [
        "What about Paris #0?",
        "What about Paris #1?",
        "What about Rome #0?",
        "What about Rome #1?",
    ]  # n_per_doc caps the extra pair the model offered
    first = examples[0]
    assert first.id == "d1-q0" and first.answers == ("Paris0",) and first.relevant_ids == ("d1",)
    assert first.contexts == ("Paris is in France.",) and first.metadata == {"source": "geo.txt"}
    assert examples[2].relevant_ids == (Document("Rome is in Italy.").id,)
    path = save_jsonl(examples, tmp_path / "gen.jsonl")
    assert len(load_dataset(path)) == 4


def test_invalid_replies_raise_or_are_skipped() -> None:
    docs = [Document("broken doc", id="bad"), Document("Oslo is in Norway.", id="ok")]
    with pytest.raises(OutputParserError, match="document 'bad'"):
        generate_qa(docs, FunctionModel(replies))
    kept = generate_qa(docs, FunctionModel(replies), skip_invalid=True)
    assert [e.id for e in kept] == ["ok-q0"]


def test_pairs_shapes_and_prompt_checks() -> None:
    assert pairs_of({"question": "q", "answer": 3}) == [("q", "3")]
    assert pairs_of({"pairs": [{"question": "q", "answer": "a"}, {"x": 1}]}) == [("q", "a")]
    with pytest.raises(OutputParserError):
        pairs_of([{"question": "", "answer": "a"}])
    with pytest.raises(UsageError, match="'document'"):
        generate_qa(["x"], FunctionModel(replies), prompt=PromptTemplate.from_template("{text}"))
    with pytest.raises(UsageError, match="n_per_doc"):
        generate_qa(["x"], FunctionModel(replies), n_per_doc=0)
