"""Tests for lo_signals.readers: every format, every failure mode.

Fixtures are generated on the fly in ``tmp_path`` so the repository stays
free of binary test files.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
import os
import pickle
from pathlib import Path

import pytest

from lo_signals import readers
from lo_signals.readers import (
    SUPPORTED_SUFFIXES,
    Block,
    Document,
    ReadError,
    detect_text_column,
    discover_files,
    read_documents,
)
from lo_signals.readers._document import document_id


def read_one(path: Path, **kwargs) -> Document:
    docs = list(read_documents(path, **kwargs))
    assert len(docs) == 1
    return docs[0]


def read_error(path: Path, **kwargs) -> ReadError:
    with pytest.raises(ReadError) as info:
        list(read_documents(path, **kwargs))
    return info.value


def block_texts(doc: Document) -> list[tuple[str, str]]:
    return [(b.kind, doc.text[b.start : b.end]) for b in doc.blocks]


def check_block_invariants(doc: Document) -> None:
    """Blocks are in order, non-empty, and separated by exactly one blank line."""
    assert doc.blocks
    pieces = [doc.text[b.start : b.end] for b in doc.blocks]
    assert "\n\n".join(pieces) == doc.text
    for b in doc.blocks:
        assert b.kind in readers.BLOCK_KINDS
        assert doc.text[b.start : b.end].strip() == doc.text[b.start : b.end] != ""


# --------------------------------------------------------------------------
# Plain text and encodings
# --------------------------------------------------------------------------

SAMPLE = "The budget was £5m – “tight”, staff said.\n\nManagers’ reviews were fair."


@pytest.mark.parametrize(
    ("encoding", "raw", "expected"),
    [
        ("utf-8", SAMPLE.encode("utf-8"), "utf-8"),
        ("utf-8-sig", SAMPLE.encode("utf-8-sig"), "utf-8-sig"),
        ("utf-16", SAMPLE.encode("utf-16"), "utf-16"),
        ("utf-16-be-bom", b"\xfe\xff" + SAMPLE.encode("utf-16-be"), "utf-16"),
        ("cp1252", SAMPLE.encode("cp1252"), "cp1252"),
    ],
)
def test_text_encodings_round_trip(tmp_path: Path, encoding: str, raw: bytes, expected: str) -> None:
    path = tmp_path / f"sample-{encoding}.txt"
    path.write_bytes(raw)
    doc = read_one(path)
    assert doc.encoding == expected
    assert doc.text == SAMPLE
    assert doc.format == "txt"
    assert block_texts(doc) == [
        ("paragraph", "The budget was £5m – “tight”, staff said."),
        ("paragraph", "Managers’ reviews were fair."),
    ]
    check_block_invariants(doc)


def test_utf16_without_bom(tmp_path: Path) -> None:
    path = tmp_path / "nobom.txt"
    path.write_bytes("Staff felt listened to after the review.".encode("utf-16-le"))
    doc = read_one(path)
    assert doc.encoding == "utf-16"
    assert doc.text == "Staff felt listened to after the review."


def test_latin1_fallback_when_cp1252_cannot_decode(tmp_path: Path) -> None:
    # 0x81 is undefined in cp1252, so only latin-1 can decode these bytes.
    path = tmp_path / "latin.txt"
    path.write_bytes("Caf\xe9 staff".encode("latin-1") + b"\x81 were kind.")
    doc = read_one(path)
    assert doc.encoding == "latin-1"
    assert doc.text == "Café staff were kind."


def test_non_latin_legacy_encoding_detected(tmp_path: Path) -> None:
    text = "Персонал боится сообщать об ошибках. Руководство не слушает.\n" * 3
    path = tmp_path / "ru.txt"
    path.write_bytes(text.encode("cp1251"))
    doc = read_one(path)
    assert doc.encoding == "cp1251"
    assert "Персонал боится" in doc.text


def test_ids_and_hashes_are_stable(tmp_path: Path) -> None:
    import hashlib

    raw = b"One sentence here."
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(raw)
    b.write_bytes(raw)
    da, db = read_one(a), read_one(b)
    assert da.content_hash == hashlib.sha256(raw).hexdigest()
    assert da.content_hash == db.content_hash
    # The same bytes at two paths are two documents; the same path keeps its id.
    assert da.doc_id != db.doc_id and read_one(a).doc_id == da.doc_id and len(da.doc_id) == 16
    assert da.path == str(a)
    assert da.pages is None and da.metadata == {}


def test_text_structure(tmp_path: Path) -> None:
    path = tmp_path / "report.txt"
    path.write_text(
        "EXECUTIVE SUMMARY\n\n"
        "3. Findings\n\n"
        "13.1 Governance arrangements\n\n"
        "The review found that the board\n"
        "rarely discussed learning from incidents and that staff were\n"
        "reluctant to report them.\n\n"
        "- Staff fear blame\n"
        "- Managers rarely give feedback on\n"
        "  reported incidents\n\n"
        "1. Publish learning quarterly.\n"
        "2. Train managers.\n\n"
        "13.2. The trust has since introduced a weekly safety huddle, which staff value.\n\n"
        "Not enough staff\n"
        "No time to learn\n\n"
        "rota is a mess\n"
        "parking is worse\n",
        encoding="utf-8",
    )
    doc = read_one(path)
    assert block_texts(doc) == [
        ("heading", "EXECUTIVE SUMMARY"),
        ("heading", "3. Findings"),
        ("heading", "13.1 Governance arrangements"),
        (
            "paragraph",
            "The review found that the board rarely discussed learning from incidents and that staff "
            "were reluctant to report them.",
        ),
        ("list_item", "Staff fear blame"),
        ("list_item", "Managers rarely give feedback on reported incidents"),
        ("list_item", "1. Publish learning quarterly."),
        ("list_item", "2. Train managers."),
        ("paragraph", "13.2. The trust has since introduced a weekly safety huddle, which staff value."),
        ("paragraph", "Not enough staff"),
        ("paragraph", "No time to learn"),
        ("paragraph", "rota is a mess"),
        ("paragraph", "parking is worse"),
    ]
    check_block_invariants(doc)


def test_markdown_structure(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text(
        "# Staff survey\n\n"
        "Intro with **bold** and a [link](https://example.org).\n\n"
        "Method\n------\n\n"
        "> We were told not to\n> raise concerns.\n\n"
        "* first point\n* second point\n\n"
        "```\ncode is kept as text\n```\n\n"
        "---\n\n"
        "End.\n",
        encoding="utf-8",
    )
    doc = read_one(path)
    assert doc.format == "md"
    assert block_texts(doc) == [
        ("heading", "Staff survey"),
        ("paragraph", "Intro with bold and a link."),
        ("heading", "Method"),
        ("quote", "We were told not to raise concerns."),
        ("list_item", "first point"),
        ("list_item", "second point"),
        ("paragraph", "code is kept as text"),
        ("paragraph", "End."),
    ]


def test_crlf_and_control_characters(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes(
        b"The first paragraph of this Windows file is long enough that it\r\n"
        b"wraps here.\r\n\r\nSecond\x07 para.\r\n"
    )
    doc = read_one(path)
    assert doc.text == (
        "The first paragraph of this Windows file is long enough that it wraps here.\n\nSecond para."
    )


# --------------------------------------------------------------------------
# Failure modes common to every format
# --------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    err = read_error(path)
    assert err.status == "empty"
    assert "empty" in err.reason


def test_whitespace_only_file(tmp_path: Path) -> None:
    path = tmp_path / "blank.md"
    path.write_text("  \n\n\t \n", encoding="utf-8")
    err = read_error(path)
    assert err.status == "empty"


def test_binary_junk_with_text_extension(tmp_path: Path) -> None:
    path = tmp_path / "junk.txt"
    path.write_bytes(bytes(range(256)) * 20)
    err = read_error(path)
    assert (err.status, err.reason) == ("error", "looks like binary data, not text")


def test_control_heavy_bytes_without_nul(tmp_path: Path) -> None:
    path = tmp_path / "ctrl.txt"
    path.write_bytes(b"ab\x01\x02\x03\x04cd\x05\x06\x07\x08" * 100)
    assert read_error(path).reason == "looks like binary data, not text"


def test_unknown_suffix_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "data.xyz"
    path.write_text("whatever", encoding="utf-8")
    err = read_error(path)
    assert (err.status, err.reason) == ("skipped", "unsupported file type '.xyz'")
    noext = tmp_path / "README"
    noext.write_text("hello", encoding="utf-8")
    assert read_error(noext).status == "skipped"
    legacy = tmp_path / "old.doc"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0")
    assert read_error(legacy).reason.startswith("unsupported file type '.doc'")


def test_over_max_bytes_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("word " * 400, encoding="utf-8")
    err = read_error(path, max_bytes=1000)
    assert err.status == "skipped"
    assert err.reason == "file is 2.0 KB, over the 1 KB limit (--max-mb)"


def test_huge_file_skipped_without_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.pdf"
    with open(path, "wb") as fh:  # sparse: no disk used
        fh.truncate(104_857_600)

    def no_open(*args, **kwargs):
        raise AssertionError("an oversized file must not be opened")

    monkeypatch.setattr(builtins, "open", no_open)
    err = read_error(path)
    assert (err.status, err.reason) == ("skipped", "file is 104.9 MB, over the 50 MB limit (--max-mb)")


def test_broken_symlink(tmp_path: Path) -> None:
    link = tmp_path / "gone.txt"
    link.symlink_to(tmp_path / "missing.txt")
    err = read_error(link)
    assert err.status == "skipped"
    assert err.reason.startswith("broken symbolic link")


def test_missing_file(tmp_path: Path) -> None:
    err = read_error(tmp_path / "nope.txt")
    assert err.status == "error"
    assert "not found" in err.reason


def test_directory_is_an_error(tmp_path: Path) -> None:
    err = read_error(tmp_path)
    assert err.status == "error"
    assert "folder" in err.reason


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="running as root: root can read any file, so chmod 000 cannot provoke permission denied",
)
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("private", encoding="utf-8")
    path.chmod(0)
    try:
        err = read_error(path)
    finally:
        path.chmod(0o644)
    assert (err.status, err.reason) == ("error", "permission denied: cannot read this file")


def test_permission_denied_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Runs even as root: simulate the OS refusing the open.
    path = tmp_path / "secret.txt"
    path.write_text("private", encoding="utf-8")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(builtins, "open", denied)
    err = read_error(path)
    assert (err.status, err.reason) == ("error", "permission denied: cannot read this file")


def test_read_error_contract() -> None:
    err = ReadError("skipped", "unsupported file type '.xyz'")
    assert str(err) == "unsupported file type '.xyz'"
    clone = pickle.loads(pickle.dumps(err))
    assert (clone.status, clone.reason) == (err.status, err.reason)
    with pytest.raises(ValueError):
        ReadError("oops", "bad status")


def test_supported_suffixes() -> None:
    for suffix in (".txt", ".md", ".html", ".pdf", ".docx", ".csv", ".xlsx", ".jsonl", ".parquet"):
        assert suffix in SUPPORTED_SUFFIXES
    assert list(SUPPORTED_SUFFIXES) == sorted(SUPPORTED_SUFFIXES)


# --------------------------------------------------------------------------
# discover_files
# --------------------------------------------------------------------------


def test_discover_files_order_and_nesting(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "b" / "deep").mkdir(parents=True)
    (root / "a").mkdir()
    for rel in ["z.txt", "a/2.pdf", "a/1.md", "b/deep/x.xyz", "b/c.csv", "B.txt"]:
        (root / rel).write_text("x", encoding="utf-8")
    (root / "broken.txt").symlink_to(root / "nowhere.txt")
    (root / "b" / "loop").symlink_to(root, target_is_directory=True)  # a cycle
    single = tmp_path / "single.txt"
    single.write_text("x", encoding="utf-8")

    found = list(discover_files([root, single, root / "z.txt"]))
    rel = [p.relative_to(tmp_path).as_posix() for p in found]
    assert rel == [
        "in/B.txt",
        "in/a/1.md",
        "in/a/2.pdf",
        "in/b/c.csv",
        "in/b/deep/x.xyz",
        "in/b/loop",  # not walked again, but listed: reading it says why
        "in/broken.txt",
        "in/z.txt",
        "single.txt",
    ]
    # Deterministic: a second walk gives the same list.
    assert list(discover_files([str(root), single])) == found[:-1] + [single]


def test_discover_files_yields_missing_inputs(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    assert list(discover_files([missing])) == [missing]


def test_discover_files_follows_symlinked_folder_once(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "a.txt").write_text("x", encoding="utf-8")
    top = tmp_path / "top"
    top.mkdir()
    (top / "link").symlink_to(real, target_is_directory=True)
    (top / "link2").symlink_to(real, target_is_directory=True)
    found = [p.relative_to(tmp_path).as_posix() for p in discover_files([top], follow_symlinks=True)]
    assert found == ["top/link/a.txt", "top/link2"]
    err = read_error(top / "link2")
    assert err.status == "skipped" and err.reason.startswith("symbolic link to a folder already walked")


def test_discover_files_stays_inside_the_inputs_by_default(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Not for scoring.", encoding="utf-8")
    top = tmp_path / "top"
    (top / "sub").mkdir(parents=True)
    (top / "sub" / "a.txt").write_text("Staff shared lessons.", encoding="utf-8")
    (top / "inner").symlink_to(top / "sub", target_is_directory=True)  # inside: walked (once)
    (top / "out").symlink_to(outside, target_is_directory=True)  # outside: yielded, not walked
    (top / "passwd.txt").symlink_to(outside / "secret.txt")
    found = [p.relative_to(tmp_path).as_posix() for p in discover_files([top])]
    assert found == ["top/inner/a.txt", "top/out", "top/passwd.txt"]
    for name in ("out", "passwd.txt"):
        err = read_error(top / name, roots=[top])
        assert err.status == "skipped"
        assert "outside the input folders" in err.reason and "--follow-symlinks" in err.reason
    # Inside links read normally; without roots (--follow-symlinks) links are followed.
    assert read_one(top / "inner" / "a.txt", roots=[top]).text == "Staff shared lessons."
    assert read_one(top / "passwd.txt").text == "Not for scoring."
    # An input given by name is always read, even through a link.
    assert read_one(top / "passwd.txt", roots=[top / "passwd.txt"]).text == "Not for scoring."


# --------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------

PDF_PAGES = {
    1: [
        ("h", "1. Introduction"),
        ("b", "The review looked at how the organi-"),
        ("b", "sation responds when things go wrong. Staff told us that they felt"),
        ("b", "supported after incidents were reported to their managers."),
        ("gap", ""),
        ("b", "A second, shorter paragraph ends here."),
    ],
    2: [
        ("h", "2. Findings"),
        ("b", "Several ward managers described a culture of blame. Nurses said"),
        ("b", "that errors led to disciplinary meetings rather than learning"),
        ("b", "reviews, and that the trust had not"),
    ],
    3: [
        ("b", "learned from earlier incidents."),
        ("gap", ""),
        ("h", "3. Recommendations"),
        ("b", "• Publish learning from incidents every quarter."),
        ("b", "• Leaders must model openness."),
    ],
}


def make_pdf(path: Path, pages: dict[int, list[tuple[str, str]]] = PDF_PAGES, footer: bool = True) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    n = len(pages)
    for number in range(1, n + 1):
        c.setFont("Helvetica", 9)
        c.drawString(72, height - 40, "Northshire NHS Trust - Annual Safety Report 2023")
        y = height - 90
        for kind, line in pages[number]:
            if kind == "gap":
                y -= 14
                continue
            c.setFont("Helvetica-Bold" if kind == "h" else "Helvetica", 14 if kind == "h" else 11)
            c.drawString(72, y, line)
            y -= 20 if kind == "h" else 14
        if footer:
            c.setFont("Helvetica", 9)
            # Page 2 uses a bare number, the others "Page N of M".
            c.drawString(width / 2, 30, str(number) if number == 2 else f"Page {number} of {n}")
        c.showPage()
    c.save()
    return path


def test_pdf_multi_page(tmp_path: Path) -> None:
    doc = read_one(make_pdf(tmp_path / "report.pdf"))
    assert doc.format == "pdf"
    assert doc.pages == 3
    assert doc.encoding is None
    assert "Northshire NHS Trust" not in doc.text  # running header dropped
    assert "Page 1 of 3" not in doc.text and "Page 3 of 3" not in doc.text
    assert "organisation" in doc.text and "organi-" not in doc.text
    got = [(b.page, b.kind, doc.text[b.start : b.end]) for b in doc.blocks]
    assert got == [
        (1, "heading", "1. Introduction"),
        (
            1,
            "paragraph",
            "The review looked at how the organisation responds when things go wrong. Staff told us "
            "that they felt supported after incidents were reported to their managers.",
        ),
        (1, "paragraph", "A second, shorter paragraph ends here."),
        (2, "heading", "2. Findings"),
        (
            2,
            "paragraph",
            "Several ward managers described a culture of blame. Nurses said that errors led to "
            "disciplinary meetings rather than learning reviews, and that the trust had not learned "
            "from earlier incidents.",
        ),
        (3, "heading", "3. Recommendations"),
        (3, "list_item", "Publish learning from incidents every quarter."),
        (3, "list_item", "Leaders must model openness."),
    ]
    check_block_invariants(doc)


def test_pdf_encrypted_with_user_password(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    src = make_pdf(tmp_path / "plain.pdf")
    writer = PdfWriter(clone_from=str(src))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    locked = tmp_path / "locked.pdf"
    with open(locked, "wb") as fh:
        writer.write(fh)
    err = read_error(locked)
    assert (err.status, err.reason) == ("error", "PDF is encrypted / password-protected")


def test_pdf_encrypted_with_empty_user_password_is_read(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    src = make_pdf(tmp_path / "plain.pdf")
    writer = PdfWriter(clone_from=str(src))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    opened = tmp_path / "owner-only.pdf"
    with open(opened, "wb") as fh:
        writer.write(fh)
    assert "organisation" in read_one(opened).text


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_pdf_truncated(tmp_path: Path, cut: float) -> None:
    data = make_pdf(tmp_path / "full.pdf").read_bytes()
    bad = tmp_path / "cut.pdf"
    bad.write_bytes(data[: int(len(data) * cut)])
    err = read_error(bad)
    assert err.status == "error"
    assert err.reason.startswith("corrupt or truncated PDF: ")


def test_pdf_not_a_pdf(tmp_path: Path) -> None:
    bad = tmp_path / "fake.pdf"
    bad.write_bytes(b"<html>this is not a pdf</html>")
    err = read_error(bad)
    assert err.status == "error"
    assert err.reason.startswith("corrupt or truncated PDF")


def test_pdf_without_text(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(path))
    c.rect(50, 50, 300, 400, fill=1)  # an "image": shapes, no text
    c.showPage()
    c.save()
    err = read_error(path)
    assert (err.status, err.reason) == ("empty", "no extractable text (scanned image PDF?)")


def test_pdf_single_page_keeps_its_lines(tmp_path: Path) -> None:
    # With one page nothing "recurs", so the top line must survive.
    path = make_pdf(tmp_path / "one.pdf", pages={1: [("b", "Only one page of findings.")]}, footer=False)
    doc = read_one(path)
    assert "Northshire NHS Trust" in doc.text
    assert "Only one page of findings." in doc.text


# --------------------------------------------------------------------------
# DOCX
# --------------------------------------------------------------------------


def test_docx_body_order(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_heading("Board paper", level=1)
    d.add_paragraph("The committee reviewed three incidents.")
    d.add_paragraph("Staff raised concerns", style="List Bullet")
    d.add_paragraph("Actions were agreed", style="List Number")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Theme"
    table.cell(0, 1).text = "Comment"
    table.cell(1, 0).text = "Blame"
    table.cell(1, 1).text = "People were afraid to speak up."
    d.add_paragraph("")  # empty paragraphs are not blocks
    d.add_paragraph("Closing remarks.")
    path = tmp_path / "paper.docx"
    d.save(str(path))

    doc = read_one(path)
    assert doc.format == "docx"
    assert block_texts(doc) == [
        ("heading", "Board paper"),
        ("paragraph", "The committee reviewed three incidents."),
        ("list_item", "Staff raised concerns"),
        ("list_item", "Actions were agreed"),
        ("table_cell", "Theme"),
        ("table_cell", "Comment"),
        ("table_cell", "Blame"),
        ("table_cell", "People were afraid to speak up."),
        ("paragraph", "Closing remarks."),
    ]
    check_block_invariants(doc)


def test_docx_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    err = read_error(path)
    assert err.status == "error"
    assert "Word document" in err.reason


def test_docx_empty(tmp_path: Path) -> None:
    import docx

    path = tmp_path / "blank.docx"
    docx.Document().save(str(path))
    assert read_error(path).status == "empty"


# --------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------

HTML_PAGE = """<!DOCTYPE html>
<html><head><meta charset="windows-1252"><title>Inquiry</title>
<style>p {{ color: red; }}</style><script>var x = "do not read me";</script></head>
<body>
<nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<header><p>Site banner</p></header>
<main>
  <h1>Findings</h1>
  <p>Staff said the ward was “unsafe” and that the budget was £2m short.</p>
  <div hidden>Hidden text</div>
  <ul><li>Concerns were ignored</li><li>Nobody followed <b>up</b></li></ul>
  <blockquote><p>We were blamed for everything.</p></blockquote>
  <p>Line one<br>continues<br><br>New paragraph after two breaks.</p>
  <table><tr><td>Cell text</td></tr></table>
  <noscript>Enable JavaScript</noscript>
  <form><label>Search</label><input></form>
</main>
<aside>Related links</aside>
<footer>Copyright 2024</footer>
</body></html>
"""


def test_html_main_text(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(HTML_PAGE.format().encode("cp1252"))
    doc = read_one(path)
    assert doc.format == "html"
    assert doc.encoding == "cp1252"
    assert block_texts(doc) == [
        ("heading", "Findings"),
        ("paragraph", "Staff said the ward was “unsafe” and that the budget was £2m short."),
        ("list_item", "Concerns were ignored"),
        ("list_item", "Nobody followed up"),
        ("quote", "We were blamed for everything."),
        ("paragraph", "Line one continues"),
        ("paragraph", "New paragraph after two breaks."),
        ("paragraph", "Cell text"),
    ]
    for junk in ("do not read me", "Home", "Site banner", "Related links", "Copyright", "Hidden", "JavaScript"):
        assert junk not in doc.text


def test_html_without_main_uses_body(tmp_path: Path) -> None:
    path = tmp_path / "plain.htm"
    path.write_text(
        "<html><body><nav>Menu</nav><h2>Title</h2><div>Some <i>inline</i> text.</div></body></html>",
        encoding="utf-8",
    )
    doc = read_one(path)
    assert doc.encoding == "utf-8"
    assert block_texts(doc) == [("heading", "Title"), ("paragraph", "Some inline text.")]


def test_html_prefers_article(tmp_path: Path) -> None:
    path = tmp_path / "blog.html"
    path.write_text("<body><div>Sidebar junk</div><article><p>The real story.</p></article></body>", encoding="utf-8")
    assert read_one(path).text == "The real story."


def test_html_only_scripts_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "app.html"
    path.write_text("<html><body><script>app()</script><nav>Menu</nav></body></html>", encoding="utf-8")
    assert read_error(path).status == "empty"


# --------------------------------------------------------------------------
# Tabular formats
# --------------------------------------------------------------------------

ROWS = [
    {"id": "1", "department": "Surgery", "comment": "Managers listen when we raise concerns.", "score": "4"},
    {"id": "2", "department": "A&E", "comment": "", "score": "2"},
    {"id": "3", "department": "Maternity", "comment": "People are blamed when things go wrong.", "score": "1"},
]


def write_csv(path: Path, rows: list[dict], encoding: str = "utf-8", sep: str = ",") -> Path:
    import csv

    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=sep)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_csv_rows_with_detection_and_metadata(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "survey.csv", ROWS)
    docs = list(read_documents(path))
    assert [d.text for d in docs] == [ROWS[0]["comment"], ROWS[2]["comment"]]  # empty row skipped
    first = docs[0]
    assert first.format == "csv"
    assert first.encoding == "utf-8"
    assert first.metadata == {"id": "1", "department": "Surgery", "score": "4"}
    file_hash = read_bytes_hash(path)
    file_id = document_id(str(path), file_hash)
    assert [d.doc_id for d in docs] == [f"{file_id}:r0", f"{file_id}:r2"]
    assert len({d.content_hash for d in docs}) == 2
    assert first.blocks == [Block(0, len(first.text), "paragraph", None)]
    json.dumps([d.metadata for d in docs])


def read_bytes_hash(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_csv_cp1252_semicolons_and_explicit_column(tmp_path: Path) -> None:
    rows = [{"Team": "Ward 5", "Reflection": "We felt “heard” – £0 spent though."}]
    path = write_csv(tmp_path / "legacy.csv", rows, encoding="cp1252", sep=";")
    doc = read_one(path, text_column="Reflection")
    assert doc.encoding == "cp1252"
    assert doc.text == "We felt “heard” – £0 spent though."
    assert doc.metadata == {"Team": "Ward 5"}
    # Column names match case-insensitively when unambiguous.
    assert read_one(path, text_column="reflection").text == doc.text


def test_csv_missing_text_column_names_available(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "survey.csv", ROWS)
    err = read_error(path, text_column="answer_text")
    assert err.status == "error"
    assert err.reason == "text column 'answer_text' not found; available columns: id, department, comment, score"


def test_csv_header_only_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("id,comment\n", encoding="utf-8")
    assert read_error(path).status == "empty"


def test_csv_utf16_and_tsv(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u16.csv", ROWS, encoding="utf-16")
    docs = list(read_documents(path))
    assert docs[0].encoding == "utf-16"
    assert docs[1].text == ROWS[2]["comment"]
    tsv = write_csv(tmp_path / "data.tsv", ROWS, sep="\t")
    assert [d.metadata["department"] for d in read_documents(tsv)] == ["Surgery", "Maternity"]


def test_csv_bad_rows_error(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text('id,comment\n1,"fine words here"\n2,"too",many,fields\n', encoding="utf-8")
    err = read_error(path)
    assert err.status == "error"
    assert err.reason.startswith("could not parse CSV")


def test_xlsx_rows(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Respondent", "Submitted", "Rating", "Free text response"])
    ws.append([101, dt.datetime(2024, 3, 1, 9, 30), 4.5, "Leaders thank us for reporting near misses."])
    ws.append([102, dt.date(2024, 3, 2), None, None])
    ws.append([103, None, 2, "Incidents are used to punish staff."])
    path = tmp_path / "survey.xlsx"
    wb.save(str(path))

    docs = list(read_documents(path))
    assert [d.text for d in docs] == [
        "Leaders thank us for reporting near misses.",
        "Incidents are used to punish staff.",
    ]
    assert docs[0].format == "xlsx" and docs[0].encoding is None
    assert docs[0].metadata == {"Respondent": 101, "Submitted": "2024-03-01T09:30:00", "Rating": 4.5, "sheet": "Sheet"}
    assert docs[1].metadata == {"Respondent": 103, "Submitted": None, "Rating": 2, "sheet": "Sheet"}
    assert docs[1].doc_id.endswith(":r2")
    json.dumps([d.metadata for d in docs])


def test_xlsx_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"definitely not a workbook")
    err = read_error(path)
    assert err.status == "error"
    assert "Excel" in err.reason


def test_jsonl_rows(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    lines = [
        json.dumps({"text": "We learn from every incident.", "site": "North", "tags": ["a", "b"]}),
        "",
        "{not json",
        json.dumps({"text": "", "site": "South"}),
        json.dumps({"text": "Blame culture is strong here.", "site": "East", "meta": {"n": 1}}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    docs = list(read_documents(path))
    assert [d.text for d in docs] == ["We learn from every incident.", "Blame culture is strong here."]
    assert docs[0].metadata == {"site": "North", "tags": ["a", "b"]}
    assert docs[1].metadata == {"site": "East", "meta": {"n": 1}}
    assert docs[0].doc_id.endswith(":r0") and docs[1].doc_id.endswith(":r4")
    assert docs[0].encoding == "utf-8"


def test_jsonl_all_invalid_is_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("{oops\n[1, 2]\n", encoding="utf-8")
    err = read_error(path)
    assert err.status == "error"
    assert "line 1" in err.reason


def test_parquet_rows_across_batches(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 2500  # more than one 1024-row batch
    table = pa.table(
        {
            "row": list(range(n)),
            "when": [dt.datetime(2024, 1, 1) + dt.timedelta(days=i % 30) for i in range(n)],
            "answer": [f"Comment number {i} about learning." if i % 5 else None for i in range(n)],
        }
    )
    path = tmp_path / "rows.parquet"
    pq.write_table(table, path, row_group_size=700)
    docs = list(read_documents(path))
    assert len(docs) == n - n // 5
    assert docs[0].text == "Comment number 1 about learning."
    assert docs[0].metadata == {"row": 1, "when": "2024-01-02T00:00:00"}
    assert docs[-1].doc_id.endswith(f":r{n - 1}")
    assert docs[0].format == "parquet" and docs[0].encoding is None


def test_parquet_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1 garbage PAR1")
    err = read_error(path)
    assert err.status == "error"
    assert "Parquet" in err.reason


def test_tabular_rows_are_streamed(tmp_path: Path) -> None:
    # The first row arrives before the whole file is parsed.
    rows = [{"comment": f"Row {i} says something useful."} for i in range(10_000)]
    path = write_csv(tmp_path / "many.csv", rows)
    it = read_documents(path)
    first = next(it)
    assert first.text == "Row 0 says something useful."
    it.close()


# --------------------------------------------------------------------------
# detect_text_column
# --------------------------------------------------------------------------


def test_detect_prefers_hinted_name() -> None:
    rows = [{"id": "x" * 40, "Comments": "Good team", "feedback_score": "5"}]
    assert detect_text_column(["id", "Comments", "feedback_score"], rows) == "Comments"


def test_detect_falls_back_to_longest_wordy_column() -> None:
    rows = [
        {
            "uuid": "3f2a9c1e-77aa-4c1e-9f00-1234567890ab",
            "q1": "It is a place where people learn from mistakes.",
            "n": "3",
        },
        {"uuid": "9a9a9c1e-77aa-4c1e-9f00-1234567890ab", "q1": "Nobody listens to night staff at all.", "n": "4"},
    ]
    assert detect_text_column(["uuid", "q1", "n"], rows) == "q1"


def test_detect_fails_when_nothing_is_text() -> None:
    rows = [{"a": "1", "b": "2024-01-01", "c": "yes"}]
    with pytest.raises(ReadError) as info:
        detect_text_column(["a", "b", "c"], rows)
    assert info.value.status == "error"
    assert "a, b, c" in info.value.reason
    assert "--text-column" in info.value.reason


def test_detect_csv_without_hint_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "numbers.csv", [{"a": "1", "b": "2"}])
    assert read_error(path).reason.startswith("could not tell which column holds the free text")


def test_documents_are_independent_streams(tmp_path: Path) -> None:
    # read_documents is lazy: nothing is read until iteration starts.
    path = tmp_path / "x.txt"
    gen = read_documents(path)  # the file does not exist yet
    path.write_text("Created after the call.", encoding="utf-8")
    assert next(gen).text == "Created after the call."


def test_compressed_data_with_text_extension_is_binary(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "archive.txt"
    path.write_bytes(gzip.compress(" ".join(str(i * i) for i in range(5000)).encode()))
    assert read_error(path).reason == "looks like binary data, not text"


def test_numbered_paragraph_wrapping_to_the_next_line_is_not_a_heading():
    # In the sample board paper, paragraph 3.1 opens a page with a full-width first line.
    pdf = Path(__file__).resolve().parent.parent / "examples" / "data" / "board" / "quality-committee-report.pdf"
    doc = next(read_documents(pdf))
    blocks = [(b.kind, doc.text[b.start : b.end]) for b in doc.blocks]
    para = [kind for kind, text in blocks if text.startswith("3.1 Thirty-four")]
    assert para == ["paragraph"]
    assert any(kind == "heading" and text.startswith("3.") and len(text) < 60 for kind, text in blocks)


def test_text_column_candidates_name_rivals_only_when_they_are_sentences() -> None:
    from lo_signals.readers._columns import text_column_candidates

    long = "Nobody listened when we raised the staffing problem with the ward manager."
    rows = [{"comment": long, "reason": "Workload", "job_title": "Senior Staff Nurse Band 6", "notes": long[:40]} for _ in range(5)]
    assert text_column_candidates(list(rows[0]), rows) == ["comment", "notes"]
    assert detect_text_column(list(rows[0]), rows) == "comment"
    # One column of sentences and short codes: no rival.
    assert text_column_candidates(["comment", "reason", "job_title"], rows) == ["comment"]
    assert text_column_candidates(["q1", "q2"], [{"q1": long, "q2": long + " More."}]) == ["q2", "q1"]
