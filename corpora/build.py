"""Build the lo_signals corpus from the writers' files and the labelling passes.

Two steps, run from the repository root:

    python corpora/build.py prepare   # raw/*.jsonl -> units.jsonl + passes/input_*.jsonl
    python corpora/build.py merge     # units + passes A/B -> v1/{train,dev,test}.jsonl + stats.json (corpus v1.1; v2 is made by documents.py)

``prepare`` cleans, filters and de-duplicates the written units and makes the
blind inputs for the two independent labelling passes (text only, shuffled).
``merge`` adjudicates each label by majority over three independent judgements
(the writer's label, pass A and pass B), reports agreement between the passes,
and cuts fixed stratified splits.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from lo_signals.corpus import agreement, near_duplicates  # noqa: E402
from lo_signals.labels import LABELS, REGISTERS, SIGNS, validate_labels  # noqa: E402

PREFIX = {"staff_feedback": "sf", "board_paper": "bp", "inquiry_report": "ir"}
SECTORS = {
    "nhs_acute", "nhs_mental_health", "nhs_ambulance", "nhs_primary_care", "local_government",
    "police", "university", "social_care", "aviation", "rail", "civil_service",
}
NEAR_DUP = 0.8
# Words that name or echo the labels; a unit with no label that uses one is a hard negative.
LABEL_VOCAB = re.compile(
    r"\b(learn\w*|lesson\w*|teach\w*|mentor\w*|coach\w*|train\w*|reflect\w*|shar(e|ed|ing)|lead\w*|empower\w*|"
    r"autonom\w*|devolv\w*|champion\w*|speak\w*|spoke\w*|voice\w*|listen\w*|open\w*|challeng\w*|concern\w*|candou?r|"
    r"transparen\w*|honest\w*|chang\w*|improv\w*|transform\w*|redesign\w*|pilot\w*|review\w*|blam\w*|fear\w*|"
    r"afraid|scared|defensiv\w*|cover\w*|bull\w*|whistleblow\w*|culture)\b",
    re.IGNORECASE,
)
SEED = 20261122


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def prepare() -> None:
    raw_files = sorted((ROOT / "raw").glob("w*.jsonl"))
    units, dropped = [], Counter()
    seen = set()
    for f in raw_files:
        for n, row in enumerate(_read(f), 1):
            text = re.sub(r"\s+", " ", str(row.get("text", ""))).strip()
            words = len(text.split())
            if row.get("register") not in REGISTERS or row.get("sector") not in SECTORS:
                dropped["bad register or sector"] += 1
                continue
            if not 4 <= words <= 80:
                dropped["length outside 4-80 words"] += 1
                continue
            key = text.lower()
            if key in seen:
                dropped["exact duplicate"] += 1
                continue
            seen.add(key)
            units.append(
                {
                    "text": text,
                    "register": row["register"],
                    "sector": row["sector"],
                    "author_labels": validate_labels(row.get("labels", []), where=f"{f.name}:{n}: "),
                    "author_aspirations": validate_labels(row.get("aspirations", []), SIGNS, where=f"{f.name}:{n}: "),
                    "source": f.stem,
                }
            )
    pairs = near_duplicates([u["text"] for u in units], NEAR_DUP)
    drop = {j for _, j, _ in pairs}
    dropped["near duplicate (char 3-5-gram cosine >= %.2f)" % NEAR_DUP] = len(drop)
    units = [u for k, u in enumerate(units) if k not in drop]
    counters = Counter()
    for u in units:
        counters[u["register"]] += 1
        u["id"] = f"{PREFIX[u['register']]}-{counters[u['register']]:04d}"
    _write(ROOT / "units.jsonl", [{"id": u["id"], **{k: v for k, v in u.items() if k != "id"}} for u in units])
    rng = random.Random(SEED)
    for f in raw_files:
        chunk = [{"id": u["id"], "text": u["text"], "register": u["register"], "sector": u["sector"]} for u in units if u["source"] == f.stem]
        rng.shuffle(chunk)
        _write(ROOT / "passes" / f"input_{f.stem}.jsonl", chunk)
    (ROOT / "prepare_stats.json").write_text(json.dumps({"kept": len(units), "dropped": dict(dropped)}, indent=2) + "\n")
    print(json.dumps({"kept": len(units), "dropped": dict(dropped)}, indent=2))


def _majority(*votes: list[str], allowed=LABELS) -> list[str]:
    return [label for label in allowed if sum(label in v for v in votes) >= 2]


def _stratified(units: list[dict]) -> dict[str, list[int]]:
    """70/15/15 split of ``units`` stratified by register and label combination."""
    from sklearn.model_selection import train_test_split

    def key(u: dict) -> str:
        labs = "+".join(u["labels"]) or ("asp" if u["aspirations"] else "none")
        return f"{u['register']}|{labs}"

    keys = [key(u) for u in units]
    counts = Counter(keys)
    keys = [k if counts[k] >= 10 else k.split("|")[0] + "|rare" for k in keys]
    idx = np.arange(len(units))
    train_idx, rest_idx = train_test_split(idx, test_size=0.30, random_state=SEED, stratify=keys)
    rest_keys = [keys[i] for i in rest_idx]
    rc = Counter(rest_keys)
    rest_keys = [k if rc[k] >= 2 else k.split("|")[0] + "|rare" for k in rest_keys]
    dev_idx, test_idx = train_test_split(rest_idx, test_size=0.50, random_state=SEED, stratify=rest_keys)
    return {"train": list(train_idx), "dev": list(dev_idx), "test": list(test_idx)}


def _split(units: list[dict]) -> dict[str, list[dict]]:
    """Fixed splits: a unit keeps the split it was given in an earlier build; new units
    (a later corpus version) are split among themselves, so no test unit ever moves."""
    previous = {}
    for name in ("train", "dev", "test"):
        path = ROOT / "v1" / f"{name}.jsonl"
        if path.is_file():
            previous.update({row["id"]: name for row in _read(path)})
    assigned = {name: [] for name in ("train", "dev", "test")}
    new_units = []
    for u in units:
        (assigned[previous[u["id"]]] if u["id"] in previous else new_units).append(u)
    if new_units:
        for name, ids in _stratified(new_units).items():
            assigned[name] += [new_units[i] for i in ids]
    order = {u["id"]: k for k, u in enumerate(units)}
    return {name: sorted(rows, key=lambda u: order[u["id"]]) for name, rows in assigned.items()}


def merge() -> None:
    units = _read(ROOT / "units.jsonl")
    passes = {}
    for name in ("A", "B"):
        got = {}
        for f in sorted((ROOT / "passes").glob(f"{name}_*.jsonl")):
            for row in _read(f):
                got[row["id"]] = row
        missing = [u["id"] for u in units if u["id"] not in got]
        if missing:
            raise SystemExit(f"pass {name} lacks {len(missing)} units, e.g. {missing[:5]}")
        passes[name] = got
    final, disagreements = [], Counter()
    for u in units:
        a, b = passes["A"][u["id"]], passes["B"][u["id"]]
        la = validate_labels(a["labels"], where=f"A {u['id']}: ")
        lb = validate_labels(b["labels"], where=f"B {u['id']}: ")
        aa = validate_labels(a["aspirations"], SIGNS, where=f"A {u['id']}: ")
        ab = validate_labels(b["aspirations"], SIGNS, where=f"B {u['id']}: ")
        labels = _majority(u["author_labels"], la, lb)
        asps = _majority(u["author_aspirations"], aa, ab, allowed=SIGNS)
        if la != lb or aa != ab:
            disagreements["units where pass A and pass B differ"] += 1
        if la != lb and labels not in (la, lb):
            disagreements["label sets different from both passes after adjudication"] += 1
        final.append({"id": u["id"], "text": u["text"], "register": u["register"], "sector": u["sector"], "labels": labels, "aspirations": asps})
    splits = _split(final)
    for name, rows in splits.items():
        _write(ROOT / "v1" / f"{name}.jsonl", rows)

    def pick(src, field):
        return [src[u["id"]][field] for u in units]

    stats = {
        "units": len(final),
        "adjudication": dict(disagreements),
        "agreement": {
            "A_vs_B": {"labels": agreement(pick(passes["A"], "labels"), pick(passes["B"], "labels")),
                        "aspirations": agreement(pick(passes["A"], "aspirations"), pick(passes["B"], "aspirations"), SIGNS)},
            "author_vs_A": {"labels": agreement([u["author_labels"] for u in units], pick(passes["A"], "labels"))},
            "author_vs_B": {"labels": agreement([u["author_labels"] for u in units], pick(passes["B"], "labels"))},
            "final_vs_A": {"labels": agreement([r["labels"] for r in final], pick(passes["A"], "labels"))},
            "final_vs_B": {"labels": agreement([r["labels"] for r in final], pick(passes["B"], "labels"))},
        },
        "splits": {},
    }
    for name, rows in splits.items():
        s = {
            "n": len(rows),
            "register": dict(Counter(r["register"] for r in rows)),
            "sector": dict(Counter(r["sector"] for r in rows)),
            "labels": {label: sum(label in r["labels"] for r in rows) for label in LABELS},
            "aspirations": {s_: sum(s_ in r["aspirations"] for r in rows) for s_ in SIGNS},
            "aspiration_units": sum(bool(r["aspirations"]) for r in rows),
            "aspiration_only_units": sum(bool(r["aspirations"]) and not r["labels"] for r in rows),
            "no_label_units": sum(not r["labels"] for r in rows),
            "no_label_no_aspiration_units": sum(not r["labels"] and not r["aspirations"] for r in rows),
            "hard_negative_units": sum(not r["labels"] and not r["aspirations"] and bool(LABEL_VOCAB.search(r["text"])) for r in rows),
            "words_min_median_max": [int(x) for x in np.percentile([len(r["text"].split()) for r in rows], [0, 50, 100])],
        }
        stats["splits"][name] = s
    cross = []
    for a_name, b_name in (("train", "dev"), ("train", "test"), ("dev", "test")):
        pairs = near_duplicates([r["text"] for r in splits[a_name]], NEAR_DUP, other=[r["text"] for r in splits[b_name]])
        top = near_duplicates([r["text"] for r in splits[a_name]], 0.0, other=[r["text"] for r in splits[b_name]])[:1]
        cross.append({"pair": f"{a_name}/{b_name}", "near_duplicates": len(pairs), "max_similarity": round(top[0][2], 3) if top else 0.0})
    stats["cross_split_similarity"] = cross
    (ROOT / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    print(json.dumps({k: stats[k] for k in ("units", "adjudication", "cross_split_similarity")}, indent=2))


def datasheet() -> None:
    """Regenerate the figures section of DATASHEET.md from stats.json."""
    stats = json.loads((ROOT / "stats.json").read_text())
    prep = json.loads((ROOT / "prepare_stats.json").read_text())
    sp = stats["splits"]
    names = list(sp)
    out = ["<!-- stats:start (generated by `python corpora/build.py datasheet`; do not edit by hand) -->", ""]
    out += [f"Units: **{stats['units']}** after cleaning ({prep['kept']} kept; dropped: "
            + (", ".join(f"{v} {k}" for k, v in prep["dropped"].items()) or "none") + ").", ""]
    out += ["### Counts per split", "", "| | " + " | ".join(names) + " | total |", "|---|" + "---|" * (len(names) + 1)]

    def row(title, get):
        vals = [get(sp[n]) for n in names]
        out.append(f"| {title} | " + " | ".join(str(v) for v in vals) + f" | {sum(vals)} |")

    row("units", lambda s: s["n"])
    for reg in REGISTERS:
        row(f"register `{reg}`", lambda s, reg=reg: s["register"].get(reg, 0))
    for label in LABELS:
        row(f"label `{label}`", lambda s, label=label: s["labels"][label])
    for sign in SIGNS:
        row(f"aspiration `{sign}`", lambda s, sign=sign: s["aspirations"][sign])
    row("units with any aspiration", lambda s: s["aspiration_units"])
    row("aspiration-only units (rhetoric, no label)", lambda s: s["aspiration_only_units"])
    row("units with no label", lambda s: s["no_label_units"])
    row("units with no label and no aspiration", lambda s: s["no_label_no_aspiration_units"])
    row("hard negatives (no label, no aspiration, label vocabulary present)", lambda s: s["hard_negative_units"])
    sectors = sorted({k for n in names for k in sp[n]["sector"]})
    out += ["", "### Sectors", "", "| sector | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for sec in sectors:
        out.append(f"| {sec} | " + " | ".join(str(sp[n]["sector"].get(sec, 0)) for n in names) + " |")
    out += ["", "Words per unit (min / median / max): " + "; ".join(f"{n} {'/'.join(map(str, sp[n]['words_min_median_max']))}" for n in names) + ".", ""]
    out += ["### Agreement between the independent labelling passes", "",
            "Cohen's kappa (Krippendorff's alpha in brackets) per label over all units.", "",
            "| label | pass A vs pass B | writer vs A | writer vs B | final vs A | final vs B |", "|---|---|---|---|---|---|"]
    ag = stats["agreement"]
    for label in LABELS:
        cells = [ag[k]["labels"][label] for k in ("A_vs_B", "author_vs_A", "author_vs_B", "final_vs_A", "final_vs_B")]
        out.append(f"| `{label}` | " + " | ".join(f"{c['kappa']:.3f} ({c['alpha']:.3f})" for c in cells) + " |")
    for sign in SIGNS:
        c = ag["A_vs_B"]["aspirations"][sign]
        out.append(f"| aspiration `{sign}` | {c['kappa']:.3f} ({c['alpha']:.3f}) | | | | |")
    out += ["", "Adjudication: " + "; ".join(f"{v} {k}" for k, v in stats["adjudication"].items()) + ".", ""]
    out += ["### Near-duplicates across splits", "", "| splits | pairs with similarity >= 0.80 | highest similarity |", "|---|---|---|"]
    for c in stats["cross_split_similarity"]:
        out.append(f"| {c['pair']} | {c['near_duplicates']} | {c['max_similarity']} |")
    out += ["", "<!-- stats:end -->"]
    path = ROOT / "DATASHEET.md"
    text = path.read_text()
    a, b = text.index("<!-- stats:start"), text.index("<!-- stats:end -->") + len("<!-- stats:end -->")
    path.write_text(text[:a] + "\n".join(out) + text[b:])


if __name__ == "__main__":
    {"prepare": prepare, "merge": merge, "datasheet": datasheet}[sys.argv[1]]()
