"""OpenReview: a venue's public submissions created on a day, from the API v2 notes.

The API is https://api2.openreview.net/notes?invitation={venue}/-/Submission&sort=cdate:desc&offset=&limit=. Its
answer is {"notes": [{"id", "forum", "cdate" (ms, UTC), "readers", "content": {"title": {"value"}, "abstract",
"authors", "keywords", "pdf"}}], "count"}. A day is the creation date (cdate) in UTC. Only notes that everyone
may read are kept: a paper that is not public is never shown. paperrec calls this REST API through its polite client
rather than openreview-py, whose `requests` transport cannot be bounded by the same deadline and size cap.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ..schema import Listing, Paper, PaperrecError, UsageError, openreview_id
from .daily import fetch_keyed
from .guard import answer_object, scrubbed
from .http import PoliteClient

API_URL = "https://api2.openreview.net/notes"
HOSTS = frozenset({"api2.openreview.net"})
MIN_INTERVAL = 1.0
PAGE_SIZE = 1000  # the API's largest page
MAX_PAGES = 50
_VENUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9._-]+)*$")


def check_venue(text: str) -> str:
    """A venue id as OpenReview writes it ('ICLR.cc/2026/Conference'); UsageError for anything else."""
    venue = text.strip().strip("/")
    if not _VENUE.match(venue) or ".." in venue.split("/"):
        raise UsageError(f"{text!r} is not an OpenReview venue id; use one like ICLR.cc/2026/Conference")
    return venue


def _value(content: dict[str, Any], key: str) -> Any:
    """A content field: API v2 wraps each in {"value": ...}; API v1 wrote it bare."""
    field = content.get(key)
    return field.get("value") if isinstance(field, dict) else field


def _strings(value: Any) -> list[str]:
    return [scrubbed(v) for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _day(cdate: Any) -> date | None:
    """The UTC day of a cdate in milliseconds since the epoch; None when it is not one."""
    if isinstance(cdate, bool) or not isinstance(cdate, int | float) or not 0 <= cdate < 253402300800000:
        return None
    return datetime.fromtimestamp(cdate / 1000, UTC).date()


def _paper(note: Any) -> tuple[Paper | None, date | None]:
    """One public submission as a Paper and its creation day; (None, day) for a note not public or unreadable."""
    if not isinstance(note, dict):
        return None, None
    day = _day(note.get("cdate"))
    readers = note.get("readers")
    content = note.get("content")
    if not isinstance(readers, list) or "everyone" not in readers or not isinstance(content, dict):
        return None, day
    forum = note.get("forum") or note.get("id")
    found = openreview_id(forum) if isinstance(forum, str) else None
    title = scrubbed(_value(content, "title"))
    if found is None or not isinstance(title, str) or not title.strip():
        return None, day
    abstract = scrubbed(_value(content, "abstract"))
    forum_id = found.removeprefix("openreview:")
    links = [f"https://openreview.net/forum?id={forum_id}"]
    if isinstance(_value(content, "pdf"), str):
        links.append(f"https://openreview.net/pdf?id={forum_id}")
    paper = Paper.make(
        title=title,
        raw_id=found,
        abstract=abstract if isinstance(abstract, str) else "",
        authors=_strings(_value(content, "authors")),
        categories=_strings(_value(content, "keywords")),
        date=day,
        links=links,
    )
    return paper, day


def parse_notes(content: bytes | str) -> tuple[list[tuple[Paper | None, date | None]], int | None]:
    """Each note of one page as (paper or None, creation day), and the count the answer announces."""
    data = answer_object(content, "OpenReview")
    notes = data.get("notes")
    count = data.get("count")
    count = count if isinstance(count, int) and not isinstance(count, bool) else None
    return [_paper(note) for note in (notes if isinstance(notes, list) else [])], count


def fetch_day(client: PoliteClient, venue: str, day: date, *, base_url: str | None = None) -> Listing:
    """A venue's public submissions created on `day` (UTC), newest pages first until the day is passed."""
    url = base_url or API_URL  # read at call time, so a test can point it at its own server
    papers: dict[str, Paper] = {}
    offset = 0
    for _ in range(MAX_PAGES):
        params = {
            "invitation": f"{venue}/-/Submission",
            "sort": "cdate:desc",
            "offset": offset,
            "limit": PAGE_SIZE,
        }
        page, count = parse_notes(client.get(url, params=params).content)
        for paper, created in page:
            if paper is not None and created == day:
                papers.setdefault(paper.arxiv_id, paper)
        offset += len(page)
        days = [created for _, created in page if created is not None]
        if not page or len(page) < PAGE_SIZE or (count is not None and offset >= count) or min(days, default=day) < day:
            break
    else:
        raise PaperrecError(f"OpenReview needed more than {MAX_PAGES} pages for {venue} back to {day}: stopped")
    return Listing(papers=tuple(papers.values()), category=venue, date=day, sources=(f"{url}?invitation={venue}",))


def fetch_listing(
    keys: list[str],
    day: date | None = None,
    *,
    include_cross: bool = False,
    offline: bool = False,
    store: Path | None = None,
    client: PoliteClient | None = None,
    now: datetime | None = None,
    base_url: str | None = None,
) -> tuple[Listing, str | None]:
    """The public submissions of venues created on `day` (None: yesterday, UTC). Example: fetch_listing(['TMLR'])."""
    venues = list(dict.fromkeys(check_venue(key) for key in keys))
    if not venues:
        raise UsageError("no OpenReview venue given; name one like openreview:ICLR.cc/2026/Conference")
    return fetch_keyed(
        "openreview",
        "OpenReview",
        venues,
        day,
        fetch_one=lambda client, venue, on: fetch_day(client, venue, on, base_url=base_url),
        hosts=HOSTS,
        min_interval=MIN_INTERVAL,
        now=now,
        client=client,
        offline=offline,
        store=store,
    )
