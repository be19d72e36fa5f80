"""The ``web_search`` tool: DuckDuckGo (and the other engines of the ``ddgs`` metasearch
package) returning title, URL and snippet per result.

Needs ``ddgs`` (``pip install 'agentkit[tools]'``); the older ``duckduckgo_search`` package
is used when only it is installed. Network failures raise a clear
:class:`ToolExecutionError` ("Web search is unreachable (offline?)").
"""

from __future__ import annotations

from typing import Any

from agentkit.core.errors import MissingDependencyError, UsageError
from agentkit.tools.base import ToolExecutionError
from agentkit.tools.function import FunctionTool
from agentkit.tools.registry import register_tool

_NO_RESULTS = "no results found"


def _ddgs_class() -> Any:
    import importlib

    for module in ("ddgs", "duckduckgo_search"):
        try:
            return importlib.import_module(module).DDGS
        except ImportError:
            continue
    raise MissingDependencyError("ddgs", "tools", "The web_search tool")


def format_results(results: list[dict[str, Any]]) -> str:
    """``[n] title / URL / snippet`` blocks (``ddgs`` names the fields title/href/body)."""
    blocks = []
    for i, r in enumerate(results, 1):
        url = r.get("href") or r.get("url") or r.get("link") or ""
        snippet = " ".join(str(r.get("body") or r.get("snippet") or "").split())
        blocks.append(f"[{i}] {r.get('title', '').strip()}\nURL: {url}\n{snippet}")
    return "\n\n".join(blocks)


class WebSearchTool(FunctionTool):
    """Searches the web.

    Args:
        max_results: how many results to return.
        region: the ``ddgs`` region code ("us-en", "uk-en", "de-de", ...).
        safesearch: "on", "moderate" or "off".
        timeout: seconds the search may take.
    """

    spec_name = "web_search"
    idempotent = True  # read-only: safe to run again after a crash

    def __init__(
        self,
        max_results: int = 5,
        region: str = "us-en",
        safesearch: str = "moderate",
        timeout: float = 10.0,
        max_output_chars: int | None = 4000,
    ) -> None:
        if max_results < 1:
            raise UsageError(f"max_results must be >= 1, got {max_results}")
        if safesearch not in ("on", "moderate", "off"):
            raise UsageError(f"safesearch must be 'on', 'moderate' or 'off', got {safesearch!r}")
        self.max_results, self.region, self.safesearch = max_results, region, safesearch
        self.search_timeout = float(timeout)
        # the description the model reads is the first paragraph of search's docstring
        super().__init__(self.search, "web_search", None, self.search_timeout + 5, max_output_chars)

    def search(self, query: str) -> str:
        """Search the web; returns the title, URL and a snippet of the top results.
        Input: a search query.

        Args:
            query: what to search for.
        """
        engine = _ddgs_class()(timeout=max(1, round(self.search_timeout)))
        try:
            results = engine.text(
                query, region=self.region, safesearch=self.safesearch, max_results=self.max_results
            )
        except Exception as exc:
            if _NO_RESULTS in str(exc).lower():
                results = []
            else:
                raise self._error(exc) from exc
        if not results:
            return f"No web results for {query!r}. Try other words."
        return format_results(list(results)[: self.max_results])

    def _error(self, exc: Exception) -> ToolExecutionError:
        text = f"{type(exc).__name__}: {exc}"
        if "timed out" in text.lower() or "timeout" in type(exc).__name__.lower():
            why = f"Web search did not answer within {self.search_timeout} s"
        elif "ratelimit" in type(exc).__name__.lower():
            why = "Web search is rate-limited right now; wait a little"
        else:
            why = f"Web search is unreachable (offline?): {text}"
        return ToolExecutionError(
            f"{why}. Check the network, or answer without this tool.", self.name
        )

    def spec_options(self) -> dict[str, Any]:
        defaults = {"max_results": 5, "region": "us-en", "safesearch": "moderate", "timeout": 10.0}
        values = {"max_results": self.max_results, "region": self.region,
                  "safesearch": self.safesearch, "timeout": self.search_timeout}  # fmt: skip
        options = {k: v for k, v in values.items() if v != defaults[k]}
        if self.max_output_chars != 4000:
            options["max_output_chars"] = self.max_output_chars
        return options


web_search = WebSearchTool()
register_tool("web_search", WebSearchTool)
