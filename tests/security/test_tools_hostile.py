"""Hostile input to the built-in tools: the calculator runs nothing, python_repl leaks
nothing of the agent's secrets and reaches nothing of the agent's process."""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Iterator

import pytest

import agentkit.tools.pyexec as pyexec
from agentkit.tools import PythonREPLTool, ToolInputError, evaluate, python_repl

pytestmark = pytest.mark.timeout(120)
CANARY_EVENTS = ("exec", "import", "open", "os.system", "subprocess.Popen", "os.exec",
                 "os.posix_spawn", "os.fork", "ctypes.dlopen", "builtins.input")  # fmt: skip
_armed: list[list[str]] = []


def _canary(event: str, args: tuple[object, ...]) -> None:
    if _armed and event.startswith(CANARY_EVENTS):
        _armed[-1].append(event)


sys.addaudithook(_canary)  # audit hooks cannot be removed: it records only while armed


@pytest.fixture
def audit() -> Iterator[list[str]]:
    events: list[str] = []
    _armed.append(events)
    try:
        yield events
    finally:
        _armed.pop()


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('touch PWNED')",
        "open('/etc/passwd').read()",
        "exec('import os')",
        "eval('1+1')",
        "compile('1', 'x', 'eval')",
        "(1).__class__.__bases__[0].__subclasses__()",
        "[c for c in ().__class__.__base__.__subclasses__()]",
        "(lambda: __import__('subprocess'))()",
        "f'{__import__(\"os\").getcwd()}'",
        "globals()",
        "breakpoint()",
        "sqrt.__self__.__import__('os')",
        "getattr(sqrt, '__globals__')",
        "__builtins__",
        "round.__call__(1, -10**8)",
        "round(*[1, -10**8])",
        "max(map(lambda x: x, [1]))",
    ],
)
def test_the_calculator_runs_no_code(expression: str, audit: list[str]) -> None:
    with pytest.raises(ToolInputError):
        evaluate(expression)
    assert audit == []


def test_the_calculator_answers_without_touching_anything(audit: list[str]) -> None:
    assert evaluate("round(sqrt(2) * 1000) + 25% of 300 - 2^10") == 1414 + 75 - 1024
    assert audit == []


linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux")
isolated = pytest.mark.skipif(not pyexec.network_isolation(), reason="no namespaces here")


@linux
def test_python_repl_sees_none_of_the_agents_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"sk-{uuid.uuid4().hex}"
    monkeypatch.setenv("AGENTKIT_TEST_SECRET", secret)
    code = "import os\nprint(sorted(os.environ))\nprint(open('/proc/self/environ').read())"
    result = PythonREPLTool(isolate_network=False).invoke(code)
    assert result.startswith("exit status: 0") and "'PATH'" in result
    assert "AGENTKIT_TEST_SECRET" not in result and secret not in result


@linux
@isolated
def test_python_repl_cannot_read_the_agents_proc_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"sk-{uuid.uuid4().hex}"
    monkeypatch.setenv("AGENTKIT_TEST_SECRET", secret)
    os.environ["AGENTKIT_TEST_SECRET"] = secret  # in the process's own environ block too
    agent = os.getpid()
    code = (
        f"for pid in ({agent}, {os.getppid()}):\n"
        "    try:\n"
        "        print(open(f'/proc/{pid}/environ', 'rb').read())\n"
        "    except OSError as exc:\n"
        "        print('refused', type(exc).__name__)\n"
        "import os\nprint(len([p for p in os.listdir('/proc') if p.isdigit()]) < 10)"
    )
    result = python_repl.invoke(code)
    assert secret not in result
    assert result.count("refused") == 2 and result.rstrip().endswith("True")


@linux
@isolated
def test_python_repl_cannot_reach_the_agents_abstract_unix_socket() -> None:
    name = f"\0agentkit-test-{uuid.uuid4().hex}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(name)
    server.listen(1)
    try:
        code = (
            "import socket\n"
            "client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
            "try:\n"
            f"    client.connect({name!r})\n"
            "    print('connected')\n"
            "except OSError as exc:\n"
            "    print('refused', type(exc).__name__)\n"
        )
        result = python_repl.invoke(code)
    finally:
        server.close()
    assert "refused ConnectionRefusedError" in result and "connected" not in result


@linux
def test_python_repl_code_cannot_stop_the_agent() -> None:
    agent = os.getpid()
    code = (
        "import os, signal\n"
        "try:\n"
        f"    os.kill({agent}, signal.SIGKILL)\n"
        "except OSError as exc:\n"
        "    print('refused', type(exc).__name__)\n"
    )
    result = python_repl.invoke(code) if pyexec.network_isolation() else "refused (no ns)"
    assert "refused" in result  # and this test process is still alive to check it
