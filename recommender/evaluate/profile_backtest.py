"""The profile backtest: hide each liked paper, rank the stored day it appeared on as `rank` would, and see where
it lands."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from statistics import median
from typing import Any

from ..embed import CachedEmbedder
from ..profile import Profile, ProfilePaper
from ..rank import RankOptions, Scored, score_listing, top_picks
from ..rank.select import apply_rules
from ..schema import Listing, Paper, PaperrecError
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
    profile: Profile, listings: Sequence[Listing], strategy: str, embedder: CachedEmbedder, *, top: int = TOP
) -> list[dict[str, Any]]:
    """Hide each liked paper found in a listing and rank its day as `rank` would, with the profile's settings and the
    likes and dislikes known before that day: at what rank would it have been shown (None: not at all)?

    The first `top` ranks are the picks `rank --top N` shows (diversity re-orders them); below them, by score.
    """
    options = RankOptions(strategy=strategy, top=top).for_profile(profile)
    days = _days(listings)
    first_day: dict[str, date] = {}
    for day, papers in days.items():
        for paper in papers:
            first_day.setdefault(paper.arxiv_id, day)
    rows = []
    for entry in profile.liked:
        target = entry.paper
        if target.arxiv_id not in first_day:
            continue
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
        matches = scored.matches if options.min_match is not None else None
        cut = dict(min_score=options.min_score, vectors=scored.vectors, matches=matches, min_match=options.min_match)
        name = hidden.name
        picks = top_picks(scored.candidates, scored.scores, name, top=top, diversity=options.diversity or 0.0, **cut)
        rest = top_picks(scored.candidates, scored.scores, name, top=None, **cut)
        shown = [p.paper.arxiv_id for p in picks]
        shown += [p.paper.arxiv_id for p in rest if p.paper.arxiv_id not in set(shown)]
        row |= {"n_candidates": scored.listed - scored.known, "replayed": True}
        if target.arxiv_id in shown:
            row["rank"] = shown.index(target.arxiv_id) + 1
        else:
            row["missed"] = _missed(target, scored, options)
        rows.append(row)
    return rows


def stored_listings(folder: Path, categories: Sequence[str] = ()) -> list[Listing]:
    """The listings stored under `folder`, each dated by its file name when that is a day; only the folders of
    `categories` when they hold any (as `today --offline` reads a profile's categories)."""
    files = listing_files(folder)
    chosen = [f for f in files if f.parent.name in set(categories)]
    listings = []
    for path in chosen or files:
        listing = read_listing(path)
        with contextlib.suppress(ValueError):  # a file not named by its day keeps the dates it holds
            listing = replace(listing, date=date.fromisoformat(path.stem))
        listings.append(listing)
    return listings


def backtest_profile(
    profile: Path | str,
    embedder: CachedEmbedder,
    *,
    strategies: Sequence[str] | None = None,
    listings: Path | None = None,
) -> dict[str, dict[str, Any]]:
    """Backtest a profile's likes on stored listings, per strategy: {name: {"summary": ..., "papers": rows}}."""
    from ..paths import listings_dir, resolve_profile
    from ..profile import load_profile

    names = strategy_names(strategies)
    loaded = load_profile(resolve_profile(str(profile)))
    folder = listings or listings_dir()
    stored = stored_listings(folder, loaded.categories)
    if not stored:
        raise PaperrecError(f"no stored listings in {folder}: run 'paperrec fetch' or pass --listings FOLDER")
    report = {}
    for name in names:
        rows = backtest(loaded, stored, name, embedder)
        report[name] = {"summary": backtest_summary(rows), "papers": rows}
    return report


def backtest_summary(rows: list[dict[str, Any]], k: int = TOP) -> dict[str, Any]:
    """Papers replayed (a profile was known before their day), their median rank (papers not shown rank last; None
    when that is where the median falls), how many were in the top k, and how many the settings hid."""
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
    return {"papers": len(replayed), "median_rank": middle, f"hits@{k}": hits, "missed": missed}
