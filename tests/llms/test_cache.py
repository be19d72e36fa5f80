"""LLM response caches: exact hits and misses, params and tools in the key, streaming
replay, errors never cached, the global switch, several processes on one file, corrupt
files, non-JSON params, and the semantic cache's threshold."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentkit.core.errors import UsageError
from agentkit.llms import GenerationParams, Message, user
from agentkit.llms.cache import CacheRequest, SQLiteCache, get_llm_cache, set_llm_cache
from agentkit.llms.fake import FunctionModel
from agentkit.llms.messages import ChatResult


class Counter:
    """A fake model that counts its calls and numbers its replies."""

    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail
        self.model = FunctionModel(self)

    def __call__(self, messages: list[Message], params: GenerationParams) -> str:
        self.calls += 1
        if self.fail:
            raise RuntimeError("server down")
        return f"reply number {self.calls} to {messages[-1].content}"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "llm.sqlite"


@pytest.fixture(autouse=True)
def _no_global_cache() -> Iterator[None]:
    yield
    set_llm_cache(None)


def test_repeated_request_is_a_hit_and_a_new_one_a_miss(path: Path) -> None:
    counter = Counter()
    model = counter.model.with_cache(path)
    first = model.invoke("hi")
    again = model.invoke("hi")
    assert again.content == first.content and counter.calls == 1
    assert again.metadata["cache"] == "hit" and "cache" not in first.metadata
    assert model.invoke("other").content == "reply number 2 to other"
    assert (model.cache.hits, model.cache.misses) == (1, 2)


def test_params_and_tools_are_part_of_the_key(path: Path) -> None:
    counter = Counter()
    model = counter.model.with_cache(path)
    model.invoke("hi")
    model.bind(temperature=0.5).invoke("hi")
    model.bind(temperature=0.5).invoke("hi")
    assert counter.calls == 2
    model.generate([user("hi")], GenerationParams(max_new_tokens=5))
    assert counter.calls == 3


def test_stream_of_a_hit_replays_the_text_as_chunks(path: Path) -> None:
    counter = Counter()
    model = counter.model.with_cache(path)
    first = "".join(c.content for c in model.stream("hello there"))
    chunks = list(model.stream("hello there"))
    assert counter.calls == 1 and len(chunks) > 1
    assert "".join(c.content for c in chunks) == first
    assert chunks[-1].metadata["cache"] == "hit"


def test_async_requests_use_the_cache(path: Path) -> None:
    counter = Counter()
    model = counter.model.with_cache(path)
    model.invoke("hi")

    async def run() -> list[str]:
        text = (await model.ainvoke("hi")).content
        chunks = [c.content async for c in model.astream("hi")]
        return [text, "".join(chunks)]

    assert asyncio.run(run()) == ["reply number 1 to hi"] * 2
    assert counter.calls == 1


def test_batch_sends_only_the_misses(path: Path) -> None:
    counter = Counter()
    model = counter.model.with_cache(path)
    model.invoke("a")
    out = model.batch(["a", "b", "c"], max_concurrency=1)
    assert out[0].content == "reply number 1 to a"
    assert counter.calls == 3


def test_errors_are_never_cached(path: Path) -> None:
    failing = Counter(fail=True)
    model = failing.model.with_cache(path)
    for _ in range(2):
        with pytest.raises(RuntimeError, match="server down"):
            model.invoke("hi")
    assert failing.calls == 2 and len(SQLiteCache(path)) == 0


def test_a_stream_left_early_is_not_cached(path: Path) -> None:
    counter = Counter()
    model = counter.model.with_cache(path)
    stream = model.stream("one two three four")
    next(iter(stream))
    stream.close()  # type: ignore[attr-defined]
    assert len(SQLiteCache(path)) == 0


def test_global_cache_applies_to_every_model(path: Path) -> None:
    counter = Counter()
    assert get_llm_cache() is None
    set_llm_cache(path)
    counter.model.invoke("hi")
    FunctionModel(counter).invoke("hi")  # another object, same identity: a hit
    assert counter.calls == 1
    set_llm_cache(None)
    counter.model.invoke("hi")
    assert counter.calls == 2


def test_global_cache_answers_native_batches_and_sends_only_the_misses(path: Path) -> None:
    counter = Counter()
    set_llm_cache(path)
    first = counter.model.generate_batch([[user("a")], [user("b")]])
    again = FunctionModel(counter).generate_batch([[user("b")], [user("c")], [user("a")]])
    assert counter.calls == 3  # a, b, then only c
    assert [r.text for r in again] == [first[1].text, "reply number 3 to c", first[0].text]
    assert [r.metadata.get("cache") for r in again] == ["hit", None, "hit"]


def test_an_empty_global_cache_fills_from_async_streams(path: Path) -> None:
    counter = Counter()
    set_llm_cache(path)  # empty: len() == 0 must not read as "no cache"

    async def streamed() -> str:
        return "".join([c.content async for c in counter.model.astream("hi")])

    assert asyncio.run(streamed()) == asyncio.run(streamed()) == "reply number 1 to hi"
    assert counter.calls == 1


def test_corrupt_cache_file_raises_usage_error_naming_it(path: Path) -> None:
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(UsageError, match=r"llm\.sqlite.*delete it"):
        SQLiteCache(path)
    with pytest.raises(UsageError, match=r"llm\.sqlite"):
        set_llm_cache(path)
    with pytest.raises(UsageError, match="folder"):
        SQLiteCache(path.parent)
    with pytest.raises(UsageError, match="lookup/update"):
        Counter().model.with_cache(42)  # type: ignore[arg-type]


def test_non_json_values_in_a_key_do_not_crash(path: Path) -> None:
    class Odd:
        def __repr__(self) -> str:
            return "Odd()"

    cache = SQLiteCache(path)
    request = CacheRequest("m", {"weird": Odd(), "set": {1, 2}}, (user("hi"),))
    assert request.key == CacheRequest("m", {"weird": Odd(), "set": {1, 2}}, (user("hi"),)).key
    cache.update(request, ChatResult("ok", metadata={"odd": Odd()}))
    found = cache.lookup(request)
    assert found is not None and found.text == "ok"


def test_entries_are_shared_across_processes(path: Path) -> None:
    script = textwrap.dedent(
        f"""
        from agentkit.llms.fake import FunctionModel
        calls = []
        def fn(messages, params):
            calls.append(1)
            return "from child " + messages[-1].content
        model = FunctionModel(fn, ).with_cache({str(path)!r})
        for i in range(20):
            model.invoke(f"q{{i % 5}}")
        print(len(calls))
        """
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    counts = [int(p.communicate(timeout=120)[0].strip()) for p in runs]
    assert all(p.returncode == 0 for p in runs)
    assert all(c <= 5 for c in counts)  # each process misses at most the 5 distinct prompts
    assert len(SQLiteCache(path)) == 5

    check = textwrap.dedent(
        f"""
        from agentkit.llms.fake import FunctionModel
        def fn(messages, params):
            raise AssertionError("must be a hit")
        print(FunctionModel(fn).with_cache({str(path)!r}).invoke("q3").content)
        """
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert done.stdout.strip() == "from child q3", done.stderr


class WordEmbedder:
    """Bag of words over a tiny vocabulary: similar questions get similar vectors."""

    model_id, dimension = "words", 6
    words = ("capital", "france", "paris", "weather", "rome", "of")

    def embed_batch(self, texts: Any) -> Any:
        import numpy as np

        rows = []
        for text in texts:
            tokens = text.lower().replace("?", "").split()
            vec = np.array([float(tokens.count(w)) for w in self.words], dtype=np.float32)
            rows.append(vec / (np.linalg.norm(vec) or 1.0))
        return np.stack(rows)


def test_semantic_cache_hits_similar_requests_above_the_threshold(tmp_path: Path) -> None:
    from agentkit.llms.semantic_cache import SemanticCache

    counter = Counter()
    cache = SemanticCache(WordEmbedder(), threshold=0.9, path=tmp_path / "semantic.sqlite")
    model = counter.model.with_cache(cache)
    model.invoke("capital of France?")
    assert model.invoke("the capital of france").metadata.get("cache") == "hit"
    assert counter.calls == 1
    model.invoke("weather of Rome?")  # dissimilar: a miss
    assert counter.calls == 2
    model.bind(temperature=1.0).invoke("capital of France?")  # other params: a miss
    assert counter.calls == 3
    reloaded = SemanticCache(WordEmbedder(), threshold=0.9, path=tmp_path / "semantic.sqlite")
    assert (
        counter.model.with_cache(reloaded)
        .invoke("capital of france")
        .content.startswith("reply number 1")
    )
    strict = counter.model.with_cache(SemanticCache(WordEmbedder(), threshold=1.0))
    strict.invoke("capital of France?")
    strict.invoke("capital of France? of")
    assert counter.calls == 5


@pytest.mark.parametrize("threshold", [0, 1.5, "high", True])
def test_semantic_cache_rejects_bad_thresholds(threshold: Any) -> None:
    from agentkit.llms.semantic_cache import SemanticCache

    with pytest.raises(UsageError, match="threshold"):
        SemanticCache(WordEmbedder(), threshold=threshold)


def test_corrupt_semantic_cache_file_raises_usage_error(tmp_path: Path) -> None:
    from agentkit.llms.semantic_cache import SemanticCache

    bad = tmp_path / "semantic.sqlite"
    bad.write_bytes(b"garbage" * 200)
    with pytest.raises(UsageError, match=r"semantic\.sqlite"):
        SemanticCache(WordEmbedder(), path=bad)


EVAL_CHAIN = """type: sequence
steps:
- type: prompt
  template: 'Q: {question}'
- type: fake_list_model
  responses: ['4']
- type: str_parser
"""


def test_eval_rerun_answers_from_the_cache(tmp_path: Path) -> None:
    import json
    import sqlite3

    from typer.testing import CliRunner

    from agentkit.cli import app

    (tmp_path / "chain.yaml").write_text(EVAL_CHAIN)
    rows = [{"id": str(i), "question": f"{i}+{i}?", "answers": ["4"]} for i in range(3)]
    (tmp_path / "data.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    cache = tmp_path / "llm.sqlite"

    def run(out: str, cache_path: Path = cache) -> Any:
        args = ["eval", "run", "--chain", str(tmp_path / "chain.yaml"), "--dataset"]
        args += [str(tmp_path / "data.jsonl"), "--metrics", "em", "--out", str(tmp_path / out)]
        return CliRunner().invoke(app, [*args, "--no-report", "--cache", str(cache_path)])

    first = run("run1")
    assert first.exit_code == 0, first.output
    assert len(SQLiteCache(cache)) == 3 and get_llm_cache() is None
    with sqlite3.connect(cache) as conn:  # mark the cached replies: a rerun must show them
        conn.execute("UPDATE llm_cache SET value = ?", (json.dumps({"text": "cached"}),))
    second = run("run2")
    assert second.exit_code == 0, second.output
    summary = json.loads((tmp_path / "run2" / "summary.json").read_text())
    assert summary["metrics"]["em"] == 0.0  # every answer came from the cache

    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not a database" * 100)
    failed = run("run3", bad)
    assert failed.exit_code != 0
    assert "bad.sqlite" in str(failed.exception) + failed.output
