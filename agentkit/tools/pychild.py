"""The processes behind ``python_repl``: a supervisor and a starter (standard library only).

This file is run as a script by a fresh interpreter (``python -I pychild.py MODE CONFIG``),
never imported by the child; :mod:`agentkit.tools.pyexec` imports it for
:func:`echo_last_expression` and the agent-side cgroup and process helpers. The chain
of processes for one call::

    agent -> supervise (own session; a child subreaper) -> [unshare ...] -> start -> code

- ``supervise`` becomes a *child subreaper* (Linux), so every descendant whose parent dies
  is re-parented to it, ``setsid`` or not; it puts the starter in the call's own ``pids``
  cgroup when the agent made one (root), which every descendant inherits. When the code
  ends, when the agent sends SIGTERM (its timeout), or when the agent dies
  (``PR_SET_PDEATHSIG``), it SIGKILLs the cgroup's processes, its children and the
  starter's process group until none is left, removes the cgroup, then exits.
- ``start`` runs inside the namespaces (when isolated it is PID 1 of a new PID namespace:
  when it exits, the kernel kills everything left in it). It sets the limits (address
  space, CPU, process count, file size, no core files), drops root to ``nobody``, reads and
  parses the code (so the agent's process never parses it), then runs it in a child
  process and writes that child's exit status to the status pipe.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import json
import os
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Any

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


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


def count_processes(uid: int) -> int:
    """How many processes the user ``uid`` runs now (0 where /proc is missing)."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0
    count = 0
    for name in names:
        if name.isdigit():
            try:
                count += os.stat(f"/proc/{name}").st_uid == uid
            except OSError:
                continue
    return count


@functools.cache
def pids_cgroups() -> Path | None:
    """Where this (root) process may create ``pids`` cgroups: its own cgroup in the v1
    ``pids`` hierarchy, or in the v2 one when that delegates ``pids``; else None."""
    if os.geteuid() != 0 or not sys.platform.startswith("linux"):
        return None
    try:
        lines = Path("/proc/self/cgroup").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "pids" in controllers.split(","):
            base = Path("/sys/fs/cgroup/pids") / path.lstrip("/")
        elif controllers == "":
            base = Path("/sys/fs/cgroup") / path.lstrip("/")
            try:
                if "pids" not in (base / "cgroup.subtree_control").read_text().split():
                    continue
            except OSError:
                continue
        else:
            continue
        if base.is_dir() and os.access(base, os.W_OK):
            return base
    return None


def make_cgroup(limit: int) -> str | None:
    """A fresh ``pids`` cgroup allowing ``limit`` tasks (None where none can be made)."""
    parent = pids_cgroups()
    if parent is None:
        return None
    path = parent / f"agentkit-python-{uuid.uuid4().hex[:12]}"
    try:
        path.mkdir()
        (path / "pids.max").write_text(str(limit), encoding="ascii")
    except OSError:
        with contextlib.suppress(OSError):
            path.rmdir()
        return None
    return str(path)


def remove_cgroup(cgroup: str | None) -> None:
    """Kill what is left in ``cgroup`` (only if the supervisor could not) and remove it."""
    if cgroup is None or not os.path.isdir(cgroup):
        return
    for _ in range(100):
        for pid in cgroup_members(cgroup):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        try:
            os.rmdir(cgroup)
            return
        except OSError:
            time.sleep(0.01)


def _children(me: int) -> list[int]:
    """The pids whose parent is ``me`` (from /proc; empty where it is missing)."""
    found: list[int] = []
    try:
        names = os.listdir("/proc")
    except OSError:
        return found
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and int(fields[1]) == me:
            found.append(int(name))
    return found


def _prctl(option: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(option, value, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def cgroup_members(cgroup: str | None) -> list[int]:
    """The pids in ``cgroup`` (empty when there is none)."""
    if not cgroup:
        return []
    try:
        with open(os.path.join(cgroup, "cgroup.procs"), encoding="ascii") as fh:
            return [int(line) for line in fh if line.strip()]
    except (OSError, ValueError):
        return []


def _kill_all(group: int, cgroup: str | None) -> None:
    """SIGKILL the cgroup's processes, the starter's process group and every child (adopted
    ones included) until none is left; reap them all; remove the cgroup."""
    me, deadline = os.getpid(), time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            os.killpg(group, signal.SIGKILL)
        for pid in [*cgroup_members(cgroup), *_children(me)]:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            if not cgroup_members(cgroup):
                break  # no child and nothing in the cgroup left
        time.sleep(0.005)
    if cgroup:
        with contextlib.suppress(OSError):
            os.rmdir(cgroup)


class _Stop(Exception):
    """The agent asked the supervisor to stop (its timeout) or died."""


def _stop(signum: int, frame: Any) -> None:
    raise _Stop


def supervise(config: dict[str, Any]) -> int:
    """Run the starter command, then kill every descendant. The code's status travels on
    the status pipe; the supervisor's own: 0, or 3 where it could not become a subreaper."""
    subreaper = _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != config["parent"]:
        return 125  # the agent died before the prctl above
    signal.signal(signal.SIGTERM, _stop)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    pid = os.fork()
    if pid == 0:
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
            os.setpgid(0, 0)
            if config["cgroup"]:
                with open(os.path.join(config["cgroup"], "cgroup.procs"), "w") as fh:
                    fh.write("0")
            os.execv(config["argv"][0], config["argv"])
        finally:
            os._exit(127)
    os.close(config["status_fd"])  # the starter (and only it) holds the status pipe now
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        os.waitpid(pid, 0)
    except _Stop:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _kill_all(pid, config["cgroup"])
    return 0 if subreaper else 3  # 3: descendants that left the group may have survived


def _limit(name: str, soft: int, hard: int | None = None) -> None:
    import resource

    # a platform that does not support a limit runs without it
    with contextlib.suppress(ValueError, OSError, AttributeError):
        resource.setrlimit(getattr(resource, name), (soft, soft if hard is None else hard))


def start(config: dict[str, Any]) -> int:
    """Set the limits, drop root, prepare the code and run it; report its status."""
    status_fd, script = config["status_fd"], config["script"]
    os.set_inheritable(status_fd, False)
    if config["memory"]:
        _limit("RLIMIT_AS", config["memory"])
    _limit("RLIMIT_CPU", config["cpu"], config["cpu"] + 1)  # SIGXCPU, then SIGKILL
    _limit("RLIMIT_FSIZE", config["fsize"])
    _limit("RLIMIT_NPROC", config["nproc"])
    _limit("RLIMIT_CORE", 0)
    uid = config["uid"]
    if uid is not None and os.getuid() == 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    try:
        with open(script, encoding="utf-8") as fh:
            code = fh.read()
        prepared = echo_last_expression(code)
        if prepared != code:
            with open(script, "w", encoding="utf-8") as fh:
                fh.write(prepared)
    except (MemoryError, RecursionError, ValueError, OSError) as exc:
        print(f"python_repl: cannot prepare the code: {type(exc).__name__}", file=sys.stderr)
        os.write(status_fd, b"1")
        return 0
    argv = [sys.executable, "-I", "-X", "utf8", script]
    pid = os.fork()
    if pid == 0:
        try:
            os.execv(argv[0], argv)
        except OSError as exc:
            print(f"python_repl: cannot run {argv[0]}: {exc}", file=sys.stderr)
        finally:
            os._exit(127)
    while True:  # as PID 1 of a namespace, orphans are re-parented here: reap them too
        done, status = os.waitpid(-1, 0)
        if done == pid:
            break
    os.write(status_fd, str(os.waitstatus_to_exitcode(status)).encode())
    return 0


if __name__ == "__main__":
    settings = json.loads(sys.argv[2])
    sys.exit(supervise(settings) if sys.argv[1] == "supervise" else start(settings))
