"""match: Platt scaling on the profile's held-out scores, the like rate, ECE and the reliability table."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from recommender.rank.calibrate import (
    calibrate,
    expected_calibration_error,
    fit_platt,
    folds,
    like_rate,
    reliability_table,
)


def test_platt_is_monotone_bounded_and_finite_when_classes_separate():
    scores = np.r_[np.linspace(2, 3, 20), np.linspace(-1, 0, 80)]
    labels = np.r_[np.ones(20), np.zeros(80)]
    grid = np.linspace(-10, 10, 101)
    for smooth in (True, False):  # without Platt's smoothed targets the L2 alone keeps it finite
        platt = fit_platt(scores, labels, smooth=smooth)
        p = platt.predict(grid)
        assert np.all((p >= 0) & (p <= 1)) and np.all(np.diff(p) >= 0)
        assert np.isfinite(platt.slope) and np.isfinite(platt.intercept) and platt.slope > 0
        assert platt.predict(np.array([2.5]))[0] > 0.8 and platt.predict(np.array([-0.5]))[0] < 0.2
    # smoothing lifts the floor: the clearest negative keeps more than the unsmoothed fit gives it
    low = np.array([-1.0])
    assert fit_platt(scores, labels).predict(low)[0] > fit_platt(scores, labels, smooth=False).predict(low)[0]


def test_platt_recovers_a_logistic_truth():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, 20_000)
    y = (rng.random(len(x)) < 1 / (1 + np.exp(-(2 * x - 1)))).astype(float)
    platt = fit_platt(x, y)
    assert platt.slope == pytest.approx(2, abs=0.1) and platt.intercept == pytest.approx(-1, abs=0.1)


def test_a_score_without_signal_gives_every_paper_the_like_rate():
    rng = np.random.default_rng(1)
    positive, negative = rng.normal(0, 1, 50), rng.normal(0, 1, 500)
    platt = calibrate(positive, negative, rate=0.02)
    assert platt.predict(np.r_[positive, negative]).mean() == pytest.approx(0.02, abs=0.01)
    assert calibrate(np.zeros(0), negative, 0.05).predict(np.array([9.0]))[0] == pytest.approx(0.05)


def test_calibrated_match_is_calibrated_on_data_drawn_like_it():
    rng = np.random.default_rng(2)
    rate = 0.03
    held_likes = rng.normal(2, 1, 300)  # a like's score when it is left out of the profile
    day = np.r_[rng.normal(2, 1, 30), rng.normal(0, 1, 970)]  # 3 % of a day is liked
    labels = np.r_[np.ones(30), np.zeros(970)]
    match = calibrate(held_likes, day, rate).predict(day)
    assert expected_calibration_error(match, labels) < 0.02
    assert match[:30].mean() > 5 * match[30:].mean()


def test_ece_and_reliability_by_hand():
    p = np.r_[np.full(10, 0.05), np.full(10, 0.95)]
    y = np.r_[np.zeros(10), np.r_[np.ones(5), np.zeros(5)]]
    # bin 0: mean match 0.05, liked 0 -> 0.05; bin 9: 0.95 vs 0.5 -> 0.45; each holds half the papers
    assert expected_calibration_error(p, y) == pytest.approx(0.5 * 0.05 + 0.5 * 0.45)
    assert expected_calibration_error(np.full(4, 0.25), np.array([1.0, 0, 0, 0])) == pytest.approx(0.0)
    assert expected_calibration_error(np.zeros(0), np.zeros(0)) == 0.0
    table = reliability_table(p, y)
    assert [(r["low"], r["papers"], r["liked"]) for r in table] == [(0.0, 10, 0.0), (0.9, 10, 0.5)]
    assert table[1]["mean_match"] == pytest.approx(0.95)
    assert reliability_table(np.array([1.0]), np.array([1.0]))[0]["high"] == 1.0  # 1.0 falls in the last bin


def test_like_rate_counts_recent_likes_per_listing_day():
    today = date(2025, 3, 1)
    added = [today - timedelta(days=d) for d in range(0, 28, 2)]  # 14 likes in 4 weeks: 0.7 a listing day
    assert like_rate(added, today, 100) == pytest.approx(14 / (26 * 5 / 7) / 100)
    assert like_rate([], today, 100) == pytest.approx(0.01)  # one like a day by default
    assert like_rate(added, None, 100) == pytest.approx(0.01)
    assert like_rate([today - timedelta(days=400)] * 5, today, 100) == pytest.approx(0.01)  # too old to count
    assert like_rate(added * 50, today, 10) == 0.5


def test_folds_cover_every_row_once():
    parts = folds(11, 5)
    assert sorted(np.concatenate(parts).tolist()) == list(range(11)) and len(parts) == 5
    assert len(folds(2, 5)) == 2


def test_positive_weights_shift_the_calibration_towards_the_likes_that_count():
    rng = np.random.default_rng(3)
    old, recent = rng.normal(0, 1, 100), rng.normal(3, 1, 100)
    negatives = rng.normal(0, 1, 1000)
    weighted = calibrate(np.r_[old, recent], negatives, 0.05, np.r_[np.full(100, 0.01), np.ones(100)])
    plain = calibrate(np.r_[old, recent], negatives, 0.05)
    assert weighted.predict(np.array([3.0]))[0] > plain.predict(np.array([3.0]))[0]
