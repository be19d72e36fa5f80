"""The ``wikipedia`` tool: search Wikipedia and return the summaries of the best pages.

Uses the ``wikipedia`` package (``pip install 'agentkit[tools]'``). That package calls
``requests.get`` without a timeout and with a global language; this module routes its
requests through a small shim that adds the tool's timeout and language per call (read
from context variables, so threads with different settings do not mix), and bypasses the
package's process-wide search cache. Network failures raise a clear
:class:`ToolExecutionError` ("Wikipedia is unreachable (offline?)").
"""

from __future__ import annotations

import contextvars
import warnings
from typing import Any

from agentkit.core.errors import MissingDependencyError, UsageError
from agentkit.tools.base import ToolExecutionError
from agentkit.tools.function import FunctionTool
from agentkit.tools.registry import register_tool

_LANG: contextvars.ContextVar[str] = contextvars.ContextVar("wikipedia_lang", default="en")
_TIMEOUT: contextvars.ContextVar[float] = contextvars.ContextVar("wikipedia_timeout", default=10.0)


class _RequestsShim:
    """Stands in for ``requests`` inside the wikipedia package: adds timeout and language."""

    def get(self, url: str, params: Any = None, headers: Any = None, **kwargs: Any) -> Any:
        import requests

        url = f"https://{_LANG.get()}.wikipedia.org/w/api.php"
        return requests.get(url, params=params, headers=headers, timeout=_TIMEOUT.get())


def _wikipedia() -> Any:
    try:
        import wikipedia
        import wikipedia.wikipedia as api
    except ImportError as exc:
        raise MissingDependencyError("wikipedia", "tools", "The wikipedia tool") from exc
    if not isinstance(api.requests, _RequestsShim):
        api.requests = _RequestsShim()
    # the package parses disambiguation pages without naming a parser; bs4 warns each time
    warnings.filterwarnings("ignore", "No parser was explicitly specified", module="wikipedia")
    return wikipedia


class WikipediaTool(FunctionTool):
    """Looks a query up on Wikipedia.

    Args:
        lang: the Wikipedia language edition ("en", "fr", ...).
        top_k: how many of the best-matching pages to summarise.
        max_chars: characters kept of each page summary.
        timeout: seconds for each HTTP request (and, with margin, the whole call).
    """

    spec_name = "wikipedia"
    idempotent = True  # read-only: safe to run again after a crash

    def __init__(
        self,
        lang: str = "en",
        top_k: int = 2,
        max_chars: int = 1500,
        timeout: float = 10.0,
        max_output_chars: int | None = 4000,
    ) -> None:
        if not lang.replace("-", "").isalnum():
            raise UsageError(f"lang must be a Wikipedia language code such as 'en', got {lang!r}")
        if top_k < 1 or max_chars < 1:
            raise UsageError(f"top_k and max_chars must be >= 1, got {top_k} and {max_chars}")
        self.lang, self.top_k, self.max_chars = lang, top_k, max_chars
        self.request_timeout = float(timeout)
        # every call makes 1 + 2 * top_k requests, each bounded by the request timeout;
        # the description the model reads is the first paragraph of search's docstring
        total = self.request_timeout * (1 + 2 * top_k) + 1
        super().__init__(self.search, "wikipedia", None, total, max_output_chars)

    def search(self, query: str) -> str:
        """Look up a topic on Wikipedia; returns the titles, URLs and summaries of the
        best-matching pages. Input: a short search query (a name or a topic, not a whole
        question).

        Args:
            query: what to look up, e.g. "Alan Turing".
        """
        return contextvars.copy_context().run(self._search, query)

    def _search(self, query: str) -> str:
        wikipedia = _wikipedia()
        _LANG.set(self.lang)
        _TIMEOUT.set(self.request_timeout)
        try:
            titles = _uncached(wikipedia.search)(query, results=self.top_k)
            entries = [e for e in (self._entry(wikipedia, t) for t in titles[: self.top_k]) if e]
        except (OSError, ValueError, KeyError) as exc:  # requests' errors are OSErrors
            raise self._network_error(exc) from exc
        except wikipedia.exceptions.WikipediaException as exc:
            raise ToolExecutionError(f"Wikipedia returned an error: {exc}", self.name) from exc
        if not entries:
            return f"No Wikipedia page matches {query!r}. Try a shorter query: a name or a term."
        return "\n\n".join(entries)

    def _entry(self, wikipedia: Any, title: str) -> str:
        try:
            page = wikipedia.page(title, auto_suggest=False, redirect=True)
        except wikipedia.exceptions.DisambiguationError as exc:
            options = ", ".join(exc.options[:8])
            return f"Page: {title}\nSummary: {title!r} may refer to: {options}"
        except wikipedia.exceptions.PageError:
            return ""
        summary = page.summary.strip()
        if len(summary) > self.max_chars:
            summary = summary[: self.max_chars].rstrip() + "..."
        return f"Page: {page.title}\nURL: {page.url}\nSummary: {summary}"

    def _network_error(self, exc: Exception) -> ToolExecutionError:
        import requests

        if isinstance(exc, requests.Timeout):
            why = f"Wikipedia did not answer within {self.request_timeout} s"
        elif isinstance(exc, ValueError | KeyError):  # bad JSON, or JSON of another shape
            why = f"Wikipedia sent an unexpected response ({type(exc).__name__}: {exc})"
        else:
            why = f"Wikipedia is unreachable (offline?): {type(exc).__name__}: {exc}"
        return ToolExecutionError(
            f"{why}. Check the network, or answer without this tool.", self.name
        )

    def spec_options(self) -> dict[str, Any]:
        defaults = {"lang": "en", "top_k": 2, "max_chars": 1500, "timeout": 10.0}
        values = {"lang": self.lang, "top_k": self.top_k, "max_chars": self.max_chars,
                  "timeout": self.request_timeout}  # fmt: skip
        options = {k: v for k, v in values.items() if v != defaults[k]}
        if self.max_output_chars != 4000:
            options["max_output_chars"] = self.max_output_chars
        return options


def _uncached(fn: Any) -> Any:
    """The function under the wikipedia package's ``@cache`` (which ignores the language)."""
    return getattr(fn, "fn", fn)


wikipedia = WikipediaTool()
register_tool("wikipedia", WikipediaTool)
