"""From scores to `match`, the probability that the user likes a paper: Platt scaling on the profile's own data.

The calibration set is held out by the profile itself: each like scored by a model that did not see it
(cross-validated), against papers shown but not liked. Likes and negatives are not in the proportion a day holds
them, so the fit is weighted to the profile's own like rate (how many of a day's papers it likes). numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from ..schema import MIN_MATCH_LIKES as MIN_MATCH_LIKES  # kept in schema so that `like` needs no numpy

FOLDS = 5
LIKE_WINDOW_DAYS = 90  # the likes that tell how many of a day's papers this profile likes
LISTING_DAYS_PER_WEEK = 5
DEFAULT_LIKES_PER_DAY = 1.0  # a guess for a profile with no dated recent likes
ECE_BINS = 10


@dataclass(frozen=True)
class Platt:
    """p = sigmoid(slope x score + intercept), slope >= 0 so a higher score never means a lower match."""

    slope: float
    intercept: float

    def predict(self, scores: np.ndarray) -> np.ndarray:
        """The match of each score, in [0, 1]."""
        z = self.slope * np.asarray(scores, dtype=np.float64) + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


def fit_platt(
    scores: np.ndarray,
    labels: np.ndarray,
    sample_weight: np.ndarray | None = None,
    *,
    l2: float = 0.1,
    smooth: bool = True,
) -> Platt:
    """Weighted logistic regression of labels on one score (Newton's method). A little L2 (and Platt's smoothed
    targets unless `smooth` is False) keep it finite when the classes separate perfectly."""
    x = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    n_pos, n_neg = float(y.sum()), float(len(y) - y.sum())
    if smooth:
        y = np.where(y > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))  # Platt (1999)
    w = np.ones_like(x) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    prior = float(np.sum(w * y) / np.sum(w)) if np.sum(w) > 0 else 0.5
    prior = min(max(prior, 1e-6), 1 - 1e-6)
    center, spread = float(np.average(x, weights=w)), float(x.std()) or 1.0
    u = (x - center) / spread  # standardised, so the step sizes are well scaled
    theta = np.array([0.0, np.log(prior / (1 - prior))])  # (slope, intercept) on u
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(theta[0] * u + theta[1], -50, 50)))
        gradient = np.array([np.sum(w * (p - y) * u), np.sum(w * (p - y))]) + l2 * np.array([theta[0], 0.0])
        curvature = w * p * (1 - p)
        cross = np.sum(curvature * u)
        hessian = np.array([[np.sum(curvature * u * u) + l2, cross], [cross, np.sum(curvature) + 1e-9]])
        step = np.linalg.solve(hessian, gradient)
        step *= min(1.0, 5.0 / (np.max(np.abs(step)) or 1.0))  # damped: a separable start cannot overshoot
        theta = theta - step
        if np.max(np.abs(step)) < 1e-8:
            break
    if theta[0] <= 0:  # the score carries no signal here: every paper gets the like rate
        return Platt(0.0, float(np.log(prior / (1 - prior))))
    return Platt(float(theta[0] / spread), float(theta[1] - theta[0] * center / spread))


def like_rate(added: Sequence[date | None], today: date | None, n_candidates: int) -> float:
    """The share of a day's papers this profile likes: its likes of the last LIKE_WINDOW_DAYS per listing day."""
    n = max(n_candidates, 1)
    per_day = DEFAULT_LIKES_PER_DAY
    if today is not None:
        ages = [(today - d).days for d in added if d is not None and 0 <= (today - d).days <= LIKE_WINDOW_DAYS]
        if len(ages) >= 3:
            span = max(max(ages), 7)
            per_day = len(ages) / (span * LISTING_DAYS_PER_WEEK / 7)
    return float(min(max(per_day / n, 0.1 / n), 0.5))


def calibrate(
    positive: np.ndarray,
    negative: np.ndarray,
    rate: float,
    positive_weight: np.ndarray | None = None,
    *,
    smooth: bool = True,
) -> Platt:
    """Platt scaling of held-out scores of likes (1) and negatives (0), weighted so that likes make up `rate`;
    `positive_weight` says how much each like counts among the likes (equal by default); `smooth`: Platt's
    smoothed targets."""
    positive, negative = np.asarray(positive, np.float64), np.asarray(negative, np.float64)
    if len(positive) == 0 or len(negative) == 0:
        return Platt(0.0, float(np.log(rate / (1 - rate))))
    share = np.ones(len(positive)) if positive_weight is None else np.asarray(positive_weight, np.float64)
    share = share / share.sum() if share.sum() > 0 else np.full(len(positive), 1 / len(positive))
    weights = np.r_[rate * share, np.full(len(negative), (1 - rate) / len(negative))]
    scores = np.r_[positive, negative]
    labels = np.r_[np.ones(len(positive)), np.zeros(len(negative))]
    return fit_platt(scores, labels, weights * len(scores), smooth=smooth)


def folds(n: int, k: int = FOLDS, seed: int = 0) -> list[np.ndarray]:
    """k disjoint index sets covering range(n), in a seeded order (fewer when n < k)."""
    order = np.random.default_rng(seed).permutation(n)
    return [order[i::k] for i in range(min(k, n)) if len(order[i::k])]


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE: the share-weighted mean |observed rate - mean match| over equal-width bins of the match."""
    p, y = np.asarray(probabilities, np.float64), np.asarray(labels, np.float64)
    if len(p) == 0:
        return 0.0
    index = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        chosen = index == b
        if chosen.any():
            total += chosen.sum() / len(p) * abs(y[chosen].mean() - p[chosen].mean())
    return float(total)


def reliability_table(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> list[dict[str, float]]:
    """Per non-empty bin of the match: its range, how many papers, their mean match and the share actually liked."""
    p, y = np.asarray(probabilities, np.float64), np.asarray(labels, np.float64)
    index = np.minimum((p * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        chosen = index == b
        if chosen.any():
            rows.append(
                {
                    "low": b / bins,
                    "high": (b + 1) / bins,
                    "papers": int(chosen.sum()),
                    "mean_match": float(p[chosen].mean()),
                    "liked": float(y[chosen].mean()),
                }
            )
    return rows
