"""The seen-memory: which papers each profile was already shown, and on which listing day."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

from .paths import open_database, seen_path
from .schema import Paper, PaperrecError
from .sources.merge import match_keys

TABLE = (
    "CREATE TABLE IF NOT EXISTS seen (profile TEXT NOT NULL, arxiv_id TEXT NOT NULL,"
    " day TEXT NOT NULL, rank INTEGER, PRIMARY KEY (profile, arxiv_id)) WITHOUT ROWID"
)


# A profile is remembered by its file's stem, which a hand edit of its display name leaves alone. Rows kept under
# the display name (as earlier versions kept them) are read too, so no memory is lost on the way.
ProfileKeys = str | Sequence[str]  # one key, or the keys to read with the one to write first


def profile_keys(path: Path, name: str) -> tuple[str, ...]:
    """The seen-memory keys of the profile in `path` named `name`: its file stem first, then its display name."""
    return tuple(dict.fromkeys([path.stem, name]))


def _keys(profile: ProfileKeys) -> list[str]:
    return [profile] if isinstance(profile, str) else list(profile)


def _among(keys: list[str]) -> str:
    return f"profile IN ({', '.join('?' * len(keys))})"


class SeenMemory:
    """Per-profile record of shown papers in SQLite, keyed by arXiv id without version."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._db = open_database(self.path, TABLE, "seen-memory")
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(seen)")}
        if "rank" not in columns:  # a memory from before ranks were kept: its rows keep no rank
            try:
                with self._db:
                    self._db.execute("ALTER TABLE seen ADD COLUMN rank INTEGER")
            except sqlite3.OperationalError as error:
                if "duplicate column" not in str(error):  # another process added it just now
                    raise

    def seen_before(self, profile: ProfileKeys, day: date) -> set[str]:
        """Ids this profile was shown on a listing day before `day` (showing the same day again is fine)."""
        keys = _keys(profile)
        query = f"SELECT arxiv_id FROM seen WHERE {_among(keys)} AND day < ?"
        return {arxiv_id for (arxiv_id,) in self._db.execute(query, [*keys, day.isoformat()])}

    def mark(self, profile: ProfileKeys, ids: Iterable[str], day: date, ranks: Iterable[int] | None = None) -> None:
        """Remember that these ids were shown to the profile on `day`, at these ranks (the first day shown is kept)."""
        ids, key = list(ids), _keys(profile)[0]
        rows = [(key, i, day.isoformat(), r) for i, r in zip(ids, ranks or [None] * len(ids), strict=True)]
        others = _keys(profile)[1:]
        try:
            with self._db:
                if others:  # rows kept under the display name join the stem's, so a rename later loses none
                    self._db.execute(
                        "INSERT OR IGNORE INTO seen (profile, arxiv_id, day, rank)"
                        f" SELECT ?, arxiv_id, day, rank FROM seen WHERE {_among(others)}",
                        [key, *others],
                    )
                self._db.executemany(
                    "INSERT OR IGNORE INTO seen (profile, arxiv_id, day, rank) VALUES (?, ?, ?, ?)", rows
                )
        except sqlite3.Error as error:  # e.g. a read-only state/ folder
            raise PaperrecError(f"cannot write the seen-memory {self.path}: {error}") from None

    def hidden(self, profile: ProfileKeys, day: date, papers: Iterable[Paper]) -> set[str]:
        """Ids of the papers this profile was shown before `day` under any of their keys: any id, or title and first
        author (a preprint shown from bioRxiv is the same paper when its arXiv copy comes without a link)."""
        shown = self.seen_before(profile, day)
        return {p.arxiv_id for p in papers if not shown.isdisjoint(match_keys(p))}

    def mark_papers(self, profile: ProfileKeys, shown: Iterable[tuple[Paper, int | None]], day: date) -> None:
        """Remember (paper, rank) pairs as shown on `day`, under every key a later copy of the paper may carry."""
        rows = [(key, rank) for paper, rank in shown for key in match_keys(paper)]
        self.mark(profile, [key for key, _ in rows], day, [rank for _, rank in rows])

    def shown(self, profile: ProfileKeys) -> list[tuple[str, date]]:
        """(id, day) of what the profile was shown: newest day first, in rank order within a day (unranked last)."""
        keys = _keys(profile)
        query = f"SELECT arxiv_id, day FROM seen WHERE {_among(keys)} ORDER BY day DESC, rank IS NULL, rank, arxiv_id"
        return [(arxiv_id, date.fromisoformat(day)) for arxiv_id, day in self._db.execute(query, keys)]

    def days(self, profile: ProfileKeys) -> set[date]:
        """The listing days on which this profile was shown anything."""
        keys = _keys(profile)
        rows = self._db.execute(f"SELECT DISTINCT day FROM seen WHERE {_among(keys)}", keys)
        return {date.fromisoformat(day) for (day,) in rows}

    def count(self, profile: ProfileKeys | None = None) -> int:
        """How many papers are remembered (for one profile, or in all)."""
        if profile is None:
            return self._db.execute("SELECT COUNT(*) FROM seen").fetchone()[0]
        keys = _keys(profile)
        return self._db.execute(f"SELECT COUNT(*) FROM seen WHERE {_among(keys)}", keys).fetchone()[0]

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()


def shown_keys(profile: ProfileKeys) -> list[tuple[str, date]]:
    """The keys this profile was shown, with their days, as SeenMemory.shown has them (none without a seen-memory)."""
    path = seen_path()
    if not path.is_file():
        return []
    memory = SeenMemory(path)
    try:
        return memory.shown(profile)
    finally:
        memory.close()
