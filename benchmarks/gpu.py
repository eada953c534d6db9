"""Transformer inference speed by precision and batch size, and the time to score 1 M sentences.

Prints the machine (GPU name, torch and transformers versions), then one row
per precision and batch size: sentences/s over ``--n`` benchmark sentences (the
corpus units repeated), the estimated time for 1,000,000 sentences, peak GPU
memory, and how many sentences get exactly the labels fp32 gives them.

The clock covers one ``predict_all_proba`` call: tokenisation, host-to-device
copies, the forward passes and the copy back, as a user sees it. Each
configuration is warmed up first (CUDA kernels, allocator).

It runs on a CPU too (slowly: use a small ``--n``), and imports nothing of
spaCy, skops or datasets, so it runs where only torch and transformers are
installed.

Model: ``--model`` (default ``transformer``, the bundled model, which needs the
packaged MiniLM base). Where that base is not installed, ``--encoder DIR``
takes a directory with an encoder's ``config.json`` and tokenizer files (and
optionally its weights; without them the weights are random, which times the
same computation) and puts ``--head`` (default: the bundled model's trained
layers) on top.

Usage:
    python benchmarks/gpu.py [--n 50000] [--batch-sizes 128 256 512 1024] [--precisions fp32 bf16 fp16]
    python benchmarks/gpu.py --device cpu --n 256 --batch-sizes 32 64 --precisions fp32
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def benchmark_texts(n: int) -> list[str]:
    """``n`` sentences: the corpus units of every split, repeated in a fixed order."""
    from lo_signals.corpus import SPLITS, load_split

    base = [r["text"] for split in SPLITS for r in load_split(split, ROOT / "corpora")]
    return [base[i % len(base)] for i in range(n)]


def machine(device: str) -> str:
    """One line naming the accelerator (or CPU) and the library versions."""
    import torch
    import transformers

    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        where = f"{props.name} ({props.total_memory / 2**30:.0f} GiB), CUDA {torch.version.cuda}"
    else:
        where = f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} torch threads"
    return f"{where}; torch {torch.__version__}, transformers {transformers.__version__}, Python {platform.python_version()}"


def load_model(args: argparse.Namespace, precision: str, batch_size: int):
    """The scorer to time, in the given precision and batch size."""
    import lo_signals

    if args.encoder is None:
        return lo_signals.load(args.model, device=args.device, precision=precision, batch_size=batch_size)
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    from lo_signals.models import model_dir, read_meta
    from lo_signals.scorers.transformer import assemble, quiet_loading

    head = model_dir(args.head)
    with quiet_loading():
        if (Path(args.encoder) / "model.safetensors").is_file():
            encoder = AutoModel.from_pretrained(args.encoder, use_safetensors=True)
        else:
            encoder = AutoModel.from_config(AutoConfig.from_pretrained(args.encoder))
        tokenizer = AutoTokenizer.from_pretrained(args.encoder)
    return assemble(encoder.float(), tokenizer, head, read_meta(head), device=args.device, precision=precision, batch_size=batch_size)


def run(args: argparse.Namespace) -> list[dict]:
    import torch

    from lo_signals.scorers import transformer

    texts = benchmark_texts(args.n)
    rows, reference = [], None
    configs = [(p, b, t) for p in args.precisions for b in args.batch_sizes for t in args.threads or [transformer.TOKENIZE_THREADS]]
    for precision, batch_size, threads in configs:
        transformer.TOKENIZE_THREADS = threads
        model = load_model(args, precision, batch_size)
        model.predict_all_proba(texts[: min(len(texts), 4 * batch_size)])  # warm-up
        if args.device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        _, _, labels, _ = model.predict_all(texts)
        seconds = time.perf_counter() - t0
        if reference is None and precision == "fp32":
            reference = labels
        rate = len(texts) / seconds
        rows.append(
            {
                "precision": precision,
                "batch_size": batch_size,
                "threads": threads,
                "sentences": len(texts),
                "seconds": round(seconds, 3),
                "sentences_per_s": round(rate, 1),
                "minutes_per_million": round(1e6 / rate / 60, 2),
                "peak_gpu_mib": round(torch.cuda.max_memory_allocated() / 2**20) if args.device == "cuda" else None,
                "same_labels_as_fp32": None if reference is None else round(sum(a == b for a, b in zip(labels, reference)) / len(texts), 4),
            }
        )
        print(_row(rows[-1]), flush=True)
        del model
        if args.device == "cuda":
            torch.cuda.empty_cache()
    return rows


def _row(r: dict) -> str:
    mem = "" if r["peak_gpu_mib"] is None else str(r["peak_gpu_mib"])
    same = "" if r["same_labels_as_fp32"] is None else f"{r['same_labels_as_fp32']:.4f}"
    return f"| {r['precision']} | {r['batch_size']} | {r['threads']} | {r['sentences']} | {r['sentences_per_s']:,.0f} | {r['minutes_per_million']:.2f} | {mem} | {same} |"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="transformer", help="Model name or directory (default: the bundled transformer).")
    parser.add_argument("--encoder", help="Encoder directory (config + tokenizer, weights optional) when the model's base is not installed.")
    parser.add_argument("--head", default="transformer", help="With --encoder: the model directory whose trained layers go on top.")
    parser.add_argument("--device", default=None, help="cuda, mps or cpu (default: cuda when present).")
    parser.add_argument("--n", type=int, default=None, help="Sentences per measurement (default: 50,000 on a GPU, 512 on a CPU).")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None)
    parser.add_argument("--precisions", nargs="+", default=None)
    parser.add_argument("--threads", type=int, nargs="+", default=None, help="Tokenising threads to try (default: the library's choice).")
    parser.add_argument("--json", type=Path, help="Also write the rows to this JSON file.")
    args = parser.parse_args(argv)

    import torch

    args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    gpu = args.device != "cpu"
    args.n = args.n or (50_000 if gpu else 512)
    args.batch_sizes = args.batch_sizes or ([128, 256, 512, 1024] if gpu else [32, 64])
    args.precisions = args.precisions or (["fp32", "bf16", "fp16"] if gpu else ["fp32"])
    # fp32 first, so the other precisions' labels are compared with it.
    args.precisions = sorted(args.precisions, key=lambda p: p != "fp32")
    print(f"# transformer inference on {machine(args.device)}")
    print(f"# model: {args.model if args.encoder is None else f'{args.head} head on encoder {args.encoder}'}; {args.n} sentences per row")
    print("| precision | batch | tokenising threads | sentences | sentences/s | minutes per 1 M | peak GPU MiB | same labels as fp32 |")
    print("|---|---|---|---|---|---|---|---|")
    rows = run(args)
    best = max(rows, key=lambda r: r["sentences_per_s"])
    print(
        f"\nfastest: {best['precision']} at batch {best['batch_size']}: {best['sentences_per_s']:,.0f} sentences/s, "
        f"1 M sentences in about {best['minutes_per_million']:.1f} minutes"
    )
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(args.device), "rows": rows}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
