"""The digest as it is sent: `today --email` to a local SMTP server, its HTML part parsed from the message received,
then drawn in Debian's headless Chromium at 390 px wide. Its height is bounded per pick, and every link is checked.

Marked slow and browser; skipped where chromium, chromedriver or aiosmtpd is missing.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.signing import read_vote_token
from tests.test_browser import CHROMEDRIVER, CHROMIUM

# smtp_server, smtp_handler: test_email_cli's fixtures (a local aiosmtpd), used by name as test arguments below
from tests.test_email_cli import _setup, smtp_handler, smtp_server  # noqa: F401

PHONE = (390, 844)
CARD = 0.4 * PHONE[1]  # the bound on one card without its abstract, in CSS px
OLD_EMAIL_PER_PICK = 19_000 / 20  # the 20-pick digest before the triage card: 19,000 px at phone width
PICKS = 20

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="needs Debian's chromium"),
]


@pytest.fixture
def phone(tmp_path):
    from tests.test_cards_browser import _chromium

    driver = _chromium(tmp_path / "chromium")  # the viewport 390x844
    try:
        yield driver
    finally:
        driver.quit()


def _sent_html(home, liked_jsonl, port: int, received: list[bytes]) -> str:
    """The HTML part of the one digest `today --email --top 20` sent."""
    _setup(home, liked_jsonl, port)
    result = CliRunner().invoke(app, ["today", "--email", "--top", str(PICKS)])
    assert result.exit_code == 0, result.output
    (raw,) = received
    message = message_from_bytes(raw, policy=policy.default)
    return message.get_body(("html",)).get_content()


def test_the_sent_digest_on_a_phone_is_compact_and_its_links_are_safe(
    home,
    liked_jsonl,
    fake_model,
    fake_arxiv,
    smtp_server,  # noqa: F811
    phone,
    tmp_path,
):
    port, received = smtp_server
    html = _sent_html(home, liked_jsonl, port, received)
    page = tmp_path / "digest.html"  # in the test's own folder, never the checkout
    page.write_text(html, encoding="utf-8")
    phone.get(page.as_uri())

    assert phone.execute_script("return window.innerWidth") == PHONE[0]
    assert phone.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]  # nothing wider
    cards = phone.execute_script(
        "return Array.from(document.querySelectorAll('.pick')).map(p => p.getBoundingClientRect().height)"
    )
    height = phone.execute_script("return document.documentElement.scrollHeight")
    assert len(cards) == PICKS
    # each pick about as compact as a card on the page; the margin is for another chromium's font metrics
    assert max(cards) <= 1.15 * CARD, cards
    assert height <= PICKS * CARD, height  # the heading and the foot fit within the cards' allowance
    assert height <= PICKS * OLD_EMAIL_PER_PICK / 3, height  # at most a third of the old digest's height

    # Every link: http(s) or mailto, as the browser resolves it (a relative one would resolve to this file).
    links = phone.execute_script("return Array.from(document.querySelectorAll('[href]')).map(a => a.href)")
    assert links and all(urlsplit(href).scheme in ("http", "https", "mailto") for href in links), links
    assert not [href for href in links if str(home) in href or ".toml" in href or str(tmp_path) in href]
    assert not phone.execute_script("return document.querySelectorAll('[src]').length")  # nothing is fetched

    votes = [href for href in links if "/vote/" in href]
    assert len(votes) == 2 * PICKS  # like and not interested on every pick
    tokens = [read_vote_token(urlsplit(href).path.rsplit("/", 1)[1]) for href in votes]  # each one signed
    assert {(t.profile, t.by_path) for t in tokens} == {("sr", False)}  # the profile's name, never a path
    assert {t.action for t in tokens} == {"like", "dislike"}
    per_card = phone.execute_script(
        "return Array.from(document.querySelectorAll('.pick')).map(p => [p.dataset.id,"
        " Array.from(p.querySelectorAll('a[href*=\"/vote/\"]')).map(a => a.href)])"
    )
    for arxiv_id, hrefs in per_card:  # each card's two links vote on that card's paper
        signed = [read_vote_token(urlsplit(href).path.rsplit("/", 1)[1]) for href in hrefs]
        assert sorted((t.arxiv_id, t.action) for t in signed) == [(arxiv_id, "dislike"), (arxiv_id, "like")]
