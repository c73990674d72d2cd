"""The profile backtest: hide each liked paper in the stored listing it appeared in and see where it ranks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from statistics import median
from typing import Any

from ..embed import CachedEmbedder
from ..schema import Listing, Paper, PaperrecError
from ..sources import read_listing
from ..sources.store import listing_files
from .cases import EvalCase, Scorer, aligned_scores, strategy_names, strategy_scorer, vectors_of
from .metrics import rank_ids


def backtest(
    liked: list[tuple[Paper, date]], listings: list[Listing], scorer: Scorer, embedder: CachedEmbedder
) -> list[dict[str, Any]]:
    """Hide each liked paper found in a listing and report its rank on that day against the likes known before it."""
    found: dict[str, tuple[date, Listing]] = {}
    for listing in listings:
        for paper in listing.papers:
            day = listing.date or paper.date
            if day is not None and (paper.arxiv_id not in found or day < found[paper.arxiv_id][0]):
                found[paper.arxiv_id] = (day, listing)
    liked_ids = {p.arxiv_id for p, _ in liked}
    rows = []
    for target, _ in liked:
        if target.arxiv_id not in found:
            continue
        day, listing = found[target.arxiv_id]
        # Known on the day: liked before it, or announced before it; never the hidden paper itself.
        profile = tuple(
            p
            for p, added in liked
            if p.arxiv_id != target.arxiv_id and (added < day or (p.date is not None and p.date < day))
        )
        row: dict[str, Any] = {"id": target.arxiv_id, "title": target.title, "day": day.isoformat()}
        unique = {p.arxiv_id: p for p in reversed(listing.papers)}  # first occurrence wins
        known = {p.arxiv_id for p in profile}  # as in recommend(): profile papers are never candidates
        candidates = tuple(unique[i] for i in sorted(unique) if i not in known)
        row |= {"n_candidates": len(candidates), "n_profile": len(profile), "rank": None}
        if not profile:
            rows.append(row)
            continue
        candidate_vectors = embedder.embed_papers(candidates)
        dim = candidate_vectors.shape[1]
        earlier = tuple(
            {
                p.arxiv_id: p
                for other in listings
                if (other.date or day) < day
                for p in other.papers
                if p.arxiv_id not in liked_ids
            }.values()
        )
        case = EvalCase(
            embedder=embedder,
            list_name="backtest",
            day=day,
            profile=profile,
            profile_vectors=vectors_of(embedder, profile, dim),
            candidates=candidates,
            candidate_vectors=candidate_vectors,
            positives=frozenset({target.arxiv_id}),
            load_history=lambda earlier=earlier, dim=dim: (earlier, vectors_of(embedder, earlier, dim)),
        )
        ranked = rank_ids(candidates, aligned_scores(scorer(case), case)[0])
        row["rank"] = ranked.index(target.arxiv_id) + 1
        rows.append(row)
    return rows


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
    stored = [read_listing(f) for f in listing_files(folder)]
    if not stored:
        raise PaperrecError(f"no stored listings in {folder}: run 'paperrec fetch' or pass --listings FOLDER")
    liked = [(p.paper, p.added) for p in loaded.liked]
    report = {}
    for name in names:
        rows = backtest(liked, stored, strategy_scorer(name), embedder)
        report[name] = {"summary": backtest_summary(rows), "papers": rows}
    return report


def backtest_summary(rows: list[dict[str, Any]], k: int = 10) -> dict[str, Any]:
    """Papers ranked, their median rank, and how many were in the top k."""
    ranks = [row["rank"] for row in rows if row["rank"] is not None]
    return {
        "papers": len(ranks),
        "median_rank": float(median(ranks)) if ranks else None,
        f"hits@{k}": sum(1 for r in ranks if r <= k),
    }
