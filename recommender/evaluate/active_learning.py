"""Active learning: a small profile rated on papers suggest_ratings picks, against random and no ratings."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ..profile import Profile, ProfilePaper
from ..rank import Scored
from ..schema import Paper
from .cases import EvalCase, product_scores
from .cold_start import small_profile


def with_ratings(case: EvalCase, base: Profile, papers: Sequence[Paper]) -> Profile:
    """The profile after the user rated papers, the list being the oracle: a list paper is liked, any other
    disliked; each rated on the day it was shown."""
    liked = [ProfilePaper(p, p.date or case.day) for p in papers if p.arxiv_id in case.user_list]
    disliked = tuple(ProfilePaper(p, p.date or case.day) for p in papers if p.arxiv_id not in case.user_list)
    return replace(base, liked=base.liked + tuple(liked), disliked=base.disliked + disliked)


def active_scorers(
    k: int = 10,
    base: int = 5,
    strategy: str = "hybrid",
    uncertainty: Callable[[Scored], np.ndarray] | None = None,
    **settings: Any,
) -> dict[str, Callable[[EvalCase], Scored]]:
    """Scorers for `evaluate --active K`: a profile of the `base` likes seen before the listing day before the
    pair's day, with no ratings, with K random ratings of that day's papers and with the K ratings suggest_ratings
    asks for (the list is the oracle; `uncertainty`: its measure, by default its own). `settings` go to the
    profile (e.g. dislike_weight)."""
    from ..rank.active import match_uncertainty, suggest_ratings

    measure = uncertainty or match_uncertainty

    def make(policy: str) -> Callable[[EvalCase], Scored]:
        def scorer(case: EvalCase) -> Scored:
            # The user's likes up to the day the pool was shown, so the pool's own list papers are still to find.
            pool_day = min((p.date for p in case.shown if p.date is not None), default=case.day)
            earlier = [p for p in case.profile if p.date is None or p.date < pool_day]
            # No like before that day (a list's first days): the user starts from the interest sentence.
            profile = case.user_profile(earlier[-base:], **settings) if earlier else small_profile(case, 0, **settings)
            pool = [p for p in case.shown if p.arxiv_id not in profile.ids]
            if policy == "random" and pool:
                rng = np.random.default_rng(zlib.crc32(f"{case.list_name}|{case.day.isoformat()}|rate".encode()))
                rated = [pool[i] for i in rng.choice(len(pool), min(k, len(pool)), False)]
                profile = with_ratings(case, profile, rated)
            elif policy == "suggested" and pool:
                assert case.embedder is not None
                suggested = suggest_ratings(
                    profile, pool, case.embedder, k=k, store=False, uncertainty=measure, day=pool_day
                )
                profile = with_ratings(case, profile, suggested)
            return product_scores(case, profile, strategy)

        return scorer

    return {f"{strategy}@{base} {policy}": make(policy) for policy in ("none", "random", "suggested")}
