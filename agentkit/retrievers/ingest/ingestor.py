""":class:`Ingestor`: keeps a vector index folder in step with files and folders."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Unpack

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
from agentkit.retrievers.ingest.prepare import Preparer, prepare_locally
from agentkit.retrievers.ingest.progress import ingest_progress
from agentkit.retrievers.ingest.report import IngestReport
from agentkit.retrievers.ingest.run import IngestRun
from agentkit.retrievers.ingest.sidecar import sync_bm25
from agentkit.retrievers.loaders import DirectoryLoader, FileOptions
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
        prepare: how files are read and split (a ``Preparer``, see ``ingest/prepare.py``):
            by default here, one after another; ``agentkit.scale`` passes Ray tasks.
        files: the file selection and loaders (``glob``, ``exclude``, ``max_bytes``,
            ``loaders``, ``include_hidden``, ``follow_symlinks``), as for
            :class:`~agentkit.retrievers.loaders.DirectoryLoader`, which is made with them
            for each ingested path. ``follow_symlinks=True`` also indexes files that links
            point to outside the ingested paths (by default they are skipped and reported).
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
        prepare: Preparer = prepare_locally,
        **files: Unpack[FileOptions],
    ) -> None:
        unknown = sorted(set(files) - FileOptions.__optional_keys__)
        if unknown:
            raise UsageError(
                f"Ingestor got unknown options {unknown}; its file options are "
                f"{sorted(FileOptions.__optional_keys__)}"
            )
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
        self.file_options = files
        self.prepare = prepare
        self.store: VectorStore | None = None

    def pipeline(self) -> str:
        """Fingerprint of the loaders and splitter: chunks made otherwise are re-made."""
        loader = self._loader(Path("."), None)
        described = {
            "splitter": _describe(self.splitter),
            "loaders": {ext: repr(lo) for ext, lo in sorted(loader.loaders.items())},
        }
        return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:16]

    def ingest(self, paths: Paths, glob: str | None = None) -> IngestReport:
        """Bring the index in step with ``paths`` (files or folders); returns the report."""
        started = time.perf_counter()
        roots, files, skipped = self._select(paths, glob or None)
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
            tasks = [(p, s, lo, run.stored_hash(p, s)) for p, s, lo in files]
            with ingest_progress(self.progress, len(files)) as advance:
                prepared = self.prepare(tasks, self.splitter)
                for (path, source, _), done in zip(files, prepared, strict=True):
                    run.apply(path, source, done)
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

    def _loader(self, root: Path, glob: str | None) -> DirectoryLoader:
        """The loader of one ingested path: the file options, ``glob`` (when given) first."""
        options = self.file_options.copy()
        if glob is not None:
            options["glob"] = glob
        return DirectoryLoader(root, **options)

    def _select(
        self, paths: Paths, glob: str | None
    ) -> tuple[list[Path], list[Selected], list[Skipped]]:
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
