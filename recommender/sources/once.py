"""Each request asked once per run: inside `asking_once`, one that failed for now, or a GET answered, is not sent again.

A run ranks several profiles, and profiles often share a source. Without this, a feed that fails would be retried for
each profile, and a feed that is never stored (a weekend's empty one) would be fetched for each profile.
Within `in_a_run`, a host that could not be connected to is kept with the time it failed, and a later request to it
fails at once for a while: a run with the network down waits for one request's retries, not one per source.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from ..schema import TemporaryFailure

T = TypeVar("T")


@dataclass(frozen=True)
class _Host:
    """The key a host's connection failure is kept under: scheme, host and port, as a connection is made."""

    scheme: str
    host: str
    port: int | None


@dataclass(frozen=True)
class _Unreached:
    """A connection failure kept by keep_unreachable, and when it happened (by the asking client's clock)."""

    error: TemporaryFailure
    when: float


def _host(url: str) -> _Host | None:
    """The host `url` connects to; None when it names none."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:  # a port out of range, a bracket left open
        return None
    return _Host(parts.scheme.lower(), parts.hostname, port) if parts.hostname else None


_ASKED: ContextVar[dict[Hashable, Any] | None] = ContextVar("paperrec_asked", default=None)
# The hosts the run could not connect to; None outside in_a_run. Apart from _ASKED: no answer is kept with them.
_UNREACHED: ContextVar[dict[_Host, _Unreached] | None] = ContextVar("paperrec_unreached", default=None)


@contextlib.contextmanager
def asking_once(asked: dict[Hashable, Any]) -> Iterator[None]:
    """Within the block, each request is sent at most once for all blocks given the same `asked` (one run's memory).

    Example: asked = {}; with asking_once(asked): fetch_listing(["cs.CV"])
    """
    token = _ASKED.set(asked)
    try:
        yield
    finally:
        _ASKED.reset(token)


@contextlib.contextmanager
def in_a_run() -> Iterator[None]:
    """The block (or the decorated function) as a run that keeps the hosts it could not reach; in a run, part of it.

    Example: with in_a_run(): [fetch_listing([category]) for category in ("cs.CV", "cs.LG")]
    """
    if _UNREACHED.get() is not None:
        yield
        return
    token = _UNREACHED.set({})
    try:
        yield
    finally:
        _UNREACHED.reset(token)


def keep_unreachable(url: str, error: TemporaryFailure, now: float) -> None:
    """Inside `in_a_run`, keep `error` as what `url`'s host gives: it could not be connected to at `now`."""
    unreached, host = _UNREACHED.get(), _host(url)
    if unreached is not None and host is not None:
        unreached[host] = _Unreached(error, now)


def unreachable(url: str, now: float, within: float) -> TemporaryFailure | None:
    """Inside `in_a_run`, the failure kept for `url`'s host less than `within` seconds before `now`; else None."""
    unreached, host = _UNREACHED.get(), _host(url)
    kept = unreached.get(host) if unreached is not None and host is not None else None
    if kept is None:
        return None
    # A clock that went back is no proof the failure is recent: the host is tried again.
    return kept.error if 0 <= now - kept.when < within else None


def ask_once(key: Hashable, ask: Callable[[], T], *, keep: bool = True) -> T:
    """What ask() returns; inside `asking_once`, the TemporaryFailure it raised the first time, or (with `keep`) what
    it returned then."""
    asked = _ASKED.get()
    if asked is None:
        return ask()
    if key in asked:
        kept = asked[key]
        if isinstance(kept, TemporaryFailure):
            raise kept.with_traceback(None)
        return kept
    try:
        answer = ask()
    except TemporaryFailure as error:  # a failure that will not pass is not kept: it costs no retries to see again
        asked[key] = error
        raise
    if keep:  # an answer to a request that changes something (a sign-in) is not given twice
        asked[key] = answer
    return answer
