"""Shared test setup: real model requests are forbidden in the test suite, and the cache
root (embedding cache, indexes, adapter and embedder registries, app sessions) is the
repository's ``.cache/test-home`` (gitignored), never the user's ``~/.cache/agentkit``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

os.environ["AGENTKIT_CACHE_DIR"] = str(Path(__file__).resolve().parents[1] / ".cache" / "test-home")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# Specs are data: refs import agentkit's own components only unless the caller trusts more.
# The tests' own modules (imported as core.test_spec, agents.test_..., by their folder) are
# the test suite's "project code", trusted the way a user trusts theirs; tests of the
# default policy clear this variable (tests/security).
_PACKAGES = sorted(
    p.name + "." for p in Path(__file__).parent.iterdir() if (p / "__init__.py").exists()
)
os.environ["AGENTKIT_ALLOW_IMPORTS"] = ",".join(["tests.", *_PACKAGES])


@pytest.fixture(autouse=True, scope="session")
def _forbid_real_model_requests() -> None:
    from agentkit.llms import allow_model_requests

    allow_model_requests(False)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only evaluation data beside the project (../shared/data)."""
    if not SHARED_DATA.exists():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent (it sits beside the checkout)")
    return SHARED_DATA
