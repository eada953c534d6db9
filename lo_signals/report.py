"""The HTML report: one self-contained file (inline CSS, JS and SVG charts; no CDN)."""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path

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

    from .rollup import aggregate
    from .charts import LABEL_COLOURS, gap_svg, highlight_html, profile_svg

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
        group_chart = profile_svg(g, by, title="Evidence per 100 units, with 95% intervals")
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
        profile_chart=profile_svg(pooled, None, title="Evidence per 100 units, with 95% intervals"),
        gap_chart=gap_svg(row),
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
