"""Notebook helpers: score a DataFrame column, show highlighted evidence, plot a profile."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np

from .labels import LABELS, SIGNS, TAXONOMY

__all__ = ["score_frame", "score_texts", "ScoredTexts", "plot_profile", "highlight_html", "LABEL_COLOURS"]

#: One colour per label (colour-blind-safe Okabe-Ito palette), used in HTML and plots.
LABEL_COLOURS = {
    "community_of_learners": "#0072B2",
    "dispersed_leadership": "#009E73",
    "open_dialogue": "#E69F00",
    "ongoing_transformation": "#CC79A7",
    "blame_defensiveness": "#D55E00",
}
_NAMES = {t.id: t.name for t in TAXONOMY}


def _resolve_model(model: Any):
    from .models import load

    return load(model) if model is None or isinstance(model, (str, bytes)) or hasattr(model, "__fspath__") else model


def highlight_html(text: str, labels: Sequence[str], aspirations: Sequence[str] = ()) -> str:
    """HTML for one unit: lexicon evidence spans of its predicted labels highlighted, label chips after.

    Only spans of labels the model predicted are marked, so the highlighting
    never contradicts the prediction.
    """
    from .scorers.lexicon import Lexicon

    hits = [h for h in Lexicon.default().match([text])[0] if h.label in labels and not h.aspiration]
    # Non-overlapping spans, earliest and longest first.
    chosen, last_end = [], -1
    for h in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if h.start >= last_end:
            chosen.append(h)
            last_end = h.end
    parts, pos = [], 0
    for h in chosen:
        colour = LABEL_COLOURS.get(h.label, "#999")
        parts.append(html.escape(text[pos : h.start]))
        parts.append(
            f'<mark class="ev" title="{html.escape(_NAMES.get(h.label, h.label))} ({html.escape(h.pattern)})" '
            f'style="background:{colour}33;border-bottom:2px solid {colour}">{html.escape(text[h.start:h.end])}</mark>'
        )
        pos = h.end
    parts.append(html.escape(text[pos:]))
    chips = "".join(
        f'<span class="chip" style="background:{LABEL_COLOURS.get(l, "#999")};color:#fff;border-radius:8px;padding:0 6px;margin-left:4px;font-size:0.8em">{html.escape(_NAMES.get(l, l))}</span>'
        for l in labels
    )
    chips += "".join(
        f'<span class="chip asp" style="border:1px dashed {LABEL_COLOURS.get(a, "#999")};border-radius:8px;padding:0 6px;margin-left:4px;font-size:0.8em">aim: {html.escape(_NAMES.get(a, a))}</span>'
        for a in aspirations
    )
    return "".join(parts) + chips


class ScoredTexts:
    """Scored units that render as highlighted HTML in Jupyter.

    Attributes:
        texts: The input texts.
        proba: ``(n, labels)`` probabilities.
        labels: Predicted label ids per text.
        aspirations: Predicted aspiration ids per text.
        label_ids: Column order of ``proba``.
    """

    def __init__(self, texts: list[str], proba: np.ndarray, labels: list[list[str]], aspirations: list[list[str]], label_ids: Sequence[str]) -> None:
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
            rows.append(f"<li style='margin:4px 0'>{highlight_html(t, lab, asp)}</li>")
        legend = " ".join(
            f'<span style="background:{c};color:#fff;border-radius:8px;padding:0 6px;font-size:0.8em">{html.escape(_NAMES[l])}</span>'
            for l, c in LABEL_COLOURS.items()
        )
        return f"<div class='lo-signals'><div>{legend}</div><ol>{''.join(rows)}</ol></div>"

    def __repr__(self) -> str:
        return f"ScoredTexts({len(self)} texts, {sum(bool(x) for x in self.labels)} with evidence)"


def score_texts(texts: Sequence[str], model: Any = None) -> ScoredTexts:
    """Score texts and return a :class:`ScoredTexts` (renders highlighted in Jupyter).

    Args:
        texts: List of strings.
        model: Model name, directory or loaded model (default: the bundled default).
    """
    from .scorers.base import check_texts

    texts = check_texts(texts)
    scorer = _resolve_model(model)
    lp, _, labels, asps = scorer.predict_all(texts)
    return ScoredTexts(texts, lp, labels, asps, scorer.labels_)


def score_frame(df, text_col: str = "text", model: Any = None, batch_size: int = 5000):
    """Score a DataFrame column; return a copy with one probability column per label, ``labels`` and ``aspirations``.

    Missing values score as empty text (no labels). ``labels`` and
    ``aspirations`` are ``;``-joined ids, as in ``sentences.csv``.

    Args:
        df: A pandas DataFrame.
        text_col: The column holding the text.
        model: Model name, directory or loaded model (default: the bundled default).
        batch_size: Rows per model call.

    Returns:
        A new DataFrame.
    """
    if text_col not in df.columns:
        raise KeyError(f"no column {text_col!r}; columns are {list(df.columns)}")
    scorer = _resolve_model(model)
    import pandas as pd

    texts = ["" if pd.isna(v) else str(v) for v in df[text_col]]
    out = df.copy()
    probas, labels, asps = [], [], []
    for i in range(0, len(texts), batch_size):
        lp, _, batch_labels, batch_asps = scorer.predict_all(texts[i : i + batch_size])
        probas.append(lp)
        labels += batch_labels
        asps += batch_asps
    proba = np.vstack(probas) if probas else np.zeros((0, len(scorer.labels_)))
    for j, label in enumerate(scorer.labels_):
        out[label] = proba[:, j]
    out["labels"] = [";".join(x) for x in labels]
    out["aspirations"] = [";".join(x) for x in asps]
    return out


def plot_profile(scored, by: str | None = None, ax: Any = None, n_boot: int = 1000, title: str | None = None):
    """Bar chart of evidence rates per 100 units (with 95% intervals) and the rhetoric rate per sign.

    Args:
        scored: A unit table (``score_frame``, ``score_documents`` output or
            ``sentences.csv`` read back).
        by: Optional column to compare groups side by side.
        ax: A matplotlib Axes to draw on (a new figure when ``None``).
        n_boot: Bootstrap resamples for the intervals.
        title: Plot title.

    Returns:
        The matplotlib Axes.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is a core dependency
        raise ImportError("plot_profile needs matplotlib: pip install matplotlib") from exc
    from .aggregate import aggregate

    agg = aggregate(scored, by=by, n_boot=n_boot)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.9 + 0.55 * len(LABELS) * max(1, len(agg) if by else 1) ** 0.5))
    return draw_profile(agg, by=by, ax=ax, title=title)


def draw_profile(agg, by: str | None, ax: Any, title: str | None = None):
    """Draw an :func:`~lo_signals.aggregate.aggregate` result on ``ax`` (what :func:`plot_profile` shows).

    Intervals are drawn when the frame has ``*_rate_lo``/``*_rate_hi`` columns.
    """
    import matplotlib

    groups = list(agg[by]) if by else ["all units"]
    height = 0.8 / len(groups)
    y = np.arange(len(LABELS))
    cmap = matplotlib.colormaps.get_cmap("tab10")
    for g, (_, row) in enumerate(agg.iterrows()):
        rates = np.array([row[f"{l}_rate"] for l in LABELS])
        lo = np.array([row.get(f"{l}_rate_lo", np.nan) for l in LABELS])
        hi = np.array([row.get(f"{l}_rate_hi", np.nan) for l in LABELS])
        offset = (g - (len(groups) - 1) / 2) * height
        colours = [LABEL_COLOURS[l] for l in LABELS] if not by else [cmap(g % 10)] * len(LABELS)
        has_ci = not np.isnan(lo).all()
        ax.barh(y + offset, rates, height=height * 0.9, color=colours, label=str(groups[g]) if by else "evidence",
                xerr=np.vstack([rates - lo, hi - rates]) if has_ci else None, capsize=2)
        rhet = [row.get(f"{l}_rhetoric_rate", np.nan) if l in SIGNS else np.nan for l in LABELS]
        ax.scatter(rhet, y + offset, marker="|", s=200, color="black", zorder=3, label="rhetoric (aims)" if g == 0 else None)
    ax.set_yticks(y, [_NAMES[l] for l in LABELS])
    ax.invert_yaxis()
    ax.set_xlabel("units per 100 (bars: evidence with 95% CI; | : rhetoric)")
    ax.set_title(title or "Learning-organisation profile")
    ax.legend(loc="lower right", fontsize="small")
    return ax
