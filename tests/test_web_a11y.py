"""What a screen reader or a keyboard meets on the served pages, read from their HTML (WCAG 2.2 AA).

Each button that acts on one paper names that paper, so a list of buttons is not twenty alike ("like", "like", …),
and each page offers a skip link to its main content. The measures a browser needs are in test_accessibility.py.
"""

from __future__ import annotations

import re

from tests.test_web import REPO, _page, _post, client, sr  # noqa: F401


def _by_id(root) -> dict[str, object]:
    return {e.attrib["id"]: e for e in root.iter() if "id" in e.attrib}


def _text(element) -> str:
    """The words a screen reader reads: those under aria-hidden are not."""

    def words(e) -> list[str]:
        if e.attrib.get("aria-hidden") == "true":
            return [e.tail or ""]
        return [e.text or ""] + [w for child in e for w in words(child)] + [e.tail or ""]

    return " ".join("".join(words(element)[:-1]).split())


def _name(button, ids: dict[str, object]) -> str:
    """The button's accessible name as aria-labelledby gives it (its own text where it has none)."""
    labelled = button.attrib.get("aria-labelledby")
    if not labelled:
        return _text(button)
    return " ".join(_text(ids[i]) for i in labelled.split())


def _card_names(root) -> dict[str, tuple[str, list[str]]]:
    """Each card's title and the names of its buttons."""
    ids = _by_id(root)
    found = {}
    for card in (d for d in root.iter("div") if "pick" in d.attrib.get("class", "").split()):
        title = next(e for e in card.iter() if "title" in e.attrib.get("class", "").split())
        found[card.attrib["data-id"]] = (_text(title), [_name(b, ids) for b in card.iter("button")])
    return found


def test_each_vote_button_names_its_paper(client):  # noqa: F811
    _, root = _page(client)
    cards = _card_names(root)
    assert len(cards) == 10
    for title, names in cards.values():
        assert names == [f"like {title}", f"not interested {title}"]


def test_the_undo_buttons_name_their_paper(client):  # noqa: F811
    _, root = _page(client)
    first = next(iter(_card_names(root)))
    assert _post(client, "/rate", id=first, action="like").status_code == 303
    _, root = _page(client)
    title, names = _card_names(root)[first]
    assert names == [f"undo {title}"]
    ids = _by_id(root)
    undo_last = next(ids["undo-last"].iter("button"))
    assert _name(undo_last, ids) == f"undo the last vote (like) {title}"


def test_the_profile_buttons_name_their_paper(client):  # noqa: F811
    _, root = _page(client, "/profile?profile=sr")
    ids = _by_id(root)
    rows = [r for r in ids["liked-rows"].iter("tr")]
    assert rows
    for row in rows:
        title = _text(row.find("td"))
        title = title.rsplit(" ", 1)[0]  # without the date it was added
        names = [_name(b, ids) for b in row.iter("button")]
        assert names == [f"move to not interested {title}", f"remove {title}"]


def test_every_page_starts_with_a_skip_link_to_its_main_content(client):  # noqa: F811
    for url in ("/?profile=sr", "/sharpen?profile=sr", "/profile?profile=sr", "/history?profile=sr", "/new"):
        _, root = _page(client, url)
        body = root.find("body")
        first = next(body.iter("a"))
        assert _text(first) == "Skip to main content", url
        target = _by_id(root)[first.attrib["href"].removeprefix("#")]
        assert target.tag == "main", url


def test_today_holds_a_status_line_that_says_the_last_vote(client):  # noqa: F811
    _, root = _page(client)
    said = _by_id(root)["vote-said"]  # empty, and present before any vote: a live region must exist to be heard
    assert (said.attrib.get("role"), _text(said), said.attrib.get("data-said")) == ("status", "", None)
    first = next(iter(_card_names(root)))
    assert _post(client, "/rate", id=first, action="dislike").status_code == 303
    _, root = _page(client)
    title, _ = _card_names(root)[first]
    said = _by_id(root)["vote-said"]
    # the page's script writes it in once the page is shown after the vote, so a screen reader reads it out
    assert (_text(said), said.attrib["data-said"]) == ("", f"Not interested: {title}.")


def test_each_card_is_a_heading_under_the_pages_one_h1(client):  # noqa: F811
    # a screen reader's heading keys go from card to card, as the eye does from title to title
    for url in ("/?profile=sr", "/sharpen?profile=sr"):
        _, root = _page(client, url)
        assert len(list(root.iter("h1"))) == 1, url
    _, root = _page(client)
    headings = [e for e in root.iter() if e.attrib.get("role") == "heading"]
    cards = _card_names(root)
    assert len(headings) == len(cards) == 10
    for heading, (title, _) in zip(headings, cards.values(), strict=True):
        assert heading.attrib["aria-level"] == "2"
        assert _text(heading).endswith(title)


def test_the_lines_that_follow_a_job_are_status_lines(sr):  # noqa: F811
    # the page's script rewrites them as the job goes on: a screen reader hears each change (WCAG 4.1.3)
    from recommender.schema import TemporaryFailure
    from tests.test_web import _client, _service, _wait

    def unreachable(categories, day=None, include_cross=False):
        raise TemporaryFailure("arXiv did not answer (offline?)")

    with _client(fetch=unreachable) as offline:
        for action, job in (("/fetch", "fetch"), ("/sharpen", f"sharpen {sr.resolve()}")):
            assert _post(offline, action).status_code == 303
            _wait(_service(offline).jobs[job])
        assert _post(offline, "/profile/backtest").status_code == 303
        for url, line in (("/sharpen?profile=sr", "sharpen-status"), ("/profile?profile=sr", "backtest-status")):
            _, root = _page(offline, url)
            ids = _by_id(root)
            assert ids[line].attrib.get("role") == "status", line
            assert ids["fetch-status"].attrib.get("role") == "status", url
    loading = (REPO / "recommender" / "templates" / "web" / "loading.html").read_text()
    assert re.search(r'<p [^>]*id="loading"[^>]*role="status"', loading)


def test_the_menu_and_the_profile_tabs_say_which_is_current(client):  # noqa: F811
    # bold and underlined to the eye; aria-current to a screen reader
    _, root = _page(client, "/profile?profile=sr")
    nav = root.find(".//nav")
    assert [_text(a) for a in nav.iter("a") if a.attrib.get("aria-current") == "page"] == ["Profile"]
    tabs = next(d for d in root.iter("div") if d.attrib.get("class") == "tabs")
    current = [a for a in tabs.iter("a") if a.attrib.get("aria-current") == "page"]
    assert [a.attrib["class"] for a in current] == ["here"] and "profile=sr" in current[0].attrib["href"]
