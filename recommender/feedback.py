"""Votes as the commands give them: like / dislike / unlike papers by arXiv id or rank number in the last ranking."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import paths
from .profile import Profile, change_profile, edit
from .schema import Paper, PaperrecError, split_arxiv_id


@dataclass(frozen=True)
class Rating:
    """What a like or dislike did: the profile after it, the papers new to the section, and how many were not."""

    profile: Profile
    path: Path
    added: tuple[Paper, ...]
    already: int


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

    candidates = read_listing(listing, input_format).papers if listing else None
    path, papers = resolve_refs(refs, profile, candidates)
    edited = change_profile(path, [edit.rate(papers, section)])
    new = edited.added(section)
    return Rating(profile=edited.profile, path=path, added=tuple(new), already=len(refs) - len(new))


def unrate(ids: Sequence[str], profile: str) -> Unrating:
    """Remove papers by arXiv id from a profile's liked, disliked and pending papers; an error when it has none.

    Example: unrate(["2104.10642"], "super-resolution")
    """
    path = paths.resolve_profile(profile)
    keys = [(split_arxiv_id(i) or (i.strip(), None))[0] for i in ids]
    edited = change_profile(path, [edit.remove(keys)])
    found = edited.removed()
    if not found:
        raise PaperrecError(f"none of {', '.join(ids)} is in profile {edited.profile.name!r}")
    return Unrating(
        profile=edited.profile, path=path, removed=tuple(found), missing=tuple(i for i in keys if i not in found)
    )
