"""Tabular files (CSV/TSV, Excel, JSON Lines, Parquet): one document per row with text.

Rows stream: CSV in chunks through pandas, JSON Lines line by line, Parquet
in record batches and Excel through openpyxl's read-only mode, so memory
stays flat however many rows a file holds.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import logging
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ._columns import ColumnChoice, cell_text, detect_text_column, json_safe, resolve_column
from ._document import (
    CHUNK,
    Document,
    Limits,
    ReadError,
    Warnings,
    document_id,
    fmt_size,
    open_error,
    short,
    unreadable_as,
)
from .decoding import BINARY_REASON, bom_encoding, control_ratio, guess_non_latin, utf16_without_bom
from ._zip import BudgetedZipFile, inflation_refused
from .layout import cell_documents

logger = logging.getLogger(__name__)


def read_tabular(
    p: Path, shown: str, fmt: str, text_column: str | None, file_hasher: Any, limits: Limits, warnings: Warnings
) -> Iterator[Document]:
    """Yield one document per row with text, lazily.

    Args:
        p: The file.
        shown: The path as the caller gave it (recorded on each document).
        fmt: ``"csv"``, ``"xlsx"``, ``"jsonl"`` or ``"parquet"``.
        text_column: The text column, or ``None`` to detect it.
        file_hasher: A ``hashlib`` SHA-256 object fed with the whole file;
            each row's content hash extends a copy of it.
        limits: Resource bounds (Excel and Parquet: ``max_inflated_bytes``).
        warnings: Collects what was passed over (sheets without text).

    Raises:
        ReadError: When no row has text, or the file cannot be parsed.
    """
    h = file_hasher
    file_hash = h.hexdigest()
    # Rows of the same bytes at another path are other documents (see document_id).
    file_id = document_id(shown, file_hash)
    meta = _MetaColumns(limits.max_meta_columns)
    if fmt == "csv":
        rows, encoding = _csv_rows(p, text_column, meta)
    elif fmt == "xlsx":
        rows, encoding = _xlsx_rows(p, text_column, limits.max_inflated_bytes, warnings), None
    elif fmt == "jsonl":
        rows, encoding = _jsonl_rows(p, text_column, warnings)
    else:
        rows, encoding = _parquet_rows(p, text_column, limits.max_inflated_bytes), None
    produced = skipped = 0
    column = "?"
    cap = limits.max_cell_chars
    # A detected column with a rival is a loss files.csv must show (a given one was chosen).
    choice = ColumnChoice(warnings) if text_column is None else None
    for index, column, raw_text, row in rows:
        if choice is not None:
            choice.see(column, row)
        metadata: dict[str, Any] | None = None
        piece_no = 0
        for text, blocks in cell_documents(cell_text(raw_text), cap, warnings):
            piece_no += 1
            # The first piece keeps the row's id; later pieces of a huge cell
            # get ".2", ".3"... so every document id stays unique.
            suffix = f":r{index}" if piece_no == 1 else f":r{index}.{piece_no}"
            rh = h.copy()
            rh.update(suffix.encode())
            if metadata is None:
                metadata = meta.keep(row, column)
                if fmt == "csv":
                    # CSV cells are read as strings; an empty cell is a missing value.
                    metadata = {k: (None if v == "" else v) for k, v in metadata.items()}
            produced += 1
            yield Document(
                doc_id=file_id + suffix,
                path=shown,
                format=fmt,
                text=text,
                blocks=blocks,
                pages=None,
                encoding=encoding,
                metadata=metadata,
                content_hash=rh.hexdigest(),
                file_hash=file_hash,
                text_column=column,
            )
        if not piece_no:
            skipped += 1
    if choice is not None:
        choice.finish()
    if meta.dropped:
        warnings.add(meta.warning())
    if skipped:
        logger.info("%s: skipped %d row(s) with empty text in column '%s'", shown, skipped, column)
    if not produced:
        if column == "?":
            raise ReadError("empty", "table has no data rows")
        raise ReadError("empty", f"no rows with text in column '{column}'")


_RowIter = Iterator[tuple[int, str, Any, Mapping[str, Any]]]

# Column names listed in the warning about metadata columns left out, and
# how many distinct left-out names are counted at most.
_COLUMNS_SHOWN = 20
_DROPPED_REMEMBERED = 100_000


class _MetaColumns:
    """Which columns of a table are carried into the outputs as metadata.

    The first ``limit`` columns found (besides the text) are kept; every
    other column is left out and named once in a warning, so a very wide
    table cannot widen every row of the run's unit table.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept: dict[str, None] = {}
        self.dropped: dict[str, None] = {}

    def keep(self, row: Mapping[Any, Any], text_column: str) -> dict[str, Any]:
        """The row's metadata: its kept columns, values made JSON-safe."""
        out: dict[str, Any] = {}
        for k, v in row.items():
            if k == text_column:
                continue
            key = str(k)
            if key not in self.kept:
                if len(self.kept) >= self.limit:
                    # Names are remembered up to a bound: JSON Lines rows
                    # with ever new keys must not grow this without end.
                    if len(self.dropped) < _DROPPED_REMEMBERED:
                        self.dropped[key] = None
                    continue
                self.kept[key] = None
            out[key] = json_safe(v)
        return out

    def drop(self, names: Sequence[str]) -> None:
        """Record columns left out before any row was read (a wide CSV reads only the kept ones)."""
        for name in names:
            if len(self.dropped) >= _DROPPED_REMEMBERED:
                break
            self.dropped[name] = None

    def warning(self) -> str:
        names = [n if len(n) <= 40 else n[:39] + "…" for n in itertools.islice(self.dropped, _COLUMNS_SHOWN)]
        more = f" and {len(self.dropped) - len(names):,} more" if len(self.dropped) > len(names) else ""
        count = f"{len(self.dropped):,}" + ("+" if len(self.dropped) >= _DROPPED_REMEMBERED else "")
        return (
            f"{count} column(s) not carried into the outputs, over the "
            f"{self.limit:,} kept (--max-meta-columns): {', '.join(names)}{more}"
        )

# An empty zip archive: what openpyxl's reader opens before it is handed the
# budgeted archive of the real file (so the file is not opened twice).
_EMPTY_ZIP = b"PK\x05\x06" + b"\x00" * 18


def _detect_csv_encoding(p: Path) -> tuple[str, str, bytes]:
    """Stream the file once to choose an encoding; returns (codec, recorded, head)."""
    head = b""
    utf8 = codecs.getincrementaldecoder("utf-8")()
    cp1252 = codecs.getincrementaldecoder("cp1252")()
    utf8_ok = cp1252_ok = True
    try:
        with open(p, "rb") as fh:
            while chunk := fh.read(CHUNK):
                if not head:
                    head = chunk
                if utf8_ok:
                    try:
                        utf8.decode(chunk)
                    except UnicodeDecodeError:
                        utf8_ok = False
                if cp1252_ok:
                    try:
                        cp1252.decode(chunk)
                    except UnicodeDecodeError:
                        cp1252_ok = False
        if utf8_ok:
            utf8.decode(b"", final=True)
    except UnicodeDecodeError:
        utf8_ok = False
    except OSError as exc:
        raise open_error(exc) from None
    bom = bom_encoding(head[:4])
    if bom:
        codec = {"utf-8-sig": "utf-8-sig", "utf-16": "utf-16", "utf-32": "utf-32"}[bom[0]]
        return codec, bom[0], head
    sample = head[:65536]
    if b"\x00" in sample:
        codec = utf16_without_bom(sample)
        if codec:
            return codec, "utf-16", head
        raise ReadError("error", BINARY_REASON)
    if control_ratio(sample) > 0.05:
        raise ReadError("error", BINARY_REASON)
    if utf8_ok:
        return "utf-8", "utf-8", head
    guess = guess_non_latin(head, truncated=len(head) >= CHUNK)
    if guess:
        return guess[1], guess[1], head
    if cp1252_ok:
        return "cp1252", "cp1252", head
    return "latin-1", "latin-1", head


# Most cells in one chunk of CSV rows (2,000 rows of up to 100 columns), and
# the rows of every column a wide CSV's text column is chosen on.
_CHUNK_CELLS = 200_000
_WIDE_SAMPLE_ROWS = 50


def _sniff_separator(first_line: str, default: str) -> str:
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] > 0 else default


def _csv_rows(p: Path, text_column: str | None, meta: _MetaColumns | None = None) -> tuple[_RowIter, str]:
    import pandas as pd

    codec, recorded, head = _detect_csv_encoding(p)
    default_sep = "\t" if p.suffix.lower() == ".tsv" else ","
    try:
        decoded_head = head.decode(codec, errors="ignore")
    except LookupError:
        decoded_head = head.decode("latin-1")
    first_line = next((ln for ln in decoded_head.lstrip("\ufeff").splitlines() if ln.strip()), "")
    sep = default_sep if p.suffix.lower() == ".tsv" else _sniff_separator(first_line, default_sep)
    options: dict[str, Any] = dict(
        sep=sep, encoding=codec, dtype=str, keep_default_na=False, na_filter=False,
        skip_blank_lines=True, quotechar='"', on_bad_lines="error",
    )

    def rows() -> _RowIter:
        column: str | None = None
        usecols: list[int] | None = None
        try:
            header = [str(c) for c in pd.read_csv(p, nrows=0, **options).columns]
            if meta is not None and len(header) > meta.limit + 1:
                # A wide table: the text column is chosen on a few rows of
                # every column, then only it and the metadata columns kept
                # are parsed, so a 20,000-column export costs what a narrow
                # one does and its other columns never reach the outputs.
                sample = pd.read_csv(p, nrows=_WIDE_SAMPLE_ROWS, **options)
                records = [dict(zip(header, r)) for r in sample.to_numpy(dtype=object).tolist()]
                column = resolve_column(text_column, header) if text_column is not None else detect_text_column(header, records)
                at = header.index(column)
                usecols = sorted([at] + [i for i in range(len(header)) if i != at][: meta.limit])
                kept = set(usecols)
                meta.drop([c for i, c in enumerate(header) if i not in kept])
            # A chunk holds rows x columns cells as Python strings: fewer rows
            # per chunk for wider tables keeps memory flat.
            width = len(usecols) if usecols is not None else len(header)
            chunk_rows = max(10, min(2000, _CHUNK_CELLS // max(1, width)))
            reader = pd.read_csv(p, chunksize=chunk_rows, usecols=usecols, **options)
        except ReadError:
            raise
        except pd.errors.EmptyDataError:
            raise ReadError("empty", "CSV file has no columns or rows") from None
        except Exception as exc:
            raise ReadError("error", f"could not parse CSV: {short(exc)}") from None
        index = 0
        try:
            with reader:
                for chunk in reader:
                    records = chunk.to_dict("records")
                    if column is None:
                        cols = [str(c) for c in chunk.columns]
                        column = (
                            resolve_column(text_column, cols)
                            if text_column is not None
                            else detect_text_column(cols, records[:200])
                        )
                    for rec in records:
                        yield index, column, rec.get(column), rec
                        index += 1
        except ReadError:
            raise
        except pd.errors.EmptyDataError:
            raise ReadError("empty", "CSV file has no columns or rows") from None
        except (UnicodeDecodeError, csv.Error, pd.errors.ParserError, ValueError) as exc:
            raise ReadError("error", f"could not parse CSV: {short(exc)}") from None
        if column is None:
            raise ReadError("empty", "CSV file has a header but no rows")

    return rows(), recorded


def _dedupe_names(names: Sequence[Any]) -> list[str]:
    out: list[str] = []
    seen: Counter[str] = Counter()
    for i, raw in enumerate(names):
        name = str(raw).strip() if raw is not None and str(raw).strip() else f"column_{i + 1}"
        if seen[name]:
            new = f"{name}.{seen[name]}"
            seen[name] += 1
            name = new
        else:
            seen[name] += 1
        out.append(name)
    return out


def _xlsx_rows(p: Path, text_column: str | None, max_inflated_bytes: int, warnings: Warnings) -> _RowIter:
    """Rows of every worksheet in turn, each carrying its sheet's name.

    Each sheet finds its own text column. A sheet that has none (a lookup
    table of codes, say) is passed over with a warning; the file fails only
    when no sheet can be read.
    """
    from openpyxl.reader.excel import ExcelReader

    try:
        # openpyxl follows [Content_Types].xml to parts of any name (shared
        # strings in "xl/ss.bin"), so every member counts: their declared
        # total is checked here and every byte openpyxl inflates is charged
        # to the same budget while it reads.
        archive = BudgetedZipFile(p, max_inflated_bytes, "Excel workbook")
    except zipfile.BadZipFile:
        raise ReadError("error", "corrupt or unreadable Excel workbook: not a valid .xlsx (zip) file") from None
    except OSError as exc:
        raise open_error(exc) from None
    unreadable = "corrupt or unreadable Excel workbook"
    try:
        with unreadable_as(unreadable):
            # load_workbook() opens its own plain ZipFile; its reader is given
            # the budgeted archive instead (the same steps load_workbook runs).
            reader = ExcelReader(io.BytesIO(_EMPTY_ZIP), read_only=True, data_only=True)
            reader.archive.close()
            reader.archive, reader.valid_files = archive, archive.namelist()
            reader.read()
            wb = reader.wb
    except BaseException:
        archive.close()
        raise
    try:
        with unreadable_as(unreadable):
            yield from _sheets_rows(wb, text_column, warnings)
    finally:
        # read-only workbooks keep the file open until closed
        wb.close()


def _sheets_rows(wb: Any, text_column: str | None, warnings: Warnings) -> _RowIter:
    """Rows of each sheet in turn; row indexes run on across sheets so ids stay unique."""
    first_error: ReadError | None = None
    index = 0
    read_any = False
    for ws in wb.worksheets:
        rows = ws.iter_rows(values_only=True)
        try:
            header, column, sample = _sheet_start(rows, text_column)
        except ReadError as err:
            first_error = first_error or err
            warnings.add(f"sheet '{ws.title}' not read: {err.reason}")
            continue
        if header is None:
            continue  # a blank sheet
        read_any = True
        key = "sheet" if "sheet" not in header else "_sheet"
        for values in itertools.chain(sample, rows):
            rec = dict(zip(header, values))
            rec[key] = ws.title
            yield index, column, rec.get(column), rec
            index += 1
    if not read_any:
        if first_error:
            raise first_error
        raise ReadError("empty", "workbook has no data")


def _sheet_start(
    rows: Iterator[tuple[Any, ...]], text_column: str | None
) -> tuple[list[str] | None, str, list[tuple[Any, ...]]]:
    """Read a sheet's header and a sample of rows; returns ``(header, text column, sample)``.

    ``header`` is ``None`` for a sheet with no non-blank row.
    """
    header: list[str] | None = None
    sample: list[tuple[Any, ...]] = []
    for values in rows:
        if header is None:
            if any(v is not None and str(v).strip() for v in values):
                header = _dedupe_names(values)
            continue
        sample.append(values)
        if len(sample) >= 200:
            break
    if header is None:
        return None, "", sample
    records = [dict(zip(header, v)) for v in sample]
    column = resolve_column(text_column, header) if text_column is not None else detect_text_column(header, records)
    return header, column, sample


# JSON nested deeper than this is refused per line: json.loads (and the
# JSON written to the parts cache) recurse once per level, and a line one
# hundred thousand levels deep must cost that line, not the file.
_MAX_JSON_DEPTH = 100
# Line numbers listed in the files.csv warning about skipped lines.
_LINES_SHOWN = 10


def _json_depth_over(line: str, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than ``limit`` (a linear scan, no recursion)."""
    if line.count("{") + line.count("[") <= limit:
        return False  # the usual case, decided at C speed
    depth = 0
    in_string = escaped = False
    for ch in line:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


class _BadLines:
    """JSON Lines lines skipped, for one ``files.csv`` warning that names them."""

    def __init__(self) -> None:
        self.count = 0
        self.shown: list[str] = []

    def add(self, line_no: int, problem: str) -> None:
        self.count += 1
        if len(self.shown) < _LINES_SHOWN:
            self.shown.append(f"{line_no} ({problem})")

    def first(self) -> str:
        return f"line {self.shown[0]}" if self.shown else ""

    def warning(self) -> str:
        more = f" and {self.count - len(self.shown):,} more" if self.count > len(self.shown) else ""
        which = "line" if self.count == 1 else "lines"
        return f"{self.count:,} {which} skipped, not valid JSON objects: {which} {', '.join(self.shown)}{more}"


def _jsonl_rows(p: Path, text_column: str | None, warnings: Warnings | None = None) -> tuple[_RowIter, str]:
    try:
        with open(p, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise open_error(exc) from None
    recorded = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    if bom_encoding(head) and recorded == "utf-8":
        raise ReadError("error", "JSON Lines must be UTF-8; this file is UTF-16/32")

    def rows() -> _RowIter:
        bad = _BadLines()
        buffered: list[tuple[int, dict[str, Any]]] = []
        column: str | None = None
        try:
            with open(p, "rb") as fh:
                for line_no, raw in enumerate(fh):
                    if line_no == 0 and raw.startswith(codecs.BOM_UTF8):
                        raw = raw[3:]
                    if not raw.strip():
                        continue
                    try:
                        line = raw.decode("utf-8")
                    except UnicodeDecodeError:
                        logger.warning("%s line %d: not valid UTF-8; undecodable bytes replaced", p, line_no + 1)
                        line = raw.decode("utf-8", errors="replace")
                    # Each line stands alone: a bad one is skipped and
                    # counted, and the good lines around it are kept.
                    problem = ""
                    obj = None
                    if _json_depth_over(line, _MAX_JSON_DEPTH):
                        problem = f"nested more than {_MAX_JSON_DEPTH} levels deep"
                    else:
                        try:
                            obj = json.loads(line)
                        except json.JSONDecodeError as exc:
                            problem = exc.msg
                        except (RecursionError, ValueError) as exc:
                            problem = short(exc, 60)
                        else:
                            if not isinstance(obj, dict):
                                problem = "not a JSON object"
                    if problem:
                        bad.add(line_no + 1, problem)
                        logger.warning("%s line %d: skipped (%s)", p, line_no + 1, problem)
                        continue
                    assert isinstance(obj, dict)
                    if column is None:
                        buffered.append((line_no, obj))
                        if len(buffered) < 200:
                            continue
                        column = _jsonl_column(buffered, text_column)
                        for idx, rec in buffered:
                            yield idx, column, rec.get(column), rec
                        buffered = []
                        continue
                    yield line_no, column, obj.get(column), obj
        except OSError as exc:
            raise open_error(exc) from None
        if bad.count and warnings is not None and (column is not None or buffered):
            warnings.add(bad.warning())
        if column is None and buffered:
            column = _jsonl_column(buffered, text_column)
            for idx, rec in buffered:
                yield idx, column, rec.get(column), rec
        elif column is None:
            if bad.count:
                raise ReadError("error", f"no valid JSON objects found (first problem on {bad.first()})")
            raise ReadError("empty", "file contains only blank lines")

    return rows(), recorded


def _jsonl_column(buffered: Sequence[tuple[int, Mapping[str, Any]]], text_column: str | None) -> str:
    columns: dict[str, None] = {}
    for _, rec in buffered:
        for key in rec:
            columns.setdefault(str(key), None)
    names = list(columns)
    if text_column is not None:
        return resolve_column(text_column, names)
    return detect_text_column(names, [rec for _, rec in buffered])


def _parquet_rows(p: Path, text_column: str | None, max_inflated_bytes: int) -> _RowIter:
    import pyarrow.parquet as pq

    unreadable = "corrupt or unreadable Parquet file"
    with unreadable_as(unreadable):
        pf = pq.ParquetFile(p)
    try:
        with unreadable_as(unreadable):
            # Batches are cut from one decompressed row group at a time, so the
            # largest row group is what memory must hold.
            meta = pf.metadata
            biggest = max((meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)), default=0)
            if biggest > max_inflated_bytes:
                raise inflation_refused("Parquet row group", fmt_size(biggest), max_inflated_bytes)
            names = list(pf.schema_arrow.names)
            column: str | None = None
            if text_column is not None:
                column = resolve_column(text_column, names)
            index = 0
            for batch in pf.iter_batches(batch_size=1024):
                records = batch.to_pylist()
                if column is None:
                    column = detect_text_column(names, records[:200])
                for rec in records:
                    yield index, column, rec.get(column), rec
                    index += 1
    finally:
        pf.close()
