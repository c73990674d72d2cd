"""Titles and abstracts for papers known only by id: looked up in batches, cached in SQLite.

arXiv ids go to the arXiv API. Papers known by DOI have their titles and get abstracts from OpenAlex.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..schema import Paper, PaperrecError, counted
from .guard import open_derived, reopened
from .once import in_a_run
from .records import paper_from_record, paper_to_record

Lookup = Callable[[list[str]], dict[str, Paper]]


class MetadataCache:
    """Metadata already fetched, by arXiv id without version or by 'doi:' id."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        table = "CREATE TABLE IF NOT EXISTS papers (arxiv_id TEXT PRIMARY KEY, record TEXT NOT NULL)"
        return open_derived(self.path, table, "metadata cache", "SELECT arxiv_id FROM papers LIMIT 1")

    def _recover(self, error: sqlite3.DatabaseError) -> None:
        """Start afresh after a damaged file (it only saves API calls); anything else is one clear error."""
        self._db = reopened(self._db, self.path, "metadata cache", error, self._open)

    def get_many(self, ids: Sequence[str]) -> dict[str, Paper]:
        """The cached papers among these ids."""
        found: dict[str, Paper] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            query = f"SELECT arxiv_id, record FROM papers WHERE arxiv_id IN ({','.join('?' * len(chunk))})"
            try:
                rows = self._db.execute(query, chunk).fetchall()
            except sqlite3.DatabaseError as error:
                self._recover(error)
                return {}
            for arxiv_id, record in rows:
                try:
                    found[arxiv_id] = paper_from_record(json.loads(record), str(self.path))
                except (PaperrecError, ValueError, TypeError, RecursionError):
                    continue  # a damaged row counts as missing: it is fetched again and overwritten
        return found

    def put_many(self, papers: Sequence[Paper]) -> None:
        """Store papers' metadata."""
        rows = [(p.arxiv_id, json.dumps(paper_to_record(p), ensure_ascii=False)) for p in papers]
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO papers VALUES (?, ?)", rows)
        except sqlite3.DatabaseError as error:
            self._recover(error)
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO papers VALUES (?, ?)", rows)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()


@dataclass(frozen=True)
class Completion:
    """Papers with metadata filled in where it could be, and what could not be done."""

    papers: tuple[Paper, ...]
    without_abstract: int
    unresolved: tuple[str, ...]  # ids with neither title nor abstract after the lookup
    notice: str | None = None  # e.g. why the lookup failed (offline)
    missing: tuple[str, ...] = ()  # of the unresolved, those the lookup answered without: not on arXiv or OpenAlex
    by_doi: tuple[str, ...] = ()  # 'doi:' papers whose abstract the lookup (or the cache) gave


def needs_metadata(paper: Paper) -> bool:
    """True for arXiv papers that lack a title or an abstract, and for 'doi:' papers that lack an abstract."""
    if paper.arxiv_id.startswith("doi:"):
        return not paper.abstract
    return paper.has_arxiv_id and (not paper.title or not paper.abstract)


# Each service is asked on its own, so one that fails leaves the other's answers. arXiv's notice keeps its words.
_FAILED = {
    "arXiv": ("could not fetch metadata for", "paper", "papers"),
    "DOI": ("could not fetch abstracts of", "DOI", "DOIs"),
}


@in_a_run()
def complete_papers(papers: Sequence[Paper], lookup: Lookup | None, cache: MetadataCache | None) -> Completion:
    """Fill missing titles/abstracts from the cache, then from `lookup`, once for arXiv ids and once for DOIs.

    Offline (no lookup) keeps what is there. The lookups are one run (once.in_a_run): a host one could not reach is
    not tried again by the next.
    """
    wanted = [p.arxiv_id for p in papers if needs_metadata(p)]
    known = cache.get_many(wanted) if cache is not None and wanted else {}
    notices = []
    remaining = [i for i in wanted if i not in known]
    answered: set[str] = set()  # a paper with a title is never "missing": only a bare id (an id list's) can be
    dois = [i for i in remaining if i.startswith("doi:")]
    groups = {"arXiv": [i for i in remaining if not i.startswith("doi:")], "DOI": dois}
    for kind, ids in groups.items():
        if not ids or lookup is None:
            continue
        try:
            fetched = lookup(ids)
            answered.update(ids)
        except PaperrecError as error:
            fetched = {}
            what, one, many = _FAILED[kind]
            notices.append(f"{what} {counted(len(ids), one, many)} ({error})")
        if cache is not None and fetched:
            cache.put_many(list(fetched.values()))
        known.update(fetched)
    completed = []
    by_doi = []
    for paper in papers:
        found = known.get(paper.arxiv_id)
        if found is not None and needs_metadata(paper):
            if paper.arxiv_id.startswith("doi:") and found.abstract:
                by_doi.append(paper.arxiv_id)
            paper = replace(
                paper,
                title=paper.title or found.title,
                abstract=paper.abstract or found.abstract,
                authors=paper.authors or found.authors,
                categories=paper.categories or found.categories,
                date=paper.date or found.date,
            )
        completed.append(paper)
    return Completion(
        papers=tuple(p for p in completed if p.title),
        without_abstract=sum(1 for p in completed if p.title and not p.abstract),
        unresolved=tuple(p.arxiv_id for p in completed if not p.title),
        notice="; ".join(notices) or None,
        missing=tuple(p.arxiv_id for p in completed if not p.title and p.arxiv_id in answered),
        by_doi=tuple(by_doi),
    )
