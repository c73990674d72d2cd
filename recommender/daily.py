"""The morning run for one or more profiles: hide what was already shown, rank, remember the picks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .embed import CachedEmbedder
from .paths import profiles_dir, resolve_profile
from .profile import Profile, load_profile
from .rank import recommend
from .schema import Listing, PaperrecError, Pick
from .seen import SeenMemory


@dataclass(frozen=True)
class RankedProfile:
    """One profile's picks from a listing, and how many papers were hidden as already seen."""

    path: Path
    profile: Profile
    picks: list[Pick]
    hidden_seen: int = 0


def profile_paths(names: Sequence[str]) -> list[Path]:
    """The profile files named (names or paths), or every profile in the profiles directory."""
    if names:
        return [resolve_profile(name).resolve() for name in dict.fromkeys(names)]
    folder = profiles_dir()
    found = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    if not found:
        raise PaperrecError(f"no profiles in {folder}: create one with 'paperrec profile new NAME --from FILE'")
    return [p.resolve() for p in found]


def rank_profile(
    listing: Listing,
    path: Path,
    embedder: CachedEmbedder,
    *,
    seen: SeenMemory | None = None,
    day: date | None = None,
    include_seen: bool = False,
    mark_seen: bool = False,
    profile: Profile | None = None,
    **options,
) -> RankedProfile:
    """Rank a listing for the profile at path; with a seen-memory, hide earlier days' picks and remember these."""
    profile = profile or load_profile(path)
    day = day or listing.date or date.today()
    hidden: set[str] = set()
    if seen is not None and not include_seen:
        hidden = seen.seen_before(profile.name, day) & {p.arxiv_id for p in listing.papers}
    picks = recommend(listing, profile, embedder, exclude=hidden, **options)
    if seen is not None and mark_seen:
        seen.mark(profile.name, [p.paper.arxiv_id for p in picks], day)
    return RankedProfile(path=path, profile=profile, picks=picks, hidden_seen=len(hidden))
