"""HybridRanker, the default strategy's learner: a semantic and a lexical linear model, fused on a common scale.

Semantic: logistic regression on the embeddings. Lexical: a linear SVM on TF-IDF of title + abstract, so a
rare exact term (a dataset, an acronym) counts. Both learn likes against negatives (dislikes and papers
shown but not liked); their decision values are z-scored over the candidates and added. The fitted state is
plain arrays, stored as one .npz per profile, so a warm `rank` scores with numpy alone.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..paths import atomic_write_bytes
from .lexical import TfidfSpace, fit_tfidf

FORMAT = 1  # bump when what is fitted changes, so stored models are refitted


def zscore(scores: np.ndarray) -> np.ndarray:
    """Scores on a common scale: zero mean, unit spread over the candidates."""
    spread = scores.std()
    return (scores - scores.mean()) / spread if spread > 0 else scores - scores.mean()


class HybridRanker:
    """Likes against negatives, learned twice: on embeddings (logistic regression) and on TF-IDF (linear SVM)."""

    def __init__(self, semantic_c: float = 1.0, lexical_c: float = 0.1):
        self.semantic_c = semantic_c
        self.lexical_c = lexical_c

    def fit(
        self, vectors: np.ndarray, texts: Sequence[str], labels: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> HybridRanker:
        """Fit both models on row-aligned unit vectors (n_samples, dim), texts and 0/1 labels."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import LinearSVC

        semantic = LogisticRegression(C=self.semantic_c, class_weight="balanced", max_iter=1000)
        semantic.fit(vectors, labels, sample_weight=sample_weight)
        self.semantic_coef_ = semantic.coef_.ravel().astype(np.float64)  # (dim,)
        self.semantic_intercept_ = float(semantic.intercept_[0])
        self.space_, matrix = fit_tfidf(texts)
        lexical = LinearSVC(C=self.lexical_c, class_weight="balanced", random_state=0).fit(matrix, labels)
        self.lexical_coef_ = lexical.coef_.ravel().astype(np.float64)  # (n_terms,)
        self.lexical_intercept_ = float(lexical.intercept_[0])
        return self

    def semantic_scores(self, vectors: np.ndarray) -> np.ndarray:
        """Logistic-regression decision values of the vectors, (n,)."""
        return vectors @ self.semantic_coef_ + self.semantic_intercept_

    def lexical_scores(self, texts: Sequence[str]) -> np.ndarray:
        """SVM decision values of the texts' TF-IDF rows, (n,)."""
        return self.space_.project(texts, self.lexical_coef_)[:, 0] + self.lexical_intercept_

    def decision_function(self, vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """The fused score of each candidate: z(semantic) + z(lexical) over the candidates given."""
        return zscore(self.semantic_scores(vectors)) + zscore(self.lexical_scores(texts))

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
            ranker.semantic_coef_ = np.asarray(arrays["semantic_coef"], dtype=np.float64)
            ranker.semantic_intercept_, ranker.lexical_intercept_ = map(float, arrays["intercepts"])
            ranker.lexical_coef_ = np.asarray(arrays["lexical_coef"], dtype=np.float64)
            ranker.space_ = TfidfSpace.from_arrays(arrays)
        except Exception:  # missing, truncated or corrupt (zip, npy or field errors alike): it is only a cache
            return None
        n_terms = len(ranker.space_.terms)
        consistent = ranker.lexical_coef_.shape == (n_terms,) and ranker.space_.idf.shape == (n_terms,)
        finite = all(np.isfinite(a).all() for a in (ranker.semantic_coef_, ranker.lexical_coef_, ranker.space_.idf))
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
