"""Stand-off records: the committed real-unit files and rebuilding text from snapshots."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from lo_signals.labels import REGISTERS
from lo_signals.segment import segment
from lo_signals.standoff import SnapshotError, check_records, rebuild_texts, source_documents, text_sha256

REAL = Path(__file__).resolve().parent.parent / "corpora" / "real"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is needed to build snapshots")


def _records() -> list[dict]:
    path = REAL / "units.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_committed_units_hold_no_text_and_are_sound():
    records = _records()
    assert len(records) >= 3000
    assert check_records(records) == []
    assert all("text" not in r for r in records)
    assert {r["register"] for r in records} == set(REGISTERS)
    assert {r["split"] for r in records} == {"train", "dev", "test"}


def test_committed_test_split_has_a_natural_prevalence_sample():
    test = [r for r in _records() if r["split"] == "test"]
    assert sum(r["sampling"] == "random" for r in test) >= 600
    # Model-picked (enriched) units come from train and dev documents only;
    # the test split adds only cue-targeted units, reported separately.
    assert {r["sampling"] for r in test} <= {"random", "targeted"}


def test_committed_units_cover_every_label_in_test():
    test = [r for r in _records() if r["split"] == "test"]
    from lo_signals.labels import LABELS

    for label in LABELS:
        assert sum(label in r["labels"] for r in test) >= 10, label


def test_committed_sources_are_pinned_and_documented():
    spec = json.loads((REAL / "sources.json").read_text(encoding="utf-8"))
    pinned = {(s["repo"], s["commit"]) for s in spec["sources"]}
    assert all(len(c) == 40 for _, c in pinned)
    used = {(r["repo"], r["commit"]) for r in _records()}
    assert used <= pinned
    sources_md = (REAL / "SOURCES.md").read_text(encoding="utf-8")
    for repo, _ in used:
        assert repo in sources_md


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout.strip()


@pytest.fixture()
def snapshot(tmp_path: Path) -> tuple[Path, str]:
    """A tiny source repository ``acme/reports`` with a markdown report and a CSV of comments."""
    repo = tmp_path / "snaps" / "acme+reports"
    repo.mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / "report.md").write_text(
        "# Findings\n\nThe ward sister asked the students to lead the huddle. Staff said they felt safe to report errors.\n",
        encoding="utf-8",
    )
    (repo / "comments.csv").write_text("id,comment\n1,Managers blame us for everything.\n2,Parking is full.\n", encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "sources")
    return tmp_path / "snaps", _git(repo, "rev-parse", "HEAD")


def _records_for(snaps: Path, commit: str) -> list[dict]:
    recs = []
    for path, column in (("report.md", None), ("comments.csv", "comment")):
        data = (snaps / "acme+reports" / path).read_bytes()
        for loc, doc in source_documents(data, path, column):
            for u in segment(doc.text, doc.blocks):
                recs.append({
                    "id": f"u{len(recs)}", "repo": "acme/reports", "commit": commit, "path": path,
                    "column": column, "locator": loc, "start": u.start, "end": u.end,
                    "sha256": text_sha256(u.text), "expected": u.text,
                })
    return recs


def test_rebuild_restores_every_unit_from_a_snapshot(snapshot):
    snaps, commit = snapshot
    recs = _records_for(snaps, commit)
    rebuilt = rebuild_texts(recs, snaps)
    assert [r["text"] for r in rebuilt] == [r["expected"] for r in recs]
    assert "Managers blame us for everything." in [r["text"] for r in rebuilt]


def test_rebuild_names_the_missing_snapshot_and_commit(snapshot, tmp_path):
    snaps, commit = snapshot
    recs = _records_for(snaps, commit)
    with pytest.raises(SnapshotError, match="no snapshot of acme/reports"):
        rebuild_texts(recs, tmp_path / "empty")
    bad_commit = [dict(r, commit="0" * 40) for r in recs]
    with pytest.raises(SnapshotError, match="lacks commit 0000"):
        rebuild_texts(bad_commit, snaps)


def test_rebuild_refuses_a_changed_source(snapshot):
    snaps, commit = snapshot
    recs = _records_for(snaps, commit)
    tampered = [dict(r, sha256=text_sha256("something else")) if i == 0 else r for i, r in enumerate(recs)]
    with pytest.raises(SnapshotError, match="do not match their sha256.*u0"):
        rebuild_texts(tampered, snaps)


def test_check_records_finds_text_duplicates_and_split_leaks():
    base = {"repo": "a/b", "commit": "c" * 40, "path": "x.md", "locator": "", "start": 0, "end": 5,
            "register": "board_paper", "labels": [], "aspirations": []}
    recs = [
        dict(base, id="1", sha256="a" * 64, doc="d1", split="train", text="leak"),
        dict(base, id="2", sha256="a" * 64, doc="d1", split="test"),
        dict(base, id="3", sha256="b" * 64, doc="d2", split="dev", start=7, end=3, labels=["learning"]),
    ]
    problems = "\n".join(check_records(recs))
    assert "1: carries a text field" in problems
    assert "2: duplicate sha256" in problems
    assert "document d1 in splits train and test" in problems
    assert "3: bad offsets" in problems
    assert "3: unknown label" in problems
