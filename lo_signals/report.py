"""The HTML report: one self-contained file (inline CSS, JS and SVG charts; no CDN)."""

from __future__ import annotations

import html
import io
import json
from importlib import resources
from pathlib import Path

import numpy as np

from .labels import LABELS, SIGNS, TAXONOMY

__all__ = ["write_report", "read_units"]

_NAMES = {t.id: t.name for t in TAXONOMY}


def read_units(out: str | Path, columns: list[str] | None = None):
    """Read the unit table a scoring run wrote (``sentences.csv`` or ``.parquet``)."""
    import pandas as pd

    out = Path(out)
    if (out / "sentences.parquet").is_file():
        return pd.read_parquet(out / "sentences.parquet", columns=columns)
    if (out / "sentences.csv").is_file():
        return pd.read_csv(out / "sentences.csv", usecols=columns, keep_default_na=False, dtype={"labels": str, "aspirations": str, "text": str})
    raise FileNotFoundError(f"{out} has no sentences.csv or sentences.parquet: run lo-signals score first")


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _profile_chart(agg, by: str | None) -> str:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .notebook import draw_profile

    fig, ax = plt.subplots(figsize=(8, 3.2 if not by else 2.5 + 0.5 * len(agg)))
    # Draws the frame already aggregated for the tables: no second bootstrap.
    draw_profile(agg, by=by, ax=ax, title="Evidence per 100 units, with 95% intervals")
    return _svg(fig)


def _gap_chart(row) -> str:
    import matplotlib.pyplot as plt

    from .notebook import LABEL_COLOURS

    fig, ax = plt.subplots(figsize=(8, 2.6))
    y = np.arange(len(SIGNS))
    ev = [row[f"{s}_rate"] for s in SIGNS]
    rh = [row[f"{s}_rhetoric_rate"] for s in SIGNS]
    ax.barh(y - 0.2, ev, height=0.38, color=[LABEL_COLOURS[s] for s in SIGNS], label="evidence (practice)")
    ax.barh(y + 0.2, rh, height=0.38, color="white", edgecolor=[LABEL_COLOURS[s] for s in SIGNS], hatch="//", label="rhetoric (aims, plans)")
    ax.set_yticks(y, [_NAMES[s] for s in SIGNS])
    ax.invert_yaxis()
    ax.set_xlabel("units per 100")
    ax.set_title("Rhetoric versus practice")
    ax.legend(loc="lower right", fontsize="small")
    return _svg(fig)


def write_report(out: str | Path, by: str | None = None, n_boot: int = 1000, top_k: int = 5, path: str | Path | None = None) -> Path:
    """Write ``report.html`` for a scoring output directory.

    Args:
        out: The directory ``lo-signals score`` wrote.
        by: Optional metadata column to compare groups side by side.
        n_boot: Bootstrap resamples for the intervals.
        top_k: Evidence units shown per label.
        path: Where to write (default ``out/report.html``).

    Returns:
        The path of the report.
    """
    import pandas as pd
    from jinja2 import Environment, select_autoescape

    from .aggregate import aggregate
    from .notebook import LABEL_COLOURS, highlight_html

    out = Path(out)
    units = read_units(out)
    if by is not None and by not in units.columns:
        raise ValueError(f"--by {by!r}: no such column in the unit table; columns are {list(units.columns)}")
    docs = pd.read_csv(out / "documents.csv", keep_default_na=False) if (out / "documents.csv").is_file() else pd.DataFrame()
    files = pd.read_csv(out / "files.csv", keep_default_na=False) if (out / "files.csv").is_file() else pd.DataFrame()
    run = json.loads((out / "run.json").read_text(encoding="utf-8")) if (out / "run.json").is_file() else {}
    pooled = aggregate(units, by=None, n_boot=n_boot)
    row = pooled.iloc[0]
    profile = [
        {
            "id": l,
            "name": _NAMES[l],
            "colour": LABEL_COLOURS[l],
            "count": int(row[f"{l}_count"]),
            "rate": row[f"{l}_rate"],
            "lo": row.get(f"{l}_rate_lo", float("nan")),
            "hi": row.get(f"{l}_rate_hi", float("nan")),
            "rhetoric": row.get(f"{l}_rhetoric_rate") if l in SIGNS else None,
            "gap": row.get(f"{l}_gap") if l in SIGNS else None,
        }
        for l in LABELS
    ]
    groups = None
    group_chart = None
    if by:
        g = aggregate(units, by=by, n_boot=n_boot)
        groups = [
            {"name": str(r[by]), "units": int(r["units"]), "rates": [(r[f"{l}_rate"], r.get(f"{l}_rate_lo"), r.get(f"{l}_rate_hi")) for l in LABELS]}
            for _, r in g.iterrows()
        ]
        group_chart = _profile_chart(g, by)
    top = {}
    for l in LABELS:
        hits = units[units["labels"].fillna("").str.split(";").apply(lambda s, l=l: l in s)]
        hits = hits.sort_values(l, ascending=False).head(top_k)
        top[l] = [
            {
                "html": highlight_html(r["text"], [x for x in str(r["labels"]).split(";") if x], [x for x in str(r.get("aspirations", "")).split(";") if x]),
                "path": r["path"],
                "page": r.get("page", ""),
                "p": float(r[l]),
            }
            for _, r in hits.iterrows()
        ]
    doc_cols = ["path", "units"] + [f"{l}_rate" for l in LABELS] + [f"{s}_rhetoric_count" for s in SIGNS]
    doc_rows = docs[[c for c in doc_cols if c in docs.columns]].to_dict("records") if len(docs) else []
    env = Environment(autoescape=select_autoescape(default=True))
    template = env.from_string(resources.files("lo_signals").joinpath("data/report.html.j2").read_text(encoding="utf-8"))
    page = template.render(
        title=f"lo_signals report: {out.name}",
        n_units=len(units),
        n_docs=len(docs),
        profile=profile,
        profile_chart=_profile_chart(pooled, None),
        gap_chart=_gap_chart(row),
        groups=groups,
        group_chart=group_chart,
        by=by,
        labels=[{"id": l, "name": _NAMES[l], "colour": LABEL_COLOURS[l]} for l in LABELS],
        top=top,
        doc_rows=doc_rows,
        doc_cols=[c for c in doc_cols if c in docs.columns],
        files=files.to_dict("records"),
        run=run,
        run_json=json.dumps(run, indent=2),
        html=html,
    )
    dest = Path(path) if path is not None else out / "report.html"
    dest.write_text(page, encoding="utf-8")
    return dest
