"""History: the papers each profile was shown on past days (the seen-memory), with titles from stored listings."""

from __future__ import annotations

import re
import threading
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .profile import load_profile
from .schema import Paper, PaperrecError, printable
from .seen import ProfileKeys, profile_keys, shown_keys

# Years of daily use store a hundred thousand papers, and a History page needs the few thousand it shows. So the
# papers are indexed by key as a whole read of the store would have them (the first file in store order that holds
# a key, its first paper there), but a line of the form the store writes (an arXiv id, no links) is parsed only when
# its paper is asked for. Until then its place is noted.
_INDEX: dict[str, Paper] = {}  # key -> its paper
_WHERE: dict[str, tuple[Path, int]] = {}  # key -> (file, line number) of its paper, not parsed yet
_INDEXED: dict[Path, int] = {}  # listing file -> mtime it was read at
_LOCK = threading.Lock()
# A line whose paper has one id, which the line names: its first key is "id", no other key is "id" or "links", and
# no escape could spell one.
_PLAIN = re.compile(r'\{"id": "(\d{4}\.\d{4,5})", "title": "')


@dataclass(frozen=True)
class Shown:
    """A paper shown to a profile on a listing day, and what the profile says of it now."""

    day: date
    arxiv_id: str
    paper: Paper | None  # None when no stored listing has it
    verdict: str | None  # 'liked', 'disliked' or None


def _read(path: Path, wanted: Container[str]) -> None:
    """Index the papers of one listing file: parsed if wanted (or not in the plain form), else their place noted."""
    from .sources.guard import reading
    from .sources.records import iter_json_lines, json_record, paper_from_record

    with reading(path):
        for number, line in iter_json_lines(path):
            plain = _PLAIN.match(line)
            if plain and '"links"' not in line and line.count('"id":') == 1 and "\\u" not in line:
                key = plain.group(1)
                if key in _INDEX or key in _WHERE:
                    continue
                if key not in wanted:
                    _WHERE[key] = (path, number)
                    continue
            where = f"{path}:{number}"
            paper = paper_from_record(json_record(line, where), where)
            for key in paper.ids:  # a merged paper is found by any of its ids
                if key not in _INDEX and key not in _WHERE:
                    _INDEX[key] = paper


def _parse(keys: Iterable[str]) -> None:
    """Parse the papers of these noted keys, reading each of their files once."""
    from .sources.guard import reading
    from .sources.records import iter_json_lines, json_record, paper_from_record

    files: dict[Path, dict[int, str]] = {}
    for key in keys:
        if key in _WHERE:
            path, number = _WHERE[key]
            files.setdefault(path, {})[number] = key
    for path, lines in files.items():
        with reading(path):
            for number, line in iter_json_lines(path):
                key = lines.get(number)
                if key is not None:
                    where = f"{path}:{number}"
                    paper = paper_from_record(json_record(line, where), where)
                    if key in paper.ids:  # else the file was replaced since: its index is made again next time
                        _INDEX[key] = paper
                    del _WHERE[key]


class _Everything:
    def __contains__(self, key: object) -> bool:
        return True


def stored_papers(keys: Iterable[str] | None = None) -> dict[str, Paper]:
    """The papers of the stored listings by id: those known by `keys`, or every one (a file is read again only when
    it changes; then the index is made again, from the store as it is)."""
    from .sources.store import iter_stored

    with _LOCK:
        files = {stored.path: stored.path.stat().st_mtime_ns for stored in iter_stored()}
        if any(files.get(path) != mtime for path, mtime in _INDEXED.items()):  # a file rewritten or removed
            _INDEX.clear()
            _WHERE.clear()
            _INDEXED.clear()
        wanted = _Everything() if keys is None else set(keys)
        for path, mtime in files.items():
            if path not in _INDEXED:
                _read(path, wanted)
                _INDEXED[path] = mtime
        _parse(list(_WHERE) if keys is None else [key for key in wanted if key in _WHERE])
        if keys is None:
            return dict(_INDEX)
        return {key: _INDEX[key] for key in wanted if key in _INDEX}


def shown_papers(
    profile: ProfileKeys, *, liked: set[str] = frozenset(), disliked: set[str] = frozenset()
) -> list[Shown]:
    """What the profile (by its seen-memory keys) was shown, newest day first and in rank order within a day, each
    with its verdict from the id sets given."""
    rows = shown_keys(profile)
    papers = stored_papers(key for key, _ in rows if not key.startswith("title:"))
    missing = {key for key, _ in rows if not key.startswith("title:") and key not in papers}
    # A file ranked with `rank --mark-seen`, or the page's day of it, is in no store: the last ranking has it.
    if missing:
        papers.update(_last_ranked(missing))
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


def _last_ranked(keys: set[str]) -> dict[str, Paper]:
    """The papers of the last ranking shown, by those of their ids in `keys`."""
    from .state import load_last_ranking

    try:
        last = load_last_ranking("")
    except PaperrecError:  # none yet, or unreadable: those rows keep their ids alone
        return {}
    return {key: paper for paper in last.papers for key in paper.ids if key in keys}


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


@dataclass(frozen=True)
class History:
    """What a profile was shown on past days, and the rows a search of it found."""

    name: str  # the profile's display name
    rows: tuple[Shown, ...]  # newest day first
    found: tuple[Shown, ...]  # the rows the query matches, all of them without one


def profile_history(path: Path, query: str = "") -> History:
    """The history of the profile in `path`, a verdict matched by any of a paper's ids, searched for the query."""
    profile = load_profile(path)
    liked = {key for entry in profile.liked for key in entry.paper.ids}
    disliked = {key for entry in profile.disliked for key in entry.paper.ids}
    rows = shown_papers(profile_keys(path, profile.name), liked=liked, disliked=disliked)
    return History(profile.name, tuple(rows), tuple(search(rows, query)))


VOTES = {"liked": "liked", "disliked": "not interested"}


def history_lines(rows: Sequence[Shown]) -> list[str]:
    """One terminal-safe line per row: the day, the id, the title and the vote, if any."""
    width = max([10, *(len(row.arxiv_id) for row in rows)])  # a DOI is longer than an arXiv id: titles stay aligned
    lines = []
    for row in rows:
        title = row.paper.title if row.paper is not None else "(in no stored listing)"
        vote = f"  ({VOTES[row.verdict]})" if row.verdict else ""
        lines.append(printable(f"{row.day}  {row.arxiv_id:<{width}}  {title}{vote}"))
    return lines
