"""One profile's day on the page: the listing, its scores, the picks shown and the votes given there."""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..digest import PickView, Standing, notice_views, pick_view, positions
from ..profile import Edited, LikesAge, Profile, change_profile, likes_age, load_profile, rate, undo
from ..schema import Listing, Paper, PaperrecError, Pick
from ..seen import profile_keys

if TYPE_CHECKING:
    from ..embed import CachedEmbedder
    from ..rank import Scored

PAGE = 10  # picks shown at first, and added by "show 10 more"


@dataclass
class Slot:
    """One shown pick: the pick, its view, and the vote given here (None, 'liked' or 'disliked')."""

    pick: Pick
    view: PickView
    rated: str | None = None


@dataclass
class Action:
    """A vote given on a page, and the record of what it changed in the profile file (undo reverses it)."""

    arxiv_id: str
    section: str  # 'liked' or 'disliked'
    edited: Edited
    ids: tuple[str, ...] = ()  # every id of the voted paper (Paper.ids); its own id alone when empty

    @property
    def before(self) -> str | None:
        """Where the paper was in the profile before the vote ('liked', 'disliked' or None)."""
        # A vote on a journal version moves the entry of its preprint: the entry's id differs, one of their ids does
        # not. Either one's links may name the other, so the two sets of ids are met, not one id.
        voted = set(self.ids or (self.arxiv_id,))
        moved = next(
            (
                m
                for m in self.edited.moved
                if m.after == self.section and voted.intersection(m.paper.ids if m.paper else (m.arxiv_id,))
            ),
            None,
        )
        return self.section if moved is None else moved.before


# A day to show: its listing, where it came from, and a line per source when the profile has several.
Found = tuple[Listing, str, tuple[str, ...]]


def stored_day(profile: Profile, on: date | None = None) -> Found | None:
    """The latest (or `on`) stored listing day of the profile's categories (their own papers, merged), and where it
    came from; with other sources, their stored days merged in, and a line for each source."""
    from ..sources.arxiv import fetch_listing

    if profile.sources:
        return _stored_sources_day(profile, on)
    try:
        listing, _ = fetch_listing(list(profile.categories), on, offline=True)  # the store only, never the network
    except PaperrecError:
        return None
    return listing, f"stored listings of {', '.join(profile.categories)} for {listing.date}", ()


def _stored_sources_day(profile: Profile, on: date | None) -> Found | None:
    """The stored days of every source of the profile, merged, as `paperrec today --offline` ranks them."""
    from ..sources.day import fetch_sources
    from ..sources.registry import profile_specs, shown

    try:
        fetched = fetch_sources(profile_specs(profile.categories, profile.sources), on, offline=True)
    except PaperrecError:
        return None
    named = shown(", ".join(profile.categories + profile.sources))  # others may see the page: no feed's token
    lines = tuple(fetched.lines()) if len(fetched.reports) > 1 else ()
    return fetched.listing, f"stored listings of {named}", lines


def last_ranked_day(path: Path) -> Found | None:
    """The papers of the last ranking shown (paperrec rank/today), when it included this profile."""
    from ..state import load_last_ranking

    try:
        last = load_last_ranking()
        last.section(str(path))
    except PaperrecError:
        return None
    days = {p.date for p in last.papers if p.date}
    return Listing(papers=last.papers, date=max(days) if days else None), "the last ranking shown", ()


def _summaries(listing: Listing) -> dict[str, str]:
    """The summaries `today` cached for the day's papers with config.toml's summary_model; a page never asks a model."""
    from ..config import config_path, read_setting
    from ..summary import cached_summaries, model_name

    path = config_path()
    if not path.is_file():
        return {}
    try:
        return cached_summaries(listing.papers, model_name(read_setting("summary_model", path)))
    except PaperrecError:  # the page works without summaries; `today` says what is wrong with the setting
        return {}


def _mtime(path: Path) -> tuple[int, int, int] | None:
    """What tells that the profile file changed: its time, size and inode (an edit that keeps the time, or a file
    replaced by a rename, still differs in one of them)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


class Day:
    """One profile's ranked day in memory: the listing, its scores, the picks shown and the votes given here."""

    def __init__(
        self,
        path: Path,
        listing: Listing,
        source: str,
        embedder: Callable[[], CachedEmbedder],
        *,
        remember: bool = True,
        sources: tuple[str, ...] = (),
    ):
        self.path = path
        self.sources = sources  # a line per source when the profile has several: papers, merged away, or why empty
        self.remember = remember  # False: shown picks go into the seen-memory only from the first vote on
        self.listing = listing
        self.source = source
        self._embedder = embedder
        self.lock = threading.RLock()
        self._settled = threading.Condition(self.lock)  # told when a refit behind the page ends
        self._generation = 0  # counts the profiles scored or to be scored: a newer one wins
        self._shown_generation = 0  # the generation that self.scored is for
        self._wanted: tuple[int, Profile, contextvars.Context] | None = None  # the next refit behind the page
        self._ready: tuple[int, Scored | BaseException] | None = None  # a refit's result, not shown yet
        self._refitting = False
        self._held = False  # the next page shows the picks as they are (see settle)
        self.day = listing.day
        self.shown = PAGE
        self.frozen = 0  # slots above the last one voted on stay where they are; the rest is re-ranked
        self.slots: list[Slot] = []
        self.actions: list[Action] = []
        self.profile = load_profile(path)
        self.hidden = self._seen_before()
        self.scored: Scored | None = None
        self.listed = len(listing.papers)  # the day's one paper count: votes never change it
        self.places: dict[str, int] = {}  # each paper's place in the day's ranking, as first scored
        self.summaries = _summaries(listing)
        self.rescore()

    # -- scoring ----------------------------------------------------------------------------------------------------

    def _seen_before(self) -> set[str]:
        from ..run import seen_memory

        seen = seen_memory()
        try:
            return seen.hidden(profile_keys(self.path, self.profile.name), self.day, self.listing.papers)
        finally:
            seen.close()

    def rescore(self, profile: Profile | None = None) -> None:
        """Score the day for the profile as it is in its file now (refitting the ranker if it changed), then show.

        `profile` is the file's profile when the caller just wrote it (saves reading it back).
        """
        with self.lock:
            self.mtime = _mtime(self.path)
            self.profile = profile or load_profile(self.path)
            self._generation += 1
            self._wanted = None  # a refit behind the page for an older profile is not needed any more
            self._show(self._generation, self._score(self.profile))

    def _score(self, profile: Profile) -> Scored:
        from ..rank import score_listing

        return score_listing(self.listing, profile, self._embedder(), exclude=self.hidden)

    def _show(self, generation: int, scored: Scored) -> None:
        """Show a scoring of the day, unless a newer one is shown already."""
        if generation <= self._shown_generation:
            return
        self._shown_generation = generation
        self.scored = scored
        if not self.places and len(scored):
            # The first ranking is the day's: a vote takes its paper out of the candidates, so later
            # rankings would count the papers left and shift every place below it.
            ids = (p.arxiv_id for p in scored.candidates)
            self.places = dict(zip(ids, map(int, positions(scored.scores)), strict=True))
        self._display()

    def _rescore_later(self, profile: Profile) -> None:
        """Re-score the day for a profile just written, in a thread: the vote's answer does not wait for the refit.

        Votes given while a refit runs make one refit after it, for the latest profile. The file holds every vote
        before its answer, so a server stopped mid-refit loses nothing: the next start scores the file.
        """
        with self.lock:
            self.mtime = _mtime(self.path)  # the file as the vote left it: the refit covers it
            self.profile = profile
            self._generation += 1
            self._wanted = (self._generation, profile, contextvars.copy_context())  # a lab's user, for its files
            if not self._refitting:
                self._refitting = True
                threading.Thread(target=self._refit_behind, name="paperrec refit", daemon=True).start()

    def _refit_behind(self) -> None:
        while True:
            with self.lock:
                if self._wanted is None:
                    self._refitting = False
                    self._settled.notify_all()
                    return
                generation, profile, context = self._wanted
                self._wanted = None
            try:
                result: Scored | BaseException = context.run(self._score, profile)
            except BaseException as error:  # shown by the next page, as a vote's error was
                result = error
            with self.lock:
                if self._ready is None or self._ready[0] < generation:
                    self._ready = (generation, result)
                self._settled.notify_all()

    def settle(self, wait: float | None = None, *, hold: bool = False) -> None:
        """Show the latest refit behind the page, after waiting up to `wait` seconds (None: for as long as it takes)
        for the one under way; a refit that failed raises its error here.

        `hold`: the next page shows the picks as they are now (a vote's answer names the pick after it).
        """
        with self.lock:
            self._held = hold
            self._settled.wait_for(lambda: not self._refitting, wait)
            ready, self._ready = self._ready, None
            if ready is None:
                return
            generation, result = ready
            if isinstance(result, BaseException):
                if generation > self._shown_generation:
                    raise result
                return
            self._show(generation, result)

    def prefetch(self, count: int = 5 * PAGE) -> int:
        """Embed the sentences of the next `count` candidates ahead of time (the key sentence of a pick that a click
        brings up is then read from the cache, and a first click never waits for the model to load)."""
        from ..rank import order, sentences

        scored = self.scored
        if scored is None or not scored.candidates:
            return 0
        ranked = order(scored.candidates, scored.scores)[:count]
        texts = [s for i in ranked for s in sentences(scored.candidates[i].abstract)]
        return self._embedder().ensure(texts) if texts else 0

    def refresh(self, wait: float | None = None) -> None:
        """Show the refit behind the page when it ends within `wait` seconds (None: wait for it); re-score when the
        profile file changed since (e.g. `paperrec like` in a terminal)."""
        if _mtime(self.path) != self.mtime:
            self.rescore()
        elif self._held:  # the page after a vote: its picks stay as the vote's answer saw them, focus and all
            self._held = False
        else:
            self.settle(wait)

    def _display(self) -> None:
        """Keep the frozen slots, fill the rest with the best remaining picks, and remember them as shown."""
        from ..rank import pick_from

        scored = self.scored
        kept = self.slots[: self.frozen]
        taken = {s.pick.paper.arxiv_id for s in kept}
        wanted = self.shown - len(kept)
        fresh: list[Pick] = []
        if wanted > 0 and scored is not None and scored.candidates:
            keep = [i for i, p in enumerate(scored.candidates) if p.arxiv_id not in taken]
            fresh = pick_from(
                scored.subset(keep),  # the day's calibration, shared with the kept slots
                self._embedder(),
                top=wanted,
                min_score=self.profile.min_score,
                diversity=self.profile.diversity,
                key_sentences=None,  # every pick shown gets its sentence (prefetch embedded them ahead)
            )
        scores = scored.scores if scored is not None and len(scored) else None
        new = []
        for number, pick in enumerate(fresh, start=len(kept) + 1):
            pick = replace(pick, rank=number)
            new.append(Slot(pick, self._view(pick)))
        index = {p.arxiv_id: i for i, p in enumerate(scored.candidates)} if scores is not None else {}
        for number, slot in enumerate(kept, start=1):  # a slot inserted above shifts the ones below
            i = index.get(slot.pick.paper.arxiv_id)
            if i is not None and slot.rated is None:  # a kept pick not voted on: its match now
                assert scored is not None and scores is not None
                matches = scored.shown_matches
                match = None if matches is None else float(matches[i])
                fresh_pick = replace(slot.pick, rank=number, score=float(scores[i]), match=match)
                if fresh_pick != slot.pick:
                    slot.pick, slot.view = fresh_pick, self._view(fresh_pick)
            elif slot.pick.rank != number:
                slot.pick = replace(slot.pick, rank=number)
                slot.view = replace(slot.view, rank=number)
        self.slots = kept + new
        if self.remember:
            self._mark_seen(new)

    def _start_remembering(self) -> None:
        """A picked day, once voted on: what it shows is remembered as seen from now on."""
        if not self.remember:
            self.remember = True
            self._mark_seen(self.slots)

    @property
    def notices(self) -> tuple[tuple[str, str | None], ...]:
        """(title, address) of each of the day's retraction notices that names a liked paper, as a digest says it."""
        from ..run import liked_retracted

        return notice_views(liked_retracted(self.scored, self.profile))

    def _view(self, pick: Pick) -> PickView:
        """The view of a pick, with its place in the day's first ranking out of the day's papers."""
        place = self.places.get(pick.paper.arxiv_id)
        summary = self.summaries.get(pick.paper.arxiv_id)
        pick = replace(pick, summary=summary) if summary else pick
        return pick_view(pick, place=Standing(place, self.listed) if place is not None else None)

    def _mark_seen(self, slots: list[Slot]) -> None:
        from ..run import seen_memory

        if not slots:
            return
        seen = seen_memory()
        try:
            shown = [(s.pick.paper, s.pick.rank) for s in slots]
            seen.mark_papers(profile_keys(self.path, self.profile.name), shown, self.day)
        finally:
            seen.close()

    # -- what a click does ------------------------------------------------------------------------------------------

    def paper(self, arxiv_id: str) -> Paper:
        """A paper of this day, by id; an error when the day has no such paper."""
        for slot in self.slots:
            if slot.pick.paper.arxiv_id == arxiv_id:
                return slot.pick.paper
        for paper in self.listing.papers:
            if paper.arxiv_id == arxiv_id:
                return paper
        raise PaperrecError(f"paper {arxiv_id} is not in the day shown for {self.profile.name!r}; reload the page")

    def _slot(self, paper: Paper, rank: int) -> Slot:
        """A slot for a paper of the day that is not shown, with its score when it is a candidate."""
        scored = self.scored
        try:
            score = scored.score_of(paper.arxiv_id) if scored is not None else 0.0
        except KeyError:
            score = 0.0
        pick = Pick(paper=paper, score=score, rank=rank, profile=self.profile.name)
        return Slot(pick, self._view(pick))

    def _slot_index(self, arxiv_id: str) -> int | None:
        return next((i for i, s in enumerate(self.slots) if s.pick.paper.arxiv_id == arxiv_id), None)

    def rate(self, arxiv_id: str, section: str) -> None:
        """Like or dislike a paper of the day: into the profile file, then re-rank what is below it (in a thread)."""
        with self.lock:
            paper = self.paper(arxiv_id)
            edited = change_profile(self.path, [rate([paper], section)])
            self._start_remembering()
            self.actions.append(Action(arxiv_id, section, edited, paper.ids))
            index = self._slot_index(arxiv_id)
            if index is None:  # voted from a page where it still showed (the list moved since): keep it in sight
                index = self.frozen
                self.slots.insert(index, self._slot(paper, index + 1))
            self.slots[index].rated = section
            self.frozen = max(self.frozen, index + 1)
            self._rescore_later(edited.profile)

    def undo(self, arxiv_id: str | None = None) -> str | None:
        """Take back the last vote given here (on that paper, when named); returns its id, None when none was."""
        with self.lock:
            matches = [i for i, a in enumerate(self.actions) if arxiv_id is None or a.arxiv_id == arxiv_id]
            if not matches:
                return None
            action = self.actions.pop(matches[-1])
            before = action.before
            undone = undo(action.edited)
            index = self._slot_index(action.arxiv_id)
            if index is not None:
                self.slots[index].rated = before
            self._rescore_later(undone.profile)
            return action.arxiv_id

    def more(self) -> None:
        """Show PAGE more picks."""
        with self.lock:
            self._start_remembering()
            self.shown += PAGE
            self._display()

    @property
    def likes_age(self) -> LikesAge:
        """How old the profile's likes are on this day (the page says so when they are old)."""
        return likes_age(self.profile, self.day)

    @property
    def latest(self) -> date:
        """The latest day arXiv has announced by now, or with other sources the newest day of any of them (the
        schedule's, whether or not it is stored)."""
        from ..sources.arxiv import latest_announcement

        if self.profile.sources:
            from ..sources.day import newest_day
            from ..sources.registry import profile_specs

            with contextlib.suppress(PaperrecError):  # a source misspelt by hand: arXiv's day, and the page shows
                return newest_day(profile_specs(self.profile.categories, self.profile.sources), datetime.now(UTC))
        return latest_announcement(datetime.now(UTC))

    @property
    def stale(self) -> bool:
        """True when this is not the latest announcement (the page says so)."""
        return self.day < self.latest

    @property
    def has_more(self) -> bool:
        """True when "show 10 more" would show more."""
        unrated = sum(1 for s in self.slots if s.rated is None)
        return len(self.slots) >= self.shown and self.scored is not None and len(self.scored) > unrated

    def rated(self, arxiv_id: str) -> str | None:
        """The vote this page gave the paper, if any."""
        index = self._slot_index(arxiv_id)
        return self.slots[index].rated if index is not None else None
