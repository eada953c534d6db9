import json

import numpy as np
import pytest

from lo_signals.labels import LABELS
from lo_signals.scorers.lexicon import Lexicon, LexiconScorer, expand_segments, load_lexicon, parse_pattern


@pytest.fixture(scope="module")
def lex():
    return Lexicon.default()


def labels_of(lex, text):
    return {(h.label, h.negated) for h in lex.match([text])[0]}


def test_data_file_is_versioned_and_valid():
    data = load_lexicon()
    assert data["version"].count(".") == 2
    assert set(data["labels"]) == set(LABELS)
    assert len(data["sha256"]) == 64
    ids = [e["id"] for entries in data["labels"].values() for e in entries]
    assert len(ids) == len(set(ids))


def test_pattern_syntax_expands_alternatives_optionals_and_gaps():
    items = parse_pattern("safe|free to? _? speak|raise")
    segs, gaps = expand_segments(items)[0]
    assert segs == [["free", "free to", "safe", "safe to"], ["raise", "speak"]]
    assert gaps == [(0, 1)]
    with pytest.raises(ValueError):
        parse_pattern("_ blame")
    with pytest.raises(ValueError):
        parse_pattern("   ")


def test_evidence_spans_point_into_the_text(lex):
    text = "The service was co-designed with carers, and then a witch-hunt followed."
    hits = lex.match([text])[0]
    assert hits, "expected pattern hits"
    for h in hits:
        assert text[h.start : h.end] == h.text
        assert h.pattern in lex.patterns
    found = {(h.label, h.text) for h in hits}
    assert ("dispersed_leadership", "co-designed with carers") in found
    assert ("blame_defensiveness", "witch-hunt") in found


def test_negated_blame_is_not_blame_but_open_dialogue(lex):
    # LABELS.md rule 4: negated markers are not markers.
    for text in ["There is no blame culture here.", "Nobody is afraid to speak up on this ward."]:
        got = labels_of(lex, text)
        assert ("blame_defensiveness", False) not in got
        assert ("open_dialogue", True) in got


def test_plain_blame_and_fear_are_markers(lex):
    assert ("blame_defensiveness", False) in labels_of(lex, "Staff were blamed for the outage.")
    assert ("blame_defensiveness", False) in labels_of(lex, "I am scared to report anything now.")


def test_negation_does_not_cross_a_clause_break(lex):
    got = labels_of(lex, "No one was hurt, but the nurse was blamed by the manager.")
    assert ("blame_defensiveness", False) in got


def test_rhetoric_goes_to_aspirations(lex):
    hits = lex.match(["We aim to be an organisation where every colleague feels safe to speak up."])[0]
    assert hits and all(h.aspiration for h in hits if h.label != "blame_defensiveness")
    hits = lex.match(["Last year 82% of staff said they felt safe to speak up."])[0]
    assert hits and not any(h.aspiration for h in hits)


def test_feature_matrix_shape_and_columns(lex):
    feats = lex.features(["Staff were blamed for the outage.", ""])
    assert feats.shape == (2, len(lex.feature_names()))
    col = lex.feature_names().index("blame_defensiveness:evidence")
    assert feats[0, col] > 0 and feats[1].sum() == 0


def test_lexicon_scorer_fit_tunes_thresholds_and_predicts(tiny_rows):
    texts = [r["text"] for r in tiny_rows]
    from lo_signals.labels import SIGNS, to_multi_hot

    model = LexiconScorer()
    assert model.fit(texts, to_multi_hot([r["labels"] for r in tiny_rows]), aspirations=to_multi_hot([r["aspirations"] for r in tiny_rows], SIGNS)) is model
    assert model.thresholds_.shape == (5,) and model.aspiration_thresholds_.shape == (4,)
    proba = model.predict_proba(texts)
    assert proba.shape == (len(texts), 5) and np.all((proba >= 0) & (proba < 1))
    assert "blame_defensiveness" in model.predict(["When the error happened they blamed the student nurse."])[0]
    assert model.predict([""]) == [[]]


def test_custom_lexicon_file(tmp_path):
    data = json.loads(json.dumps(load_lexicon()))
    data.pop("sha256")
    data["labels"] = {label: [] for label in LABELS}
    data["labels"]["open_dialogue"] = [{"id": "x", "pattern": "zebra crossing", "weight": 2.0}]
    path = tmp_path / "lex.json"
    path.write_text(json.dumps(data))
    model = LexiconScorer(lexicon_path=str(path)).fit(["a"])
    assert model.predict(["we met at the zebra crossing"]) == [["open_dialogue"]]
    assert model.predict(["people speak up here"]) == [[]]


def test_fit_accepts_lists_of_label_ids(tiny_rows):
    texts = [r["text"] for r in tiny_rows]
    model = LexiconScorer().fit(texts, [r["labels"] for r in tiny_rows], aspirations=[r["aspirations"] for r in tiny_rows])
    assert model.thresholds_.shape == (5,)


@pytest.mark.slow  # a million characters through spaCy
def test_a_unit_over_a_million_characters_is_scored_in_pieces_with_a_warning():
    import warnings

    import lo_signals
    from lo_signals.scorers.base import LongTextWarning

    blame = "When the error happened they blamed the student nurse."
    filler = "The meeting covered the agenda items in order. " * 25_000  # ~1.2 M characters
    long_text = filler + blame
    assert len(long_text) > 1_000_000
    for name in ("lexicon", "default"):
        model = lo_signals.load(name)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            labels = model.predict([long_text, "short and plain"])
        # The hit after the first million characters counts: the lexicon labels it;
        # the default (whose TF-IDF part sees mostly filler) raises its blame score.
        if name == "lexicon":
            assert "blame_defensiveness" in labels[0], name
        else:
            j = lo_signals.LABELS.index("blame_defensiveness")
            with_hit, without = model.predict_proba([long_text, filler])[:, j]
            assert with_hit > without, name
        assert any(issubclass(w.category, LongTextWarning) for w in caught)
        notes = model.text_warnings([long_text, "short and plain"])
        assert notes[1] is None and f"{len(long_text):,} characters" in notes[0] and "pieces" in notes[0]


def test_evidence_offsets_point_into_the_whole_long_text():
    from lo_signals.scorers.lexicon import MAX_PIECE_CHARS, split_long_text

    text = "x " * MAX_PIECE_CHARS + "They blamed the nurse."
    pieces = split_long_text(text)
    assert "".join(p for _, p in pieces) == text and all(len(p) <= MAX_PIECE_CHARS for _, p in pieces)
    hits = LexiconScorer().evidence([text])[0]
    assert hits and all(text[h.start : h.end] == h.text for h in hits)
