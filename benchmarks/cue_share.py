"""How many positives carry none of the naive cue words: a measure of how far a test checks vocabulary.

Counts, per label, the positives of the real test split (and of the judged,
right flags of the audit pool) that contain none of the keyword regex the
real corpus used for its keyword-enriched sample (``corpora/real/build.py``
``KEYWORDS``), and how many of each kind the default finds.

    python benchmarks/cue_share.py
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "corpora"))
sys.path.insert(0, str(ROOT / "corpora" / "audit"))


def main() -> None:
    import importlib.util

    import audit

    # corpora/real/build.py, loaded by path: corpora/audit has a build.py of its own.
    spec = importlib.util.spec_from_file_location("real_build", ROOT / "corpora" / "real" / "build.py")
    real_build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(real_build)
    KEYWORDS = real_build.KEYWORDS

    import lo_signals
    from lo_signals.labels import LABELS
    from lo_signals.standoff import load_real_split

    model = lo_signals.load()
    rows = load_real_split("test")
    pred = model.predict([r["text"] for r in rows])
    print("real test split: positives without a cue word, and the default's recall on each kind")
    for label in LABELS:
        pos = [(r, p) for r, p in zip(rows, pred) if label in r["labels"]]
        no_cue = [(r, p) for r, p in pos if not KEYWORDS.search(r["text"])]
        cue = [(r, p) for r, p in pos if KEYWORDS.search(r["text"])]
        found = lambda xs: sum(label in p for _, p in xs)  # noqa: E731
        print(f"  {label}: {len(pos)} positives, {len(no_cue)} without a cue word ({len(no_cue) / max(1, len(pos)):.0%}); "
              f"found {found(cue)}/{len(cue)} with, {found(no_cue)}/{len(no_cue)} without")
    cache = audit.judgements()
    units = {u["sha256"]: u["text"] for u in audit.pool_units("audit_pool")}
    right = [(r["label"], units[r["sha256"]]) for r in cache.values() if r["final"] == "yes" and r["sha256"] in units]
    no_cue = sum(not KEYWORDS.search(t) for _, t in right)
    print(f"audit pool: {len(right)} judged-right flags, {no_cue} without a cue word ({no_cue / max(1, len(right)):.0%})")
    print(f"machine: {platform.machine()}, python {platform.python_version()}")


if __name__ == "__main__":
    main()
