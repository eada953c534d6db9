"""Figures for the real corpus's datasheet: counts, prevalence and agreement.

Called as ``python corpora/real/build.py datasheet``. Reads ``units.jsonl``
and the labelling passes (no source text is needed), writes ``stats.json``
and replaces the generated section of ``DATASHEET.md`` between its markers.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
BEGIN, END = "<!-- generated: begin -->", "<!-- generated: end -->"


def _kappa(a: np.ndarray, b: np.ndarray) -> float | None:
    from sklearn.metrics import cohen_kappa_score

    if a.sum() == 0 and b.sum() == 0:
        return None  # no positives in either pass: kappa is undefined
    return float(cohen_kappa_score(a, b))


def stats(records: list[dict], passes: dict[str, dict[str, dict]]) -> dict:
    """Counts per register, split and sampling; labels per split; kappa between passes A and B."""
    from lo_signals.labels import LABELS, REGISTERS, SIGNS

    out: dict = {"units": len(records)}
    out["by_register_split"] = {
        reg: {s: sum(1 for r in records if r["register"] == reg and r["split"] == s) for s in ("train", "dev", "test")}
        for reg in REGISTERS
    }
    out["by_sampling_split"] = {
        m: {s: sum(1 for r in records if r["sampling"] == m and r["split"] == s) for s in ("train", "dev", "test")}
        for m in ("random", "enriched", "targeted")
    }
    out["labels_by_split"] = {
        s: {lab: sum(1 for r in records if r["split"] == s and lab in r["labels"]) for lab in LABELS}
        | {"none": sum(1 for r in records if r["split"] == s and not r["labels"])}
        for s in ("train", "dev", "test")
    }
    out["aspirations_by_split"] = {
        s: {lab: sum(1 for r in records if r["split"] == s and lab in r["aspirations"]) for lab in SIGNS}
        for s in ("train", "dev", "test")
    }
    out["documents"] = len({r["doc"] for r in records})
    out["sources"] = dict(Counter(r["repo"] for r in records))
    random_units = [r for r in records if r["sampling"] == "random"]
    out["prevalence_random"] = {
        reg: {lab: round(sum(lab in r["labels"] for r in random_units if r["register"] == reg)
                         / max(1, sum(r["register"] == reg for r in random_units)), 4) for lab in LABELS}
        for reg in REGISTERS
    }
    a, b = passes.get("A", {}), passes.get("B", {})
    both = [r["id"] for r in records if r["id"] in a and r["id"] in b]
    kap: dict = {"units": len(both), "labels": {}, "aspirations": {}}
    for field, ids in (("labels", LABELS), ("aspirations", SIGNS)):
        for lab in ids:
            va = np.array([lab in a[i][field] for i in both], dtype=int)
            vb = np.array([lab in b[i][field] for i in both], dtype=int)
            k = _kappa(va, vb)
            kap[field][lab] = None if k is None else round(k, 3)
    exact = sum(a[i]["labels"] == b[i]["labels"] and a[i]["aspirations"] == b[i]["aspirations"] for i in both)
    kap["exact_agreement"] = round(exact / max(1, len(both)), 3)
    disagreements = [i for i in both if a[i] != b[i]]
    kap["disagreements"] = len(disagreements)
    kap["adjudicated"] = sum(1 for i in disagreements if i in passes.get("C", {}))
    out["agreement"] = kap
    return out


def to_markdown(st: dict) -> str:
    """The generated section of DATASHEET.md."""
    from lo_signals.labels import LABELS, REGISTERS, SIGNS

    lines = [f"Units: **{st['units']}** from {st['documents']} documents.", ""]
    lines += ["| register | train | dev | test |", "|---|---|---|---|"]
    lines += [f"| {reg} | " + " | ".join(str(st["by_register_split"][reg][s]) for s in ("train", "dev", "test")) + " |" for reg in REGISTERS]
    lines += ["", "| sampling | train | dev | test |", "|---|---|---|---|"]
    lines += [f"| {m} | " + " | ".join(str(st["by_sampling_split"][m][s]) for s in ("train", "dev", "test")) + " |" for m in ("random", "enriched", "targeted")]
    lines += ["", "Label counts per split (`none`: units with no label):", "", "| label | train | dev | test |", "|---|---|---|---|"]
    for lab in (*LABELS, "none"):
        lines.append(f"| `{lab}` | " + " | ".join(str(st["labels_by_split"][s][lab]) for s in ("train", "dev", "test")) + " |")
    lines += ["", "Aspiration counts per split:", "", "| aspiration | train | dev | test |", "|---|---|---|---|"]
    for lab in SIGNS:
        lines.append(f"| `{lab}` | " + " | ".join(str(st["aspirations_by_split"][s][lab]) for s in ("train", "dev", "test")) + " |")
    lines += ["", "Natural prevalence (random sample only), share of units per register:", "",
              "| label | " + " | ".join(REGISTERS) + " |", "|---|---|---|---|"]
    for lab in LABELS:
        lines.append(f"| `{lab}` | " + " | ".join(f"{st['prevalence_random'][reg][lab]:.1%}" for reg in REGISTERS) + " |")
    ag = st["agreement"]
    fmt = lambda k: "n/a (no positives)" if k is None else f"{k:.3f}"  # noqa: E731
    lines += ["", f"Agreement between the two blind passes A and B on {ag['units']} real units "
              f"(exact agreement on all fields {ag['exact_agreement']:.1%}; {ag['disagreements']} units disagreed, "
              f"{ag['adjudicated']} of them adjudicated by pass C):", "",
              "| label | Cohen's kappa, labels | Cohen's kappa, aspirations |", "|---|---|---|"]
    for lab in LABELS:
        asp = fmt(ag["aspirations"].get(lab)) if lab in SIGNS else "-"
        lines.append(f"| `{lab}` | {fmt(ag['labels'][lab])} | {asp} |")
    return "\n".join(lines) + "\n"


def cmd_datasheet(records: list[dict], passes: dict[str, dict[str, dict]]) -> None:
    """Write stats.json and the generated section of DATASHEET.md."""
    st = stats(records, passes)
    (HERE / "stats.json").write_text(json.dumps(st, indent=1) + "\n", encoding="utf-8")
    sheet = HERE / "DATASHEET.md"
    text = sheet.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    sheet.write_text(head + BEGIN + "\n" + to_markdown(st) + END + tail, encoding="utf-8")
    print(to_markdown(st))
