"""Prompt templates: text (f-string/jinja2), chat, few-shot, and composed prompts."""

from __future__ import annotations

from agentkit.prompts.base import BasePromptTemplate
from agentkit.prompts.chat import ChatPromptTemplate, MessagesPlaceholder, MessageTemplate
from agentkit.prompts.few_shot import FewShotPromptTemplate
from agentkit.prompts.formats import FORMATS, find_variables
from agentkit.prompts.loading import load_prompt
from agentkit.prompts.pipeline import PipelinePromptTemplate
from agentkit.prompts.selectors import ExampleSelector, LengthBasedExampleSelector, word_count
from agentkit.prompts.template import PromptTemplate

__all__ = [
    "FORMATS",
    "BasePromptTemplate",
    "ChatPromptTemplate",
    "ExampleSelector",
    "FewShotPromptTemplate",
    "LengthBasedExampleSelector",
    "MessageTemplate",
    "MessagesPlaceholder",
    "PipelinePromptTemplate",
    "PromptTemplate",
    "find_variables",
    "load_prompt",
    "word_count",
]
