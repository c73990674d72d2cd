"""The sent-record: which picks already went out by mail or chat, so a rerun of the same day sends nothing twice.

On an arXiv holiday (or when cron runs twice) `today` ranks the latest announcement again and finds the same picks:
the digest it would send is the one already sent. Other picks for that day (a profile edited, --top changed) are news
and go out.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from .paths import locked, open_database, sent_path
from .schema import PaperrecError

TABLE = (
    "CREATE TABLE IF NOT EXISTS sent (channel TEXT NOT NULL, key TEXT NOT NULL, at TEXT NOT NULL,"
    " PRIMARY KEY (channel, key)) WITHOUT ROWID"
)
WHAT = "record of sent picks"
KEEP_DAYS = 60  # a day is not ranked again after this long; older rows are dropped
LOCK_SECONDS = 300.0  # a send of every chat target or a slow mail server, with room to spare
# The row that holds when this version first wrote to the record. Before 2026-12-05 a day's rows were keyed by the
# newest pick's date, and only rows older than this one can be such rows. No channel is empty (channel_key).
_START = ("", "keyed by the day ranked since")


def picks_key(day: date, sections: Iterable[tuple[str, Sequence[str]]]) -> str:
    """One word for a day's (profile, ids of its picks in order) sections: equal exactly when they are."""
    digest = hashlib.sha256(day.isoformat().encode())
    for profile, ids in sections:
        digest.update(b"\0" + profile.encode("utf-8", "replace") + b"\x1f" + "\x1f".join(ids).encode())
    return f"{day.isoformat()} {digest.hexdigest()[:24]}"


def paper_keys(day: date, profile: str, ids: Iterable[str]) -> list[str]:
    """One word per pick of a day's profile: a channel that had it from that day needs it no more."""
    start = f"{day.isoformat()}\0{profile}\0".encode("utf-8", "replace")
    return [f"{day.isoformat()}:{hashlib.sha256(start + i.encode()).hexdigest()[:24]}" for i in ids]


def channel_key(*parts: str) -> str:
    """A channel's name in the record, as a hash: a chat URL holds its token, so it is never stored as written."""
    return hashlib.sha256("\0".join(parts).encode("utf-8", "replace")).hexdigest()[:24]


class SentRecord:
    """When each (channel, picks key) went out, for KEEP_DAYS days.

    Best effort: a record that cannot be read or written says "not sent" and keeps nothing, since picks sent twice
    are better than picks not sent.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._db = open_database(self.path, TABLE, WHAT)

    def when(self, channel: str, key: str) -> datetime | None:
        """When these picks went out on this channel, or None."""
        try:
            row = self._db.execute("SELECT at FROM sent WHERE channel = ? AND key = ?", (channel, key)).fetchone()
        except sqlite3.Error:
            return None
        return datetime.fromisoformat(row[0]) if row else None

    def when_before_upgrade(self, channel: str, key: str) -> datetime | None:
        """When the version before 2026-12-05 marked these picks on this channel, or None (this version's rows too)."""
        when = self.when(channel, key)
        start = self.start()
        return when if when is not None and (start is None or when < start) else None

    def start(self) -> datetime | None:
        """When this version first marked the record, or None: every row is then the previous version's."""
        return self.when(*_START)

    def begin(self, at: datetime) -> bool:
        """Note that this version writes to the record by `at` (the earliest such time is kept; False: not kept)."""
        try:
            with self._db:
                self._begin(at.astimezone(UTC))
        except sqlite3.Error:
            return False
        return True

    def _begin(self, at: datetime) -> None:
        self._db.execute(
            "INSERT INTO sent VALUES (?, ?, ?) ON CONFLICT (channel, key) DO UPDATE SET at = min(at, excluded.at)",
            (*_START, at.isoformat()),
        )

    def mark(self, channel: str, key: str, at: datetime, *, before_upgrade: bool = False) -> bool:
        """Record that these picks went out on this channel at `at` (False: not kept); rows older than KEEP_DAYS go.

        `before_upgrade`: the key is the previous version's (a digest it kept, sent now). The row is dated before this
        version's start, so when_before_upgrade finds it.
        """
        at = at.astimezone(UTC)  # one zone, so the rows compare as text
        cutoff = (at - timedelta(days=KEEP_DAYS)).isoformat()
        start = self.start() if before_upgrade else None
        try:
            with self._db:
                if before_upgrade:
                    at = min(at, start - timedelta(microseconds=1)) if start is not None else at
                else:
                    self._begin(at)
                self._db.execute("INSERT OR REPLACE INTO sent VALUES (?, ?, ?)", (channel, key, at.isoformat()))
                self._db.execute("DELETE FROM sent WHERE at < ? AND channel <> ?", (cutoff, _START[0]))
        except sqlite3.Error:  # e.g. a read-only state/ folder
            return False
        return True

    def close(self) -> None:
        """Close the database."""
        self._db.close()


@contextlib.contextmanager
def sent_record() -> Iterator[SentRecord | None]:
    """The user's sent-record, closed after the block (None when it cannot be opened: nothing is held back)."""
    try:
        record = SentRecord(sent_path())
    except PaperrecError:
        yield None
        return
    try:
        yield record
    finally:
        record.close()


@contextlib.contextmanager
def sending() -> Iterator[None]:
    """Held from checking the record to marking it, so two runs at once send the same picks once (best effort: with
    no lock to be had, a read-only home say, or after LOCK_SECONDS of waiting, the picks are sent anyway)."""
    with contextlib.ExitStack() as stack:
        with contextlib.suppress(PaperrecError):
            stack.enter_context(locked(sent_path(), timeout=LOCK_SECONDS))
        yield
