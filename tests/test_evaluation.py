import json

import numpy as np
import pytest

from lo_signals.evaluation import bootstrap_ci, evaluate, evaluate_predictions, expected_calibration_error, read_jsonl
from lo_signals.scorers.lexicon import LexiconScorer


def test_perfect_predictions_score_one():
    gold = [["open_dialogue"], ["blame_defensiveness"], [], ["community_of_learners", "dispersed_leadership"], ["ongoing_transformation"]]
    m = evaluate_predictions(gold, gold, n_boot=50)
    assert m["macro_f1"]["value"] == 1.0 and m["micro_f1"]["value"] == 1.0
    assert m["per_label"]["open_dialogue"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}


def test_counts_match_hand_computation():
    gold = [["open_dialogue"], ["open_dialogue"], [], []]
    pred = [["open_dialogue"], [], ["open_dialogue"], ["blame_defensiveness"]]
    m = evaluate_predictions(gold, pred, n_boot=50)
    od = m["per_label"]["open_dialogue"]
    assert od["precision"] == 0.5 and od["recall"] == 0.5 and od["f1"] == 0.5
    # Labels with no gold and no predicted positives count as F1 0 in the macro average
    # except blame, which has a false positive: macro = (0 + 0 + 0.5 + 0 + 0) / 5.
    assert m["macro_f1"]["value"] == pytest.approx(0.1)
    # micro: tp=1, fp=2, fn=1 -> 2/(2+2+1)
    assert m["micro_f1"]["value"] == pytest.approx(0.4)


def test_rhetoric_false_positive_rate():
    gold = [[], [], [], ["open_dialogue"]]
    gold_asp = [["open_dialogue"], ["ongoing_transformation"], [], []]
    pred = [["open_dialogue"], [], ["open_dialogue"], ["open_dialogue"]]
    m = evaluate_predictions(gold, pred, gold_aspirations=gold_asp, pred_aspirations=gold_asp, n_boot=50)
    # two aspiration-only units, one of them given a label
    assert m["rhetoric_fpr"]["value"] == 0.5 and m["rhetoric_fpr"]["n"] == 2
    assert m["aspirations"]["per_label"]["open_dialogue"]["f1"] == 1.0


def test_per_register_and_calibration():
    gold = [["open_dialogue"], [], ["open_dialogue"], []]
    proba = np.zeros((4, 5))
    proba[:, 2] = [0.9, 0.1, 0.8, 0.2]
    m = evaluate_predictions(gold, gold, proba, registers=["staff_feedback", "staff_feedback", "board_paper", "board_paper"], n_boot=20)
    assert set(m["macro_f1_by_register"]) == {"staff_feedback", "board_paper"}
    assert m["brier"] == pytest.approx(np.mean((proba[:, 2] - [1, 0, 1, 0]) ** 2) / 5)
    assert 0 <= m["ece"] <= 1


def test_ece_is_zero_when_calibrated_and_large_when_not():
    y = np.array([1, 0] * 50)
    assert expected_calibration_error(y, np.full(100, 0.5)) == pytest.approx(0.0)
    assert expected_calibration_error(y, np.where(y == 1, 0.0, 1.0)) == pytest.approx(1.0)


def test_bootstrap_interval_contains_point_estimate():
    rng = np.random.default_rng(1)
    y = rng.random((200, 5)) < 0.3
    p = y ^ (rng.random((200, 5)) < 0.1)
    ci = bootstrap_ci(y, p, n_boot=200)
    lo, hi = ci["macro_f1"]
    assert 0 < lo < hi < 1


def test_evaluate_writes_json_and_markdown_for_several_models(tmp_path, tiny_path, tiny_rows):
    lex = LexiconScorer().fit([r["text"] for r in tiny_rows])
    lex.meta_ = {"name": "lex-a"}
    lex2 = LexiconScorer().fit([r["text"] for r in tiny_rows])
    lex2.meta_ = {"name": "lex-b"}
    report = evaluate([lex, lex2], tiny_path, tmp_path / "out", n_boot=50)
    assert set(report["models"]) == {"lex-a", "lex-b"}
    saved = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert saved["n"] == len(tiny_rows)
    md = (tmp_path / "out" / "metrics.md").read_text()
    assert "| metric | lex-a | lex-b |" in md and "rhetoric FP rate" in md


def test_read_jsonl_names_bad_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"text": "a", "labels": []}\n{oops\n')
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        read_jsonl(p)


def test_record_writes_metrics_into_the_model_directory(tmp_path, tiny_path, tiny_rows):
    from lo_signals.models import load, read_meta, save

    path = save(LexiconScorer().fit([r["text"] for r in tiny_rows]), tmp_path / "lex", name="lex")
    evaluate([str(path)], tiny_path, n_boot=20, record=True)
    meta = read_meta(path)
    assert meta["metrics"]["tiny"]["n"] == len(tiny_rows) and len(meta["metrics"]["tiny"]["data_sha256"]) == 64
    assert "### tiny" in (path / "README.md").read_text()
    with pytest.raises(ValueError):
        evaluate([load(path)], tiny_rows, n_boot=5, record=True)


def test_evaluate_reads_csv_through_the_cli(tmp_path, tiny_rows):
    import csv

    from typer.testing import CliRunner

    from lo_signals.cli import app

    p = tmp_path / "x.csv"
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "labels", "aspirations", "register"])
        for r in tiny_rows:
            w.writerow([r["text"], ";".join(r["labels"]), ";".join(r["aspirations"]), r.get("register", "")])
    result = CliRunner().invoke(app, ["evaluate", "--model", "lexicon", "--data", str(p), "--n-boot", "20"])
    assert result.exit_code == 0, result.output
    from_csv = evaluate("lexicon", p, n_boot=20)["models"]["lexicon"]
    from_jsonl = evaluate("lexicon", tiny_rows, n_boot=20)["models"]["lexicon"]
    assert from_csv["macro_f1"] == from_jsonl["macro_f1"] and from_csv["n"] == len(tiny_rows)


def test_two_model_directories_with_the_same_name_are_both_kept(tmp_path, tiny_path, tiny_rows):
    from lo_signals.models import save

    texts = [r["text"] for r in tiny_rows]
    first = save(LexiconScorer().fit(texts), tmp_path / "run-a" / "model", name="lex")
    strict = LexiconScorer().fit(texts)
    strict.thresholds_ = strict.thresholds_ + 0.3  # another model under the same name
    second = save(strict, tmp_path / "run-b" / "model", name="lex")
    report = evaluate([str(first), str(second), "lexicon"], tiny_path, tmp_path / "out", n_boot=20)
    assert list(report["models"]) == [str(first), str(second), "lexicon"]
    assert report["models"][str(first)]["model"]["path"] == str(first) and report["models"][str(second)]["model"]["path"] == str(second)
    assert report["models"][str(first)]["macro_f1"] != report["models"][str(second)]["macro_f1"]
    saved = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert len(saved["models"]) == 3 and f"| {first} | {second} | lexicon |" in report["table"]


def test_evaluate_reads_one_column_per_label_and_another_text_column(tmp_path, tiny_rows):
    import csv

    from typer.testing import CliRunner

    from lo_signals.cli import app
    from lo_signals.labels import LABELS

    p = tmp_path / "columns.csv"
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["comment", *LABELS])
        for r in tiny_rows:
            w.writerow([r["text"], *(int(label in r["labels"]) for label in LABELS)])
    result = CliRunner().invoke(app, ["evaluate", "--model", "lexicon", "--data", str(p), "--text-column", "comment", "--n-boot", "20"])
    assert result.exit_code == 0, result.output
    listed = evaluate("lexicon", tiny_rows, n_boot=20)["models"]["lexicon"]
    report = evaluate("lexicon", p, n_boot=20, text_column="comment")
    assert report["models"]["lexicon"]["macro_f1"] == listed["macro_f1"]
    # No aspirations in the data: said so, in the table and in a note, never "nan".
    assert not report["aspirations_evaluated"] and "no aspirations column" in report["notes"][0]
    assert "nan" not in report["table"] and "| aspirations macro F1 | not evaluated (no aspirations in the data) |" in report["table"]
    assert "Aspirations were not evaluated" in " ".join(result.output.split()) and "nan" not in result.output
    with_asp = evaluate("lexicon", tiny_rows, n_boot=20)
    assert with_asp["aspirations_evaluated"] and with_asp["notes"] == []
