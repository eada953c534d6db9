"""A cheap, offline check of whether a unit is written in English.

The models are trained on English only, so a unit in another language gets no
labels; without a flag that silence reads as "no signs found". This check
needs no model and no download: it counts common function words. English
prose is about half function words ("the", "and", "were", "which"); a French,
German, Spanish, Italian, Portuguese, Dutch or Welsh sentence has its own,
and text in a non-Latin script has none of them.

Terse English ("Great team, flexible hours") has few function words of any
language, so it is called undetermined rather than foreign: the check only
says "not English" when there is positive evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["guess_language", "is_english", "english_flags"]

# High-frequency English function words that are not also common words in
# the other languages below ("in", "is", "a", "die", "on", "me" are left out).
_ENGLISH = frozenset(
    """the and of to was were that it for with we they this are have has had not be been by from
    our you your but which their there would could should will about when what who his her them
    very more all can if or than then also because after before some any how why where only just
    being its these those such other over while into my she wasn't don't didn't isn't can't
    i'm it's we're they're i've""".split()
)
# The same for the other languages most often met in UK and European public
# sector text; words shared with English are left out.
_FOREIGN = frozenset(
    # French
    """le la les des du et est une que qui dans pour pas sur avec ce cette sont nous vous ils elle
    mais été très au aux leur ses c'est n'est j'ai"""
    # German
    """ der das und ist nicht ein eine mit sich auf für zu dem den wir sie auch wird werden sind
    wurde bei oder aber noch nach ich"""
    # Spanish
    """ el los las del y es por con una para muy pero está se lo al su sus fue han hay más como
    estoy"""
    # Italian
    """ il della che di sono gli nel alla questo molto anche essere ha"""
    # Portuguese
    """ os da não uma com muito mas isso foi são nós"""
    # Dutch
    """ het een van de en niet ik zijn wij ook maar voor met"""
    # Welsh
    """ yr ac mae yn ei wedi ar gyda ddim fy eich nhw roedd bod hefyd""".split()
)
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_ET_AL_RE = re.compile(r"\bet al\b")
_MIN_WORDS = 4


def _is_latin(ch: str) -> bool:
    # ASCII letters plus Latin-1 Supplement and Latin Extended-A/B.
    return ch.isascii() or "\u00c0" <= ch <= "\u024f"


def guess_language(text: str) -> str:
    """Say whether ``text`` is English, another language, or too short to tell.

    Args:
        text: A unit, comment or paragraph.

    Returns:
        ``"en"`` when English function words are found and outnumber other
        languages', ``"other"`` when the text is mostly in a non-Latin script
        or has more function words of another language than of English, and
        ``""`` when there is too little evidence either way.

    Example:
        >>> guess_language("The staff were thanked for raising it.")
        'en'
        >>> guess_language("Le personnel a été remercié pour son signalement.")
        'other'
        >>> guess_language("Great team, flexible hours")
        ''
    """
    letters = [c for c in text[:5000] if c.isalpha()]
    if len(letters) >= 8 and sum(not _is_latin(c) for c in letters) > 0.5 * len(letters):
        return "other"
    # "et al." cites English-language papers; it is not French.
    sample = _ET_AL_RE.sub(" ", text[:5000].lower())
    words = [w.replace("’", "'") for w in _WORD_RE.findall(sample)]
    if len(words) < _MIN_WORDS:
        return ""
    english = sum(w in _ENGLISH for w in words)
    foreign = sum(w in _FOREIGN for w in words)
    if foreign >= 2 and foreign > english:
        return "other"
    return "en" if english else ""


def is_english(text: str) -> bool:
    """False only when ``text`` is positively not English (see :func:`guess_language`).

    Short or terse text counts as English, so that a flag built on this marks
    only units the models cannot be trusted on.
    """
    return guess_language(text) != "other"


def english_flags(texts: Iterable[str]) -> list[bool]:
    """:func:`is_english` for each text, e.g. a ``lang_ok`` column of a unit table."""
    return [is_english(t) for t in texts]
