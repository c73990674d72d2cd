"""A site's own feeds: RSS 2.0, RSS 1.0 and Atom parsed to papers, the days entries arrived on, faults, the CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.schema import Listing, PaperrecError, UsageError
from recommender.sources import feed, http
from recommender.sources.day import fetch_sources
from recommender.sources.feed import fetch_listing, parse_feed
from recommender.sources.http import NetworkError, PoliteClient, TemporaryNetworkError
from recommender.sources.registry import parse_spec, parse_specs
from recommender.sources.store import latest_day

from .fixture_apis import atom_feed, feed_route, nature_rss, rdf_rss, serving

DAY = date(2026, 12, 5)
NOW = {"now": datetime(2026, 12, 5, 9, tzinfo=UTC)}
NEXT = {"now": datetime(2026, 12, 6, 9, tzinfo=UTC)}


def client(**options) -> PoliteClient:
    notes: list[str] = []
    options.setdefault("min_interval", 0.0)
    made = PoliteClient(
        name="127.0.0.1", notify=notes.append, sleep=lambda s: None, share_spacing=False, backoff=0.0, **options
    )
    made.notes = notes  # type: ignore[attr-defined]
    return made


def rss(items: str) -> bytes:
    """A bare RSS 2.0 feed around `items`, with the namespaces publishers use."""
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel><title>T</title><link>https://example.org/</link>{items}</channel></rss>"
    ).encode()


# ---- parsing -------------------------------------------------------------------------------------------------------


def test_an_rss_etoc_feed_is_papers_known_by_their_doi_with_markup_removed():
    papers, skipped = parse_feed(nature_rss([("s41593-026-01234-5", "Cortical waves in mice", "2026-12-04")]))
    assert skipped == 0 and len(papers) == 1
    paper = papers[0]
    assert paper.arxiv_id == "doi:10.1038/s41593-026-01234-5"
    assert paper.title == "Cortical waves in mice" and paper.authors == ("Ada Lovelace", "Alan Turing")
    # The journal's opening line and the figure go; the words and the entity stay as text.
    assert paper.abstract == "We record in vivo from cortical waves in mice & model it."
    assert paper.date == date(2026, 12, 4)
    assert paper.links == (
        "https://www.nature.com/articles/s41593-026-01234-5",
        "https://doi.org/10.1038/s41593-026-01234-5",
    )


def test_a_summary_right_after_natures_opening_line_keeps_its_first_word():
    # Nature's journals write the summary straight after the </p> of their opening line, with no space between.
    summary = (
        "<p>Nature Cell Biology, Published online: 03 December 2026; "
        '<a href="https://www.nature.com/articles/s41556-026-01003-3">doi:10.1038/s41556-026-01003-3</a></p>'
        "Super-enhancers recruit MED1 into condensates."
    )
    item = f"<item><title>Condensates</title><description><![CDATA[{summary}]]></description></item>"
    papers, _ = parse_feed(rss(item))
    assert papers[0].abstract == "Super-enhancers recruit MED1 into condensates."
    assert papers[0].arxiv_id == "doi:10.1038/s41556-026-01003-3"


def test_a_script_in_a_summary_is_dropped_and_an_unclosed_one_costs_one_pass(monkeypatch):
    import recommender.sources.feed as feed

    summary = "<script>alert(1)</script>Cilia <STYLE type='x'>p{}</style>sense <script>a <script>b</script>light."
    papers, _ = parse_feed(rss(f"<item><title>Cilia</title><description><![CDATA[{summary}]]></description></item>"))
    assert papers[0].abstract == "Cilia sense light."
    # Openers that no closer ends were each read to the end of the text: 20,000 of them took 11 s. The element
    # pattern now reads the text only up to the last closer, so what follows it is never searched from each opener.
    read: list[int] = []

    class Counted:
        def __init__(self, pattern):
            self.pattern = pattern

        def sub(self, repl, text):
            read.append(len(text))
            return self.pattern.sub(repl, text)

    monkeypatch.setattr(feed, "_DROPPED", [(Counted(element), closer) for element, closer in feed._DROPPED])
    many = "<script>" * 20_000
    papers, _ = parse_feed(rss(f"<item><title>X</title><description><![CDATA[{many}]]></description></item>"))
    assert papers[0].abstract == many and read == []  # no closer: the element pattern reads nothing
    tail = "<script>" * 1_000
    papers, _ = parse_feed(
        rss(f"<item><title>Y</title><description><![CDATA[<script>a</script>{tail}]]></description></item>")
    )
    assert papers[-1].abstract == tail and max(read) == len("<script>a</script>")  # up to the last closer only


def test_an_entry_keeps_the_journal_its_feed_names():
    prism = 'xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/"'
    named = (
        f'<?xml version="1.0"?><rss version="2.0" {prism}><channel><title>Nature Neuroscience - Issue</title>'
        "<prism:publicationName>Nature Neuroscience</prism:publicationName>"
        "<item><title>Own name</title><prism:doi>10.1038/s1</prism:doi>"
        "<prism:publicationName> Nature  Methods </prism:publicationName></item>"
        "<item><title>The channel's name</title><prism:doi>10.1038/s2</prism:doi></item></channel></rss>"
    ).encode()
    own, channels = parse_feed(named)[0]
    assert (own.venue, channels.venue) == ("Nature Methods", "Nature Neuroscience")
    # A feed that names no journal: its title ('PLOS Biology: New Articles') is no journal's name.
    assert {paper.venue for paper in parse_feed(atom_feed([("10.1371/x", "Fly brains", None)]))[0]} == {""}


def test_an_rdf_feed_takes_the_doi_from_the_link_path_and_the_longer_content():
    papers, _ = parse_feed(rdf_rss([("10.1111/ejn.70001", "Hippocampal replay", "2026-12-03T20:00:00-08:00")]))
    paper = papers[0]
    assert paper.arxiv_id == "doi:10.1111/ejn.70001"
    assert paper.abstract == "The Ca2+ flux in hippocampal replay, measured with care over many sessions."
    assert paper.authors == ("Grace Hopper", "Katherine Johnson")
    assert paper.date == date(2026, 12, 4)  # 20:00 in California is the next day in UTC


def test_an_atom_feed_takes_the_doi_from_its_info_uri_and_dates_in_utc():
    papers, _ = parse_feed(atom_feed([("10.1371/journal.pbio.3000001", "Fly brains", "2026-12-04T23:30:00-05:00")]))
    paper = papers[0]
    assert paper.arxiv_id == "doi:10.1371/journal.pbio.3000001" and paper.date == date(2026, 12, 5)
    assert paper.abstract == "We map fly brains across species." and paper.authors == (
        "Rosalind Franklin",
        "Francis Crick",
    )


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            "<dc:identifier>doi:10.1016/J.Neuron.2026.11.001</dc:identifier><link>https://x.org/a/1</link>",
            "doi:10.1016/j.neuron.2026.11.001",
        ),
        ("<link>https://doi.org/10.1126/science.adz1234</link>", "doi:10.1126/science.adz1234"),
        ("<link>https://pubs.acs.org/doi/abs/10.1021/jacs.6b01234?af=R</link>", "doi:10.1021/jacs.6b01234"),
        ("<link>https://arxiv.org/abs/2612.01234v2</link>", "2612.01234"),
        (
            "<description>Nature, Published online: 1 December 2026; doi:10.1038/d41586-026-01</description>",
            "doi:10.1038/d41586-026-01",
        ),
        (f"<description>{'Words. ' * 50}As shown before (doi:10.1038/other-paper).</description>", "t:"),
        ("<link>https://www.sciencedirect.com/science/article/pii/S0896627326001234</link>", "t:"),
    ],
)
def test_an_entry_is_known_by_its_doi_else_its_arxiv_id_else_its_title(item, expected):
    papers, _ = parse_feed(rss(f"<item><title>A study of things</title>{item}</item>"))
    assert papers[0].arxiv_id.startswith(expected) and (expected != "t:" or len(papers[0].arxiv_id) == 14)


def test_an_entry_without_a_date_or_a_title():
    papers, skipped = parse_feed(rss("<item><title>Undated</title></item><item><description>x</description></item>"))
    assert [(p.title, p.date) for p in papers] == [("Undated", None)] and skipped == 1


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>x</body></html>", "is a web page (HTML)"),
        (b"<?xml version='1.0'?><rss version='2.0'><channel><item><title>a</title></channel></rss>", "not well-formed"),
        (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss version="2.0"></rss>', "declares XML entities"),
        (b'<?xml version="1.0"?><catalog><book>x</book></catalog>', "is not an RSS or Atom feed"),
    ],
)
def test_what_is_no_feed_is_one_line(body, says):
    with pytest.raises(PaperrecError) as raised:
        parse_feed(body, "the feed X")
    assert says in str(raised.value) and "\n" not in str(raised.value) and str(raised.value).startswith("the feed X")


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "cp037"])
def test_entities_are_refused_in_any_encoding_the_parser_reads(codec):
    # Declared entities expand many times over (up to expat's factor of 100): a feed in UTF-16 or EBCDIC hides them
    # from a look at its bytes.
    name = {"cp037": "EBCDIC-CP-US"}.get(codec, codec.upper())
    text = (
        f'<?xml version="1.0" encoding="{name}"?><!DOCTYPE r [<!ENTITY a "{"x" * 100}">]>'
        '<rss version="2.0"><channel><item><title>&a;&a;</title><link>https://example.org/1</link></item>'
        "</channel></rss>"
    )
    with pytest.raises(PaperrecError, match="declares XML entities"):
        parse_feed(text.encode(codec), "the feed X")


# ---- the key -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["feed:ftp://x.org/f.rss", "feed:file:///etc/passwd", "feed:nature.com/neuro.rss"])
def test_only_http_addresses_are_feeds(text):
    with pytest.raises(UsageError, match=r"is not an http\(s\) address of a feed"):
        parse_spec(text)


def test_a_feed_spec_keeps_its_address_and_shows_no_token():
    spec = parse_spec(" feed:https://www.cell.com/rss/neuron.xml?token=SECRET ")
    assert spec.key == "https://www.cell.com/rss/neuron.xml?token=SECRET"
    assert spec.source.shown(spec.key) == "https://www.cell.com/rss/neuron.xml?***"


# ---- fetching: the days entries arrive on --------------------------------------------------------------------------


def test_a_fetch_adds_only_entries_no_stored_day_holds_to_today(home):
    feeds = {"/neuro.rss": nature_rss([("s1", "First paper", "2026-12-04"), ("s2", "Undated paper", None)])}
    with serving(feed_route(feeds)) as server, client() as polite:
        url = server.url + "/neuro.rss"
        first, notice = fetch_listing([url], client=polite, **NOW)
        feeds["/neuro.rss"] = nature_rss([("s3", "Third paper", None), ("s1", "First paper", "2026-12-04")])
        again, _ = fetch_listing([url], client=polite, **NOW)  # later the same day: today's file grows
        tomorrow, _ = fetch_listing([url], client=polite, **NEXT)
    assert notice is None and first.date == DAY and [p.title for p in first.papers] == ["First paper", "Undated paper"]
    assert [p.title for p in again.papers] == ["First paper", "Undated paper", "Third paper"]
    assert tomorrow.date == date(2026, 12, 6) and tomorrow.papers == ()  # nothing new arrived
    folder = next((home / "listings" / "feed").iterdir())
    assert folder.name.startswith("127.0.0.1-") and [p.name for p in folder.iterdir()] == ["2026-12-05.jsonl"]


def test_a_past_day_and_offline_read_only_what_arrived(home):
    feeds = {"/f.xml": atom_feed([("10.1371/a", "Fly brains", "2026-12-01T10:00:00Z")])}
    with serving(feed_route(feeds)) as server, client() as polite:
        url = server.url + "/f.xml"
        with pytest.raises(PaperrecError, match="no stored feed:"):
            fetch_listing([url], offline=True, **NOW)
        fetch_listing([url], client=polite, **NOW)
        asked = len(server.paths)
        past, past_notice = fetch_listing([url], date(2026, 12, 1), client=polite, **NEXT)
        offline, notice = fetch_listing([url], offline=True, **NEXT)
    assert len(server.paths) == asked  # neither asked the feed
    assert past.papers == () and "a feed holds only recent entries" in past_notice
    assert [p.title for p in offline.papers] == ["Fly brains"] and offline.date == DAY
    assert notice == "offline: ranking the feeds' entries that arrived on 2026-12-05"


@pytest.mark.parametrize(
    ("faults", "error", "says"),
    [
        (["503"], None, "127.0.0.1 unavailable (HTTP 503), retry 1/4"),
        (["429"], None, "127.0.0.1 busy (HTTP 429), retry 1/4"),
        (["503"] * 5, TemporaryNetworkError, "127.0.0.1 is unavailable (HTTP 503) after 5 tries"),
    ],
)
def test_a_busy_server_is_retried_then_try_later(home, faults, error, says):
    with serving(feed_route({"/f.rss": nature_rss([("s1", "One", None)])})) as server, client() as polite:
        server.faults = list(faults)
        if error is None:
            listing, _ = fetch_listing([server.url + "/f.rss"], client=polite, **NOW)
            assert len(listing) == 1 and any(says in note for note in polite.notes), polite.notes
        else:
            with pytest.raises(error) as raised:
                fetch_listing([server.url + "/f.rss"], client=polite, **NOW)
            assert says in str(raised.value)


def test_an_oversized_feed_is_refused_in_one_line(home):
    big = nature_rss([(f"s{n}", f"Paper {n}", None) for n in range(200)])
    with (
        serving(feed_route({"/f.rss": big})) as server,
        client(max_bytes=10_000) as polite,
        pytest.raises(NetworkError, match="larger than 10,000 bytes: refused"),
    ):
        fetch_listing([server.url + "/f.rss"], client=polite, **NOW)
    assert len(big) > 10_000


def test_an_address_with_a_token_is_never_shown_whole(home):
    with serving(feed_route({})) as server, client() as polite:
        url = server.url + "/private.rss?token=SECRET"
        with pytest.raises(NetworkError) as raised:
            fetch_listing([url], client=polite, **NOW)
    assert "HTTP 404" in str(raised.value) and "SECRET" not in str(raised.value)
    assert "/private.rss?***" in str(raised.value)


def test_a_failing_feed_is_a_notice_while_another_gives_papers(home):
    feeds = {"/ok.rss": nature_rss([("s1", "One", None)]), "/page.rss": b"<html><body>moved</body></html>"}
    with serving(feed_route(feeds)) as server, client() as polite:
        listing, notice = fetch_listing([server.url + "/page.rss", server.url + "/ok.rss"], client=polite, **NOW)
    assert [p.title for p in listing.papers] == ["One"]
    assert notice is not None and "/page.rss failed (the feed" in notice and "is a web page (HTML)" in notice


def test_report_lines_and_the_store_never_hold_a_token(home, monkeypatch):
    monkeypatch.setattr(feed, "MIN_INTERVAL", 0.0)

    def no_arxiv(keys, day, **options):
        return Listing(papers=()), None

    with serving(feed_route({"/p.rss": nature_rss([("s1", "One", None)])})) as server:
        specs = parse_specs(
            [f"feed:{server.url}/p.rss?token=SECRET", f"feed:{server.url}/gone.rss?token=SECRET", "cs.CV"]
        )
        fetched = fetch_sources(specs, fetchers={"arxiv": no_arxiv})
    lines = fetched.lines()
    assert [p.title for p in fetched.listing.papers] == ["One"] and "SECRET" not in " ".join(lines)
    assert lines[0].startswith(f"Feed {server.url}/p.rss?*** {server.url}/gone.rss?***: 1 paper (")
    assert f"{server.url}/gone.rss?*** failed (127.0.0.1 returned HTTP 404" in lines[0]
    assert latest_day([str(specs[0])]) is not None  # a run's failure asks the store by the spec, as for any source
    assert not any("SECRET" in str(path) for path in (home / "listings").rglob("*"))


# ---- the command line ----------------------------------------------------------------------------------------------


def test_sources_lists_the_feed_kind_and_its_day():
    result = CliRunner().invoke(app, ["sources"])
    assert result.exit_code == 0
    assert "feed:KEY  Feed, e.g. feed:https://www.nature.com/neuro.rss" in result.stdout
    assert "the day (UTC) paperrec first saw an entry" in result.stdout


def test_a_spec_that_is_no_address_is_exit_2(home):
    result = CliRunner().invoke(app, ["fetch", "feed:gopher://x.org/f?key=SECRET"])
    assert result.exit_code == 2 and "is not an http(s) address of a feed" in result.stderr
    assert "SECRET" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_today_ranks_a_profiles_feed_and_a_busy_feed_is_exit_75(home, monkeypatch, fake_model):
    monkeypatch.setattr(feed, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(http, "DEFAULT_BACKOFF", 0.0)
    items = [("s1", "Cortex dynamics in mice", "2026-12-04"), ("s2", "Cortex and sleep", None), ("s3", "Fish", None)]
    with serving(feed_route({"/feed.rss": nature_rss(items)})) as server:
        spec = f"feed:{server.url}/feed.rss"
        made = CliRunner().invoke(app, ["profile", "new", "neuro", "-s", spec, "-i", "cortex"])
        assert made.exit_code == 0, made.output
        ranked = CliRunner().invoke(app, ["today", "-p", "neuro", "-f", "json"])
        server.route = feed_route({"/feed.rss": nature_rss([("s4", "Cortex late", None), *items])})
        again = CliRunner().invoke(app, ["today", "-p", "neuro", "-f", "json"])  # a rerun the same day
        server.faults = ["503"] * 5
        busy = CliRunner().invoke(app, ["fetch", spec])
    assert ranked.exit_code == 0, ranked.output
    picks = json.loads(ranked.stdout)
    assert sorted(pick["id"] for pick in picks) == ["doi:10.1038/s1", "doi:10.1038/s2", "doi:10.1038/s3"]
    # A rerun the same day ranks the day again (as for every source), now with the entry that arrived since.
    assert again.exit_code == 0, again.output
    assert sorted(pick["id"] for pick in json.loads(again.stdout))[-1] == "doi:10.1038/s4"
    assert len(json.loads(again.stdout)) == 4
    assert busy.exit_code == 75 and "127.0.0.1 is unavailable (HTTP 503)" in busy.stderr


def test_a_vote_takes_the_journals_own_page_as_copied_from_the_browser(home, monkeypatch):
    monkeypatch.setattr(feed, "MIN_INTERVAL", 0.0)
    items = [("s41556-026-01001-1", "Condensates of MED1", None), ("s41556-026-01002-2", "Cilia and Hedgehog", None)]
    with serving(feed_route({"/ncb.rss": nature_rss(items)})) as server:
        spec = f"feed:{server.url}/ncb.rss"
        assert CliRunner().invoke(app, ["fetch", spec]).exit_code == 0
    assert CliRunner().invoke(app, ["profile", "new", "bio", "-s", spec]).exit_code == 0
    # The article's page is what a reader copies: with a tracking query, a section anchor, or a slash at the end.
    pages = [
        "https://www.nature.com/articles/s41556-026-01001-1?utm_source=rss&utm_medium=feed#Abs1",
        "http://www.nature.com/articles/s41556-026-01002-2/",
    ]
    voted = CliRunner().invoke(app, ["like", *pages, "-p", "bio"])
    assert voted.exit_code == 0, voted.output
    assert [line.split()[:2] for line in voted.stderr.splitlines()] == [
        ["liked", "doi:10.1038/s41556-026-01001-1"],
        ["liked", "doi:10.1038/s41556-026-01002-2"],
    ]


def test_a_runs_summary_line_shows_no_token(home, monkeypatch, fake_model):
    monkeypatch.setattr(feed, "MIN_INTERVAL", 0.0)
    with serving(feed_route({"/p.rss": nature_rss([("s1", "Cortex waves", None)])})) as server:
        spec = f"feed:{server.url}/p.rss?token=SECRET"
        made = CliRunner().invoke(app, ["profile", "new", "neuro", "-s", spec, "-i", "cortex"])
        assert made.exit_code == 0, made.output
        ranked = CliRunner().invoke(app, ["today", "-p", "neuro"])
    assert ranked.exit_code == 0, ranked.output
    # The summary line goes to the cron log with the report lines, which already hide the token.
    assert f"neuro: feed:{server.url}/p.rss?*** " in ranked.stderr and "SECRET" not in ranked.stderr


def test_correction_notices_are_left_out_and_a_retraction_of_a_liked_paper_is_said(home, monkeypatch, fake_model):
    monkeypatch.setattr(feed, "MIN_INTERVAL", 0.0)
    liked = "Piezo1 licenses chromatin looping in <i>Saccharomyces cerevisiae</i>"
    items = [
        ("s41556-026-01001-1", "Condensates of MED1 and BRD4 organise super-enhancer chromatin", None),
        ("s41556-026-01002-2", f"Author Correction: {liked}", None),
        ("s41556-026-01003-3", "Publisher Correction: Cilia and Hedgehog signalling", None),
        ("s41556-026-01004-4", "Retraction Note: Piezo1 licenses chromatin looping in Saccharomyces cerevisiae", None),
        ("s41556-026-01005-5", "Expression of Concern: Mitophagy receptors in neurons", None),  # of no liked paper
    ]
    with serving(feed_route({"/ncb.rss": nature_rss(items)})) as server:
        spec = f"feed:{server.url}/ncb.rss"
        (home / "profiles").mkdir(parents=True, exist_ok=True)
        (home / "profiles" / "bio.toml").write_text(
            f'name = "bio"\nsources = ["{spec}"]\n\n[[liked]]\nid = "doi:10.1038/s41556-025-00777-7"\n'
            f'title = "{liked}"\nabstract = "Piezo1 opens chromatin loops."\nadded = 2026-12-01\n'
        )
        ranked = CliRunner().invoke(app, ["today", "-p", "bio", "-f", "json"])
        digest = CliRunner().invoke(app, ["today", "-p", "bio", "-f", "html", "--offline"])
    assert ranked.exit_code == 0, ranked.output
    assert [pick["id"] for pick in json.loads(ranked.stdout)] == ["doi:10.1038/s41556-026-01001-1"]
    assert digest.exit_code == 0, digest.output
    assert (
        '<p class="notice">A notice on a paper you liked: <a href="https://doi.org/10.1038/s41556-026-01004-4">'
        "Retraction Note: Piezo1 licenses chromatin looping in Saccharomyces cerevisiae</a></p>" in digest.stdout
    )
    assert "Author Correction" not in digest.stdout
    summary = next(line for line in ranked.stderr.splitlines() if " newly embedded, " in line)
    assert ": 5 papers, 2 correction notices and 2 retraction notices left out, " in summary, summary
    assert [line for line in ranked.stderr.splitlines() if "notice on a paper you liked" in line] == [
        "bio: a notice on a paper you liked (doi:10.1038/s41556-025-00777-7): Retraction Note: Piezo1 licenses"
        " chromatin looping in Saccharomyces cerevisiae https://doi.org/10.1038/s41556-026-01004-4"
    ]


# ---- the served pages ----------------------------------------------------------------------------------------------


def _feed_profile_served(home, url: str):
    """A page client for a profile that follows `url`, its feed's entries of today stored."""
    from starlette.testclient import TestClient

    from recommender.web import Settings, create_app

    made = CliRunner().invoke(app, ["profile", "new", "neuro", "-s", f"feed:{url}", "-i", "cortex"])
    assert made.exit_code == 0, made.output
    with client() as polite:
        fetch_listing([url], client=polite)
    return TestClient(create_app(Settings(page_wait=30)), base_url="http://127.0.0.1:8787", follow_redirects=False)


def test_the_today_page_of_a_feed_with_a_token_never_shows_the_token(home, fake_model):
    with serving(feed_route({"/p.rss": nature_rss([("s1", "Cortex waves", None)])})) as server:
        url = f"{server.url}/p.rss?token=SECRET"
        with _feed_profile_served(home, url) as page:
            today = page.get("/?profile=neuro")
    # A lab's server shows its pages to others: the stored day names its feed without the token.
    assert today.status_code == 200 and "Cortex waves" in today.text
    assert f"stored listings of feed:{server.url}/p.rss?***" in today.text and "SECRET" not in today.text


def test_the_profile_page_shows_and_edits_the_sources_without_the_token(home, fake_model):
    from recommender.profile import load_profile

    with serving(feed_route({"/p.rss": nature_rss([("s1", "Cortex waves", None)])})) as server:
        url = f"{server.url}/p.rss?token=SECRET"
        with _feed_profile_served(home, url) as page:
            shown = page.get("/profile?profile=neuro")
            csrf = page.app.state.csrf
            # The line as the page shows it keeps the address with its token; a new line is a new source.
            kept = f"feed:{server.url}/p.rss?***\nbiorxiv:neuroscience\n"
            saved = page.post("/profile/sources", data={"csrf": csrf, "profile": "neuro", "sources": kept})
            bad = page.post("/profile/sources", data={"csrf": csrf, "profile": "neuro", "sources": "feed:ftp://x"})
    assert shown.status_code == 200 and "SECRET" not in shown.text
    assert f"feed:{server.url}/p.rss?***</textarea>" in shown.text
    assert saved.status_code == 303, saved.text
    assert load_profile(home / "profiles" / "neuro.toml").sources == (f"feed:{url}", "biorxiv:neuroscience")
    assert bad.status_code == 400 and "is not an http(s) address of a feed" in bad.text
    assert load_profile(home / "profiles" / "neuro.toml").sources == (f"feed:{url}", "biorxiv:neuroscience")


class _Clock(datetime):
    """datetime whose now() is the moment a test sets, so a test can live several days."""

    moment = datetime(2026, 12, 7, 9, tzinfo=UTC)

    @classmethod
    def now(cls, tz=None):
        return cls.moment


def test_a_fetch_that_brings_nothing_new_says_so_and_offers_the_day_before(home, fake_model, monkeypatch):
    import time

    monkeypatch.setattr(feed, "datetime", _Clock)
    monkeypatch.setattr(_Clock, "moment", datetime(2026, 12, 7, 9, tzinfo=UTC))
    with serving(feed_route({"/p.rss": nature_rss([("s1", "Cortex waves", None)])})) as server:
        page = _feed_profile_served(home, f"{server.url}/p.rss")
        with page:
            monkeypatch.setattr(_Clock, "moment", datetime(2026, 12, 8, 9, tzinfo=UTC))  # the next day: nothing new
            job = page.app.state.service.fetch_today()
            deadline = time.monotonic() + 300  # a bound for a stuck job, not a measure
            while job.running and time.monotonic() < deadline:
                time.sleep(0.01)
            shown = page.get("/?profile=neuro")
    assert shown.status_code == 200 and "2026-12-08" in shown.text and "0 papers" in shown.text
    assert "already in the profile or was shown before" not in shown.text
    assert "No papers on this day: nothing new arrived from its sources." in shown.text
    assert '<option value="2026-12-07">' in shown.text  # the day picker leads back to the day that had them


def test_a_day_with_nothing_new_says_when_the_last_entries_arrived(home):
    with serving(feed_route({"/f.rss": nature_rss([("s1", "One", None)])})) as server, client() as polite:
        url = server.url + "/f.rss"
        fetch_listing([url], client=polite, **NOW)
        again, same_day = fetch_listing([url], client=polite, **NOW)
        tomorrow, notice = fetch_listing([url], client=polite, **NEXT)
    assert len(again) == 1 and same_day is None
    assert tomorrow.papers == ()
    assert notice == "nothing new in the feed since 2026-12-05: '--date 2026-12-05' ranks what arrived then"


def test_fetch_says_a_feeds_entries_arrived_not_that_they_were_announced(home, monkeypatch):
    monkeypatch.setattr(feed, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(feed, "datetime", _Clock)
    with serving(feed_route({"/f.rss": nature_rss([("s1", "One", None), ("s2", "Two", None)])})) as server:
        fetched = CliRunner().invoke(app, ["fetch", f"feed:{server.url}/f.rss"])
    assert fetched.exit_code == 0, fetched.output
    assert fetched.stderr.splitlines()[-1] == "2 papers arrived on 2026-12-07"


def test_sources_fits_80_columns_and_says_openreviews_day():
    result = CliRunner().invoke(app, ["sources"])
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 80, result.stdout
    assert "made public (odate, UTC), else its creation date" in " ".join(result.stdout.split())
