"""The extractive reader: answers questions from the given documents with their best
sentence(s), no generative model needed (the offline default for RAG question answering).

Importing this package registers the ``extractive_reader`` spec type.
"""

from __future__ import annotations

from agentkit.llms.extractive.prompt import ParsedPrompt, parse_prompt
from agentkit.llms.extractive.reader import NO_ANSWER, ExtractiveAnswer, ExtractiveReader

__all__ = ["NO_ANSWER", "ExtractiveAnswer", "ExtractiveReader", "ParsedPrompt", "parse_prompt"]
