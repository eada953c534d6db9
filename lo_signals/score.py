"""Documents in, unit tables out: the public scoring functions.

:func:`score_folder` writes the tables of a batch run to a folder
(resumable; see :mod:`lo_signals.batch`); :func:`score_documents` returns the
unit table as a DataFrame. Both run the same per-file pipeline
(:mod:`lo_signals.pipeline`), so a file gives the same rows either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .batch import inference_options, plan, run_files, score_folder, score_options
from .outdir import union_columns
from .pipeline import FILE_COLUMNS, SENTENCE_COLUMNS, SENTENCE_TYPES, FileResult
from .readers import Limits

__all__ = ["score_documents", "score_folder", "FileResult", "SENTENCE_COLUMNS", "FILE_COLUMNS"]


def score_documents(
    paths: Sequence[str | Path] | str | Path,
    model: Any = None,
    *,
    text_column: str | None = None,
    max_bytes: int | None = None,
    limits: Limits | None = None,
    follow_symlinks: bool = False,
    engine: str = "local",
    workers: int = 1,
    address: str | None = None,
    device: str | None = None,
    precision: str | None = None,
    batch_size: int | None = None,
    register: str | None = None,
):
    """Score files in memory and return the unit table as a pandas DataFrame.

    The frame has the columns of ``sentences.csv`` with their types kept
    (``page``, ``unit_id``, ``start`` and ``end`` as nullable integers, label
    probabilities as floats, table metadata as read); ``df.attrs["files"]``
    holds the per-file manifest (every file found, with status, reason and
    warnings, as in ``files.csv``). Nothing is written to disk.

    Args:
        paths: A file or folder, or a list of them.
        model: A model name, directory or loaded model (default: the bundled default).
        text_column: Text column of tabular files.
        register: The register of every input (see :func:`score_folder`).
        max_bytes: Files larger than this are skipped (default 50 MB).
        limits: Resource bounds (see :func:`score_folder`).
        follow_symlinks: Follow symbolic links out of the input folders.
        engine: ``local`` or ``ray`` (see :func:`score_folder`).
        workers: Worker processes (local) or model actors (ray).
        address: Ray cluster address.
        device: Where the model runs (transformer backend).
        precision: Numeric precision (transformer backend).
        batch_size: Units per forward pass (transformer backend).

    Returns:
        ``pandas.DataFrame`` with one row per unit.
    """
    import pandas as pd

    if isinstance(paths, (str, Path)):
        paths = [paths]
    inference = inference_options(device, precision, batch_size)
    options = score_options(paths, text_column, max_bytes, limits, follow_symlinks, register)
    _, worker_model, files = plan(paths, model, options, workers=workers, engine=engine, inference=inference)
    rows: list[dict[str, Any]] = []
    results: list[FileResult] = []
    for result, got in run_files(files, worker_model, options, workers=workers, engine=engine, address=address, inference=inference):
        results.append(result)
        if got is not None:
            rows.extend(got[0])
    columns = union_columns(SENTENCE_COLUMNS, (r.sentence_columns for r in results if r.status == "ok"))
    df = typed_units(pd.DataFrame.from_records(rows, columns=columns))
    df.attrs["files"] = [r.row() for r in results]
    return df


def typed_units(df):
    """A unit table with the declared column types (:data:`~lo_signals.pipeline.SENTENCE_TYPES`), as in the Parquet table.

    ``page``, ``unit_id``, ``start`` and ``end`` become nullable integers,
    probabilities floats, ``truncated`` a nullable boolean; metadata keeps
    the types it was read with.
    """
    for c, kind in SENTENCE_TYPES.items():
        df[c] = df[c].astype({"int": "Int64", "float": "float64", "bool": "boolean", "str": str}[kind])
    return df
