"""Durable agent runs: checkpoints after every step, resume after a crash, in-doubt calls,
and hostile checkpoint files."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from agentkit.agents import (
    CheckpointError,
    ReActAgent,
    SQLiteCheckpointer,
    ToolCallingAgent,
    approve,
    edit,
    reject,
)
from agentkit.core.errors import UsageError
from agentkit.core.messages import ChatResult, Message, ToolCall
from agentkit.llms.fake import FunctionModel
from agentkit.tools import Tool

TURNS = 3
CONFIG = {"configurable": {"thread_id": "t1"}}


class Crash(BaseException):
    """Stands for the process dying inside a tool (nothing catches it)."""


def script(messages: list[Message], params: Any) -> ChatResult:
    """Two calls per turn (lookup n, record n) for TURNS turns, then the answer."""
    done = [m.content for m in messages if m.role == "tool"]
    n = len(done) // 2
    if n < TURNS:
        calls = [ToolCall(f"a{n}", "lookup", {"n": n}), ToolCall(f"b{n}", "record", {"n": n})]
        return ChatResult("", calls)
    return ChatResult("total=" + ",".join(done))


class Tools:
    """lookup (idempotent) and record (not), logging each run; ``crash_at`` makes the
    named call die mid-flight once."""

    def __init__(self) -> None:
        self.log: list[tuple[str, int]] = []
        self.crash_at: tuple[str, int] | None = None

    def _run(self, name: str, n: int, out: str) -> str:
        self.log.append((name, n))
        if self.crash_at == (name, n):
            self.crash_at = None
            raise Crash()
        return out

    def tools(self) -> list[Tool]:
        def lookup(n: int) -> str:
            """Square n."""
            return self._run("lookup", n, str(n * n))

        def record(n: int) -> str:
            """Record n somewhere (a side effect)."""
            return self._run("record", n, f"ok{n}")

        return [Tool.from_function(lookup).marked(idempotent=True), Tool.from_function(record)]


def agent_for(tools: Tools, path: Path, **options: Any) -> ToolCallingAgent:
    store = SQLiteCheckpointer(path)
    return ToolCallingAgent(FunctionModel(script), tools.tools(), checkpointer=store, **options)


EXPECTED = "total=0,ok0,1,ok1,4,ok2"


def test_a_durable_run_gives_the_plain_answer_and_resume_of_a_done_thread_returns_it(
    tmp_path: Path,
) -> None:
    tools = Tools()
    plain = ToolCallingAgent(FunctionModel(script), tools.tools()).invoke("go")
    agent = agent_for(tools, tmp_path / "c.db")
    result = agent.invoke("go", CONFIG)
    assert result["output"] == plain["output"] == EXPECTED
    assert agent.checkpointer is not None and agent.checkpointer.status("t1") == "done"
    ran = len(tools.log)
    again = agent.resume("t1")
    assert again["output"] == EXPECTED and len(tools.log) == ran  # nothing ran again
    assert [s.tool for s in again["steps"]] == [s.tool for s in result["steps"]]


def test_a_crash_in_an_idempotent_call_reruns_it_and_keeps_committed_calls(
    tmp_path: Path,
) -> None:
    tools = Tools()
    agent = agent_for(tools, tmp_path / "c.db")
    tools.crash_at = ("lookup", 1)
    with pytest.raises(Crash):
        agent.invoke("go", CONFIG)
    result = agent_for(tools, tmp_path / "c.db").resume("t1")  # a new process, same file
    assert result["output"] == EXPECTED
    # turn 0 was committed: never run again; lookup 1 crashed and ran again (idempotent)
    assert tools.log.count(("lookup", 0)) == 1 and tools.log.count(("record", 0)) == 1
    assert tools.log.count(("lookup", 1)) == 2 and tools.log.count(("record", 1)) == 1


def test_a_crash_in_a_non_idempotent_call_is_reported_not_repeated(tmp_path: Path) -> None:
    tools = Tools()
    agent = agent_for(tools, tmp_path / "c.db")
    tools.crash_at = ("record", 1)
    with pytest.raises(Crash):
        agent.invoke("go", CONFIG)
    paused = agent.resume("t1")
    assert paused["stopped_reason"] == "interrupted"
    doubt = paused["interrupt"]
    assert doubt.kind == "in_doubt" and doubt.pending.tool == "record"
    assert doubt.pending.args == {"n": 1} and "may or may not" in doubt.question
    assert tools.log.count(("record", 1)) == 1  # not repeated by the resume
    assert agent.pending("t1") == doubt
    with pytest.raises(UsageError, match="waits for a decision"):
        agent.resume("t1")
    done = agent.resume("t1", reject("it went through"))
    assert tools.log.count(("record", 1)) == 1
    assert "may or may not have taken effect. it went through" in done["output"]


def test_an_in_doubt_call_runs_again_when_approved(tmp_path: Path) -> None:
    tools = Tools()
    agent = agent_for(tools, tmp_path / "c.db")
    tools.crash_at = ("record", 2)
    with pytest.raises(Crash):
        agent.invoke("go", CONFIG)
    assert agent.resume("t1")["interrupt"].kind == "in_doubt"
    assert agent.resume("t1", approve())["output"] == EXPECTED
    assert tools.log.count(("record", 2)) == 2


def test_react_runs_are_durable_too(tmp_path: Path) -> None:
    calls: list[str] = []

    def react_script(messages: list[Message], params: Any) -> str:
        seen = messages[-1].content.count("Observation:")
        if seen < 2:
            return f'Thought: step\nAction: shout\nAction Input: {{"word": "w{seen}"}}'
        return "Thought: done\nFinal Answer: shouted twice"

    def shout(word: str) -> str:
        """Shout a word."""
        calls.append(word)
        if word == "w1" and calls.count("w1") == 1:
            raise Crash()
        return word.upper()

    store = SQLiteCheckpointer(tmp_path / "c.db")
    tool = Tool.from_function(shout).marked(idempotent=True)
    agent = ReActAgent(FunctionModel(react_script), [tool], checkpointer=store)
    with pytest.raises(Crash):
        agent.invoke("shout", CONFIG)
    result = agent.resume("t1")
    assert result["output"] == "shouted twice"
    assert calls == ["w0", "w1", "w1"]
    assert [s.observation for s in result["steps"]] == ["W0", "W1"]


def test_async_runs_and_resumes(tmp_path: Path) -> None:
    tools = Tools()
    agent = agent_for(tools, tmp_path / "c.db")
    agent.tools[1].requires_approval = True  # the copy made by marked()/from_function

    async def go() -> Any:
        first = await agent.ainvoke("go", CONFIG)
        assert first["interrupt"].kind == "approval"
        second = await agent.aresume("t1", edit({"n": 7}))
        return second

    second = asyncio.run(go())
    assert second["interrupt"].pending.args == {"n": 1}
    assert ("record", 7) in tools.log


# --- usage errors ------------------------------------------------------------------


def test_usage_errors_say_how_to_fix(tmp_path: Path) -> None:
    tools = Tools()
    agent = agent_for(tools, tmp_path / "c.db")
    with pytest.raises(UsageError, match="thread_id"):
        agent.invoke("go")
    with pytest.raises(UsageError, match="needs a file path"):
        SQLiteCheckpointer(":memory:")
    with pytest.raises(UsageError, match="checkpointer must be"):
        ToolCallingAgent(FunctionModel(script), tools.tools(), checkpointer="c.db")  # type: ignore[arg-type]
    needy = [t.marked(requires_approval=True) for t in tools.tools()]
    with pytest.raises(UsageError, match="needs approval, which needs a durable run"):
        ToolCallingAgent(FunctionModel(script), needy).invoke("go")
    tools.crash_at = ("record", 0)
    with pytest.raises(Crash):
        agent.invoke("go", CONFIG)
    with pytest.raises(UsageError, match=r"unfinished run .*agent.resume\('t1'\)"):
        agent.invoke("go", CONFIG)
    with pytest.raises(UsageError, match="not waiting for a decision"):
        agent.resume("t1", approve())  # crashed, nothing asked yet
    plain = ToolCallingAgent(FunctionModel(script), tools.tools())
    with pytest.raises(UsageError, match="no checkpointer"):
        plain.resume("t1")


def test_resume_of_an_unknown_thread_names_the_file_and_the_threads(tmp_path: Path) -> None:
    agent = agent_for(Tools(), tmp_path / "c.db")
    agent.invoke("go", CONFIG)
    with pytest.raises(CheckpointError, match=r"no thread 'nope' in .*c\.db .*\['t1'\]"):
        agent.resume("nope")


def test_a_checkpoint_of_another_agent_is_refused(tmp_path: Path) -> None:
    tools = Tools()
    agent = agent_for(tools, tmp_path / "c.db")
    tools.crash_at = ("record", 0)
    with pytest.raises(Crash):
        agent.invoke("go", CONFIG)
    other = ReActAgent(FunctionModel(script), tools.tools(), checkpointer=agent.checkpointer)
    with pytest.raises(CheckpointError, match="is a run of ToolCallingAgent"):
        other.resume("t1")


def test_a_file_that_is_not_a_database_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("my notes\n")
    with pytest.raises(UsageError, match=r"the checkpoint file .*notes\.txt .*not a database"):
        SQLiteCheckpointer(path)
    with pytest.raises(UsageError, match="not a regular file"):
        SQLiteCheckpointer(tmp_path)
    assert path.read_text() == "my notes\n"


# --- hostile checkpoints: a clear error naming the file, nothing executed -------------


def _crashed_thread(tmp_path: Path) -> tuple[Tools, Path]:
    tools = Tools()
    path = tmp_path / "c.db"
    tools.crash_at = ("record", 1)
    with pytest.raises(Crash):
        agent_for(tools, path).invoke("go", CONFIG)
    return tools, path


def _sql(path: Path, statement: str, *args: Any) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(statement, args)
    conn.close()


TAMPERINGS = {
    "state not JSON": ("UPDATE agent_threads SET state = ?", "{not json"),
    "state a list": ("UPDATE agent_threads SET state = ?", "[1, 2]"),
    "steps not objects": (
        "UPDATE agent_threads SET state = json_set(state, '$.steps', json('[1]'))",
    ),
    "turn not a count": ("UPDATE agent_threads SET state = json_set(state, '$.turn', 'x')",),
    "a message with a bad role": (
        "UPDATE agent_threads SET state = json_set(state, '$.messages[0].role', 'root')",
    ),
    "unknown thread status": ("UPDATE agent_threads SET status = 'hacked'",),
    "a call with a ref string as tool": (
        "UPDATE agent_calls SET data = json_set(data, '$.tool', 'os:system')",
    ),
    "a call of an unknown tool": (
        "UPDATE agent_calls SET data = json_set(data, '$.tool', 'rm_rf')",
    ),
    "a call not JSON": ("UPDATE agent_calls SET data = ?", "]]"),
    "a call with unknown status": ("UPDATE agent_calls SET status = 'run-it'",),
    "a model reply that is not a message": (
        "UPDATE agent_calls SET data = json('{\"message\": 5}') WHERE key LIKE '%.model'",
    ),
}


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_a_tampered_checkpoint_is_a_clear_error_and_runs_nothing(tmp_path: Path, name: str) -> None:
    tools, path = _crashed_thread(tmp_path)
    statement, *args = TAMPERINGS[name]
    _sql(path, statement, *args)
    before = list(tools.log)
    model_calls: list[int] = []

    def watched(messages: list[Message], params: Any) -> ChatResult:
        model_calls.append(1)
        return script(messages, params)

    agent = ToolCallingAgent(
        FunctionModel(watched), tools.tools(), checkpointer=SQLiteCheckpointer(path)
    )
    with pytest.raises(CheckpointError) as caught:
        agent.resume("t1")
    assert str(path) in str(caught.value) and "'t1'" in str(caught.value)
    assert "nothing was run" in str(caught.value)
    assert tools.log == before and model_calls == []


def test_a_tampered_pending_call_naming_a_ref_is_refused(tmp_path: Path) -> None:
    tools = Tools()
    path = tmp_path / "c.db"
    agent = agent_for(tools, path)
    agent.tools[1].requires_approval = True
    assert agent.invoke("go", CONFIG)["interrupt"].kind == "approval"
    pending = {
        "thread_id": "t1",
        "kind": "approval",
        "value": None,
        "pending": {"tool": "os:system", "args": {"command": "id"}, "call_id": "b0"},
    }
    _sql(path, "UPDATE agent_threads SET pending = ?", json.dumps(pending))
    before = list(tools.log)
    with pytest.raises(CheckpointError, match="unknown tool 'os:system'"):
        agent.resume("t1", approve())
    with pytest.raises(CheckpointError, match="unknown tool 'os:system'"):
        agent.pending("t1")
    assert tools.log == before


# --- specs keep the durable settings ------------------------------------------------


def test_a_spec_keeps_the_checkpointer_the_tool_flags_and_the_policy(tmp_path: Path) -> None:
    from agentkit.core import spec
    from agentkit.core.errors import SpecError
    from agentkit.llms.fake import FakeListModel
    from agentkit.tools import get_tool

    tools = [get_tool("calculator").marked(requires_approval=True), get_tool("python_repl")]
    tools[1] = tools[1].marked(idempotent=True)
    agent = ToolCallingAgent(
        FakeListModel(["hi"]),
        tools,
        checkpointer=SQLiteCheckpointer(tmp_path / "c.db"),
        approval=json.loads,  # any importable function stands for a policy here
    )
    data = spec.dump(agent)
    assert data["checkpointer"] == str(tmp_path / "c.db")
    assert data["requires_approval"] == ["calculator"] and data["idempotent"] == ["python_repl"]
    assert data["approval"] == "json:loads"
    loaded = spec.load(data, allow_imports=True)
    assert isinstance(loaded, ToolCallingAgent) and loaded.checkpointer is not None
    assert loaded.checkpointer.path == tmp_path / "c.db" and loaded.approval is json.loads
    assert [(t.requires_approval, t.idempotent) for t in loaded.tools] == [
        (True, True),  # the calculator is idempotent by itself: only marks are listed
        (False, True),
    ]
    with pytest.raises(SpecError, match=r"requires_approval\[0\].*no tool named 'rm'"):
        spec.load({**data, "requires_approval": ["rm"]}, allow_imports=True)
    with pytest.raises(SpecError, match="approval"):
        spec.load(data)  # a policy outside agentkit is code: refused unless allowed
