"""Errors, grouped by who must act.

- :class:`UsageError`: the developer wrote something wrong (a missing prompt variable, a
  mis-wired chain, an invalid spec). The message says what to change.
- :class:`ModelOutputError`: a model produced output that cannot be used. It carries the
  offending text and a short hint, so it can be sent back to the model as feedback.
- :class:`RunError`: something failed while running (a timeout, a forbidden model call, a
  missing optional dependency at run time).

Every message names the problem and the fix. Chain causes with ``raise ... from e``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class AgentkitError(Exception):
    """Base class of every error agentkit raises on purpose."""


class UsageError(AgentkitError, ValueError):
    """The developer's mistake: fix the code, the spec or the arguments."""


class PromptVariableError(UsageError, KeyError):
    """A prompt was formatted without some of its variables."""

    def __init__(self, missing: Iterable[str], expected: Iterable[str], template: str) -> None:
        self.missing = sorted(missing)
        self.expected = sorted(expected)
        preview = template if len(template) <= 80 else template[:77] + "..."
        super().__init__(
            f"missing prompt variable(s) {self.missing} for template {preview!r}; "
            f"the template expects {self.expected}. Pass them in the input dict, or fix them "
            "with .partial(name=value)."
        )

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return str(self.args[0])


class WiringError(UsageError):
    """A chain's steps do not connect: a variable is unknown or never produced."""


class SpecError(UsageError):
    """An invalid serialised spec. ``path`` locates the bad field (``$.steps[1].type``)."""

    def __init__(self, path: str, problem: str, allowed: Iterable[str] | None = None) -> None:
        self.path = path
        self.allowed = sorted(allowed) if allowed is not None else None
        message = f"{path}: {problem}"
        if self.allowed is not None:
            message += f"; allowed values: {', '.join(self.allowed)}"
        super().__init__(message)


class MissingDependencyError(UsageError, ImportError):
    """An optional dependency is not installed."""

    def __init__(self, package: str, extra: str, feature: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{feature} needs the '{package}' package, which is not installed. "
            f"Install it with: pip install 'agentkit[{extra}]'"
        )


class ModelOutputError(AgentkitError):
    """A model's output could not be used. Send ``feedback()`` back to the model to retry."""

    def __init__(self, message: str, text: str, hint: str = "") -> None:
        self.text = text
        self.hint = hint
        preview = text if len(text) <= 200 else text[:197] + "..."
        full = f"{message}. Model output was: {preview!r}"
        if hint:
            full += f". {hint}"
        super().__init__(full)

    def feedback(self) -> str:
        """A short observation to show the model so it can correct itself."""
        return f"Your output could not be parsed: {self.args[0]}"


class OutputParserError(ModelOutputError):
    """An output parser could not parse the model's text."""


class RunError(AgentkitError):
    """A failure while running a chain."""


class RunTimeoutError(RunError, TimeoutError):
    """A run took longer than its ``timeout``."""


class ModelRequestsForbiddenError(RunError):
    """A real model was called while real model requests are switched off (unit tests)."""


def missing_dependency(package: str, extra: str, feature: str) -> MissingDependencyError:
    """Build the error for a lazy import that failed; use with ``raise ... from e``."""
    return MissingDependencyError(package, extra, feature)


def import_optional(module: str, package: str, extra: str, feature: str) -> Any:
    """Import an optional dependency lazily: the module, or a :class:`MissingDependencyError`
    naming the pip ``package`` and the agentkit ``extra`` that provide it for ``feature``."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingDependencyError(package, extra, feature) from e
