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


def natural_sentences(n: int, path: str) -> list[str]:
    """``n`` units of natural text (a JSONL file with a ``text`` field, e.g. corpora/audit/build/audit_pool.jsonl), in file order, repeated if short."""
    import json

    base = [json.loads(line)["text"] for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [base[i % len(base)] for i in range(n)]


def one(backend: str, n: int, natural: str | None = None) -> dict:
    import lo_signals
    from common import sentences

    # The corpus units are dense in signs; a cascade's speed depends on how many
    # units its gate routes, so it is also measured on natural text.
    texts = natural_sentences(n, natural) if natural else sentences(n)
    if backend == "transformer-int8":
        model = lo_signals.load("transformer", precision="int8", device="cpu")
    else:
        model = lo_signals.load(backend)
    model.predict_all_proba(texts[:200])
    t0 = time.perf_counter()
    model.predict_all_proba(texts)
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    routed = getattr(model, "routed_share_", None)
    return {"backend": backend, "text": "natural" if natural else "corpus", "routed_share": routed, "sentences": n, "seconds": round(dt, 2), "sentences_per_s": round(n / dt, 1), "peak_rss_mb": round(peak, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", nargs="*", default=list(BACKENDS))
    parser.add_argument("--sizes", nargs="*", type=int, default=[1000, 10000, 100000])
    parser.add_argument("--one", nargs=2, metavar=("BACKEND", "N"))
    parser.add_argument("--natural", help="also measure on natural text: a JSONL file with a text field (corpora/audit/build/audit_pool.jsonl)")
    parser.add_argument("--natural-only", action="store_true", help="with --one: measure on --natural text")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]), args.natural if args.natural_only else None)))
        return
    from common import machine

    print(f"# throughput on {machine()}")
    print("| backend | text | sentences | seconds | sentences/s | share read by a reader | peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|")
    kinds = [[]] + ([["--natural", args.natural, "--natural-only"]] if args.natural else [])
    for backend in args.backends:
        for kind in kinds:
            for n in args.sizes:
                out = subprocess.run([sys.executable, __file__, "--one", backend, str(n), *kind], capture_output=True, text=True,
                                     env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})
                if out.returncode != 0:
                    print(f"| {backend} | | {n} | failed: {out.stderr.strip().splitlines()[-1]} | | | |", flush=True)
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                routed = "" if r["routed_share"] is None else f"{r['routed_share']:.3f}"
                print(f"| {r['backend']} | {r['text']} | {r['sentences']} | {r['seconds']} | {r['sentences_per_s']} | {routed} | {r['peak_rss_mb']} |", flush=True)


if __name__ == "__main__":
    main()
