"""Model directories: save, load, ``meta.json`` and model cards.

Every saved model is a directory holding its weights (``model.skops`` for
scikit-learn models, ``model.safetensors`` for transformers), ``meta.json``
(backend, labels, versions, training-data hash, thresholds, metrics) and a
``README.md`` model card. Nothing is ever unpickled: scikit-learn objects load
through ``skops.io`` with an explicit allow-list of types.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np


__all__ = ["load", "save", "bundled_models_dir", "read_meta", "BUNDLED", "library_versions"]

#: Names that ``load`` resolves to models shipped with the package.
BUNDLED = ("default", "linear", "lexicon", "transformer")

# skops refuses to build any type not listed here. Saved linear models hold
# only numpy arrays (see LinearScorer.state), so numpy and builtins suffice.
_TRUSTED_PREFIXES = ("numpy.", "builtins.")
_FORBIDDEN = ("builtins.eval", "builtins.exec", "builtins.open", "builtins.getattr", "builtins.__import__", "builtins.compile")


def library_versions() -> dict[str, str]:
    """Versions of lo_signals and the libraries a model depends on."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("lo_signals", "scikit-learn", "spacy", "numpy", "skops", "torch", "transformers"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def bundled_models_dir() -> Path:
    """Where the shipped models are: inside the wheel, or ``models/`` of a source checkout."""
    packaged = resources.files("lo_signals").joinpath("_bundled_models")
    if packaged.is_dir():
        return Path(str(packaged))
    # Editable installs and source checkouts keep them in the repository's models/.
    repo = Path(__file__).resolve().parent.parent / "models"
    if repo.is_dir():
        return repo
    raise FileNotFoundError("no bundled models found: reinstall lo_signals (pip install lo_signals)")


def read_meta(path: str | Path) -> dict[str, Any]:
    """Read ``meta.json`` of a model directory."""
    path = Path(path)
    meta_file = path / "meta.json"
    if not meta_file.is_file():
        raise FileNotFoundError(f"{path} is not a lo_signals model directory (no meta.json)")
    return json.loads(meta_file.read_text(encoding="utf-8"))


def _resolve(model: str | Path | None) -> Path:
    if model is None:
        model = "default"
    if isinstance(model, str) and model in BUNDLED and not Path(model).is_dir():
        path = bundled_models_dir() / model
        if not path.is_dir():
            if model == "transformer":
                raise FileNotFoundError(
                    "the bundled transformer model is not in this installation; "
                    "build it with: lo-signals train --backend transformer"
                )
            raise FileNotFoundError(f"bundled model {model!r} is missing from {path.parent}")
        return path
    path = Path(model)
    if not path.is_dir():
        raise FileNotFoundError(f"no model directory at {path} (bundled names: {', '.join(BUNDLED)})")
    return path


def load(model: str | Path | None = None):
    """Load a model: the bundled default, a bundled name, or any saved model directory.

    Never touches the network and never unpickles.

    Args:
        model: ``None`` or ``"default"`` for the bundled default; ``"linear"``,
            ``"lexicon"`` or ``"transformer"`` for the other bundled models; or a
            path to a model directory written by :func:`save` or ``lo-signals
            finetune``.

    Returns:
        A fitted scorer with ``predict``, ``predict_proba`` and ``predict_aspirations``.
    """
    path = _resolve(model)
    meta = read_meta(path)
    backend = meta.get("backend")
    if backend == "linear":
        from .scorers.linear import LinearScorer

        state = _skops_load(path / "model.skops")
        scorer = LinearScorer.from_state(state, meta["params"], meta["thresholds"], meta["aspiration_thresholds"])
    elif backend == "lexicon":
        from .scorers.lexicon import LexiconScorer

        scorer = LexiconScorer()
        lex_file = path / "lexicon.json"
        scorer.lexicon_path = str(lex_file) if lex_file.is_file() else None
        scorer.labels_ = tuple(meta["labels"])
        scorer.aspiration_labels_ = tuple(meta["aspiration_labels"])
        scorer.thresholds_ = np.asarray(meta["thresholds"], dtype=float)
        scorer.aspiration_thresholds_ = np.asarray(meta["aspiration_thresholds"], dtype=float)
    elif backend in ("transformer", "encoder_head"):
        from .scorers.transformer import load_transformer_dir

        scorer = load_transformer_dir(path, meta)
    else:
        raise ValueError(f"{path}: unknown backend {backend!r} in meta.json")
    if tuple(meta.get("labels", ())) != tuple(scorer.labels_):
        raise ValueError(f"{path}: labels in meta.json do not match the weights")
    scorer.meta_ = meta
    scorer.path_ = str(path)
    return scorer


def _skops_load(file: Path) -> Any:
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=file)
    bad = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES) or t.startswith(_FORBIDDEN)]
    if bad:
        raise ValueError(f"{file} contains types that lo_signals will not load: {bad}")
    return sio.load(file, trusted=untrusted)


def save(
    scorer: Any,
    path: str | Path,
    *,
    name: str,
    training_data: dict[str, str] | None = None,
    metrics: dict[str, Any] | None = None,
    description: str = "",
    extra_files: dict[str, str] | None = None,
) -> Path:
    """Write a fitted scikit-learn-backed scorer as a model directory.

    Args:
        scorer: A fitted :class:`~lo_signals.scorers.linear.LinearScorer` or
            :class:`~lo_signals.scorers.lexicon.LexiconScorer`.
        path: Directory to write (created; existing files are overwritten).
        name: Short model name for the card.
        training_data: ``{file name: sha256}`` of the data it was trained on.
        metrics: Evaluation results to record (dev and test).
        description: A paragraph for the model card.
        extra_files: ``{file name: text}`` written beside the weights.

    Returns:
        The directory path.
    """
    import skops.io as sio

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    backend = scorer.backend
    if backend == "linear":
        sio.dump(scorer.state(), path / "model.skops")
    elif backend == "lexicon":
        from .scorers.lexicon import _read_lexicon_text

        (path / "lexicon.json").write_text(_read_lexicon_text(scorer.lexicon_path), encoding="utf-8")
    else:
        raise ValueError(f"save() handles scikit-learn backends; {backend!r} models are saved by their trainer")
    for fname, text in (extra_files or {}).items():
        (path / fname).write_text(text, encoding="utf-8")
    meta = make_meta(
        scorer,
        name=name,
        training_data=training_data,
        metrics=metrics,
        params=scorer.get_params(),
        description=description,
    )
    write_meta(path, meta)
    return path


def make_meta(
    scorer: Any,
    *,
    name: str,
    params: dict[str, Any],
    training_data: dict[str, str] | None = None,
    metrics: dict[str, Any] | None = None,
    description: str = "",
    labels: Sequence[str] | None = None,
    aspiration_labels: Sequence[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``meta.json`` record for a model."""
    from .scorers.lexicon import load_lexicon

    # The data file's version and hash; compiling the patterns is not needed here.
    lex = load_lexicon()
    meta = {
        "name": name,
        "backend": scorer.backend,
        "labels": list(labels or scorer.labels_),
        "aspiration_labels": list(aspiration_labels if aspiration_labels is not None else scorer.aspiration_labels_),
        "thresholds": [round(float(t), 4) for t in scorer.thresholds_],
        "aspiration_thresholds": [round(float(t), 4) for t in scorer.aspiration_thresholds_],
        "params": _jsonable(params),
        "versions": library_versions(),
        "lexicon": {"version": lex.get("version"), "sha256": lex["sha256"]},
        "training_data": training_data or {},
        "metrics": metrics or {},
        "description": description,
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    meta.update(extra or {})
    return meta


def write_meta(path: str | Path, meta: dict[str, Any]) -> None:
    """Write ``meta.json`` and regenerate the ``README.md`` model card from it."""
    path = Path(path)
    (path / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    (path / "README.md").write_text(model_card(meta), encoding="utf-8")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def model_card(meta: dict[str, Any]) -> str:
    """Render a Markdown model card from ``meta.json`` contents."""
    lines = [f"# lo_signals model: {meta.get('name', '?')}", ""]
    if meta.get("description"):
        lines += [meta["description"], ""]
    lines += [
        "## Summary",
        "",
        f"- backend: `{meta.get('backend')}`",
        f"- labels (column order of `predict_proba`): {', '.join('`%s`' % l for l in meta.get('labels', []))}",
        f"- aspiration labels: {', '.join('`%s`' % l for l in meta.get('aspiration_labels', []))}",
        f"- created: {meta.get('created')}",
        f"- library versions: {', '.join(f'{k} {v}' for k, v in meta.get('versions', {}).items())}",
        f"- lexicon: {meta.get('lexicon', {}).get('version')} (sha256 `{str(meta.get('lexicon', {}).get('sha256'))[:12]}…`)",
        "",
        "## Thresholds",
        "",
        "| label | threshold | aspiration threshold |",
        "|---|---|---|",
    ]
    asp = dict(zip(meta.get("aspiration_labels", []), meta.get("aspiration_thresholds", [])))
    for label, thr in zip(meta.get("labels", []), meta.get("thresholds", [])):
        lines.append(f"| `{label}` | {thr:.2f} | {asp[label]:.2f} |" if label in asp else f"| `{label}` | {thr:.2f} | |")
    lines += ["", "## Training data", ""]
    for fname, digest in (meta.get("training_data") or {}).items():
        lines.append(f"- `{fname}` sha256 `{digest}`")
    metrics = meta.get("metrics") or {}
    if metrics:
        lines += ["", "## Evaluation (held-out splits only)", ""]
        for split, m in metrics.items():
            if not isinstance(m, dict):
                continue
            lines.append(f"### {split}")
            lines.append("")
            summary = {k: m[k] for k in ("macro_f1", "micro_f1", "rhetoric_fpr", "brier", "ece") if k in m}
            for key, value in summary.items():
                if isinstance(value, dict) and "value" in value:
                    lo, hi = value.get("ci95", [None, None])
                    lines.append(f"- {key}: {value['value']:.3f} (95% CI {lo:.3f}–{hi:.3f})")
                elif isinstance(value, (int, float)):
                    lines.append(f"- {key}: {value:.3f}")
            per = m.get("per_label") or {}
            if per:
                lines += ["", "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
                for label, row in per.items():
                    lines.append(f"| `{label}` | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['support']} |")
            lines.append("")
    lines += [
        "",
        "## Intended use and limits",
        "",
        "Scores units (sentences or short passages) of staff feedback, board papers and inquiry",
        "reports against Snell's four signs of a learning organisation and blame/defensiveness",
        "markers, following `LABELS.md` v1. Trained on a corpus written by the lo_signals project",
        "(see `corpora/DATASHEET.md`); expect lower accuracy on text far from those registers.",
        "A label is evidence in text, not a verdict on an organisation: aggregate many units and",
        "read the evidence before drawing conclusions.",
        "",
    ]
    return "\n".join(lines)
