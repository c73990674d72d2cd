"""The registered sources: each kind, how to name it in a profile, what its day is, and the module that fetches it."""

from __future__ import annotations

import importlib
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..schema import Listing, UsageError


def shown(text: str) -> str:
    """The text with the query of each address in it (which may hold a private token) as '?***'."""
    if "://" not in text:
        return text
    from .feed import shown as hidden

    return hidden(text)


@dataclass(frozen=True)
class SourceKind:
    """One kind of source: its spec prefix, the name messages use, an example key, what its day is, its fetcher."""

    kind: str
    label: str
    example: str
    key: str  # what the part after the colon names
    day: str  # what one day of this source is
    module: str  # the module under recommender.sources whose fetch_listing(keys, day, ...) fetches it

    def shown(self, key: str) -> str:
        """The key as messages show it: a URL's query (which may hold a private token) as '?***'."""
        return shown(key)

    def fetcher(self) -> Callable[..., tuple[Listing, str | None]]:
        """The fetch function (imported on first use, so listing the kinds imports no HTTP client)."""
        return importlib.import_module(f"{__package__}.{self.module}").fetch_listing


@dataclass(frozen=True)
class Spec:
    """A source named in a profile or on the command line: 'arxiv:cs.CV' is Spec('arxiv', 'cs.CV')."""

    kind: str
    key: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"

    @property
    def source(self) -> SourceKind:
        """The registered kind of this spec."""
        return SOURCES[self.kind]


REGISTRY: tuple[SourceKind, ...] = (
    SourceKind(
        "arxiv",
        "arXiv",
        "arxiv:cs.CV",
        "a category of arXiv's taxonomy (a bare category such as cs.CV means the same)",
        "the announcement day (new papers appear at 20:00 US Eastern, Sunday to Thursday)",
        "arxiv",
    ),
    SourceKind(
        "biorxiv",
        "bioRxiv",
        "biorxiv:neuroscience",
        "a bioRxiv subject category; spaces may be '_' (cell_biology)",
        "the posting date (the latest complete day is yesterday, UTC); first versions only",
        "biorxiv",
    ),
    SourceKind(
        "medrxiv",
        "medRxiv",
        "medrxiv:epidemiology",
        "a medRxiv subject category; spaces may be '_' (health_informatics)",
        "the posting date (the latest complete day is yesterday, UTC); first versions only",
        "medrxiv",
    ),
    SourceKind(
        "openreview",
        "OpenReview",
        "openreview:ICLR.cc/2026/Conference",
        "a venue id as OpenReview writes it (ICLR.cc/2026/Conference, NeurIPS.cc/2026/Conference, TMLR)",
        "the day a submission was made public (odate, UTC), else its creation date (cdate); the latest complete"
        " day is yesterday",
        "openreview",
    ),
    SourceKind(
        "journal",
        "Journal",
        "journal:0028-0836",
        "a journal's ISSN (0028-0836) or OpenAlex source id (S137773608), read through OpenAlex",
        "the publication date OpenAlex records; the latest complete day is yesterday, UTC",
        "openalex",
    ),
    SourceKind(
        "feed",
        "Feed",
        "feed:https://www.nature.com/neuro.rss",
        "the http(s) address of a site's own RSS or Atom feed, such as a journal's eTOC feed",
        "the day (UTC) paperrec first saw an entry: today is what arrived today, each fetch adding entries it has not"
        " seen before; a past day is what arrived then (a feed holds only recent entries); each paper keeps the"
        " feed's own date",
        "feed",
    ),
)
SOURCES: dict[str, SourceKind] = {source.kind: source for source in REGISTRY}


def parse_spec(text: str) -> Spec:
    """The spec of 'kind:key' ('cs.CV' alone is arXiv); a UsageError pointing at `paperrec sources` otherwise."""
    raw = text.strip()
    kind, colon, key = raw.partition(":")
    if not colon:
        kind, key = "arxiv", raw
    kind = kind.strip().lower()
    if kind not in SOURCES:
        raise UsageError(f"unknown source {raw!r}: 'paperrec sources' lists the kinds and how to name them")
    key = key.strip()
    if not key:
        raise UsageError(f"source {raw!r} names no key: e.g. {SOURCES[kind].example} ('paperrec sources')")
    if kind == "arxiv":
        from .arxiv import check_category

        key = check_category(key)
    elif kind in ("biorxiv", "medrxiv"):
        from .biorxiv import BIORXIV, MEDRXIV, check_category

        key = check_category(BIORXIV if kind == "biorxiv" else MEDRXIV, key)
    elif kind == "openreview":
        from .openreview import check_venue

        key = check_venue(key)
    elif kind == "journal":
        from .openalex import check_journal

        key = check_journal(key)
    elif kind == "feed":
        from .feed import check_feed

        key = check_feed(key)
    else:
        from .store import encode_key

        encode_key(key)  # refuses a key that could leave its folder of the store
    return Spec(kind, key)


def spec_warnings(specs: Iterable[Spec]) -> list[str]:
    """A line for each spec whose key its kind does not know (a bioRxiv or medRxiv category): asked for all the same."""
    from .biorxiv import BIORXIV, MEDRXIV, category_warning

    servers = {"biorxiv": BIORXIV, "medrxiv": MEDRXIV}
    found = (category_warning(servers[spec.kind], spec.key) for spec in specs if spec.kind in servers)
    return [line for line in found if line]


def parse_specs(texts: Iterable[str]) -> list[Spec]:
    """Each spec parsed once, in order (repeats dropped)."""
    return list(dict.fromkeys(parse_spec(text) for text in texts))


def profile_specs(categories: Iterable[str], sources: Iterable[str]) -> list[Spec]:
    """A profile's sources: its `sources`, with its `categories` added as arXiv sources."""
    return parse_specs([*(f"arxiv:{c}" for c in categories), *sources])


def unshown(lines: Iterable[str], known: Iterable[str]) -> list[str]:
    """Each line, or the known spec it shows with the query hidden (a page shows a feed's token as '?***')."""
    hidden = {shown(spec): spec for spec in known}
    found = [hidden.get(line.strip(), line) for line in lines]
    if typed := next((line for line in found if "?***" in line), None):
        raise UsageError(f"{typed.strip()!r} hides its query: keep the line as shown, or write the whole address")
    return found


def describe(width: int = 80) -> list[str]:
    """One block per kind for `paperrec sources`: how to name it, what the key is, what its day is, wrapped to width."""
    lines = []
    for source in REGISTRY:
        lines.append(f"{source.kind}:KEY  {source.label}, e.g. {source.example}")
        for label, text in (("KEY", source.key), ("day", source.day)):
            lines += textwrap.wrap(text, width, initial_indent=f"  {label:<3}  ", subsequent_indent=" " * 7)
    return lines
