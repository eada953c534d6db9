"""The unit-quality gate: non-units are named, and no scorer labels them on any path."""

from __future__ import annotations

import pytest

import lo_signals
from lo_signals.quality import QUALITY_OK, QUALITY_REASONS, gate_config, unit_quality


@pytest.mark.parametrize(
    "text,reason",
    [
        ("Review", "too_short"),
        ("After", "too_short"),
        ("Page 3 of 12", "too_short"),
        ("Thank you.", "too_short"),
        ("Okay for now", "too_short"),
        ("", "empty"),
        ("   ", "empty"),
        ("Did you get a handover from the night staff before the alarm went off?", "question"),
        ("Q. And did you raise that with the ward manager at the time", "question"),
        ("Thank you, Mr Chairman, that is helpful.", "procedural"),
        ("You also say in your witness statement that the alarm to", "fragment"),
        ("| 2023 | 14 | 12.5% | 1,204 |", "debris"),
        ("Lessons Learned From The Serious Incident Review", "heading"),
        ("Le personnel a été remercié pour son signalement de l'erreur.", "not_english"),
    ],
)
def test_non_units_are_named(text, reason):
    assert reason in QUALITY_REASONS
    assert unit_quality(text) == reason


@pytest.mark.parametrize(
    "text",
    [
        "The porters suggested moving the bed meeting and the site team adopted it.",
        "A. Yes, I raised it and she thanked me and we changed the checklist.",
        "Nobody listens to the night staff.",
        "No micromanagement at any level",
        "Lovely colleagues, approachable and friendly management.",
        "management hide how bad it is",
        "Amazing workplace and experienced colleagues to learn from",
    ],
)
def test_sentences_and_terse_comments_pass(text):
    assert unit_quality(text) == QUALITY_OK


def test_rules_are_a_versioned_data_file():
    cfg = gate_config()
    assert cfg["version"] and cfg["min_words"] >= 3


@pytest.mark.parametrize("name", ["default", "linear", "lexicon"])
def test_no_backend_labels_a_non_unit(name):
    model = lo_signals.load(name)
    junk = ["Review", "After", "Okay for now", "Thank you.", "Page 3 of 12",
            "Did the staff feel they were blamed for the error on the ward?",
            "El personal tenía miedo de ser culpado por el error."]
    proba, asp_p, labels, asps = model.predict_all(junk)
    assert labels == [[]] * len(junk) and asps == [[]] * len(junk)
    assert proba.sum() == 0 and asp_p.sum() == 0
    assert model.unit_quality(junk)[0] == "too_short"


def test_evidence_wins_over_aspiration_for_the_same_sign():
    import numpy as np

    model = lo_signals.load("default")
    label_p = np.array([[0.0, 0.0, 0.0, 1.0, 0.0]])
    asp_p = np.array([[0.0, 0.0, 0.0, 1.0]])
    labels, asps = model._decide_both(label_p, asp_p)
    assert labels == [["ongoing_transformation"]] and asps == [[]]


def test_sentences_table_says_why_a_unit_is_a_non_unit(tmp_path):
    from lo_signals import score_documents

    (tmp_path / "a.txt").write_text(
        "Lessons Learned From The Review\n\nReview\n\nStaff who raised concerns were labelled troublemakers and moved to nights.\n",
        encoding="utf-8",
    )
    df = score_documents(tmp_path / "a.txt")
    assert "quality" in df.columns
    gated = df[df["quality"] != "ok"]
    assert set(gated["quality"]) <= set(QUALITY_REASONS) and len(gated) >= 2
    assert (gated["labels"] == "").all()
    assert (df[df["quality"] == "ok"]["text"].str.contains("troublemakers")).any()


def test_the_batch_path_decides_quality_once_and_the_scorer_reuses_it(monkeypatch):
    from lo_signals.pipeline import score_units

    model = lo_signals.load("default")
    calls = []
    monkeypatch.setattr(model, "unit_quality", lambda texts: calls.append(len(texts)) or ["ok"] * len(texts))
    texts = ["Review", "Staff who raised concerns were labelled troublemakers and moved to nights."]
    scored = score_units(model, texts)
    assert calls == []  # the pipeline's own verdicts were passed in
    assert scored.quality == ["too_short", "ok"] and scored.labels[0] == []
    model.predict_all(texts)
    assert calls == [2]  # called directly, the scorer decides for itself
