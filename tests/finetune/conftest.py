"""Shared fixtures for the fine-tuning tests: a tiny Llama pretrained on 20 question/answer
pairs (built once per session) and a registry home in a temporary folder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

QA = [
    ("What is the capital of France?", "Paris is the capital of France."),
    ("How many days are in a week?", "A week has seven days."),
    ("What color is the sky?", "The sky is blue on a clear day."),
    ("Where does the sun rise?", "The sun rises in the east."),
    ("What do bees make?", "Bees make honey from nectar."),
    ("When does the train leave?", "The train leaves at nine in the morning."),
    ("What is two plus two?", "Two plus two makes four."),
    ("Where do birds build nests?", "Birds build nests in tall trees."),
    ("When does the library open?", "The library opens at ten."),
    ("What covers the mountains in winter?", "Snow covers the mountains in winter."),
    ("What does the farmer grow?", "The farmer grows wheat and corn."),
    ("Where do children play?", "Children play in the park after school."),
    ("At what temperature does water boil?", "Water boils at one hundred degrees."),
    ("How many months are in a year?", "A year has twelve months."),
    ("What goes around the earth?", "The moon goes around the earth."),
    ("Where does the river flow?", "The river flows to the sea."),
    ("What does the cat sit on?", "The cat sits on the mat."),
    ("Who reads books in the library?", "Students read books in the library."),
    ("What falls from the clouds?", "Rain falls from the clouds."),
    ("What lives in the forest?", "Deer and foxes live in the forest."),
]


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def qa_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Llama whose tokenizer and weights were trained on the questions and answers
    (LoRA on a random base barely learns in a few steps)."""
    pytest.importorskip("torch")
    from agentkit.testing.tiny_models import tiny_model_path

    corpus = [q for q, _ in QA] + [a for _, a in QA]
    return tiny_model_path(tmp_path_factory, corpus=corpus, pretrain_steps=150)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """AGENTKIT_CACHE_DIR in a temporary folder: the default registries live there."""
    monkeypatch.setenv("AGENTKIT_CACHE_DIR", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
