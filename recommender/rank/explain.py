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
# Each sentence of a pick is embedded to find its key one. arXiv's 1,920 characters hold fewer; a feed's abstract
# of thousands would cost the model minutes.
MAX_SENTENCES = 100


def sentences(abstract: str) -> list[str]:
    """An abstract split into sentences, its first MAX_SENTENCES (LaTeX and abbreviations may merge a few; good
    enough to highlight)."""
    found: list[str] = []
    start = 0
    for boundary in _SENTENCE_END.finditer(abstract):
        part, start = abstract[start : boundary.start()].strip(), boundary.end()
        if len(part) > 20:
            found.append(part)
            if len(found) == MAX_SENTENCES:
                return found
    last = abstract[start:].strip()
    return [*found, last] if len(last) > 20 else found


TERMS = 5  # terms shown per pick
_JOINER = r"[\s\-\u2010\u2013/]+"  # what may part a phrase's words in a text: spaces, hyphens, a slash


def _written(words: Sequence[str], text: str) -> str | None:
    """How the text writes these words in a row ('super-resolution', acronyms kept: 'SR'), or None where it never
    does."""
    pattern = r"(?<!\w)" + _JOINER.join(map(re.escape, words)) + r"(?!\w)"
    found = re.search(pattern, text, re.IGNORECASE)
    if found is None:
        return None
    # Lower case but for a capital after a word's first letter (SR, ResNet): a title's capitals are not the term's.
    cased = re.sub(r"\w+", lambda w: w[0] if w[0][1:] != w[0][1:].lower() else w[0].lower(), found[0])
    return " ".join(cased.split())


def _inside(words: list[str], other: list[str]) -> bool:
    """True when `words` run, in order, within the longer `other`."""
    k = len(words)
    return k < len(other) and any(other[i : i + k] == words for i in range(len(other) - k + 1))


def readable_terms(terms: Sequence[str], text: str, n: int = TERMS) -> tuple[str, ...]:
    """The top terms (1-2-grams, best first) as the text's own phrases: 'image super' and 'super resolution' join
    as 'image super-resolution' where the text writes that, and a term inside a kept phrase goes; at most n."""
    phrases = [term.split() for term in terms]
    found: dict[tuple[str, ...], str] = {}  # how the text writes each joined phrase
    joined = True
    while joined:
        joined = False
        for a, b in ((a, b) for a in range(len(phrases)) for b in range(len(phrases)) if a != b):
            first, second = phrases[a], phrases[b]
            if len(first) > 1 and len(second) > 1 and first[-1] == second[0]:
                whole = first + second[1:]
                if shown := _written(whole, text):
                    found[tuple(whole)] = shown
                    phrases[min(a, b)] = whole
                    del phrases[max(a, b)]
                    joined = True
                    break

    def as_written(words: list[str]) -> str:
        shown = found.get(tuple(words)) or _written(words, text)
        return shown or (" ".join(words) if len(words) == 1 else "")

    # A pair of words the text never writes side by side ('end propose', across 'end-to-end, we propose') is the
    # vectoriser's, not the paper's: a reader could not find it, so it is not shown.
    written = [(words, as_written(words)) for words in phrases]
    written = [(words, shown) for words, shown in written if shown]
    return tuple(shown for words, shown in written if not any(_inside(words, other) for other, _ in written))[:n]


def shared_terms(texts: Sequence[str], liked_texts: Sequence[str], n: int = TERMS) -> list[tuple[str, ...]]:
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
    # Overlapping pieces join into fewer phrases; terms of lower weight do not fill their place.
    if inp.ranker is not None:
        pieces = inp.ranker.top_terms(texts, TERMS)
    elif lexical:
        pieces = shared_terms(texts, list(inp.profile.liked_texts), TERMS)
    else:
        pieces = [()] * len(picks)
    terms = [readable_terms(row, text) for row, text in zip(pieces, texts, strict=True)]
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
