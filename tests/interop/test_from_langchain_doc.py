"""Every ``python`` snippet of docs/from-langchain.md runs (one subprocess, a fresh namespace
per snippet, with a timeout). The doc is this repository's own text."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "from-langchain.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
RUNNER = """
import json, sys, traceback
snippets = json.loads(sys.stdin.read())
failures = []
for i, code in enumerate(snippets):
    try:
        exec(compile(code, f"<from-langchain.md snippet {i}>", "exec"), {"__name__": "__doc__"})
    except BaseException:
        failures.append((i, traceback.format_exc()))
print(json.dumps(failures))
"""


def snippets() -> list[str]:
    return BLOCK.findall(DOC.read_text(encoding="utf-8"))


def test_doc_has_a_snippet_per_mapping_section() -> None:
    assert len(snippets()) >= 10


@pytest.mark.slow
def test_every_python_snippet_runs(tmp_path: Path) -> None:
    pytest.importorskip("langchain")
    code = snippets()
    out = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps(code),
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    failures = json.loads(out.stdout.strip().splitlines()[-1])
    report = "\n".join(f"snippet {i}:\n{code[i]}\n{tb}" for i, tb in failures)
    assert not failures, report
