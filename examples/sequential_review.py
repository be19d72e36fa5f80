"""A SequentialChain with four steps and three outputs:

review -> English translation -> one-sentence summary; review -> language;
summary + language -> follow-up message. The wiring (which step reads which variable) is
checked when the chain is built. Run: ``python examples/sequential_review.py``.
"""

from __future__ import annotations

from typing import Any

from agentkit.chains import LLMChain, SequentialChain
from agentkit.llms import FakeListModel
from agentkit.prompts import PromptTemplate

REVIEW = (
    "Je trouve le goût médiocre. La mousse ne tient pas, c'est bizarre. J'achète les mêmes "
    "dans le commerce et le goût est bien meilleur... Vieux lot ou contrefaçon !?"
)

# (prompt, output key, the fake model's canned reply)
STEPS = [
    (
        "Translate the following review to English:\n\n{review}",
        "english_review",
        "I find the taste mediocre. The foam doesn't hold, it's weird. I buy the same ones "
        "in stores and the taste is much better... Old batch or counterfeit!?",
    ),
    (
        "Can you summarize the following review in 1 sentence:\n\n{english_review}",
        "summary",
        "The reviewer finds the taste mediocre and the foam unstable, and suspects an old "
        "batch or a counterfeit.",
    ),
    (
        "What language is the following review:\n\n{review}",
        "language",
        "French",
    ),
    (
        "Write a follow up response to the following summary in the specified language:"
        "\n\nSummary: {summary}\n\nLanguage: {language}",
        "followup_message",
        "Merci pour votre avis. Nous sommes désolés que le goût et la mousse vous aient "
        "déçu : pourriez-vous nous envoyer le numéro de lot afin que nous vérifiions s'il "
        "s'agit d'un ancien lot ?",
    ),
]


def build(llm: Any = None) -> SequentialChain:
    """Four LLMChains wired by variable name; by default each has its own fake model."""
    chains = [
        LLMChain(
            PromptTemplate(prompt),
            llm if llm is not None else FakeListModel([reply]),
            output_key=key,
        )
        for prompt, key, reply in STEPS
    ]
    return SequentialChain(
        chains,
        input_variables=["review"],
        output_variables=["english_review", "summary", "followup_message"],
    )


def demo_runs(llm: Any = None) -> list[tuple[str, Any, Any]]:
    """(title, chain, input) for ``examples/demo.py``."""
    return [
        (
            "Sequential: review -> translation, summary, language, follow-up",
            build(llm),
            {"review": REVIEW},
        )
    ]


def main() -> None:
    for title, chain, chain_input in demo_runs():
        print(f"== {title}")
        for key, value in chain.invoke(chain_input).items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
