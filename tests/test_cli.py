import json

from typer.testing import CliRunner

from lo_signals.cli import app
from lo_signals.pipeline import FILE_COLUMNS

runner = CliRunner()


def test_help_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for cmd in ("train", "evaluate", "predict"):
        assert cmd in result.output


def test_evaluate_compares_models_and_writes_files(tmp_path, tiny_path):
    result = runner.invoke(app, ["evaluate", "--model", "lexicon", "--model", "default", "--data", str(tiny_path), "--out", str(tmp_path), "--n-boot", "50"])
    assert result.exit_code == 0, result.output
    assert "| metric | lexicon | default |" in result.output
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert set(saved["models"]) == {"lexicon", "default"}


def test_evaluate_missing_file_fails_cleanly(tmp_path):
    result = runner.invoke(app, ["evaluate", "--model", "default", "--data", str(tmp_path / "none.jsonl")])
    assert result.exit_code != 0
    assert "no such file" in result.output


def test_evaluate_unknown_model_fails_cleanly(tmp_path, tiny_path):
    result = runner.invoke(app, ["evaluate", "--model", str(tmp_path / "nomodel"), "--data", str(tiny_path)])
    assert result.exit_code == 2 and "no model directory" in result.output


def test_predict_prints_json_lines():
    result = runner.invoke(app, ["predict", "Staff were blamed and nobody dared report the next error."])
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)
    assert set(row["proba"]) == {"community_of_learners", "dispersed_leadership", "open_dialogue", "ongoing_transformation", "blame_defensiveness"}
    assert "blame_defensiveness" in row["labels"]


def test_score_help_shows_the_ray_extra_and_the_limits():
    result = runner.invoke(app, ["score", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "needs the [ray] extra" in result.output
    for option in ("--max-mb", "--max-inflated-mb", "--max-units", "--max-chars", "--follow-symlinks", "--keep-parts", "--clean", "--device"):
        assert option in result.output
    assert "--max-bytes" not in result.output


def test_error_messages_keep_their_brackets(tmp_path, monkeypatch):
    import lo_signals.batch

    def no_ray(*args, **kwargs):
        raise ImportError("the ray engine needs the [ray] extra: pip install 'lo_signals[ray]'")

    monkeypatch.setattr(lo_signals.batch, "_ray_stream", no_ray)
    (tmp_path / "a.txt").write_text("Staff were blamed.")
    result = runner.invoke(app, ["score", str(tmp_path / "a.txt"), "--out", str(tmp_path / "o"), "--engine", "ray"])
    assert result.exit_code == 2
    assert "needs the [ray] extra" in result.output and "lo_signals[ray]" in result.output


def test_an_empty_folder_says_there_was_nothing_to_score(tmp_path):
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["score", str(tmp_path / "empty"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    line = " ".join(result.output.split())
    assert "no files found in" in line and "lists no files because there were none" in line
    assert "for the reasons" not in line
    assert (tmp_path / "o" / "files.csv").read_text().strip() == ",".join(FILE_COLUMNS)


def test_ctrl_c_says_truthfully_what_was_kept(tmp_path, monkeypatch):
    import lo_signals.score

    (tmp_path / "a.txt").write_text("Staff were blamed for the outage.")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(lo_signals.score, "score_folder", interrupted)
    result = runner.invoke(app, ["score", str(tmp_path / "a.txt"), "--out", str(tmp_path / "o")])
    line = " ".join(result.output.split())
    assert result.exit_code == 130 and "before any file was scored" in line and "was not created" in line
    assert "kept in" not in line
    monkeypatch.undo()
    # After a run, its scored files are in the parts cache: an interruption now keeps them.
    assert runner.invoke(app, ["score", str(tmp_path / "a.txt"), "--out", str(tmp_path / "o")]).exit_code == 0
    monkeypatch.setattr(lo_signals.score, "score_folder", interrupted)
    result = runner.invoke(app, ["score", str(tmp_path / "a.txt"), "--out", str(tmp_path / "o")])
    line = " ".join(result.output.split())
    assert result.exit_code == 130 and "1 scored file(s) are kept in" in line and "to resume" in line
