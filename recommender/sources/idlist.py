"""Id lists in: one arXiv id, DOI or their URL a line; also where other formats find arXiv ids, DOIs and forums."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ..schema import Paper, doi_id, link_of, openreview_id, paper_key, split_arxiv_id
from .guard import reading

# Case-sensitive on purpose: old-style subject classes are upper case (math.AG/0601001), archives lower case.
_ID = r"(?:\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"
_URL = re.compile(rf"^(?i:(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/)({_ID})(?i:\.pdf)?/?(?:[?#]\S*)?$")
_DOI = re.compile(rf"^(?i:(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?10\.48550/arxiv\.)({_ID})$")
_PREFIXED = re.compile(rf"^(?i:arxiv):\s*({_ID})$")
# The id must start right after its marker and end before any further digit or version, so nothing is read out of a
# longer number, and another publisher's DOI (10.1103/..., 10.5281/zenodo...) is never a marker.
_IN_TEXT = re.compile(
    rf"(?i:arxiv\.org/(?:abs|pdf)/|(?<![\d.])10\.48550/arxiv\.|(?<![\w./])arxiv(?:\s+(?:preprint|e-?print))?\s*:?\s*"
    rf"(?:abs/)?)({_ID})(?![\dv])"
)
# NASA ADS bibcodes of arXiv preprints (19 characters: year, 'journal', volume, page, initial). New-style ids:
# 2022arXiv220801611B = 2208.01611, 2014arXiv1412.6980K = 1412.6980. Old style: the archive (hyphen written as a
# dot) padded with dots to 9 characters, then month and number padded to 5: 1998astro.ph..2064X = astro-ph/9802064.
_BIBCODE_NEW = re.compile(r"(?<![A-Za-z0-9.])((?:19|20)\d\d)arXiv(\d{4})(\d{5}|\.\d{4})[A-Z.](?![A-Za-z0-9])")
_BIBCODE_OLD = re.compile(r"(?<![A-Za-z0-9.])((?:19|20)\d\d)([a-z][a-z.]{1,8})([.\d]{5})[A-Z.](?![A-Za-z0-9])")
# The archives of old-style ids; none has a dot, so a bibcode's dots map back to hyphens without guessing.
_OLD_ARCHIVES = frozenset(
    [
        "acc-phys",
        "adap-org",
        "alg-geom",
        "ao-sci",
        "astro-ph",
        "atom-ph",
        "bayes-an",
        "chao-dyn",
        "chem-ph",
        "cmp-lg",
        "comp-gas",
        "cond-mat",
        "cs",
        "dg-ga",
        "funct-an",
        "gr-qc",
        "hep-ex",
        "hep-lat",
        "hep-ph",
        "hep-th",
        "math",
        "math-ph",
        "mtrl-th",
        "nlin",
        "nucl-ex",
        "nucl-th",
        "patt-sol",
        "physics",
        "plasm-ph",
        "q-alg",
        "q-bio",
        "quant-ph",
        "solv-int",
        "supr-con",
    ]
)
_ADS_URL = re.compile(r"^(?i:https?://(?:ui\.)?adsabs\.harvard\.edu/(?:#?abs/|cgi-bin/bib_query\?))(\S{19})(?:/\S*)?$")
_DOI_TEXT = re.compile(r"(?i:^|doi\.org/|doi:\s*|\s)(10\.\d{4,9}/\S+)")
_COMMENT = re.compile(r"(?:^|\s)#.*$")
# An OpenReview forum or PDF address; the id may follow other query parameters (forum?noteId=x&id=y is rare).
_FORUM_TEXT = re.compile(r"(?i:openreview\.net/(?:forum|pdf)\?(?:[^\s#&]*&)*id=)([A-Za-z0-9_-]{1,64})(?![\w-])")


@dataclass(frozen=True)
class Reference:
    """A paper as one collection file gives it, with what tells whether two references are one work."""

    paper: Paper
    doi: str = ""  # normalised (lower case, no resolver prefix)
    year: int | None = None  # of publication, as the file gives it
    added: date | None = None  # the paper's own date in the file: when it was added, accessed or published
    stamped: bool = False  # `added` says when the paper was added or accessed, not when it was published
    aliases: tuple[str, ...] = ()  # titles an earlier version read it by, so a profile may hold it under their ids


def _valid(raw: str, placeholder: bool = False) -> tuple[str, int | None] | None:
    """split_arxiv_id, also rejecting ids that arXiv cannot have issued (placeholders like 2305.00000 unless asked)."""
    found = split_arxiv_id(raw)
    if not found:
        return None
    if "/" in found[0]:
        # Old-style ids ran from 9108 to 0703 with a three-digit number from 001 onwards.
        yymm, number = found[0].split("/")[1][:4], found[0][-3:]
        if not 1 <= int(yymm[2:]) <= 12 or not (int(yymm) >= 9108 or int(yymm) <= 703) or int(number) == 0:
            return None
        return found
    # New-style ids start in 0704; numbers have 4 digits until 1412 and 5 from 1501 (catches typos), never all zeros.
    yymm, number = found[0].split(".")
    if int(yymm) < 704 or not 1 <= int(yymm[2:]) <= 12 or len(number) != (4 if int(yymm) < 1501 else 5):
        return None
    return found if int(number) or placeholder else None


def bibcode_arxiv_id(bibcode: str) -> str | None:
    """The arXiv id an ADS bibcode names, e.g. '2022arXiv220801611B' -> '2208.01611'; None for other bibcodes."""
    text = bibcode.strip()
    new = _BIBCODE_NEW.fullmatch(text)
    if new:
        year, yymm, number = new.groups()
        found = _valid(f"{yymm}.{number.lstrip('.')}")
        # The bibcode's year is the id's: a mismatch means it is not an arXiv bibcode after all.
        return found[0] if found and year[2:] == yymm[:2] else None
    old = _BIBCODE_OLD.fullmatch(text)
    if old:
        year, archive, page = old.groups()
        name = archive.rstrip(".").replace(".", "-")
        if name not in _OLD_ARCHIVES or archive != name.replace("-", ".").ljust(9, ".") or "." in page.lstrip("."):
            return None
        month_number = page.lstrip(".").zfill(5)
        found = _valid(f"{name}/{year[2:]}{month_number}")
        return found[0] if found else None
    return None


def _find_bibcode(text: str) -> str | None:
    """The first arXiv id named by an ADS bibcode inside text."""
    for pattern in (_BIBCODE_NEW, _BIBCODE_OLD):
        for match in pattern.finditer(text):
            found = bibcode_arxiv_id(match.group())
            if found:
                return found
    return None


def parse_arxiv_ref(text: str, *, placeholder: bool = False) -> tuple[str, int | None] | None:
    """(id, version) named by a bare id, an 'arXiv:' id, an arxiv.org or ADS URL, a 10.48550 DOI or an ADS bibcode.

    A number part of zero (2305.00000) is a placeholder, not an id; `placeholder` accepts it where a file declares
    the id outright (a BibTeX eprint with archivePrefix arXiv, as paperrec's own export writes it).
    """
    text = text.strip()
    ads = _ADS_URL.match(text)
    found = bibcode_arxiv_id(ads.group(1) if ads else text)
    if found:
        return found, None
    match = _URL.match(text) or _DOI.match(text) or _PREFIXED.match(text)
    return _valid(match.group(1) if match else text, placeholder)


def parse_arxiv_refs(text: str) -> tuple[str, int | None] | None:
    """The first arXiv id among several URLs/ids in one field (Mendeley separates them by spaces, commas, newlines)."""
    for piece in re.split(r"[\s,;]+", text):
        found = parse_arxiv_ref(piece) if piece else None
        if found:
            return found
    return None


def find_arxiv_id(text: str) -> tuple[str, int | None] | None:
    """The first arXiv id marked as one inside free text, e.g. 'arXiv preprint arXiv:2104.10642'; else None."""
    for match in _IN_TEXT.finditer(text):
        found = _valid(match.group(1))
        if found:
            return found
    bibcode = _find_bibcode(text)
    return (bibcode, None) if bibcode else None


def normalise_doi(text: str) -> str:
    """The first DOI in a field, lower case and without its resolver prefix ('' if none), for telling works apart."""
    match = _DOI_TEXT.search(text.strip())
    return match.group(1).rstrip(".,;").lower() if match else ""


def find_forum(text: str) -> str | None:
    """The forum id of the first openreview.net/forum?id= (or pdf?id=) address in text, e.g. in a BibTeX url."""
    match = _FORUM_TEXT.search(text)
    return match.group(1) if match else None


def record_ids(found: tuple[str, int | None] | None, doi: str, forum: str | None) -> list[str]:
    """Every id a record names, best first: its arXiv id, 'doi:' and its DOI, 'openreview:' and its forum."""
    # arXiv's own DOIs (10.48550/arXiv.*) name the arXiv id, which the record has already.
    by_doi = doi_id(doi) if doi and not doi.lower().startswith("10.48550/arxiv.") else None
    by_forum = openreview_id(forum) if forum else None
    return list(dict.fromkeys(i for i in (found[0] if found else None, by_doi, by_forum) if i))


def record_paper(
    found: tuple[str, int | None] | None, doi: str, forum: str | None, title: str, **fields: Any
) -> Paper | None:
    """A record's Paper under its best id: the arXiv id, else its DOI, else its forum, else its title's hash.

    This is the identity the sources give (Paper.make with 'doi:' or 'openreview:'). A paper known by several ids
    keeps a link to each page, so a copy under any of them is known as this paper. None without id and title.
    `fields` are Paper's abstract, authors, categories and date.
    """
    ids = record_ids(found, doi, forum)
    links = tuple(link for link in map(link_of, ids) if link) if len(ids) > 1 else ()
    if found:
        # An empty title marks "metadata missing", as for bare ids.
        return Paper(found[0], title, version=found[1], links=links, **fields)
    if not title:
        return None
    return Paper.make(title, ids[0] if ids else None, links=links, **fields)


def named_id(text: str) -> tuple[str, int | None] | None:
    """(id, version) a reference names as an id list reads it: an arXiv id however written (arXiv's own DOI too),
    else 'doi:' and a DOI however copied (no version); None for neither. Example: named_id('10.1101/X') is
    ('doi:10.1101/x', None)."""
    found = parse_arxiv_ref(text)
    if found is not None:
        return found
    by_doi = paper_key(text)
    return (by_doi, None) if by_doi.startswith("doi:") else None


def id_list_references(path: Path) -> tuple[list[Reference], list[tuple[str, str]]]:
    """The references of an id list (ids or URLs one a line; '#' comments, blank lines ignored) and lines skipped."""
    references: list[Reference] = []
    skipped: list[tuple[str, str]] = []
    with reading(path), path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            text = _COMMENT.sub("", line).strip()
            if not text:
                continue
            found = named_id(text)
            if found is not None and found[0].startswith("doi:"):
                # Its title and abstract are looked up on OpenAlex, as an arXiv id's on arXiv.
                references.append(Reference(Paper(arxiv_id=found[0], title=""), doi=found[0][4:]))
                continue
            if found is None:
                why = "not an arXiv id or URL"
                if normalise_doi(text) or find_forum(text):
                    # No service gives a forum's text by its id alone.
                    why = "an OpenReview forum without a title: import it from a BibTeX or Zotero export"
                elif split_arxiv_id(text) or _URL.match(text):
                    why = "not an id arXiv has issued (a placeholder or a typo?)"
                skipped.append((f"{path}:{number}", f"{why}: {text!r}"))
                continue
            arxiv_id, version = found
            # An empty title marks "metadata missing": it is filled from the arXiv API later.
            references.append(Reference(Paper(arxiv_id=arxiv_id, title="", version=version)))
    return references, skipped


def read_id_list(path: Path) -> tuple[list[Paper], list[tuple[str, str]]]:
    """Papers named one a line (ids or URLs; '#' comments, blank lines ignored) and the (what, why) lines skipped."""
    references, skipped = id_list_references(path)
    return [r.paper for r in references], skipped
