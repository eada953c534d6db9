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

__all__ = ["aggregate", "group_keys", "unit_matrices", "rates", "cluster_codes", "DEFAULT_CLUSTER"]


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


#: The cluster column used when none is named: units of one document are not independent.
DEFAULT_CLUSTER = "doc_id"


def aggregate(
    df,
    by: str | Sequence[str] | None = "doc_id",
    *,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    cluster: str | None = DEFAULT_CLUSTER,
):
    """Evidence and rhetoric rates per group, with percentile bootstrap intervals.

    Rates are per 100 units. Units cluster: the sentences of one document (or
    the comments of one respondent) share an author and a context, so
    resampling them one by one makes intervals too narrow. Intervals
    therefore resample whole clusters (documents by default) within each
    group, and units only in a group that holds a single cluster (one
    document's own interval).

    Args:
        df: A unit table (``sentences.csv``, :func:`lo_signals.score_documents`
            or ``score_frame(..., units=True)`` output: rates per 100
            units) or :func:`lo_signals.score_frame`'s one row per comment
            (rates per 100 comments; rows with ``n_units`` 0, blank or
            missing comments, are not units and are left out), with
            ``labels`` and ``aspirations`` columns (``;``-joined strings or
            lists).
        by: Column name(s) to group by (a string, list, tuple or array).
            ``"folder"`` groups by the parent folder of ``path``; ``None`` or
            ``[]`` pools every unit.
        n_boot: Bootstrap resamples (0 skips intervals).
        seed: Random seed.
        alpha: 1 - interval coverage.
        cluster: Column whose values are the resampled clusters: ``"doc_id"``
            (the default; ignored when the frame has no such column), a
            respondent id column for survey comments, or ``None`` to resample
            units. A unit with an empty cluster value is its own cluster.

    Returns:
        ``pandas.DataFrame``: one row per group with ``units``, ``clusters``
        and ``resampled`` (what the interval resampled: the cluster column
        or ``"units"``), then for each label ``{label}_count``,
        ``{label}_rate``, ``{label}_rate_lo``, ``{label}_rate_hi``, and for
        each sign ``{sign}_rhetoric_count``, ``{sign}_rhetoric_rate`` and
        ``{sign}_gap`` (rhetoric minus evidence rate).

    Raises:
        ValueError: If a ``by`` column, or a ``cluster`` column other than
            the default, is not in the frame.
    """
    keys = group_keys(by)
    if "n_units" in df.columns:
        # score_frame's comment rows: a blank comment has no unit, so it is
        # not counted (a run's table never holds one either).
        df = df[~(df["n_units"] == 0).to_numpy(dtype=bool, na_value=False)]
    ev, asp = unit_matrices(df)
    if "folder" in keys and "folder" not in df.columns:
        if "path" not in df.columns:
            raise ValueError("grouping by 'folder' needs a 'path' column")
        df = df.assign(folder=[str(Path(p).parent) for p in df["path"]])
    if cluster == DEFAULT_CLUSTER and cluster not in df.columns:
        cluster = None
    return rates(df, keys, ev, asp, n_boot=n_boot, seed=seed, alpha=alpha, cluster=cluster)


def cluster_codes(df, cluster: str | None) -> np.ndarray | None:
    """One integer per row naming its cluster (``None`` when ``cluster`` is ``None``).

    Missing or empty values get a code of their own each: a comment with no
    respondent id must not be pooled with every other such comment.

    Raises:
        ValueError: If ``cluster`` is not a column of ``df``.
    """
    import pandas as pd

    if cluster is None:
        return None
    if cluster not in df.columns:
        raise ValueError(f"no cluster column {cluster!r}; columns are {list(df.columns)}")
    values = df[cluster]
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    blank = codes < 0
    if len(uniques) and not pd.api.types.is_numeric_dtype(values):
        blank |= np.asarray(values.astype(str).str.strip() == "")
    codes[blank] = len(uniques) + np.arange(int(blank.sum()))
    return codes


def rates(
    df,
    keys: Sequence[str],
    ev: np.ndarray,
    asp: np.ndarray,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    cluster: str | None = None,
):
    """:func:`aggregate` on indicator matrices already computed (the report builds them chunk by chunk).

    Args:
        df: A frame holding the grouping columns (and the cluster column),
            row-aligned with ``ev`` and ``asp``.
        keys: The grouping columns (empty pools every row).
        ev: ``(n, len(LABELS))`` evidence indicators.
        asp: ``(n, len(SIGNS))`` aspiration indicators.
        n_boot: Bootstrap resamples (0 skips intervals).
        seed: Random seed.
        alpha: 1 - interval coverage.
        cluster: Column of cluster ids to resample within groups (see
            :func:`aggregate`); ``None`` resamples units.

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
    clusters = cluster_codes(df, cluster)
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
        n_clusters = len(np.unique(clusters[idx])) if clusters is not None else n
        row["clusters"] = n_clusters
        # One cluster (a single document's own row) has no between-cluster spread to draw on: resample its units.
        by_cluster = clusters is not None and n_clusters > 1
        row["resampled"] = cluster if by_cluster else "units"
        boot_ev = None
        if n_boot and n:
            boot_ev = _bootstrap_cluster_rates(e, clusters[idx], n_boot, rng) if by_cluster else _bootstrap_rates(codes[idx], ev.shape[1], n_boot, rng)
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


def _bootstrap_cluster_rates(e: np.ndarray, clusters: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap rates per 100 resampling whole clusters: ``(n_boot, labels)``.

    Each resample draws as many clusters as there are, with replacement, and
    pools their units (a ratio estimator: evidence units over units). As in
    :func:`_bootstrap_rates`, only how many copies of each distinct cluster
    profile (size and per-label counts) are drawn matters, so the draw is a
    multinomial over the distinct profiles, in chunks of resamples to bound
    memory when profiles are many.
    """
    _, inverse = np.unique(clusters, return_inverse=True)
    n_clusters = int(inverse.max()) + 1
    sizes = np.bincount(inverse, minlength=n_clusters).astype(float)
    counts = np.zeros((n_clusters, e.shape[1]))
    np.add.at(counts, inverse, e.astype(float))
    profiles, freq = np.unique(np.column_stack([sizes, counts]), axis=0, return_counts=True)
    chunk = max(1, 5_000_000 // len(profiles))
    out = np.empty((n_boot, e.shape[1]))
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        draws = rng.multinomial(n_clusters, freq / n_clusters, size=stop - start).astype(float)  # (chunk, profiles)
        pooled = draws @ profiles  # (chunk, 1 + labels): units, then evidence units per label
        out[start:stop] = 100.0 * pooled[:, 1:] / pooled[:, :1]
    return out
