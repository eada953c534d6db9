import pytest

import lo_signals
from lo_signals.labels import BLAME, LABELS, SIGNS, TAXONOMY, from_multi_hot, to_multi_hot, validate_labels


def test_label_ids_follow_the_contract_order():
    assert lo_signals.LABELS == (
        "community_of_learners",
        "dispersed_leadership",
        "open_dialogue",
        "ongoing_transformation",
        "blame_defensiveness",
    )
    assert SIGNS == LABELS[:4] and BLAME == LABELS[4]
    assert [t.id for t in TAXONOMY] == list(LABELS)
    assert [t.is_sign for t in TAXONOMY] == [True, True, True, True, False]


def test_validate_orders_and_dedupes():
    assert validate_labels(["open_dialogue", "community_of_learners", "open_dialogue"]) == [
        "community_of_learners",
        "open_dialogue",
    ]


@pytest.mark.parametrize("bad", [["openness"], [3], "open_dialogue"])
def test_validate_rejects_unknown_ids_and_strings(bad):
    with pytest.raises(ValueError):
        validate_labels(bad, where="row 7: ")


def test_unknown_id_error_names_the_row():
    with pytest.raises(ValueError, match="row 7"):
        validate_labels(["openness"], where="row 7: ")


def test_multi_hot_round_trip():
    rows = [["blame_defensiveness"], [], ["community_of_learners", "ongoing_transformation"]]
    m = to_multi_hot(rows)
    assert m.shape == (3, 5)
    assert m.tolist() == [[0, 0, 0, 0, 1], [0, 0, 0, 0, 0], [1, 0, 0, 1, 0]]
    assert from_multi_hot(m) == rows
    assert to_multi_hot([["open_dialogue"]], SIGNS).tolist() == [[0, 0, 1, 0]]
    with pytest.raises(ValueError):
        to_multi_hot([["blame_defensiveness"]], SIGNS)


def test_import_is_light_and_public_api_is_declared():
    import subprocess
    import sys

    code = "import sys, lo_signals; print(any(m.startswith(('sklearn', 'spacy', 'torch', 'pandas')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    for name in lo_signals.__all__:
        assert getattr(lo_signals, name) is not None
