"""The HTML report: self-contained, complete, and checked in a real headless browser."""

import contextlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import lo_signals
from lo_signals.labels import LABELS
from lo_signals.report import write_report
from lo_signals.score import score_folder

TEXTS = {
    "a.txt": "The porters suggested moving the bed meeting and the site team adopted it.\n\nWe aim to be an organisation where every colleague feels safe to speak up.",
    "b.txt": "Staff who raised concerns were labelled troublemakers and moved to nights.\n\nAfter the near miss the registrar thanked me and we went through it together.",
}


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    for name, text in TEXTS.items():
        (src / name).write_text(text)
    pd.DataFrame({"comment": ["My manager listens and we changed the rota after my idea.", "Blamed again, scared to report anything."],
                  "directorate": ["Surgery", "Medicine"]}).to_csv(src / "survey.csv", index=False)
    (src / "broken.pdf").write_bytes(b"%PDF-1.4 nonsense")
    out = tmp_path_factory.mktemp("out")
    score_folder([src], out)
    return out


def test_report_is_self_contained_and_complete(scored):
    path = write_report(scored, n_boot=100)
    page = path.read_text()
    # No external loads (the SVG namespace URIs are names, not fetches).
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "no external resources"
    assert "@import" not in page and "url(http" not in page
    assert page.count("<svg") >= 2
    for section in ("profile", "gap", "evidence", "documents", "files", "run"):
        assert f'id="{section}"' in page
    assert "<mark" in page
    assert "broken.pdf" in page and "status-error" in page
    assert "Rhetoric versus practice" in page


def test_report_by_group(scored):
    page = write_report(scored, by="directorate", n_boot=50, path=scored / "by.html").read_text()
    assert 'id="groups"' in page and "Surgery" in page and "Medicine" in page
    with pytest.raises(ValueError, match="no such column"):
        write_report(scored, by="nope")


def _fake_run(out: Path, units: pd.DataFrame, formats: dict[str, str], files: pd.DataFrame | None = None, fmt: str = "csv") -> Path:
    """Write the tables lo-signals score writes, from a hand-made unit table (no model needed)."""
    out.mkdir(parents=True, exist_ok=True)
    units = units.copy()
    for label in LABELS:
        units[label] = [0.9 if label in str(v).split(";") else 0.1 for v in units["labels"]]
    if "aspirations" not in units:
        units["aspirations"] = ""
    if fmt == "parquet":
        units.to_parquet(out / "sentences.parquet", index=False)
    else:
        units.to_csv(out / "sentences.csv", index=False)
    docs = units.drop_duplicates("doc_id")[["doc_id", "path"]].assign(format=lambda d: d["path"].map(formats))
    docs.to_csv(out / "documents.csv", index=False)
    if files is None:
        files = pd.DataFrame({"path": sorted(formats), "status": "ok", "reason": "", "bytes": 1, "pages": "", "units": 1})
    files.to_csv(out / "files.csv", index=False)
    return out


def _survey_units(rows: int, groups: list[str], path: str = "survey.csv", col: str = "directorate") -> pd.DataFrame:
    labels = ["blame_defensiveness", "", "open_dialogue", "", "community_of_learners"]
    return pd.DataFrame({
        "doc_id": [f"s:r{i}" for i in range(rows)],
        "path": path,
        "page": "",
        "text": [f"comment {i}" for i in range(rows)],
        "labels": [labels[i % len(labels)] for i in range(rows)],
        "aspirations": ["open_dialogue" if i % 7 == 0 else "" for i in range(rows)],
        col: [groups[i % len(groups)] for i in range(rows)],
    })


def _table_rows(page: str, table_id: str) -> list[str]:
    body = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]
    return re.findall(r"<tr>.*?</tr>", body, flags=re.S)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_survey_rows_are_grouped_by_file_and_by_column(tmp_path, fmt):
    pdf = pd.DataFrame({"doc_id": "p1", "path": "board/minutes.pdf", "page": "1", "text": [f"paper {i}" for i in range(10)],
                        "labels": ["open_dialogue"] * 3 + [""] * 7, "aspirations": "", "directorate": None})
    units = pd.concat([_survey_units(300, ["Surgery", "Medicine", "Corporate"]), pdf], ignore_index=True)
    out = _fake_run(tmp_path / "run", units, {"survey.csv": "csv", "board/minutes.pdf": "pdf"}, fmt=fmt)
    page = write_report(out, by="directorate", n_boot=50).read_text()
    rows = _table_rows(page, "doc-table")
    assert len(rows) == 4, "one row per directorate of the survey file, one for the PDF; not one per comment"
    assert sum("100 rows" in r for r in rows) == 3 and sum("board/minutes.pdf" in r for r in rows) == 1
    full = pd.read_csv(out / "report_documents.csv")
    assert len(full) == 4 and full["units"].sum() == 310
    assert {"blame_defensiveness_rate_lo", "blame_defensiveness_rate_hi"} <= set(full.columns)
    assert "None" not in set(pd.read_csv(out / "report_by_directorate.csv")["directorate"]), "units without a directorate are left out"
    surgery = full[full["directorate"] == "Surgery"].iloc[0]
    assert surgery["blame_defensiveness_rate_lo"] <= surgery["blame_defensiveness_rate"] <= surgery["blame_defensiveness_rate_hi"]


def test_workbook_sheets_languages_and_file_warnings(tmp_path):
    units = _survey_units(40, ["x"], path="survey.xlsx").assign(sheet=["2024"] * 20 + ["2025"] * 20, language=["en"] * 37 + ["other"] * 3)
    files = pd.DataFrame({"path": ["survey.xlsx"], "status": ["ok"], "reason": [""], "bytes": [9], "pages": [""], "units": [40],
                          "warnings": ["3 unit(s) do not look like English"]})
    page = write_report(_fake_run(tmp_path / "run", units, {"survey.xlsx": "xlsx"}, files), n_boot=0).read_text()
    rows = _table_rows(page, "doc-table")
    assert len(rows) == 2 and "sheet: 2024" in rows[0] + rows[1] and "sheet: 2025" in rows[0] + rows[1]
    assert "3 units do not look like English" in page and "3 unit(s) do not look like English" in _table_rows(page, "file-table")[0]


def test_long_tables_are_capped_so_the_report_size_is_bounded(tmp_path):
    teams = [f"team {i:03d}" for i in range(200)]
    sizes = {}
    for rows in (2_000, 20_000):
        out = _fake_run(tmp_path / str(rows), _survey_units(rows, teams, col="team"), {"survey.csv": "csv"})
        page = write_report(out, by="team", n_boot=20, max_rows=20).read_text()
        sizes[rows] = len(page.encode())
        assert len(_table_rows(page, "group-table")) == 20 and len(_table_rows(page, "doc-table")) == 20
        assert "Showing the 20 largest of 200 groups" in page and "report_by_team.csv" in page
        assert len(pd.read_csv(out / "report_by_team.csv")) == 200, "the full table is beside the report"
    # Ten times the comments, the same report: its size depends on the caps, not on the input.
    assert sizes[20_000] < 1.05 * sizes[2_000]


def test_file_table_is_capped_with_problems_first(tmp_path):
    formats = {f"doc{i:03d}.txt": "txt" for i in range(120)}
    files = pd.DataFrame({"path": sorted(formats), "status": "ok", "reason": "", "bytes": 10, "pages": "", "units": 1})
    files.loc[117, ["status", "reason"]] = ["error", "corrupt"]
    units = pd.DataFrame({"doc_id": [f"d{i}" for i in range(120)], "path": sorted(formats), "page": "", "text": "x", "labels": "", "aspirations": ""})
    page = write_report(_fake_run(tmp_path / "run", units, formats, files), n_boot=0, max_rows=10).read_text()
    rows = _table_rows(page, "file-table")
    assert len(rows) == 10 and "status-error" in rows[0] and "doc117.txt" in rows[0]
    assert "Showing 10 of 120 files" in page


def test_groups_are_compared_side_by_side_sorted_by_the_gap(tmp_path):
    units = _survey_units(600, ["A", "B", "C"])
    # B says it is open and shows nothing: the largest rhetoric-versus-practice gap.
    units.loc[units["directorate"] == "B", ["labels", "aspirations"]] = ["", "open_dialogue;community_of_learners"]
    page = write_report(_fake_run(tmp_path / "run", units, {"survey.csv": "csv"}), by="directorate", n_boot=50).read_text()
    rows = _table_rows(page, "group-table")
    gaps = [float(re.search(r'data-v="([-0-9.e]+)">[+-]', r).group(1)) for r in rows]
    assert gaps == sorted(gaps, reverse=True) and ">B<" in rows[0]
    assert all(r.count('class="range"') == len(LABELS) for r in rows), "every rate is drawn with its interval"
    assert 'id="group-chart"' in page


def test_register_view_when_a_run_mixes_registers(tmp_path):
    inquiry = pd.DataFrame({"doc_id": "q", "path": "inquiry/chapter-3.docx", "page": "", "text": ["finding"] * 20,
                            "labels": ["blame_defensiveness"] * 20, "aspirations": "", "directorate": ""})
    board = pd.DataFrame({"doc_id": "b", "path": "papers/board-2025-06.pdf", "page": 1, "text": ["assurance"] * 20,
                          "labels": "", "aspirations": "open_dialogue", "directorate": ""})
    mixed = pd.concat([_survey_units(100, ["A"]), inquiry, board], ignore_index=True)
    formats = {"survey.csv": "csv", "inquiry/chapter-3.docx": "docx", "papers/board-2025-06.pdf": "pdf"}
    page = write_report(_fake_run(tmp_path / "mixed", mixed, formats), n_boot=20).read_text()
    rows = _table_rows(page, "register-table")
    assert sorted(r.split("<td>", 1)[1].split("<", 1)[0] for r in rows) == ["board papers", "inquiry reports", "staff feedback"]
    assert "guessed from the file name" in page and "are guesses" in page
    given = mixed.assign(register=["board_paper"] * 100 + ["inquiry_report"] * 40)
    page = write_report(_fake_run(tmp_path / "given", given, formats), n_boot=0).read_text()
    assert len(_table_rows(page, "register-table")) == 2 and "are guesses" not in page and "102 from a register column" in page
    survey_only = _fake_run(tmp_path / "survey", _survey_units(50, ["A"]), {"survey.csv": "csv"})
    assert 'id="registers"' not in write_report(survey_only, n_boot=0).read_text()


def test_a_run_where_nothing_scored_still_lists_its_files(tmp_path):
    units = pd.DataFrame(columns=["doc_id", "path", "page", "text", "labels", "aspirations", "directorate"])
    files = pd.DataFrame({"path": ["x.pdf"], "status": ["error"], "reason": ["corrupt or truncated"], "bytes": [3], "pages": [""], "units": [0]})
    page = write_report(_fake_run(tmp_path / "run", units, {}, files), by="directorate", n_boot=10).read_text()
    assert "0 units from 0 documents" in page and "corrupt or truncated" in page and 'id="groups"' not in page


def test_hostile_group_names_paths_and_text_are_escaped(tmp_path):
    units = _survey_units(40, ["<script>alert(1)</script>", "ok"], path='x"><img src=x onerror=alert(2)>.csv')
    units["text"] = "<b>Blamed</b> for the error </td></table>"
    units["labels"] = "blame_defensiveness"
    page = write_report(_fake_run(tmp_path / "run", units, {units.loc[0, "path"]: "csv"}), by="directorate", n_boot=0).read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "<b>Blamed" not in page and "&lt;b&gt;Blamed" in page


def _browser() -> tuple[str, str] | None:
    chrome, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chrome and driver:
        return chrome, driver
    if os.geteuid() == 0 and shutil.which("apt-get"):
        # The browser is a Debian package, installed on demand (CI machines start without it).
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"], capture_output=True, timeout=600)
        chrome, driver = shutil.which("chromium"), shutil.which("chromedriver")
        if chrome and driver:
            return chrome, driver
    return None


@contextlib.contextmanager
def chromium(tmp_path: Path):
    """A headless Chromium driver (the test skips, saying why, when there is none)."""
    pytest.importorskip("selenium")
    found = _browser()
    if found is None:
        pytest.skip("no Chromium: apt-get install chromium chromium-driver failed or is not allowed here")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = found[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,2000"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(found[1]), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


def assert_renders_within_the_page(driver, groups: int) -> None:
    """No console errors, every group compared, and nothing wider than the page (the blame column was cut off)."""
    from selenium.webdriver.common.by import By

    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
    assert len(driver.find_elements(By.CSS_SELECTOR, "#group-table tbody tr")) == groups
    width = driver.execute_script("return document.documentElement.clientWidth")
    assert driver.execute_script("return document.documentElement.scrollWidth") <= width
    last = driver.find_element(By.CSS_SELECTOR, "#group-table thead th:last-child")
    assert last.location["x"] + last.size["width"] <= width
    for table in ("group-table", "doc-table", "file-table"):
        # Not even a scroll bar inside its box: every column, blame last, is in view.
        assert driver.execute_script(f"var t = document.getElementById('{table}'); return t.scrollWidth <= t.parentElement.clientWidth"), table


def test_report_in_headless_chromium(scored, tmp_path):
    path = write_report(scored, by="directorate", n_boot=50)
    with chromium(tmp_path) as driver:
        from selenium.webdriver.common.by import By

        driver.get(Path(path).as_uri())
        assert_renders_within_the_page(driver, groups=2)
        assert len(driver.find_elements(By.CSS_SELECTOR, "#profile-chart svg")) == 1
        assert len(driver.find_elements(By.CSS_SELECTOR, "#gap-chart svg")) == 1
        assert len(driver.find_elements(By.CSS_SELECTOR, "#evidence mark")) >= 1
        # A label chip is one phrase: it never wraps inside.
        assert driver.find_element(By.CSS_SELECTOR, "#evidence .chip").value_of_css_property("white-space") == "nowrap"
        # Sorting the file table by status puts "error" first.
        table = driver.find_element(By.ID, "file-table")
        table.find_elements(By.TAG_NAME, "th")[1].click()
        assert table.find_element(By.CSS_SELECTOR, "tbody tr td:nth-child(2)").text == "error"
        shot = tmp_path / "report.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000


@pytest.mark.slow  # capping is covered fast by test_long_tables_are_capped_so_the_report_size_is_bounded
def test_report_of_a_100k_row_survey_is_small_and_renders(tmp_path):
    """lo-signals score survey.csv --out o --report --by directorate on 100,000 comments.

    About 35 s on 2 cores, so not marked slow; the measured figures are in
    benchmarks/results/report-scale.md (benchmarks/report_scale.py).
    """
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks.report_scale import DIRECTORATES, make_survey

    survey = make_survey(tmp_path / "survey.csv", 100_000)
    out = tmp_path / "o"
    cli = Path(sys.executable).with_name("lo-signals")
    cmd = [str(cli)] if cli.exists() else [sys.executable, "-m", "lo_signals.cli"]
    done = subprocess.run([*cmd, "score", str(survey), "--out", str(out), "--report", "--by", "directorate"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    report = out / "report.html"
    assert report.stat().st_size < 5_000_000
    groups = pd.read_csv(out / "report_by_directorate.csv")
    assert sorted(groups["directorate"]) == sorted(DIRECTORATES)
    assert groups["units"].sum() == len(pd.read_csv(out / "sentences.csv", usecols=["doc_id"]))
    with chromium(tmp_path) as driver:
        driver.get(report.as_uri())
        assert_renders_within_the_page(driver, groups=len(DIRECTORATES))


def test_report_intervals_resample_documents_or_the_named_cluster(tmp_path):
    # 40 respondents of 25 comments each, half of them all-blame: respondents, not comments, are independent.
    units = _survey_units(1000, ["A", "B"]).assign(
        respondent=[f"p{i // 25}" for i in range(1000)],
        directorate=["A" if i < 500 else "B" for i in range(1000)],
        labels=["blame_defensiveness" if (i // 25) % 2 else "" for i in range(1000)],
    )
    out = _fake_run(tmp_path / "run", units, {"survey.csv": "csv"})
    page = write_report(out, by="directorate", n_boot=200).read_text()
    assert "resample whole documents" in page
    by_rows = pd.read_csv(out / "report_by_directorate.csv")
    assert set(by_rows["resampled"]) == {"doc_id"}
    page = write_report(out, by="directorate", n_boot=200, cluster="respondent").read_text()
    assert "clusters of the <code>respondent</code> column" in page
    clustered = pd.read_csv(out / "report_by_directorate.csv").set_index("directorate")
    assert set(clustered["resampled"]) == {"respondent"} and set(clustered["clusters"]) == {20}
    width = clustered["blame_defensiveness_rate_hi"] - clustered["blame_defensiveness_rate_lo"]
    assert (width > 25).all()  # comment-level resampling gives about 8 points
    with pytest.raises(ValueError, match="cluster-column 'nope'"):
        write_report(out, cluster="nope")


def test_report_highlights_with_the_lexicon_of_the_model_that_scored(tmp_path):
    import json

    from lo_signals.models import model_dir

    units = pd.DataFrame({"doc_id": "d", "path": "a.txt", "page": "", "text": ["Staff were blamed for the error"],
                          "labels": ["blame_defensiveness"], "aspirations": ""})
    out = _fake_run(tmp_path / "run", units, {"a.txt": "txt"})
    assert "<mark" in write_report(out, n_boot=0).read_text()  # no model recorded: the packaged lexicon
    # A model fitted with a lexicon that has no blame patterns, recorded in run.json.
    shipped = model_dir("default")
    own = tmp_path / "model"
    own.mkdir()
    lexicon = json.loads((shipped / "lexicon.json").read_text())
    lexicon["labels"]["blame_defensiveness"] = [e for e in lexicon["labels"]["blame_defensiveness"] if "blam" not in e["pattern"]]
    (own / "lexicon.json").write_text(json.dumps(lexicon))
    meta = json.loads((shipped / "meta.json").read_text())
    import hashlib

    meta["lexicon"]["sha256"] = hashlib.sha256((own / "lexicon.json").read_bytes()).hexdigest()
    (own / "meta.json").write_text(json.dumps(meta))
    (out / "run.json").write_text(json.dumps({"model": {"path": str(own)}}))
    assert "<mark" not in write_report(out, n_boot=0).read_text()


def test_report_says_how_far_to_trust_the_rates(tmp_path):
    """The report leads with the model's precision at natural prevalence and warns per register of the run."""
    import re

    from lo_signals import score_folder
    from lo_signals.models import read_meta, save
    from lo_signals.report import write_report

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "comments.txt").write_text(
        "Staff who raised concerns were labelled troublemakers and moved to nights.\n\n"
        "The juniors run the teaching sessions and the consultants learn from them.\n", encoding="utf-8")
    out = tmp_path / "out"
    score_folder([docs], out)
    html = write_report(out).read_text(encoding="utf-8")
    trust = html[html.index('id="trust"'):html.index('id="profile"')]
    measured = read_meta(lo_signals.load().path_)["natural_prevalence"]
    weighted = measured["all"]["precision_flag_weighted"]
    assert f"{100 * weighted:.0f}%" in re.sub(r"<[^>]+>", "", trust)
    assert "trust-registers" in trust
    # A register measured under 60% gets a caution.
    low = lo_signals.load()
    table = {**measured, "per_register": {r: {**v, "precision": 0.1, "ci95": [0.0, 0.3]} for r, v in measured["per_register"].items()}}
    low.meta_ = {**low.meta_, "natural_prevalence": table}
    html = write_report(out, model=low).read_text(encoding="utf-8")
    assert "Caution" in html[html.index('id="trust"'):html.index('id="profile"')]
    # A model that records no such measurement gets a plain warning instead.
    bare = lo_signals.load()
    bare.meta_ = {k: v for k, v in bare.meta_.items() if k != "natural_prevalence"}
    html = write_report(out, model=bare).read_text(encoding="utf-8")
    trust = html[html.index('id="trust"'):html.index('id="profile"')]
    assert "records no precision measured on unseen real documents" in trust
