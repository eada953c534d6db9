"""Choose the training mix and the default model on REAL dev (never test).

Fits candidate CPU models on the written corpus alone and on written plus
real train (real units optionally repeated, since they are few and the
written corpus is large), tunes thresholds on real dev, and prints real-dev
macro-F1 per candidate and per register, plus speed on 2,000 real sentences.
The test splits are not read.

    python benchmarks/real_select.py [--snapshots DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from lo_signals.corpus import labelled_from_rows, read_jsonl
    from lo_signals.evaluation import evaluate
    from lo_signals.models import backend_class
    from lo_signals.standoff import load_real_split
    from lo_signals.train import DEFAULT_PARAMS, LINEAR_PARAMS

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--snapshots", default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "real-select-dev.md")
    args = ap.parse_args()

    written = {s: read_jsonl(ROOT / "corpora" / f"{s}.jsonl") for s in ("train", "dev")}
    real = {s: load_real_split(s, args.snapshots) for s in ("train", "dev")}
    dev = labelled_from_rows(real["dev"])
    candidates = {
        "linear | written": ("linear", LINEAR_PARAMS, 0),
        "default | written": ("linear", DEFAULT_PARAMS, 0),
        "linear | written + real": ("linear", LINEAR_PARAMS, 1),
        "default | written + real": ("linear", DEFAULT_PARAMS, 1),
        "default | written + real x2": ("linear", DEFAULT_PARAMS, 2),
        "default | written + real x3": ("linear", DEFAULT_PARAMS, 3),
    }
    speed_texts = [r["text"] for r in (real["train"] * 3)[:2000]]
    lines = [
        f"# Model choice on real dev ({len(dev)} units; thresholds tuned on real dev)",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {platform.system()}; written train {len(written['train'])}, "
        f"real train {len(real['train'])}. Command: `python benchmarks/real_select.py`.",
        "",
        "| candidate | real-dev macro-F1 | staff | board | inquiry | rhetoric FP rate | sentences/s |",
        "|---|---|---|---|---|---|---|",
    ]
    results = {}
    for name, (backend, params, repeat) in candidates.items():
        rows = written["train"] + real["train"] * repeat
        data = labelled_from_rows(rows)
        model = backend_class(backend)(**params)
        model.fit(data.texts, data.y, aspirations=data.a, X_dev=dev.texts, y_dev=dev.y, aspirations_dev=dev.a)
        t0 = time.perf_counter()
        model.predict_proba(speed_texts)
        speed = len(speed_texts) / (time.perf_counter() - t0)
        m = next(iter(evaluate(model, dev, n_boot=20)["models"].values()))
        reg = {k: v["macro_f1"] for k, v in m.get("macro_f1_by_register", {}).items()}
        rfp = m.get("rhetoric_fpr", {}).get("value", float("nan"))
        per_label = {k: round(v["f1"], 3) for k, v in m["per_label"].items()}
        results[name] = {"macro_f1": m["macro_f1"]["value"], "by_register": reg, "rhetoric_fpr": rfp, "per_label": per_label, "speed": speed}
        lines.append(
            f"| {name} | {m['macro_f1']['value']:.3f} | {reg.get('staff_feedback', float('nan')):.3f} | {reg.get('board_paper', float('nan')):.3f} | "
            f"{reg.get('inquiry_report', float('nan')):.3f} | {rfp:.3f} | {speed:,.0f} |"
        )
        print(lines[-1], flush=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (args.out.with_suffix(".json")).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
