"""``import agentkit`` must not import heavy optional dependencies (behaviour, not timing)."""

from __future__ import annotations

import ast
import subprocess
import sys

HEAVY = {
    "torch",
    "transformers",
    "faiss",
    "streamlit",
    "langchain_core",
    "llama_index",
    "sentence_transformers",
}
WATCHED = HEAVY | {"numpy", "pydantic", "jinja2", "yaml"}


def imported_after(code: str) -> list[str]:
    probe = (
        f"{code}; import sys; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(WATCHED)!r} "
        "or m.startswith(('langchain', 'llama'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return list(ast.literal_eval(out.stdout.strip().splitlines()[-1]))


def test_import_agentkit_imports_no_heavy_module() -> None:
    loaded = imported_after("import agentkit")
    heavy = sorted(
        m for m in loaded if m.split(".")[0] in HEAVY or m.startswith(("langchain", "llama"))
    )
    assert heavy == [], f"import agentkit pulled in heavy modules: {heavy}"


def test_import_agentkit_core_is_light() -> None:
    loaded = imported_after("import agentkit.core")
    assert not [m for m in loaded if m.split(".")[0] in HEAVY]


def agentkit_modules_after(code: str) -> set[str]:
    probe = f"{code}; import sys; print(sorted(m for m in sys.modules if m.startswith('agentkit')))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return set(ast.literal_eval(out.stdout.strip().splitlines()[-1]))


def test_import_prompts_loads_no_model_backend() -> None:
    loaded = agentkit_modules_after("import agentkit.prompts")
    backends = sorted(
        m for m in loaded if m.startswith(("agentkit.llms.hf", "agentkit.llms.openai_compat"))
    )
    assert backends == [], f"import agentkit.prompts pulled in model backends: {backends}"
    assert "agentkit.core.messages" in loaded


def test_llms_package_is_lazy_and_messages_keep_their_old_path() -> None:
    loaded = agentkit_modules_after("from agentkit.llms import FakeListModel")
    assert not [m for m in loaded if m.startswith("agentkit.llms.hf")]
    from agentkit.core.messages import Message
    from agentkit.llms import Message as via_package
    from agentkit.llms.messages import Message as old_path

    assert old_path is Message and via_package is Message
