"""The batch layer: many files through the per-file pipeline, with an engine.

Engines run :func:`lo_signals.pipeline.score_file` over a list of files: in
this process or a pool of worker processes (``local``), or in a pool of Ray
Data actors (``ray``). Each worker holds one model and one row store: a
:class:`~lo_signals.outdir.PartStore` for :func:`score_folder` (resumable part
files in the output folder; see :mod:`lo_signals.outdir`) or a
:class:`MemoryStore` for :func:`lo_signals.score_documents`.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from .labels import LABELS
from .outdir import PARTS_DIR, OutputLock, PartStore, assemble, model_fingerprint, part_key, tidy_parts, union_columns, write_files_csv
from .pipeline import DOCUMENT_COLUMNS, DOCUMENT_TYPES, SENTENCE_COLUMNS, SENTENCE_TYPES, FileResult, Rows, ScoreOptions, score_file, validation_note
from .readers import Limits

__all__ = ["score_folder", "run_files", "plan", "MemoryStore"]


class MemoryStore:
    """Keeps each scored file's rows for the caller to :meth:`take`."""

    def __init__(self) -> None:
        self._sent: list[dict[str, Any]] = []
        self._docs: list[dict[str, Any]] = []
        self._done: Rows | None = None

    def lookup(self, path: str, content_hash: str) -> FileResult | None:
        return None

    def write(self, sentence_rows: list[dict[str, Any]], document_rows: list[dict[str, Any]]) -> None:
        self._sent.extend(sentence_rows)
        self._docs.extend(document_rows)

    def commit(self, result: FileResult) -> None:
        result.sentence_columns = list(dict.fromkeys(k for r in self._sent for k in r))
        result.document_columns = list(dict.fromkeys(k for r in self._docs for k in r))
        self._done, self._sent, self._docs = (self._sent, self._docs), [], []

    def discard(self) -> None:
        self._sent, self._docs = [], []

    def take(self) -> Rows | None:
        """The rows of the file last committed (once)."""
        done, self._done = self._done, None
        return done


# -- workers and engines --------------------------------------------------------


class _Worker:
    """One model and one store: scores files one at a time, in any process."""

    def __init__(self, model: Any, options: ScoreOptions, parts_dir: str | None, inference: dict[str, Any]) -> None:
        from .models import resolve

        self.model = resolve(model, **inference)
        self.options = options
        self.store: PartStore | MemoryStore = (
            PartStore(Path(parts_dir), part_key(self.model, options)) if parts_dir else MemoryStore()
        )

    def __call__(self, path: str) -> tuple[FileResult, Rows | None]:
        result = score_file(path, self.model, self.options, self.store)
        return result, self.store.take()


_PROCESS_WORKER: _Worker | None = None


def _init_process(model: Any, options: ScoreOptions, parts_dir: str | None, inference: dict[str, Any]) -> None:
    global _PROCESS_WORKER
    # Each worker process scores on one thread: the processes are the parallelism.
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    # A forked worker holds copies of the run's lock file; an orphan left by
    # a killed run would keep the output folder locked.
    from .outdir import close_inherited_locks

    close_inherited_locks()
    _PROCESS_WORKER = _Worker(model, options, parts_dir, inference)


def _process_call(path: str) -> tuple[FileResult, Rows | None]:
    assert _PROCESS_WORKER is not None
    return _PROCESS_WORKER(path)


def _model_spec(model: Any) -> Any:
    """A picklable reference to the model for other processes."""
    if model is None or isinstance(model, (str, Path)):
        return model
    path = getattr(model, "path_", None)
    if path is None:
        raise ValueError("workers > 1 needs a saved model: pass a model name or directory, or a model from lo_signals.load()")
    return path


class _RayWorker:
    """A Ray Data actor: loads the model once, then scores one file per batch row."""

    def __init__(self, model: Any, options: ScoreOptions, parts_dir: str | None, inference: dict[str, Any]) -> None:
        self.worker = _Worker(model, options, parts_dir, inference)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        out = []
        for p in batch["path"]:
            result, rows = self.worker(str(p))
            out.append(json.dumps({"result": asdict(result), "rows": rows}, ensure_ascii=False, default=str))
        return {"result": out}


def _uses_device(model: Any) -> bool:
    """Whether the model's backend takes a device (so a GPU would help it)."""
    import inspect

    from .models import backend_class, model_dir, read_meta

    if model is None or isinstance(model, (str, Path)):
        cls = backend_class(read_meta(model_dir(model)).get("backend"))
    else:
        cls = type(model)
    return "device" in inspect.signature(cls.__init__).parameters


def actor_plan(gpus: int, uses_device: bool, workers: int, inference: dict[str, Any]) -> tuple[int, int, dict[str, Any]]:
    """How many Ray actors, GPUs per actor, and the model's inference options.

    One actor per GPU, each holding a whole GPU and scoring on ``cuda``, when
    the cluster has GPUs and the model can use one; otherwise ``workers`` CPU
    actors with the options as given.
    """
    if gpus and uses_device:
        return gpus, 1, {**inference, "device": "cuda"}
    return workers, 0, inference


def _ray_stream(
    files: Sequence[str], model: Any, options: ScoreOptions, parts_dir: str | None, inference: dict[str, Any], workers: int, address: str | None
) -> Iterator[tuple[FileResult, Rows | None]]:
    """Score files on a Ray cluster: Ray Data ``map_batches`` over a pool of model actors.

    The actors run the same per-file code as the local engine and write their
    part files into ``parts_dir``, which must be on storage every node can
    reach (a shared filesystem on a real cluster). Actors: see :func:`actor_plan`.
    Results come back in input order whatever order the actors finish in.
    """
    try:
        import ray
    except ImportError as exc:
        raise ImportError("the ray engine needs the [ray] extra: pip install 'lo_signals[ray]'") from exc
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    import ray.data

    spec = _model_spec(model)
    actors, per_actor, inference = actor_plan(int(ray.cluster_resources().get("GPU", 0)), _uses_device(spec), workers, inference)
    ds = ray.data.from_items([{"path": f} for f in files])
    out = ds.map_batches(
        _RayWorker,
        fn_constructor_args=(spec, options, parts_dir, inference),
        batch_size=1,
        concurrency=actors,
        num_gpus=per_actor,
    )
    by_path = {}
    for row in out.iter_rows():
        got = json.loads(row["result"])
        rows = got["rows"]
        by_path[got["result"]["path"]] = (FileResult(**got["result"]), (rows[0], rows[1]) if rows else None)
    for f in files:
        yield by_path[f]


def run_files(
    files: Sequence[str | Path],
    model: Any,
    options: ScoreOptions,
    *,
    parts_dir: str | Path | None = None,
    workers: int = 1,
    engine: str = "local",
    address: str | None = None,
    inference: dict[str, Any] | None = None,
) -> Iterator[tuple[FileResult, Rows | None]]:
    """Score files with an engine; yield each file's result in input order.

    Args:
        files: The files.
        model: A model name, directory or fitted scorer.
        options: Reading and unit limits.
        parts_dir: Write rows to part files here (resumable); ``None`` keeps
            them in memory and yields them with each result.
        workers: Processes (``local``) or model actors (``ray``).
        engine: ``local`` or ``ray``.
        address: Ray cluster address.
        inference: ``device``, ``precision``, ``batch_size`` for the model.

    Yields:
        ``(result, rows)``; ``rows`` is ``None`` with ``parts_dir`` or when
        the file was not scored.
    """
    paths = [str(f) for f in files]
    parts = str(parts_dir) if parts_dir is not None else None
    inference = dict(inference or {})
    if engine == "ray":
        yield from _ray_stream(paths, model, options, parts, inference, workers, address)
        return
    if workers <= 1:
        worker = _Worker(model, options, parts, inference)
        for p in paths:
            yield worker(p)
        return
    spec = _model_spec(model)
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_process, initargs=(spec, options, parts, inference)) as pool:
        # A bounded window of submitted files keeps memory flat on huge folders
        # while results still come back in input order.
        window = max(4 * workers, 8)
        futures: list[Any] = []
        for p in paths:
            futures.append(pool.submit(_process_call, p))
            if len(futures) >= window:
                yield futures.pop(0).result()
        for fut in futures:
            yield fut.result()


class _MetaOnly:
    """What run.json needs of a model, read from its directory without loading weights."""

    def __init__(self, model: str | Path | None) -> None:
        from .models import model_dir, read_meta

        self.path_ = str(model_dir(model))
        self.meta_ = read_meta(self.path_)
        self.labels_ = tuple(self.meta_["labels"])
        self.thresholds_ = self.meta_["thresholds"]
        self.aspiration_thresholds_ = self.meta_["aspiration_thresholds"]


def check_label_set(scorer: Any) -> None:
    """The output tables have one column per lo_signals label; refuse other label sets."""
    if tuple(scorer.labels_) != LABELS:
        raise ValueError(
            f"batch scoring writes the lo_signals label columns; this model's labels are {list(scorer.labels_)} (its own label set). "
            "Use model.predict_proba() directly for a model with its own label set."
        )


def inference_options(device: str | None, precision: str | None, batch_size: int | None) -> dict[str, Any]:
    """The inference options that were given, for :func:`lo_signals.models.resolve`."""
    return {k: v for k, v in (("device", device), ("precision", precision), ("batch_size", batch_size)) if v is not None}


def score_options(
    inputs: Sequence[str | Path],
    text_column: str | None,
    max_bytes: int | None,
    limits: Limits | None,
    follow_symlinks: bool,
    register: str | None = None,
) -> ScoreOptions:
    """The per-file options of a run (``max_bytes`` overrides ``limits.max_bytes``).

    Raises:
        ValueError: If ``register`` is not one of :data:`lo_signals.register.REGISTER_CHOICES`.
    """
    from .register import REGISTER_CHOICES

    if register is not None and register not in REGISTER_CHOICES:
        raise ValueError(f"register must be one of {', '.join(REGISTER_CHOICES)}, not {register!r}")
    limits = limits or Limits()
    if max_bytes is not None:
        limits = replace(limits, max_bytes=max_bytes)
    roots = None if follow_symlinks else tuple(str(i) for i in inputs)
    return ScoreOptions(text_column=text_column, limits=limits, roots=roots, register=register)


def plan(
    inputs: Sequence[str | Path], model: Any, options: ScoreOptions, *, workers: int, engine: str, inference: dict[str, Any]
) -> tuple[Any, Any, list[Path]]:
    """Check the arguments, find the files and get the model ready.

    Returns:
        ``(scorer, worker_model, files)``: the scorer (or its metadata when
        other processes load the model), what to hand to :func:`run_files`,
        and every path found.
    """
    from .models import resolve
    from .readers import discover_files

    if workers < 1:
        raise ValueError("workers must be at least 1")
    if engine not in ("local", "ray"):
        raise ValueError(f"engine must be local or ray, got {engine!r}")
    for given in inputs:
        if not os.path.lexists(given):
            raise FileNotFoundError(f"no such file or folder: {given}")
    if model is None or isinstance(model, (str, Path)):
        # Worker processes (or Ray actors) load their own copy; here only the
        # metadata is needed, so the parent does not pay for a model load.
        local = workers <= 1 and engine == "local"
        scorer = resolve(model, **inference) if local else _MetaOnly(model)
        worker_model = scorer if local else (model if model is not None else scorer.path_)
    else:
        scorer = worker_model = model
    check_label_set(scorer)
    files = list(discover_files(inputs, follow_symlinks=options.roots is None))
    return scorer, worker_model, files


def _model_record(scorer: Any) -> dict[str, Any]:
    meta = getattr(scorer, "meta_", {}) or {}
    return {
        "name": meta.get("name"),
        "backend": meta.get("backend"),
        "path": getattr(scorer, "path_", None),
        # What the parts cache is keyed by: the weights' hashes, not the path or date.
        "weights": model_fingerprint(scorer),
        "labels": list(scorer.labels_),
        "thresholds": [float(t) for t in scorer.thresholds_],
        "aspiration_thresholds": [float(t) for t in scorer.aspiration_thresholds_],
        "training_data": meta.get("training_data"),
        "created": meta.get("created"),
    }


def score_folder(
    inputs: Sequence[str | Path],
    out: str | Path,
    model: Any = None,
    *,
    workers: int = 1,
    fmt: str = "csv",
    text_column: str | None = None,
    max_bytes: int | None = None,
    limits: Limits | None = None,
    follow_symlinks: bool = False,
    keep_parts: bool = True,
    raw_csv: bool = False,
    progress: Callable[[FileResult], None] | None = None,
    on_files: Callable[[int], None] | None = None,
    engine: str = "local",
    address: str | None = None,
    device: str | None = None,
    precision: str | None = None,
    batch_size: int | None = None,
    register: str | None = None,
) -> dict[str, Any]:
    """Score every file under ``inputs`` and write the output tables to ``out``.

    Writes ``sentences.csv`` (or ``.parquet``), ``documents.csv``, ``files.csv``
    (every file found, with status, reason and warnings) and ``run.json``.
    Re-running into the same directory reuses the files already scored (same
    path, content, model and options) from the parts cache
    ``out/.lo_signals_parts/``; a killed run resumes where it stopped.

    Args:
        inputs: Files and folders to score (folders are walked recursively).
        out: Output directory.
        model: A model name, directory or loaded model (default: the bundled default).
        workers: Processes to score with.
        fmt: ``csv`` or ``parquet`` for the sentences table.
        text_column: Text column of tabular files (detected when obvious).
        register: The register of every input (``staff_feedback``,
            ``board_paper``, ``inquiry_report`` or ``other``); by default a
            table's ``register`` column, else inferred from content and file
            names (``register_source`` in ``documents.csv`` and ``files.csv``).
        max_bytes: Files larger than this are skipped with a reason
            (default 50 MB; overrides ``limits.max_bytes``).
        limits: Resource bounds (:class:`lo_signals.readers.Limits`): size
            on disk, inflated size of .docx/.xlsx, units per document and
            characters per unit. A file over a size limit is skipped with the
            reason; units past a limit are split or dropped with a warning in
            ``files.csv``.
        follow_symlinks: Follow symbolic links that lead out of the input
            folders. Off by default, so a link cannot pull in files from
            elsewhere on the machine; such links are listed as skipped.
        keep_parts: Keep the parts cache after a complete run (fast re-runs
            over the same files); ``False`` deletes it once the tables are
            written. Parts no longer needed are always pruned.
        raw_csv: Write CSV cells as read. By default a text cell (unit
            text, metadata, column header, path) starting with ``=``, ``+``,
            ``-``, ``@``, a tab or a carriage return gets a leading ``'`` so
            that a spreadsheet does not run it as a formula
            (:func:`lo_signals.outdir.csv_safe`); Parquet is always raw.
        progress: Called after each file with its :class:`FileResult`.
        on_files: Called once with the number of files found.
        engine: ``local`` (this machine, ``workers`` processes) or ``ray``
            (Ray Data over ``workers`` model actors, or one per GPU; needs the ``[ray]`` extra).
        address: Ray cluster address (``ray`` engine); ``None`` starts or joins a local one.
        device: Where the model runs (transformer backend): ``auto``, ``cpu``, ``cuda``, ``mps``.
        precision: ``fp32``, ``bf16``, ``fp16`` or ``int8`` (transformer backend).
        batch_size: Units per forward pass (transformer backend).

    Returns:
        The ``run.json`` record.

    Raises:
        OutputLockedError: If another run is writing into ``out``.
        FileNotFoundError: If an input or the model does not exist.
        ValueError: For invalid options or a model with its own label set.
    """
    from importlib.metadata import version

    from .models import library_versions

    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be csv or parquet, got {fmt!r}")
    inference = inference_options(device, precision, batch_size)
    options = score_options(inputs, text_column, max_bytes, limits, follow_symlinks, register)
    scorer, worker_model, files = plan(inputs, model, options, workers=workers, engine=engine, inference=inference)
    out = Path(out)
    parts_dir = out / PARTS_DIR
    with OutputLock(out) as lock:
        parts_dir.mkdir(parents=True, exist_ok=True)
        started = _dt.datetime.now(_dt.timezone.utc)
        if on_files is not None:
            on_files(len(files))
        results: list[FileResult] = []
        for res, _ in run_files(files, worker_model, options, parts_dir=parts_dir, workers=workers, engine=engine, address=address, inference=inference):
            results.append(res)
            if progress is not None:
                progress(res)
        ok = [r for r in results if r.status == "ok" and r.part]
        sent_name = "sentences.parquet" if fmt == "parquet" else "sentences.csv"
        sent_parts = [(parts_dir / f"{r.part}.sentences.jsonl", r.sentence_columns or []) for r in ok]
        doc_parts = [(parts_dir / f"{r.part}.documents.jsonl", r.document_columns or []) for r in ok]
        sent_header = union_columns(SENTENCE_COLUMNS, (c for _, c in sent_parts))
        assemble(sent_parts, out / sent_name, sent_header, fmt, SENTENCE_TYPES, raw_csv=raw_csv)
        doc_header = union_columns(DOCUMENT_COLUMNS, (c for _, c in doc_parts))
        assemble(doc_parts, out / "documents.csv", doc_header, "csv", DOCUMENT_TYPES, raw_csv=raw_csv)
        meta = dict(getattr(scorer, "meta_", None) or {})
        for r in results:
            r.validation = validation_note(meta, r.register)
        write_files_csv(results, out / "files.csv", raw_csv=raw_csv)
        parts = tidy_parts(parts_dir, {r.part for r in ok if r.part}, keep_parts)
        statuses = Counter(r.status for r in results)
        run = {
            "model": _model_record(scorer),
            "versions": {**library_versions(), "pandas": version("pandas")},
            "options": {
                "inputs": [str(i) for i in inputs], "workers": workers, "format": fmt, "engine": engine, "address": address,
                "text_column": text_column, **asdict(options.limits), "follow_symlinks": follow_symlinks,
                "keep_parts": keep_parts, "raw_csv": raw_csv, "register": register, **inference,
            },
            # The column each table's text was read from: text_column above when
            # given, else what was detected (files.csv warns when another looked as likely).
            "text_columns": {r.path: r.text_column for r in results if r.text_column},
            # What the run had to deal with besides the files (a stale lock recovered).
            "notes": [lock.recovered] if lock.recovered else [],
            "started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "finished": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "counts": {
                "files": len(results),
                **{f"files_{k}": v for k, v in sorted(statuses.items())},
                "with_warnings": sum(1 for r in results if r.warnings),
                "documents": sum(r.documents for r in ok),
                "units": sum(r.units for r in ok),
            },
            "parts": parts,
            "outputs": [sent_name, "documents.csv", "files.csv", "run.json"],
        }
        tmp = out / "run.json.tmp"
        tmp.write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, out / "run.json")
    return run
