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
    args = ap.parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
