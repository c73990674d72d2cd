"""A day of a keyed source (a bioRxiv category, a venue, a journal) read from the store or fetched once and kept."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ..paths import listings_dir
from ..schema import Listing, PaperrecError
from . import merge_listings
from .http import PoliteClient, for_source
from .store import latest_day, read_day, read_days, write_day

# fetch_one(client, key, day) -> the listing of one key on one day, straight from the network
FetchOne = Callable[[PoliteClient, str, date], Listing]


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
    now: datetime | None = None,
    client: PoliteClient | None = None,
    offline: bool = False,
    store: Path | None = None,
) -> tuple[Listing, str | None]:
    """The listing of `keys` on `day` (None: the newest complete day, yesterday in UTC), and a notice or None.

    Each (key, day) is fetched once and kept under `store` (default: listings_dir()). A day after `latest` is still
    being posted: it is fetched but not kept. An empty day is not kept either (it may be a glitch). `offline` reads
    only what is stored (None: the newest day stored for any key) and never touches the network.
    """
    latest = latest_posting_day(now)
    root = Path(store) if store is not None else listings_dir()
    specs = [f"{kind}:{key}" for key in keys]
    if offline:
        target = day or latest_day(specs, root)
        if target is None:
            wanted = " ".join(specs)
            raise PaperrecError(f"no stored {wanted} listing to rank offline: run 'paperrec fetch {wanted}' first")
        return read_days(specs, target, root), f"offline: ranking the stored {label} {target}"
    target = day or latest
    listings: list[Listing] = []
    with contextlib.ExitStack() as stack:
        for key, spec in zip(keys, specs, strict=True):
            stored_listing = read_day(spec, target, root)
            if stored_listing is not None:
                listings.append(stored_listing)
                continue
            if client is None:
                client = stack.enter_context(for_source(label, hosts, min_interval))
                stack.enter_context(client.fetching())
            fetched = fetch_one(client, key, target)
            if fetched.papers and target <= latest:
                fetched = write_day(fetched, spec, target, root)
            listings.append(replace(fetched, category=spec, date=target))
    return replace(merge_listings(listings), date=target), None
