"""bioRxiv (and medRxiv, on the same API): one category's postings of a day from the public details API.

The API is https://api.biorxiv.org/details/{server}/{from}/{to}/{cursor}?category=...: 100 postings a page, as its
help page says, the cursor the offset of the first. Paging advances by what each page held, so a smaller page works
too. The category goes with '_' for each space ('cell_biology'), one of the two forms the help page gives.
Its answer is {"messages": [{"status", "cursor", "count", "total"}], "collection": [{"doi", "title", "authors",
"date", "version", "category", "abstract", "server", ...}]}. A day is the posting date. Only first versions are new
papers: a revision of an older preprint is left out.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..schema import Listing, Paper, PaperrecError, TemporaryFailure, UsageError, doi_id, given_first
from .daily import by_day, fetch_keyed, span
from .guard import answer_object, checked_keys, iso_day, scrubbed
from .http import PoliteClient
from .markdown import strip_html

API_URL = "https://api.biorxiv.org/details"
HOSTS = frozenset({"api.biorxiv.org"})
MIN_INTERVAL = 1.0  # the API asks for no rate; one request a second is gentle
MAX_PAGES = 100  # 10,000 postings at 100 a page, 3,000 at 30: a busy category posts a few hundred a day

# The servers' subject collections, as their subject and RSS pages name them (checked in December 2026). No API
# document lists them: an unknown name is a warning, and each posting's own category is checked on arrival.
# bioRxiv takes no new postings in 'clinical trials' and 'epidemiology' (medRxiv has them); older postings keep them.
BIORXIV_CATEGORIES = (
    "animal behavior and cognition",
    "biochemistry",
    "bioengineering",
    "bioinformatics",
    "biophysics",
    "cancer biology",
    "cell biology",
    "clinical trials",
    "developmental biology",
    "ecology",
    "epidemiology",
    "evolutionary biology",
    "genetics",
    "genomics",
    "immunology",
    "microbiology",
    "molecular biology",
    "neuroscience",
    "paleontology",
    "pathology",
    "pharmacology and toxicology",
    "physiology",
    "plant biology",
    "scientific communication and education",
    "synthetic biology",
    "systems biology",
    "zoology",
)
MEDRXIV_CATEGORIES = (
    "addiction medicine",
    "allergy and immunology",
    "anesthesia",
    "cardiovascular medicine",
    "dentistry and oral medicine",
    "dermatology",
    "emergency medicine",
    "endocrinology",  # the site's "Endocrinology (including Diabetes Mellitus and Metabolic Disease)"
    "epidemiology",
    "forensic medicine",
    "gastroenterology",
    "genetic and genomic medicine",
    "geriatric medicine",
    "health economics",
    "health informatics",
    "health policy",
    "health systems and quality improvement",
    "hematology",
    "hiv/aids",
    "infectious diseases",  # the site's "Infectious Diseases (except HIV/AIDS)"
    "intensive care and critical care medicine",
    "medical education",
    "medical ethics",
    "nephrology",
    "neurology",
    "nursing",
    "nutrition",
    "obstetrics and gynecology",
    "occupational and environmental health",
    "oncology",
    "ophthalmology",
    "orthopedics",
    "otolaryngology",
    "pain medicine",
    "palliative medicine",
    "pathology",
    "pediatrics",
    "pharmacology and therapeutics",
    "primary care research",
    "psychiatry and clinical psychology",
    "public and global health",
    "radiology and imaging",
    "rehabilitation medicine and physical therapy",
    "respiratory medicine",
    "rheumatology",
    "sexual and reproductive health",
    "sports medicine",
    "surgery",
    "toxicology",
    "transplantation",
    "urology",
)


@dataclass(frozen=True)
class Server:
    """One preprint server of the API: its name in URLs, its name in messages, its site and its categories."""

    name: str
    label: str
    site: str
    categories: tuple[str, ...]


BIORXIV = Server("biorxiv", "bioRxiv", "https://www.biorxiv.org", BIORXIV_CATEGORIES)
MEDRXIV = Server("medrxiv", "medRxiv", "https://www.medrxiv.org", MEDRXIV_CATEGORIES)


def category_key(text: str) -> str:
    """A category as the store names it: lower-case words joined by '_' ('cell_biology', 'hiv_aids')."""
    return "_".join(re.findall(r"[a-z0-9]+", text.lower()))


# The long names medRxiv's site shows for two collections (and its RSS name for one), as the keys the API uses.
_ALIASES = {
    "endocrinology_including_diabetes_mellitus_and_metabolic_disease": "endocrinology",
    "infectious_diseases_except_hiv_aids": "infectious_diseases",
    "hivaids": "hiv_aids",
}


def check_category(server: Server, text: str) -> str:
    """The category key of `text` ('Cell Biology' is 'cell_biology'); a UsageError when it names none at all."""
    key = category_key(text)
    if not key:
        example = category_key(server.categories[0])
        raise UsageError(f"{text!r} names no {server.label} category: e.g. {server.name}:{example}")
    return _ALIASES.get(key, key)


def category_warning(server: Server, key: str) -> str | None:
    """One line when `key` is none of the server's known categories, naming the closest three; else None."""
    known = [category_key(name) for name in server.categories]
    if key in known:
        return None
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.0)
    return (
        f"{key!r} is not a {server.label} category paperrec knows (closest: {', '.join(close)}); "
        f"{server.label} is asked for it all the same"
    )


def _authors(value: Any) -> list[str]:
    """'Smith, J.; Doe, A.' as ['J. Smith', 'A. Doe'] (the API separates authors with ';', names 'Surname, I.')."""
    if not isinstance(value, str):
        return []
    return [name for name in map(given_first, value.split(";")) if name]


def _number(value: Any) -> int | None:
    """A count of the messages (the API writes some as strings); None when absent or unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 10:
        return int(value)
    return None


def _paper(item: Any, server: Server) -> Paper | None:
    """One posting as a Paper dated by its posting day; None for a revision or a posting without DOI or title."""
    if not isinstance(item, dict):
        return None
    item = {key: scrubbed(value) for key, value in item.items()}  # lone surrogates from \u escapes
    title, doi = item.get("title"), item.get("doi")
    if not isinstance(title, str) or not title.strip() or not isinstance(doi, str):
        return None
    found = doi_id(doi)
    if found is None:
        return None
    version = str(item.get("version", "1")).strip()
    if version not in ("", "1"):
        return None
    day = iso_day(str(item.get("date", "")))
    abstract = item.get("abstract")
    category = item.get("category")
    doi_text = found.removeprefix("doi:")
    return Paper.make(
        title=strip_html(title),  # the API keeps the site's markup: '<i>Drosophila</i>', 'Ca<sup>2+</sup>'
        raw_id=found,
        abstract=strip_html(abstract) if isinstance(abstract, str) else "",
        authors=_authors(item.get("authors")),
        categories=[category_key(category)] if isinstance(category, str) and category.strip() else [],
        date=day,
        links=[f"{server.site}/content/{doi_text}v1", f"https://doi.org/{doi_text}"],
        venue=server.label,
    )


def parse_details(content: bytes | str, server: Server = BIORXIV) -> tuple[list[Paper], int, int | None]:
    """The papers of one details page, how many postings it held, and the total the messages announce."""
    data = answer_object(content, server.label)
    collection = data.get("collection")
    collection = collection if isinstance(collection, list) else []
    messages = data.get("messages")
    message = messages[0] if isinstance(messages, list) and messages and isinstance(messages[0], dict) else {}
    papers = [paper for paper in (_paper(item, server) for item in collection) if paper is not None]
    return papers, len(collection), _number(message.get("total"))


def _postings(
    client: PoliteClient, server: Server, category: str, start: date, end: date, base_url: str | None
) -> tuple[list[Paper], str]:
    """One category's first versions posted from `start` to `end`, every page of the cursor, and the address asked."""
    base = (base_url or API_URL).rstrip("/")  # read at call time, so a test can point it at its own server
    url = f"{base}/{server.name}/{start.isoformat()}/{end.isoformat()}"
    when = span(start, end)
    # The known name with '_' for spaces ('cell_biology', 'hiv/aids'): httpx would write a space as '+'.
    name = {category_key(known): known.replace(" ", "_") for known in server.categories}.get(category, category)
    papers: dict[str, Paper] = {}
    cursor = 0
    for _ in range(MAX_PAGES):
        page, held, total = parse_details(client.get(f"{url}/{cursor}", params={"category": name}).content, server)
        for paper in page:
            if not paper.categories or paper.categories[0] == category:
                papers.setdefault(paper.arxiv_id, paper)
        cursor += held
        if total is None or cursor >= total:
            break
        if not held:
            raise TemporaryFailure(
                f"{server.label} stopped after {cursor} of {total} postings for {category} on {when}; try again later"
            )
    else:
        raise PaperrecError(f"{server.label} needed more than {MAX_PAGES} pages for {category} on {when}: stopped")
    return list(papers.values()), f"{url}?category={category}"


def fetch_day(
    client: PoliteClient, server: Server, category: str, day: date, *, base_url: str | None = None
) -> Listing:
    """One category's postings of `day`, every page of the cursor, e.g. fetch_day(client, BIORXIV, 'neuroscience')."""
    papers, source = _postings(client, server, category, day, day, base_url)
    return Listing(papers=tuple(papers), category=category, date=day, sources=(source,))


def fetch_days(
    client: PoliteClient, server: Server, category: str, start: date, end: date, *, base_url: str | None = None
) -> dict[date, Listing]:
    """One category's postings of each day from `start` to `end`, asked as one range (a missed week is a page or two).

    Every day of the range has a listing, an empty one when nothing was posted. A posting is filed by its own date.
    """
    papers, source = _postings(client, server, category, start, end, base_url)
    return by_day(papers, category, start, end, source)


def fetch_server(
    server: Server,
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
    """The listing of a server's categories on `day` (None: the latest complete day) and a notice or None."""
    categories = checked_keys(
        keys, functools.partial(check_category, server), f"{server.label} category", f"{server.name}:neuroscience"
    )
    warnings = [line for line in (category_warning(server, key) for key in categories) if line]

    def one(client: PoliteClient, category: str, on: date) -> Listing:
        return fetch_day(client, server, category, on, base_url=base_url)

    def days(client: PoliteClient, category: str, start: date, end: date) -> dict[date, Listing]:
        return fetch_days(client, server, category, start, end, base_url=base_url)

    listing, notice = fetch_keyed(
        server.name,
        server.label,
        categories,
        day,
        fetch_one=one,
        fetch_range=days,
        hosts=HOSTS,
        min_interval=MIN_INTERVAL,
        now=now,
        client=client,
        offline=offline,
        store=store,
    )
    return listing, "; ".join([*warnings, *filter(None, [notice])]) or None


def fetch_listing(keys: list[str], day: date | None = None, **options: Any) -> tuple[Listing, str | None]:
    """bioRxiv's postings of `keys` (categories) on `day`. Example: fetch_listing(['ecology'])."""
    return fetch_server(BIORXIV, keys, day, **options)
