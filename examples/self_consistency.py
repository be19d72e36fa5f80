"""Few-shot chain-of-thought with self-consistency (Wang et al. 2022): sample several
reasoning paths for the "sister's age" question and take the majority answer.

The few-shot exemplars show worked reasoning ending in "The answer is N."; a RegexParser
reads N from each sample, and samples without an answer are counted as invalid.
Run: ``python examples/self_consistency.py``.
"""

from __future__ import annotations

import re
from typing import Any

from agentkit.chains import LLMChain, SelfConsistencyChain
from agentkit.llms import FakeListModel
from agentkit.parsers import RegexParser
from agentkit.prompts import FewShotPromptTemplate, PromptTemplate

QUESTION = "When I was 6 my sister was half my age. Now I'm 70 how old is my sister?"

EXAMPLES = [
    {
        "question": "There are 15 trees in the grove. Grove workers will plant trees in the "
        "grove today. After they are done, there will be 21 trees. How many trees did the "
        "grove workers plant today?",
        "answer": "We start with 15 trees. Later we have 21 trees. The difference must be the "
        "number of trees they planted. So, they must have planted 21 - 15 = 6 trees. The "
        "answer is 6.",
    },
    {
        "question": "If there are 3 cars in the parking lot and 2 more cars arrive, how many "
        "cars are in the parking lot?",
        "answer": "There are 3 cars in the parking lot already. 2 more arrive. Now there are "
        "3 + 2 = 5 cars. The answer is 5.",
    },
    {
        "question": "Leah had 32 chocolates and her sister had 42. If they ate 35, how many "
        "pieces do they have left in total?",
        "answer": "Leah had 32 chocolates and Leah's sister had 42. That means there were "
        "originally 32 + 42 = 74 chocolates. 35 have been eaten. So in total they still have "
        "74 - 35 = 39 chocolates. The answer is 39.",
    },
    {
        "question": "Olivia has $23. She bought five bagels for $3 each. How much money does "
        "she have left?",
        "answer": "She bought 5 bagels for $3 each. This means she spent 15 dollars. She has "
        "23 - 15 = 8 dollars left. The answer is 8.",
    },
]

# Five sampled reasoning paths the fake model gives: three reach 67, one halves 70 (35),
# and one never states an answer.
SAMPLES = [
    "When I was 6 my sister was half my age, so she was 3. Now I am 70, so she is "
    "70 - 3 = 67. The answer is 67.",
    "Half of 70 is 35, so my sister is 70 / 2 = 35. The answer is 35.",
    "When the narrator was 6, his sister was half his age, which is 3. Now that the narrator "
    "is 70, his sister would be 70 - 3 = 67 years old. The answer is 67.",
    "My sister is 6 / 2 = 3 years younger than me, and an age gap never changes.",
    "She was 3 years younger than me when I was 6. So now she is 70 - 3 = 67. The answer is 67.",
]

ANSWER_PATTERN = r"The answer is \$?(?P<answer>-?\d+(?:\.\d+)?)"


def build_prompt() -> FewShotPromptTemplate:
    """Worked examples, then the question."""
    return FewShotPromptTemplate(
        example_prompt=PromptTemplate("Q: {question}\nA: {answer}"),
        examples=EXAMPLES,
        suffix="Q: {question}\nA:",
    )


def build(llm: Any = None, n: int = 5) -> SelfConsistencyChain:
    """``n`` samples of a chain-of-thought LLMChain, voted on. A real model is sampled at
    temperature 0.7 so the reasoning paths differ."""
    model = llm.bind(temperature=0.7) if llm is not None else FakeListModel(SAMPLES)
    return SelfConsistencyChain(
        LLMChain(build_prompt(), model),
        n=n,
        parser=RegexParser(ANSWER_PATTERN, flags=re.IGNORECASE),
    )


def demo_runs(llm: Any = None) -> list[tuple[str, Any, Any]]:
    """(title, chain, input) for ``examples/demo.py``."""
    return [("Self-consistency (few-shot chain of thought)", build(llm), QUESTION)]


def main() -> None:
    for title, chain, chain_input in demo_runs():
        result = chain.invoke(chain_input)
        print(f"== {title}")
        print(f"answer: {result['answer']}  votes: {result['votes']}  invalid: {result['invalid']}")


if __name__ == "__main__":
    main()
