"""Fine-tuning on CPU with a tiny random BERT: train a few steps, save, reload, predict."""

import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")

import lo_signals
from lo_signals.finetuning import FinetuneConfig, finetune, read_labelled
from lo_signals.labels import LABELS, SIGNS


def test_finetune_saves_a_model_that_load_serves(tiny_bert, tiny_path, tmp_path):
    out = tmp_path / "model"
    model = finetune(tiny_path, tiny_path, out, FinetuneConfig(base=str(tiny_bert), epochs=2, max_steps=4, batch_size=8, device="cpu"))
    assert {"model.safetensors", "meta.json", "README.md", "eval.json", "config.json", "tokenizer.json"} <= {p.name for p in out.iterdir()}
    assert not list(out.glob("*.bin")) and not list(out.glob("*.pt")), "weights must be safetensors only"
    meta = json.loads((out / "meta.json").read_text())
    assert meta["backend"] == "transformer" and meta["labels"] == list(LABELS) and meta["aspiration_labels"] == list(SIGNS)
    assert meta["history"] and meta["history"][-1]["steps"] <= 4
    again = lo_signals.load(out)
    texts = ["They blamed the nurse.", "We will listen to staff.", ""]
    np.testing.assert_allclose(again.predict_proba(texts), model.predict_proba(texts), atol=1e-5)
    assert again.predict_proba(texts).shape == (3, 5)
    assert again.predict(texts)[2] == [] and len(again.predict_aspirations(texts)) == 3
    with pytest.raises(TypeError):
        again.predict("one string")


def test_int8_inference_on_cpu(tiny_bert, tiny_path, tmp_path):
    out = tmp_path / "m"
    finetune(tiny_path, tiny_path, out, FinetuneConfig(base=str(tiny_bert), epochs=1, max_steps=2, batch_size=8, device="cpu"))
    from lo_signals.models import read_meta
    from lo_signals.scorers.transformer import load_transformer_dir

    fp32 = load_transformer_dir(out, read_meta(out))
    int8 = load_transformer_dir(out, read_meta(out), precision="int8", device="cpu")
    texts = [json.loads(l)["text"] for l in tiny_path.read_text().splitlines()]
    assert np.abs(fp32.predict_proba(texts) - int8.predict_proba(texts)).max() < 0.1
    with pytest.raises(ValueError):
        load_transformer_dir(out, read_meta(out), precision="fp16", device="cpu")


def test_own_label_set_from_csv_columns(tiny_bert, tmp_path):
    df = pd.DataFrame({"comment": ["good teaching here", "they blamed me", "we teach each other", "nobody listens"] * 3,
                       "teaching": [1, 0, 1, 0] * 3, "blame": [0, 1, 0, 0] * 3})
    df.to_csv(tmp_path / "train.csv", index=False)
    out = tmp_path / "own"
    finetune(tmp_path / "train.csv", tmp_path / "train.csv", out,
                     FinetuneConfig(base=str(tiny_bert), epochs=1, max_steps=2, batch_size=4, device="cpu"),
                     labels=["teaching", "blame"], text_column="comment")
    assert json.loads((out / "meta.json").read_text())["labels"] == ["teaching", "blame"]
    again = lo_signals.load(out)
    assert again.labels_ == ("teaching", "blame") and again.predict_proba(["x"]).shape == (1, 2)
    assert again.aspiration_labels_ == () and again.predict_aspirations(["x"]) == [[]]


def test_bad_labels_are_named_with_their_row(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"text": "fine", "labels": ["open_dialogue"]}\n{"text": "odd", "labels": ["openness"]}\n')
    with pytest.raises(ValueError, match=r"row 1\b.*openness"):
        read_labelled(p)
    q = tmp_path / "bad.csv"
    pd.DataFrame({"text": ["a", "b"], "x": [0, 2]}).to_csv(q, index=False)
    with pytest.raises(ValueError, match="row 1 column 'x'"):
        read_labelled(q, labels=["x"])
    with pytest.raises(ValueError, match="no text column"):
        read_labelled(q, labels=["x"], text_column="comment")


def test_unavailable_device_and_precision_are_clear_errors(tiny_bert, tiny_path, tmp_path):
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            finetune(tiny_path, tiny_path, tmp_path / "x", FinetuneConfig(base=str(tiny_bert), device="cuda"))
    with pytest.raises(ValueError, match="fp16"):
        finetune(tiny_path, tiny_path, tmp_path / "y", FinetuneConfig(base=str(tiny_bert), device="cpu", precision="fp16"))


def test_csv_with_joined_label_cells_and_empty_cells(tmp_path):
    p = tmp_path / "c.csv"
    pd.DataFrame({"text": ["a", "b", "c"], "labels": ["open_dialogue;blame_defensiveness", None, "open_dialogue"],
                  "aspirations": [None, "open_dialogue", None]}).to_csv(p, index=False)
    data = read_labelled(p)
    assert data.labels == LABELS and data.aspiration_labels == SIGNS
    assert data.y[:, 2].tolist() == [1, 0, 1] and data.y[:, 4].tolist() == [1, 0, 0]
    assert data.a[:, 2].tolist() == [0, 1, 0]


def test_seed_reaches_the_output_layer(tiny_bert, tiny_path, tmp_path):
    from safetensors.numpy import load_file
    from typer.testing import CliRunner

    from lo_signals.cli import app

    def weights(seed: int, out) -> np.ndarray:
        args = ["finetune", "--train", str(tiny_path), "--dev", str(tiny_path), "--out", str(out), "--base", str(tiny_bert),
                "--epochs", "1", "--max-steps", "1", "--batch-size", "8", "--device", "cpu", "--seed", str(seed)]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        return load_file(str(out / "model.safetensors"))["classifier.weight"]

    one, two, one_again = weights(1, tmp_path / "a"), weights(2, tmp_path / "b"), weights(1, tmp_path / "c")
    assert not np.allclose(one, two)
    np.testing.assert_allclose(one, one_again, atol=1e-6)


def test_checkpoint_resume_matches_an_uninterrupted_run(tiny_bert, tiny_path, tmp_path, monkeypatch):
    import lo_signals.finetuning as ft

    cfg = dict(base=str(tiny_bert), epochs=3, batch_size=4, device="cpu", patience=5)
    whole = finetune(tiny_path, tiny_path, tmp_path / "whole", FinetuneConfig(**cfg))
    ckpt = tmp_path / "ckpt"
    real_save = ft._save_checkpoint

    def save_then_die(folder, key, network, optim, sched, rng, state, best):
        real_save(folder, key, network, optim, sched, rng, state, best)
        if state["epoch"] == 2:
            raise KeyboardInterrupt  # the process is stopped after its second checkpoint

    monkeypatch.setattr(ft, "_save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        finetune(tiny_path, tiny_path, tmp_path / "cut", FinetuneConfig(**cfg, checkpoint_dir=str(ckpt)))
    monkeypatch.setattr(ft, "_save_checkpoint", real_save)
    assert json.loads((ckpt / "state.json").read_text())["epoch"] == 2
    assert sorted(p.name for p in ckpt.iterdir()) == ["best-2.safetensors", "network-2.safetensors", "optim-2.pt", "state.json"]
    lines = []
    resumed = finetune(tiny_path, tiny_path, tmp_path / "resumed", FinetuneConfig(**cfg, checkpoint_dir=str(ckpt)), progress=lines.append)
    assert lines[0].startswith("resumed from") and "after epoch 2" in lines[0]
    texts = ["They blamed the nurse.", "We will listen to staff."]
    np.testing.assert_allclose(resumed.predict_proba(texts), whole.predict_proba(texts), atol=1e-6)
    assert [h["train_loss"] for h in resumed.meta_["history"]] == pytest.approx([h["train_loss"] for h in whole.meta_["history"]])
    # A checkpoint of other options is refused, never silently mixed in.
    with pytest.raises(ValueError, match="another run"):
        finetune(tiny_path, tiny_path, tmp_path / "other", FinetuneConfig(**{**cfg, "lr": 1e-3}, checkpoint_dir=str(ckpt)))
