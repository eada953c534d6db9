"""Labelled data: the one reader of labelled files, corpus splits, near-duplicates, labeller agreement.

The corpus lives in the repository's ``corpora/`` as ``train.jsonl``,
``dev.jsonl`` and ``test.jsonl`` with fields ``id, text, register, sector,
labels, aspirations``. :func:`read_labelled` reads that layout, and any CSV or
JSONL file with a text column plus label lists or 0/1 label columns, for
evaluation, training and fine-tuning alike.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._hashing import file_sha256
from .labels import LABELS, SIGNS, from_multi_hot, label_matrix

__all__ = [
    "SPLITS",
    "LabelledData",
    "read_labelled",
    "labelled_from_rows",
    "read_jsonl",
    "corpus_dir",
    "load_corpus",
    "load_split",
    "file_sha256",
    "near_duplicates",
    "agreement",
]

SPLITS = ("train", "dev", "test")


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read a JSONL file into a list of dicts, naming the line of any bad row."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
    return rows


@dataclass(frozen=True)
class LabelledData:
    """Labelled units, ready for fitting or evaluation.

    Attributes:
        texts: The unit texts.
        y: ``(n, len(labels))`` int8 0/1 label matrix.
        a: ``(n, len(aspiration_labels))`` int8 aspirations, or ``None`` when the data has none.
        registers: Register of each unit (``"unknown"`` where not given).
        labels: The label ids (columns of ``y``).
        aspiration_labels: The aspiration ids (columns of ``a``); empty when ``a`` is ``None``.
    """

    texts: list[str]
    y: np.ndarray
    a: np.ndarray | None
    registers: list[str]
    labels: tuple[str, ...]
    aspiration_labels: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.texts)

    def label_lists(self) -> list[list[str]]:
        """The labels of each unit as lists of ids."""
        return from_multi_hot(self.y, self.labels)

    def aspiration_lists(self) -> list[list[str]] | None:
        """The aspirations of each unit as lists of ids (``None`` when the data has none)."""
        return None if self.a is None else from_multi_hot(self.a, self.aspiration_labels)


def _zero_one(value: Any, where: str) -> int:
    if value in (0, 1, True, False) or (isinstance(value, str) and value.strip() in ("0", "1")):
        return int(value) if not isinstance(value, str) else int(value.strip())
    raise ValueError(f"{where} is {value!r}; label columns must hold 0 or 1")


def labelled_from_rows(
    rows: Iterable[Mapping[str, Any]],
    *,
    labels: Sequence[str] | None = None,
    text_column: str = "text",
    aspiration_labels: Sequence[str] | None = None,
    source: str = "data",
) -> LabelledData:
    """Labelled units from dicts (JSONL rows, CSV rows or a list built in code).

    Two layouts: a ``labels`` field holding label ids (a list, or a CSV cell
    ``"a;b"``), with an optional ``aspirations`` field; or one 0/1 field per
    label (name them with ``labels``).

    Args:
        rows: One mapping per unit.
        labels: The label set. Default: the contract's LABELS for the list
            layout; required for the column layout.
        text_column: Field with the text.
        aspiration_labels: Aspiration ids (list layout only); default SIGNS when
            every row has ``aspirations`` and the label set is LABELS.
        source: Names the data in error messages (a file path).

    Returns:
        :class:`LabelledData`.

    Raises:
        ValueError: Naming the row, for unknown or malformed labels or missing text.
    """
    rows = list(rows)
    if not rows:
        raise ValueError(f"{source}: no labelled units")
    cols = set().union(*(r.keys() for r in rows))
    texts = []
    for i, row in enumerate(rows):
        text = row.get(text_column)
        if not isinstance(text, str) or not text.strip():
            if text_column not in cols:
                raise ValueError(f"{source}: no text column {text_column!r}; columns are {sorted(cols)}")
            raise ValueError(f"{source}: row {i} has no text in {text_column!r}")
        texts.append(text)
    registers = [str(r.get("register") or "unknown") for r in rows]
    if "labels" in cols and (labels is None or not set(labels) <= cols):
        label_set = tuple(labels) if labels is not None else LABELS
        y = _matrix(rows, "labels", label_set, source)
        asp_set: tuple[str, ...] = ()
        a = None
        if all("aspirations" in r for r in rows):
            asp_set = tuple(aspiration_labels) if aspiration_labels is not None else (SIGNS if label_set == LABELS else ())
            a = _matrix(rows, "aspirations", asp_set, source) if asp_set else None
        return LabelledData(texts, y, a, registers, label_set, asp_set if a is not None else ())
    if not labels:
        raise ValueError(f"{source}: no 'labels' column; name the 0/1 label columns with labels=[...] (--labels a,b,c)")
    label_set = tuple(labels)
    missing = [c for c in label_set if c not in cols]
    if missing:
        raise ValueError(f"{source}: label columns {missing} not found; columns are {sorted(cols)}")
    y = np.array(
        [[_zero_one(r.get(c), f"{source}: row {i} column {c!r}") for c in label_set] for i, r in enumerate(rows)],
        dtype=np.int8,
    ).reshape(len(rows), len(label_set))
    return LabelledData(texts, y, None, registers, label_set, ())


def _matrix(rows: list[Mapping[str, Any]], field: str, label_set: Sequence[str], source: str) -> np.ndarray:
    try:
        return label_matrix([r.get(field) for r in rows], label_set)
    except ValueError as exc:
        raise ValueError(f"{source}: {field}: {exc}") from None


def read_labelled(
    path: str | Path,
    labels: Sequence[str] | None = None,
    text_column: str = "text",
    aspiration_labels: Sequence[str] | None = None,
) -> LabelledData:
    """Read labelled units from a CSV or JSONL file (the one reader for evaluate, train and finetune).

    See :func:`labelled_from_rows` for the two layouts. In a CSV, a ``labels``
    cell holds ids separated by ``;`` or ``,`` (or a JSON list); empty means none.

    Args:
        path: A ``.jsonl`` file, a ``.json`` file (JSON lines or one array of
            rows) or a ``.csv`` file.
        labels: The label set (required for 0/1 label columns).
        text_column: Column with the text.
        aspiration_labels: Aspiration ids for the list layout.

    Returns:
        :class:`LabelledData`.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: For another suffix, or naming the row of a bad entry.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".json" and path.read_text(encoding="utf-8").lstrip().startswith("["):
        rows = json.loads(path.read_text(encoding="utf-8"))  # one JSON array of rows
    elif suffix in (".jsonl", ".json"):
        rows = read_jsonl(path)
    elif suffix == ".csv":
        # utf-8-sig: spreadsheets often save a byte-order mark before the header.
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = [{k: (v if v != "" else None) for k, v in r.items() if k is not None} for r in csv.DictReader(fh)]
    else:
        raise ValueError(f"{path}: use a .jsonl or .csv file")
    return labelled_from_rows(
        rows, labels=labels, text_column=text_column, aspiration_labels=aspiration_labels, source=str(path)
    )


def _version_key(path: Path) -> tuple[int, ...]:
    digits = "".join(ch if ch.isdigit() else " " for ch in path.name).split()
    return tuple(int(d) for d in digits)


def corpus_dir(path: str | Path | None = None) -> Path:
    """Find the corpus splits: ``path``, else ``./corpora``, else the source checkout's ``corpora/``.

    In each place, the splits are either right there (``train.jsonl``...) or in
    a version folder (``v1/``, ``v2/``...); the highest version wins.
    """
    candidates = [Path(path)] if path is not None else [Path.cwd() / "corpora", Path(__file__).resolve().parent.parent / "corpora"]
    for cand in candidates:
        if (cand / "train.jsonl").is_file():
            return cand
        versions = sorted((d for d in cand.glob("v[0-9]*") if (d / "train.jsonl").is_file()), key=_version_key)
        if versions:
            return versions[-1]
    raise FileNotFoundError(
        f"no corpus found (looked for train.jsonl in {', '.join(str(c) for c in candidates)} and their v*/ folders); pass --corpus DIR"
    )


def load_split(split: str, path: str | Path | None = None) -> list[dict[str, Any]]:
    """One split as a list of dicts (no ``datasets`` cache involved)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return read_jsonl(corpus_dir(path) / f"{split}.jsonl")


def load_corpus(path: str | Path | None = None):
    """The corpus as a ``datasets.DatasetDict`` with train, dev and test splits.

    Args:
        path: The corpus directory; found automatically when ``None``.

    Returns:
        ``datasets.DatasetDict``.

    Raises:
        ImportError: If ``datasets`` is not installed (it is the ``[datasets]``
            extra: nothing else in lo_signals needs it).
    """
    try:
        from datasets import load_dataset
    except ImportError as exc:
        raise ImportError("load_corpus needs the datasets package: pip install 'lo_signals[datasets]'") from exc

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
    A = label_matrix(pass_a, labels)
    B = label_matrix(pass_b, labels)
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

