"""The python_repl tool: a separate process with time, memory and output limits."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from agentkit.tools import PythonREPLTool, ToolExecutionError, python_repl, run_tool_safely
from agentkit.tools.pyexec import echo_last_expression, network_isolation

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process limits")


def test_prints_stdout_and_the_final_expression() -> None:
    result = python_repl.invoke("import math\nprint('hello')\nmath.factorial(5)")
    assert result == "exit status: 0\nstdout:\nhello\n120"


def test_reports_exceptions_with_the_traceback() -> None:
    result = python_repl.invoke({"code": "def f():\n    return 1 / 0\nf()"})
    assert result.startswith("exit status: 1\nstderr:\nTraceback")
    assert 'File "snippet.py", line 2, in f' in result
    assert result.rstrip().endswith("ZeroDivisionError: division by zero")


def test_nothing_printed_says_so() -> None:
    assert python_repl.invoke("x = 1") == (
        "exit status: 0\n(no output: print the values you want to see)"
    )


def test_an_infinite_loop_is_killed_at_the_timeout() -> None:
    tool = PythonREPLTool(timeout=1)
    with pytest.raises(ToolExecutionError) as info:
        tool.invoke("print('started', flush=True)\nwhile True:\n    pass")
    message = str(info.value)
    assert "ran longer than its 1 s time limit and was killed" in message
    assert "output so far:\nstarted" in message
    outcome = run_tool_safely(tool, "import time\ntime.sleep(30)")
    assert outcome.error is not None and "time limit" in outcome.observation


def test_the_cpu_limit_stops_a_busy_loop_like_the_timeout() -> None:
    tool = PythonREPLTool(timeout=20, cpu_seconds=1)
    with pytest.raises(ToolExecutionError, match=r"used more than its 1 s of CPU time") as info:
        tool.invoke("print('spinning', flush=True)\nwhile True:\n    pass")
    assert "output so far:\nspinning" in str(info.value)


def test_the_memory_limit_stops_big_allocations() -> None:
    tool = PythonREPLTool(memory_mb=128)
    result = tool.invoke("data = bytearray(1024 * 1024 * 1024)\nprint(len(data))")
    assert result.startswith("exit status: 1 (memory limit: 128 MiB)")
    assert "MemoryError" in result


def test_output_is_bounded() -> None:
    tool = PythonREPLTool(max_output_chars=100)
    result = tool.invoke("for i in range(100000):\n    print('x' * 50)")
    assert result.startswith("exit status: 0\nstdout:\nxxxxx")
    assert result.endswith("[... 5099950 more bytes of output dropped]")
    assert len(result) < 200


def test_the_child_gets_a_clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    result = python_repl.invoke("import os\nprint(sorted(os.environ))\nprint(os.getcwd())")
    assert "OPENAI_API_KEY" not in result
    assert "agentkit-python-" in result


@pytest.mark.skipif(not network_isolation(), reason="no network namespaces on this machine")
def test_no_network_where_the_os_allows_it() -> None:
    result = python_repl.invoke("import socket\nprint([n for _, n in socket.if_nameindex()])")
    assert "['lo']" in result
    open_net = PythonREPLTool(isolate_network=False).invoke(
        "import socket\nprint(len(socket.if_nameindex()))"
    )
    assert open_net.startswith("exit status: 0")


def test_async_invoke_runs_the_same_way() -> None:
    assert asyncio.run(python_repl.ainvoke("print(6 * 7)")) == "exit status: 0\nstdout:\n42"


def test_echo_rewrites_only_a_final_expression() -> None:
    assert echo_last_expression("x = 1") == "x = 1"
    assert echo_last_expression("print(1)") == "print(1)"
    assert (
        echo_last_expression("x = 1; x")
        == "x = 1; _ = (x)\nif _ is not None:\n    print(repr(_))\n"
    )
    assert echo_last_expression("def (") == "def ("


def test_options_and_spec() -> None:
    tool = PythonREPLTool(timeout=2.5, memory_mb=256, isolate_network=False)
    assert tool.cpu_seconds == 4  # a backstop above the wall-clock limit
    assert tool.to_dict() == {
        "type": "tool",
        "name": "python_repl",
        "timeout": 2.5,
        "memory_mb": 256,
        "isolate_network": False,
    }
    assert os.path.basename(sys.executable)  # the child runs this interpreter
