"""One local Ray for these tests (127.0.0.1, its own temp dir, shut down after the last),
and a chain module of the tests' own that Ray workers import (its folder is on the
PYTHONPATH the cluster starts with)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHAIN_MODULE = """
import asyncio
from agentkit.core.compose import Lambda


def _answer(question: str) -> str:
    n = int(question.split()[-1].rstrip("?"))
    return str(n) if n % 3 else f"not {n}"


async def answer(question: str) -> str:
    return _answer(question)


async def slow_answer(question: str) -> str:
    await asyncio.sleep(0.1)
    return _answer(question)


def make_chain():
    return Lambda(answer)


def make_slow_chain():
    return Lambda(slow_answer)
"""
CHAIN = "scalechain"


@pytest.fixture(scope="package")
def chain_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scalechain")
    (folder / f"{CHAIN}.py").write_text(CHAIN_MODULE, encoding="utf-8")
    return folder


@pytest.fixture(scope="package")
def ray_cluster(chain_dir: Path) -> Iterator[Any]:
    """A local Ray with 2 CPUs on 127.0.0.1 for the module; workers see ``chain_dir``."""
    pytest.importorskip("ray")
    from agentkit.scale import connected

    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(chain_dir), saved]))
    sys.path.insert(0, str(chain_dir))
    try:
        with connected("local", num_cpus=2) as ray:
            yield ray
    finally:
        sys.path.remove(str(chain_dir))
        sys.modules.pop(CHAIN, None)
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
