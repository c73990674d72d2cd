"""TF-IDF over title + abstract: fitted with scikit-learn, applied to new papers with numpy alone.

A fitted space is kept as plain arrays (vocabulary, idf, stop words) so a warm `rank` scores a listing
without importing scikit-learn; `TfidfSpace.project` reproduces `TfidfVectorizer.transform` exactly.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# scikit-learn's default token pattern: words of two or more word characters.
TOKEN = re.compile(r"(?u)\b\w\w+\b")
NGRAMS = (1, 2)


@dataclass(frozen=True)
class TfidfSpace:
    """A fitted TF-IDF vocabulary (1-2-grams, English stop words removed, sublinear tf, l2 rows)."""

    terms: tuple[str, ...]  # column order
    idf: np.ndarray  # (n_terms,)
    stop_words: frozenset[str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", dict(zip(self.terms, range(len(self.terms)), strict=True)))

    def ngrams(self, text: str) -> list[str]:
        """The 1- and 2-grams of a text, as TfidfVectorizer analyses it."""
        return list(_ngrams(text, self.stop_words))

    def rows(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each text's TF-IDF row as (columns, values), l2-normalised; terms outside the vocabulary are dropped."""
        index: dict[str, int] = self._index  # type: ignore[attr-defined]
        result = []
        for text in texts:
            counts = Counter(map(index.get, _ngrams(text, self.stop_words)))
            counts.pop(None, None)  # terms outside the vocabulary
            columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            values = (1.0 + np.log(tf)) * self.idf[columns]  # sublinear tf
            norm = np.linalg.norm(values)
            result.append((columns, values / norm if norm else values))
        return result

    def project(self, texts: Sequence[str], weights: np.ndarray) -> np.ndarray:
        """TF-IDF rows of the texts times a (n_terms, m) weight matrix: (n_texts, m), without building the rows."""
        weights = weights.reshape(len(self.terms), -1)
        out = np.zeros((len(texts), weights.shape[1]), dtype=np.float64)
        for row, (columns, values) in enumerate(self.rows(texts)):
            out[row] = values @ weights[columns]
        return out

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The space as arrays for an .npz file."""
        return {
            "tfidf_terms": _utf8("\n".join(self.terms)),
            "tfidf_idf": self.idf,
            "tfidf_stop_words": _utf8("\n".join(sorted(self.stop_words))),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> TfidfSpace:
        """The space stored by `to_arrays`."""
        return cls(
            terms=tuple(_text(arrays["tfidf_terms"]).split("\n")),
            idf=np.asarray(arrays["tfidf_idf"], dtype=np.float64),
            stop_words=frozenset(_text(arrays["tfidf_stop_words"]).split("\n")),
        )


# Terms are kept as one UTF-8 string in bytes: no pickled objects in the file, and a quarter of the size of numpy's
# own (four-byte) strings. A big profile's vocabulary is hundreds of thousands of 1-2-grams, written at each vote.
def _utf8(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _text(array: np.ndarray) -> str:
    if array.dtype != np.uint8:
        raise ValueError("not a UTF-8 text array")
    return array.tobytes().decode("utf-8")


# Every profile scores the same day's texts through its own vocabulary: the analysis is shared (a lab's morning
# projects one day for dozens of profiles). Bounded: a day or two of candidates.
@functools.lru_cache(maxsize=2048)
def _ngrams(text: str, stop_words: frozenset[str]) -> tuple[str, ...]:
    tokens = [t for t in TOKEN.findall(text.lower()) if t not in stop_words]
    return (*tokens, *(f"{a} {b}" for a, b in itertools.pairwise(tokens)))


def fit_tfidf(texts: Sequence[str]):
    """Fit TF-IDF on texts; returns the space and the texts' sparse (n_texts, n_terms) matrix."""
    texts = list(texts)
    space, matrix, row_of = _fit_distinct(tuple(sorted(texts)))
    return space, matrix[[row_of[text] for text in texts]]


# A vote moves one paper between the likes and the day's negatives: the same texts, so the same space (unless the
# share of likes without an abstract changes which negatives are shown by title: rank/negatives.py). The fit
# depends only on which texts there are (the vocabulary is sorted, idf counts documents), not on their order; only
# the order of the entries within a row's sum can differ from a fit in the given order (rounding, ~1e-17).
@functools.lru_cache(maxsize=4)
def _fit_distinct(texts: tuple[str, ...]) -> tuple[TfidfSpace, Any, dict[str, int]]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        ngram_range=NGRAMS, sublinear_tf=True, stop_words="english", token_pattern=TOKEN.pattern
    )
    matrix = vectorizer.fit_transform(list(texts))
    vocabulary: dict[str, int] = vectorizer.vocabulary_
    terms = [""] * len(vocabulary)
    for term, column in vocabulary.items():
        terms[column] = term
    space = TfidfSpace(
        terms=tuple(terms), idf=vectorizer.idf_.astype(np.float64), stop_words=frozenset(vectorizer.get_stop_words())
    )
    return space, matrix, {text: row for row, text in enumerate(texts)}
