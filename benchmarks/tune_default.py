"""Hyper-parameter sweep for the default (hybrid) and linear backends, scored on dev only.

Thresholds come from 3-fold cross-validation on train, so dev is touched only for
the comparison. The test split is never read. Usage: python benchmarks/tune_default.py
"""

from __future__ import annotations

import itertools
import json
import platform
import time

from lo_signals.corpus import load_split
from lo_signals.evaluation import evaluate_predictions
from lo_signals.scorers.linear import LinearScorer


def main() -> None:
    train, dev = load_split("train"), load_split("dev")
    grid = {
        "features": ["tfidf", "hybrid"],
        "C": [4.0, 16.0],
        "char_ngrams": [(2, 5), (3, 5)],
        "rhetoric_discount": [0.0, 0.5, 1.0],
    }
    print(f"# dev sweep on {platform.processor() or platform.machine()}, python {platform.python_version()}")
    rows = []
    for values in itertools.product(*grid.values()):
        params = dict(zip(grid, values))
        t0 = time.perf_counter()
        model = LinearScorer(cv=3, **params).fit(
            [r["text"] for r in train], [r["labels"] for r in train], aspirations=[r["aspirations"] for r in train]
        )
        texts = [r["text"] for r in dev]
        m = evaluate_predictions(
            [r["labels"] for r in dev], model.predict(texts),
            gold_aspirations=[r["aspirations"] for r in dev], pred_aspirations=model.predict_aspirations(texts), n_boot=10,
        )
        row = {**params, "dev_macro_f1": round(m["macro_f1"]["value"], 4), "dev_rhetoric_fpr": round(m["rhetoric_fpr"]["value"], 4),
               "dev_asp_macro_f1": round(m["aspirations"]["macro_f1"], 4), "fit_s": round(time.perf_counter() - t0, 1)}
        rows.append(row)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
