"""Adding a backend is one class plus one register() call: no library file changes."""

import csv
import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from lo_signals.cli import app
from lo_signals.labels import LABELS, SIGNS, label_matrix
from lo_signals.models import _REGISTRY, backends, load, register
from lo_signals.scorers.base import BaseScorer, check_texts


class KeywordScorer(BaseScorer):
    """A toy backend: one keyword per label, learned as the most frequent word in its positives."""

    backend = "toy_keywords"

    def __init__(self, min_count: int = 1) -> None:
        self.min_count = min_count

    def fit(self, X, y):
        texts, Y = check_texts(X), label_matrix(y, LABELS)
        self.keywords_ = []
        for j in range(len(LABELS)):
            counts: dict[str, int] = {}
            for text in (t for t, on in zip(texts, Y[:, j]) if on):
                for word in set(text.lower().split()):
                    counts[word] = counts.get(word, 0) + len(word)
            self.keywords_.append(max(counts, key=counts.get) if counts else "")
        self.labels_, self.aspiration_labels_ = LABELS, SIGNS
        self.thresholds_, self.aspiration_thresholds_ = np.full(5, 0.5), np.full(4, 0.5)
        return self

    def _proba(self, texts):
        lp = np.array([[float(bool(k) and k in t.lower().split()) for k in self.keywords_] for t in texts])
        return lp, np.zeros((len(texts), 4))

    def _save_weights(self, path: Path) -> list[str]:
        (path / "keywords.json").write_text(json.dumps(self.keywords_))
        return ["keywords.json"]

    @classmethod
    def _from_dir(cls, path: Path, meta: dict, **options):
        obj = cls(**meta["params"])
        obj.keywords_ = json.loads((path / "keywords.json").read_text())
        obj.labels_, obj.aspiration_labels_ = tuple(meta["labels"]), tuple(meta["aspiration_labels"])
        obj.thresholds_ = np.asarray(meta["thresholds"])
        obj.aspiration_thresholds_ = np.asarray(meta["aspiration_thresholds"])
        return obj


def test_a_backend_registered_in_a_test_fits_saves_loads_and_scores_a_folder(tmp_path, tiny_rows, monkeypatch):
    monkeypatch.setitem(_REGISTRY, "toy_keywords", None)  # restored after the test
    register("toy_keywords", KeywordScorer)
    assert "toy_keywords" in backends()
    texts = [r["text"] for r in tiny_rows]
    model = KeywordScorer().fit(texts, [r["labels"] for r in tiny_rows])
    path = model.save(tmp_path / "toy", description="keyword toy")
    meta = json.loads((path / "meta.json").read_text())
    assert meta["backend"] == "toy_keywords" and meta["lexicon"] is None and "keywords.json" in meta["files"]
    again = load(path)
    assert isinstance(again, KeywordScorer) and again.predict(texts) == model.predict(texts)
    keyword = model.keywords_[LABELS.index("blame_defensiveness")]

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(f"Nothing to see in this first sentence.\n\nThen came {keyword} again, as usual.\n")
    result = CliRunner().invoke(app, ["score", str(folder), "--out", str(tmp_path / "out"), "--model", str(path)])
    assert result.exit_code == 0, result.output
    with open(tmp_path / "out" / "sentences.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    flagged = [r["text"] for r in rows if "blame_defensiveness" in r["labels"]]
    assert flagged and all(keyword in t.lower().split() for t in flagged)
    assert any("first sentence" in r["text"] for r in rows)


def test_meta_json_cannot_name_a_module(tmp_path, tiny_rows):
    import pytest

    model = KeywordScorer().fit([r["text"] for r in tiny_rows], [r["labels"] for r in tiny_rows])
    path = model.save(tmp_path / "toy")
    meta = json.loads((path / "meta.json").read_text())
    for bad in ("os.system", "lo_signals.scorers.linear:LinearScorer", ["linear"], None):
        meta["backend"] = bad
        (path / "meta.json").write_text(json.dumps(meta))
        with pytest.raises(ValueError, match="unknown backend"):
            load(path)
