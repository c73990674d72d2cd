"""The seen-memory: which papers each profile was already shown, and on which listing day."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from .paths import open_database
from .schema import Paper, PaperrecError
from .sources.merge import match_keys

TABLE = (
    "CREATE TABLE IF NOT EXISTS seen (profile TEXT NOT NULL, arxiv_id TEXT NOT NULL,"
    " day TEXT NOT NULL, rank INTEGER, PRIMARY KEY (profile, arxiv_id)) WITHOUT ROWID"
)


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

    def seen_before(self, profile: str, day: date) -> set[str]:
        """Ids this profile was shown on a listing day before `day` (showing the same day again is fine)."""
        rows = self._db.execute("SELECT arxiv_id FROM seen WHERE profile = ? AND day < ?", [profile, day.isoformat()])
        return {arxiv_id for (arxiv_id,) in rows}

    def mark(self, profile: str, ids: Iterable[str], day: date, ranks: Iterable[int] | None = None) -> None:
        """Remember that these ids were shown to the profile on `day`, at these ranks (the first day shown is kept)."""
        ids = list(ids)
        rows = [(profile, i, day.isoformat(), r) for i, r in zip(ids, ranks or [None] * len(ids), strict=True)]
        try:
            with self._db:
                self._db.executemany(
                    "INSERT OR IGNORE INTO seen (profile, arxiv_id, day, rank) VALUES (?, ?, ?, ?)", rows
                )
        except sqlite3.Error as error:  # e.g. a read-only state/ folder
            raise PaperrecError(f"cannot write the seen-memory {self.path}: {error}") from None

    def hidden(self, profile: str, day: date, papers: Iterable[Paper]) -> set[str]:
        """Ids of the papers this profile was shown before `day` under any of their keys: any id, or title and first
        author (a preprint shown from bioRxiv is the same paper when its arXiv copy comes without a link)."""
        shown = self.seen_before(profile, day)
        return {p.arxiv_id for p in papers if not shown.isdisjoint(match_keys(p))}

    def mark_papers(self, profile: str, shown: Iterable[tuple[Paper, int | None]], day: date) -> None:
        """Remember (paper, rank) pairs as shown on `day`, under every key a later copy of the paper may carry."""
        rows = [(key, rank) for paper, rank in shown for key in match_keys(paper)]
        self.mark(profile, [key for key, _ in rows], day, [rank for _, rank in rows])

    def shown(self, profile: str) -> list[tuple[str, date]]:
        """(id, day) of what the profile was shown: newest day first, in rank order within a day (unranked last)."""
        rows = self._db.execute(
            "SELECT arxiv_id, day FROM seen WHERE profile = ? ORDER BY day DESC, rank IS NULL, rank, arxiv_id",
            [profile],
        )
        return [(arxiv_id, date.fromisoformat(day)) for arxiv_id, day in rows]

    def days(self, profile: str) -> set[date]:
        """The listing days on which this profile was shown anything."""
        rows = self._db.execute("SELECT DISTINCT day FROM seen WHERE profile = ?", [profile])
        return {date.fromisoformat(day) for (day,) in rows}

    def count(self, profile: str | None = None) -> int:
        """How many papers are remembered (for one profile, or in all)."""
        if profile is None:
            return self._db.execute("SELECT COUNT(*) FROM seen").fetchone()[0]
        return self._db.execute("SELECT COUNT(*) FROM seen WHERE profile = ?", [profile]).fetchone()[0]

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()
