"""The chain-graph core: runnables, composition, config, tracing, graphs, specs, errors."""

from agentkit.core.compose import (
    Assign,
    Branch,
    Configured,
    Fallbacks,
    Lambda,
    Parallel,
    Passthrough,
    Pick,
    Retry,
    Sequence,
    branch,
    coerce,
)
from agentkit.core.config import RunConfig, ensure_config
from agentkit.core.errors import (
    AgentkitError,
    MissingDependencyError,
    ModelOutputError,
    OutputParserError,
    PromptVariableError,
    RunError,
    RunTimeoutError,
    SpecError,
    UsageError,
    WiringError,
)
from agentkit.core.flow import Call, Flow, Gather, Sleep
from agentkit.core.graph import Graph
from agentkit.core.runnable import Runnable, traced
from agentkit.core.tracing import ConsoleTracer, InMemoryTracer, JsonlTracer, Span, Tracer, debug

__all__ = [
    "AgentkitError",
    "Assign",
    "Branch",
    "Call",
    "Configured",
    "ConsoleTracer",
    "Fallbacks",
    "Flow",
    "Gather",
    "Graph",
    "InMemoryTracer",
    "JsonlTracer",
    "Lambda",
    "MissingDependencyError",
    "ModelOutputError",
    "OutputParserError",
    "Parallel",
    "Passthrough",
    "Pick",
    "PromptVariableError",
    "Retry",
    "RunConfig",
    "RunError",
    "RunTimeoutError",
    "Runnable",
    "Sequence",
    "Sleep",
    "Span",
    "SpecError",
    "Tracer",
    "UsageError",
    "WiringError",
    "branch",
    "coerce",
    "debug",
    "ensure_config",
    "traced",
]
