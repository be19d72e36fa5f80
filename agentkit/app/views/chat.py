"""The Chat page: streamed answers with their sources, steps, cost and feedback; past chats
in the sidebar, resumable by the URL's ``?session=`` parameter."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import streamlit as st

from agentkit.app import ui
from agentkit.app.render import (
    MarkdownEscaper,
    highlighted,
    plain,
    safe_markdown,
    source_line,
    stats_line,
    step_title,
)
from agentkit.workspace.highlights import highlight_of
from agentkit.workspace.sessions import ChatEntry, ChatSessions, new_session_id
from agentkit.workspace.sources import DOCUMENTS_PAGE
from agentkit.workspace.turns import Turn, summary
from agentkit.workspace.welcome import capabilities

TURN = "ak_turn"
NOT_SAVED = "ak_not_saved"
WAITING = "ak_waiting"  # an agent run paused for a decision: question, session, pending
ASKED = "ak_asked"  # a sample question clicked on the welcome screen


def current_session(sessions: ChatSessions) -> str:
    """The session named in the URL, else a new one (written to the URL)."""
    value = st.query_params.get("session")
    if isinstance(value, str) and value:
        try:
            sessions.exists(value)
            return value
        except Exception:
            st.warning(f"Ignored the invalid session id in the URL: {plain(value, 80)}")
    session = new_session_id()
    st.query_params["session"] = session
    return session


def chats_sidebar(sessions: ChatSessions, session: str) -> None:
    with st.sidebar:
        st.divider()
        if st.button("New chat", icon=":material/add:", width="stretch"):
            st.query_params["session"] = new_session_id()
            st.rerun()
        this_chat(sessions, session)
        st.caption("Past chats")
        for info in sessions.recent():
            label = plain(info.title or info.id, 40)
            current = info.id == session
            if st.button(label, key=f"chat-{info.id}", disabled=current, width="stretch"):
                st.query_params["session"] = info.id
                st.rerun()


def this_chat(sessions: ChatSessions, session: str) -> None:
    """Rename or delete the current chat (once it has messages)."""
    info = sessions.store.session_info(session)
    if info is None or not info.message_count:
        return
    with st.expander("This chat"):
        title = st.text_input("Title", value=info.title or "", key=f"title-{session}")
        if st.button("Rename", key=f"rename-{session}"):
            sessions.rename(session, title.strip() or None)
            st.rerun()
        if st.button("Delete this chat", key=f"delete-{session}", icon=":material/delete:"):
            turn: Turn | None = st.session_state.get(TURN)
            if turn is not None and turn.session == session:
                turn.cancel()  # it must not write the deleted chat back
                st.session_state.pop(TURN, None)
            sessions.delete(session)
            st.query_params["session"] = new_session_id()
            st.rerun()


# --- showing answers ----------------------------------------------------------------------


def show_sources(sources: list[Mapping[str, Any]], key: str, abstained: bool = False) -> None:
    """The cited passages, ranked, with the answer highlighted in its passage; after an
    abstention, the closest passages (open)."""
    if not sources:
        return
    label = f"Closest passages ({len(sources)})" if abstained else f"Sources ({len(sources)})"
    with st.expander(label, expanded=abstained):
        st.caption("Ranked by retrieval score (higher is closer); the answer is highlighted.")
        for i, source in enumerate(sources, 1):
            st.markdown(f"{i}. {source_line(source)}")
            mark = highlight_of(source)
            if mark is not None:
                st.markdown(highlighted(str(source["passage"]), *mark))
            else:
                st.caption(plain(source.get("snippet", "")))
            link = source.get("link") or ""
            if link.startswith(("http://", "https://")):
                st.link_button("Open", link)
            elif source.get("source"):
                params = {"doc": str(source["source"])}
                if source.get("id"):
                    params["chunk"] = str(source["id"])
                st.page_link(
                    f"views/{DOCUMENTS_PAGE}.py", label="Open in Documents", query_params=params
                )


def show_step(step: Mapping[str, Any], number: int) -> None:
    """One step inside the answer's status: its title, then readable input and output."""
    st.markdown(f"**{step_title(step, number)}**")
    if step.get("kind") == "tool":
        if step.get("thought"):
            st.markdown(f"Thought: {safe_markdown(str(step['thought']))}")
        shown = step.get("tool_input")
        st.caption("Input")
        st.code(
            json.dumps(shown, ensure_ascii=False) if isinstance(shown, dict) else str(shown),
            language=None,
        )
        st.caption("Observation")
        st.text(str(step.get("observation", "")))
    else:
        st.caption(f"{plain(step.get('span_kind', ''))} · input")
        st.text(str(step.get("input", "")))
        st.caption("output")
        st.text(str(step.get("output", "")))
    if step.get("error"):
        st.error(plain(step["error"]))


def show_steps(meta: Mapping[str, Any]) -> None:
    """One collapsed status per answer ("Retrieved 4 passages · 0.31 s"), its steps inside."""
    steps = [s for s in meta.get("steps") or [] if isinstance(s, Mapping)]
    if not steps:
        return
    failed = meta.get("error") or any(s.get("error") for s in steps)
    with st.status(summary(meta), state="error" if failed else "complete", expanded=False):
        for number, step in enumerate(steps, 1):
            show_step(step, number)


def show_entry(sessions: ChatSessions, session: str, entry: ChatEntry) -> None:
    with st.chat_message(entry.role):
        meta = entry.metadata
        if entry.role == "assistant":
            show_steps(meta)
        st.markdown(safe_markdown(entry.content) or "_(no answer)_")
        if entry.role != "assistant":
            return
        if meta.get("error"):
            st.error(plain(meta["error"]))
        abstained = bool((meta.get("reader") or {}).get("abstained"))
        show_sources(meta.get("sources") or [], f"{session}-{entry.index}", abstained)
        line = stats_line(meta)
        if line:
            st.caption(line)
        key = f"fb-{session}-{entry.index}"
        if key not in st.session_state and entry.feedback is not None:
            st.session_state[key] = 1 if entry.feedback == 1 else 0
        st.feedback(
            "thumbs", key=key, on_change=save_feedback, args=(sessions, session, entry.index, key)
        )


def save_feedback(sessions: ChatSessions, session: str, index: int, key: str) -> None:
    value = st.session_state.get(key)
    sessions.set_feedback(session, index, None if value is None else (1 if value == 1 else -1))


# --- running a turn -----------------------------------------------------------------------


def live_stream(turn: Turn, steps_box: Any) -> Iterator[str]:
    """The turn's answer as escaped Markdown pieces; steps are drawn as they arrive."""
    escaper = MarkdownEscaper()
    streamed, steps, status = False, 0, None
    for event in turn.events():
        if event.kind == "step":
            steps += 1
            if status is None:
                status = steps_box.status("Working...", expanded=False)
            with status:
                show_step(event.value, steps)
        elif event.kind == "token":
            streamed = True
            piece = escaper.feed(event.value)
            if piece:
                yield piece
        elif event.kind == "done":
            if status is not None:
                status.update(label=summary(event.value.metadata()), state="complete")
            if not streamed and event.value.answer:
                yield escaper.feed(event.value.answer)
    tail = escaper.flush()
    if tail:
        yield tail


def run_turn(turn: Turn) -> None:
    """Show the running turn (from its first event, so a rerun replays it)."""
    with st.chat_message("user"):
        st.markdown(safe_markdown(turn.question))
    with st.chat_message("assistant"):
        steps_box = st.container()
        if not turn.done:
            st.button("Stop", key=f"stop-{turn.id}", icon=":material/stop:", on_click=turn.cancel)
        st.write_stream(live_stream(turn, steps_box))


def finish_turn(sessions: ChatSessions, turn: Turn) -> None:
    """Save a finished turn. It leaves the session state first: a turn that cannot be saved
    is reported once (on the next run of the page), never retried on every rerun."""
    result = turn.wait(timeout=30)
    if result is None:
        return
    st.session_state.pop(TURN, None)
    if result.pending and not result.error:  # saved once the run finishes
        st.session_state[WAITING] = {
            "question": turn.question,
            "session": turn.session,
            "pending": result.pending,
        }
        return
    try:
        sessions.record(turn.session, turn.question, result)
    except Exception as exc:
        st.session_state[NOT_SAVED] = (
            f"The last answer could not be saved to the chat history ({type(exc).__name__}: "
            f"{exc}); its text was: {result.answer}"
        )


def chat_chain(settings: Any, sessions: ChatSessions) -> Any:
    """The chain of the next turn (checkpointed when its agent asks for approvals)."""
    from pathlib import Path

    from agentkit.workspace.approvals import with_approvals

    return with_approvals(ui.current_chain(settings, sessions), Path(settings.history).parent)


def show_waiting(settings: Any, sessions: ChatSessions, waiting: dict[str, Any]) -> None:
    """The paused run's question with Approve / Reject / Edit (or an answer box)."""
    from agentkit.workspace.approvals import answer, question_of, resume_turn

    pending, key = waiting["pending"], str(waiting["pending"].get("thread_id"))
    kind = str(pending.get("kind"))
    with st.chat_message("user"):
        st.markdown(safe_markdown(waiting["question"]))
    choice: tuple[str, str] | None = None
    with st.chat_message("assistant"):
        st.warning(plain(question_of(pending)))
        if kind == "interrupt":
            text = st.text_input("Your answer", key=f"answer-{key}")
            if st.button("Send", key=f"send-{key}"):
                choice = ("", text)
        else:
            call = pending.get("pending") or {}
            reason = st.text_input("Reason (for Reject)", key=f"reason-{key}")
            args = st.text_area(
                "Arguments (for Edit)",
                json.dumps(call.get("args"), ensure_ascii=False),
                key=f"args-{key}",
            )
            approve_col, reject_col, edit_col = st.columns(3)
            if approve_col.button("Approve", key=f"approve-{key}", icon=":material/check:"):
                choice = ("y", "")
            if reject_col.button("Reject", key=f"reject-{key}", icon=":material/close:"):
                choice = ("n", reason)
            if edit_col.button("Edit", key=f"edit-{key}", icon=":material/edit:"):
                choice = ("e", args)
    if choice is None:
        return
    try:
        decision, value = answer(kind, *choice)
        chain = chat_chain(settings, sessions)
        turn = resume_turn(chain, pending, waiting["question"], waiting["session"], decision, value)
    except Exception as exc:
        st.error(plain(f"{type(exc).__name__}: {exc}"))
        return
    st.session_state.pop(WAITING, None)
    st.session_state[TURN] = turn
    st.rerun()


def welcome(settings: Any) -> None:
    """A new chat: what is indexed, sample questions that ask themselves, what the active
    model can and cannot do."""
    info = ui.index_summary(settings)
    st.markdown("##### What you can ask")
    if info is not None:
        docs, chunks, model = st.columns(3)
        docs.metric("Documents", info.documents)
        chunks.metric("Chunks", info.chunks)
        model.metric("Embedder", info.embedder)
        if info.questions:
            st.caption("Try a question about your documents:")
            for i, question in enumerate(info.questions):
                if st.button(plain(question, 80), key=f"sample-{i}", icon=":material/help:"):
                    st.session_state[ASKED] = question
                    st.rerun()
    elif not settings.chain:
        st.info("Nothing is indexed yet: add documents on the Documents page to ask about them.")
    if settings.chain:
        st.caption(f"Chain `{plain(settings.chain, 100)}` answers your questions.")
        return
    choice = ui.active_model()
    if choice is None:
        return
    can, cannot = capabilities(choice.backend, choice.generative, info is not None)
    lines = [f"- :green[:material/check:] {plain(line)}" for line in can]
    lines += [f"- :gray[:material/block:] cannot {plain(line)}" for line in cannot]
    st.markdown(f"**The active model ({plain(choice.backend)}) can:**\n" + "\n".join(lines))


def render() -> None:
    settings = ui.app_settings()
    ui.sidebar(settings)
    sessions = ui.chat_sessions(str(settings.history))
    session = current_session(sessions)
    chats_sidebar(sessions, session)
    st.title("Chat")
    not_saved = st.session_state.pop(NOT_SAVED, None)
    if not_saved:
        st.error(plain(not_saved))
    turn: Turn | None = st.session_state.get(TURN)
    if turn is not None and (turn.done or turn.cancelled):
        finish_turn(sessions, turn)
        turn = st.session_state.get(TURN)
    entries = sessions.entries(session)
    for entry in entries:
        show_entry(sessions, session, entry)
    waiting = st.session_state.get(WAITING)
    busy = turn is not None or (waiting is not None and waiting["session"] == session)
    if not entries and not busy and ASKED not in st.session_state:
        welcome(settings)
    if turn is not None and turn.session == session:
        run_turn(turn)
        finish_turn(sessions, turn)
        st.rerun()
    waiting = st.session_state.get(WAITING)
    if waiting is not None and waiting["session"] == session:
        show_waiting(settings, sessions, waiting)
        return
    question = st.chat_input("Ask a question", submit_mode="disable")
    question = question or st.session_state.pop(ASKED, None)
    if question and question.strip():
        try:
            chain = chat_chain(settings, sessions)
        except Exception as exc:  # e.g. a bad model choice: the question is kept on screen
            with st.chat_message("user"):
                st.markdown(safe_markdown(question))
            with st.chat_message("assistant"):
                st.error(
                    f"Could not answer: {plain(f'{type(exc).__name__}: {exc}', 300)}. Fix it "
                    "in the sidebar (choose another model) and ask again."
                )
            return
        turn = Turn(chain, question.strip(), session, sessions.history(session)).start()
        st.session_state[TURN] = turn
        run_turn(turn)
        finish_turn(sessions, turn)
        st.rerun()


if __name__ == "__main__":
    render()
