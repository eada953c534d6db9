"""Build the audit pools: whole real documents of genres lo_signals never used.

The pools measure precision at natural prevalence on UNSEEN genres. Each
source is a stand-off record in ``corpora/audit/sources/<id>.json`` (public
repository, pinned commit, files or glob patterns, genre, role); no source
text is ever committed. ``rebuild`` reads every file at its pinned commit
from a local snapshot of the repository, extracts the text with lo_signals'
own readers and cuts each whole document into units with lo_signals' own
segmentation (the call the scoring pipeline makes, so the units are the ones
users see).

Run from the repository root:

    python corpora/audit/build.py check                       # validate sources/*.json (no snapshots needed)
    python corpora/audit/build.py rebuild [--snapshots DIR] [--role audit_pool] [--source ID] [--skip-missing]
    python corpora/audit/build.py stats                       # units per role/genre/source -> stats.json

``--snapshots`` defaults to ``$LO_SIGNALS_SNAPSHOTS``, else ``/work/.mirror``
when it exists, else ``corpora/real/snapshots``: a folder of ``owner+name``
clones or bare mirrors. ``build/<role>.jsonl`` holds text and is never
committed (gitignored); ``stats.json`` holds counts only.

Source record (``sources/<id>.json``)::

    {"id": "short-slug", "repo": "owner/name", "commit": "<40 hex>",
     "register": "staff_feedback" | "board_paper" | "inquiry_report",
     "genre": one of GENRES, "role": "audit_pool" | "dev_pool" | "train_pool",
     "files": [paths] and/or "glob": [fnmatch patterns over the commit's tree],
     "format": reader when the suffix does not say (e.g. "jsonl", "txt"),
     "columns": [text columns of a tabular file: one document per row and column],
     "max_docs": cap on documents, chosen by a seeded sort of document keys,
     "max_units": optional cap on units, whole documents only (seeded order),
     "kind": "what it is", "licence": "what the repository states"}

A document is a whole file, or one row (and column) of a tabular file. A
unit's ``doc`` is ``<path>`` or ``<path>#<column>@<locator>``; its id is
``<source>:<doc>:<start>-<end>``. Records also carry ``locator``, ``column``
and ``format`` so that :func:`lo_signals.standoff.rebuild_texts` can rebuild
and hash-check them.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from lo_signals.standoff import (  # noqa: E402
    SNAPSHOTS_ENV,
    SnapshotError,
    find_gitdir,
    read_source_bytes,
    source_documents,
    text_sha256,
)

SOURCES_DIR = HERE / "sources"
BUILD = HERE / "build"
STATS = HERE / "stats.json"

REGISTERS = ("staff_feedback", "board_paper", "inquiry_report")
GENRES = (
    "hearing_transcript",
    "inquiry_report",
    "legal_judgment",
    "clinical_incident_narrative",
    "memorial_impact_statement",
    "safety_investigation",
    "staff_reviews",
    "survey_comments",
    "board_minutes",
    "annual_quality_report",
    "inspection_report",
    "news_organisation",
)
ROLES = ("audit_pool", "dev_pool", "train_pool")
REQUIRED = ("id", "repo", "commit", "register", "genre", "role", "kind", "licence")
KNOWN_KEYS = set(REQUIRED) | {"files", "glob", "format", "columns", "max_docs", "max_units", "note", "exclude"}
#: Seed of the sort that picks documents under ``max_docs`` / ``max_units``.
SEED = "lo_signals-audit-v1"

#: Never used in any way, in any copy (also the repositories of corpora/real: they are seen).
RESERVED_REPOS = {
    "saiteja007-mv/glassdoor-companies-review-analysis",
    "sam-osian/pfd-toolkit",
    "dracos/lampard-inquiry",
    "dracos/pohi",
    "c19witness/uk-covid19-inquiry",
}
RESERVED_WORDS = re.compile(r"lampard|horizon[-_ ]?(it[-_ ]?)?inquiry|post[-_ ]?office[-_ ]?horizon|covid[-_ ]?19[-_ ]?inquiry|pfd|prevention[-_ ]of[-_ ]future[-_ ]deaths", re.I)


def default_snapshots() -> Path:
    env = os.environ.get(SNAPSHOTS_ENV)
    if env:
        return Path(env)
    mirror = Path("/work/.mirror")
    if mirror.is_dir():
        return mirror
    return ROOT / "corpora" / "real" / "snapshots"


def _seen_repos() -> dict[str, set[str] | None]:
    """Repositories of corpora/real (seen by the models): the files used, or ``None`` when a glob chose them."""
    spec = ROOT / "corpora" / "real" / "sources.json"
    if not spec.is_file():
        return {}
    seen: dict[str, set[str] | None] = {}
    for s in json.loads(spec.read_text(encoding="utf-8"))["sources"]:
        repo = s["repo"].lower()
        files = set(s.get("files") or ()) if not s.get("glob") else None
        seen[repo] = None if files is None or seen.get(repo, set()) is None else seen.get(repo, set()) | files
    return seen


def load_sources(only: list[str] | None = None) -> list[dict]:
    """Every ``sources/*.json``, validated; raises ``SystemExit`` naming every problem."""
    problems: list[str] = []
    sources: list[dict] = []
    seen_ids: set[str] = set()
    seen_repos = _seen_repos()
    for f in sorted(SOURCES_DIR.glob("*.json")):
        try:
            src = json.loads(f.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            problems.append(f"{f.name}: not JSON ({exc})")
            continue
        name = f.name
        for k in REQUIRED:
            if k not in src:
                problems.append(f"{name}: missing {k!r}")
        if not src.get("files") and not src.get("glob"):
            problems.append(f"{name}: needs 'files' and/or 'glob'")
        unknown = set(src) - KNOWN_KEYS
        if unknown:
            problems.append(f"{name}: unknown keys {sorted(unknown)}")
        sid = src.get("id", "")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", sid or ""):
            problems.append(f"{name}: id {sid!r} must be a lower-case slug")
        if sid in seen_ids:
            problems.append(f"{name}: duplicate id {sid!r}")
        seen_ids.add(sid)
        if f.stem != sid:
            problems.append(f"{name}: file name should be {sid}.json")
        if not re.fullmatch(r"[0-9a-f]{40}", src.get("commit", "")):
            problems.append(f"{name}: commit must be 40 lower-case hex digits")
        if src.get("register") not in REGISTERS:
            problems.append(f"{name}: register {src.get('register')!r} not in {REGISTERS}")
        if src.get("genre") not in GENRES:
            problems.append(f"{name}: genre {src.get('genre')!r} not in {GENRES}")
        if src.get("role") not in ROLES:
            problems.append(f"{name}: role {src.get('role')!r} not in {ROLES}")
        repo = src.get("repo", "").lower()
        if repo in RESERVED_REPOS or RESERVED_WORDS.search(repo):
            problems.append(f"{name}: {src.get('repo')} is reserved for independent evaluation and may never be used")
        if repo in seen_repos:
            # Another document of a repository the real corpus used is unseen text; the same file, or
            # any file of a repository the real corpus took by glob, is not.
            used = seen_repos[repo]
            if used is None or src.get("glob") or used & set(src.get("files") or ()):
                problems.append(f"{name}: {src.get('repo')} is a source of corpora/real (seen by the models)")
        for key in ("max_docs", "max_units"):
            if key in src and not (isinstance(src[key], int) and src[key] > 0):
                problems.append(f"{name}: {key} must be a positive integer")
        if only is None or sid in only:
            sources.append(src)
    if problems:
        raise SystemExit("sources/*.json problems:\n  " + "\n  ".join(problems))
    if only:
        missing = set(only) - {s["id"] for s in sources}
        if missing:
            raise SystemExit(f"no source with id {sorted(missing)} in {SOURCES_DIR}")
    return sources


def _fetch_hint(repo: str, snapshots: Path) -> str:
    return (
        f"fetch it with `git clone --bare https://github.com/{repo} {snapshots / repo.replace('/', '+')}` "
        f"(or any clone/bare mirror named owner+name under --snapshots / ${SNAPSHOTS_ENV}); see corpora/audit/SOURCES.md"
    )


def source_paths(src: dict, snapshots: Path) -> list[str]:
    """The files of a source at its commit: ``files`` plus ``glob`` matches, minus ``exclude``."""
    paths = list(src.get("files") or [])
    if src.get("glob"):
        gitdir = find_gitdir(snapshots, src["repo"])
        out = subprocess.run(
            ["git", "-c", "core.quotePath=false", f"--git-dir={gitdir}", "ls-tree", "-r", "--name-only", src["commit"]],
            capture_output=True, text=True, check=False,
        )
        if out.returncode != 0:
            raise SnapshotError(f"snapshot of {src['repo']} at {gitdir} lacks commit {src['commit']}: {_fetch_hint(src['repo'], snapshots)}")
        tree = out.stdout.splitlines()
        for pat in src["glob"]:
            paths.extend(p for p in tree if fnmatch.fnmatchcase(p, pat))
    excl = src.get("exclude") or []
    return sorted({p for p in paths if not any(fnmatch.fnmatchcase(p, e) for e in excl)})


def _rank(src_id: str, key: str) -> str:
    return hashlib.sha256(f"{SEED}:{src_id}:{key}".encode("utf-8")).hexdigest()


def _doc_key(path: str, column: str | None, locator: str) -> str:
    if column is None and not locator:
        return path
    return f"{path}#{column or ''}@{locator}"


def source_units(src: dict, snapshots: Path, log=print) -> tuple[list[dict], Counter]:
    """Read, segment and stand-off one source; returns (records with text, counts)."""
    from lo_signals.readers import Limits
    from lo_signals.segment import segment

    limits = Limits()  # what `lo-signals score` uses by default
    counts: Counter = Counter()
    paths = source_paths(src, snapshots)
    if not paths:
        raise SnapshotError(f"{src['id']}: no file of {src['repo']}@{src['commit'][:12]} matches {src.get('files') or src.get('glob')}")
    tabular = bool(src.get("columns"))
    max_docs = src.get("max_docs")
    if max_docs and not tabular:
        # One document per file: pick the files before reading them.
        paths = sorted(sorted(paths, key=lambda p: _rank(src["id"], p))[:max_docs])
    docs: list[tuple[str, str | None, str, object]] = []
    for path in paths:
        try:
            data = read_source_bytes(snapshots, src["repo"], src["commit"], path)
        except SnapshotError as exc:
            raise SnapshotError(f"{exc}; {_fetch_hint(src['repo'], snapshots)} (files of 4 MiB or more are absent from /work/.mirror snapshots)") from exc
        counts["files"] += 1
        for column in src.get("columns") or [None]:
            try:
                for locator, doc in source_documents(data, path, column, src.get("format")):
                    if doc.text.strip():
                        docs.append((path, column, locator, doc))
            except Exception as exc:  # noqa: BLE001 - a reader failure is reported, the source goes on
                counts["unreadable_files"] += 1
                log(f"  {src['id']}: {path}{'#' + column if column else ''} not readable: {type(exc).__name__}: {str(exc)[:160]}")
    order = sorted(docs, key=lambda d: _rank(src["id"], _doc_key(d[0], d[1], d[2])))
    if max_docs:
        order = order[:max_docs]
    records: list[dict] = []
    n_units = 0
    cap = src.get("max_units")
    for path, column, locator, doc in order:
        units = segment(doc.text, doc.blocks, limits=limits)
        if not units:
            continue
        if cap and n_units and n_units + len(units) > cap:
            counts["docs_over_max_units"] += 1
            continue
        n_units += len(units)
        counts["docs"] += 1
        key = _doc_key(path, column, locator)
        for u in units:
            rec = {
                "id": f"{src['id']}:{key}:{u.start}-{u.end}",
                "source": src["id"],
                "repo": src["repo"],
                "commit": src["commit"],
                "path": path,
                "doc": key,
                "column": column,
                "format": src.get("format"),
                "locator": locator,
                "unit": u.unit_id,
                "start": u.start,
                "end": u.end,
                "sha256": text_sha256(u.text),
                "register": src["register"],
                "genre": src["genre"],
                "role": src["role"],
                "text": u.text,
            }
            records.append(rec)
    # Documents in path order, units in text order: stable output whatever the sort above.
    records.sort(key=lambda r: (r["path"], r["column"] or "", r["locator"], r["start"]))
    counts["units"] = len(records)
    return records, counts


def cmd_check(args) -> None:
    sources = load_sources(args.source)
    by = Counter((s["role"], s["genre"]) for s in sources)
    for (role, genre), n in sorted(by.items()):
        print(f"{role:11s} {genre:28s} {n} source(s)")
    print(f"{len(sources)} source file(s) valid")


def cmd_rebuild(args) -> None:
    snapshots = Path(args.snapshots) if args.snapshots else default_snapshots()
    sources = load_sources(args.source)
    roles = [args.role] if args.role else list(ROLES)
    sources = [s for s in sources if s["role"] in roles]
    missing: list[str] = []
    by_role: dict[str, list[dict]] = defaultdict(list)
    for src in sources:
        t0 = time.time()
        try:
            find_gitdir(snapshots, src["repo"])
            recs, counts = source_units(src, snapshots)
        except SnapshotError as exc:
            msg = str(exc)
            if "no snapshot of" in msg:
                msg = f"{src['id']}: no snapshot of {src['repo']} under {snapshots}: {_fetch_hint(src['repo'], snapshots)}"
            missing.append(msg)
            print(f"MISSING {msg}", file=sys.stderr)
            continue
        by_role[src["role"]].extend(recs)
        extra = ", ".join(f"{k}={v}" for k, v in counts.items() if k not in ("units", "docs", "files"))
        print(f"{src['id']:32s} {src['role']:10s} {src['genre']:28s} files={counts['files']} docs={counts['docs']} units={counts['units']} "
              f"({time.time() - t0:.0f}s){' ' + extra if extra else ''}")
    if missing and not args.skip_missing:
        raise SystemExit(f"{len(missing)} source(s) could not be read (nothing written; --skip-missing writes the rest):\n  " + "\n  ".join(missing))
    BUILD.mkdir(parents=True, exist_ok=True)
    # Rebuilding some sources only: every role file keeps the other sources' units
    # (a source whose role changed leaves its old role's file).
    rebuilt = {s["id"] for s in sources}
    for role in (ROLES if args.source else roles):
        out = BUILD / f"{role}.jsonl"
        rows = by_role.get(role, [])
        if args.source:
            if not out.is_file() and not rows:
                continue
            if out.is_file():
                keep = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
                rows = [r for r in keep if r["source"] not in rebuilt] + rows
        rows.sort(key=lambda r: (r["source"], r["path"], r["column"] or "", r["locator"], r["start"]))
        with out.open("w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(f"wrote {out.relative_to(ROOT)}: {len(rows):,} units")
    if missing:
        print(f"{len(missing)} source(s) skipped (missing snapshot or file)", file=sys.stderr)


def cmd_stats(args) -> None:
    sources = {s["id"]: s for s in load_sources()}
    per_source: dict[str, dict] = {}
    for sid, s in sources.items():
        per_source[sid] = {"repo": s["repo"], "commit": s["commit"], "register": s["register"], "genre": s["genre"],
                           "role": s["role"], "docs": 0, "units": 0, "chars": 0, "built": False}
    docs: dict[str, set] = defaultdict(set)
    for role in ROLES:
        f = BUILD / f"{role}.jsonl"
        if not f.is_file():
            continue
        with f.open(encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                if r["source"] not in per_source:
                    continue
                ps = per_source[r["source"]]
                ps["built"] = True
                ps["units"] += 1
                ps["chars"] += r["end"] - r["start"]
                docs[r["source"]].add(r["doc"])
    for sid, ps in per_source.items():
        ps["docs"] = len(docs[sid])
    by_role: dict[str, dict] = {}
    for role in ROLES:
        rs = {k: v for k, v in per_source.items() if v["role"] == role}
        genres: Counter = Counter()
        for v in rs.values():
            genres[v["genre"]] += v["units"]
        by_role[role] = {"units": sum(v["units"] for v in rs.values()), "docs": sum(v["docs"] for v in rs.values()),
                         "sources": len(rs), "genres": dict(sorted(genres.items()))}
    stats = {"note": "Units of the audit pools per role, genre and source (counts only; text is rebuilt from snapshots by build.py rebuild).",
             "seed": SEED, "roles": by_role, "sources": dict(sorted(per_source.items()))}
    STATS.write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")
    for role, v in by_role.items():
        print(f"{role}: {v['units']:,} units, {v['docs']:,} docs, {v['sources']} sources")
        for g, n in v["genres"].items():
            print(f"    {g:28s} {n:>7,}")
    print()
    print(f"{'source':32s} {'role':10s} {'genre':28s} {'docs':>6s} {'units':>7s}")
    for sid, v in sorted(per_source.items(), key=lambda kv: (kv[1]["role"], kv[1]["genre"], kv[0])):
        flag = "" if v["built"] else "  (not built)"
        print(f"{sid:32s} {v['role']:10s} {v['genre']:28s} {v['docs']:>6,} {v['units']:>7,}{flag}")
    print(f"wrote {STATS.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("check", help="validate sources/*.json")
    p.add_argument("--source", action="append", help="only this source id (repeatable)")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("rebuild", help="snapshots -> build/<role>.jsonl")
    p.add_argument("--snapshots", help=f"folder of owner+name snapshots (default ${SNAPSHOTS_ENV}, else /work/.mirror)")
    p.add_argument("--role", choices=ROLES, help="only this role")
    p.add_argument("--source", action="append", help="only this source id (repeatable; other sources' units are kept)")
    p.add_argument("--skip-missing", action="store_true", help="write what can be read when a snapshot is missing")
    p.set_defaults(func=cmd_rebuild)
    p = sub.add_parser("stats", help="units per role/genre/source -> stats.json")
    p.set_defaults(func=cmd_stats)
    args = ap.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
