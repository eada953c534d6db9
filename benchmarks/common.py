"""Shared helpers for the benchmark scripts: machine description and benchmark sentences."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine() -> str:
    """One line describing the machine the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def sentences(n: int) -> list[str]:
    """``n`` benchmark sentences: the corpus units (all splits) repeated in a fixed order."""
    from lo_signals.corpus import load_split

    base = [r["text"] for split in ("train", "dev", "test") for r in load_split(split)]
    return [base[i % len(base)] for i in range(n)]


def minilm_embedder(batch: int = 64):
    """A function that embeds texts with the packaged all-MiniLM-L6-v2, loaded once.

    Mean pooling over the attention mask, L2-normalised, 128 tokens per text,
    texts batched by length. Needs the ``[transformers]`` extra (raises
    ImportError without it); never touches the network.

    Returns:
        ``embed(texts) -> numpy array (n, 384)``, rows in input order.
    """
    import numpy as np
    import torch
    from transformers import AutoModel, AutoTokenizer

    from lo_signals.scorers._untrusted import HF_SAFE
    from lo_signals.scorers.transformer import packaged_minilm_path

    base = str(packaged_minilm_path())
    tok = AutoTokenizer.from_pretrained(base, **HF_SAFE)
    enc = AutoModel.from_pretrained(base, use_safetensors=True, **HF_SAFE).eval()

    def embed(texts) -> "np.ndarray":
        texts = list(texts)
        order = np.argsort([len(t) for t in texts])
        out = np.zeros((len(texts), enc.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for i in range(0, len(texts), batch):
                idx = order[i : i + batch]
                b = tok([texts[j] for j in idx], padding=True, truncation=True, max_length=128, return_tensors="pt")
                h = enc(**b).last_hidden_state
                mask = b["attention_mask"].unsqueeze(-1).float()
                v = (h * mask).sum(1) / mask.sum(1).clamp(min=1e-6)
                out[idx] = torch.nn.functional.normalize(v, dim=-1).numpy()
        return out

    return embed
