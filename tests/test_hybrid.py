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
