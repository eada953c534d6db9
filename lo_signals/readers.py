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
many files a folder holds.
"""

from __future__ import annotations

import codecs
import csv
import datetime as _dt
import decimal
import hashlib
import io
import itertools
import json
import logging
import math
import os
import re
import stat
import statistics
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

__all__ = [
    "Block",
    "Document",
    "ReadError",
    "SUPPORTED_SUFFIXES",
    "BLOCK_KINDS",
    "READ_STATUSES",
    "discover_files",
    "read_documents",
    "detect_text_column",
]

BLOCK_KINDS: tuple[str, ...] = ("heading", "paragraph", "list_item", "table_cell", "quote")
READ_STATUSES: tuple[str, ...] = ("empty", "skipped", "error")

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
        doc_id: Stable id. Files: first 16 hex digits of the SHA-256 of the
            file bytes. Tabular rows: ``"<file hash16>:r<row index>"``.
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

_CHUNK = 1 << 20

# C0 controls (other than tab/newline/CR/FF/VT), DEL, C1 controls, soft
# hyphens, BOMs and non-characters: never meaningful in prose, and they
# confuse tokenisers and terminals alike.
_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\ufeff\ufffe\uffff]")
_WS_RE = re.compile(r"\s+")
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"})


def _clean(text: str) -> str:
    """Drop control characters that carry no prose."""
    return _CONTROL_RE.sub("", text)


def _squash(text: str) -> str:
    """Collapse all whitespace runs (newlines included) to single spaces."""
    return _WS_RE.sub(" ", text).strip()


def _fmt_size(n: int, *, limit: bool = False) -> str:
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


def _short(exc: BaseException, limit: int = 120) -> str:
    """First line of an exception message, trimmed, for a ``reason``."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return msg if len(msg) <= limit else msg[: limit - 1] + "…"


class _TextBuilder:
    """Accumulates blocks into one text with ``"\\n\\n"`` separators and offsets."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.blocks: list[Block] = []

    def add(self, text: str, kind: str, page: int | None = None) -> None:
        # Blocks are single-line by construction: the "\n\n" separator must
        # stay unambiguous, and wrapped lines are joined upstream anyway.
        text = _squash(_clean(text))
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


# --------------------------------------------------------------------------
# Line classification (shared with lo_signals.segment)
# --------------------------------------------------------------------------

BULLET_RE = re.compile(r"^\s*[-*+•·▪‣◦●○■□➢➤►✓✔]\s+(?=\S)")
# "1." "1)" "(1)" "(a)" "a)" "(iv)" -- letter markers need a bracket, because
# "A. Smith" is far more common than "A. First point".
NUMBER_MARKER_RE = re.compile(r"^\s*(?:\(?\d{1,3}[.)]|\(?[a-zA-Z][)]|\([a-zA-Z]\)|\(?[ivxlc]{1,6}\))\s+(?=\S)")
# Multi-level paragraph numbers as used in inquiry reports: "13.1", "4.2.1.".
MULTI_NUMBER_RE = re.compile(r"^\s*\d{1,3}(?:\.\d{1,3})+\.?\s+(?=\S)")
ATX_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_SETEXT_RE = re.compile(r"^\s{0,3}(?:=+|-+)\s*$")
_HRULE_RE = re.compile(r"^\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,})$")
_FENCE_RE = re.compile(r"^\s{0,3}(?:```|~~~)")
_QUOTE_LINE_RE = re.compile(r"^\s{0,3}>\s?")
_TERMINAL_RE = re.compile(r"[.!?:;][\"'”’»)\]]*$")


def is_heading_line(line: str) -> bool:
    """True if ``line`` looks like a heading on its own.

    Markdown ATX headings, short ALL CAPS lines and short numbered titles
    ("3. Findings", "13.1 Governance") count; all must lack sentence-final
    punctuation so that shouting or numbered sentences are not mistaken for
    headings.
    """
    s = line.strip()
    if not s:
        return False
    if ATX_HEADING_RE.match(s):
        return True
    if len(s) > 100 or _TERMINAL_RE.search(s) or s.endswith(","):
        return False
    m = MULTI_NUMBER_RE.match(s) or NUMBER_MARKER_RE.match(s)
    if m:
        rest = s[m.end() :].strip()
        words = rest.split()
        return 0 < len(words) <= 10 and rest[0].isupper() and not BULLET_RE.match(s)
    letters = [c for c in s if c.isalpha()]
    return len(letters) >= 2 and s.upper() == s and len(s.split()) <= 12


def _starts_lower(s: str) -> bool:
    s = s.lstrip("\"'“‘([ ")
    return bool(s) and s[0].islower()


def line_continues(prev: str, nxt: str, width: int, *, plain: bool = False) -> bool:
    """Decide whether ``nxt`` is a wrapped continuation of ``prev``.

    Args:
        prev: The previous (already stripped) line.
        nxt: The candidate continuation line (stripped).
        width: Typical full line length in this paragraph or page.
        plain: The lines come from plain text typed by a person (not a PDF
            layout): then a paragraph whose lines are all short is a list of
            separate lines, since nobody hard-wraps prose under 40 columns.

    Returns:
        True to join the lines into one paragraph, False to start anew.
    """
    p, n = prev.rstrip(), nxt.lstrip()
    if not p or not n:
        return False
    if p[-1] in "-\u2010\u00ad" or n[0] in ",;:)]}%":
        return True
    if plain and width < 40:
        return False
    if _starts_lower(n):
        return True
    terminal = bool(_TERMINAL_RE.search(p))
    # A line ending a sentence well short of the margin ends a paragraph.
    if terminal and len(p) < 0.7 * width:
        return False
    # A short unpunctuated line followed by a capital: a line-per-item list
    # or a title, not wrapping (wrapped lines run close to the margin).
    if not terminal and (n[0].isupper() or n[0].isdigit()) and (len(p) < 0.6 * width or width < 40):
        return False
    return True


# Prefixes whose line-end hyphen is a real compound hyphen, so "self-\nreported"
# keeps it; every other lower-case continuation is a typesetter's break.
_KEEP_HYPHEN = frozenset(
    {"self", "non", "well", "cross", "ex", "full", "part", "half", "long", "short", "front", "high", "low", "co"}
)


def _join_lines(lines: Sequence[str], *, dehyphenate: bool) -> str:
    """Join wrapped lines, repairing words broken across line ends."""
    out = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not out:
            out = line
            continue
        if out[-1] == "\u00ad":
            out = out[:-1] + line
        elif out[-1] in "-\u2010" and len(out) >= 2 and out[-2].isalpha():
            m = re.search(r"(\w+)[-\u2010]$", out)
            prefix = m.group(1).lower() if m else ""
            if dehyphenate and line[0].islower() and prefix not in _KEEP_HYPHEN:
                out = out[:-1] + line
            else:
                out = out + line
        else:
            out = out + " " + line
    return out


def _strip_marker(line: str) -> str:
    """Remove a bullet glyph (numbers are kept: they are references)."""
    m = BULLET_RE.match(line)
    return line[m.end() :] if m else line


# --------------------------------------------------------------------------
# Encoding detection
# --------------------------------------------------------------------------

_CANONICAL_ENCODINGS = {
    "iso8859-1": "latin-1",
    "utf-16-le": "utf-16",
    "utf-16-be": "utf-16",
    "utf-32-le": "utf-32",
    "utf-32-be": "utf-32",
    "ascii": "utf-8",
}

# Latin-script guesses from charset-normalizer are unreliable on short text
# (cp1252 prose is often called cp1250 or mac_roman); we fall through to
# cp1252 for them instead of accepting mojibake like "Ł5" for "£5".
_NON_LATIN_ENCODINGS = frozenset(
    {
        "cp1251",
        "koi8_r",
        "koi8_u",
        "iso8859_5",
        "mac_cyrillic",
        "cp866",
        "cp855",
        "cp1253",
        "iso8859_7",
        "mac_greek",
        "cp1255",
        "iso8859_8",
        "cp1256",
        "iso8859_6",
        "shift_jis",
        "cp932",
        "euc_jp",
        "iso2022_jp",
        "gb2312",
        "gbk",
        "gb18030",
        "big5",
        "big5hkscs",
        "cp950",
        "euc_kr",
        "cp949",
        "tis_620",
        "cp874",
        "iso8859_11",
    }
)


def _canonical(name: str) -> str:
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return name
    return _CANONICAL_ENCODINGS.get(codec, codec)


_CONTROL_BYTES = bytes(list(range(0, 9)) + list(range(14, 32)) + [127])
_NON_CONTROL_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)


def _control_ratio(sample: bytes) -> float:
    if not sample:
        return 0.0
    return len(sample.translate(None, _NON_CONTROL_BYTES)) / len(sample)


def _text_control_ratio(text: str) -> float:
    sample = text[:65536]
    if not sample:
        return 0.0
    bad = sum(1 for c in sample if (ord(c) < 32 and c not in "\t\n\r\f\v") or 0x7F <= ord(c) <= 0x9F)
    return bad / len(sample)


_BINARY_REASON = "looks like binary data, not text"


def _bom_encoding(head: bytes) -> tuple[str, int] | None:
    """Encoding and BOM length when ``head`` starts with a byte order mark."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", 3
    if head.startswith(codecs.BOM_UTF32_LE) or head.startswith(codecs.BOM_UTF32_BE):
        return "utf-32", 0
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16", 0
    return None


def _utf16_without_bom(sample: bytes) -> str | None:
    """Python codec name when NUL bytes sit in alternate positions (BOM-less UTF-16)."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nul, odd_nul = even.count(0), odd.count(0)
    if odd_nul > 0.3 * len(odd) and even_nul < 0.05 * len(even):
        return "utf-16-le"
    if even_nul > 0.3 * len(even) and odd_nul < 0.05 * len(odd):
        return "utf-16-be"
    return None


def _guess_non_latin(data: bytes, truncated: bool = False) -> tuple[str, str] | None:
    """Ask charset-normalizer, accepting only a plausible non-Latin answer.

    ``truncated`` says ``data`` is the head of a longer file, so a multi-byte
    character cut at the end must not count against the guess.
    """
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - declared dependency
        return None
    try:
        best = from_bytes(data).best()
    except Exception as exc:  # detection is a heuristic; never let it crash a read
        logger.debug("charset detection failed: %s", exc)
        return None
    if best is None or best.encoding not in _NON_LATIN_ENCODINGS or best.chaos > 0.2:
        return None
    try:
        text = data.decode(best.encoding, errors="ignore" if truncated else "strict")
    except (UnicodeDecodeError, LookupError):
        return None
    letters = [c for c in text[:100_000] if c.isalpha()]
    # Sanity: a real Cyrillic/Greek/CJK text is mostly non-ASCII letters; an
    # English text with one "£" misread as Cyrillic is not.
    if not letters or sum(1 for c in letters if ord(c) > 127) < 0.3 * len(letters):
        return None
    return text, _canonical(best.encoding)


def _decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode text bytes, returning ``(text, encoding)``.

    Order: BOM, declared charset (HTML), strict UTF-8, a sane
    charset-normalizer guess, cp1252, latin-1.

    Raises:
        ReadError: ``error`` when the bytes look binary.
    """
    bom = _bom_encoding(data[:4])
    if bom:
        enc, skip = bom
        codec = {"utf-8-sig": "utf-8", "utf-16": "utf-16", "utf-32": "utf-32"}[enc]
        text = data[skip:].decode(codec, errors="replace")
        if _text_control_ratio(text) > 0.05:
            raise ReadError("error", _BINARY_REASON)
        return text, enc

    sample = data[:65536]
    if b"\x00" in sample:
        codec = _utf16_without_bom(sample)
        if codec:
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                text = None
            if text is not None and _text_control_ratio(text) <= 0.05:
                return text, "utf-16"
        # Real text never contains NUL bytes outside UTF-16/32.
        raise ReadError("error", _BINARY_REASON)
    if _control_ratio(sample) > 0.05:
        raise ReadError("error", _BINARY_REASON)

    if declared:
        try:
            return data.decode(declared), _canonical(declared)
        except (UnicodeDecodeError, LookupError):
            logger.debug("declared charset %r does not decode; detecting instead", declared)

    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    guess = _guess_non_latin(data)
    if guess:
        return guess
    try:
        text, enc = data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        text, enc = data.decode("latin-1"), "latin-1"
    if _text_control_ratio(text) > 0.05:
        raise ReadError("error", _BINARY_REASON)
    return text, enc


def _normalise_newlines(text: str) -> str:
    # Form feeds separate pages in plain-text exports: treat as paragraph breaks.
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")


# --------------------------------------------------------------------------
# File discovery
# --------------------------------------------------------------------------


def discover_files(inputs: Sequence[str | Path]) -> Iterator[Path]:
    """List every path under the given files and folders, recursively.

    Folders are walked depth first with entries sorted by name, so the order
    is deterministic. Everything found is yielded, including broken symlinks,
    unreadable files, unreadable folders and unsupported types, because the
    caller must report them; :func:`read_documents` then says what is wrong.
    Symlinked folders are followed once: a folder already visited (a loop, or
    two links to the same place) is not walked again. A path given twice is
    yielded once.

    Args:
        inputs: Files and/or folders.

    Yields:
        Paths, each built from the input it was found under.
    """
    seen_paths: set[str] = set()
    visited_dirs: set[tuple[int, int]] = set()
    for raw in inputs:
        for path in _walk(Path(raw), visited_dirs):
            key = os.path.abspath(path)
            if key in seen_paths:
                continue
            seen_paths.add(key)
            yield path


def _walk(root: Path, visited: set[tuple[int, int]]) -> Iterator[Path]:
    """Depth-first, name-sorted walk; recursion depth equals folder depth."""
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
        yield from _walk(root / name, visited)


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


def read_documents(path: str | Path, text_column: str | None = None, max_bytes: int = 50_000_000) -> Iterator[Document]:
    """Read one file into documents.

    Args:
        path: The file to read.
        text_column: For tabular files, the column holding the free text; when
            ``None`` it is detected with :func:`detect_text_column`.
        max_bytes: Files larger than this are skipped without being read.

    Yields:
        One :class:`Document` per file, or one per row with text for CSV,
        Excel, JSON Lines and Parquet.

    Raises:
        ReadError: For every file that yields nothing usable: ``empty``,
            ``skipped`` (unsupported type, too big) or ``error``.
    """
    p = Path(path)
    fmt = _check_path(p, max_bytes)
    if fmt in _TABULAR_FORMATS:
        yield from _read_tabular(p, str(path), fmt, text_column, max_bytes)
        return
    data = _read_bytes(p, max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    if fmt in ("txt", "md"):
        text, blocks, encoding = _parse_plain(data, markdown=fmt == "md")
        pages = None
    elif fmt == "html":
        text, blocks, encoding = _parse_html(data)
        pages = None
    elif fmt == "pdf":
        text, blocks, pages = _parse_pdf(data)
        encoding = None
    else:  # docx
        text, blocks = _parse_docx(data)
        pages, encoding = None, None
    yield Document(
        doc_id=digest[:16],
        path=str(path),
        format=fmt,
        text=text,
        blocks=blocks,
        pages=pages,
        encoding=encoding,
        metadata={},
        content_hash=digest,
    )


def _check_path(p: Path, max_bytes: int) -> str:
    """Validate a path before reading; returns the format name."""
    try:
        lst = os.lstat(p)
    except FileNotFoundError:
        raise ReadError("error", "file not found (it may have been moved or deleted)") from None
    except PermissionError:
        raise ReadError("error", "permission denied: cannot access this path") from None
    except OSError as exc:
        raise ReadError("error", f"cannot access this path: {exc.strerror or exc}") from None
    st = lst
    if stat.S_ISLNK(lst.st_mode):
        try:
            st = os.stat(p)
        except FileNotFoundError:
            try:
                target = os.readlink(p)
            except OSError:
                target = "?"
            raise ReadError("error", f"broken symbolic link: its target '{target}' does not exist") from None
        except OSError as exc:
            raise ReadError("error", f"symbolic link cannot be followed: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        try:
            os.listdir(p)
        except PermissionError:
            raise ReadError("error", "permission denied: cannot open this folder") from None
        except FileNotFoundError:
            raise ReadError("error", "folder disappeared while it was being read") from None
        except OSError as exc:
            raise ReadError("error", f"cannot open this folder: {exc.strerror or exc}") from None
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
            f"file is {_fmt_size(st.st_size)}, over the {_fmt_size(max_bytes, limit=True)} limit (--max-bytes)",
        )
    if st.st_size == 0:
        raise ReadError("empty", "file is empty (0 bytes)")
    return fmt


def _open_error(exc: OSError) -> ReadError:
    if isinstance(exc, PermissionError):
        return ReadError("error", "permission denied: cannot read this file")
    if isinstance(exc, FileNotFoundError):
        return ReadError("error", "file disappeared before it could be read")
    if isinstance(exc, IsADirectoryError):
        return ReadError("error", "this is a folder, not a file")
    return ReadError("error", f"could not read the file: {exc.strerror or exc}")


def _read_bytes(p: Path, max_bytes: int) -> bytes:
    try:
        with open(p, "rb") as fh:
            # Read at most one byte past the limit: the file may have grown
            # since it was stat'ed, and we must never slurp a huge file.
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise _open_error(exc) from None
    if len(data) > max_bytes:
        raise ReadError(
            "skipped",
            f"file is over the {_fmt_size(max_bytes, limit=True)} limit (--max-bytes); it grew while being read",
        )
    if not data:
        raise ReadError("empty", "file is empty (0 bytes)")
    return data


def _hash_file(p: Path, max_bytes: int) -> Any:
    """Stream a file through SHA-256 (returns the hash object, for row hashes)."""
    h = hashlib.sha256()
    total = 0
    try:
        with open(p, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    raise ReadError(
                        "skipped", f"file is over the {_fmt_size(max_bytes, limit=True)} limit (--max-bytes)"
                    )
                h.update(chunk)
    except OSError as exc:
        raise _open_error(exc) from None
    return h


# --------------------------------------------------------------------------
# Plain text and Markdown
# --------------------------------------------------------------------------

_MD_IMAGE_RE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK_RE = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_EMPH_RE = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_CODE_RE = re.compile(r"`([^`]+)`")


def _md_inline(text: str) -> str:
    """Strip the commonest inline Markdown so prose reads as prose."""
    text = _MD_IMAGE_RE.sub(r"\1", text)
    text = _MD_LINK_RE.sub(r"\1", text)
    text = _MD_EMPH_RE.sub(r"\2", text)
    return _MD_CODE_RE.sub(r"\1", text)


def _text_blocks(text: str) -> list[tuple[str, str]]:
    """Split plain text into ``(kind, text)`` blocks.

    Paragraphs are separated by blank lines; inside one, list markers,
    headings and line-per-item layouts start new blocks, and wrapped lines
    are joined.
    """
    out: list[tuple[str, str]] = []
    lines = text.split("\n")
    i = 0
    n = len(lines)
    in_fence = False
    while i < n:
        # Gather one blank-line separated paragraph (fenced code stays whole).
        para: list[str] = []
        while i < n and not lines[i].strip():
            i += 1
        while i < n and (lines[i].strip() or in_fence):
            if _FENCE_RE.match(lines[i]):
                in_fence = not in_fence
                i += 1
                continue
            para.append(lines[i])
            i += 1
        if para:
            out.extend(_paragraph_blocks(para))
    return out


def _paragraph_blocks(lines: list[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    width = max(len(s.strip()) for s in lines)
    kind: str | None = None
    buf: list[str] = []

    def flush() -> None:
        nonlocal kind, buf
        if kind and buf:
            out.append((kind, _join_lines(buf, dehyphenate=False)))
        kind, buf = None, []

    def numbered(j: int) -> bool:
        return 0 <= j < len(lines) and bool(NUMBER_MARKER_RE.match(lines[j]) and not BULLET_RE.match(lines[j]))

    for j, raw in enumerate(lines):
        s = raw.strip()
        if _SETEXT_RE.match(raw) and kind is not None and buf:
            # "Title\n=====": the preceding text was a heading.
            kind = "heading"
            flush()
            continue
        if _HRULE_RE.match(raw):
            flush()
            continue
        m = ATX_HEADING_RE.match(raw)
        if m:
            flush()
            out.append(("heading", m.group(1)))
            continue
        if _QUOTE_LINE_RE.match(raw):
            content = _QUOTE_LINE_RE.sub("", raw, count=1)
            if kind != "quote":
                flush()
                kind = "quote"
            buf.append(content)
            continue
        if BULLET_RE.match(raw):
            flush()
            kind, buf = "list_item", [_strip_marker(s)]
            continue
        if NUMBER_MARKER_RE.match(raw):
            flush()
            in_run = numbered(j - 1) or numbered(j + 1)
            if is_heading_line(s) and not in_run:
                out.append(("heading", s))
            else:
                kind, buf = "list_item", [s]
            continue
        if MULTI_NUMBER_RE.match(raw):
            flush()
            if is_heading_line(s):
                out.append(("heading", s))
            else:
                kind, buf = "paragraph", [s]
            continue
        if is_heading_line(s) and (j + 1 >= len(lines) or not _SETEXT_RE.match(lines[j + 1])):
            flush()
            out.append(("heading", s))
            continue
        if kind is None:
            kind, buf = "paragraph", [s]
            continue
        prev = buf[-1].strip() if buf else ""
        if kind in ("list_item", "quote"):
            # Indented lines, and lower-case lazy continuations, extend an item.
            if raw[:1].isspace() or _starts_lower(s) or not _TERMINAL_RE.search(prev):
                buf.append(s)
                continue
            flush()
            kind, buf = "paragraph", [s]
            continue
        if line_continues(prev, s, width, plain=True):
            buf.append(s)
        else:
            flush()
            kind, buf = "paragraph", [s]
    flush()
    return out


def _parse_plain(data: bytes, *, markdown: bool) -> tuple[str, list[Block], str]:
    text, encoding = _decode_bytes(data)
    text = _normalise_newlines(_clean(text))
    builder = _TextBuilder()
    for kind, chunk in _text_blocks(text):
        builder.add(_md_inline(chunk) if markdown else chunk, kind)
    if not builder.blocks:
        raise ReadError("empty", "file contains only whitespace" if not text.strip() else "file contains no text")
    return builder.text(), builder.blocks, encoding


# --------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------

_HTML_DROP = frozenset(
    {
        "script",
        "style",
        "noscript",
        "nav",
        "header",
        "footer",
        "aside",
        "form",
        "svg",
        "template",
        "iframe",
        "object",
        "embed",
        "canvas",
        "button",
        "select",
        "textarea",
        "head",
        "title",
        "math",
        "audio",
        "video",
        "map",
    }
)
_HTML_DROP_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "complementary"})
_HTML_BLOCK = frozenset(
    {
        "address",
        "article",
        "blockquote",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "html",
        "legend",
        "li",
        "main",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
_HTML_KIND = {
    **{f"h{i}": "heading" for i in range(1, 7)},
    "li": "list_item",
    "blockquote": "quote",
    "td": "paragraph",
    "th": "paragraph",
    "dt": "paragraph",
    "dd": "paragraph",
}
_META_CHARSET_RE = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.IGNORECASE)
_BR = "\x00"  # placeholder for <br>; NUL never survives decoding/cleaning
_BR_BREAK_RE = re.compile(_BR + r"(?:\s*" + _BR + ")+")


def _html_declared_charset(data: bytes) -> str | None:
    m = _META_CHARSET_RE.search(data[:4096])
    if not m:
        return None
    label = m.group(1).decode("ascii", "ignore").lower()
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    # WHATWG: latin-1/ascii labels mean windows-1252; a UTF-16 label in a
    # byte stream without a BOM cannot be right, so it means UTF-8.
    if name in ("iso8859-1", "ascii"):
        return "cp1252"
    if name.startswith("utf-16") or name.startswith("utf-32"):
        return "utf-8"
    return name


def _html_hidden(node: Any) -> bool:
    attrs = node.attributes or {}
    if "hidden" in attrs or (attrs.get("aria-hidden") or "").lower() == "true":
        return True
    if (attrs.get("role") or "").lower() in _HTML_DROP_ROLES:
        return True
    style = (attrs.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


def _parse_html(data: bytes) -> tuple[str, list[Block], str]:
    from selectolax.lexbor import LexborHTMLParser

    text, encoding = _decode_bytes(data, declared=_html_declared_charset(data))
    tree = LexborHTMLParser(_clean(text))
    roots: list[Any] = []
    main = tree.css_first("main")
    if main is not None:
        roots = [main]
    else:
        # Top-level <article>s only: nested ones are walked with their parent.
        for art in tree.css("article"):
            parent, nested = art.parent, False
            while parent is not None:
                if parent.tag == "article":
                    nested = True
                    break
                parent = parent.parent
            if not nested:
                roots.append(art)
    builder = _TextBuilder()
    for root in roots:
        _html_walk(root, builder)
    if not builder.blocks:
        # <main>/<article> may be an empty shell filled by JavaScript.
        fallback = tree.body or tree.root
        if fallback is not None:
            _html_walk(fallback, builder)
    if not builder.blocks:
        raise ReadError("empty", "HTML page has no readable text outside navigation and scripts")
    return builder.text(), builder.blocks, encoding


def _html_walk(root: Any, builder: _TextBuilder) -> None:
    """Walk the DOM iteratively (deep markup must not hit the recursion limit)."""
    buf: list[str] = []
    kinds: list[str] = []

    def flush() -> None:
        raw = "".join(buf)
        buf.clear()
        kind = kinds[-1] if kinds else "paragraph"
        # Two or more <br> in a row separate paragraphs; one is a line wrap.
        for part in _BR_BREAK_RE.split(raw):
            builder.add(part.replace(_BR, " "), kind)

    stack: list[tuple[Any, bool, bool]] = [(root, False, False)]
    while stack:
        node, leaving, pushed_kind = stack.pop()
        if leaving:
            flush()
            if pushed_kind:
                kinds.pop()
            continue
        tag = node.tag
        if tag == "-text":
            buf.append(node.text_content or "")
            continue
        if tag.startswith("-") or tag in _HTML_DROP or _html_hidden(node):
            continue
        if tag == "br":
            buf.append(_BR)
            continue
        is_block = tag in _HTML_BLOCK
        kind = _HTML_KIND.get(tag)
        if is_block:
            flush()
            if kind:
                kinds.append(kind)
            stack.append((node, True, bool(kind)))
        children = list(node.iter(include_text=True))
        stack.extend((child, False, False) for child in reversed(children))
    flush()


# --------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------


@dataclass
class _PdfLine:
    text: str
    y: float | None
    size: float


# Lower-case roman numerals only, and well-formed ones: front-matter page
# numbers are "iv", while a lone "civil" or "Ill" in a footer is a word.
_ROMAN_PAGE = r"(?=[ivxlc])c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
PAGE_NUMBER_RE = re.compile(
    r"^(?:[Pp]age|PAGE)?\s*[-–—]?\s*(?:\d{1,4}|" + _ROMAN_PAGE + r")\s*[-–—]?(?:\s*(?:of|/)\s*\d{1,4})?$"
)
_PAGE_OF_RE = re.compile(r"^page\s+\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$", re.IGNORECASE)
_DIGITS_RE = re.compile(r"\d+")
# Bullets as text extraction sees them: WinAnsi's bullet surfaces as DEL or
# 0x95, and Word's Symbol/Wingdings bullets as private-use code points.
_PDF_BULLET_GLYPHS = frozenset("\x7f\x95\uf0b7\uf0a7\uf0a8\uf0d8\uf0fc\uf076\uf06e\uf0e0")


def _pdf_page_lines(page: Any) -> list[_PdfLine]:
    """Extract a page's lines with baseline heights (for paragraph gaps)."""
    chunks: list[tuple[str, Any, Any, float]] = []

    def visit(text: str, cm: Any, tm: Any, font_dict: Any, font_size: Any) -> None:
        chunks.append((text, cm, tm, font_size))

    page.extract_text(visitor_text=visit)
    lines: list[_PdfLine] = []
    cur: list[str] = []
    cur_y: float | None = None
    cur_size = 0.0
    for text, cm, tm, fs in chunks:
        if not text:
            continue
        parts = text.split("\n")
        for j, part in enumerate(parts):
            if part.strip() and cur_y is None:
                try:
                    cur_y = float(tm[4]) * float(cm[1]) + float(tm[5]) * float(cm[3]) + float(cm[5])
                    cur_size = abs(float(fs or 0) * float(tm[3] or 1) * float(cm[3] or 1)) or float(fs or 0)
                except (TypeError, ValueError, IndexError):
                    cur_y, cur_size = None, 0.0
            cur.append(part)
            if j < len(parts) - 1:
                lines.append(_PdfLine("".join(cur), cur_y, cur_size))
                cur, cur_y, cur_size = [], None, 0.0
    if cur:
        lines.append(_PdfLine("".join(cur), cur_y, cur_size))
    out = []
    for line in lines:
        s = line.text.translate(_LIGATURES).lstrip()
        if s[:1] in _PDF_BULLET_GLYPHS:
            s = "•" + s[1:]
        s = _clean(s).strip()
        if s:
            out.append(_PdfLine(s, line.y, line.size))
    return out


def _furniture_key(line: _PdfLine) -> tuple[str, int | None]:
    # Digits are normalised so "Page 3" and "Page 4" match; the baseline is
    # bucketed because running headers sit at a fixed height, which keeps a
    # body sentence that happens to recur from being mistaken for one.
    bucket = round(line.y / 6) if line.y is not None else None
    return _DIGITS_RE.sub("#", _squash(line.text).lower()), bucket


def _strip_furniture(pages: list[list[_PdfLine]]) -> list[list[_PdfLine]]:
    """Remove running headers/footers and bare page numbers."""
    zone = 2
    n = sum(1 for lines in pages if lines)
    top: Counter[tuple[str, int | None]] = Counter()
    bottom: Counter[tuple[str, int | None]] = Counter()
    for lines in pages:
        top.update({_furniture_key(x) for x in lines[:zone]})
        bottom.update({_furniture_key(x) for x in lines[-zone:]})
    # "Most pages": at least half of the pages with text, and never fewer than two.
    need = max(2, math.ceil(0.5 * n))
    frequent_top = {k for k, c in top.items() if c >= need} if n >= 2 else set()
    frequent_bottom = {k for k, c in bottom.items() if c >= need} if n >= 2 else set()
    out: list[list[_PdfLine]] = []
    for lines in pages:
        keep: list[_PdfLine] = []
        last = len(lines)
        for idx, line in enumerate(lines):
            in_top, in_bottom = idx < zone, idx >= last - zone
            key = _furniture_key(line)
            if (in_top and key in frequent_top) or (in_bottom and key in frequent_bottom):
                continue
            if (in_top or in_bottom) and PAGE_NUMBER_RE.match(line.text):
                continue
            if _PAGE_OF_RE.match(line.text):
                continue
            keep.append(line)
        out.append(keep)
    return out


def _pdf_blocks(pages: list[list[_PdfLine]]) -> list[tuple[str, list[str], int]]:
    """Group lines into ``(kind, lines, page)`` blocks, joining wraps and pages."""
    blocks: list[tuple[str, list[str], int]] = []
    cur: tuple[str, list[str], int] | None = None

    def flush() -> None:
        nonlocal cur
        if cur and cur[1]:
            blocks.append(cur)
        cur = None

    for page_no, lines in enumerate(pages, start=1):
        if not lines:
            continue
        lengths = sorted(len(x.text) for x in lines)
        width = lengths[int(0.9 * (len(lengths) - 1))]
        # Line spacing is the *smallest* common gap (paragraph and heading
        # gaps are larger), so take the lower quartile of real line-to-line
        # gaps; the median is skewed by short pages full of headings.
        gaps = sorted(
            a.y - b.y
            for a, b in itertools.pairwise(lines)
            if a.y is not None and b.y is not None and a.y - b.y > 0.5 * (b.size or 1)
        )
        typical_gap = gaps[(len(gaps) - 1) // 4] if gaps else None
        sizes = [x.size for x in lines if x.size]
        body_size = statistics.median(sizes) if sizes else 0.0
        prev: _PdfLine | None = None
        for idx, line in enumerate(lines):
            s = line.text
            nxt = lines[idx + 1].text if idx + 1 < len(lines) else ""
            prv = lines[idx - 1].text if idx > 0 else ""
            big_font = bool(body_size and line.size >= 1.15 * body_size)
            if BULLET_RE.match(s):
                flush()
                cur = ("list_item", [_strip_marker(s)], page_no)
            elif NUMBER_MARKER_RE.match(s) or MULTI_NUMBER_RE.match(s):
                flush()
                single = bool(NUMBER_MARKER_RE.match(s))
                in_run = single and any(NUMBER_MARKER_RE.match(t) for t in (prv, nxt) if t)
                # A numbered line that runs to the margin and continues in lower
                # case is the first line of a numbered paragraph, not a title.
                wraps = bool(nxt) and _starts_lower(nxt) and len(s) >= 0.8 * width
                if is_heading_line(s) and not in_run and not wraps:
                    blocks.append(("heading", [s], page_no))
                else:
                    cur = ("list_item" if single else "paragraph", [s], page_no)
            elif is_heading_line(s) or (big_font and len(s.split()) <= 12 and not _TERMINAL_RE.search(s)):
                flush()
                blocks.append(("heading", [s], page_no))
            elif cur is None:
                cur = ("paragraph", [s], page_no)
            else:
                last = cur[1][-1]
                if prev is None:
                    # First line of a page: continue the previous page's
                    # paragraph only when that clearly ran on.
                    joined = not _TERMINAL_RE.search(last) and (_starts_lower(s) or last.endswith("-"))
                else:
                    joined = _pdf_continues(prev, line, last, s, width, typical_gap)
                if joined:
                    cur[1].append(s)
                else:
                    flush()
                    cur = ("paragraph", [s], page_no)
            prev = line
        # Keep `cur` open across the page break; the next page decides.
    flush()
    return blocks


def _pdf_continues(prev: _PdfLine, line: _PdfLine, last: str, s: str, width: int, typical_gap: float | None) -> bool:
    if _starts_lower(s) or last.endswith("-"):
        return True
    if prev.y is not None and line.y is not None and typical_gap:
        gap = prev.y - line.y
        size = line.size or typical_gap
        if gap < -1 or gap > 1.4 * typical_gap + 1 or abs(gap) < 0.3 * size:
            # Extra space, a jump back up (new column) or the same baseline
            # (table cells) all end the paragraph.
            return False
        if prev.size and line.size and abs(prev.size - line.size) > 0.15 * max(prev.size, line.size):
            return False
    return line_continues(last, s, width)


def _parse_pdf(data: bytes) -> tuple[str, list[Block], int]:
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError

    if b"%PDF-" not in data[:1024]:
        raise ReadError("error", "corrupt or truncated PDF: not a PDF file (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                result = reader.decrypt("")
            except DependencyError:
                raise ReadError(
                    "error",
                    "PDF is encrypted / password-protected (AES; install 'cryptography' to try an empty password)",
                ) from None
            if result == PasswordType.NOT_DECRYPTED:
                raise ReadError("error", "PDF is encrypted / password-protected")
        n_pages = len(reader.pages)
    except ReadError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files
        raise ReadError("error", f"corrupt or truncated PDF: {_short(exc)}") from None
    if n_pages == 0:
        raise ReadError("empty", "PDF has no pages")

    pages: list[list[_PdfLine]] = []
    failures: list[str] = []
    for i in range(n_pages):
        try:
            pages.append(_pdf_page_lines(reader.pages[i]))
        except Exception as exc:  # one bad page should not sink the whole file
            logger.warning("page %d: text extraction failed: %s", i + 1, _short(exc))
            failures.append(_short(exc))
            pages.append([])
    if len(failures) == n_pages:
        raise ReadError("error", f"corrupt or truncated PDF: {failures[0]}")
    if not any(pages):
        raise ReadError("empty", "no extractable text (scanned image PDF?)")

    builder = _TextBuilder()
    for kind, lines, page_no in _pdf_blocks(_strip_furniture(pages)):
        builder.add(_join_lines(lines, dehyphenate=True), kind, page_no)
    if not builder.blocks:
        raise ReadError("empty", "no extractable text (scanned image PDF?)")
    return builder.text(), builder.blocks, n_pages


# --------------------------------------------------------------------------
# DOCX
# --------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_HEADING_STYLE_RE = re.compile(r"^(?:heading\s*\d|title|subtitle)$", re.IGNORECASE)


def _docx_text(el: Any) -> str:
    """Visible text of a paragraph element, including insertions and text boxes."""
    parts: list[str] = []
    stack = [el]
    while stack:
        node = stack.pop()
        tag = node.tag
        if tag == _MC_FALLBACK:
            continue  # duplicate of the mc:Choice rendering
        if tag == _W + "t":
            parts.append(node.text or "")
        elif tag in (_W + "tab", _W + "br", _W + "cr"):
            parts.append(" ")
        elif tag == _W + "noBreakHyphen":
            parts.append("-")
        if tag != _W + "t":
            stack.extend(reversed(list(node)))
    return "".join(parts)


def _docx_iter_body(container: Any) -> Iterator[Any]:
    """Paragraph and table elements in body order, looking inside content controls."""
    stack = list(reversed(list(container)))
    while stack:
        el = stack.pop()
        if el.tag in (_W + "p", _W + "tbl"):
            yield el
        elif el.tag in (_W + "sdt", _W + "sdtContent", _W + "customXml"):
            stack.extend(reversed(list(el)))


def _parse_docx(data: bytes) -> tuple[str, list[Block]]:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except zipfile.BadZipFile:
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            reason = "not a valid .docx: this is an old binary .doc file or a password-protected document"
        else:
            reason = "corrupt or unreadable Word document: not a valid .docx (zip) file"
        raise ReadError("error", reason) from None
    except Exception as exc:
        raise ReadError("error", f"corrupt or unreadable Word document: {_short(exc)}") from None

    style_names: dict[str, str] = {}
    try:
        for style in document.styles:
            if style.style_id:
                style_names[style.style_id] = style.name or style.style_id
    except Exception as exc:  # a damaged styles part should not lose the text
        logger.debug("could not read docx styles: %s", exc)

    builder = _TextBuilder()
    try:
        for el in _docx_iter_body(document.element.body):
            if el.tag == _W + "p":
                text = _docx_text(el)
                if text.strip():
                    builder.add(text, _docx_kind(el, style_names))
            else:
                # Direct rows only: nested tables are part of their cell's text.
                for tr in el.findall(_W + "tr"):
                    for tc in tr.findall(_W + "tc"):
                        # Nested tables' paragraphs are included in the cell's text.
                        cell = " ".join(_docx_text(p) for p in tc.iter(_W + "p"))
                        builder.add(cell, "table_cell")
    except Exception as exc:
        raise ReadError("error", f"corrupt or unreadable Word document: {_short(exc)}") from None
    if not builder.blocks:
        raise ReadError("empty", "Word document has no text")
    return builder.text(), builder.blocks


def _docx_kind(p: Any, style_names: Mapping[str, str]) -> str:
    ppr = p.find(_W + "pPr")
    style_id = ""
    if ppr is not None:
        ps = ppr.find(_W + "pStyle")
        if ps is not None:
            style_id = ps.get(_W + "val") or ""
        outline = ppr.find(_W + "outlineLvl")
        level = outline.get(_W + "val", "9") if outline is not None else "9"
        if level.isdigit() and int(level) < 9:  # 9 means "body text"
            return "heading"
    name = style_names.get(style_id, style_id)
    if _HEADING_STYLE_RE.match(name) or _HEADING_STYLE_RE.match(style_id):
        return "heading"
    if ppr is not None:
        num = ppr.find(_W + "numPr")
        if num is not None:
            num_id = num.find(_W + "numId")
            if num_id is None or num_id.get(_W + "val") != "0":
                return "list_item"
    if "list" in name.lower():
        return "list_item"
    return "paragraph"


# --------------------------------------------------------------------------
# Tabular formats
# --------------------------------------------------------------------------

_HINT_WORDS = frozenset(
    {
        "comment",
        "comments",
        "text",
        "response",
        "responses",
        "feedback",
        "answer",
        "answers",
        "verbatim",
        "verbatims",
        "narrative",
        "freetext",
        "description",
        "details",
        "remarks",
        "remark",
        "notes",
        "note",
        "message",
        "body",
        "content",
        "statement",
        "quote",
        "reflection",
        "reflections",
        "story",
        "opinion",
        "explanation",
        "reason",
        "why",
    }
)
# Name parts that mark a column as a code or number about the text, not the text.
_NEGATIVE_WORDS = frozenset(
    {
        "id",
        "score",
        "rating",
        "count",
        "date",
        "time",
        "code",
        "flag",
        "type",
        "label",
        "category",
        "length",
        "len",
        "num",
        "number",
        "year",
        "hash",
        "url",
        "lang",
        "language",
    }
)
_NUMERIC_RE = re.compile(r"^[-+£$€]?\d[\d,]*(?:\.\d+)?%?$")
_DATEISH_RE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")


def _name_tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return [t for t in re.split(r"[^0-9a-zA-Z]+", spaced.lower()) if t]


def detect_text_column(columns: Sequence[str], sample_rows: Iterable[Mapping[str, Any]]) -> str:
    """Pick the column that holds the free text, when that is obvious.

    A column whose name suggests free text (comment, text, response, feedback,
    answer, ...) and whose sampled values are mostly words wins; among several,
    the one with the longest mean value. Otherwise the column of wordy values
    with the longest mean length is chosen.

    Args:
        columns: Column names in file order.
        sample_rows: A sample of rows as mappings from column name to value.

    Returns:
        The chosen column name.

    Raises:
        ReadError: ``error`` if no column looks like free text.
    """
    cols = [str(c) for c in columns]
    if not cols:
        raise ReadError("error", "the table has no columns")
    rows = list(sample_rows)
    stats: dict[str, tuple[float, float, float, int]] = {}
    for c in cols:
        values = [r.get(c) for r in rows]
        present = [v for v in values if v is not None and not (isinstance(v, str) and not v.strip())]
        texts = [
            v.strip()
            for v in present
            if isinstance(v, str) and not _NUMERIC_RE.match(v.strip()) and not _DATEISH_RE.match(v.strip())
        ]
        frac = len(texts) / len(present) if present else 0.0
        mean_len = sum(len(t) for t in texts) / len(texts) if texts else 0.0
        mean_words = sum(len(t.split()) for t in texts) / len(texts) if texts else 0.0
        stats[c] = (frac, mean_len, mean_words, len(present))

    def hinted(c: str) -> bool:
        toks = _name_tokens(c)
        return any(t in _HINT_WORDS for t in toks) and not any(t in _NEGATIVE_WORDS for t in toks)

    hinted_cols = [c for c in cols if hinted(c)]
    good_hinted = [c for c in hinted_cols if stats[c][0] >= 0.5]
    if good_hinted:
        return max(good_hinted, key=lambda c: stats[c][1])
    wordy = [c for c in cols if stats[c][0] >= 0.5 and stats[c][2] >= 3 and stats[c][1] >= 15]
    if wordy:
        return max(wordy, key=lambda c: stats[c][1])
    # A well-named column that is simply empty in the sample is still the
    # best guess; its empty rows are skipped later.
    unseen = [c for c in hinted_cols if stats[c][3] == 0]
    if unseen:
        return unseen[0]
    raise ReadError(
        "error",
        f"could not tell which column holds the free text (columns: {', '.join(cols)}); name it with --text-column",
    )


def _resolve_column(requested: str, columns: Sequence[str]) -> str:
    if requested in columns:
        return requested
    folded = [c for c in columns if c.strip().lower() == requested.strip().lower()]
    if len(folded) == 1:
        return folded[0]
    raise ReadError("error", f"text column '{requested}' not found; available columns: {', '.join(map(str, columns))}")


def _json_safe(value: Any) -> Any:
    """Convert a cell value to something ``json.dumps`` accepts."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        try:
            return value.isoformat()
        except ValueError:  # pandas NaT
            return None
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.hex()
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        try:
            return _json_safe(value.tolist())
        except Exception:
            pass
    try:
        if value != value:  # NaN-like (pd.NA, NaT) compare unequal to themselves
            return None
    except Exception:
        pass
    return str(value)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    if isinstance(value, (int, float, decimal.Decimal)):
        return str(value)
    return ""


def _read_tabular(p: Path, shown: str, fmt: str, text_column: str | None, max_bytes: int) -> Iterator[Document]:
    h = _hash_file(p, max_bytes)
    file_hash16 = h.hexdigest()[:16]
    if fmt == "csv":
        rows, encoding = _csv_rows(p, text_column)
    elif fmt == "xlsx":
        rows, encoding = _xlsx_rows(p, text_column), None
    elif fmt == "jsonl":
        rows, encoding = _jsonl_rows(p, text_column)
    else:
        rows, encoding = _parquet_rows(p, text_column), None
    produced = skipped = 0
    column = "?"
    for index, column, raw_text, row in rows:
        text = _normalise_newlines(_clean(_cell_text(raw_text)))
        builder = _TextBuilder()
        if text.strip():
            for kind, chunk in _text_blocks(text):
                builder.add(chunk, kind)
        if not builder.blocks:
            skipped += 1
            continue
        rh = h.copy()
        rh.update(f":r{index}".encode())
        metadata = {str(k): _json_safe(v) for k, v in row.items() if k != column}
        if fmt == "csv":
            # CSV cells are read as strings; an empty cell is a missing value.
            metadata = {k: (None if v == "" else v) for k, v in metadata.items()}
        produced += 1
        yield Document(
            doc_id=f"{file_hash16}:r{index}",
            path=shown,
            format=fmt,
            text=builder.text(),
            blocks=builder.blocks,
            pages=None,
            encoding=encoding,
            metadata=metadata,
            content_hash=rh.hexdigest(),
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
            while chunk := fh.read(_CHUNK):
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
        raise _open_error(exc) from None
    bom = _bom_encoding(head[:4])
    if bom:
        codec = {"utf-8-sig": "utf-8-sig", "utf-16": "utf-16", "utf-32": "utf-32"}[bom[0]]
        return codec, bom[0], head
    sample = head[:65536]
    if b"\x00" in sample:
        codec = _utf16_without_bom(sample)
        if codec:
            return codec, "utf-16", head
        raise ReadError("error", _BINARY_REASON)
    if _control_ratio(sample) > 0.05:
        raise ReadError("error", _BINARY_REASON)
    if utf8_ok:
        return "utf-8", "utf-8", head
    guess = _guess_non_latin(head, truncated=len(head) >= _CHUNK)
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
            raise ReadError("error", f"could not parse CSV: {_short(exc)}") from None
        column: str | None = None
        index = 0
        try:
            with reader:
                for chunk in reader:
                    records = chunk.to_dict("records")
                    if column is None:
                        cols = [str(c) for c in chunk.columns]
                        column = (
                            _resolve_column(text_column, cols)
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
            raise ReadError("error", f"could not parse CSV: {_short(exc)}") from None
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


def _xlsx_rows(p: Path, text_column: str | None) -> _RowIter:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except zipfile.BadZipFile:
        raise ReadError("error", "corrupt or unreadable Excel workbook: not a valid .xlsx (zip) file") from None
    except Exception as exc:
        raise ReadError("error", f"corrupt or unreadable Excel workbook: {_short(exc)}") from None
    try:
        first_error: ReadError | None = None
        for sheet_no, ws in enumerate(wb.worksheets):
            try:
                rows = ws.iter_rows(values_only=True)
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
                    continue
                records = [dict(zip(header, v)) for v in sample]
                column = (
                    _resolve_column(text_column, header)
                    if text_column is not None
                    else detect_text_column(header, records)
                )
            except ReadError as err:
                first_error = first_error or err
                continue
            if sheet_no:
                logger.info("%s: reading sheet '%s'", p, ws.title)
            index = 0
            for rec in records:
                yield index, column, rec.get(column), rec
                index += 1
            for values in rows:
                rec = dict(zip(header, values))
                yield index, column, rec.get(column), rec
                index += 1
            return
        if first_error:
            raise first_error
        raise ReadError("empty", "workbook has no data")
    except ReadError:
        raise
    except Exception as exc:
        raise ReadError("error", f"corrupt or unreadable Excel workbook: {_short(exc)}") from None
    finally:
        # read-only workbooks keep the file open until closed
        wb.close()


def _jsonl_rows(p: Path, text_column: str | None) -> tuple[_RowIter, str]:
    try:
        with open(p, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise _open_error(exc) from None
    recorded = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    if _bom_encoding(head) and recorded == "utf-8":
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
            raise _open_error(exc) from None
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
        return _resolve_column(text_column, names)
    return detect_text_column(names, [rec for _, rec in buffered])


def _parquet_rows(p: Path, text_column: str | None) -> _RowIter:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(p)
    except Exception as exc:
        raise ReadError("error", f"corrupt or unreadable Parquet file: {_short(exc)}") from None
    try:
        names = list(pf.schema_arrow.names)
        column: str | None = None
        if text_column is not None:
            column = _resolve_column(text_column, names)
        index = 0
        for batch in pf.iter_batches(batch_size=1024):
            records = batch.to_pylist()
            if column is None:
                column = detect_text_column(names, records[:200])
            for rec in records:
                yield index, column, rec.get(column), rec
                index += 1
    except ReadError:
        raise
    except Exception as exc:
        raise ReadError("error", f"corrupt or unreadable Parquet file: {_short(exc)}") from None
    finally:
        pf.close()
