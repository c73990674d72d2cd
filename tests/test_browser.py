"""A real browser on a running `paperrec serve`: Debian's headless Chromium likes pick #3 with a click and the next
pick with the keyboard; the profile file and the re-ranked page are checked, and screenshots saved.

Marked slow (it starts a server and a browser, ~10 s); skipped where /usr/bin/chromium or chromedriver is missing.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from recommender.profile import load_profile
from tests.test_web import COMMENT, _write_home

REPO = Path(__file__).resolve().parent.parent
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="needs Debian's chromium"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(home, example_listing, tmp_path):
    profile = _write_home(home, example_listing)
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.web_launcher", str(port)],
        cwd=REPO,
        env={**os.environ, "PAPERREC_HOME": str(home)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/status", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((tmp_path / "server.log").read_text()) from None
                time.sleep(0.1)
        yield url, profile
    finally:
        process.terminate()  # ours, by its pid
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium'}",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _picks(driver):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, "div.pick")


def _wait_for(driver, condition, timeout: float = 30):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # A vote reloads the page: elements found just before the reload go stale; the next poll finds the new ones.
    ignored = (StaleElementReferenceException,)
    return WebDriverWait(driver, timeout, poll_frequency=0.1, ignored_exceptions=ignored).until(condition)


def _verdicts(driver) -> dict[str, str]:
    from selenium.webdriver.common.by import By

    found = {}
    for pick in _picks(driver):
        spans = pick.find_elements(By.CSS_SELECTOR, ".verdict")
        if spans:
            found[pick.get_attribute("data-id")] = spans[0].text
    return found


def test_triage_with_mouse_and_keyboard(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, profile = server
    browser.get(f"{url}/?profile=sr")
    _wait_for(browser, lambda d: len(_picks(d)) == 10)  # the loading page reloads itself until the day is ranked
    before = [p.get_attribute("data-id") for p in _picks(browser)]

    # pick #3 with a click
    third = before[2]
    _picks(browser)[2].find_element(By.CSS_SELECTOR, 'form[data-action="like"] button').click()
    _wait_for(browser, lambda d: third in _verdicts(d))
    assert third in {p.paper.arxiv_id for p in load_profile(profile).liked}

    # the page came back focused on the pick after it (#4); j moves on to #5, l likes it
    _wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "div.pick.current"))
    assert browser.find_element(By.CSS_SELECTOR, "div.pick.current").get_attribute("data-id") == before[3]
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("j")
    target = browser.find_element(By.CSS_SELECTOR, "div.pick.current").get_attribute("data-id")
    assert target == before[4]
    body.send_keys("l")
    _wait_for(browser, lambda d: target in _verdicts(d))
    liked = {p.paper.arxiv_id for p in load_profile(profile).liked}
    assert {third, target} <= liked
    assert profile.read_text().startswith(COMMENT)

    # the re-ranked page: #1-#5 stayed where they were, two votes shown, the rest refilled to ten
    after = [p.get_attribute("data-id") for p in _picks(browser)]
    assert after[:5] == before[:5] and len(after) == 10 and len(set(after)) == 10
    assert _verdicts(browser) == {third: "👍 liked", target: "👍 liked"}
    ranks = [p.find_element(By.CSS_SELECTOR, ".rank").text for p in _picks(browser)]
    assert ranks == [f"{n}." for n in range(1, 11)]

    # u takes back the last vote
    browser.find_element(By.TAG_NAME, "body").send_keys("u")
    _wait_for(browser, lambda d: target not in _verdicts(d))
    assert target not in load_profile(profile).ids and third in load_profile(profile).ids

    # the inline script ran under the CSP (no violation reported), and nothing was fetched from elsewhere
    messages = [entry["message"] for entry in browser.get_log("browser")]
    assert not [m for m in messages if "Content Security Policy" in m or "Refused" in m], messages
    assert browser.execute_script("return document.querySelectorAll('script').length") == 1

    # screenshots at phone and desktop widths
    browser.get(f"{url}/?profile=sr")
    _wait_for(browser, lambda d: len(_picks(d)) == 10)
    for name, width, height in (("phone", 390, 1800), ("desktop", 1280, 1400)):
        browser.set_window_size(width, height)
        _wait_for(browser, lambda d, width=width: d.execute_script("return window.innerWidth") == width)
        shot = tmp_path / f"serve-today-{name}.png"  # never into the checkout (benchmarks/screens.py keeps some)
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
        width_now = browser.execute_script("return document.documentElement.scrollWidth")
        assert width_now <= browser.execute_script("return window.innerWidth") + 1  # nothing wider than the phone
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ESCAPE)  # keys the page does not use do nothing
    assert len(_picks(browser)) == 10
