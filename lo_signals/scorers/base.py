"""What every scorer shares: input checks, thresholds and the predict verbs.

A scorer is a scikit-learn style estimator over lists of strings. It returns
probabilities for the five evidence labels (columns in ``labels_`` order, which
is :data:`lo_signals.labels.LABELS` for the shipped models) and for the four
signs invoked as rhetoric (``aspiration_labels_``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..quality import QUALITY_OK, quality_flags

__all__ = ["Scorer", "BaseScorer", "check_texts", "is_missing", "tune_thresholds", "NotFittedError", "LongTextWarning"]


class NotFittedError(RuntimeError):
    """Raised when a scorer is used before ``fit`` (or ``load``)."""


class LongTextWarning(UserWarning):
    """Some texts were scored in pieces or in part; ``scorer.text_warnings(texts)`` says which and how."""


@runtime_checkable
class Scorer(Protocol):
    """The interface every backend implements."""

    labels_: tuple[str, ...]
    aspiration_labels_: tuple[str, ...]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...

    def predict_aspirations_proba(self, texts: Sequence[str]) -> np.ndarray: ...

    def predict_all(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[list[str]], list[list[str]]]: ...

    def predict(self, texts: Sequence[str]) -> list[list[str]]: ...

    def predict_aspirations(self, texts: Sequence[str]) -> list[list[str]]: ...


def is_missing(value: Any) -> bool:
    """Whether a text is a missing value: ``None``, a float NaN (``numpy.nan`` too), ``pandas.NA`` or ``NaT``.

    Decided here once for every path: a missing text is an empty one, which
    is never a unit and never gets a label.
    """
    if value is None:
        return True
    if isinstance(value, float):
        return value != value
    # pandas' own missing markers, recognised without importing pandas.
    return type(value).__name__ in ("NAType", "NaTType")


def check_texts(texts: Any) -> list[str]:
    """Validate the ``texts`` argument of every predict verb.

    Missing values (``None``, NaN, ``pandas.NA``: :func:`is_missing`) are
    read as empty texts, which get no label, as a blank cell does in a run
    and in :func:`lo_signals.score_frame`: a column with gaps can be passed
    as it is.

    Args:
        texts: A list, tuple, numpy array or pandas Series of strings
            (``numpy.str_`` included) and missing values.

    Returns:
        The texts as a list of plain ``str`` (``""`` for a missing value).

    Raises:
        TypeError: If ``texts`` is a single string, not a sequence, or holds an
            item that is neither a string nor missing (a number, say).
    """
    if isinstance(texts, (str, bytes)):
        raise TypeError("texts must be a list of strings, not a single string; wrap it: [text]")
    # pandas Series and numpy arrays are accepted: they iterate as values.
    if not hasattr(texts, "__iter__") or isinstance(texts, dict):
        raise TypeError(f"texts must be a list of strings, got {type(texts).__name__}")
    out = list(texts)
    for i, text in enumerate(out):
        if type(text) is not str:
            if is_missing(text):
                out[i] = ""
                continue
            if not isinstance(text, str):
                raise TypeError(f"texts[{i}] is {type(text).__name__}, expected str (or None/NaN for a missing text)")
            # numpy.str_ and other str subclasses: spaCy and tokenizers want plain str.
            out[i] = str(text)
    return out


def tune_thresholds(y_true: np.ndarray, proba: np.ndarray, grid: np.ndarray | None = None) -> np.ndarray:
    """Pick, per column, the probability cut-off that maximises F1.

    Ties go to the threshold nearest 0.5, so a flat F1 curve does not push the
    cut-off to an extreme that would not transfer to new data.

    Args:
        y_true: ``(n, k)`` 0/1 gold labels.
        proba: ``(n, k)`` predicted probabilities.
        grid: Candidate thresholds; defaults to 0.05 .. 0.90.

    Returns:
        ``(k,)`` thresholds.
    """
    grid = np.round(np.arange(0.05, 0.901, 0.01), 2) if grid is None else np.asarray(grid)
    y_true = np.asarray(y_true).astype(bool)
    out = np.full(y_true.shape[1], 0.5)
    for j in range(y_true.shape[1]):
        best, best_key = 0.5, (-1.0, 0.0)
        positives = y_true[:, j].sum()
        for t in grid:
            pred = proba[:, j] >= t
            tp = np.sum(pred & y_true[:, j])
            denom = pred.sum() + positives
            f1 = 2 * tp / denom if denom else 0.0
            key = (round(float(f1), 4), -abs(t - 0.5))
            if key > best_key:
                best, best_key = float(t), key
        out[j] = best
    return out


class BaseScorer:
    """Shared predict verbs over ``predict_proba`` and ``predict_aspirations_proba``.

    Subclasses implement ``_proba(texts) -> (labels (n, L), aspirations (n, A))``
    on units that pass the unit-quality gate; blank units, units not in
    English and non-units (:mod:`lo_signals.quality`) are answered here with
    zeros so that they never get a label, whatever the backend or the path.
    """

    backend: str = "base"

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> "BaseScorer":
        """Read a model directory written by :meth:`save` (or ``lo-signals train``/``finetune``).

        Args:
            path: The model directory.
            **options: Inference options (``device``, ``precision``,
                ``batch_size``); backends that only run on the CPU ignore them.

        Returns:
            The fitted scorer, with ``meta_`` (the parsed ``meta.json``) and ``path_`` set.

        Raises:
            ValueError: If the directory holds another backend or its labels do not match its weights.
        """
        from ..models import read_meta

        from .._hashing import file_sha256

        path = Path(path)
        meta = read_meta(path)
        for fname, digest in (meta.get("files") or {}).items():
            # Only plain names inside the directory: meta.json must not point elsewhere.
            own = path / Path(fname).name
            if not own.is_file() or file_sha256(own) != digest:
                raise ValueError(f"{own} is missing or changed since the model was saved (sha256 recorded in meta.json)")
        scorer = cls._from_dir(path, meta, **options)
        if tuple(meta.get("labels", ())) != tuple(scorer.labels_):
            raise ValueError(f"{path}: labels in meta.json do not match the weights")
        scorer.meta_ = meta
        scorer.path_ = str(path)
        return scorer

    @classmethod
    def _from_dir(cls, path: Path, meta: dict[str, Any], **options: Any) -> "BaseScorer":  # pragma: no cover - abstract
        """Build the fitted scorer from a directory and its ``meta.json`` (each backend implements it)."""
        raise NotImplementedError

    def _save_weights(self, path: Path) -> list[str]:
        """Write the learned state into ``path``; return the names of the files written."""
        return []

    def _meta_extra(self) -> dict[str, Any]:
        """Backend-specific ``meta.json`` fields."""
        return {}

    def save(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        training_data: dict[str, str] | None = None,
        metrics: dict[str, Any] | None = None,
        description: str = "",
        params: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        extra_files: dict[str, str] | None = None,
    ) -> Path:
        """Write this fitted scorer as a model directory that :meth:`load` and :func:`lo_signals.load` read.

        The directory holds the weights, a copy of the lexicon the scorer was
        fitted with (if it uses one), ``meta.json`` (with the sha256 of every
        file, checked on load) and a ``README.md`` model card.

        Args:
            path: Directory to write (created; existing files are overwritten).
            name: Short model name (default: the directory's name).
            training_data: ``{file name: sha256}`` of the training data.
            metrics: Evaluation results to record, by split.
            description: A paragraph for the model card.
            params: Parameters to record (default: :meth:`get_params`).
            extra: More ``meta.json`` fields.
            extra_files: ``{file name: text}`` written beside the weights.

        Returns:
            The directory path.
        """
        from .._hashing import file_sha256
        from ..models import make_meta, write_meta

        self._check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        files = list(self._save_weights(path))
        lexicon = getattr(self, "lexicon_data_", None)
        if lexicon is not None:
            (path / "lexicon.json").write_bytes(lexicon.raw)
            files.append("lexicon.json")
        for fname, text in (extra_files or {}).items():
            (path / fname).write_text(text, encoding="utf-8")
        if params is None:
            # A lexicon path names a file on this machine; the copy in the directory replaces it.
            params = {k: (None if k == "lexicon_path" else v) for k, v in self.get_params().items()}
        meta = make_meta(
            self,
            name=name or path.name,
            params=params,
            training_data=training_data,
            metrics=metrics,
            description=description,
            files={f: file_sha256(path / f) for f in files},
            extra={**self._meta_extra(), **(extra or {})},
        )
        write_meta(path, meta)
        self.meta_ = meta
        self.path_ = str(path)
        return path

    def _check_fitted(self) -> None:
        if not hasattr(self, "thresholds_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit() or lo_signals.load()")

    def _proba(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def text_warnings(self, texts: Sequence[str]) -> list[str | None]:
        """Per text, a note when this scorer will not score it in full, else ``None``.

        Every text is always scored (never an error for length); a backend that
        must cut a long text into pieces, or read only its start, says so here.
        The predict verbs also emit one :class:`LongTextWarning` per call when
        any note applies, so a batch caller can record the notes per unit and
        silence the warning.

        Args:
            texts: List of strings.

        Returns:
            One entry per text: a short message, or ``None``.
        """
        return [None] * len(check_texts(texts))

    def truncated(self, texts: Sequence[str]) -> list[bool]:
        """Per text, whether this scorer reads only part of it (``truncated`` in ``sentences.csv``).

        Backends that read every character (the lexicon and linear models)
        say ``False`` throughout; one that cuts its input, such as the
        transformer at ``max_length`` tokens, overrides this. A truncated
        text always has a note in :meth:`text_warnings`.

        Args:
            texts: List of strings.

        Returns:
            One flag per text.
        """
        return [False] * len(check_texts(texts))

    def predict_all_proba(self, texts: Sequence[str], quality: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Both probability tables in one pass.

        Args:
            texts: List of strings.
            quality: The texts' :meth:`unit_quality`, when the caller has
                already computed it (the batch pipeline writes it to
                ``sentences.csv``), so that it is not computed twice.

        Returns:
            ``(labels_proba (n, len(labels_)), aspirations_proba (n, len(aspiration_labels_)))``.
        """
        texts = check_texts(texts)
        self._check_fitted()
        notes = [w for w in self.text_warnings(texts) if w]
        if notes:
            warnings.warn(
                LongTextWarning(f"{len(notes)} text(s) not scored in full, e.g. {notes[0]}; see scorer.text_warnings(texts)"),
                stacklevel=3,
            )
        n = len(texts)
        label_p = np.zeros((n, len(self.labels_)), dtype=np.float64)
        asp_p = np.zeros((n, len(self.aspiration_labels_)), dtype=np.float64)
        # The unit contract, decided here for every backend and every path:
        # blank units, units not in English and non-units (headings, fragments,
        # questions, page furniture: lo_signals.quality) get zeros, so no label.
        quality = self.unit_quality(texts) if quality is None else list(quality)
        if len(quality) != n:
            raise ValueError(f"quality has {len(quality)} entries for {n} texts")
        keep = [i for i, q in enumerate(quality) if q == QUALITY_OK]
        if keep:
            lp, ap = self._proba([texts[i] for i in keep])
            label_p[keep] = lp
            asp_p[keep] = ap
        return label_p, asp_p

    def unit_quality(self, texts: Sequence[str]) -> list[str]:
        """Per text, ``"ok"`` or why it is a non-unit that gets no label (:func:`lo_signals.quality.unit_quality`).

        Args:
            texts: List of strings.

        Returns:
            One entry per text.
        """
        return quality_flags(check_texts(texts))

    def _decide_both(self, label_p: np.ndarray, asp_p: np.ndarray) -> tuple[list[list[str]], list[list[str]]]:
        """Labels and aspirations; a sign found as evidence is not also an aspiration of the same unit.

        A unit that reports practice and restates it as a value ("We changed the
        handover after the audit and it works better; we will keep learning")
        is evidence of that sign (LABELS.md rule 2: labelled for what it
        reports), so evidence wins over aspiration for the same sign.
        """
        labels = self._decide(label_p, self.thresholds_, self.labels_)
        asps = self._decide(asp_p, self.aspiration_thresholds_, self.aspiration_labels_)
        asps = [[a for a in row_a if a not in set(row_l)] for row_l, row_a in zip(labels, asps)]
        return labels, asps

    def predict_all(self, texts: Sequence[str], quality: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray, list[list[str]], list[list[str]]]:
        """Probabilities and decisions for both fields in one pass.

        Args:
            texts: List of strings.
            quality: The texts' :meth:`unit_quality`, if already computed.

        Returns:
            ``(labels_proba, aspirations_proba, labels, aspirations)``.
        """
        label_p, asp_p = self.predict_all_proba(texts, quality)
        labels, asps = self._decide_both(label_p, asp_p)
        return label_p, asp_p, labels, asps

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probability of each evidence label.

        Args:
            texts: List of strings; empty strings get zeros.

        Returns:
            ``(n, len(labels_))`` array, columns in ``labels_`` order.
        """
        return self.predict_all_proba(texts)[0]

    def predict_aspirations_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probability that each sign is invoked as rhetoric (LABELS.md rule 2)."""
        return self.predict_all_proba(texts)[1]

    def predict(self, texts: Sequence[str]) -> list[list[str]]:
        """Label ids whose probability reaches the label's tuned threshold."""
        proba = self.predict_proba(texts)
        return self._decide(proba, self.thresholds_, self.labels_)

    def predict_aspirations(self, texts: Sequence[str]) -> list[list[str]]:
        """Sign ids invoked as aspiration, plan, recommendation or value (never a sign the unit evidences)."""
        return self.predict_all(texts)[3]

    @staticmethod
    def _decide(proba: np.ndarray, thresholds: np.ndarray, labels: Sequence[str]) -> list[list[str]]:
        on = proba >= np.asarray(thresholds)[None, :]
        # A zero probability never passes, even where a threshold tuned to 0 would let it.
        on &= proba > 0
        return [[labels[j] for j in np.flatnonzero(row)] for row in on]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters (scikit-learn convention)."""
        import inspect

        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> "BaseScorer":
        """Set constructor parameters (scikit-learn convention).

        Raises:
            ValueError: Naming any key that is not a constructor parameter.
        """
        valid = self.get_params()
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise ValueError(f"{type(self).__name__} has no parameter(s) {unknown}; valid: {sorted(valid)}")
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

