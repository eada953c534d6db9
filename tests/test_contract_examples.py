"""The label contract's own worked examples (LABELS.md) come out right.

The examples are read from the contract at test time (``../shared/LABELS.md``
beside the repository, as CI lays it out), never copied into the repository
and never used for training: a test of generalisation, not of memory.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import lo_signals

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "LABELS.md"


def _examples() -> list[tuple[str, set[str], set[str]]]:
    text = CONTRACT.read_text(encoding="utf-8")
    out = []
    table = text[text.index("## Worked examples"):]
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("text", "") or set(cells[0]) <= set("-"):
            continue
        split = lambda c: {x.strip() for x in c.split(",") if x.strip()}  # noqa: E731
        out.append((cells[0], split(cells[1]), split(cells[2])))
    # Rule 4's three examples: a negated marker is not a marker; the last two are open dialogue.
    rule4 = re.search(r"4\. \*\*Negated markers are not markers\.\*\*(.*?)\n5\.", text, re.S).group(1)
    quoted = re.findall(r"\"([^\"]+)\"", rule4)
    assert len(quoted) == 3, quoted
    for i, q in enumerate(quoted):
        sentence = q[0].upper() + q[1:] + ("" if q.endswith(".") else ".")
        out.append((sentence, set() if i == 0 else {"open_dialogue"}, set()))
    return out


def _right() -> tuple[int, list]:
    examples = _examples()
    assert len(examples) == 11
    model = lo_signals.load("default")
    labels = model.predict([e[0] for e in examples])
    asps = model.predict_aspirations([e[0] for e in examples])
    right = [set(l) == e[1] and set(a) == e[2] for e, l, a in zip(examples, labels, asps)]
    wrong = [(e[0][:60], sorted(l), sorted(a)) for e, l, a, r in zip(examples, labels, asps, right) if not r]
    return sum(right), wrong


@pytest.mark.skipif(not CONTRACT.is_file(), reason=f"the label contract is not at {CONTRACT}")
def test_default_gets_eight_worked_examples_exactly_right():
    n, wrong = _right()
    # The bar: at least 8 of the contract's examples exactly right (labels and aspirations).
    assert n >= 8, wrong


@pytest.mark.skipif(not CONTRACT.is_file(), reason=f"the label contract is not at {CONTRACT}")
def test_worked_examples_are_in_no_training_file():
    examples = {e[0].lower().rstrip(".") for e in _examples()}
    root = Path(__file__).resolve().parents[1] / "corpora"
    for path in list(root.glob("*.jsonl")) + list(root.glob("v1/*.jsonl")):
        body = path.read_text(encoding="utf-8").lower()
        for e in examples:
            assert e not in body, f"{path.name} holds a worked example of the contract: {e[:50]}"
