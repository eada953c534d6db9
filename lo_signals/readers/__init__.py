"""Turn files on disk into :class:`Document` objects with structural blocks.

Every supported format ends up as the same thing: one ``Document`` whose
``text`` is the extracted prose, with paragraphs, headings, list items, table
cells and quotations recorded as :class:`Block` spans separated by a blank line.
Tabular formats (CSV, Excel, JSON Lines, Parquet) yield one ``Document`` per row
that has text, with the other columns kept as metadata.

Anything that cannot be read raises :class:`ReadError` with a ``status``
(``"empty"``, ``"skipped"`` or ``"error"``) and a one-sentence ``reason`` meant
for a human reading a run report.

Reading streams: only one file's text is held at a time, and tabular files are
walked row by row (Parquet in record batches), so memory stays flat however
many files a folder holds. Each file's bytes are hashed once, while they are
read; :attr:`FileSource.content_hash` and :attr:`Document.file_hash` carry that
hash to callers.

Hostile input is bounded by :class:`Limits` (size on disk, decompressed size
of .docx/.xlsx/Parquet, units per file, characters per unit), and
:func:`discover_files` with :func:`open_file` keep a run inside its input
folders unless symbolic links are to be followed.

This package holds discovery, path checks and the entry points; the formats
live in private modules (``_text``, ``_html``, ``_pdf``, ``_docx``,
``_tabular``), encoding detection in :mod:`.decoding` and the layout rules
shared with segmentation in :mod:`.layout`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ._columns import detect_text_column
from ._document import (
    BLOCK_KINDS,
    CHUNK,
    READ_STATUSES,
    Block,
    Document,
    Limits,
    ReadError,
    Warnings,
    document_id,
    fmt_size,
    open_error,
)
from ._docx import parse_docx
from ._html import parse_html
from ._pdf import parse_pdf
from ._tabular import read_tabular
from ._text import parse_plain

logger = logging.getLogger(__name__)

__all__ = [
    "Block",
    "Document",
    "FileSource",
    "Limits",
    "ReadError",
    "Warnings",
    "SUPPORTED_SUFFIXES",
    "BLOCK_KINDS",
    "READ_STATUSES",
    "discover_files",
    "open_file",
    "read_documents",
    "detect_text_column",
]

# Suffix -> Document.format. Aliases (.htm, .tsv, .ndjson, ...) map onto the
# nine canonical format names so downstream code only ever sees those.
_SUFFIX_FORMATS: dict[str, str] = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".csv": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(sorted(_SUFFIX_FORMATS))

_TABULAR_FORMATS = frozenset({"csv", "xlsx", "jsonl", "parquet"})

# Formats people often try that we cannot read; a hint makes the skip actionable.
_UNSUPPORTED_HINTS: dict[str, str] = {
    ".doc": " (save it as .docx)",
    ".xls": " (save it as .xlsx)",
    ".rtf": " (save it as .docx or .txt)",
    ".odt": " (save it as .docx)",
    ".pages": " (export it as .docx or .pdf)",
    ".json": " (one JSON object per line is supported as .jsonl)",
}


# --------------------------------------------------------------------------
# File discovery
# --------------------------------------------------------------------------


def discover_files(inputs: Sequence[str | Path], *, follow_symlinks: bool = False) -> Iterator[Path]:
    """List every path under the given files and folders, recursively.

    Folders are walked depth first with entries sorted by name, so the order
    is deterministic. Everything found is yielded, including broken symlinks,
    unreadable files, unreadable folders and unsupported types, because the
    caller must report them; :func:`read_documents` then says what is wrong.
    Symlinked folders are followed once: a folder already visited (a loop, or
    two links to the same place) is not walked again, and the link is
    yielded so that reading it reports why (``skipped``). A path given twice
    is yielded once.

    Args:
        inputs: Files and/or folders.
        follow_symlinks: When ``False`` (the safe default) a symlinked folder
            that leads outside the inputs is not walked; the link itself is
            yielded so that reading it (with ``roots=inputs``) reports why it
            was skipped. When ``True`` every link is followed.

    Yields:
        Paths, each built from the input it was found under.
    """
    seen_paths: set[str] = set()
    visited_dirs: set[tuple[int, int]] = set()
    roots = None if follow_symlinks else _real_roots(inputs)
    for raw in inputs:
        for path in _walk(Path(raw), visited_dirs, roots, top=True):
            key = os.path.abspath(path)
            if key in seen_paths:
                continue
            seen_paths.add(key)
            yield path


def _real_roots(inputs: Sequence[str | Path]) -> list[str]:
    return [os.path.realpath(r) for r in inputs]


def _outside(path: Path, real_roots: Sequence[str]) -> bool:
    """Whether ``path``, with every symlink resolved, lies outside all the roots."""
    real = os.path.realpath(path)
    return not any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in real_roots)


def _walk(root: Path, visited: set[tuple[int, int]], roots: Sequence[str] | None, top: bool = False) -> Iterator[Path]:
    """Depth-first, name-sorted walk; recursion depth equals folder depth."""
    if roots is not None and not top and os.path.islink(root) and _outside(root, roots):
        yield root  # not walked: the reader reports it as leading outside the inputs
        return
    try:
        st = os.stat(root)  # follows symlinks: a linked folder is walked
    except OSError:
        # Missing, broken link or no permission: yield so it gets reported.
        yield root
        return
    if not stat.S_ISDIR(st.st_mode):
        yield root
        return
    ident = (st.st_dev, st.st_ino)
    if ident in visited:
        logger.debug("not walking %s again (already visited; symlink loop?)", root)
        if not top and os.path.islink(root):
            # A loop or a second link to a folder: the link still gets a row
            # in the run's manifest (the reader says it was not walked again).
            yield root
        return
    visited.add(ident)
    try:
        with os.scandir(root) as it:
            names = sorted(entry.name for entry in it)
    except OSError as exc:
        logger.debug("cannot list %s: %s", root, exc)
        yield root  # read_documents will explain (permission denied, vanished)
        return
    for name in names:
        yield from _walk(root / name, visited, roots)


# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------


class FileSource:
    """One file, checked, hashed once, and ready to be read into documents.

    Made by :func:`open_file`. The file's SHA-256 is computed while its bytes
    are read (for text, HTML, PDF and Word files the bytes are then parsed
    from memory, so the hash always matches what was parsed); batch code uses
    :attr:`content_hash` as its resume key instead of hashing the file again.

    Attributes:
        path: The path as given.
        format: The canonical format name (``"txt"``, ``"pdf"``, ``"csv"``...).
        size: Size in bytes.
        content_hash: SHA-256 hex of the file's bytes.
        limits: The :class:`Limits` in force.
        warnings: What was cut, split or passed over while reading (and, when
            the caller passes it to :func:`lo_signals.segment.segment`, while
            segmenting); ``warnings.messages()`` is the list for a report.
    """

    def __init__(
        self,
        path: str | Path,
        text_column: str | None = None,
        *,
        limits: Limits | None = None,
        roots: Sequence[str | Path] | None = None,
    ) -> None:
        self.path = str(path)
        self._p = Path(path)
        self._text_column = text_column
        self.limits = limits or Limits()
        self.warnings = Warnings()
        self.format = _check_path(self._p, self.limits.max_bytes, None if roots is None else _real_roots(roots))
        self._data: bytes | None = None
        if self.format in _TABULAR_FORMATS:
            # Tables are parsed straight from disk in chunks; keep only the
            # hash state, which each row's content hash extends.
            self._hasher, self.size = _hash_file(self._p, self.limits.max_bytes)
        else:
            self._data = _read_bytes(self._p, self.limits.max_bytes)
            self._hasher, self.size = hashlib.sha256(self._data), len(self._data)
        self.content_hash: str = self._hasher.hexdigest()

    def documents(self) -> Iterator[Document]:
        """Yield the file's documents, lazily (tables row by row).

        A source is read once: the bytes of a non-tabular file are released
        as soon as they are parsed.

        Raises:
            ReadError: When the file yields nothing usable.
        """
        try:
            yield from self._documents()
        except RecursionError:
            # Deeply nested input (HTML, XML, JSON) can exhaust a parser's
            # recursion; that is one file's problem, reported as such.
            raise ReadError("error", "the file is nested too deeply to read") from None

    def _documents(self) -> Iterator[Document]:
        if self.format in _TABULAR_FORMATS:
            yield from read_tabular(
                self._p, self.path, self.format, self._text_column, self._hasher, self.limits, self.warnings
            )
            return
        data, self._data = self._data, None
        if data is None:
            raise RuntimeError("FileSource.documents() can only be iterated once")
        pages: int | None = None
        encoding: str | None = None
        if self.format in ("txt", "md"):
            text, blocks, encoding = parse_plain(data, markdown=self.format == "md")
        elif self.format == "html":
            text, blocks, encoding = parse_html(data)
        elif self.format == "pdf":
            text, blocks, pages = parse_pdf(data, self.warnings)
        else:  # docx
            text, blocks = parse_docx(data, self.limits.max_inflated_bytes, self.warnings)
        yield Document(
            doc_id=document_id(self.path, self.content_hash),
            path=self.path,
            format=self.format,
            text=text,
            blocks=blocks,
            pages=pages,
            encoding=encoding,
            metadata={},
            content_hash=self.content_hash,
            file_hash=self.content_hash,
        )


def open_file(
    path: str | Path,
    text_column: str | None = None,
    max_bytes: int | None = None,
    *,
    limits: Limits | None = None,
    roots: Sequence[str | Path] | None = None,
) -> FileSource:
    """Check and hash one file, ready to read its documents.

    Args:
        path: The file to read.
        text_column: For tabular files, the column holding the free text; when
            ``None`` it is detected with :func:`detect_text_column`.
        max_bytes: Files larger than this are skipped without being read;
            overrides ``limits.max_bytes`` when given.
        limits: Resource bounds (default :class:`Limits`).
        roots: The input files and folders the path was found under. When
            given, a path that leads outside them through a symbolic link is
            skipped with a reason, as is a broken link; pass ``None`` (what
            ``--follow-symlinks`` means) to follow links anywhere.

    Returns:
        A :class:`FileSource`; iterate :meth:`FileSource.documents`.

    Raises:
        ReadError: When the path cannot be read at all (missing, a folder,
            unsupported type, too big, empty, unreadable, outside the roots).
    """
    limits = limits or Limits()
    if max_bytes is not None:
        limits = replace(limits, max_bytes=max_bytes)
    return FileSource(path, text_column, limits=limits, roots=roots)


def read_documents(
    path: str | Path, text_column: str | None = None, max_bytes: int | None = None, **options: Any
) -> Iterator[Document]:
    """Read one file into documents: ``open_file(...).documents()``, with errors raised on iteration.

    Args:
        path: The file to read.
        text_column: For tabular files, the column holding the free text; when
            ``None`` it is detected with :func:`detect_text_column`.
        max_bytes: Files larger than this are skipped without being read
            (default ``Limits().max_bytes``, 50 MB).
        **options: ``limits`` and ``roots``, as for :func:`open_file`.

    Yields:
        One :class:`Document` per file, or one per row with text for CSV,
        Excel, JSON Lines and Parquet.

    Raises:
        ReadError: For every file that yields nothing usable: ``empty``,
            ``skipped`` (unsupported type, too big) or ``error``.
    """
    yield from open_file(path, text_column, max_bytes, **options).documents()


def _check_path(p: Path, max_bytes: int, real_roots: Sequence[str] | None = None) -> str:
    """Validate a path before reading; returns the format name."""
    try:
        lst = os.lstat(p)
    except OSError as exc:
        raise _access_error(
            exc, "cannot access this path", "file not found (it may have been moved or deleted)", "access this path"
        ) from None
    if real_roots is not None and _outside(p, real_roots):
        raise ReadError(
            "skipped",
            f"symbolic link leads outside the input folders (to '{os.path.realpath(p)}'); "
            "use --follow-symlinks to read it",
        )
    st = lst
    if stat.S_ISLNK(lst.st_mode):
        try:
            st = os.stat(p)
        except FileNotFoundError:
            try:
                target = os.readlink(p)
            except OSError:
                target = "?"
            raise ReadError("skipped", f"broken symbolic link: its target '{target}' does not exist") from None
        except OSError as exc:
            raise ReadError("error", f"symbolic link cannot be followed: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode) and stat.S_ISLNK(lst.st_mode):
        raise ReadError("skipped", _folder_link_reason(p))
    if stat.S_ISDIR(st.st_mode):
        try:
            os.listdir(p)
        except OSError as exc:
            raise _access_error(
                exc, "cannot open this folder", "folder disappeared while it was being read", "open this folder"
            ) from None
        raise ReadError("error", "this is a folder, not a file (use discover_files to list its files)")
    if not stat.S_ISREG(st.st_mode):
        raise ReadError("skipped", "not a regular file (a device, pipe or socket)")
    suffix = p.suffix.lower()
    fmt = _SUFFIX_FORMATS.get(suffix)
    if fmt is None:
        if not suffix:
            raise ReadError("skipped", "unsupported file type (no file extension)")
        raise ReadError("skipped", f"unsupported file type '{suffix}'{_UNSUPPORTED_HINTS.get(suffix, '')}")
    if st.st_size > max_bytes:
        raise ReadError(
            "skipped",
            f"file is {fmt_size(st.st_size)}, over the {fmt_size(max_bytes, limit=True)} limit (--max-mb)",
        )
    if st.st_size == 0:
        raise ReadError("empty", "file is empty (0 bytes)")
    return fmt


def _folder_link_reason(p: Path) -> str:
    """Why a symbolic link to a folder is not read as a file (discover_files walks each folder once)."""
    real = os.path.realpath(p)
    parent = os.path.realpath(p.parent)
    if parent == real or parent.startswith(real.rstrip(os.sep) + os.sep):
        return f"symbolic link loop: it leads back to '{real}', a folder that contains it; not walked again"
    return f"symbolic link to a folder already walked ('{real}'): its files are listed once, under the path found first"


def _access_error(exc: OSError, failed: str, missing: str, denied: str) -> ReadError:
    """A ``ReadError`` for a failed ``lstat``/``listdir``: missing, permission denied, or other."""
    if isinstance(exc, FileNotFoundError):
        return ReadError("error", missing)
    if isinstance(exc, PermissionError):
        return ReadError("error", f"permission denied: cannot {denied}")
    return ReadError("error", f"{failed}: {exc.strerror or exc}")


def _read_bytes(p: Path, max_bytes: int) -> bytes:
    try:
        with open(p, "rb") as fh:
            # Read at most one byte past the limit: the file may have grown
            # since it was stat'ed, and we must never slurp a huge file. The
            # first read is sized to the file, not the limit, because read(n)
            # reserves n bytes up front.
            size = os.fstat(fh.fileno()).st_size
            data = fh.read(min(size, max_bytes) + 1)
            if len(data) > size:
                data += fh.read(max_bytes + 1 - len(data))
    except OSError as exc:
        raise open_error(exc) from None
    if len(data) > max_bytes:
        raise ReadError(
            "skipped",
            f"file is over the {fmt_size(max_bytes, limit=True)} limit (--max-mb); it grew while being read",
        )
    if not data:
        raise ReadError("empty", "file is empty (0 bytes)")
    return data


def _hash_file(p: Path, max_bytes: int) -> tuple[Any, int]:
    """Stream a file through SHA-256; returns the hash object (rows extend it) and the size."""
    h = hashlib.sha256()
    total = 0
    try:
        with open(p, "rb") as fh:
            while chunk := fh.read(CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    raise ReadError(
                        "skipped", f"file is over the {fmt_size(max_bytes, limit=True)} limit (--max-mb)"
                    )
                h.update(chunk)
    except OSError as exc:
        raise open_error(exc) from None
    return h, total
