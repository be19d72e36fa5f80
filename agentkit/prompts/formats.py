"""Template formats: variable discovery and rendering for f-string and jinja2 templates.

f-string templates use :meth:`str.format_map`; ``{{`` and ``}}`` are literal braces.
jinja2 templates render in a sandbox with ``StrictUndefined`` and no autoescaping.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from typing import Any

from agentkit.core.errors import UsageError

FORMATS = ("f-string", "jinja2")
_FORMATTER = string.Formatter()
_JINJA_ENV: Any = None

Renderer = Callable[[Mapping[str, Any]], str]


def check_format(template_format: str) -> None:
    if template_format not in FORMATS:
        raise UsageError(
            f"unknown template_format {template_format!r}; use one of {', '.join(FORMATS)}"
        )


def find_variables(template: str, template_format: str) -> list[str]:
    """The variables a template uses, in order of first appearance."""
    check_format(template_format)
    if template_format == "f-string":
        names: list[str] = []
        _fstring_variables(template, template, names)
        return names
    return _jinja2_variables(template)


def make_renderer(template: str, template_format: str) -> Renderer:
    """A fast function ``values -> text`` for a template (values may hold extra keys)."""
    check_format(template_format)
    if template_format == "f-string":
        return template.format_map
    compiled = _jinja_env().from_string(template)
    return lambda values: str(compiled.render(values))


def _fstring_variables(text: str, template: str, names: list[str]) -> None:
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise UsageError(
            f"invalid f-string template {template!r}: {exc}. Write literal braces as '{{{{' "
            "and '}}'"
        ) from exc
    for _literal, field, spec, _conversion in parsed:
        if field is None:
            continue
        if field == "" or field.isdigit():
            raise UsageError(
                f"template {template!r} has a positional field '{{{field}}}'; name every "
                "variable ('{question}'), or write literal braces as '{{' and '}}'"
            )
        if not field.isidentifier():
            raise UsageError(
                f"template {template!r} has the field '{{{field}}}'; only plain variable "
                "names are allowed (no attribute access or indexing): format the value "
                "before passing it, or use template_format='jinja2'"
            )
        if field not in names:
            names.append(field)
        if spec and "{" in spec:
            _fstring_variables(spec, template, names)


def _jinja_env() -> Any:
    global _JINJA_ENV
    if _JINJA_ENV is None:
        from jinja2 import StrictUndefined
        from jinja2.sandbox import SandboxedEnvironment

        _JINJA_ENV = SandboxedEnvironment(
            undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
        )
    return _JINJA_ENV


def _jinja2_variables(template: str) -> list[str]:
    from jinja2 import TemplateSyntaxError, meta

    try:
        ast = _jinja_env().parse(template)
    except TemplateSyntaxError as exc:
        raise UsageError(f"invalid jinja2 template {template!r}: {exc}") from exc
    found = meta.find_undeclared_variables(ast)
    return sorted(found, key=lambda name: (_first_use(template, name), name))


def _first_use(template: str, name: str) -> int:
    index = template.find(name)
    return index if index >= 0 else len(template)
