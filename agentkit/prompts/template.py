"""``PromptTemplate``: a text prompt in f-string or jinja2 format."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.core.spec import SpecContext, add_builder
from agentkit.prompts.base import BasePromptTemplate, partials_from_spec
from agentkit.prompts.formats import FORMATS, find_variables, make_renderer

_SUFFIX_FORMATS = {".j2": "jinja2", ".jinja": "jinja2", ".jinja2": "jinja2"}


class PromptTemplate(BasePromptTemplate[str]):
    """A text prompt. ``PromptTemplate("Tell me about {topic}").invoke({"topic": "owls"})``.

    Variables are inferred from the template. In f-string templates ``{{`` and ``}}`` are
    literal braces; jinja2 templates render in a sandbox and fail on undefined variables.
    """

    def __init__(
        self,
        template: str,
        template_format: str = "f-string",
        input_variables: Iterable[str] | None = None,
        partial_variables: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(template, str):
            raise UsageError(f"a prompt template must be a str, got {type(template).__name__}")
        self.template = template
        self.template_format = template_format
        self.source = template
        variables = find_variables(template, template_format)  # validates the template
        self._render = make_renderer(template, template_format)
        self._init_variables(variables, input_variables, partial_variables)

    @classmethod
    def from_template(
        cls, template: str, template_format: str = "f-string", **partial_variables: Any
    ) -> PromptTemplate:
        """Build from a template string (keywords become partial variables)."""
        return cls(template, template_format, partial_variables=partial_variables)

    @classmethod
    def from_file(cls, path: str | Path, template_format: str | None = None) -> PromptTemplate:
        """Load a template file: ``.j2``/``.jinja``/``.jinja2`` are jinja2, others f-string."""
        file = Path(path)
        if not file.is_file():
            raise UsageError(f"prompt file {file} does not exist; check the path")
        fmt = template_format or _SUFFIX_FORMATS.get(file.suffix.lower(), "f-string")
        return cls(file.read_text(encoding="utf-8"), fmt)

    def render(self, values: Mapping[str, Any]) -> str:
        return self._render(values)

    def format(self, **values: Any) -> str:
        """The prompt text for keyword values."""
        return self._render(self.values(values))

    def __add__(self, other: Any) -> PromptTemplate:
        """Concatenate two templates of the same format (or a template and a string)."""
        if isinstance(other, str):
            other = PromptTemplate(other, self.template_format)
        if not isinstance(other, PromptTemplate):
            return NotImplemented
        partials = self._joined_partials(other)
        return PromptTemplate(self.template + other.template, self.template_format, None, partials)

    def _joined_partials(self, other: PromptTemplate) -> dict[str, Any]:
        """The partial variables of ``self + other``, which must agree on their format and
        on the partials both set."""
        if other.template_format != self.template_format:
            raise UsageError(
                f"cannot add a {other.template_format} template to a {self.template_format} "
                "template; convert one so that both use the same template_format"
            )
        clash = {
            k
            for k in set(self.partial_variables) & set(other.partial_variables)
            if self.partial_variables[k] is not other.partial_variables[k]
            and self.partial_variables[k] != other.partial_variables[k]
        }
        if clash:
            raise UsageError(
                f"both templates set the partial variable(s) {sorted(clash)} to different "
                "values; set them once, after adding"
            )
        return {**self.partial_variables, **other.partial_variables}

    def __radd__(self, other: Any) -> PromptTemplate:
        if isinstance(other, str):
            return PromptTemplate(other, self.template_format) + self
        return NotImplemented

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "prompt", "template": self.template}
        if self.template_format != "f-string":
            data["template_format"] = self.template_format
        data.update(self.partials_to_dict())
        return data

    def __repr__(self) -> str:
        preview = self.template if len(self.template) <= 60 else self.template[:57] + "..."
        return f"PromptTemplate({preview!r}, variables={self.input_variables})"


def _build(ctx: SpecContext) -> PromptTemplate:
    return PromptTemplate(
        ctx.get("template", str),
        ctx.get("template_format", str, "f-string", choices=FORMATS),
        ctx.get("input_variables", list, None),
        partials_from_spec(ctx),
    )


add_builder("prompt", _build)
