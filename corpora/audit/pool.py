"""The natural-text training pool: hard negatives and judged flags from training sources only.

Real documents are mostly text that is about something else (procedure,
chronology, clinical and family narrative, finance, news). A model that has
seen only labelled units reads vocabulary; this pool shows it ordinary text.
It is drawn from training sources only, never from the audit or dev pools:

- the unlabelled units of the train-split documents of the real corpus's
  sources (``python corpora/real/build.py extract`` writes them to
  ``corpora/real/.work/candidates.jsonl``), and
- the audit ``train_pool`` sources (``python corpora/audit/build.py rebuild --role train_pool``).

``select`` draws a seeded sample of them, drops non-units (the quality gate),
scores the rest with the model named (the shipped default at the time) and
holds back every unit it flags or nearly flags (probability at least
``--floor`` times a label's threshold): those go to blind judging
(``audit.py``-style passes, ``build/judge/<name>.view.jsonl``), the rest are
negatives. ``train_units.jsonl`` (tracked, stand-off: sha256, origin,
register, role, and for held-back units the labels asked about; no text)
records the choice, so ``lo-signals train`` rebuilds exactly the same
training rows (``lo_signals.train.pool_rows``).

    python corpora/audit/pool.py select --max-pool 30000 --model default --name train-r2            # round 1
    python corpora/audit/pool.py select --extend --max-pool 30000 --model default --name train-r3   # round 2
    python corpora/audit/pool.py near --per-label 100 --name train-n1                               # by meaning

``near`` samples by meaning, not by cue words or by a model's score: it
embeds the pool's negatives and the training positives of each label with the
packaged all-MiniLM-L6-v2 and holds back, per label, the negatives most
similar to that label's positives (nearest-neighbour cosine, spread over the
sources); each held-back record keeps ``sampling`` so the datasheet can count
how every unit was chosen. They are written to ``train_units_near.jsonl``,
apart from ``train_units.jsonl``, so the shipped models' training data stays
what they were fitted on until the next retrain merges them.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "corpora"))

TRAIN_UNITS = HERE / "train_units.jsonl"
CANDIDATES = ROOT / "corpora" / "real" / ".work" / "candidates.jsonl"
TRAIN_POOL = HERE / "build" / "train_pool.jsonl"
#: Units held back by meaning (``near``), judged, kept apart until the next retrain of the shipped models.
NEAR_UNITS = HERE / "train_units_near.jsonl"


def _real_split_spec() -> tuple[tuple[tuple[str, float], ...], int]:
    """The real corpus's document split (shares, seed), from corpora/real/build.py: only its train documents are used."""
    import importlib.util

    # Loaded by path: this folder has a build.py of its own.
    spec = importlib.util.spec_from_file_location("real_build", ROOT / "corpora" / "real" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SPLIT_SHARES, module.SPLIT_SEED


REAL_SHARES, REAL_SEED = _real_split_spec()


def _where(r: dict) -> dict:
    """The stand-off location of a unit: enough for lo_signals.standoff.rebuild_texts."""
    return {k: r.get(k) for k in ("repo", "commit", "path", "column", "format", "locator", "start", "end", "sha256")}


def pool_texts() -> list[dict]:
    """Every unit the pool may draw from, with its text (needs the two build steps above)."""
    from passes_io import hash_split

    from lo_signals.standoff import real_corpus_dir

    missing = [p for p in (CANDIDATES, TRAIN_POOL) if not p.is_file()]
    if missing:
        sys.exit(
            "missing " + ", ".join(map(str, missing)) + ": run python corpora/real/build.py extract and "
            "python corpora/audit/build.py rebuild --role train_pool"
        )
    labelled = {json.loads(l)["sha256"] for l in (real_corpus_dir() / "units.jsonl").read_text(encoding="utf-8").splitlines() if l.strip()}
    rows, seen = [], set()
    for line in CANDIDATES.open(encoding="utf-8"):
        r = json.loads(line)
        if r["sha256"] in labelled or r["sha256"] in seen or hash_split(r["doc"], REAL_SEED, REAL_SHARES) != "train":
            continue
        seen.add(r["sha256"])
        rows.append({**_where(r), "id": f"real:{r['repo']}:{r['doc']}:{r['start']}-{r['end']}", "text": r["text"],
                     "origin": f"real:{r['repo']}", "register": r["register"]})
    for line in TRAIN_POOL.open(encoding="utf-8"):
        r = json.loads(line)
        if r["sha256"] in seen:
            continue
        seen.add(r["sha256"])
        rows.append({**_where(r), "id": r["id"], "text": r["text"], "origin": r["source"], "register": r["register"]})
    return rows


def cmd_select(args) -> None:
    import audit

    import lo_signals
    from lo_signals.quality import quality_flags

    rows = pool_texts()
    # Sort by hash before the seeded shuffle: the draw does not depend on file order.
    rows.sort(key=lambda r: r["sha256"])
    random.Random(args.seed).shuffle(rows)
    kept: list[dict] = []
    if args.extend and TRAIN_UNITS.is_file():
        # A later round: keep every earlier record and draw the next units of the same shuffled order.
        kept = [json.loads(line) for line in TRAIN_UNITS.read_text(encoding="utf-8").splitlines() if line.strip()]
        done = {r["sha256"] for r in kept}
        rows = [r for r in rows if r["sha256"] not in done]
    rows = rows[: args.max_pool]
    rows = [r for r, q in zip(rows, quality_flags([r["text"] for r in rows])) if q == "ok"]
    model = lo_signals.load(args.model)
    proba = model.predict_proba([r["text"] for r in rows])
    near = proba >= args.floor * np.asarray(model.thresholds_)[None, :]
    records, judge = [], []
    for r, flags in zip(rows, near):
        asked = [label for label, on in zip(model.labels_, flags) if on]
        records.append({"id": r["id"], **_where(r), "origin": r["origin"], "register": r["register"],
                        "role": "held_back" if asked else "negative", "round": args.name,
                        **({"asked": asked} if asked else {})})
        for label in asked:
            judge.append({"key": audit.key_of(r["sha256"], label), "label": label, "text": r["text"], "before": "", "after": "",
                          "sha256": r["sha256"], "origin": r["origin"], "register": r["register"]})
    TRAIN_UNITS.write_text("".join(json.dumps(x) + "\n" for x in kept + records), encoding="utf-8")
    random.Random(args.seed).shuffle(judge)
    audit.write_jsonl(audit.BUILD / "judge" / f"{args.name}.jsonl", judge)
    held = sum(r["role"] == "held_back" for r in records)
    print(f"{len(records)} units ({len(records) - held} negatives, {held} held back); {len(judge)} pairs to judge in build/judge/{args.name}.jsonl")


def _embeddings(texts: dict[str, str]) -> dict[str, np.ndarray]:
    """MiniLM embeddings by text sha256, cached in build/embeddings.npz (only new texts are encoded)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from common import minilm_embedder

    cache = HERE / "build" / "embeddings.npz"
    have: dict[str, np.ndarray] = {}
    if cache.is_file():
        with np.load(cache) as z:
            have = dict(zip(z["keys"].tolist(), z["vectors"]))
    todo = [k for k in texts if k not in have]
    if todo:
        vectors = minilm_embedder()([texts[k] for k in todo])
        have.update(zip(todo, vectors))
        keys = sorted(have)
        np.savez(cache, keys=np.asarray(keys), vectors=np.stack([have[k] for k in keys]))
    return {k: have[k] for k in texts}


def cmd_near(args) -> None:
    import hashlib

    import audit

    from lo_signals.train import pool_rows, training_data

    records = [json.loads(line) for line in TRAIN_UNITS.read_text(encoding="utf-8").splitlines() if line.strip()]
    pool_rows(args.snapshots)  # rebuilds and hash-checks the pool texts into the cache
    cache = (HERE / "build" / "train_units.cache.jsonl").read_text(encoding="utf-8").splitlines()[1:]
    pool_text = {r["sha256"]: r["text"] for r in map(json.loads, cache)}
    data = training_data(real=True, snapshots=args.snapshots, pool=False)
    anchors: dict[str, list[str]] = {label: [] for label in data.train.labels}
    for text, row in zip(data.train.texts, data.train.y):
        for label, on in zip(data.train.labels, row):
            if on:
                anchors[label].append(text)
    done = audit.judgements()
    earlier = [json.loads(line) for line in NEAR_UNITS.read_text(encoding="utf-8").splitlines() if line.strip()] if NEAR_UNITS.is_file() else []
    already = {r["sha256"] for r in earlier}
    negatives = [r for r in records if r["role"] == "negative" and r["sha256"] not in already]
    anchor_text = {hashlib.sha256(t.encode("utf-8")).hexdigest(): t for ts in anchors.values() for t in ts}
    vec = _embeddings({**{r["sha256"]: pool_text[r["sha256"]] for r in negatives}, **anchor_text})
    neg = np.stack([vec[r["sha256"]] for r in negatives])
    asked: dict[int, list[str]] = {}
    for label, texts in anchors.items():
        pos = np.stack([vec[hashlib.sha256(t.encode("utf-8")).hexdigest()] for t in texts])
        # Mean of the 3 nearest positives: one odd anchor does not pull a unit in.
        sims = np.sort(neg @ pos.T, axis=1)[:, -3:].mean(1)
        order = [int(i) for i in np.argsort(-sims) if audit.key_of(negatives[i]["sha256"], label) not in done]
        # Spread over the sources: round-robin through each origin's most similar units.
        by_origin: dict[str, list[int]] = {}
        for i in order[: args.per_label * 5]:
            by_origin.setdefault(negatives[i]["origin"], []).append(i)
        picked: list[int] = []
        while len(picked) < args.per_label and any(by_origin.values()):
            for queue in by_origin.values():
                if queue and len(picked) < args.per_label:
                    picked.append(queue.pop(0))
        for i in picked:
            asked.setdefault(i, []).append(label)
    judge, near = [], []
    for i, labels in asked.items():
        r = {**negatives[i], "role": "held_back", "asked": labels, "round": args.name, "sampling": "near_positive"}
        near.append(r)
        for label in labels:
            judge.append({"key": audit.key_of(r["sha256"], label), "label": label, "text": pool_text[r["sha256"]],
                          "before": "", "after": "", "sha256": r["sha256"], "origin": r["origin"], "register": r["register"],
                          "id": r["id"], "source": r["origin"], "genre": r["register"]})
    NEAR_UNITS.write_text("".join(json.dumps(x) + "\n" for x in earlier + near), encoding="utf-8")
    random.Random(args.seed).shuffle(judge)
    audit.write_jsonl(audit.BUILD / "judge" / f"{args.name}.jsonl", judge)
    print(f"{len(asked)} negatives held back by meaning (train_units_near.jsonl); {len(judge)} pairs to judge in build/judge/{args.name}.jsonl")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("select")
    s.add_argument("--max-pool", type=int, default=30000)
    s.add_argument("--floor", type=float, default=0.6)
    s.add_argument("--model", default="default")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--name", default="train-r1")
    s.add_argument("--extend", action="store_true", help="keep train_units.jsonl and add --max-pool more units (a later round)")
    s.set_defaults(fn=cmd_select)
    n = sub.add_parser("near", help="hold back the negatives nearest in meaning to each label's training positives")
    n.add_argument("--per-label", type=int, default=100)
    n.add_argument("--seed", type=int, default=0)
    n.add_argument("--name", default="train-n1")
    n.add_argument("--snapshots", default=None)
    n.set_defaults(fn=cmd_near)
    args = ap.parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
