"""Aged libraries on the bench: the default against similarity and the baselines when the likes are old.

    PAPERREC_HOME=... python benchmarks/aging_study.py --bench ../shared/bench --days 6 --gap 180 [--fresh-profiles]
        [--library] [--titles-only] [--halves | --negatives | --votes]

`--gap N` builds each pair's profile from the list's papers first seen at least N days before the day (an
imported library kept for years); `--fresh-profiles` scores the pairs that gap chose with their fresh profiles, so
aged and fresh compare on the same pairs. `--library` adds the list's papers that are in no listing, by title alone,
from the month after their id's month (`evaluate --library-titles`): with a gap of 540 days the likes are about two
years older than the day. `--titles-only` drops every profile paper's abstract (a library exported without them).
Each pair is fitted once through score_listing (the default hybrid, as
`rank` runs it); the other scorers reuse that fit's inputs:
  centroid, knn, tfidf, tfidf-svm   the baselines (tfidf-svm: arxiv-sanity's linear SVM on TF-IDF, trained on
                                     the day's papers as listed)
  hybrid (default)                   the product's learned models
  hybrid, lexical half unweighted    the hybrid with its SVM trained on every like alike (before the lexical half
                                     learned from the same recency weights as the semantic half)
  hybrid, negatives as listed        the hybrid trained against the day's papers with their abstracts whatever form
                                     the likes have (before negatives matched the likes' form: rank/negatives.py)
  similarity                         z(knn) + z(tfidf): the hybrid's fallback when it has too little to learn from
  hybrid + similarity                z(hybrid) + z(similarity), always
  guard X -> Y                       the hybrid, or Y when the likes are old by rule X (few recent: fewer than 5
                                     likes in the last 90 days; old: profile.likes_age's is_old, the rule by which
                                     the product says so: median age over a year and fewer than 5 recent likes)
`--halves` compares the hybrid with its two halves (the semantic and the lexical model), and with fusions that weight
each half by how well it separated the likes from the negatives in five-fold cross-validation (held-out ROC AUC or
average precision), or take the half that separated them better:
the guard a fusion would need to stay near its better half on every list. It also scores other ways to scale, fuse
or fit the halves (median and MAD, normal-quantile ranks, each half's top 50, a semantic SVM, the title twice in the
lexical half, three C per half, the likes' recency weights scaled to a mean of 1, the day's top 10 refitted as
likes of weight 0.3, each score plus 0.3 of its 10 nearest candidates' mean score, the lexical half on the likes'
own terms or with only positive term weights, the semantic half at 0.7): measured and not kept. `guard old -> terms
only raise` takes the positive term weights only when the product's rule calls the likes old.
`--votes` takes the aged profile and likes the list's 3 or 5 newest papers of the 90 days before the day (the recent
likes the old-likes sentence asks for), at the default recency half-life (180 days), 365, 730 and none.
`--negatives` compares what the learners train against (and one more era variant: the likes centred on their era's
mean, the day's papers on the day's mean): the day's other papers (the default), papers of the seven
listing days before it (200 sampled, known likes left out, as arxiv-sanity trains its SVM), or both.
Results (table and JSON) go to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zlib
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from recommender.embed import open_embedder
from recommender.evaluate import EvalCase, evaluate, load_bench, strategy_scorer
from recommender.evaluate.bench import HISTORY_DAYS, MAX_NEGATIVES
from recommender.evaluate.cases import product_scores
from recommender.profile import likes_age
from recommender.rank import Scored
from recommender.rank.hybrid import DEFAULT_HYBRID, FOLDS, HybridRanker, fit_hybrid, hybrid_scores, stratified_folds
from recommender.rank.lexical import fit_tfidf
from recommender.rank.strategies import ScoringInput, centroid, knn, tfidf, tfidf_svm, zscore

T = TypeVar("T")
UNWEIGHTED = replace(DEFAULT_HYBRID, weigh_lexical=False)  # the default before its SVM learned from the likes' weights
RECENT_DAYS = 90
RECENT_ENOUGH = 5


def likes_recent(inp: ScoringInput) -> int:
    """Likes added in the RECENT_DAYS before the day."""
    today = inp.today or date.today()
    return sum(1 for d in inp.profile.added if d is not None and (today - d).days <= RECENT_DAYS)


RULES = {
    "few recent": lambda case, inp: likes_recent(inp) < RECENT_ENOUGH,
    "old": lambda case, inp: likes_age(case.user_profile(), case.day).is_old,  # the product's rule
}


def per_case(compute: Callable[[EvalCase], T]) -> Callable[[EvalCase], T]:
    """`compute`, kept for the pair being scored: every scorer of a pair reuses one fit, the next pair replaces it."""
    kept: dict[int, T] = {}

    def cached(case: EvalCase) -> T:
        if id(case) not in kept:
            kept.clear()
            kept[id(case)] = compute(case)
        return kept[id(case)]

    return cached


def sampled(papers: list, case: EvalCase, salt: str = "") -> list:
    """At most MAX_NEGATIVES of the papers, in their order, seeded by the pair so a run is reproducible."""
    if len(papers) <= MAX_NEGATIVES:
        return papers
    rng = np.random.default_rng(zlib.crc32(f"{salt}{case.list_name}|{case.day.isoformat()}".encode()))
    return [papers[i] for i in sorted(rng.choice(len(papers), MAX_NEGATIVES, replace=False))]


def as_listed(inp: ScoringInput) -> ScoringInput:
    """The input with the day's papers as negatives just as they are listed (with their abstracts, whatever form the
    likes have): the product before it matched the likes' form, and arxiv-sanity's SVM as it trains."""
    return replace(inp, negatives=inp.candidates, negative_texts=list(inp.candidate_texts), ranker=None)


def scorers() -> dict:
    """Scorers sharing one default fit per pair."""
    default = strategy_scorer("hybrid")

    @per_case
    def parts(case: EvalCase) -> tuple[Scored, dict[str, np.ndarray]]:
        scored = default(case)
        inp = scored.inputs
        similarity = zscore(knn(inp)) + zscore(tfidf(inp))
        learned = np.asarray(scored.scores, dtype=np.float64)
        return (
            scored,
            {
                "centroid": centroid(inp),
                "knn": knn(inp),
                "tfidf": tfidf(inp),
                "tfidf-svm": tfidf_svm(as_listed(inp)),
                "similarity": similarity,
                "hybrid": learned,
                "hybrid + similarity": zscore(learned) + zscore(similarity),
                "hybrid, negatives as listed": hybrid_scores(as_listed(inp))[0],
                "hybrid, lexical half unweighted": hybrid_scores(replace(inp, ranker=None), UNWEIGHTED)[0],
                **{rule: np.array([test(case, inp)]) for rule, test in RULES.items()},
            },
        )

    def plain(kind: str):
        return lambda case: parts(case)[1][kind]

    def guarded(rule: str, fallback: str):
        def scorer(case: EvalCase) -> np.ndarray:
            p = parts(case)[1]
            return p[fallback] if bool(p[rule][0]) else p["hybrid"]

        return scorer

    chosen = {name: plain(name) for name in ("centroid", "knn", "tfidf", "tfidf-svm")}
    chosen["hybrid (default)"] = plain("hybrid")
    chosen["similarity"] = plain("similarity")
    chosen["hybrid + similarity"] = plain("hybrid + similarity")
    chosen["hybrid, negatives as listed"] = plain("hybrid, negatives as listed")
    chosen["hybrid, lexical half unweighted"] = plain("hybrid, lexical half unweighted")
    for rule in RULES:
        for fallback in ("similarity", "hybrid + similarity"):
            chosen[f"guard {rule} -> {fallback}"] = guarded(rule, fallback)
    return chosen


def training_rows(inp: ScoringInput) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    """The hybrid's training set: vectors, texts, 0/1 labels and weights (likes, then the negative pool)."""
    negatives, negative_texts = inp.negative_pool()
    labels = np.r_[np.ones(len(inp.liked)), np.zeros(len(negatives))]
    weights = np.r_[inp.liked_weights(inp.half_life_days or DEFAULT_HYBRID.half_life_days), np.ones(len(negatives))]
    return np.vstack([inp.liked, negatives]), list(inp.profile.liked_texts) + list(negative_texts), labels, weights


def held_out_margins(inp: ScoringInput) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Each training row's semantic and lexical margins from models fitted without its fold, and the labels."""
    vectors, listed, labels, weights = training_rows(inp)
    if min(labels.sum(), (1 - labels).sum()) < FOLDS:
        return None
    texts = np.array(listed, dtype=object)
    semantic, lexical = np.zeros(len(labels)), np.zeros(len(labels))
    for part in stratified_folds(labels):
        rest = np.setdiff1d(np.arange(len(labels)), part)
        fold = HybridRanker(folds=len(labels) + 1)  # more folds than rows: no inner cross-validation
        fold.fit(vectors[rest], list(texts[rest]), labels[rest], sample_weight=weights[rest])
        semantic[part] = fold.semantic_scores(vectors[part])
        lexical[part] = fold.lexical_scores(list(texts[part]))
    return semantic, lexical, labels


HALVES = ("semantic half", "lexical half", "weighted by AUC", "weighted by AP", "better half by AUC")
FUSIONS = (
    "median/MAD scaled",
    "normal-quantile ranks",
    "scaled by own top 50",
    "semantic SVM",
    "semantic SVM + LR",
    "lexical: title twice",
    "three C per half",
    "likes' weights mean 1",
    "day's top 10 refitted as likes",
    "smoothed over 10 nearest",
    "lexical: the likes' terms only",
    "lexical: terms only raise",
    "0.7 x semantic + lexical",
    "guard old -> terms only raise",
    "soft AND: + 0.5 x the lower half",
    "+ 0.5 x z(TF-IDF cosine to the nearest like)",
    "lexical: IDF from the day's papers",
    "lexical half alone, IDF from the day's papers",
)


def robust(scores: np.ndarray) -> np.ndarray:
    """Scores less their median, over their median absolute deviation (scaled to a normal spread)."""
    spread = 1.4826 * float(np.median(np.abs(scores - np.median(scores))))
    return (scores - np.median(scores)) / (spread or 1.0)


def quantiles(scores: np.ndarray) -> np.ndarray:
    """Each score's rank as a standard normal quantile."""
    from scipy.stats import norm, rankdata

    return norm.ppf(rankdata(scores) / (len(scores) + 1))


def top_scaled(scores: np.ndarray, k: int = 50) -> np.ndarray:
    """z-scores over the spread of the top k."""
    z = zscore(scores)
    return z / (np.sort(z)[-k:].std() or 1.0)


def title_twice(text: str) -> str:
    """The text with its title (up to the first '. ') repeated."""
    head, sep, rest = text.partition(". ")
    return f"{head}. {head}. {rest}" if sep else f"{text}. {text}"


def smoothed(scores: np.ndarray, vectors: np.ndarray, k: int = 10, share: float = 0.3) -> np.ndarray:
    """Each candidate's score plus `share` of the mean score of its k nearest candidates (cosine)."""
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    return scores + share * scores[np.argsort(-similarity, axis=1)[:, :k]].mean(axis=1)


def day_top_as_likes(inp: ScoringInput, fused: np.ndarray, k: int = 10, weight: float = 0.3) -> np.ndarray | None:
    """Pseudo-relevance feedback: the fused ranking's top k refitted as likes of `weight` (out of the negatives);
    None when the negative pool is not the day's papers row for row."""
    vectors, texts, labels, weights = training_rows(inp)
    first_day_row = len(labels) - len(inp.candidates)
    if first_day_row < int(labels.sum()):
        return None
    rows = first_day_row + np.argsort(-fused)[:k]
    labels, weights = labels.copy(), weights.copy()
    labels[rows], weights[rows] = 1.0, weight
    refit = HybridRanker(folds=len(labels) + 1).fit(vectors, texts, labels, sample_weight=weights)
    return zscore(refit.semantic_scores(inp.candidates)) + zscore(refit.lexical_scores(inp.candidate_texts))


def other_fusions(inp: ScoringInput, ranker: HybridRanker) -> dict[str, np.ndarray]:
    """Other ways to scale, fuse or fit the two halves (measured in the README, not kept)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    vectors, texts, labels, weights = training_rows(inp)
    semantic, lexical = ranker.semantic_scores(inp.candidates), ranker.lexical_scores(inp.candidate_texts)
    zs, zl = zscore(semantic), zscore(lexical)

    def svm(c: float, rows: Any) -> LinearSVC:
        return LinearSVC(C=c, class_weight="balanced", random_state=0).fit(rows, labels, sample_weight=weights)

    def logistic(c: float) -> np.ndarray:
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=1000)
        return zscore(model.fit(vectors, labels, sample_weight=weights).decision_function(inp.candidates))

    semantic_svm = zscore(svm(0.1, vectors).decision_function(inp.candidates))
    space, matrix = fit_tfidf([title_twice(t) for t in texts])
    titled = space.project([title_twice(t) for t in inp.candidate_texts], svm(0.1, matrix).coef_.ravel())
    own_space, own_matrix = fit_tfidf(texts)

    def lexical_at(c: float) -> np.ndarray:
        return zscore(own_space.project(inp.candidate_texts, svm(c, own_matrix).coef_.ravel())[:, 0])

    likes = labels == 1
    # Only terms some like uses: a term of the day's era that old likes never wrote cannot count against a paper.
    kept = np.asarray((own_matrix[likes] > 0).sum(axis=0)).ravel() > 0
    own_terms = own_matrix[:, np.flatnonzero(kept)]
    likes_terms = svm(0.1, own_terms).coef_.ravel()
    weights_mean_1 = np.where(likes, weights / weights[likes].mean(), weights)  # so age does not shrink the likes' sum
    rescaled = HybridRanker(folds=len(labels) + 1).fit(vectors, texts, labels, sample_weight=weights_mean_1)
    fused = zs + zl
    feedback = day_top_as_likes(inp, fused)
    old = bool(inp.likes_old and DEFAULT_HYBRID.raise_only_when_old)
    day_idf = zscore(day_idf_lexical(texts, labels, weights, list(inp.candidate_texts), old))
    return {
        "lexical: IDF from the day's papers": zscore(ranker.semantic_scores(inp.candidates)) + day_idf,
        "lexical half alone, IDF from the day's papers": day_idf,
        "day's top 10 refitted as likes": fused if feedback is None else feedback,
        "smoothed over 10 nearest": smoothed(fused, np.asarray(inp.candidates, dtype=np.float64)),
        "likes' weights mean 1": zscore(rescaled.semantic_scores(inp.candidates))
        + zscore(rescaled.lexical_scores(inp.candidate_texts)),
        "median/MAD scaled": robust(semantic) + robust(lexical),
        "normal-quantile ranks": quantiles(semantic) + quantiles(lexical),
        "scaled by own top 50": top_scaled(semantic) + top_scaled(lexical),
        "semantic SVM": semantic_svm + zl,
        "semantic SVM + LR": (semantic_svm + zs) / 2 + zl,
        "lexical: title twice": zs + zscore(titled[:, 0]),
        "lexical: the likes' terms only": zs
        + zscore(own_space.project(inp.candidate_texts, _spread(kept, likes_terms))[:, 0]),
        "lexical: terms only raise": zs + zscore(ranker.lexical_scores(inp.candidate_texts, raise_only=True)),
        "0.7 x semantic + lexical": 0.7 * zs + zl,
        # Consensus: a paper both halves rank high over one that only one half does.
        "soft AND: + 0.5 x the lower half": fused + 0.5 * np.minimum(zs, zl),
        # The exact terms of one liked paper (a concept a list names), not the learned weights over all of them.
        "+ 0.5 x z(TF-IDF cosine to the nearest like)": fused
        + 0.5 * zscore(own_space.project(inp.candidate_texts, own_matrix[likes].T.toarray()).max(axis=1)),
        "three C per half": sum(logistic(c) for c in (0.3, 1.0, 3.0)) / 3
        + sum(lexical_at(c) for c in (0.03, 0.1, 0.3)) / 3,
    }


def day_idf_lexical(
    texts: list[str], labels: np.ndarray, weights: np.ndarray, day_texts: list[str], raise_only: bool
) -> np.ndarray:
    """The lexical half's margins on the day with each term's IDF counted over the day's papers alone: the likes'
    own topic terms, common among the likes, keep the high IDF they have in a listing."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.preprocessing import normalize
    from sklearn.svm import LinearSVC

    from recommender.rank.lexical import TOKEN

    counter = CountVectorizer(ngram_range=(1, 2), stop_words="english", token_pattern=TOKEN.pattern)
    train, day = counter.fit_transform(texts), counter.transform(day_texts)
    idf = np.log((1 + day.shape[0]) / (1 + np.asarray((day > 0).sum(axis=0)).ravel())) + 1

    def rows(counts: Any) -> Any:
        counts = counts.astype(np.float64).tocsr(copy=True)
        counts.data = 1.0 + np.log(counts.data)  # sublinear tf, as the default's space
        return normalize(counts.multiply(idf).tocsr())

    model = LinearSVC(C=DEFAULT_HYBRID.lexical_c, class_weight="balanced", random_state=0)
    coef = model.fit(rows(train), labels, sample_weight=weights).coef_.ravel()
    return rows(day) @ (np.clip(coef, 0.0, None) if raise_only else coef)


def _spread(kept: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Coefficients over the kept columns, placed back into the full vocabulary (zero elsewhere)."""
    full = np.zeros(len(kept))
    full[np.flatnonzero(kept)] = coef
    return full


def halves() -> dict:
    """The hybrid, its halves, and fusions weighted by each half's held-out separation of likes from negatives."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    default = strategy_scorer("hybrid")

    @per_case
    def parts(case: EvalCase) -> dict[str, np.ndarray]:
        scored = default(case)
        inp = scored.inputs
        row = {"centroid": centroid(inp), "tfidf-svm": tfidf_svm(as_listed(inp))}
        row["hybrid (default)"] = np.asarray(scored.scores, dtype=np.float64)
        ranker = inp.ranker or fit_hybrid(inp)
        held = held_out_margins(inp) if ranker is not None else None
        if held is None:  # too few to learn from: every variant is the default's similarity
            return {**row, **dict.fromkeys(HALVES + FUSIONS, row["hybrid (default)"])}
        zs = zscore(ranker.semantic_scores(inp.candidates))
        zl = zscore(ranker.lexical_scores(inp.candidate_texts))
        held_semantic, held_lexical, labels = held
        auc = roc_auc_score(labels, held_semantic), roc_auc_score(labels, held_lexical)
        ap = average_precision_score(labels, held_semantic), average_precision_score(labels, held_lexical)
        base = labels.mean()

        others = other_fusions(inp, ranker)

        def weighted(a: float, b: float) -> np.ndarray:
            a, b = max(a, 0.01), max(b, 0.01)
            return 2 * (a * zs + b * zl) / (a + b)

        return {
            **row,
            "semantic half": zs,
            "lexical half": zl,
            "weighted by AUC": weighted(auc[0] - 0.5, auc[1] - 0.5),
            "weighted by AP": weighted(ap[0] - base, ap[1] - base),
            "better half by AUC": zs if auc[0] > auc[1] + 0.02 else zl if auc[1] > auc[0] + 0.02 else zs + zl,
            **others,
            "guard old -> terms only raise": others["lexical: terms only raise"]
            if RULES["old"](case, inp)
            else row["hybrid (default)"],
        }

    names = ("centroid", "tfidf-svm", "hybrid (default)", *HALVES, *FUSIONS)
    return {name: (lambda case, name=name: parts(case)[name]) for name in names}


def centred_by_era(inp: ScoringInput, era_vectors: np.ndarray) -> ScoringInput:
    """The likes centred on their era's mean (a sample of its listings) and the day's papers on the day's mean,
    each row unit length again: the semantic learner then sees topic, not the era's common direction."""
    if not len(era_vectors):
        return replace(inp, ranker=None)

    def centre(vectors: np.ndarray, mean: np.ndarray) -> np.ndarray:
        moved = vectors - mean
        return moved / np.maximum(np.linalg.norm(moved, axis=1, keepdims=True), 1e-12)

    day_mean = inp.candidates.mean(axis=0)
    profile = replace(inp.profile, liked=centre(inp.profile.liked, era_vectors.mean(axis=0)))
    negatives = centre(inp.negatives, day_mean) if len(inp.negatives) else inp.negatives
    return replace(inp, profile=profile, candidates=centre(inp.candidates, day_mean), negatives=negatives, ranker=None)


SHIFT = 3.0  # a term whose share of documents differs this many times between the likes' era and the day


def era_discounted(
    inp: ScoringInput, era_texts: list[str], semantic: np.ndarray, shift: float | None = SHIFT
) -> np.ndarray:
    """The hybrid with its lexical half blind to terms whose document share shifted sharply between the likes' era
    (the era sample) and the day: z(semantic) + z(lexical SVM on TF-IDF with those columns zeroed). `shift` None
    drops nothing: the default rebuilt, a check on the rebuild."""
    from sklearn.svm import LinearSVC

    from recommender.rank.lexical import fit_tfidf

    _, negative_texts = inp.negative_pool()
    liked_texts = list(inp.profile.liked_texts)
    if not era_texts or len(liked_texts) < 5 or len(negative_texts) < 5:
        return zscore(semantic)
    texts = liked_texts + list(negative_texts)
    space, matrix = fit_tfidf(texts)

    def share(sample: list[str]) -> np.ndarray:
        present = np.zeros(len(space.terms))
        for columns, _ in space.rows(sample):
            present[columns] += 1
        return (present + 1) / (len(sample) + 2)

    ratio = share(era_texts) / share(list(inp.candidate_texts))
    keep = np.ones(len(ratio)) if shift is None else ((ratio < shift) & (ratio > 1 / shift)).astype(np.float64)
    labels = np.r_[np.ones(len(liked_texts)), np.zeros(len(negative_texts))]
    model = LinearSVC(C=0.1, class_weight="balanced", random_state=0).fit(matrix.multiply(keep).tocsr(), labels)
    lexical = space.project(list(inp.candidate_texts), model.coef_.ravel() * keep)[:, 0]
    return zscore(semantic) + zscore(lexical)


ERA_DAYS = 20  # listing days sampled across the likes' span, for their era's negatives


def negative_policies(bench) -> dict:
    """The hybrid (and arxiv-sanity's SVM) trained against the day's papers, against papers of the listing days
    before it (MAX_NEGATIVES sampled, known likes left out, as arxiv-sanity trains), or against both."""
    default = strategy_scorer("hybrid")

    def earlier(case: EvalCase) -> tuple[list, np.ndarray]:
        known = {p.arxiv_id for p in case.profile}
        papers = sampled([p for p in bench.history(case.day, HISTORY_DAYS) if p.arxiv_id not in known], case)
        return papers, case.embedder.embed_papers(papers)

    def era(case: EvalCase) -> tuple[list, np.ndarray]:
        """MAX_NEGATIVES papers sampled from the listing days the likes span (known likes left out)."""
        known = {p.arxiv_id for p in case.profile}
        dated = [p.date for p in case.profile if p.date is not None]
        days = [d for d in bench.days if dated and min(dated) <= d <= max(dated) and d < case.day]
        days = [days[round(i)] for i in np.linspace(0, len(days) - 1, min(ERA_DAYS, len(days)))] if days else []
        papers = [p for d in dict.fromkeys(days) for p in bench.candidates(d) if p.arxiv_id not in known]
        papers = sampled(papers, case, "era|")
        return papers, case.embedder.embed_papers(papers) if papers else np.zeros((0, case.candidate_vectors.shape[1]))

    @per_case
    def parts(case: EvalCase) -> dict[str, np.ndarray]:
        scored = default(case)
        inp = scored.inputs
        era_papers, era_vectors = era(case)
        era_texts = [p.text for p in era_papers]
        era_negatives = np.vstack([inp.negatives, era_vectors])
        with_era = replace(inp, negatives=era_negatives, negative_texts=[*inp.negative_texts, *era_texts], ranker=None)
        semantic = (inp.ranker or fit_hybrid(inp)).semantic_scores(inp.candidates)
        papers, vectors = earlier(case)
        texts = [p.text for p in papers]
        before = replace(inp, negatives=vectors, negative_texts=texts, ranker=None)
        both_negatives = np.vstack([inp.negatives, vectors])
        both = replace(inp, negatives=both_negatives, negative_texts=[*inp.negative_texts, *texts], ranker=None)
        return {
            "centroid": centroid(inp),
            "tfidf": tfidf(inp),
            "tfidf-svm": tfidf_svm(as_listed(inp)),
            "tfidf-svm, earlier days": tfidf_svm(before),
            "hybrid (default)": np.asarray(scored.scores, dtype=np.float64),
            "hybrid, earlier days": hybrid_scores(before)[0],
            "hybrid, day + earlier days": hybrid_scores(both)[0],
            "hybrid, day + likes' era": hybrid_scores(with_era)[0],
            "hybrid, each era centred": hybrid_scores(centred_by_era(inp, era_vectors))[0],
            "hybrid, era-shifted terms dropped": era_discounted(inp, era_texts, semantic),
            "hybrid, rebuilt (check)": era_discounted(inp, era_texts, semantic, shift=None),
        }

    names = ("centroid", "tfidf", "tfidf-svm", "tfidf-svm, earlier days", "hybrid (default)")
    names += ("hybrid, earlier days", "hybrid, day + earlier days", "hybrid, day + likes' era")
    names += ("hybrid, each era centred", "hybrid, era-shifted terms dropped", "hybrid, rebuilt (check)")
    return {name: (lambda case, name=name: parts(case)[name]) for name in names}


VOTE_COUNTS = (3, 5)
VOTE_HALF_LIVES = (180.0, 365.0, 730.0, None)  # None: every like counts alike
RECENT_VOTE_DAYS = 90  # the recent likes: list papers known before the day and dated this many days before it, or fewer


def _vote_label(count: int, half_life: float | None) -> str:
    return f"+{count} recent likes, half-life {int(half_life) if half_life else 'none'}"


def recent_votes(bench, library: bool = False) -> dict:
    """The aged profile, then with the list's 3 or 5 newest papers of the 90 days before the day liked (the votes
    the old-likes sentence asks for), the hybrid at several recency half-lives and the centroid."""
    from datetime import timedelta

    @per_case
    def parts(case: EvalCase) -> dict[str, np.ndarray]:
        def scores(profile, strategy: str = "hybrid") -> np.ndarray:
            return np.asarray(product_scores(case, profile, strategy).scores, dtype=np.float64)

        aged = product_scores(case, case.user_profile(), "hybrid")
        row = {
            "hybrid (default)": np.asarray(aged.scores, dtype=np.float64),
            "centroid": scores(case.user_profile(), "centroid"),
            "tfidf-svm": tfidf_svm(as_listed(aged.inputs)),
        }
        known = {p.arxiv_id for p in case.profile}
        since = case.day - timedelta(days=RECENT_VOTE_DAYS)
        fresh = bench.profile(case.list_name, case.day, library=library)
        recent = [p for p in fresh if p.date and since <= p.date < case.day and p.arxiv_id not in known]
        for count in VOTE_COUNTS:
            papers = (*case.profile, *recent[-count:])
            for half_life in VOTE_HALF_LIVES:
                # 1e9 days: no decay, since a profile's None means the default half-life
                profile = replace(case.user_profile(papers), half_life_days=half_life or 1e9)
                row[_vote_label(count, half_life)] = scores(profile)
            row[f"+{count} recent likes, centroid"] = scores(case.user_profile(papers), "centroid")
        return row

    names = ["hybrid (default)", "centroid", "tfidf-svm"] + [
        label
        for count in VOTE_COUNTS
        for label in [*(_vote_label(count, h) for h in VOTE_HALF_LIVES), f"+{count} recent likes, centroid"]
    ]
    return {name: (lambda case, name=name: parts(case)[name]) for name in names}


def half_stability(result, resamples: int = 1000) -> list[str]:
    """How stable each list's better half is over its days: the split-half agreement, and the expected count of lists
    where the default is > 0.03 below its better half when each list's days are drawn again (seeded)."""
    days: dict[str, dict[str, dict[str, float]]] = {}
    for row in result.rows:
        days.setdefault(row["list"], {}).setdefault(row["scorer"], {})[str(row["day"])] = row["ndcg@10"]
    agree = counted = 0
    expected = 0.0
    rng = np.random.default_rng(0)
    for scores in days.values():
        order = sorted(scores["hybrid (default)"])
        hybrid, semantic, lexical = (
            np.array([scores[s][d] for d in order]) for s in ("hybrid (default)", "semantic half", "lexical half")
        )
        k = len(order) // 2
        if k >= 2:
            first, second = np.sign((lexical - semantic)[:k].mean()), np.sign((lexical - semantic)[k:].mean())
            if first and second:
                counted += 1
                agree += first == second
        draws = rng.integers(0, len(order), (resamples, len(order)))
        better = np.maximum(semantic[draws].mean(axis=1), lexical[draws].mean(axis=1))
        expected += float(np.mean(hybrid[draws].mean(axis=1) < better - 0.03))
    return [
        "how stable the better half is",
        f"  the half better on a list's first half of days is also better on its second half on {agree} of {counted}"
        " lists (where neither half is level)",
        f"  the default, its days drawn again ({resamples} times per list): > 0.03 below its better half on"
        f" {expected:.1f} of {len(days)} lists, expected",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=Path("../shared/bench"))
    parser.add_argument("--days", type=int, default=6)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--gap", type=int, default=0, help="profile gap in days (an aged library)")
    parser.add_argument("--fresh-profiles", action="store_true", help="the gap's pairs, with fresh profiles")
    parser.add_argument("--library", action="store_true", help="profiles also hold list papers in no listing, titles")
    parser.add_argument("--titles-only", action="store_true", help="profile papers by their titles alone")
    parser.add_argument("--negatives", action="store_true", help="compare negative policies instead")
    parser.add_argument("--halves", action="store_true", help="compare the hybrid with its halves instead")
    parser.add_argument("--votes", action="store_true", help="the aged profile plus 3 or 5 recent likes instead")
    parser.add_argument("--list", action="append", dest="lists", help="only this list (repeat); default: all")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    bench = load_bench(args.bench)
    if args.titles_only:  # every like as a library without abstracts holds it
        built = bench.profile
        bench.profile = lambda *a, **k: tuple(replace(p, abstract="") for p in built(*a, **k))  # type: ignore[method-assign]
    result = evaluate(
        bench,
        negative_policies(bench)
        if args.negatives
        else halves()
        if args.halves
        else recent_votes(bench, args.library)
        if args.votes
        else scorers(),
        open_embedder(),
        days=args.days,
        lists=args.lists,
        limit=args.limit,
        profile_gap_days=args.gap,
        fresh_profiles=args.fresh_profiles,
        library=args.library,
        progress=sys.stderr.isatty(),
    )
    lines = [result.format_table(baseline="hybrid (default)")]
    per_list = {s: result.per_list(s) for s in result.scorers}
    lines.append("lists where each is below centroid, and its worst list against the better of centroid and tfidf-svm")
    for name in result.scorers:
        if "knn" not in result.scorers and name == "knn":
            continue
        below = sum(per_list[name][n]["ndcg@10"] < per_list["centroid"][n]["ndcg@10"] for n in result.lists)
        worst = min(
            per_list[name][n]["ndcg@10"] - max(per_list["centroid"][n]["ndcg@10"], per_list["tfidf-svm"][n]["ndcg@10"])
            for n in result.lists
        )
        d = result.compare(name, "tfidf-svm") if name != "tfidf-svm" else None
        vs = f"  vs tfidf-svm {d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]" if d else ""
        lines.append(f"  {name:<40} below centroid on {below:>2}  worst {worst:+.3f}{vs}")
    if args.halves:
        lines.append("the hybrid against the better of its halves, per list (target: never below by more than 0.03)")
        for name in ("hybrid (default)", *HALVES[2:], *FUSIONS):
            gaps = [
                per_list[name][n]["ndcg@10"] - max(per_list[h][n]["ndcg@10"] for h in ("semantic half", "lexical half"))
                for n in result.lists
            ]
            lines.append(
                f"  {name:<24} below by > 0.03 on {sum(g < -0.03 for g in gaps):>2} of {len(gaps)}"
                f"  worst {min(gaps):+.3f}"
            )
        lines.extend(half_stability(result))
    if args.votes:
        lines.append("each half-life against the default's (180 days), with the same recent likes")
        for count in VOTE_COUNTS:
            for half_life in VOTE_HALF_LIVES[1:]:
                d = result.compare(_vote_label(count, half_life), _vote_label(count, 180.0))
                lines.append(
                    f"  {_vote_label(count, half_life):<40} {d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"
                )
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"aging{'_library' if args.library else ''}_gap{args.gap}{'_fresh' if args.fresh_profiles else ''}"
    stem += "_negatives" if args.negatives else ""
    stem += "_titles" if args.titles_only else ""
    stem += "_halves" if args.halves else ""
    stem += "_votes" if args.votes else ""
    stem += f"_days{args.days}" + ("_lists" + str(len(args.lists)) if args.lists else "")
    (args.out / f"{stem}.txt").write_text(text)
    (args.out / f"{stem}.json").write_text(json.dumps(result.to_json(), indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
