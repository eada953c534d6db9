"""The data model every reader produces, and the helpers all readers share.

A reader turns a file into :class:`Document` objects whose text is built with
:class:`TextBuilder`, and signals every file it cannot read with
:class:`ReadError`. This module imports nothing else from the package, so every
reader module can depend on it without cycles.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

BLOCK_KINDS: tuple[str, ...] = ("heading", "paragraph", "list_item", "table_cell", "quote")
READ_STATUSES: tuple[str, ...] = ("empty", "skipped", "error")

# --------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------


@dataclass
class Block:
    """A structural piece of a document's extracted text.

    Attributes:
        start: Offset of the first character in ``Document.text``.
        end: Offset one past the last character in ``Document.text``.
        kind: One of ``"heading"``, ``"paragraph"``, ``"list_item"``,
            ``"table_cell"`` or ``"quote"``.
        page: 1-based page number for PDFs, else ``None``.
    """

    start: int
    end: int
    kind: str
    page: int | None = None


@dataclass
class Document:
    """One readable unit of input: a whole file, or one row of a table.

    Attributes:
        doc_id: Stable id of the file at its path (:func:`document_id`: the
            same bytes at two paths are two documents). Tabular rows:
            ``"<file id>:r<row index>"``.
        path: The path as given to :func:`read_documents`.
        format: ``"txt"``, ``"md"``, ``"html"``, ``"pdf"``, ``"docx"``,
            ``"csv"``, ``"xlsx"``, ``"jsonl"`` or ``"parquet"``.
        text: Extracted text; blocks are separated by ``"\\n\\n"``.
        blocks: Structural blocks in reading order.
        pages: Number of pages for PDFs, else ``None``.
        encoding: The text encoding used for text formats, else ``None``.
        metadata: For tabular rows every other column (JSON-safe values);
            empty otherwise.
        content_hash: SHA-256 hex of the source bytes; for rows, of the file
            bytes followed by ``":r<row index>"``.
        file_hash: SHA-256 hex of the whole file's bytes (the same for every
            row of a table). The reader hashes each file once; callers that
            need a file's hash (resume keys, provenance) take it from here or
            from :attr:`FileSource.content_hash` instead of hashing again.
        text_column: For tabular rows, the column the text was read from
            (given, or detected); ``None`` otherwise.
    """

    doc_id: str
    path: str
    format: str
    text: str
    blocks: list[Block]
    pages: int | None = None
    encoding: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    content_hash: str = ""
    file_hash: str = ""
    text_column: str | None = None


def document_id(path: str, file_hash: str) -> str:
    """The id of a file's document: 16 hex digits of SHA-256 over its path and content hash.

    Both go in: an id from the content alone gave two copies of one file (a
    report filed in two folders) one id, so counts and roll-ups by document
    merged them. The same file at the same path keeps its id across runs.

    Args:
        path: The path as given to the reader.
        file_hash: SHA-256 hex of the file's bytes.

    Returns:
        16 lowercase hex digits.
    """
    return hashlib.sha256(f"{path}\0{file_hash}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Limits:
    """Resource bounds for reading and segmenting one file.

    Every limit protects memory and time against hostile or accidental input
    (a 700 KB .docx that inflates to 200 MB of XML, a one-line 50 MB text);
    the defaults are far above what real reports and surveys need. A file
    over a limit is reported with a reason naming the command-line option,
    or read in part with a warning; it never stops a batch.

    Attributes:
        max_bytes: Files larger than this on disk are skipped without being
            read (``--max-mb``).
        max_inflated_bytes: Zip-based formats (.docx, .xlsx): all the
            archive's members, whatever their names, may decompress to at
            most this many bytes in total; both the sizes the archive
            declares and the bytes actually inflated are checked, so a zip
            bomb is refused before it fills memory. Parquet: the largest row
            group (``--max-inflated-mb``).
        max_units: Most units kept per file; segmentation stops a document
            there and the batch layer stops a table there, with a warning
            (``--max-units``).
        max_chars: Longest unit in characters; longer units (a table dump,
            a text with no sentence ends) are split at whitespace into pieces
            no longer than this, with a warning; no text is lost
            (``--max-chars``).
        max_cell_chars: Tables: a text cell longer than this is split at
            whitespace into pieces no longer than this, each read as its own
            document (``doc_id`` ``<row id>.2``, ``.3``...), with a warning;
            no text is lost, and the work done on one piece (cleaning,
            layout, segmentation) stays bounded however large the cell
            (``--max-cell-chars``).
        max_meta_columns: Tables: most columns besides the text carried into
            the outputs as metadata (the first ones found); the others are
            named in a warning. A 20,000-column export would otherwise widen
            every row of the unit table (``--max-meta-columns``).
    """

    max_bytes: int = 50_000_000
    max_inflated_bytes: int = 100_000_000
    max_units: int = 2_000_000
    max_chars: int = 5_000
    max_cell_chars: int = 100_000
    max_meta_columns: int = 50

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_inflated_bytes", "max_units", "max_chars", "max_cell_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_meta_columns < 0:
            raise ValueError(f"max_meta_columns must be at least 0, got {self.max_meta_columns}")


class Warnings:
    """Per-file warnings, counted by message so a million rows cannot flood a report.

    Readers and segmentation call :meth:`add` with a message that names the
    option involved; :meth:`messages` lists each once with its count.
    """

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def add(self, message: str) -> None:
        """Record one occurrence of ``message``."""
        self._counts[message] = self._counts.get(message, 0) + 1

    def messages(self) -> list[str]:
        """Each message once, in first-seen order, with ``(N times)`` when repeated."""
        return [m if n == 1 else f"{m} ({n:,} times)" for m, n in self._counts.items()]

    def __bool__(self) -> bool:
        return bool(self._counts)


class ReadError(Exception):
    """A file (or folder) could not be turned into documents.

    Attributes:
        status: ``"empty"`` (nothing to read), ``"skipped"`` (deliberately
            not read: unsupported type, too big) or ``"error"`` (broken,
            unreadable or not what its name says).
        reason: One clear sentence for a human.
    """

    def __init__(self, status: str, reason: str) -> None:
        if status not in READ_STATUSES:
            raise ValueError(f"status must be one of {READ_STATUSES}, got {status!r}")
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        # Keeps the exception picklable across process pools, which rebuild
        # exceptions from ``args`` and would otherwise lose ``status``.
        return (type(self), (self.status, self.reason))

    def __repr__(self) -> str:
        return f"ReadError(status={self.status!r}, reason={self.reason!r})"


# --------------------------------------------------------------------------
# Small shared helpers
# --------------------------------------------------------------------------

CHUNK = 1 << 20

# C0 controls (other than tab/newline/CR/FF/VT), DEL, C1 controls, soft
# hyphens, BOMs and non-characters: never meaningful in prose, and they
# confuse tokenisers and terminals alike.
_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\ufeff\ufffe\uffff]")
_WS_RE = re.compile(r"\s+")


def clean(text: str) -> str:
    """Drop control characters that carry no prose."""
    return _CONTROL_RE.sub("", text)


def squash(text: str) -> str:
    """Collapse all whitespace runs (newlines included) to single spaces."""
    return _WS_RE.sub(" ", text).strip()


def fmt_size(n: int, *, limit: bool = False) -> str:
    """Human size in decimal units: ``104.9 MB``; limits drop a trailing ``.0``."""
    if n >= 1_000_000:
        value, unit = n / 1_000_000, "MB"
    elif n >= 1_000:
        value, unit = n / 1_000, "KB"
    else:
        return f"{n} bytes"
    text = f"{value:.1f}"
    if limit:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {unit}"


def short(exc: BaseException, limit: int = 120) -> str:
    """First line of an exception message, trimmed, for a ``reason``."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return msg if len(msg) <= limit else msg[: limit - 1] + "…"


class TextBuilder:
    """Accumulates blocks into one text with ``"\\n\\n"`` separators and offsets."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.blocks: list[Block] = []

    def add(self, text: str, kind: str, page: int | None = None) -> None:
        # Blocks are single-line by construction: the "\n\n" separator must
        # stay unambiguous, and wrapped lines are joined upstream anyway.
        text = squash(clean(text))
        if not text:
            return
        if self._parts:
            self._parts.append("\n\n")
            self._length += 2
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        self.blocks.append(Block(start, self._length, kind, page))

    def text(self) -> str:
        return "".join(self._parts)


def open_error(exc: OSError) -> ReadError:
    """Turn an ``OSError`` raised while opening or reading a file into a ``ReadError``."""
    if isinstance(exc, PermissionError):
        return ReadError("error", "permission denied: cannot read this file")
    if isinstance(exc, FileNotFoundError):
        return ReadError("error", "file disappeared before it could be read")
    if isinstance(exc, IsADirectoryError):
        return ReadError("error", "this is a folder, not a file")
    return ReadError("error", f"could not read the file: {exc.strerror or exc}")


@contextmanager
def unreadable_as(prefix: str) -> Iterator[None]:
    """Turn any parser failure inside the block into ``ReadError("error", f"{prefix}: ...")``.

    Parsing libraries raise many exception types on damaged files; a reader
    reports one clear reason instead. ``ReadError`` passes through unchanged.
    """
    try:
        yield
    except ReadError:
        raise
    except Exception as exc:  # noqa: BLE001 - every library failure becomes a per-file reason
        raise ReadError("error", f"{prefix}: {short(exc)}") from None
