"""One chat turn: run a chain on a worker thread and expose its tokens, steps and result.

A :class:`Turn` records every event (a token, an agent step, the end) in order, so a front
end can read them while the chain runs and read them again from the start after a page
rerun. The turn reads the chain's typed event stream (``stream_events``): the models'
tokens (a chain's answer as it is generated; an agent's tokens are its scratchpad and only
time the turn), the agent's steps as they happen, and the output. :meth:`Turn.cancel`
stops the run at the next token or step and keeps the partial answer.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from agentkit.core.config import RunConfig
from agentkit.core.errors import WiringError
from agentkit.core.events import AgentStep, NodeEnd, NodeError, NodeStart, Output, Token
from agentkit.core.tracing import InMemoryTracer
from agentkit.llms.messages import Message
from agentkit.workspace.highlights import mark_sources
from agentkit.workspace.sources import sources_of

QUESTION_KEYS = ("question", "query", "input", "text", "q")
HISTORY_KEYS = ("history", "chat_history")
ANSWER_KEYS = ("result", "answer", "output", "response", "text")
SPAN_KINDS = ("retriever", "model", "reader", "tool")


class TurnCancelled(Exception):
    """Raised inside a run when its turn is cancelled."""


@dataclass
class TurnResult:
    """What a finished turn produced and what it cost."""

    answer: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    latency: float = 0.0
    ttft: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    stopped: bool = False
    error: str | None = None
    pending: dict[str, Any] | None = None  # a paused agent run (Interrupted.to_dict())
    reader: dict[str, Any] = field(default_factory=dict)  # {"abstained", "confidence"}

    def metadata(self) -> dict[str, Any]:
        """What is stored with the assistant message (everything but the answer)."""
        data = asdict(self)
        del data["answer"]
        if data["pending"] is None:
            del data["pending"]
        return data


@dataclass(frozen=True)
class Event:
    """``kind`` is ``token`` (``value`` a str), ``step`` (a dict) or ``done`` (the result)."""

    kind: str
    value: Any


def chain_input(chain: Any, question: str, history: Sequence[Message] = ()) -> Any:
    """What ``chain`` is given for ``question``: a dict for chains that declare input keys
    (question keys get the question, history keys the past messages), else the string."""
    from agentkit.agents import Agent

    if isinstance(chain, Agent):
        return {"input": question}
    keys = getattr(chain, "input_keys", None)
    if not keys:
        return question
    values: dict[str, Any] = {}
    for key in keys:
        if key in QUESTION_KEYS:
            values[key] = question
        elif key in HISTORY_KEYS:
            values[key] = list(history)
        else:
            raise WiringError(
                f"the chain's input key {key!r} cannot be filled from a chat message; give the "
                f"app a chain whose inputs are a question ({', '.join(QUESTION_KEYS)}) and "
                "optionally a history"
            )
    return values


def answer_of(output: Any) -> str:
    """The answer text in a chain's output."""
    if isinstance(output, str):
        return output
    if isinstance(output, Message):
        return output.content
    if isinstance(output, Mapping):
        for key in ANSWER_KEYS:
            if key in output:
                return answer_of(output[key])
        return ""
    return "" if output is None else str(output)


class Turn:
    """Runs ``chain`` on ``question`` in a background thread (call :meth:`start`)."""

    def __init__(
        self,
        chain: Any,
        question: str,
        session: str = "default",
        history: Sequence[Message] = (),
    ) -> None:
        self.id = uuid.uuid4().hex
        self.chain, self.question, self.session = chain, question, session
        self.input = chain_input(chain, question, history)
        self._is_agent = _is_agent(chain)
        self._events: list[Event] = []
        self._cond = threading.Condition()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._first: float | None = None
        self._start = 0.0
        self.result: TurnResult | None = None
        self._nodes: dict[str, dict[str, Any]] = {}  # run id -> step (see _node)
        self._read: Any = None  # a reader's Answer, when a reader answered

    # --- control ------------------------------------------------------------------

    def start(self) -> Turn:
        if self._thread is None:
            self._start = time.perf_counter()
            self._thread = threading.Thread(target=self._run, name="agentkit-turn", daemon=True)
            self._thread.start()
        return self

    def cancel(self) -> None:
        """Stop at the next token or step; the partial answer is kept."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def done(self) -> bool:
        return self.result is not None

    def wait(self, timeout: float | None = None) -> TurnResult | None:
        """Block until the turn ends (or ``timeout`` seconds pass)."""
        with self._cond:
            self._cond.wait_for(lambda: self.result is not None, timeout)
        return self.result

    # --- reading ------------------------------------------------------------------

    def events(self, poll: float = 0.1) -> Iterator[Event]:
        """Every event from the first, waiting for new ones until the turn ends."""
        seen = 0
        while True:
            with self._cond:
                while seen == len(self._events) and self.result is None:
                    self._cond.wait(poll)
                batch = self._events[seen:]
                finished = self.result is not None
            yield from batch
            seen += len(batch)
            if finished and seen == len(self._events):
                return

    def tokens(self) -> Iterator[str]:
        """The answer as it streams; when nothing was streamed, the final answer at once."""
        streamed = False
        for event in self.events():
            if event.kind == "token":
                streamed = True
                yield event.value
            elif event.kind == "done" and not streamed and event.value.answer:
                yield event.value.answer

    def steps(self) -> list[dict[str, Any]]:
        """The agent steps reported so far."""
        with self._cond:
            return [e.value for e in self._events if e.kind == "step"]

    # --- the worker ---------------------------------------------------------------

    def _emit(self, kind: str, value: Any) -> None:
        with self._cond:
            self._events.append(Event(kind, value))
            self._cond.notify_all()

    def _token(self, text: str) -> None:
        if self._cancel.is_set():
            raise TurnCancelled()
        if self._first is None:
            self._first = time.perf_counter() - self._start
        self._emit("token", text)

    def _sink(self, text: str) -> None:
        """A model token. An agent's model writes its scratchpad (thoughts, tool calls) too,
        so its tokens are not the answer: they only time the turn and let it be stopped."""
        if not self._is_agent:
            self._token(text)
        elif self._cancel.is_set():
            raise TurnCancelled()
        elif self._first is None:
            self._first = time.perf_counter() - self._start

    def _run(self) -> None:
        tracer = InMemoryTracer()
        configurable = {"session_id": self.session}
        if getattr(self.chain, "checkpointer", None) is not None:  # a durable agent run
            configurable["thread_id"] = f"{self.session}.{self.id}"
        config = RunConfig(tracers=(tracer,), tags=("app",), configurable=configurable)
        output: Any = None
        error: str | None = None
        try:
            output = self._run_events(config)
        except TurnCancelled:
            output = None
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        try:
            self._finish(output, error, tracer)
        except Exception as exc:  # reading the output failed: readers must not wait forever
            self._end_plainly(output, error or f"{type(exc).__name__}: {exc}")

    def _end_plainly(self, output: Any, error: str) -> None:
        """End the turn with the streamed text (or the output's answer) and ``error``."""
        answer = "".join(e.value for e in self._events if e.kind == "token")
        if not answer and output is not None:
            try:
                answer = answer_of(output)
            except Exception:
                answer = ""
        result = TurnResult(
            answer=answer.strip(),
            latency=time.perf_counter() - self._start,
            ttft=self._first,
            stopped=self._cancel.is_set(),
            error=error,
        )
        self._done(result)

    def _done(self, result: TurnResult) -> None:
        """Publish the result: the last event, which wakes every reader."""
        with self._cond:
            self._events.append(Event("done", result))
            self.result = result
            self._cond.notify_all()

    def _run_events(self, config: RunConfig) -> Any:
        """Read the chain's event stream; return its output (None when it ends without)."""
        events = self.chain.stream_events(self.input, config)
        try:
            for event in events:
                if self._cancel.is_set():
                    raise TurnCancelled()
                if isinstance(event, NodeStart | NodeEnd | NodeError):
                    self._node(event)
                elif isinstance(event, Token):
                    self._sink(event.text)
                elif isinstance(event, AgentStep):
                    self._emit("step", {"kind": "tool", **event.step.to_dict()})
                elif isinstance(event, Output):
                    return event.output
        finally:
            events.close()  # a cancelled turn: the run stops at its next event
        return None

    def _node(self, event: NodeStart | NodeEnd | NodeError) -> None:
        """Record a retriever, model, reader or tool run as a readable step (in start
        order), and keep a reader's answer (its span and passage)."""
        if event.kind not in SPAN_KINDS:
            return
        if isinstance(event, NodeStart):
            self._nodes[event.run_id] = {
                "kind": "span",
                "name": event.name,
                "span_kind": event.kind,
                "started": time.perf_counter(),
                "input": _bounded(readable(event.input)),
                "output": "",
                "error": None,
            }
            return
        step = self._nodes.get(event.run_id)
        if step is None:
            return
        step["seconds"] = time.perf_counter() - step.pop("started")
        if isinstance(event, NodeEnd):
            step["output"] = _bounded(readable(event.output))
            if event.kind == "retriever" and isinstance(event.output, list):
                step["documents"] = len(event.output)
            if event.kind == "reader" and hasattr(event.output, "abstained"):
                self._read = event.output
        else:
            step["error"] = event.error

    def _node_steps(self) -> list[dict[str, Any]]:
        return [
            {**s, "seconds": s.get("seconds", 0.0)}
            for s in self._nodes.values()
            if "started" not in s  # unfinished (a cancelled run): left out
        ]

    def _finish(self, output: Any, error: str | None, tracer: InMemoryTracer) -> None:
        streamed = "".join(e.value for e in self._events if e.kind == "token")
        answer = answer_of(output) if output is not None else streamed
        steps = self.steps() or self._node_steps()
        prompt_tokens = completion_tokens = 0
        for span in tracer.spans:
            if span.kind == "model" and span.usage:
                prompt_tokens += int(span.usage.get("prompt_tokens", 0))
                completion_tokens += int(span.usage.get("completion_tokens", 0))
        sources = sources_of(output) if output is not None else []
        reader = mark_sources(answer, sources, self._read)
        result = TurnResult(
            answer=answer.strip(),
            sources=sources,
            reader=reader,
            steps=steps,
            latency=time.perf_counter() - self._start,
            ttft=self._first,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            stopped=self._cancel.is_set(),
            error=error,
            pending=_pending_of(output),
        )
        self._done(result)


def _pending_of(output: Any) -> dict[str, Any] | None:
    """The pending call of an agent run that paused for a decision or a value."""
    interrupted = output.get("interrupt") if isinstance(output, Mapping) else None
    to_dict = getattr(interrupted, "to_dict", None)
    return dict(to_dict()) if callable(to_dict) else None


def _is_agent(chain: Any) -> bool:
    from agentkit.agents import Agent
    from agentkit.agents.resume import Resumption

    return isinstance(chain, Agent | Resumption)


STEP_CHARS = 4000  # a step's input or output kept with the answer, at most


def readable(value: Any) -> str:
    """A step's input or output as a person reads it: documents as numbered titles with the
    start of their text, messages as ``role: text`` lines, mappings as ``key: value``
    lines, a reader's answer as its span and confidence; never a Python repr."""
    if isinstance(value, str):
        return value
    if isinstance(value, Message):
        return f"{value.role}: {value.content}"
    if hasattr(value, "abstained") and hasattr(value, "confidence"):  # a reader's Answer
        shown = "(abstained)" if value.abstained else value.text
        return f"{shown} · confidence {float(value.confidence):.2f}"
    if hasattr(value, "finish_reason") and isinstance(getattr(value, "text", None), str):
        return str(value.text)  # a ChatResult
    if hasattr(value, "text") and hasattr(value, "source") and hasattr(value, "metadata"):
        title = value.metadata.get("title") or value.source or value.id or "document"
        text = " ".join(str(value.text).split())
        return f"{title}: {text[:160]}{'…' if len(text) > 160 else ''}"
    if isinstance(value, Mapping):
        return "\n".join(f"{key}: {_indent(readable(item))}" for key, item in value.items())
    if isinstance(value, Sequence):
        items = [readable(item) for item in value]
        return "\n".join(f"{i}. {_indent(item)}" for i, item in enumerate(items, 1))
    return "" if value is None else str(value)


def _indent(text: str) -> str:
    return text.replace("\n", "\n   ")


def _bounded(value: Any) -> Any:
    """``value`` as stored with the answer: small values as they are, big ones as the start
    of their text. A model's input holds the whole history, so storing it whole would make
    the history file grow with the square of the chat's length."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= STEP_CHARS:
        return value
    return f"{text[:STEP_CHARS]} [... {len(text) - STEP_CHARS:,} more characters]"


def summary(meta: Mapping[str, Any]) -> str:
    """One line for a finished answer's collapsed status: what it did and how long it
    took ("Retrieved 4 passages · 2 tool calls · 0.31 s")."""
    steps = [s for s in meta.get("steps") or [] if isinstance(s, Mapping)]
    parts: list[str] = []
    counts = [s["documents"] for s in steps if isinstance(s.get("documents"), int)]
    count = counts[0] if counts else len(meta.get("sources") or [])  # the outermost retriever
    if counts or count:
        parts.append(f"Retrieved {count} passage{'s' if count != 1 else ''}")
    tools = [s for s in steps if s.get("kind") == "tool"]
    if tools:
        parts.append(f"{len(tools)} tool call{'s' if len(tools) != 1 else ''}")
    reader = meta.get("reader") or {}
    if reader.get("abstained"):
        parts.append("no answer found")
    latency = meta.get("latency")
    if isinstance(latency, int | float):
        parts.append(f"{latency:.2f} s")
    return " · ".join(parts) or "Answered"
