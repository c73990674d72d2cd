"""OpenReview: a venue's public submissions of a day from the API v2 notes, paged, never a private note, signed in."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.schema import TemporaryFailure, UsageError
from recommender.sources import http, openreview
from recommender.sources.http import NetworkError, PoliteClient, TemporaryNetworkError
from recommender.sources.once import asking_once
from recommender.sources.openreview import check_venue, fetch_listing, parse_notes

from .fixture_apis import (
    OPENREVIEW_EXPIRED,
    OPENREVIEW_ISSUED,
    OPENREVIEW_PASSWORD,
    OPENREVIEW_TOKEN,
    OPENREVIEW_USERNAME,
    ApiServer,
    biorxiv_route,
    note,
    openreview_route,
    posting,
    serving,
    whole_request,
)

DAY = date(2026, 12, 4)
VENUE = "ICLR.cc/2027/Conference"
NOW = {"now": datetime(2026, 12, 5, 12, tzinfo=UTC)}


@pytest.fixture
def signed_in(monkeypatch) -> str:
    """A valid token in $OPENREVIEW_TOKEN: the API answers note queries only to a signed-in client."""
    monkeypatch.setenv("OPENREVIEW_TOKEN", OPENREVIEW_TOKEN)
    return OPENREVIEW_TOKEN


@pytest.fixture
def account(monkeypatch) -> None:
    """The fake API's account in $OPENREVIEW_USERNAME and $OPENREVIEW_PASSWORD, and no token."""
    monkeypatch.setenv("OPENREVIEW_USERNAME", OPENREVIEW_USERNAME)
    monkeypatch.setenv("OPENREVIEW_PASSWORD", OPENREVIEW_PASSWORD)


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


def test_a_day_is_the_public_notes_created_on_it_across_pages(home, monkeypatch, signed_in):
    monkeypatch.setattr(openreview, "PAGE_SIZE", 4)
    notes = [note(n, DAY) for n in range(10)] + [note(50, DAY, public=False)]
    notes += [note(100 + n, date(2026, 12, 3)) for n in range(9)]  # the day before: paging stops at them
    with serving(openreview_route({VENUE: notes})) as server, client() as polite:
        listing, _ = fetch_listing([VENUE], DAY, client=polite, base_url=server.url + "/notes", **NOW)
    assert len(listing) == 10 and listing.date == DAY
    assert len(server.paths) == 3 and "sort=cdate%3Adesc" in server.paths[0]
    assert (home / "listings" / "openreview" / "ICLR.cc%2F2027%2FConference" / "2026-12-04.jsonl").is_file()


def test_each_paper_names_its_venue_as_openreview_shows_it(home, signed_in):
    poster = note(2, DAY, venue="ICLR 2027 Poster", venueid="ICLR.cc/2027/Conference")
    bare = note(3, DAY, venueid="TMLR")  # no venue line: the venue id is all the note says
    del bare["content"]["venue"]  # type: ignore[attr-defined]
    with serving(openreview_route({VENUE: [note(1, DAY), poster, bare]})) as server:
        listing = fetch(server)
    venues = {paper.arxiv_id: paper.venue for paper in listing.papers}
    assert venues == {
        "openreview:Forum000001": "ICLR 2027 Conference Submission",
        "openreview:Forum000002": "ICLR 2027 Poster",
        "openreview:Forum000003": "TMLR",
    }
    stored = home / "listings" / "openreview" / "ICLR.cc%2F2027%2FConference" / "2026-12-04.jsonl"
    assert {json.loads(line)["venue"] for line in stored.read_text(encoding="utf-8").splitlines()} == {
        "ICLR 2027 Conference Submission",
        "ICLR 2027 Poster",
        "TMLR",
    }


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
def test_faults_are_retried_or_one_line_naming_openreview(home, faults, error, says, signed_in):
    with serving(openreview_route({VENUE: [note(1, DAY)]})) as server, client() as polite:
        server.faults = list(faults)
        if error is None:
            listing, _ = fetch_listing([VENUE], DAY, client=polite, base_url=server.url + "/notes", **NOW)
            assert len(listing) == 1 and any(says in line for line in polite.notes), polite.notes
        else:
            with pytest.raises(error, match=re.escape(says)):
                fetch_listing([VENUE], DAY, client=polite, base_url=server.url + "/notes", **NOW)


def test_the_command_line_names_openreview_when_it_is_down(home, monkeypatch, signed_in):
    monkeypatch.setattr(openreview, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(http, "DEFAULT_BACKOFF", 0.0)
    with serving(openreview_route({})) as server:
        monkeypatch.setattr(openreview, "API_URL", server.url + "/notes")
        server.faults = ["503"] * 5
        result = CliRunner().invoke(app, ["fetch", f"openreview:{VENUE}", "--date", "2026-12-04"])
    assert result.exit_code == 75 and "OpenReview is unavailable (HTTP 503)" in result.stderr


# ---- signing in -----------------------------------------------------------------------------------------------------


def fetch(server: ApiServer, venues: tuple[str, ...] = (VENUE,)):
    with client() as polite:
        return fetch_listing(list(venues), DAY, client=polite, base_url=server.url + "/notes", **NOW)[0]


def sent(server: ApiServer, path: str = "/notes") -> list[dict[str, str]]:
    """The headers of each request to `path`."""
    return [request.headers for request in server.requests if request.path == path]


def fetch_command(monkeypatch, server: ApiServer, *more: str):
    monkeypatch.setattr(openreview, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(openreview, "API_URL", server.url + "/notes")
    return CliRunner().invoke(app, ["fetch", f"openreview:{VENUE}", "--date", "2026-12-04", *more])


def test_an_anonymous_client_is_asked_to_sign_in_in_one_line_naming_the_variables(home, monkeypatch):
    with serving(openreview_route({VENUE: [note(1, DAY)]})) as server:
        with pytest.raises(UsageError) as refused:
            fetch(server)
        result = fetch_command(monkeypatch, server)
    message = str(refused.value)
    assert message.startswith("OpenReview now asks API clients to sign in (HTTP 403, ChallengeRequiredError): ")
    assert all(name in message for name in ("OPENREVIEW_TOKEN", "OPENREVIEW_USERNAME", "OPENREVIEW_PASSWORD"))
    assert str(home / "openreview-token") in message and "chmod 600" in message
    assert "authorization" not in sent(server)[0]  # nothing to send: no header at all
    assert result.exit_code == 2 and result.stdout == ""  # a missing credential, as a missing Zotero key is
    assert result.stderr.splitlines() == [f"paperrec: error: {message}"]


def test_a_token_from_the_environment_goes_with_every_request(home, monkeypatch, signed_in):
    monkeypatch.setattr(openreview, "PAGE_SIZE", 2)
    notes = [note(n, DAY) for n in range(5)]
    with serving(openreview_route({VENUE: notes})) as server:
        listing = fetch(server)
    assert len(listing) == 5 and len(sent(server)) == 3  # three pages
    assert {headers["authorization"] for headers in sent(server)} == {f"Bearer {OPENREVIEW_TOKEN}"}
    assert not sent(server, "/login")


def test_a_token_may_say_bearer_itself(home, monkeypatch):
    monkeypatch.setenv("OPENREVIEW_TOKEN", f"Bearer {OPENREVIEW_TOKEN}\n")  # pasted as openreview-py accepts it
    with serving(openreview_route({VENUE: [note(1, DAY)]})) as server:
        assert len(fetch(server)) == 1
    assert sent(server)[0]["authorization"] == f"Bearer {OPENREVIEW_TOKEN}"


def test_a_token_file_is_read_when_private_and_refused_when_others_may_read_it(home, monkeypatch):
    from recommender.paths import openreview_token_path

    path = openreview_token_path()
    assert path == home / "openreview-token"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(OPENREVIEW_TOKEN + "\n")
    path.chmod(0o644)
    with serving(openreview_route({VENUE: [note(1, DAY)]})) as server:
        with pytest.raises(UsageError, match=re.escape(f"chmod 600 {path}")):
            fetch(server)
        assert not server.requests  # refused before anything was sent
        path.chmod(0o600)
        assert len(fetch(server)) == 1
    assert sent(server)[0]["authorization"] == f"Bearer {OPENREVIEW_TOKEN}"
    path.chmod(0o644)  # an offline run reads the stored day and never the credentials
    assert len(fetch_listing([VENUE], DAY, offline=True, **NOW)[0]) == 1


def test_a_token_file_pasted_with_bearer_sends_the_token(home):
    from recommender.paths import openreview_token_path

    path = openreview_token_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"\nBearer {OPENREVIEW_TOKEN}  \n")  # a blank line first, the header's word kept
    path.chmod(0o600)
    with serving(openreview_route({VENUE: [note(1, DAY)]})) as server:
        assert len(fetch(server)) == 1
    assert sent(server)[0]["authorization"] == f"Bearer {OPENREVIEW_TOKEN}"


def test_a_malformed_token_is_one_line_that_does_not_show_it(home, monkeypatch):
    monkeypatch.setenv("OPENREVIEW_TOKEN", "two words")
    with serving(openreview_route({})) as server, pytest.raises(UsageError) as refused:
        fetch(server)
    assert str(refused.value) == "the OpenReview token in OPENREVIEW_TOKEN is not a token: copy it again, whole"
    assert not server.requests


def test_one_run_signs_in_once_and_asks_each_page_once_for_all_its_profiles(home, monkeypatch, account):
    # One `today`: two profiles follow the same venue.
    with serving(openreview_route({VENUE: []})) as server, asking_once({}):  # an empty day is not stored
        first, second = fetch(server), fetch(server)
    assert len(first) == len(second) == 0
    assert [request.path for request in server.requests] == ["/login", "/notes"]


def test_one_run_renews_an_expired_token_once_for_all_its_profiles(home, monkeypatch, account):
    monkeypatch.setenv("OPENREVIEW_TOKEN", OPENREVIEW_EXPIRED)
    with serving(openreview_route({VENUE: []})) as server, asking_once({}):
        first, second = fetch(server), fetch(server)
    assert len(first) == len(second) == 0
    assert [request.path for request in server.requests] == ["/notes", "/login", "/notes"]


def test_one_run_tries_a_refused_password_once_for_all_its_profiles(home, monkeypatch, account):
    monkeypatch.setenv("OPENREVIEW_PASSWORD", "a wrong password")
    with serving(openreview_route({VENUE: []})) as server, asking_once({}):
        for _ in range(2):  # two profiles follow the venue: the second is told the same, without a sign-in
            with pytest.raises(UsageError, match="refused the sign-in"):
                fetch(server)
    assert [request.path for request in server.requests] == ["/login"]


def test_a_username_and_password_sign_in_once_and_the_token_goes_with_every_request(home, monkeypatch, account):
    monkeypatch.setattr(openreview, "PAGE_SIZE", 2)
    other = "TMLR"
    with serving(openreview_route({VENUE: [note(n, DAY) for n in range(3)], other: [note(9, DAY)]})) as server:
        listing = fetch(server, (VENUE, other))
    assert len(listing) == 4
    logins = [request for request in server.requests if request.path == "/login"]
    assert len(logins) == 1 and logins[0].method == "POST" and server.requests[0] is logins[0]
    assert json.loads(logins[0].body) == {"id": OPENREVIEW_USERNAME, "password": OPENREVIEW_PASSWORD}
    assert logins[0].headers["content-type"] == "application/json"
    assert len(sent(server)) == 3  # two pages of the venue, one of TMLR
    assert {headers["authorization"] for headers in sent(server)} == {f"Bearer {OPENREVIEW_ISSUED}"}
    assert listing.sources and all(OPENREVIEW_ISSUED not in source for source in listing.sources)
    assert OPENREVIEW_ISSUED not in repr(listing) and OPENREVIEW_PASSWORD not in repr(listing)


@pytest.mark.parametrize(
    ("variables", "says"),
    [
        ({"OPENREVIEW_USERNAME": OPENREVIEW_USERNAME}, "OPENREVIEW_USERNAME is set but OPENREVIEW_PASSWORD is not"),
        ({"OPENREVIEW_PASSWORD": OPENREVIEW_PASSWORD}, "OPENREVIEW_PASSWORD is set but OPENREVIEW_USERNAME is not"),
    ],
)
def test_half_an_account_is_one_line_before_anything_is_sent(home, monkeypatch, variables, says):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with serving(openreview_route({})) as server, pytest.raises(UsageError, match=says):
        fetch(server)
    assert not server.requests


@pytest.mark.parametrize(
    ("password", "mfa", "says"),
    [
        ("not the password", False, "OpenReview refused the sign-in with OPENREVIEW_USERNAME and OPENREVIEW_PASSWORD"),
        (OPENREVIEW_PASSWORD, True, "asks for a second sign-in step (MFA), which paperrec cannot answer"),
    ],
)
def test_a_refused_sign_in_is_one_line_without_the_password(home, monkeypatch, password, mfa, says):
    monkeypatch.setenv("OPENREVIEW_USERNAME", OPENREVIEW_USERNAME)
    monkeypatch.setenv("OPENREVIEW_PASSWORD", password)
    with serving(openreview_route({VENUE: [note(1, DAY)]}, mfa=mfa)) as server:
        with pytest.raises(UsageError, match=re.escape(says)) as refused:
            fetch(server)
        result = fetch_command(monkeypatch, server)
    assert password not in str(refused.value) and OPENREVIEW_USERNAME not in str(refused.value)
    assert not sent(server)  # no note query after a refused sign-in
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1 and says in result.stderr
    assert password not in result.output


def test_a_sign_in_answered_with_the_browser_check_asks_for_a_token_not_the_password(home, monkeypatch):
    monkeypatch.setenv("OPENREVIEW_USERNAME", OPENREVIEW_USERNAME)
    monkeypatch.setenv("OPENREVIEW_PASSWORD", OPENREVIEW_PASSWORD)
    route = openreview_route({VENUE: [note(1, DAY)]}, login_challenge=True)
    with serving(route) as server, pytest.raises(UsageError, match="browser check") as refused:
        fetch(server)
    message = str(refused.value)
    assert "were not checked: set OPENREVIEW_TOKEN" in message and "check both" not in message
    assert OPENREVIEW_PASSWORD not in message and not sent(server)


@pytest.mark.parametrize(
    ("token", "why"), [(OPENREVIEW_EXPIRED, "HTTP 401, TokenExpiredError"), ("fixture.unknown", "HTTP 403, Challenge")]
)
def test_a_refused_token_is_one_line_that_names_where_it_came_from(home, monkeypatch, token, why):
    monkeypatch.setenv("OPENREVIEW_TOKEN", token)
    with serving(openreview_route({VENUE: [note(1, DAY)]})) as server:
        with pytest.raises(UsageError) as refused:
            fetch(server)
        result = fetch_command(monkeypatch, server)
    message = str(refused.value)
    assert message.startswith(f"OpenReview refused the token in OPENREVIEW_TOKEN ({why}") and "expired" in message
    assert token not in message and token not in result.output
    assert result.exit_code == 2 and result.stderr.splitlines() == [f"paperrec: error: {message}"]
    assert len(sent(server)) == 2  # one try each: a refused token is not retried


def test_an_expired_token_is_renewed_once_from_the_password(home, monkeypatch, account):
    monkeypatch.setenv("OPENREVIEW_TOKEN", OPENREVIEW_EXPIRED)
    with serving(openreview_route({VENUE: [note(1, DAY)]})) as server:
        assert len(fetch(server)) == 1
    assert [request.path for request in server.requests] == ["/notes", "/login", "/notes"]
    assert [headers["authorization"] for headers in sent(server)] == [
        f"Bearer {OPENREVIEW_EXPIRED}",
        f"Bearer {OPENREVIEW_ISSUED}",
    ]


def test_a_token_refused_right_after_signing_in_is_one_line(home, monkeypatch, account):
    signs_in, forgets = openreview_route({}), openreview_route({VENUE: [note(1, DAY)]}, tokens=())

    @whole_request
    def route(request):  # issues a token, then refuses it: signing in does not get past the check
        return (signs_in if request.path == "/login" else forgets)(request)

    with serving(route) as server, pytest.raises(UsageError) as refused:
        fetch(server)
    assert str(refused.value).startswith(
        "OpenReview refused the queries signed in with OPENREVIEW_USERNAME (HTTP 403, ChallengeRequiredError)"
    )
    assert [request.path for request in server.requests] == ["/login", "/notes"]  # no second sign-in


@pytest.mark.parametrize("how", ["token", "account", "refused"])
def test_no_token_or_password_reaches_stderr_logs_errors_or_stored_files(home, monkeypatch, caplog, how):
    if how == "token":
        monkeypatch.setenv("OPENREVIEW_TOKEN", OPENREVIEW_TOKEN)
    else:
        monkeypatch.setenv("OPENREVIEW_USERNAME", OPENREVIEW_USERNAME)
        monkeypatch.setenv("OPENREVIEW_PASSWORD", OPENREVIEW_PASSWORD)
    if how == "refused":
        monkeypatch.setenv("OPENREVIEW_TOKEN", OPENREVIEW_EXPIRED)
    secrets = [OPENREVIEW_TOKEN, OPENREVIEW_EXPIRED, OPENREVIEW_ISSUED, OPENREVIEW_PASSWORD]
    secrets += [json.dumps(OPENREVIEW_PASSWORD)[1:-1]]  # as a JSON body writes it
    caplog.set_level(logging.DEBUG)  # httpx logs every request at INFO, httpcore each step at DEBUG
    route = openreview_route({VENUE: [note(n, DAY) for n in range(3)]}, tokens=(OPENREVIEW_TOKEN,))
    if how == "refused":  # the renewed sign-in is refused too: the run fails
        route = openreview_route({VENUE: []}, tokens=(OPENREVIEW_TOKEN,))
        monkeypatch.setenv("OPENREVIEW_PASSWORD", "a wrong password")
        secrets.append("a wrong password")
    with serving(route) as server:
        result = fetch_command(monkeypatch, server)
    assert "HTTP Request: POST" in caplog.text or how == "token"  # the logs were captured: the check means something
    assert "send_request_headers" in caplog.text
    assert result.exit_code == (2 if how == "refused" else 0), result.output
    stored = b"".join(path.read_bytes() for path in home.rglob("*") if path.is_file())
    assert how == "refused" or b"openreview:Forum000002" in stored  # the day was stored, and is checked
    for secret in secrets:
        assert secret not in result.output and secret not in caplog.text, secret
        assert secret.encode() not in stored, secret


def test_other_sources_of_a_today_run_still_run_when_openreview_asks_to_sign_in(
    home, monkeypatch, liked_jsonl, fake_model
):
    from recommender.sources import biorxiv

    monkeypatch.setattr(http, "DEFAULT_BACKOFF", 0.0)
    monkeypatch.setattr(biorxiv, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(openreview, "MIN_INTERVAL", 0.0)
    sources = ["-s", "biorxiv:neuroscience", "-s", f"openreview:{VENUE}"]
    made = CliRunner().invoke(app, ["profile", "new", "neuro", "--from", str(liked_jsonl), *sources])
    assert made.exit_code == 0, made.output
    with (
        serving(biorxiv_route({("biorxiv", DAY): [posting(n, DAY) for n in range(3)]})) as bio,
        serving(openreview_route({VENUE: [note(1, DAY)]})) as review,
    ):
        monkeypatch.setattr(biorxiv, "API_URL", bio.url + "/details")
        monkeypatch.setattr(openreview, "API_URL", review.url + "/notes")
        result = CliRunner().invoke(app, ["today", "--date", "2026-12-04", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 3  # bioRxiv's postings are ranked
    line = f"neuro: OpenReview {VENUE}: failed (OpenReview now asks API clients to sign in (HTTP 403, "
    assert [text for text in result.stderr.splitlines() if text.startswith(line)], result.stderr
    assert "OPENREVIEW_TOKEN" in result.stderr and "neuro: bioRxiv neuroscience: 3 papers" in result.stderr


# ---- conference season ----------------------------------------------------------------------------------------------


def test_a_venue_releasing_its_submissions_at_once_shows_them_on_the_release_day(home, monkeypatch, signed_in):
    # A venue makes its submissions public days or weeks after their authors created them: a day is the odate.
    monkeypatch.setattr(openreview, "PAGE_SIZE", 4)
    written = [date(2026, 11, 20) - timedelta(days=n % 5) for n in range(10)]
    notes = [note(n, day, released=DAY) for n, day in enumerate(written)]
    notes += [note(20, DAY, public=False)]  # created on the day, not yet public
    notes += [note(30 + n, date(2026, 11, 1), released=date(2026, 11, 1)) for n in range(3)]  # public since then
    with serving(openreview_route({VENUE: notes})) as server, client() as polite:
        released, _ = fetch_listing([VENUE], DAY, client=polite, base_url=server.url + "/notes", **NOW)
        created, _ = fetch_listing([VENUE], date(2026, 11, 20), client=polite, base_url=server.url + "/notes", **NOW)
    assert sorted(paper.arxiv_id for paper in released.papers) == [f"openreview:Forum{n:06d}" for n in range(10)]
    assert {paper.date for paper in released.papers} == {DAY} and len(created) == 0


def test_withdrawn_and_desk_rejected_submissions_are_left_out():
    gone = [
        note(1, DAY, venueid=f"{VENUE}/Withdrawn_Submission", venue="ICLR 2027 Conference Withdrawn Submission"),
        note(
            2, DAY, venueid=f"{VENUE}/Desk_Rejected_Submission", venue="ICLR 2027 Conference Desk Rejected Submission"
        ),
        note(3, DAY, venueid=f"{VENUE}/Submission"),
    ]
    parsed, _ = parse_notes(json.dumps({"notes": gone, "count": 3}))
    assert [paper.arxiv_id for paper, _ in parsed if paper is not None] == ["openreview:Forum000003"]


def test_a_submission_with_a_pdf_has_its_pdf_link_in_json_and_the_digest():
    from recommender.export import pick_record
    from recommender.schema import Pick

    (paper, _), (bare, _) = parse_notes(json.dumps({"notes": [note(1, DAY), note(2, DAY, pdf=None)]}))[0]
    assert pick_record(Pick(paper, 0.5, 1, "p"))["pdf_url"] == "https://openreview.net/pdf?id=Forum000001"
    assert bare.pdf_url is None  # no PDF uploaded: no link
