"""A polite HTTP client for arXiv: one request at a time, spaced out, retried with backoff, one-line errors."""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from ..schema import PaperrecError

# arXiv's API terms ask for no more than one request every three seconds.
DEFAULT_MIN_INTERVAL = 3.0
MAX_WAIT = 60.0


class NetworkError(PaperrecError):
    """arXiv could not be reached or kept refusing; the message says which."""


def default_user_agent() -> str:
    """A descriptive User-Agent naming paperrec and its version, as arXiv asks of automated clients."""
    from .. import __version__

    return f"paperrec/{__version__} (+https://github.com/paperrec; daily paper recommender)"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None when absent or unreadable."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class PoliteClient:
    """An httpx.Client that waits min_interval seconds between request starts and retries 429, 5xx and timeouts."""

    def __init__(
        self,
        *,
        user_agent: str | None = None,
        min_interval: float = DEFAULT_MIN_INTERVAL,
        timeout: float = 30.0,
        max_retries: int = 4,
        backoff: float = 2.0,
        max_wait: float = MAX_WAIT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ):
        self.user_agent = user_agent or default_user_agent()
        self.min_interval = min_interval
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.requests = 0  # requests sent, retries included
        self._clock = clock
        self._sleep = sleep
        self._last_start: float | None = None
        self._lock = threading.Lock()
        self._http = httpx.Client(
            headers={"User-Agent": self.user_agent},
            timeout=timeout,
            follow_redirects=True,
            transport=transport,
        )

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying connection pool."""
        self._http.close()

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff * 2**attempt, self.max_wait)

    def _wait_turn(self, delay: float) -> None:
        """Sleep until both `delay` has passed and min_interval has passed since the last request started."""
        now = self._clock()
        wait = delay
        if self._last_start is not None:
            wait = max(wait, self._last_start + self.min_interval - now)
        if wait > 0:
            self._sleep(wait)
        self._last_start = self._clock()

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        """GET url politely; the 2xx response, else NetworkError with one line saying what went wrong."""
        with self._lock:
            tries = max(1, self.max_retries + 1)
            delay = 0.0
            for attempt in range(tries):
                self._wait_turn(delay)
                self.requests += 1
                try:
                    response = self._http.get(url, params=params)
                except httpx.TimeoutException:
                    failure = f"arXiv did not answer (offline?): no response within {self.timeout:g} s ({tries} tries)"
                except httpx.TransportError as error:
                    reason = _one_line(str(error)) or type(error).__name__
                    failure = f"arXiv did not answer (offline?): {reason}"
                else:
                    status = response.status_code
                    if response.is_success:
                        return response
                    if status != 429 and status < 500:
                        raise NetworkError(f"arXiv returned HTTP {status} for {response.url}")
                    if status == 429:
                        failure = f"arXiv is rate-limiting us (HTTP 429) after {tries} tries; try again later"
                    else:
                        failure = f"arXiv is unavailable (HTTP {status}) after {tries} tries; try again later"
                    asked = retry_after_seconds(response.headers.get("Retry-After"))
                    if asked is not None:
                        if asked > self.max_wait:
                            raise NetworkError(f"arXiv asks us to wait {asked:.0f} s (HTTP {status}); try again later")
                        delay = asked
                        continue
                delay = self._backoff(attempt)
            raise NetworkError(failure)
