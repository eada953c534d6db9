"""Stand-off units: real public documents referenced, never copied.

A stand-off record names where a unit's text lives (public repository,
commit, path inside it, the document within the file and character offsets
into the text that lo_signals' own reader extracts from it) and the SHA-256 of
that text. The repository holds the records and our labels; the text is
rebuilt on demand from local snapshots of the source repositories, and every
hash is checked, so a changed source or reader can never slip wrong text
into training or evaluation.

A snapshot is any git directory holding the commit: a clone
(``<snapshots>/<owner>+<name>/.git``), a bare mirror
(``<snapshots>/<owner>+<name>``) or either of those under a ``repo/`` folder.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "SnapshotError",
    "default_snapshots_dir",
    "find_gitdir",
    "read_source_bytes",
    "source_documents",
    "text_sha256",
    "rebuild_texts",
    "real_corpus_dir",
    "load_real_split",
    "check_records",
]

#: Environment variable naming the folder of source snapshots.
SNAPSHOTS_ENV = "LO_SIGNALS_SNAPSHOTS"


class SnapshotError(RuntimeError):
    """A source snapshot, commit or file is missing, or a unit's hash differs."""


def default_snapshots_dir() -> Path:
    """Where snapshots are looked for: ``$LO_SIGNALS_SNAPSHOTS`` or ``corpora/real/snapshots``."""
    env = os.environ.get(SNAPSHOTS_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "corpora" / "real" / "snapshots"


def text_sha256(text: str) -> str:
    """SHA-256 hex digest of a unit's text, UTF-8 encoded."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _git(gitdir: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", f"--git-dir={gitdir}", *args], capture_output=True, check=False)


def find_gitdir(snapshots: str | Path, repo: str) -> Path:
    """Locate the git directory of ``repo`` ("owner/name") under ``snapshots``.

    Raises:
        SnapshotError: If no git directory for the repository is there.
    """
    base = Path(snapshots) / repo.replace("/", "+")
    for cand in (base / ".git", base, base / "repo" / ".git", base / "repo"):
        if cand.is_dir() and (cand / "HEAD").is_file() and (cand / "objects").is_dir():
            return cand
    raise SnapshotError(
        f"no snapshot of {repo} under {snapshots}: clone it with "
        f"`git clone https://github.com/{repo} {base}` (see corpora/real/SOURCES.md)"
    )


def read_source_bytes(snapshots: str | Path, repo: str, commit: str, path: str) -> bytes:
    """The bytes of ``path`` at ``commit`` in the snapshot of ``repo``.

    Raises:
        SnapshotError: If the snapshot, the commit or the file is missing.
    """
    gitdir = find_gitdir(snapshots, repo)
    if _git(gitdir, "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        raise SnapshotError(f"snapshot of {repo} at {gitdir} lacks commit {commit}: fetch it (git fetch origin {commit})")
    out = _git(gitdir, "show", f"{commit}:{path}")
    if out.returncode != 0:
        raise SnapshotError(f"{repo}@{commit[:12]} has no readable file {path!r} (absent from the snapshot?)")
    return out.stdout


def source_documents(data: bytes, path: str, column: str | None = None, fmt: str | None = None) -> Iterator[tuple[str, Any]]:
    """Read a source file's bytes with lo_signals' readers.

    Args:
        data: The file's bytes.
        path: Its path in the source repository (the suffix picks the reader).
        column: For tabular files, the text column to read.
        fmt: Reader to use when the suffix does not say (e.g. ``"jsonl"`` for
            a ``.json`` file holding one object per line).

    Yields:
        ``(locator, Document)``: ``""`` for a whole file, ``"r<row>"`` for a
        tabular row (the reader's own row index).
    """
    from .readers import read_documents

    suffix = f".{fmt}" if fmt else Path(path).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="lo_signals_standoff_") as tmp:
        file = Path(tmp) / f"source{suffix}"
        file.write_bytes(data)
        for doc in read_documents(file, text_column=column, max_bytes=max(len(data) + 1, 50_000_000)):
            locator = doc.doc_id.split(":", 1)[1] if ":" in doc.doc_id else ""
            yield locator, doc


def _doc_key(rec: dict[str, Any]) -> tuple[str, str, str, str, str]:
    return rec["repo"], rec["commit"], rec["path"], rec.get("column") or "", rec.get("format") or ""


def rebuild_texts(records: Iterable[dict[str, Any]], snapshots: str | Path | None = None) -> list[dict[str, Any]]:
    """Fill in ``text`` for stand-off records and verify every hash.

    Each source file is read once, however many units point into it.

    Args:
        records: Stand-off records with ``repo``, ``commit``, ``path``,
            ``column`` (tabular only), ``format`` (when the suffix does not
            name the reader), ``locator``, ``start``, ``end`` and
            ``sha256``.
        snapshots: Folder of source snapshots (default:
            :func:`default_snapshots_dir`).

    Returns:
        Copies of the records with ``text`` added, in input order.

    Raises:
        SnapshotError: Naming every missing snapshot, commit or file, or the
            units whose rebuilt text does not match its hash.
    """
    snapshots = Path(snapshots) if snapshots is not None else default_snapshots_dir()
    recs = [dict(r) for r in records]
    by_file: dict[tuple[str, str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in recs:
        by_file[_doc_key(r)].append(r)
    missing: list[str] = []
    mismatched: list[str] = []
    for (repo, commit, path, column, fmt), group in by_file.items():
        try:
            data = read_source_bytes(snapshots, repo, commit, path)
        except SnapshotError as exc:
            missing.append(str(exc))
            continue
        wanted = {r["locator"] for r in group}
        texts = {loc: doc.text for loc, doc in source_documents(data, path, column or None, fmt or None) if loc in wanted}
        for r in group:
            text = texts.get(r["locator"])
            unit = None if text is None else text[r["start"] : r["end"]]
            if unit is None or text_sha256(unit) != r["sha256"]:
                mismatched.append(r["id"])
                continue
            r["text"] = unit
    if missing:
        uniq = sorted(set(missing))
        raise SnapshotError(f"{len(uniq)} source(s) missing:\n  " + "\n  ".join(uniq))
    if mismatched:
        shown = ", ".join(mismatched[:10]) + (" ..." if len(mismatched) > 10 else "")
        raise SnapshotError(f"{len(mismatched)} unit(s) do not match their sha256 (source or reader changed): {shown}")
    return recs


def real_corpus_dir() -> Path:
    """The stand-off real corpus of a source checkout (``corpora/real``)."""
    return Path(__file__).resolve().parent.parent / "corpora" / "real"


def load_real_split(split: str, snapshots: str | Path | None = None, root: str | Path | None = None) -> list[dict[str, Any]]:
    """The real units of one split, with their text rebuilt from the snapshots.

    Rebuilt splits are cached in ``<root>/build/<split>.jsonl`` together with
    the hash of ``units.jsonl`` they came from; a cache made from other
    records is rebuilt.

    Args:
        split: ``"train"``, ``"dev"`` or ``"test"``.
        snapshots: Folder of source snapshots (default: :func:`default_snapshots_dir`).
        root: The real corpus folder (default: :func:`real_corpus_dir`).

    Returns:
        Records with ``id, text, labels, aspirations, register, sampling, doc``.

    Raises:
        SnapshotError: When a snapshot is missing or a hash differs (the
            message names what to fetch).
        FileNotFoundError: When there is no ``units.jsonl``.
    """
    import json

    root = Path(root) if root is not None else real_corpus_dir()
    units_file = root / "units.jsonl"
    if not units_file.is_file():
        raise FileNotFoundError(f"no stand-off real corpus at {units_file}")
    units_hash = hashlib.sha256(units_file.read_bytes()).hexdigest()
    cache = root / "build" / f"{split}.jsonl"
    stamp = root / "build" / "units.sha256"
    if cache.is_file() and stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == units_hash:
        return [json.loads(line) for line in cache.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = [json.loads(line) for line in units_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = rebuild_texts(records, snapshots)
    keep = ("id", "text", "labels", "aspirations", "register", "sampling", "doc")
    (root / "build").mkdir(parents=True, exist_ok=True)
    for name in ("train", "dev", "test"):
        with (root / "build" / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for r in rows:
                if r["split"] == name:
                    fh.write(json.dumps({k: r[k] for k in keep}, ensure_ascii=False) + "\n")
    stamp.write_text(units_hash + "\n", encoding="utf-8")
    return [{k: r[k] for k in keep} for r in rows if r["split"] == split]


def check_records(records: Sequence[dict[str, Any]]) -> list[str]:
    """Problems in stand-off records that can be found without the sources.

    Checks that no record carries text, hashes and ids are unique, offsets are
    sane, no document sits in two splits and labels are known ids.

    Returns:
        One message per problem; empty when the records are sound.
    """
    from .labels import LABELS, SIGNS

    problems: list[str] = []
    seen_ids: set[str] = set()
    seen_hash: set[str] = set()
    doc_split: dict[str, str] = {}
    for r in records:
        rid = r.get("id", "?")
        if "text" in r:
            problems.append(f"{rid}: carries a text field")
        if rid in seen_ids:
            problems.append(f"{rid}: duplicate id")
        seen_ids.add(rid)
        h = r.get("sha256", "")
        if len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
            problems.append(f"{rid}: bad sha256")
        elif h in seen_hash:
            problems.append(f"{rid}: duplicate sha256")
        seen_hash.add(h)
        start, end = r.get("start"), r.get("end")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end):
            problems.append(f"{rid}: bad offsets {start}..{end}")
        split = r.get("split")
        prev = doc_split.setdefault(r.get("doc", ""), split)
        if prev != split:
            problems.append(f"{rid}: document {r.get('doc')} in splits {prev} and {split}")
        if any(lab not in LABELS for lab in r.get("labels", [])):
            problems.append(f"{rid}: unknown label in {r.get('labels')}")
        if any(lab not in SIGNS for lab in r.get("aspirations", [])):
            problems.append(f"{rid}: unknown aspiration in {r.get('aspirations')}")
    return problems
