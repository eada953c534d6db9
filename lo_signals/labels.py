"""The label ids and taxonomy: the only place they are defined.

The order of :data:`LABELS` is the column order of every array, table and file
that lo_signals reads or writes (see ``LABELS.md``, the label contract).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "LABELS",
    "SIGNS",
    "BLAME",
    "REGISTERS",
    "Label",
    "TAXONOMY",
    "validate_labels",
    "to_multi_hot",
    "from_multi_hot",
]

#: Label ids in contract order (columns of ``predict_proba``).
LABELS: tuple[str, ...] = (
    "community_of_learners",
    "dispersed_leadership",
    "open_dialogue",
    "ongoing_transformation",
    "blame_defensiveness",
)

#: The four signs of a learning organisation: the ids ``aspirations`` may use.
SIGNS: tuple[str, ...] = LABELS[:4]

#: The marker that stands against the four signs.
BLAME: str = LABELS[4]

#: The three kinds of text the corpus and the models cover.
REGISTERS: tuple[str, ...] = ("staff_feedback", "board_paper", "inquiry_report")


@dataclass(frozen=True)
class Label:
    """One label of the taxonomy.

    Attributes:
        id: The label id used in every file and column.
        name: Short human-readable name.
        description: One-line summary of what counts as evidence.
        is_sign: True for Snell's four signs, False for the blame marker.
    """

    id: str
    name: str
    description: str
    is_sign: bool


TAXONOMY: tuple[Label, ...] = (
    Label(
        "community_of_learners",
        "community of learners",
        "People teach, mentor and learn from each other, reflect together and share lessons across teams and walls.",
        True,
    ),
    Label(
        "dispersed_leadership",
        "dispersed learning leadership",
        "Frontline and junior staff lead, teach and start improvements; decisions are devolved; leaders learn from the frontline.",
        True,
    ),
    Label(
        "open_dialogue",
        "open dialogue",
        "People voice concerns, doubts and mistakes, challenge seniors and are heard; candour with the public.",
        True,
    ),
    Label(
        "ongoing_transformation",
        "ongoing transformation",
        "Working practices actually change because of learning from incidents, reviews, audits or feedback.",
        True,
    ),
    Label(
        "blame_defensiveness",
        "blame and defensiveness",
        "Blame of individuals, fear, defensiveness, concealment or silencing.",
        False,
    ),
)


def validate_labels(values: Iterable[str], allowed: Sequence[str] = LABELS, *, where: str = "") -> list[str]:
    """Check label ids and return them in contract order without duplicates.

    Args:
        values: Label ids to check.
        allowed: The ids that are valid here, in their canonical order.
        where: Text naming the row or field, used in the error message.

    Returns:
        The ids in the order of ``allowed``.

    Raises:
        ValueError: If an id is unknown or a value is not a string.
    """
    if isinstance(values, str):
        raise ValueError(f"{where}labels must be a list of ids, not the string {values!r}")
    seen = set()
    for value in values:
        if not isinstance(value, str) or value not in allowed:
            raise ValueError(f"{where}unknown label {value!r}; expected one of {list(allowed)}")
        seen.add(value)
    return [label for label in allowed if label in seen]


def to_multi_hot(rows: Iterable[Iterable[str]], labels: Sequence[str] = LABELS):
    """Turn lists of label ids into an ``(n, len(labels))`` 0/1 integer array."""
    import numpy as np

    index = {label: i for i, label in enumerate(labels)}
    rows = list(rows)
    out = np.zeros((len(rows), len(labels)), dtype=np.int8)
    for i, row in enumerate(rows):
        for label in validate_labels(row, labels, where=f"row {i}: "):
            out[i, index[label]] = 1
    return out


def from_multi_hot(matrix, labels: Sequence[str] = LABELS) -> list[list[str]]:
    """Turn a 0/1 (or boolean) matrix back into lists of label ids."""
    return [[labels[j] for j, on in enumerate(row) if on] for row in matrix]
