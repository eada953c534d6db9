"""The HTML report: self-contained, complete, and checked in a real headless browser."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

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


def test_report_in_headless_chromium(scored, tmp_path):
    pytest.importorskip("selenium")
    found = _browser()
    if found is None:
        pytest.skip("no Chromium: apt-get install chromium chromium-driver failed or is not allowed here")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    path = write_report(scored, by="directorate", n_boot=50)
    opts = webdriver.ChromeOptions()
    opts.binary_location = found[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,2000"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(found[1]), options=opts)
    try:
        driver.get(Path(path).as_uri())
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
        assert len(driver.find_elements(By.CSS_SELECTOR, "#profile-chart svg")) == 1
        assert len(driver.find_elements(By.CSS_SELECTOR, "#gap-chart svg")) == 1
        assert len(driver.find_elements(By.CSS_SELECTOR, "#evidence mark")) >= 1
        # Sorting the file table by status puts "error" first.
        table = driver.find_element(By.ID, "file-table")
        table.find_elements(By.TAG_NAME, "th")[1].click()
        first = table.find_element(By.CSS_SELECTOR, "tbody tr td:nth-child(2)").text
        assert first == "error"
        shot = tmp_path / "report.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
    finally:
        driver.quit()
