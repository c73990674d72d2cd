"""Profiles and Zotero: which library a profile reads, what its last sync saw, and the settings check."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import paths
from ..schema import PaperrecError, UsageError
from ..sources.http import NetworkError
from ..sources.imports import ImportResult, merge_references
from ..sources.zotero import NOT_A_PAPER
from ..sources.zotero_api import (
    KEY_ENV,
    KEYS,
    LIBRARY_ENV,
    Library,
    ZoteroApi,
    item_data,
    library_prefix,
    local_library,
    read_key,
    references,
    web_library,
)
from .model import Profile

LOCAL = "local"  # [zotero] library = "local": the desktop's local API
PUSHED = -1  # the version remember_pushed gives an item a like was sent to: no item has it
# A sync's record of an item is [version, id]: the id is what the item brought ('' for nothing, a skipped item).
# After an edit gave it another id, [version, id, [the ids it brought before, the latest first]], at most EARLIER.
# An item a like was sent to, not read yet, is [PUSHED, '', the time sent, the sent paper's ids]. The ids came later:
# a record without them takes the paper the item names when read for the one sent.
EARLIER = 4  # ids an item brought before its last that its record keeps, so an edit undone is no new paper
# How long a desktop sync waits for an item a like was sent to. An open desktop syncs it down within minutes, but a
# sync stuck on a conflict or a full storage quota can take days. Later, the desktop is taken not to sync that library.
DESKTOP_WAIT = 14 * 86400  # seconds


@contextmanager
def json_state(path: Path) -> Iterator[dict[str, Any]]:
    """A JSON state file opened for a read-modify-write under its lock; written back atomically on leaving."""
    with paths.locked(path):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        except (OSError, ValueError):
            data = {}  # damaged: start over (a sync reads the library again, pushes are found again)
        if not isinstance(data, dict):
            data = {}
        before = json.dumps(data, sort_keys=True)
        yield data
        text = json.dumps(data, sort_keys=True, indent=1)
        if text != before:
            try:
                paths.atomic_write_text(path, text + "\n")
            except OSError as error:
                raise PaperrecError(f"cannot write {path}: {error.strerror or error}") from None


def key_missing() -> str:
    """How to give paperrec the Web API key, in one sentence."""
    return f"set {KEY_ENV} or write the key to {paths.zotero_key_path()} (chmod 600)"


def library_of(table: Mapping[str, str]) -> Library:
    """The library a [zotero] table reads: the desktop's local API, or a Web API library with its key."""
    prefix = table.get("library", LOCAL)
    if prefix == LOCAL:
        return local_library()
    prefix = library_prefix(prefix)
    key = read_key(paths.zotero_key_path())
    if key is None:
        raise UsageError(f"Zotero {prefix} is read through the Web API, which needs a key: {key_missing()}")
    return web_library(prefix, key)


def push_library(profile: Profile) -> Library:
    """The Web API library a profile's likes go to; UsageError when the key or the library id is missing."""
    prefix = profile.zotero.get("library", LOCAL)
    if prefix == LOCAL:
        prefix = os.environ.get(LIBRARY_ENV, "")
    key = read_key(paths.zotero_key_path())
    if key is None or not prefix:
        what = "a Web API key" if key is None else f"the library id ({LIBRARY_ENV}=users/NUMBER, or [zotero] library)"
        how = key_missing() if key is None else f"set {LIBRARY_ENV} or library = 'users/NUMBER' in [zotero]"
        raise UsageError(
            f"profile {profile.name!r}: zotero_collection = {profile.zotero_collection!r} needs {what}, because "
            f"the desktop's local API is read-only: {how}"
        )
    return web_library(prefix, key)


def check_zotero(profile: Profile) -> None:
    """The settings check: a zotero_collection is refused without the Web API (key and library)."""
    if profile.zotero_collection:
        push_library(profile)
    if profile.zotero.get("library", LOCAL) != LOCAL:
        library_prefix(profile.zotero["library"])


@dataclass(frozen=True)
class LibraryChanges:
    """What changed in a Zotero library since the profile's last sync, read in as a file import would read it."""

    library: Library
    collection: ImportResult | None  # None: nothing changed (a 304 Not Modified, or the same items and versions)
    vanished: tuple[str, ...] = ()  # paper ids of items deleted from the library since then
    requests: int = 0
    state: dict[str, Any] = field(default_factory=dict)  # what to remember once the profile is saved
    moved_out: tuple[str, ...] = ()  # paper ids of items still in the library that left the collection (or tag)
    # Items the last sync had already, read again: edits, not adds. For each paper one brought before (its id) and
    # still holds, the ids it has now. A vote on that paper since then outlasts the edit. An item known by its title
    # only holds its paper under other ids after its title is fixed or an id is added: its title id is not among them.
    edited: Mapping[str, frozenset[str]] = field(default_factory=dict)
    read: frozenset[str] = frozenset()  # the item keys of the record this sync read
    renamed: tuple[str, ...] = ()  # paper ids no item names since an edit gave their item another id

    def remember(self, path: Path) -> None:
        """Store what this sync saw, so the next one asks only for what changed."""
        if not self.state:
            return
        with json_state(paths.zotero_sync_path()) as stored:
            key = os.path.realpath(path)
            now = stored.get(key)
            items = now.get("items") if isinstance(now, dict) else None
            state = self.state
            if isinstance(items, dict) and now.get("source") == state.get("source"):
                # A like sent while this sync ran was recorded after it read the record (remember_pushed): keep it.
                sent = {
                    k: v for k, v in items.items() if k not in self.read and isinstance(v, list) and v[:1] == [PUSHED]
                }
                state = {**state, "items": {**sent, **state["items"]}}
            stored[key] = state


def remember_pushed(path: Path, item_key: str, sent: Sequence[str]) -> None:
    """Make an item a like was sent to known to the profile's next sync, which reads it back as an edit.

    Its own like coming back is no add in Zotero, so it must not undo a dislike made after it was sent.
    `sent` are the ids of the paper sent. An item the user gave another id before that sync names another paper.
    The time sent lets a desktop sync wait for the item until the desktop has it (see DESKTOP_WAIT).
    """
    with json_state(paths.zotero_sync_path()) as stored:
        last = stored.get(os.path.realpath(path))
        items = last.get("items") if isinstance(last, dict) else None
        if isinstance(items, dict) and item_key not in items:
            # A version no item has: the next sync reads it. No id brought yet: it has left no synced set.
            items[item_key] = [PUSHED, "", int(time.time()), list(sent)]


def _brought(entry: list[Any], now: tuple[str, ...]) -> str:
    """The id of the paper an item brought to the last sync ('' for none), given the ids it names now.

    For an item a like was sent to, that is the paper sent: the one of its ids the item still names, else its own.
    """
    if entry[0] != PUSHED:
        return entry[1]
    sent = entry[3] if len(entry) > 3 and isinstance(entry[3], list) else []
    sent = [i for i in sent if isinstance(i, str) and i]
    if not sent:
        return now[0]  # recorded before the ids were: the paper it names is taken for the one sent
    return next((i for i in sent if i in now), sent[0])


def _waiting(entry: list[Any], now: float) -> bool:
    """True for an item a like was sent to less than DESKTOP_WAIT ago (an entry of the last sync's items)."""
    sent = entry[2] if len(entry) > 2 else None
    return entry[0] == PUSHED and isinstance(sent, int | float) and now - sent < DESKTOP_WAIT


def _earlier(entry: list[Any]) -> list[str]:
    """The ids an item brought before its last one (an entry of the last sync's items), the latest first."""
    if entry[0] == PUSHED or len(entry) < 3 or not isinstance(entry[2], list):
        return []
    return [i for i in entry[2] if isinstance(i, str) and i]


def _collection_key(api: ZoteroApi, name: str) -> str:
    """The key of the named collection; PaperrecError when the library has none."""
    key = api.collection_key(name)
    if key is None:
        raise PaperrecError(f"{api.library.describe()} has no collection named {name!r}")
    return key


def _in_library(api: ZoteroApi, keys: list[str]) -> list[dict[str, Any]]:
    """The items of these keys still in the library; a deleted one is absent, one in the trash is left out."""
    found = []
    for start in range(0, len(keys), KEYS):
        found += api.items("items", {}, None, keys[start : start + KEYS])
    return [i for i in found if not item_data(i).get("deleted")]


def read_changes(path: Path, table: Mapping[str, str]) -> LibraryChanges:
    """The items changed since the last sync of this profile from this library (all of them the first time)."""
    library = library_of(table)
    source = "|".join([library.root, library.prefix, table.get("collection", ""), table.get("tag", "")])
    with json_state(paths.zotero_sync_path()) as stored:
        last = stored.get(os.path.realpath(path), {})
    if not isinstance(last, dict) or last.get("source") != source:
        last = {}
    api = ZoteroApi(library)
    try:
        name = table.get("collection", "")
        params = {"tag": table["tag"]} if table.get("tag") else {}
        # The desktop's versions are no library versions to send back (local_api.md): before Zotero 10 they are
        # those of its last sync (0 for what never synced), from Zotero 10 its own. It is asked for everything.
        since = last.get("version") if isinstance(last.get("version"), int) and library.web else None
        key = (last.get("collection_key") or _collection_key(api, name)) if name else None
        try:
            listed = api.versions(f"collections/{key}/items/top" if key else "items/top", params, since)
        except NetworkError as error:
            if not (name and last.get("collection_key") and "HTTP 404" in str(error)):
                raise
            last, since = {}, None  # the collection was deleted or moved: find it again and read it whole
            key = _collection_key(api, name)
            listed = api.versions(f"collections/{key}/items/top", params, None)
        scope = f"collections/{key}/items/top" if key else "items/top"
        if listed is None:
            return LibraryChanges(library, None, requests=api.requests)
        versions, version = listed
        old: dict[str, list[Any]] = last.get("items", {}) if isinstance(last.get("items"), dict) else {}
        # Item versions compare only within one Zotero database: another Zotero-Server-ID makes every item new.
        # A desktop before Zotero 10 keeps an item's version through local edits: only new items show there.
        known = old if last.get("server") == api.server_id else {}
        changed = {k for k, v in versions.items() if k not in known or known[k][0] != v}
        # The desktop shows an item a like was sent to only once its own sync has brought it down. Until then it waits.
        now = time.time()
        waiting = {k for k, v in known.items() if k not in versions and _waiting(v, now)} if not library.web else set()
        if library.web:
            items = api.items(scope, params, since if since is not None and old else 0) if changed else []
        elif changed:  # the new and changed items by key when they fit one request, else all of them
            few = sorted(changed) if len(changed) <= KEYS else None
            items = [i for i in api.items(scope, params, None, few) if i.get("key") in changed]
        elif versions.keys() == old.keys() - waiting:
            return LibraryChanges(library, None, requests=api.requests)  # unchanged: what a 304 would have said
        else:
            items = []
        # An item gone from a collection or a tag may still be in the library: asked for by key, it tells.
        # So does a waiting one: the desktop that has it outside the collection or tag need wait no more.
        gone = [k for k in old if k not in versions and (old[k][1] or k in waiting)] if key or params else []
        still = {str(i.get("key")) for i in _in_library(api, gone)}
    finally:
        api.close()
    found: list[Any] = []
    skipped: list[tuple[str, str]] = []
    ids = {k: entry[1] for k, entry in old.items()}
    earlier = {k: _earlier(entry) for k, entry in old.items()}
    edited: dict[str, set[str]] = {}
    added: set[str] = set()
    renamed: list[str] = []
    for item_key, reference in references(items):
        if isinstance(reference, str):
            skipped.append((f"Zotero item {item_key}", NOT_A_PAPER))
        elif reference is None:
            skipped.append((f"Zotero item {item_key}", "neither an arXiv id nor a title"))
        else:
            found.append(reference)
            ids[item_key] = reference.paper.arxiv_id
            now = reference.paper.ids
            if item_key not in old:  # added to the collection (or again): it likes its paper whatever came before
                added.update(now)
                continue
            # An item the last sync listed was edited. What it brought then is what a vote since could have been on:
            # nothing for a skipped one, the paper sent for one a like was sent to.
            brought = _brought(old[item_key], now)
            # An id it brought before and names again is no new paper either: an edit undone (a typo put back).
            again = [i for i in dict.fromkeys([brought, *earlier[item_key]]) if i and i in now]
            if not again and brought.startswith("t:"):
                # An item known by its title only is the same paper after its title is fixed or an id is added.
                again = [brought]
                if reference.paper.arxiv_id.startswith("t:"):
                    ids[item_key] = brought  # no entry can learn a second title id: the item keeps the profile's
            elif brought and brought not in now and not brought.startswith("t:"):
                renamed.append(brought)  # an id corrected in Zotero names another paper: that one is new to it
            for i in again:
                edited.setdefault(i, set()).update(now)
            if brought and ids[item_key] != brought:
                before = dict.fromkeys([brought, *earlier[item_key]])
                earlier[item_key] = [i for i in before if i != ids[item_key]][:EARLIER]
    # An item left out of the pages (an item before it deleted while they were read) keeps its old version, and the
    # library version stays the last sync's, so the next sync reads it.
    missed = changed - {str(i.get("key")) for i in items}
    remembered = {
        k: [v, ids.get(k, ""), *filter(None, [earlier.get(k)])] for k, v in versions.items() if k not in missed
    }
    remembered.update({k: known[k] for k in missed if k in known})
    remembered.update({k: known[k] for k in waiting - still})
    state = {
        "source": source,
        "server": api.server_id,
        "version": since if missed else version,
        "collection_key": key,
        "items": remembered,
    }
    # A paper another item still holds (duplicates merged in Zotero keep one of them) has not left Zotero.
    held = {ids.get(k) for k in versions}
    left = [k for k in old if k not in versions and ids.get(k) and ids[k] not in held]
    vanished = tuple(dict.fromkeys(ids[k] for k in left if k not in still))
    return LibraryChanges(
        library,
        merge_references(found, skipped),
        vanished,
        api.requests,
        state,
        moved_out=tuple(dict.fromkeys(ids[k] for k in left if k in still)),
        edited={brought: frozenset(holds - added) for brought, holds in edited.items() if holds - added},
        read=frozenset(old),
        renamed=tuple(dict.fromkeys(i for i in renamed if i not in held)),
    )
