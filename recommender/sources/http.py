"""A polite HTTP client for arXiv and every other source: spaced across processes, retried, bounded in time and size.

Every request starts at least min_interval seconds after the previous one of any paperrec process of the user (a
reservation in a lock-guarded file under PAPERREC_HOME), ends by its deadline whatever the server does (a trickle, an
endless body, a hung DNS lookup), and reads at most max_bytes (decompressed). Redirects are followed only within
arXiv's own hosts, each counted as a request. Transient failures raise TemporaryNetworkError (exit 75, EX_TEMPFAIL);
answers that will not get better raise NetworkError (exit 1). Each retry is announced through `notify`.
Within a run (once.in_a_run), a host that could not be connected to fails later requests at once for a while.
The client of another source (`for_source`) names that source in its messages, keeps to its hosts and keeps its
own spacing file, so a slow host never delays another.
"""

from __future__ import annotations

import contextlib
import email.utils
import importlib.metadata
import logging
import math
import queue
import re
import socket
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ..schema import PaperrecError, TemporaryFailure
from .inflate import Inflater
from .once import ask_once, keep_unreachable, unreachable

# arXiv's API terms ask for no more than one request every three seconds.
DEFAULT_MIN_INTERVAL = 3.0
DEFAULT_TIMEOUT = 30.0  # seconds without progress: connecting, or between two reads
DEFAULT_DEADLINE = 60.0  # seconds for one whole request, from connecting to the last byte
DEFAULT_FETCH_DEADLINE = 600.0  # seconds for one whole fetch: every page, retry and wait
DEFAULT_BACKOFF = 2.0
DEFAULT_MAX_BYTES = 50_000_000  # a day's feed is a few MB; an API page of 2000 entries about 5 MB
MAX_WAIT = 60.0
MAX_REDIRECTS = 5
CONNECT_RETRIES = 1  # a DNS failure or a refused connection rarely heals within seconds: say so quickly
CONNECT_TIMEOUT = 10.0
UNREACHABLE_FOR = 60.0  # within a run, seconds a host that could not be connected to is not tried again
ARXIV_HOSTS = frozenset({"arxiv.org", "export.arxiv.org", "rss.arxiv.org"})
SPACING_FILE = "arxiv-spacing"
LOCK_WAIT = 600.0  # for other processes' turns; the fetch deadline usually ends the wait first
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_SHARED_PAUSE = 86_400.0  # a stored Backoff pause longer than a day is ignored (a damaged file)
_DECODED = frozenset({"gzip", "x-gzip", "deflate"})
# Secrets a request may carry: a query parameter (OpenAlex's api_key), a bearer token (OpenReview's), a password or
# token in a JSON body or a Python mapping's repr (OpenReview's sign-in, a headers dict with Zotero's key). Their
# values reach no message and no log line.
_SECRET_NAMES = r"(?:password|token|access_token|api_key|secret|zotero-api-key|authorization)"
_SECRET = re.compile(
    r"""(\bapi_key=)[^&#\s"'<>]*|(\bBearer\s+)[^\s"'<>,]+"""
    rf"""|("{_SECRET_NAMES}"\s*:\s*")(?:[^"\\]|\\.)*|('{_SECRET_NAMES}'\s*:\s*')(?:[^'\\]|\\.)*""",
    re.IGNORECASE,
)


class NetworkError(PaperrecError):
    """arXiv answered in a way that will not get better by retrying (HTTP 404, a redirect elsewhere, too large)."""

    status: int | None = None  # the HTTP status that ended the request, when an answer did


class TemporaryNetworkError(NetworkError, TemporaryFailure):
    """arXiv could not be reached, was too slow or kept refusing: retry later (exit 75)."""


@dataclass(frozen=True)
class Outgoing:
    """What a request sends besides its URL: the method, extra headers and a body (JSON APIs that write)."""

    method: str = "GET"
    headers: Mapping[str, str] | None = field(default=None, repr=False)  # may hold a token
    content: bytes | None = field(default=None, repr=False)  # may hold a password


_GET = Outgoing()


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer: the final URL, status, headers and the decoded body."""

    url: str
    status: int
    headers: httpx.Headers
    content: bytes

    @property
    def text(self) -> str:
        """The body as text (UTF-8, undecodable bytes replaced)."""
        return self.content.decode("utf-8", "replace")


def default_user_agent() -> str:
    """A descriptive User-Agent naming paperrec and its version, as arXiv asks of automated clients."""
    try:
        version = importlib.metadata.version("paperrec")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        version = "unknown"
    return f"paperrec/{version} (+https://github.com/paperrec; daily paper recommender)"


def announce(message: str) -> None:
    """The default notifier: one line on stderr."""
    print(message, file=sys.stderr, flush=True)


def default_spacing_file(name: str = SPACING_FILE) -> Path:
    """The file every paperrec process of the user reserves its request slots for one host in (arXiv's by default)."""
    from ..paths import state_dir

    return state_dir() / name


def for_source(name: str, hosts: frozenset[str], min_interval: float, **options: Any) -> PoliteClient:
    """A polite client for a source other than arXiv: its name in messages, its hosts, its own spacing file.

    Example: for_source("bioRxiv", frozenset({"api.biorxiv.org"}), 1.0)
    """
    first = sorted(hosts)[0]
    spacing = default_spacing_file(f"spacing-{first}") if options.get("share_spacing", True) else None
    return PoliteClient(name=name, hosts=hosts, min_interval=min_interval, spacing_file=spacing, **options)


def _frozen(mapping: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    """A mapping as a hashable key, in a stable order."""
    return tuple(sorted((str(k), str(v)) for k, v in (mapping or {}).items()))


def redacted(text: str) -> str:
    """The text with every api_key= value, bearer token and quoted password, token or key value replaced by '***'."""
    return _SECRET.sub(lambda found: next(part for part in found.groups() if part is not None) + "***", text)


class _Redacting(logging.Filter):
    """Hides keys in httpx's log records: at INFO it logs each request's whole URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = redacted(message)
        if hidden != message:
            record.msg, record.args = hidden, ()
        return True


logging.getLogger("httpx").addFilter(_Redacting())


def _one_line(text: str, width: int = 200) -> str:
    line = " ".join(redacted(text).split())
    return line if len(line) <= width else line[: width - 3] + "..."


def _size(count: int) -> str:
    return f"{count / 1e6:g} MB" if count >= 1_000_000 else f"{count:,} bytes"


def _seconds(value: float) -> str:
    return f"{value:.3g}"


def _tries(count: int) -> str:
    return "1 try" if count == 1 else f"{count} tries"


def _reason(error: BaseException) -> str:
    """The innermost cause of a transport error, e.g. 'Name or service not known' or 'Connection refused'."""
    text = str(error)
    if "] " in text and text.startswith("[Errno"):
        text = text.split("] ", 1)[1]
    return _one_line(text) or type(error).__name__


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None when absent or unreadable."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def redirect_allowed(target: str, origin: str, hosts: frozenset[str] = ARXIV_HOSTS) -> bool:
    """True when a redirect from `origin` to `target` stays within `hosts` (http or https) or on origin's host:port."""
    try:
        to, start = httpx.URL(target), httpx.URL(origin)
    except (httpx.InvalidURL, TypeError, ValueError):
        return False
    if to.scheme not in ("http", "https") or not to.host:
        return False
    return to.host.lower() in hosts or (to.host, to.port, to.scheme) == (start.host, start.port, start.scheme)


# ---- what one attempt can end in (internal) ------------------------------------------------------------------------


class _Retry(Exception):
    """An attempt failed in a way worth retrying; `kind` picks the retry budget, `announcement` the stderr line."""

    def __init__(
        self, kind: str, announcement: str, failure: str, wait: float | None = None, status: int | None = None
    ):
        super().__init__(failure)
        self.kind = kind
        self.announcement = announcement
        self.failure = failure
        self.wait = wait  # what the server asked for (Retry-After), else None: back off
        self.status = status


def _with_status(error: NetworkError, status: int | None) -> NetworkError:
    """The error, knowing the HTTP status that caused it (a spent allowance is 429)."""
    error.status = status
    return error


class _Deadline(Exception):
    """The request did not complete within `seconds`."""

    def __init__(self, seconds: float):
        super().__init__(seconds)
        self.seconds = seconds


class PoliteClient:
    """An HTTP client for arXiv: one request at a time, spaced min_interval apart across processes, bounded, retried.

    Example: with PoliteClient() as client: client.get("https://rss.arxiv.org/rss/cs.CV").content
    Every timing is injectable (clock, sleep, deadlines, spacing) so tests run in milliseconds; the clock is wall
    time by default because the spacing is shared with other processes, which share no other clock.
    """

    def __init__(
        self,
        *,
        user_agent: str | None = None,
        min_interval: float | None = None,
        timeout: float | None = None,
        deadline: float | None = None,
        fetch_deadline: float | None = None,
        max_retries: int = 4,
        connect_retries: int = CONNECT_RETRIES,
        backoff: float | None = None,
        max_wait: float = MAX_WAIT,
        max_bytes: int | None = None,
        max_redirects: int = MAX_REDIRECTS,
        hosts: frozenset[str] = ARXIV_HOSTS,
        name: str = "arXiv",
        notify: Callable[[str], None] = announce,
        share_spacing: bool = True,
        spacing_file: Path | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        public_only: bool = False,
    ):
        # Defaults are read here, not bound at definition, so tests (and the CLI) can shorten them module-wide.
        self.user_agent = user_agent or default_user_agent()
        self.min_interval = DEFAULT_MIN_INTERVAL if min_interval is None else min_interval
        self.timeout = DEFAULT_TIMEOUT if timeout is None else timeout
        self.deadline = DEFAULT_DEADLINE if deadline is None else deadline
        self.fetch_deadline = DEFAULT_FETCH_DEADLINE if fetch_deadline is None else fetch_deadline
        self.max_retries = max_retries
        self.connect_retries = connect_retries
        self.backoff = DEFAULT_BACKOFF if backoff is None else backoff
        self.max_wait = max_wait
        self.max_bytes = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
        self.max_redirects = max_redirects
        self.hosts = frozenset(host.lower() for host in hosts)
        self.name = name  # the source its messages name: 'arXiv', 'bioRxiv'...
        self.notify = notify
        self.spacing_file = (spacing_file or default_spacing_file()) if share_spacing else None
        self.requests = 0  # requests sent: retries and redirects included
        self._clock = clock
        self._sleep = sleep
        self._transport = transport
        self.public_only = public_only  # a lab's feed: no connection to the server's own machine or network
        self._last_start: float | None = None
        self._not_before = -math.inf  # a server's Backoff header: no request of this client before then
        self._fetch_end: float | None = None
        self._lock = threading.RLock()
        self._http = self._new_http()

    def _new_http(self) -> httpx.Client:
        transport = self._transport
        if transport is None and self.public_only:  # a pool of its own, as httpx's own transport would be
            from .public import PublicTransport

            transport = PublicTransport()
        return httpx.Client(
            headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip"},
            follow_redirects=False,
            transport=transport,
        )

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying connection pool."""
        self._http.close()

    # ---- time ------------------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def fetching(self, seconds: float | None = None) -> Iterator[None]:
        """Bound every request, retry and wait inside by one deadline (default fetch_deadline); nesting shortens."""
        end = self._clock() + (self.fetch_deadline if seconds is None else seconds)
        outer = self._fetch_end
        self._fetch_end = end if outer is None else min(outer, end)
        try:
            yield
        finally:
            self._fetch_end = outer

    def _time_left(self) -> float:
        return math.inf if self._fetch_end is None else self._fetch_end - self._clock()

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff * 2**attempt, self.max_wait)

    def _wait_turn(self, delay: float) -> None:
        """Sleep `delay`, then until min_interval has passed since the last request start of any paperrec process.

        The spacing wait happens holding the shared lock and the start is written before it is released, so the
        next process (or client) reads it and waits its own turn: starts are min_interval apart however many run.
        The backoff `delay` is slept outside the lock: it is this process's business, not the others'.
        """
        if delay > 0:
            self._check_wait(delay, "the next try")
            self._sleep(delay)
        self._not_before = max(self._not_before, self._shared_pause())
        pause = self._not_before - self._clock()
        if pause > self.max_wait:  # Zotero asks for no request at all that long: end here, not after max_wait
            raise TemporaryNetworkError(f"{self.name} asks for a pause of {pause:.0f} s (Backoff); try again later")
        if pause > 0:
            self._check_wait(pause, f"the pause {self.name} asked for")
            self._sleep(pause)
        path = self.spacing_file
        if path is None or self.min_interval <= 0:
            self._space(None)
            return
        import filelock

        lock = filelock.FileLock(f"{path}.lock", timeout=max(0.0, min(self._time_left(), LOCK_WAIT)))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except filelock.Timeout:
            raise TemporaryNetworkError(
                f"other paperrec processes kept {self.name}'s turn past this fetch's deadline; try again later"
            ) from None
        except OSError:
            self._space(None)  # an unwritable home: the spacing still holds within this process
            return
        try:
            try:
                shared: float | None = float(path.read_text(encoding="ascii"))
            except (OSError, ValueError):
                shared = None
            start = self._space(shared)
            with contextlib.suppress(OSError):
                path.write_text(repr(start), encoding="ascii")
        finally:
            lock.release()

    def _pause_file(self) -> Path | None:
        return None if self.spacing_file is None else self.spacing_file.with_name(self.spacing_file.name + ".pause")

    def _shared_pause(self) -> float:
        """The end of a pause a server asked another run of this source for (Backoff), from the pause file."""
        path = self._pause_file()
        try:
            until = float(path.read_text(encoding="ascii")) if path is not None else -math.inf
        except (OSError, ValueError):
            return -math.inf
        # Further ahead than any Backoff a server sends is a damaged file or a clock that jumped: not a pause.
        return until if math.isfinite(until) and until <= self._clock() + MAX_SHARED_PAUSE else -math.inf

    def _share_pause(self) -> None:
        """Keep the pause a server asked for beside the spacing file, so the next run waits for it too."""
        path = self._pause_file()
        if path is not None:
            with contextlib.suppress(OSError):
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(repr(self._not_before), encoding="ascii")

    def _space(self, shared: float | None) -> float:
        """Sleep until min_interval after the later of this client's last start and `shared`; the new start."""
        now = self._clock()
        last = self._last_start
        # A start ahead of now is no request of ours: a clock that jumped back, or a damaged file.
        if shared is not None and math.isfinite(shared) and shared <= now + self.min_interval:
            last = shared if last is None else max(last, shared)
        if last is not None:
            wait = last + self.min_interval - now
            if wait > 0:
                self._check_wait(wait, f"{self.name}'s next turn")
                self._sleep(wait)
        self._last_start = self._clock()
        return self._last_start

    def _check_wait(self, seconds: float, what: str) -> None:
        """TemporaryNetworkError when waiting `seconds` would pass the fetch deadline."""
        if seconds >= self._time_left():
            raise TemporaryNetworkError(
                f"gave up on {self.name}: {what} would start after this fetch's deadline; try again later"
            )

    # ---- one request -----------------------------------------------------------------------------------------------

    def _exchange(
        self, url: str, params: Mapping[str, Any] | None, out: Outgoing = _GET, accept: frozenset[int] = frozenset()
    ) -> Answer:
        """One GET without following redirects, ended at its deadline whatever the network does.

        The request runs in a daemon thread that the caller stops waiting for at the deadline: that bounds what
        no socket timeout can (a trickle of one byte a second, a DNS lookup that hangs).
        """
        limit = min(self.deadline, self._time_left())
        if limit <= 0:
            raise TemporaryNetworkError(f"gave up on {self.name}: this fetch's deadline has passed; try again later")
        http = self._http
        outcome: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()
        cancelled = threading.Event()
        sockets: list[socket.socket] = []

        def work() -> None:
            try:
                outcome.put((True, self._receive(http, url, params, limit, cancelled, sockets, out, accept)))
            except BaseException as error:  # handed to the waiting thread, which raises it
                outcome.put((False, error))
            finally:
                if cancelled.is_set():
                    http.close()

        threading.Thread(target=work, name="paperrec-http", daemon=True).start()
        try:
            ok, value = outcome.get(timeout=min(limit, threading.TIMEOUT_MAX))
        except queue.Empty:
            cancelled.set()
            for sock in sockets:
                # The base method, so a TLS socket is cut at the transport and the blocked read returns.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
            self._http = self._new_http()  # the abandoned thread still owns a connection of the old pool
            raise _Deadline(limit) from None
        if ok:
            return value
        raise value

    def _receive(
        self,
        http: httpx.Client,
        url: str,
        params: Mapping[str, Any] | None,
        limit: float,
        cancelled: threading.Event,
        sockets: list[socket.socket],
        out: Outgoing = _GET,
        accept: frozenset[int] = frozenset(),
    ) -> Answer:
        timeout = httpx.Timeout(min(self.timeout, limit), connect=min(CONNECT_TIMEOUT, self.timeout, limit))
        stream = http.stream(out.method, url, params=params, headers=out.headers, content=out.content, timeout=timeout)
        with stream as response:
            stream = response.extensions.get("network_stream")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                sockets.append(sock)
            # An accepted status is an answer: its body is read (OpenReview says why it refused), within the same cap.
            wanted = response.is_success or response.status_code in accept
            body = self._read_body(response, cancelled) if wanted else b""
            return Answer(url=str(response.url), status=response.status_code, headers=response.headers, content=body)

    def _read_body(self, response: httpx.Response, cancelled: threading.Event) -> bytes:
        """The decoded body, refused past max_bytes (compressed or not); a damaged gzip body is one line."""
        cap = self.max_bytes
        too_large = f"{self.name}'s answer is larger than {_size(cap)}: refused ({_one_line(str(response.url))})"
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and len(declared) < 19 and int(declared) > cap:
            raise NetworkError(too_large)
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower() or "identity"
        if encoding not in _DECODED and encoding != "identity":
            raise NetworkError(f"{self.name}'s answer has an unknown Content-Encoding {_one_line(encoding, 40)!r}")
        decoder = Inflater() if encoding in _DECODED else None
        pieces: list[bytes] = []
        raw_size = size = 0
        try:
            for raw in response.iter_raw():
                if cancelled.is_set():
                    return b""
                raw_size += len(raw)
                if raw_size > cap:
                    raise NetworkError(too_large)
                for piece in decoder.pieces(raw, cap - size) if decoder is not None else (raw,):
                    size += len(piece)
                    if size > cap:
                        raise NetworkError(too_large)
                    pieces.append(piece)
        except zlib.error as error:
            raise TemporaryNetworkError(
                f"{self.name}'s answer is a damaged {encoding} body ({_one_line(str(error), 80)}); try again later"
            ) from None
        if decoder is not None and not decoder.complete:
            raise TemporaryNetworkError(f"{self.name}'s answer is a truncated {encoding} body; try again later")
        return b"".join(pieces)

    def _follow(
        self,
        url: str,
        params: Mapping[str, Any] | None,
        delay: float,
        out: Outgoing = _GET,
        accept: frozenset[int] = frozenset(),
    ) -> Answer:
        """One attempt: the request and the redirects it leads to (within arXiv, each spaced like a request)."""
        current, query = url, params
        seen: set[str] = set()
        for hop in range(self.max_redirects + 1):
            if (known := unreachable(current, self._clock(), UNREACHABLE_FOR)) is not None:
                raise TemporaryNetworkError(f"{self.name} {known}")  # no connection, no retry, no wait
            self._wait_turn(delay if hop == 0 else 0.0)
            self.requests += 1
            answer = self._exchange(current, query, out, accept)
            backoff = retry_after_seconds(answer.headers.get("Backoff"))
            if backoff is not None:  # Zotero's way to slow a client down, on any answer
                self._not_before = self._clock() + backoff
                self._share_pause()
            if answer.status not in _REDIRECTS or out.method != "GET":
                return answer
            seen.add(answer.url)
            location = answer.headers.get("Location", "").strip()
            if not location:
                raise NetworkError(f"{self.name} redirected {_one_line(answer.url)} (HTTP {answer.status}) to nowhere")
            try:
                target = str(httpx.URL(answer.url).join(location))
            except (httpx.InvalidURL, TypeError, ValueError):
                target = location
            if not redirect_allowed(target, answer.url, self.hosts):
                raise NetworkError(f"{self.name} redirected to {_one_line(target)}, outside {self.name}: refused")
            if target in seen:
                raise NetworkError(f"{self.name}'s redirects loop back to {_one_line(target)}: refused")
            current, query = target, None
        raise NetworkError(
            f"{self.name} redirected more than {self.max_redirects} times from {_one_line(url)}: refused"
        )

    def _attempt(
        self,
        url: str,
        params: Mapping[str, Any] | None,
        delay: float,
        out: Outgoing = _GET,
        accept: frozenset[int] = frozenset(),
    ) -> Answer:
        """One attempt classified: the 2xx answer, _Retry for what may pass, NetworkError for what will not."""
        try:
            answer = self._follow(url, params, delay, out, accept)
        except _Deadline as late:
            raise _Retry(
                "timeout",
                f"{self.name} did not answer within {_seconds(late.seconds)} s",
                f"{self.name} did not answer in time: no complete answer within {_seconds(late.seconds)} s",
            ) from None
        except httpx.TimeoutException as error:
            kind = "connect" if isinstance(error, httpx.ConnectTimeout) else "timeout"
            raise _Retry(
                kind,
                f"{self.name} did not answer within {self.timeout:g} s",
                f"{self.name} did not answer (offline?): no response within {self.timeout:g} s",
            ) from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
            raise NetworkError(f"cannot fetch {_one_line(url)}: {_reason(error)}") from None
        except httpx.ConnectError as error:
            reason = _reason(error)
            raise _Retry(
                "connect", f"cannot reach {self.name} ({reason})", f"{self.name} did not answer (offline?): {reason}"
            ) from None
        except httpx.TransportError as error:
            reason = _reason(error)
            raise _Retry(
                "transport",
                f"the connection to {self.name} broke ({reason})",
                f"{self.name} did not answer (offline?): {reason}",
            ) from None
        status = answer.status
        if 200 <= status < 300 or status in accept:
            return answer
        if status != 429 and status < 500:
            raise _with_status(NetworkError(f"{self.name} returned HTTP {status} for {_one_line(answer.url)}"), status)
        asked = retry_after_seconds(answer.headers.get("Retry-After"))
        if asked is not None and asked > self.max_wait:
            waiting = f"{self.name} asks us to wait {asked:.0f} s (HTTP {status}); try again later"
            raise _with_status(TemporaryNetworkError(waiting), status)
        if status == 429:
            busy = f"{self.name} is rate-limiting us (HTTP 429)"
            raise _Retry("busy", f"{self.name} busy (HTTP 429)", busy, asked, status)
        raise _Retry(
            "busy",
            f"{self.name} unavailable (HTTP {status})",
            f"{self.name} is unavailable (HTTP {status})",
            asked,
            status,
        )

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> Answer:
        """GET url politely: the 2xx answer, TemporaryNetworkError for what may pass, NetworkError for what will not."""
        return self.send(url, params)

    def send(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        out: Outgoing = _GET,
        accept: frozenset[int] = frozenset(),
    ) -> Answer:
        """Send a request politely, as get does; statuses in `accept` (such as 304) are answers, not errors.

        Example: client.send(url, out=Outgoing("POST", {"Content-Type": "application/json"}, b"[]"))
        Within a run (once.asking_once), a request that failed for now fails again at once, and a GET already
        answered is answered as it was then.
        """
        key = (out.method, url, _frozen(params), _frozen(out.headers), out.content, accept)
        return ask_once(key, lambda: self._send(url, params, out, accept), keep=out.method == "GET")

    def _ended(self, failed: _Retry, error: NetworkError) -> NetworkError:
        """The error a request ends in; within a run, also kept for a host that could not be connected to."""
        cause = failed.__context__  # the httpx error the attempt was raised out of
        if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout):  # DNS, refused, unreachable, timed out
            # Kept without the source's name: medRxiv says bioRxiv's failure (one host) in its own name.
            # What failed, not how often: a request that meets it later makes no try of its own.
            reason = failed.failure.removeprefix(f"{self.name} ")
            unnamed = TemporaryNetworkError(f"{reason} (not tried again in this run)")
            keep_unreachable(str(cause.request.url), unnamed, self._clock())
        return error

    def _send(self, url: str, params: Mapping[str, Any] | None, out: Outgoing, accept: frozenset[int]) -> Answer:
        with self._lock, self.fetching():
            delay = 0.0
            retries = {"connect": 0, "other": 0}
            tries = 0
            while True:
                tries += 1
                try:
                    return self._attempt(url, params, delay, out, accept)
                except _Retry as failed:
                    budget = "connect" if failed.kind == "connect" else "other"
                    allowed = min(self.max_retries, self.connect_retries) if budget == "connect" else self.max_retries
                    if retries[budget] >= allowed:
                        if failed.kind == "busy":
                            busy = TemporaryNetworkError(f"{failed.failure} after {_tries(tries)}; try again later")
                            raise _with_status(busy, failed.status) from None
                        given_up = TemporaryNetworkError(f"{failed.failure} ({_tries(tries)})")
                        raise self._ended(failed, given_up) from None
                    delay = (
                        failed.wait if failed.wait is not None else self._backoff(retries["connect"] + retries["other"])
                    )
                    retries[budget] += 1
                    wait = max(delay, self.min_interval)
                    if wait >= self._time_left():
                        late = f"{failed.failure} ({_tries(tries)}; no time left to retry within this fetch's deadline)"
                        raise self._ended(failed, _with_status(TemporaryNetworkError(late), failed.status)) from None
                    self.notify(f"{failed.announcement}, retry {retries[budget]}/{allowed} in {_seconds(wait)} s")
