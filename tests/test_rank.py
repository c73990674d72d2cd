"""Ranking: strategies, dislikes, exclusion of profile papers, ties, limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from recommender.embed import CachedEmbedder
from recommender.profile import add_papers, new_profile
from recommender.rank import recommend, score, score_listing, sentences, top_picks
from recommender.schema import Listing, Paper, PaperrecError, UsageError

from .conftest import scoring_input, unit


def test_centroid_and_max_differ():
    liked = unit([[1, 0, 0], [0, 1, 0]])
    papers = unit([[1, 0, 0], [1, 1, 0], [0, 0, 1]])
    np.testing.assert_allclose(score(scoring_input(liked, papers), "centroid"), [np.sqrt(0.5), 1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(score(scoring_input(liked, papers), "max"), [1.0, np.sqrt(0.5), 0.0], atol=1e-6)


def test_weights_move_the_centroid():
    scores = score(scoring_input(unit([[1, 0], [0, 1]]), unit([[1, 0], [0, 1]]), weights=[3.0, 1.0]), "centroid")
    assert scores[0] > scores[1]


def test_dislikes_lower_similar_papers():
    liked = unit([[1, 1, 0]])
    disliked = unit([[0, 1, 0]])
    papers = unit([[1, 0, 0], [0, 1, 0]])
    without = score(scoring_input(liked, papers))
    assert without[0] == pytest.approx(without[1])
    lowered = score(scoring_input(liked, papers, disliked=disliked, dislike_weight=0.5))
    assert lowered[0] == pytest.approx(without[0])
    assert lowered[1] == pytest.approx(without[1] - 0.5)
    assert score(scoring_input(liked, papers, disliked=disliked, dislike_weight=0.0))[1] == pytest.approx(without[1])


def test_unknown_strategy_and_empty_profile():
    empty = scoring_input(np.zeros((0, 2), np.float32), np.zeros((1, 2), np.float32))
    with pytest.raises(UsageError, match="unknown strategy 'magic'"):
        score(empty, "magic")
    with pytest.raises(PaperrecError, match="no liked papers"):
        score(empty, "centroid")


def test_ties_break_by_id_and_limits():
    papers = [Paper.make(f"P{i}", f"2101.0000{i}") for i in (3, 1, 2, 4)]
    scores = np.array([0.5, 0.5, 0.9, 0.1])
    picks = top_picks(papers, scores, "p", top=3)
    assert [p.paper.arxiv_id for p in picks] == ["2101.00002", "2101.00001", "2101.00003"]
    assert [p.rank for p in picks] == [1, 2, 3]
    assert [p.paper.arxiv_id for p in top_picks(papers, scores, "p", top=None, min_score=0.5)] == [
        "2101.00002",
        "2101.00001",
        "2101.00003",
    ]


def _listing():
    return Listing(
        papers=(
            Paper.make("Image super-resolution with deep networks", "2104.00001", "super resolution upscaling images"),
            Paper.make("Protein folding with transformers", "2104.00002", "protein structure biology folding"),
            Paper.make("Video super-resolution in real time", "2104.00003", "video super resolution frames"),
            Paper.make("Already liked super-resolution paper", "2104.00004", "super resolution images"),
        )
    )


def test_recommend_excludes_profile_papers_and_orders(fake_embedder):
    listing = _listing()
    profile = new_profile("sr", [listing.papers[3]])
    picks = recommend(listing, profile, CachedEmbedder(fake_embedder, None), top=10)
    ids = [p.paper.arxiv_id for p in picks]
    assert "2104.00004" not in ids
    assert ids[-1] == "2104.00002"
    assert all(p.profile == "sr" for p in picks)
    assert picks[0].score >= picks[1].score >= picks[2].score


def test_recommend_dislike_changes_order(fake_embedder):
    listing = _listing()
    liked = Paper.make("Super-resolution", "2001.00001", "super resolution video images frames")
    profile = new_profile("sr", [liked])
    embedder = CachedEmbedder(fake_embedder, None)
    before = {p.paper.arxiv_id: p.score for p in recommend(listing, profile, embedder, top=10)}
    disliked = Paper.make("Video things", "2001.00002", "video frames real time")
    profile, _ = add_papers(profile, [disliked], "disliked")
    after = recommend(listing, profile, embedder, top=10, dislike_weight=1.0)
    scores = {p.paper.arxiv_id: p.score for p in after}
    assert before["2104.00003"] > before["2104.00001"]  # the video paper led before the dislike
    assert scores["2104.00003"] < scores["2104.00001"]


def test_recommend_errors(fake_embedder):
    embedder = CachedEmbedder(fake_embedder, None)
    with pytest.raises(PaperrecError, match="no liked papers or interests"):
        recommend(_listing(), new_profile("empty"), embedder)
    with pytest.raises(UsageError, match="--top"):
        recommend(_listing(), new_profile("x", [_listing().papers[0]]), embedder, top=0)
    with pytest.raises(UsageError, match="unknown strategy"):
        recommend(_listing(), new_profile("x", [_listing().papers[0]]), embedder, strategy="nope")


def test_interests_alone_rank(fake_embedder):
    profile = new_profile("bio", interests=["protein folding biology"])
    picks = recommend(_listing(), profile, CachedEmbedder(fake_embedder, None), top=1)
    assert picks[0].paper.arxiv_id == "2104.00002"


def test_must_and_never_rules(fake_embedder):
    from recommender.rank import apply_rules

    papers = _listing().papers
    assert [p.arxiv_id for p in apply_rules(papers, ["video"], [])] == ["2104.00003"]
    assert "2104.00002" not in [p.arxiv_id for p in apply_rules(papers, [], ["Protein"])]
    assert [p.arxiv_id for p in apply_rules(papers, ["super-resolution"], ["video"])] == ["2104.00001", "2104.00004"]
    assert apply_rules(papers, ["resolutions"], []) == []  # whole words only
    profile = new_profile("sr", [Paper.make("super resolution", "2001.00001", "super resolution images video")])
    profile = replace(profile, never=("video",), min_score=-1.0)
    picks = recommend(_listing(), profile, CachedEmbedder(fake_embedder, None))
    assert "2104.00003" not in [p.paper.arxiv_id for p in picks]
    high = recommend(
        _listing(), replace(profile, strategy="centroid", min_score=0.99), CachedEmbedder(fake_embedder, None)
    )
    assert high == []  # cosine units
    spread = recommend(
        _listing(), replace(profile, strategy="hybrid", min_score=3.0), CachedEmbedder(fake_embedder, None)
    )
    assert spread == []  # hybrid scores are z-scores: nothing in a 3-paper day stands 3 deviations out


def test_mmr_removes_a_duplicate():
    from recommender.rank import top_picks

    papers = [Paper.make(f"P{i}", f"2101.0000{i}") for i in range(4)]
    vectors = unit([[1, 0, 0], [1, 0.01, 0], [0.7, 0.7, 0], [0, 0, 1]])  # 0 and 1 are near-duplicates
    scores = np.array([0.9, 0.89, 0.8, 0.1])
    plain = [p.paper.arxiv_id for p in top_picks(papers, scores, "p", top=2)]
    diverse = [p.paper.arxiv_id for p in top_picks(papers, scores, "p", top=2, vectors=vectors, diversity=0.5)]
    assert plain == ["2101.00000", "2101.00001"]
    assert diverse == ["2101.00000", "2101.00002"]
    assert [p.rank for p in top_picks(papers, scores, "p", top=3, vectors=vectors, diversity=0.5)] == [1, 2, 3]


def test_picks_explain_themselves(fake_embedder):
    listing = _listing()
    liked = [listing.papers[3], Paper.make("Protein design", "2001.00009", "protein biology design")]
    profile = new_profile("sr", liked)
    picks = recommend(listing, profile, CachedEmbedder(fake_embedder, None), strategy="hybrid", top=2)
    because = picks[0].because
    assert because.papers[0][0] == "2104.00004" and because.papers[0][2] > because.papers[1][2]
    assert because.terms and all(isinstance(t, str) for t in because.terms)
    plain = recommend(listing, profile, CachedEmbedder(fake_embedder, None), strategy="centroid", top=1)
    assert plain[0].because.terms == ()


def test_a_profile_of_interests_only_names_the_interest_that_earned_a_pick(fake_embedder):
    """With no liked paper to point at, the reason is the closest interest, in JSON and on the table's line."""
    import json

    from recommender.export import render

    listing = _listing()
    profile = replace(new_profile("sr"), interests=("protein design", "image super-resolution networks"))
    picks = recommend(listing, profile, CachedEmbedder(fake_embedder, None), strategy="hybrid", top=2)
    because = picks[0].because
    assert because.papers == () and because.interests[0][0] == "image super-resolution networks"
    assert 0 < because.interests[0][1] <= 1 and because.terms
    record = json.loads(render(picks, "json"))[0]["because"]
    assert record["interests"][0] == {"text": "image super-resolution networks", "similarity": because.interests[0][1]}
    table = render(picks, "table")
    assert 'because: your interest "image super-resolution networks" (' in table
    # A profile with liked papers keeps its JSON as it was: no interests key.
    liked = recommend(listing, new_profile("sr", [listing.papers[3]]), CachedEmbedder(fake_embedder, None), top=1)
    assert "interests" not in json.loads(render(liked, "json"))[0]["because"]


def test_key_sentence_is_the_abstract_sentence_closest_to_the_profile(fake_embedder):
    abstract = (
        "We study protein folding in cells with many methods. "
        "Our image super-resolution network upscales low resolution images sharply. "
        "Results on standard benchmarks are reported for reference."
    )
    listing = Listing(papers=(Paper.make("A mixed paper", "2104.00005", abstract),))
    liked = [Paper.make("Image super-resolution", "2001.00001", "super-resolution of low resolution images")]
    picks = recommend(listing, new_profile("sr", liked), CachedEmbedder(fake_embedder, None), strategy="centroid")
    assert len(sentences(abstract)) == 3
    assert picks[0].because.sentence == "Our image super-resolution network upscales low resolution images sharply."


def _day_with_a_theme(n_other=30):
    themed = [
        Paper.make(f"Super-resolution study {i}", f"2104.1000{i}", "super resolution of images") for i in range(3)
    ]
    other = [
        Paper.make(f"Topic {i} paper", f"2104.2{i:04d}", f"protein folding graph robotics number {i}")
        for i in range(n_other)
    ]
    # dated soon after the likes' ids (2001.*), so they are not old likes
    return Listing(papers=tuple(themed + other), date=date(2020, 3, 2))


def test_hybrid_ranker_is_stored_and_reused_until_the_profile_changes(home, fake_embedder, monkeypatch):
    from recommender.paths import ranker_path
    from recommender.rank.hybrid import HybridRanker

    liked = [
        Paper.make(f"Super-resolution {i}", f"2001.0000{i}", f"super resolution images, part {i}") for i in range(6)
    ]
    profile = new_profile("sr", liked)
    embedder = CachedEmbedder(fake_embedder, None)
    first = recommend(_day_with_a_theme(), profile, embedder, strategy="hybrid", top=3)
    assert ranker_path("sr").is_file()
    assert {p.paper.arxiv_id for p in first} == {"2104.10000", "2104.10001", "2104.10002"}
    assert first[0].because.terms and "resolution" in " ".join(first[0].because.terms)

    fits = []
    real_fit = HybridRanker.fit
    monkeypatch.setattr(HybridRanker, "fit", lambda self, *a, **k: fits.append(1) or real_fit(self, *a, **k))
    again = recommend(_day_with_a_theme(40), profile, embedder, strategy="hybrid", top=3)
    assert fits == [] and [p.paper.arxiv_id for p in again] == [p.paper.arxiv_id for p in first]
    changed, _ = add_papers(profile, [Paper.make("Upscaling", "2001.00099", "image upscaling")])
    recommend(_day_with_a_theme(), changed, embedder, strategy="hybrid", top=3)
    assert fits == [1]


def test_hybrid_with_too_few_examples_fuses_similarities(fake_embedder):
    listing = _listing()
    profile = new_profile("sr", [listing.papers[3]])  # one like: nothing to learn from
    picks = recommend(listing, profile, CachedEmbedder(fake_embedder, None), strategy="hybrid", top=3)
    assert picks[-1].paper.arxiv_id == "2104.00002"


# --- match: the calibrated probability of a like ------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["centroid", "knn", "tfidf", "hybrid"])
def test_every_pick_carries_a_match_that_rises_with_its_score(fake_embedder, strategy):
    liked = [
        Paper.make(f"Super-resolution {i}", f"2001.0000{i}", f"super resolution images, part {i}") for i in range(6)
    ]
    picks = recommend(
        _day_with_a_theme(), new_profile("sr", liked), CachedEmbedder(fake_embedder, None), strategy=strategy, top=None
    )
    matches = [p.match for p in picks]
    assert all(m is not None and 0 <= m <= 1 for m in matches)
    assert matches == sorted(matches, reverse=True)  # picks are in score order, and match is monotone in score
    assert matches[0] > matches[-1]


def test_a_profile_of_fewer_than_five_liked_papers_gets_no_match_and_min_match_waits(fake_embedder):
    from recommender.rank.calibrate import MIN_MATCH_LIKES

    embedder = CachedEmbedder(fake_embedder, None)
    liked = [Paper.make(f"Super-resolution {i}", f"2001.0000{i}", f"super resolution images {i}") for i in range(6)]
    few = new_profile("sr", liked[: MIN_MATCH_LIKES - 1])
    picks = recommend(_day_with_a_theme(), few, embedder, top=None, min_match=0.99)
    assert picks and all(p.match is None for p in picks)  # not calibrated on 4 likes: no number, nothing dropped
    interests = new_profile("sr", [], interests=["super resolution images"])
    assert all(p.match is None for p in recommend(_day_with_a_theme(), interests, embedder, top=None))
    enough = recommend(_day_with_a_theme(), new_profile("sr", liked[:MIN_MATCH_LIKES]), embedder, top=None)
    assert all(p.match is not None for p in enough)


def test_min_match_drops_unlikely_picks_and_is_read_from_the_profile(fake_embedder):
    liked = [Paper.make(f"Super-resolution {i}", f"2001.0000{i}", f"super resolution images {i}") for i in range(6)]
    embedder = CachedEmbedder(fake_embedder, None)
    every = recommend(_day_with_a_theme(), new_profile("sr", liked), embedder, top=None)
    cut = sorted(p.match for p in every)[len(every) // 2]
    kept = recommend(_day_with_a_theme(), new_profile("sr", liked), embedder, top=None, min_match=cut)
    assert kept and all(p.match >= cut for p in kept) and len(kept) < len(every)
    from_profile = recommend(_day_with_a_theme(), replace(new_profile("sr", liked), min_match=cut), embedder, top=None)
    assert [p.paper.arxiv_id for p in from_profile] == [p.paper.arxiv_id for p in kept]
    with pytest.raises(UsageError, match="min-match"):
        recommend(_day_with_a_theme(), new_profile("sr", liked), embedder, min_match=1.5)


def test_held_out_scores_leave_each_like_out_of_its_own_profile():
    from recommender.rank import get_strategy
    from recommender.rank.scoring import held_out_scores

    liked = unit([[1, 0, 0], [1, 0.1, 0], [0, 0, 1], [0, 0.1, 1]])
    inp = scoring_input(liked, unit([[1, 1, 1]]))
    held = held_out_scores(inp, get_strategy("max"))
    assert held.shape == (4,) and np.all(held < 0.9999)  # no like is its own closest like
    assert held.min() > 0.9  # each has a near twin in the other folds, or is closest to the other topic


def test_score_listing_can_skip_storing_and_add_shown_negatives(home, fake_embedder):
    from recommender.paths import ranker_path
    from recommender.rank import score_listing

    liked = [Paper.make(f"Super-resolution {i}", f"2001.0000{i}", f"super resolution images {i}") for i in range(6)]
    embedder = CachedEmbedder(fake_embedder, None)
    scored = score_listing(_day_with_a_theme(), new_profile("sr", liked), embedder, store=False)
    assert not ranker_path("sr").exists()
    shown = [Paper.make(f"Old graph paper {i}", f"2001.1{i:04d}", "graph networks") for i in range(30)]
    more = score_listing(_day_with_a_theme(), new_profile("sr", liked), embedder, store=False, history=shown)
    assert len(more.inputs.negatives) == len(scored.inputs.negatives) + 30
    assert [p.arxiv_id for p in more.candidates] == [p.arxiv_id for p in scored.candidates]


# --- RankOptions: the settings of a ranking, checked once ----------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"strategy": "magic"}, "unknown strategy 'magic'"),
        ({"top": 0}, "--top must be at least 1"),
        ({"diversity": 1.5}, "--diversity must be between 0 and 1"),
        ({"diversity": float("nan")}, "--diversity must be between 0 and 1"),
        ({"min_score": float("inf")}, "--min-score must be a finite number, got inf"),
        ({"dislike_weight": float("nan")}, "--dislike-weight must be a finite number, got nan"),
        ({"dislike_weight": -1.0}, r"--dislike-weight must be >= 0"),
        ({"min_match": -0.1}, r"--min-match must be between 0 and 1, got -0.1"),
    ],
)
def test_rank_options_refuse_wrong_values_when_made(settings, message):
    from recommender.rank import RankOptions

    with pytest.raises(UsageError, match=message):
        RankOptions(**settings)


def test_rank_options_take_the_profiles_settings_where_none_is_given():
    from recommender.rank import RankOptions

    profile = replace(new_profile("p"), strategy="knn", min_score=0.2, dislike_weight=0.7, diversity=0.4, min_match=0.1)
    own = RankOptions().for_profile(profile)
    assert (own.strategy, own.min_score, own.dislike_weight, own.diversity, own.min_match) == (
        "knn",
        0.2,
        0.7,
        0.4,
        0.1,
    )
    given = RankOptions(
        strategy="centroid", min_score=0.0, dislike_weight=0.0, diversity=0.0, min_match=0.0, must=(), never=()
    )
    assert given.for_profile(profile) == given
    terms = replace(profile, must=("a",), never=("b",))
    run = RankOptions(must=("c",), never=("d", "b")).for_profile(terms)
    assert (run.must, run.never) == (("c",), ("b", "d")) and run.for_profile(terms) == run  # filling twice: the same
    with pytest.raises(UsageError, match="--diversity"):  # the profile's values are checked too
        RankOptions().for_profile(replace(profile, diversity=2.0))


def test_options_and_keywords_rank_alike_and_do_not_mix(fake_embedder):
    from recommender.rank import RankOptions, pick_from, score_listing

    liked = [Paper.make(f"Super-resolution {i}", f"2001.0000{i}", f"super resolution images {i}") for i in range(6)]
    profile = new_profile("sr", liked)
    embedder = CachedEmbedder(fake_embedder, None)
    by_keywords = recommend(_day_with_a_theme(), profile, embedder, strategy="knn", top=4, diversity=0.5)
    options = RankOptions(strategy="knn", top=4, diversity=0.5)
    assert recommend(_day_with_a_theme(), profile, embedder, options) == by_keywords
    with pytest.raises(TypeError, match="not both"):
        recommend(_day_with_a_theme(), profile, embedder, options, top=3)
    # pick_from's keywords take min_score and diversity as given; options fill them from the profile
    picky = replace(profile, min_score=1e9, diversity=0.5)
    scored = score_listing(_day_with_a_theme(), picky, embedder)
    assert len(pick_from(scored, embedder, top=3)) == 3
    assert pick_from(scored, embedder, RankOptions(top=3)) == []


def test_the_hybrid_scores_a_listing_and_its_held_out_likes_in_one_pass(fake_embedder, monkeypatch):
    from recommender.rank import score_listing
    from recommender.rank.hybrid import HybridRanker
    from recommender.rank.scoring import held_out_scores

    liked = [Paper.make(f"Super-resolution {i}", f"2001.0000{i}", f"super resolution images {i}") for i in range(6)]
    embedder = CachedEmbedder(fake_embedder, None)
    calls = []
    for name in ("semantic_scores", "lexical_scores"):
        real = getattr(HybridRanker, name)
        monkeypatch.setattr(
            HybridRanker, name, lambda self, *a, real=real, name=name: calls.append(name) or real(self, *a)
        )
    scored = score_listing(_day_with_a_theme(), new_profile("sr", liked), embedder, strategy="hybrid", store=False)
    assert scored.matches.shape == (len(scored),)
    assert sorted(calls) == ["lexical_scores", "semantic_scores"]  # the matches reuse the scoring's held-out scores
    np.testing.assert_array_equal(scored.held_out, held_out_scores(scored.inputs, scored.strategy))
    assert score_listing(_day_with_a_theme(), new_profile("sr", liked), embedder, strategy="knn").held_out is None


def test_a_stored_ranker_only_raises_on_a_day_the_likes_are_old(home, fake_embedder, monkeypatch):
    """The flag belongs to each scoring, not to the stored model: the same stored ranker scores the fresh day as
    fitted and, reused years later, with its lexical half only raising."""
    from recommender.rank.hybrid import HybridRanker

    liked = [
        Paper.make(f"Super-resolution {i}", f"2001.0000{i}", f"super resolution images, part {i}") for i in range(6)
    ]
    profile = new_profile("sr", liked)
    embedder = CachedEmbedder(fake_embedder, None)
    fresh = score_listing(_day_with_a_theme(), profile, embedder, strategy="hybrid")
    fits = []
    real_fit = HybridRanker.fit
    monkeypatch.setattr(HybridRanker, "fit", lambda self, *a, **k: fits.append(1) or real_fit(self, *a, **k))
    later = replace(_day_with_a_theme(), date=date(2025, 3, 3))
    old = score_listing(later, profile, embedder, strategy="hybrid")
    again = score_listing(_day_with_a_theme(), profile, embedder, strategy="hybrid")
    assert not fresh.inputs.likes_old and old.inputs.likes_old and not again.inputs.likes_old
    ranker = old.inputs.ranker
    texts = old.inputs.candidate_texts
    raised = ranker.fuse(ranker.semantic_scores(old.inputs.candidates), ranker.lexical_scores(texts, True), True)
    np.testing.assert_allclose(old.scores, raised[0])
    np.testing.assert_allclose(old.held_out, raised[1])
    np.testing.assert_allclose(again.scores, fresh.scores)  # back on the fresh day: as first scored
    assert fits == []  # one stored ranker for the three days
