"""arXiv as a source: parse its announcement feeds and API answers, know its schedule, fetch and store days.

Schedule (info.arxiv.org/help/availability.html): arXiv announces Sunday to Thursday at 20:00 US Eastern, and each
mailing is dated the next day, so listings are dated Monday to Friday; the RSS feed at rss.arxiv.org is rebuilt at
midnight Eastern (and at times after the announcement: see _feed_date) and is empty on Saturdays, Sundays and
holidays. Submissions close at 14:00 Eastern; Sunday's mailing takes those from Thursday 14:00 to Friday 14:00 and
Monday's those from Friday 14:00 to Monday 14:00.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..paths import listings_dir
from ..schema import Listing, Paper, PaperrecError, TemporaryFailure, UsageError, clean_text, split_arxiv_id
from . import merge_listings
from .guard import as_parsed_text, checked_keys, feed_document, reading, scrub
from .http import PoliteClient
from .store import latest_day, read_day, stored_days, write_day

RSS_URL = "https://rss.arxiv.org/rss"
API_URL = "https://export.arxiv.org/api/query"
EASTERN = ZoneInfo("America/New_York")
ANNOUNCE_AT = time(20, 0)
CUTOFF_AT = time(14, 0)
MAX_PAGE_SIZE = 2000  # the API serves at most 2000 results per call
# A busy day of all of cs is about 1,500 papers; a query past these caps is a wrong query or a misbehaving server.
MAX_PAGES = 50
MAX_DAY_PAPERS = 10_000
FIRST_DAY = date(1991, 8, 14)  # arXiv's first mailing

# As arXiv writes a category in its feeds: a term in another case (ACM's I.m) is no category of arXiv's.
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(\.[A-Za-z][A-Za-z\-]*)?$")
# As a user may type one (cs.cv, STAT.ML): the taxonomy then spells it as arXiv does.
_TYPED_CATEGORY = re.compile(_CATEGORY.pattern, re.IGNORECASE)
_ANNOUNCE = re.compile(r"^\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<kind>[\w-]+)\s*(?:Abstract:\s*)?", re.IGNORECASE)
_FEED_TITLE = re.compile(r"^\s*(?P<category>\S+) updates on arXiv", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def check_category(category: str) -> str:
    """The category stripped and spelled as arXiv does; UsageError unless it is in arXiv's taxonomy ('cs.CV')."""
    text = category.strip()
    if not _TYPED_CATEGORY.match(text):
        raise UsageError(f"{category!r} is not an arXiv category; use one like cs.CV, stat.ML or hep-th")
    from .taxonomy import validate_categories  # a typo (cs.CVV) is a usage error, not a request arXiv answers empty

    return validate_categories([text])[0]


# ---- schedule ------------------------------------------------------------------------------------------------------


def check_day(day: date, now: datetime | None = None) -> date:
    """The day, unless no arXiv listing can have its date (before 1991-08-14 or after next year): UsageError."""
    # Checked before any schedule arithmetic, which overflows near year 1 and year 9999.
    if not FIRST_DAY <= day <= date((now or datetime.now(UTC)).year + 1, 12, 31):
        raise UsageError(f"no arXiv listing is dated {day}: arXiv's listings run from {FIRST_DAY} to today")
    return day


def check_announced_day(day: date, now: datetime | None = None) -> date:
    """The day, when arXiv dates a listing on it and has announced it by `now`; else a UsageError naming one to try."""
    now = now or datetime.now(UTC)
    check_day(day, now)
    if not is_announcement_day(day):
        raise UsageError(
            f"{day} is a {day:%A}: arXiv listings are dated Monday to Friday; try {previous_announcement(day)}"
        )
    latest = latest_announcement(now)
    if day > latest:
        raise UsageError(f"arXiv has not announced a listing dated {day} yet; the latest is {latest}")
    return day


def is_announcement_day(day: date) -> bool:
    """True when arXiv dates a listing `day`: Monday to Friday (holidays are not known here; an empty feed tells)."""
    return day.weekday() < 5


def previous_announcement(day: date) -> date:
    """The latest announcement day strictly before `day`."""
    day -= timedelta(days=1)
    while not is_announcement_day(day):
        day -= timedelta(days=1)
    return day


def latest_announcement(now: datetime) -> date:
    """The date of the most recent mailing at `now`: 20:00 Eastern on day X brings the listing dated X + 1.

    A naive `now` is taken as the machine's local time. Example: Saturday noon gives Friday's date, and
    Sunday 20:30 Eastern already gives Monday's.
    """
    local = now.astimezone(EASTERN)
    day = local.date() + timedelta(days=1) if local.time() >= ANNOUNCE_AT else local.date()
    while not is_announcement_day(day):
        day -= timedelta(days=1)
    return day


def _cutoff(day: date) -> datetime:
    """The 14:00 Eastern deadline of the mailing dated `day`."""
    evening = day - timedelta(days=1)
    if evening.weekday() == 6:  # Sunday's mailing closed on Friday: nothing is processed over the weekend
        evening -= timedelta(days=2)
    return datetime.combine(evening, CUTOFF_AT, tzinfo=EASTERN)


def submission_window(day: date) -> tuple[datetime, datetime]:
    """The (start, end) submission times, Eastern, of the papers announced in the listing dated `day`.

    An approximation: arXiv announces what was submitted between consecutive 14:00 Eastern deadlines, but papers held
    in moderation come out later, holidays shift deadlines, and the API only knows each paper's first submission time.
    """
    if not is_announcement_day(day):
        raise ValueError(f"{day} is a {day:%A}: arXiv listings are dated Monday to Friday")
    return _cutoff(previous_announcement(day)), _cutoff(day)


# ---- parsing -------------------------------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _parse_xml(content: bytes | str, what: str) -> Any:
    """feedparser's result for an RSS/Atom document; PaperrecError when it is not well-formed or not a feed."""
    data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    # arXiv's feeds and API answers carry no DTD; one that does could declare entities that expand without bound.
    plain = as_parsed_text(data)  # in UTF-8, as the parser will read it: UTF-16 or EBCDIC hides nothing
    if b"<!DOCTYPE" in plain or b"<!ENTITY" in plain:
        raise PaperrecError(f"{what} declares a DTD or entities, which arXiv never sends: refused")
    return feed_document(data, what)


def _when(text: str | None) -> datetime | None:
    if not text or not text.strip():
        return None
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return None


def _eastern_date(text: str | None) -> date | None:
    when = _when(text)
    if when is None:
        return None
    try:
        return when.astimezone(EASTERN).date() if when.tzinfo else when.date()
    except (OverflowError, ValueError):  # a time at the very edge of year 1 or 9999
        return None


def _feed_date(parsed: Any, entries: bool) -> tuple[date | None, str | None]:
    """The announcement date a feed holds, and why that date is in doubt (None when it is not).

    arXiv's feed service sets every pubDate to the US Eastern midnight of the day it builds the feed. lastBuildDate
    is when it built it. A feed built after the 20:00 announcement has been seen holding the next day's listing.
    So a feed is dated by the schedule at its build time. When that is not its pubDate the date is in doubt, until
    the caller compares its papers with the stored day before. Without a build time, or without entries, the date is
    the pubDate, else an entry's, else the build day (all Eastern), as the feed says.
    """
    first = parsed.entries[0].get("published") if parsed.entries else None
    published = next((d for d in map(_eastern_date, (parsed.feed.get("published"), first)) if d is not None), None)
    built = _when(parsed.feed.get("updated"))  # feedparser's name for RSS lastBuildDate (and Atom's updated)
    if not entries or built is None or built.tzinfo is None:
        return published or _eastern_date(parsed.feed.get("updated")), None
    try:
        local = built.astimezone(EASTERN)
        held = latest_announcement(local)
    except (OverflowError, ValueError):  # a build time at the very edge of year 1 or 9999
        return published, None
    if published is None or held == published:
        return held, None
    if local.date() == published:
        return held, (
            f"arXiv's feed is dated {published} but was built at {local:%H:%M} US Eastern that day, "
            f"after {held} was announced"
        )
    return published, f"arXiv's feed is dated {published} but was built at {local:%Y-%m-%d %H:%M} US Eastern"


def _authors(entry: Any) -> list[str]:
    creator = entry.get("author")
    names = [scrub(a.get("name") or "") for a in entry.get("authors") or [] if isinstance(a, dict)]
    if creator and isinstance(creator, str) and len(names) <= 1:
        # The feeds put every author in one dc:creator, comma-separated.
        return [name for name in (_one_line(part) for part in _TAG.sub("", scrub(creator)).split(",")) if name]
    return [name for name in names if name.strip()]


def _categories(entry: Any) -> list[str]:
    """The entry's arXiv categories; the API also lists ACM and MSC classes (I.2.6, 68T05), which are left out."""
    terms = (scrub(tag.get("term") or "").strip() for tag in entry.get("tags") or [] if isinstance(tag, dict))
    return [term for term in terms if _CATEGORY.match(term)]


def _make(entry: Any, raw_id: str | None, abstract: str, categories: list[str], day: date | None) -> Paper:
    title = scrub(entry.get("title") or "")
    try:
        return Paper.make(
            title=title,
            raw_id=scrub(raw_id) if raw_id else raw_id,
            abstract=scrub(abstract),
            authors=_authors(entry),
            categories=categories,
            date=day,
        )
    except ValueError as error:
        raise PaperrecError(f"arXiv entry {clean_text(title)[:60]!r}: {error}") from None


def _entry(skipped: list[str], number: int, make: Callable[..., Paper], *args: Any) -> Paper | None:
    """make(*args), the paper of entry `number`; None, with the reason added to `skipped`, when it cannot be read."""
    try:
        with reading(f"arXiv entry {number}"):
            return make(*args)
    except PaperrecError as error:
        skipped.append(str(error))
        return None


def _kept(skipped: list[str], to: list[str] | None, papers: int) -> None:
    """Pass the skipped entries on to `to`; without `to`, or when no entry was readable, the first one is an error."""
    if skipped and (to is None or not papers):
        raise PaperrecError(skipped[0])
    if to is not None:
        to.extend(skipped)


def skipped_notice(skipped: list[str]) -> str | None:
    """The one-line notice for feed entries left out, naming the first; None when none were."""
    if not skipped:
        return None
    count = f"{len(skipped)} arXiv entries" if len(skipped) > 1 else "1 arXiv entry"
    return f"skipped {count} that could not be read ({skipped[0]})"


def parse_feed(
    content: bytes | str,
    *,
    include_cross: bool = False,
    category: str | None = None,
    skipped: list[str] | None = None,
    doubts: list[str] | None = None,
) -> Listing:
    """The new papers of an arXiv announcement feed (RSS or Atom), and cross-lists when include_cross.

    Replacements are never kept. Each paper is dated with the announcement date the feed holds (see _feed_date);
    when that date is in doubt the reason is added to `doubts`. `category` (default: read from the
    feed's title) is put first among a new paper's categories and last among a cross-list's, so the first category is
    the primary one wherever the feed tells. An entry that cannot be read is an error, or, given a `skipped` list,
    left out with its reason added there (unless no entry could be read).
    """
    with reading("the arXiv feed"):
        return _feed_listing(content, include_cross, category, skipped, doubts)


def _feed_listing(
    content: bytes | str,
    include_cross: bool,
    category: str | None,
    to: list[str] | None,
    doubts: list[str] | None = None,
) -> Listing:
    parsed = _parse_xml(content, "the arXiv feed")
    if category is None:
        match = _FEED_TITLE.match(parsed.feed.get("title", ""))
        category = match.group("category") if match else None
    day, doubt = _feed_date(parsed, bool(parsed.entries))
    if doubt and doubts is not None:
        doubts.append(doubt)
    papers: dict[str, Paper] = {}
    skipped: list[str] = []
    for number, entry in enumerate(parsed.entries, start=1):
        description = entry.get("summary", "")
        head = _ANNOUNCE.match(description)
        kind = (entry.get("arxiv_announce_type") or (head.group("kind") if head else "")).strip().lower()
        if kind not in ("new", "cross") or (kind == "cross" and not include_cross):
            continue
        raw_id = head.group("id") if head else (entry.get("id") or "").removeprefix("oai:arXiv.org:") or None
        categories = _categories(entry)
        if category in categories:
            others = [c for c in categories if c != category]
            categories = [category, *others] if kind == "new" else [*others, category]
        abstract = description[head.end() :] if head else description
        paper = _entry(skipped, number, _make, entry, raw_id, abstract, categories, day)
        if paper is not None:
            papers.setdefault(paper.arxiv_id, paper)
    _kept(skipped, to, len(papers))
    return Listing(papers=tuple(papers.values()), category=category, date=day)


def _api_page(content: bytes | str, skipped: list[str]) -> tuple[list[Paper], int | None]:
    """The papers of one API answer and the total number of results the query has; unreadable entries go to skipped."""
    with reading("the arXiv API answer"):
        return _api_entries(content, skipped)


def _api_entries(content: bytes | str, skipped: list[str]) -> tuple[list[Paper], int | None]:
    parsed = _parse_xml(content, "the arXiv API answer")
    papers = []
    for number, entry in enumerate(parsed.entries, start=1):
        entry_id = (entry.get("id") or "").strip()
        if "/api/errors" in entry_id:
            reason = _one_line(entry.get("summary", "")) or entry_id
            raise PaperrecError(f"the arXiv API refused the query: {reason}")
        paper = _entry(skipped, number, _api_paper, entry, entry_id)
        if paper is not None:
            papers.append(paper)
    total = str(parsed.feed.get("opensearch_totalresults", "")).strip()
    return papers, int(total) if total.isdigit() and len(total) < 19 else None


def _api_paper(entry: Any, entry_id: str) -> Paper:
    raw_id = entry_id.rsplit("/abs/", 1)[1] if "/abs/" in entry_id else entry_id
    categories = _categories(entry)
    primary_tag = entry.get("arxiv_primary_category")
    primary = primary_tag.get("term") if isinstance(primary_tag, dict) else None
    if primary and isinstance(primary, str):
        categories = [primary, *(c for c in categories if c != primary)]
    published = _when(entry.get("published"))
    return _make(entry, raw_id, entry.get("summary", ""), categories, published and published.date())


def parse_api(content: bytes | str) -> list[Paper]:
    """The papers of an arXiv API answer (export.arxiv.org/api/query): primary category first, dated by version 1."""
    skipped: list[str] = []
    papers = _api_page(content, skipped)[0]
    _kept(skipped, None, len(papers))
    return papers


# ---- fetching ------------------------------------------------------------------------------------------------------


def fetch_feed(
    client: PoliteClient,
    category: str,
    *,
    include_cross: bool = False,
    base_url: str = RSS_URL,
    skipped: list[str] | None = None,
) -> Listing:
    """The current announcement feed of one category, e.g. fetch_feed(client, 'cs.CV').

    `skipped`: as parse_feed.
    """
    category = check_category(category)
    url = f"{base_url.rstrip('/')}/{category}"
    with client.fetching():
        content = client.get(url).content
    listing = parse_feed(content, include_cross=include_cross, category=category, skipped=skipped)
    return replace(listing, sources=(url,))


def _api_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%d%H%M")


def fetch_day(
    client: PoliteClient,
    category: str,
    day: date,
    *,
    include_cross: bool = False,
    base_url: str = API_URL,
    page_size: int = 200,
    skipped: list[str] | None = None,
) -> Listing:
    """A past announcement day rebuilt from the API by submission time (see submission_window: approximate).

    `skipped`: as parse_feed.
    """
    category = check_category(category)
    start, end = submission_window(day)
    # submittedDate is in GMT and both ends are inclusive, so stop a minute before the deadline.
    query = f"cat:{category} AND submittedDate:[{_api_time(start)} TO {_api_time(end - timedelta(minutes=1))}]"
    size = max(1, min(page_size, MAX_PAGE_SIZE))
    papers: dict[str, Paper] = {}
    lost: list[str] = []
    offset = pages = 0
    with client.fetching():
        while True:
            params = {
                "search_query": query,
                "sortBy": "submittedDate",
                "sortOrder": "ascending",
                "start": offset,
                "max_results": size,
            }
            before = len(lost)
            page, total = _api_page(client.get(base_url, params=params).content, lost)
            pages += 1
            if total is not None and total > MAX_DAY_PAPERS:
                raise PaperrecError(
                    f"the arXiv API counts {total:,} {category} papers for {day}, more than the {MAX_DAY_PAPERS:,} "
                    "paperrec fetches for one day: name a narrower category"
                )
            for paper in page:
                papers.setdefault(paper.arxiv_id, replace(paper, date=day))
            entries = len(page) + len(lost) - before  # the API counts the unreadable entries too
            offset += entries
            if total is None or offset >= total:
                break
            if not entries:
                raise TemporaryFailure(
                    f"the arXiv API stopped after {offset} of {total} papers for {category}; try again later"
                )
            if pages >= MAX_PAGES:
                raise PaperrecError(
                    f"the arXiv API needed more than {MAX_PAGES} pages for {category} on {day} "
                    f"({offset:,} of {total:,} papers): stopped"
                )
    _kept(lost, skipped, len(papers))
    kept = [p for p in papers.values() if include_cross or is_primary(p, category)]
    return Listing(papers=tuple(kept), category=category, date=day, sources=(f"{base_url}?search_query={query}",))


def fetch_metadata(
    client: PoliteClient, ids: Iterable[str], *, base_url: str | None = None, batch: int = 100
) -> dict[str, Paper]:
    """Papers by arXiv id (versions ignored), `batch` ids per API call; ids that are not arXiv ids are skipped."""
    url = base_url or API_URL  # read at call time, so a test can point it at its own server
    wanted = list(dict.fromkeys(split[0] for split in map(split_arxiv_id, ids) if split))
    found: dict[str, Paper] = {}
    with client.fetching():
        for start in range(0, len(wanted), batch):
            chunk = wanted[start : start + batch]
            response = client.get(url, params={"id_list": ",".join(chunk), "max_results": len(chunk)})
            for paper in parse_api(response.content):
                found[paper.arxiv_id] = paper
    return found


def is_primary(paper: Paper, category: str) -> bool:
    """True unless the paper is a cross-list: its primary category is another one (one listing none is the file's)."""
    if not paper.categories:
        return True
    primary = paper.categories[0]
    return primary == category or primary.startswith(category + ".")


# ---- fetching into the store ---------------------------------------------------------------------------------------

APPROXIMATE = "rebuilt from the arXiv API by submission time (approximates the announcement)"


class _Session:
    """Days read from and saved to the listing store under `root`, and a client made only when something is fetched."""

    def __init__(self, root: Path, client: PoliteClient | None):
        self.root = root
        self._client = client
        self._owns_client = client is None
        self._fetching = contextlib.ExitStack()
        self._started = False
        self.skipped: list[str] = []  # feed entries that could not be read, for the notice

    @property
    def client(self) -> PoliteClient:
        """The client, under one fetch deadline for everything this session fetches."""
        if self._client is None:
            self._client = PoliteClient()
        if not self._started:
            self._started = True
            self._fetching.enter_context(self._client.fetching())
        return self._client

    def close(self) -> None:
        self._fetching.close()
        if self._owns_client and self._client is not None:
            self._client.close()

    def read(self, category: str, day: date) -> Listing | None:
        return read_day(category, day, self.root)

    def save(self, listing: Listing, category: str, day: date) -> Listing:
        """Store a non-empty listing and return it as read back, so a fetched day and a stored one are identical.

        An empty listing is not stored: it may be a glitch, so it is fetched again next time.
        """
        if not listing.papers:
            return replace(listing, category=category, date=day)
        return write_day(listing, category, day, self.root)

    def feed(self, category: str) -> Listing:
        """The category's feed, dated by the schedule at its build time."""
        return fetch_feed(self.client, category, include_cross=True, base_url=RSS_URL, skipped=self.skipped)

    def rebuild(self, category: str, day: date) -> tuple[Listing, str]:
        fetched = fetch_day(self.client, category, day, include_cross=True, base_url=API_URL, skipped=self.skipped)
        listing = self.save(fetched, category, day)
        if not listing.papers:
            return listing, f"the arXiv API has no {category} papers for {day} (yet?)"
        return listing, f"{day} {APPROXIMATE}"


STALE_WINDOW_DAYS = 7  # how far back a stored day is compared with a feed that may be stale


def _repeats(feed: Listing, stored: Listing) -> bool:
    """True when most of the feed's papers are in the stored listing: a paper is announced new only once."""
    ids = {paper.arxiv_id for paper in stored.papers}
    return 2 * sum(paper.arxiv_id in ids for paper in feed.papers) > len(feed.papers)


@dataclass(frozen=True)
class _Filed:
    """What filing a feed gave: the listing to show, a notice, and whether the store holds the feed's day."""

    listing: Listing
    notice: str | None
    day_stored: bool  # filed now, or kept from before


def _file_feed(session: _Session, category: str, feed: Listing, latest: date) -> _Filed:
    """Store a non-empty feed under the day it holds, and return it with a notice; or, when that is not sure, keep the
    store as it is and say why.

    A feed may repeat the announcement before its date (arXiv's feeds go stale per category), and one built after
    the evening announcement is dated the day before the listing it holds, so it is dated by the schedule at its build
    time. The newest stored day of the week before decides whether it is stale, and a stored day is never replaced.
    """
    held = feed.date or latest
    # The newest stored day before it, within a week: a holiday or a missed day must not leave nothing to compare.
    earlier = [d for d in stored_days(category, session.root) if held - timedelta(days=STALE_WINDOW_DAYS) <= d < held]
    before = max(earlier, default=None)
    stored = session.read(category, before) if before is not None else None
    if stored is not None and _repeats(feed, stored):
        notice = f"arXiv's {category} feed still serves the {before} listing; {held} is not stored: fetch again later"
        return _Filed(stored, notice, day_stored=False)
    # In doubt with nothing stored to compare (a first fetch, or after a long gap), the schedule's day is the better
    # guess: feeds built after the evening announcement hold the next day's listing under the day before's pubDate.
    kept = session.read(category, held)
    if kept is not None and not _repeats(feed, kept):
        notice = f"{category} not stored: arXiv's feed for {held} differs from the stored {held} listing, which is kept"
        return _Filed(feed, notice, day_stored=True)
    listing = kept if kept is not None else session.save(feed, category, held)
    if held < latest:
        notice = f"arXiv's feed still shows {held}; {latest} reaches it at midnight US Eastern"
    else:
        notice = None if kept is not None or before is None else _missed(category, before, held)
    return _Filed(listing, notice, day_stored=True)


def _missed(category: str, before: date, day: date) -> str | None:
    """A notice naming the announcement days between the stored `before` and `day` that are not stored: the feed
    only ever holds the latest, so a day a run missed is never offered again unless it is fetched by date."""
    missed = []
    while (before := before + timedelta(days=1)) < day:
        if is_announcement_day(before):
            missed.append(before.isoformat())
    if not missed:
        return None
    days = missed[0] if len(missed) == 1 else f"{', '.join(missed[:-1])} and {missed[-1]}"
    verb = "is" if len(missed) == 1 else "are"
    return (
        f"{category} {days} {verb} not stored (arXiv was not reached then, or a holiday): "
        f"'paperrec fetch {category} --date {missed[0]}' fetches one"
    )


def _one_category(
    session: _Session, category: str, day: date | None, latest: date, now: datetime
) -> tuple[Listing, str | None]:
    """One category's listing for `day` (None: the latest) and a notice, reading the store before fetching."""
    stored = session.read(category, day or latest)
    if stored is not None:
        return stored, None
    if day is not None:
        if day == latest:
            feed = session.feed(category)
            if feed.papers and (feed.date or day) == day:
                filed = _file_feed(session, category, feed, latest)
                if filed.day_stored:  # a notice may still name days missed before it
                    return filed.listing, filed.notice
        return session.rebuild(category, day)
    feed = session.feed(category)
    if feed.papers:
        filed = _file_feed(session, category, feed, latest)
        return filed.listing, filed.notice
    # An empty feed: no mailing today (weekend or holiday), so show the one before.
    empty_day = feed.date or now.astimezone(EASTERN).date()
    target = min(latest, previous_announcement(empty_day))
    notice = f"no arXiv announcement on {empty_day:%a %Y-%m-%d} (weekend or holiday); showing {target}"
    stored = session.read(category, target)
    if stored is not None:
        return stored, notice
    listing, rebuilt = session.rebuild(category, target)
    return listing, f"{notice}, {rebuilt}"


def _stored_categories(session: _Session, categories: list[str], day: date | None) -> list[tuple[Listing, str | None]]:
    """Each category's stored listing of `day` (None: the latest day stored for any of them), without the network."""
    if day is None:
        day = latest_day(categories, session.root)
        if day is None:
            wanted = " ".join(categories)
            raise PaperrecError(f"no stored {wanted} listing to rank offline: run 'paperrec fetch {wanted}' first")
    results = []
    for category in categories:
        listing = session.read(category, day)
        results.append(
            (listing, None)
            if listing is not None
            else (Listing(papers=(), category=category, date=day), f"no stored {category} listing for {day}")
        )
    if not any(listing.papers for listing, _ in results):
        raise PaperrecError(
            f"no stored {' '.join(categories)} listing for {day}: run 'paperrec fetch --date {day}' first"
        )
    return [(listing, notice or f"offline: ranking the stored {day}") for listing, notice in results]


def fetch_listing(
    categories: list[str],
    day: date | None = None,
    *,
    include_cross: bool = False,
    client: PoliteClient | None = None,
    store: Path | None = None,
    now: datetime | None = None,
    offline: bool = False,
) -> tuple[Listing, str | None]:
    """The listing of `categories` for `day` (None: the latest announcement), and a one-line notice or None.

    Each (category, day) is fetched once and kept under `store` (default: listings_dir()): the latest day comes from
    the RSS feed, past days are rebuilt from the API. `offline` reads only what is stored (None: the latest stored
    day) and never touches the network. Example: fetch_listing(['cs.CV', 'cs.LG']).
    """
    wanted = checked_keys(categories, check_category, "arXiv category", "cs.CV")
    now = now or datetime.now(UTC)
    latest = latest_announcement(now)
    if day is not None:
        check_announced_day(day, now)
    session = _Session(Path(store) if store is not None else listings_dir(), client)
    try:
        if offline:
            results = _stored_categories(session, wanted, day)
        else:
            results = [_one_category(session, category, day, latest, now) for category in wanted]
    finally:
        session.close()
    listings = [
        listing if include_cross else replace(listing, papers=tuple(p for p in listing.papers if is_primary(p, c)))
        for c, (listing, _) in zip(wanted, results, strict=True)
    ]
    notices = dict.fromkeys(notice for _, notice in results if notice)
    skipped = skipped_notice(session.skipped)
    if skipped:
        notices[skipped] = None
    return merge_listings(listings), "; ".join(notices) or None
