"""Shortcut report: how far a corpus can be solved without reading for the signs.

A corpus written to a brief leaks how it was written: labelled units may be
longer, or use stock phrases. This script measures three such shortcuts and
prints a Markdown report (also written to ``--out``):

- word-count AUC: how well the number of words alone separates units with
  any label from units with none (0.5 = no signal; reported as max(AUC, 1-AUC));
- stop-words-only macro-F1: a logistic regression that sees only counts of
  English stop words, fitted on train and scored on test;
- top weighted words per label of a plain TF-IDF logistic regression.

    python corpora/shortcuts.py --train corpora/train.jsonl --test corpora/test.jsonl
    python corpora/shortcuts.py --train corpora/real/build/train.jsonl --test corpora/real/build/test.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lo_signals.labels import LABELS  # noqa: E402

GOALS = {"auc": 0.70, "stop_f1": 0.45}


def _read(path: Path) -> tuple[list[str], np.ndarray]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    y = np.array([[lab in r.get("labels", []) for lab in LABELS] for r in rows], dtype=int)
    return [r["text"] for r in rows], y


def shortcut_report(train: Path, test: Path, seed: int = 0) -> dict:
    """Compute the three shortcut measures.

    Returns:
        ``{"word_count_auc", "stop_words_macro_f1", "top_words": {label: [...]}, "n_train", "n_test"}``.
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, roc_auc_score

    x_tr, y_tr = _read(train)
    x_te, y_te = _read(test)
    words = np.array([len(t.split()) for t in x_tr + x_te])
    any_label = np.concatenate([y_tr.any(1), y_te.any(1)]).astype(int)
    auc = roc_auc_score(any_label, words)
    auc = max(auc, 1 - auc)

    stop = CountVectorizer(vocabulary=sorted(ENGLISH_STOP_WORDS), lowercase=True, token_pattern=r"(?u)\b\w+\b")
    s_tr, s_te = stop.transform(x_tr), stop.transform(x_te)
    # Length is a stop-word-only feature too: the total count is kept on purpose.
    preds = np.zeros_like(y_te)
    for j in range(len(LABELS)):
        if y_tr[:, j].min() == y_tr[:, j].max():
            continue
        clf = LogisticRegression(max_iter=2000, class_weight="balanced", random_state=seed).fit(s_tr, y_tr[:, j])
        preds[:, j] = clf.predict(s_te)
    stop_f1 = float(f1_score(y_te, preds, average="macro", zero_division=0))

    tfidf = TfidfVectorizer(lowercase=True, min_df=2, ngram_range=(1, 1), sublinear_tf=True)
    t_tr = tfidf.fit_transform(x_tr)
    vocab = np.array(tfidf.get_feature_names_out())
    top = {}
    for j, lab in enumerate(LABELS):
        if y_tr[:, j].min() == y_tr[:, j].max():
            top[lab] = []
            continue
        clf = LogisticRegression(max_iter=2000, class_weight="balanced", random_state=seed).fit(t_tr, y_tr[:, j])
        top[lab] = vocab[np.argsort(clf.coef_[0])[::-1][:10]].tolist()
    return {
        "n_train": len(x_tr), "n_test": len(x_te),
        "word_count_auc": round(float(auc), 3), "stop_words_macro_f1": round(stop_f1, 3), "top_words": top,
    }


def to_markdown(rep: dict, title: str) -> str:
    """The report as a Markdown section."""
    ok_auc = "meets" if rep["word_count_auc"] <= GOALS["auc"] else "misses"
    ok_f1 = "meets" if rep["stop_words_macro_f1"] <= GOALS["stop_f1"] else "misses"
    lines = [
        f"### Shortcut report: {title}",
        "",
        f"Train {rep['n_train']} units, test {rep['n_test']} units (`python corpora/shortcuts.py`).",
        "",
        "| shortcut | value | goal |",
        "|---|---|---|",
        f"| word-count AUC, labelled vs unlabelled | {rep['word_count_auc']:.3f} | <= {GOALS['auc']:.2f} ({ok_auc}) |",
        f"| stop-words-only model, test macro-F1 | {rep['stop_words_macro_f1']:.3f} | <= {GOALS['stop_f1']:.2f} ({ok_f1}) |",
        "",
        "Top weighted words per label (TF-IDF logistic regression on train):",
        "",
        "| label | words |",
        "|---|---|",
    ]
    lines += [f"| `{lab}` | {', '.join(words)} |" for lab, words in rep["top_words"].items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", type=Path, default=ROOT / "corpora" / "train.jsonl")
    ap.add_argument("--test", type=Path, default=ROOT / "corpora" / "test.jsonl")
    ap.add_argument("--title", default="written corpus")
    ap.add_argument("--out", type=Path, help="also write the JSON figures here")
    args = ap.parse_args()
    rep = shortcut_report(args.train, args.test)
    if args.out:
        args.out.write_text(json.dumps(rep, indent=1) + "\n", encoding="utf-8")
    print(to_markdown(rep, args.title))


if __name__ == "__main__":
    main()
