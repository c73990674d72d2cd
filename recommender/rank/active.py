"""Sharpen a profile: the papers whose ratings would teach the model most (uncertainty sampling with diversity)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import numpy as np

from ..embed import CachedEmbedder
from ..profile import Profile
from ..schema import Listing, Paper
from .scoring import Scored, score_listing
from .strategies import unit_mean

BRIDGE_NEAREST = 100  # papers nearest the likes that a bridging batch is chosen from


def match_uncertainty(scored: Scored) -> np.ndarray:
    """How unsure the model is of each candidate: p(1 - p) of its calibrated match, highest where p is 1/2.

    Likes are rare, so for most profiles nearly every match is below 1/2 and this asks for the best-scored papers:
    the ones a rating is most likely to turn into a new like. The score breaks ties (a flat match: few likes).
    """
    p = scored.matches
    spread = float(np.ptp(scored.scores)) or 1.0
    return p * (1 - p) + 1e-6 * (scored.scores - scored.scores.min()) / spread


def suggest_ratings(
    profile: Profile,
    pool: Sequence[Paper],
    embedder: CachedEmbedder,
    k: int = 10,
    *,
    diversity: float = 0.3,
    store: bool = True,
    uncertainty: Callable[[Scored], np.ndarray] = match_uncertainty,
    bridge: bool = False,
    nearest: int = BRIDGE_NEAREST,
    day: date | None = None,
) -> list[Paper]:
    """About k papers of the pool to rate next: those the model is least sure of (`uncertainty`), chosen greedily
    so they are unlike each other (maximal marginal relevance). Deterministic.

    Papers already in the profile are not suggested; a profile with nothing to score against gets a spread of the
    pool. `store`: keep the fitted model (as `rank`). `bridge` (for old likes and a recent pool): choose only among
    the `nearest` papers of the pool closest to a like, so each rating links the old likes to today's papers.
    `day`: the day the pool is scored for, as `rank` scores a listing of that day (None: today).
    Example: suggest_ratings(load_profile(path), stored_papers, open_embedder(), k=10)
    """
    papers = sorted({p.arxiv_id: p for p in pool if p.arxiv_id not in profile.ids}.values(), key=lambda p: p.arxiv_id)
    if k < 1 or not papers:
        return []
    if profile.is_empty():
        vectors = embedder.embed_papers(papers)  # (n, dim)
        closeness = -(vectors @ unit_mean(vectors))  # start from the pool's most typical paper, then spread out
        return [papers[i] for i in _spread(vectors, -closeness, k, diversity=0.7)]
    scored = score_listing(Listing(papers=tuple(papers), date=day), profile, embedder, store=store)
    if not scored.candidates:
        return []
    value = uncertainty(scored)  # (n_candidates,)
    rows = nearest_to_likes(scored, nearest) if bridge else np.arange(len(value))
    return [scored.candidates[rows[i]] for i in _spread(scored.vectors[rows], value[rows], k, diversity)]


def nearest_to_likes(scored: Scored, n: int) -> np.ndarray:
    """Rows of the n candidates most similar to any liked paper or interest (max cosine), in candidate order."""
    liked = scored.inputs.profile.liked if scored.inputs is not None else None  # (n_liked + n_interests, dim)
    if liked is None or len(liked) == 0:
        return np.arange(len(scored.candidates))
    closeness = (scored.vectors @ liked.T).max(axis=1)  # (n_candidates,)
    closest = np.argsort(-closeness, kind="stable")[: max(n, 1)]  # ties: the candidate first in order
    return np.sort(closest)  # candidate order again: _spread breaks its ties by it


def _spread(vectors: np.ndarray, value: np.ndarray, k: int, diversity: float) -> list[int]:
    """Greedy MMR: each step takes the row maximising (1 - diversity) x value - diversity x closeness to those taken."""
    n = len(value)
    span = float(value.max() - value.min())
    relevance = (value - value.min()) / span if span > 0 else np.ones(n)
    closeness = np.zeros(n)
    available = np.ones(n, dtype=bool)
    chosen: list[int] = []
    for _ in range(min(k, n)):
        gain = np.where(available, (1 - diversity) * relevance - diversity * closeness, -np.inf)
        best = int(np.argmax(gain))  # the first maximum: rows are in id order, so ties go to the smaller id
        chosen.append(best)
        available[best] = False
        closeness = np.maximum(closeness, vectors @ vectors[best])
    return chosen
