"""Libraries into profiles: import BibTeX, Zotero or id lists, create a profile from one, refresh pending ids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from .. import paths
from ..schema import Paper, PaperrecError, counted, is_title_id, link_of, title_id
from ..sources.merge import match_keys
from ..sources.metadata import Lookup, MetadataCache, complete_papers, needs_metadata
from ..sources.registry import parse_specs, spec_warnings
from ..sources.taxonomy import validate_categories
from .age import id_month
from .changes import Change, Edited, add_pending, fill_abstracts, rate, set_categories, set_links, set_sources
from .edit import change_profile, create_profile_file
from .model import SECTIONS, PendingPaper, Profile, ProfilePaper, add_papers, load_profile, new_profile, unknown_profile

if TYPE_CHECKING:
    from ..sources.imports import ImportResult


@dataclass(frozen=True)
class ImportReport:
    """What an import did: the updated profile, papers added, and what happened to every other entry, and why."""

    profile: Profile
    added: tuple[Paper, ...]
    already_present: int
    skipped: tuple[tuple[str, str], ...]
    without_abstract: int
    notice: str | None = None
    path: Path | None = None  # the profile file written, when the import wrote one
    merged: int = 0  # entries that were another entry's work (same arXiv id, DOI, or title and year)
    pending: tuple[str, ...] = ()  # arXiv ids kept by id only, until their title and abstract are known
    filled: tuple[Paper, ...] = ()  # papers pending from an earlier import whose text this import found
    ignored: int = 0  # notes, attachments and annotations: not papers
    read: int = 0  # entries read from the files, papers and not-papers
    moved: tuple[Paper, ...] = ()  # of `added`, papers the profile had in its other section (liked, for --disliked)
    relinked: tuple[Paper, ...] = ()  # papers the profile had that the files name by another id too (a DOI, a forum)
    by_doi: int = 0  # of `added`, papers known by DOI whose abstract OpenAlex gave
    # When `profile refresh` can fetch the abstracts added papers lack: "online" (--offline), "later" (a service did
    # not answer), "" (it cannot)
    refreshable: str = ""
    saved: bool = True  # False when the import changed nothing, so the profile file was left as it was
    abstracts: tuple[str, ...] = ()  # ids of papers already there whose missing abstract the files gave


@dataclass(frozen=True)
class _Collected:
    """Papers read from import files and completed with metadata, before they are added to a profile."""

    listed: int  # papers in the files (after merging duplicates)
    fresh: int  # of those, not already in the profile when looked at
    papers: tuple[Paper, ...]  # the fresh ones with a title
    skipped: tuple[tuple[str, str], ...]
    notice: str | None
    added: dict[str, date] = field(default_factory=dict)  # each paper's own date in the files, by id
    merged: int = 0
    pending: tuple[str, ...] = ()  # fresh arXiv ids without a title: the lookup was not possible
    filled: tuple[Paper, ...] = ()  # the profile's pending papers the lookup completed
    gone: tuple[str, ...] = ()  # the profile's pending ids arXiv answered for without them
    ignored: int = 0
    read: int = 0
    relinked: tuple[Paper, ...] = ()  # the profile's papers with the ids the files add, under their own ids
    by_doi: frozenset[str] = frozenset()  # papers known by DOI whose abstract OpenAlex gave
    offline: bool = False  # there was no lookup
    abstracts: tuple[Paper, ...] = ()  # papers the profile has without an abstract, as the files give them with one


def _same_paper(entry: Paper, paper: Paper) -> bool:
    """False when both have arXiv ids and they differ: then no DOI or title makes them one paper."""
    return not (entry.has_arxiv_id and paper.has_arxiv_id and entry.arxiv_id != paper.arxiv_id)


def _alias_keys(paper: Paper, titles: Sequence[str]) -> list[str]:
    """The match keys of a paper under titles an earlier version read it by (see Reference.aliases)."""
    return [k for title in titles for k in match_keys(replace(paper, arxiv_id=title_id(title), title=title, links=()))]


def _as_known(
    profile: Profile | None, papers: Sequence[Paper], aliases: Sequence[tuple[str, ...]] = ()
) -> tuple[list[Paper], list[Paper]]:
    """The papers under the ids the profile keeps them by, and the profile's papers with the ids the files add.

    A file's paper is one the profile has when they share an id (their own or one their links name), or a title and
    first author, as copies on several sources merge. So a paper kept under its title hash, that a file now names by
    DOI, is not added twice: the profile keeps its entry and learns the DOI. `aliases` (row-aligned with papers) are
    titles an earlier version read each paper by: a profile it wrote keeps the paper under them.
    """
    if profile is None:
        return list(papers), []
    where: dict[str, ProfilePaper] = {}
    for entry in profile.liked + profile.disliked:
        for key in match_keys(entry.paper):
            where.setdefault(key, entry)
    known: list[Paper] = []
    relinked: dict[str, Paper] = {}
    for paper, titles in zip(papers, aliases or [()] * len(papers), strict=True):
        keys = [*match_keys(paper), *_alias_keys(paper, titles)]
        keys = [key for key in keys if key in where and _same_paper(where[key].paper, paper)]
        if not keys:
            known.append(paper)
            continue
        entry = relinked.get(where[keys[0]].paper.arxiv_id, where[keys[0]].paper)
        # A title id is no news: the entry's own title names it.
        ids = dict.fromkeys([*entry.ids, *(i for i in paper.ids if not is_title_id(i))])
        if len(ids) > len(entry.ids):
            links = [link_of(entry.arxiv_id), *entry.links, *map(link_of, paper.ids), *paper.links]
            entry = replace(entry, links=tuple(dict.fromkeys(link for link in links if link)))
            relinked[entry.arxiv_id] = entry
        known.append(replace(paper, arxiv_id=entry.arxiv_id, version=entry.version, links=entry.links))
    return known, list(relinked.values())


def _collect(
    files: Sequence[Path],
    fmt: str | None,
    profile: Profile | None,
    section: str,
    lookup: Lookup | None,
    cache: MetadataCache | None,
    waiting: Sequence[str] = (),
) -> _Collected:
    """Read, merge and complete the files' papers; `waiting` (pending ids of the profile) are completed alongside."""
    from ..sources.imports import read_collections

    collection = read_collections(list(files), fmt)
    if not collection.papers and not collection.skipped and not collection.ignored:
        raise PaperrecError(f"no papers found in {', '.join(str(f) for f in files)}")
    return complete_collection(collection, profile, section, lookup, cache, waiting)


_NOT_FOUND = {
    "arXiv": "not on arXiv: the arXiv API knows no paper of this id",
    "doi": "not in OpenAlex: it knows no work of this DOI, so there is no title to rank",
}
_NOT_ASKED = "no title: OpenAlex was not asked (--offline) or did not answer for this DOI; import the list again later"


def complete_collection(
    collection: ImportResult,
    profile: Profile | None,
    section: str,
    lookup: Lookup | None,
    cache: MetadataCache | None,
    waiting: Sequence[str] = (),
) -> _Collected:
    """Complete read papers with metadata: the part of an import after reading, shared by files and Zotero's API."""
    listed, relinked = _as_known(profile, collection.papers, collection.aliases)
    present = {p.paper.arxiv_id for p in profile.papers(section)} if profile is not None else set()
    fresh = [p for p in listed if p.arxiv_id not in present]  # no lookups for papers already there
    waiting = [i for i in waiting if i not in {p.arxiv_id for p in fresh}]
    completion = complete_papers(fresh + [Paper(arxiv_id=i, title="") for i in waiting], lookup, cache)
    # A pending paper the files bring for its own section is filled in, as a lookup would; one for the other is rated
    later = set(waiting) | ({p.arxiv_id for p in profile.pending if p.section == section} if profile else set())
    missing = set(completion.missing)
    # A DOI without a title is not kept pending (pending ids are arXiv's): it is skipped with what to do.
    unnamed = {i for i in completion.unresolved if i.startswith("doi:") and i not in missing and i not in later}
    skipped = (
        tuple(collection.skipped)
        + tuple(
            (paper_id, _NOT_FOUND["doi" if paper_id.startswith("doi:") else "arXiv"])
            for paper_id in completion.unresolved
            if paper_id in missing and paper_id not in later
        )
        + tuple((paper_id, _NOT_ASKED) for paper_id in sorted(unnamed))
    )
    days = {p.arxiv_id: d for p, d in zip(listed, collection.added, strict=True) if d is not None}
    # A paper the file gives no date for is dated by its publication, as BibTeX's year dates it: on the import day, a
    # years-old library read from a list of ids would weigh and count as liked today.
    days |= {p.arxiv_id: p.date for p in completion.papers if p.date is not None and p.arxiv_id not in days}
    # Offline there is no lookup: an arXiv id still names the month its paper was posted.
    days |= {p.arxiv_id: month for p in listed if p.arxiv_id not in days and (month := id_month(p.arxiv_id))}
    lacking = {e.paper.arxiv_id for e in profile.liked + profile.disliked if not e.paper.abstract} if profile else set()
    return _Collected(
        listed=len(collection.papers),
        fresh=len(fresh),
        papers=tuple(p for p in completion.papers if p.arxiv_id not in later),
        skipped=skipped,
        notice=completion.notice,
        added={i: d for i, d in days.items() if d <= date.today()},  # a date in the future is a typo
        merged=collection.merged,
        pending=tuple(i for i in completion.unresolved if i not in missing and i not in later and i not in unnamed),
        filled=tuple(p for p in completion.papers if p.arxiv_id in later),
        gone=tuple(i for i in completion.missing if i in later),
        ignored=len(collection.ignored),
        read=collection.read + len(collection.skipped) + len(collection.ignored),
        relinked=tuple(relinked),
        by_doi=frozenset(completion.by_doi),
        offline=lookup is None,
        abstracts=tuple(p for p in listed if p.abstract and p.arxiv_id in lacking),
    )


def _check_not_empty(collected: _Collected, files: Sequence[Path], path: Path) -> None:
    """Refuse to create a profile from files that gave nothing to keep, saying why in one line."""
    if collected.papers or collected.pending or collected.filled:
        return
    names = ", ".join(str(f) for f in files)
    if collected.listed:
        return  # all already there: nothing new, but nothing wrong
    skipped = counted(len(collected.skipped), "entry", "entries")
    why = f": {skipped} skipped, e.g. {collected.skipped[0][0]}: {collected.skipped[0][1]}"
    raise PaperrecError(f"no paper to import from {names}{why if collected.skipped else ''}; {path} was not created")


def _report(
    profile: Profile,
    collected: _Collected,
    added: list[Paper],
    path: Path | None = None,
    moved: Sequence[Paper] = (),
) -> ImportReport:
    fresh_ids = {p.arxiv_id for p in collected.papers}
    return ImportReport(
        moved=tuple(p for p in moved if p.arxiv_id in fresh_ids),
        profile=profile,
        added=tuple(p for p in added if p.arxiv_id in fresh_ids),
        already_present=collected.listed
        - collected.fresh
        + len(collected.papers)
        - sum(1 for p in added if p.arxiv_id in fresh_ids),
        skipped=collected.skipped,
        without_abstract=sum(1 for p in added if not p.abstract and p.arxiv_id in fresh_ids),
        refreshable=_when_refreshable(collected, [p for p in added if p.arxiv_id in fresh_ids]),
        notice=collected.notice,
        path=path,
        merged=collected.merged,
        pending=collected.pending,
        filled=collected.filled,
        ignored=collected.ignored,
        read=collected.read,
        relinked=collected.relinked,
        by_doi=sum(1 for p in added if p.arxiv_id in collected.by_doi and p.arxiv_id in fresh_ids),
    )


def _when_refreshable(collected: _Collected, added: Sequence[Paper]) -> str:
    """When `profile refresh` can fetch what these added papers lack: "online", "later", or "" (nothing to fetch)."""
    if not any(needs_metadata(p) for p in added):
        return ""
    if collected.offline:
        return "online"
    return "later" if collected.notice is not None else ""  # the notice says which service did not answer


def import_papers(
    profile: Profile,
    files: Sequence[Path],
    *,
    fmt: str | None = None,
    lookup: Lookup | None = None,
    cache: MetadataCache | None = None,
    section: str = "liked",
) -> ImportReport:
    """Add the papers of BibTeX, Zotero, id-list or listing files to a profile, fetching missing abstracts."""
    collected = _collect(files, fmt, profile, section, lookup, cache)
    updated, added = add_papers(_relinked(profile, collected.relinked), collected.papers, section, collected.added)
    updated = replace(updated, pending=updated.pending + _new_pending(updated, collected, section))
    return _report(updated, collected, added)


def _relinked(profile: Profile, papers: Sequence[Paper]) -> Profile:
    """The profile with these papers' links on its entries of their ids (as set_links does to a file)."""
    links = {p.arxiv_id: p.links for p in papers}

    def kept(entries: tuple[ProfilePaper, ...]) -> tuple[ProfilePaper, ...]:
        return tuple(
            replace(e, paper=replace(e.paper, links=links[e.paper.arxiv_id])) if e.paper.arxiv_id in links else e
            for e in entries
        )

    return replace(profile, liked=kept(profile.liked), disliked=kept(profile.disliked))


def _new_pending(profile: Profile, collected: _Collected, section: str) -> tuple[PendingPaper, ...]:
    """Pending entries for the collected ids without text that the profile does not have yet."""
    have = profile.ids
    return tuple(
        PendingPaper(arxiv_id=i, section=section, added=collected.added.get(i) or date.today())
        for i in collected.pending
        if i not in have
    )


def _filled(profile: Profile, papers: Sequence[Paper]) -> list[Change]:
    """Pending papers whose text is now known, each into the section it waited for, on the day it was added."""
    by_id = {p.arxiv_id: p for p in profile.pending}
    changes = []
    for target in SECTIONS:
        chosen = [p for p in papers if p.arxiv_id in by_id and by_id[p.arxiv_id].section == target]
        if chosen:
            changes.append(rate(chosen, target, {p.arxiv_id: by_id[p.arxiv_id].added for p in chosen}))
    return changes


def _import_changes(profile: Profile, collected: _Collected, section: str) -> list[Change]:
    """The changes an import makes: its papers, the pending papers it completed, and the ids still without text."""
    done = [p.arxiv_id for p in collected.filled] + list(collected.gone)
    return [
        rate(collected.papers, section, collected.added),
        *_filled(profile, collected.filled),
        add_pending(_new_pending(profile, collected, section), done),
        set_links(collected.relinked),
        fill_abstracts(collected.abstracts),  # an abstract the entry has (the user's own) is never replaced
    ]


def _added(edited: Edited) -> list[Paper]:
    return [m.paper for m in edited.moved if m.after in SECTIONS and m.paper is not None]


def _moved(edited: Edited) -> list[Paper]:
    """Papers an edit moved from one section to the other (a disliked import of liked papers)."""
    return [m.paper for m in edited.moved if m.before in SECTIONS and m.after in SECTIONS and m.paper is not None]


def import_into_profile(
    path: Path,
    files: Sequence[Path],
    *,
    fmt: str | None = None,
    lookup: Lookup | None = None,
    cache: MetadataCache | None = None,
    section: str = "liked",
    categories: Sequence[str] = (),
    sources: Sequence[str] = (),
) -> ImportReport:
    """Add the papers of library files to the profile file at path, creating it (named after the file) if missing.

    Abstracts are looked up before the lock is taken; the papers are merged under it, so edits made
    meanwhile by another paperrec are kept. Papers known only by id (offline) are kept pending; the
    profile's pending papers are completed by the same lookup. Categories (sources) given replace the profile's.
    """
    path = Path(path)
    followed = [set_categories(categories)] if categories else []  # checked before any lookup
    followed += [set_sources(sources)] if sources else []
    exists = path.is_file()
    current = load_profile(path) if exists else new_profile(path.stem)
    waiting = [p.arxiv_id for p in current.pending] if lookup is not None else []
    collected = _collect(files, fmt, current, section, lookup, cache, waiting)

    def plan(profile: Profile) -> list[Change]:
        return _import_changes(profile, collected, section) + followed

    if exists:
        edited = change_profile(path, plan, votes=False)
    else:
        _check_not_empty(collected, files, path)
        edited = create_profile_file(path, current, plan, if_exists="edit")
    report = _report(edited.profile, collected, _added(edited), path, _moved(edited))
    filled = tuple(s.paper for s in edited.settings if s.key == "abstract")
    return replace(report, saved=not exists or bool(edited.moved or edited.settings), abstracts=filled)


@dataclass(frozen=True)
class RefreshReport:
    """What a refresh did: pending papers filled in (now liked or disliked), still pending, or not on arXiv, and the
    liked and disliked papers that got their abstract."""

    profile: Profile
    path: Path
    filled: tuple[Paper, ...]
    pending: tuple[str, ...]  # still without text (the lookup failed or is offline)
    gone: tuple[str, ...]  # the arXiv API knows no paper of these ids: removed from the profile
    notice: str | None = None
    abstracts: tuple[str, ...] = ()  # ids of liked and disliked papers whose missing abstract was found
    offline: bool = False  # there was no lookup: only the metadata cache was read

    @property
    def changed(self) -> bool:
        """Whether the refresh changed the profile (papers filled in or removed, abstracts found)."""
        return bool(self.filled or self.gone or self.abstracts)

    @property
    def failed(self) -> bool:
        """Whether a lookup it asked for failed, so a later run may fetch what this one could not."""
        return self.notice is not None and not self.offline

    def abstract_lines(self) -> list[str]:
        """How many liked and disliked papers got their abstract, one line a section; none when none did."""
        counts = {s: sum(1 for i in self.abstracts if self.profile.section_of(i) == s) for s in SECTIONS}
        return [
            f"{counted(count, f'{section} paper got its', f'{section} papers got their')} abstract"
            for section, count in counts.items()
            if count
        ]

    def lines(self) -> list[str]:
        """What the refresh did, one line each: the lines `profile refresh` prints."""
        lines = [self.notice] if self.notice else []
        command = f"paperrec profile refresh {command_arg(self.path, self.profile.name)}"
        if self.filled or self.pending or self.gone:
            lines.append(
                f"{self.profile.name}: {counted(len(self.filled), 'pending paper', 'pending papers')} filled in"
            )
        lines += self.abstract_lines()
        lacking = {s: sum(1 for e in self.profile.papers(s) if needs_metadata(e.paper)) for s in SECTIONS}
        one = sum(lacking.values()) == 1
        if any(lacking.values()) and (self.failed or self.offline):
            which = " and ".join(counted(n, f"{s} paper", f"{s} papers") for s, n in lacking.items() if n)
            later = f"to fetch {'it' if one else 'them'}, run online:" if self.offline else "run later:"
            lines.append(
                f"{self.profile.name}: {which} still {'has' if one else 'have'} no abstract; {later} {command}"
            )
        elif any(lacking.values()):  # asked and answered: the services have no abstract (or a title names the paper)
            which = " and ".join(counted(n, f"{s} paper", f"{s} papers") for s, n in lacking.items() if n)
            lines.append(f"{self.profile.name}: {which} still {'has' if one else 'have'} no abstract: none was found")
        elif not (self.changed or self.pending):
            lines.append(f"{self.profile.name}: nothing to fetch, every paper has its title and abstract")
        if self.pending:
            why = "offline: only the metadata cache was read" if self.offline else "arXiv did not answer"
            later = f"to fetch {'them' if self.pending[1:] else 'it'}, run online:" if self.offline else "run later:"
            lines.append(f"{len(self.pending)} still kept by id only ({why}); {later} {command}")
        if self.gone:
            lines.append(f"{len(self.gone)} removed: arXiv has no paper of these ids: {', '.join(self.gone)}")
        lines.append(f"profile {'saved' if self.changed else 'unchanged'}: {self.path}")
        return lines


def refresh_profile(path: Path, lookup: Lookup | None, cache: MetadataCache | None = None) -> RefreshReport:
    """Look up the titles and abstracts of a profile's pending papers and move them to their sections, and the
    abstracts of its liked and disliked papers that have none (arXiv and DOI ids; a title id cannot be looked up).

    Example: refresh_profile(Path("vision.toml"), lookup, cache)
    """
    path = Path(path)
    current = load_profile(path)
    waiting = [p.arxiv_id for p in current.pending]
    bare = [e.paper for s in SECTIONS for e in current.papers(s) if needs_metadata(e.paper)]
    if not waiting and not bare:
        return RefreshReport(current, path, (), (), (), offline=lookup is None)
    bare_ids = {p.arxiv_id for p in bare} - set(waiting)
    completion = complete_papers([Paper(arxiv_id=i, title="") for i in waiting] + bare, lookup, cache)
    missing = set(completion.missing) - bare_ids
    found = [p for p in completion.papers if p.arxiv_id in bare_ids and p.abstract]
    filled: list[Paper] = []

    def plan(profile: Profile) -> list[Change]:
        changes = _filled(profile, [p for p in completion.papers if p.arxiv_id not in bare_ids])
        filled.extend(p for change in changes for p in change.papers if isinstance(p, Paper))
        return [*changes, add_pending((), [p.arxiv_id for p in filled] + sorted(missing)), fill_abstracts(found)]

    edited = change_profile(path, plan, votes=False)
    return RefreshReport(
        profile=edited.profile,
        path=path,
        filled=tuple(filled),
        pending=tuple(p.arxiv_id for p in edited.profile.pending),
        gone=tuple(i for i in waiting if i in missing),
        notice=completion.notice,
        abstracts=tuple(s.paper for s in edited.settings if s.key == "abstract"),
        offline=lookup is None,
    )


def create_profile(
    path: Path,
    profile: Profile,
    files: Sequence[Path] = (),
    *,
    fmt: str | None = None,
    lookup: Lookup | None = None,
    cache: MetadataCache | None = None,
    force: bool = False,
) -> ImportReport:
    """Write a new profile file, liking the papers of the given library files; refuses to overwrite without force."""
    path = Path(path)
    if path.exists() and not force:
        raise PaperrecError(f"profile {path} already exists: add papers with 'paperrec profile import', or --force")
    collected = _collect(files, fmt, None, "liked", lookup, cache) if files else _Collected(0, 0, (), (), None)
    if files:
        _check_not_empty(collected, files, path)
    changes = [rate(collected.papers, "liked", collected.added), add_pending(_new_pending(profile, collected, "liked"))]
    edited = create_profile_file(path, profile, changes, if_exists="replace" if force else "fail")
    return _report(edited.profile, collected, _added(edited), path)


# -- the commands' side: profiles by name, the arXiv lookup, the metadata cache -------------------------------------


def metadata_lookup(offline: bool) -> Lookup | None:
    """The lookup of missing titles and abstracts: arXiv ids on the arXiv API, DOIs on OpenAlex; None when offline."""
    if offline:
        return None
    from ..sources import openalex
    from ..sources.arxiv import fetch_metadata
    from ..sources.http import PoliteClient, for_source

    def lookup(ids: list[str]) -> dict[str, Paper]:
        found: dict[str, Paper] = {}
        dois = [i for i in ids if i.startswith("doi:")]
        if dois:
            with for_source("OpenAlex", openalex.HOSTS, openalex.MIN_INTERVAL) as client:
                found.update(openalex.fetch_by_doi(client, dois))
        others = [i for i in ids if not i.startswith("doi:")]
        if others:
            with PoliteClient() as client:
                found.update(fetch_metadata(client, others))
        return found

    return lookup


def import_library(
    profile: str,
    files: Sequence[Path],
    *,
    fmt: str | None = None,
    offline: bool = False,
    section: str = "liked",
    categories: Sequence[str] = (),
    sources: Sequence[str] = (),
) -> ImportReport:
    """Add the papers of BibTeX, Zotero or id-list files to a profile (created if missing), fetching abstracts.

    Example: import_library("vision", [Path("export.bib")], categories=["cs.CV"])
    """
    path = paths.resolve_profile(profile)
    validate_categories(categories)  # a typo fails before any lookup
    parse_specs(sources)
    cache = MetadataCache(paths.metadata_cache_path())
    try:
        lookup = metadata_lookup(offline)
        return import_into_profile(
            path, files, fmt=fmt, lookup=lookup, cache=cache, section=section, categories=categories, sources=sources
        )
    finally:
        cache.close()


def refresh_library(profile: str, *, offline: bool = False) -> RefreshReport:
    """Fetch the titles and abstracts of a profile's papers kept by id only, and like (or dislike) them; fetch the
    abstracts its liked and disliked papers lack. Offline, only the metadata cache is read.

    Example: refresh_library("vision")
    """
    path = paths.resolve_profile(profile)
    cache = MetadataCache(paths.metadata_cache_path())
    try:
        return refresh_profile(path, metadata_lookup(offline), cache)
    finally:
        cache.close()


def start_profile(
    name: str,
    *,
    output: Path | None = None,
    description: str = "",
    categories: Sequence[str] = (),
    interests: Sequence[str] = (),
    files: Sequence[Path] = (),
    fmt: str | None = None,
    offline: bool = False,
    force: bool = False,
    sources: Sequence[str] = (),
) -> ImportReport:
    """Create a profile file (in the profiles directory unless output is given), liking the papers of files.

    Example: start_profile("vision", files=[Path("my-library.bib")], categories=["cs.CV"])
    """
    path = output or paths.resolve_profile(name, existing=False)
    if path.exists() and not force:  # before any lookup; checked again under the lock
        raise PaperrecError(f"profile {path} already exists: add papers with 'paperrec profile import', or --force")
    categories = validate_categories(categories)
    specs = parse_specs(sources)  # arXiv keys are checked against the taxonomy there
    warned = spec_warnings(specs)  # a category bioRxiv or medRxiv may know though paperrec does not
    created = new_profile(
        name,
        description=description,
        categories=categories,
        interests=interests,
        sources=[str(spec) for spec in specs],
    )
    if not files:
        report = create_profile(path, created, force=force)
    else:
        cache = MetadataCache(paths.metadata_cache_path())
        try:
            lookup = metadata_lookup(offline)
            report = create_profile(path, created, files, fmt=fmt, lookup=lookup, cache=cache, force=force)
        finally:
            cache.close()
    return replace(report, notice="; ".join([*warned, *filter(None, [report.notice])]) or None)


def report_lines(report: ImportReport, section: str = "liked") -> list[str]:
    """What an import did, one line each: the lines `profile import` prints and the web page shows."""
    lines = [report.notice] if report.notice else []
    name = report.profile.name
    added, other = len(report.added) - len(report.moved), "liked" if section == "disliked" else "disliked"
    moved = f", {len(report.moved)} moved there from {other}" if report.moved else ""
    papers = counted(added, "paper", "papers")
    if report.saved:
        lines.append(f"{name}: {papers} added to {section}{moved}, {report.already_present} already there")
    else:
        lines.append(f"{name}: nothing new, {report.already_present} already there")
    if report.merged:
        merged = counted(report.merged, "duplicate entry", "duplicate entries")
        lines.append(f"{merged} merged (same arXiv id, DOI, or title and year)")
    if report.relinked:
        known = counted(len(report.relinked), "paper already there is", "papers already there are")
        lines.append(f"{known} now also known by another id (an arXiv id, a DOI, a forum)")
    if report.filled:
        filled = counted(
            len(report.filled), "paper kept by id earlier now has its", "papers kept by id earlier now have their"
        )
        lines.append(f"{filled} title and abstract")
    if report.pending:
        pending = counted(
            len(report.pending), "paper kept by id only: it gets its", "papers kept by id only: they get their"
        )
        lines.append(f"{pending} title and abstract at the next online import or 'paperrec profile refresh'")
    if report.abstracts:
        got = counted(len(report.abstracts), "paper already there got its", "papers already there got their")
        lines.append(f"{got} abstract from this import")
    if report.ignored:
        one = report.ignored == 1
        ignored = counted(report.ignored, "note or attachment", "notes and attachments")
        lines.append(f"{ignored} ignored (not {'a paper' if one else 'papers'})")
    if report.by_doi:
        lines.append(f"{counted(report.by_doi, 'paper', 'papers')} known by DOI got their abstract from OpenAlex")
    if report.without_abstract:
        one = report.without_abstract == 1
        # The command ends the line unquoted: a quoted path inside '…' would read as two strings.
        command = f"paperrec profile refresh {command_arg(report.path, report.profile.name)}"
        later = f"; to fetch {'it' if one else 'them'}, run {report.refreshable}: {command}"
        later = later if report.refreshable else ""
        lacking = counted(report.without_abstract, "added paper has", "added papers have")
        lines.append(f"{lacking} no abstract; {'its title is' if one else 'their titles are'} used instead{later}")
    if report.skipped:
        lines.append(f"{len(report.skipped)} skipped:")
        lines += [f"  {what}: {why}" for what, why in report.skipped[:20]]
        if len(report.skipped) > 20:
            lines.append(f"  ... and {len(report.skipped) - 20} more")
    lines += filter(None, [no_categories_line(report.profile)])
    lines.append(f"profile {'saved' if report.saved else 'unchanged'}: {report.path}")
    return lines


def command_arg(path: Path | None, name: str) -> str:
    """A profile as a command names it, shell-quoted: its file's name in the profiles folder, else its path."""
    import shlex

    if path is None or path.parent.resolve() == paths.profiles_dir().resolve():
        return shlex.quote(path.stem if path is not None else name)
    return shlex.quote(str(path))


def no_categories_line(profile: Profile) -> str | None:
    """The warning for a profile that follows nothing (no arXiv category, no other source), naming the two ways to
    set categories; None when it follows something."""
    import shlex

    if profile.categories or profile.sources:
        return None
    name = profile.name
    return (
        f"{name} follows no arXiv category yet, so 'paperrec today' has nothing to fetch for it: set them on the "
        f"Profile page of 'paperrec serve', or run: paperrec profile import {shlex.quote(name)} -c cs.CV"
        " (or -s biorxiv:neuroscience, another source: 'paperrec sources')"
    )


def follow_categories(profile: str, categories: Sequence[str], sources: Sequence[str] = ()) -> Profile:
    """Replace the arXiv categories (and, when given, the other sources) of an existing profile; returns it as saved.

    Example: follow_categories("vision", ["cs.CV", "eess.IV"])
    """
    path = paths.resolve_profile(profile)
    if not path.is_file():
        raise unknown_profile(path)
    changes = [set_categories(categories)] if categories else []
    return change_profile(path, changes + ([set_sources(sources)] if sources else [])).profile
