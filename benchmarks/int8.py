"""CPU int8 (torch dynamic quantisation) against fp32 for the bundled transformer model.

Prints throughput of both on the corpus test split (423 units, repeated to
2,000) and label agreement: the share of (unit, label) decisions, and of whole
units, on which int8 and fp32 agree, plus test macro-F1 of each.

Usage: python benchmarks/int8.py [MODEL_DIR]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    import numpy as np

    from common import machine
    from lo_signals.corpus import load_split
    from lo_signals.evaluation import evaluate_predictions
    from lo_signals.models import load, model_dir

    path = model_dir(sys.argv[1] if len(sys.argv) > 1 else "transformer")
    rows = load_split("test")
    texts = [r["text"] for r in rows]
    bench = [texts[i % len(texts)] for i in range(2000)]
    print(f"# int8 vs fp32 for {path} on {machine()}")
    preds = {}
    for precision in ("fp32", "int8"):
        model = load(path, precision=precision, device="cpu")
        model.predict_all_proba(bench[:100])
        t0 = time.perf_counter()
        model.predict_all_proba(bench)
        speed = len(bench) / (time.perf_counter() - t0)
        lp, _, labels, asps = model.predict_all(texts)
        m = evaluate_predictions([r["labels"] for r in rows], labels, lp, gold_aspirations=[r["aspirations"] for r in rows],
                                 pred_aspirations=asps, n_boot=200)
        preds[precision] = (lp >= model.thresholds_, labels)
        print(f"{precision}: {speed:.1f} sentences/s; test macro-F1 {m['macro_f1']['value']:.3f}; rhetoric FP rate {m['rhetoric_fpr']['value']:.3f}")
    a, b = preds["fp32"][0], preds["int8"][0]
    print(f"label agreement int8 vs fp32: {np.mean(a == b):.4f} of unit-label decisions; {np.mean((a == b).all(1)):.4f} of units identical")


if __name__ == "__main__":
    main()
