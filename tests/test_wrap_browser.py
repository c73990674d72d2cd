"""Long texts wrap in a real browser: a title of one very long word, a long formula and a long author list neither
widen the page on a phone (375 px) or a desktop, nor the emailed digest at 320 px.

Marked slow and browser (a server and Debian's headless Chromium); skipped where chromium or chromedriver is missing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from recommender.digest import render_html
from recommender.sources import read_listing, to_jsonl
from tests.test_browser import CHROMEDRIVER, CHROMIUM, _picks, _serving, _wait_for, server  # noqa: F401
from tests.test_cards_browser import phone as browser  # noqa: F401
from tests.test_digest import _section, _vote
from tests.test_web import _write_home

WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 2  # 90 letters and no place to break
FORMULA = "$" + " + ".join(f"\\alpha_{{{i}}} x_{{{i}}}^2" for i in range(12)) + "$"
SIZES = [(375, 740), (1280, 900)]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="needs Debian's chromium"),
]


def _size(driver, width: int, height: int) -> None:
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def _too_wide(driver) -> list[str]:
    """The elements whose right edge is past the viewport's (those a clipping box hides aside), and 'scrollWidth'
    when the page scrolls sideways."""
    script = (
        "const clipped = e => { for (let a = e.parentElement; a; a = a.parentElement)"
        " if (getComputedStyle(a).overflowX !== 'visible') return true; return false; };"
        "const wide = Array.from(document.querySelectorAll('body *'))"
        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5 && !clipped(e))"
        ".map(e => e.tagName.toLowerCase() + '.' + e.className);"
        "if (document.documentElement.scrollWidth > window.innerWidth) wide.push('scrollWidth');"
        "return wide;"
    )
    return driver.execute_script(script)


def _shown(driver) -> bool:
    """The page asked for is on screen: not the loading page that reloads itself, and not a reload still in flight
    (whose new document has no title yet: on a loaded machine a check can land between the two)."""
    ready = driver.execute_script("return document.readyState") == "complete"
    return ready and bool(driver.title) and "ranking" not in driver.title


def test_long_titles_formulas_and_author_lists_wrap_on_the_page(home, example_listing, tmp_path, browser):  # noqa: F811
    _write_home(home, example_listing)
    papers = [
        replace(
            p,
            title=f"{p.title} {WORD} {FORMULA}",
            authors=tuple(f"Author{i} Hyphenated-Longname" for i in range(300)),
        )
        for p in read_listing(example_listing).papers
    ]
    (home / "listings" / "cs.CV" / "2021-04-22.jsonl").write_text(to_jsonl(papers))
    with _serving(home, tmp_path) as (url, _):
        for width, height in SIZES:
            _size(browser, width, height)
            for page in ("/?profile=sr", "/history?profile=sr"):
                browser.get(url + page)
                today = page.startswith("/?")
                _wait_for(browser, lambda d, today=today: _shown(d) and (not today or len(_picks(d)) == 10))
                if today:
                    assert len(_picks(browser)) == 10
                    assert browser.find_elements("css selector", ".pick math")  # the formula is MathML
                # a phone zooms out to show a page wider than itself: its viewport grows past the screen's width
                assert (browser.execute_script("return window.innerWidth"), _too_wide(browser)) == (width, []), page
                # a short label keeps its words whole: a table squeezed for a long title breaks only the title
                lines = browser.execute_script(
                    "return Array.from(document.querySelectorAll('th, .btn, nav a'))"
                    ".map(e => [e.textContent.trim(), Math.round(e.getBoundingClientRect().height"
                    " / parseFloat(getComputedStyle(e).lineHeight))])"
                )
                assert [label for label, n in lines if n > 2] == [], (width, page)


@pytest.mark.parametrize("width", [320, 600])
def test_long_titles_wrap_in_the_digest(browser, tmp_path, width):  # noqa: F811
    texts = [f"{WORD} {FORMULA} a long title", "short"]
    html = render_html([_section(texts)], vote_link=_vote, now=datetime(2021, 1, 2, 7, 0))
    page = tmp_path / "digest.html"
    page.write_text(html, encoding="utf-8")
    _size(browser, width, 900)
    browser.get(page.as_uri())
    assert (browser.execute_script("return window.innerWidth"), _too_wide(browser)) == (width, [])


def test_every_page_reflows_at_320_css_pixels(server, browser):  # noqa: F811
    # 1.4.10 Reflow: 1280 px at 400 % zoom is 320 px, and nothing may need a sideways scroll there
    from recommender.signing import vote_token

    url, _ = server
    _size(browser, 320, 640)
    pages = ["/?profile=sr", "/sharpen?profile=sr", "/profile?profile=sr", "/history?profile=sr", "/new", "/x"]
    for page in [*pages, f"/vote/{vote_token('sr', '2104.10642', 'dislike')}"]:
        browser.get(url + page)
        _wait_for(browser, _shown)
        assert (browser.execute_script("return window.innerWidth"), _too_wide(browser)) == (320, []), page


def test_buttons_and_the_category_groups_are_targets_of_24_pixels(server, browser):  # noqa: F811
    # 2.5.8 Target Size: a group's summary line, stacked on the next with no gap between, is one of these
    url, _ = server
    for width, height in [(320, 640), *SIZES]:
        _size(browser, width, height)
        for page in ("/?profile=sr", "/profile?profile=sr", "/new"):
            browser.get(url + page)
            _wait_for(browser, _shown)
            small = browser.execute_script(
                "return Array.from(document.querySelectorAll('.btn, #category-picker summary'))"
                ".filter(e => e.getClientRects().length).map(e => e.getBoundingClientRect())"
                ".filter(r => r.width < 24 || r.height < 24).map(r => [r.width, r.height])"
            )
            assert small == [], (width, page)


def test_the_day_in_the_heading_stays_on_one_line(server, browser):  # noqa: F811
    # a phone breaks "2021-04-22" at a hyphen when the profile's name fills the line; the day reads whole
    url, _ = server
    script = (
        "const h = document.querySelector('h1'); const at = h.textContent.lastIndexOf('2021-04-22');"
        "const walker = document.createTreeWalker(h, NodeFilter.SHOW_TEXT); let node, seen = 0;"
        "while ((node = walker.nextNode()) && seen + node.length <= at) seen += node.length;"
        "const range = document.createRange(); range.setStart(node, at - seen); range.setEnd(node, at - seen + 10);"
        "return new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top))).size;"
    )
    for width in (320, 340, 360, 375, 390):
        _size(browser, width, 740)
        browser.get(url + "/?profile=med")
        _wait_for(browser, lambda d: _shown(d) and len(_picks(d)) == 10)
        assert browser.execute_script(script) == 1, width


def test_each_shortcut_stays_on_the_line_of_its_key(server, browser):  # noqa: F811
    # "u" at a line's end and "undo" at the next one's start reads as two things
    url, _ = server
    script = (
        "return Array.from(document.querySelectorAll('.keys kbd')).filter(k => k.nextSibling"
        " && k.nextSibling.nodeType === 3 && k.nextSibling.textContent.trim()).map(k => {"
        "const text = k.nextSibling, word = text.textContent.match(/^\\s*\\S+/)[0];"
        "const range = document.createRange();"
        "range.setStart(text, word.search(/\\S/)); range.setEnd(text, word.length);"
        "const r = range.getClientRects()[0], box = k.getBoundingClientRect();"
        "return [k.textContent, r.top < box.bottom && r.bottom > box.top]; })"
        ".filter(([, same]) => !same).map(([key]) => key);"
    )
    for width in range(320, 480, 10):
        _size(browser, width, 740)
        browser.get(url + "/?profile=med")
        _wait_for(browser, lambda d: _shown(d) and len(_picks(d)) == 10)
        assert browser.execute_script(script) == [], width
