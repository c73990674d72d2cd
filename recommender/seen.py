"""The seen-memory: which papers each profile was already shown, and on which listing day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

from .paths import open_database


class SeenMemory:
    """Per-profile record of shown papers in SQLite, keyed by arXiv id without version."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._db = open_database(
            self.path,
            "CREATE TABLE IF NOT EXISTS seen (profile TEXT NOT NULL, arxiv_id TEXT NOT NULL,"
            " day TEXT NOT NULL, PRIMARY KEY (profile, arxiv_id)) WITHOUT ROWID",
            "seen-memory",
        )

    def seen_before(self, profile: str, day: date) -> set[str]:
        """Ids this profile was shown on a listing day before `day` (showing the same day again is fine)."""
        rows = self._db.execute("SELECT arxiv_id FROM seen WHERE profile = ? AND day < ?", [profile, day.isoformat()])
        return {arxiv_id for (arxiv_id,) in rows}

    def mark(self, profile: str, ids: Iterable[str], day: date) -> None:
        """Remember that these ids were shown to the profile on `day` (the first day shown is kept)."""
        with self._db:
            self._db.executemany(
                "INSERT OR IGNORE INTO seen VALUES (?, ?, ?)", [(profile, i, day.isoformat()) for i in ids]
            )

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
