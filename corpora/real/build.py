"""Build the stand-off corpus of real public documents (``corpora/real/``).

Steps (run from the repository root; ``--snapshots`` defaults to
``$LO_SIGNALS_SNAPSHOTS`` or ``corpora/real/snapshots``):

    python corpora/real/build.py extract   # sources.json -> .work/candidates.jsonl (every unit, with text)
    python corpora/real/build.py sample    # splits by document, random + enriched samples, labelling chunks
    python corpora/real/build.py disagreements  # units where A and B differ -> .work/chunks/adjudicate_NN.jsonl
    python corpora/real/build.py merge     # passes A, B (+ adjudication C) -> units.jsonl (no text)
    python corpora/real/build.py rebuild   # units.jsonl + snapshots -> build/{train,dev,test}.jsonl, hashes checked
    python corpora/real/build.py datasheet # stats.json and the figures in DATASHEET.md

Only ``rebuild`` is needed to use the corpus; the other steps document how it
was made. ``.work/`` and ``build/`` hold source text and are never committed.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import random
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from lo_signals.labels import LABELS, REGISTERS, SIGNS  # noqa: E402

sys.path.insert(0, str(HERE.parent))
from passes_io import adjudicate, encode, hash_split, read_pass  # noqa: E402
from passes_io import read_jsonl as _jsonl  # noqa: E402
from passes_io import write_jsonl as _write_jsonl  # noqa: E402
from lo_signals.standoff import (  # noqa: E402
    SnapshotError,
    check_records,
    default_snapshots_dir,
    find_gitdir,
    read_source_bytes,
    load_real_split,
    source_documents,
    text_sha256,
)

WORK = HERE / ".work"
BUILD = HERE / "build"
PASSES = HERE / "passes"
UNITS = HERE / "units.jsonl"
SOURCES = HERE / "sources.json"

#: Consecutive units that make one random sample of a long document.
WINDOW = 12
#: Random (natural prevalence) and enriched quotas per register.
RANDOM_QUOTA = {"staff_feedback": 800, "board_paper": 900, "inquiry_report": 800}
ENRICHED_QUOTA = {"staff_feedback": 450, "board_paper": 500, "inquiry_report": 450}
#: Share of documents per split (by a hash of the document key, so stable).
SPLIT_SHARES = (("test", 0.30), ("dev", 0.15), ("train", 0.55))
#: Seed of the document-hash split (``--seed``'s default; the shipped splits use it).
SPLIT_SEED = 13
CHUNK = 350

# Words whose presence flags a unit for the keyword-enriched sample: the
# vocabulary that a keyword regex would use, deliberately naive.
KEYWORDS = re.compile(
    r"\b(learn\w*|lesson\w*|mentor\w*|coach\w*|teach\w*|train(ing|ed)?|shar(e|ed|ing)|"
    r"speak(ing)? up|raise[ds]? concerns?|listen\w*|open(ness)?|honest\w*|transparen\w*|feedback|"
    r"empower\w*|autonom\w*|trust(ed)?|ideas?|suggest\w*|improve\w*|chang(e|ed|es|ing)|review(ed)?|"
    r"blam\w*|fear\w*|afraid|scapegoat\w*|cover(ed)?[- ]up|deny|denied|defensiv\w*|retaliat\w*|punish\w*|bully\w*)\b",
    re.I,
)


def _source_files(src: dict, snapshots: Path) -> list[str]:
    if "files" in src:
        return list(src["files"])
    gitdir = find_gitdir(snapshots, src["repo"])
    out = subprocess.run(
        ["git", "-c", "core.quotePath=false", f"--git-dir={gitdir}", "ls-tree", "-r", "--name-only", src["commit"]],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    return sorted(p for p in out if any(fnmatch.fnmatch(p, g) for g in src["glob"]))


def _group(rec: dict, part_units: int | None = None) -> str:
    """The document a unit belongs to, for sampling and splitting (a review row spans its columns).

    A file that bundles many papers (a board pack, an annual report) is cut
    into parts of ``part_units`` consecutive units, each a document of its own.
    """
    loc = f":{rec['locator']}" if rec["locator"] else ""
    part = f"#p{rec['seq'] // part_units}" if part_units else ""
    return f"{rec['repo']}:{rec['path']}{loc}{part}"


def cmd_extract(args) -> None:
    from lo_signals.segment import segment

    snapshots = Path(args.snapshots)
    spec = json.loads(SOURCES.read_text(encoding="utf-8"))
    seen: set[str] = set()
    n_docs = Counter()
    rows = []
    for src in spec["sources"]:
        for path in _source_files(src, snapshots):
            try:
                data = read_source_bytes(snapshots, src["repo"], src["commit"], path)
            except SnapshotError as exc:  # e.g. blobs of 4 MiB or more absent from a mirror
                print(f"skipped: {exc}")
                continue
            for column in src.get("columns") or [None]:
                for locator, doc in source_documents(data, path, column, src.get("format")):
                    n_docs[src["register"]] += 1
                    for u in segment(doc.text, doc.blocks):
                        # Units with no letters (page numbers, table rules) carry nothing to label.
                        if sum(c.isalpha() for c in u.text) < 3:
                            continue
                        h = text_sha256(u.text)
                        if h in seen:  # the same text twice (boilerplate, repeated reviews): keep the first
                            continue
                        seen.add(h)
                        rec = {
                            "repo": src["repo"], "commit": src["commit"], "path": path,
                            "column": column, "format": src.get("format"), "locator": locator,
                            "start": u.start, "end": u.end, "sha256": h, "register": src["register"],
                            "seq": u.unit_id, "text": u.text,
                        }
                        rec["doc"] = _group(rec, src.get("part_units"))
                        if src.get("group"):
                            rec["group"], rec["weight"] = src["group"], src.get("weight", 1)
                        rows.append(rec)
    _write_jsonl(WORK / "candidates.jsonl", rows)
    per_reg = Counter(r["register"] for r in rows)
    print(f"extracted {len(rows)} units from {sum(n_docs.values())} documents: {dict(per_reg)}")


def _split_of(doc: str, seed: int) -> str:
    return hash_split(doc, seed, SPLIT_SHARES)


def _blocks(units: list[dict]) -> list[list[dict]]:
    """Sampling blocks: a short document whole, a long one in windows of consecutive units."""
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for u in units:
        by_doc[u["doc"]].append(u)
    blocks = []
    for doc_units in by_doc.values():
        doc_units.sort(key=lambda u: (u["column"] or "", u["seq"]))
        if len(doc_units) <= WINDOW:
            blocks.append(doc_units)
        else:
            blocks.extend(doc_units[i : i + WINDOW] for i in range(0, len(doc_units), WINDOW))
    return blocks


def _enrich_flags(texts: list[str]) -> list[list[str]]:
    import lo_signals

    flags: list[list[str]] = [[] for _ in texts]
    for name in ("default", "lexicon"):
        preds = lo_signals.load(name).predict(texts)
        for f, p in zip(flags, preds):
            if p:
                f.append(name)
    for f, t in zip(flags, texts):
        if KEYWORDS.search(t):
            f.append("keyword")
    return flags


# Per-label cues for the targeted sample (round 3): at natural prevalence the
# signs are 1-3% of real units, too few to train or to measure per label, so
# units matching a label's cue are drawn from every split (test included,
# recorded as sampling "targeted"; test figures are also given on the random
# units alone).
TARGET_CUES = {
    "community_of_learners": r"\b(learn(ed|ing|t)? from|mentor\w*|coach\w*|teach\w*|shar(e|ed|es|ing) (knowledge|learning|lessons|experience|good practice)|knowledge[- ]sharing|peer (review|support|learning)|buddy|shadow(ed|ing)|reflective practice|lessons? (were )?shared)\b",
    "dispersed_leadership": r"\b(autonom\w*|empower\w*|trusted (to|with)|ownership|freedom to|own decisions|frontline|front-line|junior|bottom[- ]up|devolv\w*|(staff|team|nurses?|crews?|employees?) (suggested|proposed|led|designed|came up with)|their (own )?ideas?)\b",
    "open_dialogue": r"\b(speak(ing)? up|spoke up|rais(e|ed|ing) (a |their |my )?concerns?|listen\w*|open[- ]door|approachable|voice[ds]?|challeng\w*|candou?r|admit\w*|apologi[sz]\w*|honest\w*|transparen\w*|disagree\w*|whistle\w*)\b",
    "ongoing_transformation": r"\b(changed|revised|redesign\w*|introduced|implemented|as a result|following (the|an|this) (review|incident|investigation|audit|inquest|feedback)|lessons? learn\w*|corrective action|safety action\w*|no longer|rolled out|new (process|procedure|system|protocol))\b",
    "blame_defensiveness": r"\b(blam\w*|scapegoat\w*|fear\w*|afraid|scared|retaliat\w*|punish\w*|reprisal\w*|cover(ed|ing)?[- ]up|conceal\w*|hid(e|den|ing)|den(y|ied|ial)|defensiv\w*|intimidat\w*|lie[ds]?|lying|mislead\w*|misled|witch[- ]hunt|disciplin\w*|victimi[sz]\w*)\b",
}
TARGET_QUOTA = {"staff_feedback": 260, "board_paper": 150, "inquiry_report": 220}

REG_PREFIX = {"staff_feedback": "s", "board_paper": "b", "inquiry_report": "i"}


def cmd_sample(args) -> None:
    cands = _jsonl(WORK / "candidates.jsonl")
    registers = args.registers.split(",") if args.registers else list(REGISTERS)
    # Units sampled in earlier rounds are never drawn again.
    taken = {r["sha256"] for f in WORK.glob("sample_*.jsonl") for r in _jsonl(f)} if args.round > 1 else set()
    for reg in registers:
        units = [c for c in cands if c["register"] == reg and c["sha256"] not in taken]
        if args.targeted:
            _sample_targeted(reg, units, args.seed, args.round, args.labels.split(",") if args.labels else None, args.quota)
        else:
            _sample_register(reg, units, args.seed, args.round, args.scale)


def _write_sample(reg: str, rows: list[dict], round_no: int) -> None:
    """Number a register's sample, save it, and cut the blind labelling chunks."""
    prefix = REG_PREFIX[reg] if round_no == 1 else f"{REG_PREFIX[reg]}r{round_no}-"
    for i, r in enumerate(rows):
        r["id"] = f"real-{prefix}{i:04d}"
    _write_jsonl(WORK / f"sample_{prefix.rstrip('-')}.jsonl", rows)
    chunks = WORK / "chunks"
    chunks.mkdir(parents=True, exist_ok=True)
    prefix = prefix.rstrip("-")
    for old in chunks.glob(f"chunk_{prefix}[0-9]*.jsonl"):
        old.unlink()
    for k in range(0, len(rows), CHUNK):
        _write_jsonl(
            chunks / f"chunk_{prefix}{k // CHUNK:02d}.jsonl",
            ({"id": r["id"], "register": r["register"], "text": r["text"]} for r in rows[k : k + CHUNK]),
        )
    c = Counter((r["sampling"], r["split"]) for r in rows)
    print(f"{reg}: sampled {len(rows)} units in {(len(rows) + CHUNK - 1) // CHUNK} chunks: " + ", ".join(f"{k[0]}/{k[1]} {v}" for k, v in sorted(c.items())))


def _sample_targeted(reg: str, units: list[dict], seed: int, round_no: int,
                     labels: list[str] | None = None, quota: int | None = None) -> None:
    rng = random.Random(f"{seed}:{reg}:targeted:{round_no}")
    for u in units:
        u["split"] = _split_of(u["doc"], seed)
    order = list(units)
    rng.shuffle(order)
    chosen: dict[str, dict] = {}
    for label, cue in TARGET_CUES.items():
        if labels and label not in labels:
            continue
        pattern = re.compile(cue, re.I)
        # Units of at least six words: a cue in a two-word fragment says little.
        hits = [u for u in order if u["sha256"] not in chosen and len(u["text"].split()) >= 6 and pattern.search(u["text"])]
        for u in hits[: quota or TARGET_QUOTA[reg]]:
            chosen[u["sha256"]] = dict(u, sampling="targeted", flagged_by=[label])
    rows = list(chosen.values())
    rng.shuffle(rows)
    _write_sample(reg, rows, round_no)


def _sample_register(reg: str, units: list[dict], seed: int, round_no: int = 1, scale: float = 1.0) -> None:
    # One generator per register (and round), so registers can be sampled at
    # different times (a source added to one) without moving the others' samples.
    rng = random.Random(f"{seed}:{reg}" if round_no == 1 else f"{seed}:{reg}:{round_no}")
    for u in units:
        u["split"] = _split_of(u["doc"], seed)
    chosen: dict[str, dict] = {}
    by_source: dict[str, list[dict]] = defaultdict(list)
    weight: dict[str, int] = {}
    for u in units:
        key = u.get("group") or u["repo"] + ":" + u["path"].split("/")[0]
        by_source[key].append(u)
        weight[key] = u.get("weight", 1)
    # Random, by document: each source gets a share of the quota in
    # proportion to its weight (equal by default), so one very long report
    # cannot make up the whole register.
    source_blocks = {k: _blocks(v) for k, v in sorted(by_source.items())}
    for blocks in source_blocks.values():
        rng.shuffle(blocks)
    quota, taken = int(RANDOM_QUOTA[reg] * scale), 0
    while taken < quota and any(source_blocks.values()):
        for key in sorted(source_blocks):
            for _ in range(weight[key]):
                if not source_blocks[key] or taken >= quota:
                    continue
                for u in source_blocks[key].pop():
                    if u["sha256"] not in chosen:
                        chosen[u["sha256"]] = dict(u, sampling="random")
                        taken += 1
    # Enriched: units the current models, the lexicon or keywords flag,
    # from train and dev documents only, so the test split stays natural.
    pool = [u for u in units if u["split"] != "test" and u["sha256"] not in chosen]
    rng.shuffle(pool)
    n_enriched = int(ENRICHED_QUOTA[reg] * scale)
    pool = pool[: n_enriched * 6]
    flags = _enrich_flags([u["text"] for u in pool])
    flagged = [(u, f) for u, f in zip(pool, flags) if f]
    for u, f in flagged[:n_enriched]:
        chosen[u["sha256"]] = dict(u, sampling="enriched", flagged_by=f)
    rows = list(chosen.values())
    rng.shuffle(rows)
    _write_sample(reg, rows, round_no)


def _read_pass(prefix: str) -> dict[str, dict]:
    return read_pass(PASSES, prefix)


def cmd_merge(args) -> None:
    sample = {r["id"]: r for f in sorted(WORK.glob("sample_*.jsonl")) for r in _jsonl(f)}
    pa, pb, pc = _read_pass("A"), _read_pass("B"), _read_pass("C")
    records = []
    missing_c = 0
    for rid, r in sample.items():
        if rid not in pa or rid not in pb:
            continue
        a, b = pa[rid], pb[rid]
        c = pc.get(rid)
        disagree = set(a["labels"]) != set(b["labels"]) or set(a["aspirations"]) != set(b["aspirations"])
        if disagree and c is None:
            missing_c += 1
        rec = {k: r[k] for k in ("id", "repo", "commit", "path", "column", "format", "locator", "start", "end", "sha256", "register", "doc", "split", "sampling")}
        if r.get("flagged_by"):
            rec["flagged_by"] = r["flagged_by"]
        rec["labels"] = adjudicate(a, b, c, "labels", LABELS)
        rec["aspirations"] = adjudicate(a, b, c, "aspirations", SIGNS)
        records.append(rec)
    records.sort(key=lambda r: r["id"])
    problems = check_records(records)
    if problems:
        raise SystemExit("stand-off records are not sound:\n  " + "\n  ".join(problems[:20]))
    _write_jsonl(UNITS, records)
    print(f"merged {len(records)} units ({missing_c} disagreements without an adjudication pass, resolved to 'absent')")


def cmd_disagreements(args) -> None:
    """Units on which passes A and B differ, with both answers, for the adjudicator (pass C)."""
    sample = {r["id"]: r for f in sorted(WORK.glob("sample_*.jsonl")) for r in _jsonl(f)}
    pa, pb, pc = _read_pass("A"), _read_pass("B"), _read_pass("C")
    rows = [
        {"id": rid, "register": sample[rid]["register"], "text": sample[rid]["text"],
         "pass_1": encode(pa[rid]), "pass_2": encode(pb[rid])}
        for rid in sorted(set(pa) & set(pb))
        if pa[rid] != pb[rid] and rid not in pc
    ]
    out = WORK / "chunks" / f"adjudicate_{args.round:02d}.jsonl"
    _write_jsonl(out, rows)
    print(f"{len(rows)} disagreements to adjudicate -> {out}")


def cmd_rebuild(args) -> None:
    records = _jsonl(UNITS)
    problems = check_records(records)
    if problems:
        raise SystemExit("stand-off records are not sound:\n  " + "\n  ".join(problems[:20]))
    try:
        rows = {split: load_real_split(split, args.snapshots, HERE) for split in ("train", "dev", "test")}
    except (SnapshotError, FileNotFoundError) as exc:  # the message names every missing source
        raise SystemExit(f"rebuild failed: {exc}") from None
    print(f"rebuilt {sum(map(len, rows.values()))} units into {BUILD} "
          f"({', '.join(f'{k} {len(v)}' for k, v in rows.items())}); every sha256 matched")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=["extract", "sample", "disagreements", "merge", "rebuild", "datasheet"])
    ap.add_argument("--snapshots", default=str(default_snapshots_dir()))
    ap.add_argument("--seed", type=int, default=SPLIT_SEED)
    ap.add_argument("--registers", default="", help="sample only these registers (comma-separated)")
    ap.add_argument("--round", type=int, default=1, help="sampling round; later rounds skip units already sampled")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the quotas (for later rounds)")
    ap.add_argument("--targeted", action="store_true", help="sample units matching each label's cue, from every split")
    ap.add_argument("--labels", default="", help="targeted: only these labels' cues (comma-separated)")
    ap.add_argument("--quota", type=int, default=None, help="targeted: units per label and register")
    args = ap.parse_args(argv)
    if args.step == "datasheet":
        from datasheet import cmd_datasheet  # noqa: PLC0415 - sibling script

        cmd_datasheet(_jsonl(UNITS), {p: _read_pass(p) for p in ("A", "B", "C")})
        return
    steps = {"extract": cmd_extract, "sample": cmd_sample, "disagreements": cmd_disagreements, "merge": cmd_merge, "rebuild": cmd_rebuild}
    steps[args.step](args)


if __name__ == "__main__":
    main()
