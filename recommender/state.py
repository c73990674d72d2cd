"""Run state under PAPERREC_HOME: the last ranking shown, so `like 3` or `like ID` can find the paper."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .paths import (
    CREATE_PROFILE,
    atomic_write_text,
    last_ranking_path,
    locked,
    profile_files,
    profiles_dir,
    resolve_profile,
)
from .schema import Paper, PaperrecError, Pick, UsageError, page_key, page_keys, paper_key
from .sources import paper_from_record, paper_to_record

if TYPE_CHECKING:
    from .profile import Profile


@dataclass(frozen=True)
class Section:
    """One profile's part of a ranking: the profile file and the ids shown, in rank order."""

    profile: str  # absolute path of the profile file
    name: str
    pick_ids: tuple[str, ...]


@dataclass(frozen=True)
class LastRanking:
    """What the last `rank` or `today` showed: every candidate paper and one section per profile."""

    papers: tuple[Paper, ...]
    sections: tuple[Section, ...]

    def paper(self, arxiv_id: str) -> Paper | None:
        """The candidate with this id, if the last ranking had it."""
        return next((p for p in self.papers if p.arxiv_id == arxiv_id), None)

    def section(self, profile: str | None) -> Section:
        """The section of this profile file (absolute path); the only one when profile is None."""
        if profile is None:
            if len(self.sections) != 1:
                names = ", ".join(s.name for s in self.sections)
                raise UsageError(f"the last run ranked several profiles ({names}): choose one with --profile")
            return self.sections[0]
        for section in self.sections:
            if profile == section.profile:
                return section
        raise PaperrecError(f"the last ranking did not include profile {profile!r}")


def save_last_ranking(
    papers: Sequence[Paper], sections: Sequence[tuple[str, Sequence[Pick]]], *, failed: Collection[str] = ()
) -> None:
    """Remember the candidates and, per profile file path, the picks just shown. The profiles of `failed` (file
    paths: this run could not rank them) keep their sections of the last ranking: those picks are still the ones shown.
    """
    shown = [
        {"profile": path, "name": picks[0].profile if picks else "", "picks": [p.paper.arxiv_id for p in picks]}
        for path, picks in sections
    ]
    papers = list(papers)
    path = last_ranking_path()
    # Locked: a failed profile's section is read back and written again, and a run beside this one (serve's "Fetch
    # today" and cron's today) must not have its newer picks for that profile put back to older ones.
    with locked(path):
        if failed and path.is_file():
            try:
                before = load_last_ranking("")
            except PaperrecError:  # unreadable: nothing of it to keep
                before = LastRanking(papers=(), sections=())
            ranked = {where for where, _ in sections}
            for section in before.sections:
                if section.profile in failed and section.profile not in ranked:
                    shown.append({"profile": section.profile, "name": section.name, "picks": list(section.pick_ids)})
                    known = {p.arxiv_id for p in papers}
                    papers += [p for p in before.papers if p.arxiv_id in section.pick_ids and p.arxiv_id not in known]
        data = {"sections": shown, "papers": [paper_to_record(p) for p in papers]}
        try:
            atomic_write_text(path, json.dumps(data, ensure_ascii=False))
        except OSError as error:
            raise PaperrecError(f"cannot write the last ranking {path}: {error.strerror or error}") from None


def load_last_ranking(hint: str = " or pass --listing FILE") -> LastRanking:
    """The last ranking shown; an error if there is none (ending with `hint`, the other way the caller has)."""
    path = last_ranking_path()
    if not path.is_file():
        raise PaperrecError(f"no ranking shown yet: run 'paperrec today' or 'paperrec rank' first{hint}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        papers = tuple(paper_from_record(r, str(path)) for r in data["papers"])
        sections = tuple(Section(s["profile"], s["name"], tuple(s["picks"])) for s in data["sections"])
        return LastRanking(papers=papers, sections=sections)
    except (ValueError, KeyError, TypeError, PaperrecError):
        raise PaperrecError(f"{path}: the saved last ranking is unreadable; run 'paperrec rank' again") from None


def ranked_ids(refs: Sequence[str], profile: Path | None) -> list[str]:
    """The refs with each rank number replaced by the id of that pick in the last ranking of `profile` (a file path;
    None: the only profile ranked); ids are kept as given."""
    if not any(r.strip().isdigit() for r in refs):
        return list(refs)
    section = load_last_ranking("").section(str(profile.resolve()) if profile is not None else None)
    return [_pick_id(section, ref) if ref.isdigit() else ref for ref in (r.strip() for r in refs)]


def _pick_id(section: Section, rank: str) -> str:
    """The id of pick number `rank` (digits) in a section of the last ranking; an error naming what was shown."""
    if not 1 <= int(rank) <= len(section.pick_ids):
        raise PaperrecError(f"no pick #{rank} in the last ranking of {section.name!r} ({len(section.pick_ids)} shown)")
    return section.pick_ids[int(rank) - 1]


def _only_profile() -> Path:
    """The one profile file in the profiles directory, for a vote given before any ranking; an error otherwise."""
    folder = profiles_dir()
    files = profile_files(folder)
    if len(files) == 1:
        return files[0].resolve()
    if not files:
        raise PaperrecError(f"no profile in {folder} yet: create one with {CREATE_PROFILE}")
    names = ", ".join(f.stem for f in files)
    raise UsageError(f"no ranking shown yet to take the profile from: say which with --profile ({names})")


def default_profile() -> Path:
    """The profile a command means when none is named: the one the last run ranked alone, else the only one there is."""
    if last_ranking_path().is_file():
        try:
            return Path(load_last_ranking().section(None).profile)
        except PaperrecError:  # several ranked, or unreadable: the only profile, if there is one
            files = profile_files(profiles_dir())
            if len(files) > 1:
                names = ", ".join(f.stem for f in files)
                raise UsageError(f"the last run ranked several profiles: say which with --profile ({names})") from None
    return _only_profile()


def _ref_key(ref: str) -> str:
    """The id a ref names, else the page it names (a journal's article page, see page_key), else the ref as given."""
    key = paper_key(ref)
    return (page_key(key) or key) if key == ref.strip() else key


def _naming(papers: Iterable[Paper], keys: Collection[str]) -> dict[str, list[Paper]]:
    """The papers each key names (by its id, another id or a page its links name), in the order given."""
    wanted = set(keys)
    found: dict[str, list[Paper]] = {}
    for paper in papers:
        for key in wanted.intersection(paper.ids + page_keys(paper)):
            found.setdefault(key, []).append(paper)
    return found


def _one_paper(ref: str, key: str, papers: Sequence[Paper]) -> Paper | None:
    """The paper a ref means among those its key names (the first copy of each): the one whose own id it is, else the
    only one whose links name it; None for none.

    A key the links of several papers name (an issue's page every entry of a feed links), on one day or on several,
    is a UsageError that asks for the paper's id. This is the one rule by which a vote finds its paper, among the
    shown, the stored or the profile's papers.
    """
    own = next((p for p in papers if p.arxiv_id == key), None)
    if own is not None:
        return own
    distinct: dict[str, Paper] = {}
    for paper in papers:
        distinct.setdefault(paper.arxiv_id, paper)
    if len(distinct) > 1:
        ids = ", ".join(sorted(distinct)[:3]) + (", ..." if len(distinct) > 3 else "")
        raise UsageError(f"{ref} names {len(distinct)} papers ({ids}): give the paper's own id (a DOI or arXiv id)")
    return next(iter(distinct.values()), None)


def stored_paper(key: str) -> Paper | None:
    """The stored paper a key names by the vote rule (_one_paper): its own id's paper on any day, else the one paper
    whose links name it; None for none."""
    from .sources.store import find_stored

    return _one_paper(key, key, find_stored([key]).get(key, ()))


def held_ids(profile: Profile, refs: Iterable[str]) -> dict[str, str]:
    """The id of the profile's entry each ref names, as a vote finds it (by id, by another id or a page its links
    name); refs it has no entry for are left out. Example: held_ids(profile, ["10.1016/j.molcel.2024.05.012"])."""
    keys = {ref: _ref_key(ref) for ref in refs}
    named = _naming((e.paper for e in profile.liked + profile.disliked), keys.values())
    pending = {p.arxiv_id for p in profile.pending}
    found = {}
    for ref, key in keys.items():
        paper = _one_paper(ref, key, named.get(key, ()))
        if paper is not None or key in pending:
            found[ref] = key if paper is None else paper.arxiv_id
    return found


def resolve_refs(
    refs: Sequence[str], profile: str | None, listing_papers: Sequence[Paper] | None
) -> tuple[Path, list[Paper]]:
    """The profile file to edit and the papers that refs (arXiv ids or rank numbers) point to.

    Ids are looked up in listing_papers when given, else among the last ranking's papers and the stored listings, then
    among the profile's own papers. Rank numbers always refer to the last ranking of the profile (the only one ranked
    when profile is None).
    Before any ranking, no profile named means the only profile there is.
    """
    keys = {ref: _ref_key(ref) for ref in refs if not ref.strip().isdigit()}
    numbers = any(r.strip().isdigit() for r in refs)
    profile_path = resolve_profile(profile).resolve() if profile else None
    if numbers:  # a listing gives no rank numbers: only a ranking does
        last: LastRanking | None = load_last_ranking("" if listing_papers is None else " or give arXiv ids")
    elif profile_path is None or listing_papers is None:
        last = load_last_ranking() if last_ranking_path().is_file() else None
    else:
        last = None
    section = None
    if last is not None and (numbers or profile_path is None):
        section = last.section(str(profile_path) if profile_path else None)
    if profile_path is None:
        profile_path = Path(section.profile) if section is not None else _only_profile()
    shown = last.papers if last is not None else ()
    wanted = set(keys.values())
    named = _naming(listing_papers if listing_papers is not None else shown, wanted)
    if listing_papers is None:  # a paper of an earlier day (yesterday's digest, the feed) is in the store
        from .sources.store import find_stored

        # A key other than a shown paper's own id may name papers of several days: every stored day is asked.
        unsure = {key for key in wanted if not any(p.arxiv_id == key for p in named.get(key, ()))}
        for key, papers in (find_stored(unsure) if unsure else {}).items():
            named.setdefault(key, []).extend(papers)
    missing = wanted - named.keys()
    if missing and profile_path.is_file():  # a paper the profile has (a like to turn into a dislike) needs no listing
        from .profile import load_profile

        own = load_profile(profile_path)
        named.update(_naming((e.paper for e in own.liked + own.disliked), missing))
    found: list[Paper] = []
    for raw in refs:
        ref = raw.strip()
        if ref.isdigit():
            paper = last.paper(_pick_id(section, ref))
        else:
            paper = _one_paper(ref, keys[raw], named.get(keys[raw], ()))
            if paper is None:
                if listing_papers is not None:
                    raise PaperrecError(f"paper {ref} is not in the listing")
                from .profile.library import command_arg

                raise PaperrecError(
                    f"paper {ref} is not in the last ranking or any stored listing; pass --listing FILE that contains"
                    " it, or write its DOI or arXiv id in a file and run: paperrec profile import"
                    f" {command_arg(profile_path, profile_path.stem)} FILE (its title comes from OpenAlex or arXiv)"
                )
        found.append(paper)
    return profile_path, found
