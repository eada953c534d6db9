"""The shipped models are reproducible: rebuilding from corpora/ gives the same predictions."""

import numpy as np

import lo_signals
from lo_signals.corpus import load_split
from lo_signals.models import read_meta
from lo_signals.train import train_models


def test_rebuilt_default_matches_the_shipped_model(tmp_path):
    written = train_models(out=tmp_path, backends=["default"], n_boot=20)
    rebuilt = lo_signals.load(written["default"])
    shipped = lo_signals.load()
    texts = [r["text"] for r in load_split("test")]
    np.testing.assert_allclose(rebuilt.predict_proba(texts), shipped.predict_proba(texts), atol=1e-6)
    assert rebuilt.predict(texts) == shipped.predict(texts)
    assert rebuilt.predict_aspirations(texts) == shipped.predict_aspirations(texts)
    assert read_meta(written["default"])["training_data"] == shipped.meta_["training_data"]


def test_shipped_meta_records_held_out_metrics():
    meta = lo_signals.load().meta_
    assert set(meta["metrics"]) == {"dev", "test"}
    test = meta["metrics"]["test"]
    lo, hi = test["macro_f1"]["ci95"]
    assert lo <= test["macro_f1"]["value"] <= hi
    assert test["n"] == len(load_split("test"))
