"""Fine-tune MiniLM configurations on written + real train and evaluate them.

Each configuration is fine-tuned on ``--train`` with early stopping and
thresholds on ``--dev`` (real dev), then evaluated on every ``--test`` file
(real test, written test). Prints one row per configuration and writes
``<out>/finetune-real.json``; each model directory stays under ``<out>/``.
Selection among configurations uses real dev only; test figures are printed
for the record.

Runs wherever torch and transformers are installed (no spaCy, skops or
datasets needed), e.g. on a GPU machine:

    python benchmarks/finetune_real.py --train T.jsonl --dev D.jsonl \\
        --test real=RT.jsonl --test written=WT.jsonl --base DIR --out runs --device cuda
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

#: name -> FinetuneConfig overrides. "partial" is the shipped size (top two
#: layers and the output layer saved in fp16 beside the packaged base).
CONFIGS = {
    "full-s0": {"seed": 0},
    "full-s1": {"seed": 1},
    "full-s2": {"seed": 2},
    "partial2-s0": {"seed": 0, "train_layers": 2, "save_partial": True, "lr": 1e-4},
    "partial3-s0": {"seed": 0, "train_layers": 3, "save_partial": True, "lr": 1e-4},
}


def main() -> None:
    from lo_signals.evaluation import evaluate
    from lo_signals.finetuning import FinetuneConfig, finetune

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", required=True)
    ap.add_argument("--dev", required=True)
    ap.add_argument("--test", action="append", default=[], help="name=path, repeatable")
    ap.add_argument("--base", default="minilm")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--precision", default="bf16")
    ap.add_argument("--configs", nargs="*", default=list(CONFIGS))
    ap.add_argument("--n-boot", type=int, default=1000)
    args = ap.parse_args()

    import torch

    where = torch.cuda.get_device_name(0) if torch.cuda.is_available() else platform.processor() or "CPU"
    print(f"machine: {where}; torch {torch.__version__}", flush=True)
    tests = dict(t.split("=", 1) for t in args.test)
    results = {}
    for name in args.configs:
        cfg = FinetuneConfig(base=args.base, device=args.device, precision=args.precision if args.device != "cpu" else "fp32", **CONFIGS[name])
        t0 = time.perf_counter()
        model = finetune(args.train, args.dev, args.out / name, cfg)
        secs = time.perf_counter() - t0
        row = {"seconds": round(secs, 1), "config": CONFIGS[name]}
        for split, path in {"dev": args.dev, **tests}.items():
            m = next(iter(evaluate(model, path, n_boot=args.n_boot)["models"].values()))
            row[split] = {
                "macro_f1": m["macro_f1"], "per_label": {k: v["f1"] for k, v in m["per_label"].items()},
                "by_register": {k: v["macro_f1"] for k, v in m.get("macro_f1_by_register", {}).items()},
                "rhetoric_fpr": m.get("rhetoric_fpr", {}).get("value"),
            }
        results[name] = row
        print(name, f"{secs:.0f}s", " ".join(f"{s}={row[s]['macro_f1']['value']:.3f}" for s in ("dev", *tests)), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "finetune-real.json").write_text(json.dumps({"machine": where, "results": results}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
