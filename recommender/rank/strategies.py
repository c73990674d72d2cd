"""Strategies: pure functions that score candidate papers against a profile (higher is better), and their record.

Adding a strategy is one function of a ScoringInput plus one `Strategy(...)` line in registry.REGISTRY; everything
that depends on what a strategy needs or produces (negatives, the dislike penalty's scale, stored models, explanation
terms, held-out scores) reads the record's fields. Its name also goes in schema.STRATEGY_NAMES, which profile files
are checked against. The hybrid, which builds on these functions, is in hybrid.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..profile import ProfileVectors
from ..schema import Paper
from .lexical import fit_tfidf

if TYPE_CHECKING:
    from .hybrid import HybridRanker

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
    likes_old: bool = False  # the likes are old on this day (profile.likes_age): the hybrid's lexical half only raises

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


def zscore(scores: np.ndarray) -> np.ndarray:
    """Scores on a common scale: zero mean, unit spread over the candidates."""
    spread = scores.std()
    return (scores - scores.mean()) / spread if spread > 0 else scores - scores.mean()


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
class Strategy:
    """One strategy: its scoring function and the traits the pipeline around it reads."""

    name: str
    score: Callable[[ScoringInput], np.ndarray]
    summary: str
    uses_negatives: bool = False  # reads implicit negatives (the day's other papers); others never pay for them
    learns_dislikes: bool = False  # dislikes are training negatives, so no separate dislike penalty is applied
    standardised: bool = False  # scores are z-scores over the candidates; the dislike penalty is put on that scale
    lexical: bool = False  # explanations carry the TF-IDF terms shared with the liked papers
    ages_likes: bool = True  # likes count less with age (half_life_days); False: every like counts the same
    fit: Callable[[ScoringInput], Any] | None = None  # learns a model that is stored per profile and reused
    load: Callable[[Path, str], Any] | None = None  # reads the stored model back (None: refit)
    # The candidates' scores and, in the same pass, the likes' held-out scores on their scale (each like scored by a
    # model that did not see it). Without it, or when its held-out part is None, they are cross-validated by
    # rescoring (calibrate.FOLDS folds).
    score_with_held_out: Callable[[ScoringInput], tuple[np.ndarray, np.ndarray | None]] | None = None

    def __call__(self, inp: ScoringInput) -> np.ndarray:
        return self.score(inp)
