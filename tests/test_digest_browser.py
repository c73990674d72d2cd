"""The HTML digest as a mail reader in dark mode shows it: Debian's headless Chromium with prefers-color-scheme
emulated. Dark mode gives a dark page, and every text keeps a readable contrast in both schemes.

Marked slow and browser; skipped where chromium or chromedriver is missing.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from recommender.digest import render_html
from tests.test_browser import CHROMEDRIVER, CHROMIUM
from tests.test_cards_browser import phone as browser  # noqa: F401
from tests.test_digest import _section, _vote

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="needs Debian's chromium"),
]

# Each text's colour against the first opaque background behind it, as WCAG's contrast ratio (1 to 21).
CONTRAST = """
const rgb = c => c.match(/[\\d.]+/g).map(Number);
const lum = c => { const [r, g, b] = rgb(c).slice(0, 3).map(v => { v /= 255;
  return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
const behind = e => { for (; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor;
  if (rgb(c).length < 4 || rgb(c)[3] > 0) return c; } return 'rgb(255, 255, 255)'; };
const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
const found = {};
for (const e of document.querySelectorAll('body *')) {
  if (!Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim())) continue;
  const key = e.tagName.toLowerCase() + '.' + e.className;
  const r = ratio(getComputedStyle(e).color, behind(e));
  found[key] = Math.min(found[key] ?? 99, Math.round(r * 10) / 10);
}
return {body: lum(behind(document.body)), texts: found};
"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_digest_is_readable_in_light_and_dark_mode(browser, tmp_path, scheme):  # noqa: F811
    html = render_html(
        [_section(["A title", "Another one"]), _section(["Other profile"])],
        vote_link=_vote,
        now=datetime(2021, 1, 2, 7, 0),
        note="The like and not-interested links open only on the computer that runs paperrec serve.",
    )
    page = tmp_path / "digest.html"
    page.write_text(html, encoding="utf-8")
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]}
    )
    browser.get(page.as_uri())
    seen = browser.execute_script(CONTRAST)
    assert (seen["body"] < 0.05) == (scheme == "dark"), seen["body"]  # the page's own background follows the mode
    assert {"a.title", "mark.", "p.meta", "span.standing"} <= set(seen["texts"]), seen["texts"]
    low = {key: ratio for key, ratio in seen["texts"].items() if ratio < 4.5}  # WCAG AA for body text
    assert low == {}, seen["texts"]
