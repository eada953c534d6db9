"""Notebook helpers: score a DataFrame column, show highlighted evidence, plot a profile.

The unit of analysis of a table is decided once, for every path: a comment
(a cell) is cut into units (sentences, list items) by
:func:`lo_signals.segment.iter_text_units`, exactly as ``lo-signals score``
cuts a table cell, and each unit is scored. :func:`score_frame` then returns
either one row per comment, the units' results combined (any unit's label is
the comment's), or with ``units=True`` the unit table itself, as
``sentences.csv`` would hold it. Blank and missing comments have no units.

Drawing and highlighting come from :mod:`lo_signals.charts`, shared with the report.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from .charts import LABEL_COLOURS, draw_profile, highlight_html, legend_html
from .labels import LABELS
from .models import resolve

__all__ = ["score_frame", "score_texts", "ScoredTexts", "plot_profile", "highlight_html", "LABEL_COLOURS"]


class ScoredTexts:
    """Scored units that render as highlighted HTML in Jupyter.

    Attributes:
        texts: The input texts.
        proba: ``(n, labels)`` probabilities: per text, the highest of its units'.
        labels: Predicted label ids per text (those of any of its units).
        aspirations: Predicted aspiration ids per text (likewise).
        label_ids: Column order of ``proba``.
        lexicon: The scoring model's own lexicon (``None``: the packaged one),
            which highlights the evidence so that it agrees with the model.
        n_units: Units per text (0 for a blank or missing text).
        evidence: Per text, the texts of its units that carry a label.
    """

    def __init__(
        self,
        texts: list[str],
        proba: np.ndarray,
        labels: list[list[str]],
        aspirations: list[list[str]],
        label_ids: Sequence[str],
        lexicon: Any = None,
        n_units: Sequence[int] | None = None,
        evidence: Sequence[list[str]] | None = None,
    ) -> None:
        self.lexicon = lexicon
        self.n_units = list(n_units) if n_units is not None else [1 if t.strip() else 0 for t in texts]
        self.evidence = list(evidence) if evidence is not None else [[] for _ in texts]
        self.texts = texts
        self.proba = proba
        self.labels = labels
        self.aspirations = aspirations
        self.label_ids = tuple(label_ids)

    def __len__(self) -> int:
        return len(self.texts)

    def to_frame(self):
        """The scores as a pandas DataFrame (text, one column per label, labels, aspirations, n_units, evidence)."""
        import pandas as pd

        df = pd.DataFrame(self.proba, columns=list(self.label_ids))
        df.insert(0, "text", self.texts)
        df["labels"] = [";".join(x) for x in self.labels]
        df["aspirations"] = [";".join(x) for x in self.aspirations]
        df["n_units"] = self.n_units
        df["evidence"] = self.evidence
        return df

    def _repr_html_(self, limit: int = 200) -> str:
        rows = []
        for i, (t, lab, asp) in enumerate(zip(self.texts, self.labels, self.aspirations)):
            if i >= limit:
                rows.append(f"<li><em>… {len(self.texts) - limit} more</em></li>")
                break
            rows.append(f"<li style='margin:4px 0'>{highlight_html(t, lab, asp, lexicon=self.lexicon)}</li>")
        return f"<div class='lo-signals'><div>{legend_html()}</div><ol>{''.join(rows)}</ol></div>"

    def __repr__(self) -> str:
        return f"ScoredTexts({len(self)} texts, {sum(bool(x) for x in self.labels)} with evidence)"


def _as_texts(values: Any) -> list[str]:
    """Any list-like of text (list, tuple, numpy array, pandas Series) as plain ``str``; missing values as ``""``.

    A table cell may hold a number, which reads as its text, as it does in a
    CSV; missing values are those of :func:`lo_signals.scorers.base.is_missing`.
    """
    from .scorers.base import is_missing

    if isinstance(values, (str, bytes)):
        raise TypeError("texts must be a list of strings, not a single string; wrap it: [text]")
    if not hasattr(values, "__iter__") or isinstance(values, dict):
        raise TypeError(f"texts must be a list of strings, got {type(values).__name__}")
    # str() turns numpy.str_ into plain str, which every scorer (and spaCy) accepts.
    return ["" if is_missing(v) else str(v) for v in values]


def _scored_chunks(texts: list[str], scorer: Any, batch_size: int, limits: Any) -> Iterator[tuple[list[tuple[int, str, list[Any]]], Any]]:
    """Cut texts into units as a run does and score them, ``batch_size`` units per model call.

    Yields:
        ``(documents, scored)``: each document is ``(text position, doc_id,
        units)``, its units in ``scored``
        (:class:`lo_signals.pipeline.ScoredUnits`) in order after those of
        the documents before it in the chunk.
    """
    from .pipeline import score_units
    from .segment import iter_text_units

    docs: list[tuple[int, str, list[Any]]] = []
    pending = 0
    for pos, pieces in enumerate(iter_text_units(texts, limits=limits)):
        for k, (_, units) in enumerate(pieces):
            # As the table reader names a row's documents: "r<row>", then
            # "r<row>.2", ".3"... for the pieces of a cell over max_cell_chars.
            docs.append((pos, f"r{pos}" if k == 0 else f"r{pos}.{k + 1}", units))
            pending += len(units)
        if pending >= batch_size:
            yield docs, score_units(scorer, [u.text for _, _, units in docs for u in units])
            docs, pending = [], 0
    if docs:
        yield docs, score_units(scorer, [u.text for _, _, units in docs for u in units])


def _by_text(texts: list[str], scorer: Any, batch_size: int, limits: Any) -> tuple[np.ndarray, list[list[str]], list[list[str]], list[int], list[list[str]]]:
    """Per text: the highest probability of its units, its units' labels and aspirations, its unit count, its evidence units."""
    n = len(texts)
    proba = np.zeros((n, len(scorer.labels_)))
    found: list[set[str]] = [set() for _ in range(n)]
    aspired: list[set[str]] = [set() for _ in range(n)]
    n_units = [0] * n
    evidence: list[list[str]] = [[] for _ in range(n)]
    for docs, scored in _scored_chunks(texts, scorer, batch_size, limits):
        k = 0
        for pos, _, units in docs:
            if not units:
                continue
            proba[pos] = np.maximum(proba[pos], scored.proba[k : k + len(units)].max(axis=0))
            n_units[pos] += len(units)
            for u in units:
                found[pos].update(scored.labels[k])
                aspired[pos].update(scored.aspirations[k])
                if scored.labels[k]:
                    evidence[pos].append(u.text)
                k += 1
    # In the model's own order, as a unit's labels are.
    labels = [[x for x in scorer.labels_ if x in f] for f in found]
    asps = [[x for x in scorer.aspiration_labels_ if x in a] for a in aspired]
    return proba, labels, asps, n_units, evidence


def score_texts(texts: Sequence[str], model: Any = None, *, limits: Any = None) -> ScoredTexts:
    """Score texts and return a :class:`ScoredTexts` (renders highlighted in Jupyter).

    Each text is cut into units and scored as :func:`score_frame` scores a
    comment (one result per text: the highest probability of its units, the
    labels of any of them); ``model.predict`` instead scores each string
    whole, as one unit.

    Args:
        texts: A list, tuple, numpy array or pandas Series of strings; missing
            values are empty texts (no units, no labels).
        model: Model name, directory or loaded model (default: the bundled default).
        limits: Unit bounds (:class:`lo_signals.readers.Limits`), as ``lo-signals score`` takes them.

    Returns:
        The scored texts.
    """
    texts = _as_texts(texts)
    scorer = resolve(model)
    lp, labels, asps, n_units, evidence = _by_text(texts, scorer, 5000, limits)
    return ScoredTexts(
        texts, lp, labels, asps, scorer.labels_, lexicon=getattr(scorer, "lexicon_data_", None), n_units=n_units, evidence=evidence
    )


def score_frame(
    df,
    text_col: str = "text",
    model: Any = None,
    batch_size: int = 5000,
    overwrite: bool = False,
    *,
    units: bool = False,
    limits: Any = None,
):
    """Score a DataFrame's comments, cut into units exactly as ``lo-signals score`` cuts a table's cells.

    Each comment is split into units (sentences, list items;
    :func:`lo_signals.segment.iter_text_units`) and every unit is scored.
    Blank and missing comments have no units on any path.

    By default the result is one row per input row, aligned with ``df``: a
    copy of ``df`` with, per label, the highest probability of the
    comment's units; ``labels`` and ``aspirations`` (``;``-joined ids of any
    of its units: a sign may be evidence in one sentence and aspiration in
    another); ``n_units`` (0 for a blank comment, whose labels are empty);
    and ``evidence`` (the list of its unit texts that carry a label).
    :func:`lo_signals.aggregate` on this frame gives rates per 100 comments
    and leaves out rows with ``n_units`` 0.

    With ``units=True`` the result is the unit table, one row per unit, as
    ``sentences.csv`` holds it for a CSV of the same comments (same units,
    offsets, scores, ``language`` and ``truncated``, and the frame's other
    columns after them); ``doc_id`` is ``r<row position>`` (the run's
    ``doc_id`` ends with it). :func:`lo_signals.aggregate` on it gives rates
    per 100 units, clustered by comment, as on a run's table.

    Args:
        df: A pandas DataFrame.
        text_col: The column holding the text.
        model: Model name, directory or loaded model (default: the bundled default).
        batch_size: Units per model call.
        overwrite: Replace columns the frame already has with the scores'
            columns of the same name (otherwise that is an error; per-comment
            results only).
        units: Return the unit table instead of one row per comment.
        limits: Unit bounds (:class:`lo_signals.readers.Limits`:
            ``max_chars``, ``max_cell_chars``), as ``lo-signals score`` takes them.

    Returns:
        A new DataFrame; the input frame is not modified.

    Raises:
        KeyError: If ``text_col`` is not a column.
        ValueError: If the frame already has a column the scores would
            write and ``overwrite`` is false.
    """
    if text_col not in df.columns:
        raise KeyError(f"no column {text_col!r}; columns are {list(df.columns)}")
    scorer = resolve(model)
    texts = _as_texts(df[text_col])
    if units:
        return _unit_table(df, text_col, texts, scorer, batch_size, limits)
    new_cols = [*scorer.labels_, "labels", "aspirations", "n_units", "evidence"]
    clash = [c for c in new_cols if c in df.columns]
    if clash and not overwrite:
        raise ValueError(
            f"score_frame would overwrite existing column(s) {clash}; rename them, or pass overwrite=True to replace them"
        )
    proba, labels, asps, n_units, evidence = _by_text(texts, scorer, batch_size, limits)
    out = df.copy()
    for j, label in enumerate(scorer.labels_):
        out[label] = proba[:, j]
    out["labels"] = [";".join(x) for x in labels]
    out["aspirations"] = [";".join(x) for x in asps]
    out["n_units"] = n_units
    out["evidence"] = evidence
    return out


def _unit_table(df, text_col: str, texts: list[str], scorer: Any, batch_size: int, limits: Any):
    """The unit table of a frame's comments, with the columns and types of ``score_documents``."""
    import pandas as pd

    from .outdir import union_columns
    from .pipeline import SENTENCE_COLUMNS, _prefixed, unit_rows
    from .score import typed_units

    others = [c for c in df.columns if c != text_col]
    meta = df[others].to_dict("records") if others else [{} for _ in texts]
    label_names = tuple(scorer.labels_)
    rows: list[dict[str, Any]] = []
    for docs, scored in _scored_chunks(texts, scorer, batch_size, limits):
        k = 0
        for pos, doc_id, units in docs:
            doc = SimpleNamespace(doc_id=doc_id, path="", metadata=meta[pos])
            rows.extend(unit_rows(doc, units, label_names, scored, slice(k, k + len(units))))
            k += len(units)
    # The frame's other columns follow, renamed as a run renames them ("meta_text").
    columns = union_columns(SENTENCE_COLUMNS, [list(_prefixed(dict.fromkeys(others), SENTENCE_COLUMNS))])
    return typed_units(pd.DataFrame.from_records(rows, columns=columns))


def plot_profile(
    scored, by: str | Sequence[str] | None = None, ax: Any = None, n_boot: int = 1000, title: str | None = None, top: int | None = 10
):
    """Bar chart of evidence rates per 100 units (with 95% intervals) and the rhetoric rate per sign.

    Args:
        scored: A unit table (``score_frame(..., units=True)``,
            ``score_documents`` output or ``sentences.csv`` read back: rates
            per 100 units), or ``score_frame``'s one row per comment (rates
            per 100 comments; blank comments left out).
        by: Optional column(s) to compare groups side by side.
        ax: A matplotlib Axes to draw on (a new figure when ``None``).
        n_boot: Bootstrap resamples for the intervals.
        title: Plot title.
        top: With ``by``, draw only this many groups, the largest by units;
            the title says how many smaller groups (and units) were left out.
            ``None`` draws every group. Compare many groups with
            :func:`lo_signals.aggregate`, which keeps them all.

    Returns:
        The matplotlib Axes.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is a core dependency
        raise ImportError("plot_profile needs matplotlib: pip install matplotlib") from exc
    from .rollup import aggregate, group_keys

    if top is not None and top < 1:
        raise ValueError(f"top must be at least 1 (or None for every group), got {top}")
    agg = aggregate(scored, by=by, n_boot=n_boot)
    note = ""
    if group_keys(by) and top is not None and len(agg) > top:
        # 92 directorates made a chart thousands of pixels tall with a 92-entry
        # legend; past ten groups the colours repeat too. Keep the largest, in
        # their usual order, and say what was left out.
        kept = agg.nlargest(top, "units", keep="first").index
        left = agg.drop(index=kept)
        note = f"{top} largest of {len(agg):,} groups; {len(left):,} smaller ({int(left['units'].sum()):,} units) not shown"
        agg = agg.loc[sorted(kept)].reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.9 + 0.55 * len(LABELS) * max(1, len(agg) if group_keys(by) else 1) ** 0.5))
    draw_profile(agg, by=by, ax=ax, title=title)
    if note:
        ax.set_title(f"{ax.get_title()}\n{note}", fontsize="medium")
    return ax
