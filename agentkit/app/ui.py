"""Streamlit glue shared by the pages: settings, cached resources, the sidebar and the
current chain. The logic behind it lives in :mod:`agentkit.workspace` (no streamlit)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import streamlit as st

from agentkit.app import main_script
from agentkit.app.auth import require_access
from agentkit.app.render import plain
from agentkit.workspace.chains import KIND_LABELS, ChainSettings, HistoryMemory, build_chain
from agentkit.workspace.indexes import is_index, open_index
from agentkit.workspace.models import (
    ENABLE_GENERATIVE,
    MODEL_CHOICES,
    ModelChoice,
    answering_model,
    choose_model,
)
from agentkit.workspace.sessions import ChatSessions
from agentkit.workspace.settings import AppSettings
from agentkit.workspace.welcome import IndexSummary, summarize_index

PENDING = "ak_pending"
SIDEBAR_KEYS = ("ak_model", "ak_kind", "ak_k", "ak_temperature")


def app_settings() -> AppSettings:
    """The settings of this app process (script arguments over environment). Every page
    starts with this call, so it also holds the access gate: a page run without the entry
    script (a page script run on its own) still shows only the token prompt."""
    require_access()
    args = sys.argv[1:] if Path(sys.argv[0]).resolve() == main_script() else []
    return AppSettings.load(args, os.environ)


@st.cache_resource(show_spinner=False)
def chat_sessions(path: str) -> ChatSessions:
    return ChatSessions(path)


@st.cache_resource(show_spinner="Loading the model...")
def cached_model(spec: str) -> ModelChoice:
    return choose_model(spec)


def index_version(index_dir: Path) -> float:
    """Changes whenever the index is written (the newest file time in it)."""
    store = index_dir / "store"
    times = [p.stat().st_mtime for p in store.rglob("*") if p.is_file()] if store.exists() else []
    return max(times, default=0.0)


@st.cache_resource(show_spinner="Opening the index...", max_entries=4)
def cached_index(index_dir: str, version: float) -> Any:
    return open_index(index_dir)


@st.cache_resource(show_spinner="Loading the chain...", max_entries=4)
def loaded_chain(ref: str) -> tuple[Any, dict[str, Any] | None]:
    """The custom chain named by ``--chain`` and its spec (``None`` if it has none)."""
    from agentkit.core import spec
    from agentkit.core.errors import AgentkitError

    chain = spec.load_file(ref)
    try:
        data: dict[str, Any] | None = chain.to_dict()
    except (AgentkitError, TypeError):
        data = None
    return chain, data


def has_index(settings: AppSettings) -> bool:
    return is_index(settings.index)


# --- state ------------------------------------------------------------------------------


def chain_settings() -> ChainSettings:
    """The built-in chain settings: kind, top-k and temperature from the sidebar widgets,
    prompt texts from the Graph page."""
    state = st.session_state
    prompts = state.get("ak_prompts", {})
    return ChainSettings(
        kind=state.get("ak_kind", "rag"),
        k=int(state.get("ak_k", 4)),
        temperature=state.get("ak_temperature"),
        prompts=prompts,
    )


def custom_chain(settings: AppSettings) -> tuple[Any, dict[str, Any] | None]:
    """The custom chain (as edited on the Graph page, if it was)."""
    assert settings.chain is not None
    edited = st.session_state.get("ak_custom")
    if edited is not None and edited[0] == settings.chain:
        return edited[1], edited[2]
    chain, data = loaded_chain(settings.chain)
    return chain, data


def current_chain(settings: AppSettings, sessions: ChatSessions) -> Any:
    """The chain the next chat turn runs."""
    if settings.chain:
        return custom_chain(settings)[0]
    chosen = chain_settings()
    choice = cached_model(st.session_state.get("ak_model", settings.model))
    index = None
    if has_index(settings):
        index = cached_index(str(settings.index), index_version(settings.index))
    return build_chain(chosen, answering_model(choice, index), index, HistoryMemory(sessions.store))


def active_model() -> ModelChoice | None:
    """The model chosen in the sidebar, or ``None`` when it cannot be loaded (see
    :func:`model_problem`)."""
    try:
        return cached_model(st.session_state.get("ak_model", "auto"))
    except Exception:
        return None


def model_problem(spec: str) -> str:
    """Why the model ``spec`` cannot be used, as one Markdown message."""
    try:
        cached_model(spec)
    except Exception as exc:
        return (
            f"Cannot use the model {plain(spec, 60)}: {plain(f'{type(exc).__name__}: {exc}', 300)}"
            " — choose another model above (auto, extractive, ...)."
        )
    return ""


@st.cache_resource(show_spinner=False, max_entries=4)
def cached_summary(index_dir: str, version: float) -> IndexSummary:
    return summarize_index(index_dir)


def index_summary(settings: AppSettings) -> IndexSummary | None:
    """Documents, chunks, embedder and sample questions of the index (``None``: none)."""
    if not has_index(settings):
        return None
    return cached_summary(str(settings.index), index_version(settings.index))


# --- the sidebar ------------------------------------------------------------------------


def page(title: str, notice_key: str | None = None) -> AppSettings:
    """Start a page: the settings, the shared sidebar, the title, and the notice an action
    left under ``notice_key`` before its rerun (shown once)."""
    settings = app_settings()
    sidebar(settings)
    st.title(title)
    notice = st.session_state.pop(notice_key, None) if notice_key else None
    if notice:
        st.success(notice)
    return settings


def sidebar(settings: AppSettings) -> None:
    """Model, chain choice, temperature and top-k (every page shows them)."""
    state = st.session_state
    # Each page draws its own sidebar widgets, and Streamlit forgets a widget's value when
    # the page changes: keep the values as plain state, which the new widgets start from.
    for key in SIDEBAR_KEYS:
        if key in state:
            state[key] = state[key]
    state.update(state.pop(PENDING, None) or {})  # values set elsewhere, before the widgets
    with st.sidebar:
        if settings.chain:
            st.markdown(f"**Chain:** `{settings.chain}`")
            st.caption("Set with --chain; edit its parameters on the Graph page.")
            return
        state.setdefault("ak_model", settings.model)
        choices = list(dict.fromkeys([settings.model, *MODEL_CHOICES]))
        st.selectbox(
            "Model",
            choices,
            key="ak_model",
            help="auto: a running Ollama server, else a cached Hugging Face model, else the "
            "extractive reader. Or type hf:<id>, ollama:<model>, openai:<model>.",
            accept_new_options=True,
        )
        choice = active_model()
        if choice is None:  # one message; the other controls stay usable
            st.error(model_problem(state["ak_model"]))
        else:
            st.caption(f"Active: **{plain(choice.backend)}** — {plain(choice.reason)}")
        kinds = ["rag", "agent", "chat"] if has_index(settings) else ["agent", "chat"]
        if choice is not None and not choice.generative:
            kinds = [k for k in kinds if k != "agent"]
        if state.get("ak_kind") not in kinds and kinds:
            state["ak_kind"] = kinds[0]
        st.radio("Chain", kinds, key="ak_kind", format_func=KIND_LABELS.__getitem__)
        if choice is not None and not choice.generative:
            st.info(ENABLE_GENERATIVE)
        if not has_index(settings):
            st.info("No index yet: add documents on the Documents page to ask about them.")
        state.setdefault("ak_k", 4)
        st.number_input("Top-k", min_value=1, max_value=50, step=1, key="ak_k")
        if "ak_temperature" not in state:
            state["ak_temperature"] = None
        st.number_input(
            "Temperature",
            min_value=0.0,
            max_value=2.0,
            step=0.1,
            key="ak_temperature",
            placeholder="model default",
        )
