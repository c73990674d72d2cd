"""Offline evaluation: ranking metrics, the bench protocol, the profile backtest, cold start and active learning.

metrics.py scores one ranked list. results.py averages a run's rows with bootstrap intervals. cases.py is one
(list, day) pair as a scorer sees it, with the scorers. bench.py reads a bench folder and runs scorers over its
pairs. profile_backtest.py replays a user's own likes. cold_start.py and active_learning.py score small profiles.
"""

from __future__ import annotations

from .active_learning import active_scorers, with_ratings
from .bench import (
    HISTORY_DAYS,
    MAX_NEGATIVES,
    MAX_PROFILE,
    MIN_CANDIDATES,
    MIN_POSITIVES,
    MIN_PROFILE,
    Bench,
    evaluate,
    evaluate_bench,
    evenly_spaced,
    load_bench,
    make_case,
)
from .cases import (
    EvalCase,
    Scorer,
    centroid_scorer,
    product_scores,
    random_scorer,
    strategy_names,
    strategy_scorer,
)
from .cold_start import COLD_START_SIZES, cold_start_scorers, small_profile, topic_of
from .metrics import (
    METRIC_TITLES,
    METRICS,
    average_precision,
    ndcg_at_k,
    rank_ids,
    ranking_metrics,
    recall_at_k,
    reciprocal_rank,
)
from .profile_backtest import ProfileBacktest, backtest, backtest_profile, backtest_summary, run_backtest
from .results import EvaluationResult

__all__ = [
    "COLD_START_SIZES",
    "HISTORY_DAYS",
    "MAX_NEGATIVES",
    "MAX_PROFILE",
    "METRICS",
    "METRIC_TITLES",
    "MIN_CANDIDATES",
    "MIN_POSITIVES",
    "MIN_PROFILE",
    "Bench",
    "EvalCase",
    "EvaluationResult",
    "ProfileBacktest",
    "Scorer",
    "active_scorers",
    "average_precision",
    "backtest",
    "backtest_profile",
    "backtest_summary",
    "centroid_scorer",
    "cold_start_scorers",
    "evaluate",
    "evaluate_bench",
    "evenly_spaced",
    "load_bench",
    "make_case",
    "ndcg_at_k",
    "product_scores",
    "random_scorer",
    "rank_ids",
    "ranking_metrics",
    "recall_at_k",
    "reciprocal_rank",
    "run_backtest",
    "small_profile",
    "strategy_names",
    "strategy_scorer",
    "topic_of",
    "with_ratings",
]
