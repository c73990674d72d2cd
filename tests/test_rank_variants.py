"""The measured variants of benchmarks/rank_variants.py: each still does what it did inside the product."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from types import ModuleType

import numpy as np
import pytest

from recommender.embed import CachedEmbedder
from recommender.profile import load_profile
from recommender.rank import STRATEGIES, score_listing
from recommender.rank.hybrid import HybridRanker, fit_hybrid, hybrid_scores
from recommender.schema import Paper
from recommender.sources import read_listing

from .conftest import EXAMPLE_LISTING, REPO, scoring_input, unit


@pytest.fixture(scope="module")
def variants() -> ModuleType:
    """benchmarks/rank_variants.py, loaded by path (benchmarks/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("rank_variants", REPO / "benchmarks" / "rank_variants.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_author_key_and_affinity_with_recency(variants):
    author_key, author_affinity = variants.author_key, variants.author_affinity
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


def test_category_lift_favours_the_likes_categories_and_is_zero_without_them(variants):
    liked = [Paper.make(f"l{i}", f"2501.0000{i}", categories=["cs.CV"]) for i in range(4)]
    day = [Paper.make("x", "2501.10001", categories=["cs.CV"]), Paper.make("y", "2501.10002", categories=["cs.CL"])]
    for_day, for_likes = variants.category_lift(liked, day)
    assert for_day[0] > 0 > for_day[1] and np.all(for_likes > 0)
    assert variants.category_lift([Paper.make("l", "2501.00001")], day)[0].tolist() == [0.0, 0.0]


def test_the_hybrid_with_metadata_adds_author_terms_to_scores_and_held_out_scores(variants):
    rng = np.random.default_rng(5)
    liked = unit(rng.normal(0, 1, (6, 8)))
    candidates = unit(rng.normal(0, 1, (30, 8)))
    inp = scoring_input(liked, candidates, negatives=candidates)
    liked_papers = [Paper.make(f"l{i}", f"2501.0000{i}", authors=["Ada Lovelace"]) for i in range(6)]
    papers = [Paper.make(f"c{i}", f"2501.1{i:04d}", authors=["Ada Lovelace" if i == 0 else "B C"]) for i in range(30)]
    inp = replace(inp, liked_papers=liked_papers, candidate_papers=papers)
    plain, plain_held = hybrid_scores(inp)
    with_authors, held = variants.with_metadata(author_weight=1.0).score_with_held_out(inp)
    np.testing.assert_allclose(with_authors - plain, [np.log1p(6.0)] + [0.0] * 29, atol=1e-9)
    assert held is not None and held.shape == (6,)
    np.testing.assert_allclose(variants.metadata_scores(inp, 1.0)[1], np.log1p(5.0))  # each like counts the others
    np.testing.assert_allclose(held - plain_held, np.log1p(5.0), atol=0.1)  # float32 margins
    np.testing.assert_array_equal(variants.with_metadata().score(inp), plain)  # no weight: the default


def test_sparing_the_negatives_closest_to_the_likes(variants):
    rng = np.random.default_rng(6)
    liked = unit(rng.normal(0, 0.1, (6, 8)) + np.eye(8)[0])
    negatives = unit(np.vstack([np.eye(8)[0] + rng.normal(0, 0.1, (2, 8)), rng.normal(0, 1, (38, 8))]))
    inp = replace(scoring_input(liked, negatives, negatives=negatives), negative_texts=[f"n {i}" for i in range(40)])
    assert len(variants.spare_closest(inp, 0.05).negatives) == 38 and variants.spare_closest(inp, 0.0) is inp
    every = fit_hybrid(inp)
    spared = variants.sparing_closest(0.05).fit(inp)
    assert len(every.space_.idf) >= len(spared.space_.idf)
    # the two negatives lying among the likes are no longer pushed down
    assert spared.semantic_scores(negatives[:2]).mean() > every.semantic_scores(negatives[:2]).mean()


def test_auc(variants):
    assert variants.auc(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert variants.auc(np.array([1.0]), np.array([1.0])) == 0.5
    assert variants.auc(np.array([2.0, 0.0]), np.array([1.0])) == 0.5


def test_fusion_share_leans_to_the_half_that_ranks_held_out_likes(variants):
    rng = np.random.default_rng(3)
    # Meaning carries nothing (likes and negatives drawn alike), the words carry everything: lean lexical.
    vectors = unit(rng.normal(0, 1, (90, 32)))
    words = ["sa2va masks", "reasoning proof", "sa2va proof", "reasoning masks"]
    texts = [f"{words[0] if i % 4 else words[2]} {i}" for i in range(30)] + [
        f"{words[1 + i % 3]} {i}" for i in range(60)
    ]
    inp = replace(
        scoring_input(vectors[:30], vectors[30:], liked_texts=texts[:30], negatives=vectors[30:]),
        negative_texts=texts[30:],
        candidate_texts=texts[30:],
    )
    semantic, lexical, liked = variants.held_out_margins(inp)
    assert semantic.shape == lexical.shape == (90,) and liked.sum() == 30
    assert variants.choose_share(semantic, lexical, liked) < 0.5
    assert variants.choose_share(semantic, lexical, liked, (0.5,)) == 0.5  # the product's even sum
    scores, held = variants.adaptive_share().score_with_held_out(inp)
    assert scores.shape == (60,) and held is not None and held.shape == (30,)
    # with the even share, the variant is the product's fusion
    even, even_held = variants.adaptive_share((0.5,)).score_with_held_out(inp)
    plain, plain_held = hybrid_scores(inp)
    np.testing.assert_allclose(even, plain)
    np.testing.assert_allclose(even_held, plain_held)


def test_boundary_uncertainty_asks_for_papers_near_the_top_5_percent(variants, fake_embedder):
    from recommender.rank.active import suggest_ratings

    embedder = CachedEmbedder(fake_embedder, None)
    profile = load_profile(REPO / "profiles" / "super-resolution.toml")
    listing = read_listing(EXAMPLE_LISTING)
    scored = score_listing(listing, profile, embedder)  # stores the model suggest_ratings then scores with
    boundary = np.quantile(scored.scores, 0.95)
    picked = suggest_ratings(
        profile,
        list(listing.papers),
        embedder,
        k=5,
        diversity=0.0,
        uncertainty=variants.boundary_uncertainty,
    )
    distance = sorted(abs(scored.scores - boundary))
    assert max(abs(scored.score_of(p.arxiv_id) - boundary) for p in picked) == pytest.approx(distance[4])


def test_variants_are_strategies_of_the_registrys_hybrid(variants):
    hybrid = STRATEGIES["hybrid"]
    for strategy in (variants.with_metadata(1.0), variants.sparing_closest(0.1), variants.adaptive_share()):
        assert strategy.uses_negatives and strategy.standardised and strategy.lexical and strategy.fit is not None
        assert strategy.name != hybrid.name
    assert not hasattr(HybridRanker(), "share_")  # the product fuses evenly, with nothing to choose
