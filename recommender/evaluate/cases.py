"""One (list, day) pair as a scorer sees it, and the scorers run on it: baselines and the product's strategies."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np

from ..embed import CachedEmbedder
from ..profile import Profile, ProfilePaper
from ..rank import Scored, Strategy, get_strategy, score_listing
from ..schema import Listing, Paper, PaperrecError


def vectors_of(embedder: CachedEmbedder, papers: Sequence[Paper], dim: int) -> np.ndarray:
    """Vectors of the papers, (0, dim) when there are none."""
    return embedder.embed_papers(papers) if papers else np.zeros((0, dim), dtype=np.float32)


@dataclass(frozen=True, eq=False)
class EvalCase:
    """One (list, day) pair as a scorer sees it; `positives` is for the runner only, a scorer must not read it."""

    list_name: str
    day: date
    profile: tuple[Paper, ...]  # oldest first; paper.date is its announcement day
    profile_vectors: np.ndarray  # (n_profile, dim)
    candidates: tuple[Paper, ...]  # sorted by id
    candidate_vectors: np.ndarray  # (n_candidates, dim)
    positives: frozenset[str]
    load_history: Callable[[], tuple[tuple[Paper, ...], np.ndarray]] = field(repr=False)
    embedder: CachedEmbedder | None = field(default=None, repr=False)
    user_list: frozenset[str] = frozenset()  # every id of the list (the oracle of a simulated rating)
    load_shown: Callable[[], tuple[Paper, ...]] = field(default=lambda: (), repr=False)

    @property
    def listing(self) -> Listing:
        """The day as `rank` sees it: every candidate, dated the day."""
        return Listing(papers=self.candidates, date=self.day)

    def user_profile(self, papers: Sequence[Paper] | None = None, **settings: Any) -> Profile:
        """The pair as a user's profile: the list's earlier papers liked on the day each was first seen.

        Its name is unique to the pair, so no pair ever reads another's stored model."""
        chosen = self.profile if papers is None else tuple(papers)
        liked = tuple(ProfilePaper(p, p.date or self.day) for p in chosen)
        return Profile(name=f"bench {self.list_name} {self.day.isoformat()}", liked=liked, **settings)

    @cached_property
    def shown(self) -> tuple[Paper, ...]:
        """The papers of the listing day before the pair's day (a stored earlier day), none of the day's own."""
        return self.load_shown()

    @cached_property
    def _history(self) -> tuple[tuple[Paper, ...], np.ndarray]:
        return self.load_history()

    @property
    def history(self) -> tuple[Paper, ...]:
        """Papers shown on the preceding days that are not in the list (implicit negatives); embedded on first use."""
        return self._history[0]

    @property
    def history_vectors(self) -> np.ndarray:
        """Vectors of `history`, (n_history, dim)."""
        return self._history[1]


Scorer = Callable[[EvalCase], np.ndarray]


def centroid_scorer(case: EvalCase) -> np.ndarray:
    """Cosine to the mean of the profile vectors (the baseline)."""
    mean = case.profile_vectors.mean(axis=0)  # (dim,)
    return case.candidate_vectors @ (mean / max(float(np.linalg.norm(mean)), 1e-12))


def random_scorer(case: EvalCase) -> np.ndarray:
    """Random scores, seeded by the pair, so a run is reproducible."""
    rng = np.random.default_rng(zlib.crc32(f"{case.list_name}|{case.day.isoformat()}".encode()))
    return rng.random(len(case.candidates))


def aligned_scores(result: np.ndarray | Scored, case: EvalCase) -> tuple[np.ndarray, np.ndarray | None]:
    """A scorer's scores (and matches, from a Scored) in the case's candidate order; unscored papers rank last."""
    if not isinstance(result, Scored):
        return np.asarray(result, dtype=np.float64), None
    index = {p.arxiv_id: i for i, p in enumerate(result.candidates)}
    rows = [index.get(p.arxiv_id) for p in case.candidates]
    scores = np.array([-np.inf if i is None else result.scores[i] for i in rows], dtype=np.float64)
    matches = np.array([0.0 if i is None else result.matches[i] for i in rows], dtype=np.float64)
    return scores, matches


def strategy_names(strategies: Sequence[str] | None = None) -> list[str]:
    """The strategies asked for (checked, duplicates dropped), or every registered one."""
    from ..rank import STRATEGIES

    names = list(dict.fromkeys(strategies or STRATEGIES))
    for name in names:
        get_strategy(name)
    return names


def strategy_scorer(strategy: str | Strategy, *, shown_negatives: bool = False) -> Callable[[EvalCase], Scored]:
    """A scorer that runs a strategy on a bench case exactly as `rank` would: score_listing on the day's listing with
    the pair's profile (its model fitted for the pair, never stored). `shown_negatives` adds the papers of the
    listing day before as implicit negatives (a negative policy measured against the default)."""
    chosen = get_strategy(strategy)

    def scorer(case: EvalCase) -> Scored:
        return product_scores(case, case.user_profile(), chosen, shown=case.shown if shown_negatives else ())

    return scorer


def product_scores(case: EvalCase, profile: Profile, strategy: str | Strategy, shown: Sequence[Paper] = ()) -> Scored:
    """score_listing of the case's day for a profile, as `rank` runs it (no stored model)."""
    if case.embedder is None:
        raise PaperrecError("this case has no embedder: build it with make_case")
    return score_listing(case.listing, profile, case.embedder, strategy=strategy, store=False, history=shown)
