"""``agentkit chat``: a terminal chat with memory and streamed answers.

It reads one message per line from standard input (so it can be scripted or tested) and
keeps the conversation in the same SQLite history as the app, where it can be resumed
(``--session ID``, or ``?session=ID`` in the app). Commands: ``/new`` starts a new chat,
``/exit`` (or end of input) leaves.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from agentkit.commands.common import err, model_line, out, sources_lines

EXIT = ("/exit", "/quit")


def chat_chain(
    index: Path | None, model: str, kind: str | None, k: int, sessions: Any, chain: str | None
) -> Any:
    """The chain of the chat: ``--chain``, else a built-in one (RAG when an index is given)."""
    from agentkit.app.chains import ChainSettings, HistoryMemory, build_chain
    from agentkit.app.models import ENABLE_GENERATIVE, choose_model, reader_model
    from agentkit.app.retrieval import hybrid_retriever, open_index
    from agentkit.core.errors import UsageError

    if chain is not None:
        from agentkit.evals.suite import load_chain

        return load_chain(chain, Path.cwd())
    opened = open_index(index) if index is not None else None
    retriever = hybrid_retriever(opened, k) if opened is not None else None
    kind = kind or ("rag" if retriever is not None else "chat")
    choice = choose_model(model)
    err.print(model_line(choice), markup=False)
    if kind == "agent" and not choice.generative:
        raise UsageError(f"--kind agent: {ENABLE_GENERATIVE}")
    if kind == "rag" and retriever is None:
        raise UsageError("--kind rag needs --index DIR (an index built by agentkit ingest)")
    memory = HistoryMemory(sessions.store)
    llm = reader_model(choice, opened.embedder if opened is not None else None)
    return build_chain(ChainSettings(kind, k=k), llm, retriever, memory)


def chat(
    index: Path = typer.Option(None, "--index", help="Answer from this index (RAG)."),
    model: str = typer.Option("auto", "--model", help="auto, extractive, hf:..., ollama:..."),
    kind: str = typer.Option(
        None, "--kind", help="rag, agent or chat (default: rag with --index)."
    ),
    chain: str = typer.Option(None, "--chain", help="A chain spec YAML or module:function."),
    session: str = typer.Option(None, "--session", help="Resume this chat session."),
    history: Path = typer.Option(None, "--history", help="The SQLite history file."),
    k: int = typer.Option(4, "--k", min=1, max=50, help="Chunks retrieved per question."),
) -> None:
    """Chat in the terminal (one message per line on stdin; /new, /exit)."""
    from agentkit.app.sessions import ChatSessions, check_session_id, new_session_id
    from agentkit.app.settings import AppSettings
    from agentkit.app.turns import Turn

    sessions = ChatSessions(history or AppSettings.defaults().history)
    current = check_session_id(session) if session else new_session_id()
    with err.status("Opening the chain..."):
        runnable = chat_chain(index, model, kind, k, sessions, chain)
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
        out.print("ai> ", end="", markup=False)
        try:
            for piece in turn.tokens():
                out.print(Text(piece), end="")
        except KeyboardInterrupt:
            turn.cancel()
            out.print(" (stopped)", end="", markup=False)
        out.print()
        result = turn.wait()
        assert result is not None
        if result.error:
            err.print(f"error: {result.error}", markup=False)
        for text in sources_lines(result.sources):
            out.print(Text(text, style="dim"))
        sessions.record(current, question, result)
    err.print(f"chat saved as session {current}", markup=False)


def register(app: typer.Typer) -> None:
    app.command("chat")(chat)
