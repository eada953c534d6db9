"""The ``lo-signals`` command line: thin typer wrappers over the library.

Progress and tables go to the terminal through rich; errors exit non-zero with
one clear line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from .readers import Limits

app = typer.Typer(
    name="lo-signals",
    help="Find signals of a learning culture (and of blame) in staff feedback, board papers and inquiry reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
out_console = Console()


# The reading limits' defaults are the readers' own (one place for them).
_LIMITS = Limits()


def _fail(message: str, code: int = 2) -> None:
    # soft_wrap: one line whatever the width, so scripts can grep it.
    # escape: a message may hold brackets ("the [ray] extra") that rich would take for markup.
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.command()
def train(
    corpus: Annotated[Optional[Path], typer.Option(help="Corpus directory with train/dev/test.jsonl (default: ./corpora).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Where to write the model directories (default: ./models-trained; never the installed package unless named here).")] = None,
    backend: Annotated[Optional[list[str]], typer.Option("--backend", help="lexicon, linear or default; repeat for several (default: all three).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    real: Annotated[bool, typer.Option("--real/--no-real", help="Add the stand-off real units (rebuilt from source snapshots) and tune on real dev; --no-real trains on the written corpus alone.")] = True,
    snapshots: Annotated[Optional[Path], typer.Option(help="Folder of source snapshots for the real units (default: $LO_SIGNALS_SNAPSHOTS or corpora/real/snapshots; see corpora/real/SOURCES.md).")] = None,
    pool: Annotated[bool, typer.Option("--pool/--no-pool", help="Fit the default on the natural-text pool of corpora/audit/train_units.jsonl too (its sources' snapshots are needed: corpora/audit/SOURCES.md); --no-pool gives a default that differs from the shipped one.")] = True,
    export: Annotated[Optional[Path], typer.Option(help="Write the default's fitting data (train.jsonl) and real dev (dev.jsonl) into this folder for lo-signals finetune, and train nothing. The texts come from public snapshots: keep the folder out of git.")] = None,
) -> None:
    """Rebuild the shipped models from the written corpus and the real units into --out (fixed seed: same predictions as shipped)."""
    from .standoff import SnapshotError
    from .train import BACKENDS, export_fitting_data, train_models

    if export is not None:
        try:
            paths = export_fitting_data(export, snapshots=snapshots, pool=pool)
        except SnapshotError as exc:
            _fail(str(exc))
        for name, path in paths.items():
            out_console.print(f"{name}: {path}")
        return

    backends = tuple(backend) if backend else BACKENDS
    for b in backends:
        if b not in BACKENDS:
            _fail(f"unknown backend {b!r}; choose from {', '.join(BACKENDS)} (transformers: lo-signals finetune)")
    try:
        written = train_models(
            corpus, out, backends=backends, seed=seed, progress=lambda m: console.print(f"[dim]{m}[/]"),
            real=real, snapshots=snapshots, pool=pool,
        )
    except SnapshotError as exc:
        _fail(f"{exc}\n(or train without the natural-text pool with --no-pool, or on the written corpus alone with --no-real)")
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    for name, path in written.items():
        out_console.print(f"{name}: {path}")


@app.command()
def evaluate(
    model: Annotated[list[str], typer.Option("--model", "-m", help="Model name (default, linear, lexicon, transformer) or directory; repeat to compare.")],
    data: Annotated[Path, typer.Option(help="Labelled JSONL or CSV (text, labels, aspirations, register).")],
    out: Annotated[Optional[Path], typer.Option(help="Directory for metrics.json and metrics.md.")] = None,
    n_boot: Annotated[int, typer.Option(help="Bootstrap resamples for the 95% intervals.")] = 1000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    record: Annotated[bool, typer.Option(help="Write the metrics into each model's meta.json and model card.")] = False,
    device: Annotated[Optional[str], typer.Option(help="Where transformer models run: auto, cpu, cuda or mps (other models run on the CPU).")] = None,
    text_column: Annotated[str, typer.Option(help="Column (field) with the text.")] = "text",
) -> None:
    """Per-label metrics, macro/micro F1 with bootstrap intervals, rhetoric false positives, calibration.

    The data holds a text column and either a labels column (ids separated by
    ; or ,) or one 0/1 column per label id, as finetune reads; aspirations and
    register columns are optional. Models with the same name are shown under
    their directories.
    """
    from .evaluation import evaluate as run_evaluate

    if not data.is_file():
        _fail(f"no such file: {data}")
    try:
        report = run_evaluate(model, data, out, n_boot=n_boot, seed=seed, record=record, device=device, text_column=text_column)
    except (FileNotFoundError, ValueError, TypeError) as exc:
        _fail(str(exc))
    # Plain echo: the Markdown table must not be re-wrapped to the terminal width.
    typer.echo(f"# {data} (n={report['n']})\n")
    typer.echo(report["table"])
    for note in report["notes"]:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False, soft_wrap=True)
    if out is not None:
        console.print(f"[dim]wrote {out / 'metrics.json'} and {out / 'metrics.md'}[/]")


@app.command()
def predict(
    text: Annotated[Optional[list[str]], typer.Argument(help="Texts to score; read lines from stdin when none are given.")] = None,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="Model name or directory.")] = None,
) -> None:
    """Score a few texts and print one JSON object per text."""
    from .models import load

    texts = list(text) if text else [line.rstrip("\n") for line in sys.stdin]
    try:
        scorer = load(model)
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    proba, _, labels, asps = scorer.predict_all(texts)
    for t, p, lab, a in zip(texts, proba, labels, asps):
        row = {"text": t, "labels": lab, "aspirations": a, "proba": {k: round(float(v), 4) for k, v in zip(scorer.labels_, p)}}
        typer.echo(json.dumps(row))


@app.command()
def finetune(
    train: Annotated[Path, typer.Option(help="Training CSV/JSONL (the corpus format, or a text column plus 0/1 label columns).")],
    dev: Annotated[Path, typer.Option(help="Dev CSV/JSONL: early stopping and threshold tuning.")],
    out: Annotated[Path, typer.Option(help="Output model directory.")],
    base: Annotated[str, typer.Option(help="Encoder: 'minilm' (packaged, offline), a local directory, or a hub id (online).")] = "minilm",
    epochs: Annotated[int, typer.Option(help="Maximum epochs.")] = 8,
    lr: Annotated[float, typer.Option(help="Peak learning rate of the encoder.")] = 8e-5,
    batch_size: Annotated[int, typer.Option(help="Units per batch.")] = 16,
    grad_accum: Annotated[int, typer.Option(help="Batches per optimiser step.")] = 1,
    max_length: Annotated[int, typer.Option(help="Tokens kept per unit.")] = 96,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps.")] = "auto",
    precision: Annotated[str, typer.Option(help="fp32, bf16 or fp16 (fp16 needs CUDA).")] = "fp32",
    max_steps: Annotated[Optional[int], typer.Option(help="Stop after this many optimiser steps.")] = None,
    patience: Annotated[int, typer.Option(help="Epochs without dev improvement before stopping.")] = 2,
    train_layers: Annotated[Optional[int], typer.Option(help="Train only the top N encoder layers (default: all).")] = None,
    save_partial: Annotated[bool, typer.Option(help="Store only the trained layers (fp16) plus a checksum reference to the base.")] = False,
    labels: Annotated[Optional[str], typer.Option(help="Comma-separated label set (your own labels; default: the lo_signals LABELS).")] = None,
    text_column: Annotated[str, typer.Option(help="Text column.")] = "text",
    checkpoint_dir: Annotated[Optional[Path], typer.Option(help="Checkpoint after every epoch here; running the same command again resumes.")] = None,
) -> None:
    """Fine-tune a transformer encoder (GPU or CPU) and save a model directory that lo_signals.load() serves."""
    from .finetuning import FinetuneConfig
    from .finetuning import finetune as run_finetune

    config = FinetuneConfig(
        base=base, epochs=epochs, lr=lr, batch_size=batch_size, grad_accum=grad_accum, max_length=max_length, seed=seed,
        device=device, precision=precision, max_steps=max_steps, patience=patience, train_layers=train_layers,
        save_partial=save_partial, checkpoint_dir=str(checkpoint_dir) if checkpoint_dir else None,
    )
    label_set = [x.strip() for x in labels.split(",") if x.strip()] if labels else None
    try:
        model = run_finetune(train, dev, out, config, labels=label_set, text_column=text_column, progress=lambda m: console.print(m))
    except (FileNotFoundError, ValueError, ImportError) as exc:
        _fail(str(exc))
    dev_f1 = model.meta_["metrics"]["dev"].get("macro_f1", {}).get("value")
    out_console.print(f"saved {out} (dev macro-F1 {dev_f1:.3f})" if dev_f1 is not None else f"saved {out}")


@app.command()
def cascade(
    reader: Annotated[str, typer.Option(help="The fine-tuned transformer model directory (from lo-signals finetune) that reads the routed units.")],
    out: Annotated[Path, typer.Option(help="Output model directory.")],
    gate: Annotated[str, typer.Option(help="The linear model that scores every unit and routes (name or directory).")] = "default",
    threshold: Annotated[list[float], typer.Option(help="Threshold on the combined probability: once for every label, or once per label in label order.")] = [0.5],
    description: Annotated[Optional[str], typer.Option(help="A paragraph for the model card (default: what the parts are).")] = None,
) -> None:
    """Combine a fast linear gate and a fine-tuned encoder reader into one model directory.

    The reader reads only the units that could reach a threshold; decisions equal
    those of the geometric mean of the two models on every unit. Choose the
    thresholds for precision with corpora/audit/audit.py thresholds --apply.
    """
    from .models import load as load_model
    from .scorers.cascade import CascadeScorer

    try:
        g, r = load_model(gate), load_model(reader)
        t = list(threshold) * len(g.labels_) if len(threshold) == 1 else list(threshold)
        model = CascadeScorer.from_parts(g, r, t)
        parts = {"gate": getattr(g, "meta_", {}) or {}, "reader": getattr(r, "meta_", {}) or {}}
        # What each part learnt from, under the part's name: the cascade's own meta.json names all its data.
        training_data = {f"{role}/{k}": v for role, m in parts.items() for k, v in (m.get("training_data") or {}).items()}
        use = {
            "fit": [f"gate: {gate} (see gate/README.md)", f"reader: {Path(reader).name} (see reader/README.md)"],
            "tune_thresholds": [f"none yet: {', '.join(map(str, t))} as given to lo-signals cascade"],
            "held_out": sorted({h for m in parts.values() for h in ((m.get("data_use") or {}).get("held_out") or [])}),
        }
        model.save(out, name=out.name, training_data=training_data, description=description or (
            f"Cascade: the linear model {gate!r} scores every unit; units that could reach a threshold are read by the "
            f"fine-tuned encoder {Path(reader).name!r}; a unit's probability is the geometric mean of the two."),
            extra={"data_use": use, "held_out_data": parts["gate"].get("held_out_data") or {}})
    except (FileNotFoundError, ValueError, ImportError) as exc:
        _fail(str(exc))
    out_console.print(f"saved {out}")


@app.command()
def score(
    inputs: Annotated[list[Path], typer.Argument(help="Files and folders to score (folders are walked recursively).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory (re-running into it resumes).")],
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="Model name or directory (default: the bundled default).")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    fmt: Annotated[str, typer.Option("--format", help="Format of the sentences table: csv or parquet.")] = "csv",
    text_column: Annotated[Optional[str], typer.Option(help="Text column of CSV/XLSX/JSONL/Parquet files (detected when obvious).")] = None,
    max_mb: Annotated[float, typer.Option("--max-mb", help="Skip files larger than this many MB on disk.")] = _LIMITS.max_bytes / 1_000_000,
    max_inflated_mb: Annotated[float, typer.Option("--max-inflated-mb", help="Skip .docx/.xlsx files whose XML (or Parquet files whose row group) inflates to more than this many MB (zip bombs).")] = _LIMITS.max_inflated_bytes / 1_000_000,
    max_units: Annotated[int, typer.Option("--max-units", help="Most units scored per file; the rest is dropped with a warning in files.csv.")] = _LIMITS.max_units,
    max_chars: Annotated[int, typer.Option("--max-chars", help="Longer units are split at spaces into pieces of at most this many characters (nothing is lost), with a warning in files.csv.")] = _LIMITS.max_chars,
    max_cell_chars: Annotated[int, typer.Option("--max-cell-chars", help="A table cell longer than this many characters is split into pieces, each its own document (nothing is lost), with a warning in files.csv.")] = _LIMITS.max_cell_chars,
    max_meta_columns: Annotated[int, typer.Option("--max-meta-columns", help="Most table columns besides the text carried into the outputs; the others are named in files.csv warnings.")] = _LIMITS.max_meta_columns,
    raw_csv: Annotated[bool, typer.Option("--raw-csv", help="Write CSV cells as read; by default a cell starting with = + - @ (or a tab or carriage return) gets a leading ' so spreadsheets do not run it as a formula.")] = False,
    follow_symlinks: Annotated[bool, typer.Option("--follow-symlinks/--no-follow-symlinks", help="Follow symbolic links that lead out of the input folders (off: such links are listed as skipped).")] = False,
    keep_parts: Annotated[bool, typer.Option("--keep-parts/--clean", help="Keep the parts cache --out/.lo_signals_parts/ after the run, so re-runs reuse unchanged files; --clean deletes it once the tables are written.")] = True,
    engine: Annotated[str, typer.Option(help="local (this machine) or ray (a Ray cluster; needs the \\[ray] extra).")] = "local",
    address: Annotated[Optional[str], typer.Option(help="Ray cluster address for --engine ray (default: start a local one).")] = None,
    device: Annotated[Optional[str], typer.Option(help="Where the transformer model runs: auto, cpu, cuda or mps (other models run on the CPU).")] = None,
    precision: Annotated[Optional[str], typer.Option(help="Transformer precision: auto (fp16 weights on CUDA, fp32 elsewhere), fp32, bf16, fp16 or int8.")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Transformer units per forward pass (default: chosen for the device).")] = None,
    report: Annotated[bool, typer.Option("--report/--no-report", help="Also write report.html.")] = False,
    by: Annotated[Optional[str], typer.Option(help="With --report: compare groups of this column (comma-separate several: directorate,staff_group).")] = None,
    cluster_column: Annotated[str, typer.Option("--cluster-column", help="With --report: the intervals resample whole clusters of this column within each group (doc_id: documents; a respondent id column for survey comments; 'none': single units).")] = "doc_id",
    register: Annotated[Optional[str], typer.Option(help="The register of every input: staff_feedback, board_paper, inquiry_report or other (default: a table's register column, else read from content and file names; see register_source in documents.csv and files.csv).")] = None,
) -> None:
    """Score every file under INPUT...; write sentences, documents, files.csv and run.json to --out.

    Every file found gets a row in files.csv with its status (ok, empty,
    skipped, error), the reason, and any warnings (units split or dropped at
    a limit). One run at a time may write into an --out folder.
    """
    import logging

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .outdir import OutputLockedError
    from .score import score_folder

    if fmt not in ("csv", "parquet"):
        _fail(f"--format must be csv or parquet, not {fmt!r}")
    if workers < 1:
        _fail("--workers must be at least 1")
    missing = [str(p) for p in inputs if not p.exists() and not p.is_symlink()]
    if missing:
        _fail(f"no such file or folder: {', '.join(missing)}")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s", stream=sys.stderr)
    # Per-file problems are logged one line each; keep library noise (pypdf,
    # openpyxl's and others' Python warnings) quiet.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").setLevel(logging.ERROR)
    progress = Progress(
        TextColumn("[bold]scoring"), BarColumn(), MofNCompleteColumn(), TextColumn("files · {task.fields[units]} units"),
        TimeElapsedColumn(), console=console, disable=not console.is_terminal, transient=False,
    )
    with progress:
        task = progress.add_task("files", total=None, units=0)
        state = {"units": 0}

        def on_file(res) -> None:
            state["units"] += res.units
            progress.update(task, advance=1, units=state["units"])

        try:
            limits = Limits(
                max_bytes=int(max_mb * 1_000_000), max_inflated_bytes=int(max_inflated_mb * 1_000_000),
                max_units=max_units, max_chars=max_chars, max_cell_chars=max_cell_chars, max_meta_columns=max_meta_columns,
            )
            run = score_folder(
                [str(p) for p in inputs], out, model, workers=workers, fmt=fmt, text_column=text_column, register=register,
                limits=limits, follow_symlinks=follow_symlinks, keep_parts=keep_parts, raw_csv=raw_csv,
                progress=on_file, on_files=lambda n: progress.update(task, total=n),
                engine=engine, address=address, device=device, precision=precision, batch_size=batch_size,
            )
        except OutputLockedError as exc:
            _fail(str(exc), code=3)
        except KeyboardInterrupt:
            _fail(_interrupted(out), code=130)
        except (FileNotFoundError, ValueError, ImportError, OSError) as exc:
            _fail(str(exc))
        except Exception as exc:  # noqa: BLE001 - one clear line, never a traceback
            logging.getLogger(__name__).debug("score failed", exc_info=exc)
            _fail(f"unexpected {type(exc).__name__}: {exc}", code=1)
    for note in run.get("notes", []):
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False, soft_wrap=True)
    counts = run["counts"]
    if counts["files"] == 0:
        # "see files.csv for the reasons" would send the user to an empty table.
        _fail(
            f"no files found in {', '.join(map(str, inputs))}: nothing was scored "
            f"(files.csv in {out} lists no files because there were none)",
            code=1,
        )
    summary = ", ".join(f"{k.removeprefix('files_')} {v}" for k, v in counts.items() if k.startswith("files_"))
    warned = f", {counts['with_warnings']} with warnings" if counts.get("with_warnings") else ""
    out_console.print(f"{counts['files']} files ({summary}{warned}); {counts['documents']} documents, {counts['units']} units -> {out}", soft_wrap=True)
    parts = run["parts"]
    if parts["kept"]:
        out_console.print(f"parts cache: {parts['bytes'] / 1e6:.1f} MB in {out / parts['dir']} (re-runs reuse it; --clean removes it)", soft_wrap=True)
    if report:
        from .report import write_report

        try:
            path = write_report(out, by=by, cluster=_cluster(cluster_column))
        except (FileNotFoundError, ValueError) as exc:
            _fail(f"the tables were written but not the report: {exc}", code=1)
        out_console.print(f"report: {path}")
    if counts.get("files_ok", 0) == 0:
        _fail("no file could be scored; see files.csv for the reasons", code=1)


def _interrupted(out: Path) -> str:
    """What a Ctrl-C left behind, truthfully: scored files kept for a resume, or nothing."""
    from .outdir import PARTS_DIR

    parts = out / PARTS_DIR
    # A part's marker (<stem>.json) is written last: each one is a file scored in full.
    kept = sum(1 for _ in parts.glob("*.json")) if parts.is_dir() else 0
    if kept:
        return f"interrupted; {kept} scored file(s) are kept in {parts}: run the same command again to resume"
    where = f" ({out} was not created)" if not out.exists() else ""
    return f"interrupted before any file was scored, so nothing was kept{where}; run the same command again to start"


@app.command()
def report(
    out: Annotated[Path, typer.Argument(help="A directory written by lo-signals score.")],
    by: Annotated[Optional[str], typer.Option(help="Compare groups of this column (directorate, staff_group, year...; comma-separate several).")] = None,
    n_boot: Annotated[int, typer.Option(help="Bootstrap resamples for the intervals.")] = 1000,
    cluster_column: Annotated[str, typer.Option("--cluster-column", help="The intervals resample whole clusters of this column within each group (doc_id: documents; a respondent id column for survey comments; 'none': single units).")] = "doc_id",
) -> None:
    """Write DIR/report.html: profile, rhetoric-versus-practice gap, documents, top evidence, file manifest."""
    from .report import write_report

    try:
        path = write_report(out, by=by, n_boot=n_boot, cluster=_cluster(cluster_column))
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    out_console.print(f"report: {path}")


def _cluster(column: str) -> str | None:
    # "none" on the command line: resample single units (no clusters).
    return None if column.strip().lower() in ("", "none") else column.strip()


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover - python -m lo_signals.cli
    app()
