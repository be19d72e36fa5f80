"""Framework overhead of ``prompt | fake model | str parser``: agentkit vs LangChain LCEL.

Measures, in one run and with interleaved rounds:
- ``lcel_invoke_us``: LCEL ``PromptTemplate | FakeListLLM | StrOutputParser`` per invoke;
- ``invoke_us``: the same chain in agentkit (no tracer);
- ``invoke_traced_us``: agentkit with an in-memory tracer (4 spans per invoke);
- ``abatch_speedup``: 100 runs of the chain whose fake model waits 50 ms per call,
  sequential ``invoke`` time / ``abatch(max_concurrency=100)`` time.

Run: ``.venv/bin/python benchmarks/chain_overhead.py [--quick]``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import compare_us, emit, parse_args

TEMPLATE = "Tell me a short joke about {topic}."
REPLY = "Why did the chicken cross the road? To get to the other side."
TARGETS = {"ratio": 40.0, "ratio_traced": 10.0, "abatch_speedup": 20.0}


def agentkit_chain(latency: float = 0.0) -> tuple[Any, Any]:
    from agentkit.llms.fake import FakeListModel
    from agentkit.parsers import StrOutputParser
    from agentkit.prompts import PromptTemplate

    model = FakeListModel([REPLY], latency=latency)
    return PromptTemplate(TEMPLATE) | model | StrOutputParser(), model


def lcel_chain() -> Any:
    from langchain_core.language_models.fake import FakeListLLM
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import PromptTemplate

    return (
        PromptTemplate.from_template(TEMPLATE) | FakeListLLM(responses=[REPLY]) | StrOutputParser()
    )


def overhead(repeat: int, number: int) -> dict[str, float]:
    from agentkit.core import InMemoryTracer, RunConfig

    ours, model = agentkit_chain()
    lcel = lcel_chain()
    tracer = InMemoryTracer()
    traced_cfg = RunConfig(tracers=(tracer,))
    calls = model.calls  # the fake records every call: clear it so memory stays flat
    inp = {"topic": "chickens"}
    assert ours.invoke(inp) == lcel.invoke(inp) == REPLY

    def run_ours() -> None:
        ours.invoke(inp)
        calls.clear()

    def run_traced() -> None:
        ours.invoke(inp, traced_cfg)
        calls.clear()
        tracer.clear()

    def run_lcel() -> None:
        lcel.invoke(inp)

    ours.invoke(inp, traced_cfg)
    assert len(tracer.spans) == 4, tracer.names()  # sequence + prompt + model + parser
    tracer.clear()
    times = compare_us(
        {"lcel": run_lcel, "ours": run_ours, "traced": run_traced}, repeat=repeat, number=number
    )
    return {
        "lcel_invoke_us": times["lcel"],
        "invoke_us": times["ours"],
        "invoke_traced_us": times["traced"],
        "ratio": times["lcel"] / times["ours"],
        "ratio_traced": times["lcel"] / times["traced"],
    }


def abatch_speedup(calls: int = 100, latency: float = 0.05) -> dict[str, float]:
    chain, model = agentkit_chain(latency)
    inputs = [{"topic": f"topic {i}"} for i in range(calls)]
    start = time.perf_counter()
    sequential = [chain.invoke(x) for x in inputs]
    seq_s = time.perf_counter() - start

    start = time.perf_counter()
    concurrent = asyncio.run(chain.abatch(inputs, max_concurrency=calls))
    abatch_s = time.perf_counter() - start
    assert concurrent == sequential and len(model.calls) == 2 * calls
    return {"sequential_s": seq_s, "abatch_s": abatch_s, "abatch_speedup": seq_s / abatch_s}


def main() -> None:
    args = parse_args(__doc__.splitlines()[0] if __doc__ else "chain overhead")
    repeat, number = (5, 1000) if args.quick else (9, 5000)
    result: dict[str, Any] = overhead(repeat, number)
    result.update(abatch_speedup())
    result = {k: round(v, 3) for k, v in result.items()}
    result["targets"] = TARGETS
    result["meets_targets"] = all(result[k] >= v for k, v in TARGETS.items())
    result["quick"] = args.quick
    print(
        f"LCEL {result['lcel_invoke_us']:.1f} us | agentkit {result['invoke_us']:.1f} us "
        f"(x{result['ratio']:.1f}) | traced {result['invoke_traced_us']:.1f} us "
        f"(x{result['ratio_traced']:.1f}) | abatch speedup x{result['abatch_speedup']:.1f}"
    )
    emit(result, "chain_overhead", args.quick)


if __name__ == "__main__":
    main()
