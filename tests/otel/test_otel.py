"""OTelTracer: agentkit runs as OpenTelemetry spans with the GenAI attributes and the run's
parent/child structure; OTLP/HTTP export to a local receiver; nothing loaded when off."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

pytest.importorskip("opentelemetry.sdk")
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentkit.agents.tool_calling import ToolCallingAgent
from agentkit.core.config import RunConfig
from agentkit.core.errors import UsageError
from agentkit.core.messages import ChatResult, ToolCall
from agentkit.interop.otel import OTelTracer
from agentkit.llms.fake import FakeListModel
from agentkit.parsers import StrOutputParser
from agentkit.prompts import PromptTemplate
from agentkit.tools import calculator


def agent_run(tracer: OTelTracer) -> None:
    model = FakeListModel(
        [ChatResult("", [ToolCall("c1", "calculator", {"expression": "2+2"})]), "It is 4"]
    )
    ToolCallingAgent(model, [calculator]).invoke("secret question", RunConfig(tracers=(tracer,)))


def test_spans_carry_genai_attributes_and_structure() -> None:
    exporter = InMemorySpanExporter()
    agent_run(OTelTracer.with_exporter(exporter, batch=False))
    spans = {s.name: s for s in exporter.get_finished_spans()}
    root = spans["invoke_agent ToolCallingAgent"]
    tool = spans["execute_tool calculator"]
    chats = [s for s in exporter.get_finished_spans() if s.name == "chat FakeListModel"]
    assert root.parent is None
    assert root.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert len(chats) == 2 and all(c.parent.span_id == root.context.span_id for c in chats)
    assert all(c.context.trace_id == root.context.trace_id for c in exporter.get_finished_spans())
    assert chats[1].attributes["gen_ai.request.model"] == "FakeListModel"
    assert chats[1].attributes["gen_ai.usage.output_tokens"] == 3
    assert chats[1].attributes["gen_ai.usage.input_tokens"] > 0
    assert tool.attributes["gen_ai.tool.name"] == "calculator"
    runner = spans["ToolRunner"]
    assert tool.parent.span_id == runner.context.span_id
    assert runner.parent.span_id == root.context.span_id
    # content is off by default: no prompt or answer text in any span
    for span in exporter.get_finished_spans():
        assert not any("secret" in str(v) for v in span.attributes.values())
        assert "gen_ai.input.messages" not in span.attributes


def test_content_is_recorded_only_when_asked_and_errors_mark_spans() -> None:
    exporter = InMemorySpanExporter()
    tracer = OTelTracer.with_exporter(exporter, batch=False, capture_content=True)
    agent_run(tracer)
    chat = next(s for s in exporter.get_finished_spans() if s.name.startswith("chat"))
    assert "You are a helpful assistant" in chat.attributes["gen_ai.input.messages"]
    assert "tool_calls" in chat.attributes["gen_ai.output.messages"]
    root = next(s for s in exporter.get_finished_spans() if s.parent is None)
    assert root.attributes["agentkit.input"] == "secret question"
    tool = next(s for s in exporter.get_finished_spans() if s.name.startswith("execute_tool"))
    assert tool.attributes["gen_ai.tool.call.result"] == "4"
    exporter.clear()
    chain = PromptTemplate.from_template("Q: {q}") | FakeListModel(["x"]) | StrOutputParser()
    with pytest.raises(UsageError, match="q"):
        chain.invoke({"wrong": 1}, RunConfig(tracers=(tracer,)))
    failed = [s for s in exporter.get_finished_spans() if not s.status.is_ok]
    assert failed and "error.type" in failed[0].attributes
    tracer.shutdown()


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self) -> None:
        size = int(self.headers.get("Content-Length", "0"))
        if self.path == "/v1/traces":
            type(self).bodies.append(self.rfile.read(size))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.bodies = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.timeout(60)
def test_otlp_export_reaches_a_local_receiver(
    receiver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver)
    tracer = OTelTracer.from_env()
    agent_run(tracer)
    assert tracer.force_flush(10_000)
    tracer.shutdown()
    names = []
    for body in _Receiver.bodies:
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                names += [span.name for span in scope.spans]
    assert "invoke_agent ToolCallingAgent" in names and "execute_tool calculator" in names


def test_nothing_heavy_is_imported_when_off() -> None:
    code = (
        "import sys, agentkit, agentkit.serve, agentkit.interop, agentkit.commands.serve, "
        "agentkit.commands.mcp\n"
        "heavy = [m for m in ('opentelemetry', 'starlette', 'uvicorn', 'mcp', 'openai') "
        "if m in sys.modules]\n"
        "print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr
