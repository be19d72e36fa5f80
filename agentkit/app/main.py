"""The Streamlit entry point: ``agentkit app`` runs ``streamlit run`` on this file.

Pages: Chat, Documents, Evaluations and Graph, in ``agentkit/app/views/`` (not ``pages/``:
Streamlit would serve a ``pages/`` folder as scripts of its own, with its own navigation and
without this file's layout, to a deep link such as ``/documents``). Settings come from the
arguments after ``--`` (see :mod:`agentkit.workspace.settings`). With an access token
set, nothing but the token prompt is drawn until the visitor gives it
(:mod:`agentkit.app.auth`).
"""

from __future__ import annotations

import streamlit as st

from agentkit.app.auth import require_access

PAGES = {
    "chat": ":material/chat:",
    "documents": ":material/description:",
    "evaluations": ":material/monitoring:",
    "graph": ":material/account_tree:",
}


def main() -> None:
    st.set_page_config(page_title="agentkit", page_icon=":material/hub:", layout="wide")
    require_access()
    pages = [
        st.Page(f"views/{name}.py", title=name.title(), icon=icon, url_path=name, default=first)
        for (name, icon), first in zip(PAGES.items(), (True, False, False, False), strict=True)
    ]
    st.navigation(pages).run()


if __name__ == "__main__":
    main()
