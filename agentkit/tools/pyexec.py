"""The ``python_repl`` tool: run Python code in a separate, limited process.

Each call runs the code in a fresh interpreter (``python -I``: no user site, no PYTHON*
variables) in a temporary folder, with a minimal environment (no API keys), stdin closed,
and limits set (by a fixed bootstrap that then execs the interpreter) before the code
starts: address space (``memory_mb``, RLIMIT_AS), CPU
seconds (RLIMIT_CPU) and a wall-clock ``timeout`` after which the whole process group is
killed. Output is captured up to a bound, so a print loop cannot exhaust memory. When the
OS allows it (Linux with ``unshare`` and user namespaces, or root), the process runs in an
empty network namespace: no network. Elsewhere the network stays reachable; check
:func:`network_isolation`. If the code ends with an expression, its value is printed, as in
a REPL. Code runs as the current user: this is a guard against accidents, not a sandbox
for hostile code.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

from agentkit.core.errors import UsageError
from agentkit.tools.base import ToolExecutionError
from agentkit.tools.function import FunctionTool
from agentkit.tools.registry import register_tool

SCRIPT = "snippet.py"


@functools.cache
def network_isolation() -> tuple[str, ...]:
    """The command prefix that cuts the network off (empty when the OS does not allow it)."""
    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        return ()
    for prefix in ((unshare, "--net", "--map-root-user"), (unshare, "--net")):
        try:
            probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=5)
        except (OSError, subprocess.SubprocessError):
            continue
        if probe.returncode == 0:
            return prefix
    return ()


def echo_last_expression(code: str) -> str:
    """``code`` with its final expression (if any) printed, as a REPL shows it. The code is
    only parsed here, never run."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code  # the child reports the error with its line
    last = tree.body[-1] if tree.body else None
    if not isinstance(last, ast.Expr) or last.end_lineno is None or last.end_col_offset is None:
        return code
    call = last.value
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "print":
        return code
    lines = code.splitlines()
    head = [*lines[: last.lineno - 1], lines[last.lineno - 1][: last.col_offset]]
    expr = ast.get_source_segment(code, last) or ""
    tail = "\nif _ is not None:\n    print(repr(_))\n"
    return "\n".join(head) + f"_ = ({expr})" + tail


_SIGXCPU = getattr(signal, "SIGXCPU", None)  # absent on Windows


def _default_cpu(timeout: float) -> int:
    return math.ceil(timeout) + 1


# The child starts as this fixed bootstrap, which sets the limits and then execs the
# interpreter on the script (limits survive exec). This avoids preexec_fn, which is unsafe
# in a process with threads.
BOOTSTRAP = """import os, resource, sys
memory, cpu, script = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
try:
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
except (ValueError, OSError):
    pass  # a platform that does not support a limit runs without it
os.execv(sys.executable, [sys.executable, "-I", "-X", "utf8", script])
"""


class _Capture:
    """Reads a pipe to the end, keeping the first ``limit`` bytes and counting the rest."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self.kept = bytearray()
        self.dropped = 0
        self.thread = threading.Thread(target=self._read, args=(stream, limit), daemon=True)
        self.thread.start()

    def _read(self, stream: IO[bytes], limit: int) -> None:
        while chunk := stream.read(65536):
            room = max(0, limit - len(self.kept))
            self.kept += chunk[:room]
            self.dropped += len(chunk) - min(room, len(chunk))

    def text(self, script: str) -> str:
        self.thread.join(timeout=5)
        text = self.kept.decode("utf-8", errors="replace").replace(script, SCRIPT)
        if self.dropped:
            text += f"\n[... {self.dropped} more bytes of output dropped]"
        return text


class PythonREPLTool(FunctionTool):
    """Runs Python code in a subprocess.

    Args:
        timeout: wall-clock seconds before the process is killed.
        memory_mb: address-space limit in MiB (``None``: no limit).
        cpu_seconds: CPU-time limit (default: the timeout rounded up, plus one second: a
            backstop, so that a busy loop meets the wall-clock limit first and the outcome
            does not depend on the machine's load; threads can still use CPU faster).
        isolate_network: run without network where the OS allows it.
    """

    spec_name = "python_repl"

    def __init__(
        self,
        timeout: float = 10.0,
        memory_mb: int | None = 512,
        cpu_seconds: int | None = None,
        isolate_network: bool = True,
        max_output_chars: int | None = 4000,
    ) -> None:
        if timeout <= 0 or (memory_mb is not None and memory_mb < 16):
            raise UsageError(f"timeout must be > 0 and memory_mb >= 16, got {timeout}, {memory_mb}")
        self.run_timeout, self.memory_mb = float(timeout), memory_mb
        self.cpu_seconds = cpu_seconds or _default_cpu(self.run_timeout)
        self.isolate_network = isolate_network
        description = (
            "Run Python code in a fresh interpreter and return its stdout, stderr and exit "
            "status. Print what you want to see (a final expression is printed too). Each "
            "call starts from scratch: no state is kept between calls. Input: the code."
        )
        # the output is bounded here, per stream, so the notes on dropped output survive
        self.output_chars = max_output_chars
        super().__init__(self.execute, "python_repl", description, None, None)

    def execute(self, code: str) -> str:
        """Run Python code.

        Args:
            code: the Python source to run.
        """
        with tempfile.TemporaryDirectory(prefix="agentkit-python-") as folder:
            script = str(Path(folder) / SCRIPT)
            Path(script).write_text(echo_last_expression(code), encoding="utf-8")
            prefix = network_isolation() if self.isolate_network else ()
            env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": folder, "TMPDIR": folder,
                   "LANG": "C.UTF-8"}  # fmt: skip
            memory = (self.memory_mb or 0) * 1024 * 1024
            limits = [str(memory), str(self.cpu_seconds), script]
            proc = subprocess.Popen(
                [*prefix, sys.executable, "-I", "-c", BOOTSTRAP, *limits],
                cwd=folder,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
            assert proc.stdout is not None and proc.stderr is not None
            limit = (self.output_chars or 2_000_000) // 2
            out, err = _Capture(proc.stdout, limit), _Capture(proc.stderr, limit)
            try:
                status = proc.wait(timeout=self.run_timeout)
            except subprocess.TimeoutExpired:
                _kill(proc)
                raise self._over_limit(f"ran longer than its {self.run_timeout:g} s time limit",
                                       out.text(script)) from None  # fmt: skip
            if _SIGXCPU is not None and status == -_SIGXCPU:
                raise self._over_limit(f"used more than its {self.cpu_seconds} s of CPU time",
                                       out.text(script))  # fmt: skip
            return self._report(status, out.text(script), err.text(script))

    def _over_limit(self, what: str, stdout: str) -> ToolExecutionError:
        partial = stdout.strip()
        return ToolExecutionError(
            f"python_repl: the code {what} and was killed (an endless loop?)"
            + (f"; output so far:\n{partial}" if partial else ""),
            self.name,
        )

    def _report(self, status: int, stdout: str, stderr: str) -> str:
        if status < 0:
            name = signal.Signals(-status).name if -status in signal.valid_signals() else -status
            why = " (killed, perhaps for memory)" if name == "SIGKILL" else ""
            head = f"exit status: killed by {name}{why}"
        else:
            head = f"exit status: {status}"
        if "MemoryError" in stderr and self.memory_mb is not None:
            head += f" (memory limit: {self.memory_mb} MiB)"
        parts = [head]
        if stdout.strip():
            parts.append(f"stdout:\n{stdout.rstrip()}")
        if stderr.strip():
            parts.append(f"stderr:\n{stderr.rstrip()}")
        if len(parts) == 1:
            parts.append("(no output: print the values you want to see)")
        return "\n".join(parts)

    def spec_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.run_timeout != 10.0:
            options["timeout"] = self.run_timeout
        if self.memory_mb != 512:
            options["memory_mb"] = self.memory_mb
        if self.cpu_seconds != _default_cpu(self.run_timeout):
            options["cpu_seconds"] = self.cpu_seconds
        if not self.isolate_network:
            options["isolate_network"] = False
        if self.output_chars != 4000:
            options["max_output_chars"] = self.output_chars
        return options


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


python_repl = PythonREPLTool()
register_tool("python_repl", PythonREPLTool)
