"""axe-core on every page of `paperrec serve` in Debian's headless Chromium: no "serious" or "critical" violation.

The pages: Today (latest and a picked day, after a failed fetch so its status line shows), Sharpen with its batch,
Profile, History, New profile, the created profile's report, the email's vote page (asked and recorded), the error
page, the welcome page of a first start and the loading page.
axe-core comes with the axe-selenium-python package (axe-core 3.1 where Python is 3.11). PAPERREC_TEST_AXE names
another axe.min.js to run instead (4.x also weighs a card's opacity in colour contrast). The results stay in memory:
nothing is written into the checkout (the package's write_results is never called).

Marked slow and browser; skipped where chromium, chromedriver or the axe package is missing.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

# browser: test_browser's fixture (headless Chromium), used by name as a test argument below
from tests.test_browser import (  # noqa: F401
    CHROMEDRIVER,
    CHROMIUM,
    REPO,
    _free_port,
    _picks,
    _serving,
    _until,
    _wait_for,
    browser,
)
from tests.test_web import _write_home

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="needs Debian's chromium"),
]

axe_module = pytest.importorskip("axe_selenium_python")  # the dev extra's axe-core, driven through selenium
FAILING = ("serious", "critical")


def _violations(driver) -> list[dict]:
    """axe-core's violations on the page shown, as axe reports them (its own checks, all rules it runs by default)."""
    script = os.environ.get("PAPERREC_TEST_AXE")
    axe = axe_module.Axe(driver, script) if script else axe_module.Axe(driver)
    axe.inject()
    results = axe.run(options=json.dumps({"resultTypes": ["violations"]}))
    return results["violations"]


def _serious(violations: list[dict]) -> list[str]:
    """One line per serious or critical violation: the rule, its help and the first elements it found."""
    return [
        f"{v['impact']} {v['id']}: {v['help']} — " + ", ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in violations
        if v["impact"] in FAILING
    ]


def _check(driver, name: str, found: dict[str, list[str]]) -> None:
    """Run axe on the page shown and keep its serious and critical findings under the page's name."""
    landmark = [] if driver.find_elements("css selector", "main") else ["no <main> landmark"]
    found[name] = landmark + _serious(_violations(driver))


def _write_second_day(home: Path) -> None:
    """The example day stored again as the day before, so Today offers a day picker and a picked day exists."""
    folder = home / "listings" / "cs.CV"
    shutil.copy(folder / "2021-04-22.jsonl", folder / "2021-04-21.jsonl")


def test_no_page_has_a_serious_or_critical_violation(home, example_listing, tmp_path, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    from recommender.signing import vote_token

    found: dict[str, list[str]] = {}
    _write_home(home, example_listing)
    _write_second_day(home)
    unreachable = f"http://127.0.0.1:{_free_port()}"  # a closed port: the fetch fails, and its line shows
    with _serving(home, tmp_path, PAPERREC_TEST_ARXIV=unreachable) as (url, process):
        browser.get(f"{url}/?profile=sr")
        _wait_for(browser, lambda d: len(_picks(d)) == 10)
        browser.find_element(By.CSS_SELECTOR, "form[action='/fetch'] button").click()
        # Ended, not only failed: a page shown while the fetch still runs reloads when it ends, under a later check.
        _until(browser, process, lambda d: d.find_elements(By.CSS_SELECTOR, "#fetch-status.failed:not([data-job])"))
        browser.get(f"{url}/?profile=sr")
        _wait_for(browser, lambda d: len(_picks(d)) == 10)
        browser.find_elements(By.CSS_SELECTOR, 'form[data-action="like"] button')[0].click()  # a verdict and undo
        _wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".verdict"))
        _check(browser, "Today", found)
        browser.set_window_size(390, 844)
        _check(browser, "Today at phone width", found)
        browser.set_window_size(1280, 900)

        browser.get(f"{url}/?profile=sr&day=2021-04-21")
        _wait_for(browser, lambda d: len(_picks(d)) == 10 and d.find_elements(By.ID, "stale"))
        _check(browser, "a picked day", found)

        browser.get(f"{url}/sharpen?profile=sr")
        browser.find_element(By.ID, "suggest").click()
        _until(browser, process, lambda d: len(_picks(d)) == 10)
        _check(browser, "Sharpen", found)

        for name, page in (("Profile", "/profile?profile=sr"), ("History", "/history?profile=sr")):
            browser.get(f"{url}{page}")
            _check(browser, name, found)
        browser.get(f"{url}/no-such-page")
        assert browser.find_element(By.TAG_NAME, "h1").text == "404"
        _check(browser, "the error page", found)

        browser.get(f"{url}/vote/{vote_token('sr', '2104.10642', 'dislike')}")
        _check(browser, "the vote page", found)
        browser.find_element(By.ID, "confirm").click()
        _wait_for(browser, lambda d: d.find_elements(By.ID, "done"))
        _check(browser, "the vote page, recorded", found)

        browser.get(f"{url}/new")
        _check(browser, "New profile", found)
        browser.find_element(By.ID, "name").send_keys("vision")
        browser.find_element(By.ID, "new-interests").send_keys("video super-resolution")
        browser.find_element(By.ID, "create").click()
        _wait_for(browser, lambda d: d.find_elements(By.ID, "import-report"))
        _check(browser, "the new profile's report", found)

    first = tmp_path / "first"  # a first start: a stored day and no profile yet
    folder = first / "listings" / "cs.CV"
    folder.mkdir(parents=True)
    shutil.copy(home / "listings" / "cs.CV" / "2021-04-22.jsonl", folder)
    # Each batch the model encodes takes a minute: the loading page stays until the axe check is done.
    with _serving(first, tmp_path, PAPERREC_TEST_ENCODE_DELAY="60") as (url, _):
        browser.get(url)
        _wait_for(browser, lambda d: d.find_elements(By.ID, "new-profile"))
        _check(browser, "the welcome page", found)
        (first / "profiles").mkdir()
        shutil.copy(REPO / "profiles" / "super-resolution.toml", first / "profiles" / "sr.toml")
        browser.get(f"{url}/?profile=sr")
        _wait_for(browser, lambda d: d.find_elements(By.ID, "loading"))
        _check(browser, "the loading page", found)
        assert browser.find_elements(By.ID, "loading")  # still the loading page: the check saw it

    assert len(found) == 13
    failures = {page: lines for page, lines in found.items() if lines}
    assert not failures, "\n".join(f"{page}:\n  " + "\n  ".join(lines) for page, lines in failures.items())
