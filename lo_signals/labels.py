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
    "label_matrix",
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


def _label_cell(value: object, where: str) -> list:
    """One row's labels as a list: accepts a list/tuple, ``None`` or a CSV cell ("a;b", "a,b" or a JSON list)."""
    if value is None:  # an empty CSV cell: no labels
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise ValueError(f"{where}labels cell {value!r} is not a JSON list") from None
        else:
            return [x.strip() for x in text.replace(";", ",").split(",") if x.strip()]
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):
        value = value.tolist()  # numpy arrays and pandas cells holding lists
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{where}labels are {value!r}; expected a list of label ids")
    return list(value)


def label_matrix(values, labels: Sequence[str] = LABELS):
    """Turn label lists (or a ready 0/1 matrix) into an ``(n, len(labels))`` int8 array.

    The one converter used by fitting, evaluation and the corpus readers.

    Args:
        values: A 2-D 0/1 (or boolean) array with one column per label, or one
            entry per row: a list of label ids, ``None`` (no labels) or a CSV
            cell such as ``"a;b"``, ``"a,b"`` or ``'["a", "b"]'``.
        labels: The label ids, in column order.

    Returns:
        ``(n, len(labels))`` int8 array of 0/1.

    Raises:
        ValueError: Naming the row, for an unknown id or a malformed entry, or
            for a matrix with the wrong number of columns.
    """
    import numpy as np

    if isinstance(values, np.ndarray) and values.ndim == 2:
        if values.shape[1] != len(labels):
            raise ValueError(f"label matrix must have shape (n, {len(labels)}), got {values.shape}")
        return values.astype(np.int8)
    index = {label: i for i, label in enumerate(labels)}
    rows = list(values)
    out = np.zeros((len(rows), len(labels)), dtype=np.int8)
    for i, row in enumerate(rows):
        where = f"row {i}: "
        for label in validate_labels(_label_cell(row, where), labels, where=where):
            out[i, index[label]] = 1
    return out


#: Earlier name of :func:`label_matrix`, kept for existing code.
to_multi_hot = label_matrix


def from_multi_hot(matrix, labels: Sequence[str] = LABELS) -> list[list[str]]:
    """Turn a 0/1 (or boolean) matrix back into lists of label ids."""
    return [[labels[j] for j, on in enumerate(row) if on] for row in matrix]
