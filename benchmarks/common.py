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
