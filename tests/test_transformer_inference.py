"""Transformer inference mechanics on the CPU with a tiny random model: order, batching, options, imports."""

import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")

import lo_signals
from lo_signals.finetuning import FinetuneConfig, finetune
from lo_signals.scorers.transformer import _ordered_map, default_batch_size, pick_precision


@pytest.fixture(scope="module")
def tiny_model(tiny_bert, tiny_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny_model") / "m"
    finetune(tiny_path, tiny_path, out, FinetuneConfig(base=str(tiny_bert), epochs=1, max_steps=2, batch_size=8, device="cpu"))
    return out


def test_results_come_back_in_input_order_whatever_the_batching(tiny_model, tiny_rows):
    texts = [r["text"] for r in tiny_rows][::-1] + ["short", "a much longer text about the ward and the audit " * 3]
    one_batch = lo_signals.load(tiny_model, device="cpu", batch_size=256)
    small = lo_signals.load(tiny_model, device="cpu", batch_size=3)
    assert small.batch_size_ == 3 and one_batch.batch_size_ == 256
    alone = np.vstack([one_batch.logits([t]) for t in texts])
    np.testing.assert_allclose(one_batch.logits(texts), alone, atol=1e-4)
    np.testing.assert_allclose(small.logits(texts), alone, atol=1e-4)
    assert small.logits([]).shape == (0, 9)


def test_inference_options_and_their_defaults(tiny_model):
    assert pick_precision("auto", "cpu") == "fp32" and pick_precision(None, "mps") == "fp32"
    assert default_batch_size("cpu") == 64
    model = lo_signals.load(tiny_model, device="cpu")
    assert (model.device_, model.precision_, model.batch_size_) == ("cpu", "fp32", 64)
    with pytest.raises(ValueError, match="needs a GPU"):
        lo_signals.load(tiny_model, device="cpu", precision="bf16")
    with pytest.raises(ValueError, match="precision must be"):
        lo_signals.load(tiny_model, device="cpu", precision="fp8")
    # A fitted scorer passed to resolve takes the options too.
    from lo_signals.models import resolve

    assert resolve(model, batch_size=5) is model and model.batch_size_ == 5


def test_threaded_tokenising_yields_everything_in_order_and_passes_errors_on():
    import threading

    assert list(_ordered_map(lambda x: x * x, list(range(50)), workers=3)) == [x * x for x in range(50)]

    def broken(x):
        if x == 7:
            raise RuntimeError("tokeniser failed")
        return x

    with pytest.raises(RuntimeError, match="tokeniser failed"):
        list(_ordered_map(broken, list(range(20)), workers=2))
    # Stopping early leaves no worker thread behind.
    gen = _ordered_map(lambda x: x, list(range(1000)), workers=2)
    assert next(gen) == 0
    gen.close()
    assert not any(t.name.startswith("lo_signals-tokenise") for t in threading.enumerate())


def test_direct_tokenising_matches_the_tokenizers_own_call(tiny_model):
    model = lo_signals.load(tiny_model, device="cpu")
    texts = ["They blamed the nurse.", "short", "the ward audit " * 100, "Unknown wordz here!"]
    ours = model._encode(texts, pin=False)
    theirs = model.tokenizer_(texts, padding=True, truncation=True, max_length=model.max_length, return_tensors="pt")
    assert set(ours) == {k for k in theirs if k in ("input_ids", "attention_mask", "token_type_ids")}
    for key, value in ours.items():
        assert value.dtype == theirs[key].dtype and value.tolist() == theirs[key].tolist(), key


@pytest.mark.slow  # a fresh process importing torch
def test_transformer_inference_imports_no_spacy_skops_or_datasets(tiny_model):
    code = (
        "import sys, lo_signals; m = lo_signals.load(sys.argv[1], device='cpu'); m.predict(['a text', 'another']); "
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'spacy', 'skops', 'datasets', 'sklearn'}))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tiny_model)], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().replace("'", '"')) == []


@pytest.mark.slow  # runs the benchmark script end to end
def test_gpu_benchmark_runs_on_the_cpu(tiny_model, tmp_path):
    result = tmp_path / "gpu.json"
    args = [sys.executable, "benchmarks/gpu.py", "--model", str(tiny_model), "--device", "cpu", "--n", "40",
            "--batch-sizes", "8", "16", "--json", str(result)]
    out = subprocess.run(args, capture_output=True, text=True, check=True, cwd=lo_signals.models.bundled_models_dir().parent)
    assert "sentences/s" in out.stdout and "minutes per 1 M" in out.stdout and "CPU" in out.stdout
    rows = json.loads(result.read_text())["rows"]
    assert [r["batch_size"] for r in rows] == [8, 16] and all(r["sentences"] == 40 and r["sentences_per_s"] > 0 for r in rows)
    assert all(r["same_labels_as_fp32"] == 1.0 for r in rows)
