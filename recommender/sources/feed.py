"""A site's own RSS or Atom feed (a journal's eTOC feed): its entries as papers, and the days they arrived on.

The key is the feed's http(s) address. RSS 2.0, RSS 1.0 (RDF, as many publishers write it) and Atom are read by
feedparser. An entry is known by its DOI when it names one (prism:doi, dc:identifier 'doi:...', a doi.org link, a
DOI in its link's path), else by its arXiv id when it links to arXiv, else by a hash of its title.

A feed's day is the day (UTC) paperrec first saw an entry, not the entry's own date. Feeds hold only their recent
entries, many entries carry no date, and a journal's dates are often its issue's or come days late. A day of entry
dates would lose every entry that turns up after its day was stored. So each fetch adds the entries no stored day of
the feed holds to today's file, and `today` ranks that file. Each paper keeps the feed's own date. A past day is
what arrived that day: a feed cannot be asked for its past. The address may hold a private token: messages show its
query as '?***', and the store names its folder by host and hash.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..paths import listings_dir, locked
from ..schema import (
    Listing,
    Paper,
    PaperrecError,
    TemporaryFailure,
    UsageError,
    doi_id,
    id_of_link,
    safe_url,
)
from . import merge_listings
from .guard import as_parsed_text, checked_keys, feed_document, iso_day, reading, scrub
from .http import Outgoing, PoliteClient, for_source
from .markdown import strip_html
from .public import private_sources_refused
from .store import day_path, latest_day, read_day, read_days, stored_days, write_day

KIND = "feed"
MIN_INTERVAL = 1.0  # a site's own server: one request a second to one host
MAX_BYTES = 10_000_000  # a journal's feed is tens of kB; a few MB is a feed of a whole year
ACCEPT = "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9"

# A DOI in an entry's link path, as Wiley, Taylor & Francis, ACS or SAGE write it ('/doi/full/10.1002/x.123').
_DOI_IN_PATH = re.compile(r"/(10\.\d{4,9}/[^?#\s]+)")
_DOI_IN_TEXT = re.compile(r"\b(?:doi:\s*)?(10\.\d{4,9}/[^\s<>\"']+)", re.IGNORECASE)
# Tags of publishers' summaries that markdown.strip_html leaves (it strips only tags that may sit in an abstract).
_MORE_TAGS = re.compile(
    r"</?(?:img|h[1-6]|table|thead|tbody|tfoot|tr|td|th|caption|blockquote|hr|figure|figcaption|dl|dt|dd|section"
    r"|article|header|footer|center|cite|q|del|ins|strike|big|label|address|mark|time|wbr|source|picture|video|audio"
    r"|iframe|object|embed|link|meta)(?=[\s/>])[^<>]*>",
    re.IGNORECASE,
)
# What opens many summaries and says nothing of the paper: Nature's "Nature X, Published online: 04 December 2026;
# doi:10.1038/...", a heading "Abstract".
_BOILERPLATE = re.compile(
    r"^(?:[^.;]{0,150}Published online:[^;]{0,40};\s*doi:\s*10\.\d{4,9}/\S+\s*|abstract\b[:.]?\s*)", re.I
)
# Script and style elements, each with the closer after its last element: an opener after it is read no further.
_DROPPED = [
    (re.compile(rf"<{tag}\b[^<>]*>.*?</{tag}\s*>", re.IGNORECASE | re.DOTALL), re.compile(rf"</{tag}\s*>", re.I))
    for tag in ("script", "style")
]
_HTML_PAGE = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.I | re.S)
_QUERY = re.compile(r"""(https?://[^\s?#"'<>]*)\?[^\s#"'<>]*""", re.IGNORECASE)


def shown(text: str) -> str:
    """The text with the query of each http(s) address in it, which may hold a token, as '?***'."""
    return _QUERY.sub(lambda found: found[1] + "?***", text)


def check_feed(text: str) -> str:
    """The feed's address, stripped; a UsageError (exit 2) for anything but an http(s) URL with a host."""
    url = text.strip()
    head, mark, _ = url.partition("?")
    refused = head + "?***" if mark else url  # any scheme's query may hold a token
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not host:
        raise UsageError(f"{refused!r} is not an http(s) address of a feed: e.g. feed:https://www.nature.com/neuro.rss")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise UsageError(f"a feed's address holds no spaces or control characters: {refused!r}")
    return url


# ---- parsing -------------------------------------------------------------------------------------------------------


def _parsed(content: bytes, where: str) -> Any:
    """feedparser's result for a feed; one PaperrecError line for a web page, damaged XML or no feed at all."""
    if _HTML_PAGE.match(content[:4096]):
        raise PaperrecError(f"{where} is a web page (HTML), not an RSS or Atom feed: check the feed's address")
    if b"<!ENTITY" in as_parsed_text(content):  # they expand many times over; no publisher's feed needs them
        raise PaperrecError(f"{where} declares XML entities: refused")
    return feed_document(content, where)


def _text(value: Any) -> str:
    """A feed's text with markup removed: tags, entities and scripts."""
    if not isinstance(value, str):
        return ""
    return strip_html(_MORE_TAGS.sub(" ", _without_scripts(scrub(value))))


def _without_scripts(text: str) -> str:
    """The text without its script and style elements; an opener that no closer ends stays, looked at once."""
    for element, closer in _DROPPED:
        end = max((found.end() for found in closer.finditer(text)), default=0)
        if end:  # openers after the last closer would each be read to the end of the text, for nothing
            text = element.sub(" ", text[:end]) + text[end:]
    return text


def _abstract(entry: Any) -> str:
    """The longer of the entry's content and summary, as text (some feeds put the abstract in one, some in both)."""
    texts = [_text(part.get("value")) for part in entry.get("content") or [] if isinstance(part, dict)]
    texts.append(_text(entry.get("summary")))
    return _BOILERPLATE.sub("", max(texts, key=len, default=""))


def _authors(entry: Any) -> list[str]:
    """The entry's authors: each dc:creator or author element, or one element's names split at ';'."""
    names = [_text(a.get("name")) for a in entry.get("authors") or [] if isinstance(a, dict)]
    names = [name for name in names if name]
    if not names:
        names = [_text(entry.get("author"))] if entry.get("author") else []
    if len(names) == 1 and ";" in names[0]:
        names = [part.strip() for part in names[0].split(";")]
    return [name for name in names if name]


def _links(entry: Any) -> list[str]:
    """The entry's web addresses: its link first, then its other links and an address as its id."""
    found = [entry.get("link")]
    found += [link.get("href") for link in entry.get("links") or [] if isinstance(link, dict)]
    found.append(entry.get("id"))
    return [url for url in found if isinstance(url, str) and safe_url(url.strip())]


def _doi(entry: Any, links: list[str]) -> str | None:
    """The DOI the entry names: prism:doi, dc:identifier, a doi.org link, its id, a DOI in a link's path."""
    for key in ("prism_doi", "dc_identifier", "id"):
        value = entry.get(key)
        if isinstance(value, str) and (found := doi_id(value.strip().removeprefix("info:doi/"))):
            return found
    for url in links:
        found = id_of_link(url)
        if found and found.startswith("doi:"):
            return found
    for url in links:
        match = _DOI_IN_PATH.search(urlsplit(url.strip()).path)
        if match and (found := doi_id(unquote(match[1]).rstrip("/"))):
            return found
    return None


def _arxiv(links: list[str]) -> str | None:
    """The arXiv id a link names (an arXiv listing's feed, or a feed that points at preprints)."""
    for url in links:
        found = id_of_link(url.strip())
        if found and not found.startswith(("doi:", "openreview:")):
            return found
    return None


def _day(entry: Any) -> date | None:
    """The entry's own date in UTC: published, updated (RSS 1.0's dc:date), created, prism's dates."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value is not None:
            try:
                return date(value.tm_year, value.tm_mon, value.tm_mday)
            except (AttributeError, ValueError):
                continue
    for key in ("prism_publicationdate", "prism_coverdate", "dc_date"):
        value = entry.get(key)
        if isinstance(value, str) and (found := iso_day(value)):
            return found
    return None


def _paper(entry: Any, journal: str = "") -> Paper | None:
    """One entry as a Paper; None for an entry without a title. `journal` is the channel's own name for it."""
    title = _text(entry.get("title"))
    if not title:
        return None
    links = _links(entry)
    found = _doi(entry, links)
    if found is None:
        # A DOI opening the summary, as Nature's feeds write it ('...; doi:10.1038/s41593-...'). Further in, a DOI
        # may be another paper's, cited.
        summary = scrub(str(entry.get("summary") or ""))[:300]
        match = _DOI_IN_TEXT.search(summary)
        found = doi_id(match[1].rstrip(".,;)")) if match else None
    raw_id = found or _arxiv(links)
    doi_link = [f"https://doi.org/{found[4:]}"] if found else []
    return Paper.make(
        title=title,
        raw_id=raw_id,
        abstract=_abstract(entry),
        authors=_authors(entry),
        date=_day(entry),
        links=[*(url.strip() for url in links[:1]), *doi_link, *(url.strip() for url in links[1:])],
        venue=_text(entry.get("prism_publicationname")) or journal,
    )


def parse_feed(content: bytes | str, where: str = "the feed") -> tuple[list[Paper], int]:
    """The papers of a feed, each once, in the feed's order, and how many entries were left out (no title)."""
    data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    parsed = _parsed(data, where)
    papers: dict[str, Paper] = {}
    skipped = 0
    # PRISM's publicationName is the journal's name. A feed's title is not: 'PLOS Biology: New Articles'.
    journal = _text(parsed.feed.get("prism_publicationname"))
    for entry in parsed.entries:
        with reading(f"{where}, an entry"):
            paper = _paper(entry, journal)
        if paper is None:
            skipped += 1
        else:
            papers.setdefault(paper.arxiv_id, paper)
    return list(papers.values()), skipped


# ---- fetching and the days entries arrived on ----------------------------------------------------------------------


def _keys(paper: Paper) -> set[str]:
    """What makes two copies of an entry one: any of its ids or its links."""
    return {*paper.ids, *paper.links}


def _hosts(url: str) -> frozenset[str]:
    """The hosts a feed may redirect within: its own, with and without 'www.'."""
    host = (urlsplit(url).hostname or "").lower()
    bare = host.removeprefix("www.")
    return frozenset({host, bare, f"www.{bare}"})


def fetch_feed(client: PoliteClient, url: str) -> tuple[list[Paper], int]:
    """The papers a feed holds now, and how many of its entries had no title."""
    answer = client.send(url, out=Outgoing("GET", {"Accept": ACCEPT}))
    return parse_feed(answer.content, f"the feed {shown(url)}")


def _arrive(client: PoliteClient, url: str, today: date, root: Path) -> tuple[Listing, int]:
    """Today's arrivals of one feed, after adding the entries no stored day holds; and how many had no title."""
    spec = f"{KIND}:{url}"
    papers, skipped = fetch_feed(client, url)
    # Two runs at once (a cron line and a page's fetch) must not each add the arrivals the other is adding.
    with locked(day_path(spec, today, root)):
        known: set[str] = set()
        for day in stored_days(spec, root):
            stored = read_day(spec, day, root)
            for paper in stored.papers if stored is not None else ():
                known.update(_keys(paper))
        new = [paper for paper in papers if not _keys(paper) & known]
        todays = read_day(spec, today, root)
        if new:
            todays = write_day(Listing(papers=(*(todays.papers if todays else ()), *new)), spec, today, root)
    listing = todays or Listing(papers=())
    return replace(listing, category=spec, date=today, sources=(shown(url),)), skipped


def fetch_listing(
    keys: list[str],
    day: date | None = None,
    *,
    include_cross: bool = False,
    offline: bool = False,
    store: Path | None = None,
    client: PoliteClient | None = None,
    now: datetime | None = None,
) -> tuple[Listing, str | None]:
    """The entries of feeds that arrived on `day` (None: today, UTC), and a notice or None.

    Example: fetch_listing(['https://www.nature.com/neuro.rss']). Today's file gains the entries no stored day of
    the feed holds. A past day, or `offline`, reads the store only. A feed that fails is a notice while another gives
    papers; when all fail, the error is raised.
    """
    feeds = checked_keys(keys, check_feed, "feed", "feed:https://www.nature.com/neuro.rss")
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    root = Path(store) if store is not None else listings_dir()
    specs = [f"{KIND}:{url}" for url in feeds]
    if offline or (day is not None and day < today):
        target = day or latest_day(specs, root)
        if target is None:
            wanted = " ".join(f"{KIND}:{shown(url)}" for url in feeds)
            raise PaperrecError(f"no stored {wanted} listing to rank offline: run 'paperrec fetch' on it first")
        listing = read_days(specs, target, root)
        if offline:
            return listing, f"offline: ranking the feeds' entries that arrived on {target}"
        if not listing.papers:
            return (
                listing,
                "a feed holds only recent entries: paperrec keeps those that arrived from its first fetch on",
            )
        return listing, None
    if day is not None and day > today:
        raise UsageError(f"{day} is after today ({today}, UTC): a feed's day is the day its entries arrived")
    listings: list[Listing] = []
    failed: list[tuple[str, PaperrecError]] = []
    skipped = 0
    public_only = private_sources_refused()
    with contextlib.ExitStack() as stack:
        for url in feeds:
            # Each feed its own client: its host's spacing file, its host's redirects, its host in messages.
            polite = client or stack.enter_context(
                for_source(_label(url), _hosts(url), MIN_INTERVAL, max_bytes=MAX_BYTES, public_only=public_only)
            )
            try:
                listing, left = _one(polite, url, today, root)
            except PaperrecError as error:
                failed.append((url, error))
                continue
            listings.append(listing)
            skipped += left
    if failed and not listings:
        if len(failed) == 1:
            raise failed[0][1]
        lines = "; ".join(f"{shown(url)}: {error}" for url, error in failed)
        if all(isinstance(error, TemporaryFailure) for _, error in failed):
            raise TemporaryFailure(lines)
        raise PaperrecError(lines)
    notices = [f"{shown(url)} failed ({error})" for url, error in failed]
    if not any(listing.papers for listing in listings) and (before := latest_day(specs, root)) not in (None, today):
        # Most days a journal publishes nothing: say where the last entries are rather than leave an empty day.
        where = "feed" if len(feeds) == 1 else "feeds"
        notices.append(f"nothing new in the {where} since {before}: '--date {before}' ranks what arrived then")
    if skipped:
        notices.append(f"left out {skipped} {'entry' if skipped == 1 else 'entries'} without a title")
    return replace(merge_listings(listings), date=today), "; ".join(notices) or None


def _label(url: str) -> str:
    """The name a feed's client gives in its messages: the host it asks."""
    return (urlsplit(url).hostname or "the feed").lower()


def _one(client: PoliteClient, url: str, today: date, root: Path) -> tuple[Listing, int]:
    """One feed's arrivals of today; its errors with the address's query hidden."""
    try:
        with client.fetching():
            return _arrive(client, url, today, root)
    except PaperrecError as error:
        error.args = (shown(str(error)),)
        raise
