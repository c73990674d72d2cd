"""Negatives in the likes' form: a library without abstracts trains against papers shown by title alone."""

from __future__ import annotations

import zlib
from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from recommender.embed import CachedEmbedder, EmbeddingCache
from recommender.profile import Profile, ProfilePaper
from recommender.rank import score_listing
from recommender.rank.hybrid import hybrid_scores
from recommender.rank.negatives import bare_share, form_matched
from recommender.schema import Listing, Paper

from .conftest import FakeEmbedder

BOILERPLATE = "We propose a novel framework and show through extensive experiments that results improve baselines."
FILLER = ["graph", "quantum", "protein", "robot", "audio", "finance", "weather", "galaxy", "sensor", "compiler"]


@pytest.fixture
def embedder(tmp_path) -> CachedEmbedder:
    return CachedEmbedder(FakeEmbedder(), EmbeddingCache(tmp_path / "cache.sqlite"), progress=False)


def day_papers(n: int = 40) -> list[Paper]:
    """Off-topic papers with the same boilerplate abstract; every fifth one has no abstract."""
    papers = []
    for i in range(n):
        words = [FILLER[(i * 3 + k) % len(FILLER)] for k in range(2)]
        abstract = "" if i % 5 == 4 else f"{words[0].title()} {words[1]} modelling. {BOILERPLATE}"
        papers.append(Paper(f"2601.{i:05d}", f"{words[0]} {words[1]} study {i}", abstract))
    return papers


def liked(n: int, bare: int) -> list[Paper]:
    """n liked segmentation papers, the first `bare` of them without an abstract."""
    return [
        Paper(f"2301.{i:05d}", f"Promptable segmentation masks {i}", "" if i < bare else f"Masks {i}. {BOILERPLATE}")
        for i in range(n)
    ]


def test_likes_with_abstracts_train_against_the_papers_as_they_are(embedder):
    papers = day_papers()
    vectors = embedder.embed_papers(papers)
    assert bare_share(liked(10, 0)) == 0.0 and bare_share([]) == 0.0
    assert bare_share(liked(10, 5)) == 0.5 and bare_share(liked(10, 10)) == 1.0
    # A day whose papers without an abstract already make up the share is left alone.
    for share in (0.0, 0.1, 0.2):  # 8 of the 40 papers have no abstract: a fifth of the day is titles already
        matched, texts = form_matched(papers, vectors, share, embedder)
        assert matched is vectors and texts == [p.text for p in papers]


def test_the_share_of_bare_likes_is_the_share_of_negatives_by_title(embedder):
    papers = day_papers()
    vectors = embedder.embed_papers(papers)
    matched, texts = form_matched(papers, vectors, bare_share(liked(10, 5)), embedder)
    by_title = [i for i, text in enumerate(texts) if text == papers[i].title]
    # Half the likes are bare, so half the negatives are shown by title: the 8 papers without an abstract, and the
    # 12 with one whose ids hash lowest (so the order of a day's papers does not change them).
    assert len(by_title) == 20
    with_abstract = sorted(
        (i for i, p in enumerate(papers) if p.abstract), key=lambda i: zlib.crc32(papers[i].arxiv_id.encode())
    )
    changed = with_abstract[:12]
    assert set(by_title) == set(changed) | {i for i, p in enumerate(papers) if not p.abstract}
    assert np.allclose(matched[changed], embedder.embed([papers[i].title for i in changed]))
    unchanged = [i for i in range(len(papers)) if i not in changed]
    assert np.array_equal(matched[unchanged], vectors[unchanged]) and not np.array_equal(matched, vectors)
    shuffled = papers[::-1]
    _, again = form_matched(shuffled, embedder.embed_papers(shuffled), 0.5, embedder)
    assert {p.arxiv_id for p, t in zip(shuffled, again, strict=True) if t == p.title} == {
        papers[i].arxiv_id for i in by_title
    }
    all_bare, _ = form_matched(papers, vectors, 1.0, embedder)
    assert np.allclose(all_bare, embedder.embed([p.title for p in papers]))


def test_papers_shown_on_earlier_days_are_negatives_in_the_likes_form_too(embedder):
    papers = day_papers()
    shown = [replace(p, arxiv_id=p.arxiv_id.replace("2601.", "2512."), title=f"{p.title} earlier") for p in papers]
    profile = Profile(name="library", liked=tuple(ProfilePaper(p, date(2025, 1, 1)) for p in liked(12, 12)))
    listing = Listing(papers=tuple(papers), date=date(2026, 1, 15))
    scored = score_listing(listing, profile, embedder, strategy="hybrid", store=False, history=shown)
    negatives = [*papers, *shown]
    assert list(scored.inputs.negative_texts) == [p.title for p in negatives]
    assert np.allclose(scored.inputs.negatives, embedder.embed([p.title for p in negatives]))
    # One bare like of 13: 6 of 80 negatives are titles (on a day where every paper has an abstract); where the
    # day's bare papers are that many already (16 here), nothing more is changed. Interest sentences do not count.
    mixed = Profile(
        name="mixed",
        liked=tuple(ProfilePaper(p, date(2025, 1, 1)) for p in liked(13, 1)),
        interests=("segmentation", "masks", "prompts"),
    )
    full = [replace(p, abstract=p.abstract or "A plain abstract.") for p in negatives]
    day = Listing(papers=tuple(full[:40]), date=date(2026, 1, 15))
    found = score_listing(day, mixed, embedder, strategy="hybrid", store=False, history=full[40:]).inputs.negative_texts
    assert sum(t == p.title for t, p in zip(found, full, strict=True)) == round(80 / 13) == 6
    as_listed = score_listing(listing, mixed, embedder, strategy="hybrid", store=False, history=shown)
    assert list(as_listed.inputs.negative_texts) == [p.text for p in negatives]


def test_a_library_of_titles_ranks_the_topic_first_not_the_shortest_abstract(embedder):
    """Likes by title against negatives with abstracts teach the learners that an abstract is a bad sign; with the
    negatives in the likes' form the on-topic paper comes first."""
    papers = day_papers()
    on_topic = Paper("2601.09999", "Segmentation for video", f"Video. {BOILERPLATE} {BOILERPLATE}")
    listing = Listing(papers=(*papers, on_topic), date=date(2026, 1, 15))
    profile = Profile(name="library", liked=tuple(ProfilePaper(p, date(2025, 1, 1)) for p in liked(12, 12)))
    scored = score_listing(listing, profile, embedder, strategy="hybrid", store=False)
    ranked = [scored.candidates[i].arxiv_id for i in np.argsort(-scored.scores, kind="stable")]
    assert ranked[0] == on_topic.arxiv_id
    assert set(scored.inputs.negative_texts) == {p.title for p in listing.papers}
    # The same profile trained against the papers with their abstracts (the old negatives) ranks a title first. These
    # likes are old, and a lexical half that only raises cannot learn that an abstract is a bad sign: judged as fresh.
    old = replace(
        scored.inputs, negatives=scored.vectors, negative_texts=[p.text for p in scored.candidates], likes_old=False
    )
    before = hybrid_scores(replace(old, ranker=None))[0]
    ranked_before = [scored.candidates[i] for i in np.argsort(-before, kind="stable")]
    assert not ranked_before[0].abstract and ranked_before.index(on_topic) > 5


def test_a_stored_model_reused_on_a_later_day_embeds_no_titles(embedder):
    """Matching the likes' form embeds titles only where a model trains: a warm rank that reuses the stored ranker
    embeds the new day's papers and nothing more."""
    profile = Profile(name="library", liked=tuple(ProfilePaper(p, date(2025, 1, 1)) for p in liked(12, 12)))
    first = Listing(papers=tuple(day_papers()), date=date(2026, 1, 15))
    fitted = score_listing(first, profile, embedder, strategy="hybrid")
    assert set(fitted.inputs.negative_texts) == {p.title for p in first.papers}  # the inputs the fit saw
    encoder = embedder.encoder
    assert {p.title for p in first.papers if p.abstract} <= set(encoder.texts)  # the fit embedded the titles
    later = tuple(
        replace(p, arxiv_id=p.arxiv_id.replace("2601.", "2602."), title=f"{p.title} again") for p in first.papers
    )
    before = len(encoder.texts)
    scored = score_listing(Listing(papers=later, date=date(2026, 2, 15)), profile, embedder, strategy="hybrid")
    assert sorted(encoder.texts[before:]) == sorted(p.text for p in later)
    assert scored.inputs.ranker is not None
    # Without a stored model (as evaluate runs) the fit matches the form again, and so does a strategy that reads
    # its negatives at scoring time.
    fresh = score_listing(
        Listing(papers=later, date=date(2026, 2, 15)), profile, embedder, strategy="hybrid", store=False
    )
    assert set(fresh.inputs.negative_texts) == {p.title for p in later}
    svm = score_listing(Listing(papers=later, date=date(2026, 2, 15)), profile, embedder, strategy="tfidf-svm")
    assert set(svm.inputs.negative_texts) == {p.title for p in later}
