"""Untrusted input, from the reader to the output tables (issue 17, items 3-6).

Every fixture is built here, small: a workbook whose sheet hides under a
part name that is not ``*.xml``, a .docx declaring an external entity, a
JSON Lines file with a line nested 100,000 deep, a CSV with one huge cell
and one with many columns, cells that a spreadsheet would run as formulas,
a folder with a symlink loop, and an output folder left locked by a dead run.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from lo_signals.readers import Limits, ReadError, discover_files, open_file, read_documents

CLI = [sys.executable, "-m", "lo_signals.cli", "score"]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}
GOOD = "After the near miss the registrar thanked me and we went through it together."


def read_error(path: Path, **kwargs) -> ReadError:
    with pytest.raises(ReadError) as info:
        list(read_documents(path, **kwargs))
    return info.value


# --------------------------------------------------------------------------
# Item 3: every zip member counts against --max-inflated-mb
# --------------------------------------------------------------------------


def hidden_sheet_xlsx(path: Path, rows: int = 400) -> Path:
    """A valid workbook whose only sheet lives in ``xl/worksheets/s1.bin``.

    openpyxl finds it through the workbook's relationships, so a check that
    counts only ``*.xml`` and ``*.rels`` members never sees its size.
    """
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["comment"])
    for i in range(rows):
        wb.active.append([f"Comment {i}: the team learned from the review and changed the handover."])
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data, name = src.read(info.filename), info.filename
            if name == "xl/worksheets/sheet1.xml":
                name = "xl/worksheets/s1.bin"
            elif name in ("[Content_Types].xml", "xl/_rels/workbook.xml.rels"):
                data = data.replace(b"worksheets/sheet1.xml", b"worksheets/s1.bin")
            dst.writestr(name, data)
    return path


def test_xlsx_part_with_any_name_counts(tmp_path: Path) -> None:
    path = hidden_sheet_xlsx(tmp_path / "hidden.xlsx")
    with zipfile.ZipFile(path) as zf:
        sheet = zf.getinfo("xl/worksheets/s1.bin").file_size
        xml = sum(i.file_size for i in zf.infolist() if i.filename.endswith((".xml", ".rels")))
    assert xml < 20_000 < 40_000 < sheet  # only the hidden part is big
    assert len(list(read_documents(path))) == 400  # an honest reader can still read it
    err = read_error(path, limits=Limits(max_inflated_bytes=20_000))
    assert err.status == "skipped"
    assert err.reason.startswith("Excel workbook inflates to") and "(--max-inflated-mb)" in err.reason


def test_xlsx_bytes_openpyxl_inflates_are_counted(tmp_path: Path, monkeypatch) -> None:
    # Were the declared sizes to lie, every byte openpyxl reads still counts.
    from lo_signals.readers._zip import InflateBudget

    path = hidden_sheet_xlsx(tmp_path / "hidden.xlsx")
    monkeypatch.setattr(InflateBudget, "check_all", lambda self: None)
    err = read_error(path, limits=Limits(max_inflated_bytes=20_000))
    assert err.status == "skipped" and "more than 20.0 KB" in err.reason and "(--max-inflated-mb)" in err.reason


def test_docx_counts_members_it_does_not_read(tmp_path: Path) -> None:
    path = tmp_path / "padded.docx"
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        zf.writestr("word/document.xml", f'<w:document xmlns:w="{ns}"><w:body><w:p><w:r><w:t>{GOOD}</w:t></w:r></w:p></w:body></w:document>')
        zf.writestr("word/media/blob.bin", b"\0" * 3_000_000)  # 3 MB inflated, a few KB on disk
    assert path.stat().st_size < 20_000
    assert [d.text for d in read_documents(path)] == [GOOD]
    err = read_error(path, limits=Limits(max_inflated_bytes=1_000_000))
    assert err.status == "skipped" and err.reason.startswith("Word document inflates to 3.0 MB")


# --------------------------------------------------------------------------
# Item 6: external entities, JSON Lines line by line, symlink loops
# --------------------------------------------------------------------------


def test_docx_external_entity_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "xxe.docx"
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    document = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        "<w:p><w:r><w:t>Staff spoke up &xxe; and were heard.</w:t></w:r></w:p></w:body></w:document>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        zf.writestr("word/document.xml", document)
    source = open_file(path)
    (doc,) = list(source.documents())
    assert doc.text == "Staff spoke up and were heard."  # never expanded, nothing after it lost
    (warning,) = source.warnings.messages()
    assert warning.startswith("the Word document declares 1 XML entity (1 external, e.g. 'file://")
    assert "never expanded or fetched" in warning


def test_jsonl_bad_lines_are_skipped_one_by_one(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    lines = [
        json.dumps({"comment": GOOD}),
        '{"comment": ' + "[" * 100_000 + "]" * 100_000 + "}",  # deep enough to exhaust recursion
        "{not json",
        json.dumps({"comment": "The ward changed its handover after the review.", "note": "a [[ { \" quoted"}),
        "[1, 2]",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    source = open_file(path)
    texts = [d.text for d in source.documents()]
    assert texts == [GOOD, "The ward changed its handover after the review."]
    (warning,) = source.warnings.messages()
    assert warning.startswith("3 lines skipped, not valid JSON objects: lines 2 (nested more than 100 levels deep), 3 (")
    assert warning.endswith("5 (not a JSON object)")


def test_jsonl_deep_line_end_to_end_keeps_the_good_lines(tmp_path: Path) -> None:
    from lo_signals.score import score_documents

    path = tmp_path / "deep.jsonl"
    path.write_text(json.dumps({"comment": GOOD}) + "\n" + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    df = score_documents(path)
    assert list(df["text"]) == [GOOD]
    (row,) = df.attrs["files"]
    assert row["status"] == "ok" and "lines" not in row["warnings"] and "line 2 (nested" in row["warnings"]


def test_symlink_loop_gets_a_row(tmp_path: Path) -> None:
    from lo_signals.score import score_documents

    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.txt").write_text(GOOD, encoding="utf-8")
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    assert [p.relative_to(tmp_path).as_posix() for p in discover_files([root])] == ["in/sub/a.txt", "in/sub/loop"]
    files = {Path(r["path"]).name: r for r in score_documents(root).attrs["files"]}
    assert files["a.txt"]["status"] == "ok"
    assert files["loop"]["status"] == "skipped" and files["loop"]["reason"].startswith("symbolic link loop")


def test_recursion_error_never_escapes_a_reader(tmp_path: Path, monkeypatch) -> None:
    import lo_signals.readers as readers

    def deep(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(readers, "parse_plain", deep)
    path = tmp_path / "a.txt"
    path.write_text(GOOD, encoding="utf-8")
    err = read_error(path)
    assert err.status == "error" and "nested too deeply" in err.reason


# --------------------------------------------------------------------------
# Item 5: one huge cell, many columns
# --------------------------------------------------------------------------


def test_huge_cell_is_split_into_pieces_and_kept(tmp_path: Path) -> None:
    words = "Staff raised concerns and the ward changed its handover "
    cell = (words * (2_000_000 // len(words)))[:2_000_000].strip()
    path = tmp_path / "cell.csv"
    path.write_text(f'id,comment\n1,"{cell}"\n2,{GOOD}\n', encoding="utf-8")
    source = open_file(path, limits=Limits(max_cell_chars=100_000))
    docs = list(source.documents())
    assert len(docs) >= 21 and docs[-1].text == GOOD
    assert all(len(d.text) <= 100_000 for d in docs)
    assert " ".join(d.text for d in docs[:-1]) == cell  # nothing lost
    assert len({d.doc_id for d in docs}) == len(docs)
    assert docs[0].doc_id.endswith(":r0") and docs[1].doc_id.endswith(":r0.2") and docs[-1].doc_id.endswith(":r1")
    assert all(d.metadata == {"id": "1"} for d in docs[:-1])
    assert source.warnings.messages() == [
        "a text cell over 100,000 characters was split into pieces of at most 100,000, each its own document (--max-cell-chars)"
    ]


def test_huge_cell_memory_stays_flat(tmp_path: Path) -> None:
    words = "Staff raised concerns and the ward changed its handover "
    path = tmp_path / "cell.csv"
    path.write_text(f'id,comment\n1,"{(words * (4_000_000 // len(words))).strip()}"\n', encoding="utf-8")
    list(read_documents(path))  # warm: imports are not measured
    tracemalloc.start()
    try:
        n = sum(1 for _ in read_documents(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert n >= 40
    # The cell itself is held (4 MB, and once more by pandas); splitting it
    # into words or cleaning it whole would take many times that.
    assert peak < 20_000_000, peak


def test_metadata_columns_are_capped(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    header = ["comment"] + [f"q{i}" for i in range(60)]
    path.write_text(",".join(header) + "\n" + ",".join([GOOD] + [str(i) for i in range(60)]) + "\n", encoding="utf-8")
    source = open_file(path)
    (doc,) = list(source.documents())
    assert list(doc.metadata) == [f"q{i}" for i in range(50)]
    (warning,) = source.warnings.messages()
    assert warning == (
        "10 column(s) not carried into the outputs, over the 50 kept (--max-meta-columns): "
        "q50, q51, q52, q53, q54, q55, q56, q57, q58, q59"
    )
    source = open_file(path, limits=Limits(max_meta_columns=2))
    (doc,) = list(source.documents())
    assert list(doc.metadata) == ["q0", "q1"]
    assert source.warnings.messages()[0].endswith("q21 and 38 more")
