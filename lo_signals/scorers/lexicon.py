"""Rule backend: spaCy PhraseMatcher patterns from a versioned data file, with negation scope.

The patterns live in ``lo_signals/data/lexicon.json`` (see its ``description``
for the pattern syntax). Matching runs on ``spacy.blank("en")`` tokens, so no
model download is ever needed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..labels import LABELS, SIGNS, label_matrix
from .base import BaseScorer, check_texts, tune_thresholds

__all__ = [
    "Evidence",
    "Lexicon",
    "LexiconData",
    "LexiconScorer",
    "LexiconUser",
    "MAX_PIECE_CHARS",
    "NEGATION_WINDOW",
    "NEGATION_WORD_WINDOW",
    "load_lexicon",
    "long_text_warning",
    "packaged_lexicon_path",
    "split_long_text",
]

# The negation scope, in one place. Both values are part of the shipped default
# model: it was fitted with both, and changing either changes its predictions
# (checked on the written dev and test splits: window 5 for the word marking
# changed 11 of 2,798 units' labels, window 4 for lexicon hits 2), so they can
# only become one value when the default is retrained.
#: Lexicon hits: a hit starting at most this many tokens after a negation cue is
#: negated. A lexicon file may set its own (``negation.window``); this is the
#: value when it does not, and the one the packaged file records.
NEGATION_WINDOW = 5
#: Word features of the hybrid linear model: the words after a negation cue that
#: get a ``neg_`` prefix (:func:`lo_signals.scorers.linear.mark_negation`).
NEGATION_WORD_WINDOW = 4


@dataclass(frozen=True)
class Evidence:
    """One pattern hit in a text.

    Attributes:
        label: The label the pattern is evidence for (after negation is applied).
        start: Character offset where the matched span starts.
        end: Character offset where it ends (exclusive).
        text: The matched text.
        pattern: Id of the pattern that fired.
        negated: True when the hit sits in a negation scope.
        aspiration: True when the unit reads as rhetoric (an aim, plan or
            recommendation), so the hit feeds ``aspirations`` rather than ``labels``.
        weight: The pattern's weight from the data file.
    """

    label: str
    start: int
    end: int
    text: str
    pattern: str
    negated: bool = False
    aspiration: bool = False
    weight: float = 1.0


@dataclass(frozen=True)
class _Variant:
    """One concrete reading of a pattern: segments of fixed phrases joined by gaps."""

    pattern: str
    segments: tuple[str, ...]  # keys of segment phrase sets
    gaps: tuple[tuple[int, int], ...]  # (min, max) tokens between consecutive segments


def parse_pattern(pattern: str) -> list[list[Any]]:
    """Split a pattern string into items: alternative lists, or gap markers.

    Args:
        pattern: A pattern string of the data file.

    Returns:
        A list whose items are ``("alts", [str, ...], optional)`` or ``("gap", min, max)``.
    """
    words = pattern.split()
    if not words:
        raise ValueError("empty lexicon pattern")
    items: list[list[Any]] = []
    for word in words:
        if word in ("_", "_?"):
            lo = 1 if word == "_" else 0
            if items and items[-1][0] == "gap":
                items[-1][1] += lo
                items[-1][2] += 1
            else:
                items.append(["gap", lo, 1])
            continue
        optional = word.endswith("?") and len(word) > 1
        core = word[:-1] if optional else word
        alts = [a for a in core.split("|") if a]
        if not alts:
            raise ValueError(f"bad token {word!r} in lexicon pattern {pattern!r}")
        items.append(["alts", alts, optional])
    if items[0][0] == "gap" or items[-1][0] == "gap":
        raise ValueError(f"lexicon pattern {pattern!r} may not start or end with a gap")
    return items


def expand_segments(items: list[list[Any]], max_phrases: int = 20000) -> list[tuple[list[list[str]], list[tuple[int, int]]]]:
    """Turn parsed items into variants: lists of segment phrase lists plus gaps.

    Optional tokens are expanded into the readings with and without them.

    Returns:
        ``[(segments, gaps)]`` where each segment is a list of phrases (strings)
        and ``gaps[i]`` is the allowed gap between segment ``i`` and ``i + 1``.
    """
    # Group consecutive token items into segments separated by gaps.
    groups: list[list[list[Any]]] = [[]]
    gaps: list[tuple[int, int]] = []
    for item in items:
        if item[0] == "gap":
            groups.append([])
            gaps.append((item[1], item[2]))
        else:
            groups[-1].append(item)
    seg_phrases: list[list[str]] = []
    for group in groups:
        phrases = [""]
        for _, alts, optional in group:
            options = alts + ([""] if optional else [])
            phrases = [f"{p} {o}".strip() for p in phrases for o in options]
            if len(phrases) > max_phrases:
                raise ValueError("lexicon pattern expands to too many phrases")
        phrases = [p for p in phrases if p]
        if not phrases:
            raise ValueError("a lexicon pattern segment is entirely optional")
        seg_phrases.append(sorted(set(phrases)))
    return [(seg_phrases, gaps)]


#: Longest piece of text handed to spaCy at once. spaCy refuses texts over
#: ``nlp.max_length`` (1,000,000 characters, error E088); longer units are
#: matched piece by piece, and :meth:`LexiconUser.text_warnings` says so.
MAX_PIECE_CHARS = 100_000


def split_long_text(text: str, limit: int = MAX_PIECE_CHARS) -> list[tuple[int, str]]:
    """Cut a text into ``(offset, piece)`` pieces of at most ``limit`` characters, at whitespace where possible.

    Short texts come back whole (one piece at offset 0). A pattern that spans
    a cut is not found, which is why callers warn about such texts.
    """
    if len(text) <= limit:
        return [(0, text)]
    pieces, start = [], 0
    while start < len(text):
        end = min(start + limit, len(text))
        if end < len(text):
            cut = max(text.rfind(" ", start + limit // 2, end), text.rfind("\n", start + limit // 2, end))
            end = cut + 1 if cut > start else end
        pieces.append((start, text[start:end]))
        start = end
    return pieces


def long_text_warning(text: str, limit: int = MAX_PIECE_CHARS) -> str | None:
    """The warning for one text the lexicon matches in pieces, or ``None`` when it fits in one."""
    if len(text) <= limit:
        return None
    n = len(split_long_text(text, limit))
    return f"unit of {len(text):,} characters matched in {n} pieces of at most {limit:,} (a pattern across a cut is missed)"


def packaged_lexicon_path() -> Path:
    """The lexicon data file shipped in the package (``lo_signals/data/lexicon.json``)."""
    return Path(str(resources.files("lo_signals").joinpath("data/lexicon.json")))


def _parse_lexicon(raw: bytes, sha256: str) -> dict[str, Any]:
    # A model directory's lexicon may come from anyone: cap and depth as for meta.json.
    if len(raw) > 8 * 2**20:
        raise ValueError(f"lexicon of {len(raw):,} bytes is over the 8 MiB cap: refusing to parse it")
    try:
        data = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ValueError("lexicon is nested too deeply to parse: refusing it") from None
    if not isinstance(data, dict):
        raise ValueError("lexicon is not a JSON object")
    unknown = set(data.get("labels", {})) - set(LABELS)
    if unknown:
        raise ValueError(f"lexicon names unknown labels: {sorted(unknown)}")
    data["sha256"] = sha256
    return data


@dataclass(frozen=True)
class LexiconData:
    """The exact bytes of a lexicon file and their sha256: what a model is fitted with.

    A scorer that uses a lexicon keeps one of these from ``fit`` on, saves the
    bytes into its model directory and, when loaded, checks them against the
    sha256 recorded in ``meta.json``; so editing a lexicon file never changes
    what an already saved model predicts.

    Attributes:
        raw: The file's bytes.
        sha256: Their sha256 hex digest.
    """

    raw: bytes
    sha256: str

    @classmethod
    def read(cls, path: str | Path | None = None) -> "LexiconData":
        """Read a lexicon file (the packaged one when ``path`` is ``None``)."""
        raw = (packaged_lexicon_path() if path is None else Path(path)).read_bytes()
        return cls(raw, hashlib.sha256(raw).hexdigest())

    @classmethod
    def from_model_dir(cls, path: Path, meta: dict[str, Any]) -> "LexiconData":
        """The lexicon saved in a model directory, checked against ``meta.json``.

        Directories written before models carried their own copy (no
        ``format_version`` in ``meta.json``) have no ``lexicon.json``; they are
        served by the packaged lexicon only while it is byte-identical to the
        one they recorded. Newer directories must hold their own copy.

        Raises:
            ValueError: If the file's sha256 differs from the recorded one.
        """
        expected = (meta.get("lexicon") or {}).get("sha256")
        own = Path(path) / "lexicon.json"
        if not own.is_file() and meta.get("format_version", 1) >= 2:
            raise ValueError(f"{path} lacks its lexicon.json (the model was saved with one)")
        data = cls.read(own if own.is_file() else None)
        where = own if own.is_file() else packaged_lexicon_path()
        if not expected:
            raise ValueError(f"{path}/meta.json records no lexicon sha256, so its lexicon cannot be checked")
        if data.sha256 != expected:
            raise ValueError(
                f"{where} has sha256 {data.sha256[:12]}…, but the model in {path} was fitted with {expected[:12]}…: "
                "the lexicon changed after the model was saved; restore it or retrain the model"
            )
        return data

    def parsed(self) -> dict[str, Any]:
        """The parsed lexicon, with ``sha256`` added."""
        return _parse_lexicon(self.raw, self.sha256)

    def compile(self) -> "Lexicon":
        """The compiled :class:`Lexicon` (built once per process for each distinct file)."""
        return _compiled(self.sha256, self.raw)


def load_lexicon(path: str | Path | None = None) -> dict[str, Any]:
    """Read a lexicon data file (the packaged one by default).

    Args:
        path: A lexicon JSON file; ``None`` for the packaged ``data/lexicon.json``.

    Returns:
        The parsed lexicon, with ``sha256`` of its bytes added.
    """
    return LexiconData.read(path).parsed()


class Lexicon:
    """Compiled patterns plus negation and aspiration cues.

    Args:
        data: A parsed lexicon (from :func:`load_lexicon`).
    """

    def __init__(self, data: dict[str, Any]) -> None:
        import spacy
        from spacy.matcher import PhraseMatcher

        self.data = data
        self.version = data.get("version", "unknown")
        self.nlp = spacy.blank("en")
        # Every pattern is expanded into fixed phrase segments joined by gaps; one
        # PhraseMatcher (hash lookups over lower-cased tokens) finds all segments in
        # a single pass, which is several times faster than a token Matcher with
        # set predicates and wildcards.
        self.matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.patterns: dict[str, dict[str, Any]] = {}
        self.variants: list[_Variant] = []
        segment_keys: dict[tuple[str, ...], str] = {}
        for label, entries in data["labels"].items():
            for entry in entries:
                pid = entry["id"]
                if pid in self.patterns:
                    raise ValueError(f"duplicate lexicon pattern id {pid!r}")
                self.patterns[pid] = {**entry, "label": label}
                for segs, gaps in expand_segments(parse_pattern(entry["pattern"])):
                    keys = []
                    for phrases in segs:
                        sig = tuple(phrases)
                        if sig not in segment_keys:
                            key = f"seg{len(segment_keys)}"
                            segment_keys[sig] = key
                            self.matcher.add(key, list(self.nlp.tokenizer.pipe(phrases)))
                        keys.append(segment_keys[sig])
                    self.variants.append(_Variant(pid, tuple(keys), tuple(gaps)))
        neg = data.get("negation", {})
        self.neg_cues = {c.lower() for c in neg.get("cues", [])}
        self.neg_phrases = [tuple(p.lower().split()) for p in neg.get("phrase_cues", [])]
        self.neg_phrase_index: dict[str, list[tuple[str, ...]]] = {}
        for phrase in self.neg_phrases:
            self.neg_phrase_index.setdefault(phrase[0], []).append(phrase)
        self.neg_window = int(neg.get("window", NEGATION_WINDOW))
        self.clause_breaks = {c.lower() for c in neg.get("clause_breaks", [])}
        asp = data.get("aspiration", {})
        self.asp_cues = {c.lower() for c in asp.get("cues", [])}
        self.evidence_cues = {c.lower() for c in asp.get("evidence_cues", [])}
        self.pattern_ids = tuple(self.patterns)

    @classmethod
    def default(cls) -> "Lexicon":
        """The packaged lexicon as the file is now, compiled once per process for each version of it."""
        return LexiconData.read().compile()

    # -- matching -------------------------------------------------------------

    def _negation_positions(self, lowers: list[str]) -> list[int]:
        positions = [i for i, w in enumerate(lowers) if w in self.neg_cues]
        for i, w in enumerate(lowers):
            for phrase in self.neg_phrase_index.get(w, ()):
                k = len(phrase)
                if tuple(lowers[i : i + k]) == phrase:
                    positions.append(i + k - 1)
        return sorted(set(positions))

    def _is_negated(self, start: int, lowers: list[str], neg_positions: list[int], blame_starts: set[int]) -> bool:
        for pos in reversed(neg_positions):
            if pos >= start:
                continue
            if start - pos > self.neg_window:
                return False
            between = lowers[pos + 1 : start]
            if any(w in self.clause_breaks for w in between):
                return False
            # A negated fear/blame marker between the cue and this hit flips it back:
            # "nobody is afraid to speak up" is open dialogue, not its absence.
            if any(pos < b < start for b in blame_starts):
                return False
            return True
        return False

    def is_aspirational(self, lowers: Sequence[str]) -> bool:
        """True when a unit reads as an aim, plan or recommendation, not a report."""
        has_asp = any(w in self.asp_cues for w in lowers)
        has_evd = any(w in self.evidence_cues for w in lowers) or any(any(ch.isdigit() for ch in w) for w in lowers)
        return has_asp and not has_evd

    def match_doc(self, doc, lowers: list[str] | None = None) -> list[Evidence]:
        """All evidence hits in one spaCy ``Doc``, longest match per pattern and position."""
        if lowers is None:
            lowers = [t.lower_ for t in doc]
        neg_positions = self._negation_positions(lowers)
        aspirational = self.is_aspirational(lowers)
        found: dict[str, list[tuple[int, int]]] = {}
        for match_id, start, end in self.matcher(doc):
            found.setdefault(self.nlp.vocab.strings[match_id], []).append((start, end))
        # Keep the longest span for each pattern starting at a token.
        best: dict[tuple[str, int], tuple[str, int, int]] = {}
        for variant in self.variants:
            first = found.get(variant.segments[0])
            if not first:
                continue
            spans = first
            for key, (lo, hi) in zip(variant.segments[1:], variant.gaps):
                nxt = found.get(key)
                if not nxt:
                    spans = []
                    break
                spans = [(s0, e1) for s0, e0 in spans for s1, e1 in nxt if e0 + lo <= s1 <= e0 + hi]
                if not spans:
                    break
            for start, end in spans:
                key2 = (variant.pattern, start)
                if key2 not in best or end > best[key2][2]:
                    best[key2] = (variant.pattern, start, end)
        blame_starts = {
            s for (pid, s), _ in best.items() if self.patterns[pid].get("negated_to") is not None
        }
        hits = []
        for pid, start, end in sorted(best.values(), key=lambda x: (x[1], x[2], x[0])):
            entry = self.patterns[pid]
            negated = self._is_negated(start, lowers, neg_positions, blame_starts)
            label = entry["label"]
            if negated and entry.get("negated_to"):
                label = entry["negated_to"]
            span = doc[start:end]
            hits.append(
                Evidence(
                    label=label,
                    start=span.start_char,
                    end=span.end_char,
                    text=span.text,
                    pattern=pid,
                    negated=negated,
                    aspiration=aspirational and label in SIGNS,
                    weight=float(entry.get("weight", 1.0)),
                )
            )
        return hits

    def _docs(self, texts: Iterable[str], batch_size: int = 256):
        """``(row, char offset, Doc)`` for each piece of each text (see :func:`split_long_text`)."""
        pieces = [(row, off, piece) for row, text in enumerate(texts) for off, piece in split_long_text(text)]
        docs = self.nlp.pipe((p for _, _, p in pieces), batch_size=batch_size)
        for (row, off, _), doc in zip(pieces, docs):
            yield row, off, doc

    def match(self, texts: Iterable[str], batch_size: int = 256) -> list[list[Evidence]]:
        """Evidence hits for each text, with character offsets into that text."""
        texts = list(texts)
        out: list[list[Evidence]] = [[] for _ in texts]
        for row, off, doc in self._docs(texts, batch_size):
            out[row] += [replace(h, start=h.start + off, end=h.end + off) if off else h for h in self.match_doc(doc)]
        return out

    # -- features -------------------------------------------------------------

    def feature_names(self) -> list[str]:
        """Names of the columns :meth:`features` returns."""
        names = []
        for label in LABELS:
            names += [f"{label}:evidence", f"{label}:negated", f"{label}:aspiration"]
        names += ["cue:aspiration", "cue:evidence", "cue:negation", "cue:first_person"]
        return names

    def features(self, texts: Sequence[str]) -> np.ndarray:
        """Dense lexicon features: weighted hits per label, split by negation and rhetoric.

        Args:
            texts: Unit texts.

        Returns:
            ``(n, len(feature_names()))`` float32 array.
        """
        out = np.zeros((len(texts), len(self.feature_names())), dtype=np.float32)
        index = {label: 3 * i for i, label in enumerate(LABELS)}
        base = 3 * len(LABELS)
        for row, _, doc in self._docs(texts):
            lowers = [t.lower_ for t in doc]
            for hit in self.match_doc(doc, lowers):
                col = index[hit.label]
                if hit.negated and hit.label == self.patterns[hit.pattern]["label"]:
                    out[row, col + 1] += hit.weight
                elif hit.aspiration:
                    out[row, col + 2] += hit.weight
                else:
                    out[row, col] += hit.weight
            # A long text comes in pieces: a cue anywhere in it counts (max, not sum).
            cues = (
                any(w in self.asp_cues for w in lowers),
                any(w in self.evidence_cues for w in lowers),
                bool(self._negation_positions(lowers)),
                any(w in ("i", "we", "my", "our", "me", "us") for w in lowers),
            )
            out[row, base : base + 4] = np.maximum(out[row, base : base + 4], np.asarray(cues, dtype=np.float32))
        return out


# Keyed by content hash, so an edited file is compiled afresh rather than served stale.
@lru_cache(maxsize=8)
def _compiled(sha256: str, raw: bytes) -> Lexicon:
    return Lexicon(_parse_lexicon(raw, sha256))


class LexiconUser:
    """Mixin for scorers that read a lexicon: ``lexicon_path`` in, ``lexicon_data_`` fitted.

    ``lexicon_data_`` (a :class:`LexiconData`) is set by ``fit`` and by loading;
    :meth:`~lo_signals.scorers.base.BaseScorer.save` copies its bytes into the
    model directory.
    """

    lexicon_path: str | None

    def _read_lexicon(self) -> LexiconData:
        self.lexicon_data_ = LexiconData.read(self.lexicon_path)
        return self.lexicon_data_

    def text_warnings(self, texts: Sequence[str]) -> list[str | None]:
        """Per text, what scoring it will not do in full (``None`` when nothing): see :func:`long_text_warning`."""
        return [long_text_warning(t) for t in check_texts(texts)]

    @property
    def lexicon(self) -> Lexicon:
        """The compiled lexicon this scorer uses (the fitted one once fitted or loaded)."""
        data = getattr(self, "lexicon_data_", None)
        return (data or LexiconData.read(self.lexicon_path)).compile()


class LexiconScorer(LexiconUser, BaseScorer):
    """Rules only: weighted pattern hits, squashed to a score in [0, 1).

    ``score = 1 - exp(-sum of weights)`` per label; hits in a negation scope do
    not count for their own label (a negated fear or blame marker counts for
    ``open_dialogue``), and hits in a unit that reads as rhetoric count for
    ``aspirations`` instead of ``labels``. ``fit`` only tunes the per-label
    thresholds (on the data it is given).

    Args:
        lexicon_path: A lexicon JSON file; ``None`` for the packaged one.
    """

    backend = "lexicon"

    def __init__(self, lexicon_path: str | None = None) -> None:
        self.lexicon_path = lexicon_path

    def _scores(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        feats = self.lexicon.features(texts)
        evidence = feats[:, 0 : 3 * len(LABELS) : 3]
        rhetoric = feats[:, 2 : 3 * len(SIGNS) : 3]
        return 1.0 - np.exp(-evidence.astype(np.float64)), 1.0 - np.exp(-rhetoric.astype(np.float64))

    def fit(self, X: Sequence[str], y: np.ndarray | None = None, *, aspirations: np.ndarray | None = None) -> "LexiconScorer":
        """Tune per-label thresholds on labelled units (or keep 0.5 without labels).

        Args:
            X: Unit texts.
            y: ``(n, 5)`` gold labels (0/1 matrix or lists of ids), optional.
            aspirations: ``(n, 4)`` gold aspirations (matrix or lists of ids), optional.

        Returns:
            self
        """
        texts = check_texts(X)
        self._read_lexicon()
        self.labels_ = LABELS
        self.aspiration_labels_ = SIGNS
        self.thresholds_ = np.full(len(LABELS), 0.5)
        self.aspiration_thresholds_ = np.full(len(SIGNS), 0.5)
        if y is not None or aspirations is not None:
            lp, ap = self._scores(texts)
            if y is not None:
                self.thresholds_ = tune_thresholds(label_matrix(y, LABELS), lp)
            if aspirations is not None:
                self.aspiration_thresholds_ = tune_thresholds(label_matrix(aspirations, SIGNS), ap)
        return self

    def _proba(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return self._scores(texts)

    @classmethod
    def _from_dir(cls, path: Path, meta: dict[str, Any], **options: Any) -> "LexiconScorer":
        scorer = cls()
        scorer.lexicon_data_ = LexiconData.from_model_dir(path, meta)
        scorer.labels_ = tuple(meta["labels"])
        scorer.aspiration_labels_ = tuple(meta["aspiration_labels"])
        scorer.thresholds_ = np.asarray(meta["thresholds"], dtype=float)
        scorer.aspiration_thresholds_ = np.asarray(meta["aspiration_thresholds"], dtype=float)
        return scorer

    def evidence(self, texts: Sequence[str]) -> list[list[Evidence]]:
        """Pattern hits with character offsets for each text (for highlighting)."""
        return self.lexicon.match(check_texts(texts))
