"""Model directories and the backend registry: resolve, load, save, ``meta.json`` and model cards.

Every saved model is a directory holding its weights (``model.skops`` for
scikit-learn models, ``model.safetensors`` for transformers), any data file it
was fitted with (``lexicon.json``, checked against its recorded sha256),
``meta.json`` (backend, labels, versions, training-data hash, thresholds,
metrics) and a ``README.md`` model card. Nothing is ever unpickled: arrays load
through ``skops.io`` with an exact allow-list of type names, tensors through
``safetensors``.

Which class reads a directory is decided only by the registry below
(``{backend name: scorer class}``): ``meta.json`` names a backend, never a
module, so a model directory cannot make lo_signals import anything.
Adding a backend is one module plus one :func:`register` call.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Sequence
from importlib import import_module, resources
from pathlib import Path
from typing import Any

import numpy as np


__all__ = [
    "BUNDLED",
    "register",
    "backends",
    "backend_class",
    "resolve",
    "load",
    "save",
    "model_dir",
    "bundled_models_dir",
    "read_meta",
    "make_meta",
    "write_meta",
    "model_card",
    "library_versions",
]

#: Names that :func:`resolve` maps to models shipped with the package.
BUNDLED = ("default", "linear", "lexicon", "transformer", "cascade")

# The built-in backends, imported on first use so that importing lo_signals
# stays light (spaCy, scikit-learn and torch load only when a model does).
# "encoder_head" is the name early transformer directories were saved under.
_BUILTIN: dict[str, tuple[str, str]] = {
    "linear": ("lo_signals.scorers.linear", "LinearScorer"),
    "lexicon": ("lo_signals.scorers.lexicon", "LexiconScorer"),
    "transformer": ("lo_signals.scorers.transformer", "TransformerScorer"),
    "cascade": ("lo_signals.scorers.cascade", "CascadeScorer"),
    "encoder_head": ("lo_signals.scorers.transformer", "TransformerScorer"),
}
_REGISTRY: dict[str, type] = {}

#: The inference options :func:`resolve` passes on to a backend's ``load``.
INFERENCE_OPTIONS = ("device", "precision", "batch_size")


def register(name: str, cls: type) -> type:
    """Register a scorer class as the backend ``name``.

    The class must provide a classmethod ``load(path, **options)`` that reads a
    directory whose ``meta.json`` says ``"backend": name``; subclasses of
    :class:`~lo_signals.scorers.base.BaseScorer` inherit one, and their ``save``
    writes that ``meta.json``.

    Args:
        name: The backend name recorded in ``meta.json``.
        cls: The scorer class.

    Returns:
        ``cls``, so ``register`` can be used as a decorator helper.

    Raises:
        TypeError: If ``cls`` has no ``load`` classmethod.
    """
    if not callable(getattr(cls, "load", None)):
        raise TypeError(f"{cls!r} cannot be a backend: it has no classmethod load(path, **options)")
    _REGISTRY[name] = cls
    return cls


def backends() -> list[str]:
    """Names of every backend that :func:`resolve` can load."""
    return sorted(set(_BUILTIN) | set(_REGISTRY))


def backend_class(name: str) -> type:
    """The scorer class registered for a backend name.

    Raises:
        ValueError: If no class is registered for ``name``.
    """
    if isinstance(name, str) and name not in _REGISTRY and name in _BUILTIN:
        module, attr = _BUILTIN[name]
        _REGISTRY[name] = getattr(import_module(module), attr)
    if not isinstance(name, str) or _REGISTRY.get(name) is None:
        raise ValueError(f"unknown backend {name!r} in meta.json; known backends: {', '.join(backends())}")
    return _REGISTRY[name]


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
    """Read ``meta.json`` of a model directory.

    Raises:
        FileNotFoundError: If the directory has no ``meta.json``.
        ValueError: If it is over 4 MiB, nested too deeply, not JSON or not an object.
    """
    from .scorers._untrusted import UntrustedModelError, read_json_capped

    path = Path(path)
    meta_file = path / "meta.json"
    if not meta_file.is_file():
        raise FileNotFoundError(f"{path} is not a lo_signals model directory (no meta.json)")
    # Capped and recursion-safe: meta.json may come from anyone (a 33 MB file of
    # small lists took 1.7 GB to parse, a deeply nested one overflowed the stack).
    meta = read_json_capped(meta_file)
    if not isinstance(meta, dict):
        raise UntrustedModelError(f"{meta_file} is not a JSON object")
    return meta


def model_dir(model: str | Path | None) -> Path:
    """The directory a model name or path refers to (``None`` is the bundled default).

    Raises:
        FileNotFoundError: If there is no such bundled model or directory.
    """
    if model is None:
        model = "default"
    if isinstance(model, str) and model in BUNDLED and not Path(model).is_dir():
        path = bundled_models_dir() / model
        if not path.is_dir():
            if model == "cascade":
                raise FileNotFoundError(
                    "the bundled cascade model is not in this installation; build it as the README's Models section says "
                    "(lo-signals train --export, lo-signals finetune, lo-signals cascade; needs the [transformers] extra), "
                    "then load it by that directory"
                )
            if model == "transformer":
                raise FileNotFoundError(
                    "the bundled transformer model is not in this installation; build it with: "
                    "lo-signals finetune --train corpora/train.jsonl --dev corpora/dev.jsonl --out models/transformer "
                    "--train-layers 2 --save-partial (needs the [transformers] extra), then load it by that directory"
                )
            raise FileNotFoundError(f"bundled model {model!r} is missing from {path.parent}")
        return path
    path = Path(model)
    if not path.is_dir():
        raise FileNotFoundError(f"no model directory at {path} (bundled names: {', '.join(BUNDLED)})")
    return path


def _is_scorer(obj: Any) -> bool:
    return callable(getattr(obj, "predict_all", None)) and hasattr(obj, "labels_")


def resolve(
    model: Any = None,
    *,
    device: str | None = None,
    precision: str | None = None,
    batch_size: int | None = None,
):
    """Turn whatever names a model into a ready scorer: the one resolver of the library.

    Never touches the network and never unpickles.

    Args:
        model: ``None`` or ``"default"`` for the bundled default; ``"linear"``,
            ``"lexicon"`` or ``"transformer"`` for the other bundled models; a
            path (``str`` or ``Path``) to a saved model directory; or an
            already-fitted scorer, which is returned as is (with the inference
            options applied when it supports them).
        device: ``auto``, ``cpu``, ``cuda`` or ``mps`` (transformer backend;
            CPU-only backends ignore it).
        precision: ``auto`` (fp16 on CUDA, fp32 elsewhere), ``fp32``, ``bf16``,
            ``fp16`` or ``int8`` (transformer backend).
        batch_size: Texts per forward pass (transformer backend); chosen for
            the device when ``None``.

    Returns:
        A fitted scorer with ``predict``, ``predict_proba``, ``predict_all`` and
        ``predict_aspirations``.

    Raises:
        FileNotFoundError: If the name or directory does not exist.
        ValueError: If ``meta.json`` names an unknown backend or does not match the weights.
        TypeError: If ``model`` is neither a name, a path nor a fitted scorer.
    """
    options = {k: v for k, v in (("device", device), ("precision", precision), ("batch_size", batch_size)) if v is not None}
    if model is not None and not isinstance(model, (str, Path)) and not hasattr(model, "__fspath__"):
        if not _is_scorer(model):
            raise TypeError(f"model must be a name, a model directory or a fitted scorer, got {type(model).__name__}")
        configure = getattr(model, "configure_inference", None)
        if options and callable(configure):
            configure(**options)
        return model
    path = model_dir(model if model is None or isinstance(model, (str, Path)) else Path(model))
    meta = read_meta(path)
    cls = backend_class(meta.get("backend"))
    return cls.load(path, **options)


def load(
    model: str | Path | None = None,
    *,
    device: str | None = None,
    precision: str | None = None,
    batch_size: int | None = None,
):
    """Load a model: the bundled default, a bundled name, or any saved model directory.

    Same as :func:`resolve` (which also accepts a fitted scorer).

    Args:
        model: ``None``/``"default"``, ``"linear"``, ``"lexicon"``,
            ``"transformer"``, or a model directory written by a scorer's
            ``save``, :func:`save`, ``lo-signals train`` or ``lo-signals finetune``.
        device: ``auto``, ``cpu``, ``cuda`` or ``mps`` (transformer backend).
        precision: ``fp32``, ``bf16``, ``fp16`` or ``int8`` (transformer backend).
        batch_size: Texts per forward pass (transformer backend).

    Returns:
        A fitted scorer with ``predict``, ``predict_proba`` and ``predict_aspirations``.
    """
    return resolve(model, device=device, precision=precision, batch_size=batch_size)


#: Layout of a model directory that meta.json records (2: own lexicon copy, file hashes).
FORMAT_VERSION = 2


def save(scorer: Any, path: str | Path, **options: Any) -> Path:
    """Write a fitted scorer as a model directory: ``scorer.save(path, **options)``.

    Args:
        scorer: A fitted scorer of any registered backend.
        path: Directory to write (created; existing files are overwritten).
        **options: ``name``, ``training_data``, ``metrics``, ``description``,
            ``extra_files`` and the rest of
            :meth:`~lo_signals.scorers.base.BaseScorer.save`.

    Returns:
        The directory path.
    """
    return scorer.save(path, **options)


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
    files: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``meta.json`` record for a model: the one place it is built.

    The lexicon recorded is the one the scorer was fitted with
    (``scorer.lexicon_data_``), or none for backends that use no lexicon.

    Args:
        scorer: The fitted scorer.
        name: Model name.
        params: Its parameters (JSON-ready after conversion of numpy scalars and tuples).
        training_data: ``{file name: sha256}`` of its training data.
        metrics: Evaluation results by split.
        description: A paragraph for the model card.
        labels: Label ids (default: ``scorer.labels_``).
        aspiration_labels: Aspiration ids (default: ``scorer.aspiration_labels_``).
        files: ``{file name: sha256}`` of the files the directory holds; checked on load.
        extra: Backend-specific fields.

    Returns:
        The ``meta.json`` contents.
    """
    lex = getattr(scorer, "lexicon_data_", None)
    meta = {
        "name": name,
        "backend": scorer.backend,
        "format_version": FORMAT_VERSION,
        "labels": list(labels if labels is not None else scorer.labels_),
        "aspiration_labels": list(aspiration_labels if aspiration_labels is not None else scorer.aspiration_labels_),
        "thresholds": [round(float(t), 4) for t in scorer.thresholds_],
        "aspiration_thresholds": [round(float(t), 4) for t in scorer.aspiration_thresholds_],
        "params": _jsonable(params),
        "versions": library_versions(),
        "lexicon": {"file": "lexicon.json", "version": lex.parsed().get("version"), "sha256": lex.sha256} if lex is not None else None,
        "files": dict(files or {}),
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


def _lexicon_line(lex: dict[str, Any] | None) -> str:
    if not lex:
        return "none (this backend uses no lexicon)"
    where = f", copied into this directory as `{lex['file']}`" if lex.get("file") else ""
    return f"{lex.get('version')} (sha256 `{str(lex.get('sha256'))[:12]}…`{where})"


def _natural_prevalence_lines(table: dict[str, Any] | None) -> list[str]:
    """The card's lead section: precision of what the model flags in unseen real documents, judged blind."""
    if not table:
        return []

    def cell(r: dict[str, Any]) -> str:
        p = r.get("precision", r.get("precision_judged"))
        if p is None:
            return "not judged"
        lo, hi = r.get("ci95", [0, 0])
        return f"{p:.2f} [{lo:.2f}, {hi:.2f}]"

    lines = [
        "## Precision at natural prevalence (read this first)",
        "",
        f"What this model flags in {table.get('units', 0):,} units of whole real documents from sources and genres it "
        f"never saw ({table.get('pool', 'the audit pool')}), judged blind and strictly; {table.get('command', '')}",
        "",
        "| label | flags per 100 units | judged | precision [95% CI] |",
        "|---|---|---|---|",
    ]
    for label, r in (table.get("per_label") or {}).items():
        lines.append(f"| `{label}` | {r['per_100']:.2f} | {r['judged']} | {cell(r)} |")
    a = table.get("all") or {}
    if a:
        weighted = a.get("precision_flag_weighted")
        lines.append(f"| all labels | {a['per_100']:.2f} | {a['judged']} | {cell(a)} |")
        if weighted is not None:
            lines += ["", f"Share of all its flags that are right (labels weighted by their flags): {weighted:.2f}."]
    regs = table.get("per_register") or {}
    if regs:
        lines += ["", "| register | units | flags per 100 units | judged | precision [95% CI] |", "|---|---|---|---|---|"]
        for reg, r in regs.items():
            lines.append(f"| {reg} | {r['units']} | {r['per_100']:.2f} | {r['judged']} | {cell(r)} |")
    return lines + [""]


def model_card(meta: dict[str, Any]) -> str:
    """Render a Markdown model card from ``meta.json`` contents."""
    lines = [f"# lo_signals model: {meta.get('name', '?')}", ""]
    if meta.get("description"):
        lines += [meta["description"], ""]
    lines += _natural_prevalence_lines(meta.get("natural_prevalence"))
    lines += [
        "## Summary",
        "",
        f"- backend: `{meta.get('backend')}`",
        f"- labels (column order of `predict_proba`): {', '.join('`%s`' % l for l in meta.get('labels', []))}",
        f"- aspiration labels: {', '.join('`%s`' % l for l in meta.get('aspiration_labels', []))}",
        f"- created: {meta.get('created')}",
        f"- library versions: {', '.join(f'{k} {v}' for k, v in meta.get('versions', {}).items())}",
        f"- lexicon: {_lexicon_line(meta.get('lexicon'))}",
        "",
        "## Thresholds",
        "",
        "| label | threshold | aspiration threshold |",
        "|---|---|---|",
    ]
    asp = dict(zip(meta.get("aspiration_labels", []), meta.get("aspiration_thresholds", [])))
    for label, thr in zip(meta.get("labels", []), meta.get("thresholds", [])):
        lines.append(f"| `{label}` | {thr:.2f} | {asp[label]:.2f} |" if label in asp else f"| `{label}` | {thr:.2f} | |")
    use = meta.get("data_use") or {}
    lines += ["", "## Data", ""]
    if use:
        lines.append(f"- fitted on: {', '.join(use.get('fit') or []) or 'nothing (this backend only tunes thresholds)'}")
        lines.append(f"- thresholds tuned on: {', '.join(use.get('tune_thresholds') or []) or 'nothing'}")
        lines.append(f"- held out (never used for fitting, tuning or choosing): {', '.join(use.get('held_out') or []) or 'none'}")
        lines.append("")
    lines += ["Files the fitting and tuning data came from:", ""]
    for fname, digest in (meta.get("training_data") or {}).items():
        lines.append(f"- `{fname}` sha256 `{digest}`")
    if meta.get("held_out_data"):
        lines += ["", "Files of the held-out test units:", ""]
        for fname, digest in meta["held_out_data"].items():
            lines.append(f"- `{fname}` sha256 `{digest}`")
    metrics = meta.get("metrics") or {}
    if metrics:
        held_out = set(use.get("held_out") or [])
        tuning = use.get("tuning_split")
        lines += ["", "## Evaluation", ""]
        for split, m in metrics.items():
            if not isinstance(m, dict):
                continue
            # Without a record of how the data was used, the split's name says it.
            if split == tuning or (not use and "dev" in split):
                role = "used to tune the thresholds: optimistic, not a held-out estimate"
            elif split in held_out or (not use and "test" in split):
                role = "held out"
            else:
                role = "use not recorded"
            lines.append(f"### {split} ({role})")
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
