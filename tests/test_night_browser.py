"""The served pages on a phone in dark mode: Debian's headless Chromium at 390 px with prefers-color-scheme emulated.
Today is dark, every text on it keeps 4.5:1, and the taps of every morning (nav links, vote buttons, the Profile
page's category boxes) are at least 24 px each way, and 40 px tall (a box with its label's row). The History page's
search field shows its placeholder whole.

Marked slow and browser; skipped where chromium or chromedriver is missing.
"""

from __future__ import annotations

import pytest

from tests.test_browser import CHROMEDRIVER, CHROMIUM, _picks, _wait_for, server  # noqa: F401
from tests.test_cards_browser import PHONE
from tests.test_cards_browser import phone as browser  # noqa: F401
from tests.test_digest_browser import CONTRAST

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="needs Debian's chromium"),
]

MIN = 24  # px, WCAG 2.2's 2.5.8 Target Size (Minimum)
PHONE_TAP = 40  # px: on a phone, the taps of every morning are this tall or more

# The smallest width and height among the shown elements a selector finds, and how many it found.
SMALLEST = """
const shown = Array.from(document.querySelectorAll(arguments[0])).filter(e => e.getClientRects().length);
const boxes = shown.map(e => e.getBoundingClientRect());
return {found: shown.length, width: Math.min(...boxes.map(b => b.width)),
        height: Math.min(...boxes.map(b => b.height))};
"""

# The placeholder's width in the field's own font, and the room the field's padding leaves for it.
PLACEHOLDER = """
const field = document.querySelector(arguments[0]), style = getComputedStyle(field);
const pen = document.createElement('canvas').getContext('2d');
pen.font = style.font;
return {text: pen.measureText(field.placeholder).width,
        room: field.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)};
"""


def _smallest(driver, selector: str) -> dict:
    seen = driver.execute_script(SMALLEST, selector)
    assert seen["found"], selector
    return seen


def _not_wider_than_the_phone(driver) -> None:
    assert driver.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]


def test_a_phone_in_dark_mode_gets_dark_readable_pages_with_big_enough_taps(server, browser):  # noqa: F811
    url, _ = server
    dark = {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", dark)
    browser.get(f"{url}/?profile=sr")
    _wait_for(browser, lambda d: len(_picks(d)) == 10)  # the loading page reloads itself until the day is ranked
    seen = browser.execute_script(CONTRAST)
    assert seen["body"] < 0.05, seen["body"]  # the page's background is dark
    assert {"h1.", "p.small", "a.title", "mark.", "p.meta", "span.standing"} <= set(seen["texts"]), seen["texts"]
    low = {key: ratio for key, ratio in seen["texts"].items() if ratio < 4.5}  # WCAG AA for body text
    assert low == {}, seen["texts"]
    for selector in ("nav a", ".actions .btn"):
        found = _smallest(browser, selector)
        assert found["width"] >= MIN and found["height"] >= PHONE_TAP, (selector, found)
    _not_wider_than_the_phone(browser)

    browser.get(f"{url}/profile?profile=sr")
    boxes = _smallest(browser, "#category-picker input[type=checkbox]")  # those of the open groups
    assert boxes["width"] >= MIN and boxes["height"] >= MIN, boxes
    rows = _smallest(browser, "#category-picker li label")  # a box and its words are one target
    assert rows["height"] >= PHONE_TAP, rows
    _not_wider_than_the_phone(browser)

    browser.get(f"{url}/history?profile=sr")
    placeholder = browser.execute_script(PLACEHOLDER, "input[type=search]")
    assert placeholder["text"] <= placeholder["room"], placeholder  # not cut off
    _not_wider_than_the_phone(browser)
