"""Structured output: validated objects from any chat model (see
:class:`~agentkit.llms.structured.output.StructuredOutput`)."""

from agentkit.llms.structured.output import METHODS, Strategy, StructuredOutput
from agentkit.llms.structured.schema import OutputSchema, extract_json

__all__ = ["METHODS", "OutputSchema", "Strategy", "StructuredOutput", "extract_json"]
