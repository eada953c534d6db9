"""Split text into units: sentences, list items and headings, with exact offsets.

Units are what the scorers label, so they must be meaningful on their own and
traceable: every :class:`Unit` satisfies ``text[unit.start:unit.end] ==
unit.text``.

Sentence boundaries come from spaCy's rule-based ``sentencizer`` on a blank
English pipeline (fast, no model download), then repaired with rules that
matter for reports and staff feedback:

* a heading is one unit, and a bullet or numbered list item is one unit
  (unless it is very long, when it is split into sentences like prose);
* a line starting with a list marker or a paragraph number ("13.1", "4)")
  starts a new unit, and the number stays part of that unit's text;
* a quotation is not split in the middle (``"We were terrified," she said.``
  and ``"Stop!" she said.`` are one unit each);
* no split after common abbreviations (e.g., i.e., Dr., Mr., No. 5, para. 12)
  or inside decimal numbers; text written all in lower case is still split
  at its sentence ends;
* surrounding whitespace is trimmed, and units with no letters or that are
  bare page numbers are dropped;
* resource bounds (:class:`lo_signals.readers.Limits`): a unit longer than
  ``max_chars`` (a table dump, a text with no sentence ends) is split at
  whitespace, so no scorer ever sees a giant string and no text is lost, and
  a document stops at ``max_units`` units; both are recorded as warnings.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .readers import Block, Limits, Warnings
from .readers.layout import (
    BULLET_RE,
    MULTI_NUMBER_RE,
    NUMBER_MARKER_RE,
    PAGE_NUMBER_RE,
    blank_line_blocks,
    is_heading_line,
    line_continues,
)

logger = logging.getLogger(__name__)

__all__ = ["Unit", "segment", "segment_texts", "text_units", "iter_text_units"]


@dataclass
class Unit:
    """One scoring unit of a document.

    Attributes:
        unit_id: 0-based index within the document.
        text: The unit's text, exactly ``document_text[start:end]``.
        start: Offset of the first character.
        end: Offset one past the last character.
        page: Page number of the block it came from (PDFs), else ``None``.
        paragraph: 0-based index of the block it came from.
    """

    unit_id: int
    text: str
    start: int
    end: int
    page: int | None
    paragraph: int


# --------------------------------------------------------------------------
# The spaCy pipeline (built once, lazily: importing this module stays cheap)
# --------------------------------------------------------------------------

_NLP: Any = None
_NLP_LOCK = threading.Lock()
_MULTI_RE: re.Pattern[str] | None = None


def _get_nlp() -> Any:
    """Return the shared blank English pipeline with a sentencizer."""
    global _NLP, _MULTI_RE
    if _NLP is None:
        with _NLP_LOCK:
            if _NLP is None:
                import spacy

                nlp = spacy.blank("en")
                sentencizer = nlp.add_pipe("sentencizer")
                # A blank pipeline keeps no per-token model state, so the 1M
                # character safety limit (meant for the parser) is not needed.
                nlp.max_length = 10**9
                chars = "".join(sorted(sentencizer.punct_chars))
                # A piece can only contain a boundary if a sentence-final
                # character is followed by more text; others skip spaCy.
                _MULTI_RE = re.compile("[" + re.escape(chars) + r"]\S*\s+\S")
                _NLP = nlp
    return _NLP


# --------------------------------------------------------------------------
# Boundary repair rules
# --------------------------------------------------------------------------

# Never end a sentence: the next word is always part of the same one.
_ABBR_ALWAYS = frozenset({"e.g", "i.e", "eg", "ie", "cf", "vs", "viz", "c.f", "n.b", "nb"})
# Titles: followed by a name.
_ABBR_TITLE = frozenset(
    {
        "dr",
        "mr",
        "mrs",
        "ms",
        "mx",
        "prof",
        "st",
        "rev",
        "hon",
        "cllr",
        "sr",
        "jr",
        "gen",
        "col",
        "capt",
        "lt",
        "sgt",
        "insp",
        "supt",
        "messrs",
        "rt",
        "sir",
    }
)
# References: followed by a number ("No. 10", "para. 12", "p. 4", "et al. (2019)").
_ABBR_NUMBER = frozenset(
    {
        "no",
        "nos",
        "para",
        "paras",
        "p",
        "pp",
        "fig",
        "figs",
        "vol",
        "vols",
        "sec",
        "ch",
        "art",
        "ref",
        "cl",
        "reg",
        "s",
        "ss",
        "app",
        "tab",
        "eq",
        "al",
        "op",
        "ed",
        "ver",
        "v",
    }
)
# Abbreviations that may also end a sentence: only a lower-case next word
# proves the sentence goes on ("approx. ten", "etc. and").
_ABBR_OTHER = frozenset({"etc", "approx", "incl", "esp", "dept", "govt", "misc", "est", "min", "max", "avg", "ca"})
_ALL_ABBR = _ABBR_ALWAYS | _ABBR_TITLE | _ABBR_NUMBER | _ABBR_OTHER
_LAST_TOKEN_RE = re.compile(r"(\S+)\.$")
# A sentence mark inside closing quotes/brackets: '"Stop!"', "(see above.)".
_CLOSED_QUOTE_END_RE = re.compile(r"[.!?…][\"'”’»)\]]+$")
_PREFIX_ONLY_RE = re.compile(r"\(?\d{1,3}(?:\.\d{1,3})*[.)]?|\(?[a-zA-Z][.)]|\([ivxlc]{1,6}\)|[ivxlc]{1,6}\)")
_OPENERS = "\"'“‘«([{ "
_SPACE_RE = re.compile(r"\s+")
_PAGE_NOISE_RE = re.compile(PAGE_NUMBER_RE.pattern[:-1] + r"\.?$")
# List items longer than this are split into sentences like prose: keeping a
# whole paragraph-sized bullet as one unit would blur what it says.
_LONG_ITEM = 400


def _first_char(s: str) -> str:
    s = s.lstrip(_OPENERS)
    return s[:1]


def _abbreviation_join(prev: str, nxt: str) -> bool:
    m = _LAST_TOKEN_RE.search(prev)
    if not m:
        return False
    word = m.group(1).lstrip(_OPENERS).lower()
    first = _first_char(nxt)
    if not first:
        return False
    if word in _ABBR_ALWAYS or (word in _ALL_ABBR and first.islower()):
        return True
    if word in _ABBR_TITLE:
        return first.isupper()
    if word in _ABBR_NUMBER:
        return first.isdigit() or nxt.lstrip().startswith("(")
    # A lone capital initial ("J. Smith").
    return len(word) == 1 and m.group(1)[-1:].isupper() and first.isupper()


def _should_join(prev: str, nxt: str) -> bool:
    """Whether spaCy's boundary between two sentences is a false one."""
    p, n = prev.strip(), nxt.strip()
    if not p or not n:
        return True
    if not any(c.isalnum() for c in n) or not any(c.isalnum() for c in p):
        return True  # stray punctuation belongs to its neighbour
    if _PREFIX_ONLY_RE.fullmatch(p):
        return True  # "13.1." on its own: the number introduces what follows
    first = _first_char(n)
    # '"Stop!" she said.': a quotation followed by a lower-case attribution.
    # Lower case alone proves nothing: staff feedback is often written
    # entirely in lower case, one sentence after another.
    if first.islower() and _CLOSED_QUOTE_END_RE.search(p):
        return True
    return _abbreviation_join(p, n)


def _quote_open(s: str) -> bool:
    return s.count('"') % 2 == 1 or s.count("“") > s.count("”") or s.count("«") > s.count("»")


def _merge_sentences(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Apply the join rules, then keep quotations whole."""
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and _should_join(text[merged[-1][0] : merged[-1][1]], text[s:e]):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(merged):
        s, e = merged[i]
        j = i
        if _quote_open(text[s:e]):
            # Merge up to the sentence that closes the quotation, but only if
            # it closes soon: a stray quote mark must not swallow a paragraph.
            for k in range(i + 1, min(i + 5, len(merged))):
                if not _quote_open(text[s : merged[k][1]]):
                    j = k
                    break
        out.append((s, merged[j][1]))
        i = j + 1
    return out


# --------------------------------------------------------------------------
# Pieces: block regions that can never share a unit
# --------------------------------------------------------------------------


@dataclass
class _Piece:
    start: int
    end: int
    split: bool  # sentence-split this piece (False: it is one unit)
    page: int | None
    paragraph: int


def _line_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl < 0 else nl
        spans.append((pos, stop))
        pos = stop + 1
    return spans


def _block_pieces(text: str, start: int, end: int, kind: str, page: int | None, paragraph: int) -> list[_Piece]:
    if kind == "heading":
        return [_Piece(start, end, False, page, paragraph)]
    if kind == "list_item":
        return [_Piece(start, end, end - start > _LONG_ITEM, page, paragraph)]
    if "\n" not in text[start:end]:
        return [_Piece(start, end, True, page, paragraph)]
    # Several lines: list markers, paragraph numbers and headings start new
    # pieces; other lines join the current piece if they look like wrapping.
    lines = [(s, e) for s, e in _line_spans(text, start, end) if text[s:e].strip()]
    if not lines:
        return []
    width = max(len(text[s:e].strip()) for s, e in lines)
    pieces: list[_Piece] = []
    cur: list[Any] | None = None  # [start, end, group kind]
    for s, e in lines:
        line = text[s:e]
        stripped = line.strip()
        if is_heading_line(stripped) and not (cur and cur[2] == "item" and line[:1].isspace()):
            if cur:
                pieces.append(_Piece(cur[0], cur[1], cur[2] != "item" or cur[1] - cur[0] > _LONG_ITEM, page, paragraph))
            pieces.append(_Piece(s, e, False, page, paragraph))
            cur = None
            continue
        if BULLET_RE.match(line) or NUMBER_MARKER_RE.match(line):
            new_kind = "item"
        elif MULTI_NUMBER_RE.match(line):
            new_kind = "para"
        else:
            new_kind = None
        if cur is not None and new_kind is None:
            prev = text[cur[3] : cur[1]].strip()
            if cur[2] == "item":
                keep = line[:1].isspace() or stripped[:1].islower() or not re.search(r"[.!?]\W*$", prev)
            else:
                keep = line_continues(prev, stripped, width, plain=True)
            if keep:
                cur[1], cur[3] = e, s
                continue
        if cur:
            pieces.append(_Piece(cur[0], cur[1], cur[2] != "item" or cur[1] - cur[0] > _LONG_ITEM, page, paragraph))
        cur = [s, e, new_kind or "para", s]
    if cur:
        pieces.append(_Piece(cur[0], cur[1], cur[2] != "item" or cur[1] - cur[0] > _LONG_ITEM, page, paragraph))
    return pieces


def _pieces(text: str, blocks: Sequence[Block] | None) -> list[_Piece]:
    if blocks is None:
        blocks = blank_line_blocks(text)
    # Tolerate blocks out of order or overlapping: units must come out sorted
    # and disjoint whatever the caller passed.
    order = sorted(range(len(blocks)), key=lambda i: (blocks[i].start, blocks[i].end))
    pieces: list[_Piece] = []
    floor = 0
    for i in order:
        b = blocks[i]
        start, end = max(b.start, floor, 0), min(b.end, len(text))
        if end <= start:
            continue
        floor = end
        pieces.extend(_block_pieces(text, start, end, b.kind, b.page, i))
    return pieces


# --------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    chunk = text[s:e]
    left = len(chunk) - len(chunk.lstrip())
    right = len(chunk) - len(chunk.rstrip())
    return s + left, e - right


def _is_noise(unit_text: str) -> bool:
    return not any(c.isalpha() for c in unit_text) or bool(_PAGE_NOISE_RE.match(unit_text))


def _long_cuts(text: str, s: int, e: int, limit: int) -> list[tuple[int, int]]:
    """Cut ``text[s:e]`` into spans of at most ``limit`` characters, at whitespace where possible."""
    spans = []
    while e - s > limit:
        cut = s + limit
        # The last whitespace in the second half of the window; a run with
        # none (one giant token) is cut hard.
        space = None
        for space in _SPACE_RE.finditer(text, s + limit // 2, cut + 1):
            pass
        end = space.start() if space is not None and space.start() > s else cut
        spans.append((s, end))
        s = end
        while s < e and text[s].isspace():
            s += 1
    if s < e:
        spans.append((s, e))
    return spans


def _units_from_spans(
    text: str,
    piece_spans: Iterable[tuple[_Piece, list[tuple[int, int]]]],
    max_sentences: int,
    limits: Limits,
    warnings: Warnings | None,
) -> list[Unit]:
    units: list[Unit] = []
    for piece, spans in piece_spans:
        spans = _merge_sentences(text, spans) if len(spans) > 1 else spans
        for k in range(0, len(spans), max_sentences):
            group = spans[k : k + max_sentences]
            s, e = _trim(text, group[0][0], group[-1][1])
            if e <= s:
                continue
            cuts = [(s, e)]
            if e - s > limits.max_chars:
                cuts = [_trim(text, a, b) for a, b in _long_cuts(text, s, e, limits.max_chars)]
                if warnings is not None:
                    warnings.add(f"a unit over {limits.max_chars:,} characters was split (--max-chars)")
            for a, b in cuts:
                unit_text = text[a:b]
                if b <= a or _is_noise(unit_text):
                    continue
                if len(units) >= limits.max_units:
                    if warnings is not None:
                        warnings.add(f"a document was cut at {limits.max_units:,} units (--max-units)")
                    return units
                units.append(Unit(len(units), unit_text, a, b, piece.page, piece.paragraph))
    return units


def _segment_batch(
    items: Sequence[tuple[str, Sequence[Block] | None]],
    max_sentences: int,
    limits: Limits | None = None,
    warnings: Warnings | None = None,
    batch_size: int = 256,
) -> list[list[Unit]]:
    """Segment several texts, sending every piece that needs it through one nlp.pipe."""
    if max_sentences < 1:
        raise ValueError(f"max_sentences must be at least 1, got {max_sentences}")
    limits = limits or Limits()
    nlp = _get_nlp()
    assert _MULTI_RE is not None
    all_pieces = [_pieces(text, blocks) for text, blocks in items]
    # Only pieces that can contain an internal boundary go through spaCy;
    # short single sentences (most feedback comments) skip it entirely.
    todo: list[tuple[int, int]] = []
    for t, pieces in enumerate(all_pieces):
        text = items[t][0]
        for p, piece in enumerate(pieces):
            if piece.split and _MULTI_RE.search(text, piece.start, piece.end):
                todo.append((t, p))
    found: dict[tuple[int, int], list[tuple[int, int]]] = {}
    texts = (items[t][0][all_pieces[t][p].start : all_pieces[t][p].end] for t, p in todo)
    for key, doc in zip(todo, nlp.pipe(texts, batch_size=batch_size)):
        base = all_pieces[key[0]][key[1]].start
        found[key] = [(base + sent.start_char, base + sent.end_char) for sent in doc.sents]
    results = []
    for t, pieces in enumerate(all_pieces):
        text = items[t][0]
        spans = ((piece, found.get((t, p), [(piece.start, piece.end)])) for p, piece in enumerate(pieces))
        results.append(_units_from_spans(text, spans, max_sentences, limits, warnings))
    return results


def segment(
    text: str,
    blocks: Sequence[Block] | None = None,
    max_sentences: int = 1,
    *,
    limits: Limits | None = None,
    warnings: Warnings | None = None,
) -> list[Unit]:
    """Split one document's text into units.

    Args:
        text: The document text (``Document.text``).
        blocks: Its structural blocks; when ``None``, blank-line separated
            paragraphs are used.
        max_sentences: Sentences per unit (consecutive sentences of the same
            paragraph are grouped); headings and list items are always
            units of their own.
        limits: Bounds (default :class:`~lo_signals.readers.Limits`): a
            unit longer than ``max_chars`` is split at whitespace into
            several (no text is lost), and units past ``max_units`` are
            dropped.
        warnings: When given, each split or cut is recorded here (pass
            :attr:`FileSource.warnings <lo_signals.readers.FileSource>` so it
            reaches the file's report).

    Returns:
        Units in text order, non-overlapping, with ``text[u.start:u.end] ==
        u.text`` and ``unit_id`` numbering them from 0.

    Raises:
        ValueError: If ``max_sentences`` is below 1.
    """
    return _segment_batch([(text, blocks)], max_sentences, limits, warnings)[0]


def segment_texts(
    texts: Iterable[str], batch_size: int = 512, *, limits: Limits | None = None, warnings: Warnings | None = None
) -> Iterator[list[Unit]]:
    """Segment many short texts (e.g. survey comments) quickly.

    Texts are processed in batches so that spaCy's ``nlp.pipe`` amortises its
    overhead; results stream out in input order.

    Args:
        texts: The texts; each is treated like :func:`segment` with no blocks.
        batch_size: Texts per batch.
        limits: Bounds applied to each text, as in :func:`segment`.
        warnings: Collects splits and cuts, as in :func:`segment`.

    Yields:
        One list of units per input text.
    """
    batch: list[tuple[str, Sequence[Block] | None]] = []
    for text in texts:
        batch.append((text, None))
        if len(batch) >= batch_size:
            yield from _segment_batch(batch, 1, limits, warnings)
            batch = []
    if batch:
        yield from _segment_batch(batch, 1, limits, warnings)


def text_units(text: str | None, *, limits: Limits | None = None, warnings: Warnings | None = None) -> list[tuple[str, list[Unit]]]:
    """The units of one comment (a table cell or any free text), exactly as ``lo-signals score`` makes them.

    This is the unit contract of every path that scores short texts: the
    batch pipeline reads a table cell into documents with
    :func:`lo_signals.readers.layout.cell_documents` and segments each with
    :func:`segment`; :func:`lo_signals.score_frame` and
    :func:`lo_signals.score_texts` go through :func:`iter_text_units`, which
    does the same two steps. A blank or missing text (``None``, NaN, only
    whitespace) has no units on any path.

    Args:
        text: The text; ``None`` and NaN count as empty.
        limits: Bounds (default :class:`~lo_signals.readers.Limits`):
            ``max_cell_chars`` cuts a huge text into pieces, each its own
            document, and ``max_chars`` splits an overlong unit, as in a run.
        warnings: When given, splits are recorded here, as in a run.

    Returns:
        One ``(document text, units)`` pair per piece holding text (a single
        pair unless the text is over ``max_cell_chars``; none for a blank
        text); each unit's ``start``/``end`` index its piece's document text,
        which is the text as read (control characters dropped, whitespace
        inside each block collapsed). A piece whose text has no letters has
        an empty unit list.
    """
    return next(iter_text_units([text], limits=limits, warnings=warnings))


def iter_text_units(
    texts: Iterable[str | None], *, limits: Limits | None = None, warnings: Warnings | None = None, batch_size: int = 512
) -> Iterator[list[tuple[str, list[Unit]]]]:
    """:func:`text_units` of many texts, in input order, segmented in batches (``nlp.pipe`` amortises its overhead).

    Args:
        texts: The texts; ``None`` and NaN count as empty.
        limits: Bounds, as in :func:`text_units`.
        warnings: Collects splits, as in :func:`text_units`.
        batch_size: Texts per batch.

    Yields:
        For each text, what :func:`text_units` returns for it.
    """
    from .readers.layout import cell_documents

    limits = limits or Limits()

    def run(batch: list[list[tuple[str, list[Block]]]]) -> Iterator[list[tuple[str, list[Unit]]]]:
        found = iter(_segment_batch([piece for pieces in batch for piece in pieces], 1, limits, warnings))
        for pieces in batch:
            yield [(doc_text, next(found)) for doc_text, _ in pieces]

    batch: list[list[tuple[str, list[Block]]]] = []
    for text in texts:
        missing = text is None or (isinstance(text, float) and text != text)
        batch.append([] if missing else list(cell_documents(str(text), limits.max_cell_chars, warnings)))
        if len(batch) >= batch_size:
            yield from run(batch)
            batch = []
    if batch:
        yield from run(batch)
