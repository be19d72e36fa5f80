"""The shared base of prompt templates: input handling, partials, and their spec fields."""

from __future__ import annotations

import copy
from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from agentkit.core.config import ConfigLike
from agentkit.core.errors import PromptVariableError, SpecError, UsageError
from agentkit.core.runnable import Runnable

if TYPE_CHECKING:
    from agentkit.core.spec import SpecContext

Out = TypeVar("Out")
P = TypeVar("P", bound="BasePromptTemplate[Any]")


class BasePromptTemplate(Runnable[Any, Out]):
    """A prompt: formats a dict of variables (or one value) into text or messages.

    Subclasses set ``source`` (a short text for error messages), call
    :meth:`_init_variables` with every variable the template uses, and implement
    :meth:`render`. ``input_variables`` are the required variables not fixed by partials;
    ``optional_variables`` may be left out of the input.
    """

    kind = "prompt"
    variables: list[str]
    optional_variables: list[str]
    partial_variables: dict[str, Any]
    source: str

    def _init_variables(
        self,
        variables: Iterable[str],
        input_variables: Iterable[str] | None,
        partial_variables: Mapping[str, Any] | None,
        optional: Iterable[str] = (),
    ) -> None:
        self.variables = list(dict.fromkeys(variables))
        self.optional_variables = [v for v in dict.fromkeys(optional) if v not in self.variables]
        self.partial_variables = dict(partial_variables or {})
        self._check_partials(self.partial_variables)
        self.input_variables = [v for v in self.variables if v not in self.partial_variables]
        if input_variables is not None and set(input_variables) != set(self.input_variables):
            given, found = set(input_variables), set(self.input_variables)
            raise UsageError(
                f"input_variables {sorted(given)} do not match the template {self.source!r}, "
                f"which needs {sorted(found)} (unknown: {sorted(given - found)}, "
                f"not listed: {sorted(found - given)}); leave input_variables out to infer them"
            )

    def _check_partials(self, values: Mapping[str, Any]) -> None:
        known = self.variables + self.optional_variables
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise UsageError(
                f"partial variable(s) {unknown} are not used by the template {self.source!r}, "
                f"whose variables are {known}; check the names"
            )

    @abstractmethod
    def render(self, values: Mapping[str, Any]) -> Out:
        """Format with ``values`` holding every variable (extra keys are ignored)."""

    def values(self, input: Any) -> Mapping[str, Any]:
        """The variables for one input: a dict (extra keys ignored) or, for a prompt with
        one input variable, that variable's value. Partials are filled in, then checked."""
        if type(input) is not dict and not isinstance(input, Mapping):
            if len(self.input_variables) == 1:
                input = {self.input_variables[0]: input}
            elif input is None and not self.input_variables:
                input = {}
            else:
                raise UsageError(
                    f"{self.name} with variables {self.input_variables} needs a dict input, got "
                    f"{type(input).__name__}; pass {{name: value}} for each variable"
                )
        if self.partial_variables:
            merged = {k: v() if callable(v) else v for k, v in self.partial_variables.items()}
            merged.update(input)
            input = merged
        missing = [v for v in self.variables if v not in input]
        if missing:
            raise PromptVariableError(missing, self.input_variables, self.source)
        return input

    def invoke(self, input: Any, config: ConfigLike = None) -> Out:
        return self.render(self.values(input))

    async def ainvoke(self, input: Any, config: ConfigLike = None) -> Out:
        """Formatting is quick and never blocks: run inline, not in a worker thread."""
        return self.render(self.values(input))

    def partial(self: P, **values: Any) -> P:
        """A copy with some variables fixed; a value may be a zero-argument function,
        called each time the prompt is formatted."""
        self._check_partials(values)
        clone = copy.copy(self)
        clone.partial_variables = {**self.partial_variables, **values}
        clone.input_variables = [v for v in self.variables if v not in clone.partial_variables]
        return clone

    # --- spec helpers ------------------------------------------------------------------

    def partials_to_dict(self) -> dict[str, Any]:
        """Spec fields for the partials: plain values and ``module:function`` references."""
        from agentkit.core.spec import function_ref

        values = {k: v for k, v in self.partial_variables.items() if not callable(v)}
        functions = {k: function_ref(v) for k, v in self.partial_variables.items() if callable(v)}
        for key, value in values.items():
            if not _is_plain_data(value):
                raise SpecError(
                    f"$.partial_variables.{key}",
                    f"value of type {type(value).__name__} cannot be serialised; use plain "
                    "data (str, number, bool, None, list, dict) or a module-level function",
                )
        out: dict[str, Any] = {}
        if values:
            out["partial_variables"] = values
        if functions:
            out["partial_functions"] = functions
        return out


def partials_from_spec(ctx: SpecContext) -> dict[str, Any]:
    """Read ``partial_variables`` and ``partial_functions`` from a spec; a function
    reference resolves under the spec import policy (:mod:`agentkit.core.refs`)."""
    from agentkit.core.spec import resolve_ref

    values: dict[str, Any] = dict(ctx.get("partial_variables", dict, {}))
    functions = ctx.get("partial_functions", dict, {})
    for key, ref in functions.items():
        path = f"{ctx.path}.partial_functions.{key}"
        if not isinstance(ref, str):
            raise SpecError(path, f"expected a 'module:function' string, got {ref!r}")
        fn: Callable[[], Any] = resolve_ref(ref, path)
        values[str(key)] = fn
    return values


def _is_plain_data(value: Any) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list | tuple):
        return all(_is_plain_data(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain_data(v) for k, v in value.items())
    return False
