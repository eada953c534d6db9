"""Loading the default model stays cheap: no torch, no scikit-learn, no spaCy until they are needed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "transformers", "sklearn", "spacy", "skops", "datasets")


def _modules_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=300)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_loading_the_default_imports_no_torch():
    # skops.io imported torch (it walks every scikit-learn module, array-API shims included): seconds per load.
    loaded = _modules_after("import lo_signals\nlo_signals.load()")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


@pytest.mark.slow  # imports scikit-learn and spaCy in a fresh process; the load check above is the fast one
def test_a_loaded_default_predicts_without_skops_or_datasets():
    # Predicting needs scikit-learn's vectorizers and spaCy's tokenizer (whose
    # thinc imports torch when torch is installed), but never skops or datasets.
    loaded = _modules_after("import lo_signals\nprint(lo_signals.load().predict(['Staff were blamed for the outage.']))")
    assert "skops" not in loaded and "datasets" not in loaded
