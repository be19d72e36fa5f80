"""Model routing: :class:`LLMRouterChain` asks a model which destination fits the input
(the classic multi-prompt router prompt, bundled in ``prompts/router.txt``), and
:class:`MultiPromptChain` routes between prompt templates with it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from agentkit.chains.base import Chain, spec_of, template_text
from agentkit.chains.llm_chain import LLMChain
from agentkit.chains.router import RouterChain, routing_options
from agentkit.core.errors import SpecError, UsageError
from agentkit.core.flow import FlowGen
from agentkit.core.spec import add_builder

if TYPE_CHECKING:
    from agentkit.core.config import RunConfig
    from agentkit.core.graph import Graph
    from agentkit.core.runnable import Runnable
    from agentkit.core.spec import SpecContext


def format_destinations(destinations: Mapping[str, str]) -> str:
    """One ``name: description`` line per destination."""
    return "\n".join(f"{name}: {description}" for name, description in destinations.items())


class LLMRouterChain(Chain):
    """Asks ``llm`` to pick one of ``destinations`` (name -> description) for
    ``input``; returns ``{"destination": name | None, "next_inputs": {"input": ...}}``
    (``None`` when the model answers ``DEFAULT``). A custom ``prompt`` needs ``{input}`` and
    may use ``{destinations}``, which is filled with one ``name: description`` per line."""

    def __init__(
        self,
        llm: Runnable[Any, Any],
        destinations: Mapping[str, str],
        prompt: Runnable[Any, Any] | None = None,
    ) -> None:
        from agentkit.parsers import RouterOutputParser
        from agentkit.prompts import PromptTemplate

        if not destinations:
            raise UsageError("LLMRouterChain needs at least one destination")
        self.llm, self.destinations, self.custom_prompt = llm, dict(destinations), prompt
        base: Any = prompt if prompt is not None else PromptTemplate(template_text("router.txt"))
        variables = list(getattr(base, "input_variables", []))
        if "input" not in variables:
            raise UsageError(
                f"the router prompt must use the variable {{input}}; it has {variables}"
            )
        if "destinations" in variables:
            base = base.partial(destinations=format_destinations(self.destinations))
        self.llm_chain = LLMChain(base, llm, RouterOutputParser(), output_key="route")

    @classmethod
    def from_llm(cls, *args: Any, **kwargs: Any) -> LLMRouterChain:
        """The constructor under LangChain's name: the same arguments."""
        return cls(*args, **kwargs)

    @property
    def input_keys(self) -> list[str]:
        return self.llm_chain.input_keys

    @property
    def output_keys(self) -> list[str]:
        return ["destination", "next_inputs"]

    def call(self, inputs: dict[str, Any], config: RunConfig) -> FlowGen:
        result = yield from self.llm_chain.call(inputs, config)
        route: dict[str, Any] = result["route"]
        return route

    def graph(self) -> Graph:
        return self.llm_chain.graph()

    def to_dict(self) -> dict[str, Any]:
        return spec_of("llm_router_chain", self, "llm", "destinations", prompt=self.custom_prompt)


class MultiPromptChain(RouterChain):
    """Routes ``input`` to the best of several prompt templates with an
    :class:`LLMRouterChain`, then answers with that prompt and the same model.

    ``prompt_infos`` is a list of ``{"name", "description", "prompt_template"}``; each
    template uses ``{input}``. The default chain (for ``DEFAULT`` or unknown destinations) is
    ``default_chain`` or a plain ``"{input}"`` LLMChain. The result holds ``text`` and the
    routing decision under ``destination``.
    """

    def __init__(
        self,
        llm: Runnable[Any, Any],
        prompt_infos: Sequence[Mapping[str, str]],
        default_chain: Runnable[Any, Any] | None = None,
        output_key: str = "text",
    ) -> None:
        from agentkit.prompts import PromptTemplate

        infos = [_check_info(i, info) for i, info in enumerate(prompt_infos)]
        if not infos:
            raise UsageError("MultiPromptChain needs at least one prompt info")
        chains: dict[str, Runnable[Any, Any]] = {}
        for info in infos:
            if info["name"] in chains:
                raise UsageError(f"two prompt infos are named {info['name']!r}; names must differ")
            prompt = PromptTemplate(info["prompt_template"])
            extra = [v for v in prompt.input_variables if v != "input"]
            if extra:
                raise UsageError(
                    f"the prompt of {info['name']!r} uses {extra}; destination prompts get "
                    "only {input}"
                )
            chains[info["name"]] = LLMChain(prompt, llm, output_key=output_key)
        router = LLMRouterChain(llm, {info["name"]: info["description"] for info in infos})
        default = default_chain
        if default is None:
            default = LLMChain(PromptTemplate("{input}"), llm, output_key=output_key)
        super().__init__(router, chains, default, output_key)
        self.llm, self.prompt_infos, self.custom_default = llm, infos, default_chain

    @classmethod
    def from_prompts(cls, *args: Any, **kwargs: Any) -> MultiPromptChain:
        """The constructor under LangChain's name: the same arguments."""
        return cls(*args, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        fields = {"default_chain": self.custom_default, "output_key": self.output_key}
        return spec_of("multi_prompt_chain", self, "llm", "prompt_infos", **fields)


_INFO_KEYS = ("name", "description", "prompt_template")


def _check_info(index: int, info: Any) -> dict[str, str]:
    if not isinstance(info, Mapping):
        raise UsageError(f"prompt_infos[{index}] must be a dict with keys {list(_INFO_KEYS)}")
    missing = [k for k in _INFO_KEYS if not isinstance(info.get(k), str)]
    extra = sorted(set(info) - set(_INFO_KEYS))
    if missing or extra:
        raise UsageError(
            f"prompt_infos[{index}] needs string values for {list(_INFO_KEYS)} "
            f"(missing or not a string: {missing}; unknown keys: {extra})"
        )
    return {k: info[k] for k in _INFO_KEYS}


def _router_from_spec(ctx: SpecContext) -> LLMRouterChain:
    destinations = ctx.get("destinations", dict)
    for name, text in destinations.items():
        if not isinstance(text, str):
            raise SpecError(f"{ctx.path}.destinations.{name}", "expected a description string")
    return LLMRouterChain(ctx.runnable("llm"), destinations, ctx.runnable("prompt", None))


def _multi_from_spec(ctx: SpecContext) -> MultiPromptChain:
    infos = ctx.get("prompt_infos", list)
    for i, info in enumerate(infos):
        try:
            _check_info(i, info)
        except UsageError as exc:
            raise SpecError(f"{ctx.path}.prompt_infos[{i}]", str(exc)) from exc
    return MultiPromptChain(ctx.runnable("llm"), infos, **routing_options(ctx))


add_builder("llm_router_chain", _router_from_spec)
add_builder("multi_prompt_chain", _multi_from_spec)
