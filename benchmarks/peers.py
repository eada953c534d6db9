"""What a user would pick instead, side by side with lo_signals, in one run.

Peers, each scored on the corpus test split (quality) and on the same 10,000
sentences (speed, single process):
- Empath (stock `Empath().analyze` over all 194 categories, the user's obvious
  off-the-shelf choice). Empath has no learning-organisation categories, so its
  output is mapped to our labels by the category sets below (a unit gets a
  label when any mapped category fires); the mapping is ours and generous.
- A keyword regex: each label fires on its obvious vocabulary, no negation, no
  rhetoric handling (what a quick analysis script does).
- Zero-shot similarity with the same encoder as the transformer model
  (all-MiniLM-L6-v2, mean-pooled): cosine between a unit and each label's
  description, with per-label thresholds tuned on dev.
- lo_signals' default and transformer models.

Usage: python benchmarks/peers.py [--n 10000]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

EMPATH_MAP = {
    "community_of_learners": ["school", "reading", "college", "help", "friends"],
    "dispersed_leadership": ["leader", "power", "independence"],
    "open_dialogue": ["communication", "speaking", "listen", "hearing", "trust"],
    "ongoing_transformation": ["achievement", "optimism", "gain"],
    "blame_defensiveness": ["fear", "shame", "nervousness", "aggression", "deception", "dispute", "ridicule", "anger"],
}
KEYWORDS = {
    "community_of_learners": r"\b(learn\w*|teach\w*|mentor\w*|coach\w*|train\w*|share[ds]? (lessons|learning)|reflect\w*)\b",
    "dispersed_leadership": r"\b(lead\w*|empower\w*|autonom\w*|devolv\w*|champion\w*|own(ership)?)\b",
    "open_dialogue": r"\b(speak(ing)? up|raise[ds]? concerns?|listen\w*|open(ly|ness)?|challeng\w*|honest\w*|candou?r|transparen\w*)\b",
    "ongoing_transformation": r"\b(chang\w*|improv\w*|redesign\w*|transform\w*|pilot\w*|new (process|pathway|system))\b",
    "blame_defensiveness": r"\b(blam\w*|fear\w*|afraid|scared|defensiv\w*|cover(ed)?[- ]up|bull(y|ied|ying)|scapegoat\w*)\b",
}


def _labels_from_bool(m: np.ndarray, labels) -> list[list[str]]:
    return [[labels[j] for j in np.flatnonzero(r)] for r in m]


def main() -> None:
    from common import machine, sentences
    from lo_signals.corpus import load_split
    from lo_signals.evaluation import evaluate_predictions
    from lo_signals.labels import LABELS, TAXONOMY
    from lo_signals.scorers.base import tune_thresholds

    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10000)
    args = parser.parse_args()
    test, dev = load_split("test"), load_split("dev")
    texts = [r["text"] for r in test]
    gold = [r["labels"] for r in test]
    gasp = [r["aspirations"] for r in test]
    bench = sentences(args.n)
    rows = []

    def record(name: str, predict_fn, n_speed: int | None = None):
        preds = predict_fn(texts)
        m = evaluate_predictions(gold, preds, gold_aspirations=gasp, n_boot=500)
        sample = bench[: n_speed or len(bench)]
        predict_fn(sample[:100])
        t0 = time.perf_counter()
        predict_fn(sample)
        speed = len(sample) / (time.perf_counter() - t0)
        rows.append((name, m["macro_f1"], m.get("rhetoric_fpr", {}).get("value", float("nan")), speed, len(sample)))
        print(f"  done {name}", file=sys.stderr, flush=True)

    from empath import Empath

    lex = Empath()

    def empath_predict(ts):
        out = []
        for t in ts:
            scores = lex.analyze(t, normalize=False)
            out.append([l for l, cats in EMPATH_MAP.items() if any(scores.get(c, 0) > 0 for c in cats)])
        return out

    record("Empath (stock analyze, mapped)", empath_predict)
    compiled = {l: re.compile(p, re.IGNORECASE) for l, p in KEYWORDS.items()}
    record("keyword regex", lambda ts: [[l for l in LABELS if compiled[l].search(t)] for t in ts])

    import lo_signals

    default = lo_signals.load()
    record("lo_signals default", default.predict)
    try:
        from common import minilm_embedder

        embed = minilm_embedder()

        label_emb = embed([f"{t.name}: {t.description}" for t in TAXONOMY])
        dev_sims = embed([r["text"] for r in dev]) @ label_emb.T
        from lo_signals.labels import to_multi_hot

        # Cosines are mapped to [0, 1] so the shared threshold grid applies.
        thr = tune_thresholds(to_multi_hot([r["labels"] for r in dev]), (dev_sims + 1) / 2)

        def zero_shot(ts):
            sims = (embed(list(ts)) @ label_emb.T + 1) / 2
            return _labels_from_bool(sims >= thr, LABELS)

        record("zero-shot similarity (MiniLM)", zero_shot, n_speed=2000)
        transformer = lo_signals.load("transformer")
        record("lo_signals transformer (fp32)", transformer.predict, n_speed=2000)
    except ImportError as exc:
        print(f"  skipped encoder-based rows: {exc}", file=sys.stderr)

    print(f"# peers on the corpus test split (n={len(texts)}) and speed on the same sentences, {machine()}")
    print("| method | test macro F1 [95% CI] | rhetoric FP rate | sentences/s | speed sample |")
    print("|---|---|---|---|---|")
    for name, mf, rfpr, speed, n in rows:
        print(f"| {name} | {mf['value']:.3f} [{mf['ci95'][0]:.3f}, {mf['ci95'][1]:.3f}] | {rfpr:.3f} | {speed:.0f} | {n} |")
    speeds = {name: speed for name, _, _, speed, _ in rows}
    print(f"\ndefault / Empath throughput: {speeds['lo_signals default'] / speeds['Empath (stock analyze, mapped)']:.1f}x")


if __name__ == "__main__":
    main()
