"""Runs: a listing ranked for several profiles (rank_listing), and the morning run that fetches first (run_today).

Each profile of a run is ranked on its own: one broken profile (no categories, a bad file, a failed fetch) is reported
as a failure of that profile, and every other profile still gets its picks.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from .embed import CachedEmbedder
from .paths import CREATE_PROFILE, profile_files, profiles_dir, resolve_profile, seen_path
from .profile import LikesAge, Profile, likes_age, load_profile, profile_file_warning
from .rank import RankOptions, Scored, get_strategy, pick_from, score_listing, unused_settings
from .rank.explain import KEY_SENTENCES
from .rank.options import options_from
from .schema import Listing, Paper, PaperrecError, Pick, TemporaryFailure, counted
from .seen import SeenMemory, profile_keys
from .sources.markdown import strip_html
from .sources.notices import notice_of
from .sources.once import in_a_run
from .sources.registry import shown

# fetch(categories, day, include_cross=...) -> (listing, notice or None), as sources.arxiv.fetch_listing.
Fetch = Callable[..., tuple[Listing, str | None]]


def held_categories(listing: Listing) -> str:
    """The primary categories a listing's papers hold, most papers first ('' when they name none)."""
    from collections import Counter

    counts = Counter(p.categories[0] for p in listing.papers if p.categories)
    names = [name for name, _ in counts.most_common()]
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


# The requests of the morning a run is part of (one_morning), shared by its runs; None outside one.
_MORNING: ContextVar[dict[Hashable, Any] | None] = ContextVar("paperrec_morning", default=None)


def liked_retracted(scored: Scored | None, profile: Profile) -> list[tuple[Paper, Paper]]:
    """The retraction notices (an expression of concern is one) a scored day left out that name a paper the profile
    likes (Notice.is_of), each with that paper; the run, the digest and the page all say these."""
    found = []
    for paper in scored.notices if scored is not None else ():
        notice = notice_of(paper.title, paper.authors, paper.ids)
        if notice is not None and notice.kind == "retraction":
            found += [(paper, e.paper) for e in profile.liked if notice.is_of(e.paper)]
    return found


@dataclass(frozen=True)
class Section:
    """One profile's part of a run: its file, the profile, its picks, how many papers were hidden as seen, the whole
    day as scored (every candidate's score, e.g. to say where a pick stands in the day), and what the ranking cost."""

    path: Path
    profile: Profile
    picks: list[Pick]
    hidden_seen: int = 0
    scored: Scored | None = None
    listing: Listing | None = None
    embedded: int = 0  # abstracts embedded for this section (not found in the cache)
    seconds: float = 0.0
    unsaved: str | None = None  # why the seen-memory could not remember these picks (e.g. a read-only state/)
    sources: tuple[str, ...] = ()  # one line per source when the profile has several: papers, merged, or why empty

    def summary(self) -> str:
        """One line for stderr: what was ranked, what it cost and what came of it."""
        named = ", ".join(self.profile.categories + self.profile.sources)
        # Not `self.listing or ...`: a day without postings is an empty listing, falsy, and still has its date.
        listing = self.listing if self.listing is not None else Listing(papers=())
        # A feed's address may hold a token, and logs are read by others.
        where = shown(listing.category or named)
        day = listing.date.isoformat() if listing.date else "undated"
        listed = len(listing)
        label = f"{self.profile.name}: {where + ' ' if where else ''}{day}"
        papers, picks = counted(listed, "paper", "papers"), counted(len(self.picks), "pick", "picks")
        # Texts, not papers: likes and title-only negatives are embedded too, so a cold run counts more than it ranks.
        embedded = counted(self.embedded, "text", "texts")
        return f"{label}: {papers}{self._notices_left_out()}, {embedded} newly embedded, {picks}, {self.seconds:.1f} s"

    def _notices_left_out(self) -> str:
        """', 2 correction notices left out' when the day had notices; '' when it had none."""
        kinds = [notice_of(p.title) for p in self.scored.notices] if self.scored is not None else []
        told = [
            counted(n, f"{kind} notice", f"{kind} notices")
            for kind in ("correction", "retraction")
            if (n := sum(1 for k in kinds if k is not None and k.kind == kind))
        ]
        return f", {' and '.join(told)} left out" if told else ""

    def liked_retracted(self) -> list[tuple[Paper, Paper]]:
        """The day's retraction notices (an expression of concern is one) that name a liked paper, with that paper."""
        return liked_retracted(self.scored, self.profile)

    def notices_on_likes(self) -> list[str]:
        """A line for stderr per retraction notice of the day that names a liked paper (see liked_retracted)."""
        lines = []
        for notice, liked in self.liked_retracted():
            told = f"{strip_html(notice.title)} {notice.url or ''}".rstrip()
            lines.append(f"{self.profile.name}: a notice on a paper you liked ({liked.arxiv_id}): {told}")
        return lines

    @property
    def day(self) -> date | None:
        """The day ranked: its listing's (see Listing.day), else its newest pick's; None when nothing dates it.

        Not the picks' own dates first: a journal's feed dates its entries days before they arrive.
        """
        return self.day_on(date.today())

    def day_on(self, today: date) -> date | None:
        """The day ranked, as Section.day, for a run on `today` (an undated listing's day falls back to it)."""
        if self.listing is not None:
            return self.listing.day_on(today)
        return max((p.paper.date for p in self.picks if p.paper.date is not None), default=None)

    def likes_age(self) -> LikesAge:
        """How old the profile's likes are on the listing's day (today when it is undated)."""
        day = self.listing.day if self.listing is not None else date.today()
        return likes_age(self.profile, day)

    def old_likes(self) -> str | None:
        """A line for stderr when the profile's likes are old for the listing's day, else None."""
        age = self.likes_age()
        where = "paperrec like RANK, or Sharpen in paperrec serve"  # on a terminal, Sharpen is a page elsewhere
        return f"{self.profile.name}: {age.notice(where)}" if age.is_old else None

    def why_empty(self) -> str | None:
        """Why there are no picks, when there are none."""
        if self.picks:
            return None
        scored = self.scored
        if scored is None or scored.listed == 0:
            return f"{self.profile.name}: no picks: the listing has no papers"
        parts = [
            (scored.known, "already in the profile"),
            (self.hidden_seen, "shown on an earlier day (--include-seen shows them)"),
            (scored.excluded - self.hidden_seen, "excluded"),
            (scored.ruled_out, "dropped by the must/never rules"),
            (len(scored.notices), "correction or retraction notices"),
        ]
        reasons = [f"{count} {what}" for count, what in parts if count > 0]
        if len(scored):
            reasons.append(f"{len(scored)} scored below min_score")
        return f"{self.profile.name}: no picks among {counted(scored.listed, 'paper', 'papers')}: " + ", ".join(reasons)


@dataclass(frozen=True)
class Failure:
    """A profile that could not be ranked, and why (one line); transient when retrying later may help."""

    profile: str
    message: str
    transient: bool = False
    stored: date | None = None  # the latest stored day of its categories, when a fetch failed and one is there
    path: str = ""  # the profile file's absolute path

    def line(self) -> str:
        """The one line the command line and the page both show: the profile, why, and what still works."""
        hint = f"; the stored {self.stored} is there: 'paperrec today --offline' ranks it" if self.stored else ""
        return f"{self.profile}: {self.message}{hint}"


@dataclass(frozen=True)
class Run:
    """What a run ranked: one section per profile, every candidate paper, notices for stderr, and the profiles that
    failed."""

    sections: tuple[Section, ...]
    papers: tuple[Paper, ...]
    notices: tuple[str, ...] = ()
    failures: tuple[Failure, ...] = ()

    @property
    def unsaved(self) -> tuple[str, ...]:
        """Why picks could not be marked as seen, each reason once (empty when all were)."""
        return tuple(dict.fromkeys(s.unsaved for s in self.sections if s.unsaved))

    def remember(self) -> None:
        """Keep this run as the last ranking, so `paperrec like 3` knows what #3 was; a run that ranked nothing keeps
        the one before."""
        from .state import save_last_ranking

        if not self.sections:  # every profile failed (offline): the picks shown before are still the ones to vote on
            return
        failed = {f.path for f in self.failures if f.path}  # their picks shown before are still the ones to vote on
        save_last_ranking(list(self.papers), [(str(s.path), s.picks) for s in self.sections], failed=failed)


def profile_paths(names: Sequence[str | Path]) -> list[Path]:
    """The profile files named (names or paths), or every profile in the profiles directory."""
    if names:
        return [resolve_profile(str(name)).resolve() for name in dict.fromkeys(names)]
    folder = profiles_dir()
    found = profile_files(folder)
    if not found:
        raise PaperrecError(f"no profiles in {folder}: create one with {CREATE_PROFILE}")
    return [p.resolve() for p in found]


def check_zotero_settings(names: Sequence[str | Path]) -> None:
    """The settings check of the named profiles (all when none are named): a zotero_collection needs the Web API.

    A profile that cannot be read is left to the run, which reports it as that profile's failure.
    """
    from .profile.zotero import check_zotero

    try:
        found = profile_paths(names)
    except PaperrecError:
        return
    for path in found:
        try:
            profile = load_profile(path)
        except PaperrecError:
            continue
        check_zotero(profile)


def follows_arxiv_only(names: Sequence[str | Path]) -> bool:
    """True unless a named profile (any, when none are named) follows a source other than arXiv.

    A profile that cannot be read is left to the run, which reports it as that profile's failure.
    """
    from .sources.registry import parse_spec

    try:
        found = profile_paths(names)
    except PaperrecError:
        return True
    for path in found:
        try:
            if any(parse_spec(source).kind != "arxiv" for source in load_profile(path).sources):
                return False
        except PaperrecError:
            continue
    return True


def _synced(path: Path, profile: Profile) -> tuple[Profile, list[str]]:
    """The profile after a sync from its Zotero library, and what to say; the stored one when Zotero is away."""
    from .profile.zotero_sync import sync_zotero

    try:
        report = sync_zotero(path)
    except PaperrecError as error:
        return profile, [f"{profile.name}: Zotero not synced, the stored profile is used ({error})"]
    return report.profile, report.brief()


def _section(
    listing: Listing,
    path: Path,
    profile: Profile,
    embedder: CachedEmbedder,
    options: RankOptions,
    *,
    seen: SeenMemory | None,
    include_seen: bool,
) -> Section:
    """Rank a listing for one profile; with a seen-memory, hide earlier days' picks (unless asked), remember these."""
    start, encoded = time.perf_counter(), embedder.encoded
    day = listing.day
    hidden: set[str] = set()
    if seen is not None and not include_seen:
        # A paper shown under one id (its bioRxiv DOI) is the same paper today under another (its arXiv id).
        hidden = seen.hidden(profile_keys(path, profile.name), day, listing.papers)
    options = options.for_profile(profile)
    scored = score_listing(listing, profile, embedder, options, exclude=hidden)
    picks = pick_from(scored, embedder, options)
    unsaved = None
    if seen is not None:
        try:
            shown = [(p.paper, p.rank) for p in picks]
            seen.mark_papers(profile_keys(path, profile.name), shown, day)  # so any later copy is known
        except PaperrecError as error:  # the picks are made: the caller shows them, then says they were not kept
            unsaved = str(error)
    return Section(
        path=path,
        profile=profile,
        picks=picks,
        hidden_seen=len(hidden),
        scored=scored,
        listing=listing,
        embedded=embedder.encoded - encoded,
        seconds=time.perf_counter() - start,
        unsaved=unsaved,
    )


def _failure(path: Path, error: PaperrecError, categories: Sequence[str] = ()) -> Failure:
    """The failure of one profile; a fetch that may work later names the stored day that works now."""
    transient = isinstance(error, TemporaryFailure)
    stored = None
    if transient and categories:
        from .sources.store import latest_day

        stored = latest_day(categories)
    return Failure(profile=path.stem, message=str(error), transient=transient, stored=stored, path=str(path.resolve()))


def profile_notes(profile: Profile, path: Path, options: RankOptions) -> list[str]:
    """What a hand edit left odd in a profile file, and its settings that do nothing for the strategy of this run."""
    notes = [warning for warning in [profile_file_warning(profile, path)] if warning]
    strategy = get_strategy(options.strategy or profile.strategy)
    unused = unused_settings(profile, strategy)
    if unused:
        notes.append(f"note: {path}: no effect with strategy {strategy.name}: {'; '.join(unused)}")
    return notes


def rank_listing(
    listing: Listing,
    profiles: Sequence[str | Path],
    embedder: CachedEmbedder,
    options: RankOptions | None = None,
    *,
    strategy: str | None = None,
    top: int | None = 10,
    min_score: float | None = None,
    dislike_weight: float | None = None,
    diversity: float | None = None,
    key_sentences: int | None = KEY_SENTENCES,
    min_match: float | None = None,
    seen: SeenMemory | None = None,
) -> Run:
    """Rank one listing for each profile (names or .toml paths); with a seen-memory, remember the picks as shown.

    `options` (None fields: each profile's own settings), or the same settings as keywords (the older form).

    Example: rank_listing(read_listing("day.md"), ["super-resolution"], open_embedder())
    """
    options = options_from(
        options,
        strategy=strategy,
        top=top,
        min_score=min_score,
        dislike_weight=dislike_weight,
        diversity=diversity,
        key_sentences=key_sentences,
        min_match=min_match,
    )
    if listing.category is None:  # files of no one category: named by theirs, else by their names, not the profile's
        listing = replace(listing, category=held_categories(listing) or ", ".join(listing.sources) or None)
    sections, notices, failures = [], [], []
    for path in profile_paths(profiles):
        try:
            profile = load_profile(path)
            notices += profile_notes(profile, path, options)
            sections.append(_section(listing, path, profile, embedder, options, seen=seen, include_seen=True))
        except PaperrecError as error:
            failures.append(_failure(path, error))
    return Run(sections=tuple(sections), papers=tuple(listing.papers), notices=tuple(notices), failures=tuple(failures))


@in_a_run()  # a host one profile's sources could not reach is not tried again for the next (for a minute)
def run_today(
    profiles: Sequence[str | Path],
    embedder: CachedEmbedder,
    options: RankOptions | None = None,
    *,
    seen: SeenMemory | None,
    day: date | None = None,
    fetch: Fetch | None = None,
    include_cross: bool = False,
    include_seen: bool = False,
    offline: bool = False,
    strategy: str | None = None,
    top: int | None = 10,
    min_score: float | None = None,
    dislike_weight: float | None = None,
    diversity: float | None = None,
    key_sentences: int | None = KEY_SENTENCES,
    min_match: float | None = None,
    fetchers: Mapping[str, Fetch] | None = None,
) -> Run:
    """The morning run: fetch each profile's sources (latest or `day`), rank, hide and remember what was shown.

    `profiles` empty means every profile in the profiles directory; `fetch` defaults to arXiv
    (sources.arxiv.fetch_listing) and `fetchers` replace other kinds' by name; `offline` ranks stored listings only
    (passed on to each fetch). A profile that fails is a Failure of the run; the others are still ranked. A source
    that fails is a notice when the profile's other sources gave papers. `options` as in rank_listing.
    """
    if fetch is None:
        from .sources.arxiv import fetch_listing as fetch
    from .sources.day import fetch_sources
    from .sources.once import asking_once
    from .sources.registry import profile_specs

    options = options_from(
        options,
        strategy=strategy,
        top=top,
        min_score=min_score,
        dislike_weight=dislike_weight,
        diversity=diversity,
        key_sentences=key_sentences,
        min_match=min_match,
    )
    sections, notices, failures, papers = [], [], [], {}
    # This run's requests (or its morning's): each answer, or failure that may pass, kept for the next profile.
    asked = _MORNING.get()
    asked = {} if asked is None else asked
    if not offline:  # likes still waiting for Zotero go first; one that fails stays queued
        from .profile.zotero_push import push_pending

        notices += push_pending().lines()
    for path in profile_paths(profiles):
        categories: tuple[str, ...] = ()
        try:
            profile = load_profile(path)
            if profile.zotero and not offline:
                profile, lines = _synced(path, profile)
                notices += lines
            notices += profile_notes(profile, path, options)
            if not profile.categories and not profile.sources:
                raise PaperrecError(
                    f"profile {profile.name!r} names no categories and no other sources: add e.g."
                    f' categories = ["cs.CV"] or sources = ["biorxiv:neuroscience"] to {path}'
                    " ('paperrec sources' lists them)"
                )
            try:
                specs = profile_specs(profile.categories, profile.sources)  # arXiv keys checked against the taxonomy
            except PaperrecError as error:  # the file's own typo: say which file, as a failure of this profile only
                raise PaperrecError(f"profile {profile.name!r} ({path}): {error}") from None
            categories = () if offline else tuple(s.key if s.kind == "arxiv" else str(s) for s in specs)
            with asking_once(asked):  # a source that failed for one profile is not asked again for the next
                fetched = fetch_sources(
                    specs,
                    day,
                    include_cross=include_cross,
                    offline=offline,
                    fetchers={"arxiv": fetch, **(fetchers or {})},
                )
            listing = fetched.listing
            lines = [fetched.reports[0].notice] if len(fetched.reports) == 1 else fetched.lines()
            notices += [f"{profile.name}: {line}" for line in lines if line]
            section = _section(listing, path, profile, embedder, options, seen=seen, include_seen=include_seen)
            if len(fetched.reports) > 1:
                section = replace(section, sources=tuple(fetched.lines()))
        except PaperrecError as error:  # the command line was checked above: this is the profile's own problem
            failures.append(_failure(path, error, categories))
            continue
        if section.hidden_seen:
            hidden = counted(section.hidden_seen, "paper", "papers")
            notices.append(f"{profile.name}: {hidden} hidden as already shown (--include-seen)")
        sections.append(section)
        papers.update((p.arxiv_id, p) for p in listing.papers)
    return Run(
        sections=tuple(sections), papers=tuple(papers.values()), notices=tuple(notices), failures=tuple(failures)
    )


def summarise_run(run: Run, model: str | None, **bounds: Any) -> Run:
    """The run with a language model's one-line summary on each pick (recommender.summary), each paper asked once.

    `bounds`: summarise's timeout, deadline and clock. A model that fails or is slow is one notice of the run; the
    picks stay as they are. None as the model: the run unchanged.
    """
    if model is None or not any(s.picks for s in run.sections):
        return run
    from .summary import SummaryCache, summarise, with_summaries

    papers = [pick.paper for section in run.sections for pick in section.picks]
    notices: list[str] = []
    cache: SummaryCache | None = None
    try:
        cache = SummaryCache()
    except PaperrecError as error:  # e.g. a read-only cache/: asking again each day beats no summaries
        notices.append(f"summaries: {error}")
    try:
        found = summarise(papers, model, cache=cache, **bounds)
    except PaperrecError as error:  # the cache went away mid-run
        return replace(run, notices=(*run.notices, *notices, f"summaries: {error}"))
    finally:
        if cache is not None:
            cache.close()
    sections = tuple(replace(s, picks=with_summaries(s.picks, found.texts)) for s in run.sections)
    return replace(run, sections=sections, notices=(*run.notices, *notices, *filter(None, [found.notice])))


@contextlib.contextmanager
def one_morning() -> Iterator[None]:
    """Within the block, every run_today asks each source's request once: a lab's users share one outage's wait.

    Only the fetches of listings are shared, and the hosts that could not be connected to (once.in_a_run). The answers
    to a Zotero sync or push stay each user's own, asked afresh.
    Example: with one_morning(): [run_today([], embedder, seen=None) for _ in users]
    """
    token = _MORNING.set({})
    try:
        with in_a_run():
            yield
    finally:
        _MORNING.reset(token)


def seen_memory() -> SeenMemory:
    """The user's seen-memory under PAPERREC_HOME."""
    return SeenMemory(seen_path())
