"""Ingest never follows a symbolic link out of the ingested folders (``d/s.txt ->
/etc/shadow``) unless asked to, and never opens FIFOs or devices; every such entry is
skipped and reported with its reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

import agentkit
from agentkit.cli import app
from agentkit.retrievers.embeddings import HashingEmbedder
from agentkit.retrievers.ingest import Ingestor, IngestReport, store_path
from agentkit.retrievers.loaders import DirectoryLoader, UnreadableFileError
from agentkit.retrievers.loaders.base import read_bytes
from agentkit.retrievers.vectorstores import FaissStore

pytestmark = [
    pytest.mark.skipif(os.name != "posix", reason="symbolic links, FIFOs and /dev/zero"),
    pytest.mark.timeout(120),  # a FIFO or /dev/zero that is read would hang: fail instead
]
SECRET = "root:$6$TOPSECRETHASH:19000:0:99999:7:::"
runner = CliRunner()


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    """``docs/`` with a good file, a link inside it and a link to a secret outside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "shadow").write_text(SECRET + "\n")
    (outside / "more.txt").write_text("Outside folder text that must stay out.\n")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text("# Guide\n\nInstall the package, then run the demo.\n")
    (docs / "s.txt").symlink_to(outside / "shadow")
    (docs / "alias.md").symlink_to("guide.md")  # a link inside the folder
    return docs


def texts(index_dir: Path) -> str:
    store = FaissStore.load(store_path(index_dir))
    return "\n".join(doc.text for doc in store.get(store.ids()))


def ingest(
    index_dir: Path, paths: Path | list[Path], follow_symlinks: bool = False
) -> IngestReport:
    ingestor = Ingestor(
        index_dir, HashingEmbedder(64), progress=False, follow_symlinks=follow_symlinks
    )
    return ingestor.ingest(paths)


def test_a_link_to_a_file_outside_is_skipped_and_reported(layout: Path, tmp_path: Path) -> None:
    report = ingest(tmp_path / "index", layout)
    skipped = dict(report.files_skipped)
    assert list(skipped) == ["s.txt"]
    assert "outside the ingested folders" in skipped["s.txt"]
    assert "--follow-symlinks" in skipped["s.txt"]
    assert report.files_added == ["alias.md", "guide.md"]
    assert "TOPSECRET" not in texts(tmp_path / "index")


def test_follow_symlinks_indexes_the_target_and_turning_it_off_removes_it(
    layout: Path, tmp_path: Path
) -> None:
    index_dir = tmp_path / "index"
    followed = ingest(index_dir, layout, follow_symlinks=True)
    assert "s.txt" in followed.files_added
    assert "TOPSECRET" in texts(index_dir)
    again = ingest(index_dir, layout)  # the index mirrors what may be read now
    assert [name for name, _ in again.files_skipped] == ["s.txt"]
    assert again.chunks_deleted >= 1
    assert "TOPSECRET" not in texts(index_dir)


def test_the_python_api_and_the_loader_skip_it_too(layout: Path, tmp_path: Path) -> None:
    index = agentkit.index(layout, tmp_path / "index", HashingEmbedder(64), progress=False)
    assert [name for name, _ in index.report.files_skipped] == ["s.txt"]
    documents, report = DirectoryLoader(layout).load_with_report()
    assert [name for name, _ in report.skipped] == ["s.txt"]
    assert all("TOPSECRET" not in doc.text for doc in documents)
    followed, _ = DirectoryLoader(layout, follow_symlinks=True).load_with_report()
    assert any("TOPSECRET" in doc.text for doc in followed)


def test_a_link_into_another_ingested_folder_is_kept(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    (second / "target.txt").write_text("The second folder's own text.\n")
    (first / "link.txt").symlink_to(second / "target.txt")
    report = ingest(tmp_path / "index", [first, second])
    assert report.files_skipped == []
    assert report.files_added == ["a/link.txt", "b/target.txt"]
    # a folder given through a link is resolved: its files are inside it
    (tmp_path / "via").symlink_to(second)
    assert ingest(tmp_path / "index2", tmp_path / "via").files_added == ["target.txt"]


def test_loops_devices_fifos_and_folder_links_are_skipped_without_reading(
    layout: Path, tmp_path: Path
) -> None:
    (layout / "loop1").symlink_to(layout / "loop2")
    (layout / "loop2").symlink_to(layout / "loop1")
    (layout / "self.txt").symlink_to(layout / "self.txt")
    (layout / "zero.txt").symlink_to("/dev/zero")
    os.mkfifo(layout / "pipe.txt")
    (layout / "outdir").symlink_to(tmp_path / "outside")
    (layout / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    for follow in (False, True):
        report = ingest(tmp_path / f"index-{follow}", layout, follow_symlinks=follow)
        skipped = dict(report.files_skipped)
        assert skipped["loop1"] == skipped["loop2"] == skipped["self.txt"] == "symbolic link loop"
        assert "not a regular file" in skipped["zero.txt"]
        assert "not a regular file" in skipped["pipe.txt"]
        assert "links to folders are not followed" in skipped["outdir"]
        assert "broken symbolic link" in skipped["gone.txt"]
        assert "Outside folder text" not in texts(tmp_path / f"index-{follow}")
        assert ("s.txt" in skipped) is not follow


def test_reading_a_fifo_or_device_is_refused_at_once(tmp_path: Path) -> None:
    """A FIFO swapped in after the folder was listed is refused when opened, not read."""
    fifo = tmp_path / "late.txt"
    os.mkfifo(fifo)
    with pytest.raises(UnreadableFileError, match="not a regular file"):
        read_bytes(fifo, "late.txt")
    with pytest.raises(UnreadableFileError, match="not a regular file"):
        read_bytes(Path("/dev/zero"), "zero")
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 100)
    with pytest.raises(UnreadableFileError, match="too large"):
        read_bytes(big, "big.txt", max_bytes=10)
    assert read_bytes(big, "big.txt", max_bytes=100) == b"x" * 100


def test_the_cli_reports_the_link_and_follows_it_with_the_flag(
    layout: Path, tmp_path: Path
) -> None:
    base = ["ingest", str(layout), "--embedder", "hashing", "--no-progress"]
    refused = runner.invoke(app, [*base, "--index", str(tmp_path / "i1")])
    assert refused.exit_code == 0, refused.output
    line = next(row for row in refused.output.splitlines() if "s.txt" in row)
    assert "skipped" in line and "outside" in refused.output
    assert "TOPSECRET" not in texts(tmp_path / "i1")
    followed = runner.invoke(app, [*base, "--index", str(tmp_path / "i2"), "--follow-symlinks"])
    assert followed.exit_code == 0, followed.output
    line = next(row for row in followed.output.splitlines() if "s.txt" in row)
    assert "added" in line
    assert "TOPSECRET" in texts(tmp_path / "i2")


def test_a_glob_through_a_folder_link_does_not_leave_the_folder(
    layout: Path, tmp_path: Path
) -> None:
    (layout / "outdir").symlink_to(tmp_path / "outside")
    loader = DirectoryLoader(layout, glob="*/*")  # the pattern itself walks into the link
    files, skipped = loader.scan()
    assert files == []
    assert [(p.name, "outside the ingested folders" in r) for p, r in skipped] == [
        ("more.txt", True),
        ("shadow", True),
    ]
    report = Ingestor(tmp_path / "index", HashingEmbedder(64), progress=False, glob="*/*").ingest(
        layout
    )
    assert sorted(name for name, _ in report.files_skipped) == ["outdir/more.txt", "outdir/shadow"]
