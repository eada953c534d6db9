"""Drawing and highlighting shared by the notebook helpers and the HTML report.

Everything that decides how a label looks (its colour, its chip, its evidence
highlight, its bar in a profile chart) lives here, so a notebook cell and the
report always agree.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from .labels import LABELS, SIGNS, TAXONOMY
from .rollup import group_keys

__all__ = ["LABEL_COLOURS", "label_name", "chip_html", "legend_html", "highlight_html", "highlight_lexicon", "draw_profile", "profile_svg", "gap_svg"]

#: One colour per label (colour-blind-safe Okabe-Ito palette), used in HTML and plots.
LABEL_COLOURS = {
    "community_of_learners": "#0072B2",
    "dispersed_leadership": "#009E73",
    "open_dialogue": "#E69F00",
    "ongoing_transformation": "#CC79A7",
    "blame_defensiveness": "#D55E00",
}
_NAMES = {t.id: t.name for t in TAXONOMY}
_FALLBACK_COLOUR = "#999"
# A chip is one phrase: never broken across lines (the report's narrow columns wrapped them mid-phrase).
_CHIP_STYLE = "display:inline-block;white-space:nowrap;border-radius:8px;padding:0 6px;margin-left:4px;font-size:0.8em"


def label_name(label: str) -> str:
    """The human-readable name of a label id (the id itself for labels outside the taxonomy)."""
    return _NAMES.get(label, label)


def chip_html(label: str, aspiration: bool = False) -> str:
    """An inline chip naming one label: filled for evidence, dashed outline for an aim.

    Args:
        label: The label id.
        aspiration: Draw the aim (rhetoric) variant.

    Returns:
        An HTML ``<span>``; the label name is escaped.
    """
    colour = LABEL_COLOURS.get(label, _FALLBACK_COLOUR)
    name = html.escape(label_name(label))
    if aspiration:
        return f'<span class="chip asp" style="border:1px dashed {colour};{_CHIP_STYLE}">aim: {name}</span>'
    return f'<span class="chip" style="background:{colour};color:#fff;{_CHIP_STYLE}">{name}</span>'


def legend_html() -> str:
    """One chip per label in contract order: a colour key for highlighted text."""
    return " ".join(chip_html(label) for label in LABELS)


def highlight_lexicon(source: Any = None) -> Any:
    """The compiled lexicon that highlights a model's evidence: the model's own.

    Args:
        source: The scoring model (its ``lexicon_data_``, the copy it was
            fitted with and saved with, when it has one), a
            :class:`~lo_signals.scorers.lexicon.LexiconData` or compiled
            :class:`~lo_signals.scorers.lexicon.Lexicon`, or ``None`` for
            the packaged lexicon (also the fallback for models without one,
            such as the transformer).

    Returns:
        A compiled :class:`~lo_signals.scorers.lexicon.Lexicon`.
    """
    from .scorers.lexicon import Lexicon, LexiconData

    if isinstance(source, Lexicon):
        return source
    if isinstance(source, LexiconData):
        return source.compile()
    data = getattr(source, "lexicon_data_", None) if source is not None else None
    return data.compile() if data is not None else Lexicon.default()


def highlight_html(text: str, labels: Sequence[str], aspirations: Sequence[str] = (), lexicon: Any = None) -> str:
    """HTML for one unit: lexicon evidence spans of its predicted labels highlighted, label chips after.

    Only spans of labels the model predicted are marked, so the highlighting
    never contradicts the prediction; and the spans come from the scoring
    model's own lexicon (pass the model as ``lexicon``), whose patterns and
    negation scope fed its features, so a span the packaged lexicon would mark
    but the model's would not is never shown. All text is escaped.

    Args:
        text: The unit's text.
        labels: Its predicted label ids.
        aspirations: Its predicted aspiration (rhetoric) ids.
        lexicon: The scoring model, or its lexicon (see :func:`highlight_lexicon`);
            ``None`` for the packaged lexicon.

    Returns:
        An HTML fragment.
    """
    hits = [h for h in highlight_lexicon(lexicon).match([text])[0] if h.label in labels and not h.aspiration]
    # Non-overlapping spans, earliest and longest first.
    chosen, last_end = [], -1
    for h in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if h.start >= last_end:
            chosen.append(h)
            last_end = h.end
    parts, pos = [], 0
    for h in chosen:
        colour = LABEL_COLOURS.get(h.label, _FALLBACK_COLOUR)
        parts.append(html.escape(text[pos : h.start]))
        parts.append(
            f'<mark class="ev" title="{html.escape(label_name(h.label))} ({html.escape(h.pattern)})" '
            f'style="background:{colour}33;border-bottom:2px solid {colour}">{html.escape(text[h.start:h.end])}</mark>'
        )
        pos = h.end
    parts.append(html.escape(text[pos:]))
    chips = "".join(chip_html(label) for label in labels) + "".join(chip_html(a, aspiration=True) for a in aspirations)
    return "".join(parts) + chips


def _legend_below(ax: Any, ncol: int) -> None:
    # Below the axes, never over the bars: inside, it covered the blame interval.
    # The offset is a fixed 0.55 inch (clear of tick labels and x label) whatever the figure's height.
    axes_inches = ax.get_position().height * ax.figure.get_figheight()
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.55 / axes_inches), ncol=max(1, ncol), fontsize="small", frameon=False)


def draw_profile(agg, by: str | Sequence[str] | None, ax: Any, title: str | None = None):
    """Draw an :func:`~lo_signals.rollup.aggregate` result on ``ax``.

    One bar per label (per group when ``by`` is given), with the 95% interval
    when the frame has ``*_rate_lo``/``*_rate_hi`` columns, and a tick for the
    rhetoric rate of each sign.

    Args:
        agg: The aggregated frame.
        by: The grouping column(s) of ``agg``, or ``None`` for one pooled row.
        ax: A matplotlib Axes.
        title: Plot title.

    Returns:
        ``ax``.
    """
    import matplotlib

    keys = group_keys(by)
    groups = [" / ".join(str(v) for v in row) for row in agg[keys].itertuples(index=False)] if keys else ["all units"]
    height = 0.8 / len(groups)
    y = np.arange(len(LABELS))
    cmap = matplotlib.colormaps.get_cmap("tab10")
    for g, (_, row) in enumerate(agg.iterrows()):
        rates = np.array([row[f"{label}_rate"] for label in LABELS])
        lo = np.array([row.get(f"{label}_rate_lo", np.nan) for label in LABELS])
        hi = np.array([row.get(f"{label}_rate_hi", np.nan) for label in LABELS])
        offset = (g - (len(groups) - 1) / 2) * height
        colours = [LABEL_COLOURS[label] for label in LABELS] if not keys else [cmap(g % 10)] * len(LABELS)
        has_ci = not np.isnan(lo).all()
        ax.barh(y + offset, rates, height=height * 0.9, color=colours, label=groups[g] if keys else "evidence",
                xerr=np.vstack([rates - lo, hi - rates]) if has_ci else None, capsize=2)
        rhet = [row.get(f"{label}_rhetoric_rate", np.nan) if label in SIGNS else np.nan for label in LABELS]
        ax.scatter(rhet, y + offset, marker="|", s=200, color="black", zorder=3, label="rhetoric (aims)" if g == 0 else None)
    ax.set_yticks(y, [label_name(label) for label in LABELS])
    ax.invert_yaxis()
    ax.set_xlabel("units per 100 (bars: evidence with 95% CI; | : rhetoric)")
    ax.set_title(title or "Learning-organisation profile")
    _legend_below(ax, min(len(groups) + 1, 4))
    return ax


def _svg(fig) -> str:
    """The figure as an inline ``<svg>`` element (no XML prologue), closing the figure."""
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _pyplot():
    import matplotlib

    # The report renders off-screen; never switch a notebook's interactive backend.
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def profile_svg(agg, by: str | Sequence[str] | None = None, title: str | None = None) -> str:
    """:func:`draw_profile` on a figure sized for the report, as inline SVG."""
    plt = _pyplot()
    n = len(agg) if group_keys(by) else 1
    fig, ax = plt.subplots(figsize=(8, 3.4 if n == 1 else 2.6 + 0.45 * n))
    draw_profile(agg, by=by, ax=ax, title=title)
    return _svg(fig)


def gap_svg(row) -> str:
    """Rhetoric against practice for each sign of one aggregated row, as inline SVG.

    Args:
        row: One row (a mapping) of an :func:`~lo_signals.rollup.aggregate` result.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 2.8))
    y = np.arange(len(SIGNS))
    colours = [LABEL_COLOURS[s] for s in SIGNS]
    ax.barh(y - 0.2, [row[f"{s}_rate"] for s in SIGNS], height=0.38, color=colours, label="evidence (practice)")
    ax.barh(y + 0.2, [row[f"{s}_rhetoric_rate"] for s in SIGNS], height=0.38, color="white", edgecolor=colours, hatch="//",
            label="rhetoric (aims, plans)")
    ax.set_yticks(y, [label_name(s) for s in SIGNS])
    ax.invert_yaxis()
    ax.set_xlabel("units per 100")
    ax.set_title("Rhetoric versus practice")
    _legend_below(ax, 2)
    return _svg(fig)
