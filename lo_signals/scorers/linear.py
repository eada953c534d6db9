"""Linear backends: TF-IDF (word and character n-grams) with one logistic regression per label.

``features="tfidf"`` is the plain linear baseline. ``features="hybrid"`` adds
what a bag of n-grams cannot see: negation scope (tokens after "no", "never",
"nobody"... are marked, so "no blame culture" is not "blame culture") and the
lexicon's per-label hit counts split into evidence, negated and rhetorical
hits. The hybrid is the bundled default model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..labels import LABELS, SIGNS, label_matrix
from .base import BaseScorer, check_texts, tune_thresholds
from .lexicon import NEGATION_WORD_WINDOW, LexiconData, LexiconUser

__all__ = ["LinearScorer", "mark_negation"]

_WORD_RE = re.compile(r"[A-Za-z0-9£%][A-Za-z0-9'’\-]*|[.,;:!?]")
_BREAKS = {".", ",", ";", ":", "!", "?", "but", "however", "although", "though", "whereas", "yet", "while"}


def mark_negation(text: str, cues: frozenset[str], window: int = NEGATION_WORD_WINDOW) -> str:
    """Lower-case and tokenise ``text``, prefixing words in a negation scope with ``neg_``.

    The scope is the ``window`` words after a negation cue, cut short at
    punctuation or a contrastive conjunction. Words ending in "n't" are cues.

    Args:
        text: A unit of text.
        cues: Negation cue words (lower case).
        window: How many words a cue reaches (the model's scope is
            :data:`~lo_signals.scorers.lexicon.NEGATION_WORD_WINDOW`, defined
            beside the lexicon's own).

    Returns:
        The rewritten text, tokens joined by single spaces.
    """
    out = []
    left = 0
    for tok in _WORD_RE.findall(text.lower().replace("’", "'")):
        if tok in _BREAKS:
            left = 0
            out.append(tok)
            continue
        if left > 0:
            out.append("neg_" + tok)
            left -= 1
        else:
            out.append(tok)
        if tok in cues or tok.endswith("n't"):
            left = window
    return " ".join(out)


class LinearScorer(LexiconUser, BaseScorer):
    """TF-IDF plus logistic regression, one binary model per label.

    Args:
        features: ``"tfidf"`` (word and character n-grams) or ``"hybrid"``
            (adds negation marking and lexicon features).
        C: Inverse regularisation strength of each logistic regression.
        word_ngrams: n-gram range of the word vectoriser.
        char_ngrams: n-gram range of the character (``char_wb``) vectoriser.
        max_char_features: Cap on the character vocabulary (keeps the model small).
        lexicon_weight: Scale of the lexicon feature block (hybrid only).
        class_weight: Passed to each logistic regression.
        rhetoric_discount: Exponent ``k`` of the rhetoric discount: each sign's
            evidence probability is multiplied by ``(1 - p_aspiration)^k`` for the
            same sign, so a unit that mainly invokes a sign as an aim is not
            counted as evidence of it (LABELS.md rule 2). 0 turns it off.
        cv: Folds used to tune thresholds when no dev set is given to ``fit``.
        random_state: Seed for everything random in ``fit``.
        lexicon_path: Lexicon JSON file for the hybrid features; ``None`` for
            the packaged one. ``fit`` keeps its bytes and ``save`` copies them
            into the model directory.
    """

    backend = "linear"

    def __init__(
        self,
        features: str = "hybrid",
        C: float = 4.0,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] = (2, 5),
        max_char_features: int = 60000,
        lexicon_weight: float = 1.0,
        class_weight: str | None = "balanced",
        rhetoric_discount: float = 0.0,
        cv: int = 5,
        random_state: int = 0,
        lexicon_path: str | None = None,
    ) -> None:
        self.features = features
        self.C = C
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.max_char_features = max_char_features
        self.lexicon_weight = lexicon_weight
        self.class_weight = class_weight
        self.rhetoric_discount = rhetoric_discount
        self.cv = cv
        self.random_state = random_state
        self.lexicon_path = lexicon_path

    # -- features -------------------------------------------------------------

    def _word_input(self, texts: Sequence[str]) -> list[str]:
        if self.features == "hybrid":
            cues = frozenset(self.lexicon.neg_cues)
            return [mark_negation(t, cues, NEGATION_WORD_WINDOW) for t in texts]
        return [t.lower() for t in texts]

    def text_warnings(self, texts: Sequence[str]) -> list[str | None]:
        """Per text, a note when it is too long for the lexicon in one piece (hybrid only), else ``None``."""
        if self.features != "hybrid":
            return BaseScorer.text_warnings(self, texts)
        return super().text_warnings(texts)

    def _make_vectorizers(self):
        from sklearn.feature_extraction.text import TfidfVectorizer

        word = TfidfVectorizer(
            ngram_range=tuple(self.word_ngrams),
            min_df=2,
            sublinear_tf=True,
            lowercase=False,
            token_pattern=r"[^ ]+",
            dtype=np.float32,
        )
        char = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=tuple(self.char_ngrams),
            min_df=2,
            sublinear_tf=True,
            max_features=self.max_char_features,
            dtype=np.float32,
        )
        return word, char

    def _transform(self, texts: Sequence[str], fit: bool = False):
        if fit:
            self.word_vectorizer_, self.char_vectorizer_ = self._make_vectorizers()
            word = self.word_vectorizer_.fit_transform(self._word_input(texts))
            char = self.char_vectorizer_.fit_transform(texts)
        else:
            word = self.word_vectorizer_.transform(self._word_input(texts))
            char = self.char_vectorizer_.transform(texts)
        blocks = [word, char]
        if self.features == "hybrid":
            lex = self.lexicon.features(texts)
            blocks.append(sp.csr_matrix(np.log1p(lex) * self.lexicon_weight))
        return sp.hstack(blocks, format="csr")

    # -- fitting --------------------------------------------------------------

    def _new_clf(self):
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(
            C=self.C,
            class_weight=self.class_weight,
            solver="liblinear",
            max_iter=2000,
            random_state=self.random_state,
        )

    def _fit_heads(self, X, Y: np.ndarray, strict: bool = True) -> list[Any]:
        heads = []
        for j in range(Y.shape[1]):
            y = Y[:, j]
            if y.min() == y.max():
                if strict:
                    raise ValueError(f"column {j} of the training labels has a single class; every label needs positives and negatives")
                # A cross-validation fold may lack a rare label: predict its constant.
                heads.append(float(y[0]))
                continue
            heads.append(self._new_clf().fit(X, y))
        return heads

    @staticmethod
    def _heads_proba(heads: list[Any], X) -> np.ndarray:
        cols = [np.full(X.shape[0], h) if isinstance(h, float) else h.predict_proba(X)[:, 1] for h in heads]
        return np.column_stack(cols).astype(np.float64)

    def fit(
        self,
        X: Sequence[str],
        y: np.ndarray | Sequence[Sequence[str]],
        *,
        aspirations: np.ndarray | Sequence[Sequence[str]] | None = None,
        X_dev: Sequence[str] | None = None,
        y_dev: np.ndarray | Sequence[Sequence[str]] | None = None,
        aspirations_dev: np.ndarray | Sequence[Sequence[str]] | None = None,
    ) -> "LinearScorer":
        """Fit the vectorisers and one logistic regression per label.

        Thresholds are tuned on the dev set when one is given, otherwise on
        out-of-fold predictions over the training set.

        Args:
            X: Training texts.
            y: ``(n, 5)`` 0/1 labels, or lists of label ids.
            aspirations: ``(n, 4)`` 0/1 aspirations, or lists of sign ids.
            X_dev: Dev texts for threshold tuning.
            y_dev: Dev labels.
            aspirations_dev: Dev aspirations.

        Returns:
            self
        """
        if self.features not in ("tfidf", "hybrid"):
            raise ValueError(f"features must be 'tfidf' or 'hybrid', got {self.features!r}")
        texts = check_texts(X)
        Y = label_matrix(y, LABELS)
        A = label_matrix(aspirations, SIGNS) if aspirations is not None else None
        if len(texts) != len(Y):
            raise ValueError(f"{len(texts)} texts but {len(Y)} label rows")
        self.labels_ = LABELS
        self.aspiration_labels_ = SIGNS
        self._stack_cache = None  # weights stacked for prediction belong to the previous fit
        self._pending_state = self._n_label_heads = None  # so does the state of a loaded model
        self.lexicon_data_ = self._read_lexicon() if self.features == "hybrid" else None
        Xm = self._transform(texts, fit=True)
        self.label_heads_ = self._fit_heads(Xm, Y)
        self.aspiration_heads_ = self._fit_heads(Xm, A) if A is not None else []
        self.n_features_ = Xm.shape[1]

        if X_dev is not None and y_dev is not None:
            dev_texts = check_texts(X_dev)
            Xd = self._transform(dev_texts)
            dev_ap = self._heads_proba(self.aspiration_heads_, Xd) if A is not None else None
            dev_lp = self._discount(self._heads_proba(self.label_heads_, Xd), dev_ap)
            self.thresholds_ = tune_thresholds(label_matrix(y_dev, LABELS), dev_lp)
            if A is not None and aspirations_dev is not None:
                self.aspiration_thresholds_ = tune_thresholds(label_matrix(aspirations_dev, SIGNS), dev_ap)
            else:
                self.aspiration_thresholds_ = np.full(len(SIGNS), 0.5)
        else:
            self.thresholds_, self.aspiration_thresholds_ = self._cv_thresholds(texts, Y, A)
        return self

    def _cv_thresholds(self, texts: list[str], Y: np.ndarray, A: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.model_selection import KFold

        oof_y = np.zeros(Y.shape)
        oof_a = np.zeros(A.shape) if A is not None else None
        folds = KFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
        for train_idx, test_idx in folds.split(texts):
            inner = LinearScorer(**self.get_params())
            inner.lexicon_data_ = self.lexicon_data_  # every fold sees the very lexicon the model is fitted with
            tr = [texts[i] for i in train_idx]
            Xi = inner._transform(tr, fit=True)
            te = inner._transform([texts[i] for i in test_idx])
            oof_y[test_idx] = inner._heads_proba(inner._fit_heads(Xi, Y[train_idx], strict=False), te)
            if A is not None:
                oof_a[test_idx] = inner._heads_proba(inner._fit_heads(Xi, A[train_idx], strict=False), te)
        thr_a = tune_thresholds(A, oof_a) if A is not None else np.full(len(SIGNS), 0.5)
        return tune_thresholds(Y, self._discount(oof_y, oof_a)), thr_a

    def _discount(self, lp: np.ndarray, ap: np.ndarray | None) -> np.ndarray:
        """Apply the rhetoric discount to the four sign columns (see the class docstring)."""
        if ap is None or not self.rhetoric_discount:
            return lp
        out = lp.copy()
        out[:, : len(SIGNS)] *= (1.0 - ap) ** self.rhetoric_discount
        return out

    # -- prediction -----------------------------------------------------------

    def _stacked(self) -> tuple[np.ndarray, np.ndarray]:
        # One (features x heads) matrix product is much cheaper than a
        # predict_proba call per head; built on first use, never saved.
        cache = getattr(self, "_stack_cache", None)
        heads = list(self.label_heads_) + list(self.aspiration_heads_)
        if cache is None:
            W = np.column_stack([h.coef_.ravel() for h in heads]).astype(np.float32)
            b = np.array([h.intercept_[0] for h in heads], dtype=np.float64)
            cache = (len(heads), W, b)
            self._stack_cache = cache
        return cache[1], cache[2]

    def _proba(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        Xm = self._transform(texts)
        W, b = self._stacked()
        z = np.asarray(Xm @ W, dtype=np.float64) + b
        p = 1.0 / (1.0 + np.exp(-z))
        k = self.__dict__.get("_n_label_heads")
        if k is None:
            k = len(self.label_heads_)
        if p.shape[1] == k:
            return p[:, :k], np.zeros((len(texts), len(SIGNS)))
        ap = p[:, k:]
        return self._discount(p[:, :k], ap), ap

    # -- persistence ----------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Learned state as plain numpy arrays, for ``skops`` (no estimator objects).

        Vocabularies are stored as term arrays in index order and the heads as
        one float32 weight matrix, which keeps the file small and the load
        allow-list down to numpy types.
        """
        self._check_fitted()

        def terms(vec) -> np.ndarray:
            vocab = vec.vocabulary_
            out = np.empty(len(vocab), dtype=object)
            for term, idx in vocab.items():
                out[idx] = term
            return out.astype(str)

        heads = list(self.label_heads_) + list(self.aspiration_heads_)
        return {
            "word_terms": terms(self.word_vectorizer_),
            "word_idf": self.word_vectorizer_.idf_.astype(np.float64),
            "char_terms": terms(self.char_vectorizer_),
            "char_idf": self.char_vectorizer_.idf_.astype(np.float64),
            "coef": np.vstack([h.coef_.ravel() for h in heads]).astype(np.float32),
            "intercept": np.array([h.intercept_[0] for h in heads], dtype=np.float64),
            "n_label_heads": np.array([len(self.label_heads_)]),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], params: dict[str, Any], thresholds: Sequence[float], aspiration_thresholds: Sequence[float]) -> "LinearScorer":
        """Rebuild a fitted scorer from :meth:`state` and its ``meta.json`` fields.

        The scikit-learn objects (vectorizers and heads) are built from the
        state on first use, not here: importing scikit-learn takes seconds, and
        loading a model should not (see :meth:`__getattr__`).
        """
        params = dict(params)
        for key in ("word_ngrams", "char_ngrams"):
            if key in params:
                params[key] = tuple(params[key])
        obj = cls(**params)
        obj._pending_state = state
        k = int(np.asarray(state["n_label_heads"]).ravel()[0])
        # Scoring needs only the stacked weights, which are the state's arrays as they are.
        obj._stack_cache = (len(state["coef"]), np.asarray(state["coef"], dtype=np.float32).T.copy(), np.asarray(state["intercept"], dtype=np.float64))
        obj._n_label_heads = k
        obj.labels_ = LABELS
        obj.aspiration_labels_ = SIGNS
        obj.thresholds_ = np.asarray(thresholds, dtype=float)
        obj.aspiration_thresholds_ = np.asarray(aspiration_thresholds, dtype=float)
        return obj


    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not set: the fitted objects of a loaded
        # model, built from its state the first time anything asks for them.
        pending = self.__dict__.get("_pending_state")
        if pending is not None and name in ("word_vectorizer_", "char_vectorizer_"):
            self._build_vectorizers(pending)
            return self.__dict__[name]
        if pending is not None and name in ("label_heads_", "aspiration_heads_"):
            self._build_heads(pending)
            return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _build_vectorizers(self, state: dict[str, Any]) -> None:
        word, char = self._make_vectorizers()
        for vec, terms, idf in ((word, state["word_terms"], state["word_idf"]), (char, state["char_terms"], state["char_idf"])):
            vec.vocabulary = {str(t): i for i, t in enumerate(terms)}
            vec.idf_ = np.asarray(idf, dtype=np.float64)
            vec.vocabulary_ = vec.vocabulary
        self.word_vectorizer_, self.char_vectorizer_ = word, char

    def _build_heads(self, state: dict[str, Any]) -> None:
        from sklearn.linear_model import LogisticRegression

        heads = []
        for w, b in zip(state["coef"], state["intercept"]):
            head = LogisticRegression()
            head.coef_ = np.asarray(w, dtype=np.float64)[None, :]
            head.intercept_ = np.array([b])
            head.classes_ = np.array([0, 1])
            heads.append(head)
        k = int(np.asarray(state["n_label_heads"]).ravel()[0])
        self.label_heads_, self.aspiration_heads_ = heads[:k], heads[k:]

    def _save_weights(self, path) -> list[str]:
        import skops.io as sio

        sio.dump(self.state(), path / "model.skops")
        return ["model.skops"]

    @classmethod
    def _from_dir(cls, path, meta: dict[str, Any], **options: Any) -> "LinearScorer":
        from ._safe_skops import load_arrays

        params = {k: v for k, v in meta["params"].items() if k != "lexicon_path"}
        obj = cls.from_state(load_arrays(path / "model.skops"), params, meta["thresholds"], meta["aspiration_thresholds"])
        obj.lexicon_data_ = LexiconData.from_model_dir(path, meta) if obj.features == "hybrid" else None
        return obj
