"""Strategies on small synthetic profiles: each does what its name promises."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from recommender.rank.registry import STRATEGIES
from recommender.rank.strategies import interest_centroids, knn, recency, zscore

from .conftest import scoring_input, unit


def _topics(rng, n, dim=16, topics=(0, 1, 2), noise=0.15):
    rows = []
    for i in range(n):
        row = rng.normal(0, noise, dim)
        row[topics[i % len(topics)]] += 1.0
        rows.append(row)
    return unit(rows)


def _three_topics(rng: np.random.Generator, texts: list[str], **more):
    """12 likes on three topics; 6 candidates on them (texts[:6]) and 6 random ones about zebras; 30 negatives."""
    liked = _topics(rng, 12)
    candidates = np.vstack([_topics(rng, 6), unit(rng.normal(0, 1, (6, 16)))])
    return scoring_input(
        liked,
        candidates,
        liked_texts=texts,
        candidate_texts=texts[:6] + [f"unrelated{i} paper about zebras" for i in range(6)],
        negatives=unit(rng.normal(0, 1, (30, 16))),
        **more,
    )


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_strategy_scores_every_candidate(name):
    inp = _three_topics(np.random.default_rng(0), [f"topic{i % 3} words shared here" for i in range(12)])
    scores = STRATEGIES[name](inp)
    assert scores.shape == (12,) and np.isfinite(scores).all()
    assert scores[:6].mean() > scores[6:].mean()  # on-topic candidates beat random ones


def test_clusters_find_three_topics_and_serve_each():
    rng = np.random.default_rng(1)
    liked = _topics(rng, 30, topics=(0, 1, 2), noise=0.05)
    assert len(interest_centroids(liked)) == 3
    minority = unit([[0, 0, 1] + [0] * 13])  # the third topic
    offtopic = unit([[0.55, 0.55, 0] + [0.6] + [0] * 12])
    inp = scoring_input(liked, np.vstack([minority, offtopic]))
    assert STRATEGIES["clusters"](inp)[0] > STRATEGIES["clusters"](inp)[1]
    assert len(interest_centroids(liked[:5])) == 1  # too few papers: one centroid


def test_knn_prefers_a_close_neighbour_over_the_blurred_mean():
    liked = unit([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0.05, 0]])
    candidates = unit([[1, 0, 0], [1, 1, 1]])
    inp = scoring_input(liked, candidates)
    assert knn(inp, k=2)[0] > knn(inp, k=2)[1]
    assert STRATEGIES["centroid"](inp)[0] < STRATEGIES["centroid"](inp)[1]


def test_recency_favours_recent_likes():
    liked = unit([[1, 0], [0, 1]])
    inp = scoring_input(
        liked, unit([[1, 0], [0, 1]]), added=[date(2020, 1, 1), date(2021, 6, 1)], today=date(2021, 6, 2)
    )
    old, new = recency(inp, half_life_days=30)
    assert new > old


def test_classifier_falls_back_without_negatives_and_learns_with_them():
    rng = np.random.default_rng(2)
    liked = _topics(rng, 10, topics=(0,))
    candidates = unit([[1] + [0] * 15, [0, 1] + [0] * 14])
    without = STRATEGIES["classifier"](scoring_input(liked, candidates))
    np.testing.assert_allclose(without, STRATEGIES["knn"](scoring_input(liked, candidates)))
    negatives = _topics(rng, 40, topics=(1,))
    learned = STRATEGIES["classifier"](scoring_input(liked, candidates, negatives=negatives))
    assert learned[0] > 0 > learned[1]


def test_tfidf_rewards_rare_exact_terms():
    liked_texts = ["SAM2 segment anything video", "segment anything SAM2 prompts"]
    candidate_texts = ["we extend SAM2 to medical images", "image classification with convolutions"]
    dim = 4
    inp = scoring_input(
        unit(np.eye(dim)[:2]), unit(np.eye(dim)[2:]), liked_texts=liked_texts, candidate_texts=candidate_texts
    )
    scores = STRATEGIES["tfidf"](inp)
    assert scores[0] > 0 and scores[1] == 0


def test_zscore():
    np.testing.assert_allclose(zscore(np.array([1.0, 2.0, 3.0])), [-1.2247449, 0.0, 1.2247449], rtol=1e-6)
    np.testing.assert_array_equal(zscore(np.array([2.0, 2.0])), [0.0, 0.0])


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_a_strategy_weighs_likes_by_age_exactly_when_it_says_so(name):
    """`ages_likes` is what tells a researcher that half_life_days does nothing for a strategy: it must be true."""
    from dataclasses import replace

    texts = [f"topic{i % 3} words shared here number{i}" for i in range(12)]
    added = [date(2025, 1, 1 + 2 * i) for i in range(12)]
    inp = _three_topics(np.random.default_rng(3), texts, added=added, today=date(2025, 2, 1))
    short, long = (STRATEGIES[name](replace(inp, half_life_days=days)) for days in (2.0, 5000.0))
    assert (not np.allclose(short, long)) == STRATEGIES[name].ages_likes


def test_unused_settings_name_what_does_nothing_for_the_strategy():
    from recommender.profile import Profile
    from recommender.rank import unused_settings

    plain = Profile(name="p")
    assert unused_settings(plain, "max") == []
    aged = Profile(name="p", half_life_days=30.0, dislike_weight=2.0)
    said = unused_settings(aged, "max")
    assert len(said) == 2 and said[0].startswith("half_life_days") and "max" in said[0]
    assert said[1].startswith("dislike_weight") and "no disliked papers" in said[1]
    assert unused_settings(aged, "centroid") == [said[1]]
    assert any("classifier" in line and "dislike_weight" in line for line in unused_settings(aged, "classifier"))


def test_min_match_is_named_as_doing_nothing_until_the_profile_has_five_likes():
    # Picks of a smaller profile carry no match, so min_match drops none: say so, as for the other settings.
    from recommender.profile import Profile, ProfilePaper
    from recommender.rank import unused_settings
    from recommender.schema import Paper

    likes = tuple(ProfilePaper(Paper.make(f"Liked {i}", f"2101.0000{i}"), date(2021, 1, 1)) for i in range(5))
    assert unused_settings(Profile(name="p", liked=likes[:4]), "hybrid") == []
    few = Profile(name="p", liked=likes[:4], min_match=0.2)
    assert unused_settings(few, "hybrid") == ["min_match (no match until the profile has 5 liked papers: it has 4)"]
    assert unused_settings(Profile(name="p", liked=likes, min_match=0.2), "hybrid") == []


def test_a_mistyped_strategy_gets_the_closest_name():
    from recommender.rank import get_strategy
    from recommender.schema import UsageError

    with pytest.raises(UsageError, match=r"unknown strategy 'hybird'.*did you mean 'hybrid'"):
        get_strategy("hybird")
