"""Every tap target of a pick is at least 24 px tall on a 390 px phone (WCAG 2.5.8), on the page and in the digest:
Debian's headless Chromium measures each link, button and toggle of a card.

Marked slow and browser; skipped where chromium or chromedriver is missing.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from recommender.digest import render_html
from tests.test_browser import CHROMEDRIVER, CHROMIUM, _picks, _wait_for, server  # noqa: F401
from tests.test_cards_browser import PHONE
from tests.test_cards_browser import phone as browser  # noqa: F401
from tests.test_digest import _section, _vote

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="needs Debian's chromium"),
]

MIN = 24  # px, WCAG 2.2's 2.5.8 Target Size (Minimum)

# Each target of each card: what it is, its text, and its box. A title that wraps is measured line by line.
TARGETS = """
const found = [];
for (const card of document.querySelectorAll('div.pick')) {
  for (const e of card.querySelectorAll('a, button, summary')) {
    if (!e.getClientRects().length) continue;
    const boxes = Array.from(e.getClientRects());
    found.push({what: (e.className || e.tagName.toLowerCase()) + ' ' + e.textContent.trim().slice(0, 30),
                parent: e.parentElement.className, height: Math.min(...boxes.map(b => b.height)),
                width: Math.min(...boxes.map(b => b.width))});
  }
}
return {targets: found, wide: document.documentElement.scrollWidth};
"""


def _small(seen: dict) -> list[dict]:
    return [target for target in seen["targets"] if target["height"] < MIN]


def test_every_target_of_a_card_on_the_page_is_24_px_tall_on_a_phone(server, browser):  # noqa: F811
    url, _ = server
    browser.get(f"{url}/?profile=sr")
    _wait_for(browser, lambda d: len(_picks(d)) == 10)
    seen = browser.execute_script(TARGETS)
    kinds = {target["parent"] for target in seen["targets"]}
    assert {"facts", "because"} <= kinds and any(t["what"].startswith("summary") for t in seen["targets"]), kinds
    assert _small(seen) == [] and seen["wide"] <= PHONE[0], seen


def test_every_target_of_a_card_in_the_digest_is_24_px_tall_on_a_phone(browser, tmp_path):  # noqa: F811
    page = tmp_path / "digest.html"
    page.write_text(render_html([_section(["A title", "Another one"])], vote_link=_vote, now=datetime(2021, 1, 2, 7)))
    browser.get(page.as_uri())
    seen = browser.execute_script(TARGETS)
    assert any("PDF" in t["what"] for t in seen["targets"]) and any("abstract" in t["what"] for t in seen["targets"])
    assert _small(seen) == [] and seen["wide"] <= PHONE[0], seen
