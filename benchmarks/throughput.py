"""Throughput (sentences/s) and peak memory of each backend on 1k, 10k and 100k sentences.

Each measurement runs in a fresh process so peak memory is its own. The model
is loaded and warmed up on 200 sentences before the clock starts; the figure is
sentences / wall seconds of one predict_all_proba call over the whole batch,
single process (the default machine has 2 cores; torch uses both).

Usage: python benchmarks/throughput.py [--backends default linear ...] [--sizes 1000 10000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BACKENDS = ("lexicon", "linear", "default", "transformer", "transformer-int8")


def one(backend: str, n: int) -> dict:
    import lo_signals
    from common import sentences

    texts = sentences(n)
    if backend == "transformer-int8":
        model = lo_signals.load("transformer", precision="int8", device="cpu")
    else:
        model = lo_signals.load(backend)
    model.predict_all_proba(texts[:200])
    t0 = time.perf_counter()
    model.predict_all_proba(texts)
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"backend": backend, "sentences": n, "seconds": round(dt, 2), "sentences_per_s": round(n / dt, 1), "peak_rss_mb": round(peak, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", nargs="*", default=list(BACKENDS))
    parser.add_argument("--sizes", nargs="*", type=int, default=[1000, 10000, 100000])
    parser.add_argument("--one", nargs=2, metavar=("BACKEND", "N"))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]))))
        return
    from common import machine

    print(f"# throughput on {machine()}")
    print("| backend | sentences | seconds | sentences/s | peak RSS (MB) |")
    print("|---|---|---|---|---|")
    for backend in args.backends:
        for n in args.sizes:
            out = subprocess.run([sys.executable, __file__, "--one", backend, str(n)], capture_output=True, text=True,
                                 env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})
            if out.returncode != 0:
                print(f"| {backend} | {n} | failed: {out.stderr.strip().splitlines()[-1]} | | |", flush=True)
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"| {r['backend']} | {r['sentences']} | {r['seconds']} | {r['sentences_per_s']} | {r['peak_rss_mb']} |", flush=True)


if __name__ == "__main__":
    main()
