"""History: the papers each profile was shown on past days (the seen-memory), with titles from stored listings."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .paths import seen_path
from .schema import Paper
from .seen import ProfileKeys, SeenMemory

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
                    for key in paper.ids:  # a merged paper is found by any of its ids
                        _INDEX.setdefault(key, paper)
                _INDEXED[stored.path] = mtime
        return dict(_INDEX)


def shown_papers(
    profile: ProfileKeys, *, liked: set[str] = frozenset(), disliked: set[str] = frozenset()
) -> list[Shown]:
    """What the profile (by its seen-memory keys) was shown, newest day first and in rank order within a day, each
    with its verdict from the id sets given."""
    path = seen_path()
    if not path.is_file():
        return []
    memory = SeenMemory(path)
    try:
        rows = memory.shown(profile)
    finally:
        memory.close()
    papers = stored_papers()
    result, listed = [], set()
    for key, day in rows:
        if key.startswith("title:"):  # a match key kept for later copies, not a paper of its own
            continue
        paper = papers.get(key)
        arxiv_id = paper.arxiv_id if paper is not None else key
        if (day, arxiv_id) in listed:  # one paper remembered under several ids is one row
            continue
        listed.add((day, arxiv_id))
        ids = paper.ids if paper is not None else (key,)
        verdict = "liked" if liked & set(ids) else "disliked" if disliked & set(ids) else None
        result.append(Shown(day, arxiv_id, paper, verdict))
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
