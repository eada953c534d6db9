"""Roll unit tables up to documents, folders or any metadata column, with bootstrap intervals.

Public as :func:`lo_signals.aggregate`. The module is not called ``aggregate``:
importing a submodule binds it as an attribute of the package, which would
replace the function ``lo_signals.aggregate`` with the module.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .labels import LABELS, SIGNS

__all__ = ["aggregate"]


def _label_matrix(values, labels: Sequence[str]) -> np.ndarray:
    out = np.zeros((len(values), len(labels)), dtype=bool)
    index = {label: j for j, label in enumerate(labels)}
    for i, v in enumerate(values):
        if isinstance(v, str) and v:
            for label in v.split(";"):
                if label in index:
                    out[i, index[label]] = True
        elif isinstance(v, (list, tuple)):
            for label in v:
                if label in index:
                    out[i, index[label]] = True
    return out


def aggregate(df, by: str | Sequence[str] = "doc_id", *, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05):
    """Evidence and rhetoric rates per group, with percentile bootstrap intervals.

    Rates are per 100 units. Intervals resample units within each group.

    Args:
        df: A unit table (``sentences.csv`` / :func:`lo_signals.score_documents`
            output, or :func:`lo_signals.score_frame` output) with ``labels``
            and ``aspirations`` columns (``;``-joined strings or lists).
        by: Column name(s) to group by (a string, list, tuple or array). ``"folder"`` groups by the parent
            folder of ``path``; ``None`` or ``[]`` pools every unit.
        n_boot: Bootstrap resamples (0 skips intervals).
        seed: Random seed.
        alpha: 1 - interval coverage.

    Returns:
        ``pandas.DataFrame``: one row per group with ``units``, then for each
        label ``{label}_count``, ``{label}_rate``, ``{label}_rate_lo``,
        ``{label}_rate_hi``, and for each sign ``{sign}_rhetoric_count``,
        ``{sign}_rhetoric_rate`` and ``{sign}_gap`` (rhetoric minus evidence rate).
    """
    import pandas as pd

    if "labels" not in df.columns:
        raise ValueError("the frame needs a 'labels' column (score it first)")
    df = df.copy()
    keys = [by] if isinstance(by, str) else ([] if by is None else list(by))
    if "folder" in keys and "folder" not in df.columns:
        if "path" not in df.columns:
            raise ValueError("grouping by 'folder' needs a 'path' column")
        df["folder"] = [str(Path(p).parent) for p in df["path"]]
    missing = [k for k in keys if k not in df.columns]
    if missing:
        raise ValueError(f"no column(s) {missing} to group by; columns are {list(df.columns)}")
    ev = _label_matrix(list(df["labels"]), LABELS)
    asp = _label_matrix(list(df["aspirations"]) if "aspirations" in df.columns else [""] * len(df), SIGNS)
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
        boot_ev = _bootstrap_rates(e, n_boot, rng) if n_boot and n else None
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


def _bootstrap_rates(e: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap rates per 100 of the boolean unit-by-label matrix ``e``: ``(n_boot, labels)``.

    Resampling n units with replacement only matters through how many copies of
    each distinct label pattern are drawn, which is a multinomial draw over the
    (at most 2**labels) patterns. Drawing those counts gives the same
    distribution as resampling rows, in memory independent of n (row
    resampling needed n_boot * n indices: 800 MB for one 100k-unit group).
    """
    patterns, counts = np.unique(e, axis=0, return_counts=True)
    n = len(e)
    draws = rng.multinomial(n, counts / n, size=n_boot)  # (n_boot, patterns)
    return draws @ patterns.astype(float) * (100.0 / n)
