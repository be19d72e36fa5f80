"""Routing questions to the best prompt: physics, math, history or computer science, with a
default for everything else.

``build()`` is a MultiPromptChain (a model picks the destination with the classic router
prompt). ``build_embedding()`` routes by embedding similarity instead, with no model call
for the routing; it uses the tiny HashingEmbedder here (pass a real embedder for semantic
routing). Run: ``python examples/router.py``.
"""

from __future__ import annotations

import json
from typing import Any

from agentkit.chains import EmbeddingRouterChain, LLMChain, MultiPromptChain
from agentkit.llms import FakeListModel
from agentkit.prompts import PromptTemplate

PHYSICS = """You are a very smart physics professor. You are great at answering questions \
about physics in a concise and easy to understand manner. When you don't know the answer to a \
question you admit that you don't know.

Here is a question:
{input}"""

MATH = """You are a very good mathematician. You are great at answering math questions. You \
are so good because you are able to break down hard problems into their component parts, \
answer the component parts, and then put them together to answer the broader question.

Here is a question:
{input}"""

HISTORY = """You are a very good historian. You have an excellent knowledge of and \
understanding of people, events and contexts from a range of historical periods. You have the \
ability to think, reflect, debate, discuss and evaluate the past. You have a respect for \
historical evidence and the ability to make use of it to support your explanations and \
judgements.

Here is a question:
{input}"""

COMPUTER_SCIENCE = """You are a successful computer scientist. You have a passion for \
creativity, collaboration, forward-thinking, confidence, strong problem-solving capabilities, \
understanding of theories and algorithms, and excellent communication skills. You are great \
at answering coding questions. You know how to choose a solution that has a good balance \
between time complexity and space complexity.

Here is a question:
{input}"""

PROMPT_INFOS = [
    {
        "name": "physics",
        "description": "Good for answering questions about physics",
        "prompt_template": PHYSICS,
    },
    {"name": "math", "description": "Good for answering math questions", "prompt_template": MATH},
    {
        "name": "history",
        "description": "Good for answering history questions",
        "prompt_template": HISTORY,
    },
    {
        "name": "computer science",
        "description": "Good for answering computer science questions",
        "prompt_template": COMPUTER_SCIENCE,
    },
]

QUESTIONS = ["What is black body radiation?", "Why does every cell in our body contain DNA?"]
PHYSICS_ANSWER = (
    "Black body radiation is the electromagnetic radiation emitted by an idealised object "
    "that absorbs all incident radiation; its spectrum depends only on its temperature."
)
DEFAULT_ANSWER = (
    "DNA carries the instructions for making the proteins a cell needs, so every cell keeps "
    "a copy to grow, work and divide."
)


def _route(destination: str, question: str) -> str:
    body = json.dumps({"destination": destination, "next_inputs": question}, indent=4)
    return f"```json\n{body}\n```"


def build(llm: Any = None) -> MultiPromptChain:
    """The model-routed chain. The fake answers the two QUESTIONS in order: a routing
    decision, then the answer, for each."""
    script = [
        _route("physics", QUESTIONS[0]),
        PHYSICS_ANSWER,
        _route("DEFAULT", QUESTIONS[1]),
        DEFAULT_ANSWER,
    ]
    return MultiPromptChain.from_prompts(_model(llm, *script), PROMPT_INFOS)


def _model(llm: Any, *replies: str) -> Any:
    """The given model, or a fake one that gives ``replies`` in order."""
    return llm if llm is not None else FakeListModel(list(replies))


# Descriptions for the embedding router: the words a question shares with them matter.
EMBEDDING_DESTINATIONS = {
    "physics": "Physics questions: black body radiation, light, energy, forces, motion, "
    "gravity, quantum mechanics and thermodynamics.",
    "math": "Math questions: algebra, equations, calculus, geometry, numbers, proofs and "
    "probability.",
    "history": "History questions: wars, empires, kings, revolutions and events of the past.",
    "computer science": "Computer science questions: algorithms, data structures, "
    "programming, code, complexity and computers.",
}


def build_embedding(llm: Any = None, embedder: Any = None) -> EmbeddingRouterChain:
    """The embedding-routed chain: no model call to route; below a similarity of 0.2 the
    default chain answers."""
    if embedder is None:
        from agentkit.retrievers.embeddings import HashingEmbedder

        embedder = HashingEmbedder()
    templates = {info["name"]: info["prompt_template"] for info in PROMPT_INFOS}
    canned = {"physics": PHYSICS_ANSWER}
    chains = {
        name: LLMChain(PromptTemplate(template), _model(llm, canned.get(name, f"({name})")))
        for name, template in templates.items()
    }
    default = LLMChain(PromptTemplate("{input}"), _model(llm, DEFAULT_ANSWER))
    return EmbeddingRouterChain(
        embedder, EMBEDDING_DESTINATIONS, chains, default_chain=default, threshold=0.2
    )


def demo_runs(llm: Any = None) -> list[tuple[str, Any, Any]]:
    """(title, chain, input) for ``examples/demo.py``; each chain answers both questions."""
    by_model, by_embedding = build(llm), build_embedding(llm)
    return [
        *(("Router (model decides)", by_model, q) for q in QUESTIONS),
        *(("Router (embedding similarity)", by_embedding, q) for q in QUESTIONS),
    ]


def main() -> None:
    for title, chain, chain_input in demo_runs():
        result = chain.invoke(chain_input)
        print(f"== {title}: {chain_input}")
        print(f"destination: {result['destination']}")
        print(result["text"])


if __name__ == "__main__":
    main()
