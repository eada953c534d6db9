"""The shipped models are reproducible from the corpora, and training works without the real sources."""

import json
from pathlib import Path

import numpy as np
import pytest

import lo_signals
from lo_signals._hashing import file_sha256
from lo_signals.corpus import corpus_dir, load_split, read_jsonl
from lo_signals.models import read_meta
from lo_signals.standoff import SnapshotError, load_real_split, real_corpus_dir
from lo_signals.train import train_models, training_data

REAL_UNITS = real_corpus_dir() / "units.jsonl"


@pytest.mark.slow  # a full rebuild (minutes); training is covered fast on a tiny corpus
def test_rebuilt_default_matches_the_shipped_model(tmp_path):
    # The shipped default learnt from the real units too, whose text is rebuilt
    # from snapshots of their public sources (corpora/real/SOURCES.md); CI has
    # none, so this check runs where the snapshots are (LO_SIGNALS_SNAPSHOTS).
    try:
        load_real_split("test")
    except SnapshotError as exc:
        pytest.skip(f"real-unit snapshots not available: {str(exc).splitlines()[0]}")
    written = train_models(out=tmp_path, backends=["default"], n_boot=20)
    rebuilt = lo_signals.load(written["default"])
    shipped = lo_signals.load()
    texts = [r["text"] for r in load_split("test")] + [r["text"] for r in load_real_split("test")]
    # Labels must match exactly. Probabilities differ in the last digits with the
    # CPU and BLAS thread count (1.3e-5 seen across machines, 3e-4 with one
    # thread), so they are compared to 1e-3: far below any threshold step (0.01).
    assert rebuilt.predict(texts) == shipped.predict(texts)
    np.testing.assert_allclose(rebuilt.predict_proba(texts), shipped.predict_proba(texts), atol=1e-3)
    assert rebuilt.predict_aspirations(texts) == shipped.predict_aspirations(texts)
    assert read_meta(written["default"])["training_data"] == shipped.meta_["training_data"]


def test_shipped_models_record_the_data_they_learnt_from():
    meta = lo_signals.load().meta_
    recorded = meta["training_data"]
    root = corpus_dir()
    # Only what fitted or tuned the model: written dev is unused (real dev tunes), test is held out.
    pool = root / "audit" / "train_units.jsonl"
    assert recorded == {"train.jsonl": file_sha256(root / "train.jsonl"), "real/units.jsonl": file_sha256(REAL_UNITS),
                        "audit/train_units.jsonl": file_sha256(pool),
                        "audit/thresholds-default.json": file_sha256(root / "audit" / "thresholds-default.json")}
    assert meta["held_out_data"]["test.jsonl"] == file_sha256(root / "test.jsonl")
    assert meta["data_use"]["held_out"] == ["real_test", "written_test"]
    card = (lo_signals.models.model_dir("default") / "README.md").read_text(encoding="utf-8")
    assert "held-out splits only" not in card
    assert "### real_dev (used to tune the thresholds" in card and "### real_test (held out)" in card
    # The new layout: the model carries the lexicon it was fitted with, hashed.
    path = lo_signals.models.model_dir("default")
    assert meta["lexicon"]["sha256"] == file_sha256(path / "lexicon.json")


def test_shipped_meta_records_real_and_written_test_metrics():
    meta = lo_signals.load().meta_
    assert set(meta["metrics"]) == {"real_dev", "real_test", "written_test"}
    n_real_test = sum(json.loads(line)["split"] == "test" for line in REAL_UNITS.read_text(encoding="utf-8").splitlines())
    assert meta["metrics"]["real_test"]["n"] == n_real_test
    assert meta["metrics"]["written_test"]["n"] == len(load_split("test"))
    for m in meta["metrics"].values():
        lo, hi = m["macro_f1"]["ci95"]
        assert lo <= m["macro_f1"]["value"] <= hi


def _tiny_corpus(tmp_path: Path, n: int = 150) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    for split in ("train", "dev", "test"):
        rows = read_jsonl(corpus_dir() / f"{split}.jsonl")[:n]
        (root / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return root


def test_training_without_real_units_uses_written_dev_and_test(tmp_path):
    corpus = _tiny_corpus(tmp_path)
    data = training_data(corpus, real=False)
    assert not data.real and list(data.tests) == ["written_test"]
    assert len(data.train) == len(data.dev) == 150
    written = train_models(corpus, out=tmp_path / "models", backends=["linear"], n_boot=10, real=False)
    meta = read_meta(written["linear"])
    assert set(meta["metrics"]) == {"dev", "written_test"}
    assert meta["training_data"] == {f"{s}.jsonl": file_sha256(corpus / f"{s}.jsonl") for s in ("train", "dev")}
    assert meta["held_out_data"] == {"test.jsonl": file_sha256(corpus / "test.jsonl")}
    card = (written["linear"] / "README.md").read_text(encoding="utf-8")
    assert "- fitted on: written train (train.jsonl)" in card and "- thresholds tuned on: written dev (dev.jsonl)" in card
    assert "### dev (used to tune the thresholds" in card and "### written_test (held out)" in card
    preds = lo_signals.load(written["linear"]).predict(["Nobody listens to the night staff.", "Agency spend fell by 0.3m."])
    assert len(preds) == 2 and all(label in lo_signals.LABELS for p in preds for label in p)


def test_training_with_real_units_names_the_missing_snapshots(tmp_path, monkeypatch):
    monkeypatch.setenv("LO_SIGNALS_SNAPSHOTS", str(tmp_path / "no-snapshots"))
    # A copy of the real corpus without its rebuilt cache, so the sources must be read.
    real = tmp_path / "real"
    real.mkdir()
    (real / "units.jsonl").write_bytes(REAL_UNITS.read_bytes())
    with pytest.raises(SnapshotError, match="no snapshot of .* clone it with"):
        load_real_split("train", root=real)


def test_training_writes_to_a_folder_of_its_own_never_the_package(tmp_path, monkeypatch):
    from lo_signals.models import bundled_models_dir

    corpus = _tiny_corpus(tmp_path, n=60)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    before = {p: p.stat().st_mtime_ns for p in bundled_models_dir().rglob("*") if p.is_file()}
    written = train_models(corpus, backends=["lexicon"], n_boot=5, real=False)
    assert written["lexicon"].resolve() == (work / "models-trained" / "lexicon").resolve()
    assert {p: p.stat().st_mtime_ns for p in bundled_models_dir().rglob("*") if p.is_file()} == before


def test_pool_rows_use_judged_flags_and_skip_unjudged_ones(tmp_path, monkeypatch):
    """Held-back pool units enter training only once judged, with the labels judged right; the rest are negatives."""
    import json

    import lo_signals.standoff as standoff
    import lo_signals.train as train

    def rec(i, role, asked=None):
        r = {"id": f"u{i}", "repo": "o/r", "commit": "c" * 40, "path": "p.txt", "column": None, "format": None,
             "locator": "", "start": 0, "end": 5, "sha256": f"{i:02d}" * 32, "origin": "o", "register": "staff_feedback", "role": role}
        return {**r, "asked": asked} if asked else r

    units = tmp_path / "train_units.jsonl"
    records = [rec(1, "negative"), rec(2, "held_back", ["open_dialogue", "blame_defensiveness"]), rec(3, "held_back", ["open_dialogue"])]
    units.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    judged = tmp_path / "judgements.jsonl"
    verdicts = [(2, "open_dialogue", "no"), (2, "blame_defensiveness", "yes")]  # unit 3 is not judged yet
    judged.write_text("".join(json.dumps({"key": f"{(f'{i:02d}' * 32)[:20]}:{l}", "final": v}) + "\n" for i, l, v in verdicts), encoding="utf-8")
    monkeypatch.setattr(train, "POOL_UNITS", units)
    monkeypatch.setattr(train, "JUDGEMENTS", judged)
    monkeypatch.setattr(standoff, "rebuild_texts", lambda recs, snapshots=None: [{**r, "text": f"text {r['id']}"} for r in recs])
    rows, digest = train.pool_rows()
    assert digest == train.file_sha256(units)
    assert [(r["text"], r["labels"]) for r in rows] == [("text u1", []), ("text u2", ["blame_defensiveness"])]
    # The rebuilt texts are cached by the file's hash: a second call reads the cache.
    monkeypatch.setattr(standoff, "rebuild_texts", lambda *a, **k: (_ for _ in ()).throw(AssertionError("rebuilt twice")))
    assert train.pool_rows()[0] == rows


def test_export_writes_the_defaults_fitting_data_for_finetune(tmp_path, monkeypatch):
    import lo_signals.train as tr
    from lo_signals.corpus import labelled_from_rows, read_labelled

    rows = [{"text": "We learn from each other.", "labels": ["community_of_learners"], "aspirations": [], "register": "staff_feedback"},
            {"text": "We will be open.", "labels": [], "aspirations": ["open_dialogue"], "register": "board_paper"}]
    pool = [{"text": "The meeting closed at nine.", "labels": [], "aspirations": [], "register": "board_paper"}]
    dev = [{"text": "They blamed the nurse.", "labels": ["blame_defensiveness"], "aspirations": [], "register": "inquiry_report"}]
    fake = tr.TrainingData(labelled_from_rows(rows), labelled_from_rows(dev), {}, {"train.jsonl": "x"}, True,
                           use={"fit": ["written train"]}, pool=(labelled_from_rows(pool), "sha"))
    monkeypatch.setattr(tr, "training_data", lambda **kw: fake)
    paths = tr.export_fitting_data(tmp_path / "exp")
    train = read_labelled(paths["train"])
    # The same units the default fits on, pool included, in order; dev is real dev.
    assert train.texts == [r["text"] for r in rows + pool]
    assert train.label_lists() == [["community_of_learners"], [], []]
    assert train.aspiration_lists() == [[], ["open_dialogue"], []]
    assert train.registers == ["staff_feedback", "board_paper", "board_paper"]
    assert read_labelled(paths["dev"]).label_lists() == [["blame_defensiveness"]]
