"""``PipelinePromptTemplate``: a prompt composed of named sub-prompts.

Each sub-prompt is formatted in order with the input (and the parts made before it); its
output becomes the variable ``name`` of the final prompt::

    full = PromptTemplate("{introduction}\\n\\n{example}\\n\\n{start}")
    PipelinePromptTemplate(full, [("introduction", intro), ("example", example),
                                  ("start", start)])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agentkit.core.errors import SpecError, UsageError
from agentkit.core.spec import SpecContext, add_builder, dump
from agentkit.prompts.base import BasePromptTemplate, partials_from_spec


class PipelinePromptTemplate(BasePromptTemplate[Any]):
    """A final prompt whose variables are filled by named sub-prompts. Its input variables
    are those of all the prompts minus the names the sub-prompts produce."""

    def __init__(
        self,
        final_prompt: BasePromptTemplate[Any],
        pipeline_prompts: Sequence[tuple[str, BasePromptTemplate[Any]]],
        partial_variables: Mapping[str, Any] | None = None,
    ) -> None:
        prompts = [final_prompt, *(p for _, p in pipeline_prompts)]
        for prompt in prompts:
            if not isinstance(prompt, BasePromptTemplate):
                raise UsageError(
                    f"pipeline parts must be prompt templates, got {type(prompt).__name__}"
                )
        self.final_prompt = final_prompt
        self.pipeline_prompts = [(str(n), p) for n, p in pipeline_prompts]
        names = [n for n, _ in self.pipeline_prompts]
        if len(set(names)) != len(names):
            raise UsageError(f"pipeline part names must be unique, got {names}")
        unused = [n for n in names if n not in _all_inputs(prompts)]
        if unused:
            raise UsageError(
                f"pipeline part(s) {unused} are not used by the final prompt or later parts; "
                f"the final prompt uses {final_prompt.input_variables}"
            )
        produced: set[str] = set()
        variables: list[str] = []
        for name, prompt in self.pipeline_prompts:
            variables.extend(v for v in prompt.input_variables if v not in produced)
            produced.add(name)
        variables.extend(v for v in final_prompt.input_variables if v not in produced)
        optional = [v for p in prompts for v in p.optional_variables if v not in produced]
        self.source = final_prompt.source + " <- " + ", ".join(names)
        self._init_variables(variables, None, partial_variables, optional)

    def render(self, values: Mapping[str, Any]) -> Any:
        scope = dict(values)
        for name, prompt in self.pipeline_prompts:
            scope[name] = prompt.render(prompt.values(scope))
        return self.final_prompt.render(self.final_prompt.values(scope))

    def format(self, **values: Any) -> Any:
        """The final prompt's output for keyword values."""
        return self.render(self.values(values))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": "pipeline_prompt",
            "final_prompt": dump(self.final_prompt),
            "pipeline_prompts": [{"name": n, "prompt": dump(p)} for n, p in self.pipeline_prompts],
        }
        data.update(self.partials_to_dict())
        return data


def _all_inputs(prompts: Sequence[BasePromptTemplate[Any]]) -> set[str]:
    return {v for p in prompts for v in p.input_variables + p.optional_variables}


def _build(ctx: SpecContext) -> PipelinePromptTemplate:
    final = ctx.runnable("final_prompt")
    parts = []
    for i, item in enumerate(ctx.get("pipeline_prompts", list)):
        path = f"{ctx.path}.pipeline_prompts[{i}]"
        if not isinstance(item, Mapping):
            raise SpecError(path, f"expected a dict with 'name' and 'prompt', got {item!r}")
        sub = SpecContext(item, path)
        parts.append((sub.get("name", str), sub.runnable("prompt")))
        sub.check_unknown()
    return PipelinePromptTemplate(final, parts, partials_from_spec(ctx))


add_builder("pipeline_prompt", _build)
