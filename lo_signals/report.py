"""The HTML report: one self-contained file (inline CSS, JS and SVG charts; no CDN).

The report's size and memory are bounded whatever the input: the unit table is
read in chunks and kept only as label indicators and grouping keys; every
table is capped at its largest rows (the full tables are written as CSV files
beside the report); charts are drawn from aggregates, never from units.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .charts import LABEL_COLOURS, gap_svg, highlight_html, label_name, profile_svg
from .labels import LABELS, SIGNS
from .pipeline import SENTENCE_TYPES, column_types
from .register import TABULAR_FORMATS, filename_register
from .rollup import DEFAULT_CLUSTER, group_keys, rates, unit_matrices

__all__ = ["write_report", "read_units"]

#: How the report names each register.
REGISTER_NAMES = {"staff_feedback": "staff feedback", "board_paper": "board papers", "inquiry_report": "inquiry reports", "other": "other documents"}
_CHUNK_ROWS = 100_000
_MAX_RUN_JSON = 20_000


def read_units(out: str | Path, columns: list[str] | None = None):
    """Read the unit table a scoring run wrote (``sentences.csv`` or ``.parquet``).

    Args:
        out: The directory ``lo-signals score`` wrote.
        columns: Only these columns (default: all).

    Returns:
        ``pandas.DataFrame`` with one row per unit.
    """
    import pandas as pd

    out = Path(out)
    header = _unit_columns(out)  # raises, saying what to run, when there is no unit table
    kinds = column_types(SENTENCE_TYPES, columns if columns is not None else header)
    if (out / "sentences.parquet").is_file():
        df = pd.read_parquet(out / "sentences.parquet", columns=columns)
    else:
        # Metadata as text, as written: a directorate "2024" stays a name, a code "007" keeps its zeros.
        df = pd.read_csv(out / "sentences.csv", usecols=columns, keep_default_na=False, dtype={c: str for c, k in kinds.items() if k == "str"})
    # The declared types, whichever format: blank integers (a unit without a page) are missing, not 0.
    for c, kind in kinds.items():
        if kind == "bool":
            # CSV holds True/False as text; Parquet as booleans.
            df[c] = df[c].map({"True": True, "False": False, True: True, False: False}).astype("boolean")
        elif kind != "str":
            df[c] = pd.to_numeric(df[c].replace("", None), errors="coerce").astype("Int64" if kind == "int" else "float64")
    return df


def _unit_columns(out: Path) -> list[str]:
    import pandas as pd

    if (out / "sentences.parquet").is_file():
        import pyarrow.parquet as pq

        return list(pq.read_schema(out / "sentences.parquet").names)
    if (out / "sentences.csv").is_file():
        return list(pd.read_csv(out / "sentences.csv", nrows=0).columns)
    raise FileNotFoundError(f"{out} has no sentences.csv or sentences.parquet: run lo-signals score first")


def _iter_units(out: Path, columns: Sequence[str] | None, chunk_rows: int = _CHUNK_ROWS) -> Iterator[Any]:
    """The unit table in chunks of ``chunk_rows``; text-like columns as strings, missing as ``""``."""
    import pandas as pd

    header = _unit_columns(out)
    columns = list(columns) if columns is not None else header
    if (out / "sentences.parquet").is_file():
        import pyarrow.parquet as pq

        ints = [c for c in columns if SENTENCE_TYPES.get(c) == "int"]
        for batch in pq.ParquetFile(out / "sentences.parquet").iter_batches(batch_size=chunk_rows, columns=columns):
            chunk = batch.to_pandas()
            for c in ints:  # as the CSV reads them: "3", or "" for none (never "3.0")
                chunk[c] = pd.to_numeric(chunk[c], errors="coerce").astype("Int64").astype(str).replace("<NA>", "")
            # Missing metadata as "", as in the CSV: None must not become a group called "None".
            yield chunk.fillna("")
        return
    # Everything but the scores as text (the declared schema: metadata is text):
    # a directorate "2024" and one read as 2024 must group together.
    dtypes = {c: str for c in columns if SENTENCE_TYPES.get(c) != "float"}
    yield from pd.read_csv(out / "sentences.csv", usecols=columns, keep_default_na=False, dtype=dtypes, chunksize=chunk_rows)


def _by_columns(by: str | Sequence[str] | None) -> list[str]:
    # The command line passes several columns as one comma-separated string.
    return [b.strip() for b in by.split(",") if b.strip()] if isinstance(by, str) else group_keys(by)


def _file_formats(out: Path) -> dict[str, str]:
    """Format of each scored file (from ``documents.csv``), read without its wide text columns."""
    import pandas as pd

    if not (out / "documents.csv").is_file():
        return {}
    cols = [c for c in ("path", "format") if c in pd.read_csv(out / "documents.csv", nrows=0).columns]
    if len(cols) < 2:
        return {}
    formats: dict[str, str] = {}
    for chunk in pd.read_csv(out / "documents.csv", usecols=cols, dtype=str, keep_default_na=False, chunksize=_CHUNK_ROWS):
        formats.update(zip(chunk["path"], chunk["format"]))
    return formats


def _doc_registers(out: Path) -> dict[str, tuple[str, str]]:
    """Each document's register and how it was decided, as ``lo-signals score`` recorded them in ``documents.csv``."""
    import pandas as pd

    if not (out / "documents.csv").is_file():
        return {}
    cols = [c for c in ("doc_id", "register", "register_source") if c in pd.read_csv(out / "documents.csv", nrows=0).columns]
    if len(cols) < 3:  # a run from before registers were recorded
        return {}
    decided: dict[str, tuple[str, str]] = {}
    for chunk in pd.read_csv(out / "documents.csv", usecols=cols, dtype=str, keep_default_na=False, chunksize=_CHUNK_ROWS):
        decided.update(zip(chunk["doc_id"], zip(chunk["register"], chunk["register_source"])))
    return decided


def _infer_register(path: str, tabular: bool) -> tuple[str, str]:
    # For runs that recorded no register: rows of tables are staff feedback, other files go by name.
    if tabular:
        return "staff_feedback", "default"
    found = filename_register(path)
    return (found, "filename") if found else ("other", "default")


@dataclass
class _Units:
    """What the report keeps of the unit table: grouping keys, indicators and top-evidence candidates."""

    keys: Any = None
    ev: np.ndarray | None = None
    asp: np.ndarray | None = None
    top: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    register_given: bool = False
    not_english: int = 0
    cluster: str | None = None


def _collect(out: Path, header: list[str], by: list[str], formats: dict[str, str], top_k: int, cluster: str | None = None) -> _Units:
    """One pass over the unit table, chunk by chunk, keeping only what the report draws.

    ``by`` are the columns that split the rows of a table file into groups
    (the ``--by`` columns, after a workbook's ``sheet`` when there is one).
    ``cluster`` is the column whose values the intervals resample (kept as a key).
    """
    import pandas as pd

    register_given = "register" in header
    wanted = ["doc_id", "path", "page", "text", "labels", "aspirations", "language", *LABELS, *by, *(["register"] if register_given else []),
              *([cluster] if cluster else [])]
    columns = [c for c in dict.fromkeys(wanted) if c in header]
    keys, evs, asps, candidates = [], [], [], {label: [] for label in LABELS}
    not_english = 0
    tabular_of: dict[str, bool] = {}
    register_of: dict[str, tuple[str, str]] = {}
    decided = _doc_registers(out)
    for chunk in _iter_units(out, columns):
        ev, asp = unit_matrices(chunk)
        paths = chunk["path"].astype(str) if "path" in chunk else pd.Series([""] * len(chunk), index=chunk.index)
        for p in paths.unique():
            if p not in tabular_of:
                fmt = formats.get(p) or Path(p).suffix.lstrip(".").lower()
                tabular_of[p] = fmt in TABULAR_FORMATS
                register_of[p] = _infer_register(p, tabular_of[p])
        tabular = paths.map(tabular_of).to_numpy(dtype=bool)
        doc_ids = chunk["doc_id"].astype(str) if "doc_id" in chunk else paths
        k = pd.DataFrame({"doc_id": doc_ids.to_numpy(), "path": paths.to_numpy()})
        for b in by:
            k[b] = chunk[b].astype(str).to_numpy()
        if cluster and cluster not in k:
            k[cluster] = chunk[cluster].astype(str).to_numpy()
        # Rows of a table are grouped by file and by-values; any other document is its own row.
        row_key = paths.str.cat([k[b].to_numpy() for b in by], sep="\x1f") if by else paths
        k["_row"] = np.where(tabular, "t\x1f" + row_key.to_numpy(dtype=object), "d\x1f" + doc_ids.to_numpy(dtype=object))
        k["_tabular"] = tabular
        guessed = paths.map(register_of)
        inferred = np.array([g[0] for g in guessed], dtype=object)
        source = np.array([g[1] for g in guessed], dtype=object)
        if register_given:
            given = chunk["register"].astype(str).to_numpy(dtype=object)
            inferred = np.where(given != "", given, inferred)
            source = np.where(given != "", "column", source)
        if decided:
            # What scoring decided, from content, a column or --register, wins over a guess from the name.
            known = doc_ids.map(decided)
            has = known.notna().to_numpy()
            inferred = np.where(has, [d[0] if isinstance(d, tuple) else "" for d in known], inferred)
            source = np.where(has, [d[1] if isinstance(d, tuple) else "" for d in known], source)
        k["register"] = inferred
        k["register_source"] = source
        if "language" in chunk:
            not_english += int((chunk["language"].astype(str) == "other").sum())
        keys.append(k)
        evs.append(ev)
        asps.append(asp)
        for j, label in enumerate(LABELS):
            hits = chunk[ev[:, j]]
            if len(hits) and top_k:
                score = hits[label] if label in hits else pd.Series(0.0, index=hits.index)
                # Survey exports repeat comments verbatim: show distinct texts.
                best = hits.assign(_p=score.astype(float)).sort_values("_p", ascending=False, kind="stable")
                best = best.drop_duplicates("text").head(top_k) if "text" in best else best.head(top_k)
                candidates[label] += best.to_dict("records")
    frame = pd.concat(keys, ignore_index=True) if keys else pd.DataFrame(columns=list(dict.fromkeys(["doc_id", "path", "_row", "_tabular", "register", "register_source", *by, *([cluster] if cluster else [])])))
    top = {label: _distinct_best(c, top_k) for label, c in candidates.items()}
    return _Units(
        keys=frame,
        ev=np.vstack(evs) if evs else np.zeros((0, len(LABELS)), bool),
        asp=np.vstack(asps) if asps else np.zeros((0, len(SIGNS)), bool),
        top=top,
        register_given=register_given,
        not_english=not_english,
        cluster=cluster,
    )


def _scoring_model(model: Any, run: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The lexicon and ``meta.json`` of the model that scored the run, read once.

    ``model`` is a loaded model, a model name or a directory; when ``None``, the
    model directory recorded in ``run.json``. From a directory only the
    ``meta.json`` and the lexicon (checked against it) are read, never the
    weights. The lexicon highlights evidence (``None``: the packaged one, also
    for a model without a lexicon or no longer on disk); the meta's
    ``natural_prevalence`` says how far to trust the rates (``{}`` when unknown).
    """
    from .models import model_dir, read_meta
    from .scorers.lexicon import LexiconData

    if model is not None and not isinstance(model, (str, Path)):
        return getattr(model, "lexicon_data_", None), dict(getattr(model, "meta_", None) or {})
    where = model if model is not None else (run.get("model") or {}).get("path")
    if not where:
        return None, {}
    try:
        path = model_dir(where)
        meta = read_meta(path)
    except (OSError, ValueError):
        return None, {}
    try:
        return (LexiconData.from_model_dir(path, meta) if meta.get("lexicon") else None), meta
    except (OSError, ValueError):
        return None, meta


#: Below this measured precision (or where none was measured) the report warns against reading rates.
TRUST_PRECISION = 0.6


def _trust_view(meta: dict[str, Any], registers_seen: Sequence[str]) -> dict[str, Any]:
    """How far to trust this run's numbers: the model's precision at natural prevalence, per label and register.

    Figures come from the model's ``meta.json`` (``natural_prevalence``,
    written from ``corpora/audit/audit.py precision``): what share of the units
    it flags in unseen real documents were judged right. A register of this
    run with no measurement, or with precision under :data:`TRUST_PRECISION`,
    gets a warning.
    """
    table = meta.get("natural_prevalence") or {}

    def row(name: str, r: dict[str, Any]) -> dict[str, Any]:
        p = r.get("precision", r.get("precision_judged"))
        lo, hi = (r.get("ci95") or [None, None])[:2]
        return {"name": name, "precision": p, "lo": lo, "hi": hi, "judged": r.get("judged", 0), "per_100": r.get("per_100")}

    labels = [row(label_name(k), v) for k, v in (table.get("per_label") or {}).items()]
    regs = {k: row(k, v) for k, v in (table.get("per_register") or {}).items()}
    names = REGISTER_NAMES
    warnings = []
    for reg in registers_seen:
        r = regs.get(reg)
        if r is None or r["precision"] is None:
            warnings.append(f"{names.get(reg, reg)}: the model's precision was not measured on unseen documents of this register")
        elif r["precision"] < TRUST_PRECISION:
            warnings.append(f"{names.get(reg, reg)}: only {r['precision']:.0%} of what the model flags in unseen documents of this register was judged right")
    weighted = (table.get("all") or {}).get("precision_flag_weighted")
    return {"measured": bool(table), "labels": labels, "registers": list(regs.values()), "warnings": warnings,
            "weighted": weighted, "units": table.get("units"), "threshold": TRUST_PRECISION}


def _distinct_best(candidates: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    """The ``k`` most probable candidates with distinct texts."""
    seen: set[str] = set()
    out = []
    for r in sorted(candidates, key=lambda r: -r["_p"]):
        if r.get("text") not in seen:
            seen.add(r.get("text"))
            out.append(r)
    return out[:k]


def _ci_cells(rows: list[dict[str, Any]]) -> None:
    """Add, per label, the numbers and bar geometry (percent of a per-column scale) of each row's interval."""
    for label in LABELS:
        scale = max([r.get(f"{label}_rate_hi", r[f"{label}_rate"]) for r in rows] + [r[f"{label}_rate"] for r in rows] + [1.0])
        scale = 1.0 if not math.isfinite(scale) else scale
        for r in rows:
            rate = float(r[f"{label}_rate"])
            lo = float(r.get(f"{label}_rate_lo", rate))
            hi = float(r.get(f"{label}_rate_hi", rate))
            lo, hi = (rate, rate) if not (math.isfinite(lo) and math.isfinite(hi)) else (lo, hi)
            r.setdefault("cells", []).append(
                {"label": label, "colour": LABEL_COLOURS[label], "rate": rate, "lo": lo, "hi": hi, "has_ci": f"{label}_rate_lo" in r,
                 "x": 100 * rate / scale, "l": 100 * lo / scale, "w": max(100 * (hi - lo) / scale, 0.5)}
            )


def _overall_gap(table) -> Any:
    # One number to sort groups by: the mean over the four signs of rhetoric minus evidence per 100 units.
    return table[[f"{s}_gap" for s in SIGNS]].mean(axis=1)


def _capped(table, max_rows: int, order: str) -> tuple[list[dict[str, Any]], int]:
    """The ``max_rows`` largest groups (by units), sorted by ``order`` descending; and how many there were."""
    shown = table.sort_values(["units"], ascending=False, kind="stable").head(max_rows)
    shown = shown.sort_values(order, ascending=False, kind="stable")
    rows = shown.to_dict("records")
    _ci_cells(rows)
    return rows, len(table)


def _documents_view(units: _Units, by: list[str], n_boot: int, max_rows: int, csv_path: Path) -> dict[str, Any]:
    """Documents, with the rows of tabular files grouped by file (and by-values); full table to ``csv_path``."""
    k = units.keys
    if not len(k):
        return {"rows": [], "total": 0, "csv": csv_path.name, "grouped_files": 0}
    table = rates(k, ["_row"], units.ev, units.asp, n_boot=n_boot, cluster=units.cluster)
    first = k.groupby("_row", sort=True).agg(path=("path", "first"), documents=("doc_id", "nunique"), tabular=("_tabular", "first"),
                                             **{b: (b, "first") for b in by})
    table = table.merge(first, left_on="_row", right_index=True)
    table["kind"] = np.where(table["tabular"], table["documents"].map(lambda n: f"{n:,} rows"), "document")
    table["gap"] = _overall_gap(table)
    export = ["path", *by, "kind", "documents", "units"] + [c for c in table.columns if c.startswith(tuple(LABELS))] + ["gap"]
    table[export].sort_values("units", ascending=False, kind="stable").to_csv(csv_path, index=False)
    rows, total = _capped(table, max_rows, "units")
    for r in rows:
        r["group"] = " · ".join(f"{b}: {r[b]}" for b in by if r.get(b) not in (None, "")) if r["tabular"] else ""
    return {"rows": rows, "total": total, "csv": csv_path.name, "grouped_files": int(table["tabular"].sum())}


def _compare_view(units: _Units, by: list[str], n_boot: int, max_rows: int, csv_path: Path) -> dict[str, Any] | None:
    """Groups side by side with intervals, sorted by the rhetoric-versus-practice gap."""
    k = units.keys
    has = np.logical_and.reduce([k[b].astype(str).str.strip().ne("").to_numpy() for b in by])
    if not has.any():
        return None
    sub = k[has]
    table = rates(sub, by, units.ev[has], units.asp[has], n_boot=n_boot, cluster=units.cluster)
    table["gap"] = _overall_gap(table)
    table.sort_values("gap", ascending=False).to_csv(csv_path, index=False)
    rows, total = _capped(table, max_rows, "gap")
    for r in rows:
        r["name"] = " / ".join(str(r[b]) for b in by)
    # A grouped bar chart stays readable up to eight groups; beyond that the table is the comparison.
    title = f"Evidence per 100 units by {', '.join(by)}, with 95% intervals"
    chart = profile_svg(table.sort_values(by), by, title=title) if total <= 8 else None
    return {"rows": rows, "total": total, "csv": csv_path.name, "left_out": int((~has).sum()), "chart": chart}


def _register_view(units: _Units, n_boot: int) -> dict[str, Any] | None:
    """Rates per register (staff feedback, board papers, inquiry text) when the run mixes them."""
    k = units.keys
    if k["register"].nunique() < 2:
        return None
    table = rates(k, ["register"], units.ev, units.asp, n_boot=n_boot, cluster=units.cluster)
    docs = k.groupby("register")["doc_id"].nunique()
    table["documents"] = table["register"].map(docs)
    table["gap"] = _overall_gap(table)
    rows = table.sort_values("units", ascending=False).to_dict("records")
    _ci_cells(rows)
    # How the registers were decided, counted by document: the report says which are guesses.
    sources = k.drop_duplicates("doc_id")["register_source"].value_counts()
    return {"rows": rows, "inferred": not units.register_given, "sources": {s: int(n) for s, n in sources.items() if s}}


def _files_view(out: Path, max_rows: int) -> dict[str, Any]:
    import pandas as pd

    if not (out / "files.csv").is_file():
        return {"rows": [], "total": 0}
    files = pd.read_csv(out / "files.csv", keep_default_na=False, dtype=str)
    # Problems first: a capped table must still show every file that was not scored, as far as the cap allows.
    files = files.assign(_ok=files.get("status", "") == "ok").sort_values("_ok", kind="stable")
    counts = files["status"].value_counts().to_dict() if "status" in files else {}
    return {"rows": files.head(max_rows).to_dict("records"), "total": len(files), "counts": counts}


def write_report(
    out: str | Path,
    by: str | Sequence[str] | None = None,
    n_boot: int = 1000,
    top_k: int = 5,
    path: str | Path | None = None,
    max_rows: int = 50,
    cluster: str | None = DEFAULT_CLUSTER,
    model: Any = None,
) -> Path:
    """Write ``report.html`` for a scoring output directory.

    Besides the report, writes the full tables it caps as CSV files in the
    same folder: ``report_documents.csv`` and, with ``by``,
    ``report_by_<columns>.csv``.

    Args:
        out: The directory ``lo-signals score`` wrote.
        by: Metadata column(s) to compare groups side by side (a name, a
            comma-separated string of names, or a list). The rows of table
            files (CSV, XLSX, JSONL, Parquet) are listed per file, per sheet
            and per value of these columns, never one row per comment.
        n_boot: Bootstrap resamples for the intervals.
        top_k: Evidence units shown per label.
        path: Where to write (default ``out/report.html``).
        max_rows: Rows shown in each long table (documents, groups, files).
        cluster: Column whose values the intervals resample within each
            group: documents (``doc_id``) by default, a respondent id column
            for survey comments, ``None`` for units (see
            :func:`lo_signals.aggregate`).
        model: The model that scored the run (loaded, a name or a
            directory), whose own lexicon highlights the evidence; default:
            the model directory recorded in ``run.json``.

    Returns:
        The path of the report.

    Raises:
        FileNotFoundError: If ``out`` holds no unit table.
        ValueError: If a ``by`` or ``cluster`` column is not in the unit table.
    """
    from jinja2 import Environment, select_autoescape

    out = Path(out)
    keys = _by_columns(by)
    header = _unit_columns(out)
    for b in keys:
        if b not in header:
            raise ValueError(f"--by {b!r}: no such column in the unit table; columns are {header}")
    # doc_id is always a key of the report (the path stands in for it in tables without one).
    if cluster and cluster != DEFAULT_CLUSTER and cluster not in header:
        raise ValueError(f"--cluster-column {cluster!r}: no such column in the unit table; columns are {header}")
    dest = Path(path) if path is not None else out / "report.html"
    # Rows of a workbook are also told apart by sheet.
    row_by = [*(["sheet"] if "sheet" in header and "sheet" not in keys else []), *keys]
    units = _collect(out, header, row_by, _file_formats(out), top_k, cluster)
    run = json.loads((out / "run.json").read_text(encoding="utf-8")) if (out / "run.json").is_file() else {}
    pooled = rates(units.keys, [], units.ev, units.asp, n_boot=n_boot, cluster=units.cluster)
    row = pooled.iloc[0]
    profile = [
        {
            "id": label,
            "name": label_name(label),
            "colour": LABEL_COLOURS[label],
            "count": int(row[f"{label}_count"]),
            "rate": row[f"{label}_rate"],
            "lo": row.get(f"{label}_rate_lo", float("nan")),
            "hi": row.get(f"{label}_rate_hi", float("nan")),
            "rhetoric": row.get(f"{label}_rhetoric_rate") if label in SIGNS else None,
            "gap": row.get(f"{label}_gap") if label in SIGNS else None,
        }
        for label in LABELS
    ]
    lexicon, model_meta = _scoring_model(model, run)
    top = {
        label: [
            {
                "html": highlight_html(str(r.get("text", "")), [x for x in str(r.get("labels", "")).split(";") if x],
                                       [x for x in str(r.get("aspirations", "")).split(";") if x], lexicon=lexicon),
                "path": r.get("path", ""),
                "page": r.get("page", ""),
                "p": r["_p"],
            }
            for r in rows
        ]
        for label, rows in units.top.items()
    }
    suffix = re.sub(r"[^A-Za-z0-9_-]+", "_", "_".join(keys))
    run_json = json.dumps(run, indent=2, default=str)
    env = Environment(autoescape=select_autoescape(default=True))
    template = env.from_string(resources.files("lo_signals").joinpath("data/report.html.j2").read_text(encoding="utf-8"))
    page = template.render(
        title=f"lo_signals report: {out.resolve().name}",
        n_units=len(units.keys),
        n_docs=int(units.keys["doc_id"].nunique()),
        n_files=int(units.keys["path"].nunique()),
        profile=profile,
        trust=_trust_view(model_meta, sorted({str(r) for r in units.keys["register"].unique()}) if "register" in units.keys else []),
        profile_chart=profile_svg(pooled, None, title="Evidence per 100 units, with 95% intervals"),
        gap_chart=gap_svg(row),
        by=", ".join(keys),
        compare=_compare_view(units, keys, n_boot, max_rows, dest.parent / f"report_by_{suffix}.csv") if keys else None,
        registers=_register_view(units, n_boot),
        documents=_documents_view(units, row_by, n_boot, max_rows, dest.parent / "report_documents.csv"),
        not_english=units.not_english,
        files=_files_view(out, max_rows),
        labels=[{"id": label, "name": label_name(label), "colour": LABEL_COLOURS[label]} for label in LABELS],
        register_names=REGISTER_NAMES,
        top=top,
        cluster=units.cluster,
        run=run,
        run_json=run_json if len(run_json) <= _MAX_RUN_JSON else run_json[:_MAX_RUN_JSON] + "\n… (truncated; the whole record is run.json)",
    )
    dest.write_text(page, encoding="utf-8")
    return dest
