"""Feedback on papers, as the commands give it: like / dislike / unlike by id or rank number, and library imports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import paths
from .profile import (
    ImportReport,
    Profile,
    RefreshReport,
    create_profile,
    import_into_profile,
    new_profile,
    rate_papers,
    refresh_profile,
    unrate_papers,
)
from .schema import Paper, PaperrecError, split_arxiv_id
from .sources.metadata import Lookup, MetadataCache


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
    updated, new = rate_papers(path, papers, section)
    return Rating(profile=updated, path=path, added=tuple(new), already=len(refs) - len(new))


def unrate(ids: Sequence[str], profile: str) -> Unrating:
    """Remove papers by arXiv id from a profile's liked, disliked and pending papers; an error when it has none.

    Example: unrate(["2104.10642"], "super-resolution")
    """
    path = paths.resolve_profile(profile)
    keys = [(split_arxiv_id(i) or (i.strip(), None))[0] for i in ids]
    updated, found = unrate_papers(path, keys)
    if not found:
        raise PaperrecError(f"none of {', '.join(ids)} is in profile {updated.name!r}")
    return Unrating(profile=updated, path=path, removed=tuple(found), missing=tuple(i for i in keys if i not in found))


def metadata_lookup(offline: bool) -> Lookup | None:
    """The arXiv API lookup of missing titles and abstracts; None when offline."""
    if offline:
        return None
    from .sources.arxiv import fetch_metadata
    from .sources.http import PoliteClient

    def lookup(ids: list[str]) -> dict[str, Paper]:
        client = PoliteClient()
        try:
            return fetch_metadata(client, ids)
        finally:
            client.close()

    return lookup


def import_library(
    profile: str, files: Sequence[Path], *, fmt: str | None = None, offline: bool = False, section: str = "liked"
) -> ImportReport:
    """Add the papers of BibTeX, Zotero or id-list files to a profile (created if missing), fetching abstracts.

    Example: import_library("vision", [Path("export.bib")])
    """
    path = paths.resolve_profile(profile)
    cache = MetadataCache(paths.metadata_cache_path())
    try:
        return import_into_profile(path, files, fmt=fmt, lookup=metadata_lookup(offline), cache=cache, section=section)
    finally:
        cache.close()


def refresh_library(profile: str, *, offline: bool = False) -> RefreshReport:
    """Fetch the titles and abstracts of a profile's papers kept by id only, and like (or dislike) them.

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
) -> ImportReport:
    """Create a profile file (in the profiles directory unless output is given), liking the papers of files.

    Example: start_profile("vision", files=[Path("my-library.bib")], categories=["cs.CV"])
    """
    path = output or paths.resolve_profile(name)
    if path.exists() and not force:  # before any lookup; checked again under the lock
        raise PaperrecError(f"profile {path} already exists: add papers with 'paperrec profile import', or --force")
    created = new_profile(name, description=description, categories=categories, interests=interests)
    if not files:
        return create_profile(path, created, force=force)
    cache = MetadataCache(paths.metadata_cache_path())
    try:
        return create_profile(path, created, files, fmt=fmt, lookup=metadata_lookup(offline), cache=cache, force=force)
    finally:
        cache.close()
