"""The profile editor: the one door for every change to a profile file, locked and keeping the user's own text.

A change (like, dislike, move, remove, interests, categories, pending ids, papers' links, missing abstracts) is
applied by `change_profile`, which returns a record of what moved where; `Edited.undo()` is the same change reversed.
New files are made by `create_profile_file` through the same code, and `save_profile` calls it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

from ..paths import atomic_write_bytes, locked, remove_stale_temporaries
from ..schema import Paper, PaperrecError, split_arxiv_id
from .changes import (
    Change,
    Edited,
    Moved,
    Setting,
    add_pending,
    rate,
    remove,
)
from .model import (
    SECTIONS,
    TABLES,
    Days,
    PendingPaper,
    Profile,
    ProfilePaper,
    day_of,
    own_copy,
    paper_from_table,
    paper_table,
    parse_toml,
    parsed_profile,
    pending_from_table,
    pending_table,
    profile_from_dict,
    profile_to_toml,
    remember_parsed,
    tables_text,
    unknown_profile,
)
from .text_edit import (
    Keys,
    TableEdit,
    edit_text_fast,
    edit_text_tomlkit,
    expected_data,
    same_data,
    section_texts,
    set_keys_text,
    set_keys_tomlkit,
)

# -- the editor --------------------------------------------------------------------------------------------------------


class ProfileEdit:
    """A profile's text opened for editing (under its lock when it is a file): changes keep the rest of the text."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.original = text
        self.text = text
        self.data, profile = parsed_profile(text, path)  # the text the last edit wrote is not parsed again
        self.profile = own_copy(profile)

    @property
    def changed(self) -> bool:
        """True when the text differs from the file's."""
        return self.text != self.original

    def apply(self, change: Change) -> tuple[list[Moved], list[Setting]]:
        """Apply one change to the text; returns the papers it moved and the settings it replaced."""
        if change.kind == "rate":
            return self._rate(change.papers, change.section, change.added), []
        if change.kind == "back":
            entry = change.papers[0]
            if not isinstance(entry, ProfilePaper):
                raise ValueError("only a profile's entry is put back")
            added = change.added if isinstance(change.added, date) else None
            at = self._next_to(change.section, change.ids, change.at)
            return self._put_back(entry, change.section, change.sections, at, added, change.text), []
        if change.kind == "move":
            return self._move(change.ids, change.section), []
        if change.kind == "remove":
            return self._remove(change.ids, change.sections), []
        if change.kind == "pending":
            return self._pending(change.pending, change.done, change.at, change.text), []
        if change.kind in ("interests", "categories", "sources", "zotero"):
            return [], self._set_list(change.kind, list(change.values))
        if change.kind == "links":
            return [], self._set_links([p.paper if isinstance(p, ProfilePaper) else p for p in change.papers])
        if change.kind == "abstracts":
            return [], self._fill_abstracts([p.paper if isinstance(p, ProfilePaper) else p for p in change.papers])
        if change.kind == "restore":
            return [], self._restore(change.restored)
        raise ValueError(f"unknown change {change.kind!r}")

    def _rate(self, papers: Iterable[Paper | ProfilePaper], section: str, added: Days) -> list[Moved]:
        # An entry is the voted paper when any of their ids meet (Paper.ids: its own and those its links name): a
        # preprint's entry that links the journal DOI is the journal version too. A paper the section has already
        # changes nothing. Otherwise one entry of the other section moves, the closest; the others stay as they are.
        other = "disliked" if section == "liked" else "liked"
        present = {key for entry in self.profile.papers(section) for key in entry.paper.ids}
        entries = self.profile.papers(other)
        in_other: dict[str, list[int]] = {}
        for index, entry in enumerate(entries):
            for key in entry.paper.ids:
                in_other.setdefault(key, []).append(index)
        appended: list[tuple[dict[str, Any], tuple[str, int] | None]] = []
        moved: list[Moved] = []
        leaving: list[int] = []  # the other section's entries that move, in the order voted
        rated: set[str] = set()  # every id of the papers new to the section
        for item in papers:
            paper = item.paper if isinstance(item, ProfilePaper) else item
            if present.intersection(paper.ids):
                continue
            matches = {index for key in paper.ids for index in in_other.get(key, ())}.difference(leaving)
            present.update(paper.ids)
            rated.update(paper.ids)
            day = item.added if isinstance(item, ProfilePaper) else day_of(added, paper.arxiv_id)
            if matches:  # a move keeps the table's own keys and comments
                index = _closest(paper, entries, matches)
                before = entries[index]
                table = dict(self.data[other][index])
                if "added" in table:
                    table["added"] = day
                appended.append((table, (other, index)))
                place = index - sum(1 for i in leaving if i < index)
                raw, between = self.data[other][index].get("added"), _between(entries, index, leaving)
                moved.append(
                    Moved(before.paper.arxiv_id, other, section, before, before.paper, place, raw, None, between)
                )
                leaving.append(index)
                present.update(before.paper.ids)
                rated.update(before.paper.ids)
            else:
                weight = item.weight if isinstance(item, ProfilePaper) else 1.0
                appended.append((paper_table(ProfilePaper(paper=paper, added=day, weight=weight)), None))
                moved.append(Moved(paper.arxiv_id, None, section, None, paper))
        # A paper kept by id until its text is known and now voted on with its text is that paper: one entry, not two.
        waiting = [i for i, p in enumerate(self.profile.pending) if p.arxiv_id in rated]
        pending = self.profile.pending
        texts = self._texts("pending") if waiting else []
        moved += [
            Moved(pending[i].arxiv_id, "pending", None, pending[i], place=i - n, text=texts[i] if texts else None)
            for n, i in enumerate(waiting)
        ]
        removals = {name: rows for name, rows in ((other, sorted(leaving)), ("pending", waiting)) if rows}
        self._edit(TableEdit(removals, section, appended))
        return moved

    def _put_back(
        self,
        entry: ProfilePaper,
        section: str,
        now: Iterable[str],
        at: int | None,
        added: date | None = None,
        text: str | None = None,
    ) -> list[Moved]:
        """Put an entry back in `section` at index `at`: its table from where it is `now`, else its own `text`, else a
        new one; its `added` as the file had it when known."""
        arxiv_id = entry.paper.arxiv_id
        where = next(iter(now), None)
        tables = self.profile.papers(where) if where in SECTIONS else ()
        # The entry's table is the last of its id there: a vote appends the table it moves.
        index = next((i for i in reversed(range(len(tables))) if tables[i].paper.arxiv_id == arxiv_id), None)
        if index is not None and where is not None:
            table = dict(self.data[where][index])
            if "added" in table:
                table["added"] = added or entry.added
            raw = self.data[where][index].get("added")
            self._edit(TableEdit({where: [index]}, section, [(table, (where, index))], at))
            return [Moved(arxiv_id, where, section, tables[index], entry.paper, index, raw)]
        if any(e.paper.arxiv_id == arxiv_id for e in self.profile.papers(section)):
            return []  # back already, by another change
        own = self._own_table(text, section, arxiv_id) if text else None
        self._edit(TableEdit({}, section, [(own, text) if own else (paper_table(entry), None)], at))
        return [Moved(arxiv_id, None, section, None, entry.paper)]

    def _move(self, ids: Iterable[str], to: str) -> list[Moved]:
        other = "disliked" if to == "liked" else "liked"
        have = {p.paper.arxiv_id: p for p in self.profile.papers(other)}
        papers = []
        for arxiv_id in ids:
            if arxiv_id not in have:
                raise PaperrecError(f"paper {arxiv_id} is not in the profile's {other} papers")
            papers.append(have[arxiv_id].paper)
        return self._rate(papers, to, None)

    def _pending(
        self, new: Sequence[PendingPaper], done: Iterable[str], at: int | None = None, text: str | None = None
    ) -> list[Moved]:
        """Add pending papers (one as its own `text` when given: an undo) and drop those `done` with."""
        finished = set(done)
        kept = self.profile.pending
        known = {p.arxiv_id for p in kept if p.arxiv_id not in finished}
        removed = [i for i, p in enumerate(kept) if p.arxiv_id in finished]
        texts = self._texts("pending") if removed else []
        moved = [
            Moved(kept[i].arxiv_id, "pending", None, kept[i], place=i - n, text=texts[i] if texts else None)
            for n, i in enumerate(removed)
        ]
        added: list[PendingPaper] = []
        for pending in new:
            if pending.arxiv_id not in known:
                known.add(pending.arxiv_id)
                added.append(pending)
                moved.append(Moved(pending.arxiv_id, None, "pending"))
        appended: list[tuple[dict[str, Any], str | None]] = [(pending_table(p), None) for p in added]
        own = self._own_table(text, "pending", added[0].arxiv_id) if text and len(added) == 1 else None
        appended = [(own, text)] if own else appended
        self._edit(TableEdit({"pending": removed} if removed else {}, "pending", appended, at))
        return moved

    def _next_to(self, section: str, between: Sequence[str], at: int | None) -> int | None:
        """Where an entry goes back in `section`: before the entry that followed it, else after the one before it,
        else at `at`."""
        ids = [entry.paper.arxiv_id for entry in self.profile.papers(section)]
        before, after = (*between, "", "")[:2]
        if after in ids:
            return ids.index(after)
        if before in ids:
            return len(ids) - ids[::-1].index(before)
        return at

    def _texts(self, section: str) -> list[str]:
        """Each table of a section as the file has it; where the layout needs tomlkit, its keys as TOML."""
        texts = section_texts(self.text, self.data, section)
        return texts if texts is not None else [tables_text(section, [t]) for t in self.data.get(section) or []]

    def _own_table(self, text: str, section: str, arxiv_id: str) -> dict[str, Any] | None:
        """The one table of `section` that `text` holds when it is this id's, to put back as it was; else None."""
        try:
            data = parse_toml(text, self.path)
        except PaperrecError:
            return None
        tables = data.get(section)
        if set(data) != {section} or not isinstance(tables, list) or len(tables) != 1:
            return None
        if not isinstance(tables[0], dict):
            return None
        try:
            if section == "pending":
                same = pending_from_table(tables[0], str(self.path)).arxiv_id == arxiv_id
            else:
                same = paper_from_table(tables[0], str(self.path)).paper.arxiv_id == arxiv_id
        except PaperrecError:
            return None
        return tables[0] if same else None

    def _remove(self, ids: Iterable[str], sections: Iterable[str]) -> list[Moved]:
        wanted = {(split_arxiv_id(i) or (i.strip(), None))[0] for i in ids}
        removals: dict[str, list[int]] = {}
        moved: list[Moved] = []
        for section in (s for s in TABLES if s in set(sections)):
            entries: Sequence[ProfilePaper | PendingPaper] = (
                self.profile.pending if section == "pending" else self.profile.papers(section)
            )
            ids = [e.arxiv_id if isinstance(e, PendingPaper) else e.paper.arxiv_id for e in entries]
            gone = [i for i, arxiv_id in enumerate(ids) if arxiv_id in wanted]
            texts = self._texts(section) if gone else []  # it comes back as it was (undo)
            for index in gone:
                entry, rows = entries[index], removals.setdefault(section, [])
                text = texts[index] if texts else None
                between = _between(self.profile.papers(section), index, rows) if section in SECTIONS else ("", "")
                moved.append(Moved(ids[index], section, None, entry, None, index - len(rows), None, text, between))
                rows.append(index)
        self._edit(TableEdit(removals, "liked", []))
        return moved

    def _set_list(self, key: str, values: list[str]) -> list[Setting]:
        """Replace a top-level list of strings (tomlkit keeps comments and the other keys); checked by reading back."""
        import tomlkit

        table = key == "zotero"  # the [zotero] table, its pairs written 'key=value'
        pairs = tuple(f"{k}={v}" for k, v in self.profile.zotero.items())
        before = pairs if table else tuple(getattr(self.profile, key))
        wanted: Any = dict(value.split("=", 1) for value in values) if table else values
        if list(before) == values:
            return []
        document = tomlkit.parse(self.text)
        if table:
            document.pop(key, None)
            document.update({key: wanted} if wanted else {})
        elif not _edited_in_place(document.get(key), values):
            array = tomlkit.array()
            array.extend(values)
            array.multiline(key == "interests")  # sentences read best one per line
            document[key] = array
        text = tomlkit.dumps(document)
        data = parse_toml(text, self.path)
        profile = profile_from_dict(data, str(self.path), default_name=self.path.stem, text=text)
        others = {k: v for k, v in self.data.items() if k != key}
        if data.get(key, type(wanted)()) != wanted or {k: v for k, v in data.items() if k != key} != others:
            raise PaperrecError(f"{self.path}: cannot change the {key} without changing other parts; edit the file")
        self.text, self.data, self.profile = text, data, profile
        return [Setting(key, before, tuple(values))]

    def _places(self) -> dict[str, tuple[str, int]]:
        """Where each rated paper's table is: its id -> (section, index)."""
        return {e.paper.arxiv_id: (s, i) for s in SECTIONS for i, e in enumerate(self.profile.papers(s))}

    def _unset(self, papers: Sequence[Paper], wanted: Keys) -> Iterator[tuple[Paper, tuple[str, int]]]:
        """Each paper with the place of its id's entry, unless the entry is gone or `wanted` already sets it."""
        where = self._places()
        for paper in papers:
            place = where.get(paper.arxiv_id)  # None: removed since the change was planned
            # `wanted` is read as the caller fills it. A second paper of one id passes only while none is set.
            if place is not None and place not in wanted:
                yield paper, place

    def _set_links(self, papers: Sequence[Paper]) -> list[Setting]:
        """Set the links of the entries of these papers' ids (an empty set removes the key), through _set_keys."""
        wanted: Keys = {}
        settings = []
        for paper, place in self._unset(papers, wanted):
            entry = self.profile.papers(place[0])[place[1]]
            if entry.paper.links == paper.links:
                continue
            wanted[place] = {"links": list(paper.links) if paper.links else None}
            settings.append(Setting("links", entry.paper.links, paper.links, entry.paper.arxiv_id))
        self._set_keys(wanted, "the papers' links")
        return settings

    def _fill_abstracts(self, papers: Sequence[Paper]) -> list[Setting]:
        """Set the abstract (and absent authors) of the entries of these papers' ids that have no abstract."""
        wanted: Keys = {}
        settings = []
        for paper, place in self._unset(papers, wanted):
            if not paper.abstract or self.profile.papers(place[0])[place[1]].paper.abstract:
                continue  # none found, or the entry has the user's own abstract or one found meanwhile
            table = self.data[place[0]][place[1]]
            before = (table["abstract"],) if "abstract" in table else ()
            wanted[place] = {"abstract": paper.abstract}
            settings.append(Setting("abstract", before, (paper.abstract,), paper.arxiv_id))
            if paper.authors and not table.get("authors"):
                wanted[place]["authors"] = list(paper.authors)
                had = ("",) if "authors" in table else ()  # `authors = []`, written back as it was
                settings.append(Setting("authors", had, paper.authors, paper.arxiv_id))
        self._set_keys(wanted, "the papers' abstracts")
        return settings

    def _restore(self, settings: Sequence[Setting]) -> list[Setting]:
        """Put entries' abstracts and authors back as these settings found them (an undo of fill_abstracts)."""
        where = self._places()
        wanted: Keys = {}
        undone = []
        for setting in settings:
            place = where.get(setting.paper)
            if place is None:
                continue  # removed since: nothing to put back
            table = self.data[place[0]][place[1]]
            value: Any = None
            if setting.before:
                value = setting.before[0] if setting.key == "abstract" else [a for a in setting.before if a]
            wanted.setdefault(place, {})[setting.key] = value
            now = table.get(setting.key)
            current = () if now is None else (now,) if isinstance(now, str) else tuple(now) or ("",)
            undone.append(Setting(setting.key, current, setting.before, setting.paper))
        self._set_keys(wanted, "the papers' abstracts")
        return undone

    def _set_keys(self, wanted: Keys, what: str) -> None:
        """Set keys of liked and disliked tables, on the text where the layout allows, else with tomlkit; checked by
        reading back."""
        if not wanted:
            return
        expected = {**self.data, **{s: list(self.data.get(s) or []) for s in SECTIONS}}
        for (section, index), keys in wanted.items():
            table = dict(expected[section][index])
            for key, value in keys.items():
                if value is None:
                    table.pop(key, None)
                else:
                    table[key] = value
            expected[section][index] = table
        texts = self._candidates(
            set_keys_text(self.text, self.data, wanted), lambda: set_keys_tomlkit(self.text, wanted)
        )
        if not self._adopt(texts, expected):
            raise PaperrecError(
                f"{self.path}: cannot record {what} without changing other parts; edit the file by hand"
            )
        self.profile = profile_from_dict(self.data, str(self.path), default_name=self.path.stem, text=self.text)

    def _candidates(self, fast: str | None, by_tomlkit: Callable[[], str]) -> Iterator[str]:
        """Edited texts to try, best first: the text edit, then tomlkit's (with the file's CRLF newlines)."""
        if fast is not None:
            yield fast
        try:
            text = by_tomlkit()
        except Exception:  # tomlkit may reject what rtoml read; then no edit is possible
            return
        if "\r\n" in self.text and "\n" not in self.text.replace("\r\n", ""):
            yield text.replace("\r\n", "\n").replace("\n", "\r\n")
        yield text

    def _profile_after(self, change: TableEdit) -> Profile:
        """The profile with the change applied, re-checking only the tables it appended (fast on big profiles)."""
        sections: dict[str, list[Any]] = {}
        for section in TABLES:
            dropped = set(change.removals.get(section, ()))
            entries = self.profile.pending if section == "pending" else self.profile.papers(section)
            sections[section] = [p for i, p in enumerate(entries) if i not in dropped]
        read = pending_from_table if change.section == "pending" else paper_from_table
        kept = sections[change.section]
        at = change.before(len(kept))
        at = len(kept) if at is None else at
        added = [
            read(table, f"{self.path}: {change.section}[{at + n + 1}]") for n, (table, _) in enumerate(change.appended)
        ]
        sections[change.section] = kept[:at] + added + kept[at:]
        return replace(self.profile, **{section: tuple(papers) for section, papers in sections.items()})

    def _adopt(self, texts: Iterable[str], expected: dict[str, Any]) -> bool:
        """Take the first of these texts that reads back as `expected` as the file's text; False when none does."""
        for text in texts:
            try:
                data = parse_toml(text, self.path)
            except PaperrecError:
                continue
            if same_data(data, expected):
                self.text, self.data = text, data
                return True
        return False

    def _edit(self, change: TableEdit) -> None:
        if not change.removals and not change.appended:
            return
        expected = expected_data(self.data, change)
        texts = self._candidates(
            edit_text_fast(self.text, self.data, change), lambda: edit_text_tomlkit(self.text, change)
        )
        if not self._adopt(texts, expected):
            raise PaperrecError(
                f"{self.path}: cannot apply this edit without changing other parts; edit the file by hand"
            )
        self.profile = self._profile_after(change)
        remember_parsed(self.path, self.text, self.data, own_copy(self.profile))

    # The editing calls of earlier versions, kept for callers of the library (each is one change).

    def add(self, papers: Iterable[Paper], section: str = "liked", added: Days = None) -> list[Paper]:
        """Add papers to liked or disliked, moving them out of the other section; returns the papers new to it."""
        return [m.paper for m in self.apply(rate(papers, section, added))[0] if m.paper is not None]

    def remove(self, ids: Iterable[str]) -> list[str]:
        """Remove papers by arXiv id (any version) from liked, disliked and pending; returns the ids found."""
        return list(dict.fromkeys(m.arxiv_id for m in self.apply(remove(ids))[0]))

    def set_pending(self, new: Sequence[PendingPaper], done: Iterable[str] = ()) -> list[PendingPaper]:
        """Keep papers by id until their text is known, and drop those `done` with; returns the pending ones added."""
        moved = self.apply(add_pending(new, done))[0]
        kept = {m.arxiv_id for m in moved if m.after == "pending"}
        return [p for p in new if p.arxiv_id in kept]


def _closest(paper: Paper, entries: Sequence[ProfilePaper], candidates: Iterable[int]) -> int:
    """The index of the entry that is most plainly this paper among candidates that share an id with it."""

    def closeness(index: int) -> tuple[bool, bool, bool, int, int]:
        entry = entries[index].paper
        return (
            entry.arxiv_id == paper.arxiv_id,  # its own id: the paper itself
            entry.arxiv_id in paper.ids,  # the paper's links name the entry
            paper.arxiv_id in entry.ids,  # the entry's links name the paper
            len(set(entry.ids).intersection(paper.ids)),
            -index,  # then the first, as a file read top down has it
        )

    return max(candidates, key=closeness)


def _between(entries: Sequence[ProfilePaper], index: int, gone: Iterable[int]) -> tuple[str, str]:
    """The ids of the entries right before and after entry `index` that are not `gone` ('' for none)."""
    left = {*gone, index}
    before = next((entries[i].paper.arxiv_id for i in reversed(range(index)) if i not in left), "")
    after = next((entries[i].paper.arxiv_id for i in range(index + 1, len(entries)) if i not in left), "")
    return before, after


def _edited_in_place(current: Any, values: list[str]) -> bool:
    """Edit the file's own array into values, so comments in and after it stay; False where a new array is needed:
    another order, an empty array before or after (`[]` as written)."""
    from tomlkit.items import Array

    if not isinstance(current, Array) or not len(current) or not values:
        return False
    for index in reversed(range(len(current))):
        if current[index] not in values:
            del current[index]
    for value in values:
        if value not in list(current):
            current.append(value)
    return list(current) == values


# -- the files ---------------------------------------------------------------------------------------------------------

Changes = Sequence[Change] | Callable[[Profile], Sequence[Change]]  # a function plans them from the locked profile


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _check_writable(path: Path, real: Path) -> None:
    """Refuse to replace a file the user made read-only (an atomic replace would otherwise succeed)."""
    try:
        mode = real.stat().st_mode
    except FileNotFoundError:
        return
    # the mode bits too: root may write anything, but a read-only profile is not to be changed
    if not os.access(real, os.W_OK) or not mode & 0o222:
        raise PaperrecError(f"{path} is read-only: make it writable (chmod u+w) to edit it")


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")  # no newline translation: the text is written back as it was
    except (OSError, UnicodeDecodeError) as error:
        raise PaperrecError(f"{path}: cannot read profile ({error})") from None


def _private_mode(path: Path, profile: Profile) -> int | None:
    """The file's mode without others' access when a source's address has a query (it may hold a private token, as
    pages and messages assume); None (the mode as it is, or the umask's) otherwise."""
    from ..sources.registry import shown

    if all(shown(spec) == spec for spec in profile.sources):
        return None
    try:
        return stat.S_IMODE(path.stat().st_mode) & 0o700
    except FileNotFoundError:
        return 0o600


def _write_text(path: Path, text: str, mode: int | None = None) -> None:
    try:
        atomic_write_bytes(path, text.encode("utf-8"), mode=mode)
    except OSError as error:
        raise PaperrecError(f"cannot write profile {path}: {error.strerror or error} (the file is unchanged)") from None


def _run(edit: ProfileEdit, changes: Changes) -> Edited:
    planned = changes(edit.profile) if callable(changes) else changes
    moved: list[Moved] = []
    settings: list[Setting] = []
    for change in planned:
        papers, replaced = edit.apply(change)
        moved += papers
        settings += replaced
    return Edited(edit.path, edit.profile, tuple(moved), tuple(settings))


@contextmanager
def edit_profile(path: Path) -> Iterator[ProfileEdit]:
    """Open a profile file for editing under its lock; on leaving the block, write the changes (atomically, or in place
    when the file has other hard links, so they keep seeing it).

    Example: with edit_profile(path) as edit: edit.apply(like([paper]))
    """
    path = Path(path)
    if not path.is_file():
        raise unknown_profile(path)
    target = _real(path)
    _check_writable(path, target)
    with locked(target):
        remove_stale_temporaries(target)
        edit = ProfileEdit(path, _read_text(target))
        yield edit
        if edit.changed:
            _write_text(target, edit.text, _private_mode(target, edit.profile))


def change_profile(path: Path, changes: Changes, *, votes: bool = True) -> Edited:
    """Apply changes to a profile file under its lock, keeping the rest of its text: the one door for every edit.

    A like (and its undo) of a profile with a zotero_collection queues a push to Zotero, after the lock is released.
    Example: change_profile(Path("vision.toml"), [like([paper])]).undo()
    """
    with edit_profile(path) as edit:
        edited = _run(edit, changes)
    if votes and edited.profile.zotero_collection:  # imports pass votes=False: their papers came from a library
        from .zotero_push import queue_votes

        queue_votes(edited)
    return edited


def undo(edited: Edited) -> Edited:
    """Take back what an earlier change did to its profile file."""
    return change_profile(edited.path, edited.undo())


def create_profile_file(
    path: Path,
    profile: Profile,
    changes: Changes = (),
    *,
    if_exists: Literal["fail", "replace", "edit"] = "fail",
) -> Edited:
    """Write a new profile file with changes applied; when it exists: refuse, replace it, or edit it instead.

    Example: create_profile_file(Path("vision.toml"), new_profile("vision"), [like(papers)])
    """
    path = Path(path)
    with locked(path):
        exists = path.exists()
        if exists and if_exists == "fail":
            raise PaperrecError(f"profile {path} already exists: add papers with 'paperrec profile import', or --force")
        if not (exists and if_exists == "edit"):
            _check_writable(path, _real(path))
            remove_stale_temporaries(_real(path))
            edit = ProfileEdit(path, profile_to_toml(profile))
            edited = _run(edit, changes)
            _write_text(path, edit.text, _private_mode(_real(path), edit.profile))
            return edited
    return change_profile(path, changes, votes=False)  # another paperrec made it meanwhile: add to that one


def delete_profile_file(path: Path) -> None:
    """Delete a profile file; one error line naming the file when it is missing or its folder refuses.

    Example: delete_profile_file(Path("old-interests.toml"))
    """
    path = Path(path)
    with locked(path):  # an edit under way (a vote from the page) finishes first; the next finds no file
        if not path.is_file():
            raise unknown_profile(path)
        try:
            path.unlink()
        except OSError as error:
            raise PaperrecError(f"cannot delete profile {path}: {error.strerror or error}") from None


def save_profile(profile: Profile, path: Path) -> None:
    """Write the profile from scratch, atomically and under its lock: the old file stays intact if anything fails."""
    create_profile_file(path, profile, if_exists="replace")


def update_profile(path: Path, change: Callable[[ProfileEdit], Any]) -> Any:
    """Apply change to the profile file under its lock and save what it did; returns what change returns."""
    with edit_profile(path) as edit:
        return change(edit)


def rate_papers(
    path: Path, papers: Iterable[Paper], section: str = "liked", added: Days = None
) -> tuple[Profile, list[Paper]]:
    """Like or dislike papers in the profile file (moving them out of the other section); returns what was new."""
    edited = change_profile(path, [rate(papers, section, added)])
    return edited.profile, edited.added(section)


def unrate_papers(path: Path, ids: Iterable[str]) -> tuple[Profile, list[str]]:
    """Remove papers by arXiv id from the profile file; returns the profile and the ids found."""
    edited = change_profile(path, [remove(ids)])
    return edited.profile, edited.removed()
