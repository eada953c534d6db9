"""Batch scoring: every file accounted for, bad input reported, resumable after SIGKILL."""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import lo_signals
from lo_signals.labels import LABELS
from lo_signals.score import SENTENCE_COLUMNS, score_documents, score_folder

GOOD = [
    "After the near miss the registrar thanked me and we went through it together at handover.",
    "We aim to be an organisation where every colleague feels safe to speak up.",
    "The porters suggested moving the bed meeting to 8am and the site team adopted it.",
    "Staff who raised concerns were labelled troublemakers and moved to nights.",
]


def _pdf(path: Path, pages: list[str]) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    for text in pages:
        y = 780
        for line in text.split("\n"):
            c.drawString(72, y, line)
            y -= 16
        c.showPage()
    c.save()


@pytest.fixture(scope="module")
def torture(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("torture")
    (root / "good.txt").write_text("\n\n".join(GOOD), encoding="utf-8")
    (root / "cp1252.txt").write_bytes("Nobody is afraid to question the consultant \u2013 we say what we think. Costs rose by \u00a3300.".encode("cp1252"))
    _pdf(root / "board.pdf", ["The ward sisters now teach the new starters together.", "Managers listened when staff raised concerns."])
    good_pdf = (root / "board.pdf").read_bytes()
    (root / "truncated.pdf").write_bytes(good_pdf[: len(good_pdf) // 3])
    (root / "corrupt.pdf").write_bytes(b"%PDF-1.7\nthis is not really a pdf\n%%EOF")
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(root / "board.pdf"))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    with open(root / "locked.pdf", "wb") as fh:
        writer.write(fh)
    (root / "empty.txt").write_bytes(b"")
    (root / "junk.txt").write_bytes(os.urandom(3000))
    (root / "notes.xyz").write_text("hello")
    (root / "bad-utf8.md").write_bytes(b"Lessons were shared across \xff\xfe teams \x81 and sites.")
    with open(root / "huge.txt", "wb") as fh:  # sparse: 100 MB on paper, nothing on disk
        fh.truncate(100 * 1024 * 1024)
    (root / "dangling.txt").symlink_to(root / "does-not-exist.txt")
    deep = root
    for i in range(12):
        deep = deep / f"level{i}"
    deep.mkdir(parents=True)
    (deep / "deep.txt").write_text("Frontline crews designed the new handover form and managers backed it.")
    pd.DataFrame({"comment": GOOD, "directorate": ["Surgery", "Medicine", "Estates", "Surgery"], "year": [2024, 2024, 2025, 2025]}).to_csv(root / "survey.csv", index=False)
    return root


@pytest.fixture(scope="module")
def run(torture, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    record = score_folder([torture], out)
    return out, record


def test_every_file_appears_once_with_a_sensible_status(torture, run):
    out, record = run
    files = pd.read_csv(out / "files.csv", keep_default_na=False)
    found = sorted(str(p) for p in torture.rglob("*") if p.is_file() or p.is_symlink())
    assert sorted(files["path"]) == found
    status = dict(zip([Path(p).name for p in files["path"]], files["status"]))
    reason = dict(zip([Path(p).name for p in files["path"]], files["reason"]))
    assert status["good.txt"] == status["cp1252.txt"] == status["board.pdf"] == status["survey.csv"] == status["deep.txt"] == "ok"
    assert status["bad-utf8.md"] == "ok"  # decoded with a fallback, nothing lost
    assert status["empty.txt"] == "empty"
    assert status["notes.xyz"] == "skipped" and ".xyz" in reason["notes.xyz"]
    assert status["huge.txt"] == "skipped" and "MB" in reason["huge.txt"] and "(--max-mb)" in reason["huge.txt"]
    assert status["junk.txt"] == "error" and "binary" in reason["junk.txt"]
    assert status["locked.pdf"] == "error" and "encrypted" in reason["locked.pdf"].lower()
    assert status["dangling.txt"] in ("error", "skipped") and "link" in reason["dangling.txt"]
    for name in ("truncated.pdf", "corrupt.pdf"):
        assert status[name] in ("error", "empty") and reason[name]
    assert record["counts"]["files"] == len(found)


def test_output_schema(run):
    out, record = run
    sent = pd.read_csv(out / "sentences.csv", keep_default_na=False)
    assert list(sent.columns[: len(SENTENCE_COLUMNS)]) == list(SENTENCE_COLUMNS)
    assert {"directorate", "year"} <= set(sent.columns)
    survey = sent[sent["path"].str.endswith("survey.csv")]
    assert sorted(survey["directorate"]) == ["Estates", "Medicine", "Surgery", "Surgery"]
    for label in LABELS:
        assert sent[label].between(0, 1).all()
    docs = pd.read_csv(out / "documents.csv", keep_default_na=False)
    for label in LABELS:
        assert {f"{label}_count", f"{label}_rate", f"{label}_mean", f"{label}_max", f"{label}_top_unit"} <= set(docs.columns)
    assert record["model"]["backend"] == "linear" and record["counts"]["units"] == len(sent)
    assert (out / "run.json").is_file()


def test_offsets_point_into_the_extracted_text(torture):
    from lo_signals.readers import read_documents

    df = score_documents(torture / "good.txt")
    doc = next(read_documents(torture / "good.txt"))
    for row in df.itertuples():
        assert doc.text[row.start : row.end] == row.text
    assert len(df) == len(GOOD)
    # Retaliation for raising concerns: blame is by far this unit's most likely label (whether it
    # passes the precision-first threshold is the model's business, checked in the model tests).
    row = df.iloc[3]
    assert row["blame_defensiveness"] > 0.5 and row["blame_defensiveness"] == max(row[label] for label in LABELS)
    assert df.attrs["files"][0]["status"] == "ok"


def test_parquet_and_two_workers_give_the_same_rows(torture, run, tmp_path):
    out, _ = run
    score_folder([torture], tmp_path, "default", workers=2, fmt="parquet")
    a = pd.read_csv(out / "sentences.csv", keep_default_na=False)
    b = pd.read_parquet(tmp_path / "sentences.parquet")
    assert list(a["text"]) == list(b["text"])
    pd.testing.assert_series_equal(a["open_dialogue"].astype(float), b["open_dialogue"].astype(float), check_names=False)


def test_cli_exit_codes(tmp_path, torture):
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.txt").write_bytes(b"")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "lo_signals.cli"]
    bad = subprocess.run(cmd + ["score", str(junk), "--out", str(tmp_path / "o1")], capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and "no file could be scored" in bad.stderr
    missing = subprocess.run(cmd + ["score", str(tmp_path / "nope"), "--out", str(tmp_path / "o2")], capture_output=True, text=True, env=env)
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_killed_run_resumes_to_the_same_output(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(60):
        (src / f"doc{i:03d}.txt").write_text("\n\n".join(GOOD[i % 4 :] + GOOD[: i % 4]) + f"\n\nFile number {i}.")
    ref = tmp_path / "ref"
    score_folder([src], ref)
    out = tmp_path / "out"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "lo_signals.cli", "score", str(src), "--out", str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parts = out / ".lo_signals_parts"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(parts.glob("*.json"))) < 10:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list(parts.glob("*.json")))
    assert 10 <= done_before < 60, "the run should have been killed midway"
    assert not (out / "run.json").exists()
    score_folder([src], out)
    a = (ref / "sentences.csv").read_text()
    b = (out / "sentences.csv").read_text()
    assert a == b
    rows = list(csv.DictReader(open(out / "files.csv")))
    assert len(rows) == 60 and {r["status"] for r in rows} == {"ok"}


def test_documents_record_format_and_detected_encoding(run):
    out, _ = run
    docs = pd.read_csv(out / "documents.csv", keep_default_na=False)
    by_name = {Path(p).name: (f, e) for p, f, e in zip(docs["path"], docs["format"], docs["encoding"])}
    assert by_name["cp1252.txt"] == ("txt", "cp1252")
    assert by_name["good.txt"] == ("txt", "utf-8")
    assert by_name["board.pdf"][0] == "pdf"


def test_rescoring_with_another_model_does_not_reuse_old_rows(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("\n\n".join(GOOD))
    out = tmp_path / "out"
    score_folder([src], out, "default")
    first = pd.read_csv(out / "sentences.csv", keep_default_na=False)
    score_folder([src], out, "lexicon")
    second = pd.read_csv(out / "sentences.csv", keep_default_na=False)
    assert not first["open_dialogue"].equals(second["open_dialogue"])
    direct = lo_signals.load("lexicon").predict_proba(list(second["text"]))
    assert second["open_dialogue"].round(4).tolist() == [round(float(x), 4) for x in direct[:, 2]]


def test_rows_with_different_metadata_keys(tmp_path):
    import json

    src = tmp_path / "src"
    src.mkdir()
    rows = [{"comment": GOOD[0], "team": "a"}, {"comment": GOOD[3], "team": "b", "year": 2025, "tags": "x"}]
    (src / "c.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    out = tmp_path / "out"
    record = score_folder([src], out, text_column="comment")
    assert record["counts"]["files_ok"] == 1
    sent = pd.read_csv(out / "sentences.csv", keep_default_na=False)
    assert {"team", "year", "tags"} <= set(sent.columns)
    assert list(sent["team"]) == ["a", "b"] and list(sent["year"].astype(str)) == ["", "2025"]


def test_models_with_their_own_label_set_are_refused(tmp_path):
    from lo_signals.scorers.lexicon import LexiconScorer

    model = LexiconScorer().fit(["x"])
    model.labels_ = ("teaching", "blame")
    with pytest.raises(ValueError, match="own label set"):
        score_folder([tmp_path], tmp_path / "o", model)


def test_score_documents_builds_its_frame_in_memory_with_types_kept(torture, run, monkeypatch, tmp_path):
    import json
    import tempfile

    rows = [{"comment": GOOD[0], "year": 2024, "score": 0.5}, {"comment": GOOD[3], "year": 2025, "score": 1.5}]
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps(r) for r in rows))

    def no_temp(*args, **kwargs):
        raise AssertionError("score_documents must not write a temporary folder")

    monkeypatch.setattr(tempfile, "mkdtemp", no_temp)
    monkeypatch.setattr(tempfile, "TemporaryDirectory", no_temp)
    df = score_documents([torture / "survey.csv", torture / "board.pdf", torture / "notes.xyz", tmp_path / "c.jsonl"])
    assert list(df.columns[: len(SENTENCE_COLUMNS)]) == list(SENTENCE_COLUMNS)
    assert str(df["page"].dtype) == "Int64" and str(df["start"].dtype) == "Int64"
    jsonl = df[df["path"].str.endswith("c.jsonl")]
    assert jsonl["year"].tolist() == [2024, 2025] and jsonl["score"].tolist() == [0.5, 1.5]  # not strings from a CSV round trip
    assert df.loc[df["path"].str.endswith("board.pdf"), "page"].tolist() == [1, 2]
    assert df.loc[df["path"].str.endswith("survey.csv"), "page"].isna().all()
    # The same rows as the batch run's table.
    out, _ = run
    sent = pd.read_csv(out / "sentences.csv", keep_default_na=False)
    mine = sent[sent["path"].str.endswith(("survey.csv", "board.pdf"))]
    assert sorted(mine["text"]) == sorted(df.loc[~df["path"].str.endswith("c.jsonl"), "text"])
    files = {Path(r["path"]).name: r for r in df.attrs["files"]}
    assert files["notes.xyz"]["status"] == "skipped" and files["board.pdf"]["units"] == 2


def test_score_documents_with_worker_processes_gives_the_same_frame(torture):
    paths = [torture / "good.txt", torture / "survey.csv", torture / "board.pdf"]
    one = score_documents(paths)
    two = score_documents(paths, "default", workers=2)
    pd.testing.assert_frame_equal(one, two)


def test_a_model_failure_on_one_file_becomes_its_files_csv_row(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text(GOOD[0])
    (src / "b.txt").write_text("This unit makes the model fail.")
    model = lo_signals.load("default")
    real = model.predict_all

    def flaky(texts):
        if any("model fail" in t for t in texts):
            raise RuntimeError("boom\nsecond line of a long message")
        return real(texts)

    model.predict_all = flaky
    record = score_folder([src], tmp_path / "out", model)
    files = pd.read_csv(tmp_path / "out" / "files.csv", keep_default_na=False)
    row = files[files["path"].str.endswith("b.txt")].iloc[0]
    assert row["status"] == "error" and row["reason"] == "unexpected RuntimeError: boom" and row["units"] == 0
    assert record["counts"]["files_ok"] == 1 and record["counts"]["files_error"] == 1


def test_max_units_cuts_a_table_per_file_with_a_warning(tmp_path):
    from lo_signals.readers import Limits

    pd.DataFrame({"comment": GOOD * 5}).to_csv(tmp_path / "s.csv", index=False)
    df = score_documents(tmp_path / "s.csv", limits=Limits(max_units=7))
    assert len(df) == 7
    assert "--max-units" in df.attrs["files"][0]["warnings"]


def test_units_the_model_scores_in_pieces_and_non_english_units_are_recorded(tmp_path):
    import warnings as pywarnings

    from lo_signals.readers import Limits

    (tmp_path / "long.txt").write_text("staff were blamed " * 8000 + "\n\nLes infirmières ont été très bien accueillies par la direction et les médecins.")
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("error")  # the scorer's LongTextWarning is recorded, not raised
        df = score_documents(tmp_path / "long.txt", "lexicon", limits=Limits(max_chars=200_000))
    notes = df.attrs["files"][0]["warnings"]
    assert "1 unit(s) not scored in full by the model" in notes and "pieces" in notes
    assert "1 unit(s) do not look like English" in notes
    assert df["language"].tolist() == ["en", "other"]


def test_the_sample_folder_yields_no_readme_unit():
    from lo_signals.readers import discover_files

    examples = Path(__file__).resolve().parent.parent / "examples" / "data"
    found = [Path(p) for p in discover_files([examples])]
    assert found and not [p for p in found if p.name.lower().startswith("readme")]
    # The prose files score to units, none of which describes the folder itself.
    prose = [p for p in found if p.suffix in (".txt", ".md", ".html")]
    df = score_documents(prose)
    assert len(df) and not df["path"].str.contains("README", case=False).any()
    assert not df["text"].str.contains("notebook", case=False).any()


@pytest.mark.slow  # streaming is covered fast by test_hostile_input.py::test_large_csv_streams_in_chunks
def test_a_big_table_is_streamed_not_held_in_memory(tmp_path):
    import tracemalloc

    rows = 8000  # 4 model batches; holding every row's output would take well over 40 MB
    pd.DataFrame({"comment": [f"{GOOD[i % 4]} Comment {i}." for i in range(rows)], "team": [f"t{i % 7}" for i in range(rows)]}).to_csv(
        tmp_path / "survey.csv", index=False
    )
    model = lo_signals.load("default")
    model.predict_all(GOOD)  # caches filled before measuring
    tracemalloc.start()
    try:
        record = score_folder([tmp_path / "survey.csv"], tmp_path / "out", model)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert record["counts"]["documents"] == rows
    assert peak < 30e6, f"peak Python heap {peak / 1e6:.0f} MB"


def test_identical_files_at_two_paths_are_two_documents(tmp_path):
    from lo_signals.report import write_report

    src = tmp_path / "src"
    for folder in ("2024", "2025"):
        (src / folder).mkdir(parents=True)
        (src / folder / "minutes.txt").write_text("\n\n".join(GOOD[:2]), encoding="utf-8")
        # A survey exported twice, once per folder: its rows are other documents too.
        (src / folder / "survey.csv").write_text("comment\n" + "\n".join(f'"{t}"' for t in GOOD[2:]), encoding="utf-8")
    out = tmp_path / "out"
    record = score_folder([src], out)
    sent = pd.read_csv(out / "sentences.csv", keep_default_na=False)
    docs = pd.read_csv(out / "documents.csv", keep_default_na=False)
    assert record["counts"]["documents"] == 6 and docs["doc_id"].nunique() == 6
    assert sent.groupby("path")["doc_id"].nunique().to_dict() == {str(src / y / f): n for y in ("2024", "2025") for f, n in (("minutes.txt", 1), ("survey.csv", 2))}
    assert len(lo_signals.aggregate(sent, by="doc_id", n_boot=0)) == 6
    html = write_report(out, n_boot=0).read_text(encoding="utf-8")
    assert "from 6 documents in 4 files" in html
    # The same file at the same path keeps its id across runs.
    again = score_documents([src / "2024" / "minutes.txt"])
    assert set(again["doc_id"]) == set(sent.loc[sent["path"] == str(src / "2024" / "minutes.txt"), "doc_id"])


def _unsaved_linear(flip: bool):
    """A small linear model fitted in memory and never saved (no path, no date)."""
    import numpy as np

    from lo_signals.scorers.linear import LinearScorer

    texts = [f"{t} Note {i}." for i in range(6) for t in GOOD]
    y = np.zeros((len(texts), len(LABELS)), dtype=int)
    for i in range(len(texts)):
        y[i, (i % 4) if not flip else 3 - (i % 4)] = 1
        y[i, 4] = int((i % 4 == 3) != flip)
    model = LinearScorer(features="tfidf", cv=2).fit(texts, y)
    # Equal thresholds: only the learned weights tell the two apart.
    model.thresholds_ = np.full(len(LABELS), 0.5)
    model.aspiration_thresholds_ = np.full(4, 0.5)
    return model


def test_a_second_unsaved_model_does_not_reuse_the_first_models_rows(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("\n\n".join(GOOD), encoding="utf-8")
    first, second = _unsaved_linear(False), _unsaved_linear(True)
    out = tmp_path / "out"
    score_folder([src], out, first)
    rows_first = pd.read_csv(out / "sentences.csv", keep_default_na=False)
    record = score_folder([src], out, second)
    rows_second = pd.read_csv(out / "sentences.csv", keep_default_na=False)
    direct = second.predict_proba(list(rows_second["text"]))
    assert rows_second["blame_defensiveness"].round(4).tolist() == [round(float(x), 4) for x in direct[:, 4]]
    assert not rows_first["blame_defensiveness"].equals(rows_second["blame_defensiveness"])
    assert record["model"]["weights"].startswith("state:")
    # The same unsaved model again reuses its own rows, and a saved model is known by its files' hashes.
    assert score_folder([src], out, second)["model"]["weights"] == record["model"]["weights"]
    from lo_signals.outdir import model_fingerprint

    assert model_fingerprint(lo_signals.load("default")).startswith("files:")


def test_parquet_keeps_metadata_as_text_whatever_its_name(tmp_path):
    from lo_signals.pipeline import DOCUMENT_TYPES, SENTENCE_TYPES
    from lo_signals.report import read_units, write_report

    src = tmp_path / "src"
    src.mkdir()
    pd.DataFrame(
        {"comment": GOOD, "response_rate": ["high", "low", "high", "low"], "ward_count": ["3", "n/a", "12", "007"], "staff_max": ["", "x", "y", "z"]}
    ).to_csv(src / "survey.csv", index=False)
    (src / "board.txt").write_text(GOOD[0], encoding="utf-8")
    out = tmp_path / "out"
    score_folder([src], out, fmt="parquet")
    sent = pd.read_parquet(out / "sentences.parquet")
    survey = sent[sent["path"].str.endswith("survey.csv")]
    assert survey["response_rate"].tolist() == ["high", "low", "high", "low"]
    assert survey["ward_count"].tolist() == ["3", "n/a", "12", "007"] and survey["staff_max"].tolist() == ["", "x", "y", "z"]
    # The declared columns keep their types: integers (missing where a unit has no page), floats.
    assert str(sent["page"].dtype) in ("Int64", "float64") and sent["page"].isna().all() and str(sent["start"].dtype) == "int64"
    assert all(str(sent[label].dtype) == "float64" for label in LABELS)
    # documents.csv: the row of every document has exactly the declared summary columns, then metadata.
    docs = pd.read_csv(out / "documents.csv", keep_default_na=False, dtype=str)
    assert list(docs.columns[: len(DOCUMENT_TYPES)]) == list(DOCUMENT_TYPES)
    assert set(docs.loc[docs["path"].str.endswith("survey.csv"), "response_rate"]) == {"high", "low"}
    # Read back (and reported) the same way from either format.
    units = read_units(out)
    assert units.loc[units["path"].str.endswith("survey.csv"), "response_rate"].tolist() == ["high", "low", "high", "low"]
    assert str(units["page"].dtype) == "Int64" and units.loc[~units["path"].str.endswith("survey.csv"), "response_rate"].tolist() == [""]
    assert set(SENTENCE_TYPES) <= set(units.columns)
    html = write_report(out, by="response_rate", n_boot=0).read_text(encoding="utf-8")
    assert "response_rate" in html and ">high<" in html.replace(" ", "")


def test_reader_losses_reach_files_csv_and_run_json_records_the_text_column(tmp_path, monkeypatch):
    import json

    from lo_signals.readers import _pdf as pdf_reader

    src = tmp_path / "src"
    src.mkdir()
    _pdf(src / "board.pdf", ["The ward sisters now teach the new starters together.", "Broken page.", "Managers listened when staff raised concerns."])
    real = pdf_reader._pdf_page_lines

    def second_page_fails(page):
        if "Broken" in page.extract_text():
            raise ValueError("bad content stream")
        return real(page)

    monkeypatch.setattr(pdf_reader, "_pdf_page_lines", second_page_fails)
    pd.DataFrame({"id": [1, 2], "comment": GOOD[:2], "directorate": ["Surgery", "Medicine"]}).to_csv(src / "survey.csv", index=False)
    pd.DataFrame({"positive_comments": GOOD[:2], "negative_comments": GOOD[2:]}).to_csv(src / "two.csv", index=False)
    out = tmp_path / "out"
    record = score_folder([src], out)
    files = pd.read_csv(out / "files.csv", keep_default_na=False).set_index("path")
    pdf = files.loc[str(src / "board.pdf")]
    assert pdf["status"] == "ok" and pdf["units"] == 2
    assert "1 of 3 page(s) could not be extracted (page 2: bad content stream)" in pdf["warnings"]
    two = files.loc[str(src / "two.csv")]
    assert two["status"] == "ok" and "'positive_comments'" in two["warnings"] and "'negative_comments'" in two["warnings"]
    assert "--text-column" in two["warnings"]
    assert files.loc[str(src / "survey.csv"), "warnings"] == ""  # one text column: nothing to say
    run = json.loads((out / "run.json").read_text())
    assert run["options"]["text_column"] is None
    assert run["text_columns"] == {str(src / "survey.csv"): "comment", str(src / "two.csv"): "positive_comments"}
    assert record["counts"]["with_warnings"] == 2
    # A column given is recorded as given, and nothing is left to warn about.
    given = score_folder([src / "two.csv"], tmp_path / "out2", text_column="negative_comments")
    assert given["text_columns"] == {str(src / "two.csv"): "negative_comments"} and given["counts"]["with_warnings"] == 0


def test_files_csv_says_how_far_the_model_was_validated_on_each_files_register(tmp_path):
    from lo_signals.pipeline import validation_note

    meta = {"natural_prevalence": {"per_register": {"staff_feedback": {"precision": 0.6, "ci95": [0.44, 0.74], "judged": 35},
                                                    "board_paper": {"precision": None, "ci95": [None, None], "judged": 0}}}}
    assert validation_note(meta, "staff_feedback") == "precision 0.60 [0.44, 0.74] on unseen staff_feedback (35 flags judged)"
    assert validation_note(meta, "board_paper").startswith("not validated")
    assert validation_note(meta, "inquiry_report").startswith("not validated")
    assert validation_note({}, "") == ""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.txt").write_text("Staff who raised concerns were labelled troublemakers and moved to nights.\n", encoding="utf-8")
    score_folder([docs], tmp_path / "out")
    files = pd.read_csv(tmp_path / "out" / "files.csv", keep_default_na=False)
    row = files.iloc[0]
    assert row["validation"] == validation_note(lo_signals.load().meta_, row["register"]) and row["validation"]
