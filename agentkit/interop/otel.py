"""agentkit spans as OpenTelemetry spans: :class:`OTelTracer` (extra ``otel``).

Add it to a run's tracers (``RunConfig(tracers=(OTelTracer.from_env(),))``, or
``agentkit serve --otel``) and every node run becomes an OTel span with its parent/child
structure, named and attributed after the GenAI semantic conventions:

- models: ``chat <name>``, ``gen_ai.operation.name="chat"``, ``gen_ai.request.model``,
  ``gen_ai.usage.input_tokens`` / ``output_tokens``;
- tools: ``execute_tool <name>``, ``gen_ai.tool.name``; agents: ``invoke_agent <name>``,
  ``gen_ai.agent.name``; embedders: ``embeddings``; other nodes keep their names;
- every span: ``agentkit.kind``, ``agentkit.run_id``, tags and scalar metadata;
- errors: status ERROR and ``error.type``.

Prompts and completions (``gen_ai.input.messages`` / ``gen_ai.output.messages``, tool
arguments and results; agentkit's bounded previews) are recorded only with
``capture_content=True``. Spans go to the tracer provider you give, else the global one;
:meth:`OTelTracer.from_env` builds one exporting over OTLP/HTTP (``OTEL_EXPORTER_OTLP_*``
settings). This module is imported only when used: nothing is loaded or paid otherwise.
"""

from __future__ import annotations

import threading
from typing import Any

from agentkit.core.errors import MissingDependencyError
from agentkit.core.tracing import Span

_OPERATIONS = {"model": "chat", "tool": "execute_tool", "agent": "invoke_agent"}


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


class OTelTracer:
    """An agentkit tracer (``on_start``/``on_end``) that records OpenTelemetry spans."""

    def __init__(
        self,
        tracer_provider: Any = None,
        *,
        capture_content: bool = False,
        owns_provider: bool = False,
    ) -> None:
        try:
            from opentelemetry import trace
        except ImportError as exc:
            raise MissingDependencyError("opentelemetry-api", "otel", "OTelTracer") from exc
        self._trace = trace
        self.provider: Any = tracer_provider or trace.get_tracer_provider()
        self.tracer = self.provider.get_tracer("agentkit")
        self.capture_content = capture_content
        self._owns_provider = owns_provider
        self._open: dict[str, Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def with_exporter(cls, exporter: Any, *, batch: bool = True, **options: Any) -> OTelTracer:
        """A tracer with its own SDK provider sending spans to ``exporter`` (batched, or
        one by one with ``batch=False``); ``OTEL_SERVICE_NAME`` names the service."""
        try:
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
        except ImportError as exc:
            raise MissingDependencyError("opentelemetry-sdk", "otel", "OTelTracer") from exc
        provider = TracerProvider(resource=Resource.create({"service.name": "agentkit"}))
        processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        provider.add_span_processor(processor)
        return cls(provider, owns_provider=True, **options)

    @classmethod
    def from_env(cls, **options: Any) -> OTelTracer:
        """A tracer exporting over OTLP/HTTP, configured by the standard ``OTEL_EXPORTER_OTLP_*``
        environment variables (default endpoint ``http://localhost:4318/v1/traces``)."""
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as exc:
            raise MissingDependencyError(
                "opentelemetry-exporter-otlp-proto-http", "otel", "OTLP export"
            ) from exc
        return cls.with_exporter(OTLPSpanExporter(), **options)

    # --- the tracer interface ------------------------------------------------------

    def on_start(self, span: Span) -> None:
        with self._lock:
            parent = self._open.get(span.parent_id) if span.parent_id else None
        context = self._trace.set_span_in_context(parent) if parent is not None else None
        operation = _OPERATIONS.get(span.kind)
        if operation is not None:
            name = f"{operation} {span.name}"
        else:
            name = "embeddings" if span.kind == "embedder" else span.name
        otel_span = self.tracer.start_span(
            name, context=context, start_time=_ns(span.start), attributes=self._attributes(span)
        )
        with self._lock:
            self._open[span.id] = otel_span

    def on_end(self, span: Span) -> None:
        with self._lock:
            otel_span = self._open.pop(span.id, None)
        if otel_span is None:  # the tracer was added mid-run: record the span whole
            self.on_start(span)
            with self._lock:
                otel_span = self._open.pop(span.id)
        if span.usage:
            otel_span.set_attribute("gen_ai.usage.input_tokens", span.usage.get("prompt_tokens", 0))
            otel_span.set_attribute(
                "gen_ai.usage.output_tokens", span.usage.get("completion_tokens", 0)
            )
        if self.capture_content and not span.error:
            key = "gen_ai.tool.call.result" if span.kind == "tool" else "gen_ai.output.messages"
            otel_span.set_attribute(
                key if span.kind in _OPERATIONS else "agentkit.output", span.output
            )
        if span.error:
            from opentelemetry.trace import Status, StatusCode

            otel_span.set_attribute("error.type", span.error.partition(":")[0])
            otel_span.set_status(Status(StatusCode.ERROR, span.error))
        otel_span.end(end_time=_ns(span.end or span.start))

    def _attributes(self, span: Span) -> dict[str, Any]:
        attributes: dict[str, Any] = {"agentkit.kind": span.kind, "agentkit.run_id": span.id}
        operation = _OPERATIONS.get(span.kind)
        if operation is not None:
            attributes["gen_ai.operation.name"] = operation
        if span.kind == "model":
            attributes["gen_ai.request.model"] = span.name
        elif span.kind == "tool":
            attributes["gen_ai.tool.name"] = span.name
        elif span.kind == "agent":
            attributes["gen_ai.agent.name"] = span.name
        elif span.kind == "embedder":
            attributes["gen_ai.operation.name"] = "embeddings"
        if span.tags:
            attributes["agentkit.tags"] = list(span.tags)
        for key, value in span.metadata.items():
            if isinstance(value, str | bool | int | float):
                attributes[f"agentkit.metadata.{key}"] = value
        if self.capture_content:
            names = {"model": "gen_ai.input.messages", "tool": "gen_ai.tool.call.arguments"}
            attributes[names.get(span.kind, "agentkit.input")] = span.input
        return attributes

    # --- lifecycle -----------------------------------------------------------------

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        flush = getattr(self.provider, "force_flush", None)
        return bool(flush(timeout_millis)) if callable(flush) else True

    def shutdown(self) -> None:
        """Flush and stop the provider this tracer built (a given provider is left alone)."""
        if self._owns_provider:
            self.provider.shutdown()
