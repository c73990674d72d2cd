"""The network client fails fast and never hangs: deadlines, size caps, redirects, offline, shared spacing, exit codes.

Everything runs against servers on 127.0.0.1 (or failures injected below the client); nothing reaches the internet.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import itertools
import os
import re
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.schema import PaperrecError, TemporaryFailure
from recommender.sources import arxiv, http
from recommender.sources.arxiv import fetch_day, fetch_feed, fetch_metadata
from recommender.sources.http import (
    NetworkError,
    PoliteClient,
    TemporaryNetworkError,
    default_spacing_file,
    redirect_allowed,
)

from .fixture_apis import send
from .test_arxiv import FIXTURES, FakeTime, api_feed

FEED = (FIXTURES / "rss-cs.CV-2021-04-22.xml").read_bytes()
REPO = Path(__file__).resolve().parent.parent


class QuietServer(ThreadingHTTPServer):
    """Clients that hang up (as this client does at a deadline or a cap) are not errors worth a traceback."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class RawServer:
    """A threaded HTTP server on 127.0.0.1 whose `handler` writes each answer itself (trickles, bombs, redirects)."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.stop = threading.Event()
        self.handler: Callable[[BaseHTTPRequestHandler], None] = lambda request: send(request, 200, b"ok")
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                owner.paths.append(self.path)
                with contextlib.suppress(OSError):  # the client gave up, as it should
                    owner.handler(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = QuietServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.stop.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def server() -> Iterator[RawServer]:
    local = RawServer()
    yield local
    local.close()


@pytest.fixture
def second_server() -> Iterator[RawServer]:
    local = RawServer()
    yield local
    local.close()


def quick(**kwargs) -> PoliteClient:
    """A client with no spacing, no backoff sleeping and retries announced into a list (client.notes)."""
    notes: list[str] = []
    kwargs.setdefault("min_interval", 0.0)
    kwargs.setdefault("sleep", lambda seconds: None)
    client = PoliteClient(notify=notes.append, **kwargs)
    client.notes = notes  # type: ignore[attr-defined]
    return client


def recording_sleep(sleeps: list[float]) -> Callable[[float], None]:
    """A real sleep that also records each wait asked for, for clients whose deadlines run on the real clock."""

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    return sleep


@contextlib.contextmanager
def no_hang(limit: float = 30.0) -> Iterator[None]:
    """Fail a block that runs past `limit`: a guard against a hang on a loaded machine, never a measure of speed."""
    started = time.monotonic()
    yield
    assert time.monotonic() - started < limit, "hung"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def trickle(request: BaseHTTPRequestHandler, owner: RawServer) -> None:
    """Headers at once, then a byte every 0.05 s of a body that would take 50 s.

    Each byte comes well within any read timeout, so only a deadline can end the request.
    """
    request.send_response(200)
    request.send_header("Content-Length", "1000")
    request.end_headers()
    request.wfile.flush()
    for _ in range(1000):
        if owner.stop.is_set():
            return
        request.wfile.write(b"x")
        request.wfile.flush()
        time.sleep(0.05)


# ---- deadlines -----------------------------------------------------------------------------------------------------


def test_a_trickle_ends_at_the_request_deadline(server: RawServer) -> None:
    server.handler = lambda request: trickle(request, server)
    with quick(deadline=0.5, timeout=5.0, max_retries=0) as client, pytest.raises(TemporaryNetworkError) as caught:
        client.get(f"{server.url}/rss/cs.CV")
    # The deadline's own message: the per-read timeout never fires on a trickle.
    assert str(caught.value) == "arXiv did not answer in time: no complete answer within 0.5 s (1 try)"
    assert isinstance(caught.value, TemporaryFailure)


def test_a_trickle_retried_still_ends_at_the_fetch_deadline(server: RawServer) -> None:
    server.handler = lambda request: trickle(request, server)
    sleeps: list[float] = []
    client = quick(deadline=0.3, fetch_deadline=1.5, max_retries=10, backoff=0.05, sleep=recording_sleep(sleeps))
    with client, pytest.raises(TemporaryNetworkError, match="this fetch's deadline"):
        client.get(server.url)
    # Tries of 0.3 s and backoffs of 0.05, 0.1 and 0.2 s leave no room for a fifth try within 1.5 s, far short of the
    # 11 that max_retries allows. A slow machine fits fewer tries, never more.
    assert 1 <= len(sleeps) <= 3 and sleeps == [0.05, 0.1, 0.2][: len(sleeps)], sleeps
    assert client.requests <= 4
    assert client.notes[0] == "arXiv did not answer within 0.3 s, retry 1/10 in 0.05 s"  # type: ignore[attr-defined]


def test_a_server_that_never_answers_ends_at_the_deadline(server: RawServer) -> None:
    server.handler = lambda request: server.stop.wait(120)
    client = quick(deadline=0.3, timeout=120.0, max_retries=0)
    with no_hang(), client, pytest.raises(TemporaryNetworkError, match=r"\(1 try\)"):
        client.get(server.url)


def test_a_hung_name_lookup_ends_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def hung(*args, **kwargs):
        release.wait(10)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hung)
    try:
        with quick(deadline=0.3, max_retries=0) as client, pytest.raises(TemporaryNetworkError) as caught:
            client.get("http://export.arxiv.invalid/api/query")
        # No socket timeout covers getaddrinfo: only the deadline ends the lookup.
        assert str(caught.value) == "arXiv did not answer in time: no complete answer within 0.3 s (1 try)"
    finally:
        release.set()


def test_retries_stop_at_the_fetch_deadline(server: RawServer) -> None:
    server.handler = lambda request: send(request, 503, b"busy", {"Retry-After": "20"})
    fake = FakeTime()
    client = quick(clock=fake.clock, sleep=fake.sleep, fetch_deadline=50.0, max_retries=10)
    with client, pytest.raises(TemporaryNetworkError) as caught:
        client.get(server.url)
    assert fake.sleeps == [20.0, 20.0]  # a third wait of 20 s would pass the 50 s deadline
    assert str(caught.value) == (
        "arXiv is unavailable (HTTP 503) (3 tries; no time left to retry within this fetch's deadline)"
    )


def test_a_whole_fetch_shares_one_deadline(server: RawServer) -> None:
    server.handler = lambda request: send(request, 200, api_feed(["2104.00001"]))
    fake = FakeTime()
    client = PoliteClient(clock=fake.clock, sleep=fake.sleep, fetch_deadline=10.0)
    with client, pytest.raises(TemporaryNetworkError, match="deadline"):
        fetch_metadata(client, [f"2104.{n:05d}" for n in range(1, 600)], base_url=server.url, batch=100)
    assert len(server.paths) == 4  # 3 s apart: starts at 0, 3, 6, 9; the fifth would start at 12


# ---- size --------------------------------------------------------------------------------------------------------


def test_an_oversize_answer_is_refused_by_its_length(server: RawServer) -> None:
    server.handler = lambda request: send(request, 200, b"x" * 5000)
    with quick(max_bytes=1000) as client, pytest.raises(NetworkError) as caught:
        client.get(server.url)
    assert str(caught.value) == f"arXiv's answer is larger than 1,000 bytes: refused ({server.url})"
    assert not isinstance(caught.value, TemporaryFailure)


def endless(request: BaseHTTPRequestHandler, owner: RawServer, headers: dict[str, str] | None = None) -> None:
    """An answer without a length that never ends (read until the connection closes)."""
    request.protocol_version = "HTTP/1.0"
    request.send_response(200)
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.end_headers()
    while not owner.stop.is_set():
        request.wfile.write(b"y" * 65536)


def test_an_endless_answer_stops_at_the_cap(server: RawServer) -> None:
    server.handler = lambda request: endless(request, server)
    with quick(max_bytes=2_000_000) as client, pytest.raises(NetworkError, match=r"larger than 2 MB: refused"):
        client.get(server.url)


def test_a_gzip_bomb_stops_at_the_cap_without_filling_memory(server: RawServer) -> None:
    member = gzip.compress(b"\0" * 10_000_000)  # 10 MB in 10 KB
    bomb = member * 10  # members concatenated decode as one body: 100 MB
    server.handler = lambda request: send(request, 200, bomb, {"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        with quick(max_bytes=2_000_000) as client, pytest.raises(NetworkError, match=r"larger than 2 MB"):
            client.get(server.url)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000, peak


@pytest.mark.parametrize(
    "body",
    [gzip.compress(FEED), gzip.compress(FEED[:1000]) + gzip.compress(FEED[1000:]) + b"\0" * 8],
    ids=["one member", "two members and padding"],
)
def test_a_gzip_answer_is_decoded(server: RawServer, body: bytes) -> None:
    server.handler = lambda request: send(request, 200, body, {"Content-Encoding": "gzip"})
    with quick() as client:
        assert client.get(server.url).content == FEED


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"this is not gzip at all", "a damaged gzip body"),
        (gzip.compress(FEED)[:200], "a truncated gzip body"),
    ],
)
def test_a_bad_gzip_body_is_one_line(server: RawServer, body: bytes, words: str) -> None:
    server.handler = lambda request: send(request, 200, body, {"Content-Encoding": "gzip"})
    with quick() as client, pytest.raises(TemporaryNetworkError, match=words) as caught:
        client.get(server.url)
    assert "\n" not in str(caught.value)


def test_an_unknown_content_encoding_is_refused(server: RawServer) -> None:
    server.handler = lambda request: send(request, 200, b"....", {"Content-Encoding": "br"})
    with quick() as client, pytest.raises(NetworkError, match="unknown Content-Encoding 'br'"):
        client.get(server.url)


# ---- redirects -----------------------------------------------------------------------------------------------------


def redirect(table: dict[str, str]) -> Callable[[BaseHTTPRequestHandler], None]:
    def handle(request: BaseHTTPRequestHandler) -> None:
        if request.path in table:
            send(request, 302, b"", {"Location": table[request.path]})
        else:
            send(request, 200, FEED)

    return handle


def test_a_redirect_within_arxiv_is_followed_and_spaced(server: RawServer) -> None:
    server.handler = redirect({"/old/cs.CV": "/rss/cs.CV"})
    fake = FakeTime()
    with PoliteClient(clock=fake.clock, sleep=fake.sleep, min_interval=3.0) as client:
        answer = client.get(f"{server.url}/old/cs.CV")
    assert answer.content == FEED and answer.url == f"{server.url}/rss/cs.CV"
    assert server.paths == ["/old/cs.CV", "/rss/cs.CV"]
    assert client.requests == 2 and fake.sleeps == [3.0]  # the redirect waited its turn like any request


def test_a_redirect_to_an_allowed_host_is_followed(server: RawServer, second_server: RawServer) -> None:
    server.handler = redirect({"/rss/cs.CV": f"{second_server.url}/rss/cs.CV"})
    second_server.handler = redirect({})
    with quick(hosts=frozenset({"127.0.0.1"})) as client:
        assert client.get(f"{server.url}/rss/cs.CV").content == FEED
    assert second_server.paths == ["/rss/cs.CV"]


@pytest.mark.parametrize(
    "target",
    [
        "http://localhost:{port}/rss/cs.CV",
        "https://evil.example/rss",
        "https://arxiv.org.evil.example/",
        "ftp://arxiv.org/",
    ],
)
def test_a_redirect_elsewhere_is_refused(server: RawServer, target: str) -> None:
    location = target.format(port=server.port)
    server.handler = redirect({"/rss/cs.CV": location})
    with quick() as client, pytest.raises(NetworkError) as caught:
        client.get(f"{server.url}/rss/cs.CV")
    assert str(caught.value) == f"arXiv redirected to {location}, outside arXiv: refused"
    assert not isinstance(caught.value, TemporaryFailure)
    assert server.paths == ["/rss/cs.CV"]


def test_redirect_allowed_knows_arxivs_hosts() -> None:
    origin = "https://rss.arxiv.org/rss/cs.CV"
    for target in ("https://arxiv.org/x", "http://export.arxiv.org/api/query", "https://rss.arxiv.org/atom/cs.CV"):
        assert redirect_allowed(target, origin)
    for target in ("https://arxiv.org@evil.example/", "https://evil.example/?arxiv.org", "javascript:alert(1)", ""):
        assert not redirect_allowed(target, origin)


def test_a_redirect_loop_is_one_line(server: RawServer) -> None:
    server.handler = redirect({"/a": "/b", "/b": f"{server.url}/a"})
    with quick() as client, pytest.raises(NetworkError) as caught:
        client.get(f"{server.url}/a")
    assert str(caught.value) == f"arXiv's redirects loop back to {server.url}/a: refused"
    assert server.paths == ["/a", "/b"]


def test_a_long_redirect_chain_stops(server: RawServer) -> None:
    server.handler = redirect({f"/r{n}": f"/r{n + 1}" for n in range(20)})
    with quick() as client, pytest.raises(NetworkError, match=r"redirected more than 5 times from .*/r0: refused"):
        client.get(f"{server.url}/r0")
    assert len(server.paths) == 6 and client.requests == 6


# ---- connection failures -------------------------------------------------------------------------------------------


def no_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make names under .invalid fail to resolve as offline, without asking any resolver; returns the names asked."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".invalid"):
            asked.append(host)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_a_refused_connection_is_retried_once_and_announced() -> None:
    with quick(max_retries=4) as client, pytest.raises(TemporaryNetworkError) as caught:
        client.get(f"http://127.0.0.1:{closed_port()}/rss/cs.CV")
    assert str(caught.value) == "arXiv did not answer (offline?): Connection refused (2 tries)"
    assert client.notes == ["cannot reach arXiv (Connection refused), retry 1/1 in 2 s"]  # type: ignore[attr-defined]
    assert client.requests == 2


def test_a_name_that_does_not_resolve_is_retried_once(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = no_dns(monkeypatch)
    with quick(max_retries=4) as client, pytest.raises(TemporaryNetworkError) as caught:
        client.get("https://rss.arxiv.invalid/rss/cs.CV")
    assert str(caught.value) == "arXiv did not answer (offline?): Temporary failure in name resolution (2 tries)"
    assert asked == ["rss.arxiv.invalid", "rss.arxiv.invalid"]


def test_retries_are_announced(server: RawServer) -> None:
    replies = iter([(429, {"Retry-After": "6"}), (503, {}), (200, {})])

    def handle(request: BaseHTTPRequestHandler) -> None:
        status, headers = next(replies)
        send(request, status, b"fine" if status == 200 else b"busy", headers)

    server.handler = handle
    with quick(max_retries=3, backoff=2.0) as client:
        assert client.get(server.url).text == "fine"
    assert client.notes == [  # type: ignore[attr-defined]
        "arXiv busy (HTTP 429), retry 1/3 in 6 s",
        "arXiv unavailable (HTTP 503), retry 2/3 in 4 s",
    ]


def test_the_default_notifier_writes_stderr(server: RawServer, capsys: pytest.CaptureFixture[str]) -> None:
    replies = iter([429, 200])
    server.handler = lambda request: send(request, next(replies), b"ok", {"Retry-After": "1"})
    with PoliteClient(min_interval=0.0, sleep=lambda seconds: None) as client:
        client.get(server.url)
    captured = capsys.readouterr()
    assert captured.err == "arXiv busy (HTTP 429), retry 1/4 in 1 s\n" and captured.out == ""


# ---- the spacing, shared between clients and processes -------------------------------------------------------------


def test_two_clients_share_the_spacing_through_the_home(server: RawServer, home: Path) -> None:
    fake = FakeTime()
    first = PoliteClient(clock=fake.clock, sleep=fake.sleep)
    second = PoliteClient(clock=fake.clock, sleep=fake.sleep)
    with first, second:
        first.get(server.url)
        second.get(server.url)  # another client (another process) waits its 3 s too
        fake.now += 1.0
        first.get(server.url)
    assert fake.sleeps == [3.0, 2.0]
    assert default_spacing_file() == home / "state" / "arxiv-spacing"
    assert float(default_spacing_file().read_text()) == 1006.0


def test_a_damaged_or_far_future_spacing_file_is_ignored(server: RawServer, home: Path) -> None:
    fake = FakeTime()
    path = default_spacing_file()
    path.parent.mkdir(parents=True)
    for content in ("garbage", "nan", repr(fake.now + 10 * 86400)):
        path.write_text(content)
        with PoliteClient(clock=fake.clock, sleep=fake.sleep) as client:
            client.get(server.url)
    assert fake.sleeps == []


def test_an_unwritable_home_keeps_the_spacing_within_the_process(server: RawServer, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    fake = FakeTime()
    with PoliteClient(clock=fake.clock, sleep=fake.sleep, spacing_file=blocker / "state" / "arxiv-spacing") as client:
        client.get(server.url)
        client.get(server.url)
    assert fake.sleeps == [3.0]


SPACED_CLIENT = """
import sys
from recommender.sources.http import PoliteClient
with PoliteClient(min_interval=float(sys.argv[2]), max_retries=0) as client:
    for _ in range(3):
        client.get(sys.argv[1])
        print(repr(client._last_start))
"""


def test_two_processes_share_the_spacing(server: RawServer, home: Path) -> None:
    interval = 0.25
    env = {**os.environ, "PAPERREC_HOME": str(home)}
    command = [sys.executable, "-c", SPACED_CLIENT, server.url, str(interval)]
    processes = [subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)]
    processes.append(subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    starts: list[float] = []
    for process in processes:
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0, err.decode()
        starts.extend(float(line) for line in out.split())
    starts.sort()
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    # Each start is written under the shared lock before the next process may read it, so the gaps hold exactly;
    # without the shared file the two processes would start together (gaps near 0).
    assert len(starts) == 6 and min(gaps) > interval - 0.001, gaps
    assert len(server.paths) == 6


# ---- API paging --------------------------------------------------------------------------------------------------


def api_answer(total: int, ids: list[str]) -> bytes:
    return api_feed(ids).replace(f">{len(ids)}</opensearch".encode(), f">{total}</opensearch".encode())


def test_a_day_with_too_many_papers_is_refused(server: RawServer) -> None:
    server.handler = lambda request: send(request, 200, api_answer(25_000, ["2104.00001"]))
    with quick() as client, pytest.raises(PaperrecError) as caught:
        fetch_day(client, "cs", date(2021, 4, 22), base_url=server.url)
    assert str(caught.value) == (
        "the arXiv API counts 25,000 cs papers for 2021-04-22, more than the 10,000 paperrec fetches for one day: "
        "name a narrower category"
    )
    assert not isinstance(caught.value, TemporaryFailure) and len(server.paths) == 1


def test_api_paging_stops_at_the_page_cap(server: RawServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arxiv, "MAX_PAGES", 3)
    counter = iter(range(1, 1000))
    server.handler = lambda request: send(request, 200, api_answer(100, [f"2104.{next(counter):05d}"]))
    with quick() as client, pytest.raises(PaperrecError, match=r"more than 3 pages for cs.CV on 2021-04-22 \(3 of 100"):
        fetch_day(client, "cs.CV", date(2021, 4, 22), base_url=server.url, page_size=1)
    assert len(server.paths) == 3


def test_an_api_that_stops_early_is_temporary(server: RawServer) -> None:
    server.handler = lambda request: send(request, 200, api_answer(10, []))
    with quick() as client, pytest.raises(TemporaryFailure, match="stopped after 0 of 10 papers"):
        fetch_day(client, "cs.CV", date(2021, 4, 22), base_url=server.url)


# ---- through the command line: one line and the exit code cron needs ----------------------------------------------


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def assert_failed(result, code: int, text: str) -> list[str]:
    """Exit `code`, one error line containing `text` (after any retry announcements); the announcements."""
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("paperrec: error:") and text in lines[-1], result.stderr
    assert not any(line.startswith("paperrec: error:") for line in lines[:-1]), result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output
    return lines[:-1]


@pytest.fixture
def fast_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's client with short spacing, backoff and request deadline, so failures take milliseconds.

    The fetch deadline stays long (a guard against a hang), so a slow machine ends no test early by it.
    """
    monkeypatch.setattr(http, "DEFAULT_MIN_INTERVAL", 0.05)
    monkeypatch.setattr(http, "DEFAULT_BACKOFF", 0.05)
    monkeypatch.setattr(http, "DEFAULT_DEADLINE", 0.5)
    monkeypatch.setattr(http, "DEFAULT_FETCH_DEADLINE", 60.0)


def point_arxiv_at(monkeypatch: pytest.MonkeyPatch, base: str) -> None:
    monkeypatch.setattr(arxiv, "RSS_URL", f"{base}/rss")
    monkeypatch.setattr(arxiv, "API_URL", f"{base}/api/query")


def test_fetch_offline_exits_75_after_one_retry_three_seconds_later(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real defaults (3 s spacing, one retry) on a fake clock: what a cron job sees with the network down."""
    point_arxiv_at(monkeypatch, f"http://127.0.0.1:{closed_port()}")
    fake = FakeTime()
    monkeypatch.setattr(arxiv, "PoliteClient", functools.partial(PoliteClient, clock=fake.clock, sleep=fake.sleep))
    notes = assert_failed(invoke("fetch", "cs.CV"), 75, "arXiv did not answer (offline?): Connection refused (2 tries)")
    assert notes == ["cannot reach arXiv (Connection refused), retry 1/1 in 3 s"]
    assert fake.sleeps == [2.0, 1.0]  # the backoff, then the rest of arXiv's 3 s spacing: 3 s in all


def test_fetch_without_dns_exits_75(monkeypatch: pytest.MonkeyPatch, fast_network: None) -> None:
    asked = no_dns(monkeypatch)
    point_arxiv_at(monkeypatch, "https://arxiv.invalid")
    notes = assert_failed(invoke("fetch", "cs.CV"), 75, "Temporary failure in name resolution (2 tries)")
    assert notes == ["cannot reach arXiv (Temporary failure in name resolution), retry 1/1 in 0.05 s"]
    assert len(asked) == 2


def test_fetch_of_two_sources_on_one_host_that_refuses_tries_it_once(
    monkeypatch: pytest.MonkeyPatch, fast_network: None
) -> None:
    from recommender.sources import biorxiv

    monkeypatch.setattr(biorxiv, "API_URL", f"http://127.0.0.1:{closed_port()}/details")  # medRxiv's too
    monkeypatch.setattr(biorxiv, "MIN_INTERVAL", 0.0)
    result = invoke("fetch", "biorxiv:neuroscience", "medrxiv:epidemiology")
    notes = assert_failed(result, 75, "bioRxiv did not answer (offline?): Connection refused (2 tries)")
    assert "medRxiv did not answer" in result.stderr.splitlines()[-1]
    assert notes == ["cannot reach bioRxiv (Connection refused), retry 1/1 in 0.05 s"]  # medRxiv failed at once


def test_fetch_from_a_trickle_exits_75_by_the_deadline(
    server: RawServer, monkeypatch: pytest.MonkeyPatch, fast_network: None
) -> None:
    server.handler = lambda request: trickle(request, server)
    point_arxiv_at(monkeypatch, server.url)
    monkeypatch.setattr(http, "DEFAULT_FETCH_DEADLINE", 1.5)
    notes = assert_failed(invoke("fetch", "cs.CV"), 75, "this fetch's deadline")
    # Tries of 0.5 s and backoffs of 0.05 and 0.1 s leave room for at most three tries within 1.5 s.
    assert 1 <= len(notes) <= 2, notes
    for number, (note, wait) in enumerate(zip(notes, ["0.05", "0.1"], strict=False), start=1):
        assert re.fullmatch(rf"arXiv did not answer within [\d.]+ s, retry {number}/4 in {wait} s", note), note


@pytest.mark.parametrize(
    ("reply", "code", "text"),
    [
        ((429, b"slow down", {}), 75, "rate-limiting us (HTTP 429) after 5 tries"),
        ((503, b"down", {"Retry-After": "3600"}), 75, "asks us to wait 3600 s"),
        ((404, b"no such feed", {}), 1, "arXiv returned HTTP 404"),
        ((302, b"", {"Location": "https://elsewhere.example/"}), 1, "outside arXiv: refused"),
        ((200, b"<html><body>Service Unavailable</body></html>", {}), 1, "not an RSS or Atom feed"),
        ((200, b"<rss><channel><item><title>&#xD83D;&#xDE00;", {}), 1, "not well-formed XML"),
        ((200, b"x" * 100, {"Content-Encoding": "gzip"}), 75, "damaged gzip body"),
    ],
)
def test_fetch_failures_exit_with_the_code_cron_needs(
    server: RawServer, monkeypatch: pytest.MonkeyPatch, fast_network: None, reply: tuple, code: int, text: str
) -> None:
    status, body, headers = reply
    server.handler = lambda request: send(request, status, body, headers)
    point_arxiv_at(monkeypatch, server.url)
    assert_failed(invoke("fetch", "cs.CV"), code, text)


def test_fetch_with_a_bad_category_is_a_usage_error(server: RawServer, monkeypatch: pytest.MonkeyPatch) -> None:
    point_arxiv_at(monkeypatch, server.url)
    assert_failed(invoke("fetch", "cs CV"), 2, "not an arXiv category")
    assert_failed(invoke("fetch", "cs.CVV"), 2, "unknown arXiv category 'cs.CVV'; did you mean cs.CV")
    assert server.paths == []  # refused before any request


def test_fetch_that_succeeds_after_a_retry_announces_it(
    server: RawServer, monkeypatch: pytest.MonkeyPatch, fast_network: None
) -> None:
    replies = iter([503, 200])
    server.handler = lambda request: send(request, next(replies, 200), api_answer(1, ["2104.10642"]))
    point_arxiv_at(monkeypatch, server.url)
    result = invoke("fetch", "cs.CV", "--date", "2021-04-22")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == "arXiv unavailable (HTTP 503), retry 1/4 in 0.05 s"


SURROGATES = FEED.replace(b"Temporal Modulation Network", b"Temporal &#xD83D;&#xDE00; Network", 1)


@pytest.mark.parametrize(
    "body",
    [
        SURROGATES,
        FEED.replace(b"encoding='UTF-8'", b"encoding='no-such-encoding'", 1),
        FEED.replace(b"encoding='UTF-8'", b"encoding='utf-32'", 1),
        FEED.replace(b"encoding='UTF-8'", b"encoding='cp037'", 1),
        FEED.replace(b"encoding='UTF-8'", b"encoding='rot13'", 1),
    ],
    ids=["surrogate references", "unknown encoding", "wrong encoding", "ebcdic", "a codec that is no encoding"],
)
def test_odd_feeds_are_read_or_refused_in_one_line(server: RawServer, body: bytes) -> None:
    assert body != FEED
    server.handler = lambda request: send(request, 200, body)
    with quick() as client:
        try:
            listing = fetch_feed(client, "cs.CV", base_url=f"{server.url}/rss")
        except PaperrecError as error:
            assert "\n" not in str(error) and not isinstance(error, TemporaryFailure)
        else:
            if body is SURROGATES:
                assert listing.papers[0].title.startswith("Temporal \ufffd\ufffd Network")


def test_an_accepted_refusal_is_an_answer_with_its_body_and_others_stay_errors() -> None:
    from .fixture_apis import serving

    body = b'{"name": "ChallengeRequiredError", "message": "Challenge verification required"}'
    refusing = serving(lambda path, query: (403, {"Content-Type": "application/json"}, body))
    with refusing as server, PoliteClient(share_spacing=False, min_interval=0, sleep=lambda s: None) as client:
        answer = client.send(server.url + "/notes", accept=frozenset({401, 403}))
        assert (answer.status, answer.content) == (403, body)
        with pytest.raises(NetworkError, match="returned HTTP 403") as refused:
            client.send(server.url + "/notes")
    assert refused.value.status == 403


def test_a_bearer_token_and_a_json_password_are_never_shown() -> None:
    from recommender.sources.http import Outgoing, redacted

    text = 'Authorization: Bearer eyJ0.e-y_J/1+= and {"id": "a@b.c", "password": "p \\"w\\" d"} ?api_key=k'
    assert redacted(text) == 'Authorization: Bearer *** and {"id": "a@b.c", "password": "***"} ?api_key=***'
    out = Outgoing("POST", {"Authorization": "Bearer eyJ0"}, b'{"password": "pw"}')
    assert "eyJ0" not in repr(out) and "pw" not in repr(out)  # a traceback or a log of the request shows neither


def test_within_a_run_a_request_is_asked_once() -> None:
    from recommender.sources.http import Outgoing
    from recommender.sources.once import asking_once

    from .fixture_apis import serving

    def route(path: str, query: dict) -> tuple[int, dict[str, str], bytes]:
        return (503, {}, b"down") if path.startswith("/down") else (200, {}, path.encode())

    post = Outgoing("POST", {"Content-Type": "application/json"}, b"{}")
    with serving(route) as server, quick(share_spacing=False, backoff=0.0) as client:
        asked: dict = {}
        for _ in range(2):
            with asking_once(asked):
                assert client.get(server.url + "/up", params={"a": 1}).content == b"/up"
                for out in (Outgoing(), post):
                    with pytest.raises(TemporaryNetworkError, match="HTTP 503"):
                        client.send(server.url + "/down", out=out)
                assert client.send(server.url + "/up", out=post).status == 200  # a sign-in is sent each time
        assert [p for p in server.paths if p.startswith("/up")] == ["/up?a=1", "/up", "/up"]
        assert len([p for p in server.paths if p.startswith("/down")]) == 2 * 5  # a GET and a POST, 5 tries each
        client.get(server.url + "/up", params={"a": 1})  # outside a run, every request is sent
        assert server.paths[-1] == "/up?a=1" and len(server.paths) == 14


class CountingTransport(httpx.HTTPTransport):
    """A real transport that notes each request it is handed: to a closed port, each is one connection attempt."""

    def __init__(self, attempts: list[str]):
        super().__init__()
        self.attempts = attempts

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts.append(str(request.url))
        return super().handle_request(request)


def test_within_a_run_a_host_that_refused_fails_at_once_for_a_minute() -> None:
    from recommender.sources.once import in_a_run

    base = f"http://127.0.0.1:{closed_port()}"
    refused = "arXiv did not answer (offline?): Connection refused"
    fake = FakeTime()
    attempts: list[str] = []

    def profile_fetch(path: str) -> PoliteClient:
        """A fetch of its own, as each profile of a run makes, on the fake clock."""
        client = quick(share_spacing=False, clock=fake.clock, sleep=fake.sleep, transport=CountingTransport(attempts))
        with client, pytest.raises(TemporaryNetworkError) as caught:
            client.get(base + path)
        tried = client.requests > 0  # a request that met the kept failure says it made no try
        assert str(caught.value) == f"{refused} ({'2 tries' if tried else 'not tried again in this run'})"
        return client

    with in_a_run():
        assert len(profile_fetch("/rss/cs.CV").notes) == 1 and len(attempts) == 2  # type: ignore[attr-defined]
        slept = list(fake.sleeps)
        later = profile_fetch("/rss/eess.IV")  # another request to the same host: no connection, no retry, no wait
        assert later.requests == 0 and later.notes == [] and len(attempts) == 2  # type: ignore[attr-defined]
        assert fake.sleeps == slept
        fake.now += http.UNREACHABLE_FOR  # a minute on: the host is tried again, with its retry
        profile_fetch("/rss/cs.LG")
        assert len(attempts) == 4
    with in_a_run():  # the next run (serve's next "Fetch today") tries again at once
        profile_fetch("/rss/cs.CV")
        assert len(attempts) == 6
    profile_fetch("/rss/cs.CV")  # outside a run, nothing is kept
    assert len(attempts) == 8


def test_a_host_that_refused_keeps_no_other_host_or_port_from_being_asked() -> None:
    from recommender.sources.once import in_a_run

    from .fixture_apis import serving

    closed = f"http://127.0.0.1:{closed_port()}"

    def route(path: str, query: dict) -> tuple[int, dict[str, str], bytes]:
        if path == "/moved":
            return 302, {"Location": closed + "/gone"}, b""
        return (503, {}, b"down") if path == "/down" else (200, {}, b"up")

    attempts: list[str] = []
    client = quick(share_spacing=False, hosts=frozenset({"127.0.0.1"}), transport=CountingTransport(attempts))
    with serving(route) as server, in_a_run(), client:
        with pytest.raises(TemporaryNetworkError, match="HTTP 503"):
            client.get(server.url + "/down")  # an answer, though an error: the host is still asked
        assert client.get(server.url + "/up").content == b"up"
        with pytest.raises(TemporaryNetworkError, match="Connection refused"):
            client.get(server.url + "/moved")  # the redirect's target is the host that refused
        asked = len(attempts)
        with pytest.raises(TemporaryNetworkError, match="Connection refused"):
            client.get(closed + "/other")
        assert len(attempts) == asked  # failed at once
        assert client.get(server.url + "/up?again").content == b"up"  # the same address, another port
    assert attempts.count(closed + "/gone") == 2 and server.paths.count("/moved") == 2
