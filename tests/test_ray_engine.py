"""The ray engine gives exactly the local engine's output (a local Ray cluster on this machine)."""

from pathlib import Path

import pytest

from lo_signals.score import score_folder

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "data"


def test_ray_engine_matches_local_engine(tmp_path):
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    local = score_folder([EXAMPLES], tmp_path / "local")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        remote = score_folder([EXAMPLES], tmp_path / "ray", "default", engine="ray", workers=2)
    finally:
        ray.shutdown()
    for name in ("sentences.csv", "documents.csv", "files.csv"):
        assert (tmp_path / "local" / name).read_text() == (tmp_path / "ray" / name).read_text(), name
    assert local["counts"] == remote["counts"] and remote["options"]["engine"] == "ray"


def test_unknown_engine_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="engine"):
        score_folder([EXAMPLES], tmp_path, engine="spark")
