"""The Streamlit front end (``agentkit app``) and the logic it shares with the CLI.

The UI lives in :mod:`agentkit.app.main` and ``agentkit/app/pages/`` (they import
``streamlit``); everything else here is plain Python, importable without streamlit and
unit-tested on its own: settings (:mod:`~agentkit.app.settings`), models
(:mod:`~agentkit.app.models`), the app's chains (:mod:`~agentkit.app.chains`), running a
turn with streamed tokens and steps (:mod:`~agentkit.app.turns`), chat sessions
(:mod:`~agentkit.app.sessions`), documents (:mod:`~agentkit.app.documents`), eval runs
(:mod:`~agentkit.app.runs`), chain graph parameters (:mod:`~agentkit.app.graphs`) and safe
text rendering (:mod:`~agentkit.app.render`).
"""

from __future__ import annotations

from pathlib import Path


def main_script() -> Path:
    """The file ``streamlit run`` starts (it ships inside the installed package)."""
    return Path(__file__).resolve().parent / "main.py"


__all__ = ["main_script"]
