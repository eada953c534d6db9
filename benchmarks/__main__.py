"""Reproduce every benchmark table: python -m benchmarks [--quick].

Runs each script in a fresh process, in order, and writes its output to
benchmarks/results/<name>.md, then concatenates them into benchmarks/RESULTS.md
with the machine and date. --quick uses smaller sizes (for a smoke run).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def main() -> None:
    quick = "--quick" in sys.argv
    collect_only = "--collect" in sys.argv  # rebuild RESULTS.md from results/ without rerunning
    sys.path.insert(0, str(HERE))
    from common import machine

    sizes = ["1000", "10000"] if quick else ["1000", "10000", "100000"]
    jobs = [
        ("throughput-core", ["throughput.py", "--backends", "lexicon", "linear", "default", "--sizes", *sizes]),
        ("throughput-transformer", ["throughput.py", "--backends", "transformer", "transformer-int8", "--sizes", "1000", "10000"]),
        ("int8", ["int8.py"]),
        ("peers", ["peers.py", "--n", "2000" if quick else "10000"]),
        ("folder", ["folder.py", "--docs", "60" if quick else "1200"]),
        ("folder-ray", ["folder.py", "--docs", "60" if quick else "1200", "--engine", "ray", "--workers", "2"]),
    ]
    RESULTS.mkdir(exist_ok=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    for name, args in ([] if collect_only else jobs):
        print(f"running {name} ...", flush=True)
        out = subprocess.run([sys.executable, str(HERE / args[0]), *args[1:]], capture_output=True, text=True, env=env)
        text = out.stdout if out.returncode == 0 else out.stdout + f"\n(failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode})\n"
        (RESULTS / f"{name}.md").write_text(text)
    parts = [
        f"# Benchmark results\n\nMachine: {machine()}. Collected {dt.date.today().isoformat()} by `python -m benchmarks`"
        " (each section's own header names the machine it ran on; `--collect` rebuilds this file from results/).\n",
        "Notes: throughput is one process on 2 cores; the ray row's peak RSS is the driver only (actors are Ray's processes);"
        " folder timings include interpreter start-up and model loading (about 5 s, most of it importing skops),"
        " which is why the 2-worker speed-up needs a large folder to show.\n",
    ]
    for name, _ in jobs:
        if (RESULTS / f"{name}.md").is_file():
            parts.append(f"## {name}\n\n" + (RESULTS / f"{name}.md").read_text())
    for extra in ("test-split/metrics.md", "finetune-full-cpu.log"):
        if (RESULTS / extra).is_file():
            body = (RESULTS / extra).read_text()
            parts.append(f"## {extra}\n\n" + (body if extra.endswith(".md") else "```\n" + body + "```\n"))
    (HERE / "RESULTS.md").write_text("\n".join(parts))
    print((HERE / "RESULTS.md").read_text())


if __name__ == "__main__":
    main()
