"""OpenReview: a venue's public submissions of a day from the API v2 notes, paged, never a private note."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.schema import TemporaryFailure, UsageError
from recommender.sources import http, openreview
from recommender.sources.http import NetworkError, PoliteClient, TemporaryNetworkError
from recommender.sources.openreview import check_venue, fetch_listing, parse_notes

from .fixture_apis import note, openreview_route, serving

DAY = date(2026, 12, 4)
VENUE = "ICLR.cc/2027/Conference"
NOW = {"now": datetime(2026, 12, 5, 12, tzinfo=UTC)}


def client() -> PoliteClient:
    notes: list[str] = []
    made = PoliteClient(
        name="OpenReview", notify=notes.append, sleep=lambda s: None, share_spacing=False, backoff=0.0, min_interval=0
    )
    made.notes = notes  # type: ignore[attr-defined]
    return made


def test_a_page_of_notes_is_parsed_to_public_papers():
    answer = {"notes": [note(1, DAY), note(2, DAY, public=False), {"id": "x"}, note(3, DAY, title="")], "count": 4}
    parsed, count = parse_notes(json.dumps(answer))
    assert count == 4 and [created for _, created in parsed] == [DAY, DAY, None, DAY]
    papers = [paper for paper, _ in parsed if paper is not None]
    assert len(papers) == 1  # the private note, the note without content and the untitled one are left out
    paper = papers[0]
    assert paper.arxiv_id == "openreview:Forum000001" and paper.authors == ("Grace1 Hopper", "Alan Turing")
    assert paper.categories == ("graph transformers", "sparse attention") and paper.date == DAY
    assert paper.links == ("https://openreview.net/forum?id=Forum000001", "https://openreview.net/pdf?id=Forum000001")
    assert paper.url == "https://openreview.net/forum?id=Forum000001"


def test_a_version_1_note_with_bare_fields_is_read_too():
    bare = note(5, DAY)
    bare["content"] = {"title": "Bare title", "abstract": "Bare abstract.", "authors": ["A B"]}
    (paper, _), *_ = parse_notes(json.dumps({"notes": [bare]}))[0]
    assert paper.title == "Bare title" and paper.abstract == "Bare abstract."


def test_venues_are_checked():
    assert check_venue(" ICLR.cc/2026/Conference/ ") == "ICLR.cc/2026/Conference" and check_venue("TMLR") == "TMLR"
    for bad in ("ICLR.cc/../x", "a b", "", "a//b"):
        with pytest.raises(UsageError, match="not an OpenReview venue id"):
            check_venue(bad)


def test_a_day_is_the_public_notes_created_on_it_across_pages(home, monkeypatch):
    monkeypatch.setattr(openreview, "PAGE_SIZE", 4)
    notes = [note(n, DAY) for n in range(10)] + [note(50, DAY, public=False)]
    notes += [note(100 + n, date(2026, 12, 3)) for n in range(9)]  # the day before: paging stops at them
    with serving(openreview_route({VENUE: notes})) as server, client() as polite:
        listing, _ = fetch_listing([VENUE], DAY, client=polite, base_url=server.url + "/notes", **NOW)
    assert len(listing) == 10 and listing.date == DAY
    assert len(server.paths) == 3 and "sort=cdate%3Adesc" in server.paths[0]
    assert (home / "listings" / "openreview" / "ICLR.cc%2F2027%2FConference" / "2026-12-04.jsonl").is_file()


@pytest.mark.parametrize(
    ("faults", "error", "says"),
    [
        (["429"], None, "OpenReview busy (HTTP 429), retry 1/4"),
        (["truncated"], None, "the connection to OpenReview broke"),
        (["503"] * 5, TemporaryNetworkError, "OpenReview is unavailable (HTTP 503) after 5 tries"),
        (["malformed"], TemporaryFailure, "OpenReview's answer: invalid JSON"),
        (["redirect"], NetworkError, "outside OpenReview: refused"),
    ],
)
def test_faults_are_retried_or_one_line_naming_openreview(home, faults, error, says):
    with serving(openreview_route({VENUE: [note(1, DAY)]})) as server, client() as polite:
        server.faults = list(faults)
        if error is None:
            listing, _ = fetch_listing([VENUE], DAY, client=polite, base_url=server.url + "/notes", **NOW)
            assert len(listing) == 1 and any(says in line for line in polite.notes), polite.notes
        else:
            with pytest.raises(error, match=re.escape(says)):
                fetch_listing([VENUE], DAY, client=polite, base_url=server.url + "/notes", **NOW)


def test_the_command_line_names_openreview_when_it_is_down(home, monkeypatch):
    monkeypatch.setattr(openreview, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(http, "DEFAULT_BACKOFF", 0.0)
    with serving(openreview_route({})) as server:
        monkeypatch.setattr(openreview, "API_URL", server.url + "/notes")
        server.faults = ["503"] * 5
        result = CliRunner().invoke(app, ["fetch", f"openreview:{VENUE}", "--date", "2026-12-04"])
    assert result.exit_code == 75 and "OpenReview is unavailable (HTTP 503)" in result.stderr
