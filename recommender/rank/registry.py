"""The registered strategies: the similarity functions of strategies.py and the hybrid, by name."""

from __future__ import annotations

from ..schema import UsageError, did_you_mean
from .hybrid import DEFAULT_HYBRID, hybrid_strategy
from .strategies import Strategy, centroid, classifier, clusters, knn, maximum, recency, tfidf, tfidf_svm

REGISTRY: tuple[Strategy, ...] = (
    Strategy("centroid", centroid, "cosine to the weighted mean of the likes (the baseline)"),
    Strategy("max", maximum, "cosine to the closest liked paper", ages_likes=False),
    Strategy("knn", knn, "mean cosine to the 5 closest liked papers", ages_likes=False),
    Strategy("clusters", clusters, "cosine to the closest interest cluster (k-means)", ages_likes=False),
    Strategy("recency", recency, "cosines weighted by how recent each like is"),
    Strategy("classifier", classifier, "logistic regression on embeddings", uses_negatives=True, learns_dislikes=True),
    Strategy("tfidf", tfidf, "TF-IDF cosine to the likes' centroid", lexical=True),
    Strategy(
        "tfidf-svm",
        tfidf_svm,
        "linear SVM on TF-IDF",
        uses_negatives=True,
        learns_dislikes=True,
        lexical=True,
        ages_likes=False,
    ),
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
        hint = did_you_mean(name, list(STRATEGIES))
        raise UsageError(f"unknown strategy {name!r}: choose one of {', '.join(STRATEGIES)}{hint}") from None
