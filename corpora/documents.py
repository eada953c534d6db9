"""Written corpus v2: whole documents, segmented by lo_signals, labelled blind.

Corpus v1.1 (``corpora/v1/``, built by ``corpora/build.py``) was written unit
by unit and taught the models how it was written. v2 adds whole documents
written as the real thing looks (board papers with RAG tables and assurance
language, inquiry chapters with numbered paragraphs, hedging and testimony,
survey exports with typos and fragments) and minimal pairs for the stock
phrases. The documents are segmented with lo_signals' own readers and
segmenter, so the units are what the library will see.

    python corpora/documents.py segment   # documents/ -> documents/units.jsonl + blind labelling inputs
    python corpora/documents.py disagreements  # units where A and B differ, for the adjudicator
    python corpora/documents.py merge     # v1 splits + labelled document units -> train/dev/test.jsonl

``merge`` also drops written units that copy or paraphrase an example of
``corpora/CODEBOOK.md`` (the label contract kept in this repository), removes cross-split scenario duplicates (MiniLM embedding
cosine), and splits document units by document (no document in two splits).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from lo_signals.labels import LABELS, REGISTERS, SIGNS  # noqa: E402
from passes_io import adjudicate, encode, hash_split, read_pass  # noqa: E402
from passes_io import read_jsonl as _read  # noqa: E402
from passes_io import write_jsonl as _write  # noqa: E402

DOCS = HERE / "documents"
PASSES = DOCS / "passes"
V1 = HERE / "v1"
PREFIX = {"staff_feedback": "sf", "board_paper": "bp", "inquiry_report": "ir"}
SUFFIXES = {".md", ".txt", ".csv"}
SPLITS = (("test", 0.20), ("dev", 0.15), ("train", 0.65))
CHUNK = 400
SEED = 20261204
#: Char 3-5-gram cosine and embedding cosine above which a written unit is a
#: copy or paraphrase of a CODEBOOK example (checked by hand on v1.1:
#: this flags the Freedom to Speak Up and 64-concerns paraphrases and no
#: unrelated unit).
LEAK_CHAR, LEAK_EMB = 0.5, 0.75
#: Embedding cosine above which two units across splits tell the same scenario.
SCENARIO_EMB = 0.93


def _doc_files() -> list[Path]:
    return sorted(p for p in DOCS.glob("*/*/*") if p.suffix.lower() in SUFFIXES and p.parent.parent.name in REGISTERS)


def cmd_segment(args) -> None:
    from lo_signals.readers import read_documents
    from lo_signals.segment import segment

    units: list[dict] = []
    counters: Counter = Counter()
    for f in _doc_files():
        register, writer = f.parent.parent.name, f.parent.name
        column = "comment" if f.suffix.lower() == ".csv" else None
        for doc in read_documents(f, text_column=column):
            row = doc.doc_id.split(":", 1)[1] if ":" in doc.doc_id else ""
            doc_key = f"{register}/{writer}/{f.name}" + (f":{row}" if row else "")
            for u in segment(doc.text, doc.blocks):
                if sum(c.isalpha() for c in u.text) < 3:
                    continue
                counters[register] += 1
                units.append({
                    "id": f"doc-{PREFIX[register]}-{counters[register]:05d}", "text": u.text, "register": register,
                    "writer": writer, "doc": doc_key if not row else f"{register}/{writer}/{f.name}",
                    "row": row or None, "start": u.start, "end": u.end,
                })
    _write(DOCS / "units.jsonl", units)
    rng = random.Random(SEED)
    order = list(range(len(units)))
    rng.shuffle(order)
    for old in PASSES.glob("input_*.jsonl"):
        old.unlink()
    for k in range(0, len(order), CHUNK):
        _write(PASSES / f"input_{k // CHUNK:02d}.jsonl",
               ({"id": units[i]["id"], "register": units[i]["register"], "text": units[i]["text"]} for i in order[k : k + CHUNK]))
    print(f"{len(units)} units from {len(_doc_files())} files: {dict(counters)}; {(len(order) + CHUNK - 1) // CHUNK} labelling inputs")


def cmd_disagreements(args) -> None:
    units = {u["id"]: u for u in _read(DOCS / "units.jsonl")}
    pa, pb, pc = read_pass(PASSES, "A"), read_pass(PASSES, "B"), read_pass(PASSES, "C")
    rows = [{"id": i, "register": units[i]["register"], "text": units[i]["text"], "pass_1": encode(pa[i]), "pass_2": encode(pb[i])}
            for i in sorted(set(pa) & set(pb)) if pa[i] != pb[i] and i not in pc]
    _write(PASSES / "adjudicate.jsonl", rows)
    print(f"{len(rows)} disagreements -> {PASSES / 'adjudicate.jsonl'}")


def _split_of(doc: str) -> str:
    return hash_split(doc, SEED, SPLITS)


def codebook_examples() -> list[str]:
    """Example sentences of CODEBOOK.md: table cells and quotations of five words or more.

    CODEBOOK.md is the label contract kept in this repository; only it is
    read, so the check is the same on every machine.

    Raises:
        FileNotFoundError: If ``corpora/CODEBOOK.md`` is missing (a silent
            skip would let codebook copies into the corpus unnoticed).
    """
    out = set()
    codebook = HERE / "CODEBOOK.md"
    if not codebook.is_file():
        raise FileNotFoundError(f"{codebook} is missing: the codebook-leak check needs it")
    for f in (codebook,):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.startswith("| ") and not line.startswith(("| text", "|---")):
                cell = line.split("|")[1].strip()
                if len(cell.split()) >= 5:
                    out.add(cell)
            out.update(q for q in re.findall(r'"([^"]{20,})"', line) if len(q.split()) >= 5)
    return sorted(out)


def embed(texts: list[str], batch: int = 128) -> np.ndarray:
    """L2-normalised mean-pooled MiniLM embeddings (the packaged encoder, offline)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from lo_signals.scorers.transformer import packaged_minilm_path

    path = str(packaged_minilm_path())
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    out = []
    with torch.inference_mode():
        for k in range(0, len(texts), batch):
            enc = tok(texts[k : k + batch], padding=True, truncation=True, max_length=128, return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            out.append(torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy())
    return np.vstack(out) if out else np.zeros((0, 384), dtype=np.float32)


def find_leaks(texts: list[str], emb: np.ndarray) -> dict[int, str]:
    """Units that copy or paraphrase a codebook/LABELS example: ``{index: example}``."""
    from lo_signals.corpus import near_duplicates

    examples = codebook_examples()
    ex_emb = embed(examples)
    leaks = {}
    for i, j, s in near_duplicates(texts, LEAK_CHAR, other=examples):
        if float(emb[i] @ ex_emb[j]) >= LEAK_EMB:
            leaks[i] = examples[j]
    return leaks


def cmd_merge(args) -> None:
    v1 = {s: _read(V1 / f"{s}.jsonl") for s in ("train", "dev", "test")}
    rows: list[dict] = []
    for split, rs in v1.items():
        rows += [dict(r, split=split, source="v1", doc=r["id"]) for r in rs]
    units = _read(DOCS / "units.jsonl") if (DOCS / "units.jsonl").is_file() else []
    pa, pb, pc = read_pass(PASSES, "A"), read_pass(PASSES, "B"), read_pass(PASSES, "C")
    unlabelled = 0
    for u in units:
        if u["id"] not in pa or u["id"] not in pb:
            unlabelled += 1
            continue
        a, b, c = pa[u["id"]], pb[u["id"]], pc.get(u["id"])
        rows.append({
            "id": u["id"], "text": u["text"], "register": u["register"], "sector": "documents",
            "labels": adjudicate(a, b, c, "labels", LABELS), "aspirations": adjudicate(a, b, c, "aspirations", SIGNS),
            "split": _split_of(u["doc"]), "source": "documents", "doc": u["doc"], "writer": u["writer"],
        })
    texts = [r["text"] for r in rows]
    emb = embed(texts)
    leaks = find_leaks(texts, emb)
    # Scenario duplicates across splits: the same story told twice must not
    # sit in train and in test; the copy outside test (or dev) goes.
    rank = {"test": 0, "dev": 1, "train": 2}
    drop = set(leaks)
    by_split = {s: [i for i, r in enumerate(rows) if r["split"] == s and i not in drop] for s in rank}
    scenario = 0
    for hi, lo in (("test", "dev"), ("test", "train"), ("dev", "train")):
        if not by_split[hi] or not by_split[lo]:
            continue
        sims = emb[by_split[lo]] @ emb[by_split[hi]].T
        for k in np.where(sims.max(axis=1) >= SCENARIO_EMB)[0]:
            if by_split[lo][k] not in drop:
                drop.add(by_split[lo][k])
                scenario += 1
    kept = [r for i, r in enumerate(rows) if i not in drop]
    for split in ("train", "dev", "test"):
        _write(HERE / f"{split}.jsonl", (
            {k: r[k] for k in ("id", "text", "register", "sector", "labels", "aspirations", "source", "doc") if k in r}
            for r in kept if r["split"] == split))
    stats = {
        "units": len(kept), "document_units_unlabelled": unlabelled,
        "dropped_codebook_leaks": sorted(rows[i]["id"] for i in leaks),
        "dropped_scenario_duplicates": scenario,
        "splits": {s: {"n": sum(r["split"] == s for r in kept),
                       "by_source": dict(Counter(r["source"] for r in kept if r["split"] == s)),
                       "by_register": dict(Counter(r["register"] for r in kept if r["split"] == s)),
                       "labels": {lab: sum(lab in r["labels"] for r in kept if r["split"] == s) for lab in LABELS},
                       "no_label": sum(not r["labels"] for r in kept if r["split"] == s)}
                   for s in ("train", "dev", "test")},
    }
    from sklearn.metrics import cohen_kappa_score

    both = sorted(set(pa) & set(pb))
    stats["document_units_agreement_A_vs_B"] = {
        "units": len(both),
        "disagreed": sum(pa[i] != pb[i] for i in both),
        "adjudicated": sum(1 for i in both if pa[i] != pb[i] and i in pc),
        "kappa_labels": {lab: round(float(cohen_kappa_score([lab in pa[i]["labels"] for i in both], [lab in pb[i]["labels"] for i in both])), 3) for lab in LABELS},
    }
    stats["shortcuts"] = "see shortcuts_v2.json (python corpora/shortcuts.py --out corpora/shortcuts_v2.json)"
    (HERE / "stats_v2.json").write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: stats[k] for k in ("units", "dropped_codebook_leaks", "dropped_scenario_duplicates")}, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=["segment", "disagreements", "merge"])
    args = ap.parse_args()
    {"segment": cmd_segment, "disagreements": cmd_disagreements, "merge": cmd_merge}[args.step](args)


if __name__ == "__main__":
    main()
