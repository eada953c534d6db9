"""Reading ``model.skops`` files that may come from someone else, without running their code.

``skops.io`` builds objects from a JSON schema; some of its node kinds call
whatever callable the schema names (``ConstructorFromReduceNode`` calls
``module.name(*args)``, ``ObjectNode`` builds any class), and skops trusts every
scikit-learn class by default. A prefix rule ("anything from numpy") is not
enough: ``numpy.testing._private.utils.runstring`` is ``exec``.

So before skops sees a file, every node of its schema is checked against an
exact list of ``(type name, node kind)`` pairs: the ones the shipped
``models/*/model.skops`` files contain (a dict of numpy arrays with string
keys, see ``LinearScorer.state``). Anything else is refused by name, and
nothing in the file is built.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

__all__ = ["ALLOWED_NODES", "ALLOWED_TYPES", "UnsafeModelError", "audit", "load_arrays"]

#: Every ``(type, skops node kind)`` pair in the shipped model.skops files.
#: ``numpy.ndarray`` nodes are read with ``numpy.load(allow_pickle=False)``.
ALLOWED_NODES: frozenset[tuple[str, str]] = frozenset(
    {
        ("builtins.dict", "DictNode"),
        ("builtins.list", "ListNode"),
        ("builtins.str", "TypeNode"),
        ("numpy.ndarray", "NdArrayNode"),
    }
)
#: The type names of :data:`ALLOWED_NODES`.
ALLOWED_TYPES: frozenset[str] = frozenset(t for t, _ in ALLOWED_NODES)

# A schema bigger than this is not a lo_signals model (the shipped ones are ~1 KB).
_MAX_SCHEMA_BYTES = 10_000_000


class UnsafeModelError(ValueError):
    """A model file names a type or construct that lo_signals will not load."""


def _nodes(tree: Any):
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__loader__" in node or "__class__" in node or "__module__" in node:
                yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def audit(file: str | Path) -> None:
    """Check every node of a ``.skops`` file against :data:`ALLOWED_NODES`; build nothing.

    Args:
        file: The ``model.skops`` file.

    Raises:
        UnsafeModelError: Naming each offending type (``module.name``) and node
            kind, or when the file is not a readable skops archive.
    """
    file = Path(file)
    try:
        with zipfile.ZipFile(file) as zf:
            info = zf.getinfo("schema.json")
            if info.file_size > _MAX_SCHEMA_BYTES:
                raise UnsafeModelError(f"{file}: schema.json is {info.file_size} bytes; refusing to read it")
            schema = json.loads(zf.read(info))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UnsafeModelError(f"{file} is not a readable skops file ({exc})") from None
    bad = set()
    for node in _nodes(schema):
        name = f"{node.get('__module__')}.{node.get('__class__')}"
        kind = str(node.get("__loader__"))
        if (name, kind) not in ALLOWED_NODES:
            bad.add(f"{name} ({kind})")
        elif kind == "NdArrayNode" and node.get("type") != "numpy":
            # "json" arrays are object arrays built from child nodes: not what lo_signals saves.
            bad.add(f"{name} (object array)")
    if bad:
        raise UnsafeModelError(
            f"{file} holds types that lo_signals will not load: {', '.join(sorted(bad))}. "
            f"A lo_signals model.skops holds only {', '.join(sorted(ALLOWED_TYPES))}"
        )


def load_arrays(file: str | Path) -> Any:
    """Load a ``model.skops`` file after :func:`audit` has passed it.

    Args:
        file: The ``model.skops`` file.

    Returns:
        The saved object (for lo_signals models, a dict of numpy arrays).

    Raises:
        UnsafeModelError: If the file holds anything outside :data:`ALLOWED_NODES`.
    """
    audit(file)
    # The audited node kinds are few and plain, so they are built here rather
    # than by skops.io: importing skops.io walks every scikit-learn module to
    # list its trusted types, which imports torch when it is installed (through
    # scikit-learn's array-API shims) and made loading the default take seconds.
    with zipfile.ZipFile(file) as zf:
        return _construct(json.loads(zf.read("schema.json")), zf, Path(file))


def _construct(node: Any, zf: zipfile.ZipFile, file: Path) -> Any:
    """Build one audited schema node (a dict, list, ``str`` type or numpy array), as skops would."""
    import numpy as np

    kind = node.get("__loader__") if isinstance(node, dict) else None
    if kind == "DictNode":
        keys = [_construct(k, zf, file) for k in node["key_types"]["content"]]
        items = node["content"].items()
        if len(keys) != len(items):
            raise UnsafeModelError(f"{file}: a dict's key types do not match its keys")
        return {key_type(key): _construct(value, zf, file) for key_type, (key, value) in zip(keys, items)}
    if kind == "ListNode":
        return [_construct(item, zf, file) for item in node["content"]]
    if kind == "TypeNode":  # the audit lets through only builtins.str
        return str
    if kind == "NdArrayNode":
        with zf.open(node["file"]) as fh:
            return np.load(io.BytesIO(fh.read()), allow_pickle=False)
    raise UnsafeModelError(f"{file}: unexpected node {kind!r}")
