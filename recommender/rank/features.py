"""What every listing carries besides text: authors (researchers follow groups) and categories (they live in a few).

Both are numpy-only functions of the liked papers and the candidates; each also gives the value every like would
get if it were not in the profile (left out of its own count), so it can be calibrated like the other scores.
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from ..schema import Paper


def author_key(name: str) -> str:
    """An author's name as a comparable key: first initial and last name, lower case, accents dropped."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower().replace(".", " ")
    parts = [p for p in text.replace(",", " ").split() if p]
    if not parts:
        return ""
    return f"{parts[0][0]} {parts[-1]}" if len(parts) > 1 else parts[0]


def author_affinity(
    liked: Sequence[Paper], weights: np.ndarray, candidates: Sequence[Paper]
) -> tuple[np.ndarray, np.ndarray]:
    """log(1 + the weight of liked papers sharing an author with each paper): for candidates, and for each like
    with its own weight left out. Weights carry recency (an old like counts less)."""
    totals: dict[str, float] = defaultdict(float)
    keys = [{author_key(a) for a in p.authors} - {""} for p in liked]
    for authors, weight in zip(keys, weights, strict=True):
        for key in authors:
            totals[key] += float(weight)

    def overlap(authors: set[str], own: float = 0.0) -> float:
        return float(np.log1p(sum(max(totals.get(a, 0.0) - own, 0.0) for a in authors)))

    for_candidates = np.array([overlap({author_key(a) for a in p.authors} - {""}) for p in candidates])
    for_likes = np.array([overlap(authors, float(w)) for authors, w in zip(keys, weights, strict=True)])
    return for_candidates, for_likes


def category_lift(liked: Sequence[Paper], candidates: Sequence[Paper]) -> tuple[np.ndarray, np.ndarray]:
    """log of how much likelier a paper's primary category is among the likes than among the day's papers
    (add-one smoothed): for candidates, and for each like left out of the likes' counts. Zero without categories."""
    liked_primary = [p.categories[0] for p in liked if p.categories]
    if not liked_primary:
        return np.zeros(len(candidates)), np.zeros(len(liked))
    day = Counter(p.categories[0] for p in candidates if p.categories)
    likes = Counter(liked_primary)
    kinds = len(set(day) | set(likes)) or 1
    n_likes, n_day = len(liked_primary), sum(day.values())

    def lift(category: str | None, own: int = 0) -> float:
        if category is None:
            return 0.0
        among_likes = (likes[category] - own + 1) / (n_likes - own + kinds)
        among_day = (day[category] + 1) / (n_day + kinds)
        return float(np.log(among_likes / among_day))

    for_candidates = np.array([lift(p.categories[0] if p.categories else None) for p in candidates])
    for_likes = np.array([lift(p.categories[0] if p.categories else None, 1 if p.categories else 0) for p in liked])
    return for_candidates, for_likes
