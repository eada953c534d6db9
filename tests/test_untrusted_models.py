"""A model directory someone shared runs no code, names its base by hash, and cannot exhaust memory.

Each case builds a hostile directory in tmp_path. The loaders run in a
subprocess whose standard input answers "y" to anything, as a user piping
``yes`` would, and a marker file shows whether the directory's code ran.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from lo_signals.labels import LABELS, SIGNS  # noqa: E402
from lo_signals.scorers._untrusted import UntrustedModelError, check_encoder_dir, read_json_capped  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _meta(**extra) -> dict:
    return {
        "name": "shared",
        "backend": "transformer",
        "format_version": 2,
        "labels": list(LABELS),
        "aspiration_labels": list(SIGNS),
        "thresholds": [0.5] * len(LABELS),
        "aspiration_thresholds": [0.5] * len(SIGNS),
        "files": {},
        **extra,
    }


def _code_dir(path: Path, marker: Path, model_type: str = "evil-encoder", where: str = "config") -> Path:
    """A directory whose config names its own Python module through auto_map."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "evil.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
        "from transformers import PretrainedConfig, PreTrainedModel\n"
        "class EvilConfig(PretrainedConfig):\n    model_type = 'evil-encoder'\n"
        "class EvilModel(PreTrainedModel):\n    config_class = EvilConfig\n",
        encoding="utf-8",
    )
    config = {"model_type": model_type, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 1, "intermediate_size": 8, "vocab_size": 30}
    auto_map = {"AutoConfig": "evil.EvilConfig", "AutoModel": "evil.EvilModel", "AutoTokenizer": ["evil.EvilTok", None]}
    if where == "config":
        config["auto_map"] = auto_map
    (path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    tok = {"tokenizer_class": "BertTokenizer"}
    if where == "tokenizer":
        tok["auto_map"] = auto_map
    (path / "tokenizer_config.json").write_text(json.dumps(tok), encoding="utf-8")
    return path


def _run_loader(code: str, answer: str = "y\n" * 50) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": os.environ.get("HF_HOME", "/tmp/lo-signals-test-hf")}
    return subprocess.run([sys.executable, "-c", code], input=answer, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize("model_type,where", [("evil-encoder", "config"), ("bert", "config"), ("bert", "tokenizer")])
def test_load_runs_no_code_from_the_directory_even_when_stdin_says_yes(tmp_path, model_type, where):
    marker = tmp_path / "ran.txt"
    model = _code_dir(tmp_path / "model", marker, model_type, where)
    (model / "meta.json").write_text(json.dumps(_meta(partial=False)), encoding="utf-8")
    res = _run_loader(f"import lo_signals; lo_signals.load({str(model)!r})")
    assert res.returncode != 0
    assert not marker.exists(), "the model directory's code ran"
    assert "UntrustedModelError" in res.stderr
    assert "program files" in res.stderr or "auto_map" in res.stderr


def test_score_cli_runs_no_code_from_the_directory(tmp_path):
    marker = tmp_path / "ran.txt"
    model = _code_dir(tmp_path / "model", marker)
    (model / "meta.json").write_text(json.dumps(_meta(partial=False)), encoding="utf-8")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The ward changed its handover after the audit.", encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    res = subprocess.run(
        [str(BIN / "lo-signals"), "score", str(docs), "--out", str(tmp_path / "out"), "--model", str(model)],
        input="y\n" * 50, capture_output=True, text=True, timeout=300, env=env,
    )
    assert res.returncode != 0
    assert not marker.exists()
    assert "Traceback" not in res.stdout + res.stderr


def test_partial_base_directory_with_code_is_refused(tmp_path):
    """A partial model's base.path is checked like the model's own directory, hash or not."""
    from lo_signals._hashing import file_sha256

    marker = tmp_path / "ran.txt"
    base = _code_dir(tmp_path / "base", marker, "bert")
    (base / "model.safetensors").write_bytes(b"not really weights")
    model = tmp_path / "model"
    model.mkdir()
    meta = _meta(partial=True, base={"name": "x", "path": str(base), "sha256": file_sha256(base / "model.safetensors")})
    (model / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    res = _run_loader(f"import lo_signals; lo_signals.load({str(model)!r})")
    assert res.returncode != 0
    assert not marker.exists()
    assert "UntrustedModelError" in res.stderr


@pytest.mark.parametrize("sha", [None, "", "0" * 64, 42])
def test_partial_base_without_matching_sha256_is_refused(tmp_path, sha):
    from lo_signals.scorers.transformer import packaged_minilm_path

    base = packaged_minilm_path()  # real, safe weights: only the missing or wrong hash is at fault
    model = tmp_path / "model"
    model.mkdir()
    meta = _meta(partial=True, base={"name": "minilm", "path": str(base), "sha256": sha})
    (model / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    import lo_signals

    with pytest.raises(UntrustedModelError, match="sha256"):
        lo_signals.load(model)


def test_oversized_and_deep_meta_json_give_clear_errors(tmp_path):
    import lo_signals

    big = tmp_path / "big"
    big.mkdir()
    with (big / "meta.json").open("w") as fh:
        fh.write('{"labels": [')
        fh.write("[1]," * (5 * 2**20 // 4))
        fh.write("[1]]}")
    with pytest.raises(ValueError, match="cap"):
        lo_signals.load(big)
    deep = tmp_path / "deep"
    deep.mkdir()
    (deep / "meta.json").write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    with pytest.raises(ValueError, match="nested too deeply"):
        lo_signals.load(deep)


def test_oversized_tokenizer_file_is_refused_before_parsing(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"model_type": "bert"}), encoding="utf-8")
    with (model / "tokenizer.json").open("wb") as fh:
        fh.truncate(40 * 2**20)  # sparse: costs no disk, and must never be read
    with pytest.raises(UntrustedModelError, match="cap"):
        check_encoder_dir(model)


def test_packaged_encoder_passes_the_checks():
    from lo_signals.scorers.transformer import packaged_minilm_path

    assert check_encoder_dir(packaged_minilm_path())["model_type"] == "bert"


def test_read_json_capped_reads_small_files(tmp_path):
    f = tmp_path / "x.json"
    f.write_text('{"a": [1, {"b": 2}]}', encoding="utf-8")
    assert read_json_capped(f) == {"a": [1, {"b": 2}]}


def test_a_cascade_whose_reader_carries_code_runs_none_of_it(tmp_path):
    import shutil

    from lo_signals._hashing import file_sha256
    from lo_signals.models import bundled_models_dir

    marker = tmp_path / "ran.txt"
    cascade = tmp_path / "cascade"
    shutil.copytree(bundled_models_dir() / "cascade", cascade, ignore=shutil.ignore_patterns("reader"))
    reader = _code_dir(cascade / "reader", marker, "bert", "config")
    (reader / "meta.json").write_text(json.dumps(_meta(partial=False)), encoding="utf-8")
    # The cascade's meta pins the hostile reader's meta.json, as a sharer would.
    meta = json.loads((cascade / "meta.json").read_text())
    meta["parts"]["reader"]["meta_sha256"] = file_sha256(reader / "meta.json")
    (cascade / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    res = _run_loader(f"import lo_signals; lo_signals.load({str(cascade)!r})")
    assert res.returncode != 0 and not marker.exists(), "the reader's code ran"
    assert "UntrustedModelError" in res.stderr
