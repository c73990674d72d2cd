"""A real browser on a running `paperrec serve`: Debian's headless Chromium likes pick #3 with a click and the next
pick with the keyboard; the profile file and the re-ranked page are checked, and screenshots saved.

Marked slow (it starts a server and a browser, ~10 s); skipped where /usr/bin/chromium or chromedriver is missing.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from recommender.profile import load_profile
from recommender.sources import read_listing, to_jsonl
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


@contextlib.contextmanager
def _serving(home: Path, tmp_path: Path, token: str | None = None, options: tuple[str, ...] = (), **env: str):
    """`paperrec serve` in a process of its own (the fake model; env may point arXiv elsewhere): (url, process).
    Without a token it runs with --no-token; options are more of serve's (e.g. --users)."""
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.web_launcher", str(port), *([] if token else ["--no-token"]), *options],
        cwd=REPO,
        env={**os.environ, "PAPERREC_HOME": str(home), **env, **({"PAPERREC_TOKEN": token} if token else {})},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    ready = urllib.request.Request(f"{url}/status", headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        deadline = time.monotonic() + 300  # ends only a start that is stuck, however loaded the machine
        while True:
            try:
                with urllib.request.urlopen(ready, timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((tmp_path / "server.log").read_text()) from None
                time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()  # ours, by its pid
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def server(home, example_listing, tmp_path):
    profile = _write_home(home, example_listing)
    with _serving(home, tmp_path) as (url, _):
        yield url, profile


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


def _wait_for(driver, condition, timeout: float = 300):
    from selenium.common.exceptions import JavascriptException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # A vote reloads the page: elements found just before the reload go stale (or a script runs as the page goes);
    # the next poll finds the new ones. The timeout only ends a test that is stuck, on a machine however loaded.
    ignored = (StaleElementReferenceException, JavascriptException)
    return WebDriverWait(driver, timeout, poll_frequency=0.1, ignored_exceptions=ignored).until(condition)


def _verdicts(driver) -> dict[str, str]:
    # Read in one script, so a vote's reload between reading a pick and its verdict cannot leave a stale element.
    return driver.execute_script(
        "const found = {};"
        "for (const pick of document.querySelectorAll('div.pick')) {"
        "  const verdict = pick.querySelector('.verdict');"
        "  if (verdict) found[pick.dataset.id] = verdict.innerText;"
        "}"
        "return found;"
    )


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


@pytest.fixture
def bare_server(home, example_listing, tmp_path):
    """A server on a home with a stored cs.CV day and no profile: the first start of a new user."""
    folder = home / "listings" / "cs.CV"
    folder.mkdir(parents=True)
    (folder / "2021-04-22.jsonl").write_text(to_jsonl(read_listing(example_listing).papers))
    with _serving(home, tmp_path) as (url, _):
        yield url


def test_onboard_a_new_profile_by_uploading_bibtex_then_vote(bare_server, browser, home):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    library = REPO / "tests" / "fixtures" / "imports" / "library.bib"
    browser.set_window_size(390, 844)
    browser.get(bare_server)
    _wait_for(browser, lambda d: d.find_elements(By.ID, "new-profile"))
    commands = browser.find_element(By.CSS_SELECTOR, "pre.commands")
    assert browser.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", commands)
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")

    browser.find_element(By.ID, "name").send_keys("vision")
    browser.find_element(By.ID, "library").send_keys(str(library))
    browser.find_element(By.NAME, "offline").click()  # as 'profile new --offline': no arXiv lookups in a test
    search = browser.find_element(By.ID, "category-search")
    search.send_keys("computer vision")  # the search box filters the taxonomy
    shown = [li for li in browser.find_elements(By.CSS_SELECTOR, "#category-picker li") if li.is_displayed()]
    assert [li.find_element(By.TAG_NAME, "code").text for li in shown] == ["cs.CV"]
    shown[0].find_element(By.TAG_NAME, "label").click()
    search.send_keys(Keys.CONTROL, "a")
    search.send_keys("eess.IV", Keys.ENTER)  # a code typed whole ticks its box, and Enter does not submit
    ticked = browser.find_element(By.CSS_SELECTOR, '#category-picker input[value="eess.IV"]')
    _wait_for(browser, lambda d: ticked.is_selected())
    assert search.get_attribute("value") == "" and shown[0].is_displayed()  # the list is whole again, cs.CV in view
    browser.find_element(By.ID, "create").click()

    report = _wait_for(browser, lambda d: d.find_elements(By.ID, "import-report"))[0].text
    assert report.startswith("vision: 13 papers added to liked") and "follows no arXiv category" not in report
    profile_path = home / "profiles" / "vision.toml"
    assert load_profile(profile_path).categories == ("cs.CV", "eess.IV")

    browser.find_element(By.ID, "go-today").click()
    _wait_for(browser, lambda d: len(_picks(d)) == 10)  # the loading page reloads itself until the day is ranked
    first = _picks(browser)[0]
    target = first.get_attribute("data-id")
    first.find_element(By.CSS_SELECTOR, 'form[data-action="like"] button').click()
    _wait_for(browser, lambda d: target in _verdicts(d))
    assert target in {p.paper.arxiv_id for p in load_profile(profile_path).liked}
    messages = [entry["message"] for entry in browser.get_log("browser")]
    assert not [m for m in messages if "Content Security Policy" in m or "Refused" in m], messages


# Seconds: far beyond any loaded machine's need; it only ends a wait that would never end (lower it to hunt a hang).
UNTIL_LIMIT = float(os.environ.get("PAPERREC_TEST_UNTIL_LIMIT") or 900)


def _until(driver, process, condition, limit: float = UNTIL_LIMIT):
    """Poll the page until the condition holds, however long a loaded machine takes; a server that died ends the
    wait, and so does a wait past `limit`, with the page's text and the server's threads in the failure."""
    from selenium.common.exceptions import StaleElementReferenceException

    deadline = time.monotonic() + limit
    while True:
        try:
            found = condition(driver)
        except StaleElementReferenceException:  # the page reloaded under us: ask the new one
            found = None
        if found:
            return found
        assert process.poll() is None, "the server stopped"
        if time.monotonic() > deadline:
            raise AssertionError(_stuck(driver, process, limit))
        time.sleep(0.05)


def _stuck(driver, process, limit: float) -> str:
    """What a wait that never ended saw: the page's URL and text, and the server log with each thread's stack."""
    import signal

    from selenium.webdriver.common.by import By

    process.send_signal(signal.SIGUSR1)  # tests.web_launcher dumps every thread's stack into its log
    time.sleep(2)
    try:
        log = Path(os.readlink(f"/proc/{process.pid}/fd/1")).read_text(errors="replace")
    except OSError as error:
        log = f"(no server log: {error})"
    page = driver.find_element(By.TAG_NAME, "body").text
    return f"waited {limit:.0f} s on {driver.current_url}\npage:\n{page[:3000]}\nserver log:\n{log[-12000:]}"


def _text_of(driver, selector: str) -> str:
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.CSS_SELECTOR, selector)
    return found[0].text if found else ""


def test_a_failed_fetch_shows_its_reason_on_the_page(home, example_listing, tmp_path, browser):
    from selenium.webdriver.common.by import By

    _write_home(home, example_listing)
    unreachable = f"http://127.0.0.1:{_free_port()}"  # a closed port on this machine: arXiv is down
    with _serving(home, tmp_path, PAPERREC_TEST_ARXIV=unreachable) as (url, process):
        browser.get(f"{url}/?profile=sr")
        _wait_for(browser, lambda d: len(_picks(d)) == 10)
        browser.find_element(By.CSS_SELECTOR, "form[action='/fetch'] button").click()
        line = _until(browser, process, lambda d: "failed" in _text_of(d, "#fetch-status") and d)
        text = _text_of(line, "#fetch-status")
    assert "arXiv did not answer (offline?): Connection refused" in text, text
    assert "the stored 2021-04-22 is there: 'paperrec today --offline' ranks it" in text
    assert "profiles ranked" not in text
    assert "failed" in browser.find_element(By.ID, "fetch-status").get_attribute("class").split()
    assert "Not the latest: this is 2021-04-22" in _text_of(browser, "#stale")
    assert len(_picks(browser)) == 10  # the stored day is still there to triage


def test_sharpen_shows_its_batch_without_a_reload(home, example_listing, tmp_path, browser):
    from selenium.webdriver.common.by import By

    _write_home(home, example_listing)
    with _serving(home, tmp_path, PAPERREC_TEST_ENCODE_DELAY="1") as (url, process):
        browser.get(f"{url}/sharpen?profile=sr")
        browser.find_element(By.ID, "suggest").click()
        running = _until(browser, process, lambda d: d.find_elements(By.CSS_SELECTOR, "#sharpen-status[data-job]"))
        assert running  # the page came back while the batch was still being chosen, and follows it
        _until(browser, process, lambda d: len(_picks(d)) == 10)
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-job]")
    assert browser.find_element(By.ID, "suggest").text == "Suggest another batch"


def test_the_printed_address_logs_a_browser_in(home, example_listing, tmp_path, browser):
    """Without its token the page is a 401 that says how to get in; the address serve printed sets a cookie
    (HttpOnly, SameSite=Lax), drops the token from the address bar, and the page works from then on."""
    _write_home(home, example_listing)
    token = "browser-token-0123456789"
    with _serving(home, tmp_path, token=token) as (url, _):
        browser.get(f"{url}/?profile=sr")
        # On a loaded machine the 401's body can be read before the browser has it in the page: wait for it.
        _wait_for(browser, lambda d: "needs its token" in d.page_source)
        assert 'data-action="like"' not in browser.page_source
        printed = next(
            word for word in (tmp_path / "server.log").read_text().split() if word.startswith(f"{url}/?token=")
        )
        browser.get(printed.replace("/?", "/?profile=sr&"))
        assert "token" not in browser.current_url and browser.current_url.startswith(url)
        _wait_for(browser, lambda b: _picks(b))
        cookie = next(c for c in browser.get_cookies() if c["name"].startswith("paperrec_token"))
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["value"] == token


def test_serve_open_logs_the_browser_in_without_the_token_on_its_command_line(home, example_listing, tmp_path, browser):
    """`serve --open` starts the browser on a private file (every user can read a command line): from that file, a
    foreign page to the server, the browser still lands on the day's picks, logged in."""
    _write_home(home, example_listing)
    token = "browser-token-0123456789"
    started = tmp_path / "started"
    recorder = tmp_path / "browser.sh"
    recorder.write_text(f'#!/bin/sh\necho "$@" > {started}\n')
    recorder.chmod(0o700)
    with _serving(home, tmp_path, token=token, options=("--open",), BROWSER=f"{recorder} %s") as (url, _):
        _wait_for(browser, lambda _: started.exists() and started.read_text().strip(), timeout=60)
        argv = started.read_text().strip()
        page = Path(argv.removeprefix("file://"))
        assert token not in argv and argv.startswith("file:///") and page.stat().st_mode & 0o777 == 0o600
        browser.get(argv)
        _wait_for(browser, lambda b: b.current_url.startswith(url) and _picks(b))
        assert "token" not in browser.current_url and "another site" not in browser.page_source


def test_the_keyboard_shortcuts_can_be_turned_off_and_on(server, browser):
    # WCAG 2.1.4: a one-letter shortcut can be turned off; the page remembers the choice
    from selenium.webdriver.common.by import By

    url, profile = server
    browser.get(f"{url}/?profile=sr")
    _wait_for(browser, lambda d: len(_picks(d)) == 10)
    toggle = browser.find_element(By.ID, "keys-toggle")
    assert toggle.is_displayed() and toggle.text == "Keyboard shortcuts: on"
    toggle.click()
    assert toggle.text == "Keyboard shortcuts: off"

    browser.get(f"{url}/?profile=sr")  # remembered across pages
    _wait_for(browser, lambda d: len(_picks(d)) == 10)
    toggle = browser.find_element(By.ID, "keys-toggle")
    assert toggle.text == "Keyboard shortcuts: off"
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("j")  # a key's handler runs as the key is sent: had it acted, a pick would be current now
    assert not browser.find_elements(By.CSS_SELECTOR, "div.pick.current")

    toggle.click()
    assert toggle.text == "Keyboard shortcuts: on"
    body.send_keys("j")
    target = browser.find_element(By.CSS_SELECTOR, "div.pick.current").get_attribute("data-id")
    assert target == _picks(browser)[0].get_attribute("data-id")
    body.send_keys("l")
    _wait_for(browser, lambda d: target in _verdicts(d))
    assert target in {p.paper.arxiv_id for p in load_profile(profile).liked}
