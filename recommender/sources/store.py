"""The listing store: one JSON Lines file per category and day, <root>/<category>/<YYYY-MM-DD>.jsonl.

The root is paths.listings_dir() unless a caller names another folder laid out the same way (a bench's listings/).
This is the one module that builds, finds, reads and writes those files.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from ..paths import atomic_write_text, listings_dir
from ..schema import Listing
from .records import read_jsonl, to_jsonl


@dataclass(frozen=True)
class StoredDay:
    """One stored file: the listing of one category on one day."""

    category: str
    day: date
    path: Path

    def read(self) -> Listing:
        """The listing in this file, dated and named by its place in the store."""
        return replace(read_jsonl(self.path), category=self.category, date=self.day)


def _root(root: Path | str | None) -> Path:
    return Path(root) if root is not None else listings_dir()


def _day(path: Path) -> date | None:
    try:
        return date.fromisoformat(path.stem)
    except ValueError:
        return None


def day_path(category: str, day: date, root: Path | str | None = None) -> Path:
    """Where the listing of `category` on `day` is stored."""
    return _root(root) / category / f"{day.isoformat()}.jsonl"


def iter_stored(root: Path | str | None = None) -> Iterator[StoredDay]:
    """Every stored day of every category, in file-name order (category, then day)."""
    folder = _root(root)
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*/*.jsonl")):
        day = _day(path)
        if day is not None and path.is_file():
            yield StoredDay(path.parent.name, day, path)


def stored_days(category: str, root: Path | str | None = None) -> list[date]:
    """The days stored for `category`, oldest first."""
    folder = _root(root) / category
    if not folder.is_dir():
        return []
    return sorted(day for day in map(_day, folder.glob("*.jsonl")) if day is not None)


def latest_day(categories: Iterable[str], root: Path | str | None = None) -> date | None:
    """The newest day stored for any of `categories`; None when none is stored."""
    return max((day for category in categories for day in stored_days(category, root)), default=None)


def read_day(category: str, day: date, root: Path | str | None = None) -> Listing | None:
    """The stored listing of `category` on `day`, or None when that day is not stored."""
    stored = StoredDay(category, day, day_path(category, day, root))
    return stored.read() if stored.path.is_file() else None


def write_day(listing: Listing, category: str, day: date, root: Path | str | None = None) -> Listing:
    """Store the papers of `listing` as `category` on `day` (atomically) and return the listing as read back."""
    stored = StoredDay(category, day, day_path(category, day, root))
    atomic_write_text(stored.path, to_jsonl(listing.papers))
    return stored.read()


def listing_files(folder: Path | str | None = None) -> list[Path]:
    """Every .jsonl file under `folder` at any depth, sorted (the store, one category of it, or any folder)."""
    root = _root(folder)
    return sorted(root.glob("**/*.jsonl")) if root.is_dir() else []
