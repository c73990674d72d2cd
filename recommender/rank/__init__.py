"""Ranking: strategies and their registry, the hybrid learner, the lexical space, options, selection, explanations."""

from .explain import explain, sentences, shared_terms
from .options import RankOptions
from .scoring import Scored, pick_from, recommend, recommend_settings, score, score_listing
from .select import apply_rules, diversify, order, top_picks
from .strategies import REGISTRY, STRATEGIES, ScoringInput, Strategy, get_strategy, unit_mean

__all__ = [
    "REGISTRY",
    "STRATEGIES",
    "RankOptions",
    "Scored",
    "ScoringInput",
    "Strategy",
    "apply_rules",
    "diversify",
    "explain",
    "get_strategy",
    "order",
    "pick_from",
    "recommend",
    "recommend_settings",
    "score",
    "score_listing",
    "sentences",
    "shared_terms",
    "top_picks",
    "unit_mean",
]
