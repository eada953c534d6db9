"""The corpus meets the contract of LABELS.md and the datasheet's promises."""

import json
import sys
from collections import Counter

import pytest

from lo_signals.corpus import agreement, corpus_dir, load_corpus, load_split, near_duplicates
from lo_signals.labels import LABELS, REGISTERS, SIGNS


@pytest.fixture(scope="module")
def splits():
    return {s: load_split(s) for s in ("train", "dev", "test")}


def test_schema_and_label_ids(splits):
    seen = set()
    for rows in splits.values():
        for r in rows:
            # Later corpus versions add provenance fields (doc, source); these are the contract.
            assert {"id", "text", "register", "sector", "labels", "aspirations"} <= set(r)
            assert r["register"] in REGISTERS
            assert r["labels"] == [l for l in LABELS if l in r["labels"]]
            assert r["aspirations"] == [s for s in SIGNS if s in r["aspirations"]]
            # Units written one by one (v1) were kept at 4-80 words; units cut from
            # whole documents (v2) have the lengths real segmentation gives.
            if r.get("source", "v1") == "v1":
                assert 4 <= len(r["text"].split()) <= 80
            else:
                assert r["text"].strip() and len(r["text"].split()) <= 400
            assert r["id"] not in seen
            seen.add(r["id"])


def test_sizes_and_minimum_counts(splits):
    rows = [r for rs in splits.values() for r in rs]
    assert len(rows) >= 2400
    regs = Counter(r["register"] for r in rows)
    assert all(regs[reg] >= 700 for reg in REGISTERS)
    for label in LABELS:
        assert sum(label in r["labels"] for r in rows) >= 250
    assert sum(bool(r["aspirations"]) for r in rows) >= 300
    assert sum(not r["labels"] for r in rows) >= 600
    assert len({r["sector"] for r in rows}) >= 8
    n = len(rows)
    # v1.1 units split 70/15/15; v2's document units 65/15/20 by document.
    assert 0.6 < len(splits["train"]) / n < 0.75 and 0.12 < len(splits["test"]) / n < 0.25


def test_no_near_duplicates_across_splits(splits):
    # Units written one by one (v1.1) must not reappear across splits. Units cut
    # from whole documents are split by document and deduplicated by scenario
    # (embedding cosine, corpora/documents.py); formulae that every document of
    # a kind repeats ("action should be taken to prevent future deaths",
    # "Present:") legitimately recur in documents of different splits.
    texts = {s: [r["text"] for r in rows if r.get("source", "v1") == "v1"] for s, rows in splits.items()}
    assert near_duplicates(texts["train"], 0.8, other=texts["test"]) == []
    assert near_duplicates(texts["train"], 0.8, other=texts["dev"]) == []
    assert near_duplicates(texts["dev"], 0.8, other=texts["test"]) == []


def test_near_duplicate_detector_finds_a_paraphrase():
    pairs = near_duplicates(["Staff on ward 4 teach each other at handover.", "Staff on ward 4 teach each other at handover!", "Parking is awful."], 0.8)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1)]


def test_loads_with_datasets():
    ds = load_corpus()
    assert set(ds) == {"train", "dev", "test"}
    assert ds["test"].num_rows == len(load_split("test"))
    assert ds["train"].features["labels"].feature.dtype == "string"


def test_load_corpus_names_the_extra_when_datasets_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # as if not installed
    with pytest.raises(ImportError, match=r"lo_signals\[datasets\]"):
        load_corpus()


def test_agreement_statistics():
    a = [["open_dialogue"], [], ["open_dialogue"], []]
    assert agreement(a, a)["open_dialogue"]["kappa"] == 1.0
    b = [[], ["open_dialogue"], [], ["open_dialogue"]]
    got = agreement(a, b)["open_dialogue"]
    assert got["agreement"] == 0.0 and got["kappa"] < 0


def test_recorded_stats_match_the_files(splits):
    root = corpus_dir()
    # Each corpus version records its stats beside its splits or one level up
    # (stats.json, stats_v2.json...): the one for these splits must match them exactly.
    files = sorted({*root.glob("stats*.json"), *root.parent.glob("stats*.json")})
    recorded = [json.loads(f.read_text()) for f in files]
    stats = next((s for s in recorded if s.get("splits", {}).get("train", {}).get("n") == len(splits["train"])), None)
    assert stats is not None, f"no stats file in {files} describes {root}"
    for name, rows in splits.items():
        assert stats["splits"][name]["n"] == len(rows)
        for label in LABELS:
            assert stats["splits"][name]["labels"][label] == sum(label in r["labels"] for r in rows)


def test_corpus_dir_finds_the_latest_version_folder(tmp_path):
    for version in ("v1", "v2", "v10"):
        (tmp_path / version).mkdir()
        (tmp_path / version / "train.jsonl").write_text("")
    (tmp_path / "v3").mkdir()  # no splits in it
    assert corpus_dir(tmp_path) == tmp_path / "v10"
    (tmp_path / "train.jsonl").write_text("")
    assert corpus_dir(tmp_path) == tmp_path


def test_read_labelled_takes_jsonl_json_arrays_and_csv_alike(tmp_path, tiny_rows):
    import csv

    from lo_signals.corpus import read_labelled

    rows = tiny_rows[:6]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    (tmp_path / "a.json").write_text(json.dumps(rows))
    with open(tmp_path / "a.csv", "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "labels", "aspirations", "register"])
        for r in rows:
            w.writerow([r["text"], ";".join(r["labels"]), json.dumps(r["aspirations"]), r["register"]])
    read = [read_labelled(tmp_path / f"a.{ext}") for ext in ("jsonl", "json", "csv")]
    for data in read:
        assert data.texts == [r["text"] for r in rows] and data.registers == [r["register"] for r in rows]
        assert data.label_lists() == [r["labels"] for r in rows]
        assert data.aspiration_lists() == [r["aspirations"] for r in rows]
    with pytest.raises(ValueError, match="use a .jsonl or .csv"):
        (tmp_path / "a.txt").write_text("x")
        read_labelled(tmp_path / "a.txt")
