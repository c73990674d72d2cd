"""Strategies: pure functions that score candidate papers against a profile (higher is better), and their registry.

Adding a strategy is one function of a ScoringInput plus one `Strategy(...)` line in REGISTRY; everything that
depends on what a strategy needs or produces (negatives, the dislike penalty's scale, stored models, explanation
terms) reads the record's fields.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from ..profile import ProfileVectors
from ..schema import Paper, UsageError
from .features import author_affinity, category_lift
from .hybrid import SHARES, HybridRanker, zscore
from .lexical import fit_tfidf

MIN_CLASSIFIER_POSITIVES = 5
MIN_CLASSIFIER_NEGATIVES = 20


@dataclass(frozen=True)
class ScoringInput:
    """What a strategy may look at; vectors are unit rows aligned with their texts."""

    candidates: np.ndarray  # (n_candidates, dim)
    candidate_texts: Sequence[str]
    profile: ProfileVectors
    negatives: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))  # (n_negatives, dim)
    negative_texts: Sequence[str] = ()
    today: date | None = None
    half_life_days: float | None = None  # recency: a like this many days old counts half
    dislike_weight: float = 0.5
    ranker: HybridRanker | None = None  # a fitted (e.g. stored) ranker for `hybrid`; fitted here when None
    candidate_papers: Sequence[Paper] = ()  # row-aligned with candidates, for authors and categories
    liked_papers: Sequence[Paper] = ()  # row-aligned with the first rows of profile.liked (interests have none)

    @property
    def liked(self) -> np.ndarray:
        return self.profile.liked

    def liked_weights(self, half_life_days: float | None = None) -> np.ndarray:
        """The profile's weights, decayed by age when a half-life (and today) is known."""
        weights = np.asarray(self.profile.weights, dtype=np.float64)
        half_life = half_life_days or self.half_life_days
        if half_life and self.today and self.profile.added:
            ages = np.array([(self.today - d).days if d else 0 for d in self.profile.added], dtype=np.float64)
            weights = weights * 0.5 ** (np.clip(ages, 0, None) / half_life)
        return weights

    def negative_pool(self) -> tuple[np.ndarray, list[str]]:
        """Explicit dislikes plus implicit negatives (papers shown but not liked)."""
        vectors = [v for v in (self.profile.disliked, self.negatives) if v.size]
        texts = list(self.profile.disliked_texts) + list(self.negative_texts)
        if not vectors:
            return np.zeros((0, self.candidates.shape[1]), np.float32), texts
        return np.vstack(vectors), texts


def unit_mean(vectors: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Unit vector along the (weighted) mean of the rows; zero when there is nothing to average."""
    if len(vectors) == 0:
        return np.zeros(vectors.shape[1], dtype=np.float32)
    usable = weights is not None and float(np.sum(weights)) > 0
    mean = np.average(vectors, axis=0, weights=weights if usable else None)
    norm = np.linalg.norm(mean)
    return (mean / norm if norm > 0 else mean).astype(np.float32)


def centroid(inp: ScoringInput) -> np.ndarray:
    """Cosine to the weighted mean of the liked vectors (the baseline)."""
    return inp.candidates @ unit_mean(inp.liked, inp.liked_weights())  # (n_candidates,)


def maximum(inp: ScoringInput) -> np.ndarray:
    """Cosine to the single most similar liked paper."""
    return (inp.candidates @ inp.liked.T).max(axis=1)  # (n_candidates, n_liked) -> (n_candidates,)


def knn(inp: ScoringInput, k: int = 5) -> np.ndarray:
    """Mean cosine to the k most similar liked papers."""
    sims = inp.candidates @ inp.liked.T  # (n_candidates, n_liked)
    k = min(k, sims.shape[1])
    return np.sort(sims, axis=1)[:, -k:].mean(axis=1)


def recency(inp: ScoringInput, half_life_days: float = 180.0) -> np.ndarray:
    """Recency-weighted mean of cosines to the liked papers: recent likes count more."""
    weights = inp.liked_weights(inp.half_life_days or half_life_days)
    sims = inp.candidates @ inp.liked.T  # (n_candidates, n_liked)
    return sims @ (weights / weights.sum()) if weights.sum() > 0 else sims.mean(axis=1)


def interest_centroids(liked: np.ndarray, max_clusters: int = 6, seed: int = 0) -> np.ndarray:
    """Unit centroids of the profile's topics: k-means with k chosen by silhouette; one centroid if no structure."""
    n = len(liked)
    if n < 8:
        return unit_mean(liked)[None, :]
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    best, best_score = None, 0.05  # below this silhouette the profile is one topic
    for k in range(2, min(max_clusters, n // 4) + 1):
        model = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(liked)
        quality = silhouette_score(liked, model.labels_, metric="cosine")
        if quality > best_score:
            best, best_score = model, quality
    if best is None:
        return unit_mean(liked)[None, :]
    return np.stack([unit_mean(liked[best.labels_ == c]) for c in range(best.n_clusters)])


def clusters(inp: ScoringInput) -> np.ndarray:
    """Cosine to the closest interest centroid, so every topic of a multi-topic profile gets its papers."""
    return (inp.candidates @ interest_centroids(inp.liked).T).max(axis=1)


def classifier(inp: ScoringInput) -> np.ndarray:
    """Logistic regression on embeddings: likes against dislikes and implicit negatives; knn when too few."""
    negatives, _ = inp.negative_pool()
    if len(inp.liked) < MIN_CLASSIFIER_POSITIVES or len(negatives) < MIN_CLASSIFIER_NEGATIVES:
        return knn(inp)
    from sklearn.linear_model import LogisticRegression

    features = np.vstack([inp.liked, negatives])
    labels = np.r_[np.ones(len(inp.liked)), np.zeros(len(negatives))]
    sample_weight = np.r_[inp.liked_weights(), np.ones(len(negatives))]
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
    model.fit(features, labels, sample_weight=sample_weight)
    return model.decision_function(inp.candidates)


def tfidf(inp: ScoringInput) -> np.ndarray:
    """Lexical only: cosine of TF-IDF (1-2-grams, sublinear) vectors to the liked papers' TF-IDF centroid."""
    liked_texts = list(inp.profile.liked_texts)
    _, matrix = fit_tfidf(liked_texts + list(inp.candidate_texts))
    liked, candidates = matrix[: len(liked_texts)], matrix[len(liked_texts) :]
    weights = inp.liked_weights()[: len(liked_texts)]
    center = np.asarray(liked.T @ weights).ravel()  # rows are unit length already
    norm = np.linalg.norm(center)
    return np.asarray(candidates @ (center / norm if norm else center)).ravel()


def tfidf_svm(inp: ScoringInput) -> np.ndarray:
    """arxiv-sanity style: a linear SVM on TF-IDF, likes against negatives; TF-IDF centroid when too few."""
    _, negative_texts = inp.negative_pool()
    liked_texts = list(inp.profile.liked_texts)
    if len(liked_texts) < MIN_CLASSIFIER_POSITIVES or len(negative_texts) < MIN_CLASSIFIER_NEGATIVES:
        return tfidf(inp)
    from sklearn.svm import LinearSVC

    _, matrix = fit_tfidf(liked_texts + negative_texts + list(inp.candidate_texts))
    n_train = len(liked_texts) + len(negative_texts)
    labels = np.r_[np.ones(len(liked_texts)), np.zeros(len(negative_texts))]
    model = LinearSVC(C=0.1, class_weight="balanced", random_state=0).fit(matrix[:n_train], labels)
    return model.decision_function(matrix[n_train:])


@dataclass(frozen=True)
class HybridConfig:
    """The hybrid's settings; one set for every profile (the bench measures each against the default)."""

    semantic_c: float = 1.0
    lexical_c: float = 0.1
    shares: tuple[float, ...] = SHARES  # semantic shares tried per profile (ADAPTIVE_SHARES); (0.5,): the plain sum
    author_weight: float = 0.0  # x log(1 + recency-weighted likes sharing an author)
    category_weight: float = 0.0  # x log-lift of the primary category among the likes over the day
    author_half_life_days: float = 365.0
    # Likes teach the learners half as much every this many days of age, unless the profile sets half_life_days:
    # measured on the bench, +0.009 nDCG@10 [+0.000, +0.023] over equal weights.
    half_life_days: float | None = 180.0
    # Share of the implicit negatives closest to the likes' centroid left out of training: on a day's listing they
    # are the papers most likely to be liked after all.
    spare_closest: float = 0.0


DEFAULT_HYBRID = HybridConfig()


def fit_hybrid(inp: ScoringInput, config: HybridConfig = DEFAULT_HYBRID) -> HybridRanker | None:
    """Fit the hybrid ranker on likes against dislikes and implicit negatives; None when there are too few."""
    negatives, negative_texts = inp.negative_pool()
    if len(inp.liked) < MIN_CLASSIFIER_POSITIVES or len(negatives) < MIN_CLASSIFIER_NEGATIVES:
        return None
    n_spared = int(config.spare_closest * len(inp.negatives))
    if n_spared:
        closeness = inp.negatives @ unit_mean(inp.liked, inp.liked_weights())
        spared = set((np.argsort(-closeness)[:n_spared] + len(inp.profile.disliked)).tolist())
        kept = [i for i in range(len(negatives)) if i not in spared]
        negatives, negative_texts = negatives[kept], [negative_texts[i] for i in kept]
    labels = np.r_[np.ones(len(inp.liked)), np.zeros(len(negatives))]
    weights = np.r_[inp.liked_weights(inp.half_life_days or config.half_life_days), np.ones(len(negatives))]
    texts = list(inp.profile.liked_texts) + list(negative_texts)
    ranker = HybridRanker(config.semantic_c, config.lexical_c, config.shares)
    return ranker.fit(np.vstack([inp.liked, negatives]), texts, labels, sample_weight=weights)


def metadata_scores(inp: ScoringInput, config: HybridConfig = DEFAULT_HYBRID) -> tuple[np.ndarray, np.ndarray]:
    """The author and category terms of the candidates, and of each like left out of its own profile."""
    candidates, held = np.zeros(len(inp.candidates)), np.zeros(len(inp.liked))
    if not (config.author_weight or config.category_weight) or not inp.liked_papers or not inp.candidate_papers:
        return candidates, held
    n = len(inp.liked_papers)
    if config.author_weight:
        recency = inp.liked_weights(config.author_half_life_days)[:n]
        for_candidates, for_likes = author_affinity(inp.liked_papers, recency, inp.candidate_papers)
        candidates += config.author_weight * for_candidates
        held[:n] += config.author_weight * for_likes
    if config.category_weight:
        for_candidates, for_likes = category_lift(inp.liked_papers, inp.candidate_papers)
        candidates += config.category_weight * for_candidates
        held[:n] += config.category_weight * for_likes
    return candidates, held


def hybrid_scores(inp: ScoringInput, config: HybridConfig = DEFAULT_HYBRID) -> tuple[np.ndarray, np.ndarray | None]:
    """The hybrid's scores of the candidates and the held-out scores of the likes on the same scale (None: no
    learned model, so no stored held-out scores)."""
    ranker = inp.ranker or fit_hybrid(inp, config)
    extra, extra_held = metadata_scores(inp, config)
    if ranker is None:
        return zscore(knn(inp)) + zscore(tfidf(inp)) + extra, None
    fused, held = ranker.fuse(ranker.semantic_scores(inp.candidates), ranker.lexical_scores(inp.candidate_texts))
    if len(held) == len(extra_held):
        held = held + extra_held
    return fused + extra, held


def hybrid(inp: ScoringInput) -> np.ndarray:
    """Semantic and lexical models learned from the profile, fused on a common scale (the default).

    With too few likes or negatives to learn from, semantic (knn) and lexical (TF-IDF) similarity are fused instead.
    """
    return hybrid_scores(inp)[0]


def hybrid_strategy(config: HybridConfig, name: str = "hybrid") -> Strategy:
    """The hybrid strategy with these settings (the registry's `hybrid` uses DEFAULT_HYBRID)."""
    return Strategy(
        name,
        lambda inp: hybrid_scores(inp, config)[0],
        "learned semantic + lexical models, fused (the default)",
        uses_negatives=True,
        standardised=True,
        lexical=True,
        fit=lambda inp: fit_hybrid(inp, config),
        load=HybridRanker.load,
        held_out=lambda inp: hybrid_scores(inp, config)[1],
    )


@dataclass(frozen=True)
class Strategy:
    """One strategy: its scoring function and the traits the pipeline around it reads."""

    name: str
    score: Callable[[ScoringInput], np.ndarray]
    summary: str
    uses_negatives: bool = False  # reads implicit negatives (the day's other papers); others never pay for them
    learns_dislikes: bool = False  # dislikes are training negatives, so no separate dislike penalty is applied
    standardised: bool = False  # scores are z-scores over the candidates; the dislike penalty is put on that scale
    lexical: bool = False  # explanations carry the TF-IDF terms shared with the liked papers
    fit: Callable[[ScoringInput], Any] | None = None  # learns a model that is stored per profile and reused
    load: Callable[[Path, str], Any] | None = None  # reads the stored model back (None: refit)
    # The likes' held-out scores (each scored by a model that did not see it), on the candidates' scale. Without
    # it, or when it returns None, they are cross-validated by rescoring (calibrate.FOLDS folds).
    held_out: Callable[[ScoringInput], np.ndarray | None] | None = None

    def __call__(self, inp: ScoringInput) -> np.ndarray:
        return self.score(inp)


REGISTRY: tuple[Strategy, ...] = (
    Strategy("centroid", centroid, "cosine to the weighted mean of the likes (the baseline)"),
    Strategy("max", maximum, "cosine to the closest liked paper"),
    Strategy("knn", knn, "mean cosine to the 5 closest liked papers"),
    Strategy("clusters", clusters, "cosine to the closest interest cluster (k-means)"),
    Strategy("recency", recency, "cosines weighted by how recent each like is"),
    Strategy("classifier", classifier, "logistic regression on embeddings", uses_negatives=True, learns_dislikes=True),
    Strategy("tfidf", tfidf, "TF-IDF cosine to the likes' centroid", lexical=True),
    Strategy("tfidf-svm", tfidf_svm, "linear SVM on TF-IDF", uses_negatives=True, learns_dislikes=True, lexical=True),
    hybrid_strategy(DEFAULT_HYBRID),
)
STRATEGIES: dict[str, Strategy] = {strategy.name: strategy for strategy in REGISTRY}


def get_strategy(name: str | Strategy) -> Strategy:
    """The registered strategy of this name (a Strategy is returned as is); a usage error listing the choices."""
    if isinstance(name, Strategy):
        return name
    try:
        return STRATEGIES[name]
    except KeyError:
        raise UsageError(f"unknown strategy {name!r}: choose one of {', '.join(STRATEGIES)}") from None
