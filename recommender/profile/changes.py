"""Profile changes: what a user asks of a profile file, and the record of what a change did (its undo).

The profile editor (edit.py) applies them; `change_profile` takes them and returns an `Edited`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Literal

from ..schema import Paper
from ..sources.taxonomy import validate_categories
from .model import SECTIONS, TABLES, Days, PendingPaper, Profile, ProfilePaper

Kind = Literal[
    "rate",
    "back",
    "move",
    "remove",
    "pending",
    "interests",
    "categories",
    "sources",
    "links",
    "abstracts",
    "restore",
    "zotero",
]


@dataclass(frozen=True)
class Change:
    """One change to a profile, as a user asks for it; made by like, dislike, rate, move, remove, set_... below."""

    kind: Kind
    section: str = "liked"  # rate and move: the section the papers go to
    # rate: a ProfilePaper brings its own day and weight back (undo); links: each paper's id and its links to keep
    papers: tuple[Paper | ProfilePaper, ...] = ()
    ids: tuple[str, ...] = ()  # move and remove; back: the ids of the entries it was between ('' for none)
    pending: tuple[PendingPaper, ...] = ()  # pending: papers known by id only, kept until their text is known
    done: tuple[str, ...] = ()  # pending: ids no longer pending
    values: tuple[str, ...] = ()  # interests or categories: the new list; zotero: the table as 'key=value'
    restored: tuple[Setting, ...] = ()  # restore: abstracts and authors to put back as they were before
    sections: tuple[str, ...] = TABLES  # remove: where from; back: where the entry's table is now (none: gone)
    added: Days = field(default=None, compare=False)  # rate: the day each paper was added (today if absent)
    at: int | None = None  # back and pending: the index in the section the tables go to (None: after the last)
    text: str | None = None  # pending and back (an undo): the table's own text, put back as the file had it


def rate(papers: Iterable[Paper | ProfilePaper], section: str, added: Days = None) -> Change:
    """Like (section 'liked') or dislike papers, moving them out of the other section."""
    if section not in SECTIONS:
        raise ValueError(f"section must be one of {SECTIONS}")
    return Change("rate", section, papers=tuple(papers), added=added)


def like(papers: Iterable[Paper], added: Days = None) -> Change:
    """Like papers (moving them out of disliked)."""
    return rate(papers, "liked", added)


def dislike(papers: Iterable[Paper], added: Days = None) -> Change:
    """Dislike papers (moving them out of liked)."""
    return rate(papers, "disliked", added)


def put_back(
    entry: ProfilePaper,
    section: str,
    now: str | None,
    at: int | None,
    added: date | None = None,
    between: tuple[str, str] = ("", ""),
    text: str | None = None,
) -> Change:
    """Put an entry a change took out of `section` back there, with its table if it is in `now`, its `added` as the
    file had it (a date-time stays one), its own `text` when gone: right before the entry that followed it, else after
    the one before it, else at index `at`."""
    where = {"sections": (now,) if now else (), "at": at, "added": added, "ids": between, "text": text}
    return Change("back", section, papers=(entry,), **where)


def move(ids: Iterable[str], to: str) -> Change:
    """Move papers the profile has in the other section to `to`; an error for an id it does not have there."""
    if to not in SECTIONS:
        raise ValueError(f"section must be one of {SECTIONS}")
    return Change("move", to, ids=tuple(ids))


def remove(ids: Iterable[str], sections: Iterable[str] = TABLES) -> Change:
    """Remove papers by arXiv id (any version) from liked, disliked and pending (`paperrec unlike`), or some of them."""
    return Change("remove", ids=tuple(ids), sections=tuple(sections))


def add_pending(pending: Iterable[PendingPaper], done: Iterable[str] = ()) -> Change:
    """Keep papers by id until their text is known, and stop keeping those `done` with."""
    return Change("pending", pending=tuple(pending), done=tuple(done))


def set_links(papers: Iterable[Paper]) -> Change:
    """Keep each paper's links on the profile's entry of its id (liked or disliked): every id it is known by."""
    return Change("links", papers=tuple(papers))


def fill_abstracts(papers: Iterable[Paper]) -> Change:
    """Give the entries of these papers' ids (liked or disliked) that have no abstract the paper's abstract.

    The entry gets the paper's authors too when it has none. An abstract the entry has is never replaced.
    """
    return Change("abstracts", papers=tuple(papers))


def set_interests(interests: Iterable[str]) -> Change:
    """Replace the profile's free-text interests."""
    return Change("interests", values=tuple(interests))


def set_categories(categories: Iterable[str]) -> Change:
    """Replace the profile's arXiv categories; UsageError for a code not in arXiv's taxonomy."""
    return Change("categories", values=validate_categories(categories))


def set_sources(sources: Iterable[str]) -> Change:
    """Replace the profile's other sources ('biorxiv:neuroscience'); UsageError for a spec 'paperrec sources' lacks."""
    from ..sources.registry import parse_specs

    return Change("sources", values=tuple(str(spec) for spec in parse_specs(sources)))


def set_zotero(table: dict[str, str]) -> Change:
    """Replace the profile's [zotero] table (where `profile sync --zotero` reads); an empty one removes it."""
    return Change("zotero", values=tuple(f"{key}={value}" for key, value in table.items() if value))


@dataclass(frozen=True)
class Moved:
    """A paper a change moved: the section before and after ('liked', 'disliked', 'pending' or None: absent)."""

    arxiv_id: str
    before: str | None
    after: str | None
    entry: ProfilePaper | PendingPaper | None = None  # what the profile held before (None when it had nothing)
    paper: Paper | None = None  # the paper after the change (None when it left the profile or is known by id only)
    # Where the entry was in its section before: its index once the change's earlier moves had left (undo puts it back).
    place: int | None = None
    added: date | None = None  # the table's `added` as the file had it: a date-time stays one
    text: str | None = None  # a table a remove took out, as the file had it, the comment lines above it included
    # The ids of the entries of its section right before and after it that stayed ('' for none): undone out of
    # order, an entry goes back next to them rather than to an index others' undos have shifted.
    between: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class Setting:
    """A list setting a change replaced (interests, categories, or the links, abstract or authors of `paper`)."""

    key: str
    before: tuple[str, ...]  # abstract, authors: empty when the entry had no such key
    after: tuple[str, ...]
    paper: str = ""  # links, abstract, authors: the id of the paper whose they are


@dataclass(frozen=True)
class Edited:
    """What changes did to a profile file: the profile after them, every paper moved and every setting replaced."""

    path: Path
    profile: Profile
    moved: tuple[Moved, ...] = ()
    settings: tuple[Setting, ...] = ()

    def added(self, section: str) -> list[Paper]:
        """The papers new to a section ('liked' or 'disliked'), in the order they were added."""
        return [m.paper for m in self.moved if m.after == section and m.paper is not None]

    def removed(self) -> list[str]:
        """The ids that left the profile, each once."""
        left = {m.arxiv_id for m in self.moved if m.after is None}
        return list(dict.fromkeys(m.arxiv_id for m in self.moved if m.arxiv_id in left))

    def undo(self) -> list[Change]:
        """The changes that take these back, newest first."""
        changes: list[Change] = []
        entries = tuple(s for s in reversed(self.settings) if s.key in ("abstract", "authors"))
        if entries:
            changes.append(Change("restore", restored=entries))
        for setting in reversed(self.settings):
            if setting in entries:
                continue
            if setting.key == "links":
                changes.append(set_links([Paper(setting.paper, "", links=setting.before)]))
                continue
            changes.append(Change(setting.key, values=setting.before))  # unchecked: the file held it before
        for moved in reversed(self.moved):
            entry = moved.entry
            if isinstance(entry, ProfilePaper) and moved.before in SECTIONS:
                # with its table, or anew
                where = (moved.before, moved.after, moved.place, moved.added, moved.between, moved.text)
                changes.append(put_back(entry, *where))
                continue
            if moved.after is not None:
                changes.append(remove([moved.arxiv_id], [moved.after]))
            if isinstance(entry, PendingPaper):
                changes.append(replace(add_pending([entry]), at=moved.place, text=moved.text))
        return changes
