"""PDF files: text by page, running headers and footers removed, wraps joined."""

from __future__ import annotations

import io
import itertools
import logging
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ._document import Block, ReadError, TextBuilder, Warnings, clean, short, squash, unreadable_as
from .layout import (
    BULLET_RE,
    MULTI_NUMBER_RE,
    NUMBER_MARKER_RE,
    PAGE_NUMBER_RE,
    TERMINAL_RE,
    is_heading_line,
    join_lines,
    line_continues,
    starts_lower,
    strip_marker,
)

logger = logging.getLogger(__name__)

_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"})

@dataclass
class _PdfLine:
    text: str
    y: float | None
    size: float


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
        s = clean(s).strip()
        if s:
            out.append(_PdfLine(s, line.y, line.size))
    return out


def _furniture_key(line: _PdfLine) -> tuple[str, int | None]:
    # Digits are normalised so "Page 3" and "Page 4" match; the baseline is
    # bucketed because running headers sit at a fixed height, which keeps a
    # body sentence that happens to recur from being mistaken for one.
    bucket = round(line.y / 6) if line.y is not None else None
    return _DIGITS_RE.sub("#", squash(line.text).lower()), bucket


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
                cur = ("list_item", [strip_marker(s)], page_no)
            elif NUMBER_MARKER_RE.match(s) or MULTI_NUMBER_RE.match(s):
                flush()
                single = bool(NUMBER_MARKER_RE.match(s))
                in_run = single and any(NUMBER_MARKER_RE.match(t) for t in (prv, nxt) if t)
                # A numbered line that runs to the margin and continues in lower
                # case is the first line of a numbered paragraph, not a title.
                wraps = bool(nxt) and starts_lower(nxt) and len(s) >= 0.8 * width
                if is_heading_line(s) and not in_run and not wraps:
                    blocks.append(("heading", [s], page_no))
                else:
                    cur = ("list_item" if single else "paragraph", [s], page_no)
            elif is_heading_line(s) or (big_font and len(s.split()) <= 12 and not TERMINAL_RE.search(s)):
                flush()
                blocks.append(("heading", [s], page_no))
            elif cur is None:
                cur = ("paragraph", [s], page_no)
            else:
                last = cur[1][-1]
                if prev is None:
                    # First line of a page: continue the previous page's
                    # paragraph only when that clearly ran on.
                    joined = not TERMINAL_RE.search(last) and (starts_lower(s) or last.endswith("-"))
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
    if starts_lower(s) or last.endswith("-"):
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


def parse_pdf(data: bytes, warnings: Warnings | None = None) -> tuple[str, list[Block], int]:
    """A PDF's text and blocks, page by page, and its page count.

    Args:
        data: The file's bytes.
        warnings: Receives one warning per page whose text could not be
            extracted (the rest of the file is still read), so that the loss
            reaches ``files.csv`` and not only the log.

    Returns:
        ``(text, blocks, pages)``.

    Raises:
        ReadError: When the PDF cannot be opened or has no text at all.
    """
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError

    if b"%PDF-" not in data[:1024]:
        raise ReadError("error", "corrupt or truncated PDF: not a PDF file (no %PDF header)")
    with unreadable_as("corrupt or truncated PDF"):  # pypdf raises many types on damaged files
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                # Many PDFs are encrypted only against editing: the empty user
                # password opens them (AES needs the cryptography package).
                result = reader.decrypt("")
            except DependencyError:
                raise ReadError(
                    "error",
                    "PDF is encrypted / password-protected (AES; install 'cryptography' to try an empty password)",
                ) from None
            if result == PasswordType.NOT_DECRYPTED:
                raise ReadError("error", "PDF is encrypted / password-protected")
        n_pages = len(reader.pages)
    if n_pages == 0:
        raise ReadError("empty", "PDF has no pages")

    pages: list[list[_PdfLine]] = []
    failures: list[str] = []
    failed_pages: list[int] = []
    for i in range(n_pages):
        try:
            pages.append(_pdf_page_lines(reader.pages[i]))
        except Exception as exc:  # one bad page should not sink the whole file
            logger.warning("page %d: text extraction failed: %s", i + 1, short(exc))
            failures.append(short(exc))
            pages.append([])
            failed_pages.append(i + 1)
    if len(failures) == n_pages:
        raise ReadError("error", f"corrupt or truncated PDF: {failures[0]}")
    if failures and warnings is not None:
        # One line per file however many pages failed, naming the first few.
        listed = ", ".join(map(str, failed_pages[:10])) + (", ..." if len(failed_pages) > 10 else "")
        warnings.add(
            f"text of {len(failed_pages)} of {n_pages} page(s) could not be extracted (page {listed}: {failures[0]}); those pages were not scored"
        )
    if not any(pages):
        raise ReadError("empty", "no extractable text (scanned image PDF?)")

    builder = TextBuilder()
    for kind, lines, page_no in _pdf_blocks(_strip_furniture(pages)):
        builder.add(join_lines(lines, dehyphenate=True), kind, page_no)
    if not builder.blocks:
        raise ReadError("empty", "no extractable text (scanned image PDF?)")
    return builder.text(), builder.blocks, n_pages


# --------------------------------------------------------------------------
