"""Which column of a table holds the free text, and how cell values are kept."""

from __future__ import annotations

import datetime as _dt
import decimal
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._document import ReadError

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
_WORDS_PREFIX = 2_000
_NUMERIC_RE = re.compile(r"^[-+£$€]?\d[\d,]*(?:\.\d+)?%?$")
_DATEISH_RE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")


def _name_tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return [t for t in re.split(r"[^0-9a-zA-Z]+", spaced.lower()) if t]


def _column_stats(cols: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> dict[str, tuple[float, float, float, int]]:
    """Per column: (share of values that are words, mean length, mean words, values present)."""
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
        # Words are counted in a prefix: splitting a 64 MB cell into words
        # would take hundreds of MB just to tell that it is prose.
        mean_words = sum(len(t[:_WORDS_PREFIX].split()) for t in texts) / len(texts) if texts else 0.0
        stats[c] = (frac, mean_len, mean_words, len(present))
    return stats


def _hinted(c: str) -> bool:
    toks = _name_tokens(c)
    return any(t in _HINT_WORDS for t in toks) and not any(t in _NEGATIVE_WORDS for t in toks)


def _wordy(stat: tuple[float, float, float, int]) -> bool:
    return stat[0] >= 0.5 and stat[2] >= 3 and stat[1] >= 15


def text_column_candidates(columns: Sequence[str], sample_rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """The columns that look like free text, the one :func:`detect_text_column` picks first.

    The others are its plausible rivals: columns of sentences (at least three
    words and 15 characters on average, a third as long as the pick or
    longer) from the same pool the pick came from (well-named columns when
    one is well named). A reader warns when there is more than one, since
    only the first is scored.

    Args:
        columns: Column names in file order.
        sample_rows: A sample of rows as mappings from column name to value.

    Returns:
        Column names, best first; empty when no column looks like free text.
    """
    cols = [str(c) for c in columns]
    rows = list(sample_rows)
    stats = _column_stats(cols, rows)
    hinted_cols = [c for c in cols if _hinted(c)]
    # Longest mean value first; ties keep file order, as max() did.
    good_hinted = sorted((c for c in hinted_cols if stats[c][0] >= 0.5), key=lambda c: -stats[c][1])
    wordy = sorted((c for c in cols if _wordy(stats[c])), key=lambda c: -stats[c][1])
    pool = good_hinted or wordy
    if pool:
        best = pool[0]
        return [best] + [c for c in pool[1:] if _wordy(stats[c]) and stats[c][1] >= stats[best][1] / 3]
    # A well-named column that is simply empty in the sample is still the
    # best guess; its empty rows are skipped later.
    unseen = [c for c in hinted_cols if stats[c][3] == 0]
    return unseen[:1]


def detect_text_column(columns: Sequence[str], sample_rows: Iterable[Mapping[str, Any]]) -> str:
    """Pick the column that holds the free text, when that is obvious.

    A column whose name suggests free text (comment, text, response, feedback,
    answer, ...) and whose sampled values are mostly words wins; among several,
    the one with the longest mean value. Otherwise the column of wordy values
    with the longest mean length is chosen. :func:`text_column_candidates`
    lists the rivals of the pick.

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
    candidates = text_column_candidates(cols, sample_rows)
    if candidates:
        return candidates[0]
    raise ReadError(
        "error",
        f"could not tell which column holds the free text (columns: {', '.join(cols)}); name it with --text-column",
    )


class ColumnChoice:
    """Watches the rows read under a detected text column and warns when another column looked as plausible.

    A table with two columns of sentences (``positive_comments`` and
    ``negative_comments``) used to have one scored and the other silently
    left out. The first rows under each detected column (a workbook's sheets
    may each have their own) are checked with :func:`text_column_candidates`;
    a rival gets one warning naming both columns and ``--text-column``.

    Args:
        warnings: The file's warnings (``files.csv``).
        sample: Rows checked per column.
    """

    def __init__(self, warnings: Any, sample: int = 200) -> None:
        self.warnings = warnings
        self.sample = sample
        self._rows: dict[str, list[Mapping[str, Any]]] = {}
        self._done: set[str] = set()

    def see(self, column: str, row: Mapping[str, Any]) -> None:
        """One row read, with the column its text came from."""
        if column in self._done:
            return
        rows = self._rows.setdefault(column, [])
        rows.append(row)
        if len(rows) >= self.sample:
            self._check(column)

    def finish(self) -> None:
        """Check the columns whose sample is shorter than ``sample`` rows (a short table)."""
        for column in list(self._rows):
            self._check(column)

    def _check(self, column: str) -> None:
        rows = self._rows.pop(column, [])
        self._done.add(column)
        names = list(dict.fromkeys(str(k) for r in rows for k in r))
        rivals = [c for c in text_column_candidates(names, rows) if c != column]
        if rivals:
            others = ", ".join(f"'{c}'" for c in rivals)
            self.warnings.add(
                f"more than one column looks like free text: scored '{column}'; not scored {others}. "
                f"Name the column to score with --text-column (one run per column to score several)"
            )


def resolve_column(requested: str, columns: Sequence[str]) -> str:
    if requested in columns:
        return requested
    folded = [c for c in columns if c.strip().lower() == requested.strip().lower()]
    if len(folded) == 1:
        return folded[0]
    raise ReadError("error", f"text column '{requested}' not found; available columns: {', '.join(map(str, columns))}")


def json_safe(value: Any) -> Any:
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
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        try:
            return json_safe(value.tolist())
        except Exception:
            pass
    try:
        if value != value:  # NaN-like (pd.NA, NaT) compare unequal to themselves
            return None
    except Exception:
        pass
    return str(value)


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    if isinstance(value, (int, float, decimal.Decimal)):
        return str(value)
    return ""

