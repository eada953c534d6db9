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

app = typer.Typer(
    name="lo-signals",
    help="Find signals of a learning culture (and of blame) in staff feedback, board papers and inquiry reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
out_console = Console()


def _fail(message: str, code: int = 2) -> None:
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@app.command()
def train(
    corpus: Annotated[Optional[Path], typer.Option(help="Corpus directory with train/dev/test.jsonl (default: ./corpora).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Where to write the model directories (default: the bundled models/).")] = None,
    backend: Annotated[Optional[list[str]], typer.Option("--backend", help="lexicon, linear or default; repeat for several (default: all three).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Rebuild the shipped models from the corpus (fixed seed: same predictions as shipped)."""
    from .train import BACKENDS, train_models

    backends = tuple(backend) if backend else BACKENDS
    for b in backends:
        if b not in BACKENDS:
            _fail(f"unknown backend {b!r}; choose from {', '.join(BACKENDS)} (transformers: lo-signals finetune)")
    try:
        written = train_models(corpus, out, backends=backends, seed=seed, progress=lambda m: console.print(f"[dim]{m}[/]"))
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    for name, path in written.items():
        out_console.print(f"{name}: {path}")


@app.command()
def evaluate(
    model: Annotated[list[str], typer.Option("--model", "-m", help="Model name (default, linear, lexicon, transformer) or directory; repeat to compare.")],
    data: Annotated[Path, typer.Option(help="Labelled JSONL (text, labels, aspirations, register).")],
    out: Annotated[Optional[Path], typer.Option(help="Directory for metrics.json and metrics.md.")] = None,
    n_boot: Annotated[int, typer.Option(help="Bootstrap resamples for the 95% intervals.")] = 1000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
) -> None:
    """Per-label metrics, macro/micro F1 with bootstrap intervals, rhetoric false positives, calibration."""
    from .evaluation import evaluate as run_evaluate

    if not data.is_file():
        _fail(f"no such file: {data}")
    try:
        report = run_evaluate(model, data, out, n_boot=n_boot, seed=seed)
    except (FileNotFoundError, ValueError, TypeError) as exc:
        _fail(str(exc))
    out_console.print(f"# {data} (n={report['n']})\n")
    out_console.print(report["table"], highlight=False, markup=False)
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
    proba, asp = scorer.predict_all_proba(texts)
    labels = scorer._decide(proba, scorer.thresholds_, scorer.labels_)
    asps = scorer._decide(asp, scorer.aspiration_thresholds_, scorer.aspiration_labels_)
    for t, p, lab, a in zip(texts, proba, labels, asps):
        row = {"text": t, "labels": lab, "aspirations": a, "proba": {k: round(float(v), 4) for k, v in zip(scorer.labels_, p)}}
        out_console.print_json(json.dumps(row))


def main() -> None:  # pragma: no cover - console entry point
    app()
