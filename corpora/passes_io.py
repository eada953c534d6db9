"""Reading labelling passes written as TSV (shared by the corpus build scripts).

A pass file has one line per unit: ``id<TAB>label codes<TAB>aspiration codes``
with codes C, L, D, T, B for the five labels in LABELS order and ``-`` for
none (compact, so a blind annotator writes little and copies no text).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lo_signals.labels import LABELS, SIGNS  # noqa: E402

CODES = dict(zip("CLDTB", LABELS))


def decode(field: str, allowed: tuple[str, ...]) -> list[str]:
    """Label ids for a code string such as ``"CD"`` (``"-"`` or empty: none), in ``allowed`` order."""
    field = field.strip()
    if field in ("", "-"):
        return []
    labs = [CODES[c] for c in field.upper() if c in CODES]
    bad = [lab for lab in labs if lab not in allowed]
    if bad or len(labs) != len(field):
        raise ValueError(f"bad label codes {field!r}")
    return [lab for lab in allowed if lab in labs]


def encode(d: dict) -> str:
    """A unit's answer as ``"labels / aspirations"`` in codes, as the adjudicator reads it."""
    inv = {lab: code for code, lab in CODES.items()}
    labs = "".join(inv[lab] for lab in d["labels"]) or "-"
    asps = "".join(inv[lab] for lab in d["aspirations"]) or "-"
    return f"{labs} / {asps}"


def hash_split(key: str, seed: int | str, shares: tuple[tuple[str, float], ...]) -> str:
    """The split of a document, from a hash of its key: stable whatever else is added."""
    x = int(hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    acc = 0.0
    for name, share in shares:
        acc += share
        if x < acc:
            return name
    return "train"


def read_pass(folder: Path, prefix: str) -> dict[str, dict]:
    """All ``<prefix>_*.tsv`` files of a pass: ``{id: {"labels": [...], "aspirations": [...]}}``."""
    out: dict[str, dict] = {}
    for f in sorted(folder.glob(f"{prefix}_*.tsv")):
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 3:
                raise SystemExit(f"{f.name}:{n}: expected id<TAB>labels<TAB>aspirations")
            try:
                out[parts[0].strip()] = {"labels": decode(parts[1], LABELS), "aspirations": decode(parts[2], SIGNS)}
            except ValueError as exc:
                raise SystemExit(f"{f.name}:{n}: {exc}") from None
    return out


def adjudicate(a: dict, b: dict, c: dict | None, field: str, ids: tuple[str, ...]) -> list[str]:
    """Per label: what A and B agree on; where they differ, the adjudicator C decides (absent without C)."""
    out = []
    for lab in ids:
        va, vb = lab in a.get(field, []), lab in b.get(field, [])
        if va == vb:
            if va:
                out.append(lab)
        elif c is not None and lab in c.get(field, []):
            out.append(lab)
    return out


def read_jsonl(path: Path) -> list[dict]:
    """All rows of a JSONL file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    """Write rows as JSONL (UTF-8, one object a line), creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
