"""Every ``python`` snippet of ``README.md`` and ``docs/*.md`` runs, so the guides never rot.

Each file's blocks run in order in one namespace (a notebook: a later block may use an
earlier one's names), in one subprocess with a timeout, in a scratch folder holding a copy
of ``data/sample/docs``. A block preceded by ``<!-- no-test: reason -->`` is skipped (code
that needs a running server, a GPU or a network). Guides with a test of their own are left
to it (:data:`OWN_TEST`), not run twice."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OWN_TEST = {
    "from-langchain.md": "tests/interop/test_from_langchain_doc.py",
    "durable-agents.md": "tests/agents/test_durable_doc.py",
}
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
NO_TEST = re.compile(r"<!--\s*no-test:\s*(\S.*?)\s*-->\s*$")
GUIDES = (
    "chains.md",
    "memory.md",
    "agents.md",
    "retrieval.md",
    "evaluation.md",
    "finetuning.md",
    "app.md",
    "models.md",
)
RUNNER = """
import json, sys, traceback
blocks = json.loads(sys.stdin.read())
namespace = {"__name__": "__main__"}
for number, code in blocks:
    try:
        exec(compile(code, f"<block {number}>", "exec"), namespace)
    except BaseException:
        print(json.dumps({"block": number, "error": traceback.format_exc()}))
        sys.exit(1)
print(json.dumps({"ran": len(blocks)}))
"""


def blocks(path: Path) -> list[tuple[int, str, str | None]]:
    """``(number, code, reason to skip or None)`` of each ``python`` block, in order."""
    text = path.read_text(encoding="utf-8")
    found = []
    for number, match in enumerate(FENCE.finditer(text), 1):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = NO_TEST.search(before)
        found.append((number, match.group(1), skip.group(1) if skip else None))
    return found


def documented() -> list[Path]:
    """The files with a ``python`` block this test runs."""
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return [f for f in files if f.name not in OWN_TEST and any(r is None for _, _, r in blocks(f))]


def test_every_guide_exists_has_snippets_and_is_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    docs_section = readme.split("## Documentation", 1)[1].split("\n## ", 1)[0]
    for name in GUIDES:
        assert (ROOT / "docs" / name).is_file(), name
        assert f"(docs/{name})" in docs_section, f"docs/{name} is not linked from README"
        assert any(reason is None for _, _, reason in blocks(ROOT / "docs" / name)), name
    assert readme.index("## Quick start") < readme.index("```python")  # quick start first


def test_skipped_blocks_say_why_and_are_few() -> None:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    found = [(f.name, b) for f in files if f.name not in OWN_TEST for b in blocks(f)]
    skipped = [(name, n, reason) for name, (n, _, reason) in found if reason is not None]
    assert all(len(reason) > 10 for _, _, reason in skipped), skipped
    assert len(skipped) * 5 <= len(found), f"too many blocks opt out of the test: {skipped}"


def test_the_fence_parser_reads_skips_and_order(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text(
        "```python\na = 1\n```\n<!-- no-test: needs a running server -->\n"
        "```python\nraise SystemExit\n```\n```bash\nrm -rf /\n```\n```python\nb = a\n```\n"
    )
    assert blocks(doc) == [
        (1, "a = 1\n", None),
        (2, "raise SystemExit\n", "needs a running server"),
        (3, "b = a\n", None),
    ]


@pytest.mark.slow
@pytest.mark.parametrize("path", documented(), ids=lambda p: p.name)
def test_snippets_run(path: Path, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "data" / "sample" / "docs", tmp_path / "data" / "sample" / "docs")
    runnable = [(n, code) for n, code, reason in blocks(path) if reason is None]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env["AGENTKIT_CACHE_DIR"] = str(tmp_path / ".agentkit-cache")
    env.setdefault("AGENTKIT_DATA_DIR", str(ROOT.parent / "shared" / "data"))
    out = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps(runnable),
        capture_output=True,
        text=True,
        timeout=420,
        cwd=tmp_path,
        env=env,
    )
    last = (out.stdout.strip().splitlines() or ["{}"])[-1]
    result = json.loads(last) if last.startswith("{") else {}
    if "block" in result:
        code = dict(runnable)[result["block"]]
        pytest.fail(f"{path.name} python block {result['block']}:\n{code}\n{result['error']}")
    assert out.returncode == 0, out.stderr[-3000:]
    assert result == {"ran": len(runnable)}
