"""A Zotero library into a profile: read what changed since the last sync and import it as an export would be."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .. import paths
from ..schema import Paper, counted, link_of
from ..sources.metadata import MetadataCache
from .changes import Change, set_zotero
from .edit import change_profile, create_profile_file
from .library import (
    ImportReport,
    _added,
    _import_changes,
    _moved,
    _report,
    complete_collection,
    metadata_lookup,
    report_lines,
)
from .model import Profile, load_profile, new_profile
from .zotero import LOCAL, check_zotero, read_changes


@dataclass(frozen=True)
class SyncReport:
    """What a Zotero sync did: the import (None when the library had not changed), and the likes Zotero lost."""

    profile: Profile
    path: Path
    source: str  # the library, in words
    report: ImportReport | None
    requests: int
    vanished: tuple[str, ...] = ()  # liked papers whose Zotero items were deleted: kept in the profile
    moved_out: tuple[str, ...] = ()  # liked papers whose items left the collection (or tag) but not the library
    left: str = ""  # how those left, in words
    held: tuple[str, ...] = ()  # papers of edited items kept out of liked: disliked or unliked since the last sync
    renamed: tuple[str, ...] = ()  # liked papers whose items now give another id (a typo corrected): kept

    def lines(self) -> list[str]:
        """What the sync did, one line each."""
        name = self.profile.name
        if self.report is None:
            lines = [f"{name}: {self.source} unchanged since the last sync ({self.requests} request)"]
        else:
            lines = [f"{name}: synced from {self.source} ({self.requests} requests)", *report_lines(self.report)]
        if self.held:
            them, shown = ("it", self.held[0]) if len(self.held) == 1 else ("them", _shown(self.held))
            edited = counted(len(self.held), "paper edited in Zotero stays", "papers edited in Zotero stay")
            lines.append(f"{edited} out of liked, as you disliked or unliked {them} in paperrec: {shown}")
        return lines + self._kept_lines()

    def _kept_lines(self) -> list[str]:
        """The likes whose items left the synced set, deleted or moved out, one line for each kind."""
        lines = []
        for ids, one, many in (
            (self.vanished, "is no longer in Zotero", "are no longer in Zotero"),
            (self.moved_out, self.left, self.left),
            (self.renamed, "had the id of its Zotero item changed", "had the id of their Zotero item changed"),
        ):
            if ids:
                where, them = (one, "it") if len(ids) == 1 else (many, "them")
                papers = counted(len(ids), "liked paper", "liked papers")
                lines.append(f"{papers} {where}; the profile keeps {them}: {_shown(ids)}")
        return lines

    def brief(self) -> list[str]:
        """What a run says of the sync: nothing when the library was unchanged, else what came in and what left."""
        lines = []
        # A read that brought nothing for this profile (the Web API's library moves with any change) goes unsaid.
        if self.report is not None and (self.report.added or self.report.filled):
            added = counted(len(self.report.added) + len(self.report.filled), "paper", "papers")
            lines.append(f"{self.profile.name}: {added} added from {self.source} ({self.requests} requests)")
        return lines + [f"{self.profile.name}: {line}" for line in self._kept_lines()]


def _shown(ids: tuple[str, ...]) -> str:
    """Ids for a report line: the first ten."""
    return ", ".join(ids[:10]) + (" ..." if len(ids) > 10 else "")


def _retitled(
    profile: Profile, edited: Mapping[str, frozenset[str]], papers: Sequence[Paper]
) -> tuple[dict[str, str], list[Paper]]:
    """Of these papers, those an item known by its title only now names otherwise (its title fixed, an id added).

    Each maps to the profile's entry of that title id (liked or disliked). The entries whose links that adds ids to
    come second, with those links.
    """
    entries = {e.paper.arxiv_id: e.paper for e in profile.liked + profile.disliked}
    title_of = {i: brought for brought, now in edited.items() if brought not in now for i in now}
    same: dict[str, str] = {}
    relinked: dict[str, Paper] = {}
    for paper in papers:
        title = next((title_of[i] for i in paper.ids if i in title_of), "")
        if title not in entries:
            continue  # unliked since: it has no entry to be, and is held back
        same[paper.arxiv_id] = title
        entry = relinked.get(title, entries[title])
        links = [*entry.links, *map(link_of, paper.ids), *paper.links]
        relinked[title] = replace(entry, links=tuple(dict.fromkeys(link for link in links if link)))
    return same, [e for title, e in relinked.items() if e.links != entries[title].links]


def _left(table: dict[str, str]) -> str:
    """How an item still in the library left the synced collection or tag, in words."""
    collection, tag = table.get("collection"), table.get("tag")
    if collection and tag:
        return f"moved out of the collection {collection} or lost the tag {tag!r}"
    if collection:
        return f"moved out of the collection {collection}"
    return f"lost the tag {tag!r}" if tag else "left the synced items"


def sync_zotero(profile: str | Path, table: dict[str, str] | None = None, *, offline: bool = False) -> SyncReport:
    """Read what changed in a Zotero library into a profile (created if missing), as an import of its export would.

    `table` changes the profile's [zotero] table (library, collection, tag; '' removes a key), so the next
    `paperrec today` syncs the same way. A like whose item left Zotero is kept and reported.
    Example: sync_zotero("vision", {"library": "local", "collection": "Vision"})
    """
    path = paths.resolve_profile(str(profile)) if not isinstance(profile, Path) else profile
    exists = path.is_file()
    current = load_profile(path) if exists else new_profile(path.stem)
    check_zotero(current)
    merged = {"library": LOCAL, **current.zotero, **(table or {})}
    wanted = {k: v for k, v in merged.items() if v}
    changes = read_changes(path, wanted)
    remember = [set_zotero(wanted)] if wanted != current.zotero else []
    liked = {p.paper.arxiv_id for p in current.liked}
    vanished = tuple(i for i in changes.vanished if i in liked)
    moved_out = tuple(i for i in changes.moved_out if i in liked)
    source = changes.library.describe()
    if changes.collection is None:
        edited = change_profile(path, remember, votes=False) if remember and exists else None
        profile_now = edited.profile if edited else current
        return SyncReport(profile_now, path, source, None, changes.requests, vanished, moved_out, _left(wanted))
    cache = MetadataCache(paths.metadata_cache_path())
    try:
        waiting = [p.arxiv_id for p in current.pending] if not offline else []
        collected = complete_collection(changes.collection, current, "liked", metadata_lookup(offline), cache, waiting)
    finally:
        cache.close()

    held: list[str] = []  # by the profile's id for the paper, where it has one
    shown = collected

    def plan(profile: Profile) -> list[Change]:
        nonlocal shown
        # A dislike or an unlike made after the item was synced outlasts its edits (a like's own removal from the
        # likes collection is one): only adding it to Zotero again, or liking it in paperrec, likes it again.
        # It holds back only papers the item brought before: a skipped item filled in, or an id corrected, is new.
        liked = {i for entry in profile.liked for i in entry.paper.ids}
        liked |= {p.arxiv_id for p in profile.pending if p.section == "liked"}
        voted = {i for brought, now in changes.edited.items() if brought not in liked for i in now}
        out = {p.arxiv_id for p in collected.papers if voted & set(p.ids)}
        # A paper known by its title only, that an edit names otherwise, stays the profile's one entry.
        same, entries = _retitled(profile, changes.edited, collected.papers)
        held[:] = list(dict.fromkeys(same.get(p.arxiv_id, p.arxiv_id) for p in collected.papers if p.arxiv_id in out))
        relinked = {e.arxiv_id: e for e in entries} | {p.arxiv_id: p for p in collected.relinked}
        papers = tuple(p for p in collected.papers if p.arxiv_id not in out and p.arxiv_id not in same)
        kept = replace(collected, papers=papers, relinked=tuple(relinked.values()))
        # A paper held back is not 'already there': the line of its own says why it stayed out. One an entry has is.
        shown = replace(kept, papers=tuple(p for p in collected.papers if p.arxiv_id not in out))
        return _import_changes(profile, kept, "liked") + remember

    if exists:
        edited = change_profile(path, plan, votes=False)
    else:
        edited = create_profile_file(path, current, plan, if_exists="edit")
    changes.remember(path)
    report = _report(edited.profile, shown, _added(edited), path, _moved(edited))
    renamed = tuple(i for i in changes.renamed if i in liked)
    return SyncReport(
        edited.profile, path, source, report, changes.requests, vanished, moved_out, _left(wanted), tuple(held), renamed
    )
