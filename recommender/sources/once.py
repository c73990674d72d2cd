"""Each request asked once per run: inside `asking_once`, one that failed for now, or a GET answered, is not sent again.

A run ranks several profiles, and profiles often share a source. Without this, a feed that fails would be retried for
each profile, and a feed that is never stored (a weekend's empty one) would be fetched for each profile.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from ..schema import TemporaryFailure

T = TypeVar("T")

_ASKED: ContextVar[dict[Hashable, Any] | None] = ContextVar("paperrec_asked", default=None)


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
