"""Strategies that score papers against a profile, and the ranking of a listing into Picks."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date

import numpy as np

from .embed import CachedEmbedder
from .profile import Profile, profile_vectors
from .schema import Listing, Paper, PaperrecError, Pick, UsageError
from .strategies import LEARNS_DISLIKES, STRATEGIES, ScoringInput, unit_mean


def score(inp: ScoringInput, strategy: str = "centroid") -> np.ndarray:
    """Score each candidate with a strategy; similarity strategies subtract dislike_weight x cosine to dislikes."""
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
    if len(inp.liked) == 0:
        raise PaperrecError("the profile has no liked papers or interests to rank against")
    scores = STRATEGIES[strategy](inp)
    if strategy not in LEARNS_DISLIKES and len(inp.profile.disliked) and inp.dislike_weight:
        scores = scores - inp.dislike_weight * (inp.candidates @ unit_mean(inp.profile.disliked))
    return np.asarray(scores, dtype=np.float64)


def top_picks(
    papers: Sequence[Paper],
    scores: np.ndarray,
    profile_name: str,
    *,
    top: int | None = 10,
    min_score: float | None = None,
) -> list[Pick]:
    """Order papers by (-score, id), drop low scores, and keep the top N."""
    order = sorted(range(len(papers)), key=lambda i: (-float(scores[i]), papers[i].arxiv_id))
    if min_score is not None:
        order = [i for i in order if scores[i] >= min_score]
    if top is not None:
        order = order[:top]
    return [Pick(paper=papers[i], score=float(scores[i]), rank=n, profile=profile_name) for n, i in enumerate(order, 1)]


def recommend(
    listing: Listing,
    profile: Profile,
    embedder: CachedEmbedder,
    *,
    strategy: str | None = None,
    top: int | None = 10,
    min_score: float | None = None,
    dislike_weight: float | None = None,
    exclude: Collection[str] = frozenset(),
) -> list[Pick]:
    """Rank a listing for a profile: embed (through the cache), score, and return the top picks.

    Papers in the profile and ids in `exclude` (e.g. already seen) are never picked.
    """
    strategy = strategy or profile.strategy
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
    if top is not None and top < 1:
        raise UsageError("--top must be at least 1")
    if profile.is_empty():
        raise PaperrecError(
            f"profile {profile.name!r} has no liked papers or interests: add some with 'paperrec like' or 'interests'"
        )
    skip = profile.ids | set(exclude)
    candidates = [p for p in listing.papers if p.arxiv_id not in skip]
    if not candidates:
        return []
    inp = ScoringInput(
        candidates=embedder.embed_papers(candidates),  # (n_candidates, dim)
        candidate_texts=[p.text for p in candidates],
        profile=profile_vectors(profile, embedder),
        today=listing.date or date.today(),
        dislike_weight=profile.dislike_weight if dislike_weight is None else dislike_weight,
    )
    scores = score(inp, strategy)
    return top_picks(candidates, scores, profile.name, top=top, min_score=min_score)
