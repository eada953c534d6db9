"""The ray engine gives exactly the local engine's output (a local Ray cluster on this machine)."""

from pathlib import Path

import pandas as pd
import pytest

from lo_signals.score import score_documents, score_folder

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "data"


@pytest.mark.slow  # starts a Ray cluster (a minute)
def test_ray_engine_matches_local_engine(tmp_path):
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    local = score_folder([EXAMPLES], tmp_path / "local")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        remote = score_folder([EXAMPLES], tmp_path / "ray", "default", engine="ray", workers=2)
        in_memory = score_documents([EXAMPLES / "notes", EXAMPLES / "survey"], "default", engine="ray", workers=2)
    finally:
        ray.shutdown()
    for name in ("sentences.csv", "documents.csv", "files.csv"):
        assert (tmp_path / "local" / name).read_text() == (tmp_path / "ray" / name).read_text(), name
    assert local["counts"] == remote["counts"] and remote["options"]["engine"] == "ray"
    pd.testing.assert_frame_equal(in_memory, score_documents([EXAMPLES / "notes", EXAMPLES / "survey"]))


def test_unknown_engine_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="engine"):
        score_folder([EXAMPLES], tmp_path, engine="spark")


def test_ray_uses_one_actor_per_gpu_for_models_that_take_a_device():
    from lo_signals.batch import _uses_device, actor_plan

    assert actor_plan(4, True, 2, {"precision": "bf16"}) == (4, 1, {"precision": "bf16", "device": "cuda"})
    assert actor_plan(4, False, 2, {}) == (2, 0, {})  # a CPU-only model does not hold GPUs
    assert actor_plan(0, True, 3, {}) == (3, 0, {})
    assert not _uses_device("default") and not _uses_device("lexicon")
    pytest.importorskip("torch")
    from lo_signals.scorers.transformer import TransformerScorer

    assert _uses_device(TransformerScorer())
