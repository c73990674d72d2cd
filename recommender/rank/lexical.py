"""TF-IDF over title + abstract: counted here, weighted by scikit-learn, applied to new papers with numpy alone.

The fit gives what scikit-learn's TfidfVectorizer gives, bit for bit, in less time. A fitted space is kept as
plain arrays (vocabulary, idf, stop words) so a warm `rank` scores a listing without importing scikit-learn;
`TfidfSpace.project` reproduces `TfidfVectorizer.transform` exactly.
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
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfTransformer

    terms, counts = count_ngrams(texts, ENGLISH_STOP_WORDS)
    transformer = TfidfTransformer(sublinear_tf=True)  # smooth idf and l2 rows, as TfidfVectorizer's defaults
    matrix = transformer.fit(counts).transform(counts, copy=False)
    space = TfidfSpace(terms=tuple(terms), idf=transformer.idf_.astype(np.float64), stop_words=ENGLISH_STOP_WORDS)
    return space, matrix, {text: row for row, text in enumerate(texts)}


# CountVectorizer(ngram_range=(1, 2), stop_words="english", token_pattern=TOKEN).fit_transform, bit for bit: the
# whole fit takes 0.63x the time at 8,000 likes, 0.52x at 1,000 (benchmarks/tfidf_fit.py). CountVectorizer spends
# most of its time on a Python dict of every 1-2-gram string and on sorting those strings. Here a term is an integer
# code built from its words' places in the sorted word list, so sorting the codes sorts the terms. That holds because
# a space, which joins a bigram's words, sorts before every character a token can hold.
def count_ngrams(texts: Sequence[str], stop_words: frozenset[str]) -> tuple[list[str], Any]:
    """The texts' 1-2-gram counts as CountVectorizer gives them: the sorted terms and a (n_texts, n_terms) matrix."""
    docs = [[t for t in TOKEN.findall(text.lower()) if t not in stop_words] for text in texts]
    words = sorted(set(itertools.chain.from_iterable(docs)))
    if not words:
        raise ValueError("empty vocabulary; perhaps the documents only contain stop words")  # scikit-learn's error
    codes, bounds = _ngram_codes(docs, words)
    per_text = [Counter(codes[start:end]) for start, end in itertools.pairwise(bounds)]  # first-seen order
    sizes = np.fromiter(map(len, per_text), dtype=np.int64, count=len(per_text))
    entry_codes = np.fromiter(itertools.chain.from_iterable(per_text), dtype=np.int64, count=int(sizes.sum()))
    values = np.fromiter(
        itertools.chain.from_iterable(c.values() for c in per_text), dtype=np.int64, count=len(entry_codes)
    )
    return count_matrix(entry_codes, values, sizes, words)


def count_matrix(codes: np.ndarray, values: np.ndarray, sizes: np.ndarray, words: list[str]) -> tuple[list[str], Any]:
    """The sorted terms and the (n_texts, n_terms) count matrix of each text's term codes and counts (as
    `_ngram_codes` makes them, in the order the text first has them; `sizes`: how many terms each text has)."""
    import scipy.sparse as sp

    index_dtype = np.int32 if len(codes) <= np.iinfo(np.int32).max else np.int64  # as CountVectorizer chooses
    # Columns: a term's place among the sorted codes. A stable sort also finds each term's first entry.
    by_code = np.argsort(codes, kind="stable")
    sorted_codes = codes[by_code]
    starts_term = np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]
    column = np.empty(len(codes), dtype=index_dtype)
    column[by_code] = np.cumsum(starts_term) - 1
    first_entry = by_code[starts_term]  # (n_terms,) in column order
    # CountVectorizer keeps each row's entries in the order their terms first appear in the whole corpus. The l2
    # norm and liblinear sum a row in that order, so the same order keeps every bit of the scores.
    is_first = np.zeros(len(codes), dtype=bool)
    is_first[first_entry] = True
    arrival = (np.cumsum(is_first) - 1)[first_entry].astype(index_dtype)  # (n_terms,) in column order
    column_of_arrival = np.empty(len(first_entry), dtype=index_dtype)
    column_of_arrival[arrival] = np.arange(len(first_entry), dtype=index_dtype)
    indptr = np.zeros(len(sizes) + 1, dtype=index_dtype)
    np.cumsum(sizes, out=indptr[1:])
    counts = sp.csr_array((values.astype(np.float64), arrival[column], indptr), shape=(len(sizes), len(first_entry)))
    counts.sort_indices()
    counts.indices = column_of_arrival.take(counts.indices)
    heads, tails = np.divmod(sorted_codes[starts_term], len(words) + 1)
    terms = [
        words[h] if t == 0 else f"{words[h]} {words[t - 1]}"
        for h, t in zip(heads.tolist(), tails.tolist(), strict=True)
    ]
    return terms, counts


def _ngram_codes(docs: list[list[str]], words: list[str]) -> tuple[list[int], list[int]]:
    """Each text's terms as codes, in the analyzer's order (its unigrams, then its bigrams), and each text's bounds.

    A unigram w is w * (n_words + 1); a bigram (a, b) is a * (n_words + 1) + 1 + b (w, a, b: places in `words`).
    """
    place = dict(zip(words, range(len(words)), strict=True))
    lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))  # (n_texts,)
    n_tokens = int(lengths.sum())
    tokens = np.fromiter(map(place.__getitem__, itertools.chain.from_iterable(docs)), dtype=np.int64, count=n_tokens)
    token_start = np.cumsum(lengths) - lengths
    bounds = np.r_[0, np.cumsum(2 * lengths - (lengths > 0))]  # n unigrams and n - 1 bigrams a text
    shift = np.repeat(bounds[:-1] - token_start, lengths)  # (n_tokens,) from a token's place to its unigram's
    codes = np.empty(int(bounds[-1]), dtype=np.int64)
    codes[np.arange(n_tokens) + shift] = tokens * (len(words) + 1)
    has_next = np.ones(n_tokens, dtype=bool)
    has_next[(token_start + lengths - 1)[lengths > 0]] = False  # a text's last token starts no bigram
    at = np.flatnonzero(has_next)
    codes[at + shift[at] + np.repeat(lengths, lengths)[at]] = tokens[at] * (len(words) + 1) + 1 + tokens[at + 1]
    return codes.tolist(), bounds.tolist()
