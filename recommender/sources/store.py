"""The listing store: one JSON Lines file per source and day.

An arXiv category keeps its folder of old, <root>/<category>/<YYYY-MM-DD>.jsonl, so stores and benches need no move.
Any other source is <root>/<kind>/<key>/<YYYY-MM-DD>.jsonl, its key percent-encoded into one folder name, or for
a URL (a feed's address) its host and a hash.
The root is paths.listings_dir() unless a caller names another folder laid out the same way (a bench's listings/).
A day fetched that held nothing is kept as an empty mark, <YYYY-MM-DD>.empty, beside the days: it is no listing,
but a back-fill need not ask for it again. A file 'marks-empty-days' beside them says the folder's empty days are
marked: a folder an older paperrec wrote alone has none, and its unstored days may have been fetched.
This is the one module that builds, finds, reads and writes those files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from ..paths import atomic_write_text, listings_dir
from ..schema import Listing, Paper, UsageError, page_keys
from .records import read_jsonl, to_jsonl


@dataclass(frozen=True)
class StoredDay:
    """One stored file: the listing of one source on one day (`category` is 'cs.CV' or a spec like 'biorxiv:x')."""

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


def encode_key(key: str) -> str:
    """A source's key as one folder name: 'ICLR.cc/2026/Conference' is 'ICLR.cc%2F2026%2FConference'.

    A key that could leave its folder ('..', a backslash, a control character) is a UsageError.
    """
    parts = key.split("/")
    if not key or any(part in ("", ".", "..") for part in parts) or any(c == "\\" or ord(c) < 32 for c in key):
        raise UsageError(f"a source key must not be empty or hold '..', '.', '\\' or control characters: {key!r}")
    return quote(key, safe="-._~")


def _folder(category: str) -> Path:
    """The folder of a store key: 'cs.CV' as of old, 'kind:key' as kind/encoded-key."""
    kind, colon, key = category.partition(":")
    if not colon:
        if category in ("", ".", "..") or "/" in category or "\\" in category:
            raise UsageError(f"not a category or source spec: {category!r}")
        return Path(category)
    if kind == "arxiv":
        return _folder(key)
    if not kind.isidentifier() or not kind.islower():
        raise UsageError(f"not a source kind: {kind!r}")
    if "://" in key:
        return Path(kind) / url_folder(key)
    return Path(kind) / encode_key(key)


def url_folder(url: str) -> str:
    """A URL key (a feed's address) as one folder name: its host and a hash of the whole URL.

    Example: 'https://www.nature.com/neuro.rss' is 'www.nature.com-' and 16 hex digits. A URL does not fit
    encode_key ('//' is an empty part), may pass the 255 bytes of a name, and its query may hold a token.
    """
    try:
        host = urlsplit(url.strip()).hostname or "feed"
    except ValueError:  # an unclosed '[' of an IPv6 host
        host = "feed"
    name = "".join(c for c in host.lower() if c.isascii() and (c.isalnum() or c in "-.")).strip(".") or "feed"
    return f"{name[:100]}-{hashlib.sha256(url.strip().encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"


def day_path(category: str, day: date, root: Path | str | None = None) -> Path:
    """Where the listing of `category` (an arXiv category or a 'kind:key' spec) on `day` is stored."""
    return _root(root) / _folder(category) / f"{day.isoformat()}.jsonl"


def _name(folder: Path, root: Path) -> str | None:
    """The store key of a folder under root: 'cs.CV', or 'kind:key' for kind/encoded-key; None for neither."""
    parts = folder.relative_to(root).parts
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2 and parts[0].isidentifier():
        return f"{parts[0]}:{unquote(parts[1])}"
    return None


def iter_stored(root: Path | str | None = None) -> Iterator[StoredDay]:
    """Every stored day of every source, in file-name order (source, then day)."""
    folder = _root(root)
    if not folder.is_dir():
        return
    for path in sorted([*folder.glob("*/*.jsonl"), *folder.glob("*/*/*.jsonl")]):
        day = _day(path)
        name = _name(path.parent, folder)
        if day is not None and name is not None and path.is_file():
            yield StoredDay(name, day, path)


def stored_days(category: str, root: Path | str | None = None) -> list[date]:
    """The days stored for `category` (or a 'kind:key' spec), oldest first."""
    folder = _root(root) / _folder(category)
    if not folder.is_dir():
        return []
    return sorted(day for day in map(_day, folder.glob("*.jsonl")) if day is not None)


def latest_day(categories: Iterable[str], root: Path | str | None = None) -> date | None:
    """The newest day stored for any of `categories`; None when none is stored."""
    return max((day for category in categories for day in stored_days(category, root)), default=None)


def empty_path(category: str, day: date, root: Path | str | None = None) -> Path:
    """Where the mark that `category` held nothing on `day` is kept."""
    return _root(root) / _folder(category) / f"{day.isoformat()}.empty"


def mark_empty(category: str, day: date, root: Path | str | None = None) -> None:
    """Record that `category` was fetched for `day` and held nothing (no listing is stored for an empty day)."""
    path = empty_path(category, day, root)
    if not path.is_file():
        atomic_write_text(path, "")


def marks_empty_days(category: str, root: Path | str | None = None) -> bool:
    """Whether the empty days of `category` are marked in this store: False where an older paperrec alone wrote it."""
    return (_root(root) / _folder(category) / "marks-empty-days").is_file()


def note_marking(category: str, root: Path | str | None = None) -> None:
    """Record that this store marks the empty days of `category` from now on."""
    path = _root(root) / _folder(category) / "marks-empty-days"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, "")


def fetched_days(category: str, root: Path | str | None = None) -> list[date]:
    """The days of `category` fetched before: those stored and those marked empty, oldest first."""
    folder = _root(root) / _folder(category)
    if not folder.is_dir():
        return []
    marked = (_day(path) for path in folder.glob("*.empty"))
    return sorted({*stored_days(category, root), *(day for day in marked if day is not None)})


def read_day(category: str, day: date, root: Path | str | None = None) -> Listing | None:
    """The stored listing of `category` on `day`, or None when that day is not stored."""
    stored = StoredDay(category, day, day_path(category, day, root))
    return stored.read() if stored.path.is_file() else None


def read_days(categories: Iterable[str], day: date, root: Path | str | None = None) -> Listing:
    """The stored listings of `categories` on `day`, merged into one listing of that day (empty when none is stored)."""
    from . import merge_listings

    found = [listing for listing in (read_day(category, day, root) for category in categories) if listing is not None]
    return replace(merge_listings(found), date=day)


def write_day(listing: Listing, category: str, day: date, root: Path | str | None = None) -> Listing:
    """Store the papers of `listing` as `category` on `day` (atomically) and return the listing as read back."""
    stored = StoredDay(category, day, day_path(category, day, root))
    atomic_write_text(stored.path, to_jsonl(listing.papers))
    empty_path(category, day, root).unlink(missing_ok=True)  # the day holds papers now
    return stored.read()


def find_stored(keys: Iterable[str], root: Path | str | None = None) -> dict[str, list[Paper]]:
    """Every stored paper each of `keys` names (its id, another id or a page its links name), newest day first.

    A key names papers of one day or of many; which of them a vote means is the caller's rule. The search for a key
    ends at the newest day with a paper whose own id it is: that paper is the one it names. A file whose text cannot
    hold a key is not parsed.
    """
    needles = {key: _needles(key) for key in keys}
    found: dict[str, list[Paper]] = {}
    for stored in sorted(iter_stored(root), key=lambda s: s.day, reverse=True):
        if not needles:
            break
        wanted = _holding(stored.path.read_bytes(), needles)
        if not wanted:
            continue
        for paper in stored.read().papers:
            for key in wanted.intersection(paper.ids + page_keys(paper)):
                found.setdefault(key, []).append(paper)
                if key == paper.arxiv_id:
                    needles.pop(key, None)
    return found


def _holding(raw: bytes, needles: dict[str, set[str]]) -> set[str]:
    """The keys one of whose words the file's text `raw` holds, in any case.

    ASCII words are looked for in the bytes lowered as ASCII: five times faster than lowering the whole text, and ids
    and links are ASCII. A word with other letters asks for the text lowered as Unicode.
    """
    low = raw.lower()
    text: str | None = None
    wanted = set()
    for key, words in needles.items():
        for word in words:
            if word.isascii():
                hit = word.encode() in low
            else:
                text = raw.decode("utf-8").lower() if text is None else text
                hit = word in text
            if hit:
                wanted.add(key)
                break
    return wanted


def _needles(key: str) -> set[str]:
    """The words, in lower case, the text of a file holding a paper that `key` names has: one of them is there.

    That is the id without its kind (a link has the DOI of 'doi:10.1/x' after 'doi.org/'), or the page without 'page:'
    and its query, each as written and as a link encodes it.
    """
    kind, _, rest = key.partition(":")
    word = rest.partition("?")[0] if kind == "page" else rest if kind in ("doi", "openreview") else key
    return {word.lower(), quote(word, safe="-._~:/?#@!$&*+,;=%").lower()}


def listing_files(folder: Path | str | None = None) -> list[Path]:
    """Every .jsonl file under `folder` at any depth, sorted (the store, one category of it, or any folder)."""
    root = _root(folder)
    return sorted(root.glob("**/*.jsonl")) if root.is_dir() else []
