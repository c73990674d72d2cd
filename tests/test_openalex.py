"""Journals through OpenAlex: a journal's works of a day, abstracts rebuilt from the inverted index, numbered pages."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.schema import PaperrecError, TemporaryFailure, UsageError
from recommender.sources import http, openalex
from recommender.sources.http import NetworkError, PoliteClient, TemporaryNetworkError, redacted
from recommender.sources.openalex import check_journal, fetch_by_doi, fetch_listing, parse_works, rebuild_abstract

from .fixture_apis import inverted, openalex_doi_route, openalex_route, serving, work

DAY = date(2026, 12, 4)
NOW = {"now": datetime(2026, 12, 5, 12, tzinfo=UTC)}


def client() -> PoliteClient:
    notes: list[str] = []
    made = PoliteClient(
        name="OpenAlex", notify=notes.append, sleep=lambda s: None, share_spacing=False, backoff=0.0, min_interval=0
    )
    made.notes = notes  # type: ignore[attr-defined]
    return made


def test_an_abstract_is_rebuilt_from_its_inverted_index():
    text = "the cat saw the other cat"
    assert rebuild_abstract(inverted(text)) == text
    assert rebuild_abstract({"a": [1], "b": [0, "x", -1, 10**9], 3: [2]}) == "b a"
    assert rebuild_abstract(None) == ""


def test_a_page_of_works_is_parsed():
    untitled = work(2, DAY, title=None, display_name="")
    no_doi = work(3, DAY, doi=None)
    papers, held, count = parse_works(json.dumps({"meta": {"count": 3}, "results": [work(1, DAY), untitled, no_doi]}))
    assert (held, count, len(papers)) == (3, 3, 2)
    assert parse_works('{"meta": {"count": "3"}, "results": []}')[1:] == (0, None)
    paper = papers[0]
    assert paper.arxiv_id == "doi:10.1038/s41586-026-00001-x" and paper.authors == (
        "Rosalind1 Franklin",
        "Linus Pauling",
    )
    assert paper.abstract == "Proteins fold into shapes and number 1 folds into shapes too" and paper.date == DAY
    assert paper.links == (
        "https://doi.org/10.1038/s41586-026-00001-x",
        "https://www.nature.com/articles/s41586-026-00001-x",
        "https://openalex.org/W4000000001",
    )
    assert papers[1].arxiv_id.startswith("t:")  # no DOI: the title hash


def test_a_work_keeps_the_name_of_its_journal():
    def located(number: int, source: object) -> dict[str, object]:
        landing = f"https://www.nature.com/articles/s41586-026-{number:05d}-x"
        return work(number, DAY, primary_location={"landing_page_url": landing, "source": source})

    journal = {"id": "https://openalex.org/S137773608", "display_name": "Nature", "type": "journal"}
    archive = {"display_name": "bioRxiv (Cold Spring Harbor Laboratory)", "type": "repository"}
    results = [located(1, journal), located(2, archive), located(3, None), work(4, DAY)]
    papers = parse_works(json.dumps({"meta": {"count": 4}, "results": results}))[0]
    assert [paper.venue for paper in papers] == ["Nature", "", "", ""]  # a repository is no journal


def test_jats_and_html_in_a_work_are_text():
    marked = work(
        1,
        DAY,
        title="Striatal dopamine <i>in vivo</i>",
        abstract_inverted_index=inverted("<jats:title>Abstract</jats:title><jats:p>Dopamine rises.</jats:p>"),
    )
    paper = parse_works(json.dumps({"meta": {"count": 1}, "results": [marked]}))[0][0]
    assert (paper.title, paper.abstract) == ("Striatal dopamine in vivo", "Dopamine rises.")


def test_journals_are_named_by_issn_or_source_id():
    assert check_journal("00280836") == check_journal("0028-0836") == "0028-0836"
    assert check_journal("1476-468x") == "1476-468X" and check_journal("s137773608") == "S137773608"
    with pytest.raises(UsageError, match="not an ISSN"):
        check_journal("Nature")


def asked(server) -> list[dict[str, list[str]]]:
    """The query of each request the server answered."""
    return [parse_qs(urlsplit(path).query) for path in server.paths]


def test_a_day_is_every_numbered_page_of_100(home):
    works = {("0028-0836", DAY): [work(n, DAY) for n in range(450)]}
    with serving(openalex_route(works)) as server, client() as polite:
        listing, _ = fetch_listing(["0028-0836"], DAY, client=polite, base_url=server.url + "/works", **NOW)
    assert {p.arxiv_id for p in listing.papers} == {f"doi:10.1038/s41586-026-{n:05d}-x" for n in range(450)}
    queries = asked(server)
    assert [(q["per_page"], q["page"]) for q in queries] == [(["100"], [str(n)]) for n in range(1, 6)]
    assert all("cursor" not in q and "per-page" not in q for q in queries)
    assert "primary_location.source.issn:0028-0836" in queries[0]["filter"][0]
    assert (home / "listings" / "journal" / "0028-0836" / "2026-12-04.jsonl").is_file()


@pytest.mark.parametrize(("count", "requests"), [(0, 1), (99, 1), (100, 1), (300, 3), (301, 4)])
def test_paging_stops_at_a_short_page_or_the_count(home, count, requests):
    works = {("0028-0836", DAY): [work(n, DAY) for n in range(count)]}
    with serving(openalex_route(works)) as server, client() as polite:
        listing, _ = fetch_listing(["0028-0836"], DAY, client=polite, base_url=server.url + "/works", **NOW)
    assert len(listing) == count and len(server.paths) == requests


def test_a_day_past_max_pages_is_one_line(home, monkeypatch):
    full = [work(n, DAY) for n in range(100)]

    def endless(path, query):  # every page full, the count never reached
        body = {"meta": {"count": 10**6, "per_page": 100}, "results": full}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    monkeypatch.setattr(openalex, "MAX_PAGES", 3)
    with (
        serving(endless) as server,
        client() as polite,
        pytest.raises(PaperrecError, match=r"^OpenAlex needed more than 3 pages for 0028-0836 on 2026-12-04: stop"),
    ):
        fetch_listing(["0028-0836"], DAY, client=polite, base_url=server.url + "/works", **NOW)
    assert len(server.paths) == 3


def test_the_fake_refuses_pages_larger_than_openalex_gives(home):
    with serving(openalex_route({})) as server, client() as polite:
        with pytest.raises(NetworkError, match="OpenAlex returned HTTP 400"):
            polite.get(server.url + "/works", params={"filter": "from_publication_date:2026-12-04", "per_page": 200})
        with pytest.raises(NetworkError, match="OpenAlex returned HTTP 400"):
            polite.get(
                server.url + "/works",
                params={"filter": "from_publication_date:2026-12-04", "per_page": 100, "page": 101},
            )


@pytest.mark.parametrize(
    ("faults", "error", "says"),
    [
        (["429"], None, "OpenAlex busy (HTTP 429), retry 1/4"),
        (["truncated"], None, "the connection to OpenAlex broke"),
        (["503"] * 5, TemporaryNetworkError, "OpenAlex is unavailable (HTTP 503) after 5 tries"),
        (["malformed"], TemporaryFailure, "OpenAlex's answer: invalid JSON"),
        (["redirect"], NetworkError, "outside OpenAlex: refused"),
    ],
)
def test_faults_are_retried_or_one_line_naming_openalex(home, faults, error, says):
    with serving(openalex_route({("0028-0836", DAY): [work(1, DAY)]})) as server, client() as polite:
        server.faults = list(faults)
        if error is None:
            listing, _ = fetch_listing(["0028-0836"], DAY, client=polite, base_url=server.url + "/works", **NOW)
            assert len(listing) == 1 and any(says in line for line in polite.notes), polite.notes
        else:
            with pytest.raises(error, match=re.escape(says)):
                fetch_listing(["0028-0836"], DAY, client=polite, base_url=server.url + "/works", **NOW)


def test_works_are_looked_up_by_doi_in_batches_of_50_under_the_callers_ids():
    works = [work(n, DAY) for n in range(120)]
    works[7]["doi"] = "https://doi.org/10.1038/S41586-026-00007-X"  # OpenAlex's case need not be ours
    ids = [f"doi:10.1038/s41586-026-{n:05d}-x" for n in range(120)] + ["https://doi.org/10.1038/S41586-026-00003-X"]
    with serving(openalex_doi_route(works)) as server, client() as polite:
        found = fetch_by_doi(polite, [*ids, "doi:10.9999/unknown", "doi:10.1000/a|b"], base_url=server.url + "/works")
    queries = asked(server)
    assert [len(q["filter"][0].removeprefix("doi:").split("|")) for q in queries] == [50, 50, 21]
    assert all(q["per_page"] == ["100"] and "page" not in q and "per-page" not in q for q in queries)
    assert "10.9999/unknown" in queries[-1]["filter"][0] and "a|b" not in queries[-1]["filter"][0]
    assert set(queries[0]["select"][0].split(",")) >= {"doi", "title", "abstract_inverted_index", "authorships"}
    assert sorted(found) == sorted(ids[:120])  # the unknown DOI is left out, the doi.org form is one of them
    seventh = found["doi:10.1038/s41586-026-00007-x"]
    assert seventh.arxiv_id == "doi:10.1038/s41586-026-00007-x"
    assert seventh.abstract == "Proteins fold into shapes and number 7 folds into shapes too"
    assert seventh.authors == ("Rosalind7 Franklin", "Linus Pauling") and seventh.date == DAY


def test_of_two_works_with_one_doi_the_one_with_an_abstract_is_kept():
    bare = work(1, DAY, abstract_inverted_index=None, title="The record without an abstract")
    with serving(openalex_doi_route([bare, work(1, DAY)])) as server, client() as polite:
        found = fetch_by_doi(polite, ["doi:10.1038/s41586-026-00001-x"], base_url=server.url + "/works")
    assert found["doi:10.1038/s41586-026-00001-x"].abstract.startswith("Proteins fold")


def test_a_batch_larger_than_a_page_is_cut_to_one_page_a_request():
    works = [work(n, DAY) for n in range(250)]
    ids = [f"doi:10.1038/s41586-026-{n:05d}-x" for n in range(250)]
    with serving(openalex_doi_route(works)) as server, client() as polite:
        found = fetch_by_doi(polite, ids, base_url=server.url + "/works", batch=500)
    assert [len(q["filter"][0].split("|")) for q in asked(server)] == [100, 100, 50] and len(found) == 250


# ---- the API key -----------------------------------------------------------------------------------------------------

KEY = "oa-test-key-5e1f0c2a9b"
JOURNAL = {("0028-0836", DAY): [work(n, DAY) for n in range(150)]}


def key_file(home, mode: int = 0o600):
    path = home / "openalex-key"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(KEY + "\n")
    path.chmod(mode)
    return path


def openalex_both(path: str, query: dict[str, list[str]]):
    """The works API answering journal days and DOI lookups alike."""
    doi = query.get("filter", [""])[0].startswith("doi:")
    return (openalex_doi_route(JOURNAL[("0028-0836", DAY)]) if doi else openalex_route(JOURNAL))(path, query)


def keys_sent(server) -> list[list[str]]:
    return [q.get("api_key", []) for q in asked(server)]


def both_lookups(server, polite):
    """A journal day (two pages) and a DOI lookup against `server`."""
    listing = openalex.fetch_day(polite, "0028-0836", DAY, base_url=server.url + "/works")
    found = fetch_by_doi(polite, ["doi:10.1038/s41586-026-00001-x"], base_url=server.url + "/works")
    return listing, found


@pytest.mark.parametrize("how", ["environment", "file"])
def test_the_key_goes_with_every_request(home, monkeypatch, how):
    if how == "environment":
        monkeypatch.setenv("OPENALEX_API_KEY", KEY)
    else:
        key_file(home)
    with serving(openalex_both) as server, client() as polite:
        listing, _ = both_lookups(server, polite)
    assert keys_sent(server) == [[KEY]] * 3
    assert KEY not in " ".join(listing.sources) and listing.sources[0].startswith(server.url + "/works?filter=")


def test_without_a_key_none_is_sent(home):
    with serving(openalex_both) as server, client() as polite:
        listing, _ = both_lookups(server, polite)
    assert len(listing) == 150 and keys_sent(server) == [[]] * 3
    assert all("api_key" not in path for path in server.paths)


def test_a_key_file_others_may_read_is_refused(home):
    path = key_file(home, 0o644)
    refused = pytest.raises(UsageError, match="others may read it: chmod 600")
    with serving(openalex_both) as server, client() as polite, refused as caught:
        both_lookups(server, polite)
    assert server.paths == [] and KEY not in str(caught.value) and str(path) in str(caught.value)


def test_the_environment_wins_over_the_file_and_an_empty_file_is_no_key(home, monkeypatch):
    path = key_file(home)
    monkeypatch.setenv("OPENALEX_API_KEY", " from-the-environment ")
    assert openalex.read_key(path) == "from-the-environment"
    monkeypatch.delenv("OPENALEX_API_KEY")
    path.write_text("\n")
    assert openalex.read_key(path) is None and openalex.read_key(home / "absent") is None


def test_the_key_is_in_no_error_line(home, monkeypatch):
    monkeypatch.setenv("OPENALEX_API_KEY", KEY)
    with serving(openalex_route(JOURNAL)) as server, client() as polite:
        monkeypatch.setattr(openalex, "PAGE_SIZE", 200)  # the fake refuses it with a 400, naming the URL
        with pytest.raises(NetworkError, match="OpenAlex returned HTTP 400 for") as refused:
            openalex.fetch_day(polite, "0028-0836", DAY, base_url=server.url + "/works")
        monkeypatch.setattr(openalex, "PAGE_SIZE", 100)
        polite.max_bytes = 100
        with pytest.raises(NetworkError, match="larger than 100 bytes") as large:
            openalex.fetch_day(polite, "0028-0836", DAY, base_url=server.url + "/works")
    assert keys_sent(server) == [[KEY]] * 2
    for error in (refused.value, large.value):
        assert KEY not in str(error) and "api_key=***" in str(error), str(error)


def test_the_key_is_in_no_log_line(home, monkeypatch, caplog):
    monkeypatch.setenv("OPENALEX_API_KEY", KEY)
    caplog.set_level(logging.DEBUG)
    with serving(openalex_both) as server, client() as polite:
        both_lookups(server, polite)
    assert "api_key=***" in caplog.text and KEY not in caplog.text  # httpx logs each URL at INFO


def test_redacted_hides_every_key_value():
    text = "GET https://api.openalex.org/works?api_key=abc123&page=2 and ?API_KEY=x#y and api_key="
    assert redacted(text) == "GET https://api.openalex.org/works?api_key=***&page=2 and ?API_KEY=***#y and api_key=***"
    assert redacted("a rapi_key=1 is another parameter") == "a rapi_key=1 is another parameter"


def test_redacted_hides_passwords_and_tokens_in_json_and_in_python_reprs():
    cases = {
        '{"id": "me", "password": "p\\"w"}': '{"id": "me", "password": "***"}',
        "{'password': 'pw', 'id': 'me'}": "{'password': '***', 'id': 'me'}",
        '{"token": "tk1", "user": {"id": "~Me1"}}': '{"token": "***", "user": {"id": "~Me1"}}',
        "{'Zotero-API-Key': 'zk', 'Accept': 'text/xml'}": "{'Zotero-API-Key': '***', 'Accept': 'text/xml'}",
        "{'Authorization': 'Bearer abc'}": "{'Authorization': '***'}",
        '{"tokens": 3, "title": "password: none"}': '{"tokens": 3, "title": "password: none"}',
    }
    for text, expected in cases.items():
        assert redacted(text) == expected


def test_the_command_line_sends_the_key_and_never_shows_it(home, monkeypatch, tmp_path):
    monkeypatch.setenv("OPENALEX_API_KEY", KEY)
    monkeypatch.setattr(openalex, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(http, "DEFAULT_BACKOFF", 0.0)
    with serving(openalex_route(JOURNAL)) as server:
        monkeypatch.setattr(openalex, "API_URL", server.url + "/works")
        server.faults = ["429", "503"]  # each announced on stderr, then retried
        out = tmp_path / "day.jsonl"
        result = CliRunner().invoke(app, ["fetch", "journal:0028-0836", "--date", "2026-12-04", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "retry 1/4" in result.stderr and "retry 2/4" in result.stderr
    assert keys_sent(server) == [[KEY]] * 4 and len(out.read_text().splitlines()) == 150
    stored = home / "listings" / "journal" / "0028-0836" / "2026-12-04.jsonl"
    for text in (result.output, result.stderr, out.read_text(), stored.read_text()):
        assert KEY not in text


# ---- a spent allowance: HTTP 429 -------------------------------------------------------------------------------------


@pytest.fixture
def spent(monkeypatch):
    """A local OpenAlex whose daily allowance is spent: every request is answered 429, as OpenAlex does."""
    monkeypatch.setattr(openalex, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(http, "DEFAULT_BACKOFF", 0.0)
    with serving(openalex_route(JOURNAL, status=429)) as server:
        monkeypatch.setattr(openalex, "API_URL", server.url + "/works")
        yield server


def test_a_spent_allowance_exits_75_naming_the_variable(home, spent):
    result = CliRunner().invoke(app, ["fetch", "journal:0028-0836", "--date", "2026-12-04"])
    assert result.exit_code == 75, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("paperrec: error:")]
    assert len(errors) == 1 and "OpenAlex is rate-limiting us (HTTP 429) after 5 tries; try again later" in errors[0]
    assert "a free OpenAlex API key raises the daily allowance: set OPENALEX_API_KEY" in errors[0]
    assert str(home / "openalex-key") in errors[0]
    assert len(spent.paths) == 5  # retried a bounded number of times, then given up
    assert "Traceback" not in result.output


def test_a_spent_allowance_with_a_key_never_shows_it(home, spent, monkeypatch):
    monkeypatch.setenv("OPENALEX_API_KEY", KEY)
    result = CliRunner().invoke(app, ["fetch", "journal:0028-0836", "--date", "2026-12-04"])
    assert result.exit_code == 75 and "the daily allowance of the OpenAlex API key may be spent" in result.stderr
    assert keys_sent(spent) == [[KEY]] * 5 and KEY not in result.output and KEY not in result.stderr


def test_a_long_retry_after_gives_up_at_once_with_the_hint(home, monkeypatch):
    def spent_till_tomorrow(path, query):
        body = json.dumps({"error": "Rate limit exceeded", "message": "Daily usage limit exceeded"}).encode()
        return 429, {"Content-Type": "application/json", "Retry-After": "36000"}, body

    gives_up = pytest.raises(TemporaryNetworkError, match="OPENALEX_API_KEY")
    with serving(spent_till_tomorrow) as server, client() as polite, gives_up as caught:
        openalex.fetch_day(polite, "0028-0836", DAY, base_url=server.url + "/works")
    assert len(server.paths) == 1 and "asks us to wait 36000 s (HTTP 429)" in str(caught.value)


def test_a_403_rate_limit_is_try_again_later_with_the_hint(home, monkeypatch):
    """OpenAlex's errors page lists 403 for a rate limit too: it ends as exit 75, not as a refusal for good."""

    def refused(path, query):
        body = json.dumps({"error": "Forbidden", "message": "Rate limit exceeded"}).encode()
        return 403, {"Content-Type": "application/json"}, body

    with serving(refused) as server:
        monkeypatch.setattr(openalex, "API_URL", server.url + "/works")
        result = CliRunner().invoke(app, ["fetch", "journal:0028-0836", "--date", "2026-12-04"])
    assert result.exit_code == 75, result.output
    assert "HTTP 403" in result.stderr and "try again later" in result.stderr and "OPENALEX_API_KEY" in result.stderr
    assert len(server.paths) == 1 and "Traceback" not in result.output


def test_today_with_a_journal_exits_75_when_the_allowance_is_spent(home, spent, liked_jsonl, fake_model):
    made = CliRunner().invoke(app, ["profile", "new", "j", "--from", str(liked_jsonl), "-s", "journal:0028-0836"])
    assert made.exit_code == 0, made.output
    result = CliRunner().invoke(app, ["today", "--date", "2026-12-04"])
    assert result.exit_code == 75, result.output
    assert "HTTP 429" in result.stderr and "OPENALEX_API_KEY" in result.stderr and result.stdout == ""


def test_a_weekly_journals_missed_days_are_back_filled_in_one_range_and_its_empty_days_raise_nothing(home):
    from recommender.sources.store import fetched_days, stored_days

    wednesdays = (date(2026, 11, 25), date(2026, 12, 2))
    works = {("0028-0836", d): [work(d.day * 10 + n, d) for n in range(2)] for d in wednesdays}

    def at(moment: str) -> tuple[object, str | None]:
        now = datetime.fromisoformat(f"{moment}T12:00+00:00")
        with client() as polite:
            return fetch_listing(["0028-0836"], client=polite, base_url=server.url + "/works", now=now)

    with serving(openalex_route(works)) as server:
        first = [at(f"2026-11-{n}")[1] for n in (26, 27)]  # a Wednesday's works, then an empty Thursday
        _, notice = at("2026-12-05")  # no run from Friday 27 November to Saturday 5 December
        _, later = at("2026-12-06")
    assert first == [None, None] and later is None
    filters = [query["filter"][0].split(",", 1)[1] for query in asked(server)]
    assert filters == [
        "from_publication_date:2026-11-25,to_publication_date:2026-11-25",
        "from_publication_date:2026-11-26,to_publication_date:2026-11-26",
        "from_publication_date:2026-12-04,to_publication_date:2026-12-04",
        "from_publication_date:2026-11-27,to_publication_date:2026-12-03",  # the missed week, in one request
        "from_publication_date:2026-12-05,to_publication_date:2026-12-05",
    ]
    assert notice == (
        "OpenAlex back-filled the days no run fetched: 0028-0836 2026-11-27 to 2026-12-03 (2 papers); "
        "'paperrec today --date 2026-11-27' ranks one"
    )
    assert stored_days("journal:0028-0836") == list(wednesdays)
    assert fetched_days("journal:0028-0836")[-1] == date(2026, 12, 5) and len(fetched_days("journal:0028-0836")) == 11


def test_a_weekly_journal_in_a_store_from_before_the_back_fill_names_no_day_as_not_fetched(home):
    from recommender.schema import Listing
    from recommender.sources.store import write_day

    wednesdays = (date(2026, 11, 18), date(2026, 11, 25), date(2026, 12, 2))
    works = {("0028-0836", d): [work(d.day * 10 + n, d) for n in range(2)] for d in wednesdays}
    # An older paperrec fetched every day but kept only the days with works: no mark says a day was fetched empty.
    papers, _, _ = parse_works(json.dumps({"results": [work(180, wednesdays[0])]}))
    old = Listing(papers=tuple(papers), category="journal:0028-0836")
    write_day(old, "journal:0028-0836", wednesdays[0])

    with serving(openalex_route(works)) as server, client() as polite:
        now = datetime(2026, 11, 29, 12, tzinfo=UTC)  # upgraded on Sunday; the week back is back-filled
        _, notice = fetch_listing(["0028-0836"], client=polite, base_url=server.url + "/works", now=now)
    assert notice is not None and notice.startswith("OpenAlex back-filled the days no run fetched: 0028-0836")
    assert "not fetched" not in notice  # 19 to 20 November were fetched, empty, by the older paperrec
