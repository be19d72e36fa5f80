"""The Streamlit front end (``agentkit app``): UI only.

The UI lives in :mod:`agentkit.app.main`, :mod:`agentkit.app.ui` and ``agentkit/app/views/``
(they import ``streamlit``), with safe text rendering (:mod:`~agentkit.app.render`) and the
access gate (:mod:`~agentkit.app.auth`). The logic it shares with the CLI — settings,
models, chains, turns, chat sessions, documents, eval runs, graph parameters — lives in
:mod:`agentkit.workspace`, which imports no streamlit.
"""

from __future__ import annotations

from agentkit.workspace.settings import main_script

__all__ = ["main_script"]
