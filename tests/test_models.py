import json
import re

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


def _plant(path, payload: bytes) -> None:
    """Write a model.skops as an attacker would: with meta.json's recorded hash updated to match."""
    import hashlib

    (path / "model.skops").write_bytes(payload)
    meta = json.loads((path / "meta.json").read_text())
    meta["files"]["model.skops"] = hashlib.sha256(payload).hexdigest()
    (path / "meta.json").write_text(json.dumps(meta))


def _hostile_skops(module: str, name: str, code: str) -> bytes:
    """A skops file whose schema calls ``module.name(code, {})`` through a reduce-style node."""
    import io
    import zipfile

    import skops.io as sio

    # Start from a genuine dump of the call's arguments, then name the callable.
    args = json.loads(zipfile.ZipFile(io.BytesIO(sio.dumps((code, {})))).read("schema.json"))
    node = {"__class__": name, "__module__": module, "__loader__": "ConstructorFromReduceNode", "content": args, "__id__": 1}
    schema = {"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode", "content": {"x": node},
              "key_types": {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
                            "content": [{"__class__": "str", "__module__": "builtins", "__loader__": "TypeNode", "__id__": 2}], "__id__": 3},
              "__id__": 4, "protocol": args["protocol"], "_skops_version": args["_skops_version"]}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("schema.json", json.dumps(schema))
    return buf.getvalue()


@pytest.mark.parametrize(
    "module,name",
    [("numpy.testing._private.utils", "runstring"), ("builtins", "exec"), ("mystery_module", "run")],
)
def test_hostile_reduce_node_runs_nothing_and_names_the_type(tmp_path, linear, module, name):
    import skops.io as sio

    marker = tmp_path / "pwned"
    payload = _hostile_skops(module, name, f"open({str(marker)!r}, 'w').close()")
    if module.startswith("numpy"):
        # The file is live: skops, trusting the type as the old prefix rule did, runs it.
        (tmp_path / "probe.skops").write_bytes(payload)
        sio.load(tmp_path / "probe.skops", trusted=[f"{module}.{name}"])
        assert marker.exists()
        marker.unlink()
    path = save(linear, tmp_path / "m", name="tiny")
    _plant(path, payload)
    with pytest.raises(ValueError, match=f"will not load: .*{re.escape(module + '.' + name)}"):
        load(path)
    assert not marker.exists()


def test_skops_file_with_an_sklearn_object_is_refused(tmp_path, linear):
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    path = save(linear, tmp_path / "m", name="tiny")
    state = linear.state()
    # skops trusts scikit-learn estimators by default; lo_signals does not.
    state["extra"] = LogisticRegression()
    _plant(path, sio.dumps(state))
    with pytest.raises(ValueError, match="sklearn.linear_model._logistic.LogisticRegression"):
        load(path)


def test_shipped_model_files_need_only_the_allow_list():
    import skops.io as sio

    from lo_signals.scorers._safe_skops import ALLOWED_TYPES, audit

    for name in ("default", "linear"):
        file = bundled_models_dir() / name / "model.skops"
        audit(file)
        assert set(sio.get_untrusted_types(file=file)) <= ALLOWED_TYPES


def test_a_model_file_changed_after_saving_is_refused(tmp_path, linear):
    path = save(linear, tmp_path / "m", name="tiny")
    with open(path / "model.skops", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ValueError, match="changed since the model was saved"):
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
    # Fitting and tuning data only: the judged dev-pool choice of thresholds is tuning data.
    assert set(model.meta_["training_data"]) == {"train.jsonl", "real/units.jsonl", "audit/train_units.jsonl", "audit/thresholds-default.json"}
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


def test_editing_the_packaged_lexicon_leaves_a_saved_hybrid_model_unchanged(tmp_path, tiny_rows, monkeypatch):
    import lo_signals.scorers.lexicon as lexicon_module
    from lo_signals.scorers.lexicon import Lexicon, packaged_lexicon_path

    # Stand-in for the packaged file, so the test never edits the installed one.
    packaged = tmp_path / "lexicon.json"
    packaged.write_bytes(packaged_lexicon_path().read_bytes())
    monkeypatch.setattr(lexicon_module, "packaged_lexicon_path", lambda: packaged)
    texts = [r["text"] for r in tiny_rows]
    model = LinearScorer(features="hybrid", cv=2).fit(texts, [r["labels"] for r in tiny_rows], aspirations=[r["aspirations"] for r in tiny_rows])
    before = model.predict_proba(texts)
    path = save(model, tmp_path / "hybrid", name="hybrid")
    assert (path / "lexicon.json").read_bytes() == packaged.read_bytes()

    data = json.loads(packaged.read_text())
    data["labels"] = {label: [] for label in LABELS}  # every pattern gone
    data["negation"]["cues"] = []
    packaged.write_text(json.dumps(data))
    assert Lexicon.default().features(texts)[:, : 3 * len(LABELS)].sum() == 0  # the packaged lexicon did change

    again = load(path)
    np.testing.assert_array_equal(again.predict_proba(texts), before)
    assert again.lexicon_data_.sha256 == read_meta(path)["lexicon"]["sha256"]
    # Editing the model's own copy is caught rather than silently used.
    (path / "lexicon.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="lexicon.json"):
        load(path)


def test_meta_records_the_lexicon_the_model_was_fitted_with(tmp_path, tiny_rows):
    from lo_signals.scorers.lexicon import load_lexicon

    data = load_lexicon()
    data.pop("sha256")
    data["version"] = "custom-1"
    custom = tmp_path / "custom.json"
    custom.write_text(json.dumps(data))
    model = LexiconScorer(lexicon_path=str(custom)).fit([r["text"] for r in tiny_rows])
    custom.write_text("{}")  # changing the source after fitting does not change what is saved
    meta = read_meta(save(model, tmp_path / "lex", name="lex"))
    assert meta["lexicon"]["version"] == "custom-1"
    assert meta["lexicon"]["sha256"] != load_lexicon()["sha256"]
    assert meta["params"]["lexicon_path"] is None
    assert load(tmp_path / "lex").predict(["They blamed the nurse."]) == model.predict(["They blamed the nurse."])


def test_set_params_rejects_unknown_keys():
    model = LinearScorer()
    assert model.set_params(C=2.0).C == 2.0
    with pytest.raises(ValueError, match="'Cee'"):
        model.set_params(Cee=2.0)


def test_numpy_arrays_and_pandas_series_are_accepted_as_texts():
    import pandas as pd

    texts = ["They blamed the nurse.", "We aim to be open.", ""]
    for name in ("default", "lexicon"):
        model = lo_signals.load(name)
        expected = model.predict(texts)
        assert model.predict(np.array(texts)) == expected  # numpy.str_ items
        assert model.predict(pd.Series(texts, index=[10, 5, 7])) == expected
        np.testing.assert_array_equal(model.predict_proba(np.array(texts, dtype=object)), model.predict_proba(texts))
    # Missing values are empty texts on every path (issue 16): no label, no error.
    assert lo_signals.load().predict(pd.Series(["fine", None])) == [[], []]
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        lo_signals.load().predict(pd.Series(["fine", 3.5], dtype=object))


def test_missing_transformer_error_suggests_a_command_that_exists(tmp_path, monkeypatch):
    import shlex

    from typer.testing import CliRunner

    import lo_signals.models as models
    from lo_signals.cli import app

    monkeypatch.setattr(models, "bundled_models_dir", lambda: tmp_path)
    with pytest.raises(FileNotFoundError) as err:
        load("transformer")
    message = str(err.value)
    command = message.split("build it with: ")[1].split(" (needs")[0]
    argv = shlex.split(command)
    assert argv[:2] == ["lo-signals", "finetune"]
    options = [a for a in argv[2:] if a.startswith("--")]
    help_text = CliRunner().invoke(app, ["finetune", "--help"], terminal_width=200).output
    assert options and all(opt in help_text for opt in options), (options, help_text)


def test_a_saved_model_without_its_lexicon_copy_is_refused(tmp_path, tiny_rows):
    model = LexiconScorer().fit([r["text"] for r in tiny_rows])
    path = save(model, tmp_path / "lex")
    meta = json.loads((path / "meta.json").read_text())
    meta["files"].pop("lexicon.json")  # as if someone removed it cleanly
    (path / "meta.json").write_text(json.dumps(meta))
    (path / "lexicon.json").unlink()
    with pytest.raises(ValueError, match="lacks its lexicon.json"):
        load(path)
