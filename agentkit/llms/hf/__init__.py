"""Local Hugging Face models as chat models: :class:`HFChatModel`.

Importing this package is light: torch, transformers and peft load when a model is first
used. Importing it registers the ``hf_model`` spec type.
"""

from __future__ import annotations

from agentkit.llms.hf.chat_template import PLAIN_CHAT_TEMPLATE
from agentkit.llms.hf.model import HFChatModel
from agentkit.llms.hf.tool_prompting import TOOL_PROMPT, parse_tool_calls

__all__ = ["PLAIN_CHAT_TEMPLATE", "TOOL_PROMPT", "HFChatModel", "parse_tool_calls"]
