"""Documents in, unit tables out: batch scoring of files and folders.

Every file found is accounted for exactly once in ``files.csv``. Scoring is
resumable: each file's rows go to a part file that is renamed into place only
when complete, and the final tables are assembled from the parts in a fixed
order, so a run killed at any moment (SIGKILL included) completes on re-run
with nothing lost and nothing duplicated. Memory stays bounded: one file (or
one batch of table rows) is held at a time, and tables are assembled by
streaming the parts.
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import json
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._hashing import file_sha256
from .labels import LABELS, SIGNS

__all__ = ["score_documents", "score_folder", "FileResult", "SENTENCE_COLUMNS", "FILE_COLUMNS"]

logger = logging.getLogger(__name__)

#: Fixed leading columns of sentences.csv; metadata columns follow.
SENTENCE_COLUMNS = ("doc_id", "path", "page", "unit_id", "start", "end", "text", *LABELS, "labels", "aspirations")
FILE_COLUMNS = ("path", "status", "reason", "bytes", "pages", "units")
_ROW_BATCH = 2000  # units scored per model call; bounds memory on huge tabular files
_PARTS = ".lo_signals_parts"


@dataclass
class FileResult:
    """What happened to one input file (one row of ``files.csv``)."""

    path: str
    status: str  # ok | empty | skipped | error
    reason: str = ""
    bytes: int | None = None
    pages: int | None = None
    units: int = 0
    documents: int = 0
    part: str | None = None  # part-file stem holding its rows, when status is ok
    sentence_columns: list[str] | None = None  # keys of its unit rows, in first-seen order
    document_columns: list[str] | None = None


# -- model handling in this process and in workers ---------------------------

_WORKER_MODEL: Any = None


def _model_spec(model: Any) -> Any:
    """A picklable reference to the model for worker processes."""
    if model is None or isinstance(model, (str, Path)):
        return model
    path = getattr(model, "path_", None)
    if path is None:
        raise ValueError("workers > 1 needs a saved model: pass a model name or directory, or a model from lo_signals.load()")
    return path


def _init_worker(spec: Any) -> None:
    global _WORKER_MODEL
    from .models import load

    # Each worker process scores on one thread: the processes are the parallelism.
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    _WORKER_MODEL = load(spec)


# -- one file -----------------------------------------------------------------


def _part_stem(path: Path, content_hash: str, model_key: str) -> str:
    # Same file, same content, same model and options: the parts can be reused.
    return hashlib.sha256(f"{path}\0{content_hash}\0{model_key}".encode()).hexdigest()[:24]


def _model_key(model: Any, text_column: str | None) -> str:
    """What must match for an earlier run's rows of a file to be reused."""
    meta = getattr(model, "meta_", None) or {}
    ident = {
        "path": getattr(model, "path_", None),
        "created": meta.get("created"),
        "thresholds": [round(float(t), 6) for t in model.thresholds_],
        "aspiration_thresholds": [round(float(t), 6) for t in model.aspiration_thresholds_],
        "text_column": text_column,
        "version": __import__("lo_signals").__version__,
    }
    return json.dumps(ident, sort_keys=True)


def _doc_summary(doc, path: str, labels: list[list[str]], asps: list[list[str]], texts: list[str], proba: np.ndarray) -> dict[str, Any]:
    n = len(texts)
    # format and encoding record how the text was read (the encoding detected for text files).
    out: dict[str, Any] = {"doc_id": doc.doc_id, "path": path, "units": n, "format": doc.format, "encoding": doc.encoding or ""}
    label_sets = [set(x) for x in labels]
    asp_sets = [set(x) for x in asps]
    for j, label in enumerate(LABELS):
        count = sum(label in s for s in label_sets)
        out[f"{label}_count"] = count
        out[f"{label}_rate"] = round(100.0 * count / n, 3) if n else 0.0
        if label in SIGNS:
            out[f"{label}_rhetoric_count"] = sum(label in s for s in asp_sets)
        out[f"{label}_mean"] = round(float(proba[:, j].mean()), 4) if n else 0.0
        out[f"{label}_max"] = round(float(proba[:, j].max()), 4) if n else 0.0
        hits = [i for i, s in enumerate(label_sets) if label in s]
        top = max(hits, key=lambda i: proba[i, j]) if hits else None
        out[f"{label}_top_unit"] = texts[top] if top is not None else ""
    out.update({f"meta_{k}" if k in out else k: v for k, v in doc.metadata.items()})
    return out


class _PartWriter:
    """Appends one file's unit rows and document rows to JSONL part files.

    JSON lines keep whatever metadata keys each row has (tabular rows may
    differ); the final tables take the union of the keys when assembled.
    """

    def __init__(self, sent_path: Path, doc_path: Path) -> None:
        self.sent = open(sent_path, "w", encoding="utf-8")
        self.docs = open(doc_path, "w", encoding="utf-8")
        # Keys seen so far (dicts keep insertion order): the tables' columns,
        # known without re-reading the parts.
        self.sent_cols: dict[str, None] = {}
        self.doc_cols: dict[str, None] = {}

    def write(self, sentence_rows: list[dict[str, Any]], doc_row: dict[str, Any]) -> None:
        for r in sentence_rows:
            self.sent_cols.update(dict.fromkeys(r))
        self.doc_cols.update(dict.fromkeys(doc_row))
        self.sent.writelines(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in sentence_rows)
        self.docs.write(json.dumps(doc_row, ensure_ascii=False, default=str) + "\n")

    def close(self) -> None:
        for fh in (self.sent, self.docs):
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()


def _flush(pending: list[tuple[Any, list[Any]]], path: Path, model: Any, writer: _PartWriter) -> int:
    """Score the units of several documents in one model call and write their rows."""
    texts = [u.text for _, units in pending for u in units]
    lp, _, labels, asps = model.predict_all(texts)
    k = 0
    for doc, units in pending:
        n = len(units)
        rows = []
        meta = {f"meta_{m}" if m in SENTENCE_COLUMNS else m: v for m, v in doc.metadata.items()}
        for i, u in enumerate(units):
            rows.append(
                {
                    "doc_id": doc.doc_id,
                    "path": str(path),
                    "page": u.page if u.page is not None else "",
                    "unit_id": u.unit_id,
                    "start": u.start,
                    "end": u.end,
                    "text": u.text,
                    **{label: round(float(v), 5) for label, v in zip(model.labels_, lp[k + i])},
                    "labels": ";".join(labels[k + i]),
                    "aspirations": ";".join(asps[k + i]),
                    **meta,
                }
            )
        writer.write(rows, _doc_summary(doc, str(path), labels[k : k + n], asps[k : k + n], [u.text for u in units], lp[k : k + n]))
        k += n
    return len(texts)


def _score_file(path: Path, parts_dir: Path, text_column: str | None, max_bytes: int, model: Any) -> FileResult:
    """Read, segment and score one file; write its part files; report its status."""
    from .readers import ReadError, read_documents
    from .segment import segment

    result = FileResult(path=str(path), status="ok")
    try:
        result.bytes = path.stat().st_size
    except OSError:
        pass
    try:
        content_hash = file_sha256(path) if path.is_file() else ""
    except OSError as exc:
        return FileResult(str(path), "error", f"cannot read file: {exc.strerror or exc}", result.bytes)
    stem = _part_stem(path, content_hash, _model_key(model, text_column))
    done = parts_dir / f"{stem}.json"
    if content_hash and done.is_file():
        # Scored by an earlier run with identical content and model: reuse its part files.
        return FileResult(**json.loads(done.read_text(encoding="utf-8")))
    tmp_sent = parts_dir / f"{stem}.sentences.jsonl.tmp"
    tmp_docs = parts_dir / f"{stem}.documents.jsonl.tmp"
    writer = _PartWriter(tmp_sent, tmp_docs)
    pending: list[tuple[Any, list[Any]]] = []
    pending_units = 0
    try:
        # Documents are batched until _ROW_BATCH units: a survey export is one
        # short document per row, and one model call per row would be slow.
        for doc in read_documents(path, text_column=text_column, max_bytes=max_bytes):
            result.pages = doc.pages
            units = segment(doc.text, doc.blocks)
            pending.append((doc, units))
            pending_units += len(units)
            result.documents += 1
            if pending_units >= _ROW_BATCH:
                result.units += _flush(pending, path, model, writer)
                pending, pending_units = [], 0
        if pending:
            result.units += _flush(pending, path, model, writer)
    except ReadError as exc:
        result.status, result.reason = exc.status, exc.reason
    except Exception as exc:  # a reader bug must not stop the batch: report it per file
        logger.exception("unexpected failure on %s", path)
        result.status, result.reason = "error", f"unexpected {type(exc).__name__}: {exc}"
    finally:
        writer.close()
    if result.status == "ok" and result.units == 0:
        result.status = "empty"
        result.reason = result.reason or "no text units after segmentation"
    if result.status == "ok":
        os.replace(tmp_sent, parts_dir / f"{stem}.sentences.jsonl")
        os.replace(tmp_docs, parts_dir / f"{stem}.documents.jsonl")
        result.part = stem
        result.sentence_columns = list(writer.sent_cols)
        result.document_columns = list(writer.doc_cols)
        # The marker is written last: its presence means the parts are complete.
        tmp = done.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(result)), encoding="utf-8")
        os.replace(tmp, done)
    else:
        # Nothing of a failed file reaches the output, so its counts are zero.
        result.units = result.documents = 0
        for tmp in (tmp_sent, tmp_docs):
            tmp.unlink(missing_ok=True)
    if result.status != "ok":
        logger.warning("%s: %s (%s)", path, result.status, result.reason)
    return result


def _worker_score(args: tuple[str, str, str | None, int]) -> FileResult:
    path, parts_dir, text_column, max_bytes = args
    return _score_file(Path(path), Path(parts_dir), text_column, max_bytes, _WORKER_MODEL)


# -- many files ---------------------------------------------------------------


def _iter_results(
    files: Sequence[Path], parts_dir: Path, model: Any, text_column: str | None, max_bytes: int, workers: int
) -> Iterator[FileResult]:
    if workers <= 1:
        from .models import load

        scorer = load(model) if model is None or isinstance(model, (str, Path)) else model
        for f in files:
            yield _score_file(f, parts_dir, text_column, max_bytes, scorer)
        return
    spec = _model_spec(model)
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(spec,)) as pool:
        # A bounded window of submitted files keeps memory flat on huge folders
        # while results still come back in input order.
        window = max(4 * workers, 8)
        futures: list[Any] = []
        it = iter(files)
        for f in it:
            futures.append(pool.submit(_worker_score, (str(f), str(parts_dir), text_column, max_bytes)))
            if len(futures) >= window:
                yield futures.pop(0).result()
        for fut in futures:
            yield fut.result()


class _MetaOnly:
    """What run.json needs of a model, read from its directory without loading weights."""

    def __init__(self, model: str | Path | None) -> None:
        from .models import _resolve, read_meta

        self.path_ = str(_resolve(model))
        self.meta_ = read_meta(self.path_)
        self.labels_ = tuple(self.meta_["labels"])
        self.thresholds_ = self.meta_["thresholds"]
        self.aspiration_thresholds_ = self.meta_["aspiration_thresholds"]


class _RayFileScorer:
    """A Ray Data actor: loads the model once, then scores one file per batch row."""

    def __init__(self, spec: Any, parts_dir: str, text_column: str | None, max_bytes: int) -> None:
        _init_worker(spec)
        self.parts_dir = Path(parts_dir)
        self.text_column = text_column
        self.max_bytes = max_bytes

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        results = [
            _score_file(Path(p), self.parts_dir, self.text_column, self.max_bytes, _WORKER_MODEL) for p in batch["path"]
        ]
        return {"result": [json.dumps(asdict(r)) for r in results]}


def _iter_ray_results(
    files: Sequence[Path], parts_dir: Path, model: Any, text_column: str | None, max_bytes: int, workers: int, address: str | None
) -> Iterator[FileResult]:
    """Score files on a Ray cluster: Ray Data ``map_batches`` over a pool of model actors.

    The actors run the same per-file code as the local engine and write their
    part files into ``parts_dir``, which must be on storage every node can
    reach (a shared filesystem on a real cluster). Results come back in input
    order whatever order the actors finish in.
    """
    try:
        import ray
    except ImportError as exc:
        raise ImportError("the ray engine needs the [ray] extra: pip install 'lo_signals[ray]'") from exc
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    import ray.data

    spec = _model_spec(model)
    gpus = 0.5 if ray.cluster_resources().get("GPU", 0) else 0
    ds = ray.data.from_items([{"path": str(f)} for f in files])
    out = ds.map_batches(
        _RayFileScorer,
        fn_constructor_args=(spec, str(parts_dir), text_column, max_bytes),
        batch_size=1,
        concurrency=workers,
        num_gpus=gpus,
    )
    by_path = {}
    for row in out.iter_rows():
        res = FileResult(**json.loads(row["result"]))
        by_path[res.path] = res
    for f in files:
        yield by_path[str(f)]


def _iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _union(fixed: Sequence[str], column_lists: Iterable[Sequence[str] | None]) -> list[str]:
    cols: dict[str, None] = dict.fromkeys(fixed)
    for columns in column_lists:
        cols.update(dict.fromkeys(columns or ()))
    return list(cols)


def _assemble(parts: Sequence[Path], dest: Path, header: Sequence[str], fmt: str) -> None:
    """Stream JSONL parts into one table (CSV or Parquet) with the given columns."""
    header = list(header)
    tmp = dest.with_name(dest.name + ".tmp")
    if fmt == "csv":
        with open(tmp, "w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=header)
            writer.writeheader()
            for p in parts:
                writer.writerows(_iter_jsonl(p))
    else:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        numeric = {"page", "unit_id", "start", "end", "units", *LABELS} | {c for c in header if c.endswith(("_count", "_rate", "_mean", "_max"))}
        schema = pa.schema([(c, pa.float64() if c in numeric else pa.string()) for c in header])
        writer = pq.ParquetWriter(tmp, schema)

        def write(rows: list[dict[str, Any]]) -> None:
            chunk = pd.DataFrame.from_records(rows).reindex(columns=header)
            for c in header:
                if c in numeric:
                    chunk[c] = pd.to_numeric(chunk[c], errors="coerce")
                else:
                    chunk[c] = chunk[c].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
            writer.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False))

        buf: list[dict[str, Any]] = []
        for p in parts:
            for row in _iter_jsonl(p):
                buf.append(row)
                if len(buf) >= 20000:
                    write(buf)
                    buf = []
        if buf:
            write(buf)
        writer.close()
    os.replace(tmp, dest)


def score_folder(
    inputs: Sequence[str | Path],
    out: str | Path,
    model: Any = None,
    *,
    workers: int = 1,
    fmt: str = "csv",
    text_column: str | None = None,
    max_bytes: int = 50_000_000,
    progress: Callable[[FileResult], None] | None = None,
    on_files: Callable[[int], None] | None = None,
    engine: str = "local",
    address: str | None = None,
) -> dict[str, Any]:
    """Score every file under ``inputs`` and write the output tables to ``out``.

    Writes ``sentences.csv`` (or ``.parquet``), ``documents.csv``, ``files.csv``
    and ``run.json``. Re-running into the same directory reuses the files
    already scored (same path and content hash).

    Args:
        inputs: Files and folders to score (folders are walked recursively).
        out: Output directory.
        model: A model name, directory or loaded model (default: the bundled default).
        workers: Processes to score with.
        fmt: ``csv`` or ``parquet`` for the sentences table.
        text_column: Text column of tabular files (detected when obvious).
        max_bytes: Files larger than this are skipped with a reason.
        progress: Called after each file with its :class:`FileResult`.
        on_files: Called once with the number of files found.
        engine: ``local`` (this machine, ``workers`` processes) or ``ray``
            (Ray Data over ``workers`` model actors; needs the ``[ray]`` extra).
        address: Ray cluster address (``ray`` engine); ``None`` starts or joins a local one.

    Returns:
        The ``run.json`` record.
    """
    from importlib.metadata import version

    from .models import library_versions, load
    from .readers import discover_files

    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be csv or parquet, got {fmt!r}")
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if engine not in ("local", "ray"):
        raise ValueError(f"engine must be local or ray, got {engine!r}")
    for given in inputs:
        if not os.path.lexists(given):
            raise FileNotFoundError(f"no such file or folder: {given}")
    out = Path(out)
    parts_dir = out / _PARTS
    parts_dir.mkdir(parents=True, exist_ok=True)
    started = _dt.datetime.now(_dt.timezone.utc)
    if model is None or isinstance(model, (str, Path)):
        # Worker processes (or Ray actors) load their own copy; here only the
        # metadata is needed, so the parent does not pay for a model load.
        scorer = load(model) if workers <= 1 and engine == "local" else _MetaOnly(model)
    else:
        scorer = model
    files = list(discover_files(inputs))
    if on_files is not None:
        on_files(len(files))
    results: list[FileResult] = []
    if tuple(scorer.labels_) != LABELS:
        raise ValueError(
            f"score_folder writes the lo_signals label columns; this model's labels are {list(scorer.labels_)}. "
            "Use model.predict_proba() directly for a model with its own label set."
        )
    if engine == "ray":
        stream = _iter_ray_results(files, parts_dir, model if model is not None else scorer.path_, text_column, max_bytes, workers, address)
    else:
        worker_model = scorer if workers <= 1 else (model if model is not None else scorer.path_)
        stream = _iter_results(files, parts_dir, worker_model, text_column, max_bytes, workers)
    for res in stream:
        results.append(res)
        if progress is not None:
            progress(res)
    ok = [r for r in results if r.status == "ok" and r.part]
    sent_parts = [parts_dir / f"{r.part}.sentences.jsonl" for r in ok]
    doc_parts = [parts_dir / f"{r.part}.documents.jsonl" for r in ok]
    sent_name = "sentences.parquet" if fmt == "parquet" else "sentences.csv"
    _assemble(sent_parts, out / sent_name, _union(SENTENCE_COLUMNS, (r.sentence_columns for r in ok)), fmt)
    _assemble(doc_parts, out / "documents.csv", _union(("doc_id", "path", "units", "format", "encoding"), (r.document_columns for r in ok)), "csv")
    with open(out / "files.csv.tmp", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(FILE_COLUMNS), extrasaction="ignore")
        writer.writeheader()
        for r in results:
            writer.writerow({**asdict(r), "bytes": "" if r.bytes is None else r.bytes, "pages": "" if r.pages is None else r.pages})
    os.replace(out / "files.csv.tmp", out / "files.csv")
    meta = getattr(scorer, "meta_", {}) or {}
    statuses = Counter(r.status for r in results)
    run = {
        "model": {
            "name": meta.get("name"),
            "backend": meta.get("backend"),
            "path": getattr(scorer, "path_", None),
            "labels": list(scorer.labels_),
            "thresholds": [float(t) for t in scorer.thresholds_],
            "aspiration_thresholds": [float(t) for t in scorer.aspiration_thresholds_],
            "training_data": meta.get("training_data"),
            "created": meta.get("created"),
        },
        "versions": {**library_versions(), "pandas": version("pandas")},
        "options": {"inputs": [str(i) for i in inputs], "workers": workers, "format": fmt, "text_column": text_column, "max_bytes": max_bytes, "engine": engine},
        "started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "finished": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "counts": {
            "files": len(results),
            **{f"files_{k}": v for k, v in sorted(statuses.items())},
            "documents": sum(r.documents for r in ok),
            "units": sum(r.units for r in ok),
        },
        "outputs": [sent_name, "documents.csv", "files.csv", "run.json"],
    }
    (out / "run.json").write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
    return run


def score_documents(
    paths: Sequence[str | Path] | str | Path,
    model: Any = None,
    *,
    text_column: str | None = None,
    max_bytes: int = 50_000_000,
    engine: str = "local",
    workers: int = 1,
    address: str | None = None,
):
    """Score files in memory and return the unit table as a pandas DataFrame.

    The frame has the columns of ``sentences.csv``; ``df.attrs["files"]`` holds
    the per-file manifest (every file found, with status and reason).

    Args:
        paths: A file or folder, or a list of them.
        model: A model name, directory or loaded model (default: the bundled default).
        text_column: Text column of tabular files.
        max_bytes: Files larger than this are skipped.
        engine: ``local`` or ``ray`` (see :func:`score_folder`).
        workers: Worker processes (local) or model actors (ray).
        address: Ray cluster address.

    Returns:
        ``pandas.DataFrame`` with one row per unit.
    """
    import tempfile

    import pandas as pd

    if isinstance(paths, (str, Path)):
        paths = [paths]
    with tempfile.TemporaryDirectory(prefix="lo_signals_") as tmp:
        score_folder(paths, tmp, model, text_column=text_column, max_bytes=max_bytes, engine=engine, workers=workers, address=address)
        df = pd.read_csv(Path(tmp) / "sentences.csv", keep_default_na=False, dtype={"labels": str, "aspirations": str, "text": str})
        files = pd.read_csv(Path(tmp) / "files.csv", keep_default_na=False)
    df.attrs["files"] = files.to_dict("records")
    return df
