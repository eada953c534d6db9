"""Does natural text as hard negatives make the default flag less vocabulary?

Fits the default's recipe (``lo_signals.train.DEFAULT_PARAMS``) on the written
and real training units, with and without a pool of natural-prevalence units
from training sources only: every unit of the train-split documents of the
real corpus's sources (``corpora/real/.work/candidates.jsonl``, from
``python corpora/real/build.py extract``) that is not labelled, plus the
audit ``train_pool`` (``corpora/audit/build/train_pool.jsonl``). Pool units
the shipped default flags or nearly flags are held back (they go to judging,
not to the negatives), so that the 1-2% of real signs in natural text do not
become negatives wholesale.

Prints real dev / real test / written test macro-F1 and the dev pool's flags
per label, with judged precision among the judged ones (``corpora/audit/judgements.jsonl``).

    python benchmarks/negatives.py [--max-pool 30000] [--write-model DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "corpora"))
sys.path.insert(0, str(ROOT / "corpora" / "audit"))
sys.path.insert(0, str(ROOT / "corpora" / "real"))


def natural_pool(max_pool: int, seed: int = 0) -> list[dict]:
    """Unlabelled units of training sources: real-corpus train documents and the audit train pool."""
    from passes_io import hash_split

    from lo_signals.standoff import real_corpus_dir

    labelled = {json.loads(l)["sha256"] for l in (real_corpus_dir() / "units.jsonl").read_text(encoding="utf-8").splitlines() if l.strip()}
    rows = []
    cand = ROOT / "corpora" / "real" / ".work" / "candidates.jsonl"
    if cand.is_file():
        from pool import REAL_SEED, REAL_SHARES

        for line in cand.open(encoding="utf-8"):
            r = json.loads(line)
            if r["sha256"] in labelled or hash_split(r["doc"], REAL_SEED, REAL_SHARES) != "train":
                continue
            rows.append({"text": r["text"], "sha256": r["sha256"], "origin": "real-train-docs", "register": r["register"]})
    pool = ROOT / "corpora" / "audit" / "build" / "train_pool.jsonl"
    if pool.is_file():
        for line in pool.open(encoding="utf-8"):
            r = json.loads(line)
            rows.append({"text": r["text"], "sha256": r["sha256"], "origin": r["source"], "register": r["register"]})
    rng = random.Random(seed)
    rng.shuffle(rows)
    return rows[:max_pool]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-pool", type=int, default=30000)
    ap.add_argument("--floor", type=float, default=0.6, help="pool units with p >= floor*threshold are held back")
    ap.add_argument("--write-model")
    ap.add_argument("--held-back-out", help="write held-back pool units (text) here for judging")
    args = ap.parse_args()

    import audit

    import lo_signals
    from lo_signals.evaluation import evaluate
    from lo_signals.labels import LABELS, SIGNS
    from lo_signals.models import backend_class
    from lo_signals.quality import quality_flags
    from lo_signals.train import DEFAULT_PARAMS, training_data

    data = training_data()
    shipped = lo_signals.load()
    pool = natural_pool(args.max_pool)
    keep = [r for r, q in zip(pool, quality_flags([r["text"] for r in pool])) if q == "ok"]
    proba = shipped.predict_proba([r["text"] for r in keep])
    near = (proba >= args.floor * np.asarray(shipped.thresholds_)[None, :]).any(1)
    negatives = [r for r, n in zip(keep, near) if not n]
    held = [r for r, n in zip(keep, near) if n]
    print(f"pool {len(pool)} units; {len(keep)} pass the quality gate; {len(negatives)} negatives; {len(held)} held back for judging")
    if args.held_back_out:
        with open(args.held_back_out, "w", encoding="utf-8") as fh:
            for r in held:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")

    X = list(data.train.texts) + [r["text"] for r in negatives]
    Y = np.vstack([data.train.y, np.zeros((len(negatives), len(LABELS)), dtype=np.int8)])
    A = np.vstack([data.train.a, np.zeros((len(negatives), len(SIGNS)), dtype=np.int8)])
    model = backend_class("linear")(**DEFAULT_PARAMS)
    model.fit(X, Y, aspirations=A, X_dev=data.dev.texts, y_dev=data.dev.y, aspirations_dev=data.dev.a)
    model.meta_ = {"name": "default+negatives"}
    shipped.meta_ = {**shipped.meta_, "name": "shipped"}
    for name, d in {"real_dev": data.dev, **data.tests}.items():
        res = evaluate([shipped, model], d, n_boot=50)["models"]
        print(name, {k: round(v["macro_f1"]["value"], 3) for k, v in res.items()})

    units = audit.pool_units("dev_pool")
    cache = audit.judgements()
    for m in (shipped, model):
        _, _, labels, _ = m.predict_all([u["text"] for u in units])
        row = []
        for label in LABELS:
            flagged = [i for i, r in enumerate(labels) if label in r]
            judged = [cache[k]["final"] == "yes" for i in flagged if (k := audit.key_of(units[i]["sha256"], label)) in cache]
            row.append(f"{label[:12]} {len(flagged)} flags, {sum(judged)}/{len(judged)} judged right")
        print(m.meta_["name"], "dev pool:", "; ".join(row))
    print("thresholds (tuned on real dev F1):", np.round(model.thresholds_, 2))
    print(f"machine: {platform.machine()}, python {platform.python_version()}")
    if args.write_model:
        model.save(args.write_model, name="default-negatives", description="experiment: default recipe plus natural negatives")


if __name__ == "__main__":
    main()
