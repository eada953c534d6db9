"""The example notebooks run top to bottom, offline, on the sample data (slow: pytest -m slow)."""

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["data_scientist", "analyst", "researcher"])
def test_notebook_runs(name):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    if name == "researcher":
        pytest.importorskip("torch")
    nb = nbformat.read(EXAMPLES / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []


def test_sample_data_covers_every_promised_format():
    data = EXAMPLES / "data"
    suffixes = {p.suffix for p in data.rglob("*") if p.is_file()}
    assert {".pdf", ".docx", ".html", ".csv", ".xlsx", ".txt"} <= suffixes
    import pandas as pd

    survey = pd.read_csv(data / "survey" / "staff-survey-2025.csv")
    assert {"directorate", "staff_group", "comment"} <= set(survey.columns)


def test_sample_folder_holds_only_documents_to_score():
    # Its description sits beside the notebooks: scoring the folder must not read it as a document.
    data = EXAMPLES / "data"
    assert not [p for p in data.rglob("*") if p.suffix.lower() in {".md", ".rst"} or p.name.lower().startswith("readme")]
    assert "Example data (invented)" in (EXAMPLES / "DATA.md").read_text(encoding="utf-8")
