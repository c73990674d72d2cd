"""Collections in: BibTeX, Zotero CSL JSON and RDF, RIS, arXiv id lists and listing files, merged without duplicates."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from ..schema import Paper, PaperrecError, UsageError, is_title_id, link_of, normalise_title, title_id
from .bibtex import bibtex_references
from .guard import choose_format, reading
from .idlist import Reference, id_list_references
from .merge import first_author, identity_rank, plain_title
from .ris import ris_references
from .zotero import NOT_A_PAPER, csl_references, rdf_references

Reader = Callable[[Path], tuple[list[Reference], list[tuple[str, str]]]]

__all__ = ["IMPORT_FORMATS", "ImportResult", "merge_references", "read_collection", "read_collections"]


def _listing_reader(fmt: str) -> Reader:
    def read(path: Path) -> tuple[list[Reference], list[tuple[str, str]]]:
        """All papers of a listing file, each added on its listing date; nothing is skipped."""
        # Imported here: the sources package re-exports this module, so a top-level import would be circular.
        from . import read_listing

        papers = read_listing(path, fmt).papers
        return [Reference(p, year=p.date.year if p.date else None, added=p.date) for p in papers], []

    return read


IMPORT_FORMATS: dict[str, Reader] = {
    "bibtex": bibtex_references,
    "csl-json": csl_references,
    "zotero-rdf": rdf_references,
    "ris": ris_references,
    "ids": id_list_references,
    "md": _listing_reader("md"),
    "jsonl": _listing_reader("jsonl"),
    "csv": _listing_reader("csv"),
}
_EXTENSIONS = {
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".json": "csl-json",
    ".rdf": "zotero-rdf",
    ".ris": "ris",
    ".txt": "ids",
    ".md": "md",
    ".markdown": "md",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
}


@dataclass(frozen=True)
class ImportResult:
    """Papers read from collection files (one per work), what was skipped as (what, why), and what was merged."""

    papers: tuple[Paper, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    added: tuple[date | None, ...] = ()  # row-aligned with papers: each paper's own date in the files, if any
    merged: int = 0  # references that were another reference's work and joined it
    ignored: tuple[tuple[str, str], ...] = ()  # notes, attachments and annotations: not papers, not problems
    read: int = 0  # references read (papers before merging)
    aliases: tuple[tuple[str, ...], ...] = ()  # row-aligned with papers: titles an earlier version read each by


def _format(path: Path, fmt: str | None) -> str:
    """The import format: the override if given, else from the file extension."""
    return choose_format(path, fmt, IMPORT_FORMATS, _EXTENSIONS, what="import format", option="--format")


def _richness(paper: Paper) -> tuple[bool, ...]:
    return (
        bool(paper.title),
        bool(paper.abstract),
        bool(paper.authors),
        paper.date is not None,
        bool(paper.categories),
    )


def _combine(first: Paper, second: Paper) -> Paper:
    """One paper from two records of it: the richer record, its gaps filled from the other (first wins ties).

    It is known by the better id of the two (arXiv, then DOI, then forum, then title) and keeps a link for each id.
    """
    base, other = (first, second) if _richness(first) >= _richness(second) else (second, first)
    best = min((first, second), key=lambda paper: identity_rank(paper.arxiv_id))
    versions = [p.version for p in (first, second) if p.version is not None and p.has_arxiv_id]
    ids = dict.fromkeys([best.arxiv_id, *first.ids, *second.ids])
    links = [*(link_of(i) for i in ids), *first.links, *second.links] if len(ids) > 1 else first.links + second.links
    return replace(
        base,
        arxiv_id=best.arxiv_id,
        title=base.title or other.title,
        abstract=base.abstract or other.abstract,
        authors=base.authors or other.authors,
        categories=base.categories + tuple(c for c in other.categories if c not in base.categories),
        date=base.date or other.date,
        # The highest version seen is the newest the user has pointed at.
        version=max(versions) if versions else None,
        links=tuple(dict.fromkeys(link for link in links if link)),
    )


def _join(first: Reference, second: Reference) -> Reference:
    """Two references to one work as one: papers combined, the earliest own date kept.

    A date the paper was added or accessed wins over a publication date, which only stands in for it.
    """
    stamps = [r.added for r in (first, second) if r.stamped and r.added is not None]
    days = stamps or [r.added for r in (first, second) if r.added is not None]
    return Reference(
        _combine(first.paper, second.paper),
        doi=first.doi or second.doi,
        year=first.year if first.year is not None else second.year,
        added=min(days) if days else None,
        stamped=bool(stamps),
        aliases=tuple(dict.fromkeys(first.aliases + second.aliases)),
    )


def _years(reference: Reference) -> set[int]:
    """The years a reference may be dated: its own, else for a new-style arXiv id that year or the next (published)."""
    if reference.year is not None:
        return {reference.year}
    paper = reference.paper
    if paper.date is not None:
        return {paper.date.year}
    if paper.has_arxiv_id and "/" not in paper.arxiv_id:
        year = 2000 + int(paper.arxiv_id[:2])
        return {year, year + 1}
    return set()


def _keys(reference: Reference) -> list[tuple[str, ...]]:
    """What identifies a reference's work: each of its ids (arXiv, DOI, forum), its DOI, its title with each year."""
    keys: list[tuple[str, ...]] = [("id", i) for i in reference.paper.ids if not is_title_id(i)]
    if reference.doi:
        keys.append(("doi", reference.doi))
    title = normalise_title(plain_title(reference.paper.title))
    # A title alone names no work: "Deep learning" (2015) and "Deep Learning" (2016) are two papers, and so are
    # 21 web pages called "Online reference" without a year.
    keys += [("title", title, str(year)) for year in sorted(_years(reference))] if title else []
    # A preprint and its published version a year or two later: a long title and the first author tell them.
    author = first_author(reference.paper)
    if len(title.split()) >= _AUTHORED_TITLE_WORDS and author:
        keys.append(("authored", title, author))
    return keys


_AUTHORED_TITLE_WORDS = 4  # "Introduction" by one author in 2019 and 2020 is two chapters
_AUTHORED_YEARS = 2  # a preprint's published version is seldom later than this


def _compatible(first: Reference, second: Reference, key: tuple[str, ...]) -> bool:
    """False when two references have different arXiv ids (then no DOI or title makes them one work), or when a
    title and first author are all they share and their years are too far apart."""
    if first.paper.has_arxiv_id and second.paper.has_arxiv_id and first.paper.arxiv_id != second.paper.arxiv_id:
        return False
    if key[0] != "authored":
        return True
    years, others = _years(first), _years(second)
    return not years or not others or min(abs(a - b) for a in years for b in others) <= _AUTHORED_YEARS


def _merge(references: Iterable[Reference]) -> tuple[list[Reference], int]:
    """One reference per work in first-seen order: same arXiv id, same DOI, or same title and year; and the merges."""
    works: list[Reference] = []
    by_key: dict[tuple[str, ...], int] = {}
    merged = 0
    for reference in references:
        target = None
        for key in _keys(reference):
            index = by_key.get(key)
            if index is not None and _compatible(works[index], reference, key):
                target = index
                break
        if target is None:
            works.append(reference)
            target = len(works) - 1
        else:
            works[target] = _join(works[target], reference)
            merged += 1
        for key in _keys(works[target]):
            by_key.setdefault(key, target)
    return works, merged


def _read(path: Path, fmt: str | None) -> tuple[list[Reference], list[tuple[str, str]]]:
    """Run the reader for one file, turning file-system trouble into one-line errors that name the file."""
    if not path.exists():
        raise PaperrecError(f"{path}: no such file")
    if path.is_dir():
        raise PaperrecError(f"{path}: is a directory, expected a collection file")
    reader = IMPORT_FORMATS[_format(path, fmt)]
    with reading(path):
        return reader(path)


def _distinct(works: list[Reference]) -> list[Paper]:
    """The works' papers, two works of one title (and so one t: id) told apart by their year, DOI or order."""
    papers: list[Paper] = []
    used: dict[str, int] = {}
    for work in works:
        paper = work.paper
        if not paper.has_arxiv_id and paper.arxiv_id in used:
            used[paper.arxiv_id] += 1
            # The first keeps the plain title id (as profiles already hold it); the same file gives the same ids.
            suffix = work.year or work.doi or f"#{used[paper.arxiv_id]}"
            paper = replace(paper, arxiv_id=title_id(f"{paper.title} {suffix}"))
        used.setdefault(paper.arxiv_id, 1)
        papers.append(paper)
    return papers


def merge_references(references: list[Reference], skipped: list[tuple[str, str]]) -> ImportResult:
    """References read from anywhere (files, Zotero's API) as one paper per work, with what was skipped."""
    works, merged = _merge(references)
    return ImportResult(
        papers=tuple(_distinct(works)),
        skipped=tuple(s for s in skipped if s[1] != NOT_A_PAPER),
        added=tuple(w.added for w in works),
        merged=merged,
        aliases=tuple(w.aliases for w in works),
        ignored=tuple(s for s in skipped if s[1] == NOT_A_PAPER),
        read=len(references),
    )


def read_collection(path: Path | str, fmt: str | None = None) -> ImportResult:
    """Read one collection file, e.g. read_collection("library.bib") or read_collection("liked", fmt="ids")."""
    return merge_references(*_read(Path(path), fmt))


def read_collections(paths: Iterable[Path | str], fmt: str | None = None) -> ImportResult:
    """Read several collection files and merge them: one paper per work, the most complete record kept."""
    references: list[Reference] = []
    skipped: list[tuple[str, str]] = []
    names = [Path(p) for p in paths]
    if not names:
        raise UsageError("no collection file given")
    for path in names:
        more, skips = _read(path, fmt)
        references += more
        skipped += skips
    return merge_references(references, skipped)
