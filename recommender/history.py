"""History: the papers each profile was shown on past days (the seen-memory), with titles from stored listings."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .paths import open_database, seen_path
from .schema import Paper

_INDEX: dict[str, Paper] = {}
_INDEXED: dict[Path, int] = {}  # listing file -> mtime it was read at
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Shown:
    """A paper shown to a profile on a listing day, and what the profile says of it now."""

    day: date
    arxiv_id: str
    paper: Paper | None  # None when no stored listing has it
    verdict: str | None  # 'liked', 'disliked' or None


def stored_papers() -> dict[str, Paper]:
    """Every paper of the stored listings by id (files read once, again only when they change)."""
    from .sources.store import iter_stored

    with _LOCK:
        for stored in iter_stored():
            mtime = stored.path.stat().st_mtime_ns
            if _INDEXED.get(stored.path) != mtime:
                for paper in stored.read().papers:
                    _INDEX.setdefault(paper.arxiv_id, paper)
                _INDEXED[stored.path] = mtime
        return dict(_INDEX)


def shown_papers(profile: str, *, liked: set[str] = frozenset(), disliked: set[str] = frozenset()) -> list[Shown]:
    """What the profile (by name) was shown, newest day first, each with its verdict from the id sets given."""
    path = seen_path()
    if not path.is_file():
        return []
    database = open_database(
        path,
        "CREATE TABLE IF NOT EXISTS seen (profile TEXT NOT NULL, arxiv_id TEXT NOT NULL,"
        " day TEXT NOT NULL, PRIMARY KEY (profile, arxiv_id)) WITHOUT ROWID",
        "seen-memory",
    )
    try:
        rows = database.execute(
            "SELECT arxiv_id, day FROM seen WHERE profile = ? ORDER BY day DESC, arxiv_id", [profile]
        ).fetchall()
    finally:
        database.close()
    papers = stored_papers()
    result = []
    for arxiv_id, day in rows:
        verdict = "liked" if arxiv_id in liked else "disliked" if arxiv_id in disliked else None
        result.append(Shown(date.fromisoformat(day), arxiv_id, papers.get(arxiv_id), verdict))
    return result


def search(shown: list[Shown], query: str) -> list[Shown]:
    """The rows whose title, abstract, authors or id contain every word of the query (case-insensitive)."""
    words = query.lower().split()
    if not words:
        return shown

    def text(row: Shown) -> str:
        paper = row.paper
        if paper is None:
            return row.arxiv_id.lower()
        return " ".join([row.arxiv_id, paper.title, paper.abstract, *paper.authors]).lower()

    return [row for row in shown if all(word in text(row) for word in words)]
