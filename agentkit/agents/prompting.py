"""The agents' prompts: bundled as data in ``agentkit/agents/prompts/``, and the check that
a user's prompt takes the variables an agent fills in."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.core.runnable import Runnable

PROMPTS_DIR = Path(__file__).parent / "prompts"


def bundled_prompt(file: str) -> Runnable[Any, Any]:
    """A prompt bundled as data in ``agentkit/agents/prompts/``."""
    from agentkit.prompts import load_prompt

    return load_prompt(PROMPTS_DIR / file)


def check_prompt(prompt: Any, required: Sequence[str], owner: str) -> None:
    """Raise when a prompt template lacks a variable the agent fills in."""
    if not isinstance(prompt, Runnable):
        raise UsageError(f"{owner}'s prompt must be a prompt template, got {type(prompt).__name__}")
    names = getattr(prompt, "variables", None)
    if names is None:  # another kind of runnable: trust it
        return
    known = set(names) | set(getattr(prompt, "optional_variables", ()))
    missing = [v for v in required if v not in known]
    if missing:
        raise UsageError(
            f"{owner}'s prompt lacks the variable(s) {missing} (it has {sorted(known)}); "
            "start from the bundled prompt in agentkit/agents/prompts/ and keep its variables"
        )
