"""Ranking variants measured on the bench and not kept (README): authors and categories, a fusion share chosen per
profile, sparing the negatives closest to the likes, and ratings asked at the score boundary.

Each plugs into the product through a public seam (a Strategy built on the registry's hybrid, suggest_ratings'
`uncertainty`), so nothing on the path `rank` runs reads them. benchmarks/ranking_study.py measures them.
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from recommender.rank import STRATEGIES, Scored, ScoringInput, Strategy
from recommender.rank.hybrid import DEFAULT_HYBRID, HybridConfig, HybridRanker, fit_hybrid, stratified_folds
from recommender.rank.strategies import unit_mean
from recommender.schema import Paper

# Semantic shares of the fusion that a per-profile choice may try; choosing among them (by held-out AUC or by
# held-out likes in the top 5 %) did not beat the even sum, which the product uses.
ADAPTIVE_SHARES = (0.2, 0.35, 0.5, 0.65, 0.8)
TOP_SHARE = 0.05  # the share of a day that its picks are: the fusion is chosen for what ranks there
SHOWN_SHARE = 0.05  # the share of a pool the profile would be shown: its boundary is the score at this quantile
AUTHOR_HALF_LIFE_DAYS = 365.0


# --- authors and categories ---------------------------------------------------------------------------------------


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


def metadata_scores(
    inp: ScoringInput, author_weight: float = 0.0, category_weight: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """The weighted author and category terms of the candidates, and of each like left out of its own profile."""
    candidates, held = np.zeros(len(inp.candidates)), np.zeros(len(inp.liked))
    if not (author_weight or category_weight) or not inp.liked_papers or not inp.candidate_papers:
        return candidates, held
    n = len(inp.liked_papers)
    if author_weight:
        recency = inp.liked_weights(AUTHOR_HALF_LIFE_DAYS)[:n]
        for_candidates, for_likes = author_affinity(inp.liked_papers, recency, inp.candidate_papers)
        candidates += author_weight * for_candidates
        held[:n] += author_weight * for_likes
    if category_weight:
        for_candidates, for_likes = category_lift(inp.liked_papers, inp.candidate_papers)
        candidates += category_weight * for_candidates
        held[:n] += category_weight * for_likes
    return candidates, held


def with_metadata(
    author_weight: float = 0.0,
    category_weight: float = 0.0,
    name: str = "hybrid + metadata",
    base: Strategy | None = None,
) -> Strategy:
    """The hybrid (or `base`) plus author and category terms, on its scores and on its likes' held-out scores."""
    plain = base or STRATEGIES["hybrid"]

    def both(inp: ScoringInput) -> tuple[np.ndarray, np.ndarray | None]:
        scores, held = plain.score_with_held_out(inp)
        extra, extra_held = metadata_scores(inp, author_weight, category_weight)
        if held is not None and len(held) == len(extra_held):
            held = held + extra_held
        return scores + extra, held

    return replace(plain, name=name, score=lambda inp: both(inp)[0], score_with_held_out=both)


# --- negatives ----------------------------------------------------------------------------------------------------


def spare_closest(inp: ScoringInput, share: float) -> ScoringInput:
    """The input without the `share` of implicit negatives closest to the likes' centroid: on a day's listing they
    are the papers most likely to be liked after all."""
    n_spared = int(share * len(inp.negatives))
    if not n_spared:
        return inp
    closeness = inp.negatives @ unit_mean(inp.liked, inp.liked_weights())
    spared = set(np.argsort(-closeness)[:n_spared].tolist())
    kept = [i for i in range(len(inp.negatives)) if i not in spared]
    texts = list(inp.negative_texts)
    return replace(inp, negatives=inp.negatives[kept], negative_texts=[texts[i] for i in kept])


def sparing_closest(share: float, config: HybridConfig = DEFAULT_HYBRID, name: str | None = None) -> Strategy:
    """The hybrid fitted without the `share` of implicit negatives closest to the likes (scored as the default)."""
    base = STRATEGIES["hybrid"]
    label = name or f"spare closest {share:.0%}"
    return replace(base, name=label, fit=lambda inp: fit_hybrid(spare_closest(inp, share), config), load=None)


# --- the fusion share, chosen per profile -------------------------------------------------------------------------


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a positive scores above a negative (ties count half)."""
    if len(positive) == 0 or len(negative) == 0:
        return 0.5
    _, inverse, counts = np.unique(np.r_[positive, negative], return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[inverse]  # average 1-based ranks
    n_pos, n_neg = len(positive), len(negative)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def top_recall(positive: np.ndarray, negative: np.ndarray, shown: float = TOP_SHARE) -> float:
    """Share of the positives scored above all but the top `shown` share of the negatives: what a day's picks find."""
    if len(positive) == 0 or len(negative) == 0:
        return 0.0
    return float(np.mean(positive > np.quantile(negative, 1 - shown)))


def choose_share(
    held_semantic: np.ndarray, held_lexical: np.ndarray, liked: np.ndarray, shares: Sequence[float] = ADAPTIVE_SHARES
) -> float:
    """The semantic share, among `shares`, that puts most held-out likes in the top TOP_SHARE of the held-out
    negatives; among shares within noise of the best (a like or two), the one closest to an even fusion."""

    def scaled(values: np.ndarray) -> np.ndarray:
        # On the negatives' scale: a day's candidates are nearly all negatives, and they set the z-scores.
        center, spread = values[~liked].mean(), values[~liked].std()
        return (values - center) / (spread or 1.0)

    z_semantic, z_lexical = scaled(held_semantic), scaled(held_lexical)
    quality = {}
    for w in shares:
        fused = w * z_semantic + (1 - w) * z_lexical
        quality[w] = top_recall(fused[liked], fused[~liked])
    best = max(quality.values())
    noise = 1.5 / max(int(liked.sum()), 1)
    return min((w for w, q in quality.items() if q >= best - noise), key=lambda w: (abs(w - 0.5), w))


def held_out_margins(
    inp: ScoringInput, config: HybridConfig = DEFAULT_HYBRID
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both halves' held-out margins of every training row (likes, then negatives) and the likes' mask: each fold
    scored by a ranker fitted without it (its own TF-IDF space, so unlike the product's folds, which share one)."""
    negatives, negative_texts = inp.negative_pool()
    vectors = np.vstack([inp.liked, negatives])
    texts = list(inp.profile.liked_texts) + list(negative_texts)
    labels = np.r_[np.ones(len(inp.liked)), np.zeros(len(negatives))]
    weights = np.r_[inp.liked_weights(inp.half_life_days or config.half_life_days), np.ones(len(negatives))]
    semantic, lexical = np.zeros(len(labels)), np.zeros(len(labels))
    for part in stratified_folds(labels):
        rest = np.setdiff1d(np.arange(len(labels)), part)
        # More folds than rows: the fold's ranker skips its own cross-validation.
        ranker = HybridRanker(config.semantic_c, config.lexical_c, folds=len(labels) + 1)
        ranker.fit(vectors[rest], [texts[i] for i in rest], labels[rest], sample_weight=weights[rest])
        semantic[part] = ranker.semantic_scores(vectors[part])
        lexical[part] = ranker.lexical_scores([texts[i] for i in part])
    return semantic, lexical, labels == 1


def adaptive_share(shares: Sequence[float] = ADAPTIVE_SHARES, name: str = "adaptive share") -> Strategy:
    """The hybrid fused as 2 x (w x z(semantic) + (1 - w) x z(lexical)), w chosen per profile by choose_share."""
    base = STRATEGIES["hybrid"]

    def both(inp: ScoringInput) -> tuple[np.ndarray, np.ndarray | None]:
        ranker = inp.ranker or fit_hybrid(inp)
        if ranker is None:
            return base.score_with_held_out(inp)
        w = choose_share(*held_out_margins(inp), shares)

        def scale(day: np.ndarray, likes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            center, spread = day.mean(), day.std() or 1.0
            return (day - center) / spread, (likes - center) / spread

        z_semantic, held_semantic = scale(ranker.semantic_scores(inp.candidates), ranker.cv_semantic_)
        z_lexical, held_lexical = scale(ranker.lexical_scores(inp.candidate_texts), ranker.cv_lexical_)
        return 2 * (w * z_semantic + (1 - w) * z_lexical), 2 * (w * held_semantic + (1 - w) * held_lexical)

    return replace(base, name=name, score=lambda inp: both(inp)[0], score_with_held_out=both)


# --- active learning ----------------------------------------------------------------------------------------------


def boundary_uncertainty(scored: Scored) -> np.ndarray:
    """Closeness of each candidate's score to the boundary of what the profile is shown (the top SHOWN_SHARE)."""
    boundary = float(np.quantile(scored.scores, 1 - SHOWN_SHARE))
    spread = float(scored.scores.std()) or 1.0
    return np.exp(-np.abs(scored.scores - boundary) / spread)  # 1 on the boundary, falling off in standard deviations
