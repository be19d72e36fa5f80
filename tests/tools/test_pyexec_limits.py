"""python_repl holds its limits: every process of a call dies with the call, the code is
sized and parsed in the child, and the process count, file size and isolation hold."""

from __future__ import annotations

import ast
import builtins
import os
import sys
import uuid

import pytest

import agentkit.tools.pyexec as pyexec
from agentkit.tools import PythonREPLTool, ToolExecutionError, ToolInputError, python_repl

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux process limits"),
    pytest.mark.timeout(120),
]
ISOLATION = [
    pytest.param(
        True, marks=pytest.mark.skipif(not pyexec.network_isolation(), reason="no unshare")
    ),
    False,
]


def running_with(marker: str) -> list[int]:
    """The pids of the processes whose command line holds ``marker``."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as fh:
                    if marker.encode() in fh.read():
                        found.append(int(name))
            except OSError:
                continue
    return found


def spawning(marker: str, then: str) -> str:
    """Code that leaves a background sleeper and a double-forked setsid daemon (both with
    ``marker`` on their command line), then runs ``then``."""
    return (
        "import subprocess, sys, time\n"
        f"sleeper = 'import time; time.sleep(120)'\n"
        f"subprocess.Popen([sys.executable, '-c', sleeper, '{marker}'])\n"
        "daemon = 'import os, time; os.setsid(); os.fork() or time.sleep(120); time.sleep(120)'\n"
        f"subprocess.Popen([sys.executable, '-c', daemon, '{marker}'])\n"
        "time.sleep(0.5)\n"
        f"{then}\n"
    )


@pytest.mark.parametrize("isolate", ISOLATION)
def test_background_and_setsid_children_die_when_the_code_exits(isolate: bool) -> None:
    marker = f"agentkit-test-{uuid.uuid4().hex}"
    tool = PythonREPLTool(timeout=30, isolate_network=isolate)
    result = tool.invoke(spawning(marker, "print('left them running')"))
    assert result == "exit status: 0\nstdout:\nleft them running"
    assert running_with(marker) == []


@pytest.mark.parametrize("isolate", ISOLATION)
def test_every_process_dies_at_the_timeout(isolate: bool) -> None:
    marker = f"agentkit-test-{uuid.uuid4().hex}"
    tool = PythonREPLTool(timeout=3, isolate_network=isolate)
    with pytest.raises(ToolExecutionError, match="ran longer than its 3 s time limit"):
        tool.invoke(spawning(marker, "time.sleep(60)"))
    assert running_with(marker) == []


@pytest.mark.parametrize("isolate", ISOLATION)
def test_a_fork_loop_hits_the_process_limit(isolate: bool) -> None:
    code = (
        "import os, time\n"
        "made = 0\n"
        "try:\n"
        "    while made < 2000:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "        made += 1\n"
        "except OSError as exc:\n"
        "    print('refused after', made, type(exc).__name__)\n"
    )
    result = PythonREPLTool(timeout=30, max_processes=20, isolate_network=isolate).invoke(code)
    assert "refused after" in result and "BlockingIOError" in result
    made = int(result.split("refused after ")[1].split()[0])
    assert made <= 20


def test_a_big_file_hits_the_file_size_limit() -> None:
    code = "with open('big.bin', 'wb') as fh:\n    fh.write(b'x' * (100 * 1024 * 1024))"
    result = PythonREPLTool(timeout=30, max_file_mb=8).invoke(code)
    assert result.startswith("exit status: 1")
    assert "OSError: [Errno 27] File too large" in result


def test_the_working_folder_is_private_and_removed() -> None:
    result = python_repl.invoke("import os\nopen('left.txt', 'w').write('x')\nprint(os.getcwd())")
    folder = result.split("stdout:\n")[1].strip()
    assert os.path.basename(folder).startswith("agentkit-python-")
    assert not os.path.exists(folder)


def test_huge_code_is_refused_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[object] = []
    real_parse, real_compile = ast.parse, builtins.compile

    def spy_parse(source: object, *args: object, **kwargs: object) -> object:
        parsed.append(source)
        return real_parse(source, *args, **kwargs)  # type: ignore[call-overload]

    def spy_compile(source: object, *args: object, **kwargs: object) -> object:
        parsed.append(source)
        return real_compile(source, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(ast, "parse", spy_parse)
    monkeypatch.setattr(builtins, "compile", spy_compile)
    with pytest.raises(ToolInputError, match="the code is over 100000 bytes") as info:
        python_repl.invoke("x = 1\n" * 1_000_000)
    refused = str(info.value)
    with pytest.raises(ToolInputError, match="over 10 bytes"):
        PythonREPLTool(max_code_bytes=10).invoke("print('\u00e9\u00e9\u00e9\u00e9')")  # 17 bytes
    # ordinary code is parsed (for the final expression) in the child, not here
    result = python_repl.invoke("unique_name_41 = 20\nunique_name_41 + 22")
    monkeypatch.undo()
    assert "it was not run" in refused
    assert result == "exit status: 0\nstdout:\n42"
    assert not [s for s in parsed if "x = 1" in str(s) or "unique_name_41" in str(s)]


def test_isolation_requested_but_unavailable_refuses_to_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setattr(pyexec, "network_isolation", lambda: ())
    marker = f"{tmp_path}/ran"
    with pytest.raises(ToolExecutionError, match="isolation was requested") as info:
        PythonREPLTool().invoke(f"open({marker!r}, 'w').write('x')")
    assert "isolate_network=False" in str(info.value)
    assert not os.path.exists(marker)


def test_options_are_checked_and_serialised() -> None:
    tool = PythonREPLTool(max_code_bytes=5000, max_processes=8, max_file_mb=2)
    assert tool.to_dict() == {
        "type": "tool",
        "name": "python_repl",
        "max_code_bytes": 5000,
        "max_processes": 8,
        "max_file_mb": 2,
    }
    with pytest.raises(Exception, match="must be at least 1"):
        PythonREPLTool(max_processes=0)
    for text in (pyexec.__doc__, PythonREPLTool.__doc__, python_repl.description):
        assert "not a sandbox for hostile code" in " ".join((text or "").replace("*", "").split())
