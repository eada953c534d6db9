"""Precision at natural prevalence: what a model flags in whole unseen documents, judged blind.

Run from the repository root after ``python corpora/audit/build.py rebuild``:

    python corpora/audit/audit.py sample --role dev_pool --model default --per-label 60 --floor 0.6 --name dev-r1
    python corpora/audit/audit.py precision --role audit_pool --model default [--out benchmarks/results/precision-audit.md]
    python corpora/audit/audit.py thresholds --role dev_pool --model default --target 0.8

``sample`` scores every unit of a pool with the model and draws, per label
and with a fixed seed, up to ``--per-label`` of the units it flags (or nearly
flags: probability at least ``--floor`` times the label's threshold). It
writes ``build/judge/<name>.jsonl`` (gitignored: it holds text) with the unit,
the label asked about and the units before and after it, but never the
model's probability, so judges are blind to it. Judges answer in
``passes/<name>.<pass>.jsonl``: ``{"key": ..., "verdict": "yes" | "no" | "borderline"}``.

``adjudicate`` merges the passes of a sample into ``judgements.jsonl``
(tracked, stand-off: unit id, sha256, label, each pass's verdict and the
final one; no text): the final verdict is "yes" only when every pass says
yes, so a disagreement counts against the model (strict judging). Agreement
between passes (Cohen's kappa on yes/not-yes) is printed and recorded.

``precision`` scores a pool again and reads the judgements cache by unit hash
and label, so a retrained model needs only its new flags judged: it prints,
per label and over all labels, flags per 100 units, how many flags were
judged and the precision with a Wilson 95% interval, also per register and
genre. Only flagged units at the model's own thresholds count. With
``--draw K`` each label is measured on the seeded uniform draw of up to K of
its flags (:func:`draw`), whatever else was judged, so the estimate is
unbiased; ``sample --draw --per-label K`` lists the draw's unjudged pairs.

``thresholds`` picks, per label, precision first on the dev pool's judged
flags, then recall on labelled real dev (:func:`precision_first` says how).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

# corpora/passes_io.py: the corpus scripts' one JSONL reader and writer.
from passes_io import read_jsonl, write_jsonl  # noqa: E402

from lo_signals.train import judgement_key  # noqa: E402

BUILD = HERE / "build"
PASSES = HERE / "passes"
JUDGEMENTS = HERE / "judgements.jsonl"


def pool_units(role: str) -> list[dict]:
    path = BUILD / f"{role}.jsonl"
    if not path.is_file():
        sys.exit(f"{path} is missing: run python corpora/audit/build.py rebuild --role {role}")
    return read_jsonl(path)


#: A judgement's key: the unit's text hash and the label asked about (the format training reads).
key_of = judgement_key


def score_pool(units: list[dict], model: str):
    """Probabilities, decisions and the model for every unit of a pool.

    The probabilities are cached in ``build/scores/`` under the model's weight
    fingerprint (:func:`lo_signals.outdir.model_fingerprint`, the parts cache's
    own key), its thresholds and the pool's unit hashes, so a slow model scores
    a pool once; decisions are always taken with the model's current thresholds.
    """
    import hashlib

    import lo_signals
    from lo_signals.outdir import model_fingerprint

    scorer = lo_signals.load(model)
    h = hashlib.sha256(model_fingerprint(scorer).encode())
    # A cascade reads with its reader only what its thresholds route, so they are part of its scores.
    h.update(repr([round(float(t), 6) for t in scorer.thresholds_]).encode())
    h.update("".join(u["sha256"] for u in units).encode())
    cache = BUILD / "scores" / f"{h.hexdigest()[:24]}.npy"
    if cache.is_file():
        proba = np.load(cache)
    else:
        proba = scorer.predict_proba([u["text"] for u in units])
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, proba)
    labels = scorer._decide(proba, np.asarray(scorer.thresholds_), scorer.labels_)
    return scorer, proba, labels


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, mid - half), min(1.0, mid + half))


def _context(units: list[dict], i: int) -> tuple[str, str]:
    doc = units[i]["doc"]
    before = units[i - 1]["text"] if i > 0 and units[i - 1]["doc"] == doc else ""
    after = units[i + 1]["text"] if i + 1 < len(units) and units[i + 1]["doc"] == doc else ""
    return before[-300:], after[:300]


def judgements() -> dict[str, dict]:
    """The judgement cache: key -> record."""
    return {r["key"]: r for r in read_jsonl(JUDGEMENTS)} if JUDGEMENTS.is_file() else {}


def draw(units: list[dict], flagged: list[int], label: str, k: int, seed: str = "0") -> list[int]:
    """A seeded uniform draw of up to ``k`` of a label's flags, independent of the order of the pool."""
    order = sorted(flagged, key=lambda i: units[i]["sha256"])
    random.Random(f"{seed}:{label}").shuffle(order)
    return sorted(order[:k])


def cmd_sample(args) -> None:
    units = pool_units(args.role)
    scorer, proba, _ = score_pool(units, args.model)
    thr = np.asarray(scorer.thresholds_)
    done = judgements()
    rng = random.Random(f"{args.seed}:{args.role}:{args.name}")
    rows = []
    for j, label in enumerate(scorer.labels_):
        cut = thr[j] * args.floor
        idx = [int(i) for i in np.flatnonzero(proba[:, j] >= cut)]
        if args.draw:
            # The uniform draw that `precision --draw` measures on; only its unjudged pairs go to the judges.
            picked = [i for i in draw(units, idx, label, args.per_label, args.seed) if key_of(units[i]["sha256"], label) not in done]
        else:
            if args.only_missing:
                idx = [i for i in idx if key_of(units[i]["sha256"], label) not in done]
            # The highest-scoring units first (where a precision-first threshold lands), then a uniform draw of the rest.
            top = sorted(idx, key=lambda i: (-proba[i, j], units[i]["sha256"]))[: args.top]
            taken = set(top)
            rest = [i for i in idx if i not in taken]
            rng.shuffle(rest)
            picked = sorted(top + rest[: args.per_label])
        for i in picked:
            before, after = _context(units, i)
            u = units[i]
            rows.append(
                {
                    "key": key_of(u["sha256"], label),
                    "label": label,
                    "text": u["text"],
                    "before": before,
                    "after": after,
                    "id": u["id"],
                    "sha256": u["sha256"],
                    "source": u["source"],
                    "genre": u["genre"],
                    "register": u["register"],
                }
            )
    # Judges see the pairs in a seeded random order, not grouped by label or by probability.
    rng.shuffle(rows)
    out = BUILD / "judge" / f"{args.name}.jsonl"
    write_jsonl(out, rows)
    counts = Counter(r["label"] for r in rows)
    print(f"wrote {len(rows)} pairs to {out}: {dict(counts)}")


def cmd_adjudicate(args) -> None:
    sample = {r["key"]: r for r in read_jsonl(BUILD / "judge" / f"{args.name}.jsonl")}
    passes = {}
    for path in sorted(PASSES.glob(f"{args.name}.*.jsonl")):
        passes[path.name[len(args.name) + 1 : -len(".jsonl")]] = {r["key"]: r["verdict"] for r in read_jsonl(path)}
    if not passes:
        sys.exit(f"no passes/{args.name}.*.jsonl")
    cache = judgements()
    both = []
    for key, row in sample.items():
        verdicts = {p: v[key] for p, v in passes.items() if key in v}
        if not verdicts:
            continue
        prev = cache.get(key, {})
        merged = {**prev.get("verdicts", {}), **{f"{args.name}.{p}": v for p, v in verdicts.items()}}
        cache[key] = {
            "key": key,
            "id": row["id"],
            "sha256": row["sha256"],
            "label": row["label"],
            "source": row["source"],
            "genre": row["genre"],
            "verdicts": merged,
            "final": "yes" if all(v == "yes" for v in merged.values()) else "no",
        }
        if len(verdicts) >= 2:
            vs = list(verdicts.values())[:2]
            both.append((vs[0] == "yes", vs[1] == "yes"))
    write_jsonl(JUDGEMENTS, sorted(cache.values(), key=lambda r: r["key"]))
    print(f"{len(cache)} judgements in {JUDGEMENTS}")
    if both:
        from lo_signals.corpus import agreement

        yes = agreement([["yes"] if a else [] for a, _ in both], [["yes"] if b else [] for _, b in both], labels=("yes",))["yes"]
        print(f"agreement between two passes on {len(both)} pairs: {yes['agreement']:.3f} raw, kappa {yes['kappa']:.3f}")


def precision_table(units: list[dict], scorer, proba: np.ndarray, labels: list[list[str]], k: int | None = None, seed: str = "0") -> dict:
    """Per label and overall: flags, flags per 100 units, judged, precision and its interval.

    With ``k``, each label's precision is measured on the seeded uniform draw
    of up to ``k`` of its flags (:func:`draw`), so that judgements made for
    other models cannot bias it; unjudged pairs of the draw are counted in
    ``unjudged``. Without ``k``, every judged flag counts.
    """
    cache = judgements()
    out_unjudged = 0
    n = len(units)
    out: dict = {"units": n, "per_label": {}, "per_genre": {}}
    tot_flags = tot_judged = tot_yes = 0
    weighted = 0.0
    genre_units = Counter(u["genre"] for u in units)
    register_units = Counter(u["register"] for u in units)
    genre_stats: dict = defaultdict(lambda: Counter())
    register_stats: dict = defaultdict(lambda: Counter())
    for label in scorer.labels_:
        flagged = [i for i, row in enumerate(labels) if label in row]
        measured = draw(units, flagged, label, k, seed) if k else flagged
        judged = [cache[key_of(units[i]["sha256"], label)] for i in measured if key_of(units[i]["sha256"], label) in cache]
        out_unjudged += len(measured) - len(judged)
        yes = sum(r["final"] == "yes" for r in judged)
        lo, hi = wilson(yes, len(judged))
        out["per_label"][label] = {
            "flags": len(flagged),
            "per_100": 100 * len(flagged) / n if n else 0.0,
            "judged": len(judged),
            "right": yes,
            "precision": yes / len(judged) if judged else None,
            "ci95": [lo, hi],
        }
        tot_flags += len(flagged)
        tot_judged += len(judged)
        tot_yes += yes
        if judged:
            weighted += len(flagged) * yes / len(judged)
        measured_set = set(measured)
        for i in flagged:
            key = key_of(units[i]["sha256"], label)
            for stats, group in ((genre_stats, units[i]["genre"]), (register_stats, units[i]["register"])):
                stats[group]["flags"] += 1
                if i in measured_set and key in cache:
                    stats[group]["judged"] += 1
                    stats[group]["right"] += cache[key]["final"] == "yes"
    lo, hi = wilson(tot_yes, tot_judged)
    out["unjudged_in_draw"] = out_unjudged
    out["all"] = {
        "flags": tot_flags,
        "per_100": 100 * tot_flags / n if n else 0.0,
        "judged": tot_judged,
        "right": tot_yes,
        "precision_judged": tot_yes / tot_judged if tot_judged else None,
        "ci95": [lo, hi],
        # Each label's judged precision weighted by how many flags it made: the
        # share of all flags that are right, when labels were sampled unequally.
        "precision_flag_weighted": weighted / tot_flags if tot_flags and tot_judged else None,
    }
    for key, stats, counts in (("per_genre", genre_stats, genre_units), ("per_register", register_stats, register_units)):
        out[key] = {}
        for g in sorted(counts):
            c = stats.get(g, Counter())
            lo, hi = wilson(c["right"], c["judged"])
            out[key][g] = {
                "units": counts[g],
                "flags": c["flags"],
                "per_100": 100 * c["flags"] / counts[g],
                "judged": c["judged"],
                "precision": c["right"] / c["judged"] if c["judged"] else None,
                "ci95": [lo, hi],
            }
    return out


def _fmt(p, ci) -> str:
    if p is None:
        return "n/a"
    return f"{p:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]"


def cmd_precision(args) -> None:
    import platform

    units = pool_units(args.role)
    scorer, proba, labels = score_pool(units, args.model)
    table = precision_table(units, scorer, proba, labels, args.draw, args.seed)
    lines = [
        f"# Precision at natural prevalence: `{args.model}` on the {args.role}",
        "",
        f"`python corpora/audit/audit.py precision --role {args.role} --model {args.model}`; "
        f"{table['units']:,} units of whole documents from sources never used for training"
        + (" or tuning" if args.role == "audit_pool" else "")
        + f"; judged blind (see corpora/audit/DATASHEET.md). Machine: {platform.machine()}, {platform.python_version()}.",
        "",
        (f"Precision per label is measured on a seeded uniform draw of up to {args.draw} of its flags"
         f" ({table['unjudged_in_draw']} pairs of the draw not judged yet)." if args.draw else "Every judged flag counts."),
        "",
        "| label | flags | per 100 units | judged | right | precision [95% CI] |",
        "|---|---|---|---|---|---|",
    ]
    for label, r in table["per_label"].items():
        lines.append(f"| `{label}` | {r['flags']} | {r['per_100']:.2f} | {r['judged']} | {r['right']} | {_fmt(r['precision'], r['ci95'])} |")
    a = table["all"]
    lines.append(f"| **all labels** | {a['flags']} | {a['per_100']:.2f} | {a['judged']} | {a['right']} | {_fmt(a['precision_judged'], a['ci95'])} |")
    if a["precision_flag_weighted"] is not None:
        lines += ["", f"Share of all flags that are right (each label's precision weighted by its flags): {a['precision_flag_weighted']:.2f}."]
    for key, head in (("per_register", "register"), ("per_genre", "genre")):
        lines += ["", f"| {head} | units | flags | per 100 units | judged | precision [95% CI] |", "|---|---|---|---|---|---|"]
        for g, r in table[key].items():
            lines.append(f"| {g} | {r['units']} | {r['flags']} | {r['per_100']:.2f} | {r['judged']} | {_fmt(r['precision'], r['ci95'])} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
        Path(args.out).with_suffix(".json").write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    if args.apply:
        # The model card and the HTML report lead with this table (meta.json "natural_prevalence").
        import lo_signals
        from lo_signals.models import read_meta, write_meta

        meta = read_meta(args.apply)
        meta["natural_prevalence"] = {**json.loads(json.dumps(table)), "pool": args.role, "command": (
            f"python corpora/audit/audit.py precision --role {args.role} --model {args.model}" + (f" --draw {args.draw}" if args.draw else ""))}
        write_meta(args.apply, meta)
        lo_signals.load(args.apply)  # must still load and verify
        print(f"applied to {args.apply}/meta.json")


def precision_first(units: list[dict], proba: np.ndarray, label_ids, current, lab_proba: np.ndarray, lab_y: np.ndarray,
                    target: float, min_recall: float, min_judged: int = 5) -> dict:
    """Per label: precision on the natural-prevalence dev pool first, then recall on labelled dev.

    Candidates are the current threshold and 0.30 .. 0.95; a candidate must keep
    at least ``min_recall`` of the labelled dev positives. Among those, the
    lowest one whose judged dev-pool precision reaches ``target`` (with at
    least ``min_judged`` judged flags) wins; if none does, the one with the
    highest judged precision (ties to the higher threshold: precision first);
    and if no judged flag is right at any threshold, the highest threshold
    that still finds some labelled-dev positives.
    """
    cache = judgements()
    out = {}
    grid = sorted({round(float(t), 2) for t in np.arange(0.30, 0.951, 0.05)})
    for j, label in enumerate(label_ids):
        judged = [(proba[i, j], cache[k]["final"] == "yes") for i in range(len(units)) if (k := key_of(units[i]["sha256"], label)) in cache]
        rows = []
        for t in sorted({float(current[j]), *grid}):
            above = [y for p, y in judged if p >= t]
            pos = lab_y[:, j] == 1
            recall = float((lab_proba[pos, j] >= t).mean()) if pos.any() else 0.0
            prec = sum(above) / len(above) if len(above) >= min_judged else None
            rows.append({"t": t, "judged": len(above), "right": int(sum(above)), "precision": prec, "labelled_dev_recall": round(recall, 3)})
        ok = [r for r in rows if r["labelled_dev_recall"] >= min_recall]
        hit = [r for r in ok if r["precision"] is not None and r["precision"] >= target]
        if hit:
            pick, why = hit[0], f"lowest threshold with judged dev-pool precision >= {target}"
        else:
            with_p = [r for r in ok if r["precision"] is not None]
            pick = max(with_p, key=lambda r: (r["precision"], r["t"])) if with_p else {"t": float(current[j])}
            why = f"no threshold reaches {target} on the dev pool while keeping labelled-dev recall >= {min_recall}: highest judged precision"
            if not with_p or pick["precision"] == 0:
                # Not one judged flag right at any threshold: precision first means
                # nearly silencing the label, keeping only what labelled dev still finds.
                alive = [r for r in rows if r["labelled_dev_recall"] > 0]
                pick = max(alive, key=lambda r: r["t"]) if alive else pick
                why = "no judged flag on the dev pool is right at any threshold: highest threshold that still finds labelled-dev positives"
        out[label] = {"threshold": pick["t"], "previous": float(current[j]), "why": why, "curve": rows}
    return out


def cmd_thresholds(args) -> None:
    import lo_signals
    from lo_signals.corpus import read_labelled
    from lo_signals.labels import LABELS

    units = pool_units(args.role)
    scorer, proba, _ = score_pool(units, args.model)
    dev = read_labelled(args.labelled, LABELS)
    lab_proba = scorer.predict_proba(dev.texts)
    res = precision_first(units, proba, scorer.labels_, scorer.thresholds_, lab_proba, dev.y, args.target, args.min_recall)
    record = {
        "model": args.model,
        "pool": args.role,
        "labelled_dev": args.labelled,
        "target_precision": args.target,
        "min_labelled_dev_recall": args.min_recall,
        "thresholds": {k: v["threshold"] for k, v in res.items()},
        "detail": res,
    }
    print(json.dumps(record["thresholds"], indent=1))
    if args.write:
        Path(args.write).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    if args.apply:
        from lo_signals.models import read_meta, write_meta

        meta = read_meta(args.apply)
        meta["thresholds"] = [record["thresholds"][label] for label in meta["labels"]]
        meta["threshold_source"] = {
            "rule": "precision first on the natural-prevalence dev pool (judged blind), then recall on labelled real dev",
            "file": args.write,
            "target_precision": args.target,
            "min_labelled_dev_recall": args.min_recall,
        }
        if isinstance(meta.get("data_use"), dict):
            meta["data_use"]["tune_thresholds"] = [
                f"{args.role} (judged flags of natural-prevalence text) for precision",
                f"labelled dev ({args.labelled}): each label keeps recall >= {args.min_recall}",
            ]
        write_meta(args.apply, meta)
        lo_signals.load(args.apply)  # must still load and verify
        print(f"applied to {args.apply}/meta.json")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--role", default="dev_pool")
    s.add_argument("--model", default="default")
    s.add_argument("--per-label", type=int, default=60)
    s.add_argument("--floor", type=float, default=1.0, help="sample units with p >= floor * threshold")
    s.add_argument("--seed", default="0")
    s.add_argument("--name", required=True)
    s.add_argument("--only-missing", action="store_true")
    s.add_argument("--top", type=int, default=0, help="also take each label's this many highest-scoring units")
    s.add_argument("--draw", action="store_true", help="the seeded uniform draw of --per-label flags that precision --draw measures")
    s.set_defaults(fn=cmd_sample)
    a = sub.add_parser("adjudicate")
    a.add_argument("--name", required=True)
    a.set_defaults(fn=cmd_adjudicate)
    p = sub.add_parser("precision")
    p.add_argument("--role", default="audit_pool")
    p.add_argument("--model", default="default")
    p.add_argument("--out")
    p.add_argument("--draw", type=int, default=None, help="measure each label on the seeded draw of this many flags")
    p.add_argument("--apply", help="write the table into this model directory's meta.json (natural_prevalence)")
    p.add_argument("--seed", default="0")
    p.set_defaults(fn=cmd_precision)
    t = sub.add_parser("thresholds")
    t.add_argument("--role", default="dev_pool")
    t.add_argument("--model", default="default")
    t.add_argument("--target", type=float, default=0.8)
    t.add_argument("--min-recall", type=float, default=0.1, help="labelled-dev recall each label must keep")
    t.add_argument("--labelled", default="corpora/real/build/dev.jsonl")
    t.add_argument("--write", help="record the choice (e.g. corpora/audit/thresholds-default.json)")
    t.add_argument("--apply", help="write the thresholds into this model directory's meta.json")
    t.set_defaults(fn=cmd_thresholds)
    args = ap.parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
