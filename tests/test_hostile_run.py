"""End to end: `lo-signals score` on a folder of hostile input, built here (no committed binaries).

Every file must be accounted for in files.csv with a status and a reason, no
traceback may reach the user, memory stays bounded, and nothing readable is
lost: the text after a 1.2 M-character line is scored, every sheet of a
workbook is scored. Two runs into one --out never crash with a raw error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from lo_signals.outdir import OutputLock

GOOD = [
    "After the near miss the registrar thanked me and we went through it together at handover.",
    "The porters suggested moving the bed meeting to 8am and the site team adopted it.",
    "Staff who raised concerns were labelled troublemakers and moved to nights.",
]
AFTER_LONG_LINE = "Managers listened when the night staff raised concerns about the rota."
SECRET = "This line lives outside the input folder and must never be scored."
CLI = [sys.executable, "-m", "lo_signals.cli", "score"]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def _inflating_docx(path: Path, inflated_mb: int) -> None:
    """A small .docx whose document.xml inflates to ``inflated_mb`` MB."""
    para = "<w:p><w:r><w:t>Staff were blamed for the outage and nobody dared to report the next one.</w:t></w:r></w:p>"
    chunk = (para * (1_000_000 // len(para) + 1)).encode()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        with zf.open("word/document.xml", "w") as fh:
            fh.write(b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
            for _ in range(inflated_mb):
                fh.write(chunk)
            fh.write(b"</w:body></w:document>")


def _workbook(path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    for i, name in enumerate(("Surgery", "Medicine", "Estates")):
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = name
        ws.append(["comment", "year"])
        ws.append([f"{GOOD[i]} ({name})", 2025])
    wb.save(path)


def _pdf(path: Path, text: str, **encrypt: str) -> None:
    from pypdf import PdfReader, PdfWriter
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    plain = path.with_suffix(".plain")
    c = canvas.Canvas(str(plain), pagesize=A4)
    c.drawString(72, 780, text)
    c.showPage()
    c.save()
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(algorithm="AES-256", **encrypt)
    with open(path, "wb") as fh:
        writer.write(fh)
    plain.unlink()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("hostile")
    root = base / "input"
    root.mkdir()
    (root / "good.txt").write_text("\n\n".join(GOOD), encoding="utf-8")
    _inflating_docx(root / "bomb.docx", inflated_mb=150)
    _workbook(root / "survey.xlsx")
    _pdf(root / "aes-open.pdf", "The ward sisters now teach the new starters together.", user_password="", owner_password="owner")
    _pdf(root / "aes-locked.pdf", "Nobody may read this without the password.", user_password="secret", owner_password="owner")
    # One line of 1.2 M characters with no sentence end, then ordinary prose.
    (root / "long-line.txt").write_text("blame " * 200_000 + "\n\n" + AFTER_LONG_LINE + "\n", encoding="utf-8")
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET, encoding="utf-8")
    (root / "escape.txt").symlink_to(outside / "secret.txt")
    (root / "escape-dir").symlink_to(outside, target_is_directory=True)
    return root


def _run_measured(args: list[str]) -> tuple[subprocess.CompletedProcess, int]:
    """Run the CLI in a fresh parent that reports its children's peak RSS (bytes)."""
    probe = (
        "import json, resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(json.dumps({'rc': p.returncode, 'out': p.stdout, 'err': p.stderr,"
        " 'rss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n"
    )
    res = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, env=ENV, check=True)
    got = json.loads(res.stdout)
    return subprocess.CompletedProcess(args, got["rc"], got["out"], got["err"]), got["rss_kb"] * 1024


@pytest.fixture(scope="module")
def scored(hostile, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    proc, rss = _run_measured(CLI + [str(hostile), "--out", str(out)])
    return out, proc, rss


def test_every_file_is_in_files_csv_with_a_status_and_a_reason(hostile, scored):
    out, proc, _ = scored
    assert proc.returncode == 0, proc.stderr
    files = pd.read_csv(out / "files.csv", keep_default_na=False)
    found = sorted(str(p) for p in hostile.iterdir())
    assert sorted(files["path"]) == found
    status = {Path(p).name: s for p, s in zip(files["path"], files["status"])}
    reason = {Path(p).name: r for p, r in zip(files["path"], files["reason"])}
    assert all(reason[name] for name, s in status.items() if s != "ok"), reason
    assert status["good.txt"] == status["survey.xlsx"] == status["aes-open.pdf"] == status["long-line.txt"] == "ok"
    assert status["bomb.docx"] == "skipped" and "--max-inflated-mb" in reason["bomb.docx"]
    assert status["aes-locked.pdf"] == "error" and "password" in reason["aes-locked.pdf"]
    for link in ("escape.txt", "escape-dir"):
        assert status[link] == "skipped" and "--follow-symlinks" in reason[link]


def test_no_traceback_and_bounded_memory(scored):
    _, proc, rss = scored
    assert "Traceback" not in proc.stderr and "Errno" not in proc.stderr
    assert rss < 2.5 * 1024**3, f"peak RSS {rss / 1024**3:.2f} GB"


def test_nothing_readable_is_lost(scored):
    out, _, _ = scored
    sent = pd.read_csv(out / "sentences.csv", keep_default_na=False)
    texts = set(sent["text"])
    assert AFTER_LONG_LINE in texts  # the text after the long line is scored
    long_units = sent[sent["path"].str.endswith("long-line.txt")]
    assert long_units["text"].str.len().max() <= 5000  # the long line was split, not dropped
    assert long_units["text"].str.len().sum() > 1_000_000
    sheets = sent[sent["path"].str.endswith("survey.xlsx")]
    assert sorted(set(sheets["sheet"])) == ["Estates", "Medicine", "Surgery"]
    assert any("ward sisters" in t for t in texts)  # the AES PDF without a user password is read
    assert not any(SECRET in t for t in texts)
    files = pd.read_csv(out / "files.csv", keep_default_na=False)
    warned = dict(zip([Path(p).name for p in files["path"]], files["warnings"]))
    assert "--max-chars" in warned["long-line.txt"]
    run = json.loads((out / "run.json").read_text())
    assert run["parts"]["kept"] and run["parts"]["bytes"] > 0 and run["options"]["follow_symlinks"] is False


def test_a_second_run_into_a_locked_out_gets_one_clear_line(hostile, tmp_path):
    out = tmp_path / "out"
    with OutputLock(out):  # as if another run were writing there
        proc = subprocess.run(CLI + [str(hostile / "good.txt"), "--out", str(out)], capture_output=True, text=True, env=ENV)
    assert proc.returncode == 3
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "another lo-signals run" in lines[0] and "Traceback" not in proc.stderr


@pytest.mark.slow  # two real processes; the lock is covered fast by test_a_second_run_into_a_locked_out_gets_one_clear_line
def test_two_concurrent_runs_into_one_out(hostile, tmp_path):
    out = tmp_path / "out"
    args = CLI + [str(hostile / "good.txt"), str(hostile / "survey.xlsx"), "--out", str(out)]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV) for _ in range(2)]
    results = [(p.wait(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert any(rc == 0 for rc, _ in results)
    for rc, err in results:
        assert "Traceback" not in err and "Errno" not in err
        assert rc == 0 or (rc == 3 and "another lo-signals run" in err)
    files = pd.read_csv(out / "files.csv", keep_default_na=False)
    assert set(files["status"]) == {"ok"} and len(files) == 2


def test_clean_removes_the_parts_cache(hostile, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(CLI + [str(hostile / "good.txt"), "--out", str(out), "--clean"], capture_output=True, text=True, env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert not (out / ".lo_signals_parts").exists()
    assert json.loads((out / "run.json").read_text())["parts"] == {"dir": ".lo_signals_parts", "kept": False, "files": 0, "bytes": 0}


def test_follow_symlinks_reads_links_out_of_the_root(tmp_path):
    from lo_signals.score import score_documents

    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "good.txt").write_text(GOOD[0])
    (outside / "secret.txt").write_text(SECRET)
    (root / "escape.txt").symlink_to(outside / "secret.txt")
    safe = score_documents(root)
    assert SECRET not in set(safe["text"])
    assert {Path(f["path"]).name: f["status"] for f in safe.attrs["files"]}["escape.txt"] == "skipped"
    assert SECRET in set(score_documents(root, follow_symlinks=True)["text"])
