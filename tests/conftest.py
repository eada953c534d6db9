"""Shared fixtures. Tests never touch the network: hub look-ups are switched off."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def tiny_rows() -> list[dict]:
    """32 hand-written labelled units covering every label, rhetoric and hard negatives."""
    return [json.loads(line) for line in (FIXTURES / "tiny.jsonl").read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def tiny_path() -> Path:
    return FIXTURES / "tiny.jsonl"
