"""Collections in: BibTeX, Zotero CSL JSON and RDF, arXiv id lists and listing files, merged without duplicates."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from ..schema import Paper, PaperrecError, UsageError, title_id
from .bibtex import read_bibtex
from .guard import choose_format, reading
from .idlist import read_id_list
from .zotero import read_csl_json, read_zotero_rdf

Reader = Callable[[Path], tuple[list[Paper], list[tuple[str, str]]]]

__all__ = ["IMPORT_FORMATS", "ImportResult", "read_collection", "read_collections"]


def _listing_reader(fmt: str) -> Reader:
    def read(path: Path) -> tuple[list[Paper], list[tuple[str, str]]]:
        """All papers of a listing file; nothing is skipped."""
        # Imported here: the sources package re-exports this module, so a top-level import would be circular.
        from . import read_listing

        return list(read_listing(path, fmt).papers), []

    return read


IMPORT_FORMATS: dict[str, Reader] = {
    "bibtex": read_bibtex,
    "csl-json": read_csl_json,
    "zotero-rdf": read_zotero_rdf,
    "ids": read_id_list,
    "md": _listing_reader("md"),
    "jsonl": _listing_reader("jsonl"),
    "csv": _listing_reader("csv"),
}
_EXTENSIONS = {
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".json": "csl-json",
    ".rdf": "zotero-rdf",
    ".txt": "ids",
    ".md": "md",
    ".markdown": "md",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
}


@dataclass(frozen=True)
class ImportResult:
    """Papers read from collection files (no two with one id) and what was skipped, as (what, why)."""

    papers: tuple[Paper, ...]
    skipped: tuple[tuple[str, str], ...] = ()


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
    """One paper from two records of it: the richer record, its gaps filled from the other (first wins ties)."""
    base, other = (first, second) if _richness(first) >= _richness(second) else (second, first)
    arxiv = first if first.has_arxiv_id else second
    versions = [p.version for p in (first, second) if p.version is not None and p.has_arxiv_id]
    return replace(
        base,
        arxiv_id=arxiv.arxiv_id,
        title=base.title or other.title,
        abstract=base.abstract or other.abstract,
        authors=base.authors or other.authors,
        categories=base.categories + tuple(c for c in other.categories if c not in base.categories),
        date=base.date or other.date,
        # The highest version seen is the newest the user has pointed at.
        version=max(versions) if versions else None,
    )


def _merge(papers: Iterable[Paper]) -> tuple[Paper, ...]:
    """Unique papers in first-seen order: one per arXiv id; a t: paper joins the arXiv paper of that title."""
    by_id: dict[str, Paper] = {}
    for paper in papers:
        known = by_id.get(paper.arxiv_id)
        by_id[paper.arxiv_id] = paper if known is None else _combine(known, paper)
    by_title = {title_id(p.title): p.arxiv_id for p in by_id.values() if p.has_arxiv_id and p.title}
    for paper in [p for p in by_id.values() if not p.has_arxiv_id]:
        target = by_title.get(paper.arxiv_id)
        if target is not None:
            by_id[target] = _combine(by_id[target], paper)
            del by_id[paper.arxiv_id]
    return tuple(by_id.values())


def _read(path: Path, fmt: str | None) -> tuple[list[Paper], list[tuple[str, str]]]:
    """Run the reader for one file, turning file-system trouble into one-line errors that name the file."""
    if not path.exists():
        raise PaperrecError(f"{path}: no such file")
    if path.is_dir():
        raise PaperrecError(f"{path}: is a directory, expected a collection file")
    reader = IMPORT_FORMATS[_format(path, fmt)]
    with reading(path):
        return reader(path)


def read_collection(path: Path | str, fmt: str | None = None) -> ImportResult:
    """Read one collection file, e.g. read_collection("library.bib") or read_collection("liked", fmt="ids")."""
    papers, skipped = _read(Path(path), fmt)
    return ImportResult(papers=_merge(papers), skipped=tuple(skipped))


def read_collections(paths: Iterable[Path | str], fmt: str | None = None) -> ImportResult:
    """Read several collection files and merge them: one paper per arXiv id, the most complete record kept."""
    papers: list[Paper] = []
    skipped: list[tuple[str, str]] = []
    names = [Path(p) for p in paths]
    if not names:
        raise UsageError("no collection file given")
    for path in names:
        more, skips = _read(path, fmt)
        papers += more
        skipped += skips
    return ImportResult(papers=_merge(papers), skipped=tuple(skipped))
