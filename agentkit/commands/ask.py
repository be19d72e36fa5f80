"""``agentkit ask "question" --index DIR``: one answer with its sources, streamed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from agentkit.commands.common import err, model_line, out, printable_text, sources_table
from agentkit.commands.options import AsJson, ModelSpec


def rag_chain(index: Path, model: str, k: int, temperature: float | None = None) -> tuple[Any, Any]:
    """The built-in RAG chain over ``index`` (the index's own ``qa_chain``) with the model
    ``model`` resolves to. Opening the index writes nothing into it."""
    from agentkit.workspace.chains import ChainSettings, build_chain
    from agentkit.workspace.indexes import open_index
    from agentkit.workspace.models import answering_model, choose_model

    opened = open_index(index)
    choice = choose_model(model)
    settings = ChainSettings("rag", k=k, temperature=temperature)
    return build_chain(settings, answering_model(choice, opened), opened), choice


def ask(
    question: str = typer.Argument(..., help="The question."),
    index: Path = typer.Option(..., "--index", help="An index built by agentkit ingest."),
    model: ModelSpec = "auto",
    k: int = typer.Option(4, "--k", min=1, max=50, help="How many chunks to retrieve."),
    temperature: float = typer.Option(None, "--temperature", min=0.0, max=2.0),
    as_json: AsJson = False,
) -> None:
    """Answer a question from an index, citing the sources used."""
    from agentkit.core.errors import RunError, UsageError
    from agentkit.workspace.turns import Turn

    if not question.strip():
        raise UsageError("the question is empty; ask something, e.g. agentkit ask 'What is X?'")
    with err.status("Opening the index and the model..."):
        chain, choice = rag_chain(index, model, k, temperature)
    err.print(model_line(choice), markup=False)
    turn = Turn(chain, question.strip()).start()
    if not as_json:
        for piece in turn.tokens():
            out.print(printable_text(piece), end="", markup=False)
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
        out.print(in_passage(result.answer, result.sources))


def in_passage(answer: str, sources: list[dict[str, Any]]) -> Any:
    """The answer span in bold inside its passage (the first source's snippet), or, when
    the offline reader abstained, a pointer to the closest passages."""
    from rich.text import Text

    from agentkit.readers import NOT_FOUND

    if answer == NOT_FOUND:
        return Text("The closest passages are listed above.", style="dim")
    snippet = str(sources[0].get("snippet") or "")
    at = snippet.find(answer) if answer else -1
    if at < 0 or len(answer) > len(snippet) // 2:  # not a span (a sentence or generated text)
        return Text("")
    start, end = max(0, at - 160), min(len(snippet), at + len(answer) + 160)
    shown = Text("in context: " + ("…" if start else ""), style="dim")
    shown.append(snippet[start:at])
    shown.append(answer, style="bold")
    shown.append(snippet[at + len(answer) : end] + ("…" if end < len(snippet) else ""))
    return shown


def register(app: typer.Typer) -> None:
    app.command("ask")(ask)
