"""The precision instrument (corpora/audit): draws, strict adjudication, intervals, threshold rule, stand-off records."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

AUDIT = Path(__file__).resolve().parent.parent / "corpora" / "audit"
sys.path.insert(0, str(AUDIT))

import audit  # noqa: E402


def _units(n: int) -> list[dict]:
    sha = lambda i: hashlib.sha256(f"unit {i}".encode()).hexdigest()  # noqa: E731
    return [{"sha256": sha(i), "text": f"unit {i}", "doc": f"d{i // 3}", "genre": "g", "register": "staff_feedback"} for i in range(n)]


def test_draw_is_seeded_uniform_and_independent_of_pool_order():
    units = _units(200)
    flagged = list(range(0, 200, 2))
    first = audit.draw(units, flagged, "open_dialogue", 10)
    assert len(first) == 10 and set(first) <= set(flagged)
    # Same flags in another order, same draw; another label, another draw.
    assert audit.draw(units, list(reversed(flagged)), "open_dialogue", 10) == first
    assert audit.draw(units, flagged, "blame_defensiveness", 10) != first
    assert audit.draw(units, flagged[:5], "open_dialogue", 10) == sorted(flagged[:5])


def test_wilson_interval_brackets_the_proportion():
    lo, hi = audit.wilson(8, 10)
    assert 0.4 < lo < 0.8 < hi < 1.0
    assert audit.wilson(0, 5)[0] == 0.0
    assert np.isnan(audit.wilson(0, 0)[0])


def test_precision_table_counts_only_the_draw_and_strict_verdicts(monkeypatch):
    units = _units(60)
    labels = [["open_dialogue"] if i < 50 else [] for i in range(60)]
    cache = {audit.key_of(units[i]["sha256"], "open_dialogue"): {"final": "yes" if i % 2 == 0 else "no"} for i in range(50)}
    monkeypatch.setattr(audit, "judgements", lambda: cache)

    class Model:
        labels_ = ("open_dialogue",)

    table = audit.precision_table(units, Model(), np.zeros((60, 1)), labels, k=20)
    row = table["per_label"]["open_dialogue"]
    assert row["flags"] == 50 and row["judged"] == 20 and table["unjudged_in_draw"] == 0
    drawn = audit.draw(units, list(range(50)), "open_dialogue", 20)
    assert row["right"] == sum(i % 2 == 0 for i in drawn)
    assert table["all"]["per_100"] == pytest.approx(100 * 50 / 60)


def test_adjudication_is_strict(tmp_path, monkeypatch):
    monkeypatch.setattr(audit, "BUILD", tmp_path / "build")
    monkeypatch.setattr(audit, "PASSES", tmp_path / "passes")
    monkeypatch.setattr(audit, "JUDGEMENTS", tmp_path / "judgements.jsonl")
    rows = [{"key": f"k{i}", "id": f"u{i}", "sha256": f"{i:064x}", "label": "open_dialogue", "source": "s", "genre": "g"} for i in range(3)]
    audit.write_jsonl(tmp_path / "build" / "judge" / "t.jsonl", rows)
    verdicts = {"A": ["yes", "yes", "borderline"], "B": ["yes", "no", "yes"]}
    for p, vs in verdicts.items():
        audit.write_jsonl(tmp_path / "passes" / f"t.{p}.jsonl", [{"key": f"k{i}", "verdict": v} for i, v in enumerate(vs)])
    audit.main(["adjudicate", "--name", "t"])
    final = {r["key"]: r["final"] for r in audit.read_jsonl(tmp_path / "judgements.jsonl")}
    assert final == {"k0": "yes", "k1": "no", "k2": "no"}  # right only when every pass says yes


def test_threshold_rule_is_precision_first_then_recall(monkeypatch):
    units = _units(40)
    proba = np.linspace(0.3, 0.99, 40)[:, None]
    # Judged flags: right only above 0.8.
    cache = {audit.key_of(u["sha256"], "x"): {"final": "yes" if p >= 0.8 else "no"} for u, p in zip(units, proba[:, 0])}
    monkeypatch.setattr(audit, "judgements", lambda: cache)
    lab_p = np.array([[0.95], [0.85], [0.5], [0.2]])
    lab_y = np.array([[1], [1], [1], [0]])
    res = audit.precision_first(units, proba, ["x"], [0.3], lab_p, lab_y, target=0.8, min_recall=0.1)
    assert res["x"]["threshold"] == pytest.approx(0.8)
    # No right flag at any threshold: the label is nearly silenced, keeping some labelled-dev recall.
    cache = {k: {"final": "no"} for k in cache}
    monkeypatch.setattr(audit, "judgements", lambda: cache)
    res = audit.precision_first(units, proba, ["x"], [0.3], lab_p, lab_y, target=0.8, min_recall=0.1)
    assert res["x"]["threshold"] == pytest.approx(0.95)


def test_judgements_and_pool_records_hold_no_text():
    for path in (AUDIT / "judgements.jsonl", AUDIT / "train_units.jsonl", AUDIT / "train_units_round2.jsonl"):
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh):
                rec = json.loads(line)
                assert "text" not in rec and len(rec["sha256"]) == 64, path
                if n > 2000:
                    break
    for path in (AUDIT / "passes").glob("*.jsonl"):
        first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
        # Verdicts only: a judge's reason could quote the unit, and no source text enters the repository.
        assert set(first) == {"key", "verdict"}, path


def test_every_audit_source_is_pinned_and_none_is_reserved():
    reserved = {"saiteja007-mv/Glassdoor-Companies-Review-Analysis", "Sam-Osian/PFD-toolkit", "dracos/lampard-inquiry",
                "dracos/pohi", "c19witness/uk-covid19-inquiry"}
    roles = {}
    for path in sorted((AUDIT / "sources").glob("*.json")):
        src = json.loads(path.read_text(encoding="utf-8"))
        assert len(src["commit"]) == 40 and src["repo"] not in reserved
        roles.setdefault(src["repo"] + ":" + ",".join(src.get("files", src.get("glob", []))), set()).add(src["role"])
    assert all(len(r) == 1 for r in roles.values()), "a source in two roles"


def test_pool_scores_are_cached_by_model_weights_and_units(tmp_path, monkeypatch):
    import lo_signals

    monkeypatch.setattr(audit, "BUILD", tmp_path)
    units = [{**u, "text": t} for u, t in zip(_units(3), ["They blamed the nurse.", "We learn together.", "Page 3"])]
    scorer, proba, labels = audit.score_pool(units, "lexicon")
    assert len(list((tmp_path / "scores").glob("*.npy"))) == 1
    np.testing.assert_allclose(proba, lo_signals.load("lexicon").predict_proba([u["text"] for u in units]))
    assert labels == scorer.predict([u["text"] for u in units])

    # The second call reads the cache: scoring again would fail here.
    def refuse(self, texts):
        raise AssertionError("scored again")

    monkeypatch.setattr(type(scorer), "predict_proba", refuse)
    _, again, labels_again = audit.score_pool(units, "lexicon")
    np.testing.assert_array_equal(again, proba)
    assert labels_again == labels
    # Other units are another cache entry, never the old scores.
    with pytest.raises(AssertionError, match="scored again"):
        audit.score_pool(units[:2], "lexicon")


def test_a_file_the_real_corpus_used_is_refused_another_file_of_its_repository_is_not(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("audit_build", AUDIT / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    real = json.loads((AUDIT.parent / "real" / "sources.json").read_text())["sources"]
    used = next(s for s in real if s.get("files") and not s.get("glob"))
    base = {"commit": used["commit"], "register": "inquiry_report", "genre": "inquiry_report", "role": "dev_pool",
            "kind": "k", "licence": "l", "repo": used["repo"]}
    monkeypatch.setattr(build, "SOURCES_DIR", tmp_path)
    (tmp_path / "other-file.json").write_text(json.dumps({**base, "id": "other-file", "files": ["some/other/file.md"]}))
    assert [s["id"] for s in build.load_sources()] == ["other-file"]
    (tmp_path / "same-file.json").write_text(json.dumps({**base, "id": "same-file", "files": [used["files"][0]]}))
    with pytest.raises(SystemExit, match="same-file.json: .* is a source of corpora/real"):
        build.load_sources()
