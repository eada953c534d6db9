"""Peak memory and time of `lo-signals score` on a survey-sized CSV (default 1 M rows).

Builds a staff-survey export (one comment per row plus directorate, staff
group and year columns; the comments are combined from phrases written for
this benchmark, so rows differ), then
runs `lo-signals score survey.csv --out DIR` in a child process and prints its
peak resident set size (``getrusage`` of the children, so the CSV build here
does not count), the wall time and the output sizes. The local engine streams
the rows in chunks and writes its part files as it goes, so memory should not
grow with the number of rows.

Usage: python benchmarks/memory.py [--rows 1000000] [--workers 1] [--engine local] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

_DIRECTORATES = ("Surgery", "Medicine", "Women and Children", "Estates", "Corporate", "Community")
_GROUPS = ("Nursing", "Medical", "Allied health", "Admin", "Facilities")


# Survey-like comments made from parts (so rows differ), written for this benchmark.
_WHO = ("My line manager", "The ward sister", "Senior leaders", "Our team", "The new consultant", "Nobody on nights")
_DID = (
    "listened when I raised a concern about staffing",
    "blamed the junior nurse for the medication error",
    "changed the handover after the incident review",
    "taught the new starters how to use the pumps",
    "said they are committed to openness and candour",
    "ignored the survey results again this year",
)
_HOW = (
    "and thanked me for speaking up.",
    "so people are afraid to report near misses.",
    "and the falls rate has come down since.",
    "which made the whole shift calmer.",
    "but nothing has changed on the ward.",
    "and we now share lessons across sites.",
)


def _comment(i: int) -> str:
    first = f"{_WHO[i % 6]} {_DID[(i // 6) % 6]} {_HOW[(i // 36) % 6]}"
    # Every third comment has a second sentence, like free-text survey answers.
    return first if i % 3 else f"{first} {_WHO[(i + 2) % 6]} {_DID[(i // 7) % 6]} {_HOW[(i // 5) % 6]}"


def build_csv(path: Path, rows: int) -> int:
    """Write ``rows`` survey rows; returns the file size in bytes."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["respondent", "directorate", "staff_group", "year", "comment"])
        for i in range(rows):
            writer.writerow([i, _DIRECTORATES[i % len(_DIRECTORATES)], _GROUPS[i % len(_GROUPS)], 2023 + i % 3, _comment(i)])
    return path.stat().st_size


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    from common import machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--engine", default="local")
    parser.add_argument("--keep", type=Path, help="Build and score in this folder and keep it (default: a temporary one).")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="lo_signals_memory_"))
    work.mkdir(parents=True, exist_ok=True)
    survey, out = work / "survey.csv", work / "out"
    t0 = time.perf_counter()
    csv_bytes = build_csv(survey, args.rows)
    built = time.perf_counter() - t0
    # The file is over the default --max-mb 50 (a limit for files read whole); a CSV is streamed.
    max_mb = str(csv_bytes // 1_000_000 + 1)
    cmd = [sys.executable, "-m", "lo_signals.cli", "score", str(survey), "--out", str(out), "--max-mb", max_mb,
           "--workers", str(args.workers), "--engine", args.engine]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    wall = time.perf_counter() - t0
    # ru_maxrss is in KiB on Linux (bytes on macOS): the largest child, i.e. the scoring process.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    if proc.returncode != 0:
        sys.exit(f"lo-signals score failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    run = json.loads((out / "run.json").read_text())
    units = run["counts"]["units"]
    print(f"Machine: {machine()}\n")
    print(f"`lo-signals score survey.csv --out DIR --max-mb {max_mb} --workers {args.workers} --engine {args.engine}` (default model); "
          f"CSV of {args.rows:,} rows ({csv_bytes / 1e6:.0f} MB) built in {built:.0f} s.\n")
    print("| rows | units | wall time | units/s | peak RSS (scoring process) | sentences.csv | documents.csv | parts cache |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.rows:,} | {units:,} | {wall:.0f} s | {units / wall:,.0f} | {peak / 1024**2:,.0f} MB "
        f"| {_size(out / 'sentences.csv') / 1e6:,.0f} MB | {_size(out / 'documents.csv') / 1e6:,.0f} MB | {run['parts']['bytes'] / 1e6:,.0f} MB |"
    )
    if args.engine == "ray":
        print("\n(ray: the peak is the driver's; the actors are Ray's processes)")


if __name__ == "__main__":
    main()
