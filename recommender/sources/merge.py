"""One paper, one row: listings of several sources merged by arXiv id, DOI or forum, or title and first author."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..schema import Listing, Paper, link_of, normalise_title, title_id
from .markdown import strip_html

# The better identity wins a merge: an arXiv id, then a DOI, then an OpenReview forum, then a title hash.
_RANK = {"doi:": 1, "openreview:": 2, "t:": 3}


def identity_rank(paper_id: str) -> int:
    """0 for an arXiv id, 1 for a DOI, 2 for an OpenReview forum, 3 for a title hash (lower is better)."""
    for prefix, rank in _RANK.items():
        if paper_id.startswith(prefix):
            return rank
    return 0


def first_author(paper: Paper) -> str:
    """The first author's surname, normalised ('' when the paper names no author)."""
    if not paper.authors:
        return ""
    words = normalise_title(paper.authors[0]).split()
    return words[-1] if words else ""


def plain_title(title: str) -> str:
    """A title without HTML tags or entities, as BibTeX, CSL, RIS and RDF files are read (a profile may keep them)."""
    return strip_html(title) if "<" in title or "&" in title else title  # most titles: nothing to strip


def match_keys(paper: Paper) -> list[str]:
    """What two copies of one paper share: any id (its own or one its links name), or title plus first author.

    A title is compared without HTML. A paper kept under the title id of its title with HTML (a BibTeX import before
    2026-12-05) is also known by the title id of the title without it, as it is imported now.
    """
    keys = list(paper.ids)
    plain = plain_title(paper.title)
    if plain != paper.title and paper.arxiv_id == title_id(paper.title):
        keys.append(title_id(plain))
    title, author = normalise_title(plain), first_author(paper)
    if title and author:  # a title alone is too common ('Introduction') to merge on
        keys.append(f"title:{title}|{author}")
    return keys


def merge_pair(kept: Paper, other: Paper) -> Paper:
    """Two copies of one paper as one: the better identity's fields, gaps filled from the other, every link kept."""
    best, second = (other, kept) if identity_rank(other.arxiv_id) < identity_rank(kept.arxiv_id) else (kept, other)
    links = [link_of(best.arxiv_id), *best.links, link_of(second.arxiv_id), *second.links]
    return replace(
        best,
        abstract=best.abstract or second.abstract,
        authors=best.authors or second.authors,
        categories=best.categories + tuple(c for c in second.categories if c not in best.categories),
        date=best.date or second.date,
        links=tuple(dict.fromkeys(link for link in links if link)),
        venue=best.venue or second.venue,
    )


def merge_sources(listings: Sequence[Listing]) -> tuple[Listing, list[int]]:
    """The listings as one, each paper once, in first-seen order; and how many papers of each merged into another's.

    Example: merge_sources([arxiv_day, biorxiv_day])[1] == [0, 12] when 12 bioRxiv postings are also on arXiv.
    """
    rows: list[Paper] = []
    where: dict[str, int] = {}  # match key -> row
    merged_counts = []
    for listing in listings:
        merged = 0
        for paper in listing.papers:
            keys = match_keys(paper)
            row = next((where[key] for key in keys if key in where), None)
            if row is None:
                row = len(rows)
                rows.append(paper)
            else:
                rows[row] = merge_pair(rows[row], paper)
                merged += 1
                keys += match_keys(rows[row])
            for key in keys:
                where.setdefault(key, row)
        merged_counts.append(merged)
    dates = {listing.date for listing in listings if listing.date}
    categories = {listing.category for listing in listings if listing.category}
    listing = Listing(
        papers=tuple(rows),
        category=categories.pop() if len(categories) == 1 else None,
        # Sources announce on their own clocks (arXiv's day can be a day behind a journal feed first seen today):
        # the merged day is the newest, the day the run is for, as the page already takes it.
        date=max(dates, default=None),
        sources=tuple(s for listing in listings for s in listing.sources),
    )
    return listing, merged_counts
