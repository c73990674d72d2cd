"""HybridRanker: both halves learn, the fusion uses both, and the fitted state is stored and checked by key."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.rank.hybrid import HybridRanker, training_key, zscore

from .conftest import unit


@pytest.fixture
def fitted() -> HybridRanker:
    rng = np.random.default_rng(0)
    liked = unit(rng.normal(0, 0.2, (10, 8)) + np.eye(8)[0])  # likes point along axis 0
    negatives = unit(rng.normal(0, 1, (40, 8)))
    liked_texts = [f"the sa2va benchmark for video segmentation, study {i}" for i in range(10)]
    negative_texts = [f"language models for reasoning about topic {i}" for i in range(40)]
    labels = np.r_[np.ones(10), np.zeros(40)]
    return HybridRanker().fit(np.vstack([liked, negatives]), liked_texts + negative_texts, labels)


def test_each_half_and_the_fusion_rank_the_liked_kind_first(fitted):
    vectors = unit([np.eye(8)[0] + 0.1, np.eye(8)[3], np.eye(8)[3]])
    texts = ["an unrelated title", "sa2va on a new benchmark", "reasoning about language models"]
    semantic, lexical = fitted.semantic_scores(vectors), fitted.lexical_scores(texts)
    assert semantic[0] > max(semantic[1:])  # meaning: along the liked direction
    assert lexical[1] > max(lexical[0], lexical[2])  # words: the rare exact term
    fused = fitted.decision_function(vectors, texts)
    np.testing.assert_allclose(fused, zscore(semantic) + zscore(lexical))
    assert fused[2] < min(fused[:2])  # neither signal likes the third
    assert "sa2va" in fitted.top_terms(texts)[1]
    assert fitted.top_terms(["nothing known here"]) == [()]


def test_lexical_scores_are_the_models_decision_values_and_the_callers_own(fitted):
    texts = ["sa2va on a new benchmark", "reasoning about language models"]
    first = fitted.lexical_scores(texts)
    first[:] = 99.0  # a caller scaling its copy in place
    again = fitted.lexical_scores(list(texts))
    np.testing.assert_allclose(
        again, fitted.space_.project(texts, fitted.lexical_coef_)[:, 0] + fitted.lexical_intercept_
    )
    assert again[0] > again[1]
    assert fitted.lexical_scores(texts[::-1])[0] == again[1]
    assert not any(name.startswith("_") for name in vars(fitted))  # no memo: what it holds is what was fitted


def test_stored_ranker_loads_only_for_its_key(tmp_path, fitted):
    path = tmp_path / "rankers" / "p.npz"
    key = training_key("model", ("a", "b"), np.ones(2))
    fitted.save(path, key)
    loaded = HybridRanker.load(path, key)
    vectors, texts = unit(np.eye(8)[:3]), ["sa2va", "video", "reasoning"]
    np.testing.assert_allclose(loaded.decision_function(vectors, texts), fitted.decision_function(vectors, texts))
    assert HybridRanker.load(path, training_key("model", ("a", "b", "c"), np.ones(3))) is None
    assert HybridRanker.load(tmp_path / "missing.npz", key) is None
    path.write_bytes(b"not a zip file")
    assert HybridRanker.load(path, key) is None


def test_training_key_changes_with_weights_but_not_float_noise():
    base = training_key("m", ("a",), np.array([1.0]))
    assert training_key("m", ("a",), np.array([1.0 + 1e-9])) == base
    assert training_key("m", ("a",), np.array([0.5])) != base
    assert training_key("m2", ("a",), np.array([1.0])) != base


def test_fused_held_out_margins_share_the_candidates_scale(fitted):
    vectors = unit(np.random.default_rng(4).normal(0, 1, (30, 8)))
    texts = [f"language models for reasoning about topic {i}" for i in range(30)]
    fused, held = fitted.fuse(fitted.semantic_scores(vectors), fitted.lexical_scores(texts))
    np.testing.assert_allclose(fused, fitted.decision_function(vectors, texts))
    assert held.shape == (10,) and held.mean() > fused.mean() + 1  # held-out likes still score far above the day


def test_stored_ranker_keeps_held_out_margins(tmp_path, fitted):
    path = tmp_path / "r.npz"
    fitted.save(path, "k")
    loaded = HybridRanker.load(path, "k")
    assert fitted.cv_semantic_.shape == fitted.cv_lexical_.shape == (10,)
    np.testing.assert_allclose(loaded.cv_semantic_, fitted.cv_semantic_)
    np.testing.assert_allclose(loaded.cv_lexical_, fitted.cv_lexical_)
    np.testing.assert_allclose(loaded.cv_raising_, fitted.cv_raising_)


def test_both_halves_learn_from_the_likes_weights():
    """An old like (small weight) teaches each half less than a recent one: the lexical half too, unless told not."""
    rng = np.random.default_rng(1)
    old = [f"gaussian splatting for scene rendering, part {i}" for i in range(6)]
    recent = [f"mamba state space models for long video, part {i}" for i in range(6)]
    negatives = [f"a survey of topic {i} in language models" for i in range(40)]
    vectors = unit(rng.normal(0, 1, (52, 8)))
    labels = np.r_[np.ones(12), np.zeros(40)]
    weights = np.r_[np.full(6, 0.05), np.ones(6), np.ones(40)]
    probe = ["gaussian splatting rendering", "mamba state space video"]
    texts = old + recent + negatives

    def gap(ranker: HybridRanker) -> float:
        scores = ranker.fit(vectors, texts, labels, sample_weight=weights).lexical_scores(probe)
        return float(scores[1] - scores[0])

    weighted, unweighted = gap(HybridRanker()), gap(HybridRanker(weigh_lexical=False))
    assert weighted > unweighted + 0.3  # the recent likes' terms count more than the old likes' (0.66 against 0.03)
    assert abs(unweighted) < 0.15  # about alike when every like counts the same


def test_old_likes_cannot_teach_the_lexical_half_that_the_days_new_words_are_a_sign_against():
    """Likes that never wrote "llm", against a day where most papers do: a paper on the likes' topic that says "llm"
    is pushed down by that word, unless the likes are old and the lexical half only raises."""
    from recommender.rank.hybrid import hybrid_scores

    from .conftest import scoring_input

    rng = np.random.default_rng(2)
    liked = [f"reinforcement learning policy reward shaping, study {i}" for i in range(8)]
    day = [f"llm agents and llm reasoning benchmark {i}" for i in range(40)]
    day += ["reinforcement learning policy reward for llm", "reinforcement learning policy reward for robots"]
    inp = scoring_input(
        unit(rng.normal(0, 1, (8, 8))),
        unit(rng.normal(0, 1, (42, 8))),
        liked_texts=liked,
        candidate_texts=day,
    )
    # fitted on the likes against the day's other papers (the two probes at the end are the ones to rank)
    rows = np.vstack([inp.liked, inp.candidates[:40]])
    ranker = HybridRanker().fit(rows, liked + day[:40], np.r_[np.ones(8), np.zeros(40)])
    fresh = ranker.lexical_scores(day[-2:])
    old = ranker.lexical_scores(day[-2:], raise_only=True)
    assert fresh[1] - fresh[0] > 0.05  # the era's word counts against the paper
    assert abs(old[1] - old[0]) < (fresh[1] - fresh[0]) / 4  # it no longer does
    assert min(old) > max(ranker.lexical_scores(day[:3], raise_only=True))  # the likes' topic still leads
    from dataclasses import replace

    scores, held = hybrid_scores(replace(inp, ranker=ranker, likes_old=True))
    expected = ranker.fuse(ranker.semantic_scores(inp.candidates), ranker.lexical_scores(day, True), True)
    np.testing.assert_allclose(scores, expected[0])
    np.testing.assert_allclose(held, expected[1])
    assert not np.allclose(held, hybrid_scores(replace(inp, ranker=ranker))[1])  # its own held-out margins


def test_a_day_without_one_raising_term_keeps_the_held_out_margins_on_a_sane_scale(fitted):
    """Old likes that share no term with the day: every candidate's raise-only lexical score is the intercept. The
    spread of equal values is rounding error, and must not blow the likes' held-out margins up to 1e16."""
    from recommender.rank.calibrate import calibrate

    vectors = unit(np.random.default_rng(5).normal(0, 1, (30, 8)))
    texts = [f"quantum chromodynamics on the lattice, part {i}" for i in range(30)]
    lexical = fitted.lexical_scores(texts, raise_only=True)
    assert np.ptp(lexical) == 0  # no candidate has a term that raises it
    fused, held = fitted.fuse(fitted.semantic_scores(vectors), lexical, raise_only=True)
    assert np.isfinite(held).all() and np.abs(held).max() < 100
    np.testing.assert_allclose(fused, zscore(fitted.semantic_scores(vectors)) + 0.0, atol=1e-12)
    match = calibrate(held, fused, 0.05).predict(fused)
    assert ((match >= 0) & (match <= 1)).all() and np.ptp(match) > 0  # the semantic half still orders the day
