"""Runs: a listing ranked for several profiles (rank_listing), and the morning run that fetches first (run_today)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .embed import CachedEmbedder
from .paths import profiles_dir, resolve_profile, seen_path
from .profile import Profile, load_profile
from .rank import Scored, pick_from, recommend_settings, score_listing
from .schema import Listing, Paper, PaperrecError, Pick
from .seen import SeenMemory

# fetch(categories, day, include_cross=...) -> (listing, notice or None), as sources.arxiv.fetch_listing.
Fetch = Callable[..., tuple[Listing, str | None]]


@dataclass(frozen=True)
class Section:
    """One profile's part of a run: its file, the profile, its picks, how many papers were hidden as seen, and the
    whole day as scored (every candidate's score, e.g. to say where a pick stands in the day)."""

    path: Path
    profile: Profile
    picks: list[Pick]
    hidden_seen: int = 0
    scored: Scored | None = None


@dataclass(frozen=True)
class Run:
    """What a run ranked: one section per profile, every candidate paper, and notices meant for stderr."""

    sections: tuple[Section, ...]
    papers: tuple[Paper, ...]
    notices: tuple[str, ...] = ()

    def remember(self) -> None:
        """Keep this run as the last ranking, so `paperrec like 3` knows what #3 was."""
        from .state import save_last_ranking

        save_last_ranking(list(self.papers), [(str(s.path), s.picks) for s in self.sections])


@dataclass(frozen=True)
class _Cut:
    """How each profile's picks are cut from its scores (None: the profile's own setting)."""

    strategy: str | None = None
    top: int | None = 10
    min_score: float | None = None
    dislike_weight: float | None = None
    diversity: float | None = None


def profile_paths(names: Sequence[str | Path]) -> list[Path]:
    """The profile files named (names or paths), or every profile in the profiles directory."""
    if names:
        return [resolve_profile(str(name)).resolve() for name in dict.fromkeys(names)]
    folder = profiles_dir()
    found = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    if not found:
        raise PaperrecError(f"no profiles in {folder}: create one with 'paperrec profile new NAME --from FILE'")
    return [p.resolve() for p in found]


def _section(
    listing: Listing,
    path: Path,
    profile: Profile,
    embedder: CachedEmbedder,
    cut: _Cut,
    *,
    seen: SeenMemory | None,
    include_seen: bool,
) -> Section:
    """Rank a listing for one profile; with a seen-memory, hide earlier days' picks (unless asked), remember these."""
    day = listing.date or date.today()
    hidden: set[str] = set()
    if seen is not None and not include_seen:
        hidden = seen.seen_before(profile.name, day) & {p.arxiv_id for p in listing.papers}
    top, min_score, diversity = recommend_settings(profile, cut.top, cut.min_score, cut.diversity)
    scored = score_listing(
        listing, profile, embedder, strategy=cut.strategy, dislike_weight=cut.dislike_weight, exclude=hidden
    )
    picks = pick_from(scored, embedder, top=top, min_score=min_score, diversity=diversity)
    if seen is not None:
        seen.mark(profile.name, [p.paper.arxiv_id for p in picks], day)
    return Section(path=path, profile=profile, picks=picks, hidden_seen=len(hidden), scored=scored)


def rank_listing(
    listing: Listing,
    profiles: Sequence[str | Path],
    embedder: CachedEmbedder,
    *,
    strategy: str | None = None,
    top: int | None = 10,
    min_score: float | None = None,
    dislike_weight: float | None = None,
    diversity: float | None = None,
    seen: SeenMemory | None = None,
) -> Run:
    """Rank one listing for each profile (names or .toml paths); with a seen-memory, remember the picks as shown.

    Example: rank_listing(read_listing("day.md"), ["super-resolution"], open_embedder())
    """
    cut = _Cut(strategy, top, min_score, dislike_weight, diversity)
    sections = tuple(
        _section(listing, path, load_profile(path), embedder, cut, seen=seen, include_seen=True)
        for path in profile_paths(profiles)
    )
    return Run(sections=sections, papers=tuple(listing.papers))


def run_today(
    profiles: Sequence[str | Path],
    embedder: CachedEmbedder,
    *,
    seen: SeenMemory | None,
    day: date | None = None,
    fetch: Fetch | None = None,
    include_cross: bool = False,
    include_seen: bool = False,
    strategy: str | None = None,
    top: int | None = 10,
    min_score: float | None = None,
    dislike_weight: float | None = None,
    diversity: float | None = None,
) -> Run:
    """The morning run: fetch each profile's categories (latest or `day`), rank, hide and remember what was shown.

    `profiles` empty means every profile in the profiles directory; `fetch` defaults to arXiv
    (sources.arxiv.fetch_listing).
    """
    if fetch is None:
        from .sources.arxiv import fetch_listing as fetch
    cut = _Cut(strategy, top, min_score, dislike_weight, diversity)
    sections, notices, papers = [], [], {}
    for path in profile_paths(profiles):
        profile = load_profile(path)
        if not profile.categories:
            raise PaperrecError(
                f'profile {profile.name!r} names no categories: add e.g. categories = ["cs.CV"] to {path}'
            )
        listing, notice = fetch(list(profile.categories), day, include_cross=include_cross)
        if notice:
            notices.append(f"{profile.name}: {notice}")
        section = _section(listing, path, profile, embedder, cut, seen=seen, include_seen=include_seen)
        if section.hidden_seen:
            notices.append(f"{profile.name}: {section.hidden_seen} papers hidden as already shown (--include-seen)")
        sections.append(section)
        papers.update((p.arxiv_id, p) for p in listing.papers)
    return Run(sections=tuple(sections), papers=tuple(papers.values()), notices=tuple(notices))


def seen_memory() -> SeenMemory:
    """The user's seen-memory under PAPERREC_HOME."""
    return SeenMemory(seen_path())
