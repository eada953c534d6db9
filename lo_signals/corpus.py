"""The labelled corpus: loading splits, near-duplicate detection, labeller agreement.

The corpus lives in the repository's ``corpora/`` as ``train.jsonl``,
``dev.jsonl`` and ``test.jsonl`` with fields ``id, text, register, sector,
labels, aspirations``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._hashing import file_sha256
from .labels import LABELS, to_multi_hot

__all__ = [
    "SPLITS",
    "corpus_dir",
    "load_corpus",
    "load_split",
    "file_sha256",
    "near_duplicates",
    "agreement",
]

SPLITS = ("train", "dev", "test")


def corpus_dir(path: str | Path | None = None) -> Path:
    """Find the corpus: ``path``, else ``./corpora``, else the source checkout's ``corpora/``."""
    candidates = [Path(path)] if path is not None else [Path.cwd() / "corpora", Path(__file__).resolve().parent.parent / "corpora"]
    for cand in candidates:
        if (cand / "train.jsonl").is_file():
            return cand
    raise FileNotFoundError(
        f"no corpus found (looked for train.jsonl in {', '.join(str(c) for c in candidates)}); pass --corpus DIR"
    )


def load_split(split: str, path: str | Path | None = None) -> list[dict[str, Any]]:
    """One split as a list of dicts (no ``datasets`` cache involved)."""
    from .evaluation import read_jsonl

    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return read_jsonl(corpus_dir(path) / f"{split}.jsonl")


def load_corpus(path: str | Path | None = None):
    """The corpus as a ``datasets.DatasetDict`` with train, dev and test splits.

    Args:
        path: The corpus directory; found automatically when ``None``.

    Returns:
        ``datasets.DatasetDict``.
    """
    from datasets import load_dataset

    root = corpus_dir(path)
    files = {split: str(root / f"{split}.jsonl") for split in SPLITS}
    return load_dataset("json", data_files=files)


def near_duplicates(texts: Sequence[str], threshold: float = 0.8, other: Sequence[str] | None = None) -> list[tuple[int, int, float]]:
    """Pairs of texts whose character 3-5-gram TF-IDF cosine similarity is at least ``threshold``.

    Args:
        texts: The texts to compare.
        threshold: Similarity at or above which a pair counts as a near-duplicate.
        other: If given, compare ``texts`` against ``other`` instead of against themselves.

    Returns:
        ``(i, j, similarity)`` triples; ``i < j`` when comparing within ``texts``.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=True, sublinear_tf=True)
    vec.fit(list(texts) + list(other or []))
    a = vec.transform(texts)
    b = vec.transform(other) if other is not None else a
    sims = (a @ b.T).tocoo()
    out = []
    for i, j, s in zip(sims.row, sims.col, sims.data):
        if s >= threshold and (other is not None or i < j):
            out.append((int(i), int(j), float(s)))
    return sorted(out, key=lambda x: -x[2])


def _krippendorff_alpha_binary(a: np.ndarray, b: np.ndarray) -> float:
    """Krippendorff's alpha for two coders, binary nominal data, no missing values."""
    n = len(a)
    values = np.concatenate([a, b])
    n_pairable = 2 * n
    p1 = values.mean()
    expected = 2 * p1 * (1 - p1) * n_pairable / (n_pairable - 1)
    observed = float(np.mean(a != b))
    if expected == 0:
        return 1.0
    return float(1 - observed / expected)


def agreement(pass_a: Sequence[Sequence[str]], pass_b: Sequence[Sequence[str]], labels: Sequence[str] = LABELS) -> dict[str, dict[str, float]]:
    """Per-label Cohen's kappa, Krippendorff's alpha and raw agreement between two passes.

    Args:
        pass_a: Label ids per unit from one labeller.
        pass_b: Label ids per unit from the other, same units and order.
        labels: The label ids to compare.

    Returns:
        ``{label: {"kappa", "alpha", "agreement", "positives_a", "positives_b"}}``.
    """
    from sklearn.metrics import cohen_kappa_score

    if len(pass_a) != len(pass_b):
        raise ValueError("the two passes cover different numbers of units")
    A = to_multi_hot(pass_a, labels)
    B = to_multi_hot(pass_b, labels)
    out = {}
    for j, label in enumerate(labels):
        a, b = A[:, j], B[:, j]
        kappa = 1.0 if (a == b).all() else float(cohen_kappa_score(a, b))
        out[label] = {
            "kappa": kappa,
            "alpha": _krippendorff_alpha_binary(a, b),
            "agreement": float((a == b).mean()),
            "positives_a": int(a.sum()),
            "positives_b": int(b.sum()),
        }
    return out

