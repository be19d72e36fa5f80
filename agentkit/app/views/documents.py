"""The Documents page: upload and ingest files with a progress bar and a per-file report,
list, view and delete documents, and the index's statistics."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import streamlit as st

from agentkit.app import ui
from agentkit.app.render import plain
from agentkit.core.errors import UsageError
from agentkit.workspace.documents import (
    UPLOAD_TYPES,
    delete_document,
    document_chunks,
    index_stats,
    ingest_files,
    list_documents,
    save_upload,
)
from agentkit.workspace.settings import AppSettings

REPORT = "ak_ingest_report"
NOTICE = "ak_documents_notice"


def show_stats(settings: AppSettings) -> None:
    stats = index_stats(settings.index)
    cols = st.columns(4)
    cols[0].metric("Documents", stats["documents"])
    cols[1].metric("Chunks", stats["chunks"])
    cols[2].metric("Characters", f"{stats['characters']:,}")
    cols[3].metric("On disk", f"{stats['bytes_on_disk'] / 1e6:.1f} MB")
    st.caption(
        f"Index `{settings.index}` · embedder {plain(stats['embedder'])} "
        f"({stats['dimension']}-d) · store {stats['store']}"
    )


def show_document(settings: AppSettings, source: str, opened: str | None = None) -> None:
    """A document's chunks; the chunk ``opened`` (a cited one, from a chat's source link)
    is expanded and marked."""
    chunks = document_chunks(settings.index, source)
    st.subheader(f"Document: {plain(source, 100)}")
    if not chunks:
        st.warning("This document is not in the index (any more).")
        return
    st.caption(f"{len(chunks)} chunks")
    for chunk in chunks:
        cited = opened is not None and chunk.id == opened
        number = chunk.chunk if chunk.chunk is not None else "?"
        label = f"Chunk {number} · {plain(chunk.id, 80)}" + (
            " · cited in the chat" if cited else ""
        )
        with st.expander(label, expanded=cited, icon=":material/format_quote:" if cited else None):
            st.text(chunk.text)


def ingest_uploads(settings: AppSettings, files: list[Any]) -> list[dict[str, Any]]:
    """Save the uploaded files and ingest them with a progress bar; one report row each."""
    limit = settings.max_upload_mb * 1024 * 1024
    saved, rows = [], []
    for upload in files:
        try:
            saved.append(save_upload(settings.uploads, upload.name, upload.getvalue(), limit))
        except UsageError as exc:
            rows.append(
                {"file": upload.name, "status": "rejected", "chunks": 0, "detail": str(exc)}
            )
    bar = st.progress(0.0, text="Ingesting...")

    def progress(done: int, total: int, name: str) -> None:
        bar.progress(done / total, text=f"Ingested {done}/{total}: {name}")

    try:
        for report in ingest_files(settings.index, saved, settings.embedder, progress):
            row = asdict(report)
            rows.append({"file": row.pop("name"), **row})
    except Exception as exc:  # e.g. the embedder cannot load: shown in the report
        detail = f"{type(exc).__name__}: {exc}"
        rows += [{"file": p.name, "status": "failed", "chunks": 0, "detail": detail} for p in saved]
    return rows


def upload_section(settings: AppSettings) -> None:
    st.subheader("Add documents")
    files = st.file_uploader(
        f"Files ({', '.join(UPLOAD_TYPES)}; up to {settings.max_upload_mb} MB each)",
        type=list(UPLOAD_TYPES),
        accept_multiple_files=True,
        key="ak_uploads",
        max_upload_size=settings.max_upload_mb,  # checked again when saved
    )
    if st.button("Ingest", type="primary", disabled=not files):
        st.session_state[REPORT] = ingest_uploads(settings, list(files or []))
        st.rerun()
    reports = st.session_state.get(REPORT)
    if reports:
        st.caption("Last ingestion")
        st.dataframe(reports, hide_index=True)


def documents_section(settings: AppSettings) -> None:
    docs = list_documents(settings.index)
    st.subheader(f"Documents ({len(docs)})")
    if not docs:
        st.info("The index is empty.")
        return
    st.dataframe([asdict(d) for d in docs], hide_index=True)
    with st.form("delete-document"):
        source = st.selectbox("Document", [d.source for d in docs])
        confirm = st.checkbox("Yes, delete it from the index")
        if st.form_submit_button("Delete") and source is not None:
            if not confirm:
                st.warning("Tick the box to confirm.")
            else:
                removed = delete_document(settings.index, source, settings.uploads)
                st.session_state[NOTICE] = f"Deleted {plain(source)} ({removed} chunks)."
                st.rerun()


def render() -> None:
    settings = ui.page("Documents", NOTICE)
    doc = st.query_params.get("doc")
    if ui.has_index(settings):
        show_stats(settings)
        if isinstance(doc, str) and doc:
            chunk = st.query_params.get("chunk")
            show_document(settings, doc, chunk if isinstance(chunk, str) and chunk else None)
    else:
        st.info(f"No index in `{settings.index}` yet: upload files to create it.")
    upload_section(settings)
    if ui.has_index(settings):
        documents_section(settings)


if __name__ == "__main__":
    render()
