"""Ranking metrics: pure functions of a ranked list of ids and the set of positive ids."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from ..schema import Paper

METRICS = ("ndcg@10", "recall@10", "recall@25", "map", "mrr")
METRIC_TITLES = {"ndcg@10": "nDCG@10", "recall@10": "recall@10", "recall@25": "recall@25", "map": "MAP", "mrr": "MRR"}


def _hits(ranked: Sequence[str], positives: Collection[str]) -> np.ndarray:
    """Boolean relevance of each ranked id."""
    return np.fromiter((paper_id in positives for paper_id in ranked), dtype=bool, count=len(ranked))


def ndcg_at_k(ranked: Sequence[str], positives: Collection[str], k: int = 10) -> float:
    """nDCG@k with binary gains and a log2 discount; the ideal ranking puts min(k, |positives|) hits first."""
    if not positives:
        return 0.0
    discounts = 1.0 / np.log2(np.arange(2, k + 2))  # (k,)
    hits = _hits(ranked[:k], positives)
    ideal = discounts[: min(k, len(positives))].sum()
    return float(discounts[: len(hits)][hits].sum() / ideal)


def recall_at_k(ranked: Sequence[str], positives: Collection[str], k: int = 10) -> float:
    """Share of the positives found in the top k."""
    if not positives:
        return 0.0
    return float(_hits(ranked[:k], positives).sum() / len(positives))


def average_precision(ranked: Sequence[str], positives: Collection[str]) -> float:
    """Mean of precision at each positive's rank; positives never ranked count as zero."""
    if not positives:
        return 0.0
    ranks = np.flatnonzero(_hits(ranked, positives)) + 1  # 1-based ranks of the hits
    return float((np.arange(1, len(ranks) + 1) / ranks).sum() / len(positives))


def reciprocal_rank(ranked: Sequence[str], positives: Collection[str]) -> float:
    """1 / the rank of the first positive, 0 when none is ranked."""
    for rank, paper_id in enumerate(ranked, start=1):
        if paper_id in positives:
            return 1.0 / rank
    return 0.0


def ranking_metrics(ranked: Sequence[str], positives: Collection[str]) -> dict[str, float]:
    """All the metrics of METRICS for one ranked list."""
    return {
        "ndcg@10": ndcg_at_k(ranked, positives, 10),
        "recall@10": recall_at_k(ranked, positives, 10),
        "recall@25": recall_at_k(ranked, positives, 25),
        "map": average_precision(ranked, positives),
        "mrr": reciprocal_rank(ranked, positives),
    }


def rank_ids(papers: Sequence[Paper], scores: np.ndarray) -> list[str]:
    """Paper ids ordered by (-score, id)."""
    ids = np.array([p.arxiv_id for p in papers])
    return [str(ids[i]) for i in np.lexsort((ids, -np.asarray(scores, dtype=np.float64)))]
