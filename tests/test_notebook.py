import pandas as pd
import pytest

import lo_signals
from lo_signals.labels import LABELS
from lo_signals.notebook import highlight_html


def test_score_frame_adds_probability_and_label_columns():
    df = pd.DataFrame({"comment": ["Staff were blamed for the outage and nobody dared report the next one.", None, ""], "team": ["a", "b", "c"]})
    out = lo_signals.score_frame(df, text_col="comment")
    assert list(out.columns) == ["comment", "team", *LABELS, "labels", "aspirations", "n_units", "evidence"]
    assert "blame_defensiveness" in out.loc[0, "labels"].split(";")
    assert out.loc[1, "labels"] == "" and out.loc[2, "labels"] == ""
    assert list(out["n_units"]) == [1, 0, 0]
    assert "comment" in df.columns and "labels" not in df.columns, "the input frame is not modified"
    with pytest.raises(KeyError):
        lo_signals.score_frame(df, text_col="text")


def test_scored_texts_render_highlighted_html():
    scored = lo_signals.score_texts(["After I flagged the near miss the registrar thanked me and we went through it together at handover.", "Agency spend fell by 0.3m."])
    page = scored._repr_html_()
    assert "<mark" in page and "open dialogue" in page
    assert scored.labels[1] == []
    frame = scored.to_frame()
    assert frame.shape == (2, 1 + len(LABELS) + 4)
    assert list(frame["n_units"]) == [1, 1]


def test_highlight_only_marks_predicted_labels_and_escapes_html():
    out = highlight_html("<b>Staff</b> were blamed for the error", ["blame_defensiveness"])
    assert "&lt;b&gt;" in out and "<mark" in out
    assert "<mark" not in highlight_html("They blamed the nurse", [])


def test_plot_profile_draws_bars_and_groups():
    import matplotlib

    matplotlib.use("Agg")
    df = pd.DataFrame({"labels": ["open_dialogue", "", "blame_defensiveness", "open_dialogue"], "aspirations": ["", "open_dialogue", "", ""], "team": ["a", "a", "b", "b"]})
    ax = lo_signals.plot_profile(df, n_boot=50)
    widths = sorted(p.get_width() for p in ax.patches)
    assert widths[-1] == pytest.approx(50.0)
    ax2 = lo_signals.plot_profile(df, by="team", n_boot=50)
    assert len(ax2.patches) == 2 * len(LABELS)
    assert {"a", "b"} <= {t.get_text() for t in ax2.get_legend().get_texts()}


def test_score_frame_refuses_to_overwrite_columns_unless_told():
    df = pd.DataFrame({"comment": ["Staff were blamed for the outage."], "labels": ["my own coding"]})
    with pytest.raises(ValueError, match=r"overwrite.*\['labels'\].*overwrite=True"):
        lo_signals.score_frame(df, text_col="comment")
    assert df.loc[0, "labels"] == "my own coding", "the input frame is not modified"
    out = lo_signals.score_frame(df, text_col="comment", overwrite=True)
    assert "blame_defensiveness" in out.loc[0, "labels"].split(";")


def test_arrays_and_series_are_accepted_like_lists():
    import numpy as np

    texts = ["When the drug error happened the first question was who gave it.", "Agency spend fell by 0.3m."]
    from_list = lo_signals.score_texts(texts)
    for variant in (np.array(texts), pd.Series(texts, index=[10, 20]), tuple(texts)):
        scored = lo_signals.score_texts(variant)
        assert scored.labels == from_list.labels
        assert all(type(t) is str for t in scored.texts)
    with pytest.raises(TypeError, match="single string"):
        lo_signals.score_texts(texts[0])
    df = pd.DataFrame({"labels": ["open_dialogue", "", "blame_defensiveness", ""], "team": ["a", "a", "b", "b"]})
    by_array = lo_signals.aggregate(df, by=np.array(["team"]), n_boot=0)
    assert list(by_array["team"]) == ["a", "b"] and list(by_array["units"]) == [2, 2]
    import matplotlib

    matplotlib.use("Agg")
    ax = lo_signals.plot_profile(df, by=pd.Series(["team"]), n_boot=20)
    assert {"a", "b"} <= {t.get_text() for t in ax.get_legend().get_texts()}


def _lexicon_without(pattern_word: str):
    """The packaged lexicon less every pattern containing ``pattern_word``, as a model's own copy."""
    import json

    from lo_signals.scorers.lexicon import LexiconData

    data = json.loads(LexiconData.read().raw)
    for label, entries in data["labels"].items():
        data["labels"][label] = [e for e in entries if pattern_word not in e["pattern"]]
    return _data(json.dumps(data).encode())


def _data(raw: bytes):
    import hashlib

    from lo_signals.scorers.lexicon import LexiconData

    return LexiconData(raw, hashlib.sha256(raw).hexdigest())


def test_highlighting_uses_the_scoring_models_own_lexicon():
    import types

    text = "Staff were blamed for the error"
    assert "<mark" in highlight_html(text, ["blame_defensiveness"])  # the packaged lexicon marks "blamed"
    own = _lexicon_without("blame")
    model = types.SimpleNamespace(lexicon_data_=own)
    # The model was fitted without those patterns: its explanation must not show them.
    assert "<mark" not in highlight_html(text, ["blame_defensiveness"], lexicon=model)
    assert "<mark" not in highlight_html(text, ["blame_defensiveness"], lexicon=own)


def test_score_texts_highlights_with_the_models_lexicon():
    import lo_signals

    model = lo_signals.load()
    scored = lo_signals.score_texts(["Staff were blamed for the error"], model=model)
    assert scored.lexicon is model.lexicon_data_


def test_negation_scope_is_defined_once():
    import inspect

    from lo_signals.scorers import lexicon, linear

    assert linear.mark_negation.__defaults__ == (lexicon.NEGATION_WORD_WINDOW,)
    # No other module spells the window out.
    for module in (linear, lexicon):
        source = inspect.getsource(module)
        assert "window=4" not in source.replace(" ", "") and '"window", 5' not in source


def test_plot_profile_with_many_groups_draws_the_largest_and_says_what_it_left_out():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # 92 directorates, directorate i with i + 1 units: the ten largest are d82..d91.
    rows = [{"labels": "open_dialogue" if j % 2 else "", "aspirations": "", "directorate": f"d{i:02d}"} for i in range(92) for j in range(i + 1)]
    df = pd.DataFrame(rows)
    ax = lo_signals.plot_profile(df, by="directorate", n_boot=0)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [g for g in legend if g.startswith("d")] == [f"d{i}" for i in range(82, 92)]
    assert len(ax.patches) == 10 * len(LABELS)
    left_units = sum(range(1, 83))
    assert f"10 largest of 92 groups; 82 smaller ({left_units:,} units) not shown" in ax.get_title()
    width, height = ax.figure.get_size_inches() * ax.figure.dpi
    assert height < 1200, f"{height:.0f} px tall"
    plt.close(ax.figure)
    every = lo_signals.plot_profile(df.head(sum(range(1, 13))), by="directorate", n_boot=0, top=None)
    assert len(every.patches) == 12 * len(LABELS) and "not shown" not in every.get_title()
    plt.close(every.figure)
    with pytest.raises(ValueError, match="top must be at least 1"):
        lo_signals.plot_profile(df, by="directorate", top=0)


# -- issue 16.1: one unit contract for score_frame, score_texts and lo-signals score

THREE_SENTENCES = (
    "Staff were blamed for the outage and nobody dared report the next one. "
    "The canteen food is fine and the car park is busy. "
    "Parking permits are renewed every April by the estates office."
)
COMMENTS = pd.DataFrame(
    {
        "comment": [
            THREE_SENTENCES,
            "",
            "My manager asked what went wrong and we changed the handover.",
            None,
            "   ",
        ],
        "team": ["a", "a", "b", "b", "b"],
    }
)


def test_score_frame_splits_a_comment_into_units_like_score_documents(tmp_path):
    # One three-sentence comment: one blame unit out of three, whichever path scores it.
    one = pd.DataFrame({"comment": [THREE_SENTENCES]})
    (tmp_path / "one.csv").write_text(one.to_csv(index=False))
    run = lo_signals.score_documents(tmp_path / "one.csv", text_column="comment")
    units = lo_signals.score_frame(one, text_col="comment", units=True)
    assert list(units["text"]) == list(run["text"]) and len(units) == 3
    rate_frame = lo_signals.aggregate(units, by=None, n_boot=0)["blame_defensiveness_rate"].iloc[0]
    rate_run = lo_signals.aggregate(run, by=None, n_boot=0)["blame_defensiveness_rate"].iloc[0]
    assert rate_frame == pytest.approx(rate_run) == pytest.approx(100 / 3)


def test_score_frame_per_comment_rows_combine_their_units():
    out = lo_signals.score_frame(COMMENTS, text_col="comment")
    assert len(out) == len(COMMENTS) and list(out.index) == list(COMMENTS.index)
    assert list(out["n_units"]) == [3, 0, 1, 0, 0]
    units = lo_signals.score_frame(COMMENTS, text_col="comment", units=True)
    first = units[units["doc_id"] == "r0"]
    # Per label: the highest probability of the comment's units; labels: any of its units'.
    for label in LABELS:
        assert out.loc[0, label] == pytest.approx(first[label].max(), abs=1e-5)
    assert set(out.loc[0, "labels"].split(";")) == {x for cell in first["labels"] for x in cell.split(";") if x}
    assert out.loc[0, "evidence"] == [t for t, lab in zip(first["text"], first["labels"]) if lab]
    assert "blame_defensiveness" in out.loc[0, "labels"].split(";")
    assert out.loc[0, "evidence"] == ["Staff were blamed for the outage and nobody dared report the next one."]
    for i in (1, 3, 4):  # blank and missing comments: no units, no labels, zeros
        assert out.loc[i, "labels"] == "" and out.loc[i, "evidence"] == [] and out.loc[i, list(LABELS)].sum() == 0
    # aggregate on the comment rows counts the two comments that have units, not the blanks.
    by_comment = lo_signals.aggregate(out, by=None, n_boot=0)
    assert by_comment["units"].iloc[0] == 2
    assert by_comment["blame_defensiveness_rate"].iloc[0] == pytest.approx(50.0)
    # score_texts gives the same per-text results.
    scored = lo_signals.score_texts(COMMENTS["comment"])
    assert [";".join(x) for x in scored.labels] == list(out["labels"])
    assert scored.n_units == [3, 0, 1, 0, 0]


def test_score_frame_units_match_the_cli_sentences_csv(tmp_path):
    import numpy as np
    from typer.testing import CliRunner

    from lo_signals.cli import app

    (tmp_path / "in").mkdir()
    COMMENTS.to_csv(tmp_path / "in" / "comments.csv", index=False)
    result = CliRunner().invoke(app, ["score", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--text-column", "comment"])
    assert result.exit_code == 0, result.output
    cli = pd.read_csv(tmp_path / "out" / "sentences.csv", keep_default_na=False, dtype={"labels": str, "aspirations": str, "language": str})
    units = lo_signals.score_frame(COMMENTS, text_col="comment", units=True)
    assert len(units) == len(cli) == 4, "blank and missing comments are never units"
    assert list(units.columns) == list(cli.columns)
    assert [d.rsplit(":", 1)[1] for d in cli["doc_id"]] == list(units["doc_id"])
    for c in ("unit_id", "start", "end"):
        assert list(units[c].astype(int)) == list(cli[c])
    for c in ("text", "labels", "aspirations", "language", "team"):
        assert list(units[c]) == list(cli[c]), c
    assert list(units["truncated"]) == list(cli["truncated"]) == [False] * 4
    assert np.allclose(units[list(LABELS)].to_numpy(float), cli[list(LABELS)].to_numpy(float))
    frame_rates = lo_signals.aggregate(units, by="team", n_boot=0)
    cli_rates = lo_signals.aggregate(cli, by="team", n_boot=0)
    assert list(frame_rates["units"]) == list(cli_rates["units"]) == [3, 1]
    for label in LABELS:
        assert list(frame_rates[f"{label}_rate"]) == pytest.approx(list(cli_rates[f"{label}_rate"]))


def test_predict_reads_missing_values_as_empty_texts():
    import numpy as np

    model = lo_signals.load()
    texts = ["Staff were blamed for the outage and nobody dared report the next one.", None, float("nan"), np.nan, pd.NA]
    assert model.predict(texts)[1:] == [[], [], [], []]
    assert model.predict(texts)[0] == model.predict(texts[:1])[0]
    assert (model.predict_proba(texts)[1:] == 0).all()
    with pytest.raises(TypeError, match="expected str"):
        model.predict(["ok", 3])
