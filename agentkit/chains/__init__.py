"""Classic chains: dict-in, dict-out runnables with named input and output keys.

Importing this package registers every chain's spec type.
"""

from __future__ import annotations

from agentkit.chains.base import Chain
from agentkit.chains.conversation import ConversationChain, ConversationMemory
from agentkit.chains.embedding_router import EmbeddingRouter, EmbeddingRouterChain
from agentkit.chains.generated_knowledge import GeneratedKnowledgeChain
from agentkit.chains.llm_chain import LLMChain
from agentkit.chains.llm_router import LLMRouterChain, MultiPromptChain
from agentkit.chains.retrieval_qa import RetrievalQA
from agentkit.chains.router import RouterChain
from agentkit.chains.self_consistency import SelfConsistencyChain
from agentkit.chains.sequential import SequentialChain, SimpleSequentialChain
from agentkit.chains.voting import majority

__all__ = [
    "Chain",
    "ConversationChain",
    "ConversationMemory",
    "EmbeddingRouter",
    "EmbeddingRouterChain",
    "GeneratedKnowledgeChain",
    "LLMChain",
    "LLMRouterChain",
    "MultiPromptChain",
    "RetrievalQA",
    "RouterChain",
    "SelfConsistencyChain",
    "SequentialChain",
    "SimpleSequentialChain",
    "majority",
]
