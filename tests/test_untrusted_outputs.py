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


# --------------------------------------------------------------------------
# Item 4: CSV outputs never hand a spreadsheet a formula
# --------------------------------------------------------------------------

FORMULA_TEXT = "=HYPERLINK(1) Staff were blamed for the outage and nobody dared to report the next one."


@pytest.fixture(scope="module")
def formula_input(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("formula")
    with open(root / "survey.csv", "w", newline="", encoding="utf-8") as fh:
        import csv

        writer = csv.writer(fh)
        writer.writerow(["comment", "=cmd", "score", "site", "note"])
        writer.writerow([FORMULA_TEXT, "=1+2", "-3.5", "@SUM(A1)", "- a bullet"])
        writer.writerow([GOOD, "+44 20 7946 0000", "+7", "\tTab", "-"])
    return root


def _csv_rows(path: Path) -> list[list[str]]:
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_csv_outputs_neutralise_formulas(formula_input: Path, tmp_path: Path) -> None:
    from lo_signals.score import score_folder

    run = score_folder([formula_input], tmp_path / "out")
    assert run["options"]["raw_csv"] is False
    header, *rows = _csv_rows(tmp_path / "out" / "sentences.csv")
    cells = [dict(zip(header, r)) for r in rows]
    assert "'=cmd" in header and "=cmd" not in header
    first = next(c for c in cells if "blamed" in c["text"])
    assert first["text"] == "'" + FORMULA_TEXT
    assert (first["'=cmd"], first["score"], first["site"], first["note"]) == ("'=1+2", "-3.5", "'@SUM(A1)", "'- a bullet")
    second = next(c for c in cells if c["text"] == GOOD)
    # A plain number stays a number; a phone number with spaces is not one.
    assert (second["'=cmd"], second["score"], second["site"], second["note"]) == ("'+44 20 7946 0000", "+7", "'\tTab", "'-")
    assert all(c["blame_defensiveness"] and not c["blame_defensiveness"].startswith("'") for c in cells)
    dheader, *drows = _csv_rows(tmp_path / "out" / "documents.csv")
    tops = [dict(zip(dheader, r))["blame_defensiveness_top_unit"] for r in drows]
    assert "'" + FORMULA_TEXT in tops
    assert "'=cmd" in dheader
    for path in ("sentences.csv", "documents.csv", "files.csv"):
        for row in _csv_rows(tmp_path / "out" / path):
            assert not any(cell[:1] in ("=", "@", "\t", "\r") for cell in row), (path, row)


def test_raw_csv_and_parquet_keep_raw_values(formula_input: Path, tmp_path: Path) -> None:
    from lo_signals.score import score_folder

    run = score_folder([formula_input], tmp_path / "raw", raw_csv=True)
    assert run["options"]["raw_csv"] is True
    header, *rows = _csv_rows(tmp_path / "raw" / "sentences.csv")
    assert "=cmd" in header
    assert FORMULA_TEXT in [dict(zip(header, r))["text"] for r in rows]
    score_folder([formula_input], tmp_path / "pq", fmt="parquet")
    table = pd.read_parquet(tmp_path / "pq" / "sentences.parquet")
    assert FORMULA_TEXT in set(table["text"]) and "=cmd" in table.columns
    assert set(table["=cmd"]) == {"=1+2", "+44 20 7946 0000"}


def test_csv_safe_rule() -> None:
    from lo_signals.outdir import csv_safe

    for value in ("=1+1", "+cmd|' /C calc'!A0", "-2+3+cmd|x", "@SUM(A1)", "\t=1", "\r=1", "- bullet", "-"):
        assert csv_safe(value) == "'" + value
    for value in ("-3.5", "+7", "-1e-3", ".5", "plain text", "", "'=already", 3.5, -2, None):
        assert csv_safe(value) == value


# --------------------------------------------------------------------------
# Item 6: a stale lock is recovered; a live one still stops the run
# --------------------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _hold_lock(out: Path, pid: int | None) -> subprocess.Popen:
    """A process holding the folder's lock, as a killed run's orphaned worker does; ``pid`` is recorded in it."""
    import socket

    out.mkdir(parents=True, exist_ok=True)
    script = (
        "import fcntl, os, sys, time\n"
        "fh = open(sys.argv[1], 'a+')\n"
        "fcntl.flock(fh.fileno(), fcntl.LOCK_EX)\n"
        "fh.seek(0); fh.truncate(); fh.write(sys.argv[2]); fh.flush()\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    content = f"{pid if pid is not None else '{pid}'}\n{socket.gethostname()}\n"
    proc = subprocess.Popen(
        [sys.executable, "-c", script.replace("sys.argv[2]", "sys.argv[2].replace('{pid}', str(os.getpid()))"),
         str(out / ".lo_signals.lock"), content],
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_stale_lock_held_by_an_orphan_is_recovered(tmp_path: Path) -> None:
    from lo_signals.score import score_folder

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(GOOD, encoding="utf-8")
    dead = _dead_pid()
    holder = _hold_lock(tmp_path / "out", dead)
    try:
        run = score_folder([tmp_path / "in"], tmp_path / "out")
    finally:
        holder.kill()
        holder.wait()
    assert run["counts"]["files_ok"] == 1
    assert run["notes"] == [f"recovered a stale lock: the run that held it (pid {dead}) is no longer running"]
    assert json.loads((tmp_path / "out" / "run.json").read_text())["notes"] == run["notes"]


def test_lock_left_by_a_killed_run_is_noted(tmp_path: Path) -> None:
    from lo_signals.outdir import OutputLock

    out = tmp_path / "out"
    out.mkdir()
    dead = _dead_pid()
    (out / ".lo_signals.lock").write_text(f"{dead}\n", encoding="utf-8")
    with OutputLock(out) as lock:
        assert lock.recovered == f"recovered the lock of an earlier run (pid {dead}) that stopped before it finished"
    with OutputLock(out) as lock:  # a clean exit leaves nothing to recover
        assert lock.recovered is None


def test_live_lock_still_stops_the_run(tmp_path: Path) -> None:
    from lo_signals.outdir import OutputLock, OutputLockedError

    holder = _hold_lock(tmp_path / "out", None)  # records its own, live, pid
    try:
        with pytest.raises(OutputLockedError, match=rf"another lo-signals run \(pid {holder.pid}\)"):
            with OutputLock(tmp_path / "out"):
                pass
    finally:
        holder.kill()
        holder.wait()


def test_forked_workers_do_not_keep_the_lock(tmp_path: Path, monkeypatch) -> None:
    import multiprocessing
    import types

    import lo_signals.batch as batch
    from lo_signals.outdir import OutputLock

    # The worker initialiser without its model load or torch import.
    monkeypatch.setattr(batch, "_Worker", lambda *args: None)
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(set_num_threads=lambda n: None))
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()

    def worker() -> None:
        batch._init_process(None, None, None, {})
        ready.set()
        import time

        time.sleep(30)

    out = tmp_path / "out"
    with OutputLock(out):
        child = ctx.Process(target=worker, daemon=True)
        child.start()
        assert ready.wait(20)
    try:
        with OutputLock(out) as again:  # the worker outlives the run, but not its lock
            assert again.recovered is None
    finally:
        child.kill()
        child.join()


def test_cli_notes_a_recovered_lock_and_takes_the_new_options(formula_input: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    holder = _hold_lock(out, _dead_pid())
    try:
        proc = subprocess.run(
            CLI + [str(formula_input), "--out", str(out), "--raw-csv", "--max-meta-columns", "1", "--max-cell-chars", "50000"],
            capture_output=True, text=True, env=ENV,
        )
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "recovered a stale lock" in notes[0]
    run = json.loads((out / "run.json").read_text())
    assert run["options"]["raw_csv"] is True and run["options"]["max_meta_columns"] == 1
    assert run["options"]["max_cell_chars"] == 50_000
    files = pd.read_csv(out / "files.csv", keep_default_na=False)
    assert files["warnings"][0] == "3 column(s) not carried into the outputs, over the 1 kept (--max-meta-columns): score, site, note"
    assert list(pd.read_csv(out / "sentences.csv").columns)[-1] == "=cmd"


def test_wide_csv_reads_only_the_kept_columns(tmp_path: Path) -> None:
    # 2,000 columns, the text last: found, and only 50 other columns parsed.
    path = tmp_path / "wide.csv"
    header = [f"q{i}" for i in range(2_000)] + ["comment"]
    rows = [",".join([str(i)] * 2_000 + [f"{GOOD} ({i})"]) for i in range(30)]
    path.write_text(",".join(header) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    source = open_file(path)
    docs = list(source.documents())
    assert [d.text for d in docs] == [f"{GOOD} ({i})" for i in range(30)]
    assert all(list(d.metadata) == [f"q{i}" for i in range(50)] for d in docs)
    assert docs[7].metadata["q49"] == "7"
    (warning,) = source.warnings.messages()
    assert warning.startswith("1,950 column(s) not carried into the outputs, over the 50 kept (--max-meta-columns): q50, q51,")
    assert warning.endswith("q69 and 1,930 more")
