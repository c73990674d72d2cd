"""Journals through OpenAlex: the works a journal published on a day, by ISSN or OpenAlex source id.

The API is https://api.openalex.org/works?filter=primary_location.source.issn:{ISSN},from_publication_date:{day},
to_publication_date:{day}&per_page=100&page={n}. Its answer is {"meta": {"count"}, "results": [{"id", "doi", "title",
"publication_date", "authorships": [{"author": {"display_name"}}], "abstract_inverted_index", "primary_location":
{"landing_page_url"}}]}. A page holds at most 100 works. Numbered pages reach the first 10,000 works of a query and
need no cursor. A day is the publication date OpenAlex records. An abstract is rebuilt from the inverted index (each
word at its positions). Imported papers known only by DOI get their abstracts from the same API, 50 DOIs a request
(?filter=doi:A|B|C), each answered in one page. Regular use needs a free API key (since February 2026), sent as the
api_key parameter. Without one the daily allowance is small, and past it OpenAlex answers 429. The key is read from
$OPENALEX_API_KEY or the file openalex_key_path(). No message or log line shows it. paperrec calls this REST API
through its polite client rather than pyalex, whose `requests` transport cannot be bounded by the same deadline and
size cap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..paths import openalex_key_path
from ..schema import Listing, Paper, PaperrecError, UsageError, doi_id
from .daily import by_day, fetch_keyed, span
from .guard import answer_object, checked_keys, iso_day, read_secret, scrubbed
from .http import NetworkError, PoliteClient, TemporaryNetworkError
from .markdown import strip_html

API_URL = "https://api.openalex.org/works"
HOSTS = frozenset({"api.openalex.org"})
MIN_INTERVAL = 1.0
KEY_ENV = "OPENALEX_API_KEY"
PAGE_SIZE = 100  # OpenAlex's largest page; it refuses a larger per_page
MAX_PAGES = 10_000 // PAGE_SIZE  # numbered pages reach only the first 10,000 works of a query
DOI_BATCH = 50  # the values one OR filter may hold; fewer than a page, so a batch is one request
MAX_POSITION = 20_000  # no abstract is longer; a larger position is damage, not text
_ISSN = re.compile(r"^\d{4}-?\d{3}[\dXx]$")
_SOURCE = re.compile(r"^[Ss]\d{1,12}$")
_PARSED = "id,doi,title,display_name,publication_date,authorships,abstract_inverted_index,primary_location"


def read_key(key_file: Path) -> str | None:
    """The API key: $OPENALEX_API_KEY, else the first line of key_file (mode 0600); None when neither is there."""
    return read_secret(KEY_ENV, key_file, "OpenAlex key")


def with_key(params: dict[str, Any]) -> dict[str, Any]:
    """The query parameters with the user's API key added, when there is one."""
    key = read_key(openalex_key_path())
    return {**params, "api_key": key} if key else params


def key_hint() -> str:
    """Where a key goes, for messages: the variable and the file, never a key."""
    return f"set {KEY_ENV} or write the key to {openalex_key_path()} (chmod 600)"


def _works(client: PoliteClient, url: str, params: dict[str, Any]) -> bytes:
    """One page of works; a spent daily allowance (HTTP 429, or 403 "rate limit exceeded") is "try again later", and
    says how a free API key raises it."""
    try:
        return client.get(url, params=params).content
    except NetworkError as error:
        if error.status not in (403, 429):
            raise
        if error.status == 403:  # OpenAlex's errors page: 403 is a rate limit too, not a refusal for good
            error = TemporaryNetworkError(f"{error}; try again later")
        if "api_key" in params:
            more = "the daily allowance of the OpenAlex API key may be spent"
        else:
            more = f"a free OpenAlex API key raises the daily allowance: {key_hint()}"
        spent = TemporaryNetworkError(f"{error} ({more})")
        spent.status = error.status
        raise spent from None


def check_journal(text: str) -> str:
    """An ISSN ('0028-0836') or an OpenAlex source id ('S137773608'); UsageError for anything else."""
    key = text.strip()
    if _ISSN.match(key):
        digits = key.replace("-", "").upper()
        return f"{digits[:4]}-{digits[4:]}"
    if _SOURCE.match(key):
        return key.upper()
    raise UsageError(f"{text!r} is not an ISSN or an OpenAlex source id; use one like journal:0028-0836 or S137773608")


def rebuild_abstract(index: Any) -> str:
    """The abstract of an inverted index ({"word": [positions]}): each word at its positions, in order."""
    if not isinstance(index, dict):
        return ""
    placed: dict[int, str] = {}
    for word, positions in index.items():
        if not isinstance(word, str) or not isinstance(positions, list):
            continue
        for position in positions:
            if isinstance(position, int) and not isinstance(position, bool) and 0 <= position < MAX_POSITION:
                placed.setdefault(position, scrubbed(word))
    return " ".join(placed[position] for position in sorted(placed))


def _paper(work: Any) -> Paper | None:
    """One work as a Paper known by its DOI (else its title); None without a title."""
    if not isinstance(work, dict):
        return None
    title = scrubbed(work.get("title") or work.get("display_name"))
    if not isinstance(title, str) or not title.strip():
        return None
    doi = work.get("doi")
    found = doi_id(doi) if isinstance(doi, str) else None
    day = iso_day(str(work.get("publication_date", "")))
    authorships = work.get("authorships")
    authors = []
    for authorship in authorships if isinstance(authorships, list) else []:
        author = authorship.get("author") if isinstance(authorship, dict) else None
        name = author.get("display_name") if isinstance(author, dict) else None
        if isinstance(name, str):
            authors.append(scrubbed(name))
    location = work.get("primary_location")
    landing = location.get("landing_page_url") if isinstance(location, dict) else None
    source = location.get("source") if isinstance(location, dict) else None
    # Only a journal's name: a repository's ('bioRxiv (Cold Spring Harbor Laboratory)') names no journal.
    journal = source.get("display_name") if isinstance(source, dict) and source.get("type") == "journal" else None
    links = [f"https://doi.org/{found[4:]}"] if found else []
    links += [value for value in (landing, work.get("id")) if isinstance(value, str)]
    return Paper.make(
        title=strip_html(title),  # publishers' markup ('<i>in vivo</i>', Crossref's '<jats:p>') is not text
        raw_id=found,
        abstract=strip_html(rebuild_abstract(work.get("abstract_inverted_index"))),
        authors=authors,
        date=day,
        links=links,
        venue=scrubbed(journal) if isinstance(journal, str) else "",
    )


def parse_works(content: bytes | str) -> tuple[list[Paper], int, int | None]:
    """The papers of one page of works, how many works it held, and how many the query matches (None: not said)."""
    data = answer_object(content, "OpenAlex")
    results = data.get("results")
    results = results if isinstance(results, list) else []
    meta = data.get("meta")
    count = meta.get("count") if isinstance(meta, dict) else None
    papers = [paper for paper in map(_paper, results) if paper is not None]
    return papers, len(results), count if isinstance(count, int) and not isinstance(count, bool) else None


def _published(
    client: PoliteClient, journal: str, start: date, end: date, base_url: str | None
) -> tuple[list[Paper], str]:
    """The works of one journal published from `start` to `end`, every numbered page, and the address asked."""
    url = base_url or API_URL  # read at call time, so a test can point it at its own server
    by = "primary_location.source.id" if journal.startswith("S") else "primary_location.source.issn"
    query = f"{by}:{journal},from_publication_date:{start.isoformat()},to_publication_date:{end.isoformat()}"
    when = span(start, end)
    papers: dict[str, Paper] = {}
    common = with_key({"filter": query, "per_page": PAGE_SIZE})
    for number in range(1, MAX_PAGES + 1):
        params = {**common, "page": number}
        page, held, count = parse_works(_works(client, url, params))
        for paper in page:
            papers.setdefault(paper.arxiv_id, paper)
        if held < PAGE_SIZE or (count is not None and number * PAGE_SIZE >= count):
            break
    else:
        raise PaperrecError(f"OpenAlex needed more than {MAX_PAGES} pages for {journal} on {when}: stopped")
    return list(papers.values()), f"{url}?filter={query}"


def fetch_day(client: PoliteClient, journal: str, day: date, *, base_url: str | None = None) -> Listing:
    """The works of one journal published on `day`, every numbered page."""
    papers, source = _published(client, journal, day, day, base_url)
    return Listing(papers=tuple(papers), category=journal, date=day, sources=(source,))


def fetch_days(
    client: PoliteClient, journal: str, start: date, end: date, *, base_url: str | None = None
) -> dict[date, Listing]:
    """The works of one journal on each day from `start` to `end`, asked as one range; a day without works is empty.

    A work is filed by its own publication date.
    """
    papers, source = _published(client, journal, start, end, base_url)
    return by_day(papers, journal, start, end, source)


def fetch_by_doi(
    client: PoliteClient, ids: Iterable[str], *, base_url: str | None = None, batch: int = DOI_BATCH
) -> dict[str, Paper]:
    """Works by DOI, `batch` a request (a page at most), keyed 'doi:' and the DOI in lower case; unknown DOIs left out.

    Example: fetch_by_doi(client, ["doi:10.1038/nature14539"])
    """
    url = base_url or API_URL  # read at call time, so a test can point it at its own server
    # A comma or a pipe would split the filter itself, so such a DOI cannot be asked for.
    wanted = [key for key in dict.fromkeys(filter(None, map(doi_id, ids))) if not {",", "|"} & set(key)]
    batch = max(1, min(batch, PAGE_SIZE))
    found: dict[str, Paper] = {}
    common = with_key({"per_page": PAGE_SIZE, "select": _PARSED}) if wanted else {}
    with client.fetching():
        for start in range(0, len(wanted), batch):
            chunk = wanted[start : start + batch]
            params = {"filter": "doi:" + "|".join(key[4:] for key in chunk), **common}
            asked = set(chunk)
            for paper in parse_works(_works(client, url, params))[0]:
                before = found.get(paper.arxiv_id)
                if paper.arxiv_id in asked and (before is None or not before.abstract):
                    found[paper.arxiv_id] = paper  # of two works with one DOI, the one with an abstract
    return found


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
    """The works of journals published on `day` (None: yesterday, UTC). Example: fetch_listing(['0028-0836'])."""
    journals = checked_keys(keys, check_journal, "journal", "journal:0028-0836")
    return fetch_keyed(
        "journal",
        "OpenAlex",
        journals,
        day,
        fetch_one=lambda client, journal, on: fetch_day(client, journal, on, base_url=base_url),
        fetch_range=lambda client, journal, start, end: fetch_days(client, journal, start, end, base_url=base_url),
        hosts=HOSTS,
        min_interval=MIN_INTERVAL,
        now=now,
        client=client,
        offline=offline,
        store=store,
    )
