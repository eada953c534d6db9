"""Which register each document is in, and how that was decided: declared, a column, the content, the name, a default."""

import pandas as pd
import pytest
from typer.testing import CliRunner

from lo_signals.cli import app
from lo_signals.register import content_register, decide_register
from lo_signals.score import score_folder

CORONER = (
    "REGULATION 28: REPORT TO PREVENT FUTURE DEATHS\n\n"
    "1. The inquest into the death of the deceased was opened in March.\n\n"
    "2. The coroner found that staff did not escalate the falling oxygen saturation.\n\n"
    "3. It is recommended that the trust reviews its escalation policy."
)
TRANSCRIPT = (
    "Q. Did you raise the concern with the ward manager?\n"
    "A. I did, twice, and I was told not to make a fuss.\n"
    "Q. What happened after that?\n"
    "A. Nothing changed until the next incident.\n"
    "Counsel to the Inquiry then turned to the rota."
)
MINUTES = (
    "Present: Chair, Chief Executive, Director of Nursing.\n"
    "Apologies for absence were received from the Medical Director.\n"
    "Item 4.1 Patient safety report. The Board noted the increase in incident reporting.\n"
    "The minutes of the previous meeting were approved."
)
COMMENTS = "My manager listens to me.\nI feel safe raising concerns on my ward.\nWe never get time for training.\nOur team shares lessons after incidents."


@pytest.mark.parametrize(
    ("text", "expected"),
    [(CORONER, "inquiry_report"), (TRANSCRIPT, "inquiry_report"), (MINUTES, "board_paper"), (COMMENTS, "staff_feedback"), ("Car parking costs rose by 3%.", None)],
)
def test_content_decides_the_register(text, expected):
    assert content_register(text) == expected


def test_order_declared_column_content_filename_default():
    assert decide_register(MINUTES, "x.txt", "txt", declared="inquiry_report") == ("inquiry_report", "declared")
    assert decide_register("Blamed again.", "s.csv", "csv", {"register": "board_paper"}) == ("board_paper", "column")
    assert decide_register(CORONER, "case-0042.pdf", "pdf") == ("inquiry_report", "content")
    assert decide_register("Car parking costs rose by 3%.", "serious_case_review.pdf", "pdf") == ("inquiry_report", "filename")
    assert decide_register("Car parking costs rose by 3%.", "doc1.pdf", "pdf") == ("other", "default")
    assert decide_register("The rota changed in May.", "export.csv", "csv") == ("staff_feedback", "default")
    assert decide_register("I love my team and we learn together.", "export.csv", "csv") == ("staff_feedback", "content")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    # None of these names says inquiry: the content must.
    (src / "case-0042.txt").write_text(CORONER)
    (src / "day-3.txt").write_text(TRANSCRIPT)
    (src / "2024-06-12.txt").write_text(MINUTES)
    pd.DataFrame({"comment": ["My manager listens to me and we changed the rota.", "Blamed again, I am scared to report anything."],
                  "register": ["", "board_paper"]}).to_csv(src / "export.csv", index=False)
    return src


def test_documents_and_files_record_the_register_and_its_source(folder, tmp_path):
    score_folder([folder], tmp_path)
    docs = pd.read_csv(tmp_path / "documents.csv", keep_default_na=False).set_index("path")
    decided = {p.rsplit("/", 1)[-1]: (r, s) for p, r, s in zip(docs.index, docs["register"], docs["register_source"])}
    assert decided["case-0042.txt"] == ("inquiry_report", "content")
    assert decided["day-3.txt"] == ("inquiry_report", "content")
    assert decided["2024-06-12.txt"] == ("board_paper", "content")
    rows = docs[docs.index.str.endswith("export.csv")]
    assert sorted(zip(rows["register"], rows["register_source"])) == [("board_paper", "column"), ("staff_feedback", "content")]
    files = pd.read_csv(tmp_path / "files.csv", keep_default_na=False)
    export = files[files["path"].str.endswith("export.csv")].iloc[0]
    assert export["register"] == "mixed" and export["register_source"] == "column,content"


def test_register_option_overrides_everything(folder, tmp_path):
    result = CliRunner().invoke(app, ["score", str(folder), "--out", str(tmp_path / "o"), "--register", "inquiry_report"])
    assert result.exit_code == 0, result.output
    docs = pd.read_csv(tmp_path / "o" / "documents.csv", keep_default_na=False)
    assert set(docs["register"]) == {"inquiry_report"} and set(docs["register_source"]) == {"declared"}
    bad = CliRunner().invoke(app, ["score", str(folder), "--out", str(tmp_path / "b"), "--register", "memo"])
    assert bad.exit_code != 0 and "register must be one of" in bad.output
