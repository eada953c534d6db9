"""Which register a document is written in, and how that was decided.

Staff feedback, board papers and inquiry reports speak differently (aims and
assurance fill board papers; findings and testimony fill inquiries), so the
report compares them apart. A file's name is a weak guide: coroners' reports
and hearing transcripts rarely say "inquiry" in theirs. So the register is
taken, in this order, from:

1. ``declared``: what the user said for the whole run (``--register``);
2. ``column``: a table's own ``register`` column;
3. ``content``: cue phrases and layout in the text (inquiry findings,
   recommendations and transcripts; board minutes; short first-person
   comments);
4. ``filename``: words in the file's path;
5. ``default``: staff feedback for table rows, ``other`` for anything else.

Every document row and file row records the register and its source
(``register_source``), so a reader can see which labels are guesses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .labels import REGISTERS

__all__ = ["REGISTER_CHOICES", "REGISTER_SOURCES", "TABULAR_FORMATS", "decide_register", "content_register", "filename_register"]

#: Values a register may take: the three of the label contract, and ``other``.
REGISTER_CHOICES: tuple[str, ...] = (*REGISTERS, "other")
#: How a register was decided, most trusted first.
REGISTER_SOURCES: tuple[str, ...] = ("declared", "column", "content", "filename", "default")
#: Formats whose documents are table rows (one survey comment each, as a rule).
TABULAR_FORMATS = frozenset({"csv", "tsv", "xlsx", "xls", "jsonl", "parquet"})

# Only the start of a long document is read for cues: a register shows in its
# first pages (headings, opening formulae), and the cost stays bounded.
_HEAD_CHARS = 60_000
_M = re.I | re.M
# Each pattern counts once per document however often it occurs: several
# different cues are needed, so one stray phrase does not decide.
_CUES: dict[str, tuple[re.Pattern[str], ...]] = {
    "inquiry_report": tuple(
        re.compile(p, _M)
        for p in (
            r"\bthe (panel|inquiry|review|investigation|coroner|chair|tribunal) (found|finds|concluded|concludes|heard|considers|recommends|is satisfied)\b",
            r"\brecommendations?\s+\d+\b|\bwe recommend\b|\bit is recommended\b",
            r"\b(prevention of )?future deaths\b|\bregulation 28\b|\bcoroner\b|\binquest\b|\bthe deceased\b",
            r"\bterms of reference\b|\bkey findings\b|\bfindings of fact\b|\bour findings\b",
            r"^\s*Q[.:]\s+\S",
            r"^\s*A[.:]\s+\S",
            r"\bcounsel (to|for) the (inquiry|inquest|family|trust)\b|\bwitness statement\b|\b(oral )?evidence to the (inquiry|panel)\b",
            r"\b(told|said to) the (inquiry|panel|review|coroner)\b|\bthe (inquiry|panel) (was told|heard evidence)\b",
            r"\bchapter \d+\b|\b(independent|public|statutory) (inquiry|review|investigation)\b",
        )
    ),
    "board_paper": tuple(
        re.compile(p, _M)
        for p in (
            r"\bthe (board|committee) (noted|approved|received|agreed|discussed|ratified|was assured|resolved)\b",
            r"\bapologies( for absence)?\b",
            r"\bagenda item\b|^\s*item \d+(\.\d+)?\b|\bmatters arising\b",
            r"\bminutes of the (previous |last )?meeting\b|\bthe minutes (were|of the)\b",
            r"^\s*(present|in attendance)\s*:",
            r"\bdeclarations? of interests?\b|\bquorate\b",
            r"\bfor (approval|assurance|information|noting|decision)\b|\bpurpose of (the|this) (paper|report)\b",
            r"\b(action log|risk register|board assurance framework|chief executive'?s report|integrated performance report)\b",
            r"\b(non-)?executive directors?\b|\bboard members?\b",
        )
    ),
}
_FIRST_PERSON = re.compile(r"\b(i|i'm|i've|i'd|me|my|we|we're|we've|our|us)\b", re.I)
_FILENAME_HINTS = (
    ("inquiry_report", re.compile(r"inquiry|inquest|coroner|pfd|future[-_ ]?deaths|regulation[-_ ]?28|(?<![a-z])review(?!s)|investigation|hearing|transcript|chapter|findings", re.I)),
    ("board_paper", re.compile(r"board|committee|minutes|governing|agenda|trust[-_ ]?paper|annual[-_ ]report", re.I)),
    ("staff_feedback", re.compile(r"survey|feedback|comment|listening|pulse|staff|reviews", re.I)),
)


def _comment_layout(text: str) -> bool:
    """True when the text reads as staff comments: mostly short lines, many in the first person."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return False
    if len(lines) == 1:
        return len(lines[0]) <= 600 and bool(_FIRST_PERSON.search(lines[0]))
    short = sum(len(ln) <= 400 for ln in lines)
    personal = sum(bool(_FIRST_PERSON.search(ln)) for ln in lines)
    return len(lines) >= 3 and short >= 0.8 * len(lines) and personal >= 0.4 * len(lines)


def content_register(text: str, tabular: bool = False) -> str | None:
    """The register the text's cue phrases and layout point to, or ``None`` when they do not decide.

    Args:
        text: A document's text (a table row's text for tables).
        tabular: The text is one row of a table: only the comment test is
            applied (a row is too short for several cue phrases).

    Returns:
        ``"inquiry_report"``, ``"board_paper"``, ``"staff_feedback"`` or ``None``.
    """
    if tabular:
        return "staff_feedback" if _comment_layout(text[:2000]) else None
    head = text[:_HEAD_CHARS]
    scores = {register: sum(1 for cue in cues if cue.search(head)) for register, cues in _CUES.items()}
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (best, top), (_, second) = ranked[0], ranked[1]
    # Two different cues at least, and more than the other register's.
    if top >= 2 and top > second:
        return best
    if top < 2 and _comment_layout(head):
        return "staff_feedback"
    return None


def filename_register(path: str) -> str | None:
    """The register that words in a file's path point to, or ``None``."""
    for register, pattern in _FILENAME_HINTS:
        if pattern.search(path):
            return register
    return None


def decide_register(text: str, path: str, fmt: str, metadata: Mapping[str, Any] | None = None, declared: str | None = None) -> tuple[str, str]:
    """A document's register and how it was decided (see the module docstring for the order).

    Args:
        text: The document's text.
        path: Its file's path.
        fmt: Its format (``"pdf"``, ``"csv"``...).
        metadata: A table row's other columns; a non-empty ``register`` value is used.
        declared: The register declared for the whole run (``--register``).

    Returns:
        ``(register, source)``, source one of :data:`REGISTER_SOURCES`.
    """
    if declared:
        return declared, "declared"
    value = str((metadata or {}).get("register") or "").strip()
    if value:
        return value, "column"
    tabular = fmt in TABULAR_FORMATS
    found = content_register(text, tabular)
    if found:
        return found, "content"
    found = filename_register(path)
    if found:
        return found, "filename"
    return ("staff_feedback" if tabular else "other"), "default"
