"""Evaluation: per-label metrics, bootstrap intervals, rhetoric false positives, calibration.

``evaluate`` returns a flat, JSON-ready dict per model (the primary metric is
``macro_f1``) and can write ``metrics.json`` and ``metrics.md`` side by side
for several models.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .corpus import LabelledData, labelled_from_rows, read_jsonl, read_labelled
from .labels import LABELS, REGISTERS, SIGNS, label_matrix

__all__ = ["evaluate", "evaluate_predictions", "read_jsonl", "bootstrap_ci", "markdown_table", "expected_calibration_error"]


def _f1_from_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denom = 2 * tp + fp + fn
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def _macro_micro(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    tp = (y & p).sum(0)
    fp = (~y & p).sum(0)
    fn = (y & ~p).sum(0)
    macro = float(_f1_from_counts(tp, fp, fn).mean())
    micro = float(_f1_from_counts(tp.sum(), fp.sum(), fn.sum()))
    return macro, micro


def bootstrap_ci(
    y: np.ndarray, p: np.ndarray, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals for macro and micro F1, resampling units.

    Args:
        y: ``(n, k)`` boolean gold labels.
        p: ``(n, k)`` boolean predictions.
        n_boot: Number of resamples.
        seed: Random seed.
        alpha: 1 - coverage.

    Returns:
        ``{"macro_f1": (lo, hi), "micro_f1": (lo, hi)}``.
    """
    rng = np.random.default_rng(seed)
    n = len(y)
    macros = np.empty(n_boot)
    micros = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        macros[b], micros[b] = _macro_micro(y[idx], p[idx])
    q = [100 * alpha / 2, 100 * (1 - alpha / 2)]
    return {
        "macro_f1": tuple(float(v) for v in np.percentile(macros, q)),
        "micro_f1": tuple(float(v) for v in np.percentile(micros, q)),
    }


def expected_calibration_error(y: np.ndarray, proba: np.ndarray, bins: int = 10) -> float:
    """ECE with equal-width bins, over all label columns pooled."""
    y = np.asarray(y, dtype=float).ravel()
    proba = np.asarray(proba, dtype=float).ravel()
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(proba, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(proba[mask].mean() - y[mask].mean())
    return float(ece)


def evaluate_predictions(
    gold_labels: Sequence[Sequence[str]],
    pred_labels: Sequence[Sequence[str]],
    proba: np.ndarray | None = None,
    *,
    gold_aspirations: Sequence[Sequence[str]] | None = None,
    pred_aspirations: Sequence[Sequence[str]] | None = None,
    registers: Sequence[str] | None = None,
    labels: Sequence[str] = LABELS,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Metrics for one set of predictions against gold labels.

    Args:
        gold_labels: Gold label ids per unit.
        pred_labels: Predicted label ids per unit.
        proba: ``(n, len(labels))`` probabilities, for calibration (optional).
        gold_aspirations: Gold aspiration ids per unit (for the rhetoric metrics).
        pred_aspirations: Predicted aspiration ids per unit.
        registers: Register of each unit, for per-register macro F1.
        labels: Label ids (column order).
        n_boot: Bootstrap resamples for the intervals.
        seed: Bootstrap seed.

    Returns:
        A JSON-ready dict: ``per_label``, ``macro_f1`` and ``micro_f1`` (value and
        ``ci95``), ``macro_f1_by_register``, ``rhetoric_fpr``, ``aspirations``,
        ``brier``, ``ece``, ``n``.
    """
    from sklearn.metrics import precision_recall_fscore_support

    y = label_matrix(gold_labels, labels).astype(bool)
    p = label_matrix(pred_labels, labels).astype(bool)
    if y.shape != p.shape:
        raise ValueError("gold and predicted label lists differ in length")
    prec, rec, f1, sup = precision_recall_fscore_support(y, p, average=None, zero_division=0)
    macro, micro = _macro_micro(y, p)
    ci = bootstrap_ci(y, p, n_boot=n_boot, seed=seed)
    out: dict[str, Any] = {
        "n": int(len(y)),
        "per_label": {
            label: {"precision": float(prec[j]), "recall": float(rec[j]), "f1": float(f1[j]), "support": int(sup[j])}
            for j, label in enumerate(labels)
        },
        "macro_f1": {"value": macro, "ci95": list(ci["macro_f1"])},
        "micro_f1": {"value": micro, "ci95": list(ci["micro_f1"])},
    }
    if registers is not None:
        regs = np.asarray(list(registers))
        by_reg = {}
        for reg in [r for r in REGISTERS if r in set(regs)] + sorted(set(regs) - set(REGISTERS)):
            mask = regs == reg
            by_reg[reg] = {"macro_f1": _macro_micro(y[mask], p[mask])[0], "n": int(mask.sum())}
        out["macro_f1_by_register"] = by_reg
    if gold_aspirations is not None:
        ga = label_matrix(gold_aspirations, SIGNS).astype(bool)
        rhetoric_only = ga.any(1) & ~y.any(1)
        n_rhet = int(rhetoric_only.sum())
        flagged = p[rhetoric_only].any(1)
        rng = np.random.default_rng(seed)
        if n_rhet:
            boots = [flagged[rng.integers(0, n_rhet, n_rhet)].mean() for _ in range(n_boot)]
            out["rhetoric_fpr"] = {
                "value": float(flagged.mean()),
                "ci95": [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))],
                "n": n_rhet,
            }
        if pred_aspirations is not None:
            pa = label_matrix(pred_aspirations, SIGNS).astype(bool)
            a_prec, a_rec, a_f1, a_sup = precision_recall_fscore_support(ga, pa, average=None, zero_division=0)
            out["aspirations"] = {
                "macro_f1": float(a_f1.mean()),
                "per_label": {
                    s: {"precision": float(a_prec[j]), "recall": float(a_rec[j]), "f1": float(a_f1[j]), "support": int(a_sup[j])}
                    for j, s in enumerate(SIGNS)
                },
            }
    if proba is not None:
        proba = np.asarray(proba, dtype=float)
        out["brier"] = float(np.mean((proba - y) ** 2))
        out["brier_per_label"] = {label: float(np.mean((proba[:, j] - y[:, j]) ** 2)) for j, label in enumerate(labels)}
        out["ece"] = expected_calibration_error(y, proba)
    return out


def _model_name(model: Any, given: Any) -> str:
    meta = getattr(model, "meta_", None) or {}
    if isinstance(given, str):
        return given if "/" not in given else meta.get("name", Path(given).name)
    return meta.get("name", type(model).__name__)


def _unique_names(named: list[tuple[str, str | None]]) -> list[str]:
    """Each model's column name: its own name, or its directory where two share one.

    Args:
        named: ``(name, directory)`` per model, in order; the directory as
            given (or the loaded model's path), ``None`` for an unsaved model.

    Returns:
        Distinct names, in the same order: models whose ``meta.json`` names
        collide (two fine-tunes both called ``transformer``) are named by
        their directories, and any name still taken gets ``#2``, ``#3``...
    """
    counts: dict[str, int] = {}
    for name, _ in named:
        counts[name] = counts.get(name, 0) + 1
    out: list[str] = []
    for name, directory in named:
        candidate = directory if counts[name] > 1 and directory else name
        base, k = candidate, 2
        while candidate in out:
            candidate, k = f"{base} #{k}", k + 1
        out.append(candidate)
    return out


def evaluate(
    models: Any,
    data: str | Path | Sequence[Mapping[str, Any]],
    out: str | Path | None = None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    record: bool = False,
    device: str | None = None,
    text_column: str = "text",
) -> dict[str, Any]:
    """Evaluate one or several models on labelled units.

    Args:
        models: A model (loaded scorer), a model name or directory, or a list of
            them; names and paths go through :func:`lo_signals.load`.
        data: A JSONL or CSV file with ``text`` and ``labels`` (and optionally
            ``aspirations`` and ``register``; see
            :func:`lo_signals.corpus.read_labelled`), a list of such dicts, or
            :class:`~lo_signals.corpus.LabelledData`.
        out: If given, a directory to write ``metrics.json`` and ``metrics.md``.
        n_boot: Bootstrap resamples.
        seed: Bootstrap seed.
        record: Also write each model's metrics into its directory's
            ``meta.json`` (under the data file's stem, e.g. ``test``) and
            regenerate its model card. Needs ``data`` to be a file.
        device: Where transformer models run (``auto``, ``cpu``, ``cuda``, ``mps``);
            other backends ignore it.
        text_column: The column (field) holding the text of a data file.

    Returns:
        ``{"data": ..., "models": {name: metrics}, "table": markdown,
        "aspirations_evaluated": bool, "notes": [...]}``. Models are keyed by
        name; models that share one are keyed by their directories.
        ``notes`` says what could not be evaluated (aspirations and the
        rhetoric false-positive rate, when the data has no aspirations).
    """
    from .models import resolve

    # labels=LABELS reads both layouts finetune accepts: a labels list column,
    # or one 0/1 column per label named by its id.
    if isinstance(data, (str, Path)):
        labelled = read_labelled(data, labels=LABELS, text_column=text_column)
    elif isinstance(data, LabelledData):
        labelled = data
    else:
        labelled = labelled_from_rows(data, labels=LABELS, text_column=text_column, source="data")
    texts = labelled.texts
    gold = labelled.label_lists()
    gold_asp = labelled.aspiration_lists()
    registers = labelled.registers
    model_list = models if isinstance(models, (list, tuple)) else [models]
    scored: list[tuple[str, str | None, dict[str, Any]]] = []
    for given in model_list:
        model = resolve(given, device=device)
        name = _model_name(model, given)
        label_p, _, pred, pred_asp = model.predict_all(texts)
        metrics = evaluate_predictions(
            gold,
            pred,
            label_p,
            gold_aspirations=gold_asp,
            pred_aspirations=pred_asp,
            registers=registers,
            n_boot=n_boot,
            seed=seed,
        )
        metrics["model"] = {"name": name, "backend": getattr(model, "backend", None), "path": getattr(model, "path_", None)}
        directory = str(given) if isinstance(given, Path) or (isinstance(given, str) and "/" in given) else getattr(model, "path_", None)
        scored.append((name, directory, metrics))
        if record:
            _record(model, {k: v for k, v in metrics.items() if k != "model"}, data)
    # Keyed by name: two models of the same name must both be kept (one used to replace the other).
    names = _unique_names([(name, directory) for name, directory, _ in scored])
    results: dict[str, Any] = {key: metrics for key, (_, _, metrics) in zip(names, scored)}
    report = {
        "data": str(data) if isinstance(data, (str, Path)) else f"{len(labelled)} rows",
        "n": len(labelled),
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "models": results,
        "aspirations_evaluated": gold_asp is not None,
        "notes": [] if gold_asp is not None else [_NO_ASPIRATIONS],
    }
    report["table"] = markdown_table(results)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps({k: v for k, v in report.items() if k != "table"}, indent=2) + "\n", encoding="utf-8")
        notes = "".join(f"\n{note}\n" for note in report["notes"])
        (out / "metrics.md").write_text(f"# Evaluation on {report['data']} (n={report['n']})\n\n" + report["table"] + "\n" + notes, encoding="utf-8")
    return report


_NO_ASPIRATIONS = (
    "Aspirations were not evaluated: the data has no aspirations column (field), so the aspirations F1 "
    "and the rhetoric false-positive rate (signs claimed as aims counted as evidence) cannot be measured."
)
_NOT_EVALUATED = "not evaluated (no aspirations in the data)"


def _record(model: Any, metrics: dict[str, Any], data: Any) -> None:
    from ._hashing import file_sha256
    from .models import read_meta, write_meta

    if not isinstance(data, (str, Path)) or getattr(model, "path_", None) is None:
        raise ValueError("record=True needs a data file and models loaded from directories")
    meta = read_meta(model.path_)
    meta.setdefault("metrics", {})[Path(data).stem] = {**metrics, "data_sha256": file_sha256(data)}
    write_meta(model.path_, meta)
    model.meta_ = meta


def markdown_table(results: Mapping[str, Mapping[str, Any]]) -> str:
    """Side-by-side Markdown table of several models' metrics."""
    names = list(results)
    if not names:
        return ""

    def fmt_ci(m: Mapping[str, Any] | None) -> str:
        if not m:
            return "n/a"
        lo, hi = m["ci95"]
        return f"{m['value']:.3f} [{lo:.3f}, {hi:.3f}]"

    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    lines.append("| macro F1 [95% CI] | " + " | ".join(fmt_ci(results[n].get("macro_f1")) for n in names) + " |")
    lines.append("| micro F1 [95% CI] | " + " | ".join(fmt_ci(results[n].get("micro_f1")) for n in names) + " |")
    def rhetoric(m: Mapping[str, Any]) -> str:
        if "rhetoric_fpr" in m:
            return fmt_ci(m["rhetoric_fpr"])
        # Say why there is no number: no aspirations at all, or no unit that only claims a sign.
        return _NOT_EVALUATED if "aspirations" not in m else "n/a (no units with aims only)"

    lines.append("| rhetoric FP rate [95% CI] | " + " | ".join(rhetoric(results[n]) for n in names) + " |")
    for label in LABELS:
        cells = []
        for n in names:
            row = results[n]["per_label"].get(label)
            cells.append(f"{row['f1']:.3f} (P {row['precision']:.2f} / R {row['recall']:.2f})" if row else "n/a")
        lines.append(f"| F1 `{label}` | " + " | ".join(cells) + " |")
    regs = sorted({r for n in names for r in results[n].get("macro_f1_by_register", {})}, key=lambda r: (r not in REGISTERS, r))
    for reg in regs:
        lines.append(
            f"| macro F1, {reg} | "
            + " | ".join(f"{results[n].get('macro_f1_by_register', {}).get(reg, {}).get('macro_f1', float('nan')):.3f}" for n in names)
            + " |"
        )
    lines.append(
        "| aspirations macro F1 | "
        + " | ".join(f"{results[n]['aspirations']['macro_f1']:.3f}" if "aspirations" in results[n] else _NOT_EVALUATED for n in names)
        + " |"
    )
    lines.append("| Brier | " + " | ".join(f"{results[n].get('brier', float('nan')):.4f}" for n in names) + " |")
    lines.append("| ECE | " + " | ".join(f"{results[n].get('ece', float('nan')):.4f}" for n in names) + " |")
    return "\n".join(lines)
