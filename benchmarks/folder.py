"""End-to-end folder scoring: sentences/s and peak memory with --workers 1 and 2.

Builds a folder of mixed PDF, DOCX and TXT documents from the corpus test and
dev units (written by this project), then times `lo-signals score` on it with
1 and 2 workers, each in a fresh output directory. Peak memory is the maximum
resident set of the largest single process in the tree (GNU time).

Usage: python benchmarks/folder.py [--docs 120] [--engine local]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def build_folder(root: Path, n_docs: int) -> int:
    from docx import Document
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    from common import sentences

    units = sentences(n_docs * 25)
    styles = getSampleStyleSheet()
    for d in range(n_docs):
        paras = [" ".join(units[d * 25 + k : d * 25 + k + 5]) for k in range(0, 25, 5)]
        kind = ("pdf", "docx", "txt")[d % 3]
        path = root / f"{kind}" / f"doc{d:04d}.{kind}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "txt":
            path.write_text("\n\n".join(paras), encoding="utf-8")
        elif kind == "docx":
            doc = Document()
            doc.add_heading(f"Document {d}", level=1)
            for p in paras:
                doc.add_paragraph(p)
            doc.save(path)
        else:
            SimpleDocTemplate(str(path), pagesize=A4).build([Paragraph(p.replace("&", "&amp;").replace("<", "&lt;"), styles["Normal"]) for p in paras])
    return n_docs


def main() -> None:
    from common import machine

    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=120)
    parser.add_argument("--engine", default="local")
    parser.add_argument("--workers", nargs="*", type=int, default=[1, 2])
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lo_bench_"))
    try:
        build_folder(tmp / "in", args.docs)
        print(f"# folder scoring, {args.docs} documents (PDF/DOCX/TXT, 1/3 each), engine {args.engine}, on {machine()}")
        print("| workers | files | units | seconds | units/s | peak RSS of the largest process (MB) |")
        print("|---|---|---|---|---|---|")
        exe = shutil.which("lo-signals") or str(Path(sys.executable).parent / "lo-signals")
        for w in args.workers:
            out = tmp / f"out{w}"
            cmd = ["/usr/bin/time", "-v", exe, "score", str(tmp / "in"), "--out", str(out), "--workers", str(w)]
            if args.engine != "local":
                cmd += ["--engine", args.engine]
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
            dt = time.perf_counter() - t0
            if proc.returncode != 0:
                print(f"| {w} | failed: {proc.stderr.strip().splitlines()[-1]} | | | | |")
                continue
            peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
            run = json.loads((out / "run.json").read_text())
            units = run["counts"]["units"]
            print(f"| {w} | {run['counts']['files']} | {units} | {dt:.1f} | {units / dt:.0f} | {peak_kb / 1024:.0f} |", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
