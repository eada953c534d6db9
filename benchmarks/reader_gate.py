"""Does a sentence-embedding relevance gate raise the default's precision on natural text?

The gate asks one question of every unit: is it about how an organisation and
its people work, in the way the labelled signs are? It is a logistic
regression on frozen all-MiniLM-L6-v2 sentence embeddings (the packaged,
checksum-verified encoder; mean pooling), fitted on the training units with
any label or aspiration (positives) against the natural-text pool's negatives
and the labelled units with none. The default flags a unit only when the gate
also says yes (probability >= g). Everything is chosen and compared on the dev
pool's judged flags; the audit pool is not read.

    python benchmarks/reader_gate.py [--max-negatives 20000]

Prints, per gate cut-off, the dev pool's flags and the judged precision among
them, and real dev recall per label. Needs the [transformers] extra.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "corpora" / "audit"))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-negatives", type=int, default=20000)
    args = ap.parse_args()

    import audit
    from common import minilm_embedder
    from sklearn.linear_model import LogisticRegression

    import lo_signals
    from lo_signals.labels import LABELS
    from lo_signals.train import pool_rows, training_data

    data = training_data(pool=False)
    pool, _ = pool_rows()
    rng = np.random.default_rng(0)
    neg = [pool[i] for i in rng.permutation(len(pool))[: args.max_negatives] if not pool[i]["labels"]]
    pos_lab = [t for t, y, a in zip(data.train.texts, data.train.y, data.train.a) if y.any() or a.any()]
    none_lab = [t for t, y, a in zip(data.train.texts, data.train.y, data.train.a) if not (y.any() or a.any())]
    X_text = pos_lab + none_lab + [r["text"] for r in neg]
    y = np.array([1] * len(pos_lab) + [0] * (len(none_lab) + len(neg)))
    t0 = time.time()
    embed = minilm_embedder()  # loaded once for every call below
    X = embed(X_text)
    print(f"embedded {len(X_text)} training texts in {time.time() - t0:.0f} s")
    gate = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced").fit(X, y)

    model = lo_signals.load()
    units = audit.pool_units("dev_pool")
    texts = [u["text"] for u in units]
    _, _, labels, _ = model.predict_all(texts)
    flagged = [i for i, r in enumerate(labels) if r]
    g = np.zeros(len(units))
    g[flagged] = gate.predict_proba(embed([texts[i] for i in flagged]))[:, 1]
    cache = audit.judgements()
    dev_p = model.predict_proba(data.dev.texts)
    dev_g = gate.predict_proba(embed(data.dev.texts))[:, 1]
    for cut in (0.0, 0.3, 0.5, 0.7, 0.8, 0.9):
        n = right = judged = 0
        for i in flagged:
            if g[i] < cut:
                continue
            for label in labels[i]:
                n += 1
                k = audit.key_of(units[i]["sha256"], label)
                if k in cache:
                    judged += 1
                    right += cache[k]["final"] == "yes"
        on = (dev_p >= model.thresholds_[None, :]) & (dev_g[:, None] >= cut)
        recall = [(on[:, j] & (data.dev.y[:, j] == 1)).sum() / max(1, data.dev.y[:, j].sum()) for j in range(len(LABELS))]
        print(f"gate >= {cut:.1f}: dev-pool flags {n}, judged {judged}, right {right} ({right / max(judged, 1):.2f}); "
              f"real-dev recall per label {np.round(recall, 2).tolist()}")
    print(f"machine: {platform.machine()}, python {platform.python_version()}")


if __name__ == "__main__":
    main()
