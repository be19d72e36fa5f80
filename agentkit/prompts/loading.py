"""``load_prompt``: prompts from YAML/JSON spec files or plain template files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agentkit.core.errors import SpecError, UsageError
from agentkit.core.spec import load
from agentkit.prompts.base import BasePromptTemplate
from agentkit.prompts.template import PromptTemplate

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def load_prompt(path: str | Path) -> BasePromptTemplate[Any]:
    """Load a prompt from a spec file (``.yaml``/``.yml``/``.json``, e.g. ``{"type":
    "prompt", "template": "..."}``) or a template file (``.j2``/``.jinja`` are jinja2,
    anything else is an f-string template)."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"prompt file {file} does not exist; check the path")
    if file.suffix.lower() not in SPEC_SUFFIXES:
        return PromptTemplate.from_file(file)
    text = file.read_text(encoding="utf-8")
    data = _parse(text, file)
    if isinstance(data, str):
        data = {"type": "prompt", "template": data}
    prompt = load(data)
    if not isinstance(prompt, BasePromptTemplate):
        raise SpecError("$.type", f"{file} holds a {type(prompt).__name__}, not a prompt")
    return prompt


def _parse(text: str, file: Path) -> Any:
    if file.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError("$", f"{file} is not valid JSON: {exc}") from exc
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError("$", f"{file} is not valid YAML: {exc}") from exc
