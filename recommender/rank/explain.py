"""Why a paper was picked: its closest liked papers, the terms that weighed most, and its key sentence."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..embed import CachedEmbedder
from ..schema import Because, Paper, Pick
from .lexical import fit_tfidf
from .strategies import ScoringInput, unit_mean

KEY_SENTENCES = 10  # picks that get their key sentence by default
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9$\\(])")


def sentences(abstract: str) -> list[str]:
    """An abstract split into sentences (LaTeX and abbreviations may merge a few; good enough to highlight)."""
    return [s for s in (part.strip() for part in _SENTENCE_END.split(abstract)) if len(s) > 20]


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


def explain(
    picks: Sequence[Pick],
    pick_vectors: np.ndarray,
    inp: ScoringInput,
    liked: Sequence[Paper],
    embedder: CachedEmbedder,
    *,
    lexical: bool = False,
    key_sentences: int | None = KEY_SENTENCES,
) -> list[Pick]:
    """Attach a Because to each pick: its closest liked papers, the terms that weighed most, and its key sentence.

    Key sentences cost an embedding per sentence, so only the first `key_sentences` picks get one (None: all): a
    program asking for 200 picks does not wait for a thousand sentences nobody reads. When the model is not loaded
    (the day came from the cache) and not every sentence was asked for (None), it is not loaded for them: sentences
    already embedded are reused, and a pick whose sentences are not is given its sentence by TF-IDF.
    """
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
    shown = len(picks) if key_sentences is None else key_sentences
    split = [sentences(p.paper.abstract) if n < shown else [] for n, p in enumerate(picks)]
    flat = [s for parts in split for s in parts]
    if not flat:
        sentence_scores = np.zeros(0)
    elif key_sentences is None or embedder.loaded:
        sentence_scores = embedder.embed(flat) @ center  # (n_sentences,)
    else:
        sentence_scores = _scores_without_the_model(split, flat, embedder, center, inp.profile.liked_texts)
    # Without liked papers the profile is its interests: the closest of them is what earned the pick.
    interest_sims = pick_vectors @ inp.liked.T if not n_liked else np.zeros((len(picks), 0))  # (n_picks, n_interests)
    explained, start = [], 0
    for row, (pick, parts) in enumerate(zip(picks, split, strict=True)):
        closest = np.argsort(-sims[row])[:3] if n_liked else []
        papers = tuple((liked[j].arxiv_id, liked[j].title, round(float(sims[row, j]), 4)) for j in closest)
        interests = tuple(
            (inp.profile.liked_texts[j], round(float(interest_sims[row, j]), 4))
            for j in np.argsort(-interest_sims[row])[:3]
        )
        best = parts[int(np.argmax(sentence_scores[start : start + len(parts)]))] if parts else ""
        start += len(parts)
        because = Because(papers=papers, terms=tuple(terms[row]), sentence=best, interests=interests)
        explained.append(replace(pick, because=because))
    return explained


def _scores_without_the_model(
    split: Sequence[Sequence[str]],
    flat: Sequence[str],
    embedder: CachedEmbedder,
    center: np.ndarray,
    liked_texts: Sequence[str],
) -> np.ndarray:
    """Each sentence's closeness to the profile without loading the model: by cached vectors where all of its pick's
    sentences have one, else by TF-IDF cosine to the liked texts (one scale within a pick, so its best is fair)."""
    cached = embedder.cached(flat)
    scores = np.zeros(len(flat))  # (n_sentences,)
    lexical: list[int] = []
    start = 0
    for parts in split:
        rows = range(start, start + len(parts))
        if all(cached[i] is not None for i in rows):
            for i in rows:
                scores[i] = float(cached[i] @ center)
        else:
            lexical.extend(rows)
        start += len(parts)
    if lexical and liked_texts:
        _, matrix = fit_tfidf(list(liked_texts) + [flat[i] for i in lexical])
        profile = np.asarray(matrix[: len(liked_texts)].mean(axis=0)).ravel()  # (n_terms,)
        scores[lexical] = matrix[len(liked_texts) :] @ profile
    return scores
