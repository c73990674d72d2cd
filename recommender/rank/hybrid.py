"""The hybrid, the default strategy: a semantic and a lexical linear model (HybridRanker), fused on a common scale.

Semantic: logistic regression on the embeddings. Lexical: a linear SVM on TF-IDF of title + abstract, so a
rare exact term (a dataset, an acronym) counts. Both learn likes against negatives (dislikes and papers
shown but not liked); their decision values are z-scored over the candidates and added. Five-fold
cross-validation keeps each like's held-out margins: they calibrate `match`. When the likes are old (the rule by which
paperrec tells the user so), the lexical half only raises papers: a term old likes never wrote, such as the day's
era's "LLM", cannot count against a paper. The fitted state is plain arrays,
stored as one .npz per profile, so a warm `rank` scores with numpy alone. A profile too small to learn from gets
similarity instead (knn and TF-IDF, fused the same way).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..paths import atomic_write_bytes
from .lexical import TfidfSpace, fit_tfidf
from .strategies import (
    MIN_CLASSIFIER_NEGATIVES,
    MIN_CLASSIFIER_POSITIVES,
    ScoringInput,
    Strategy,
    knn,
    tfidf,
    zscore,
)

FOLDS = 5


def stratified_folds(labels: np.ndarray, k: int = FOLDS, seed: int = 0) -> list[np.ndarray]:
    """k folds, each holding about 1/k of the positives and of the negatives (seeded)."""
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[] for _ in range(k)]
    for value in (1, 0):
        rows = rng.permutation(np.flatnonzero(labels == value))
        for i, row in enumerate(rows):
            parts[i % k].append(int(row))
    return [np.array(sorted(p), dtype=np.int64) for p in parts if p]


FORMAT = 7  # bump when what is fitted or how it is stored changes, so stored models are refitted


class HybridRanker:
    """Likes against negatives, learned twice: on embeddings (logistic regression) and on TF-IDF (linear SVM)."""

    def __init__(self, semantic_c: float = 1.0, lexical_c: float = 0.1, folds: int = FOLDS, weigh_lexical: bool = True):
        self.semantic_c = semantic_c
        self.lexical_c = lexical_c
        self.folds = folds
        self.weigh_lexical = weigh_lexical

    def fit(
        self, vectors: np.ndarray, texts: Sequence[str], labels: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> HybridRanker:
        """Fit both models on row-aligned unit vectors (n_samples, dim), texts, 0/1 labels and per-row weights."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import LinearSVC

        labels = np.asarray(labels, dtype=np.float64)

        def semantic_model(rows: np.ndarray) -> LogisticRegression:
            weights = None if sample_weight is None else np.asarray(sample_weight)[rows]
            model = LogisticRegression(C=self.semantic_c, class_weight="balanced", max_iter=1000)
            return model.fit(vectors[rows], labels[rows], sample_weight=weights)

        def lexical_model(rows: np.ndarray) -> LinearSVC:
            weights = None if sample_weight is None or not self.weigh_lexical else np.asarray(sample_weight)[rows]
            model = LinearSVC(C=self.lexical_c, class_weight="balanced", random_state=0)
            return model.fit(matrix[rows], labels[rows], sample_weight=weights)

        every = np.arange(len(labels))
        self.space_, matrix = fit_tfidf(texts)
        semantic = semantic_model(every)
        self.semantic_coef_ = semantic.coef_.ravel().astype(np.float64)  # (dim,)
        self.semantic_intercept_ = float(semantic.intercept_[0])
        lexical = lexical_model(every)
        self.lexical_coef_ = lexical.coef_.ravel().astype(np.float64)  # (n_terms,)
        self.lexical_intercept_ = float(lexical.intercept_[0])
        # Held-out margins of every training row: each fold is scored by models fitted without it.
        held_semantic, held_lexical = np.zeros(len(labels)), np.zeros(len(labels))
        held_raising = np.zeros(len(labels))
        parts = stratified_folds(labels, self.folds) if min(labels.sum(), (1 - labels).sum()) >= self.folds else []
        for part in parts:
            rest = np.setdiff1d(every, part)
            held_semantic[part] = semantic_model(rest).decision_function(vectors[part])
            fold = lexical_model(rest)
            held_lexical[part] = fold.decision_function(matrix[part])
            held_raising[part] = matrix[part] @ np.clip(fold.coef_.ravel(), 0.0, None) + fold.intercept_[0]
        liked = labels == 1
        self.cv_semantic_, self.cv_lexical_ = held_semantic[liked], held_lexical[liked]  # (n_liked,)
        self.cv_raising_ = held_raising[liked]  # the lexical half's held-out margins when it only raises
        return self

    def semantic_scores(self, vectors: np.ndarray) -> np.ndarray:
        """Logistic-regression decision values of the vectors, (n,)."""
        return vectors @ self.semantic_coef_ + self.semantic_intercept_

    def lexical_scores(self, texts: Sequence[str], raise_only: bool = False) -> np.ndarray:
        """SVM decision values of the texts' TF-IDF rows, (n,); with raise_only, its negative term weights left out."""
        coef = np.clip(self.lexical_coef_, 0.0, None) if raise_only else self.lexical_coef_
        return self.space_.project(texts, coef)[:, 0] + self.lexical_intercept_

    def decision_function(self, vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """The fused score of each candidate: z(semantic) + z(lexical) over the candidates given."""
        return self.fuse(self.semantic_scores(vectors), self.lexical_scores(texts))[0]

    def fuse(
        self, semantic: np.ndarray, lexical: np.ndarray, raise_only: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Fused scores of the candidates' margins, and the likes' held-out margins on the same (candidates') scale
        (raise_only: the lexical margins were scored without negative term weights)."""

        def scale(values: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            center, spread = values.mean(), values.std()
            # Equal values (no candidate has a term that raises it) leave a spread of rounding error, about 1e-17.
            # Divided by it, the likes' held-out margins would reach 1e16 and flatten every match.
            if spread <= 1e-9 * max(abs(center), 1.0):
                spread = 1.0
            return (values - center) / spread, (held - center) / spread

        z_semantic, held_semantic = scale(semantic, self.cv_semantic_)
        z_lexical, held_lexical = scale(lexical, self.cv_raising_ if raise_only else self.cv_lexical_)
        return z_semantic + z_lexical, held_semantic + held_lexical

    def top_terms(self, texts: Sequence[str], n: int = 5) -> list[tuple[str, ...]]:
        """For each text, the terms that raised its lexical score most."""
        result = []
        for columns, values in self.space_.rows(texts):
            weights = values * self.lexical_coef_[columns]
            best = [j for j in np.argsort(-weights)[:n] if weights[j] > 0]
            result.append(tuple(self.space_.terms[columns[j]] for j in best))
        return result

    def save(self, path: Path, key: str) -> None:
        """Store the fitted state with the key of what it was fitted on (atomically)."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            key=np.array(key),
            format=np.array(FORMAT),
            params=np.array([self.semantic_c, self.lexical_c]),
            cv_semantic=self.cv_semantic_,
            cv_lexical=self.cv_lexical_,
            cv_raising=self.cv_raising_,
            semantic_coef=self.semantic_coef_,
            intercepts=np.array([self.semantic_intercept_, self.lexical_intercept_]),
            lexical_coef=self.lexical_coef_,
            **self.space_.to_arrays(),
        )
        atomic_write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: Path, key: str) -> HybridRanker | None:
        """The ranker stored at path if it was fitted on `key` (else None: refit)."""
        try:
            with np.load(path, allow_pickle=False) as stored:
                if str(stored["key"]) != key or int(stored["format"]) != FORMAT:
                    return None
                arrays = {name: stored[name] for name in stored.files}
            ranker = cls(*map(float, arrays["params"]))
            ranker.cv_semantic_ = np.asarray(arrays["cv_semantic"], dtype=np.float64)
            ranker.cv_lexical_ = np.asarray(arrays["cv_lexical"], dtype=np.float64)
            ranker.cv_raising_ = np.asarray(arrays["cv_raising"], dtype=np.float64)
            ranker.semantic_coef_ = np.asarray(arrays["semantic_coef"], dtype=np.float64)
            ranker.semantic_intercept_, ranker.lexical_intercept_ = map(float, arrays["intercepts"])
            ranker.lexical_coef_ = np.asarray(arrays["lexical_coef"], dtype=np.float64)
            ranker.space_ = TfidfSpace.from_arrays(arrays)
        except Exception:  # missing, truncated or corrupt (zip, npy or field errors alike): it is only a cache
            return None
        n_terms = len(ranker.space_.terms)
        consistent = ranker.lexical_coef_.shape == (n_terms,) and ranker.space_.idf.shape == (n_terms,)
        finite = all(np.isfinite(a).all() for a in (ranker.semantic_coef_, ranker.lexical_coef_, ranker.space_.idf))
        consistent = consistent and ranker.cv_semantic_.shape == ranker.cv_lexical_.shape == ranker.cv_raising_.shape
        if not (consistent and finite and ranker.semantic_coef_.ndim == 1):
            return None
        return ranker


def training_key(*parts: object) -> str:
    """A content hash of what a ranker is fitted on (texts, weights, model key)."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            digest.update(np.round(part.astype(np.float64), 4).tobytes())
        else:
            digest.update(repr(part).encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class HybridConfig:
    """The hybrid's settings; one set for every profile (the bench measures each against the default)."""

    semantic_c: float = 1.0
    lexical_c: float = 0.1
    # Likes teach the learners half as much every this many days of age, unless the profile sets half_life_days:
    # measured on the bench, +0.009 nDCG@10 [+0.000, +0.023] over equal weights.
    half_life_days: float | None = 180.0
    # The lexical half learns from the same weights as the semantic half (a like's own weight and its age): measured
    # on the bench, +0.010 nDCG@10 [+0.000, +0.031] on aged profiles and +0.004 fresh over an unweighted SVM.
    weigh_lexical: bool = True
    # When the likes are old (profile.likes_age), the lexical half's negative term weights are left out: terms of the
    # day's era that old likes never wrote cannot push a paper down. Measured (benchmarks/aging_study.py --halves,
    # benchmarks/cross_era.py --halves): +0.041 nDCG@10 [+0.009, +0.085] on five-year-old likes with abstracts,
    # +0.029 and +0.011 on library profiles at 540 and 180 days, +0.004 and -0.011 on listing profiles aged 180 and
    # 365 days; fresh profiles unchanged.
    raise_only_when_old: bool = True


DEFAULT_HYBRID = HybridConfig()


def fit_hybrid(inp: ScoringInput, config: HybridConfig = DEFAULT_HYBRID) -> HybridRanker | None:
    """Fit the hybrid ranker on likes against dislikes and implicit negatives; None when there are too few."""
    negatives, negative_texts = inp.negative_pool()
    if len(inp.liked) < MIN_CLASSIFIER_POSITIVES or len(negatives) < MIN_CLASSIFIER_NEGATIVES:
        return None
    labels = np.r_[np.ones(len(inp.liked)), np.zeros(len(negatives))]
    weights = np.r_[inp.liked_weights(inp.half_life_days or config.half_life_days), np.ones(len(negatives))]
    texts = list(inp.profile.liked_texts) + list(negative_texts)
    ranker = HybridRanker(config.semantic_c, config.lexical_c, weigh_lexical=config.weigh_lexical)
    return ranker.fit(np.vstack([inp.liked, negatives]), texts, labels, sample_weight=weights)


def hybrid_scores(inp: ScoringInput, config: HybridConfig = DEFAULT_HYBRID) -> tuple[np.ndarray, np.ndarray | None]:
    """The hybrid's scores of the candidates and the held-out scores of the likes on the same scale, in one pass
    (None: no learned model, so no held-out scores kept).

    With too few likes or negatives to learn from, semantic (knn) and lexical (TF-IDF) similarity are fused instead.
    """
    ranker = inp.ranker or fit_hybrid(inp, config)
    if ranker is None:
        return zscore(knn(inp)) + zscore(tfidf(inp)), None
    raise_only = inp.likes_old and config.raise_only_when_old
    lexical = ranker.lexical_scores(inp.candidate_texts, raise_only)
    return ranker.fuse(ranker.semantic_scores(inp.candidates), lexical, raise_only)


def hybrid_strategy(config: HybridConfig, name: str = "hybrid") -> Strategy:
    """The hybrid strategy with these settings (the registry's `hybrid` uses DEFAULT_HYBRID)."""
    return Strategy(
        name,
        lambda inp: hybrid_scores(inp, config)[0],
        "learned semantic + lexical models, fused (the default)",
        uses_negatives=True,
        standardised=True,
        lexical=True,
        fit=lambda inp: fit_hybrid(inp, config),
        load=HybridRanker.load,
        score_with_held_out=lambda inp: hybrid_scores(inp, config),
    )
