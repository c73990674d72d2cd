"""Votes as the commands give them: like / dislike / unlike papers by arXiv id or rank number in the last ranking."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import paths
from .profile import Profile, change_profile, edit, load_profile, unknown_profile
from .schema import NotFound, Paper, PaperrecError, UsageError, paper_key


@dataclass(frozen=True)
class Rating:
    """What a like or dislike did: the profile after it, the papers new to the section, and how many were not."""

    profile: Profile
    path: Path
    added: tuple[Paper, ...]
    already: int
    was: dict[str, str] = field(default_factory=dict)  # id -> the section an added paper moved from


@dataclass(frozen=True)
class Unrating:
    """What an unlike did: the profile after it, the ids removed and the ids it did not have."""

    profile: Profile
    path: Path
    removed: tuple[str, ...]
    missing: tuple[str, ...]


def rate(
    refs: Sequence[str],
    section: str,
    *,
    profile: str | None = None,
    listing: Path | None = None,
    input_format: str | None = None,
) -> Rating:
    """Like (section 'liked') or dislike papers given by arXiv id or rank number in the last ranking.

    Example: rate(["2104.10642", "3"], "liked", profile="super-resolution")
    """
    from .sources import read_listing
    from .state import resolve_refs

    if profile is not None and not (named := paths.resolve_profile(profile)).is_file():
        raise unknown_profile(named)  # a typo in -p, said before the ranking or the store is searched for it
    candidates = read_listing(listing, input_format).papers if listing else None
    path, papers = resolve_refs(refs, profile, candidates)
    edited = change_profile(path, [edit.rate(papers, section)])
    new = edited.added(section)
    was = {m.arxiv_id: m.before for m in edited.moved if m.after == section and m.before in ("liked", "disliked")}
    return Rating(profile=edited.profile, path=path, added=tuple(new), already=len(refs) - len(new), was=was)


def _stored_profiles(unreadable: list[tuple[Path, PaperrecError]] | None = None) -> list[tuple[Path, Profile]]:
    """Every readable profile in the profiles directory, by file name; an unreadable one is passed over, and added
    to `unreadable` with its error when that is given."""
    folder = paths.profiles_dir()
    found = []
    for path in paths.profile_files(folder):
        try:
            found.append((path, load_profile(path)))
        except PaperrecError as error:
            if unreadable is not None:
                unreadable.append((path, error))
    return found


def named_profile(name: str) -> Path:
    """The profile file a name means: a path, a file stem in the profiles directory, or a profile's display name."""
    refused: UsageError | None = None
    try:
        path: Path | None = paths.resolve_profile(name)
    except UsageError as error:  # a display name may hold what a file name may not ('/')
        path, refused = None, error
    if path is not None and path.is_file():
        return path
    named = [found for found, profile in _stored_profiles() if profile.name == name]
    if len(named) == 1:
        return named[0]
    if named:
        raise UsageError(f"{len(named)} profiles are named {name!r}: give the file's name ({named[0].stem}, ...)")
    if path is None:
        raise refused or UsageError(f"invalid profile name {name!r}")
    raise unknown_profile(path)  # before the last ranking is searched for it


def profile_holding(keys: Sequence[str]) -> Path:
    """The one profile that has any of these ids (as a vote finds them: see held_ids); an error when none or several
    have them."""
    from .state import held_ids

    wanted = set(keys)
    unreadable: list[tuple[Path, PaperrecError]] = []
    holding = [path for path, profile in _stored_profiles(unreadable) if held_ids(profile, wanted)]
    if unreadable and len(holding) < 2:
        # A profile that cannot be read (a hand edit gone wrong) may hold the paper: taking it from another is a guess.
        path, error = unreadable[0]
        why = str(error).removeprefix(f"{path}: ")
        where = f"is in {holding[0].stem}, but" if holding else "is in no readable profile, and"
        raise PaperrecError(
            f"{', '.join(keys)} {where} {path} cannot be read ({why}): fix it, or say which profile with --profile"
        )
    if len(holding) == 1:
        return holding[0]
    if not holding:
        if len(keys) == 1:
            raise NotFound(f"{keys[0]} is in no profile in {paths.profiles_dir()}")
        raise NotFound(f"none of {', '.join(keys)} is in any profile in {paths.profiles_dir()}")
    names = ", ".join(path.stem for path in holding)
    raise UsageError(f"{', '.join(keys)}: in {len(holding)} profiles ({names}); say which with --profile")


def unrate(ids: Sequence[str], profile: str | None = None) -> Unrating:
    """Remove papers by arXiv id or rank number in the last ranking from a profile's liked, disliked and pending
    papers; an error when it has none.

    Without a profile, the one profile that has any of the ids. A profile is named by path, file stem or display name.

    Example: unrate(["2104.10642", "3"], "super-resolution")
    """
    from .state import held_ids, ranked_ids

    named = None if profile is None else named_profile(profile)
    ids = ranked_ids(ids, named)
    keys = [paper_key(i) for i in ids]
    path = profile_holding(keys) if named is None else named
    held: dict[str, str] = {}

    def plan(current: Profile) -> list[edit.Change]:
        # Found under the file's lock: the entry a DOI or a journal's page names, as a like finds it.
        held.update(held_ids(current, keys))
        return [edit.remove(dict.fromkeys(held.get(key, key) for key in keys))]

    edited = change_profile(path, plan)
    found = edited.removed()
    if not found:
        raise PaperrecError(f"none of {', '.join(ids)} is in profile {edited.profile.name!r}")
    return Unrating(
        profile=edited.profile,
        path=path,
        removed=tuple(found),
        missing=tuple(key for key in keys if held.get(key, key) not in found),
    )
