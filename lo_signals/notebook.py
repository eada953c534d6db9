"""Notebook helpers: score a DataFrame column, show highlighted evidence, plot a profile.

Drawing and highlighting come from :mod:`lo_signals.charts`, shared with the report.
"""

from __future__ import annotations

from collections.abc import Sequence
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
        proba: ``(n, labels)`` probabilities.
        labels: Predicted label ids per text.
        aspirations: Predicted aspiration ids per text.
        label_ids: Column order of ``proba``.
        lexicon: The scoring model's own lexicon (``None``: the packaged one),
            which highlights the evidence so that it agrees with the model.
    """

    def __init__(
        self,
        texts: list[str],
        proba: np.ndarray,
        labels: list[list[str]],
        aspirations: list[list[str]],
        label_ids: Sequence[str],
        lexicon: Any = None,
    ) -> None:
        self.lexicon = lexicon
        self.texts = texts
        self.proba = proba
        self.labels = labels
        self.aspirations = aspirations
        self.label_ids = tuple(label_ids)

    def __len__(self) -> int:
        return len(self.texts)

    def to_frame(self):
        """The scores as a pandas DataFrame (text, one column per label, labels, aspirations)."""
        import pandas as pd

        df = pd.DataFrame(self.proba, columns=list(self.label_ids))
        df.insert(0, "text", self.texts)
        df["labels"] = [";".join(x) for x in self.labels]
        df["aspirations"] = [";".join(x) for x in self.aspirations]
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
    """Any list-like of text (list, tuple, numpy array, pandas Series) as plain ``str``; missing values as ``""``."""
    import pandas as pd

    if isinstance(values, (str, bytes)):
        raise TypeError("texts must be a list of strings, not a single string; wrap it: [text]")
    if not hasattr(values, "__iter__") or isinstance(values, dict):
        raise TypeError(f"texts must be a list of strings, got {type(values).__name__}")
    # str() turns numpy.str_ into plain str, which every scorer (and spaCy) accepts.
    return ["" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in values]


def score_texts(texts: Sequence[str], model: Any = None) -> ScoredTexts:
    """Score texts and return a :class:`ScoredTexts` (renders highlighted in Jupyter).

    Args:
        texts: A list, tuple, numpy array or pandas Series of strings; missing
            values score as empty text.
        model: Model name, directory or loaded model (default: the bundled default).

    Returns:
        The scored texts.
    """
    texts = _as_texts(texts)
    scorer = resolve(model)
    lp, _, labels, asps = scorer.predict_all(texts)
    return ScoredTexts(texts, lp, labels, asps, scorer.labels_, lexicon=getattr(scorer, "lexicon_data_", None))


def score_frame(df, text_col: str = "text", model: Any = None, batch_size: int = 5000, overwrite: bool = False):
    """Score a DataFrame column; return a copy with one probability column per label, ``labels`` and ``aspirations``.

    Missing values score as empty text (no labels). ``labels`` and
    ``aspirations`` are ``;``-joined ids, as in ``sentences.csv``.

    Args:
        df: A pandas DataFrame.
        text_col: The column holding the text.
        model: Model name, directory or loaded model (default: the bundled default).
        batch_size: Rows per model call.
        overwrite: Replace columns the frame already has with the scores'
            columns of the same name (otherwise that is an error).

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
    new_cols = [*scorer.labels_, "labels", "aspirations"]
    clash = [c for c in new_cols if c in df.columns]
    if clash and not overwrite:
        raise ValueError(
            f"score_frame would overwrite existing column(s) {clash}; rename them, or pass overwrite=True to replace them"
        )
    texts = _as_texts(df[text_col])
    probas, labels, asps = [], [], []
    for i in range(0, len(texts), batch_size):
        lp, _, batch_labels, batch_asps = scorer.predict_all(texts[i : i + batch_size])
        probas.append(lp)
        labels += batch_labels
        asps += batch_asps
    proba = np.vstack(probas) if probas else np.zeros((0, len(scorer.labels_)))
    out = df.copy()
    for j, label in enumerate(scorer.labels_):
        out[label] = proba[:, j]
    out["labels"] = [";".join(x) for x in labels]
    out["aspirations"] = [";".join(x) for x in asps]
    return out


def plot_profile(
    scored, by: str | Sequence[str] | None = None, ax: Any = None, n_boot: int = 1000, title: str | None = None, top: int | None = 10
):
    """Bar chart of evidence rates per 100 units (with 95% intervals) and the rhetoric rate per sign.

    Args:
        scored: A unit table (``score_frame``, ``score_documents`` output or
            ``sentences.csv`` read back).
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
