"""The profile backtest: hide each liked paper, rank the stored day it appeared on as `rank` would, and see where
it lands."""

from __future__ import annotations

import contextlib
import sys
import textwrap
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from statistics import median
from typing import Any

from ..embed import CachedEmbedder
from ..profile import Profile, ProfilePaper
from ..rank import RankOptions, Scored, pick_from, score_listing
from ..rank.select import apply_rules
from ..schema import Listing, Paper, PaperrecError, counted
from ..sources import read_listing
from ..sources.store import listing_files
from .cases import strategy_names

TOP = 10  # picks `rank` shows by default: a hidden like ranked within them is a hit


def _days(listings: Sequence[Listing]) -> dict[date, tuple[Paper, ...]]:
    """Each day's papers, every listing of the day merged by id (first occurrence wins), as rank merges categories."""
    days: dict[date, dict[str, Paper]] = {}
    for listing in listings:
        for paper in listing.papers:
            day = listing.date or paper.date
            if day is not None:
                days.setdefault(day, {}).setdefault(paper.arxiv_id, paper)
    return {day: tuple(papers.values()) for day, papers in sorted(days.items())}


def _known_on(entries: Sequence[ProfilePaper], day: date, hidden: str) -> tuple[ProfilePaper, ...]:
    """The entries known on the day: added before it, or announced before it; never the hidden paper itself."""
    return tuple(
        e
        for e in entries
        if e.paper.arxiv_id != hidden and (e.added < day or (e.paper.date is not None and e.paper.date < day))
    )


def _missed(target: Paper, scored: Scored, options: RankOptions) -> str:
    """Which setting kept the hidden paper out of the day's picks: 'must', 'never', 'min_score' or 'min_match'
    ('profile' when the profile holds it under another id)."""
    if options.must and not apply_rules([target], options.must, ()):
        return "must"
    if options.never and not apply_rules([target], (), options.never):
        return "never"
    ids = [p.arxiv_id for p in scored.candidates]
    if target.arxiv_id not in ids:
        return "profile"
    if options.min_score is not None and scored.scores[ids.index(target.arxiv_id)] < options.min_score:
        return "min_score"
    return "min_match"


def backtest(
    profile: Profile,
    listings: Sequence[Listing],
    strategy: str,
    embedder: CachedEmbedder,
    *,
    top: int = TOP,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Hide each liked paper found in a listing and rank its day as `rank` would, with the profile's settings and the
    likes and dislikes known before that day: at what rank would it have been shown (None: not at all)?

    The first `top` ranks are the picks `rank --top N` shows (diversity re-orders them); below them, by score.
    """
    options = RankOptions(strategy=strategy, top=top).for_profile(profile)
    below = replace(options, top=None, diversity=0.0)  # every paper the settings let through, by score
    days = _days(listings)
    first_day: dict[str, date] = {}
    for day, papers in days.items():
        for paper in papers:
            first_day.setdefault(paper.arxiv_id, day)
    from tqdm import tqdm

    rows = []
    replayed = [entry for entry in profile.liked if entry.paper.arxiv_id in first_day]
    for entry in tqdm(replayed, desc=strategy, unit="like", file=sys.stderr, disable=not progress, leave=False):
        target = entry.paper
        day = first_day[target.arxiv_id]
        hidden = replace(
            profile,
            liked=_known_on(profile.liked, day, target.arxiv_id),
            disliked=_known_on(profile.disliked, day, target.arxiv_id),
            pending=(),
        )
        row: dict[str, Any] = {"id": target.arxiv_id, "title": target.title, "day": day.isoformat()}
        row |= {"n_candidates": 0, "n_profile": len(hidden.liked), "replayed": False, "rank": None, "missed": None}
        if hidden.is_empty():
            rows.append(row)
            continue
        scored = score_listing(Listing(papers=days[day], date=day), hidden, embedder, options, store=False)
        picks = pick_from(scored, embedder, options, explain_picks=False)  # as rank shows them
        rest = pick_from(scored, embedder, below, explain_picks=False)
        shown = [p.paper.arxiv_id for p in picks]
        first = set(shown)
        shown += [p.paper.arxiv_id for p in rest if p.paper.arxiv_id not in first]
        row |= {"n_candidates": scored.listed - scored.known, "replayed": True}
        if target.arxiv_id in shown:
            row["rank"] = shown.index(target.arxiv_id) + 1
        else:
            row["missed"] = _missed(target, scored, options)
        rows.append(row)
    return rows


def stored_listings(folder: Path, categories: Sequence[str] = ()) -> list[Listing]:
    """The listings stored under `folder`, each dated by its file name when that is a day; only the folders of
    `categories` when they hold any, without the papers cross-listed there from other categories (as `today` reads
    a profile's categories)."""
    from ..sources.arxiv import is_primary

    files = listing_files(folder)
    chosen = [f for f in files if f.parent.name in set(categories)]
    listings = []
    for path in chosen or files:
        listing = read_listing(path)
        if chosen:
            category = path.parent.name
            listing = replace(listing, papers=tuple(p for p in listing.papers if is_primary(p, category)))
        with contextlib.suppress(ValueError):  # a file not named by its day keeps the dates it holds
            listing = replace(listing, date=date.fromisoformat(path.stem))
        listings.append(listing)
    return listings


MISSED = {
    "must": "must",
    "never": "never",
    "min_score": "min_score",
    "min_match": "min_match",
    "profile": "a copy already in the profile",
}
WIDTH = 100  # the report's prose wraps here


@dataclass(frozen=True)
class ProfileBacktest:
    """A profile's backtest: per strategy its summary and rows (`results`), and what it replayed."""

    profile: Profile
    path: Path
    results: dict[str, dict[str, Any]]  # {strategy: {"summary": ..., "papers": rows}}, the JSON of --output
    days: tuple[date, ...]  # the stored days read, oldest first
    categories: tuple[str, ...]  # the store folders read
    notices: tuple[str, ...] = ()  # lines for stderr: what a hand edit left odd in the profile file
    from_picks: frozenset[str] = frozenset()  # ids of liked papers the profile was shown as picks before

    def text(self) -> str:
        """What was measured, a row per strategy (best first), and what to do next, in lines of at most WIDTH."""
        paragraphs = [self._measured(), self._coverage()]
        ranked = self._ranked()
        if not ranked and self.profile.liked:
            paragraphs.append(
                "Nothing to measure: no liked paper is on a stored day after an earlier like or interest. "
                "Fetch the days you liked papers on ('paperrec fetch CATEGORY --date DAY'), or like papers "
                "from the stored days, then run this again."
            )
        if not ranked:
            return "\n\n".join(_wrap(p) for p in paragraphs) + "\n"
        lines = [_wrap(p) for p in paragraphs]
        lines.append(self._table(ranked))
        lines += [_wrap(p) for p in self._advice(ranked)]
        return "\n\n".join(lines) + "\n"

    def _measured(self) -> str:
        where = f", {', '.join(self.categories)}" if self.categories else ""
        span = f"{self.days[0]} to {self.days[-1]}" if self.days else "none"
        plural = "" if len(self.days) == 1 else "s"
        return (
            f"Backtest of profile {self.profile.name!r} on {len(self.days)} stored day{plural} ({span}{where}). "
            "Each liked paper found on one of those days was hidden, and its day was ranked as 'paperrec rank' "
            "ranks it: with the profile's settings, and only the likes and dislikes added before that day. "
            f"Rank 1 is the top pick; a rank of {TOP} or better is a hit, as 'rank' shows {TOP} picks."
        )

    def _coverage(self) -> str:
        if not self.profile.liked:
            return (
                "The profile has no liked papers yet, so there is nothing to hide and replay. Like papers from "
                "the stored days ('paperrec like ID', or Sharpen my profile on the web page), then run this again."
            )
        rows = next(iter(self.results.values()))["papers"] if self.results else []
        replayed = sum(1 for row in rows if row.get("replayed"))
        text = (
            f"{len(rows)} of {counted(len(self.profile.liked), 'liked paper', 'liked papers')} "
            f"{'is' if len(rows) == 1 else 'are'} on a stored day; {replayed} of them came "
            "after an earlier like or interest, so there was something to rank them against."
        )
        if len(rows) < len(self.profile.liked):
            text += " The others are not in the stored listings of the profile's categories."
        return text

    def _ranked(self) -> list[tuple[str, dict[str, Any]]]:
        """The strategies that replayed any paper, best first: most hits, then lowest median rank."""
        chosen = [(name, found["summary"]) for name, found in self.results.items() if found["summary"]["papers"]]
        worst = float("inf")
        own = self.profile.strategy  # among equals the profile's own comes first: no reason to switch
        return sorted(
            chosen, key=lambda item: (-item[1][f"hits@{TOP}"], item[1]["median_rank"] or worst, item[0] != own)
        )

    def _table(self, ranked: list[tuple[str, dict[str, Any]]]) -> str:
        own = self.profile.strategy
        lines = [f"{'strategy':<20}  {'papers':>6}  {'median rank':>11}  {f'in the top {TOP}':>13}  {'not shown':>9}"]
        for name, summary in ranked:
            label = f"{name} (yours)" if name == own else name
            middle = summary["median_rank"]
            hits, papers = summary[f"hits@{TOP}"], summary["papers"]
            share = f"{hits} ({round(100 * hits / papers)}%)"
            median_text = "not shown" if middle is None else f"{middle:g}"
            lines.append(f"{label:<20}  {papers:>6}  {median_text:>11}  {share:>13}  {summary['missed']:>9}")
        return "\n".join(lines)

    def _advice(self, ranked: list[tuple[str, dict[str, Any]]]) -> list[str]:
        from ..rank import unused_settings

        own, (best, best_summary) = self.profile.strategy, ranked[0]
        summaries = dict(ranked)
        hits = f"hits@{TOP}"
        papers = max(summary["papers"] for _, summary in ranked)
        said = []
        if best_summary[hits] == 0:
            said.append(f"No strategy tried here put a hidden like in the top {TOP}.")
        elif own not in summaries:
            said.append(f"Best here: {best}. This profile's strategy is {own}: add '-s {own}' to compare with it.")
        elif summaries[own][hits] >= best_summary[hits]:  # a better median alone is no reason to switch
            said.append(
                f"{own}, this profile's strategy, puts as many likes in the top {TOP} as any strategy tried here: "
                "keep it." + self._own_picks(own)
            )
        else:
            compared = (
                f"{best} put {best_summary[hits]} of {best_summary['papers']} likes in the top {TOP}, {own} "
                f"(this profile's strategy) {summaries[own][hits]}"
            )
            if papers < 10 and best_summary[hits] - summaries[own][hits] <= 2:  # the noise the line below names
                said.append(f"{compared}. That is too few to choose by, so keep {own}.")
            else:
                from ..profile.library import command_arg

                said.append(
                    f'{compared}. To switch, set strategy = "{best}" in {self.path}; '
                    f"'paperrec rank FILE -p {command_arg(self.path, self.profile.name)} --strategy {best}' tries it on"
                    " one day first."
                )
        if papers < 10:
            said.append(f"With {counted(papers, 'paper', 'papers')}, a difference of one or two hits is noise.")
        reference = own if own in self.results else best
        summary = self.results[reference]["summary"]
        if summary["missed"]:
            parts = ", ".join(f"{why} hid {n} of {summary['papers']}" for why, n in summary["hidden_by"].items())
            said.append(
                f"Settings kept likes from being shown with {reference}: {parts}. Loosen or remove them in "
                f"{self.path} and run this again."
            )
        unused = unused_settings(self.profile, own)
        if unused:
            said.append(f"Settings with no effect on {own}: {'; '.join(unused)}.")
        return said

    def _own_picks(self, own: str) -> str:
        """A caveat when most replayed likes were liked from the profile's own picks, which its strategy chose."""
        replayed = [row["id"] for row in self.results[own]["papers"] if row.get("replayed")]
        picked = sum(1 for arxiv_id in replayed if arxiv_id in self.from_picks)
        if not replayed or 2 * picked <= len(replayed):
            return ""
        return (
            f" But {picked} of the {len(replayed)} likes replayed were liked from this profile's own picks, which "
            f"{own} chose: that favours it here. Likes found elsewhere (an import, Sharpen, another feed) test the "
            "strategies more fairly."
        )


def _liked_from_picks(path: Path, profile: Profile) -> frozenset[str]:
    """The ids of the profile's liked papers that its seen-memory holds: shown to it as picks before they were liked."""
    from ..seen import profile_keys, shown_keys

    try:
        shown = {key for key, _ in shown_keys(profile_keys(path, profile.name))}
    except PaperrecError:  # a caveat is no reason to fail: without the seen-memory, no likes are known as picks
        return frozenset()
    return frozenset(e.paper.arxiv_id for e in profile.liked if shown & set(e.paper.ids))


def _wrap(text: str) -> str:
    return textwrap.fill(text, WIDTH, break_long_words=False, break_on_hyphens=False)


def run_backtest(
    profile: Path | str,
    embedder: CachedEmbedder,
    *,
    strategies: Sequence[str] | None = None,
    listings: Path | None = None,
    progress: bool = False,
) -> ProfileBacktest:
    """Backtest a profile's likes on stored listings (default: the store), per strategy (default: all); `progress`
    shows a bar per strategy on stderr (a terminal's)."""
    from ..paths import listings_dir, resolve_profile
    from ..profile import load_profile, profile_file_warning

    names = strategy_names(strategies)
    path = resolve_profile(str(profile))
    loaded = load_profile(path)
    folder = listings or listings_dir()
    stored = stored_listings(folder, loaded.categories)
    if not stored:
        raise PaperrecError(f"no stored listings in {folder}: run 'paperrec fetch' or pass --listings FOLDER")
    results = {}
    for name in names:
        rows = backtest(loaded, stored, name, embedder, progress=progress)
        results[name] = {"summary": backtest_summary(rows), "papers": rows}
    days = tuple(_days(stored))
    folders = tuple(sorted({c for c in loaded.categories if (Path(folder) / c).is_dir()}))
    notices = tuple(filter(None, [profile_file_warning(loaded, path)]))
    return ProfileBacktest(loaded, path, results, days, folders, notices, _liked_from_picks(path, loaded))


def backtest_profile(
    profile: Path | str,
    embedder: CachedEmbedder,
    *,
    strategies: Sequence[str] | None = None,
    listings: Path | None = None,
) -> dict[str, dict[str, Any]]:
    """Backtest a profile's likes on stored listings, per strategy: {name: {"summary": ..., "papers": rows}}."""
    return run_backtest(profile, embedder, strategies=strategies, listings=listings).results


def backtest_summary(rows: list[dict[str, Any]], k: int = TOP) -> dict[str, Any]:
    """Papers replayed (a profile was known before their day), their median rank (papers not shown rank last; None
    when that is where the median falls), how many were in the top k, and how many the settings hid, by setting."""
    replayed = [row for row in rows if row.get("replayed", row["rank"] is not None)]
    ranks = sorted(row["rank"] for row in replayed if row["rank"] is not None)
    missed = len(replayed) - len(ranks)
    middle = None
    if replayed:
        # Not shown ranks below every shown paper, so the median is a rank only while it falls among shown ones.
        values = [float(r) for r in ranks] + [float("inf")] * missed
        value = median(values)
        middle = value if value != float("inf") else None
    hits = sum(1 for r in ranks if r <= k)
    hidden_by = dict(Counter(MISSED[row["missed"]] for row in replayed if row.get("missed")).most_common())
    return {"papers": len(replayed), "median_rank": middle, f"hits@{k}": hits, "missed": missed, "hidden_by": hidden_by}
