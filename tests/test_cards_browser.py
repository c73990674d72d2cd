"""The triage card in a real browser: its height on a phone, the votes beside the title, and the abstract's toggle
working with JavaScript switched off.

Marked slow and browser (a server and Debian's headless Chromium); skipped where chromium or chromedriver is missing.
"""

from __future__ import annotations

import pytest

# server: test_browser's fixture (a `paperrec serve` on the example day), used by name as test arguments below
from tests.test_browser import CHROMEDRIVER, CHROMIUM, _picks, _wait_for, server  # noqa: F401

PHONE = (390, 844)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="needs Debian's chromium"),
]


def _chromium(folder, javascript: bool = True):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={folder}")
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    metrics = {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)  # the viewport itself, not the window
    return driver


@pytest.fixture
def phone(tmp_path):
    driver = _chromium(tmp_path / "chromium")
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def phone_without_script(tmp_path):
    driver = _chromium(tmp_path / "chromium-no-js", javascript=False)
    try:
        yield driver
    finally:
        driver.quit()


def _rect(element) -> dict[str, float]:
    return element.parent.execute_script("return arguments[0].getBoundingClientRect().toJSON()", element)


def test_a_card_without_its_abstract_fits_in_two_fifths_of_a_phone_screen(server, phone):  # noqa: F811
    from selenium.webdriver.common.by import By

    url, _ = server
    phone.get(f"{url}/?profile=sr")
    _wait_for(phone, lambda d: len(_picks(d)) == 10)  # the loading page reloads itself until the day is ranked
    assert phone.execute_script("return window.innerWidth") == PHONE[0]
    heights = [_rect(card)["height"] for card in _picks(phone)]
    assert max(heights) <= 0.4 * PHONE[1], heights
    assert phone.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]  # nothing wider
    for card in _picks(phone):
        heading = _rect(card.find_element(By.CSS_SELECTOR, ".heading"))
        like = _rect(card.find_element(By.CSS_SELECTOR, 'form[data-action="like"] button'))
        assert like["left"] >= heading["right"] and like["top"] < heading["bottom"]  # beside the title
        facts = card.find_element(By.CSS_SELECTOR, ".facts")
        assert _rect(facts)["height"] < 25  # authors, date, categories and links on one line
        assert not card.find_element(By.CSS_SELECTOR, "details.abstract p").is_displayed()


def test_the_abstract_opens_and_closes_without_javascript(server, phone_without_script):  # noqa: F811
    from selenium.webdriver.common.by import By

    driver = phone_without_script
    url, _ = server
    driver.get(f"{url}/?profile=sr")
    _wait_for(driver, lambda d: len(_picks(d)) == 10)  # the loading page's refresh is a meta tag, not a script
    card = _picks(driver)[0]
    abstract = card.find_element(By.CSS_SELECTOR, "details.abstract p")
    closed = _rect(card)["height"]
    assert not abstract.is_displayed()
    card.find_element(By.CSS_SELECTOR, "details.abstract summary").click()
    _wait_for(driver, lambda d: abstract.is_displayed())
    assert _rect(card)["height"] > closed + 50 and "super" in abstract.text.lower()
    card.find_element(By.CSS_SELECTOR, "details.abstract summary").click()
    _wait_for(driver, lambda d: not abstract.is_displayed())
    # the page's script did not run: the keyboard's j would have marked a card as current
    driver.find_element(By.TAG_NAME, "body").send_keys("j")
    assert not driver.find_elements(By.CSS_SELECTOR, ".pick.current")
