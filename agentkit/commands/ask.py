"""``agentkit ask "question" --index DIR``: one answer with its sources, streamed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from agentkit.commands.common import err, model_line, out, sources_table


def rag_chain(index: Path, model: str, k: int, temperature: float | None = None) -> tuple[Any, Any]:
    """The built-in RAG chain over ``index`` with the model ``model`` resolves to."""
    from agentkit.app.chains import ChainSettings, build_chain
    from agentkit.app.models import choose_model, reader_model
    from agentkit.app.retrieval import hybrid_retriever, open_index

    opened = open_index(index)
    retriever = hybrid_retriever(opened, k)
    choice = choose_model(model)
    settings = ChainSettings("rag", k=k, temperature=temperature)
    return build_chain(settings, reader_model(choice, opened.embedder), retriever), choice


def ask(
    question: str = typer.Argument(..., help="The question."),
    index: Path = typer.Option(..., "--index", help="An index built by agentkit ingest."),
    model: str = typer.Option("auto", "--model", help="auto, extractive, hf:..., ollama:..."),
    k: int = typer.Option(4, "--k", min=1, max=50, help="How many chunks to retrieve."),
    temperature: float = typer.Option(None, "--temperature", min=0.0, max=2.0),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Answer a question from an index, citing the sources used."""
    from agentkit.app.turns import Turn
    from agentkit.core.errors import RunError, UsageError

    if not question.strip():
        raise UsageError("the question is empty; ask something, e.g. agentkit ask 'What is X?'")
    with err.status("Opening the index and the model..."):
        chain, choice = rag_chain(index, model, k, temperature)
    err.print(model_line(choice), markup=False)
    turn = Turn(chain, question.strip()).start()
    if not as_json:
        for piece in turn.tokens():
            out.print(piece, end="", markup=False)
        out.print()
    result = turn.wait()
    assert result is not None
    if result.error:
        raise RunError(f"answering failed: {result.error}")
    if as_json:
        data = {"answer": result.answer, "sources": result.sources, "model": choice.backend}
        print(json.dumps({**data, "latency": result.latency}, ensure_ascii=False))
        return
    if result.sources:
        out.print(sources_table(result.sources))


def register(app: typer.Typer) -> None:
    app.command("ask")(ask)
