"""RIS in: the tagged export of EndNote, Mendeley, Zotero, Papers and publishers' "cite this" buttons.

A record runs from 'TY  - JOUR' to 'ER  -'. Each line is a two-character tag, two spaces, a hyphen and the value. A
line without a tag continues the value above it (wrapped abstracts). Tags that repeat (AU, UR) add values. Which tag
holds what follows the RIS specification and what reference managers write: TI or T1 the title, AU or A1 the
authors ('Surname, Given'), AB or N2 the abstract, DO the DOI, UR the addresses, PY or Y1 the year, DA the date
('2020/05/01/'), Y2 the day it was accessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from ..schema import given_first, paper_key
from .guard import reading, scrub
from .idlist import Reference, find_arxiv_id, find_forum, normalise_doi, parse_arxiv_refs, record_paper
from .markdown import strip_html

# Writers differ in the spaces around the hyphen, and 'ER  -' often has no value.
_LINE = re.compile(r"^([A-Z][A-Z0-9])\s{1,2}-(?:\s(.*))?$")
_DAY = re.compile(r"^\s*(\d{4})(?:[/-](\d{1,2})?(?:[/-](\d{1,2})?)?)?")


def _records(text: str) -> Iterator[tuple[int, dict[str, list[str]]]]:
    """Each record as (its first line's number, {tag: values}); a value's continuation lines joined to it."""
    record: dict[str, list[str]] = {}
    start, last = 0, ""
    for number, line in enumerate(text.splitlines(), start=1):
        match = _LINE.match(line.rstrip())
        if match is None:
            if record and last and line.strip():
                record[last][-1] += " " + line.strip()
            continue
        tag, value = match.group(1), (match.group(2) or "").strip()
        if tag == "TY":
            if record:  # its 'ER' line was lost: the next record still ends it
                yield start, record
            record, start = {}, number
        if tag == "ER":
            if record:
                yield start, record
            record, last = {}, ""
            continue
        record.setdefault(tag, []).append(value)
        last = tag
    if record:  # a last record without its ER line is still a record
        yield start, record


def _first(record: dict[str, list[str]], *tags: str) -> str:
    """The first non-empty value of the first tag that has one."""
    return next((value for tag in tags for value in record.get(tag, []) if value.strip()), "")


def _day(text: str) -> tuple[int | None, date | None, bool]:
    """(year, first day, whether month and day were given) of an RIS date: '1994/07/29/', '1994///', '2020-05'."""
    match = _DAY.match(text)
    if not match:
        return None, None, False
    year, month, day = int(match.group(1)), match.group(2), match.group(3)
    try:
        return year, date(year, int(month or 1), int(day or 1)), bool(month and day)
    except ValueError:
        return year, None, False


def _reference(record: dict[str, list[str]]) -> Reference | None:
    """The reference of one record; None when it has neither an arXiv id nor a title."""
    record = {tag: [scrub(value) for value in values] for tag, values in record.items()}
    urls = record.get("UR", [])
    found = parse_arxiv_refs(" ".join([*urls, *record.get("DO", [])])) or find_arxiv_id(
        " ".join(record.get("N1", []) + record.get("JO", []) + record.get("T2", []))
    )
    doi = normalise_doi(_first(record, "DO"))
    by_link = next((key[4:] for key in map(paper_key, urls) if key.startswith("doi:")), "")  # a bioRxiv address
    forum = next(filter(None, (find_forum(value) for value in [*urls, *record.get("N1", [])])), None)
    year, issued, whole = _day(_first(record, "DA", "PY", "Y1"))
    if year is None:
        year = _day(_first(record, "PY", "Y1"))[0]
    accessed = _day(_first(record, "Y2"))[1]
    paper = record_paper(
        found,
        doi or by_link,
        forum,
        strip_html(_first(record, "TI", "T1", "CT", "BT")),
        abstract=strip_html(_first(record, "AB", "N2")),
        authors=tuple(filter(None, (given_first(value) for tag in ("AU", "A1") for value in record.get(tag, [])))),
        categories=(),
        date=issued if whole else None,
    )
    if paper is None:
        return None
    return Reference(paper, doi=doi or by_link, year=year, added=accessed or issued, stamped=accessed is not None)


def ris_references(path: Path) -> tuple[list[Reference], list[tuple[str, str]]]:
    """The references of an RIS file and the (what, why) records skipped."""
    with reading(path):
        text = path.read_text(encoding="utf-8-sig")
    references: list[Reference] = []
    skipped: list[tuple[str, str]] = []
    for number, record in _records(text):
        reference = _reference(record)
        if reference is None:
            kind = _first(record, "TY")[:20] or "?"
            skipped.append((f"{path}:{number} TY {kind}", "neither an arXiv id nor a title"))
        else:
            references.append(reference)
    return references, skipped
