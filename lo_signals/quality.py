"""The unit-quality gate: which units are worth a label.

Real documents are full of units that cannot carry evidence of anything:
headings, page furniture, table debris, sentence fragments cut at a page
break, counsel's questions in a hearing transcript, one-word replies. A
model asked about them answers from vocabulary alone ("Review" ->
``ongoing_transformation``). The gate marks them as *non-units*: they stay in
every table with the reason in a ``quality`` column, and no scorer ever gives
them a label or an aspiration (:class:`~lo_signals.scorers.base.BaseScorer`
applies the gate, so every path — ``predict``, ``score_frame``,
``score_documents``, ``evaluate`` — agrees).

The rules and their numbers are a versioned data file,
``lo_signals/data/quality.json``; a saved model records the version it was
fitted with.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

from .language import guess_language

__all__ = ["QUALITY_OK", "QUALITY_REASONS", "unit_quality", "quality_flags", "gate_config"]

#: The ``quality`` value of a unit that may carry labels.
QUALITY_OK = "ok"
#: Every reason a unit can be a non-unit, in the order the rules are tried.
QUALITY_REASONS = ("empty", "not_english", "debris", "too_short", "question", "procedural", "heading", "fragment")

_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_END_PUNCT = tuple('.!;:"”’)')


@lru_cache(maxsize=1)
def gate_config() -> dict[str, Any]:
    """The gate's rules, read once from ``lo_signals/data/quality.json``."""
    raw = resources.files("lo_signals").joinpath("data/quality.json").read_text(encoding="utf-8")
    data = json.loads(raw)
    data["clause_words"] = frozenset(data["clause_words"])
    data["procedural_starts"] = tuple(data["procedural_starts"])
    data["question_prefixes"] = tuple(data["question_prefixes"])
    data["clause_suffixes"] = tuple(data["clause_suffixes"])
    return data


def _starts(low: str, prefix: str) -> bool:
    """``low`` starts with ``prefix``: as typed when it ends in a space or punctuation, else as whole words."""
    if prefix.endswith((" ", ",", ".")):
        return low.startswith(prefix)
    return low == prefix or low.startswith((prefix + " ", prefix + ",", prefix + "."))


def _has_clause(words: list[str], cfg: dict[str, Any]) -> bool:
    """Whether the words hold something verb-like: an auxiliary, a common verb, or an -ed/-ing form."""
    for w in words:
        lw = w.lower()
        if lw in cfg["clause_words"]:
            return True
        if len(lw) > 4 and lw.endswith(cfg["clause_suffixes"]):
            return True
    return False


def _is_heading(text: str, words: list[str], cfg: dict[str, Any]) -> bool:
    """Short, no closing punctuation, and capitalised like a title (or numbered like a section)."""
    if len(words) > cfg["heading_max_words"] or text.rstrip().endswith(_END_PUNCT + ("?",)):
        return False
    if re.match(r"^\s*(\d+(\.\d+)*|[A-Z]\.|[ivxIVX]+\.)\s", text):
        return True
    content = [w for w in words if len(w) > 3]
    if not content:
        return True
    capitalised = sum(w[0].isupper() for w in content)
    # Title Case throughout is a heading even with a verb ("Lessons Learned From The Review");
    # mostly capitalised is one only when short or verbless.
    if capitalised >= 0.9 * len(content):
        return True
    return capitalised >= 0.6 * len(content) and not (len(words) > 6 and _has_clause(words, cfg))


def unit_quality(text: str, language: str | None = None) -> str:
    """Say whether a unit is worth a label, and if not, why.

    Args:
        text: One unit (a sentence or short passage).
        language: Its language as :func:`lo_signals.language.guess_language`
            says, if already known (computed here otherwise).

    Returns:
        ``"ok"``, or the first reason of :data:`QUALITY_REASONS` that applies:
        ``empty``; ``not_english`` (the models read English only);
        ``debris`` (mostly digits, symbols or table separators);
        ``too_short`` (fewer than ``min_words`` words);
        ``question`` (a question, such as counsel's in a transcript);
        ``procedural`` (courtesies, replies and cross-references such as
        "Thank you." or "See paragraph 4.2");
        ``heading`` (short, unpunctuated, title-like or verbless);
        ``fragment`` (fewer than ``fragment_verbless_max_words`` words and no
        verb-like word, or cut off mid-sentence on a word no sentence ends on).

    Example:
        >>> unit_quality("Review")
        'too_short'
        >>> unit_quality("The porters suggested moving the bed meeting and the site team adopted it.")
        'ok'
    """
    cfg = gate_config()
    stripped = text.strip()
    if not stripped:
        return "empty"
    lang = guess_language(stripped) if language is None else language
    if lang == "other":
        return "not_english"
    chars = [c for c in stripped if not c.isspace()]
    digits = sum(c.isdigit() or c in "|£$%€,/()[]-–—_=+*#" for c in chars)
    if chars and digits > cfg["max_digit_share"] * len(chars) or stripped.count("|") >= 2 or "\t" in stripped:
        return "debris"
    words = _WORD_RE.findall(stripped)
    if len(words) < cfg["min_words"]:
        return "too_short"
    low = stripped.lower()
    if stripped.endswith("?") or low.startswith(cfg["question_prefixes"]):
        return "question"
    if len(words) <= 8 and any(_starts(low, p) for p in cfg["procedural_starts"]):
        return "procedural"
    if _is_heading(stripped, words, cfg):
        return "heading"
    # Short, unpunctuated and verbless is a fragment; longer verbless runs are
    # kept, because staff comments are often terse lists ("Approachable
    # managers, teaching every week").
    ended = stripped.endswith(_END_PUNCT + ("?", "…"))
    if not ended and not _has_clause(words, cfg) and len(words) < cfg["fragment_verbless_max_words"]:
        return "fragment"
    last = words[-1].lower()
    # Cut mid-sentence (a page break, a table cell): long enough to matter, no
    # closing punctuation, and the last word is one a sentence cannot end on.
    if not ended and last in _DANGLING and len(words) <= cfg["fragment_max_words"]:
        return "fragment"
    return QUALITY_OK


# Words an English sentence does not end on: a unit ending on one was cut off.
_DANGLING = frozenset(
    """the a an to of and or but that which whose than because while whether our their his her its
    my your these those not no such into onto upon""".split()
)


def quality_flags(texts: Iterable[str], languages: Iterable[str | None] | None = None) -> list[str]:
    """:func:`unit_quality` for each text (``languages`` aligned with ``texts`` when known)."""
    texts = list(texts)
    langs = list(languages) if languages is not None else [None] * len(texts)
    return [unit_quality(t, lang) for t, lang in zip(texts, langs)]
