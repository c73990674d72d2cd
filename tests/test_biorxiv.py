"""bioRxiv and medRxiv: the details API parsed to Listings, cursor paging, categories, faults, the store, the CLI."""

from __future__ import annotations

import html
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.schema import PaperrecError, TemporaryFailure, UsageError
from recommender.sources import biorxiv, http
from recommender.sources.biorxiv import (
    BIORXIV,
    MEDRXIV,
    category_warning,
    check_category,
    fetch_server,
    parse_details,
)
from recommender.sources.http import NetworkError, PoliteClient, TemporaryNetworkError
from recommender.sources.store import fetched_days, stored_days

from .fixture_apis import biorxiv_route, posting, serving

DAY = date(2026, 12, 4)
NOW = {"now": datetime(2026, 12, 5, 12, tzinfo=UTC)}


def client(**options) -> PoliteClient:
    notes: list[str] = []
    options.setdefault("min_interval", 0.0)
    made = PoliteClient(
        name="bioRxiv", notify=notes.append, sleep=lambda s: None, share_spacing=False, backoff=0.0, **options
    )
    made.notes = notes  # type: ignore[attr-defined]
    return made


def test_a_details_page_is_parsed_to_papers():
    answer = {
        "messages": [{"status": "ok", "cursor": 0, "count": 3, "total": "3"}],
        "collection": [
            posting(1, DAY),
            posting(2, DAY, version="2"),  # a revision of an older preprint: not new
            posting(3, DAY, title=""),  # unreadable: left out
        ],
    }
    papers, held, total = parse_details(json.dumps(answer))
    assert (held, total) == (3, 3) and len(papers) == 1
    paper = papers[0]
    assert paper.arxiv_id == "doi:10.1101/2026.12.04.600001" and not paper.has_arxiv_id
    assert paper.authors == ("A. Author1", "B. C. Second", "D. Third")
    assert paper.categories == ("neuroscience",) and paper.date == DAY
    assert paper.links == (
        "https://www.biorxiv.org/content/10.1101/2026.12.04.600001v1",
        "https://doi.org/10.1101/2026.12.04.600001",
    )
    assert paper.url == "https://doi.org/10.1101/2026.12.04.600001"
    assert paper.pdf_url == "https://www.biorxiv.org/content/10.1101/2026.12.04.600001v1.full.pdf"  # the card's PDF
    assert paper.venue == "bioRxiv" and parse_details(json.dumps(answer), MEDRXIV)[0][0].venue == "medRxiv"


def test_markup_in_a_posting_is_text():
    marked = posting(
        1, DAY, title="Ca<sup>2+</sup> in <i>Drosophila</i> &amp; mice", abstract="<p>Dopamine <i>in vivo</i>.</p>"
    )
    paper = parse_details(json.dumps({"messages": [{"total": "1"}], "collection": [marked]}))[0][0]
    assert (paper.title, paper.abstract) == ("Ca2+ in Drosophila & mice", "Dopamine in vivo.")


@pytest.mark.parametrize("text", ["{", "[1, 2]", b"\xff\xfe"])
def test_a_damaged_page_is_a_temporary_failure_naming_the_server(text):
    with pytest.raises(TemporaryFailure, match=r"^medRxiv's answer"):
        parse_details(text, MEDRXIV)


def test_categories_are_the_apis_own_names():
    assert check_category(BIORXIV, "Cell Biology") == check_category(BIORXIV, "cell_biology") == "cell_biology"
    assert check_category(MEDRXIV, "HIV/AIDS") == check_category(MEDRXIV, "hivaids") == "hiv_aids"
    # medRxiv's site shows two collections under longer names than the API's.
    long_name = "Endocrinology (including Diabetes Mellitus and Metabolic Disease)"
    assert check_category(MEDRXIV, long_name) == "endocrinology"
    assert check_category(MEDRXIV, "Infectious Diseases (except HIV/AIDS)") == "infectious_diseases"
    assert len(BIORXIV.categories) == 27 and len(MEDRXIV.categories) == 51
    assert category_warning(BIORXIV, "physiology") is None and category_warning(MEDRXIV, "endocrinology") is None
    with pytest.raises(UsageError, match="names no bioRxiv category"):
        check_category(BIORXIV, " / ")


def test_an_unknown_category_is_one_warning_naming_the_closest():
    assert check_category(BIORXIV, "neuroscienc") == "neuroscienc"  # the API filters by name: it may know more
    line = category_warning(BIORXIV, "neuroscienc")
    assert line.startswith("'neuroscienc' is not a bioRxiv category paperrec knows (closest: neuroscience, ")
    assert line.endswith("); bioRxiv is asked for it all the same") and line.count(", ") == 2
    assert "closest: " in category_warning(MEDRXIV, "neuroscience")


def test_a_day_is_every_cursor_page_of_its_category(home):
    postings = [posting(n, DAY) for n in range(250)] + [posting(900, DAY, category="genomics")]
    with serving(biorxiv_route({("biorxiv", DAY): postings})) as server, client() as polite:
        listing, notice = fetch_server(
            BIORXIV, ["neuroscience"], DAY, client=polite, base_url=server.url + "/details", **NOW
        )
        assert notice is None and len(listing) == 250 and listing.date == DAY
        assert [p.split("?")[0].rsplit("/", 1)[1] for p in server.paths] == ["0", "100", "200"]
        assert all("category=neuroscience" in p for p in server.paths)
        stored = home / "listings" / "biorxiv" / "neuroscience" / "2026-12-04.jsonl"
        assert len(stored.read_text().splitlines()) == 250
        again, _ = fetch_server(BIORXIV, ["neuroscience"], DAY, client=polite, base_url=server.url + "/details", **NOW)
        assert len(server.paths) == 3 and again.papers == listing.papers  # kept: never fetched twice


def test_the_category_goes_with_underscores_as_the_help_page_writes_it(home):
    postings = {("biorxiv", DAY): [posting(1, DAY, "cell_biology")], ("medrxiv", DAY): [posting(2, DAY, "hiv/aids")]}
    with serving(biorxiv_route(postings)) as server, client() as polite:
        cell, _ = fetch_server(BIORXIV, ["Cell Biology"], DAY, client=polite, base_url=server.url + "/details", **NOW)
        hiv, _ = fetch_server(MEDRXIV, ["HIV/AIDS"], DAY, client=polite, base_url=server.url + "/details", **NOW)
    assert len(cell) == 1 and len(hiv) == 1
    # Not 'cell+biology': the help page names only '_' for a space, or a URL-encoded space.
    assert [p.split("?")[1] for p in server.paths] == ["category=cell_biology", "category=hiv%2Faids"]


def test_pages_smaller_than_the_documented_100_are_followed_to_the_total(home):
    postings = [posting(n, DAY) for n in range(65)]
    with serving(biorxiv_route({("biorxiv", DAY): postings}, page=30)) as server, client() as polite:
        listing, _ = fetch_server(
            BIORXIV, ["neuroscience"], DAY, client=polite, base_url=f"{server.url}/details", **NOW
        )
    assert len(listing) == 65
    assert [p.split("?")[0].rsplit("/", 1)[1] for p in server.paths] == ["0", "30", "60"]


def test_an_empty_day_is_not_kept_but_marked_as_fetched(home):
    with serving(biorxiv_route({})) as server, client() as polite:
        listing, _ = fetch_server(
            MEDRXIV, ["epidemiology"], DAY, client=polite, base_url=server.url + "/details", **NOW
        )
        fetch_server(MEDRXIV, ["epidemiology"], DAY, client=polite, base_url=server.url + "/details", **NOW)
    assert not listing.papers and stored_days("medrxiv:epidemiology") == []
    assert fetched_days("medrxiv:epidemiology") == [DAY]
    assert len(server.paths) == 2  # asked for again, an empty day is fetched again: it may have been a glitch


def test_the_latest_day_is_yesterday_and_today_is_never_kept(home):
    today = date(2026, 12, 5)
    route = biorxiv_route({("biorxiv", DAY): [posting(1, DAY)], ("biorxiv", today): [posting(2, today)]})
    with serving(route) as server, client() as polite:
        latest, _ = fetch_server(BIORXIV, ["neuroscience"], client=polite, base_url=server.url + "/details", **NOW)
        partial, _ = fetch_server(
            BIORXIV, ["neuroscience"], today, client=polite, base_url=server.url + "/details", **NOW
        )
    assert latest.date == DAY and partial.date == today and len(partial) == 1
    days = [p.name for p in (home / "listings" / "biorxiv" / "neuroscience").iterdir() if p.name[0].isdigit()]
    assert days == ["2026-12-04.jsonl"]


@pytest.mark.parametrize(
    ("faults", "error", "says"),
    [
        (["429"], None, "bioRxiv busy (HTTP 429), retry 1/4"),
        (["503"], None, "bioRxiv unavailable (HTTP 503), retry 1/4"),
        (["truncated"], None, "the connection to bioRxiv broke"),
        (["503"] * 5, TemporaryNetworkError, "bioRxiv is unavailable (HTTP 503) after 5 tries"),
        (["malformed"], TemporaryFailure, "bioRxiv's answer: invalid JSON"),
        (["redirect"], NetworkError, "bioRxiv redirected to https://elsewhere.example/api, outside bioRxiv: refused"),
    ],
)
def test_faults_are_retried_or_one_line_naming_bioRxiv(home, faults, error, says):
    with serving(biorxiv_route({("biorxiv", DAY): [posting(1, DAY)]})) as server, client() as polite:
        server.faults = list(faults)
        if error is None:
            listing, _ = fetch_server(
                BIORXIV, ["neuroscience"], DAY, client=polite, base_url=server.url + "/details", **NOW
            )
            assert len(listing) == 1 and any(says in note for note in polite.notes), polite.notes
        else:
            with pytest.raises(error) as raised:
                fetch_server(BIORXIV, ["neuroscience"], DAY, client=polite, base_url=server.url + "/details", **NOW)
            assert says in str(raised.value) and "arXiv" not in str(raised.value).replace("bioRxiv", "")


def test_a_cursor_that_stops_short_is_a_temporary_failure(home):
    def short(path, query):
        body = {"messages": [{"status": "ok", "cursor": 0, "count": 0, "total": 50}], "collection": []}
        return 200, {}, json.dumps(body).encode()

    with serving(short) as server, client() as polite, pytest.raises(TemporaryFailure, match="stopped after 0 of 50"):
        fetch_server(BIORXIV, ["neuroscience"], DAY, client=polite, base_url=server.url + "/details", **NOW)


def test_offline_reads_only_the_store(home):
    with pytest.raises(PaperrecError, match="paperrec fetch biorxiv:neuroscience"):
        fetch_server(BIORXIV, ["neuroscience"], offline=True, **NOW)
    with serving(biorxiv_route({("biorxiv", DAY): [posting(1, DAY)]})) as server, client() as polite:
        fetch_server(BIORXIV, ["neuroscience"], DAY, client=polite, base_url=server.url + "/details", **NOW)
    listing, notice = fetch_server(BIORXIV, ["neuroscience"], offline=True, **NOW)
    assert len(listing) == 1 and listing.date == DAY and notice == "offline: ranking the stored bioRxiv 2026-12-04"


def test_the_command_line_fetches_biorxiv_and_says_so_per_source(home, monkeypatch, tmp_path):
    monkeypatch.setattr(biorxiv, "API_URL", "")  # set below, once the server has its port
    monkeypatch.setattr(biorxiv, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(http, "DEFAULT_BACKOFF", 0.0)
    route = biorxiv_route({("biorxiv", DAY): [posting(n, DAY) for n in range(3)]})
    with serving(route) as server:
        monkeypatch.setattr(biorxiv, "API_URL", server.url + "/details")
        out = tmp_path / "day.jsonl"
        result = CliRunner().invoke(app, ["fetch", "biorxiv:neuroscience", "--date", "2026-12-04", "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert len(out.read_text().splitlines()) == 3
        server.faults = ["503"] * 5
        result = CliRunner().invoke(app, ["fetch", "medrxiv:epidemiology", "--date", "2026-12-04"])
    assert result.exit_code == 75 and "medRxiv is unavailable (HTTP 503)" in result.stderr
    assert "arXiv" not in result.stderr.replace("medRxiv", "")


def test_an_unknown_category_is_fetched_with_a_warning(home, monkeypatch, tmp_path):
    monkeypatch.setattr(biorxiv, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(http, "DEFAULT_BACKOFF", 0.0)
    postings = [posting(1, DAY, category="neuro science"), posting(2, DAY, category="genomics")]
    route = biorxiv_route({("biorxiv", DAY): postings})
    # An API that does not know a category name answers every posting of the day (some clients report this).
    with serving(lambda path, query: route(path, {})) as server:
        monkeypatch.setattr(biorxiv, "API_URL", server.url + "/details")
        out = tmp_path / "day.jsonl"
        result = CliRunner().invoke(app, ["fetch", "biorxiv:Neuro Science", "--date", "2026-12-04", "-o", str(out)])
        made = CliRunner().invoke(app, ["profile", "new", "n", "-s", "biorxiv:neuroscienc"])
    assert result.exit_code == 0, result.output
    assert "'neuro_science' is not a bioRxiv category paperrec knows (closest: neuroscience" in result.stderr
    # Only the postings of the category asked for are kept, though the API answered with the whole day.
    assert [json.loads(line)["categories"] for line in out.read_text().splitlines()] == [["neuro_science"]]
    assert made.exit_code == 0 and "'neuroscienc' is not a bioRxiv category paperrec knows" in made.stderr


def test_a_posting_is_liked_and_unliked_by_its_doi_as_the_site_shows_it(home, monkeypatch, tmp_path):
    monkeypatch.setattr(biorxiv, "MIN_INTERVAL", 0.0)
    with serving(biorxiv_route({("biorxiv", DAY): [posting(n, DAY) for n in range(3)]})) as server:
        monkeypatch.setattr(biorxiv, "API_URL", server.url + "/details")
        assert CliRunner().invoke(app, ["fetch", "biorxiv:neuroscience", "--date", "2026-12-04"]).exit_code == 0
    assert CliRunner().invoke(app, ["profile", "new", "neuro", "-s", "biorxiv:neuroscience"]).exit_code == 0
    refs = [
        "10.1101/2026.12.04.600000",  # a bare DOI, as a paper's page prints it
        "https://doi.org/10.1101/2026.12.04.600001",
        "https://www.biorxiv.org/content/10.1101/2026.12.04.600002v1",  # the address bar
    ]
    liked = CliRunner().invoke(app, ["like", *refs, "-p", "neuro"])
    assert liked.exit_code == 0, liked.output
    assert [line.split()[:2] for line in liked.stderr.splitlines()] == [
        ["liked", f"doi:10.1101/2026.12.04.60000{n}"] for n in range(3)
    ]
    removed = CliRunner().invoke(app, ["unlike", "10.1101/2026.12.04.600000", "DOI:10.1101/2026.12.04.600001"])
    assert removed.exit_code == 0, removed.output
    assert removed.stderr.splitlines() == [f"removed doi:10.1101/2026.12.04.60000{n} from neuro" for n in range(2)]


def test_a_weekend_day_of_biorxiv_can_be_fetched_and_ranked(home, monkeypatch, fake_model):
    saturday = date(2026, 11, 28)  # bioRxiv posts every day; only arXiv's listings are dated Monday to Friday
    monkeypatch.setattr(biorxiv, "MIN_INTERVAL", 0.0)
    with serving(biorxiv_route({("biorxiv", saturday): [posting(n, saturday) for n in range(3)]})) as server:
        monkeypatch.setattr(biorxiv, "API_URL", server.url + "/details")
        fetched = CliRunner().invoke(app, ["fetch", "biorxiv:neuroscience", "--date", "2026-11-28"])
        made = CliRunner().invoke(app, ["profile", "new", "neuro", "-s", "biorxiv:neuroscience", "-i", "cortex"])
        ranked = CliRunner().invoke(app, ["today", "-p", "neuro", "--date", "2026-11-28", "-f", "json"])
        mixed = CliRunner().invoke(app, ["fetch", "cs.CV", "biorxiv:neuroscience", "--date", "2026-11-28"])
    # bioRxiv posts; only arXiv announces
    assert fetched.exit_code == 0 and fetched.stderr.endswith("3 papers of 2026-11-28\n"), fetched.output
    assert made.exit_code == 0 and ranked.exit_code == 0, made.output + ranked.output
    assert len(json.loads(ranked.stdout)) == 3
    # With arXiv among the sources, arXiv alone refuses the day, in its line; bioRxiv's papers still come.
    assert mixed.exit_code == 0, mixed.output
    assert mixed.stderr.splitlines()[:2] == [
        "arXiv cs.CV: failed (2026-11-28 is a Saturday: arXiv listings are dated Monday to Friday; try 2026-11-27)",
        "bioRxiv neuroscience: 3 papers",
    ]


def test_a_day_without_postings_says_which_day_it_was(home, monkeypatch, fake_model):
    monkeypatch.setattr(biorxiv, "MIN_INTERVAL", 0.0)
    with serving(biorxiv_route({})) as server:
        monkeypatch.setattr(biorxiv, "API_URL", server.url + "/details")
        made = CliRunner().invoke(app, ["profile", "new", "neuro", "-s", "biorxiv:neuroscience", "-i", "cortex"])
        assert made.exit_code == 0, made.output
        result = CliRunner().invoke(app, ["today", "-p", "neuro", "--date", "2026-11-29"])
    assert result.exit_code == 0, result.output
    assert "neuro: biorxiv:neuroscience 2026-11-29: 0 papers, 0 texts newly embedded, 0 picks" in result.stderr


def test_a_date_out_of_range_for_biorxiv_names_no_arxiv_listing(home):
    result = CliRunner().invoke(app, ["fetch", "biorxiv:neuroscience", "--date", "1980-01-01"])
    assert result.exit_code == 2 and "arXiv" not in result.stderr, result.output
    assert "--date 1980-01-01 is out of range" in result.stderr


def test_liking_a_doi_of_no_stored_day_says_how_to_add_it(home):
    assert CliRunner().invoke(app, ["profile", "new", "neuro", "-s", "biorxiv:neuroscience"]).exit_code == 0
    result = CliRunner().invoke(app, ["like", "10.1016/j.neuron.2023.05.001"])
    assert result.exit_code == 1
    assert "write its DOI or arXiv id in a file and run: paperrec profile import neuro FILE (its" in result.stderr


def test_one_paper_hidden_as_shown_is_counted_as_one(home, monkeypatch, fake_model):
    monkeypatch.setattr(biorxiv, "MIN_INTERVAL", 0.0)
    before = date(2026, 12, 3)  # the same posting on two days, as a day re-posted after a glitch would bring it
    postings = {("biorxiv", before): [posting(1, DAY, date="2026-12-03")], ("biorxiv", DAY): [posting(1, DAY)]}
    with serving(biorxiv_route(postings)) as server:
        monkeypatch.setattr(biorxiv, "API_URL", server.url + "/details")
        made = CliRunner().invoke(app, ["profile", "new", "neuro", "-s", "biorxiv:neuroscience", "-i", "cortex"])
        assert made.exit_code == 0, made.output
        first = CliRunner().invoke(app, ["today", "-p", "neuro", "--date", "2026-12-03"])
        again = CliRunner().invoke(app, ["today", "-p", "neuro", "--date", "2026-12-04"])
    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    assert "neuro: 1 paper hidden as already shown (--include-seen)" in again.stderr
    assert "neuro: no picks among 1 paper: 1 shown on an earlier day" in again.stderr


class _Clock(datetime):
    """datetime whose now() is the moment a test sets."""

    moment = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)

    @classmethod
    def now(cls, tz=None):
        return cls.moment


def test_the_page_of_a_biorxiv_day_compares_it_with_biorxivs_latest_day_not_arxivs(home, monkeypatch, fake_model):
    from starlette.testclient import TestClient

    from recommender.sources import daily
    from recommender.web import Settings, create_app
    from recommender.web import day as web_day

    monkeypatch.setattr(biorxiv, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(daily, "datetime", _Clock)
    sunday, friday = date(2026, 12, 6), date(2026, 12, 4)
    postings = {("biorxiv", d): [posting(n, d) for n in range(3)] for d in (friday, sunday)}
    with serving(biorxiv_route(postings)) as server:
        monkeypatch.setattr(biorxiv, "API_URL", server.url + "/details")
        for d in (friday, sunday):
            assert CliRunner().invoke(app, ["fetch", "biorxiv:neuroscience", "--date", str(d)]).exit_code == 0
    made = CliRunner().invoke(app, ["profile", "new", "neuro", "-s", "biorxiv:neuroscience", "-i", "cortex"])
    assert made.exit_code == 0, made.output
    # Sunday 20:30 in New York: arXiv has announced Monday's listing, and bioRxiv's latest complete day is Sunday.
    monkeypatch.setattr(web_day, "datetime", _Clock)
    served = create_app(Settings(page_wait=30))
    with TestClient(served, base_url="http://127.0.0.1:8787", follow_redirects=False) as page:
        latest = page.get(f"/?profile=neuro&day={sunday}")
        older = page.get(f"/?profile=neuro&day={friday}")
    assert latest.status_code == 200 and older.status_code == 200
    assert 'id="stale"' not in latest.text, "bioRxiv's latest day is the latest this profile can have"
    assert "arXiv" not in older.text
    assert f"Not the latest: this is {friday}, and its sources' latest day is {sunday}." in html.unescape(older.text)


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _fetch_at(server, moment: str, keys=("neuroscience",), source=BIORXIV, **options):
    """fetch_server for the latest day as seen at noon UTC of `moment`, against the fake API."""
    now = datetime.fromisoformat(f"{moment}T12:00+00:00")
    with client() as polite:
        return fetch_server(source, list(keys), client=polite, base_url=server.url + "/details", now=now, **options)


def test_the_days_a_run_missed_are_back_filled_in_one_range_and_said_in_one_line(home):
    postings = {
        ("biorxiv", _day("2026-11-28")): [posting(1, _day("2026-11-28"))],
        ("biorxiv", _day("2026-11-30")): [posting(n, _day("2026-11-30")) for n in range(3)],
        ("biorxiv", _day("2026-12-01")): [posting(9, _day("2026-12-01"), category="genomics")],
        ("biorxiv", _day("2026-12-02")): [posting(4, _day("2026-12-02"))],
        ("biorxiv", DAY): [posting(5, DAY)],
    }
    with serving(biorxiv_route(postings)) as server:
        _fetch_at(server, "2026-11-29")  # the run of Sunday 29 November; then none until Saturday 5 December
        listing, notice = _fetch_at(server, "2026-12-05")
        again, quiet = _fetch_at(server, "2026-12-05")
    assert listing.date == DAY and len(listing) == 1 and again.papers == listing.papers
    asked = [path.split("?")[0] for path in server.paths]
    assert asked == [
        "/details/biorxiv/2026-11-28/2026-11-28/0",
        "/details/biorxiv/2026-12-04/2026-12-04/0",  # the day asked for first
        "/details/biorxiv/2026-11-29/2026-12-03/0",  # then the five days missed, as one range
    ]
    assert notice == (
        "bioRxiv back-filled the days no run fetched: neuroscience 2026-11-29 to 2026-12-03 (4 papers); "
        "'paperrec today --date 2026-11-29' ranks one"
    )
    assert quiet is None  # nothing missed any more, and nothing asked again
    days = ["2026-11-28", "2026-11-30", "2026-12-02", "2026-12-04"]
    assert stored_days("biorxiv:neuroscience") == [_day(d) for d in days]
    assert fetched_days("biorxiv:neuroscience") == [date(2026, 11, 28) + timedelta(days=n) for n in range(7)]


def test_a_small_subjects_empty_days_are_marked_and_raise_nothing(home):
    postings = {("medrxiv", date(2026, 12, 1)): [posting(1, date(2026, 12, 1), "epidemiology")]}
    postings[("medrxiv", DAY)] = [posting(2, DAY, "epidemiology")]
    with serving(biorxiv_route(postings)) as server:
        notices = [_fetch_at(server, f"2026-12-0{n}", ["epidemiology"], MEDRXIV)[1] for n in (2, 3, 4, 5)]
    assert notices == [None] * 4
    # One request a day: the empty 2 and 3 December were fetched once, so no run asks for them again.
    assert [path.split("?")[0].split("/")[3:5] for path in server.paths] == [
        [f"2026-12-0{n}"] * 2 for n in (1, 2, 3, 4)
    ]
    assert stored_days("medrxiv:epidemiology") == [date(2026, 12, 1), DAY]


def test_a_gap_longer_than_a_week_is_back_filled_a_week_and_the_rest_named(home):
    postings = {("biorxiv", d): [posting(d.day, d)] for d in (date(2026, 11, 20), date(2026, 11, 24), DAY)}
    postings[("biorxiv", date(2026, 11, 30))] = [posting(30, date(2026, 11, 30))]
    with serving(biorxiv_route(postings)) as server:
        _fetch_at(server, "2026-11-21")
        _, notice = _fetch_at(server, "2026-12-05")
    assert server.paths[-1].split("?")[0] == "/details/biorxiv/2026-11-27/2026-12-03/0"
    assert notice == (
        "bioRxiv back-filled the days no run fetched: neuroscience 2026-11-27 to 2026-12-03 (1 paper); "
        "'paperrec today --date 2026-11-27' ranks one; bioRxiv neuroscience 2026-11-21 to 2026-11-26 not fetched "
        "(more than 7 days back): 'paperrec fetch biorxiv:neuroscience --date 2026-11-21' fetches one"
    )
    assert date(2026, 11, 24) not in fetched_days("biorxiv:neuroscience")


def test_a_back_fill_that_fails_is_a_notice_and_the_next_run_tries_again(home):
    postings = {("biorxiv", d): [posting(d.day, d)] for d in (date(2026, 12, 2), date(2026, 12, 3), DAY)}
    with serving(biorxiv_route(postings)) as server:
        _fetch_at(server, "2026-12-03")  # 2 December stored
        server.faults = ["none"] + ["503"] * 5  # the day asked for comes; the back-fill's range does not
        listing, notice = _fetch_at(server, "2026-12-05")
        assert len(listing) == 1 and listing.date == DAY
        assert notice == (
            "bioRxiv neuroscience 2026-12-03 not back-filled (bioRxiv is unavailable (HTTP 503) after 5 tries; "
            "try again later); the next run tries again"
        )
        assert fetched_days("biorxiv:neuroscience") == [date(2026, 12, 2), DAY]
        _, notice = _fetch_at(server, "2026-12-05")
    assert notice.startswith("bioRxiv back-filled the days no run fetched: neuroscience 2026-12-03 (1 paper)")


def test_today_back_fills_a_missed_day_and_an_unreachable_biorxiv_is_still_one_line(home, monkeypatch, fake_model):
    from recommender.sources import daily

    monkeypatch.setattr(biorxiv, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(http, "DEFAULT_BACKOFF", 0.0)
    monkeypatch.setattr(daily, "datetime", _Clock)  # latest complete day: Sunday 6 December
    friday, saturday, sunday = date(2026, 12, 4), date(2026, 12, 5), date(2026, 12, 6)
    postings = {("biorxiv", d): [posting(n + 10 * d.day, d) for n in range(2)] for d in (friday, saturday, sunday)}
    made = CliRunner().invoke(app, ["profile", "new", "neuro", "-s", "biorxiv:neuroscience", "-i", "cortex"])
    assert made.exit_code == 0, made.output
    with serving(biorxiv_route(postings)) as server:
        monkeypatch.setattr(biorxiv, "API_URL", server.url + "/details")
        assert CliRunner().invoke(app, ["fetch", "biorxiv:neuroscience", "--date", str(friday)]).exit_code == 0
        server.faults = ["503"] * 5
        down = CliRunner().invoke(app, ["today", "-p", "neuro"])
        ranked = CliRunner().invoke(app, ["today", "-p", "neuro", "-f", "json"])
    assert down.exit_code == 75 and "back-fill" not in down.stderr, down.output
    assert [line for line in down.stderr.splitlines() if "bioRxiv" in line and "retry" not in line] == [
        "paperrec: error: neuro: bioRxiv is unavailable (HTTP 503) after 5 tries; try again later; the stored"
        " 2026-12-04 is there:"
        " 'paperrec today --offline' ranks it"
    ]
    assert ranked.exit_code == 0, ranked.output
    assert (
        "neuro: bioRxiv back-filled the days no run fetched: neuroscience 2026-12-05 (2 papers); "
        "'paperrec today --date 2026-12-05' ranks one"
    ) in ranked.stderr.splitlines()
    assert stored_days("biorxiv:neuroscience") == [friday, saturday, sunday]
    assert len(json.loads(ranked.stdout)) == 2  # today ranks the latest day; the back-filled one waits for its turn


def test_the_back_fill_keeps_within_its_own_deadline(home, monkeypatch):
    from recommender.sources import daily

    monkeypatch.setattr(daily, "BACKFILL_SECONDS", 0.0)  # spent before the first request of the back-fill
    postings = {("biorxiv", d): [posting(d.day, d)] for d in (date(2026, 12, 2), date(2026, 12, 3), DAY)}
    with serving(biorxiv_route(postings)) as server:
        _fetch_at(server, "2026-12-03")
        listing, notice = _fetch_at(server, "2026-12-05", ["neuroscience", "genomics"])
    assert len(listing) == 1 and len(server.paths) == 3  # the day asked for, and no request of the back-fill
    assert notice == (
        "bioRxiv neuroscience 2026-12-03 not back-filled (gave up on bioRxiv: this fetch's deadline has passed; "
        "try again later); the next run tries again"
    )


def test_a_back_fill_that_failed_is_tried_again_by_the_next_days_run(home):
    postings = {("biorxiv", d): [posting(d.day, d)] for d in (date(2026, 12, 2), date(2026, 12, 3), DAY)}
    postings[("biorxiv", date(2026, 12, 5))] = [posting(5, date(2026, 12, 5))]
    with serving(biorxiv_route(postings)) as server:
        _fetch_at(server, "2026-12-03")  # 2 December stored
        server.faults = ["none"] + ["503"] * 5  # the day asked for comes; the back-fill's range does not
        _, failed = _fetch_at(server, "2026-12-05")
        assert "the next run tries again" in failed
        _, notice = _fetch_at(server, "2026-12-06")  # the next morning's run: 4 December is behind it now
    assert server.paths[-1].split("?")[0] == "/details/biorxiv/2026-12-03/2026-12-03/0"
    assert notice == (
        "bioRxiv back-filled the days no run fetched: neuroscience 2026-12-03 (1 paper); "
        "'paperrec today --date 2026-12-03' ranks one"
    )
    assert fetched_days("biorxiv:neuroscience") == [date(2026, 12, n) for n in (2, 3, 4, 5)]


def test_the_command_to_fetch_an_older_missed_day_quotes_the_source(home):
    from recommender.schema import Listing, Paper
    from recommender.sources.daily import fetch_keyed

    def fetch_one(client, key, day):
        return Listing(papers=(Paper.make(title=f"{key} {day}", raw_id=f"doi:10.1101/{day}"),))

    def fetch_range(client, key, start, end):
        return {start + timedelta(days=n): fetch_one(client, key, start) for n in range((end - start).days + 1)}

    def at(key: str, moment: str) -> str | None:
        now = datetime.fromisoformat(f"{moment}T12:00+00:00")
        options = {"hosts": frozenset({"x.example"}), "min_interval": 0.0, "now": now, "client": client()}
        return fetch_keyed("odd", "Odd", [key], None, fetch_one=fetch_one, fetch_range=fetch_range, **options)[1]

    for key, spec in [("two words", "'odd:two words'"), ("plain", "odd:plain")]:
        at(key, "2026-11-21")
        assert f"'paperrec fetch {spec} --date 2026-11-21' fetches one" in at(key, "2026-12-05")
