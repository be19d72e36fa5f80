"""A registry of trained adapters: names -> adapter folders with their manifests.

The registry is one JSON file, ``$AGENTKIT_CACHE_DIR/adapters/registry.json`` (else
``~/.cache/agentkit/adapters/registry.json``), rewritten atomically under a file lock.
Chains use a registered adapter by name: ``HFChatModel.from_adapter("name")`` or the
``adapter:<name>`` model spec. Removing an entry never deletes the folder.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import difflib
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.core.spec import atomic_write_text

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MANIFEST_FILE = "manifest.json"


def default_root(folder: str = "adapters") -> Path:
    """``$AGENTKIT_CACHE_DIR/<folder>`` (the folder the embedding cache and indexes use),
    else ``~/.cache/agentkit/<folder>``; ``adapters`` by default."""
    home = os.environ.get("AGENTKIT_CACHE_DIR")
    base = Path(home).expanduser() if home else Path.home() / ".cache" / "agentkit"
    return base / folder


@dataclass
class AdapterEntry:
    """A registered adapter: its folder and manifest (base model, created, metrics, ...)."""

    name: str
    path: Path
    manifest: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "manifest": dict(self.manifest)}


class AdapterRegistry:
    """Names for adapter folders, kept in ``<root>/registry.json``.

    Registries of other saved folders (fine-tuned embedders, readers) are subclasses that
    set only what differs: the word for an entry (``kind``, which also names the default
    root, ``<kind>s``), what makes one (``made_by``, for messages) and the files a valid
    folder holds (``required``: one file of each group).
    """

    kind = "adapter"
    made_by = "`agentkit finetune sft` or `agentkit finetune dpo`"
    required: tuple[tuple[str, ...], ...] = ()

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_root(f"{self.kind}s")
        self.file = self.root / "registry.json"

    def register(
        self,
        name: str,
        path: str | os.PathLike[str],
        manifest: Mapping[str, Any] | None = None,
    ) -> AdapterEntry:
        """Register (or re-point) ``name``. The manifest defaults to the folder's
        ``manifest.json``; ``base_model`` (from ``adapter_config.json``) and ``created``
        are filled in when missing."""
        if not isinstance(name, str) or not _NAME.match(name):
            raise UsageError(
                f"invalid {self.kind} name {name!r}; use letters, digits, '_', '.' and '-' "
                "(e.g. 'support-bot-v2')"
            )
        folder = Path(path).expanduser().resolve()
        if not folder.is_dir():
            raise UsageError(
                f"{self.kind} folder {str(path)!r} does not exist; save the {self.kind} first"
            )
        self.check_folder(folder)
        entry = AdapterEntry(name, folder, _manifest(folder, manifest))
        with self._locked():
            entries = self._read()
            entries[name] = entry.to_dict()
            self._write(entries)
        return entry

    def check_folder(self, folder: Path) -> None:
        """Raise a UsageError when ``folder`` lacks one of the :attr:`required` files."""
        for group in self.required:
            if not any((folder / file).exists() for file in group):
                needs = " and ".join(" or ".join(g) for g in self.required)
                raise UsageError(
                    f"{folder} is not a saved {self.kind} (it needs {needs}); pass the folder "
                    f"{self.made_by} wrote"
                )

    def resolve(self, name_or_path: str | os.PathLike[str]) -> Path:
        """The folder of a registered name, or ``name_or_path`` itself when it is a folder."""
        candidate = Path(name_or_path).expanduser()
        if candidate.is_dir():
            return candidate.resolve()
        entry = self.get(str(name_or_path))
        if not entry.path.is_dir():
            raise UsageError(
                f"{self.kind} {entry.name!r} is registered at {entry.path}, which no longer "
                f"exists; make it again with {self.made_by}, or remove it "
                f"({type(self).__name__}().remove({entry.name!r}))"
            )
        return entry.path

    def get(self, name: str) -> AdapterEntry:
        entries = self._read()
        if name not in entries:
            close = difflib.get_close_matches(name, list(entries), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UsageError(
                f"no {self.kind} named {name!r} in {self.file}{hint}; registered: "
                f"{', '.join(sorted(entries)) or 'none'}. Make one with {self.made_by}, "
                f"register a folder with {type(self).__name__}().register(name, folder), or "
                f"pass the {self.kind} folder"
            )
        return _entry(name, entries[name])

    def list(self) -> list[AdapterEntry]:
        """Every registered entry, by name."""
        return [_entry(name, data) for name, data in sorted(self._read().items())]

    def remove(self, name: str) -> None:
        """Forget ``name`` (its folder stays on disk)."""
        with self._locked():
            entries = self._read()
            if name not in entries:
                self.get(name)  # raises with the registered names
            del entries[name]
            self._write(entries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._read()

    def __len__(self) -> int:
        return len(self._read())

    # --- storage ----------------------------------------------------------------------

    def _read(self) -> dict[str, Any]:
        if not self.file.exists():
            return {}
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as e:
            raise UsageError(
                f"adapter registry {self.file} is not valid JSON ({e}); repair or delete it"
            ) from e
        adapters = data.get("adapters") if isinstance(data, dict) else None
        if not isinstance(adapters, dict):
            raise UsageError(
                f"adapter registry {self.file} has no 'adapters' mapping; repair or delete it"
            )
        for name, entry in adapters.items():
            _check_entry(self.file, name, entry)
        return adapters

    def _write(self, entries: Mapping[str, Any]) -> None:
        text = json.dumps({"version": 1, "adapters": dict(entries)}, indent=2, sort_keys=True)
        atomic_write_text(self.file, text + "\n")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """An exclusive lock on ``registry.json.lock`` for read-modify-write (POSIX)."""
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # Windows: no cross-process lock
            yield
            return
        with open(self.file.with_name("registry.json.lock"), "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.root)!r})"


def _check_entry(file: Path, name: str, data: Any) -> None:
    """One entry of a registry file: a valid name, a path string, a manifest object."""
    problem = None
    if not _NAME.match(name) or not name.isascii():
        problem = "its name is not a valid adapter name (letters, digits, '_', '.', '-')"
    elif not isinstance(data, dict):
        problem = f"it must be an object with 'path' and 'manifest', got {type(data).__name__}"
    elif not isinstance(data.get("path"), str) or not data["path"] or "\x00" in data["path"]:
        problem = "its 'path' must be a folder path string"
    elif data.get("manifest") is not None and not isinstance(data["manifest"], dict):
        problem = "its 'manifest' must be an object"
    if problem:
        shown = name if len(name) <= 60 else name[:57] + "..."
        raise UsageError(
            f"registry {file} is corrupt: entry {shown!r}: {problem}; repair or delete the file"
        )


def _entry(name: str, data: Any) -> AdapterEntry:
    return AdapterEntry(name, Path(data["path"]), dict(data.get("manifest") or {}))


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``manifest.json`` a run wrote into ``folder`` (``{}`` when there is none)."""
    path = Path(folder) / MANIFEST_FILE
    if not path.exists():
        return {}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as e:
        raise UsageError(f"{path} is not valid JSON ({e}); repair or delete it") from e
    if not isinstance(loaded, dict):
        raise UsageError(f"{path} must hold a JSON object, got {type(loaded).__name__}")
    return dict(loaded)


def trained_chat_template(folder: str | os.PathLike[str]) -> str | None:
    """The chat template a run in ``folder`` was trained with, when it set one (else the
    base model's own template applies)."""
    template = read_manifest(folder).get("chat_template")
    return template if isinstance(template, str) and template else None


def _manifest(folder: Path, manifest: Mapping[str, Any] | None) -> dict[str, Any]:
    data = read_manifest(folder) if manifest is None else dict(manifest)
    config = folder / "adapter_config.json"
    if "base_model" not in data and config.exists():
        try:
            loaded = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as e:
            raise UsageError(f"{config} is not valid JSON ({e}); repair or delete it") from e
        base = loaded.get("base_model_name_or_path") if isinstance(loaded, dict) else None
        if isinstance(base, str) and base:
            data["base_model"] = base
    data.setdefault("created", _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    try:
        json.dumps(data)
    except (TypeError, ValueError) as e:
        raise UsageError(f"an adapter manifest must be JSON-serialisable: {e}") from e
    return data
