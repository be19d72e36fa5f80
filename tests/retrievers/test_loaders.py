"""Loaders on good and bad files: text, Markdown, PDF, HTML, CSV, JSONL, directories."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from agentkit.core.errors import UsageError
from agentkit.retrievers.loaders import (
    CSVLoader,
    DirectoryLoader,
    HTMLLoader,
    JSONLLoader,
    MarkdownLoader,
    PDFLoader,
    TextLoader,
    UnreadableFileError,
    decode_text,
    load_file,
)

FIXTURES = Path(__file__).parent / "fixtures"
PDF = (FIXTURES / "two_pages.pdf").read_bytes()


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def reason_of(data: bytes, loader: object = None) -> str:
    with pytest.raises(UnreadableFileError) as info:
        (loader or TextLoader()).parse(data, "f", {})  # type: ignore[attr-defined]
    assert "f" in str(info.value)
    return info.value.reason


# --- decoding -----------------------------------------------------------------------------


def test_decode_utf8_with_bom_and_crlf() -> None:
    text, encoding = decode_text(b"\xef\xbb\xbfcaf\xc3\xa9\r\nline two\r", "f")
    assert text == "café\nline two\n"
    assert encoding == "utf-8-sig"


def test_decode_utf16_with_bom() -> None:
    text, encoding = decode_text("grüße".encode("utf-16"), "f")
    assert (text, encoding) == ("grüße", "utf-16")


def test_latin1_text_is_loaded_with_encoding_noted() -> None:
    data = "Le café est très bon. Ça va? Déjà vu, naïve façade.\n".encode("latin-1")
    [doc] = TextLoader().parse(data, "menu.txt", {})
    assert doc.text.startswith("Le café est très bon")
    assert doc.metadata["encoding"] == "cp1252"


def test_bad_text_files_are_unreadable_with_reasons() -> None:
    assert reason_of(b"") == "empty file"
    assert reason_of(b"  \n\t\n") == "empty file (whitespace only)"
    assert reason_of(b"PK\x03\x04\x00\x00binary\x00zip") == "binary file"
    noise = bytes((i * 37 + 11) % 256 for i in range(4000) if (i * 37 + 11) % 256)
    assert reason_of(noise) == "binary file"  # no NUL, but full of control bytes
    assert "undecodable" in reason_of(b"\xef\xbb\xbfok \xff\xfe bad")


# --- text, Markdown, HTML -----------------------------------------------------------------


def test_markdown_keeps_text_and_records_headings() -> None:
    md = "# Guide\n\nIntro.\n\n```\n# not a heading\n```\n\n## Install ##\n\nRun it.\n"
    [doc] = MarkdownLoader().parse(md.encode(), "guide.md", {"file_name": "guide.md"})
    assert doc.text == md
    assert doc.metadata["title"] == "Guide"
    assert doc.metadata["headings"] == ["Guide", "Install"]
    assert doc.metadata["file_name"] == "guide.md"
    assert doc.source == "guide.md"


def test_html_readable_text_drops_scripts_and_keeps_title() -> None:
    html = """<!doctype html><html><head><title> My   Page </title>
    <style>body { color: red }</style><script>var x = "hidden";</script></head>
    <body><noscript>enable js</noscript><h1>Heading</h1><p>First   paragraph
    spans lines &amp; has entities.</p><ul><li>one</li><li>two</li></ul>
    <pre>  keep   this</pre><p>Last<br>line</p></body></html>"""
    [doc] = HTMLLoader().parse(html.encode(), "page.html", {})
    assert doc.metadata["title"] == "My Page"
    assert "hidden" not in doc.text and "color" not in doc.text and "enable js" not in doc.text
    assert "First paragraph spans lines & has entities." in doc.text
    assert "Heading\n\nFirst" in doc.text
    assert "one\ntwo" in doc.text
    assert "  keep   this" in doc.text
    assert "Last\nline" in doc.text
    assert "\n\n\n" not in doc.text


def test_html_without_text_is_unreadable() -> None:
    reason = reason_of(b"<html><script>x()</script></html>", HTMLLoader())
    assert "no readable text" in reason


# --- PDF ----------------------------------------------------------------------------------


def test_pdf_one_document_per_page() -> None:
    docs = PDFLoader().parse(PDF, "bio.pdf", {"file_name": "bio.pdf"})
    assert [d.metadata["page"] for d in docs] == [1, 2]
    assert all(d.metadata["pages"] == 2 and d.source == "bio.pdf" for d in docs)
    assert "Photosynthesis" in docs[0].text
    assert "Mitochondria" in docs[1].text


def test_truncated_and_fake_pdfs_are_unreadable() -> None:
    assert "corrupt or truncated PDF" in reason_of(PDF[: len(PDF) // 2], PDFLoader())
    assert "not a PDF" in reason_of(b"hello, I am text", PDFLoader())
    assert reason_of(b"", PDFLoader()) == "empty file"


# --- CSV, JSONL ---------------------------------------------------------------------------

CSV = "id,question,answer,topic\n1,What is H2O?,Water,chem\n2,Capital of France?,Paris,geo\n3,,,\n"


def test_csv_default_content_is_column_value_lines() -> None:
    docs = CSVLoader(metadata_columns=["id"]).parse(CSV.encode(), "qa.csv", {})
    assert len(docs) == 2  # the empty row is left out
    assert docs[0].text == "question: What is H2O?\nanswer: Water\ntopic: chem"
    assert docs[0].metadata["id"] == "1" and docs[0].metadata["row"] == 0
    assert docs[1].metadata["row"] == 1


def test_csv_chosen_content_and_metadata_columns() -> None:
    loader = CSVLoader(content_columns=["question"], metadata_columns=["topic"])
    docs = loader.parse(CSV.encode(), "qa.csv", {"file_name": "qa.csv"})
    assert [d.text for d in docs] == ["question: What is H2O?", "question: Capital of France?"]
    assert docs[1].metadata == {
        "file_name": "qa.csv",
        "encoding": "utf-8",
        "row": 1,
        "topic": "geo",
        "file_source": "qa.csv",
    }


def test_csv_problems() -> None:
    reason = reason_of(CSV.encode(), CSVLoader(content_columns=["nope"]))
    assert "no column(s) ['nope']" in reason and "question" in reason
    assert "no rows" in reason_of(b"a,b\n", CSVLoader())
    with pytest.raises(UsageError, match="list of names"):
        CSVLoader(content_columns="question")


def test_tsv_through_directory_loader(tmp_path: Path) -> None:
    write(tmp_path / "t.tsv", "name\tcity\nAda\tLondon\n")
    [doc] = DirectoryLoader(tmp_path).load()
    assert doc.text == "name: Ada\ncity: London"


def test_jsonl_text_and_metadata_keys() -> None:
    data = b'{"text": "alpha", "title": "A", "tags": ["x"]}\n\n{"text": "beta", "title": "B"}\n'
    docs = JSONLLoader().parse(data, "d.jsonl", {})
    assert [d.text for d in docs] == ["alpha", "beta"]
    assert docs[0].metadata == {"encoding": "utf-8", "line": 1, "title": "A"}  # no list value
    assert docs[1].metadata["line"] == 3
    docs = JSONLLoader(text_key="title", metadata_keys=["text"]).parse(data, "d.jsonl", {})
    assert [(d.text, d.metadata["text"]) for d in docs] == [("A", "alpha"), ("B", "beta")]


def test_jsonl_problems() -> None:
    assert "line 2 is not valid JSON" in reason_of(b'{"text": "a"}\n{oops\n', JSONLLoader())
    reason = reason_of(b'{"body": "a"}\n', JSONLLoader())
    assert "line 1 has no 'text' key" in reason and "text_key" in reason


# --- directories --------------------------------------------------------------------------


def test_directory_loader_skips_bad_files_and_loads_the_rest(tmp_path: Path) -> None:
    write(tmp_path / "notes.txt", "Plain notes about retrieval.")
    write(tmp_path / "guide.md", "# Guide\n\nMarkdown body.")
    write(tmp_path / "sub/data.csv", CSV)
    write(tmp_path / "sub/page.html", "<title>T</title><p>Hello html</p>")
    write(tmp_path / "sub/rows.jsonl", '{"text": "json row"}\n')
    write(tmp_path / "doc.pdf", PDF)
    write(tmp_path / "image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    write(tmp_path / "empty.txt", b"")
    write(tmp_path / "latin.txt", "Café crème à la française.".encode("latin-1"))
    write(tmp_path / "broken.pdf", PDF[: len(PDF) // 2])
    write(tmp_path / ".hidden/secret.txt", "hidden")

    docs, report = DirectoryLoader(tmp_path).load_with_report()

    assert dict(report.skipped) == {
        "broken.pdf": dict(report.skipped)["broken.pdf"],
        "empty.txt": "empty file",
        "image.png": "binary file",
    }
    assert "truncated PDF" in dict(report.skipped)["broken.pdf"]
    assert report.loaded == [
        "doc.pdf",
        "guide.md",
        "latin.txt",
        "notes.txt",
        "sub/data.csv",
        "sub/page.html",
        "sub/rows.jsonl",
    ]
    assert report.notes == [("latin.txt", "not valid UTF-8; decoded as cp1252")]
    by_source: dict[str, list[str]] = {}
    for doc in docs:
        source = doc.metadata.get("file_source", doc.source) or ""  # CSV rows: file#row=N
        by_source.setdefault(source, []).append(doc.text)
        assert doc.metadata["file_name"] == Path(source).name
        assert doc.metadata["extension"] == Path(source).suffix
    assert by_source["latin.txt"] == ["Café crème à la française."]
    assert len(by_source["doc.pdf"]) == 2 and len(by_source["sub/data.csv"]) == 3  # id 3 row
    assert "skipped 3" in str(report) and "image.png: binary file" in str(report)


def test_directory_glob_exclude_size_limit_and_overrides(tmp_path: Path) -> None:
    write(tmp_path / "a.md", "# A\n\nalpha")
    write(tmp_path / "b/c.md", "gamma")
    write(tmp_path / "b/d.txt", "delta")
    write(tmp_path / "big.md", "x" * 500)
    write(tmp_path / "rows.data", "q,a\nwhy,because\n")

    loader = DirectoryLoader(tmp_path, glob="**/*.md", exclude=["b/*"], max_bytes=100)
    docs, report = loader.load_with_report()
    assert [d.source for d in docs] == ["a.md"]
    assert report.skipped[0][0] == "big.md" and "file too large" in report.skipped[0][1]

    loader = DirectoryLoader(tmp_path, glob="*.data", loaders={"data": CSVLoader()})
    assert [d.text for d in loader.load()] == ["q: why\na: because"]


def test_directory_single_file_and_missing_path(tmp_path: Path) -> None:
    file = write(tmp_path / "one.txt", "just one")
    [doc] = DirectoryLoader(file).load()
    assert (doc.source, doc.text) == ("one.txt", "just one")
    with pytest.raises(UsageError, match="does not exist"):
        DirectoryLoader(tmp_path / "nowhere").files()
    with pytest.raises(UsageError, match="list of patterns"):
        DirectoryLoader(tmp_path, exclude="*.log")


def test_permission_denied_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = write(tmp_path / "locked.txt", "secret")
    write(tmp_path / "open.txt", "public")
    real_open = os.open

    def open_file(path: Any, flags: int, *args: Any) -> int:  # chmod 0 does not stop root
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", open_file)
    docs, report = DirectoryLoader(tmp_path).load_with_report()
    assert report.skipped == [("locked.txt", "permission denied")]
    assert [d.text for d in docs] == ["public"]


def test_load_file_picks_loader_and_raises_for_bad_file(tmp_path: Path) -> None:
    pdf = write(tmp_path / "x.pdf", PDF)
    assert [d.metadata["page"] for d in load_file(pdf)] == [1, 2]
    assert load_file(pdf)[0].source == str(pdf)
    with pytest.raises(UnreadableFileError, match="empty file"):
        load_file(write(tmp_path / "e.md", ""))
