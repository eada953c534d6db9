"""One file in, unit rows out: the per-file scoring pipeline.

``file -> documents -> units -> scored rows``: a file is opened (checked and
hashed once by :func:`lo_signals.readers.open_file`), read document by
document (a table row by row), segmented into units, scored in batches of
units, and its rows handed to a :class:`RowStore` as they are made. What the
store does with them (part files on disk for a resumable batch run, or a list
in memory for :func:`lo_signals.score_documents`) is the batch layer's
business (:mod:`lo_signals.batch`); this module never touches the output
folder.

Every failure is reported on the file's :class:`FileResult` (status and
reason), never raised: one bad file must not stop a batch.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from .labels import LABELS, SIGNS
from .language import guess_language
from .quality import quality_flags
from .readers import Limits
from .scorers.base import LongTextWarning

__all__ = [
    "SENTENCE_COLUMNS",
    "DOCUMENT_COLUMNS",
    "FILE_COLUMNS",
    "validation_note",
    "SENTENCE_TYPES",
    "DOCUMENT_TYPES",
    "column_types",
    "FileResult",
    "ScoreOptions",
    "RowStore",
    "score_file",
    "options_key",
    "ScoredUnits",
    "score_units",
    "unit_rows",
]

logger = logging.getLogger(__name__)

#: Fixed leading columns of sentences.csv; metadata columns follow.
SENTENCE_COLUMNS = ("doc_id", "path", "page", "unit_id", "start", "end", "text", *LABELS, "labels", "aspirations", "language", "quality", "truncated")
#: Fixed leading columns of documents.csv; per-label summaries and metadata follow.
DOCUMENT_COLUMNS = ("doc_id", "path", "units", "format", "encoding", "units_not_english")
#: Columns of files.csv: one row per input file. ``validation`` says how the model's
#: flags fared on unseen real documents of the file's register (:func:`validation_note`).
FILE_COLUMNS = ("path", "status", "reason", "bytes", "pages", "units", "warnings", "register", "register_source", "validation")

# The declared output schema: the type of every column lo_signals makes
# ("int", "float", "bool" or "str"). Any other column is a table's metadata and is
# text, whatever its name: guessing types from names turned a survey's
# response_rate of "high"/"low" into empty numbers.
#: Types of the columns lo_signals makes in the unit table (sentences.csv / .parquet).
SENTENCE_TYPES: dict[str, str] = {
    "doc_id": "str", "path": "str", "page": "int", "unit_id": "int", "start": "int", "end": "int", "text": "str",
    **{label: "float" for label in LABELS}, "labels": "str", "aspirations": "str", "language": "str",
    "quality": "str", "truncated": "bool",
}
#: Types of the columns lo_signals makes in documents.csv.
DOCUMENT_TYPES: dict[str, str] = {
    "doc_id": "str", "path": "str", "units": "int", "format": "str", "encoding": "str", "units_not_english": "int",
    **{
        column: kind
        for label in LABELS
        for column, kind in (
            (f"{label}_count", "int"), (f"{label}_rate", "float"),
            *(((f"{label}_rhetoric_count", "int"),) if label in SIGNS else ()),
            (f"{label}_mean", "float"), (f"{label}_max", "float"), (f"{label}_top_unit", "str"),
        )
    },
}


def column_types(declared: dict[str, str], columns: Sequence[str]) -> dict[str, str]:
    """The type of each column of an output table: declared, or ``"str"`` for metadata.

    Args:
        declared: :data:`SENTENCE_TYPES` or :data:`DOCUMENT_TYPES`.
        columns: The table's columns.

    Returns:
        ``{column: "int" | "float" | "bool" | "str"}`` in column order.
    """
    return {c: declared.get(c, "str") for c in columns}

#: One file's rows kept in memory: (unit rows, document rows).
Rows = tuple[list[dict[str, Any]], list[dict[str, Any]]]

_ROW_BATCH = 2000  # units scored per model call; bounds memory on huge tabular files


@dataclass(frozen=True)
class ScoreOptions:
    """How files are found, read and cut into units (everything but the model).

    Attributes:
        text_column: Text column of tabular files (detected when ``None``).
        limits: Resource bounds of reading and segmenting
            (:class:`lo_signals.readers.Limits`: file size, inflated size of
            zip-based formats, units per document, characters per unit).
        roots: The input files and folders; a symbolic link that leads
            outside them is skipped with a reason. ``None`` follows links
            anywhere (``--follow-symlinks``).
        register: The register of every input (``--register``), overriding
            a table's ``register`` column and inference
            (:func:`lo_signals.register.decide_register`).
    """

    text_column: str | None = None
    limits: Limits = field(default_factory=Limits)
    roots: tuple[str, ...] | None = None
    register: str | None = None


def options_key(options: ScoreOptions) -> str:
    """What in the options changes a file's rows, as a stable string (part of the resume key)."""
    # The declared register is written into every document row, so it is part of the key.
    return json.dumps({"text_column": options.text_column, "limits": asdict(options.limits), "register": options.register}, sort_keys=True)


@dataclass
class FileResult:
    """What happened to one input file (one row of ``files.csv``).

    Attributes:
        path: The path as found.
        status: ``ok``, ``empty``, ``skipped`` or ``error``.
        reason: Why a file was not scored (empty when ``ok``).
        bytes: Size on disk, when it could be read.
        pages: Page count (PDFs).
        units: Units scored.
        documents: Documents scored (one per file, or one per table row).
        warnings: What was cut or flagged in a file that was still scored.
        part: Part-file stem holding its rows (batch runs), when ``ok``.
        sentence_columns: Keys of its unit rows, in first-seen order.
        document_columns: Keys of its document rows, in first-seen order.
        text_column: The column a table's text was read from, given or
            detected (a workbook's sheets may add more, comma-separated);
            ``None`` for other files. ``run.json`` records it per file.
    """

    path: str
    status: str  # ok | empty | skipped | error
    reason: str = ""
    bytes: int | None = None
    pages: int | None = None
    units: int = 0
    documents: int = 0
    warnings: list[str] = field(default_factory=list)
    part: str | None = None
    sentence_columns: list[str] | None = None
    document_columns: list[str] | None = None
    text_column: str | None = None
    register: str = ""
    register_source: str = ""
    validation: str = ""

    def row(self) -> dict[str, Any]:
        """This result as a ``files.csv`` row."""
        return {
            "path": self.path,
            "status": self.status,
            "reason": self.reason,
            "bytes": "" if self.bytes is None else self.bytes,
            "pages": "" if self.pages is None else self.pages,
            "units": self.units,
            "warnings": "; ".join(self.warnings),
            "register": self.register,
            "register_source": self.register_source,
            "validation": self.validation,
        }


def validation_note(meta: dict[str, Any], register: str) -> str:
    """How far the model's flags can be trusted on a register, from its measured precision at natural prevalence.

    Args:
        meta: The model's ``meta.json`` (its ``natural_prevalence`` table, written
            from ``corpora/audit/audit.py precision``).
        register: The file's register.

    Returns:
        For example ``"precision 0.60 [0.44, 0.74] on unseen staff_feedback (35 flags judged)"``,
        or a sentence saying the register was not validated; ``""`` for a file with no register.
    """
    if not register:
        return ""
    r = ((meta.get("natural_prevalence") or {}).get("per_register") or {}).get(register) or {}
    p = r.get("precision")
    if p is None:
        return f"not validated: no precision measured on unseen {register} documents; read flagged units before using rates"
    lo, hi = (r.get("ci95") or [0.0, 0.0])[:2]
    return f"precision {p:.2f} [{lo:.2f}, {hi:.2f}] on unseen {register} ({r.get('judged', 0)} flags judged)"


class RowStore(Protocol):
    """Where one file's rows go; the batch layer provides one per process.

    The pipeline calls ``lookup`` once the file is hashed; when it returns
    nothing, ``write`` for each batch of rows, then exactly one of ``commit``
    (the file scored) or ``discard`` (it failed: none of its rows may reach
    the output).
    """

    def lookup(self, path: str, content_hash: str) -> FileResult | None:
        """An earlier result for the same file content, to reuse instead of scoring."""
        ...

    def write(self, sentence_rows: list[dict[str, Any]], document_rows: list[dict[str, Any]]) -> None:
        """Keep a batch of rows of the current file."""
        ...

    def commit(self, result: FileResult) -> None:
        """The current file is complete: set its column lists (keys of its rows in first-seen order) and any ``part``."""
        ...

    def discard(self) -> None:
        """Drop the current file's rows."""
        ...


# -- rows ---------------------------------------------------------------------


def _prefixed(metadata: dict[str, Any], reserved: Any) -> dict[str, Any]:
    # A table column called "text" or "units" must not overwrite ours.
    return {f"meta_{k}" if k in reserved else k: v for k, v in metadata.items()}


@dataclass
class ScoredUnits:
    """What a model says about a batch of unit texts, row-aligned with them.

    Attributes:
        proba: ``(n, labels)`` label probabilities.
        labels: Predicted label ids per unit.
        aspirations: Predicted aspiration ids per unit.
        languages: ``en``, ``other`` or ``""`` per unit (:func:`lo_signals.language.guess_language`).
        truncated: Whether the model read only part of each unit.
        notes: The model's note for each unit it did not score in full (``None`` otherwise).
        quality: ``ok`` or why the unit is a non-unit that gets no label (:mod:`lo_signals.quality`).
    """

    proba: np.ndarray
    labels: list[list[str]]
    aspirations: list[list[str]]
    languages: list[str]
    truncated: list[bool]
    notes: list[str | None]
    quality: list[str]


def _takes_quality(predict_all: Any) -> bool:
    """Whether a ``predict_all`` accepts precomputed unit-quality verdicts."""
    import inspect

    try:
        return "quality" in inspect.signature(predict_all).parameters
    except (TypeError, ValueError):  # builtins and some C callables have no signature
        return False


def score_units(model: Any, texts: list[str]) -> ScoredUnits:
    """Score unit texts as every path does (the batch pipeline, ``score_frame``, ``score_texts``).

    The model's :class:`LongTextWarning` is silenced: the notes are returned
    per unit instead, for ``files.csv`` and the ``truncated`` column.

    Args:
        model: A fitted scorer.
        texts: The units' texts.

    Returns:
        The scores, row-aligned with ``texts``.
    """
    # A scorer that cannot score a text in full says so per text (third-party
    # scorers need not: they are taken to read everything).
    text_warnings = getattr(model, "text_warnings", None)
    notes = list(text_warnings(texts)) if callable(text_warnings) else [None] * len(texts)
    truncated = [False] * len(texts)
    noted = [i for i, n in enumerate(notes) if n]
    read_part = getattr(model, "truncated", None)
    if noted and callable(read_part):
        # A truncated unit always has a note, so only noted units are asked about.
        for i, flag in zip(noted, read_part([texts[i] for i in noted])):
            truncated[i] = bool(flag)
    languages = [guess_language(t) for t in texts]
    quality = quality_flags(texts, languages)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LongTextWarning)
        # A scorer whose predict_all takes the gate's verdicts (BaseScorer's does)
        # gets them rather than recomputing them; any other gets the texts alone.
        extra = {"quality": quality} if _takes_quality(model.predict_all) else {}
        proba, _, labels, asps = model.predict_all(texts, **extra)
    return ScoredUnits(proba, labels, asps, languages, truncated, notes, quality)


def unit_rows(doc: Any, units: list[Any], label_names: tuple[str, ...], scored: ScoredUnits, part: slice) -> list[dict[str, Any]]:
    """The ``sentences.csv`` rows of one document's units.

    Args:
        doc: The document (``doc_id``, ``path`` and ``metadata`` are read).
        units: Its units (:class:`lo_signals.segment.Unit`).
        label_names: The model's label order (columns of ``scored.proba``).
        scored: Scores of a batch holding these units.
        part: Where these units sit in ``scored``.

    Returns:
        One row per unit, columns as :data:`SENTENCE_COLUMNS`, then metadata.
    """
    meta = _prefixed(doc.metadata, SENTENCE_COLUMNS)
    proba, labels, asps = scored.proba[part], scored.labels[part], scored.aspirations[part]
    languages, truncated, quality = scored.languages[part], scored.truncated[part], scored.quality[part]
    return [
        {
            "doc_id": doc.doc_id,
            "path": doc.path,
            "page": u.page,
            "unit_id": u.unit_id,
            "start": u.start,
            "end": u.end,
            "text": u.text,
            **{label: round(float(v), 5) for label, v in zip(label_names, proba[i])},
            "labels": ";".join(labels[i]),
            "aspirations": ";".join(asps[i]),
            # "en", "other" (positively not English: the models read English
            # only, so such a unit gets no labels) or "" (too short to tell).
            "language": languages[i],
            # "ok", or why the unit is a non-unit (heading, fragment, question, ...) that gets no label.
            "quality": quality[i],
            # The model read only the start of this unit (the transformer's max_length tokens).
            "truncated": truncated[i],
            **meta,
        }
        for i, u in enumerate(units)
    ]


class _DocTally:
    """One document's summary row, built up as its units are scored.

    A long document is scored in several batches of units (so memory does
    not grow with its length); the tally keeps what its ``documents.csv`` row
    needs across them.
    """

    def __init__(self, doc: Any) -> None:
        self.doc = doc
        self.n = 0
        self.not_english = 0
        self.counts = np.zeros(len(LABELS), dtype=np.int64)
        self.rhetoric = np.zeros(len(LABELS), dtype=np.int64)
        self.sums = np.zeros(len(LABELS))
        self.maxes = np.zeros(len(LABELS))
        # Per label: the probability and text of the most confident unit that has it.
        self.top_p = np.full(len(LABELS), -np.inf)
        self.top_text = [""] * len(LABELS)
        self.register: tuple[str, str] | None = None  # (register, how it was decided)

    def update(self, texts: list[str], proba: np.ndarray, labels: list[list[str]], asps: list[list[str]], languages: list[str]) -> None:
        if not texts:
            return
        self.n += len(texts)
        self.not_english += languages.count("other")
        self.sums += proba.sum(axis=0)
        self.maxes = np.maximum(self.maxes, proba.max(axis=0))
        for j, label in enumerate(LABELS):
            hits = [i for i, x in enumerate(labels) if label in x]
            self.counts[j] += len(hits)
            self.rhetoric[j] += sum(label in x for x in asps)
            if hits:
                # First of the most confident, as max() picks; a later batch must beat it.
                best = max(hits, key=lambda i: proba[i, j])
                if proba[best, j] > self.top_p[j]:
                    self.top_p[j], self.top_text[j] = proba[best, j], texts[best]

    def row(self) -> dict[str, Any]:
        doc, n = self.doc, self.n
        # format and encoding record how the text was read (the encoding detected for text files).
        out: dict[str, Any] = {
            "doc_id": doc.doc_id, "path": doc.path, "units": n, "format": doc.format, "encoding": doc.encoding or "",
            "units_not_english": self.not_english,
        }
        for j, label in enumerate(LABELS):
            out[f"{label}_count"] = int(self.counts[j])
            out[f"{label}_rate"] = round(100.0 * int(self.counts[j]) / n, 3) if n else 0.0
            if label in SIGNS:
                out[f"{label}_rhetoric_count"] = int(self.rhetoric[j])
            out[f"{label}_mean"] = round(float(self.sums[j] / n), 4) if n else 0.0
            out[f"{label}_max"] = round(float(self.maxes[j]), 4) if n else 0.0
            out[f"{label}_top_unit"] = self.top_text[j]
        out.update(_prefixed(doc.metadata, out))
        # After the metadata: the decided register replaces a table's own register value.
        if self.register is not None:
            out["register"], out["register_source"] = self.register
        return out


# -- one file -----------------------------------------------------------------


class _Batch:
    """Documents whose units wait to be scored together, and what the file has produced."""

    def __init__(self, model: Any, store: RowStore, result: FileResult) -> None:
        self.model = model
        self.store = store
        self.result = result
        self.not_in_full = 0  # units the model scored in pieces or in part
        self.first_note: str | None = None
        self.pending: list[tuple[_DocTally, list[Any], bool]] = []  # (document, some of its units, its last?)
        self.pending_units = 0
        self.not_english = 0

    def add(self, doc: Any, units: list[Any], register: tuple[str, str] | None = None) -> None:
        if not units:
            return
        tally = _DocTally(doc)
        tally.register = register
        # Documents are batched until _ROW_BATCH units: a survey export is one
        # short document per row, and one model call per row would be slow.
        # A long document is cut across batches, so no batch is bigger.
        i = 0
        while i < len(units):
            take = min(len(units) - i, _ROW_BATCH - self.pending_units)
            self.pending.append((tally, units[i : i + take], i + take == len(units)))
            self.pending_units += take
            i += take
            if self.pending_units >= _ROW_BATCH:
                self.flush()

    def _predict(self, texts: list[str]) -> ScoredUnits:
        scored = score_units(self.model, texts)
        # The notes go to files.csv, so the model's Python warning would only be noise.
        notes = [n for n in scored.notes if n]
        if notes:
            self.not_in_full += len(notes)
            self.first_note = self.first_note or notes[0]
        return scored

    def notes(self) -> str | None:
        """One warning line for the units the model did not score in full."""
        if not self.not_in_full:
            return None
        return f"{self.not_in_full:,} unit(s) not scored in full by the model, e.g. {self.first_note}"

    def flush(self) -> None:
        if not self.pending:
            return
        texts = [u.text for _, units, _ in self.pending for u in units]
        scored = self._predict(texts)
        proba, labels, asps, languages = scored.proba, scored.labels, scored.aspirations, scored.languages
        self.not_english += languages.count("other")
        sentence_rows: list[dict[str, Any]] = []
        doc_rows: list[dict[str, Any]] = []
        k = 0
        for tally, units, last in self.pending:
            part = slice(k, k + len(units))
            sentence_rows.extend(unit_rows(tally.doc, units, tuple(self.model.labels_), scored, part))
            tally.update(texts[part], proba[part], labels[part], asps[part], languages[part])
            if last:
                doc_rows.append(tally.row())
            k = part.stop
        self.store.write(sentence_rows, doc_rows)
        self.result.units += len(texts)
        self.result.documents += len(doc_rows)
        self.pending, self.pending_units = [], 0


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def score_file(path: str | Path, model: Any, options: ScoreOptions, store: RowStore) -> FileResult:
    """Read, segment and score one file, handing its rows to ``store``.

    Never raises for a bad file: whatever goes wrong (unreadable, unsupported,
    too big, a reader or model failure) becomes the result's status and
    reason, and none of the file's rows are kept.

    Args:
        path: The file.
        model: A fitted scorer (see :func:`lo_signals.models.resolve`).
        options: Reading and unit limits.
        store: Receives the rows; may supply an earlier result to reuse.

    Returns:
        The file's :class:`FileResult`.
    """
    from .readers import ReadError, open_file
    from .segment import segment

    path = Path(path)
    result = FileResult(path=str(path), status="ok")
    try:
        source = open_file(path, text_column=options.text_column, limits=options.limits, roots=options.roots)
    except ReadError as exc:
        result.status, result.reason, result.bytes = exc.status, exc.reason, _size(path)
        logger.warning("%s: %s (%s)", path, result.status, result.reason)
        return result
    except Exception as exc:  # noqa: BLE001 - reported per file, never fatal
        return _failed(result, exc)
    result.bytes = source.size
    earlier = store.lookup(result.path, source.content_hash)
    if earlier is not None:
        # Scored by an earlier run with identical content, model and options.
        return earlier
    from .register import decide_register

    batch = _Batch(model, store, result)
    text_columns: list[str] = []
    registers: dict[tuple[str, str], int] = {}
    try:
        for doc in source.documents():
            register = decide_register(doc.text, doc.path, doc.format, doc.metadata, options.register)
            registers[register] = registers.get(register, 0) + 1
            result.pages = doc.pages
            if doc.text_column and doc.text_column not in text_columns:
                text_columns.append(doc.text_column)
                result.text_column = ", ".join(text_columns)
            # Segmentation bounds one document (and records what it split or
            # dropped on the source's warnings); a table's rows are bounded here, per file.
            room = options.limits.max_units - result.units - batch.pending_units
            units = segment(doc.text, doc.blocks, limits=options.limits, warnings=source.warnings) if room > 0 else []
            if room <= 0 or len(units) > room:
                source.warnings.add(f"the file was cut at {options.limits.max_units:,} units (--max-units); later rows were not scored")
                batch.add(doc, units[: max(room, 0)], register)
                break
            batch.add(doc, units, register)
        batch.flush()
    except ReadError as exc:
        result.status, result.reason = exc.status, exc.reason
    except Exception as exc:  # noqa: BLE001 - a reader or model bug must not stop the batch
        _failed(result, exc)
    if registers:
        # A table's rows may differ: the file row says "mixed" and lists the ways.
        values = sorted({r for r, _ in registers})
        result.register = values[0] if len(values) == 1 else "mixed"
        result.register_source = ",".join(sorted({s for _, s in registers}))
    if batch.notes():
        source.warnings.add(batch.notes())
    if batch.not_english:
        source.warnings.add(f"{batch.not_english:,} unit(s) do not look like English (language column); the models read English only")
    result.warnings = source.warnings.messages()
    if result.status == "ok" and result.units == 0:
        result.status = "empty"
        result.reason = "no text units after segmentation"
    if result.status == "ok":
        store.commit(result)
    else:
        store.discard()
        # Nothing of a failed file reaches the output, so its counts are zero.
        result.units = result.documents = 0
        logger.warning("%s: %s (%s)", path, result.status, result.reason)
    return result


def _failed(result: FileResult, exc: BaseException) -> FileResult:
    # The traceback goes to the debug log only: a user sees one line per file.
    logger.debug("unexpected failure on %s", result.path, exc_info=exc)
    message = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    result.status, result.reason = "error", f"unexpected {type(exc).__name__}: {message}".rstrip(": ")
    return result
