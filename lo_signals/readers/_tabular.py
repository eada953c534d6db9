"""Tabular files (CSV/TSV, Excel, JSON Lines, Parquet): one document per row with text.

Rows stream: CSV in chunks through pandas, JSON Lines line by line, Parquet
in record batches and Excel through openpyxl's read-only mode, so memory
stays flat however many rows a file holds.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import logging
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ._columns import cell_text, detect_text_column, json_safe, resolve_column
from ._document import (
    CHUNK,
    Document,
    Limits,
    ReadError,
    TextBuilder,
    Warnings,
    clean,
    document_id,
    fmt_size,
    open_error,
    short,
    unreadable_as,
)
from .decoding import BINARY_REASON, bom_encoding, control_ratio, guess_non_latin, normalise_newlines, utf16_without_bom
from ._zip import InflateBudget, inflation_refused
from .layout import text_blocks

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
    if fmt == "csv":
        rows, encoding = _csv_rows(p, text_column)
    elif fmt == "xlsx":
        rows, encoding = _xlsx_rows(p, text_column, limits.max_inflated_bytes, warnings), None
    elif fmt == "jsonl":
        rows, encoding = _jsonl_rows(p, text_column)
    else:
        rows, encoding = _parquet_rows(p, text_column, limits.max_inflated_bytes), None
    produced = skipped = 0
    column = "?"
    for index, column, raw_text, row in rows:
        text = normalise_newlines(clean(cell_text(raw_text)))
        builder = TextBuilder()
        if text.strip():
            for kind, chunk in text_blocks(text):
                builder.add(chunk, kind)
        if not builder.blocks:
            skipped += 1
            continue
        rh = h.copy()
        rh.update(f":r{index}".encode())
        metadata = {str(k): json_safe(v) for k, v in row.items() if k != column}
        if fmt == "csv":
            # CSV cells are read as strings; an empty cell is a missing value.
            metadata = {k: (None if v == "" else v) for k, v in metadata.items()}
        produced += 1
        yield Document(
            doc_id=f"{file_id}:r{index}",
            path=shown,
            format=fmt,
            text=builder.text(),
            blocks=builder.blocks,
            pages=None,
            encoding=encoding,
            metadata=metadata,
            content_hash=rh.hexdigest(),
            file_hash=file_hash,
        )
    if skipped:
        logger.info("%s: skipped %d row(s) with empty text in column '%s'", shown, skipped, column)
    if not produced:
        if column == "?":
            raise ReadError("empty", "table has no data rows")
        raise ReadError("empty", f"no rows with text in column '{column}'")


_RowIter = Iterator[tuple[int, str, Any, Mapping[str, Any]]]


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


def _sniff_separator(first_line: str, default: str) -> str:
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] > 0 else default


def _csv_rows(p: Path, text_column: str | None) -> tuple[_RowIter, str]:
    import pandas as pd

    codec, recorded, head = _detect_csv_encoding(p)
    default_sep = "\t" if p.suffix.lower() == ".tsv" else ","
    try:
        decoded_head = head.decode(codec, errors="ignore")
    except LookupError:
        decoded_head = head.decode("latin-1")
    first_line = next((ln for ln in decoded_head.lstrip("\ufeff").splitlines() if ln.strip()), "")
    sep = default_sep if p.suffix.lower() == ".tsv" else _sniff_separator(first_line, default_sep)

    def rows() -> _RowIter:
        try:
            reader = pd.read_csv(
                p,
                sep=sep,
                encoding=codec,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                chunksize=2000,
                skip_blank_lines=True,
                quotechar='"',
                on_bad_lines="error",
            )
        except pd.errors.EmptyDataError:
            raise ReadError("empty", "CSV file has no columns or rows") from None
        except Exception as exc:
            raise ReadError("error", f"could not parse CSV: {short(exc)}") from None
        column: str | None = None
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
    import openpyxl

    try:
        with zipfile.ZipFile(p) as zf:
            # openpyxl inflates the XML parts (sheets, shared strings, styles)
            # itself; zipfile never returns more than the sizes the archive
            # declares, so checking the declared total bounds what it inflates.
            parts = [n for n in zf.namelist() if n.endswith((".xml", ".rels"))]
            InflateBudget(zf, max_inflated_bytes, "Excel workbook").check_declared(parts)
    except zipfile.BadZipFile:
        raise ReadError("error", "corrupt or unreadable Excel workbook: not a valid .xlsx (zip) file") from None
    except OSError as exc:
        raise open_error(exc) from None
    unreadable = "corrupt or unreadable Excel workbook"
    with unreadable_as(unreadable):
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
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


def _jsonl_rows(p: Path, text_column: str | None) -> tuple[_RowIter, str]:
    try:
        with open(p, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise open_error(exc) from None
    recorded = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    if bom_encoding(head) and recorded == "utf-8":
        raise ReadError("error", "JSON Lines must be UTF-8; this file is UTF-16/32")

    def rows() -> _RowIter:
        bad = 0
        first_problem = ""
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
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError as exc:
                        bad += 1
                        first_problem = first_problem or f"line {line_no + 1}: {exc.msg}"
                        logger.warning("%s line %d: invalid JSON skipped (%s)", p, line_no + 1, exc.msg)
                        continue
                    if not isinstance(obj, dict):
                        bad += 1
                        first_problem = first_problem or f"line {line_no + 1}: not a JSON object"
                        logger.warning("%s line %d: not a JSON object; skipped", p, line_no + 1)
                        continue
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
        if column is None and buffered:
            column = _jsonl_column(buffered, text_column)
            for idx, rec in buffered:
                yield idx, column, rec.get(column), rec
        elif column is None:
            if bad:
                raise ReadError("error", f"no valid JSON objects found (first problem on {first_problem})")
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
