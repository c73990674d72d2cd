"""From scores to picks: the must/never rules, the (-score, id) order, MMR diversity and the top-N cut."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from ..schema import Paper, Pick


def order(papers: Sequence[Paper], scores: np.ndarray) -> list[int]:
    """Indices by descending score, ties broken by id."""
    return sorted(range(len(papers)), key=lambda i: (-float(scores[i]), papers[i].arxiv_id))


def diversify(ranked: Sequence[int], scores: np.ndarray, vectors: np.ndarray, diversity: float, top: int) -> list[int]:
    """Maximal marginal relevance: pick greedily by (1 - diversity) x relevance - diversity x closeness to picks."""
    if diversity <= 0 or len(ranked) <= 1:
        return list(ranked[:top])
    pool = list(ranked[: max(top * 5, 50)])  # far-down papers never win on relevance; keep the loop small
    low, high = float(scores[pool].min()), float(scores[pool].max())
    relevance = (scores[pool] - low) / (high - low) if high > low else np.ones(len(pool))
    sims = vectors[pool] @ vectors[pool].T  # (n_pool, n_pool)
    chosen: list[int] = []
    closeness = np.full(len(pool), -np.inf)
    available = np.ones(len(pool), dtype=bool)
    while len(chosen) < min(top, len(pool)):
        penalty = np.where(np.isfinite(closeness), closeness, 0.0)
        value = np.where(available, (1 - diversity) * relevance - diversity * penalty, -np.inf)
        best = int(np.argmax(value))  # argmax takes the first maximum: pool order breaks ties
        chosen.append(best)
        available[best] = False
        closeness = np.maximum(closeness, sims[best])
    return [pool[j] for j in chosen]


def _mentions(terms: Sequence[str]) -> re.Pattern[str] | None:
    if not terms:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t.strip()) for t in terms if t.strip()) + r")(?!\w)", re.I)


def apply_rules(papers: Sequence[Paper], must: Sequence[str], never: Sequence[str]) -> list[Paper]:
    """Keep papers whose title or abstract mentions a `must` term (when any) and no `never` term."""
    required, banned = _mentions(must), _mentions(never)
    return [
        p
        for p in papers
        if (required is None or required.search(p.text)) and (banned is None or not banned.search(p.text))
    ]


def top_picks(
    papers: Sequence[Paper],
    scores: np.ndarray,
    profile_name: str,
    *,
    top: int | None = 10,
    min_score: float | None = None,
    vectors: np.ndarray | None = None,
    diversity: float = 0.0,
    matches: np.ndarray | None = None,
    min_match: float | None = None,
) -> list[Pick]:
    """Order papers by (-score, id), drop low scores and matches, keep the top N (re-ordered by MMR when
    diversity > 0). Each pick carries its match when `matches` (row-aligned with papers) is given."""
    ranked = order(papers, scores)
    if min_score is not None:
        ranked = [i for i in ranked if scores[i] >= min_score]
    if min_match is not None and matches is not None:
        ranked = [i for i in ranked if matches[i] >= min_match]
    limit = len(ranked) if top is None else top
    if diversity > 0 and vectors is not None:
        ranked = diversify(ranked, scores, vectors, diversity, limit)
    ranked = ranked[:limit]
    return [
        Pick(
            paper=papers[i],
            score=float(scores[i]),
            rank=n,
            profile=profile_name,
            match=None if matches is None else float(matches[i]),
        )
        for n, i in enumerate(ranked, 1)
    ]
