import numpy as np
import pytest

from lo_signals.labels import LABELS, SIGNS, to_multi_hot
from lo_signals.scorers.base import NotFittedError, check_texts, tune_thresholds
from lo_signals.scorers.linear import LinearScorer, mark_negation


@pytest.fixture(scope="module")
def fitted(tiny_rows):
    texts = [r["text"] for r in tiny_rows]
    model = LinearScorer(features="hybrid", cv=2)
    out = model.fit(texts, [r["labels"] for r in tiny_rows], aspirations=[r["aspirations"] for r in tiny_rows])
    assert out is model
    return model


def test_sklearn_contract(fitted, tiny_rows):
    learned = [k for k in vars(fitted) if k.endswith("_") and not k.startswith("_")]
    assert {"labels_", "aspiration_labels_", "thresholds_", "aspiration_thresholds_", "label_heads_"} <= set(learned)
    assert LinearScorer().get_params()["features"] == "hybrid"
    assert fitted.labels_ == LABELS and fitted.aspiration_labels_ == SIGNS


def test_predict_proba_shape_order_and_range(fitted, tiny_rows):
    texts = [r["text"] for r in tiny_rows]
    proba = fitted.predict_proba(texts)
    assert proba.shape == (len(texts), 5)
    assert np.all((proba >= 0) & (proba <= 1))
    # Training units are fitted: each label's positives score above its negatives on average.
    Y = to_multi_hot([r["labels"] for r in tiny_rows])
    for j in range(5):
        assert proba[Y[:, j] == 1, j].mean() > proba[Y[:, j] == 0, j].mean()


def test_empty_strings_get_no_labels(fitted):
    assert fitted.predict(["", "   "]) == [[], []]
    assert fitted.predict_aspirations([""]) == [[]]
    assert np.all(fitted.predict_proba([""]) == 0)


@pytest.mark.parametrize("bad", ["a single string", [1, 2], None, {"a": 1}])
def test_bad_argument_types_raise_type_error(fitted, bad):
    with pytest.raises(TypeError):
        fitted.predict(bad)


def test_accepts_other_sequences(fitted):
    import pandas as pd

    s = pd.Series(["We talk through every error openly.", ""])
    assert len(fitted.predict(s)) == 2
    assert check_texts(("a", "b")) == ["a", "b"]


def test_unfitted_model_raises():
    with pytest.raises(NotFittedError):
        LinearScorer().predict(["x"])


def test_single_class_label_is_rejected(tiny_rows):
    texts = [r["text"] for r in tiny_rows]
    Y = np.zeros((len(texts), 5), dtype=int)
    Y[:5, :4] = 1
    with pytest.raises(ValueError, match="single class"):
        LinearScorer(cv=2).fit(texts, Y)


def test_mark_negation_scopes():
    cues = frozenset({"no", "not", "never", "nobody"})
    assert mark_negation("There is no blame culture here", cues) == "there is no neg_blame neg_culture neg_here"
    assert mark_negation("Nobody blamed him, but they blamed her", cues) == "nobody neg_blamed neg_him , but they blamed her"
    assert "neg_" in mark_negation("We don't fear mistakes", cues)


def test_tune_thresholds_maximises_f1():
    y = np.array([[1], [1], [0], [0]])
    p = np.array([[0.9], [0.7], [0.6], [0.1]])
    t = tune_thresholds(y, p)
    assert 0.6 < t[0] <= 0.7


def test_refit_replaces_the_weights_used_for_prediction(tiny_rows):
    texts = [r["text"] for r in tiny_rows]
    y = [r["labels"] for r in tiny_rows]
    model = LinearScorer(features="tfidf", cv=2, C=4.0).fit(texts, y)
    before = model.predict_proba(texts)
    model.set_params(C=0.01).fit(texts, y)
    fresh = LinearScorer(features="tfidf", cv=2, C=0.01).fit(texts, y).predict_proba(texts)
    np.testing.assert_allclose(model.predict_proba(texts), fresh, atol=1e-6)
    assert np.abs(before - fresh).max() > 0.05
