""":class:`Ingestor`: keeps a vector index folder in step with files and folders."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.retrievers.base import Embedder, VectorStore
from agentkit.retrievers.ingest.manifest import (
    MANIFEST,
    StoreFactory,
    check_embedder,
    load_store,
    new_store,
    read_manifest,
    store_path,
    write_manifest,
)
from agentkit.retrievers.ingest.report import IngestReport
from agentkit.retrievers.ingest.run import IngestRun
from agentkit.retrievers.ingest.sidecar import sync_bm25
from agentkit.retrievers.loaders import DEFAULT_MAX_BYTES, DirectoryLoader, Loader
from agentkit.retrievers.splitters import RecursiveSplitter, Splitter

Paths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
Selected = tuple[Path, str, DirectoryLoader]  # path, source, its loader
Skipped = tuple[Path, str, str]  # path, source, reason


class Ingestor:
    """Keeps a vector index in ``index_dir`` in step with files and folders.

    Args:
        index_dir: the index folder (``store/`` and ``index.json`` inside).
        embedder: defaults to :func:`agentkit.retrievers.embeddings.default_embedder`.
        splitter: defaults to ``RecursiveSplitter()``.
        store: ``"faiss"``, or a factory ``dimension -> VectorStore`` whose class has a
            ``load(path)`` classmethod (a class such as ``TorchStore`` works). An existing
            index keeps the store class it was built with.
        commit_every / commit_seconds: save after this many processed files or seconds.
        batch_size: texts per ``embed_batch`` call.
        progress: show a progress bar; ``None`` shows it when stderr is a terminal.
        glob, exclude, max_bytes, loaders, include_hidden: file selection and loaders,
            as for :class:`~agentkit.retrievers.loaders.DirectoryLoader`.
        follow_symlinks: also index files that symbolic links point to outside the
            ingested paths (by default they are skipped and listed in the report).
    """

    def __init__(
        self,
        index_dir: str | Path,
        embedder: Embedder | None = None,
        splitter: Splitter | None = None,
        store: str | StoreFactory = "faiss",
        *,
        commit_every: int = 100,
        commit_seconds: float = 60.0,
        batch_size: int = 64,
        progress: bool | None = None,
        glob: str = "**/*",
        exclude: Sequence[str] = (),
        max_bytes: int = DEFAULT_MAX_BYTES,
        loaders: Mapping[str, Loader] | None = None,
        include_hidden: bool = False,
        follow_symlinks: bool = False,
    ) -> None:
        for name, value in (("commit_every", commit_every), ("batch_size", batch_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UsageError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(commit_seconds, int | float) or commit_seconds <= 0:
            raise UsageError(f"commit_seconds must be a positive number, got {commit_seconds!r}")
        if isinstance(store, str) and store != "faiss":
            raise UsageError(
                f"store must be 'faiss' or a factory such as TorchStore, got {store!r}"
            )
        self.index_dir = Path(index_dir).expanduser()
        if embedder is None:
            from agentkit.retrievers.embeddings import default_embedder

            embedder = default_embedder()
        self.embedder = embedder
        self.splitter = splitter if splitter is not None else RecursiveSplitter()
        self.store_factory = store
        self.commit_every, self.commit_seconds = commit_every, float(commit_seconds)
        self.batch_size = batch_size
        self.progress = progress
        self.glob, self.exclude, self.max_bytes = glob, tuple(exclude), max_bytes
        self.loaders, self.include_hidden = loaders, include_hidden
        self.follow_symlinks = follow_symlinks
        self.store: VectorStore | None = None

    def pipeline(self) -> str:
        """Fingerprint of the loaders and splitter: chunks made otherwise are re-made."""
        loader = self._loader(Path("."), "**/*")
        described = {
            "splitter": _describe(self.splitter),
            "loaders": {ext: repr(lo) for ext, lo in sorted(loader.loaders.items())},
        }
        return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:16]

    def ingest(self, paths: Paths, glob: str | None = None) -> IngestReport:
        """Bring the index in step with ``paths`` (files or folders); returns the report."""
        started = time.perf_counter()
        roots, files, skipped = self._select(paths, glob or self.glob)
        report = IngestReport()
        with self._locked():
            manifest = read_manifest(self.index_dir)
            if manifest is not None:
                check_embedder(self.index_dir, manifest, self.embedder)
                store = load_store(self.index_dir, manifest)
            else:
                store = new_store(self.store_factory, self.embedder.dimension)
            run = IngestRun(
                store,
                self.embedder,
                self.splitter,
                report,
                self.pipeline(),
                self.batch_size,
                lambda: self._save(store, first=manifest is None),
            )
            run.check_sources(files)
            for path, source, reason in skipped:
                run.skip(path, source, reason)
            with _progress_bar(self.progress, len(files)) as advance:
                for path, source, loader in files:
                    run.process(path, source, loader)
                    advance(source)
                    if run.due(self.commit_every, self.commit_seconds):
                        run.commit()
                run.delete_vanished(roots, {str(path) for path, _, _ in files})
                run.commit()
            sync_bm25(self.index_dir, store)
        self.store = store
        report.seconds = time.perf_counter() - started
        return report

    def _save(self, store: VectorStore, first: bool) -> None:
        if first and read_manifest(self.index_dir) is None:
            write_manifest(self.index_dir, self.embedder, store)
        store.save(str(store_path(self.index_dir)))

    def _loader(self, root: Path, glob: str) -> DirectoryLoader:
        return DirectoryLoader(
            root,
            glob,
            self.exclude,
            self.max_bytes,
            self.loaders,
            self.include_hidden,
            self.follow_symlinks,
        )

    def _select(self, paths: Paths, glob: str) -> tuple[list[Path], list[Selected], list[Skipped]]:
        items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
        if not items:
            raise UsageError("ingest() needs at least one file or folder path")
        roots = []
        for item in items:
            root = Path(item).expanduser().resolve()
            if not root.exists():
                raise UsageError(f"{item} does not exist; pass existing files or folders")
            roots.append(root)
        base = Path(os.path.commonpath([r if r.is_dir() else r.parent for r in roots]))
        own = self.index_dir.resolve()  # an index inside a folder it indexes: never itself
        selected: dict[Path, Selected] = {}
        skipped: dict[Path, Skipped] = {}
        for root in roots:
            loader = self._loader(root, glob)
            files, refused = loader.scan(within=roots)
            for path, _ in files:
                if path.is_relative_to(own):
                    continue
                source = path.relative_to(base).as_posix()
                selected.setdefault(path, (path, source, loader))
            for path, reason in refused:
                skipped.setdefault(path, (path, path.relative_to(base).as_posix(), reason))
        ordered = sorted(selected.values(), key=lambda item: item[1])
        return roots, ordered, sorted(skipped.values(), key=lambda item: item[1])

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One ingestion per index at a time (an OS file lock, released even on kill)."""
        _check_index_dir(self.index_dir)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            yield
            return
        with open(self.index_dir / ".lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as e:
                raise UsageError(
                    f"another ingestion is writing to {self.index_dir}; wait for it to finish"
                ) from e
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _check_index_dir(index_dir: Path) -> None:
    """A UsageError unless ``index_dir`` is new, empty or an index: never write an index
    into a file or into a folder of other files (say, the documents themselves)."""
    if index_dir.exists() and not index_dir.is_dir():
        raise UsageError(
            f"the index folder {index_dir} is a file; pass a folder that is new, empty or an "
            "index built by ingestion"
        )
    if not index_dir.is_dir() or read_manifest(index_dir) is not None:
        return
    others = sorted(p.name for p in index_dir.iterdir() if p.name != ".lock")
    if others:
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise UsageError(
            f"{index_dir} is not an index (no {MANIFEST}) but holds other files ({shown}); "
            "pass a new or empty folder for the index"
        )


def _describe(component: Any) -> Any:
    to_dict = getattr(component, "to_dict", None)
    try:
        return to_dict() if to_dict is not None else repr(component)
    except UsageError:
        return repr(component)


@contextlib.contextmanager
def _progress_bar(enabled: bool | None, total: int) -> Iterator[Callable[[str], None]]:
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda source: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("ingesting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[source]}", style="dim"),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("ingest", total=total, source="")
        yield lambda source: bar.update(task, advance=1, source=source[-60:])
