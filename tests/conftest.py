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


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer BERT and a WordPiece vocabulary, built from a config (no download)."""
    pytest.importorskip("torch")
    import re

    from transformers import BertConfig, BertModel, BertTokenizerFast

    rows = [json.loads(line) for line in (FIXTURES / "tiny.jsonl").read_text().splitlines() if line.strip()]
    words = sorted({w for r in rows for w in re.findall(r"[a-z]+", r["text"].lower())})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *".,:;'!?", *words]
    path = tmp_path_factory.mktemp("tiny_bert")
    (path / "vocab.txt").write_text("\n".join(vocab))
    BertTokenizerFast(vocab_file=str(path / "vocab.txt")).save_pretrained(path)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(path)
    return path
