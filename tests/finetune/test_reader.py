"""Span-reader fine-tuning on a tiny BERT: it learns a toy span task and to abstain on a
passage without the answer; the run is saved and registered (round trip), serves the
RetrievalQA reader chain type, survives hostile input, and the CLI trains one."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from agentkit.cli import AgentkitGroup
from agentkit.commands.finetune import register
from agentkit.core.errors import UsageError
from agentkit.finetune.reader import ReaderJob, train_reader
from agentkit.finetune.reader_calibrate import ANSWER_TOKENS, recalibrate_reader
from agentkit.finetune.reader_data import SpanExample, load_squad, squad_examples, with_negatives
from agentkit.finetune.reader_registry import ReaderRegistry
from agentkit.readers import NOT_FOUND, SpanReader
from agentkit.retrievers.document import Document

THINGS = [
    ("ball", "red"), ("car", "blue"), ("hat", "green"), ("cup", "yellow"),
    ("box", "black"), ("pen", "white"), ("kite", "pink"), ("door", "brown"),
]  # fmt: skip
ELSEWHERE = [
    "Trains leave the station at nine in the morning.",
    "The library opens at ten and closes at six.",
    "Bees make honey from the nectar of flowers.",
]
runner = CliRunner()


def passage(thing: str, colour: str) -> str:
    return f"The {thing} is {colour}. It sits on the table."


def toy_examples() -> list[SpanExample]:
    out = []
    for i, (thing, colour) in enumerate(THINGS):
        context, question = passage(thing, colour), f"What colour is the {thing}?"
        out.append(SpanExample(f"q{i}", thing, question, context, context.index(colour), colour,
                               (colour,)))  # fmt: skip
        for j, other in enumerate(ELSEWHERE):
            out.append(SpanExample(f"q{i}-n{j}", "elsewhere", question, other))
    return out * 6


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers")
    from agentkit.testing.tiny_models import build_tiny_encoder

    corpus = [passage(t, c) for t, c in THINGS] + [f"What colour is the {t}?" for t, _ in THINGS]
    return build_tiny_encoder(tmp_path_factory.mktemp("encoder"), corpus + ELSEWHERE)


@pytest.fixture(scope="module")
def trained(encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("reader")
    job = ReaderJob(
        base=str(encoder), output=str(root / "run"), name="toy", max_steps=70, batch_size=16,
        learning_rate=3e-3, warmup_ratio=0.05, freeze_layers=0, negatives=0, held_back=0,
        precision="fp32", threads=1,
    )  # fmt: skip
    events: list[dict] = []
    result = train_reader(
        job, examples=toy_examples(), held_out=toy_examples()[:8],
        registry=ReaderRegistry(root / "registry"), progress=events.append,
    )  # fmt: skip
    return result.output, root / "registry", {"manifest": result.manifest, "events": events}


@pytest.mark.integration
@pytest.mark.slow
def test_a_tiny_reader_learns_the_span_and_abstains_without_the_answer(trained: tuple) -> None:
    folder, _, _ = trained
    reader = SpanReader(folder)
    answer = reader.read("What colour is the car?", [ELSEWHERE[0], passage("car", "blue")])
    assert answer.text == "blue" and answer.passage is not None
    assert answer.passage.text[answer.start : answer.end] == "blue"
    assert answer.highlighted() == "The car is **blue**. It sits on the table."
    assert 0.0 <= answer.confidence <= 1.0
    none = reader.read("What colour is the car?", ELSEWHERE)
    assert none.abstained and none.message == NOT_FOUND and len(none.passages) == 3


@pytest.mark.integration
@pytest.mark.slow
def test_the_run_is_saved_registered_and_carded(trained: tuple) -> None:
    folder, registry_root, info = trained
    for name in ("model.safetensors", "tokenizer.json", "reader.json", "manifest.json"):
        assert (folder / name).exists(), name
    registry = ReaderRegistry(registry_root)
    assert registry.resolve("toy") == folder.resolve() and registry.find("toy") == folder
    manifest = registry.get("toy").manifest
    assert manifest["kind"] == "reader" and manifest["steps"] == 70
    assert (
        manifest["data"]["train_questions"] == 48 and manifest["settings"]["max_length"] == 256
    )  # the encoder's positions
    assert manifest["held_out"]["exact_match"] == 100.0
    assert SpanReader(folder, threshold=5.0).threshold == 5.0
    kinds = [e["event"] for e in info["events"]]
    assert kinds[0] == "start" and kinds[-1] == "end" and "log" in kinds
    assert all("eta_s" in e for e in info["events"] if e["event"] == "step")
    with pytest.raises(UsageError, match=r"no reader named 'toi'.*did you mean 'toy'"):
        registry.get("toi")


@pytest.mark.integration
@pytest.mark.slow
def test_the_offline_model_uses_a_span_reader_in_the_reader_chain(trained: tuple) -> None:
    from agentkit.chains.retrieval_qa import RetrievalQA
    from agentkit.core.compose import Lambda
    from agentkit.llms import user
    from agentkit.llms.extractive import ExtractiveReader
    from agentkit.retrievers.embeddings import HashingEmbedder

    model = ExtractiveReader(HashingEmbedder(), reader=str(trained[0]))
    docs = [Document(ELSEWHERE[1], id="lib"), Document(passage("kite", "pink"), id="kite")]
    qa = RetrievalQA(model, Lambda(lambda q: docs), chain_type="reader")
    out = qa.invoke({"query": "What colour is the kite?"})
    assert out["result"] == "pink" and [s["id"] for s in out["sources"]] == ["kite"]
    abstain = RetrievalQA(model, Lambda(lambda q: docs[:1]), chain_type="reader")
    assert abstain.invoke({"query": "What colour is the kite?"})["result"] == NOT_FOUND
    prompt = f"Context: {passage('cup', 'yellow')}\nQuestion: What colour is the cup?"
    reply = model.invoke([user(prompt)])
    assert reply.content == "yellow" and reply.metadata["reader"] == "span"


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize(
    "question, documents",
    [
        ("What colour is the car?", []),
        ("", [passage("car", "blue")]),
        ("?!?...;", [passage("car", "blue")]),
        ("What colour is the car?" * 200, [passage("car", "blue")]),
        ("What colour is the car?", ["", " \n "]),
        ("What \udcffcolour?", ["The car is \udcff blue \x00 ok.", passage("car", "blue")]),
        ("What colour is the car?", ["the table " * 3000 + passage("car", "blue")]),
    ],
)
def test_hostile_input_does_not_crash_the_span_reader(
    trained: tuple, question: str, documents: list[str]
) -> None:
    answer = SpanReader(trained[0]).read(question, documents)
    assert isinstance(answer.message, str)
    if answer.passage is not None:
        assert answer.passage.text[answer.start : answer.end] == answer.text


def test_squad_files_give_examples_and_negatives(tmp_path: Path) -> None:
    def qa(qid: str, question: str, answer: str, start: int) -> dict[str, object]:
        return {
            "id": qid,
            "question": question,
            "answers": [{"text": answer, "answer_start": start}],
        }

    data = {"version": "2.0", "data": [
        {"title": "A", "paragraphs": [{"context": "Paris is in France.", "qas": [
            qa("1", "Where is Paris?", "France", 12),
            {"id": "2", "question": "Who?", "answers": [], "is_impossible": True}]}]},
        {"title": "B", "paragraphs": [{"context": "Rome is in Italy.", "qas": [
            qa("3", "Where is Rome?", "Italy", 99)]}]},
    ]}  # fmt: skip
    path = tmp_path / "squad.json.gz"
    path.write_bytes(gzip.compress(json.dumps(data).encode()))
    examples = squad_examples(load_squad(path), exclude={"B"})
    assert [(e.id, e.answer_start, e.answer_text) for e in examples] == [
        ("1", 12, "France"), ("2", -1, "")
    ]  # fmt: skip
    every = squad_examples(load_squad(path))
    assert every[-1].answer_start == 11  # a wrong answer_start is found in the context
    mixed = with_negatives(every, 1.0, seed=0)
    negatives = [e for e in mixed if e.id.endswith("-neg0")]
    assert len(negatives) == 3 and all(not e.answerable for e in negatives)
    assert all(n.context != e.context for n, e in zip(negatives, every, strict=True))
    (tmp_path / "bad.json").write_text('{"no": "data"}')
    with pytest.raises(UsageError, match="not in SQuAD format"):
        load_squad(tmp_path / "bad.json")


def test_bad_job_settings_and_missing_data_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="stride"):
        ReaderJob(max_length=64, stride=40)
    with pytest.raises(UsageError, match="precision"):
        ReaderJob(precision="fp8")
    with pytest.raises(UsageError, match="no training data"):
        train_reader(ReaderJob(output=str(tmp_path / "x")), registry=ReaderRegistry(tmp_path))
    with pytest.raises(UsageError, match="not a model folder"):
        from agentkit.finetune.reader import resolve_encoder

        resolve_encoder(str(tmp_path))
    with pytest.raises(UsageError, match=r"not a saved reader \(it needs config.json and reader"):
        ReaderRegistry(tmp_path).register("x", tmp_path)


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer(cls=AgentkitGroup, no_args_is_help=True)

    @root.callback()
    def main() -> None:
        """test root"""

    register(root)
    return root


def test_cli_help_names_the_reader_options(app: typer.Typer) -> None:
    result = runner.invoke(app, ["finetune", "reader", "--help"])
    assert result.exit_code == 0
    for option in ("--data", "--base", "--negatives", "--freeze-layers", "--time-budget"):
        assert option in result.output
    missing = runner.invoke(app, ["finetune", "reader"])
    assert missing.exit_code != 0 and "--data" in missing.output


@pytest.mark.integration
@pytest.mark.slow
def test_cli_trains_and_registers_a_tiny_reader(
    app: typer.Typer, encoder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTKIT_CACHE_DIR", str(tmp_path / "home"))
    paragraphs = [
        {"context": passage(t, c), "qas": [{"id": t, "question": f"What colour is the {t}?",
         "answers": [{"text": c, "answer_start": passage(t, c).index(c)}]}]}
        for t, c in THINGS
    ]  # fmt: skip
    data = {"data": [{"title": f"T{i}", "paragraphs": [p]} for i, p in enumerate(paragraphs)]}
    path = tmp_path / "toy.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, [
        "finetune", "reader", "--data", str(path), "--base", str(encoder), "--articles", "all",
        "--max-steps", "3", "--batch-size", "8", "--held-back", "0.25", "--threads", "1",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "squad-minilm" in result.output and "extractive" in result.output
    found = ReaderRegistry().find()
    assert found is not None and (found / "model.safetensors").exists()
    config = json.loads((found / "reader.json").read_text())
    assert config["max_length"] == 256 and config["max_answer_tokens"] in ANSWER_TOKENS
    again = recalibrate_reader(found)  # the same held-back questions: the same calibration
    assert again["threshold"] == config["threshold"]
    assert again["max_answer_tokens"] == config["max_answer_tokens"]
    card = json.loads((found / "manifest.json").read_text())
    assert card["calibration"]["answer_tokens_scores"] == again["answer_tokens_scores"]


@pytest.mark.integration
@pytest.mark.slow
def test_a_time_budget_stops_training_early_and_the_card_says_so(
    encoder: Path, tmp_path: Path
) -> None:
    job = ReaderJob(
        base=str(encoder), output=str(tmp_path / "run"), name="budget", max_steps=100_000,
        batch_size=8, learning_rate=3e-3, freeze_layers=0, negatives=0, held_back=0,
        precision="fp32", threads=1, time_budget=1.0, eval_questions=0,
    )  # fmt: skip
    events: list[dict] = []
    result = train_reader(
        job, examples=toy_examples(), held_out=[], registry=ReaderRegistry(tmp_path / "reg"),
        progress=events.append,
    )  # fmt: skip
    manifest = result.manifest
    assert manifest["planned_steps"] == 100_000 and 0 < manifest["steps"] < 100_000
    assert manifest["settings"]["time_budget"] == 1.0
    totals = [e["total_steps"] for e in events if e["event"] == "step"]
    assert totals[-1] == manifest["steps"] and min(totals) < 100_000  # the plan shrank
