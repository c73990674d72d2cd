"""A day of a keyed source (a bioRxiv category, a venue, a journal) fetched once and kept; missed days back-filled."""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ..paths import listings_dir
from ..schema import Listing, Paper, PaperrecError, counted
from . import merge_listings
from .http import PoliteClient, for_source
from .store import (
    fetched_days,
    latest_day,
    mark_empty,
    marks_empty_days,
    note_marking,
    read_day,
    read_days,
    write_day,
)

# fetch_one(client, key, day) -> the listing of one key on one day, straight from the network
FetchOne = Callable[[PoliteClient, str, date], Listing]
# fetch_range(client, key, start, end) -> the listing of one key on each day from start to end, empty days too
FetchRange = Callable[[PoliteClient, str, date, date], Mapping[date, Listing]]

BACKFILL_DAYS = 7  # how far back a run fetches the days missed since the last one: a week, as arXiv's notice looks
BACKFILL_SECONDS = 120.0  # the back-fill's bound within the fetch's deadline: it must not hold up the morning


def latest_posting_day(now: datetime | None = None) -> date:
    """The newest complete day of a source dated in UTC: yesterday (today's postings are still coming in)."""
    return (now or datetime.now(UTC)).astimezone(UTC).date() - timedelta(days=1)


def fetch_keyed(
    kind: str,
    label: str,
    keys: Sequence[str],
    day: date | None,
    *,
    hosts: frozenset[str],
    min_interval: float,
    fetch_one: FetchOne,
    fetch_range: FetchRange | None = None,
    now: datetime | None = None,
    client: PoliteClient | None = None,
    offline: bool = False,
    store: Path | None = None,
) -> tuple[Listing, str | None]:
    """The listing of `keys` on `day` (None: the newest complete day, yesterday in UTC), and a notice or None.

    Each (key, day) is fetched once and kept under `store` (default: listings_dir()). A day after `latest` is still
    being posted: it is fetched but not kept. An empty day is only marked as fetched: asked for again, it is fetched
    again (it may have been a glitch). With `fetch_range`, a run for `latest` also fetches and keeps the days missed
    since the last run, at most BACKFILL_DAYS back (see backfill). `offline` reads only what is stored (None: the
    newest day stored for any key) and never touches the network.
    """
    latest = latest_posting_day(now)
    root = Path(store) if store is not None else listings_dir()
    specs = [f"{kind}:{key}" for key in keys]
    if offline:
        target = day or latest_day(specs, root)
        if target is None:
            wanted, typed = " ".join(specs), " ".join(shlex.quote(spec) for spec in specs)
            raise PaperrecError(f"no stored {wanted} listing to rank offline: run 'paperrec fetch {typed}' first")
        return read_days(specs, target, root), f"offline: ranking the stored {label} {target}"
    target = day or latest
    listings: list[Listing] = []
    with contextlib.ExitStack() as stack:

        def connected() -> PoliteClient:
            nonlocal client
            if client is None:
                client = stack.enter_context(for_source(label, hosts, min_interval))
                stack.enter_context(client.fetching())
            return client

        for key, spec in zip(keys, specs, strict=True):
            stored_listing = read_day(spec, target, root)
            if stored_listing is not None:
                listings.append(stored_listing)
                continue
            fetched = fetch_one(connected(), key, target)
            if fetched.papers and target <= latest:
                fetched = write_day(fetched, spec, target, root)
            elif target <= latest:
                mark_empty(spec, target, root)
            listings.append(replace(fetched, category=spec, date=target))
        notice = None
        if fetch_range is not None and target == latest:  # the day asked for came first: a back-fill never fails it
            notice = backfill(label, kind, keys, target, connected, fetch_range, root)
    return replace(merge_listings(listings), date=target), notice


def missed_days(spec: str, target: date, root: Path) -> tuple[list[date], list[date]]:
    """The days of `spec` no run fetched: those of the last BACKFILL_DAYS before `target`, and the older ones of the
    gap before it. Before a source's first fetch nothing is missed: a new profile fetches no history. Nor are older
    days named in a store an older paperrec wrote, which kept no mark of an empty day."""
    fetched = {day for day in fetched_days(spec, root) if day < target}
    if not fetched:
        return [], []
    cut = target - timedelta(days=BACKFILL_DAYS)
    # Every unfetched day of the week, not only those after the newest: a failed back-fill's days lie before the
    # day the run then stored, and the next morning's run must still find them.
    recent = [cut + timedelta(days=n) for n in range(BACKFILL_DAYS)]
    recent = [day for day in recent if day > min(fetched) and day not in fetched]
    before = max(fetched)
    if not marks_empty_days(spec, root):
        return recent, []
    return recent, [before + timedelta(days=n) for n in range(1, (cut - before).days)]


def span(start: date, end: date) -> str:
    """A run of days in words: '2026-12-01', or '2026-11-29 to 2026-12-03'."""
    return str(start) if start == end else f"{start} to {end}"


def by_day(papers: Sequence[Paper], key: str, start: date, end: date, source: str) -> dict[date, Listing]:
    """The papers of a range asked at once, filed by their own dates: a listing for every day from start to end, an
    empty one for a day without papers."""
    days = [date.fromordinal(number) for number in range(start.toordinal(), end.toordinal() + 1)]
    return {
        day: Listing(papers=tuple(p for p in papers if p.date == day), category=key, date=day, sources=(source,))
        for day in days
    }


def backfill(
    label: str,
    kind: str,
    keys: Sequence[str],
    target: date,
    connect: Callable[[], PoliteClient],
    fetch_range: FetchRange,
    root: Path,
) -> str | None:
    """Fetch and keep the days each key missed before `target` (one range a key), and one line on what came, or None.

    A day that held nothing is marked, so it is neither fetched nor named again. A key whose back-fill fails keeps its
    days unmarked, and the next run tries them again. A back-fill that brought no papers says nothing.
    """
    filled: list[str] = []
    failed: list[str] = []
    older: list[str] = []
    firsts: list[date] = []
    missed = {key: missed_days(f"{kind}:{key}", target, root) for key in keys}
    for key in keys:  # every day from this run on is kept or marked: the next run may name the older days it missed
        note_marking(f"{kind}:{key}", root)
    for key, (_, old) in missed.items():
        if old:
            older.append(
                f"{label} {key} {span(old[0], old[-1])} not fetched (more than {BACKFILL_DAYS} days back): "
                f"'paperrec fetch {shlex.quote(f'{kind}:{key}')} --date {old[0]}' fetches one"
            )
    gaps = {key: days for key, (days, _) in missed.items() if days}
    if gaps:
        client = connect()
        with client.fetching(BACKFILL_SECONDS):  # one bound for every key's back-fill together
            for key, days in gaps.items():
                try:
                    found = fetch_range(client, key, days[0], days[-1])
                except PaperrecError as error:
                    when = span(days[0], days[-1])
                    failed.append(f"{label} {key} {when} not back-filled ({error}); the next run tries again")
                    continue
                papers = 0
                for day in days:
                    listing = found.get(day)
                    if listing is not None and listing.papers:
                        papers += len(write_day(listing, f"{kind}:{key}", day, root).papers)
                    else:
                        mark_empty(f"{kind}:{key}", day, root)
                if papers:
                    filled.append(f"{key} {span(days[0], days[-1])} ({counted(papers, 'paper', 'papers')})")
                    firsts.append(days[0])
    if filled:
        ranks = f"'paperrec today --date {min(firsts)}' ranks one"
        failed.insert(0, f"{label} back-filled the days no run fetched: {', '.join(filled)}; {ranks}")
    return "; ".join([*failed, *older]) or None
