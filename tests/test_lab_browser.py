"""Two lab users in Debian's Chromium on one `paperrec serve --users`: each logs in and votes, neither reaches the
other's profile, and the shared cache embeds each paper of their common day once. axe-core checks the login page, a
failed login and a logged-in Today page."""

from __future__ import annotations

import pytest

from recommender import users
from recommender.profile import load_profile
from recommender.sources import read_listing, to_jsonl
from tests.test_browser import CHROMEDRIVER, CHROMIUM, _picks, _serving, _verdicts, _wait_for, browser  # noqa: F401
from tests.test_lab import ada_alone
from tests.test_web import REPO

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="needs Debian's chromium"),
]


def _log_in(driver, url: str, name: str, secret: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{url}/?profile=sr")
    _wait_for(driver, lambda d: d.find_elements(By.ID, "log-in"))  # every page asks for a login first
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "secret").send_keys(secret)
    driver.find_element(By.ID, "log-in").click()


def test_two_users_vote_apart_and_share_one_embedding_per_paper(home, example_listing, tmp_path, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    listing = read_listing(example_listing)
    folder = home / "listings" / "cs.CV"
    folder.mkdir(parents=True)
    (folder / "2021-04-22.jsonl").write_text(to_jsonl(listing.papers))
    secrets, files = {}, {}
    for name, source in (("ada", "super-resolution"), ("bob", "medical-segmentation")):
        secrets[name] = users.add_user(name)
        profiles = home / "users" / name / "profiles"
        files[name] = profiles / "sr.toml"  # the same profile name for both: still two files
        files[name].write_text((REPO / "profiles" / f"{source}.toml").read_text())
        (profiles / f"{name}-only.toml").write_text((REPO / "profiles" / f"{source}.toml").read_text())
    before = {name: load_profile(path).ids for name, path in files.items()}
    log = tmp_path / "encoded.txt"
    voted = {}
    with _serving(home, tmp_path, options=("--users",), PAPERREC_TEST_ENCODE_LOG=str(log)) as (url, _):
        for name, other in (("ada", "bob"), ("bob", "ada")):
            _log_in(browser, url, name, secrets[name])
            _wait_for(browser, lambda d: len(_picks(d)) == 10)
            tabs = " ".join(a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, ".tabs a"))
            assert f"profile={name}-only" in tabs and f"{other}-only" not in tabs
            first = _picks(browser)[0]
            voted[name] = first.get_attribute("data-id")
            first.find_element(By.CSS_SELECTOR, 'form[data-action="like"] button').click()
            _wait_for(browser, lambda d, arxiv_id=voted[name]: arxiv_id in _verdicts(d))
            browser.get(f"{url}/profile?profile={other}-only")
            assert browser.find_element(By.TAG_NAME, "h1").text == "404"
            browser.get(f"{url}/profile?profile=sr")
            _wait_for(browser, lambda d: d.find_elements(By.ID, "log-out"))
            browser.find_element(By.ID, "log-out").click()
            _wait_for(browser, lambda d: d.find_elements(By.ID, "log-in"))
    for name, path in files.items():
        assert load_profile(path).ids - before[name] == {voted[name]}  # each vote in its own user's file only
    encoded = log.read_text().splitlines()
    assert len(encoded) == len(set(encoded))  # no text embedded twice, across both users
    common = " ".join(listing.papers[0].title.split())
    assert sum(common in line for line in encoded) == 1  # a paper both users ranked: embedded once for the lab


def test_the_login_page_and_a_lab_users_page_pass_axe(home, example_listing, tmp_path, browser):  # noqa: F811
    pytest.importorskip("axe_selenium_python")
    from selenium.webdriver.common.by import By

    from tests.test_accessibility import _check

    secret = ada_alone(home, example_listing)
    found: dict[str, list[str]] = {}
    with _serving(home, tmp_path, options=("--users",)) as (url, _):
        browser.get(f"{url}/login")
        _wait_for(browser, lambda d: d.find_elements(By.ID, "log-in"))
        _check(browser, "the login page", found)
        _log_in(browser, url, "ada", "wrong secret")
        _wait_for(browser, lambda d: d.find_elements(By.ID, "message"))
        _check(browser, "a failed login", found)
        _log_in(browser, url, "ada", secret)
        _wait_for(browser, lambda d: len(_picks(d)) == 10)
        _check(browser, "Today, logged in", found)
    failures = {page: lines for page, lines in found.items() if lines}
    assert not failures, "\n".join(f"{page}:\n  " + "\n  ".join(lines) for page, lines in failures.items())
