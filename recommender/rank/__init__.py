"""Ranking: strategies and their registry, the hybrid learner, the lexical space, options, selection, explanations."""

from .explain import explain, sentences, shared_terms
from .options import RankOptions, unused_settings
from .registry import REGISTRY, STRATEGIES, get_strategy
from .scoring import Scored, pick_from, recommend, score, score_listing
from .select import apply_rules, diversify, order, top_picks
from .strategies import ScoringInput, Strategy, unit_mean

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
    "score",
    "score_listing",
    "sentences",
    "shared_terms",
    "top_picks",
    "unit_mean",
    "unused_settings",
]
