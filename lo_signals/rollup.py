"""Roll unit tables up to documents, folders or any metadata column, with bootstrap intervals.

Public as :func:`lo_signals.aggregate`. The module is not called ``aggregate``:
importing a submodule binds it as an attribute of the package, which would
replace the function ``lo_signals.aggregate`` with the module.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .labels import LABELS, SIGNS, label_matrix

__all__ = ["aggregate", "group_keys", "unit_matrices", "rates"]


def group_keys(by) -> list[str]:
    """Grouping columns as a list: ``None`` -> ``[]``, a name -> ``[name]``, any list-like (list, tuple, array, Series) -> its items."""
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return [str(b) for b in by]


def _indicators(column, labels: Sequence[str]) -> np.ndarray:
    """Boolean ``(n, len(labels))`` indicators of a labels column, through the shared :func:`label_matrix`.

    A unit table holds few distinct label strings (at most one per label
    combination), so each distinct value is converted once; missing values
    (NaN, None) mean no labels.
    """
    import pandas as pd

    try:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
    except TypeError:  # cells holding lists are unhashable: convert row by row
        cells = [v if isinstance(v, (str, list, tuple, np.ndarray)) or not pd.isna(v) else None for v in column]
        return label_matrix(cells, labels).astype(bool)
    # Code -1 (missing) picks the all-false row appended last.
    table = np.vstack([label_matrix(list(uniques), labels), np.zeros((1, len(labels)), np.int8)]).astype(bool)
    return table[codes]


def unit_matrices(df) -> tuple[np.ndarray, np.ndarray]:
    """The evidence and aspiration indicators of a unit table.

    Args:
        df: A frame with a ``labels`` column and optionally ``aspirations``
            (``;``-joined strings or lists of ids).

    Returns:
        ``(evidence, aspirations)``: boolean arrays of shape ``(n, len(LABELS))``
        and ``(n, len(SIGNS))``.

    Raises:
        ValueError: If the frame has no ``labels`` column, or a cell holds an
            id that is not a label (naming it).
    """
    if "labels" not in df.columns:
        raise ValueError("the frame needs a 'labels' column (score it first)")
    ev = _indicators(df["labels"], LABELS)
    asp = _indicators(df["aspirations"], SIGNS) if "aspirations" in df.columns else np.zeros((len(df), len(SIGNS)), bool)
    return ev, asp


def aggregate(df, by: str | Sequence[str] | None = "doc_id", *, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05):
    """Evidence and rhetoric rates per group, with percentile bootstrap intervals.

    Rates are per 100 units. Intervals resample units within each group.

    Args:
        df: A unit table (``sentences.csv`` / :func:`lo_signals.score_documents`
            output, or :func:`lo_signals.score_frame` output) with ``labels``
            and ``aspirations`` columns (``;``-joined strings or lists).
        by: Column name(s) to group by (a string, list, tuple or array).
            ``"folder"`` groups by the parent folder of ``path``; ``None`` or
            ``[]`` pools every unit.
        n_boot: Bootstrap resamples (0 skips intervals).
        seed: Random seed.
        alpha: 1 - interval coverage.

    Returns:
        ``pandas.DataFrame``: one row per group with ``units``, then for each
        label ``{label}_count``, ``{label}_rate``, ``{label}_rate_lo``,
        ``{label}_rate_hi``, and for each sign ``{sign}_rhetoric_count``,
        ``{sign}_rhetoric_rate`` and ``{sign}_gap`` (rhetoric minus evidence rate).
    """
    keys = group_keys(by)
    ev, asp = unit_matrices(df)
    if "folder" in keys and "folder" not in df.columns:
        if "path" not in df.columns:
            raise ValueError("grouping by 'folder' needs a 'path' column")
        df = df.assign(folder=[str(Path(p).parent) for p in df["path"]])
    return rates(df, keys, ev, asp, n_boot=n_boot, seed=seed, alpha=alpha)


def rates(df, keys: Sequence[str], ev: np.ndarray, asp: np.ndarray, *, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05):
    """:func:`aggregate` on indicator matrices already computed (the report builds them chunk by chunk).

    Args:
        df: A frame holding the grouping columns, row-aligned with ``ev`` and ``asp``.
        keys: The grouping columns (empty pools every row).
        ev: ``(n, len(LABELS))`` evidence indicators.
        asp: ``(n, len(SIGNS))`` aspiration indicators.
        n_boot: Bootstrap resamples (0 skips intervals).
        seed: Random seed.
        alpha: 1 - interval coverage.

    Returns:
        The frame :func:`aggregate` returns.
    """
    import pandas as pd

    keys = list(keys)
    missing = [k for k in keys if k not in df.columns]
    if missing:
        raise ValueError(f"no column(s) {missing} to group by; columns are {list(df.columns)}")
    ev = np.asarray(ev, dtype=bool)
    asp = np.asarray(asp, dtype=bool)
    # Each unit's evidence pattern as one integer: the bootstrap only needs pattern counts.
    codes = ev.astype(np.int64) @ (1 << np.arange(ev.shape[1], dtype=np.int64))
    rng = np.random.default_rng(seed)
    groups = df.groupby(keys, sort=True, dropna=False).indices if keys else {"all": np.arange(len(df))}
    rows = []
    q = [100 * alpha / 2, 100 * (1 - alpha / 2)]
    for key, idx in groups.items():
        idx = np.asarray(idx)
        n = len(idx)
        row: dict = {}
        if keys:
            key = key if isinstance(key, tuple) else (key,)
            row.update(dict(zip(keys, key)))
        row["units"] = n
        e, a = ev[idx], asp[idx]
        boot_ev = _bootstrap_rates(codes[idx], ev.shape[1], n_boot, rng) if n_boot and n else None
        for j, label in enumerate(LABELS):
            row[f"{label}_count"] = int(e[:, j].sum())
            row[f"{label}_rate"] = 100.0 * e[:, j].mean() if n else 0.0
            if boot_ev is not None:
                lo, hi = np.percentile(boot_ev[:, j], q)
                row[f"{label}_rate_lo"], row[f"{label}_rate_hi"] = float(lo), float(hi)
        for j, sign in enumerate(SIGNS):
            row[f"{sign}_rhetoric_count"] = int(a[:, j].sum())
            row[f"{sign}_rhetoric_rate"] = 100.0 * a[:, j].mean() if n else 0.0
            row[f"{sign}_gap"] = row[f"{sign}_rhetoric_rate"] - row[f"{sign}_rate"]
        rows.append(row)
    return pd.DataFrame(rows)


def _bootstrap_rates(codes: np.ndarray, n_labels: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap rates per 100 from units' evidence-pattern codes: ``(n_boot, n_labels)``.

    Resampling n units with replacement only matters through how many copies of
    each distinct label pattern are drawn, which is a multinomial draw over the
    (at most 2**labels) patterns. Drawing those counts gives the same
    distribution as resampling rows, in memory independent of n (row
    resampling needed n_boot * n indices: 800 MB for one 100k-unit group).
    """
    patterns, counts = np.unique(codes, return_counts=True)
    n = len(codes)
    bits = (patterns[:, None] >> np.arange(n_labels)) & 1  # (patterns, labels)
    draws = rng.multinomial(n, counts / n, size=n_boot)  # (n_boot, patterns)
    return draws @ bits.astype(float) * (100.0 / n)
