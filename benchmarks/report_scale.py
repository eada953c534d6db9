"""The report at survey scale: score an N-row staff-survey CSV with --report --by directorate.

Prints a Markdown table (rows, units, groups, seconds, peak RSS, report size,
browser render time) for ``lo-signals score survey.csv --out o --report --by
directorate`` and for ``lo-signals report`` alone on the same output::

    python benchmarks/report_scale.py --rows 100000 > benchmarks/results/report-scale.md

The survey is generated here (invented comments, fixed seed), so the run is
reproducible anywhere; ``make_survey`` is also used by the slow scale test.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Invented survey sentences, by what they show (written for this benchmark).
PHRASES = {
    "learning": [
        "Our ward runs a weekly teaching huddle where nurses share what they learnt from incidents.",
        "The senior physio spends time showing new starters how to use the hoists properly.",
        "We swap tips with the team next door at the monthly practice forum.",
    ],
    "leadership": [
        "A healthcare assistant suggested a new checklist and the manager let her lead the trial.",
        "Band 5s now run the safety briefing and decide what goes on the board.",
    ],
    "dialogue": [
        "I raised a concern about staffing and my manager thanked me and acted on it.",
        "We can challenge the consultants at handover without it being held against us.",
    ],
    "change": [
        "After the audit we changed how handovers are done and falls went down.",
        "Since the review of the missed scan the referral form was rewritten by the team.",
    ],
    "blame": [
        "When something goes wrong the first question is who is to blame.",
        "People are scared to report errors because they get disciplined.",
        "Anyone who speaks up is labelled a troublemaker and moved to nights.",
    ],
    "aims": [
        "We aim to be a place where everyone feels safe to speak up.",
        "The trust is committed to learning from every incident.",
    ],
    "other": [
        "Parking is a nightmare on weekdays.",
        "The canteen closes too early for night staff.",
        "Pay has not kept up with the cost of living.",
        "The new rota software keeps crashing on Mondays.",
    ],
}
# Directorates differ on purpose, so the group comparison has something to show.
DIRECTORATES = {
    "Surgery": {"blame": 4, "aims": 2, "other": 4, "dialogue": 1},
    "Medicine": {"learning": 3, "change": 2, "other": 4, "blame": 1},
    "Women & Children": {"learning": 3, "leadership": 3, "dialogue": 2, "other": 3},
    "Emergency Care": {"blame": 3, "other": 5, "change": 1},
    "Community Services": {"leadership": 2, "dialogue": 2, "other": 4, "aims": 1},
    "Estates & Facilities": {"other": 8, "aims": 1},
    "Corporate": {"aims": 3, "other": 4, "dialogue": 1},
    "Mental Health": {"dialogue": 3, "learning": 2, "blame": 1, "other": 3},
}
STAFF_GROUPS = ["Nursing", "Medical", "Allied health", "Admin", "Estates"]


def make_survey(path: Path, rows: int, seed: int = 0) -> Path:
    """Write an invented staff-survey CSV of ``rows`` comments with a ``directorate`` column."""
    rng = random.Random(seed)
    names = list(DIRECTORATES)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["respondent_id", "directorate", "staff_group", "comment"])
        for i in range(rows):
            d = names[i % len(names)] if i < len(names) else rng.choice(names)
            kinds, weights = zip(*DIRECTORATES[d].items())
            sentences = [rng.choice(PHRASES[k]) for k in rng.choices(kinds, weights, k=rng.choice((1, 1, 2)))]
            writer.writerow([f"R{i:07d}", d, rng.choice(STAFF_GROUPS), " ".join(sentences)])
    return path


def _measured(cmd: list[str]) -> tuple[float, float, int]:
    """Run ``cmd`` in a fresh helper process: (seconds, peak RSS in MB of the command, exit code)."""
    probe = (
        "import resource, subprocess, sys, time, json; t = time.perf_counter(); rc = subprocess.run(sys.argv[1:]).returncode; "
        "print(json.dumps([time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, rc]))"
    )
    out = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True, check=True)
    seconds, rss, rc = json.loads(out.stdout.strip().splitlines()[-1])
    return seconds, rss, rc


def replicate_run(src: Path, dest: Path, units: int) -> int:
    """A scoring output with ``units`` unit rows, made by repeating ``src``'s rows (doc ids made distinct).

    Scoring a million rows takes long on a small machine; the report only reads
    the tables, so this measures the report alone at sizes scoring cannot reach here.
    """
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    for name in ("documents.csv", "files.csv", "run.json"):
        shutil.copy(src / name, dest / name)
    written = 0
    with open(dest / "sentences.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        copy = 0
        while written < units:
            with open(src / "sentences.csv", newline="", encoding="utf-8") as fh:
                reader = csv.reader(fh)
                header = next(reader)
                if copy == 0:
                    writer.writerow(header)
                for row in reader:
                    if written >= units:
                        break
                    row[0] = f"{row[0]}~{copy}"
                    writer.writerow(row)
                    written += 1
            copy += 1
    return written


def render_in_chromium(report: Path) -> dict | None:
    """Load the report in headless Chromium: seconds to load, group rows drawn, severe console errors (None without a browser)."""
    import shutil

    chrome, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chrome and driver_path):
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    with tempfile.TemporaryDirectory() as profile:
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}", "--window-size=1200,2000"):
            opts.add_argument(arg)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(driver_path), options=opts)
        try:
            t = time.perf_counter()
            driver.get(report.resolve().as_uri())
            seconds = time.perf_counter() - t
            return {
                "seconds": seconds,
                "group_rows": len(driver.find_elements(By.CSS_SELECTOR, "#group-table tbody tr")),
                "errors": len([e for e in driver.get_log("browser") if e["level"] == "SEVERE"]),
                "page_wider_than_window": driver.execute_script("return document.documentElement.scrollWidth > document.documentElement.clientWidth"),
            }
        finally:
            driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=None, help="Keep the survey and outputs here (default: a temporary folder).")
    parser.add_argument("--report-units", type=int, nargs="*", default=[1_000_000],
                        help="Also time `lo-signals report` alone on unit tables of these sizes (the scored rows repeated).")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import machine

    cli = str(Path(sys.executable).with_name("lo-signals"))
    with tempfile.TemporaryDirectory() as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        survey = make_survey(work / "survey.csv", args.rows)
        out = work / "o"
        score_s, score_rss, rc = _measured([cli, "score", str(survey), "--out", str(out), "--report", "--by", "directorate"])
        if rc != 0:
            raise SystemExit(f"lo-signals score exited {rc}")
        report_s, report_rss, _ = _measured([cli, "report", str(out), "--by", "directorate"])
        report = out / "report.html"
        with open(out / "sentences.csv", encoding="utf-8") as fh:
            units = sum(1 for _ in csv.reader(fh)) - 1
        with open(out / "report_by_directorate.csv", encoding="utf-8") as fh:
            groups = sum(1 for _ in fh) - 1
        shown = render_in_chromium(report)
        size = report.stat().st_size / 1e6
        larger = []
        for n in args.report_units:
            big = work / f"o-{n}"
            n = replicate_run(out, big, n)
            seconds, rss, _ = _measured([cli, "report", str(big), "--by", "directorate"])
            larger.append((n, seconds, rss, (big / "report.html").stat().st_size / 1e6))
    print(f"# report at survey scale: {args.rows:,}-row survey CSV, --by directorate, on {machine()}")
    print()
    print("| rows | units | groups | step | seconds | peak RSS (MB) | report.html (MB) |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {args.rows:,} | {units:,} | {groups} | `score --report --by directorate` | {score_s:.1f} | {score_rss:.0f} | {size:.2f} |")
    print(f"| {args.rows:,} | {units:,} | {groups} | `report --by directorate` alone | {report_s:.1f} | {report_rss:.0f} | {size:.2f} |")
    for n, seconds, rss, mb in larger:
        print(f"| {args.rows:,} rows repeated | {n:,} | {groups} | `report --by directorate` alone | {seconds:.1f} | {rss:.0f} | {mb:.2f} |")
    print()
    if shown is None:
        print("Headless Chromium: not available on this machine.")
    else:
        print(f"Headless Chromium ({'no' if not shown['errors'] else shown['errors']} console errors): loaded in {shown['seconds']:.1f} s, "
              f"{shown['group_rows']} groups compared, page wider than the window: {shown['page_wider_than_window']}.")


if __name__ == "__main__":
    main()
