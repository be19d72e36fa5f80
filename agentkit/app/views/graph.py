"""The Graph page: the current chain graph (drawn offline with Graphviz DOT; ASCII and
Mermaid source as text), its YAML spec, and its editable parameters (top-k, temperature,
prompt texts), applied at once."""

from __future__ import annotations

from typing import Any

import streamlit as st

from agentkit.app import ui
from agentkit.app.render import plain
from agentkit.workspace.graphs import (
    Param,
    apply_builtin,
    apply_spec,
    builtin_params,
    graph_view,
    spec_params,
)
from agentkit.workspace.settings import AppSettings

NOTICE = "ak_graph_notice"


def param_inputs(params: list[Param]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for i, param in enumerate(params):
        key = f"param-{i}-{param.key}"
        if param.kind == "int":
            values[param.key] = int(
                st.number_input(
                    param.label, min_value=1, max_value=50, value=int(param.value), step=1, key=key
                )
            )
        elif param.kind == "float":
            values[param.key] = st.number_input(
                param.label,
                min_value=0.0,
                max_value=2.0,
                value=param.value,
                step=0.1,
                key=key,
                placeholder="model default",
            )
        else:
            values[param.key] = st.text_area(
                param.label, value=str(param.value), height=160, key=key
            )
    return values


def apply_builtin_values(values: dict[str, Any]) -> None:
    settings = apply_builtin(ui.chain_settings(), values)
    st.session_state[ui.PENDING] = {
        "ak_k": settings.k,
        "ak_temperature": settings.temperature,
        "ak_prompts": dict(settings.prompts),
    }


def apply_custom_values(
    settings: AppSettings, data: dict[str, Any], values: dict[str, Any]
) -> None:
    from agentkit.core import spec

    edited = apply_spec(data, values)
    chain = spec.load(edited)
    st.session_state["ak_custom"] = (settings.chain, chain, edited)


def render() -> None:
    settings = ui.page("Chain graph", NOTICE)
    try:
        if settings.chain:
            chain, data = ui.custom_chain(settings)
        else:
            sessions = ui.chat_sessions(str(settings.history))
            chain, data = ui.current_chain(settings, sessions), None
    except Exception as exc:
        st.error(plain(f"{type(exc).__name__}: {exc}"))
        return
    view = graph_view(chain)
    left, right = st.columns([3, 2])
    with left:
        st.graphviz_chart(view.dot, width="stretch")
        with st.expander("As text (ASCII) and Mermaid source"):
            st.code(view.ascii, language=None)
            st.caption("Mermaid source (paste into any Mermaid viewer)")
            st.code(view.mermaid, language=None)
    with right:
        st.caption("YAML spec")
        if view.yaml is not None:
            st.code(view.yaml, language="yaml", wrap_lines=True)
        else:
            st.info(f"This chain has no YAML spec: {plain(view.yaml_error or '')}")
    st.subheader("Parameters")
    if settings.chain and data is None:
        st.info("Parameters can be edited for chains that have a spec.")
        return
    params = builtin_params(ui.chain_settings()) if not settings.chain else spec_params(data or {})
    if not params:
        st.info("This chain has no top-k, temperature or prompt text to edit.")
        return
    with st.form("params"):
        values = param_inputs(params)
        submitted = st.form_submit_button("Apply", type="primary")
    if submitted:
        try:
            if settings.chain:
                apply_custom_values(settings, data or {}, values)
            else:
                apply_builtin_values(values)
        except Exception as exc:
            st.error(plain(f"{type(exc).__name__}: {exc}"))
            return
        st.session_state[NOTICE] = "Applied: the next answer uses these parameters."
        st.rerun()


if __name__ == "__main__":
    render()
