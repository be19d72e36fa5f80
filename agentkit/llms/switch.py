"""The global switch that forbids real model requests (on in unit tests).

Fake models (``is_fake = True``) always run. Every other model checks the switch once per
request, in :class:`agentkit.llms.base.BaseChatModel`, and fails loudly when it is off.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from agentkit.core.errors import ModelRequestsForbiddenError

_allowed = True


def allow_model_requests(flag: bool) -> None:
    """Allow (``True``) or forbid (``False``) requests to real models, process-wide."""
    global _allowed
    _allowed = bool(flag)


def model_requests_allowed() -> bool:
    """Whether real model requests are currently allowed."""
    return _allowed


@contextmanager
def model_requests(allowed: bool) -> Iterator[None]:
    """Allow or forbid real model requests inside a ``with`` block, then restore."""
    global _allowed
    previous = _allowed
    _allowed = bool(allowed)
    try:
        yield
    finally:
        _allowed = previous


def check_model_requests(model_name: str) -> None:
    """Raise :class:`ModelRequestsForbiddenError` when real model requests are off."""
    if not _allowed:
        raise ModelRequestsForbiddenError(
            f"{model_name} tried to call a real model while model requests are forbidden "
            "(as in unit tests). Use a fake model (agentkit.llms.fake: FakeListModel, "
            "FunctionModel) or call agentkit.llms.allow_model_requests(True) "
            "(or use `with agentkit.llms.model_requests(True):`)"
        )
