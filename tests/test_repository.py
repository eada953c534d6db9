"""The repository itself: nothing tracked depends on one machine, the codebook is self-contained."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tracked_modes() -> list[tuple[str, str]]:
    out = subprocess.run(["git", "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [(line.split()[0], line.split("\t", 1)[1]) for line in out.splitlines()]


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout")
def test_nothing_tracked_is_a_symlink():
    # A tracked link (mode 120000) points at a folder of one machine: a clone elsewhere gets a dangling link.
    links = [path for mode, path in _tracked_modes() if mode == "120000"]
    assert links == []


def _documents_module(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "corpora"))
    spec = importlib.util.spec_from_file_location("corpora_documents_under_test", ROOT / "corpora" / "documents.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_codebook_leak_check_reads_only_the_repository(monkeypatch):
    documents = _documents_module(monkeypatch)
    examples = documents.codebook_examples()
    assert "Nobody listens to the night staff." in examples
    source = (ROOT / "corpora" / "documents.py").read_text(encoding="utf-8")
    assert "shared" not in source and "LABELS.md\"" not in source


def test_codebook_leak_check_fails_loudly_without_the_codebook(monkeypatch, tmp_path):
    documents = _documents_module(monkeypatch)
    monkeypatch.setattr(documents, "HERE", tmp_path)
    with pytest.raises(FileNotFoundError, match="CODEBOOK.md"):
        documents.codebook_examples()


def test_codebook_states_the_whole_contract():
    text = (ROOT / "corpora" / "CODEBOOK.md").read_text(encoding="utf-8")
    rules = text[text.index("## 9. The decision rules"):]
    for n in range(1, 11):
        assert f"\n{n}. **" in rules, f"rule {n} missing"
    assert "rhetoric-versus-practice gap" in text
    assert "A **unit** is one sentence" in text
