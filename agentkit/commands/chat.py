"""``agentkit chat``: a terminal chat with memory and streamed answers.

It reads one message per line from standard input (so it can be scripted or tested) and
keeps the conversation in the same SQLite history as the app, where it can be resumed
(``--session ID``, or ``?session=ID`` in the app). Commands: ``/new`` starts a new chat,
``/exit`` (or end of input) leaves. An agent whose tools need approval asks ``y``/``n``/``e``
before such a call (its run is checkpointed next to the history; docs/durable-agents.md).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from agentkit.commands.common import err, model_line, out, printable_text, sources_lines
from agentkit.commands.options import AllowImports, ChainRef, HistoryFile, ModelSpec
from agentkit.core.refs import allowing_imports

EXIT = ("/exit", "/quit")


def chat_chain(
    index: Path | None, model: str, kind: str | None, k: int, sessions: Any, chain: str | None
) -> Any:
    """The chain of the chat: ``--chain``, else a built-in one (RAG when an index is given)."""
    from agentkit.core.errors import UsageError
    from agentkit.workspace.chains import ChainSettings, HistoryMemory, build_chain
    from agentkit.workspace.indexes import open_index
    from agentkit.workspace.models import ENABLE_GENERATIVE, answering_model, choose_model

    if chain is not None:
        from agentkit.evals.suite import load_chain

        return load_chain(chain, Path.cwd())
    opened = open_index(index) if index is not None else None
    kind = kind or ("rag" if opened is not None else "chat")
    choice = choose_model(model)
    err.print(model_line(choice), markup=False)
    if kind == "agent" and not choice.generative:
        raise UsageError(f"--kind agent: {ENABLE_GENERATIVE}")
    if kind == "rag" and opened is None:
        raise UsageError("--kind rag needs --index DIR (an index built by agentkit ingest)")
    memory = HistoryMemory(sessions.store)
    llm = answering_model(choice, opened)
    return build_chain(ChainSettings(kind, k=k), llm, opened, memory)


def chat(
    index: Path = typer.Option(None, "--index", help="Answer from this index (RAG)."),
    model: ModelSpec = "auto",
    kind: str = typer.Option(
        None, "--kind", help="rag, agent or chat (default: rag with --index)."
    ),
    chain: ChainRef = None,
    session: str = typer.Option(None, "--session", help="Resume this chat session."),
    history: HistoryFile = None,
    k: int = typer.Option(4, "--k", min=1, max=50, help="Chunks retrieved per question."),
    allow_imports: AllowImports = False,
) -> None:
    """Chat in the terminal (one message per line on stdin; /new, /exit)."""
    from agentkit.workspace.approvals import with_approvals
    from agentkit.workspace.sessions import ChatSessions, check_session_id, new_session_id
    from agentkit.workspace.settings import AppSettings
    from agentkit.workspace.turns import Turn

    sessions = ChatSessions(history or AppSettings.defaults().history)
    current = check_session_id(session) if session else new_session_id()
    with err.status("Opening the chain..."), allowing_imports(True if allow_imports else None):
        runnable = chat_chain(index, model, kind, k, sessions, chain)
    runnable = with_approvals(runnable, sessions.store.path.parent)
    interactive = sys.stdin.isatty()
    err.print(f"session {current} · /new starts a new chat, /exit leaves", markup=False)
    stdin = typer.get_text_stream("stdin")
    while True:
        if interactive:
            out.print("you> ", end="", markup=False)
        try:
            line = stdin.readline()
        except KeyboardInterrupt:  # Ctrl-C at the prompt leaves, like Ctrl-D
            out.print()
            break
        if not line:
            break
        question = line.strip()
        if not question:
            continue
        if question in EXIT:
            break
        if question == "/new":
            current = new_session_id()
            err.print(f"new session {current}", markup=False)
            continue
        turn = Turn(runnable, question, current, sessions.history(current)).start()
        result = show_turn(turn)
        while result.pending and not result.error:  # an agent waits for a decision
            resumed = ask_decision(runnable, result.pending, question, current, stdin)
            if resumed is None:
                break
            result = show_turn(resumed)
        if result.error:
            err.print(f"error: {printable_text(result.error)}", markup=False)
        for text in sources_lines(result.sources):
            out.print(Text(text, style="dim"))
        sessions.record(current, question, result)
    err.print(f"chat saved as session {current}", markup=False)


def show_turn(turn: Any) -> Any:
    """Print a turn's answer as it streams; return its result."""
    out.print("ai> ", end="", markup=False)
    try:
        for piece in turn.tokens():
            out.print(Text(printable_text(piece)), end="")
    except KeyboardInterrupt:
        turn.cancel()
        out.print(" (stopped)", end="", markup=False)
    out.print()
    result = turn.wait()
    assert result is not None
    return result


def ask_decision(
    runnable: Any, pending: dict[str, Any], question: str, session: str, stdin: Any
) -> Any:
    """Ask y/n/e (or a value) for a paused agent run; the resumed turn, or ``None`` when
    the input ends (the run stays paused)."""
    from agentkit.core.errors import UsageError
    from agentkit.workspace.approvals import answer, question_of, resume_turn

    err.print(f"approval: {printable_text(question_of(pending))}", markup=False)
    kind = str(pending.get("kind"))
    while True:
        prompt = "answer> " if kind == "interrupt" else "approve? [y]es / [n]o / [e]dit> "
        out.print(prompt, end="", markup=False)
        line = stdin.readline()
        if not line:
            err.print(f"left paused (thread {pending.get('thread_id')})", markup=False)
            return None
        choice, text = line.strip(), line.strip()
        if kind != "interrupt" and choice[:1].lower() in ("n", "e"):
            ask = "reason> " if choice[:1].lower() == "n" else "arguments (JSON object)> "
            out.print(ask, end="", markup=False)
            text = stdin.readline().strip()
        try:
            decision, value = answer(kind, choice, text)
        except UsageError as exc:
            err.print(f"error: {exc}", markup=False)
            continue
        return resume_turn(runnable, pending, question, session, decision, value)


def register(app: typer.Typer) -> None:
    app.command("chat")(chat)
