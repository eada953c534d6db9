"""A fast gate and a reader: the linear default decides which units a fine-tuned encoder reads.

Real documents are mostly text that carries no sign; the linear default reads
vocabulary and is fast, a fine-tuned encoder reads sentences and is slow. The
cascade scores every unit with the gate (the linear model) and sends to the
reader (the encoder) only the units that could reach a threshold. A unit's
evidence probability is the geometric mean of the two, ``sqrt(p_gate *
p_reader)``, the product-of-experts score: a flag needs both models.

The routing is exact, not an approximation. A unit goes to the reader when,
for some label, ``p_gate >= t**2`` (``t`` that label's threshold). For any
unit that is not sent, ``p_gate < t**2`` for every label, so ``sqrt(p_gate *
p_reader) <= sqrt(p_gate) < t`` whatever the reader would say: it could not
have been flagged. Such a unit keeps the gate's own probability, which is
below every threshold too. Aspirations (rhetoric) come from the gate.

A cascade directory holds ``meta.json`` (backend ``cascade``), a model card
and two model directories, ``gate/`` (a ``linear`` model) and ``reader/`` (a
``transformer`` model); ``meta.json`` records the sha256 of each part's
``meta.json``, which records the sha256 of its weights. Only those two
backends are accepted as parts, so a cascade cannot nest or name a module.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .base import BaseScorer, check_texts

__all__ = ["CascadeScorer"]

#: The backend each part must be (meta.json names a backend, never a module).
PART_BACKENDS = {"gate": "linear", "reader": "transformer"}


class CascadeScorer(BaseScorer):
    """The linear gate and the encoder reader as one scorer (see the module docstring).

    Build one from two fitted scorers with :meth:`from_parts`, or load a saved
    directory with :func:`lo_signals.load`.

    Attributes:
        gate_: The fitted linear scorer run on every unit.
        reader_: The fitted transformer scorer run on the units the gate routes.
        thresholds_: Evidence thresholds on the combined probability.
        aspiration_thresholds_: The gate's aspiration thresholds.
        routed_share_: Share of units sent to the reader in the last call (``None`` before one).
    """

    backend = "cascade"

    def __init__(self) -> None:
        pass

    @classmethod
    def from_parts(cls, gate: Any, reader: Any, thresholds: Sequence[float]) -> "CascadeScorer":
        """Combine a fitted linear gate and a fitted transformer reader.

        Args:
            gate: A fitted :class:`~lo_signals.scorers.linear.LinearScorer`.
            reader: A fitted :class:`~lo_signals.scorers.transformer.TransformerScorer` with the same labels.
            thresholds: One threshold per label on the combined probability.

        Returns:
            The fitted cascade.

        Raises:
            ValueError: If the parts are of other backends or their labels differ.
        """
        for role, part in (("gate", gate), ("reader", reader)):
            if getattr(part, "backend", None) != PART_BACKENDS[role]:
                raise ValueError(f"the {role} must be a {PART_BACKENDS[role]} model, got {getattr(part, 'backend', type(part).__name__)}")
        if tuple(gate.labels_) != tuple(reader.labels_):
            raise ValueError(f"gate and reader label sets differ: {gate.labels_} vs {reader.labels_}")
        thresholds = np.asarray(thresholds, dtype=float)
        if thresholds.shape != (len(gate.labels_),) or not ((thresholds > 0) & (thresholds <= 1)).all():
            raise ValueError(f"need one threshold in (0, 1] per label ({len(gate.labels_)})")
        obj = cls()
        obj.gate_, obj.reader_ = gate, reader
        obj.labels_ = tuple(gate.labels_)
        obj.aspiration_labels_ = tuple(gate.aspiration_labels_)
        obj.thresholds_ = thresholds
        obj.aspiration_thresholds_ = np.asarray(gate.aspiration_thresholds_, dtype=float)
        obj.lexicon_data_ = getattr(gate, "lexicon_data_", None)  # evidence highlighting uses the gate's lexicon
        obj.routed_share_ = None
        return obj

    def routes(self, gate_proba: np.ndarray) -> np.ndarray:
        """Which units go to the reader: those whose gate probability reaches ``threshold**2`` for some label."""
        return (np.asarray(gate_proba) >= (self.thresholds_**2)[None, :]).any(axis=1)

    def _proba(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        gate_p, gate_a = self.gate_._proba(texts)
        out = np.array(gate_p, dtype=np.float64, copy=True)
        sent = np.flatnonzero(self.routes(gate_p))
        if len(sent):
            reader_p, _ = self.reader_._proba([texts[i] for i in sent])
            out[sent] = np.sqrt(gate_p[sent] * reader_p)
        self.routed_share_ = len(sent) / len(texts) if texts else 0.0
        return out, np.asarray(gate_a, dtype=np.float64)

    def _would_route(self, texts: list[str]) -> np.ndarray:
        """Whether each text would be read by the reader: it passes the unit-quality gate and the routing."""
        from ..quality import QUALITY_OK

        ok = np.array([q == QUALITY_OK for q in self.unit_quality(texts)], dtype=bool)
        out = np.zeros(len(texts), dtype=bool)
        if ok.any():
            idx = np.flatnonzero(ok)
            out[idx] = self.routes(self.gate_._proba([texts[i] for i in idx])[0])
        return out

    def text_warnings(self, texts: Sequence[str]) -> list[str | None]:
        """The reader's notes on the texts it would read and cut; the gate reads every text in full."""
        texts = check_texts(texts)
        notes = self.reader_.text_warnings(texts)
        noted = [i for i, n in enumerate(notes) if n]
        if noted:
            # Only long texts carry a note, so the gate is asked about few of them.
            for i, routed in zip(noted, self._would_route([texts[i] for i in noted])):
                if not routed:
                    notes[i] = None
        return notes

    def truncated(self, texts: Sequence[str]) -> list[bool]:
        """Per text, whether the reader would read it, and only in part (see :meth:`text_warnings`)."""
        return [n is not None for n in self.text_warnings(texts)]

    def configure_inference(self, device: str | None = None, precision: str | None = None, batch_size: int | None = None) -> "CascadeScorer":
        """Change where and how the reader runs (the gate runs on the CPU).

        Returns:
            self
        """
        self.reader_.configure_inference(device=device, precision=precision, batch_size=batch_size)
        return self

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """No constructor parameters: a cascade is defined by its parts."""
        return {}

    def _save_parts(self, path: Path) -> None:
        import shutil

        # A part loaded from a directory is copied as it is (its weights, meta.json
        # and card stay byte for byte); one built in memory is saved by its backend.
        for role in PART_BACKENDS:
            part = getattr(self, f"{role}_")
            source = getattr(part, "path_", None)
            target = path / role
            if source and Path(source).is_dir():
                if Path(source).resolve() != target.resolve():
                    shutil.rmtree(target, ignore_errors=True)
                    shutil.copytree(source, target)
            else:
                part.save(target, name=f"{path.name}-{role}")

    def save(self, path: str | Path, **options: Any) -> Path:
        """Write the two parts (``gate/``, ``reader/``), then the cascade's own ``meta.json`` and card.

        Args:
            path: Directory to write (created).
            **options: As for :meth:`BaseScorer.save`; ``extra`` may add fields.

        Returns:
            The directory path.
        """
        from .._hashing import file_sha256

        self._check_fitted()
        path = Path(path)
        self._save_parts(path)
        parts = {role: {"dir": role, "backend": b, "meta_sha256": file_sha256(path / role / "meta.json")} for role, b in PART_BACKENDS.items()}
        options["extra"] = {**(options.get("extra") or {}), "parts": parts}
        return super().save(path, **options)

    @classmethod
    def _from_dir(cls, path: Path, meta: dict[str, Any], **options: Any) -> "CascadeScorer":
        from .._hashing import file_sha256
        from ..models import backend_class, read_meta

        parts = meta.get("parts") or {}
        loaded = {}
        for role, backend in PART_BACKENDS.items():
            record = parts.get(role) or {}
            sub = path / role
            if record.get("dir") != role or record.get("backend") != backend:
                raise ValueError(f"{path}/meta.json: the {role} must be the {backend} model in {role}/")
            if not (sub / "meta.json").is_file() or file_sha256(sub / "meta.json") != record.get("meta_sha256"):
                raise ValueError(f"{sub}/meta.json is missing or changed since the cascade was saved (sha256 recorded in meta.json)")
            if read_meta(sub).get("backend") != backend:
                raise ValueError(f"{sub} is not a {backend} model")
            loaded[role] = backend_class(backend).load(sub, **(options if role == "reader" else {}))
        return cls.from_parts(loaded["gate"], loaded["reader"], meta["thresholds"])
