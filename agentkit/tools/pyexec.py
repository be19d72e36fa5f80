"""The ``python_repl`` tool: run Python code in a separate, limited process.

**This is a guard against accidents, not a sandbox for hostile code.** It keeps a model's
mistakes (an endless loop, a huge allocation, a stray ``rm`` in the wrong folder, a fork
loop) from hurting the agent; code written to escape can still reach what the user it runs
as can reach (files readable by that user, Unix sockets it may connect to). Run untrusted
code in a container or VM.

Each call (see :mod:`agentkit.tools.pychild` for the processes):

- refuses code over ``max_code_bytes`` before anything else; the agent's process never
  parses the code (the child does, under the limits);
- runs it in a fresh interpreter (``python -I``) in a private temporary folder (its cwd,
  ``HOME`` and ``TMPDIR``; removed afterwards) with a scrubbed environment (``PATH``,
  ``HOME``, ``TMPDIR``, ``LANG`` only: none of the agent's variables), stdin closed;
- with limits: address space (``memory_mb``), CPU seconds, process count
  (``max_processes``, RLIMIT_NPROC), file size (``max_file_mb``, RLIMIT_FSIZE), no core
  files, and a wall-clock ``timeout``; output is captured up to a bound;
- when the agent runs as root (which the kernel exempts from RLIMIT_NPROC): as ``nobody``
  where ``nobody`` may run the interpreter, and in a fresh ``pids`` cgroup allowing
  ``max_processes`` where the cgroup file system is writable;
- under a supervisor that kills every process the code started when the call ends
  (normal exit, error or timeout), ``setsid`` daemons included;
- with ``isolate_network=True`` (the default): in new network, PID and mount namespaces
  (``unshare``): no network, no abstract Unix sockets, a ``/proc`` that shows only the
  code's own processes (not the agent's environment). Where the OS does not allow it the
  tool refuses to run, with an error saying so; pass ``isolate_network=False`` to run
  without namespaces. Without them the code can read the agent's ``/proc/<pid>/environ``
  whenever it runs as the same user (a non-root agent, or a root agent whose interpreter
  ``nobody`` may not run): keep secrets out of that environment, or keep isolation on.
  With or without them, filesystem Unix sockets and files stay reachable as far as that
  user's permissions allow.

If the code ends with an expression, its value is printed, as in a REPL.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

from agentkit.core.errors import UsageError
from agentkit.tools import pychild
from agentkit.tools.base import ToolExecutionError, ToolInputError
from agentkit.tools.function import FunctionTool
from agentkit.tools.pychild import echo_last_expression
from agentkit.tools.registry import register_tool

__all__ = ["PythonREPLTool", "echo_last_expression", "network_isolation", "python_repl"]

SCRIPT = "snippet.py"
NOBODY = 65534
CHILD = pychild.__file__
GUARD_NOTE = "It guards against accidents, it is not a sandbox for hostile code."


@functools.cache
def network_isolation() -> tuple[str, ...]:
    """The ``unshare`` command prefix that isolates the code (new network, and where
    possible PID and mount namespaces with a fresh ``/proc``); empty when the OS does not
    allow any of it."""
    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        return ()
    user = () if os.geteuid() == 0 else ("--map-root-user",)
    pid = ("--pid", "--fork", "--mount-proc")
    for extra in (("--kill-child", *pid), pid, ()):
        prefix = (unshare, "--net", *user, *extra)
        try:
            probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=5)
        except (OSError, subprocess.SubprocessError):
            continue
        if probe.returncode == 0:
            return prefix
    return ()


@functools.cache
def _nobody_can_run() -> bool:
    """Whether ``nobody`` may run this interpreter (not when it lives in root's home)."""
    try:
        probe = subprocess.run(
            [sys.executable, "-I", "-c", "pass"],
            user=NOBODY, group=NOBODY, extra_groups=[], capture_output=True, timeout=10, cwd="/",
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def _default_cpu(timeout: float) -> int:
    return math.ceil(timeout) + 1


_SIGXCPU = getattr(signal, "SIGXCPU", None)  # absent on Windows


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
    """Runs Python code in a limited subprocess: a guard against accidents, **not a sandbox
    for hostile code** (see the module docs for what it does and does not stop).

    Args:
        timeout: wall-clock seconds before every process of the call is killed.
        memory_mb: address-space limit in MiB (``None``: no limit).
        cpu_seconds: CPU-time limit (default: the timeout rounded up, plus one second: a
            backstop, so that a busy loop meets the wall-clock limit first and the outcome
            does not depend on the machine's load; threads can still use CPU faster).
        isolate_network: run in new network/PID/mount namespaces; when the OS does not
            allow it, each call fails with an error saying so (``False``: run without).
        max_output_chars: the output kept (stdout and stderr, half each).
        max_code_bytes: the largest code accepted (UTF-8 bytes), checked first.
        max_processes: processes and threads the code may add (RLIMIT_NPROC, counted on
            top of those its user already runs).
        max_file_mb: the largest file the code may write, in MiB (RLIMIT_FSIZE).
    """

    spec_name = "python_repl"

    def __init__(
        self,
        timeout: float = 10.0,
        memory_mb: int | None = 512,
        cpu_seconds: int | None = None,
        isolate_network: bool = True,
        max_output_chars: int | None = 4000,
        max_code_bytes: int = 100_000,
        max_processes: int = 64,
        max_file_mb: int = 64,
    ) -> None:
        if not timeout > 0 or (memory_mb is not None and memory_mb < 16):
            raise UsageError(f"timeout must be > 0 and memory_mb >= 16, got {timeout}, {memory_mb}")
        if min(max_code_bytes, max_processes, max_file_mb) < 1:
            raise UsageError(
                "max_code_bytes, max_processes and max_file_mb must be at least 1, got "
                f"{max_code_bytes}, {max_processes}, {max_file_mb}"
            )
        self.run_timeout, self.memory_mb = float(timeout), memory_mb
        self.cpu_seconds = cpu_seconds or _default_cpu(self.run_timeout)
        self.isolate_network = isolate_network
        self.max_code_bytes, self.max_processes = max_code_bytes, max_processes
        self.max_file_mb = max_file_mb
        description = (
            "Run Python code in a fresh interpreter and return its stdout, stderr and exit "
            "status. Print what you want to see (a final expression is printed too). Each "
            "call starts from scratch: no state is kept between calls. Input: the code. "
            + GUARD_NOTE
        )
        # the output is bounded here, per stream, so the notes on dropped output survive
        self.output_chars = max_output_chars
        super().__init__(self.execute, "python_repl", description, None, None)

    def execute(self, code: str) -> str:
        """Run Python code.

        Args:
            code: the Python source to run.
        """
        data = self._checked_bytes(code)
        prefix: tuple[str, ...] = ()
        if self.isolate_network:
            prefix = network_isolation()
            if not prefix:
                raise ToolExecutionError(
                    "python_repl: isolation was requested (isolate_network=True, the "
                    "default) but this OS does not allow it (it needs Linux with `unshare` "
                    "and user namespaces, or root); the code was not run. Build the tool "
                    "with PythonREPLTool(isolate_network=False) to run without isolation.",
                    self.name,
                )
        uid = NOBODY if os.geteuid() == 0 and _nobody_can_run() else None
        with tempfile.TemporaryDirectory(
            prefix="agentkit-python-", ignore_cleanup_errors=True
        ) as folder:
            script = str(Path(folder) / SCRIPT)
            Path(script).write_bytes(data)
            if uid is not None:  # the code runs as nobody: it owns its folder
                for path in (folder, script):
                    os.chown(path, uid, uid)
            # the starter and the code's own process (and unshare) come on top
            cgroup = pychild.make_cgroup(self.max_processes + (3 if prefix else 2))
            try:
                status, stdout, stderr = self._run(prefix, folder, script, uid, cgroup)
            finally:
                pychild.remove_cgroup(cgroup)
        return self._report(status, stdout, stderr)

    def _checked_bytes(self, code: str) -> bytes:
        """The code as UTF-8, refused (before any other work) when it is too big."""
        if not isinstance(code, str):
            raise ToolInputError("python_repl: the code must be text", type(code).__name__)
        size = len(code) if len(code) > self.max_code_bytes else len(data := code.encode())
        if size > self.max_code_bytes:
            raise ToolInputError(
                f"python_repl: the code is over {self.max_code_bytes} bytes (UTF-8; it has "
                f"{len(code)} characters); it was not run",
                code[:200],
                "Send shorter code: put data in files or generate it in a loop.",
            )
        return data

    def _run(
        self,
        prefix: tuple[str, ...],
        folder: str,
        script: str,
        uid: int | None,
        cgroup: str | None,
    ) -> tuple[int | None, str, str]:
        """Start the supervisor; return (the code's status or None at the timeout, stdout,
        stderr)."""
        read_end, write_end = os.pipe()
        starter = {
            "status_fd": write_end,
            "script": script,
            "memory": (self.memory_mb or 0) * 1024 * 1024,
            "cpu": self.cpu_seconds,
            "fsize": self.max_file_mb * 1024 * 1024,
            "nproc": pychild.count_processes(os.getuid() if uid is None else uid)
            + self.max_processes,
            "uid": uid,
        }
        command = [*prefix, sys.executable, "-I", CHILD, "start", json.dumps(starter)]
        supervisor = {
            "parent": os.getpid(),
            "argv": command,
            "status_fd": write_end,
            "cgroup": cgroup,
        }
        env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": folder, "TMPDIR": folder,
               "LANG": "C.UTF-8"}  # fmt: skip
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", CHILD, "supervise", json.dumps(supervisor)],
                cwd=folder,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                pass_fds=(write_end,),
            )
        finally:
            os.close(write_end)
        assert proc.stdout is not None and proc.stderr is not None
        limit = (self.output_chars or 2_000_000) // 2
        out, err = _Capture(proc.stdout, limit), _Capture(proc.stderr, limit)
        try:
            proc.wait(timeout=self.run_timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        _stop(proc)
        status = None if timed_out else _read_status(read_end)
        os.close(read_end)
        stdout = out.text(script)
        if timed_out:
            raise self._over_limit(f"ran longer than its {self.run_timeout:g} s time limit", stdout)
        if _SIGXCPU is not None and status == -_SIGXCPU:
            raise self._over_limit(f"used more than its {self.cpu_seconds} s of CPU time", stdout)
        return status, stdout, err.text(script)

    def _over_limit(self, what: str, stdout: str) -> ToolExecutionError:
        partial = stdout.strip()
        return ToolExecutionError(
            f"python_repl: the code {what} and was killed (an endless loop?)"
            + (f"; output so far:\n{partial}" if partial else ""),
            self.name,
        )

    def _report(self, status: int | None, stdout: str, stderr: str) -> str:
        if status is None:
            head = "exit status: unknown (the supervisor was killed)"
        elif status < 0:
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
        defaults = {"memory_mb": 512, "max_code_bytes": 100_000, "max_processes": 64,
                    "max_file_mb": 64}  # fmt: skip
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
        for name, default in defaults.items():
            if name != "memory_mb" and getattr(self, name) != default:
                options[name] = getattr(self, name)
        return options


def _read_status(fd: int) -> int | None:
    """The code's exit status, as the starter wrote it (None if it never did)."""
    ready, _, _ = select.select([fd], [], [], 2.0)
    text = os.read(fd, 64) if ready else b""
    try:
        return int(text)
    except ValueError:
        return None


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End the supervisor (which kills every process of the call), then its whole process
    group in case it could not; waits without reaping first, so the group id is still ours."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


python_repl = PythonREPLTool()
register_tool("python_repl", PythonREPLTool)
