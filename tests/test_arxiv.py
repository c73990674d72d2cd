"""arXiv source: feed and API parsing, the announcement schedule, the polite client on a local server, the store."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from recommender.schema import PaperrecError, TemporaryFailure, UsageError
from recommender.sources import arxiv, to_jsonl
from recommender.sources.arxiv import (
    fetch_day,
    fetch_feed,
    fetch_listing,
    fetch_metadata,
    is_announcement_day,
    latest_announcement,
    parse_api,
    parse_feed,
    submission_window,
)
from recommender.sources.http import NetworkError, PoliteClient, retry_after_seconds
from recommender.sources.records import read_jsonl

from .fixture_apis import QuietServer

FIXTURES = Path(__file__).parent / "fixtures" / "arxiv"
EASTERN = ZoneInfo("America/New_York")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# ---- a real HTTP server on 127.0.0.1 -------------------------------------------------------------------------------


@dataclass
class Request:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class LocalServer:
    """A threaded http.server on a free port; `handle` decides each reply, `requests` records what came in."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.handle: Callable[[Request], Reply] = lambda request: Reply()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                request = Request(
                    path=parts.path,
                    params={key: values[-1] for key, values in parse_qs(parts.query).items()},
                    headers=dict(self.headers.items()),
                )
                owner.requests.append(request)
                reply = owner.handle(request)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # A short poll interval so that shutdown() returns at once instead of after up to half a second.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()

    def script(self, *replies: Reply) -> None:
        """Answer with these replies in turn, repeating the last."""
        queue = list(replies)
        self.handle = lambda request: queue.pop(0) if len(queue) > 1 else queue[0]

    def routes(self, table: dict[str, Callable[[Request], Reply] | bytes]) -> None:
        """Answer by path: bytes are served as they are, callables decide; other paths get a 404."""

        def handle(request: Request) -> Reply:
            target = table.get(request.path)
            if target is None:
                return Reply(404, b"not found")
            return target(request) if callable(target) else Reply(200, target)

        self.handle = handle

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    local = LocalServer()
    yield local
    local.close()


class FakeTime:
    """A clock that only moves when slept on (or advanced), recording every sleep asked for."""

    def __init__(self, now: float = 1000.0):
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(fake_time: FakeTime) -> Iterator[PoliteClient]:
    """A client with the default 3 s spacing, the fake clock and no real sleeping."""
    with PoliteClient(clock=fake_time.clock, sleep=fake_time.sleep, timeout=5.0) as polite:
        yield polite


def quick_client(sleeps: list[float], **kwargs) -> PoliteClient:
    """A client on the real clock that records sleeps instead of sleeping, with no spacing unless asked."""
    kwargs.setdefault("min_interval", 0.0)
    return PoliteClient(sleep=sleeps.append, **kwargs)


# ---- feeds ---------------------------------------------------------------------------------------------------------


def test_feed_keeps_new_papers_and_drops_replacements() -> None:
    listing = parse_feed(fixture("rss-cs.CV-2021-04-22.xml"))
    assert [p.arxiv_id for p in listing.papers] == ["2104.10642", "2104.10615", "2104.10602"]
    assert listing.category == "cs.CV"
    assert listing.date == date(2021, 4, 22)
    assert all(p.date == date(2021, 4, 22) and p.version == 1 for p in listing.papers)


def test_feed_cross_lists_only_when_asked_and_never_replacements() -> None:
    listing = parse_feed(fixture("rss-cs.CV-2021-04-22.xml"), include_cross=True)
    ids = [p.arxiv_id for p in listing.papers]
    assert ids == ["2104.10642", "2104.10615", "2104.10602", "2104.10201"]
    assert "2103.14030" not in ids and "2103.00020" not in ids  # replace, replace-cross
    cross = listing.papers[-1]
    assert cross.categories == ("cs.LG", "stat.ML", "cs.CV")  # this feed's category is not its primary one


def test_feed_paper_fields() -> None:
    papers = {p.arxiv_id: p for p in parse_feed(fixture("rss-cs.CV-2021-04-22.xml")).papers}
    tmnet = papers["2104.10642"]
    assert tmnet.title == "Temporal Modulation Network for Controllable Space-Time Video Super-Resolution"
    assert tmnet.abstract.startswith("Space-time video super-resolution (STVSR) aims")
    assert tmnet.authors == ("Gang Xu", "Jun Xu", "Zhen Li", "Liang Wang", "Xing Sun", "Ming-Ming Cheng")
    assert tmnet.categories == ("cs.CV", "eess.IV")
    assert papers["2104.10602"].categories == ("cs.CV", "cs.AI")  # the feed's category first for new papers
    assert not any("Announce Type" in p.abstract or "arXiv:" in p.abstract for p in papers.values())
    # Abstracts are plain text: inequalities and ampersands survive (an HTML clean-up would eat "<k$ ... $k>").
    assert papers["2104.10615"].abstract.endswith(
        "With $n<k$ occluders the recurrent models win, and for $k>m$ all models fail & guess."
    )


def test_atom_feed_and_text_input() -> None:
    listing = parse_feed(fixture("atom-cs.CV-2021-04-22.xml").decode("utf-8"))
    assert [p.arxiv_id for p in listing.papers] == ["2104.10642"]
    assert listing.date == date(2021, 4, 22)
    assert listing.papers[0].authors[-1] == "Ming-Ming Cheng"


def test_empty_weekend_feed_is_an_empty_listing_with_its_date() -> None:
    listing = parse_feed(fixture("rss-cs.CV-2021-04-24-empty.xml"))
    assert listing.papers == ()
    assert listing.date == date(2021, 4, 24)
    assert listing.category == "cs.CV"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (fixture("malformed.xml"), "not well-formed XML"),
        (b"<html><body><h1>503 Service Unavailable</h1></body></html>", "not an RSS or Atom feed"),
        (b"", "not an RSS or Atom feed"),
    ],
)
def test_unreadable_feeds_raise_one_line(content: bytes, words: str) -> None:
    with pytest.raises(PaperrecError, match=words) as caught:
        parse_feed(content)
    assert "\n" not in str(caught.value)


def test_api_entries() -> None:
    papers = parse_api(fixture("api-cs.CV-2021-04-22-page1.xml"))
    assert [(p.arxiv_id, p.version) for p in papers] == [("2104.10201", 1), ("2104.10615", 2)]
    first, second = papers
    assert first.categories == ("cs.LG", "cs.CV", "stat.ML")  # arxiv:primary_category first
    assert first.title == "On the Sample Complexity of Contrastive Pretraining for Dense Prediction"
    assert first.abstract.startswith("We bound the number") and "\n" not in first.abstract
    assert first.authors == ("Ana Pereira", "Tomasz Nowak")
    assert first.date == date(2021, 4, 20)
    assert second.date == date(2021, 4, 21)  # published (version 1), not updated
    (tmnet,) = parse_api(fixture("api-cs.CV-2021-04-22-page2.xml"))
    assert tmnet.categories == ("cs.CV", "eess.IV")  # the ACM class I.4.8 is not an arXiv category


def test_an_acm_class_of_letters_alone_is_not_an_arxiv_category() -> None:
    # ACM's miscellaneous classes (I.m, H.m) have the shape of a category; arXiv writes its own in its own case.
    page = fixture("api-cs.CV-2021-04-22-page2.xml").replace(b'term="I.4.8"', b'term="I.m"')
    assert b'term="I.m"' in page
    (tmnet,) = parse_api(page)
    assert tmnet.categories == ("cs.CV", "eess.IV")


def test_api_error_entry_raises() -> None:
    with pytest.raises(PaperrecError, match=r"incorrect id format for 1234\.12345"):
        parse_api(fixture("api-error.xml"))


# ---- the schedule --------------------------------------------------------------------------------------------------


def eastern(*args: int) -> datetime:
    return datetime(*args, tzinfo=EASTERN)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (eastern(2021, 4, 22, 19, 59), date(2021, 4, 22)),  # Thursday before 20:00: Wednesday evening's mailing
        (eastern(2021, 4, 22, 20, 0), date(2021, 4, 23)),  # Thursday 20:00 brings Friday's listing
        (eastern(2021, 4, 23, 21, 0), date(2021, 4, 23)),  # no announcement on Friday evening
        (datetime(2021, 4, 24, 16, 0, tzinfo=UTC), date(2021, 4, 23)),  # Saturday
        (eastern(2021, 4, 25, 19, 59), date(2021, 4, 23)),  # Sunday before 20:00
        (eastern(2021, 4, 25, 20, 0), date(2021, 4, 26)),  # Sunday 20:00 brings Monday's listing
        (datetime(2021, 4, 26, 0, 30, tzinfo=UTC), date(2021, 4, 26)),  # Sunday 20:30 Eastern, Monday in UTC
    ],
)
def test_latest_announcement_over_a_weekend(now: datetime, expected: date) -> None:
    assert latest_announcement(now) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2021, 3, 8, 0, 30, tzinfo=UTC), date(2021, 3, 5)),  # Sunday 19:30 EST: not yet
        (datetime(2021, 3, 15, 0, 30, tzinfo=UTC), date(2021, 3, 15)),  # same UTC time, Sunday 20:30 EDT: announced
        (datetime(2021, 11, 1, 0, 30, tzinfo=UTC), date(2021, 11, 1)),  # Sunday 20:30 EDT
        (datetime(2021, 11, 8, 0, 30, tzinfo=UTC), date(2021, 11, 5)),  # Sunday 19:30 EST after the change back
    ],
)
def test_latest_announcement_follows_daylight_saving(now: datetime, expected: date) -> None:
    assert latest_announcement(now) == expected


def test_announcement_days_are_monday_to_friday() -> None:
    week = [date(2021, 4, 19) + (date(2021, 4, 20) - date(2021, 4, 19)) * n for n in range(7)]
    assert [is_announcement_day(d) for d in week] == [True] * 5 + [False] * 2


def test_submission_windows() -> None:
    assert submission_window(date(2021, 4, 22)) == (eastern(2021, 4, 20, 14), eastern(2021, 4, 21, 14))
    assert submission_window(date(2021, 4, 26)) == (eastern(2021, 4, 22, 14), eastern(2021, 4, 23, 14))  # Monday
    assert submission_window(date(2021, 4, 27)) == (eastern(2021, 4, 23, 14), eastern(2021, 4, 26, 14))  # Tuesday
    start, end = submission_window(date(2021, 3, 16))  # Friday in EST to Monday in EDT
    assert start.astimezone(UTC) == datetime(2021, 3, 12, 19, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2021, 3, 15, 18, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="Saturday"):
        submission_window(date(2021, 4, 24))


# ---- the polite client ---------------------------------------------------------------------------------------------


def test_user_agent_is_sent(server: LocalServer, client: PoliteClient) -> None:
    response = client.get(f"{server.url}/rss/cs.CV")
    assert response.text == "ok"
    assert server.requests[0].headers["User-Agent"].startswith("paperrec/")
    with PoliteClient(user_agent="mytool/1.0 (me@example.org)", min_interval=0) as custom:
        custom.get(server.url)
    assert server.requests[1].headers["User-Agent"] == "mytool/1.0 (me@example.org)"


def test_429_waits_as_long_as_retry_after_says(server: LocalServer) -> None:
    server.script(Reply(429, b"slow down", {"Retry-After": "7"}), Reply(200, b"fine"))
    sleeps: list[float] = []
    with quick_client(sleeps) as polite:
        assert polite.get(server.url).text == "fine"
    assert sleeps == [7.0]
    assert len(server.requests) == 2


def test_429_without_retry_after_backs_off_then_gives_up(server: LocalServer) -> None:
    server.script(Reply(429, b"slow down"))
    sleeps: list[float] = []
    with quick_client(sleeps, max_retries=2, backoff=2.0) as polite, pytest.raises(NetworkError) as caught:
        polite.get(server.url)
    assert str(caught.value) == "arXiv is rate-limiting us (HTTP 429) after 3 tries; try again later"
    assert sleeps == [2.0, 4.0]
    assert len(server.requests) == 3


def test_retry_after_too_long_gives_up_at_once(server: LocalServer) -> None:
    server.script(Reply(503, b"maintenance", {"Retry-After": "3600"}))
    sleeps: list[float] = []
    with quick_client(sleeps) as polite, pytest.raises(NetworkError, match="asks us to wait 3600 s"):
        polite.get(server.url)
    assert sleeps == []


def test_retry_after_as_http_date() -> None:
    now = datetime(2021, 4, 22, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(datetime(2021, 4, 22, 12, 0, 30, tzinfo=UTC), usegmt=True)
    assert retry_after_seconds(later, now=now) == 30.0
    assert retry_after_seconds("12", now=now) == 12.0
    assert retry_after_seconds("soon", now=now) is None


def test_503_then_success(server: LocalServer) -> None:
    server.script(Reply(503, b"busy"), Reply(200, b"back"))
    sleeps: list[float] = []
    with quick_client(sleeps, backoff=1.5) as polite:
        assert polite.get(server.url).text == "back"
    assert sleeps == [1.5]


def test_404_is_not_retried(server: LocalServer) -> None:
    server.script(Reply(404, b"no such feed"))
    sleeps: list[float] = []
    with quick_client(sleeps) as polite, pytest.raises(NetworkError) as caught:
        polite.get(f"{server.url}/rss/xx.YY")
    assert str(caught.value) == f"arXiv returned HTTP 404 for {server.url}/rss/xx.YY"
    assert len(server.requests) == 1 and sleeps == []


def test_timeouts_are_retried_then_reported(server: LocalServer) -> None:
    server.script(Reply(200, b"too late", delay=0.5))
    sleeps: list[float] = []
    with quick_client(sleeps, timeout=0.05, max_retries=2, backoff=1.0) as polite, pytest.raises(NetworkError) as c:
        polite.get(server.url)
    assert str(c.value) == "arXiv did not answer (offline?): no response within 0.05 s (3 tries)"
    assert sleeps == [1.0, 2.0]  # the backoff asked for, recorded instead of slept
    assert len(server.requests) == 3


def test_connection_refused_is_one_offline_line() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    with quick_client(sleeps, max_retries=1) as polite, pytest.raises(NetworkError) as caught:
        polite.get(f"http://127.0.0.1:{port}/api/query")
    message = str(caught.value)
    assert isinstance(caught.value, PaperrecError)  # so the CLI's one handler reports it
    assert message.startswith("arXiv did not answer (offline?): ")
    assert "refused" in message.lower() and "\n" not in message
    assert sleeps == [2.0]


def test_requests_start_at_least_min_interval_apart(server: LocalServer, fake_time: FakeTime) -> None:
    starts: list[float] = []
    server.handle = lambda request: starts.append(fake_time.now) or Reply()
    with PoliteClient(clock=fake_time.clock, sleep=fake_time.sleep, min_interval=3.0) as polite:
        polite.get(server.url)
        fake_time.now += 1.0  # work between calls counts towards the interval
        polite.get(server.url)
        polite.get(server.url)
        fake_time.now += 10.0
        polite.get(server.url)
    assert fake_time.sleeps == [2.0, 3.0]
    assert [b - a for a, b in itertools.pairwise(starts)] == [3.0, 3.0, 10.0]


# ---- fetching ------------------------------------------------------------------------------------------------------


def api_feed(ids: list[str]) -> bytes:
    """A minimal API answer with one entry per id, in the API's own format."""
    entries = "".join(
        f"""<entry><id>http://arxiv.org/abs/{i}v1</id><published>2021-04-21T10:00:00Z</published>
<updated>2021-04-21T10:00:00Z</updated><title>Paper {i}</title><summary>About {i}.</summary>
<author><name>A. Author</name></author>
<arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.CV"/><category term="cs.CV"/></entry>"""
        for i in ids
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>ArXiv Query</title><id>http://arxiv.org/api/x</id><updated>2021-04-23T00:00:00-04:00</updated>
<opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{len(ids)}</opensearch:totalResults>
{entries}</feed>""".encode()


def api_pages(request: Request) -> Reply:
    page = {"0": "api-cs.CV-2021-04-22-page1.xml", "2": "api-cs.CV-2021-04-22-page2.xml"}[request.params["start"]]
    return Reply(200, fixture(page))


def test_fetch_feed(server: LocalServer, client: PoliteClient) -> None:
    server.routes({"/rss/cs.CV": fixture("rss-cs.CV-2021-04-22.xml")})
    listing = fetch_feed(client, "cs.CV", base_url=f"{server.url}/rss")
    assert len(listing) == 3
    assert listing.sources == (f"{server.url}/rss/cs.CV",)
    with pytest.raises(UsageError, match="not an arXiv category"):
        fetch_feed(client, "../../etc", base_url=f"{server.url}/rss")


def test_fetch_day_pages_through_the_api(server: LocalServer, client: PoliteClient) -> None:
    server.routes({"/api/query": api_pages})
    listing = fetch_day(client, "cs.CV", date(2021, 4, 22), base_url=f"{server.url}/api/query", page_size=2)
    assert [r.params["start"] for r in server.requests] == ["0", "2"]
    first = server.requests[0].params
    assert first["search_query"] == "cat:cs.CV AND submittedDate:[202104201800 TO 202104211759]"
    assert (first["sortBy"], first["sortOrder"], first["max_results"]) == ("submittedDate", "ascending", "2")
    assert [p.arxiv_id for p in listing.papers] == ["2104.10615", "2104.10642"]  # 2104.10201 is primary cs.LG
    assert {p.date for p in listing.papers} == {date(2021, 4, 22)}  # the announcement day, not the submission day
    assert (listing.category, listing.date) == ("cs.CV", date(2021, 4, 22))
    crossed = fetch_day(client, "cs.CV", date(2021, 4, 22), include_cross=True, base_url=f"{server.url}/api/query")
    assert len(crossed) == 3


def test_fetch_metadata_batches_ids(server: LocalServer, client: PoliteClient) -> None:
    server.routes({"/api/query": lambda request: Reply(200, api_feed(request.params["id_list"].split(",")))})
    ids = [f"2104.{n:05d}v2" for n in range(250)] + ["2104.00003", "not an id"]
    found = fetch_metadata(client, ids, base_url=f"{server.url}/api/query")
    sizes = [len(r.params["id_list"].split(",")) for r in server.requests]
    assert sizes == [100, 100, 50]
    assert [r.params["max_results"] for r in server.requests] == ["100", "100", "50"]
    assert "v2" not in server.requests[0].params["id_list"]
    assert len(found) == 250 and found["2104.00249"].title == "Paper 2104.00249"


@pytest.fixture
def arxiv_at(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> LocalServer:
    """Point the module's arXiv addresses at the local server."""
    monkeypatch.setattr(arxiv, "RSS_URL", f"{server.url}/rss")
    monkeypatch.setattr(arxiv, "API_URL", f"{server.url}/api/query")
    return server


THURSDAY_NOON = eastern(2021, 4, 22, 12, 0)
SATURDAY_NOON = eastern(2021, 4, 24, 12, 0)


def test_fetch_listing_stores_the_day_and_never_fetches_it_twice(
    arxiv_at: LocalServer, client: PoliteClient, home: Path
) -> None:
    arxiv_at.routes({"/rss/cs.CV": fixture("rss-cs.CV-2021-04-22.xml")})
    listing, notice = fetch_listing(["cs.CV"], client=client, now=THURSDAY_NOON)
    assert notice is None
    assert [p.arxiv_id for p in listing.papers] == ["2104.10642", "2104.10615", "2104.10602"]
    stored = home / "listings" / "cs.CV" / "2021-04-22.jsonl"
    assert [p.arxiv_id for p in read_jsonl(stored).papers][-1] == "2104.10201"  # cross-lists kept in the store
    assert len(arxiv_at.requests) == 1

    again, _ = fetch_listing(["cs.CV"], client=client, now=THURSDAY_NOON)
    crossed, _ = fetch_listing(["cs.CV"], date(2021, 4, 22), include_cross=True, client=client, now=THURSDAY_NOON)
    assert len(arxiv_at.requests) == 1
    assert again.papers == listing.papers
    assert (again.date, again.category) == (date(2021, 4, 22), "cs.CV")
    assert [p.arxiv_id for p in crossed.papers][-1] == "2104.10201"


def test_fetch_listing_merges_categories(arxiv_at: LocalServer, client: PoliteClient, tmp_path: Path) -> None:
    arxiv_at.routes(
        {"/rss/cs.CV": fixture("rss-cs.CV-2021-04-22.xml"), "/rss/cs.LG": fixture("rss-cs.LG-2021-04-22.xml")}
    )
    listing, notice = fetch_listing(["cs.CV", "cs.LG", "cs.CV"], client=client, store=tmp_path, now=THURSDAY_NOON)
    assert notice is None
    assert [p.arxiv_id for p in listing.papers] == ["2104.10642", "2104.10615", "2104.10602", "2104.10201"]
    assert listing.date == date(2021, 4, 22) and listing.category is None
    assert sorted(p.name for p in tmp_path.glob("*/*.jsonl")) == ["2021-04-22.jsonl", "2021-04-22.jsonl"]


def test_fetch_listing_on_a_weekend_uses_the_stored_friday(
    arxiv_at: LocalServer, client: PoliteClient, tmp_path: Path
) -> None:
    friday = parse_feed(fixture("rss-cs.CV-2021-04-22.xml")).papers
    (tmp_path / "cs.CV").mkdir()
    (tmp_path / "cs.CV" / "2021-04-23.jsonl").write_text(to_jsonl(friday), encoding="utf-8")
    listing, notice = fetch_listing(["cs.CV"], client=client, store=tmp_path, now=SATURDAY_NOON)
    assert arxiv_at.requests == []
    assert (len(listing), listing.date, notice) == (3, date(2021, 4, 23), None)


def test_fetch_listing_on_an_empty_weekend_feed_rebuilds_friday(
    arxiv_at: LocalServer, client: PoliteClient, tmp_path: Path
) -> None:
    arxiv_at.routes({"/rss/cs.CV": fixture("rss-cs.CV-2021-04-24-empty.xml"), "/api/query": api_pages})
    listing, notice = fetch_listing(["cs.CV"], client=client, store=tmp_path, now=SATURDAY_NOON)
    assert notice == (
        "no arXiv announcement on Sat 2021-04-24 (weekend or holiday); showing 2021-04-23, "
        "2021-04-23 rebuilt from the arXiv API by submission time (approximates the announcement)"
    )
    api_query = arxiv_at.requests[1].params["search_query"]
    assert api_query == "cat:cs.CV AND submittedDate:[202104211800 TO 202104221759]"  # Wed 14:00 to Thu 14:00 EDT
    assert listing.date == date(2021, 4, 23) and len(listing) == 2
    assert (tmp_path / "cs.CV" / "2021-04-23.jsonl").is_file()
    assert not (tmp_path / "cs.CV" / "2021-04-24.jsonl").exists()


def test_fetch_listing_for_a_past_day_says_it_is_approximate(
    arxiv_at: LocalServer, client: PoliteClient, tmp_path: Path
) -> None:
    arxiv_at.routes({"/api/query": api_pages})
    listing, notice = fetch_listing(["cs.CV"], date(2021, 4, 22), client=client, store=tmp_path, now=SATURDAY_NOON)
    assert notice == "2021-04-22 rebuilt from the arXiv API by submission time (approximates the announcement)"
    assert [r.path for r in arxiv_at.requests] == ["/api/query", "/api/query"]
    assert len(listing) == 2


# ---- which day a feed is filed under -------------------------------------------------------------------------------
# arXiv's feed service dates a feed (pubDate) by the US Eastern midnight of the day it builds it, whatever listing it
# holds; lastBuildDate is when it was built. A feed built after the 20:00 announcement holds the next day's listing.

WEDNESDAY_EVENING = eastern(2021, 4, 21, 20, 45)
WEDNESDAY_MIDNIGHT = "Wed, 21 Apr 2021 00:00:00 -0400"


def dated_feed(pub: str, built: str, batch: bytes = b"2104.10") -> bytes:
    """The cs.CV fixture feed with its pubDate and lastBuildDate replaced and its ids moved to another batch."""
    feed = fixture("rss-cs.CV-2021-04-22.xml")
    feed = feed.replace(b"Thu, 22 Apr 2021 00:00:00 -0400", pub.encode())
    feed = feed.replace(b"Thu, 22 Apr 2021 04:00:01 +0000", built.encode())
    return feed.replace(b"2104.10", batch)


def store_day(root: Path, day: date, batch: bytes = b"2104.10") -> Path:
    """Store the fixture feed's papers, ids moved to `batch`, as cs.CV on `day`; the file's path."""
    papers = parse_feed(dated_feed(WEDNESDAY_MIDNIGHT, "Wed, 21 Apr 2021 04:00:01 +0000", batch)).papers
    path = root / "cs.CV" / f"{day}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_jsonl(tuple(replace(p, date=day) for p in papers)), encoding="utf-8")
    return path


def test_a_feed_is_dated_by_the_schedule_at_its_build_time() -> None:
    doubts: list[str] = []
    late = parse_feed(dated_feed(WEDNESDAY_MIDNIGHT, "Thu, 22 Apr 2021 00:30:00 +0000"), doubts=doubts)
    assert late.date == date(2021, 4, 22) and {p.date for p in late.papers} == {date(2021, 4, 22)}
    assert doubts == [
        "arXiv's feed is dated 2021-04-21 but was built at 20:30 US Eastern that day, after 2021-04-22 was announced"
    ]
    doubts.clear()
    assert parse_feed(fixture("rss-cs.CV-2021-04-22.xml"), doubts=doubts).date == date(2021, 4, 22)
    assert parse_feed(fixture("atom-cs.CV-2021-04-22.xml"), doubts=doubts).date == date(2021, 4, 22)
    assert parse_feed(fixture("rss-cs.CV-2021-04-24-empty.xml"), doubts=doubts).date == date(2021, 4, 24)
    assert doubts == []


def test_a_feed_built_after_the_announcement_is_filed_under_the_day_it_holds(
    arxiv_at: LocalServer, client: PoliteClient, tmp_path: Path
) -> None:
    wednesday = store_day(tmp_path, date(2021, 4, 21))
    before = wednesday.read_bytes()
    # Built at 20:30 Eastern on Wednesday, dated Wednesday, holding Thursday's listing (new ids).
    feed = dated_feed(WEDNESDAY_MIDNIGHT, "Thu, 22 Apr 2021 00:30:00 +0000", b"2104.11")
    arxiv_at.routes({"/rss/cs.CV": feed})
    listing, notice = fetch_listing(["cs.CV"], client=client, store=tmp_path, now=WEDNESDAY_EVENING)
    assert (listing.date, notice) == (date(2021, 4, 22), None)
    assert {p.date for p in listing.papers} == {date(2021, 4, 22)}
    thursday = read_jsonl(tmp_path / "cs.CV" / "2021-04-22.jsonl").papers
    assert thursday[0].arxiv_id == "2104.11642"
    assert wednesday.read_bytes() == before


def test_a_feed_built_after_the_announcement_that_repeats_the_day_before_is_not_stored(
    arxiv_at: LocalServer, client: PoliteClient, tmp_path: Path
) -> None:
    wednesday = store_day(tmp_path, date(2021, 4, 21))
    before = wednesday.read_bytes()
    # Built at 20:30 Eastern on Wednesday but still holding Wednesday's listing.
    arxiv_at.routes({"/rss/cs.CV": dated_feed(WEDNESDAY_MIDNIGHT, "Thu, 22 Apr 2021 00:30:00 +0000")})
    listing, notice = fetch_listing(["cs.CV"], client=client, store=tmp_path, now=WEDNESDAY_EVENING)
    assert listing.date == date(2021, 4, 21) and len(listing) == 3
    assert notice == (
        "arXiv's cs.CV feed still serves the 2021-04-21 listing; 2021-04-22 is not stored: fetch again later"
    )
    assert not (tmp_path / "cs.CV" / "2021-04-22.jsonl").exists()
    assert wednesday.read_bytes() == before


def test_evening_fetches_from_the_first_one_on_store_each_day_under_the_day_it_holds(
    arxiv_at: LocalServer, client: PoliteClient, tmp_path: Path
) -> None:
    """A researcher whose morning is arXiv's evening (a daily run at 09:00 in Beijing) fetches every feed after the
    announcement: the first fetch has nothing stored to compare with, and each day must still be stored."""
    # Wednesday 20:45 Eastern, nothing stored: the feed, dated Wednesday, holds Thursday's listing.
    arxiv_at.routes({"/rss/cs.CV": dated_feed(WEDNESDAY_MIDNIGHT, "Thu, 22 Apr 2021 00:30:00 +0000", b"2104.11")})
    listing, notice = fetch_listing(["cs.CV"], client=client, store=tmp_path, now=WEDNESDAY_EVENING)
    assert (listing.date, notice, len(listing)) == (date(2021, 4, 22), None, 3)
    assert [p.name for p in tmp_path.glob("*/*.jsonl")] == ["2021-04-22.jsonl"]
    # Thursday 20:45: dated Thursday, holding Friday's listing; Thursday's stored day is there to compare with.
    thursday_feed = dated_feed("Thu, 22 Apr 2021 00:00:00 -0400", "Fri, 23 Apr 2021 00:30:00 +0000", b"2104.12")
    arxiv_at.routes({"/rss/cs.CV": thursday_feed})
    listing, notice = fetch_listing(["cs.CV"], client=client, store=tmp_path, now=eastern(2021, 4, 22, 20, 45))
    assert (listing.date, notice) == (date(2021, 4, 23), None)
    assert sorted(p.name for p in tmp_path.glob("*/*.jsonl")) == ["2021-04-22.jsonl", "2021-04-23.jsonl"]


def test_a_stale_feed_after_a_gap_is_compared_with_the_newest_stored_day_of_the_week(
    arxiv_at: LocalServer, client: PoliteClient, tmp_path: Path
) -> None:
    """Nothing stored for the announcement just before (a missed day, a holiday): the newest stored day of the week
    before still tells a stale feed from a new one."""
    monday = store_day(tmp_path, date(2021, 4, 19))
    before = monday.read_bytes()
    arxiv_at.routes({"/rss/cs.CV": fixture("rss-cs.CV-2021-04-22.xml")})  # dated Thursday, Monday's batch again
    listing, notice = fetch_listing(["cs.CV"], client=client, store=tmp_path, now=THURSDAY_NOON)
    assert listing.date == date(2021, 4, 19) and monday.read_bytes() == before
    assert notice == (
        "arXiv's cs.CV feed still serves the 2021-04-19 listing; 2021-04-22 is not stored: fetch again later"
    )
    assert not (tmp_path / "cs.CV" / "2021-04-22.jsonl").exists()


def test_a_new_day_stored_after_missed_days_names_them_and_how_to_fetch_them(
    arxiv_at: LocalServer, client: PoliteClient, tmp_path: Path
) -> None:
    """Cron failed on Tuesday and Wednesday (arXiv unreachable): Thursday's run stores Thursday, and says that the two
    days between are not stored, which nothing would ever offer again."""
    store_day(tmp_path, date(2021, 4, 19), b"2104.09")
    arxiv_at.routes({"/rss/cs.CV": fixture("rss-cs.CV-2021-04-22.xml")})
    listing, notice = fetch_listing(["cs.CV"], client=client, store=tmp_path, now=THURSDAY_NOON)
    assert listing.date == date(2021, 4, 22)
    assert notice == (
        "cs.CV 2021-04-20 and 2021-04-21 are not stored (arXiv was not reached then, or a holiday): "
        "'paperrec fetch cs.CV --date 2021-04-20' fetches one"
    )
    # the day before stored: nothing missed, nothing said
    store_day(tmp_path, date(2021, 4, 22), b"2104.10")
    arxiv_at.routes(
        {"/rss/cs.CV": dated_feed("Fri, 23 Apr 2021 00:00:00 -0400", "Fri, 23 Apr 2021 04:00:01 +0000", b"2104.12")}
    )
    listing, notice = fetch_listing(["cs.CV"], client=client, store=tmp_path, now=eastern(2021, 4, 23, 12, 0))
    assert (listing.date, notice) == (date(2021, 4, 23), None)


def test_the_latest_day_by_date_after_missed_days_is_the_feed_not_an_api_rebuild(
    arxiv_at: LocalServer, client: PoliteClient, tmp_path: Path
) -> None:
    """--date of the latest day takes the feed when it holds that day: naming missed days before it must not send
    the day to the API (approximate) in place of the feed just stored."""
    store_day(tmp_path, date(2021, 4, 19), b"2104.09")
    arxiv_at.routes({"/rss/cs.CV": fixture("rss-cs.CV-2021-04-22.xml")})
    listing, notice = fetch_listing(["cs.CV"], date(2021, 4, 22), client=client, store=tmp_path, now=THURSDAY_NOON)
    assert [r.path for r in arxiv_at.requests] == ["/rss/cs.CV"]
    assert listing.date == date(2021, 4, 22) and notice is not None and "2021-04-20 and 2021-04-21" in notice


def test_a_feed_built_before_the_announcement_stores_as_before(
    arxiv_at: LocalServer, client: PoliteClient, tmp_path: Path
) -> None:
    # Built at midnight and served all Wednesday: Wednesday's listing, dated Wednesday.
    arxiv_at.routes({"/rss/cs.CV": dated_feed(WEDNESDAY_MIDNIGHT, "Wed, 21 Apr 2021 04:00:01 +0000")})
    listing, notice = fetch_listing(["cs.CV"], client=client, store=tmp_path, now=WEDNESDAY_EVENING)
    assert listing.date == date(2021, 4, 21) and len(listing) == 3
    assert notice == "arXiv's feed still shows 2021-04-21; 2021-04-22 reaches it at midnight US Eastern"
    assert [p.name for p in tmp_path.glob("*/*.jsonl")] == ["2021-04-21.jsonl"]


def test_a_stale_feed_repeating_yesterday_is_not_stored_as_today(
    arxiv_at: LocalServer, client: PoliteClient, tmp_path: Path
) -> None:
    wednesday = store_day(tmp_path, date(2021, 4, 21))
    before = wednesday.read_bytes()
    # Built and dated Thursday, but still serving Wednesday's batch.
    arxiv_at.routes({"/rss/cs.CV": fixture("rss-cs.CV-2021-04-22.xml"), "/api/query": api_pages})
    listing, notice = fetch_listing(["cs.CV"], client=client, store=tmp_path, now=THURSDAY_NOON)
    assert listing.date == date(2021, 4, 21) and len(listing) == 3
    assert notice == (
        "arXiv's cs.CV feed still serves the 2021-04-21 listing; 2021-04-22 is not stored: fetch again later"
    )
    assert not (tmp_path / "cs.CV" / "2021-04-22.jsonl").exists()
    assert wednesday.read_bytes() == before
    # --date rebuilds the day from the API instead of storing the stale feed.
    _, notice = fetch_listing(["cs.CV"], date(2021, 4, 22), client=client, store=tmp_path, now=THURSDAY_NOON)
    assert [r.path for r in arxiv_at.requests] == ["/rss/cs.CV", "/rss/cs.CV", "/api/query", "/api/query"]
    assert notice == f"2021-04-22 {arxiv.APPROXIMATE}"


def test_a_lagging_feed_never_replaces_a_stored_day(
    arxiv_at: LocalServer, client: PoliteClient, tmp_path: Path
) -> None:
    wednesday = store_day(tmp_path, date(2021, 4, 21), b"2104.09")
    before = wednesday.read_bytes()
    arxiv_at.routes({"/rss/cs.CV": dated_feed(WEDNESDAY_MIDNIGHT, "Wed, 21 Apr 2021 04:00:01 +0000")})
    listing, notice = fetch_listing(["cs.CV"], client=client, store=tmp_path, now=THURSDAY_NOON)
    assert listing.papers[0].arxiv_id == "2104.10642"
    assert notice == (
        "cs.CV not stored: arXiv's feed for 2021-04-21 differs from the stored 2021-04-21 listing, which is kept"
    )
    assert wednesday.read_bytes() == before
    assert [p.name for p in tmp_path.glob("*/*.jsonl")] == ["2021-04-21.jsonl"]


def _bad_entry(feed: bytes, arxiv_id: bytes = b"2104.10615") -> bytes:
    """The feed with one paper's id made unreadable."""
    return feed.replace(arxiv_id + b"v1 Announce", b"bogus Announce").replace(b"org:" + arxiv_id, b"org:bogus")


def test_one_bad_feed_entry_is_an_error_unless_skipped() -> None:
    feed = _bad_entry(fixture("rss-cs.CV-2021-04-22.xml"))
    with pytest.raises(PaperrecError, match=r"Recurrent Feedback.*not an arXiv id: 'bogus'"):
        parse_feed(feed)
    skipped: list[str] = []
    assert [p.arxiv_id for p in parse_feed(feed, skipped=skipped).papers] == ["2104.10642", "2104.10602"]
    assert len(skipped) == 1 and "not an arXiv id: 'bogus'" in skipped[0]


def test_a_feed_without_one_readable_entry_is_an_error() -> None:
    feed = fixture("rss-cs.CV-2021-04-22.xml")
    for arxiv_id in (b"2104.10642", b"2104.10615", b"2104.10602"):
        feed = _bad_entry(feed, arxiv_id)
    with pytest.raises(PaperrecError, match="not an arXiv id: 'bogus'"):
        parse_feed(feed, skipped=[])


def test_fetch_listing_skips_a_bad_entry_with_a_notice(
    arxiv_at: LocalServer, client: PoliteClient, tmp_path: Path
) -> None:
    arxiv_at.routes({"/rss/cs.CV": _bad_entry(fixture("rss-cs.CV-2021-04-22.xml"))})
    listing, notice = fetch_listing(["cs.CV"], client=client, store=tmp_path, now=THURSDAY_NOON)
    assert [p.arxiv_id for p in listing.papers] == ["2104.10642", "2104.10602"]
    assert notice is not None and notice.startswith("skipped 1 arXiv entry that could not be read (arXiv entry ")
    assert "\n" not in notice


def test_fetch_listing_skips_a_bad_api_entry_with_a_notice(
    arxiv_at: LocalServer, client: PoliteClient, tmp_path: Path
) -> None:
    def pages(request: Request) -> Reply:
        reply = api_pages(request)
        return replace(reply, body=reply.body.replace(b"abs/2104.10615v2</id>", b"abs/nonsense</id>"))

    arxiv_at.routes({"/api/query": pages})
    listing, notice = fetch_listing(["cs.CV"], date(2021, 4, 22), client=client, store=tmp_path, now=SATURDAY_NOON)
    assert [p.arxiv_id for p in listing.papers] == ["2104.10642"]
    assert notice is not None and "skipped 1 arXiv entry" in notice and "'nonsense'" in notice


@pytest.mark.parametrize(
    ("categories", "day", "words"),
    [
        (["cs.CV"], date(2021, 4, 24), "Saturday: arXiv listings are dated Monday to Friday; try 2021-04-23"),
        (["cs.CV"], date(2021, 4, 26), "has not announced a listing dated 2021-04-26 yet"),
        (["cs CV"], None, "not an arXiv category"),
        ([], None, "no arXiv category given"),
    ],
)
def test_fetch_listing_rejects_bad_requests(
    categories: list[str], day: date | None, words: str, arxiv_at: LocalServer, client: PoliteClient, tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match=words):
        fetch_listing(categories, day, client=client, store=tmp_path, now=SATURDAY_NOON)
    assert arxiv_at.requests == []


def test_fetch_listing_offline_is_a_network_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(arxiv, "RSS_URL", f"http://127.0.0.1:{port}/rss")
    with quick_client([], max_retries=0) as polite, pytest.raises(NetworkError, match=r"^arXiv did not answer") as c:
        fetch_listing(["cs.CV"], client=polite, store=tmp_path, now=THURSDAY_NOON)
    assert isinstance(c.value, TemporaryFailure)  # exit 75: cron retries later
