"""The ``python`` snippets of docs/durable-agents.md run, in order, in one namespace (a
subprocess in a scratch folder): the guide's examples stay true."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "durable-agents.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def test_the_guide_snippets_run(tmp_path: Path) -> None:
    snippets = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert len(snippets) >= 6
    script = "\n\n".join(snippets) + "\nprint('ALL SNIPPETS RAN')\n"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("ALL SNIPPETS RAN")
    assert (tmp_path / "runs.sqlite").exists()
