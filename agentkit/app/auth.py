"""The app's access gate: with a token set, a visitor sees only a token prompt until they
give it.

``agentkit app --auth-token`` (or ``$AGENTKIT_APP_TOKEN``) passes the token to the app
process in its environment (:data:`agentkit.workspace.settings.TOKEN_ENV`). Every script run
calls :func:`require_access` before drawing anything else: the entry script before the
page navigation, and each page again (through ``ui.app_settings``), so a page reached
without the entry script is gated too. A visitor unlocks their session with the prompt (a
form) or once with ``?token=...`` in the address, which is removed from the address as soon
as it is read. Tokens are compared in constant time (:func:`hmac.compare_digest`) and never
shown or logged.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping

from agentkit.workspace.settings import TOKEN_ENV

QUERY_KEY = "token"
STATE_KEY = "ak_access"
FORM_KEY = "ak_access_form"
# What an unlocked session holds: a value a browser cannot guess or set.
_GRANT = secrets.token_hex(16)


def expected_token(environ: Mapping[str, str] | None = None) -> str | None:
    """The token this app process requires, ``None`` when it is open."""
    token = (os.environ if environ is None else environ).get(TOKEN_ENV, "")
    return token or None


def token_matches(given: object, expected: str) -> bool:
    """Whether ``given`` is the token (constant time; anything but a string fails)."""
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(_bytes(given), _bytes(expected))


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def require_access() -> None:
    """Return when this session may use the app; otherwise draw the token prompt and stop
    the script run (nothing else of the page is drawn)."""
    import streamlit as st

    expected = expected_token()
    if expected is None or _granted(st.session_state.get(STATE_KEY)):
        return
    if QUERY_KEY in st.query_params:
        given = st.query_params.get(QUERY_KEY)
        del st.query_params[QUERY_KEY]  # out of the address bar, history and bookmarks
        if token_matches(given, expected):
            st.session_state[STATE_KEY] = _GRANT
            return
    _prompt(expected)
    st.stop()


def _granted(value: object) -> bool:
    return isinstance(value, str) and hmac.compare_digest(value, _GRANT)


def _prompt(expected: str) -> None:
    import streamlit as st

    st.title("agentkit")
    st.caption("This app is protected: enter the access token it was started with.")
    with st.form(FORM_KEY):
        given = st.text_input("Access token", type="password")
        submitted = st.form_submit_button("Open the app")
    if submitted:
        if token_matches(given, expected):
            st.session_state[STATE_KEY] = _GRANT
            st.rerun()
        st.error("That is not the access token.")
