import json

import numpy as np
import pytest

import lo_signals
from lo_signals.labels import LABELS, SIGNS
from lo_signals.models import bundled_models_dir, load, read_meta, save
from lo_signals.scorers.lexicon import LexiconScorer
from lo_signals.scorers.linear import LinearScorer


@pytest.fixture(scope="module")
def linear(tiny_rows):
    texts = [r["text"] for r in tiny_rows]
    return LinearScorer(features="tfidf", cv=2).fit(texts, [r["labels"] for r in tiny_rows], aspirations=[r["aspirations"] for r in tiny_rows])


def test_save_load_round_trip_gives_identical_predictions(tmp_path, linear, tiny_rows):
    texts = [r["text"] for r in tiny_rows]
    path = save(linear, tmp_path / "m", name="tiny", training_data={"tiny.jsonl": "0" * 64}, description="test model")
    assert {p.name for p in path.iterdir()} >= {"model.skops", "meta.json", "README.md"}
    meta = read_meta(path)
    assert meta["backend"] == "linear" and meta["labels"] == list(LABELS) and meta["aspiration_labels"] == list(SIGNS)
    assert meta["training_data"] == {"tiny.jsonl": "0" * 64}
    assert "lo_signals" in meta["versions"] and len(meta["thresholds"]) == 5
    assert "lo_signals model: tiny" in (path / "README.md").read_text()
    again = load(path)
    np.testing.assert_allclose(again.predict_proba(texts), linear.predict_proba(texts), atol=1e-6)
    assert again.predict_aspirations(texts) == linear.predict_aspirations(texts)


def test_lexicon_model_directory_round_trip(tmp_path, tiny_rows):
    model = LexiconScorer().fit([r["text"] for r in tiny_rows])
    path = save(model, tmp_path / "lex", name="lex")
    assert (path / "lexicon.json").is_file()
    again = load(path)
    assert again.predict(["They blamed the nurse."]) == model.predict(["They blamed the nurse."])


def test_skops_file_with_untrusted_types_is_refused(tmp_path, linear):
    import skops.io as sio

    path = save(linear, tmp_path / "m", name="tiny")
    # Replace the weights with a file that would need a non-scikit-learn type.
    state = linear.state()
    state["evil"] = LexiconScorer()
    sio.dump(state, path / "model.skops")
    with pytest.raises(ValueError, match="will not load"):
        load(path)


def test_load_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model directory"):
        load(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="meta.json"):
        load(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "meta.json").write_text(json.dumps({"backend": "mystery", "labels": list(LABELS)}))
    with pytest.raises(ValueError, match="unknown backend"):
        load(bad)


def test_bundled_default_loads_offline_and_follows_the_api():
    model = lo_signals.load()
    texts = [
        "The porters suggested moving the bed meeting to 8am and the site team adopted it the same month.",
        "We aim to be an organisation where every colleague feels safe to speak up.",
        "",
    ]
    proba = model.predict_proba(texts)
    assert isinstance(proba, np.ndarray) and proba.shape == (3, 5)
    labels = model.predict(texts)
    assert isinstance(labels, list) and all(isinstance(x, list) for x in labels)
    assert labels[2] == [] and model.predict_aspirations(texts)[2] == []
    assert model.meta_["backend"] == "linear"
    assert set(model.meta_["training_data"]) == {"train.jsonl", "dev.jsonl", "test.jsonl"}
    with pytest.raises(TypeError):
        model.predict("not a list")
    for name in ("lexicon", "linear"):
        assert (bundled_models_dir() / name / "meta.json").is_file()


def test_resolve_accepts_names_directories_and_fitted_scorers(linear):
    from lo_signals.models import model_dir, resolve

    assert resolve(linear) is linear
    by_name = resolve("linear")
    by_dir = resolve(model_dir("linear"))
    by_str = resolve(str(model_dir("linear")))
    texts = ["They blamed the nurse.", "We learned from the audit and changed the rota."]
    assert by_name.predict(texts) == by_dir.predict(texts) == by_str.predict(texts)
    assert resolve(None).meta_["name"] == "default"
    with pytest.raises(TypeError, match="fitted scorer"):
        resolve(42)


def test_register_rejects_classes_without_load():
    from lo_signals.models import register

    with pytest.raises(TypeError, match="load"):
        register("broken", int)
