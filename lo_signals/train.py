"""Rebuild the shipped scikit-learn models from the corpus, with a fixed seed.

``train_models`` fits the lexicon, linear and default (hybrid) backends on the
train split, tunes per-label thresholds on dev, evaluates on dev and test, and
writes one model directory per backend plus ``EVALUATION.md``. Transformer
fine-tuning lives in :mod:`lo_signals.finetuning`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._hashing import file_sha256
from .corpus import SPLITS, corpus_dir, read_labelled
from .evaluation import evaluate, markdown_table

__all__ = ["train_models", "BACKENDS", "DEFAULT_PARAMS"]

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


def train_models(
    corpus: str | Path | None = None,
    out: str | Path | None = None,
    backends: Sequence[str] = BACKENDS,
    seed: int = 0,
    n_boot: int = 1000,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Train, tune, evaluate and save the scikit-learn backends.

    Args:
        corpus: Corpus directory (``train/dev/test.jsonl``); found automatically when ``None``.
        out: Directory to write model directories into; the repository's ``models/`` when ``None``.
        backends: Which of ``lexicon``, ``linear``, ``default`` to build.
        seed: Seed for every random choice.
        n_boot: Bootstrap resamples for the recorded intervals.
        progress: Called with a short message at each step (the CLI prints them).

    Returns:
        ``{backend: model directory}``.
    """
    from .models import bundled_models_dir

    say = progress or (lambda _msg: None)
    root = corpus_dir(corpus)
    data = {split: read_labelled(root / f"{split}.jsonl") for split in SPLITS}
    hashes = {f"{split}.jsonl": file_sha256(root / f"{split}.jsonl") for split in SPLITS}
    out_dir = Path(out) if out is not None else bundled_models_dir()
    texts = {s: d.texts for s, d in data.items()}
    Y = {s: d.y for s, d in data.items()}
    A = {s: d.a for s, d in data.items()}
    written: dict[str, Path] = {}
    results: dict[str, Any] = {}
    for backend in backends:
        say(f"training {backend} on {len(texts['train'])} units")
        model = _build(backend, seed)
        if RECIPES[backend][2] == "dev":
            model.fit(texts["dev"], Y["dev"], aspirations=A["dev"])
        else:
            model.fit(
                texts["train"], Y["train"], aspirations=A["train"],
                X_dev=texts["dev"], y_dev=Y["dev"], aspirations_dev=A["dev"],
            )
        model.meta_ = {"name": backend}
        say(f"evaluating {backend} on dev and test")
        metrics = {
            split: evaluate(model, data[split], n_boot=n_boot, seed=seed)["models"][backend]
            for split in ("dev", "test")
        }
        for m in metrics.values():
            m.pop("model", None)
        results[backend] = metrics["test"]
        path = model.save(
            out_dir / backend,
            name=backend,
            training_data=hashes,
            metrics=metrics,
            description=_DESCRIPTIONS[backend],
        )
        written[backend] = path
    if set(backends) == set(BACKENDS):
        table = markdown_table(results)
        (out_dir / "EVALUATION.md").write_text(
            "# Shipped models on the corpus test split\n\n"
            f"Test split: {len(texts['test'])} units (`test.jsonl` sha256 `{hashes['test.jsonl'][:12]}…`), "
            "never used for fitting or tuning. Thresholds were tuned on dev. "
            "Reproduce with `lo-signals train` then `lo-signals evaluate --model lexicon --model linear "
            "--model default --data corpora/test.jsonl`.\n\n" + table + "\n",
            encoding="utf-8",
        )
    return written
