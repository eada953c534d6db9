"""Hostile and oversized input: every file gets a status and a reason, memory stays bounded.

The folder is built by the tests (no committed binaries): an inflating .docx
(small on disk, 180 MB of XML inside), a 3-sheet workbook, AES-256 PDFs with
and without a user password, a 1.2 M-character single line followed by
normal text, a symlink out of the input folder, and a large CSV read in
chunks.
"""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import pytest

from lo_signals.readers import Document, Limits, ReadError, Warnings, discover_files, open_file, read_documents
from lo_signals.readers._zip import InflateBudget
from lo_signals.segment import segment

_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="word/document.xml"/></Relationships>'
)
_PARAGRAPH = "<w:p><w:r><w:t>Staff raised a concern and the ward changed its handover.</w:t></w:r></w:p>"


def write_docx(path: Path, paragraphs: int) -> Path:
    """A minimal valid .docx whose body repeats one paragraph, streamed into the zip."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        with zf.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{_W_NS}"><w:body>'.encode())
            block = (_PARAGRAPH * 1000).encode()
            for _ in range(paragraphs // 1000):
                fh.write(block)
            fh.write((_PARAGRAPH * (paragraphs % 1000)).encode())
            fh.write(b"</w:body></w:document>")
    return path


def write_pdf(path: Path, lines: list[str]) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    y = A4[1] - 90
    for line in lines:
        c.drawString(72, y, line)
        y -= 14
    c.showPage()
    c.save()
    return path


def encrypt_pdf(src: Path, dest: Path, user_password: str) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(src))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-256")
    with open(dest, "wb") as fh:
        writer.write(fh)
    return dest


def read_error(path: Path, **kwargs) -> ReadError:
    with pytest.raises(ReadError) as info:
        list(read_documents(path, **kwargs))
    return info.value


def peak_bytes(fn) -> int:
    """Peak Python heap allocation while ``fn`` runs (call it once before, so imports are not counted)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --------------------------------------------------------------------------
# Zip bombs
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inflating_docx(tmp_path_factory) -> Path:
    # 180 MB of XML once inflated, a few hundred KB on disk.
    path = write_docx(tmp_path_factory.mktemp("bomb") / "bomb.docx", paragraphs=2_000_000)
    assert path.stat().st_size < 2_000_000
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("word/document.xml").file_size > 170_000_000
    return path


def test_inflating_docx_is_refused_without_inflating_it(inflating_docx: Path) -> None:
    err = None

    def read() -> None:
        nonlocal err
        err = read_error(inflating_docx)

    read()
    peak = peak_bytes(read)
    assert err is not None and err.status == "skipped"
    assert err.reason == (
        "Word document inflates to 180.0 MB when decompressed, over the 100 MB limit (--max-inflated-mb)"
    )
    # The file on disk is read (under 2 MB); nothing close to the XML's size is held.
    assert peak < 10_000_000


def test_inflation_is_counted_while_streaming(tmp_path: Path) -> None:
    # The declared sizes can lie; the bytes actually inflated are counted too.
    path = tmp_path / "member.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.xml", b"x" * 5_000_000)
    with zipfile.ZipFile(path) as zf:
        budget = InflateBudget(zf, 1_000_000, "Test file")
        with pytest.raises(ReadError) as info, budget.open("big.xml") as fh:
            while fh.read(65536):
                pass
    assert info.value.status == "skipped" and "--max-inflated-mb" in info.value.reason
    assert budget.used <= 1_000_000 + 65536 * 2


def test_docx_under_the_limit_streams_and_stops_at_max_units(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "long.docx", paragraphs=30_000)
    source = open_file(path, limits=Limits(max_units=1_000))
    (doc,) = list(source.documents())
    assert len(doc.blocks) == 30_000
    units = segment(doc.text, doc.blocks, limits=source.limits, warnings=source.warnings)
    assert len(units) == 1_000
    assert source.warnings.messages() == ["a document was cut at 1,000 units (--max-units)"]


def test_small_inflation_limit_refuses_an_ordinary_docx(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "ordinary.docx", paragraphs=20_000)
    err = read_error(path, limits=Limits(max_inflated_bytes=500_000))
    assert err.status == "skipped"
    assert "over the 500 KB limit (--max-inflated-mb)" in err.reason


def test_xlsx_over_the_inflation_limit_is_refused(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["comment"])
    for i in range(3000):
        ws.append([f"Comment number {i}: the team shared what it learned from the incident review."])
    path = tmp_path / "wide.xlsx"
    wb.save(path)
    err = read_error(path, limits=Limits(max_inflated_bytes=100_000))
    assert err.status == "skipped"
    assert err.reason.startswith("Excel workbook inflates to") and "(--max-inflated-mb)" in err.reason


# --------------------------------------------------------------------------
# Workbooks, PDFs, long lines
# --------------------------------------------------------------------------


def test_every_sheet_of_a_workbook_is_read(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    sheets = {
        "Surgery": ["Theatre staff now brief together before every list.", "Nobody listens to us."],
        "Medicine": ["Juniors lead the weekly learning huddle."],
        "Estates": ["Porters were blamed for the delay.", "We fixed the lift rota after feedback."],
    }
    for n, (name, comments) in enumerate(sheets.items()):
        ws = wb.active if n == 0 else wb.create_sheet()
        ws.title = name
        ws.append(["id", "comment"])
        for i, text in enumerate(comments):
            ws.append([i, text])
    codes = wb.create_sheet("Codes")  # no free text: passed over with a warning
    codes.append(["code", "value"])
    codes.append([1, 2])
    path = tmp_path / "survey.xlsx"
    wb.save(path)

    source = open_file(path)
    docs = list(source.documents())
    got = [(d.metadata["sheet"], d.text) for d in docs]
    assert got == [(name, text) for name, comments in sheets.items() for text in comments]
    assert len({d.doc_id for d in docs}) == len(docs)
    assert {d.file_hash for d in docs} == {source.content_hash}
    (warning,) = source.warnings.messages()
    assert warning.startswith("sheet 'Codes' not read: could not tell which column holds the free text")


def test_sheet_without_the_named_text_column_is_passed_over(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["comment"])
    wb.active.append(["Staff felt safe to speak up."])
    other = wb.create_sheet("Notes")
    other.append(["remark"])
    other.append(["Not a comment column."])
    path = tmp_path / "two.xlsx"
    wb.save(path)
    source = open_file(path, text_column="comment")
    assert [d.text for d in source.documents()] == ["Staff felt safe to speak up."]
    (warning,) = source.warnings.messages()
    assert warning == "sheet 'Notes' not read: text column 'comment' not found; available columns: remark"


@pytest.fixture(scope="module")
def plain_pdf(tmp_path_factory) -> Path:
    return write_pdf(tmp_path_factory.mktemp("pdf") / "plain.pdf", ["Managers listened when staff raised concerns."])


def test_aes_pdf_without_user_password_is_read(plain_pdf: Path, tmp_path: Path) -> None:
    opened = encrypt_pdf(plain_pdf, tmp_path / "aes-open.pdf", user_password="")
    (doc,) = list(read_documents(opened))
    assert doc.text == "Managers listened when staff raised concerns."


def test_aes_pdf_with_user_password_is_password_protected(plain_pdf: Path, tmp_path: Path) -> None:
    locked = encrypt_pdf(plain_pdf, tmp_path / "aes-locked.pdf", user_password="secret")
    err = read_error(locked)
    assert err.status == "error"
    assert "password-protected" in err.reason and "corrupt" not in err.reason


def test_text_after_a_huge_single_line_survives(tmp_path: Path) -> None:
    path = tmp_path / "dump.txt"
    tail = "After the review the ward changed how it hands over. Staff said they felt heard."
    path.write_text("data " * 240_000 + "\n\n" + tail + "\n", encoding="utf-8")
    source = open_file(path)
    (doc,) = list(source.documents())
    units = segment(doc.text, doc.blocks, warnings=source.warnings)
    assert [u.text for u in units[-2:]] == [
        "After the review the ward changed how it hands over.",
        "Staff said they felt heard.",
    ]
    assert max(len(u.text) for u in units) <= Limits().max_chars
    assert all(doc.text[u.start : u.end] == u.text for u in units)
    assert sum(len(u.text) for u in units[:-2]) > 1_150_000  # split, not dropped
    # One unit was too long (and split into many): one warning.
    assert source.warnings.messages() == ["a unit over 5,000 characters was split (--max-chars)"]


def test_warnings_are_counted_not_repeated() -> None:
    w = Warnings()
    assert not w
    for _ in range(3):
        w.add("a unit over 5 characters was split (--max-chars)")
    w.add("sheet 'X' not read: no text")
    assert w.messages() == [
        "a unit over 5 characters was split (--max-chars) (3 times)",
        "sheet 'X' not read: no text",
    ]


def test_limits_validate() -> None:
    with pytest.raises(ValueError, match="max_units"):
        Limits(max_units=0)
    with pytest.raises(AttributeError):
        Limits().max_bytes = 1  # type: ignore[misc]


# --------------------------------------------------------------------------
# The whole folder: every file accounted for
# --------------------------------------------------------------------------


def test_hostile_folder_every_file_has_a_status(inflating_docx: Path, plain_pdf: Path, tmp_path: Path) -> None:
    import shutil

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    root = tmp_path / "in"
    root.mkdir()
    shutil.copy(inflating_docx, root / "bomb.docx")
    encrypt_pdf(plain_pdf, root / "open.pdf", user_password="")
    encrypt_pdf(plain_pdf, root / "locked.pdf", user_password="secret")
    (root / "long.txt").write_text("x" * 1_200_000 + "\n\nStaff were thanked for speaking up.\n", encoding="utf-8")
    (root / "escape.txt").symlink_to(outside / "passwd")
    (root / "gone.txt").symlink_to(root / "missing.txt")

    status: dict[str, tuple[str, str]] = {}
    for path in discover_files([root]):
        try:
            source = open_file(path, roots=[root])
            n = sum(len(segment(d.text, d.blocks, warnings=source.warnings)) for d in source.documents())
            status[path.name] = ("ok", f"{n} units; " + "; ".join(source.warnings.messages()))
        except ReadError as exc:
            status[path.name] = (exc.status, exc.reason)
    assert set(status) == {"bomb.docx", "open.pdf", "locked.pdf", "long.txt", "escape.txt", "gone.txt"}
    assert status["bomb.docx"][0] == "skipped" and "--max-inflated-mb" in status["bomb.docx"][1]
    assert status["open.pdf"][0] == "ok"
    assert status["locked.pdf"] == ("error", "PDF is encrypted / password-protected")
    assert status["long.txt"][0] == "ok" and "--max-chars" in status["long.txt"][1]
    assert status["escape.txt"][0] == "skipped" and "--follow-symlinks" in status["escape.txt"][1]
    assert status["gone.txt"][0] == "skipped" and status["gone.txt"][1].startswith("broken symbolic link")


# --------------------------------------------------------------------------
# Streaming tables
# --------------------------------------------------------------------------


def test_large_csv_streams_in_chunks(tmp_path: Path) -> None:
    path = tmp_path / "survey.csv"
    row = "Staff said the manager listened and the team changed the rota after the incident review"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("id,directorate,comment\n")
        for i in range(30_000):
            fh.write(f"{i},Surgery,{row} number {i}.\n")
    assert path.stat().st_size > 2_700_000
    count = 0
    first: list[Document] = []

    def consume() -> None:
        nonlocal count, first
        for doc in read_documents(path):
            if not first:
                first.append(doc)
            count += 1

    consume()  # warm: pandas and friends are imported outside the measurement
    count, first = 0, []
    peak = peak_bytes(consume)
    assert count == 30_000
    assert first[0].metadata == {"id": "0", "directorate": "Surgery"}
    # Holding every row's document would take well over 30 MB of Python
    # objects; streaming keeps a chunk of rows at a time.
    assert peak < 8_000_000


def test_parquet_streams_row_groups_and_refuses_a_huge_one(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    comments = [f"Staff on ward {i} said the team learned from the incident review." for i in range(5_000)]
    path = tmp_path / "survey.parquet"
    pq.write_table(pa.table({"id": list(range(5_000)), "comment": comments}), path, row_group_size=1_000)
    docs = read_documents(path)
    first = next(docs)  # lazy: the first row arrives before the rest is read
    assert first.text == comments[0] and first.metadata == {"id": 0}
    assert 1 + sum(1 for _ in docs) == 5_000
    # One row group decompresses to more than the limit: refused up front.
    err = read_error(path, limits=Limits(max_inflated_bytes=20_000))
    assert err.status == "skipped"
    assert err.reason.startswith("Parquet row group inflates to") and "(--max-inflated-mb)" in err.reason
