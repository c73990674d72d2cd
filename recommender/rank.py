"""Strategies that score papers against a profile, and the ranking of a listing into Picks."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import numpy as np

from .embed import CachedEmbedder
from .profile import Profile, ProfileVectors, profile_vectors
from .schema import Listing, Paper, PaperrecError, Pick, UsageError


def _centroid(vectors: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Unit vector along the (weighted) mean of unit vectors; zero when there is nothing to average."""
    if len(vectors) == 0:
        return np.zeros(vectors.shape[1], dtype=np.float32)
    mean = np.average(vectors, axis=0, weights=weights if weights is not None and weights.sum() > 0 else None)
    norm = np.linalg.norm(mean)
    return (mean / norm if norm > 0 else mean).astype(np.float32)


def centroid_scores(papers: np.ndarray, liked: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Cosine to the weighted mean of the liked vectors (the baseline)."""
    return papers @ _centroid(liked, weights)  # (n_papers,)


def max_scores(papers: np.ndarray, liked: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Cosine to the single most similar liked paper (weights are ignored)."""
    return (papers @ liked.T).max(axis=1)  # (n_papers, n_liked) -> (n_papers,)


STRATEGIES: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "centroid": centroid_scores,
    "max": max_scores,
}


def score(
    paper_vectors: np.ndarray, profile: ProfileVectors, strategy: str = "centroid", dislike_weight: float = 0.5
) -> np.ndarray:
    """Score each paper row: the strategy's similarity minus dislike_weight x cosine to the disliked mean."""
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
    if len(profile.liked) == 0:
        raise PaperrecError("the profile has no liked papers or interests to rank against")
    scores = STRATEGIES[strategy](paper_vectors, profile.liked, profile.weights)
    if len(profile.disliked) and dislike_weight:
        scores = scores - dislike_weight * (paper_vectors @ _centroid(profile.disliked))
    return scores.astype(np.float64)


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
    vectors = embedder.embed_papers(candidates)  # (n_candidates, dim)
    scores = score(
        vectors,
        profile_vectors(profile, embedder),
        strategy,
        profile.dislike_weight if dislike_weight is None else dislike_weight,
    )
    return top_picks(candidates, scores, profile.name, top=top, min_score=min_score)
