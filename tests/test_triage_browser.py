"""Triage ten picks in a real browser at phone and desktop size: five by keyboard, five by tapping the vote buttons.

The buttons are touch-sized: at least 44x44 CSS px at phone width (WCAG 2.5.5, the size a thumb hits without
missing its neighbour), and at least WCAG 2.5.8's 24x24 minimum at desktop width, where a mouse points. On the
phone the ten picks, abstracts closed, take at most five screen heights of scrolling. The page that confirms a vote
from the digest has a touch-sized button too.

Marked slow and browser (a server and Debian's headless Chromium); skipped where chromium or chromedriver is missing.
"""

from __future__ import annotations

import pytest

from recommender.profile import load_profile

# server: test_browser's fixture (a `paperrec serve` on the example day), used by name as a test argument below
from tests.test_browser import CHROMEDRIVER, CHROMIUM, _picks, _verdicts, _wait_for, server  # noqa: F401
from tests.test_cards_browser import _chromium, _rect

PHONE, DESKTOP = (390, 844), (1280, 900)
TOUCH = {PHONE: 44, DESKTOP: 24}  # the smallest side of a vote button, in CSS px
MAX_SCROLL = 5  # screen heights of scrolling through ten picks on the phone

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="needs Debian's chromium"),
]


def screens_of_scrolling(driver, picks: int = 10) -> float:
    """How many screen heights one scrolls to read the first `picks` cards: from the first screen to the last card's
    bottom, in the viewport's heights."""
    script = (
        "const cards = document.querySelectorAll('.pick');"
        "const last = cards[Math.min(arguments[0], cards.length) - 1];"
        "return (last.getBoundingClientRect().bottom + window.scrollY) / window.innerHeight - 1;"
    )
    return float(driver.execute_script(script, picks))


def _tap(driver, element) -> None:
    """A touch on the element's middle: a finger's pointer down and up, as a phone's browser sends it."""
    from selenium.webdriver.common.actions import interaction
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.pointer_input import PointerInput

    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    finger = PointerInput(interaction.POINTER_TOUCH, "finger")
    actions = ActionBuilder(driver, mouse=finger)
    actions.pointer_action.move_to(element).pointer_down().pointer_up()
    actions.perform()


def _current(driver) -> str:
    from selenium.webdriver.common.by import By

    found = _wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".pick.current"))
    return found[0].get_attribute("data-id")


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_ten_picks_triaged_by_keyboard_and_by_touch(server, tmp_path, size):  # noqa: F811
    from selenium.webdriver.common.by import By

    url, profile = server
    driver = _chromium(tmp_path / "chromium")
    try:
        metrics = {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        driver.get(f"{url}/?profile=sr")
        _wait_for(driver, lambda d: len(_picks(d)) == 10)  # the loading page reloads itself until the day is ranked
        assert driver.execute_script("return [window.innerWidth, window.innerHeight]") == list(size)
        scrolling = screens_of_scrolling(driver)
        if size == PHONE:
            assert scrolling <= MAX_SCROLL, f"ten picks take {scrolling:.1f} screens of scrolling"
        for card in _picks(driver):
            for button in card.find_elements(By.CSS_SELECTOR, ".actions button"):
                box = _rect(button)
                assert min(box["width"], box["height"]) >= TOUCH[size], (button.text, box)
        votes: dict[str, str] = {}

        # #1 to #5 by keyboard: j takes the first, then each vote comes back with the next pick current
        driver.find_element(By.TAG_NAME, "body").send_keys("j")
        for n in range(5):
            target = _current(driver)
            assert target == [p.get_attribute("data-id") for p in _picks(driver)][n]
            key, verdict = ("l", "👍 liked") if n % 2 == 0 else ("d", "👎 not interested")
            driver.find_element(By.TAG_NAME, "body").send_keys(key)
            _wait_for(driver, lambda d, target=target: target in _verdicts(d))
            votes[target] = verdict

        # #6 to #10 by touch, on buttons of at least the touch size
        for n in range(5, 10):
            card = _picks(driver)[n]
            target = card.get_attribute("data-id")
            action = "like" if n % 2 == 0 else "dislike"
            button = card.find_element(By.CSS_SELECTOR, f'form[data-action="{action}"] button')
            assert min(_rect(button)["width"], _rect(button)["height"]) >= TOUCH[size]
            _tap(driver, button)
            _wait_for(driver, lambda d, target=target: target in _verdicts(d))
            votes[target] = "👍 liked" if action == "like" else "👎 not interested"

        shown = _verdicts(driver)
        assert shown == votes and len(votes) == 10
        assert [p.get_attribute("data-id") for p in _picks(driver)][:10] == list(votes)  # in the order triaged
        saved = load_profile(profile)
        liked = {p.paper.arxiv_id for p in saved.liked}
        disliked = {p.paper.arxiv_id for p in saved.disliked}
        assert {i for i, v in votes.items() if v.endswith("liked")} <= liked
        assert {i for i, v in votes.items() if v.endswith("interested")} <= disliked
        assert driver.execute_script("return document.documentElement.scrollWidth") <= size[0]  # nothing wider
    finally:
        driver.quit()


def test_the_emailed_vote_is_confirmed_with_a_touch_sized_button(server, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By

    from recommender.signing import vote_url

    url, profile = server
    driver = _chromium(tmp_path / "chromium")  # a phone: the digest's vote link opens from its mail app
    try:
        driver.get(vote_url(url, "sr", "2104.10642", "like"))
        button = _wait_for(driver, lambda d: d.find_elements(By.ID, "confirm"))[0]
        box = _rect(button)
        assert min(box["width"], box["height"]) >= TOUCH[PHONE], box
        _tap(driver, button)
        _wait_for(driver, lambda d: d.find_elements(By.ID, "done"))
        assert "2104.10642" in {p.paper.arxiv_id for p in load_profile(profile).liked}
    finally:
        driver.quit()
