"""Small file helpers shared across the library: atomic writes and versioned JSON manifests.

An atomic write goes to a temporary file in the target's folder, is flushed to disk, and is
renamed over the target, so readers see the old content or the new, never a partial file.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` via a temp file in the same folder and rename it over ``path``."""
    _atomic_write(path, data)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) via a temp file in the same folder and rename it over ``path``."""
    _atomic_write(path, text)


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON (with a final newline), atomically."""
    _atomic_write(path, json.dumps(data, indent=2) + "\n")


def _atomic_write(path: Path, data: str | bytes) -> None:
    import tempfile  # lazily: keeps `import agentkit` fast

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        mode, encoding = ("wb", None) if isinstance(data, bytes) else ("w", "utf-8")
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@functools.cache
def _umask() -> int:
    """The process umask, read once (reading it means setting it, so not on every write)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def read_manifest_json(path: Path, fmt: str, version: int, what: str, fix: str) -> dict[str, Any]:
    """The JSON object in ``path``, checked to say ``"format": fmt`` and ``"version":
    version``. Otherwise a :class:`UsageError` naming ``what`` (``"index"``) and ending with
    ``fix`` (a sentence saying what to do)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as e:
        raise UsageError(f"{path} is unreadable or corrupt ({e}). {fix}") from e
    if not isinstance(data, dict) or data.get("format") != fmt:
        raise UsageError(f"{path} is not an agentkit {what} manifest. {fix}")
    if data.get("version") != version:
        raise UsageError(
            f"{path} has {what} format version {data.get('version')!r}; this agentkit "
            f"reads version {version}. {fix}"
        )
    return data
