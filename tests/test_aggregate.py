import pandas as pd
import pytest

from lo_signals import aggregate


@pytest.fixture
def units():
    return pd.DataFrame(
        {
            "doc_id": ["a", "a", "a", "a", "b", "b"],
            "path": ["/x/one.txt"] * 4 + ["/y/two.txt"] * 2,
            "directorate": ["Surgery"] * 4 + ["Medicine"] * 2,
            "labels": ["open_dialogue", "", "open_dialogue;blame_defensiveness", "", "", "community_of_learners"],
            "aspirations": ["", "open_dialogue", "", "open_dialogue", "", ""],
        }
    )


def test_rates_counts_and_gap(units):
    out = aggregate(units, by="doc_id", n_boot=200).set_index("doc_id")
    assert out.loc["a", "units"] == 4
    assert out.loc["a", "open_dialogue_count"] == 2 and out.loc["a", "open_dialogue_rate"] == 50.0
    assert out.loc["a", "open_dialogue_rhetoric_rate"] == 50.0 and out.loc["a", "open_dialogue_gap"] == 0.0
    assert out.loc["b", "community_of_learners_rate"] == 50.0
    assert out.loc["a", "open_dialogue_rate_lo"] <= 50.0 <= out.loc["a", "open_dialogue_rate_hi"]
    assert 0 <= out.loc["a", "blame_defensiveness_rate_lo"] < out.loc["a", "blame_defensiveness_rate_hi"] <= 100


def test_group_by_folder_metadata_and_everything(units):
    assert list(aggregate(units, by="folder", n_boot=0)["folder"]) == ["/x", "/y"]
    by_dir = aggregate(units, by=["directorate"], n_boot=0).set_index("directorate")
    assert by_dir.loc["Surgery", "units"] == 4
    pooled = aggregate(units, by=None, n_boot=0)
    assert len(pooled) == 1 and pooled.loc[0, "units"] == 6


def test_list_valued_labels_are_accepted(units):
    units = units.assign(labels=[s.split(";") if s else [] for s in units["labels"]])
    assert aggregate(units, by="doc_id", n_boot=0).set_index("doc_id").loc["a", "open_dialogue_count"] == 2


def test_bad_grouping_column_is_a_clear_error(units):
    with pytest.raises(ValueError, match="no column"):
        aggregate(units, by="team")
    with pytest.raises(ValueError, match="labels"):
        aggregate(units.drop(columns="labels"))


def test_package_function_is_not_shadowed_by_its_module(units):
    import importlib

    import lo_signals

    # Importing every library module (as plot_profile and write_report do) must leave the function in place.
    importlib.import_module("lo_signals.rollup")
    importlib.import_module("lo_signals.notebook")
    assert callable(lo_signals.aggregate)
    assert lo_signals.aggregate(units, by=None, n_boot=0).loc[0, "units"] == 6


def test_missing_cells_and_unknown_ids(units):
    import numpy as np

    units = units.assign(labels=[np.nan, "open_dialogue", None, "", "", "community_of_learners"])
    out = aggregate(units, by="doc_id", n_boot=0).set_index("doc_id")
    assert out.loc["a", "open_dialogue_count"] == 1 and out.loc["b", "community_of_learners_count"] == 1
    with pytest.raises(ValueError, match="unknown label 'teamwork'"):
        aggregate(units.assign(labels="teamwork"), by="doc_id", n_boot=0)


def test_bootstrap_interval_covers_the_rate_for_a_large_group():
    import numpy as np

    n = 200_000  # row resampling would need n_boot * n indices; pattern counts need n_boot * 32
    df = pd.DataFrame({"labels": np.where(np.arange(n) % 4 == 0, "blame_defensiveness", "")})
    row = aggregate(df, by=None, n_boot=500).iloc[0]
    assert row["blame_defensiveness_rate"] == 25.0
    assert 24.6 < row["blame_defensiveness_rate_lo"] < 25.0 < row["blame_defensiveness_rate_hi"] < 25.4


def _clustered(n_docs: int = 40, per_doc: int = 50):
    import numpy as np

    # Half the documents are all blame, half have none: units within a document agree.
    docs = np.repeat(np.arange(n_docs), per_doc)
    labels = np.where(docs % 2 == 0, "blame_defensiveness", "")
    return pd.DataFrame({"doc_id": [f"d{d}" for d in docs], "respondent": [f"r{d}" for d in docs], "labels": labels})


def test_intervals_resample_documents_not_units():
    df = _clustered()
    row = aggregate(df, by=None, n_boot=400).iloc[0]
    units = aggregate(df, by=None, n_boot=400, cluster=None).iloc[0]
    assert row["resampled"] == "doc_id" and row["clusters"] == 40 and units["resampled"] == "units"
    width = row["blame_defensiveness_rate_hi"] - row["blame_defensiveness_rate_lo"]
    unit_width = units["blame_defensiveness_rate_hi"] - units["blame_defensiveness_rate_lo"]
    # 40 independent documents, not 2,000 independent units: about sqrt(50) times wider (~31 points against ~4).
    assert width > 4 * unit_width
    assert 20 < width < 45


def test_cluster_column_names_respondents_and_blank_ids_stand_alone():
    df = _clustered().drop(columns="doc_id")
    row = aggregate(df, by=None, n_boot=200, cluster="respondent").iloc[0]
    assert row["resampled"] == "respondent" and row["clusters"] == 40
    df["respondent"] = ""
    blank = aggregate(df, by=None, n_boot=200, cluster="respondent").iloc[0]
    assert blank["clusters"] == len(df)
    with pytest.raises(ValueError, match="cluster column 'nope'"):
        aggregate(df, by=None, cluster="nope")


def test_one_document_group_falls_back_to_units(units):
    out = aggregate(units, by="doc_id", n_boot=200).set_index("doc_id")
    assert list(out["resampled"]) == ["units", "units"]
    assert out.loc["a", "open_dialogue_rate_lo"] < out.loc["a", "open_dialogue_rate_hi"]
