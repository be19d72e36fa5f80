"""What the LangChain adapters cost per call, measured against the unwrapped objects.

In one run, with interleaved rounds (``_common.compare_us``):

- ``lc_model_in_agentkit_overhead_us``: ``from_langchain(model).invoke("hi")`` minus
  ``model.invoke("hi")`` for a LangChain chat model whose ``invoke`` answers at once
  (message conversion both ways and agentkit's Runnable layer, without LangChain's own
  per-call machinery, which both sides pay; the full invokes of a ``FakeListChatModel``,
  plain and wrapped, are reported as ``lc_fake_model_invoke_us`` and
  ``lc_fake_model_in_agentkit_invoke_us``).
- ``agentkit_model_in_lc_overhead_us``: the adapter's own work inside LangChain,
  ``to_langchain(model)._generate(lc_messages)`` minus ``model.generate(messages)`` for an
  agentkit ``FakeListModel``. LangChain's per-call machinery around ``_generate``
  (callbacks, run ids) is the same for every LangChain model; it is reported separately as
  ``lc_invoke_machinery_us`` (``invoke`` of the adapter minus its ``_generate``).
- ``lc_chain_speedup``: a LangChain ``prompt | model | parser`` run natively (LCEL) / the
  same three components run as agentkit nodes (``from_langchain`` each, composed with
  ``|``). Target >= 1.0: wrapping never makes a user's LangChain chain slower.

Targets: each overhead < 50 us per call. Run: ``.venv/bin/python
benchmarks/interop_overhead.py [--quick]``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import compare_us, emit, parse_args

REPLY = "Why did the chicken cross the road? To get to the other side."
TEMPLATE = "Tell me a short joke about {topic}."
TARGETS = {
    "lc_model_in_agentkit_overhead_us": 50.0,
    "agentkit_model_in_lc_overhead_us": 50.0,
    "lc_chain_speedup": 1.0,
}


def instant_lc_model() -> Any:
    """A LangChain chat model whose ``invoke`` returns a prepared reply at once, so the
    wrapper's own cost is measured without LangChain's per-call machinery around it."""
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.outputs import ChatGeneration, ChatResult

    class InstantChatModel(BaseChatModel):
        reply: Any = None

        @property
        def _llm_type(self) -> str:
            return "instant"

        def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
            return self.reply

        def _generate(self, messages: Any, stop: Any = None, **kwargs: Any) -> ChatResult:
            return ChatResult(generations=[ChatGeneration(message=self.reply)])

    usage = {"input_tokens": 1, "output_tokens": 12, "total_tokens": 13}
    return InstantChatModel(reply=AIMessage(REPLY, usage_metadata=usage))


def lc_into_agentkit(repeat: int, number: int) -> dict[str, float]:
    from langchain_core.language_models import FakeListChatModel

    from agentkit.interop.langchain import from_langchain

    instant = instant_lc_model()
    wrapped_instant = from_langchain(instant)
    lc = FakeListChatModel(responses=[REPLY])
    wrapped = from_langchain(FakeListChatModel(responses=[REPLY]))
    assert wrapped.invoke("hi").content == lc.invoke("hi").content == REPLY
    times = compare_us(
        {
            "instant": lambda: instant.invoke("hi"),
            "wrapped_instant": lambda: wrapped_instant.invoke("hi"),
            "lc": lambda: lc.invoke("hi"),
            "wrapped": lambda: wrapped.invoke("hi"),
        },
        repeat=repeat,
        number=number,
    )
    return {
        "lc_model_in_agentkit_overhead_us": round(times["wrapped_instant"] - times["instant"], 2),
        "lc_fake_model_invoke_us": round(times["lc"], 2),
        "lc_fake_model_in_agentkit_invoke_us": round(times["wrapped"], 2),
    }


def agentkit_into_lc(repeat: int, number: int) -> dict[str, float]:
    from langchain_core.messages import HumanMessage

    from agentkit.core.messages import user
    from agentkit.interop.langchain import to_langchain
    from agentkit.llms.fake import FakeListModel

    model = FakeListModel([REPLY])
    adapter = to_langchain(FakeListModel([REPLY]))
    messages, lc_messages = [user("hi")], [HumanMessage("hi")]
    times = compare_us(
        {
            "agentkit": lambda: model.generate(messages),
            "adapter": lambda: adapter._generate(lc_messages),
            "adapter_invoke": lambda: adapter.invoke("hi"),
        },
        repeat=repeat,
        number=number,
    )
    return {
        "agentkit_model_generate_us": round(times["agentkit"], 2),
        "agentkit_model_in_lc_generate_us": round(times["adapter"], 2),
        "agentkit_model_in_lc_overhead_us": round(times["adapter"] - times["agentkit"], 2),
        "agentkit_model_in_lc_invoke_us": round(times["adapter_invoke"], 2),
        "lc_invoke_machinery_us": round(times["adapter_invoke"] - times["adapter"], 2),
    }


def chain_speedup(repeat: int, number: int) -> dict[str, float]:
    from langchain_core.language_models import FakeListChatModel
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    from agentkit.interop.langchain import from_langchain

    def parts() -> tuple[Any, Any, Any]:
        prompt = ChatPromptTemplate.from_messages([("human", TEMPLATE)])
        return prompt, FakeListChatModel(responses=[REPLY]), StrOutputParser()

    prompt, model, parser = parts()
    native = prompt | model | parser
    prompt2, model2, parser2 = parts()
    through = from_langchain(prompt2) | from_langchain(model2) | from_langchain(parser2)
    assert native.invoke({"topic": "cats"}) == through.invoke({"topic": "cats"}) == REPLY
    times = compare_us(
        {
            "native": lambda: native.invoke({"topic": "cats"}),
            "agentkit": lambda: through.invoke({"topic": "cats"}),
        },
        repeat=repeat,
        number=number,
    )
    return {
        "lc_chain_native_us": round(times["native"], 2),
        "lc_chain_through_agentkit_us": round(times["agentkit"], 2),
        "lc_chain_speedup": round(times["native"] / times["agentkit"], 3),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(__doc__ or "", argv)
    repeat, number = (7, 200) if args.quick else (15, 1000)
    result: dict[str, Any] = {}
    result.update(lc_into_agentkit(repeat, number))
    result.update(agentkit_into_lc(repeat, number))
    result.update(chain_speedup(repeat, max(number // 2, 100)))
    import langchain_core

    result["langchain_core"] = langchain_core.__version__
    result["targets"] = TARGETS
    result["meets_targets"] = (
        result["lc_model_in_agentkit_overhead_us"] < TARGETS["lc_model_in_agentkit_overhead_us"]
        and result["agentkit_model_in_lc_overhead_us"] < TARGETS["agentkit_model_in_lc_overhead_us"]
        and result["lc_chain_speedup"] >= TARGETS["lc_chain_speedup"]
    )
    result["quick"] = bool(args.quick)
    emit(result, "interop_overhead", args.quick)
    return result


if __name__ == "__main__":
    main()
