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


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_strategy_scores_every_candidate(name):
    rng = np.random.default_rng(0)
    liked = _topics(rng, 12)
    candidates = np.vstack([_topics(rng, 6), unit(rng.normal(0, 1, (6, 16)))])
    texts = [f"topic{i % 3} words shared here" for i in range(12)]
    candidate_texts = texts[:6] + [f"unrelated{i} paper about zebras" for i in range(6)]
    inp = scoring_input(
        liked,
        candidates,
        liked_texts=texts,
        candidate_texts=candidate_texts,
        negatives=unit(rng.normal(0, 1, (30, 16))),
    )
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


def test_author_key_and_affinity_with_recency():
    from recommender.rank.features import author_affinity, author_key
    from recommender.schema import Paper

    assert author_key("Ada  Lovelace") == author_key("A. Lovelace") == "a lovelace"
    assert author_key("Zoë Ångström") == "z angstrom" and author_key("") == ""
    liked = [
        Paper.make("a", "2501.00001", authors=["Ada Lovelace", "Alan Turing"]),
        Paper.make("b", "2501.00002", authors=["A. Lovelace"]),
    ]
    candidates = [Paper.make("c", "2501.00003", authors=["Ada Lovelace"]), Paper.make("d", "2501.00004")]
    for_candidates, for_likes = author_affinity(liked, np.array([1.0, 0.5]), candidates)
    np.testing.assert_allclose(for_candidates, [np.log1p(1.5), 0.0])
    # each like is left out of its own count: a's Lovelace counts b (0.5), Turing nobody; b's counts a (1.0)
    np.testing.assert_allclose(for_likes, [np.log1p(0.5), np.log1p(1.0)])


def test_category_lift_favours_the_likes_categories_and_is_zero_without_them():
    from recommender.rank.features import category_lift
    from recommender.schema import Paper

    liked = [Paper.make(f"l{i}", f"2501.0000{i}", categories=["cs.CV"]) for i in range(4)]
    day = [Paper.make("x", "2501.10001", categories=["cs.CV"]), Paper.make("y", "2501.10002", categories=["cs.CL"])]
    for_day, for_likes = category_lift(liked, day)
    assert for_day[0] > 0 > for_day[1] and np.all(for_likes > 0)
    assert category_lift([Paper.make("l", "2501.00001")], day)[0].tolist() == [0.0, 0.0]


def test_hybrid_adds_author_and_category_terms_only_when_asked():
    from dataclasses import replace

    from recommender.rank.hybrid import HybridConfig, hybrid_scores
    from recommender.schema import Paper

    rng = np.random.default_rng(5)
    liked = unit(rng.normal(0, 1, (6, 8)))
    candidates = unit(rng.normal(0, 1, (30, 8)))
    inp = scoring_input(liked, candidates, negatives=candidates)
    liked_papers = [Paper.make(f"l{i}", f"2501.0000{i}", authors=["Ada Lovelace"]) for i in range(6)]
    papers = [Paper.make(f"c{i}", f"2501.1{i:04d}", authors=["Ada Lovelace" if i == 0 else "B C"]) for i in range(30)]
    inp = replace(inp, liked_papers=liked_papers, candidate_papers=papers)
    plain, _ = hybrid_scores(inp)
    with_authors, held = hybrid_scores(inp, HybridConfig(author_weight=1.0))
    np.testing.assert_allclose(with_authors - plain, [np.log1p(6.0)] + [0.0] * 29, atol=1e-9)
    assert held is not None and held.shape == (6,)


def test_hybrid_can_spare_the_negatives_closest_to_the_likes():
    from dataclasses import replace

    from recommender.rank.hybrid import HybridConfig, fit_hybrid

    rng = np.random.default_rng(6)
    liked = unit(rng.normal(0, 0.1, (6, 8)) + np.eye(8)[0])
    negatives = unit(np.vstack([np.eye(8)[0] + rng.normal(0, 0.1, (2, 8)), rng.normal(0, 1, (38, 8))]))
    inp = replace(scoring_input(liked, negatives, negatives=negatives), negative_texts=[f"n {i}" for i in range(40)])
    every = fit_hybrid(inp)
    spared = fit_hybrid(inp, HybridConfig(spare_closest=0.05))
    assert len(every.space_.idf) >= len(spared.space_.idf)
    # the two negatives lying among the likes are no longer pushed down
    assert spared.semantic_scores(negatives[:2]).mean() > every.semantic_scores(negatives[:2]).mean()
