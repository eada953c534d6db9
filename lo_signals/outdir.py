"""The output folder of a batch run: its lock, its parts cache, its tables.

* :class:`OutputLock`: one run at a time may write into an output folder. An
  advisory lock on ``OUT/.lo_signals.lock`` is held for the whole run; the
  operating system releases it when the process dies, and a lock left held
  by the orphaned children of a killed run is recovered, so a killed run
  never blocks the next one.
* :class:`PartStore`: each file's rows go to JSONL part files in
  ``OUT/.lo_signals_parts/``, renamed into place only when complete, with a
  small marker written last. A run killed at any moment (SIGKILL included)
  therefore completes on re-run with nothing lost or duplicated, and a re-run
  over unchanged files reuses their parts instead of scoring them again.
* :func:`assemble`: the output tables are streamed from the parts in input
  order, so memory stays flat whatever the size of the run. CSV cells that a
  spreadsheet would run as formulas are neutralised (:func:`csv_safe`);
  the parts and Parquet tables keep the raw values.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import socket
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from .pipeline import FILE_COLUMNS, FileResult, Rows, ScoreOptions, column_types, options_key

__all__ = [
    "PARTS_DIR", "OutputLock", "OutputLockedError", "PartStore", "model_fingerprint", "part_key", "assemble",
    "union_columns", "write_files_csv", "tidy_parts", "csv_safe", "close_inherited_locks",
]

#: The parts cache inside an output folder.
PARTS_DIR = ".lo_signals_parts"
_LOCK_FILE = ".lo_signals.lock"

class OutputLockedError(RuntimeError):
    """Another run is writing into the same output folder."""


# Lock files this process holds. A worker process forked from it inherits
# their descriptors, and with them the lock, which would then outlive a
# killed run; workers close their copies (close_inherited_locks).
_HELD: list[Any] = []


class OutputLock:
    """An exclusive advisory lock on an output folder, held for one run.

    The lock file records the pid and host of the run holding it, and is
    emptied when the run ends. A stale lock is recovered, and
    :attr:`recovered` says so: one held although the run it names is no
    longer alive (a run killed by a timeout, whose child processes still
    hold the lock), or one whose run died without emptying it. A lock whose
    run is alive, or runs on another host, stops the new run at once.

    Args:
        out: The output folder (created if missing).

    Attributes:
        path: The lock file.
        recovered: A note when a stale lock was recovered, else ``None``.

    Raises:
        OutputLockedError: From ``__enter__`` when another live run holds it.
    """

    def __init__(self, out: Path) -> None:
        self.path = Path(out) / _LOCK_FILE
        self.recovered: str | None = None
        self._fh: Any = None

    def __enter__(self) -> "OutputLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # A few tries: breaking a stale lock, or losing a race with another
        # run breaking one, means opening the lock file afresh.
        for _ in range(5):
            fh = open(self.path, "a+", encoding="utf-8")
            try:
                _try_lock(fh)
            except OSError:
                fh.seek(0)
                pid, host = _holder(fh.read())
                if not _dead(pid, host):
                    fh.close()
                    raise OutputLockedError(
                        f"another lo-signals run (pid {pid or 'unknown'}) is writing to {self.path.parent}; "
                        "wait for it to finish or choose another --out"
                    ) from None
                stale = os.fstat(fh.fileno())
                fh.close()
                _break_lock(self.path, stale)
                self.recovered = f"recovered a stale lock: the run that held it (pid {pid}) is no longer running"
                continue
            if not _same_file(fh, self.path):
                fh.close()  # another run broke a stale lock meanwhile: start again
                continue
            fh.seek(0)
            pid, _ = _holder(fh.read())
            if pid is not None and self.recovered is None:
                # A clean exit empties the file: a pid left in it is a run
                # that was killed (the system released its lock).
                self.recovered = f"recovered the lock of an earlier run (pid {pid}) that stopped before it finished"
            fh.seek(0)
            fh.truncate()
            fh.write(f"{os.getpid()}\n{socket.gethostname()}\n")
            fh.flush()
            self._fh = fh
            _HELD.append(fh)
            return self
        raise OutputLockedError(f"could not lock {self.path}: other runs keep replacing it; try again")

    def __exit__(self, *exc: Any) -> None:
        # The file stays (emptied): unlinking a lock file lets a third run
        # lock a new inode while a second still holds the old one.
        if self._fh in _HELD:
            _HELD.remove(self._fh)
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.flush()
        self._fh.close()  # closing releases the lock
        self._fh = None


def close_inherited_locks() -> None:
    """In a worker process forked from a run: close its copies of the run's lock files.

    The parent keeps its lock (a lock belongs to the open file, and only the
    worker's descriptor is closed); a worker orphaned by a killed run then
    no longer holds it.
    """
    while _HELD:
        _HELD.pop().close()


def _holder(text: str) -> tuple[int | None, str | None]:
    """The pid and host a lock file records (``None`` when unreadable or empty)."""
    lines = text.split()
    pid = int(lines[0]) if lines and lines[0].isdigit() else None
    return pid, (lines[1] if len(lines) > 1 else None)


def _dead(pid: int | None, host: str | None) -> bool:
    """Whether the run named by a held lock is certainly gone (then the lock is stale)."""
    if pid is None or os.name == "nt":
        return False  # being written right now, or no safe liveness check (os.kill would signal)
    if host is not None and host != socket.gethostname():
        return False  # a run on another machine sharing the folder: cannot tell
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive under another user
    return False


def _same_file(fh: Any, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fh.fileno())
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


def _break_lock(path: Path, stale: os.stat_result) -> None:
    """Unlink a stale lock file, if it is still the one found stale.

    Runs that find the same stale lock take turns on a guard file, so one
    cannot unlink the fresh lock another has just made in its place.
    """
    import fcntl

    with open(path.with_name(path.name + ".break"), "a") as guard:
        fcntl.flock(guard.fileno(), fcntl.LOCK_EX)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return
        if (st.st_dev, st.st_ino) == (stale.st_dev, stale.st_ino):
            path.unlink()


def _try_lock(fh: Any) -> None:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        return
    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


# -- parts cache ----------------------------------------------------------------


def model_fingerprint(model: Any) -> str:
    """What identifies a model's weights: the same string for the same weights, in any process.

    A model loaded from a directory is known by the sha256 of each of its
    files, as its ``meta.json`` records them (and loading checks them), and
    by the recorded hashes of the model directories it is made of, if any. A
    model fitted in memory and never saved has no files: its learned state
    is hashed instead (:func:`lo_signals._hashing.state_sha256`). A path, a
    date and thresholds are not enough: two unsaved models fitted on
    different data share all three.

    Args:
        model: A fitted scorer, or the metadata stand-in of one.

    Returns:
        ``"files:<sha256>"`` or ``"state:<sha256>"``.
    """
    from ._hashing import state_sha256

    meta = getattr(model, "meta_", None) or {}
    files, parts = meta.get("files"), meta.get("parts")
    if getattr(model, "path_", None) is not None and (files or parts):
        listed = json.dumps(sorted((files or {}).items()))
        if parts:
            # A model made of model directories (the cascade) is known by its parts' meta.json
            # hashes too, which pin their weights: swapping a part is another model.
            listed += json.dumps(parts, sort_keys=True)
        return "files:" + hashlib.sha256(listed.encode()).hexdigest()
    return "state:" + state_sha256(model)


def part_key(model: Any, options: ScoreOptions) -> str:
    """What must match for an earlier run's rows of a file to be reused.

    The model's weights (:func:`model_fingerprint`) and thresholds (which a
    caller may change on a loaded model), the options that change a file's
    rows, and the library version.
    """
    from . import __version__

    ident = {
        "weights": model_fingerprint(model),
        "thresholds": [round(float(t), 6) for t in model.thresholds_],
        "aspiration_thresholds": [round(float(t), 6) for t in model.aspiration_thresholds_],
        "options": options_key(options),
        "version": __version__,
        "parts_format": 5,  # 5: quality column; 4: truncated column; 3: keyed by weights (2 by model path and date); rows as value lists
    }
    return json.dumps(ident, sort_keys=True)


class PartStore:
    """Writes each file's rows to JSONL part files, renamed into place when complete.

    Each line is one row's values, in the order of the file's column list
    (``FileResult.sentence_columns`` / ``document_columns``, kept in its
    marker): repeating every key on every line made the cache several times
    larger than the tables. Columns only grow, so a shorter line lacks the
    later keys.

    Args:
        parts_dir: The parts cache folder.
        key: The model and options (see :func:`part_key`); parts made
            under another key are never reused.
    """

    def __init__(self, parts_dir: Path, key: str) -> None:
        self.parts_dir = Path(parts_dir)
        self.key = key
        self._stem: str | None = None
        self._fhs: tuple[Any, Any] | None = None
        self._cols: tuple[dict[str, None], dict[str, None]] = ({}, {})

    def _paths(self, stem: str) -> tuple[Path, Path, Path]:
        d = self.parts_dir
        return d / f"{stem}.sentences.jsonl", d / f"{stem}.documents.jsonl", d / f"{stem}.json"

    def lookup(self, path: str, content_hash: str) -> FileResult | None:
        # Same file, same content, same model and options: the parts can be reused.
        self._stem = hashlib.sha256(f"{path}\0{content_hash}\0{self.key}".encode()).hexdigest()[:24]
        self._cols = ({}, {})
        done = self._paths(self._stem)[2]
        if done.is_file():
            return FileResult(**json.loads(done.read_text(encoding="utf-8")))
        return None

    def write(self, sentence_rows: list[dict[str, Any]], document_rows: list[dict[str, Any]]) -> None:
        if self._fhs is None:
            sent, docs, _ = self._paths(self._stem)
            self._fhs = (open(f"{sent}.tmp", "w", encoding="utf-8"), open(f"{docs}.tmp", "w", encoding="utf-8"))
        for fh, cols, rows in zip(self._fhs, self._cols, (sentence_rows, document_rows)):
            for r in rows:
                cols.update(dict.fromkeys(r))
                fh.write(json.dumps([r.get(c) for c in cols], ensure_ascii=False, default=str) + "\n")

    def _close(self, sync: bool) -> None:
        for fh in self._fhs or ():
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
            fh.close()
        self._fhs = None

    def commit(self, result: FileResult) -> None:
        self._close(sync=True)
        sent, docs, done = self._paths(self._stem)
        os.replace(f"{sent}.tmp", sent)
        os.replace(f"{docs}.tmp", docs)
        result.part = self._stem
        result.sentence_columns, result.document_columns = (list(c) for c in self._cols)
        # The marker is written last: its presence means the parts are complete.
        tmp = done.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(result)), encoding="utf-8")
        os.replace(tmp, done)

    def discard(self) -> None:
        self._close(sync=False)
        if self._stem is not None:
            for p in self._paths(self._stem)[:2]:
                Path(f"{p}.tmp").unlink(missing_ok=True)

    def take(self) -> Rows | None:
        return None


# -- tables -------------------------------------------------------------------


def _iter_part(path: Path, columns: Sequence[str]) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield dict(zip(columns, json.loads(line)))


def union_columns(fixed: Sequence[str], column_lists: Iterable[Sequence[str] | None]) -> list[str]:
    """The fixed columns, then every other key in first-seen order."""
    cols: dict[str, None] = dict.fromkeys(fixed)
    for columns in column_lists:
        cols.update(dict.fromkeys(columns or ()))
    return list(cols)


def assemble(
    parts: Sequence[tuple[Path, Sequence[str]]],
    dest: Path,
    header: Sequence[str],
    fmt: str,
    declared: dict[str, str] | None = None,
    *,
    raw_csv: bool = False,
) -> None:
    """Stream part files into one table (CSV or Parquet).

    Args:
        parts: Each part file with its column list, in output order.
        dest: The table to write (replaced atomically).
        header: The table's columns.
        fmt: ``csv`` or ``parquet``.
        raw_csv: Write CSV cells as they are; by default a text cell that a
            spreadsheet would run as a formula is neutralised
            (:func:`csv_safe`). Parquet is always written raw.
        declared: The table's declared column types
            (:data:`~lo_signals.pipeline.SENTENCE_TYPES` or
            :data:`~lo_signals.pipeline.DOCUMENT_TYPES`); Parquet columns
            get them, and every other column (metadata) is text.
    """
    header = list(header)
    tmp = dest.with_name(dest.name + ".tmp")
    if fmt == "csv":
        cell = (lambda v: v) if raw_csv else csv_safe
        with open(tmp, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow([cell(c) for c in header])
            for p, columns in parts:
                writer.writerows([cell(row.get(c)) for c in header] for row in _iter_part(p, columns))
    else:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        kinds = column_types(declared or {}, header)
        arrow = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string()}
        schema = pa.schema([(c, arrow[kinds[c]]) for c in header])
        writer = pq.ParquetWriter(tmp, schema)

        def write(rows: list[dict[str, Any]]) -> None:
            chunk = pd.DataFrame.from_records(rows).reindex(columns=header)
            for c in header:
                if kinds[c] == "int":
                    chunk[c] = pd.to_numeric(chunk[c], errors="coerce").astype("Int64")
                elif kinds[c] == "float":
                    chunk[c] = pd.to_numeric(chunk[c], errors="coerce").astype("float64")
                elif kinds[c] == "bool":
                    # Missing stays missing (a row from a model that did not say).
                    chunk[c] = chunk[c].astype("boolean")
                else:
                    chunk[c] = chunk[c].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
            writer.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False))

        buf: list[dict[str, Any]] = []
        for p, columns in parts:
            for row in _iter_part(p, columns):
                buf.append(row)
                if len(buf) >= 20000:
                    write(buf)
                    buf = []
        if buf:
            write(buf)
        writer.close()
    os.replace(tmp, dest)


def write_files_csv(results: Sequence[FileResult], dest: Path, *, raw_csv: bool = False) -> None:
    """Write ``files.csv``, one row per file (formula-like cells neutralised unless ``raw_csv``)."""
    cell = (lambda v: v) if raw_csv else csv_safe
    tmp = dest.with_name(dest.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(FILE_COLUMNS))
        writer.writeheader()
        writer.writerows({k: cell(v) for k, v in r.row().items()} for r in results)
    os.replace(tmp, dest)


# A text cell starting with one of these is run as a formula by spreadsheet
# programs (OWASP's CSV injection list): "=HYPERLINK(...)", "@SUM(...)",
# "+cmd|...". A path, a sheet name or a column header comes from the input
# as much as the text does.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A plain number ("-3.5", "+44", "-1e-3") is data a spreadsheet reads as a
# number, never a formula; it is left alone.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def csv_safe(value: Any) -> Any:
    """A CSV cell that no spreadsheet will run as a formula.

    A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return gets a leading ``'``, which spreadsheets take as "this is text"
    and do not display. Text such as "- a bullet" is prefixed too: the rule
    has no exceptions but plain numbers ("-3.5"), which stay numbers. Other
    values (numbers, ``None``) are returned unchanged.

    Args:
        value: One cell.

    Returns:
        The cell to write.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def tidy_parts(parts_dir: Path, keep: set[str], keep_parts: bool) -> dict[str, Any]:
    """Drop parts this run did not use (or all of them); report what stays."""
    if not keep_parts:
        shutil.rmtree(parts_dir, ignore_errors=True)
        return {"dir": PARTS_DIR, "kept": False, "files": 0, "bytes": 0}
    files = size = 0
    for p in parts_dir.iterdir():
        # Parts of files no longer scored, or of another model or options,
        # would only grow the cache; a killed run's leftovers too.
        if p.name.split(".", 1)[0] not in keep:
            p.unlink(missing_ok=True)
            continue
        files += 1
        size += p.stat().st_size
    return {"dir": PARTS_DIR, "kept": True, "files": files, "bytes": size}
