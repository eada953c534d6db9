"""Layout rules shared by the readers and by :mod:`lo_signals.segment`.

How a line is classified (bullet, numbered item, paragraph number, heading),
whether the next line continues it, and how plain text splits into blocks.
Readers use these rules to build blocks; segmentation uses the same rules to
split a block into units, so the two never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from ._document import Block, TextBuilder, Warnings, clean
from .decoding import normalise_newlines

# Lower-case roman numerals only, and well-formed ones: front-matter page
# numbers are "iv", while a lone "civil" or "Ill" in a footer is a word.
_ROMAN_PAGE = r"(?=[ivxlc])c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
PAGE_NUMBER_RE = re.compile(
    r"^(?:[Pp]age|PAGE)?\s*[-–—]?\s*(?:\d{1,4}|" + _ROMAN_PAGE + r")\s*[-–—]?(?:\s*(?:of|/)\s*\d{1,4})?$"
)


BULLET_RE = re.compile(r"^\s*[-*+•·▪‣◦●○■□➢➤►✓✔]\s+(?=\S)")
# "1." "1)" "(1)" "(a)" "a)" "(iv)" -- letter markers need a bracket, because
# "A. Smith" is far more common than "A. First point".
NUMBER_MARKER_RE = re.compile(r"^\s*(?:\(?\d{1,3}[.)]|\(?[a-zA-Z][)]|\([a-zA-Z]\)|\(?[ivxlc]{1,6}\))\s+(?=\S)")
# Multi-level paragraph numbers as used in inquiry reports: "13.1", "4.2.1.".
MULTI_NUMBER_RE = re.compile(r"^\s*\d{1,3}(?:\.\d{1,3})+\.?\s+(?=\S)")
ATX_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
SETEXT_RE = re.compile(r"^\s{0,3}(?:=+|-+)\s*$")
HRULE_RE = re.compile(r"^\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,})$")
FENCE_RE = re.compile(r"^\s{0,3}(?:```|~~~)")
QUOTE_LINE_RE = re.compile(r"^\s{0,3}>\s?")
TERMINAL_RE = re.compile(r"[.!?:;][\"'”’»)\]]*$")


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
    if len(s) > 100 or TERMINAL_RE.search(s) or s.endswith(","):
        return False
    m = MULTI_NUMBER_RE.match(s) or NUMBER_MARKER_RE.match(s)
    if m:
        rest = s[m.end() :].strip()
        words = rest.split()
        return 0 < len(words) <= 10 and rest[0].isupper() and not BULLET_RE.match(s)
    letters = [c for c in s if c.isalpha()]
    return len(letters) >= 2 and s.upper() == s and len(s.split()) <= 12


def starts_lower(s: str) -> bool:
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
    if starts_lower(n):
        return True
    terminal = bool(TERMINAL_RE.search(p))
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


def join_lines(lines: Sequence[str], *, dehyphenate: bool) -> str:
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


def strip_marker(line: str) -> str:
    """Remove a bullet glyph (numbers are kept: they are references)."""
    m = BULLET_RE.match(line)
    return line[m.end() :] if m else line


def text_blocks(text: str) -> list[tuple[str, str]]:
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
            if FENCE_RE.match(lines[i]):
                in_fence = not in_fence
                i += 1
                continue
            para.append(lines[i])
            i += 1
        if para:
            out.extend(paragraph_blocks(para))
    return out


def paragraph_blocks(lines: list[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    width = max(len(s.strip()) for s in lines)
    kind: str | None = None
    buf: list[str] = []

    def flush() -> None:
        nonlocal kind, buf
        if kind and buf:
            out.append((kind, join_lines(buf, dehyphenate=False)))
        kind, buf = None, []

    def numbered(j: int) -> bool:
        return 0 <= j < len(lines) and bool(NUMBER_MARKER_RE.match(lines[j]) and not BULLET_RE.match(lines[j]))

    for j, raw in enumerate(lines):
        s = raw.strip()
        if SETEXT_RE.match(raw) and kind is not None and buf:
            # "Title\n=====": the preceding text was a heading.
            kind = "heading"
            flush()
            continue
        if HRULE_RE.match(raw):
            flush()
            continue
        m = ATX_HEADING_RE.match(raw)
        if m:
            flush()
            out.append(("heading", m.group(1)))
            continue
        if QUOTE_LINE_RE.match(raw):
            content = QUOTE_LINE_RE.sub("", raw, count=1)
            if kind != "quote":
                flush()
                kind = "quote"
            buf.append(content)
            continue
        if BULLET_RE.match(raw):
            flush()
            kind, buf = "list_item", [strip_marker(s)]
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
        if is_heading_line(s) and (j + 1 >= len(lines) or not SETEXT_RE.match(lines[j + 1])):
            flush()
            out.append(("heading", s))
            continue
        if kind is None:
            kind, buf = "paragraph", [s]
            continue
        prev = buf[-1].strip() if buf else ""
        if kind in ("list_item", "quote"):
            # Indented lines, and lower-case lazy continuations, extend an item.
            if raw[:1].isspace() or starts_lower(s) or not TERMINAL_RE.search(prev):
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



_PARA_BREAK_RE = re.compile(r"\n\s*\n")


def blank_line_blocks(text: str) -> list[Block]:
    """Paragraph blocks of ``text`` split at blank lines, with offsets into ``text``.

    Used when a caller has text but no reader-made blocks (a comment, a
    string passed to :func:`lo_signals.segment.segment`).
    """
    blocks = []
    pos = 0
    for m in _PARA_BREAK_RE.finditer(text):
        if text[pos : m.start()].strip():
            blocks.append(Block(pos, m.start(), "paragraph", None))
        pos = m.end()
    if text[pos:].strip():
        blocks.append(Block(pos, len(text), "paragraph", None))
    return blocks


def _cell_pieces(text: str, cap: int) -> Iterator[str]:
    """Consecutive slices of ``text`` of at most ``cap`` characters, cut at whitespace where possible.

    Nothing is dropped: the slices join back into ``text``. A cut falls after
    the last whitespace in the second half of a window, else at ``cap``.
    """
    if len(text) <= cap:
        yield text
        return
    start = 0
    while start < len(text):
        end = min(start + cap, len(text))
        if end < len(text):
            low = start + cap // 2
            cut = max(text.rfind(" ", low, end), text.rfind("\n", low, end), text.rfind("\t", low, end))
            if cut >= 0:
                end = cut + 1
        yield text[start:end]
        start = end


def cell_documents(cell: str, cap: int, warnings: Warnings | None = None) -> Iterator[tuple[str, list[Block]]]:
    """The document text and blocks a table cell becomes: one ``(text, blocks)`` per piece.

    The single definition of how a cell is read, shared by the table readers
    and by :func:`lo_signals.segment.text_units` (``score_frame``,
    ``score_texts``), so a comment is cut into the same units whichever way
    it is scored. A cell longer than ``cap`` (``--max-cell-chars``) is cut at
    whitespace into pieces, each its own document, so memory stays flat and
    no text is lost; a blank cell or piece yields nothing.

    Args:
        cell: The cell's text.
        cap: Longest piece, in characters.
        warnings: When given, a split cell is recorded here.

    Yields:
        ``(document text, blocks)`` for each piece holding text, in order
        (lazily: a huge cell's pieces are built one at a time).
    """
    if len(cell) > cap and warnings is not None:
        warnings.add(
            f"a text cell over {cap:,} characters was split into pieces of at most {cap:,}, "
            "each its own document (--max-cell-chars)"
        )
    for piece in _cell_pieces(cell, cap):
        text = normalise_newlines(clean(piece))
        builder = TextBuilder()
        if text.strip():
            for kind, chunk in text_blocks(text):
                builder.add(chunk, kind)
        if builder.blocks:
            yield builder.text(), builder.blocks
