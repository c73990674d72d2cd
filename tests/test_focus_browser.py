"""Focus and a page's state in a real browser. The reason and facts lines clip what is too long for them, yet a link
on them that takes the keyboard's focus shows its whole ring; j and k move the focus with the current pick; and a
page that follows a job says when the server stops answering.

Marked slow and browser (a server and Debian's headless Chromium); skipped where chromium or chromedriver is missing.
"""

from __future__ import annotations

import pytest

# server: test_browser's fixture (a `paperrec serve` on the example day), used by name as a test argument below
from tests.test_browser import CHROMEDRIVER, CHROMIUM, _picks, _wait_for, server  # noqa: F401
from tests.test_cards_browser import phone as browser  # noqa: F401

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="needs Debian's chromium"),
]

# The focused link's ring (its box grown by the outline's offset and width) and the box of its clipping line.
RING = """
const link = document.activeElement, line = link.closest('.because, .facts');
if (!line) return null;
const style = getComputedStyle(link), grow = parseFloat(style.outlineOffset) + parseFloat(style.outlineWidth);
const r = link.getBoundingClientRect(), box = line.getBoundingClientRect();
return {line: line.className, scrolled: line.scrollLeft, style: style.outlineStyle, width: style.outlineWidth,
        inside: r.top - grow >= box.top - 0.5 && r.bottom + grow <= box.bottom + 0.5
                && r.left - grow >= box.left - 0.5 && Math.min(r.right + grow, box.right) <= box.right + 0.5};
"""


def test_a_focused_link_on_a_clipped_line_shows_its_whole_ring(server, browser):  # noqa: F811
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    url, _ = server
    browser.set_window_size(1000, 800)
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.get(f"{url}/?profile=sr")
    _wait_for(browser, lambda d: len(_picks(d)) == 10)
    rings = []
    for _ in range(40):  # Tab through the first cards: each link on a clipped line takes the focus in turn
        ActionChains(browser).send_keys(Keys.TAB).perform()
        ring = browser.execute_script(RING)
        if ring:
            rings.append(ring)
    assert {r["line"] for r in rings} == {"because", "facts"}, rings
    for ring in rings:  # a ring is drawn, wholly inside its line (and the line shows its start)
        assert ring["style"] != "none" and ring["width"] != "0px", ring
        assert (ring["inside"], ring["scrolled"]) == (True, 0), ring


def test_the_keys_move_the_focus_with_the_current_pick(server, browser):  # noqa: F811
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, _ = server
    browser.get(f"{url}/?profile=sr")
    _wait_for(browser, lambda d: len(_picks(d)) == 10)
    ids = [p.get_attribute("data-id") for p in _picks(browser)]
    focused = "return document.activeElement.closest('.pick')?.dataset.id ?? document.activeElement.tagName"
    ActionChains(browser).send_keys("jj").perform()
    assert browser.find_element(By.CSS_SELECTOR, ".pick.current").get_attribute("data-id") == ids[1]
    assert browser.execute_script(focused) == ids[1]  # the focus is where the page shows it
    ActionChains(browser).send_keys(Keys.TAB).perform()  # Tab goes on from the current pick: its title first
    assert browser.execute_script("return document.activeElement.className") == "title"
    assert browser.execute_script(focused) == ids[1]
    ActionChains(browser).send_keys("d").perform()  # a vote comes back with the next pick current, and focused
    _wait_for(browser, lambda d: d.execute_script(focused) == ids[2])


def test_a_page_following_a_job_says_when_the_server_stops_answering(home, example_listing, tmp_path, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    from tests.test_browser import _serving, _until
    from tests.test_web import _write_home

    _write_home(home, example_listing)
    with _serving(home, tmp_path, PAPERREC_TEST_ENCODE_DELAY="5") as (url, process):
        browser.get(f"{url}/?profile=sr")
        _until(browser, process, lambda d: d.find_elements(By.CSS_SELECTOR, "#loading[data-job]"))
        process.terminate()  # ours: the server stops (a laptop asleep, a lab server restarted) mid-ranking
        process.wait(10)
        _wait_for(browser, lambda d: "does not answer" in d.find_element(By.ID, "loading").text)
    # not a status line frozen at its last words, as if the ranking still went on
    assert browser.find_element(By.ID, "loading").text.startswith("paperrec serve does not answer")


def test_a_vote_is_said_in_the_status_line_and_the_focus_goes_to_the_next_pick(server, browser):  # noqa: F811
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    url, _ = server
    browser.get(f"{url}/?profile=sr")
    _wait_for(browser, lambda d: len(_picks(d)) == 10)
    ids = [p.get_attribute("data-id") for p in _picks(browser)]
    titles = [t.text for t in browser.find_elements(By.CSS_SELECTOR, ".pick .title")]
    said = "return document.getElementById('vote-said').textContent"
    focused = "return document.activeElement.closest('.pick')?.dataset.id ?? document.activeElement.id"
    assert browser.execute_script(said) == ""
    browser.find_elements(By.CSS_SELECTOR, 'form[data-action="like"] button')[0].click()
    _wait_for(browser, lambda d: d.execute_script(said) == f"Liked: {titles[0]}.")
    assert browser.execute_script(focused) == ids[1]  # the status line is heard; the focus stays on the next pick
    browser.refresh()  # a reload is no vote: nothing is said again
    _wait_for(browser, lambda d: len(_picks(d)) == 10 and d.execute_script(focused) == ids[1])
    assert browser.execute_script(said) == ""
    ActionChains(browser).send_keys("u").perform()  # the key undoes it: the undone pick is focused, and that is said
    _wait_for(browser, lambda d: d.execute_script(said) == f"Vote undone: {titles[0]}.")
    assert browser.execute_script(focused) == ids[0]


def test_the_first_tab_shows_the_skip_link_and_it_skips_the_menu(server, browser):  # noqa: F811
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    url, _ = server
    browser.get(f"{url}/history?profile=sr")
    box = "const r = document.activeElement.getBoundingClientRect(); return [r.left, r.top, r.width, r.height];"
    ActionChains(browser).send_keys(Keys.TAB).perform()
    assert browser.execute_script("return document.activeElement.textContent") == "Skip to main content"
    left, top, width, height = browser.execute_script(box)
    assert left >= 0 and top >= 0 and width >= 24 and height >= 24  # in sight while it has the focus
    ActionChains(browser).send_keys(Keys.ENTER).send_keys(Keys.TAB).perform()
    assert browser.execute_script("return document.activeElement.closest('main') !== null")  # past the menu
    # out of sight again once the focus has left it
    assert browser.execute_script("return document.querySelector('a.skip').getBoundingClientRect().right") <= 0


def test_a_sharpen_vote_is_said_in_the_status_line_as_on_today(home, example_listing, tmp_path, browser):  # noqa: F811
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    from tests.test_browser import _serving, _until
    from tests.test_web import _write_home

    _write_home(home, example_listing)
    said = "return document.getElementById('vote-said').textContent"
    with _serving(home, tmp_path) as (url, process):
        browser.get(f"{url}/sharpen?profile=sr")
        browser.find_element(By.ID, "suggest").click()
        _until(browser, process, lambda d: len(_picks(d)) == 10)
        titles = [t.text for t in browser.find_elements(By.CSS_SELECTOR, ".pick .title")]
        assert browser.execute_script(said) == ""
        browser.find_elements(By.CSS_SELECTOR, 'form[data-action="dislike"] button')[1].click()
        _wait_for(browser, lambda d: d.execute_script(said) == f"Not interested: {titles[1]}.")
        browser.refresh()  # a reload is no vote: nothing is said again
        _wait_for(browser, lambda d: len(_picks(d)) == 10)
        assert browser.execute_script(said) == ""
        ActionChains(browser).send_keys("u").perform()  # undo from the card the vote came back to
        _wait_for(browser, lambda d: d.execute_script(said) == f"Vote undone: {titles[1]}.")
