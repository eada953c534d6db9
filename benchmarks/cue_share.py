"""How many positives carry none of the naive cue words: a measure of how far a test checks vocabulary.

Counts, per label, the positives of the real test split (and of the judged,
right flags of the audit pool) that contain none of the keyword regex the
real corpus used for its keyword-enriched sample (``corpora/real/build.py``
``KEYWORDS``), and how many of each kind a model finds (the default unless
``--model`` names others).

    python benchmarks/cue_share.py [--model default --model cascade]
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "corpora"))
sys.path.insert(0, str(ROOT / "corpora" / "audit"))


def main() -> None:
    import argparse
    import importlib.util

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", help="model name or directory; repeat (default: the bundled default)")
    args = ap.parse_args()

    import audit

    # corpora/real/build.py, loaded by path: corpora/audit has a build.py of its own.
    spec = importlib.util.spec_from_file_location("real_build", ROOT / "corpora" / "real" / "build.py")
    real_build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(real_build)
    KEYWORDS = real_build.KEYWORDS

    import lo_signals
    from lo_signals.labels import LABELS
    from lo_signals.standoff import load_real_split

    rows = load_real_split("test")
    for name in args.model or ["default"]:
        model = lo_signals.load(name)
        pred = model.predict([r["text"] for r in rows])
        print(f"real test split: positives without a cue word, and the recall of {name} on each kind")
        totals = {"cue": [0, 0], "no_cue": [0, 0]}
        for label in LABELS:
            pos = [(r, p) for r, p in zip(rows, pred) if label in r["labels"]]
            no_cue = [(r, p) for r, p in pos if not KEYWORDS.search(r["text"])]
            cue = [(r, p) for r, p in pos if KEYWORDS.search(r["text"])]
            found = lambda xs: sum(label in p for _, p in xs)  # noqa: E731
            totals["cue"] = [totals["cue"][0] + found(cue), totals["cue"][1] + len(cue)]
            totals["no_cue"] = [totals["no_cue"][0] + found(no_cue), totals["no_cue"][1] + len(no_cue)]
            print(f"  {label}: {len(pos)} positives, {len(no_cue)} without a cue word ({len(no_cue) / max(1, len(pos)):.0%}); "
                  f"found {found(cue)}/{len(cue)} with, {found(no_cue)}/{len(no_cue)} without")
        print(f"  all labels: found {totals['cue'][0]}/{totals['cue'][1]} with a cue word, {totals['no_cue'][0]}/{totals['no_cue'][1]} without")
    cache = audit.judgements()
    units = {u["sha256"]: u["text"] for u in audit.pool_units("audit_pool")}
    right = [(r["label"], units[r["sha256"]]) for r in cache.values() if r["final"] == "yes" and r["sha256"] in units]
    no_cue = sum(not KEYWORDS.search(t) for _, t in right)
    print(f"audit pool: {len(right)} judged-right flags, {no_cue} without a cue word ({no_cue / max(1, len(right)):.0%})")
    print(f"machine: {platform.machine()}, python {platform.python_version()}")


if __name__ == "__main__":
    main()
