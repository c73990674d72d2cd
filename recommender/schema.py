"""Plain data: Paper, Listing, Pick, and the error family (no I/O)."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote, unquote, urlsplit

# New-style ids (0704.0001 onwards) and old-style ids (hep-th/9901001), each with an optional version.
_NEW_ID = re.compile(r"^(\d{4}\.\d{4,5})(v\d+)?$")
_URL_IN_TEXT = re.compile(r"https?://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?:/[A-Za-z0-9._~:/?#@!$&*+,;=%-]*)?")
CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "huggingface.co", "github.io", "gitee.com")
_OLD_ID = re.compile(r"^([a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(v\d+)?$")


# The names a profile's `strategy` may take: those of rank.registry.REGISTRY, in its order (a test keeps them equal).
# They are here, below rank, so a profile file is checked where it is read.
STRATEGY_NAMES = ("centroid", "max", "knn", "clusters", "recency", "classifier", "tfidf", "tfidf-svm", "hybrid")

# Below this many liked papers (interests do not count) no pick carries a match: on the bench's blind days the top
# ten's calibration error is 0.06-0.07 there (0.046 at 5, 0.031 full), and an interest alone put 0.5 % on top picks
# liked 16 % of the time.
MIN_MATCH_LIKES = 5


def counted(count: int, one: str, many: str) -> str:
    """'1 paper is' or '3 papers are': a count and the words that agree with it."""
    return f"{count} {one if count == 1 else many}"


def did_you_mean(name: str, names: Sequence[str]) -> str:
    """ "; did you mean 'x'?" for the closest of `names` to a mistyped name; "" when none is close."""
    import difflib

    close = difflib.get_close_matches(name, list(names), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class PaperrecError(Exception):
    """A problem the user can fix; the message says what and how."""


class UsageError(PaperrecError):
    """The command was called wrongly (exit code 2)."""


class TemporaryFailure(PaperrecError):
    """A failure that may pass by itself (network down, server busy, mail not sent): exit code 75, retry later."""


class NotFound(PaperrecError):
    """What was named does not exist: an unknown profile, a paper not in the day (exit code 1, HTTP 404)."""


def split_arxiv_id(raw: str) -> tuple[str, int | None] | None:
    """Split '2104.10642v2' into ('2104.10642', 2); None when it is not an arXiv id."""
    text = raw.strip()
    for prefix in ("arXiv:", "arxiv:"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    match = _NEW_ID.match(text) or _OLD_ID.match(text)
    if not match:
        return None
    version = int(match.group(2)[1:]) if match.group(2) else None
    return match.group(1), version


# Every scoring matches the day's papers against each profile paper by title: kept, a big profile's titles are not
# normalised again at each vote (half a second for 8,000 papers). Bounded: a big profile and a few days.
@functools.lru_cache(maxsize=1 << 15)
def normalise_title(title: str) -> str:
    """Lower-case, accent-free, punctuation-free title used to make stable ids."""
    if title.isascii():  # nothing to decompose or strip: most titles, eight times faster
        text = title.lower()
    else:
        text = unicodedata.normalize("NFKD", title)
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(re.findall(r"[a-z0-9]+", text))


_TITLE_ID = re.compile(r"t:[0-9a-f]{12}")


def is_title_id(text: str) -> bool:
    """True for a title id as title_id makes them: 't:' and 12 lower-case hex digits, nothing else."""
    return _TITLE_ID.fullmatch(text) is not None


def title_id(title: str) -> str:
    """Stable id for a paper without an arXiv id: 't:' + 12 hex digits of sha1(normalised title)."""
    return "t:" + hashlib.sha1(normalise_title(title).encode("utf-8")).hexdigest()[:12]


# A DOI: '10.', a registrant code, '/', and a suffix without whitespace (Crossref's advice, loosely).
_DOI = re.compile(r"^10\.\d{4,9}/\S{1,200}$")
_FORUM = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:")
ID_PREFIXES = ("t:", "doi:", "openreview:")


def doi_id(raw: str) -> str | None:
    """The id of a paper known by DOI, 'doi:' and the DOI in lower case (DOIs ignore case); None for no DOI."""
    text = raw.strip()
    for prefix in _DOI_PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix) :].strip()
    return f"doi:{text.lower()}" if _DOI.match(text) else None


def openreview_id(forum: str) -> str | None:
    """The id of a paper known by its OpenReview forum, 'openreview:' and the forum id; None when it is not one."""
    text = forum.strip().removeprefix("openreview:")
    return f"openreview:{text}" if _FORUM.match(text) else None


def source_id(raw: str) -> str | None:
    """A 'doi:' or 'openreview:' id normalised, or None when `raw` is neither."""
    text = raw.strip()
    if text.startswith("doi:"):
        return doi_id(text)
    if text.startswith("openreview:"):
        return openreview_id(text)
    return None


def link_of(paper_id: str) -> str | None:
    """The page a paper id names: arXiv's abstract, doi.org, or the OpenReview forum; None for a title id."""
    if paper_id.startswith("doi:"):
        return "https://doi.org/" + quote(paper_id[4:], safe="/:;()._-")
    if paper_id.startswith("openreview:"):
        return f"https://openreview.net/forum?id={paper_id[len('openreview:') :]}"
    if paper_id.startswith("t:"):
        return None
    return f"https://arxiv.org/abs/{paper_id}"


_ARXIV_LINK = re.compile(r"^https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/(.+?)(?:\.pdf)?$", re.IGNORECASE)
_DOI_LINK = re.compile(r"^https?://(?:dx\.)?doi\.org/(.+)$", re.IGNORECASE)
_FORUM_LINK = re.compile(r"^https?://(?:www\.)?openreview\.net/(?:forum|pdf)\?id=([A-Za-z0-9_-]+)", re.IGNORECASE)


def id_of_link(url: str) -> str | None:
    """The paper id a link names: an arXiv abstract or PDF, a doi.org link, an OpenReview forum; None otherwise."""
    if match := _ARXIV_LINK.match(url):
        split = split_arxiv_id(unquote(match.group(1)))
        return split[0] if split else None
    if match := _DOI_LINK.match(url):
        return doi_id(unquote(match.group(1)))
    if match := _FORUM_LINK.match(url):
        return openreview_id(match.group(1))
    return None


# A preprint's page on bioRxiv or medRxiv: the DOI, then a version and a view ('v2.full.pdf') that name no other paper.
_PREPRINT_LINK = re.compile(
    r"^https?://(?:www\.)?(?:bio|med)rxiv\.org/content/(?:early/[\d/]+/)?(10\.\d{4,9}/[^?#\s]+?)"
    r"(?:v\d+)?(?:\.(?:full|abstract|article-info|article-metrics|supplementary-material)(?:\.pdf)?)?/?(?:[?#]\S*)?$",
    re.IGNORECASE,
)

# A version's page as the bioRxiv source links it, to which '.full.pdf' gives the full text.
_PREPRINT_VERSION = re.compile(r"^https://www\.(?:bio|med)rxiv\.org/content/10\.\d{4,9}/\S+v\d+$")
_OPENREVIEW_PDF = re.compile(r"^https://openreview\.net/pdf\?id=[A-Za-z0-9_-]+$")


# Query parameters that say where a reader came from, not which page it is (an ACS feed adds '?af=R').
_TRACKING = re.compile(r"^(?:utm_\w*|af|fbclid|gclid|mc_cid|mc_eid)$", re.IGNORECASE)


def page_key(url: str) -> str | None:
    """'page:' and a web page's address as two copies of it compare; None for anything but an http(s) address.

    The scheme, the fragment, tracking parameters and a final '/' go, and the host is in lower case. Example:
    page_key('https://www.Nature.com/articles/x?utm_source=rss#Abs1') is 'page:www.nature.com/articles/x'.
    """
    # Encoded as a paper's links are (safe_url): Cell's 'S0092-8674(24)00001-2' is kept as '%2824%29'.
    text = safe_url(url.strip())
    if text is None:
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if not parts.hostname:
        return None
    query = "&".join(q for q in parts.query.split("&") if q and not _TRACKING.match(q.partition("=")[0]))
    return f"page:{parts.netloc.lower()}{parts.path.rstrip('/')}{'?' + query if query else ''}"


def page_keys(paper: Paper) -> tuple[str, ...]:
    """The page keys of a paper's links (see page_key)."""
    return tuple(dict.fromkeys(filter(None, map(page_key, paper.links))))


def paper_key(ref: str) -> str:
    """The id a reference to a paper names, as a user copies it: an arXiv id or address, a DOI (bare, 'doi:', a
    doi.org or bioRxiv address), an OpenReview forum; else the text as given. Example: paper_key('10.1101/X') is
    'doi:10.1101/x'."""
    text = ref.strip()
    split = split_arxiv_id(text)
    if split:
        return split[0]
    if match := _PREPRINT_LINK.match(text):
        text = match.group(1)
    return source_id(text) or doi_id(text) or id_of_link(text) or text


def clean_text(text: str) -> str:
    """Collapse runs of whitespace into single spaces and trim."""
    return " ".join(text.split())


# Han, kana and Hangul: a name written in them is family name first, with no space (王芳), as Zotero and CSL show it.
_CJK_NAME = re.compile(
    r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+"
)


def person_name(given: str, family: str) -> str:
    """A name from its two parts, as its reader writes it: 'Matthew A. Wilson', but 王芳 for family 王, given 芳."""
    given, family = clean_text(given), clean_text(family)
    if given and family and _CJK_NAME.fullmatch(given) and _CJK_NAME.fullmatch(family):
        return family + given
    return clean_text(f"{given} {family}")


def given_first(name: str) -> str:
    """'Wilson, Matthew A.' as 'Matthew A. Wilson'; a name without a comma (or nothing after it) as it is, trimmed."""
    surname, comma, given = name.partition(",")
    return person_name(given, surname) if comma and given.strip() else clean_text(surname)


# Terminal escape sequences (ECMA-48): CSI (colours, cursor moves), string commands up to their terminator (OSC 8
# hyperlinks, window titles, DCS...), then any other two-byte escape. An unterminated string command loses only
# its introducer: its payload is plain text once the ESC is gone.
_TERMINAL_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]"
)
# C0, DEL, C1, line/paragraph separators, bidi embeddings/overrides/isolates (Trojan Source), lone surrogates.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _printable_char(match: re.Match[str]) -> str:
    char = match.group()
    if "\ud800" <= char <= "\udfff":
        return "\ufffd"  # printing a lone surrogate would raise UnicodeEncodeError
    return " " if char.isspace() else ""


def printable(text: str) -> str:
    """`text` safe to print on a terminal: escape sequences and control characters removed, whitespace as spaces."""
    return _UNPRINTABLE.sub(_printable_char, _TERMINAL_SEQUENCE.sub("", text))


# What a terminal acts on in data that keeps its lines: controls but tab and line ends, a carriage return that ends no
# line (it would let the rest of a line overwrite its start), bidi embeddings/overrides/isolates, lone surrogates.
_TERMINAL_CONTROL = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]|\r(?!\n)")


def terminal_safe(text: str) -> str:
    """Data (CSV, JSON, HTML...) safe to print on a terminal: escape sequences and control characters removed, lines
    and tabs kept."""
    return _TERMINAL_CONTROL.sub(_printable_char, _TERMINAL_SEQUENCE.sub("", text))


_SAFE_URL = re.compile(r"https?://[^/?#\s\\]+", re.IGNORECASE)
_SURROGATE = re.compile("[\ud800-\udfff]")


def safe_url(url: str | None) -> str | None:
    """`url` if it is an absolute http(s) URL (characters that could end a link percent-encoded), else None."""
    if not url or not _SAFE_URL.match(url):
        return None
    return quote(_SURROGATE.sub("\ufffd", url), safe="-._~:/?#@!$&*+,;=%")


@dataclass(frozen=True)
class Paper:
    """One paper: arXiv id without version (or a t: id), title, abstract and optional metadata."""

    arxiv_id: str
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    date: date | None = None
    version: int | None = None
    links: tuple[str, ...] = ()  # every page of the paper (bioRxiv, OpenReview forum, doi.org...), its own first
    venue: str = ""  # the journal or preprint server its source names ('Nature Neuroscience', 'bioRxiv'); '' unknown

    @property
    def ids(self) -> tuple[str, ...]:
        """Every id this paper is known by: its own first, then those its links name (an arXiv id, a DOI, a forum)."""
        if not self.links:
            return (self.arxiv_id,)
        return tuple(dict.fromkeys([self.arxiv_id, *filter(None, map(id_of_link, self.links))]))

    @property
    def text(self) -> str:
        """The text that is embedded: title and abstract."""
        return f"{self.title}. {self.abstract}" if self.abstract else self.title

    @property
    def has_arxiv_id(self) -> bool:
        """True for real arXiv ids, False for t: title ids and doi: or openreview: ids."""
        return not self.arxiv_id.startswith(ID_PREFIXES)

    @property
    def url(self) -> str | None:
        """The arXiv abstract page, else the paper's first page (a DOI, a forum); None for a t: id without links."""
        if self.has_arxiv_id:
            return f"https://arxiv.org/abs/{self.arxiv_id}"
        return link_of(self.arxiv_id) or next(iter(self.links), None)

    @property
    def code_urls(self) -> tuple[str, ...]:
        """Addresses on code hosts in the abstract (GitHub, GitLab, Hugging Face...), where arXiv puts code links."""
        found: list[str] = []
        for match in _URL_IN_TEXT.finditer(self.abstract):
            url = match.group(0).rstrip(".,;:")
            host = url.split("/")[2].lower() if url.count("/") >= 2 else ""
            if any(host == h or host.endswith("." + h) for h in CODE_HOSTS) and url not in found:
                found.append(url)
        return tuple(found)

    @property
    def code_url(self) -> str | None:
        """The first code link of the abstract, if any."""
        return next(iter(self.code_urls), None)

    @property
    def pdf_url(self) -> str | None:
        """The arXiv PDF, else the full text of a bioRxiv or medRxiv version, else an OpenReview PDF the links name."""
        if self.has_arxiv_id:
            return f"https://arxiv.org/pdf/{self.arxiv_id}"
        version = next((url for url in self.links if _PREPRINT_VERSION.match(url)), None)
        if version:
            return f"{version}.full.pdf"
        return next((url for url in self.links if _OPENREVIEW_PDF.match(url)), None)

    @classmethod
    def make(
        cls,
        title: str,
        raw_id: str | None = None,
        abstract: str = "",
        authors: tuple[str, ...] | list[str] = (),
        categories: tuple[str, ...] | list[str] = (),
        date: date | None = None,
        links: tuple[str, ...] | list[str] = (),
        venue: str = "",
    ) -> Paper:
        """Build a Paper from raw fields, normalising the id and whitespace; only http(s) links are kept."""
        title = clean_text(title)
        version = None
        raw = raw_id.strip() if raw_id else ""
        if not raw:
            arxiv_id = title_id(title)
        elif split := split_arxiv_id(raw):
            arxiv_id, version = split
        elif is_title_id(raw):
            arxiv_id = raw
        elif raw.startswith(("doi:", "openreview:")):
            found = source_id(raw)
            if found is None:
                raise ValueError(f"not a DOI or OpenReview forum id: {raw[:60]!r}")
            arxiv_id = found
        elif raw.startswith("t:"):
            raise ValueError(f"not a title id ('t:' and 12 hex digits): {raw[:40]!r}")
        else:
            raise ValueError(f"not an arXiv id: {raw!r}")
        return cls(
            arxiv_id=arxiv_id,
            title=title,
            abstract=clean_text(abstract),
            authors=tuple(clean_text(a) for a in authors if a.strip()),
            categories=tuple(c.strip() for c in categories if c.strip()),
            date=date,
            version=version,
            links=tuple(dict.fromkeys(url for url in map(safe_url, links) if url)),
            venue=clean_text(venue),
        )


@dataclass(frozen=True)
class Listing:
    """One day's papers (or several days merged), in listing order."""

    papers: tuple[Paper, ...]
    category: str | None = None
    date: date | None = None
    sources: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.papers)

    @property
    def day(self) -> date:
        """The day it stands for: its date, else its newest paper's (never after today), else today."""
        return self.day_on(date.today())

    def day_on(self, today: date) -> date:
        """The day it stands for when ranked on `today`: its date, else its newest paper's (never after), else today."""
        if self.date is not None:
            return self.date
        # A file of papers from 2021 ranked today is a 2021 day: its likes are not old, its recency is of then.
        dated = [p.date for p in self.papers if p.date is not None]
        return min(max(dated), today) if dated else today


@dataclass(frozen=True)
class Because:
    """Why a paper was picked: the closest liked papers, the terms that weighed most, its key sentence."""

    papers: tuple[tuple[str, str, float], ...] = ()  # (id, title, cosine similarity), closest first
    terms: tuple[str, ...] = ()
    sentence: str = ""
    # (interest, cosine similarity), closest first: only for a profile of interests alone, with no paper to name.
    interests: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Pick:
    """A ranked paper: the paper, its score (higher is better), its 1-based rank, the profile and why; match is the
    calibrated probability that the profile likes it (None when unknown); summary is a language model's line on it
    (recommender.summary; None when summaries are off)."""

    paper: Paper
    score: float
    rank: int
    profile: str
    because: Because | None = None
    match: float | None = None
    summary: str | None = None
