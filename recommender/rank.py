"""Strategies that score papers against a profile, and the ranking of a listing into Picks."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import date

import numpy as np

from .embed import CachedEmbedder
from .hybrid import HybridRanker, training_key, zscore
from .lexical import fit_tfidf
from .paths import ranker_path
from .profile import Profile, profile_vectors
from .schema import Because, Listing, Paper, PaperrecError, Pick, UsageError
from .strategies import LEARNS_DISLIKES, STANDARDISED, STRATEGIES, USES_NEGATIVES, ScoringInput, fit_hybrid, unit_mean


def score(inp: ScoringInput, strategy: str = "centroid") -> np.ndarray:
    """Score each candidate with a strategy; most subtract dislike_weight x cosine to the dislikes' mean.

    The hybrid also learns from dislikes as negatives, but one dislike among hundreds of negatives barely moves a
    linear model, so the explicit penalty applies to it too (z-scored, as its scores are).
    """
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
    if len(inp.liked) == 0:
        raise PaperrecError("the profile has no liked papers or interests to rank against")
    scores = STRATEGIES[strategy](inp)
    if strategy not in LEARNS_DISLIKES and len(inp.profile.disliked) and inp.dislike_weight:
        closeness = inp.candidates @ unit_mean(inp.profile.disliked)  # (n_candidates,)
        scores = scores - inp.dislike_weight * (zscore(closeness) if strategy in STANDARDISED else closeness)
    return np.asarray(scores, dtype=np.float64)


def order(papers: Sequence[Paper], scores: np.ndarray) -> list[int]:
    """Indices by descending score, ties broken by id."""
    return sorted(range(len(papers)), key=lambda i: (-float(scores[i]), papers[i].arxiv_id))


def diversify(ranked: Sequence[int], scores: np.ndarray, vectors: np.ndarray, diversity: float, top: int) -> list[int]:
    """Maximal marginal relevance: pick greedily by (1 - diversity) x relevance - diversity x closeness to picks."""
    if diversity <= 0 or len(ranked) <= 1:
        return list(ranked[:top])
    pool = list(ranked[: max(top * 5, 50)])  # far-down papers never win on relevance; keep the loop small
    low, high = float(scores[pool].min()), float(scores[pool].max())
    relevance = (scores[pool] - low) / (high - low) if high > low else np.ones(len(pool))
    sims = vectors[pool] @ vectors[pool].T  # (n_pool, n_pool)
    chosen: list[int] = []
    closeness = np.full(len(pool), -np.inf)
    available = np.ones(len(pool), dtype=bool)
    while len(chosen) < min(top, len(pool)):
        penalty = np.where(np.isfinite(closeness), closeness, 0.0)
        value = np.where(available, (1 - diversity) * relevance - diversity * penalty, -np.inf)
        best = int(np.argmax(value))  # argmax takes the first maximum: pool order breaks ties
        chosen.append(best)
        available[best] = False
        closeness = np.maximum(closeness, sims[best])
    return [pool[j] for j in chosen]


def _mentions(terms: Sequence[str]) -> re.Pattern[str] | None:
    if not terms:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t.strip()) for t in terms if t.strip()) + r")(?!\w)", re.I)


def apply_rules(papers: Sequence[Paper], must: Sequence[str], never: Sequence[str]) -> list[Paper]:
    """Keep papers whose title or abstract mentions a `must` term (when any) and no `never` term."""
    required, banned = _mentions(must), _mentions(never)
    return [
        p
        for p in papers
        if (required is None or required.search(p.text)) and (banned is None or not banned.search(p.text))
    ]


def top_picks(
    papers: Sequence[Paper],
    scores: np.ndarray,
    profile_name: str,
    *,
    top: int | None = 10,
    min_score: float | None = None,
    vectors: np.ndarray | None = None,
    diversity: float = 0.0,
) -> list[Pick]:
    """Order papers by (-score, id), drop low scores, keep the top N (re-ordered by MMR when diversity > 0)."""
    ranked = order(papers, scores)
    if min_score is not None:
        ranked = [i for i in ranked if scores[i] >= min_score]
    limit = len(ranked) if top is None else top
    if diversity > 0 and vectors is not None:
        ranked = diversify(ranked, scores, vectors, diversity, limit)
    ranked = ranked[:limit]
    return [
        Pick(paper=papers[i], score=float(scores[i]), rank=n, profile=profile_name) for n, i in enumerate(ranked, 1)
    ]


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9$\\(])")
LEXICAL = {"tfidf", "tfidf-svm", "hybrid"}


def sentences(abstract: str) -> list[str]:
    """An abstract split into sentences (LaTeX and abbreviations may merge a few; good enough to highlight)."""
    return [s for s in (part.strip() for part in _SENTENCE_END.split(abstract)) if len(s) > 20]


def explain(
    picks: Sequence[Pick],
    pick_vectors: np.ndarray,
    inp: ScoringInput,
    liked: Sequence[Paper],
    embedder: CachedEmbedder,
    *,
    lexical: bool = False,
) -> list[Pick]:
    """Attach a Because to each pick: its closest liked papers, the terms that weighed most, and its key sentence."""
    if not picks:
        return []
    n_liked = len(liked)
    sims = pick_vectors @ inp.liked[:n_liked].T  # (n_picks, n_liked)
    texts = [p.paper.text for p in picks]
    if inp.ranker is not None:
        terms = inp.ranker.top_terms(texts)
    elif lexical:
        terms = shared_terms(texts, list(inp.profile.liked_texts))
    else:
        terms = [()] * len(picks)
    center = unit_mean(inp.liked, inp.liked_weights())
    split = [sentences(p.paper.abstract) for p in picks]
    flat = [s for parts in split for s in parts]
    sentence_scores = embedder.embed(flat) @ center if flat else np.zeros(0)
    explained, start = [], 0
    for row, (pick, parts) in enumerate(zip(picks, split, strict=True)):
        closest = np.argsort(-sims[row])[:3] if n_liked else []
        papers = tuple((liked[j].arxiv_id, liked[j].title, round(float(sims[row, j]), 4)) for j in closest)
        best = parts[int(np.argmax(sentence_scores[start : start + len(parts)]))] if parts else ""
        start += len(parts)
        explained.append(replace(pick, because=Because(papers=papers, terms=tuple(terms[row]), sentence=best)))
    return explained


def shared_terms(texts: Sequence[str], liked_texts: Sequence[str], n: int = 5) -> list[tuple[str, ...]]:
    """For each text, the TF-IDF terms that weigh most in both it and the liked papers."""
    space, matrix = fit_tfidf(list(liked_texts) + list(texts))
    profile = np.asarray(matrix[: len(liked_texts)].mean(axis=0)).ravel()  # (n_terms,)
    names = space.terms
    result = []
    for row in matrix[len(liked_texts) :]:
        weights = row.toarray().ravel() * profile
        best = [j for j in np.argsort(-weights)[:n] if weights[j] > 0]
        result.append(tuple(str(names[j]) for j in best))
    return result


def stored_ranker(profile_name: str, inp: ScoringInput, model_key: str) -> HybridRanker | None:
    """The profile's hybrid ranker: loaded when the profile is unchanged since it was fitted, else fitted and stored.

    It is keyed by the profile's likes, weights and dislikes, not by the day's papers, so later days reuse it.
    """
    key = training_key(model_key, inp.profile.liked_texts, inp.liked_weights(), inp.profile.disliked_texts)
    path = ranker_path(profile_name)
    ranker = HybridRanker.load(path, key)
    if ranker is None:
        ranker = fit_hybrid(inp)
        if ranker is not None:
            ranker.save(path, key)
    return ranker


def recommend(
    listing: Listing,
    profile: Profile,
    embedder: CachedEmbedder,
    *,
    strategy: str | None = None,
    top: int | None = 10,
    min_score: float | None = None,
    dislike_weight: float | None = None,
    diversity: float | None = None,
    exclude: Collection[str] = frozenset(),
    explain_picks: bool = True,
) -> list[Pick]:
    """Rank a listing for a profile: embed (through the cache), score, and return the top picks with reasons.

    Papers in the profile, ids in `exclude` (e.g. already seen) and papers failing the profile's must/never
    rules are never picked.
    """
    strategy = strategy or profile.strategy
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
    if top is not None and top < 1:
        raise UsageError("--top must be at least 1")
    diversity = profile.diversity if diversity is None else diversity
    if not 0 <= diversity <= 1:
        raise UsageError("--diversity must be between 0 and 1")
    if profile.is_empty():
        raise PaperrecError(
            f"profile {profile.name!r} has no liked papers or interests: add some with 'paperrec like' or 'interests'"
        )
    skip = profile.ids | set(exclude)
    candidates = apply_rules([p for p in listing.papers if p.arxiv_id not in skip], profile.must, profile.never)
    if not candidates:
        return []
    vectors = embedder.embed_papers(candidates)  # (n_candidates, dim)
    inp = ScoringInput(
        candidates=vectors,
        candidate_texts=[p.text for p in candidates],
        profile=profile_vectors(profile, embedder),
        today=listing.date or date.today(),
        half_life_days=profile.half_life_days,
        dislike_weight=profile.dislike_weight if dislike_weight is None else dislike_weight,
    )
    if strategy in USES_NEGATIVES:
        # Today's other papers stand in for "shown but not liked": most of a day is not for this researcher.
        inp = replace(inp, negatives=vectors, negative_texts=inp.candidate_texts)
    if strategy == "hybrid":
        inp = replace(inp, ranker=stored_ranker(profile.name, inp, embedder.encoder.cache_key))
    scores = score(inp, strategy)
    picks = top_picks(
        candidates,
        scores,
        profile.name,
        top=top,
        min_score=profile.min_score if min_score is None else min_score,
        vectors=vectors,
        diversity=diversity,
    )
    if not explain_picks:
        return picks
    index = {p.arxiv_id: i for i, p in enumerate(candidates)}
    pick_vectors = vectors[[index[p.paper.arxiv_id] for p in picks]]
    liked = [p.paper for p in profile.liked]
    return explain(picks, pick_vectors, inp, liked, embedder, lexical=strategy in LEXICAL)
