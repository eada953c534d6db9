"""Rebuild the shipped scikit-learn models from the corpora, with a fixed seed.

``train_models`` fits the lexicon, linear and default (hybrid) backends on the
written corpus's train split plus the real units' train split (rebuilt from
source snapshots, see ``corpora/real/SOURCES.md``), tunes per-label thresholds
on real dev, evaluates on the real and the written test splits, and writes
one model directory per backend plus ``EVALUATION.md``. Transformer
fine-tuning lives in :mod:`lo_signals.finetuning`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._hashing import file_sha256
from .corpus import SPLITS, LabelledData, corpus_dir, labelled_from_rows, read_jsonl
from .evaluation import evaluate, markdown_table

__all__ = [
    "train_models", "training_data", "export_fitting_data", "TrainingData", "BACKENDS", "DEFAULT_PARAMS", "REAL_REPEAT",
    "DEFAULT_OUT",
]

#: Where ``train_models`` writes when no folder is named: relative to the
#: working directory, never inside the installed package.
DEFAULT_OUT = Path("models-trained")

#: Times each real training unit is repeated in the training set. The real
#: units are what the models must handle, and the written corpus outnumbers
#: them in label positives; chosen on real dev (benchmarks/real_select.py).
REAL_REPEAT = 1

#: Hyper-parameters of the shipped default (chosen on dev, see benchmarks/README.md).
DEFAULT_PARAMS: dict[str, Any] = {
    "features": "hybrid",
    "C": 16.0,
    "char_ngrams": (3, 5),
    "lexicon_weight": 1.0,
    "rhetoric_discount": 0.5,
}
#: The plain baseline: TF-IDF and logistic regression, nothing else.
LINEAR_PARAMS: dict[str, Any] = {"features": "tfidf", "C": 4.0, "char_ngrams": (2, 5)}

BACKENDS = ("lexicon", "linear", "default")

_DESCRIPTIONS = {
    "lexicon": "Rule backend: spaCy Matcher patterns from lo_signals/data/lexicon.json with negation scope and a rhetoric cue; thresholds tuned on dev.",
    "linear": "Linear backend: word 1-2-gram and character 2-5-gram TF-IDF, one class-balanced logistic regression per label and per aspiration; thresholds tuned on dev.",
    "default": "The bundled default: word and character TF-IDF plus negation-scope marking and lexicon features (evidence, negated and rhetorical hits per label), one logistic regression per label and aspiration, and a rhetoric discount (a sign's evidence probability times (1 - its aspiration probability)^0.5); thresholds tuned on dev.",
}


#: How each shipped model is built: (registered backend, constructor parameters,
#: split it is fitted on). The lexicon backend only tunes thresholds, so it sees dev only.
RECIPES: dict[str, tuple[str, dict[str, Any], str]] = {
    "lexicon": ("lexicon", {}, "dev"),
    "linear": ("linear", LINEAR_PARAMS, "train"),
    "default": ("linear", DEFAULT_PARAMS, "train"),
}


def _build(name: str, seed: int):
    from .models import backend_class

    if name not in RECIPES:
        raise ValueError(f"unknown backend {name!r}; choose from {BACKENDS}")
    backend, params, _ = RECIPES[name]
    model = backend_class(backend)(**params)
    if "random_state" in model.get_params():
        model.set_params(random_state=seed)
    return model


@dataclass(frozen=True)
class TrainingData:
    """What the shipped models are fitted, tuned and tested on.

    Attributes:
        train: Fitting data (written train, plus real train when used).
        dev: Threshold-tuning data (real dev when real units are used, else written dev).
        tests: Named test sets, real first: ``{"real_test": ..., "written_test": ...}``.
        hashes: sha256 of every file the fitting and tuning data came from
            (``training_data`` in ``meta.json``); a file of held-out units
            only is not among them.
        real: Whether real units are in it.
        held_out: sha256 of the files the test sets came from.
        use: What each part was used for, for the model card: ``fit`` and
            ``tune_thresholds`` (descriptions of the splits) and ``held_out``
            (the test set names, never used for fitting, tuning or choosing).
        pool: The natural-text pool and the sha256 of ``train_units.jsonl``,
            added to the fitting data of :data:`POOL_BACKENDS` only.
    """

    train: LabelledData
    dev: LabelledData
    tests: dict[str, LabelledData]
    hashes: dict[str, str]
    real: bool
    held_out: dict[str, str] = field(default_factory=dict)
    use: dict[str, list[str]] = field(default_factory=dict)
    pool: tuple[LabelledData, str] | None = None


def training_data(
    corpus: str | Path | None = None,
    real: bool = True,
    snapshots: str | Path | None = None,
    real_repeat: int = REAL_REPEAT,
    pool: bool = True,
) -> TrainingData:
    """Assemble the training, tuning and test data of the shipped models.

    Args:
        corpus: Written corpus directory (``train/dev/test.jsonl``); found
            automatically when ``None``.
        real: Add the stand-off real units (``corpora/real``), rebuilt from
            the source snapshots. Without them the models learn only the
            written corpus, which transfers poorly to real documents.
        snapshots: Folder of source snapshots (default:
            ``$LO_SIGNALS_SNAPSHOTS`` or ``corpora/real/snapshots``).
        real_repeat: Times each real training unit is repeated.
        pool: With ``real``, load the natural-text pool of training sources
            (``corpora/audit/train_units.jsonl``: hard negatives and judged
            flags; see :func:`pool_rows`) when the repository has it; the
            default backend is fitted with it.

    Returns:
        :class:`TrainingData`.

    Raises:
        lo_signals.standoff.SnapshotError: When ``real`` and a snapshot is
            missing; the message names each source and how to fetch it.
    """
    root = corpus_dir(corpus)
    sha = {split: file_sha256(root / f"{split}.jsonl") for split in SPLITS}
    written = {split: read_jsonl(root / f"{split}.jsonl") for split in SPLITS}
    tests = {"written_test": labelled_from_rows(written["test"], source=str(root / "test.jsonl"))}
    held_out = {"test.jsonl": sha["test"]}
    if not real:
        return TrainingData(
            labelled_from_rows(written["train"], source=str(root / "train.jsonl")),
            labelled_from_rows(written["dev"], source=str(root / "dev.jsonl")),
            tests, {"train.jsonl": sha["train"], "dev.jsonl": sha["dev"]}, False, held_out,
            {"fit": ["written train (train.jsonl)"], "tune_thresholds": ["written dev (dev.jsonl)"], "held_out": ["written_test"]},
        )
    from .standoff import load_real_split, real_corpus_dir

    real_rows = {split: load_real_split(split, snapshots) for split in SPLITS}
    units_sha = file_sha256(real_corpus_dir() / "units.jsonl")
    # Written dev is not used when the real units are: real dev tunes the thresholds.
    hashes = {"train.jsonl": sha["train"], "real/units.jsonl": units_sha}
    train = labelled_from_rows(written["train"] + real_rows["train"] * real_repeat, source="written + real train")
    dev = labelled_from_rows(real_rows["dev"], source="real dev")
    use = {
        "fit": ["written train (train.jsonl)", "real train (the train split of real/units.jsonl)"],
        "tune_thresholds": ["real dev (the dev split of real/units.jsonl)"],
        "held_out": ["real_test", "written_test"],
    }
    tests = {"real_test": labelled_from_rows(real_rows["test"], source="real test"), **tests}
    natural = None
    if pool and POOL_UNITS.is_file():
        rows, pool_sha = pool_rows(snapshots)
        natural = (labelled_from_rows(rows, source="natural pool"), pool_sha)
    return TrainingData(train, dev, tests, hashes, True, {**held_out, "real/units.jsonl (test split)": units_sha}, use, natural)


#: Backends fitted with the natural-text pool too (the others keep their earlier recipe).
POOL_BACKENDS = ("default",)


def _with_pool(data: TrainingData, backend: str) -> tuple[LabelledData, dict[str, str], dict[str, list[str]]]:
    """The fitting data, data hashes and data use of one backend: the pool is added for :data:`POOL_BACKENDS`."""
    use = {k: list(v) for k, v in data.use.items()}
    if data.pool is None or backend not in POOL_BACKENDS:
        return data.train, dict(data.hashes), use
    extra, digest = data.pool
    train = LabelledData(
        texts=list(data.train.texts) + list(extra.texts),
        y=np.vstack([data.train.y, extra.y]),
        a=np.vstack([data.train.a, extra.a]) if data.train.a is not None and extra.a is not None else None,
        registers=list(data.train.registers) + list(extra.registers),
        labels=data.train.labels,
        aspiration_labels=data.train.aspiration_labels,
    )
    use["fit"].append(f"natural-text pool of training sources (audit/train_units.jsonl: {len(extra)} units, judged flags and negatives)")
    return train, {**data.hashes, "audit/train_units.jsonl": digest}, use


def export_fitting_data(out: str | Path, snapshots: str | Path | None = None, pool: bool = True) -> dict[str, Path]:
    """Write the default's fitting and tuning data as corpus JSONL, for :func:`lo_signals.finetuning.finetune`.

    The same units the shipped default is fitted on (written train, real
    train and, with ``pool``, the natural-text pool of training sources) go to
    ``train.jsonl``; real dev goes to ``dev.jsonl``. The texts of real and
    pool units are rebuilt from the source snapshots, so ``out`` must not be
    committed (``corpora/audit/build/`` is ignored by git).

    Args:
        out: Folder to write ``train.jsonl`` and ``dev.jsonl`` into (created).
        snapshots: Folder of source snapshots.
        pool: Add the natural-text pool to the fitting data.

    Returns:
        ``{"train": path, "dev": path}``.
    """
    import json

    data = training_data(real=True, snapshots=snapshots, pool=pool)
    fit, _, _ = _with_pool(data, "default")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, d in (("train", fit), ("dev", data.dev)):
        rows = []
        for i, text in enumerate(d.texts):
            labels = [lab for lab, v in zip(d.labels, d.y[i]) if v]
            asps = [lab for lab, v in zip(d.aspiration_labels, d.a[i]) if v] if d.a is not None else []
            rows.append({"text": text, "labels": labels, "aspirations": asps, "register": d.registers[i]})
        paths[name] = out / f"{name}.jsonl"
        paths[name].write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return paths


#: The natural-text training pool (stand-off; corpora/audit/pool.py) and the blind judgements of its flags.
POOL_UNITS = Path(__file__).resolve().parent.parent / "corpora" / "audit" / "train_units.jsonl"
JUDGEMENTS = POOL_UNITS.parent / "judgements.jsonl"


def judgement_key(sha256: str, label: str) -> str:
    """The key of a blind judgement in ``judgements.jsonl``: the unit's text hash (first 20 hex digits) and the label asked about."""
    return f"{sha256[:20]}:{label}"


def pool_rows(snapshots: str | Path | None = None) -> tuple[list[dict[str, Any]], str]:
    """Training rows from the natural-text pool: negatives, and held-back flags with their judged labels.

    A held-back unit (one the model of the day flagged or nearly flagged) is
    used only when every label it was flagged for has been judged; its labels
    are those judged right. Texts are rebuilt from the source snapshots and
    hash-checked (cached in ``corpora/audit/build/train_units.cache.jsonl``).

    Args:
        snapshots: Folder of source snapshots.

    Returns:
        ``(rows, sha256 of train_units.jsonl)``; rows have ``text``, ``labels``, ``aspirations``, ``register``.
    """
    import json

    from .standoff import rebuild_texts

    raw = POOL_UNITS.read_bytes()
    digest = file_sha256(POOL_UNITS)
    records = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
    judged = {}
    if JUDGEMENTS.is_file():
        for line in JUDGEMENTS.read_text(encoding="utf-8").splitlines():
            if line.strip():
                j = json.loads(line)
                judged[j["key"]] = j["final"] == "yes"
    cache = POOL_UNITS.parent / "build" / "train_units.cache.jsonl"
    texts: dict[str, str] = {}
    if cache.is_file():
        first, *rest = cache.read_text(encoding="utf-8").splitlines()
        if first == digest:
            texts = {r["sha256"]: r["text"] for r in map(json.loads, rest)}
    if len(texts) < len(records):
        rebuilt = rebuild_texts(records, snapshots)
        texts = {r["sha256"]: r["text"] for r in rebuilt}
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(digest + "\n" + "".join(json.dumps({"sha256": k, "text": v}) + "\n" for k, v in texts.items()), encoding="utf-8")
    rows = []
    for r in records:
        labels: list[str] = []
        if r["role"] == "held_back":
            keys = [judgement_key(r["sha256"], label) for label in r["asked"]]
            if not all(k in judged for k in keys):
                continue  # not judged yet: neither a negative nor a positive
            labels = [label for label, k in zip(r["asked"], keys) if judged[k]]
        rows.append({"text": texts[r["sha256"]], "labels": labels, "aspirations": [], "register": r["register"]})
    return rows, digest


#: Precision-first thresholds chosen on the natural-prevalence dev pool, per backend (see corpora/audit/audit.py).
PRECISION_THRESHOLDS = {"default": Path(__file__).resolve().parent.parent / "corpora" / "audit" / "thresholds-default.json"}


def _precision_first_thresholds(backend: str) -> dict[str, Any] | None:
    """The recorded precision-first thresholds of a backend, when the repository has them."""
    import json

    path = PRECISION_THRESHOLDS.get(backend)
    if path is None or not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def train_models(
    corpus: str | Path | None = None,
    out: str | Path | None = None,
    backends: Sequence[str] = BACKENDS,
    seed: int = 0,
    n_boot: int = 1000,
    progress: Callable[[str], None] | None = None,
    real: bool = True,
    snapshots: str | Path | None = None,
    pool: bool = True,
) -> dict[str, Path]:
    """Train, tune, evaluate and save the scikit-learn backends.

    Args:
        corpus: Written corpus directory (``train/dev/test.jsonl``); found automatically when ``None``.
        out: Directory to write model directories into (created); ``./models-trained``
            (:data:`DEFAULT_OUT`, in the working directory) when ``None``. Training
            never writes into the installed package unless ``out`` names it.
        backends: Which of ``lexicon``, ``linear``, ``default`` to build.
        seed: Seed for every random choice.
        n_boot: Bootstrap resamples for the recorded intervals.
        progress: Called with a short message at each step (the CLI prints them).
        real: Train on the real units too and tune on real dev (see :func:`training_data`).
        snapshots: Folder of source snapshots for the real units (and the natural-text pool).
        pool: Fit the default on the natural-text pool too (see :func:`training_data`);
            without it the default differs from the shipped one.

    Returns:
        ``{backend: model directory}``.
    """
    say = progress or (lambda _msg: None)
    data = training_data(corpus, real=real, snapshots=snapshots, pool=pool)
    out_dir = Path(out) if out is not None else DEFAULT_OUT
    written: dict[str, Path] = {}
    results: dict[str, dict[str, Any]] = {name: {} for name in data.tests}
    for backend in backends:
        fit_data, fit_hashes, fit_use = _with_pool(data, backend)
        say(f"training {backend} on {len(fit_data)} units, tuning on {len(data.dev)}")
        model = _build(backend, seed)
        if RECIPES[backend][2] == "dev":
            model.fit(data.dev.texts, data.dev.y, aspirations=data.dev.a)
        else:
            model.fit(
                fit_data.texts, fit_data.y, aspirations=fit_data.a,
                X_dev=data.dev.texts, y_dev=data.dev.y, aspirations_dev=data.dev.a,
            )
        precision_first = _precision_first_thresholds(backend) if data.real else None
        if precision_first is not None:
            # The shipped default's thresholds are chosen for precision on a
            # natural-prevalence dev pool, judged blind (corpora/audit/audit.py
            # thresholds): real dev's cue-selected positives overstate precision.
            model.thresholds_ = np.asarray([precision_first["thresholds"][label] for label in model.labels_], dtype=float)
        model.meta_ = {"name": backend}
        say(f"evaluating {backend} on " + ", ".join(["dev", *data.tests]))
        sets = {"real_dev" if data.real else "dev": data.dev, **data.tests}
        metrics = {name: evaluate(model, d, n_boot=n_boot, seed=seed)["models"][backend] for name, d in sets.items()}
        for m in metrics.values():
            m.pop("model", None)
        for name in data.tests:
            results[name][backend] = metrics[name]
        tuned_only = RECIPES[backend][2] == "dev"
        use = fit_use
        if tuned_only:  # the lexicon backend fits nothing: dev only sets its thresholds
            use["fit"] = []
        use["tuning_split"] = "real_dev" if data.real else "dev"
        extra = {"data_use": use, "held_out_data": data.held_out}
        if precision_first is not None:
            # The judged dev-pool flags are tuning data too: the record of the choice stands for them.
            fit_hashes = {**fit_hashes, "audit/thresholds-default.json": file_sha256(PRECISION_THRESHOLDS[backend])}
            use["tune_thresholds"] = ["audit dev pool (judged flags of natural-prevalence text) for precision", *use.get("tune_thresholds", [])]
            extra["threshold_source"] = {k: precision_first[k] for k in ("pool", "target_precision", "min_labelled_dev_recall")}
            extra["threshold_source"]["file"] = "corpora/audit/thresholds-default.json"
        path = model.save(
            out_dir / backend,
            name=backend,
            # A backend that only tunes thresholds learnt nothing from the train split.
            training_data={k: v for k, v in fit_hashes.items() if k != "train.jsonl"} if tuned_only else fit_hashes,
            metrics=metrics,
            description=_DESCRIPTIONS[backend],
            extra=extra,
        )
        written[backend] = path
    if set(backends) == set(BACKENDS):
        sections = []
        for name, res in results.items():
            title = {"real_test": "Real test split (stand-off real documents)", "written_test": "Written test split"}[name]
            sections.append(f"## {title}: {len(data.tests[name])} units\n\n" + markdown_table(res) + "\n")
        tuned = "real dev" if data.real else "written dev"
        (out_dir / "EVALUATION.md").write_text(
            "# Shipped models on the test splits\n\n"
            f"Fitted on {len(data.train)} units ({'written train plus real train' if data.real else 'written train'}), "
            f"thresholds tuned on {tuned} ({len(data.dev)} units); the test splits were never used for fitting, tuning "
            "or choosing. "
            + (f"The default is also fitted on the natural-text pool ({len(data.pool[0])} units of training sources, "
               "corpora/audit/train_units.jsonl) and its thresholds are chosen precision-first on the natural-prevalence "
               "dev pool (corpora/audit/thresholds-default.json). " if data.pool is not None else "")
            + "Reproduce with `lo-signals train`, then "
            "`lo-signals evaluate --model lexicon --model linear --model default --data corpora/real/build/test.jsonl` "
            "(real, after `python corpora/real/build.py rebuild`) and `--data corpora/test.jsonl` (written).\n\n"
            + "\n".join(sections),
            encoding="utf-8",
        )
    return written
