"""lo_signals: signals of a learning culture, and of blame, in organisational text.

Importing the package has no side effects and stays light: the heavier parts
(scikit-learn, spaCy, pandas) load on first use.

    >>> import lo_signals
    >>> lo_signals.LABELS[0]
    'community_of_learners'
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from .labels import LABELS, REGISTERS, SIGNS, TAXONOMY

# The one source of the version is pyproject.toml, read from the installed metadata.
try:
    __version__ = version("lo_signals")
except PackageNotFoundError:  # pragma: no cover - running from a tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "LABELS",
    "SIGNS",
    "REGISTERS",
    "TAXONOMY",
    "__version__",
    "load",
    "resolve",
    "register",
    "evaluate",
    "load_corpus",
    "train_models",
    "score_documents",
    "score_folder",
    "aggregate",
    "score_frame",
    "score_texts",
    "plot_profile",
    "write_report",
    "finetune",
    "FinetuneConfig",
]

# Public name -> module that defines it; resolved on first access (PEP 562).
_LAZY = {
    "load": "models",
    "resolve": "models",
    "register": "models",
    "evaluate": "evaluation",
    "load_corpus": "corpus",
    "train_models": "train",
    "score_documents": "score",
    "score_folder": "score",
    # Not in "aggregate.py": importing that submodule would rebind lo_signals.aggregate to the module.
    "aggregate": "rollup",
    "score_frame": "notebook",
    "score_texts": "notebook",
    "plot_profile": "notebook",
    "write_report": "report",
    "finetune": "finetuning",
    "FinetuneConfig": "finetuning",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lo_signals' has no attribute {name!r}")
    loaded = import_module(f".{module}", __name__)
    # Bind every public name the module provides, so each module loads once.
    for public, source in _LAZY.items():
        if source == module:
            globals()[public] = getattr(loaded, public)
    return globals()[name]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
