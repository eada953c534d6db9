"""Content hashes of files (model provenance, corpus provenance, resumable scoring)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_sha256(path: str | Path) -> str:
    """sha256 hex digest of a file's bytes, read in 4 MB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def state_sha256(obj: object) -> str:
    """sha256 hex digest of an object's learned state, for telling fitted models apart.

    Walks the state the way a fitted estimator keeps it: numpy arrays and
    scipy sparse matrices (bytes, dtype and shape), torch modules (their
    ``state_dict``) and tensors, mappings (in sorted key order), sequences,
    scalars and strings, and the attributes of lo_signals scorers and
    scikit-learn estimators. Private attributes (caches) are left out; any
    other object counts by its type name only. Two models fitted on
    different data therefore differ, and one model hashes the same in every
    process.

    Args:
        obj: A fitted scorer (or any part of one).

    Returns:
        The hex digest.
    """
    digest = hashlib.sha256()
    _feed(digest, obj, set())
    return digest.hexdigest()


def _feed(digest: "hashlib._Hash", obj: object, seen: set[int]) -> None:  # noqa: C901 - one case per kind of state
    import numpy as np

    def tag(kind: str, detail: str = "") -> None:
        digest.update(f"\0{kind}:{detail}\0".encode())

    if obj is None or isinstance(obj, (bool, int, float, complex, str)):
        tag(type(obj).__name__, repr(obj))
        return
    if isinstance(obj, (bytes, bytearray, memoryview)):
        tag("bytes", str(len(obj)))
        digest.update(bytes(obj))
        return
    if isinstance(obj, np.generic):
        tag("np", repr(obj.item()))
        return
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            tag("objarray", str(obj.shape))
            for item in obj.ravel():
                _feed(digest, item, seen)
            return
        tag("array", f"{obj.dtype.str}{obj.shape}")
        digest.update(np.ascontiguousarray(obj).tobytes())
        return
    if id(obj) in seen:  # a cycle (or a shared part): counted once
        tag("seen")
        return
    seen.add(id(obj))
    kind = type(obj)
    module = kind.__module__ or ""
    if module.startswith("scipy.sparse"):
        csr = obj.tocsr()
        tag("sparse", str(csr.shape))
        for part in (csr.data, csr.indices, csr.indptr):
            _feed(digest, part, seen)
        return
    if module.startswith("torch"):
        if hasattr(obj, "state_dict"):
            tag("module", kind.__name__)
            _feed(digest, dict(obj.state_dict()), seen)
            return
        if hasattr(obj, "detach"):
            # float(): numpy has no bfloat16; the values, not their storage, are the state.
            tag("tensor", f"{obj.dtype}{tuple(obj.shape)}")
            _feed(digest, obj.detach().float().cpu().numpy(), seen)
            return
    if isinstance(obj, dict):
        tag("dict", str(len(obj)))
        for key in sorted(obj, key=repr):
            _feed(digest, key, seen)
            _feed(digest, obj[key], seen)
        return
    if isinstance(obj, (list, tuple)):
        tag(kind.__name__, str(len(obj)))
        for item in obj:
            _feed(digest, item, seen)
        return
    if isinstance(obj, (set, frozenset)):
        tag("set", str(len(obj)))
        for item in sorted(obj, key=repr):
            _feed(digest, item, seen)
        return
    if module.startswith(("lo_signals", "sklearn")) and hasattr(obj, "__dict__"):
        tag("object", f"{module}.{kind.__qualname__}")
        for name in sorted(vars(obj)):
            if not name.startswith("_"):
                tag("attr", name)
                _feed(digest, vars(obj)[name], seen)
        return
    tag("opaque", f"{module}.{kind.__qualname__}")
