"""TF-IDF over title + abstract: counted here, weighted by scikit-learn, applied to new papers with numpy alone.

The fit gives what scikit-learn's TfidfVectorizer gives, bit for bit, in less time. A fitted space is kept as
plain arrays (vocabulary, idf, stop words) so a warm `rank` scores a listing without importing scikit-learn;
`TfidfSpace.project` reproduces `TfidfVectorizer.transform` exactly.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..paths import atomic_write_bytes

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


# Where fits keep their texts' analysis between processes; None: nowhere. Only a fit whose ranker is stored keeps
# it (rank/scoring.py), so evaluations and studies, which fit thousands of times, write nothing.
_KEPT: ContextVar[Path | None] = ContextVar("kept_analysis", default=None)


@contextlib.contextmanager
def analysis_kept(path: Path) -> Iterator[None]:
    """Within it, a fit reads the analysed terms of the texts that `path` holds, and leaves its own texts' there."""
    token = _KEPT.set(path)
    try:
        yield
    finally:
        _KEPT.reset(token)


# A vote moves one paper between the likes and the day's negatives: the same texts, so the same space (unless the
# share of likes without an abstract changes which negatives are shown by title: rank/negatives.py). The fit
# depends only on which texts there are (the vocabulary is sorted, idf counts documents), not on their order; only
# the order of the entries within a row's sum can differ from a fit in the given order (rounding, ~1e-17).
@functools.lru_cache(maxsize=4)
def _fit_distinct(texts: tuple[str, ...]) -> tuple[TfidfSpace, Any, dict[str, int]]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfTransformer

    kept = _KEPT.get()  # not part of the cache's key: a fit of the same texts is the same with or without it
    terms, counts = count_ngrams(texts, ENGLISH_STOP_WORDS) if kept is None else _count_kept(texts, kept)
    transformer = TfidfTransformer(sublinear_tf=True)  # smooth idf and l2 rows, as TfidfVectorizer's defaults
    matrix = transformer.fit(counts).transform(counts, copy=False)
    space = TfidfSpace(terms=tuple(terms), idf=transformer.idf_.astype(np.float64), stop_words=ENGLISH_STOP_WORDS)
    return space, matrix, {text: row for row, text in enumerate(texts)}


# CountVectorizer(ngram_range=(1, 2), stop_words="english", token_pattern=TOKEN).fit_transform, bit for bit: the
# whole fit takes about half the time (0.4-0.6x at 1,000 and 8,000 likes: benchmarks/tfidf_fit.py).
# CountVectorizer spends most of its time on a Python dict of every 1-2-gram string and on sorting those strings.
# Here a term is an integer code built from its words' places in the sorted word list, so sorting the codes sorts the
# terms. That holds because a space, which joins a bigram's words, sorts before every character a token can hold.
def count_ngrams(texts: Sequence[str], stop_words: frozenset[str]) -> tuple[list[str], Any]:
    """The texts' 1-2-gram counts as CountVectorizer gives them: the sorted terms and a (n_texts, n_terms) matrix."""
    docs = _tokens(texts, stop_words)
    words = sorted(set(itertools.chain.from_iterable(docs)))
    return count_matrix(*_analyse(docs, words), words)


def _tokens(texts: Sequence[str], stop_words: frozenset[str]) -> list[list[str]]:
    return [[t for t in TOKEN.findall(text.lower()) if t not in stop_words] for text in texts]


def _analyse(docs: list[list[str]], words: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each text's term codes and counts, in the order the text first has them, and how many terms each has."""
    codes, bounds = _ngram_codes(docs, words)
    per_text = [Counter(codes[start:end]) for start, end in itertools.pairwise(bounds)]
    sizes = np.fromiter(map(len, per_text), dtype=np.int64, count=len(per_text))
    entry_codes = np.fromiter(itertools.chain.from_iterable(per_text), dtype=np.int64, count=int(sizes.sum()))
    values = np.fromiter(
        itertools.chain.from_iterable(c.values() for c in per_text), dtype=np.int64, count=len(entry_codes)
    )
    return entry_codes, values, sizes


def count_matrix(codes: np.ndarray, values: np.ndarray, sizes: np.ndarray, words: list[str]) -> tuple[list[str], Any]:
    """The sorted terms and the (n_texts, n_terms) count matrix of each text's term codes and counts (as
    `_ngram_codes` makes them, in the order the text first has them; `sizes`: how many terms each text has)."""
    import scipy.sparse as sp

    if not len(codes):
        raise ValueError("empty vocabulary; perhaps the documents only contain stop words")  # scikit-learn's error
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


# The kept analysis: one .npz per profile (paths.analysis_path), holding the texts of its ranker's last fit only, so
# it is bounded by the profile's size (about 3 KB a paper: 23 MB at 8,000). A refit then reads words out of only the
# texts new since (a new like, the day's negatives). Texts are known by a digest. A file that is missing, damaged or
# made by another analyzer is only not used and is written again; deleting it loses nothing.
ANALYSIS_FORMAT = 1


def _analyzer_key(stop_words: frozenset[str]) -> str:
    # \w and str.lower() follow the running Python's Unicode tables: a newer one may read a text's words otherwise.
    parts = (str(ANALYSIS_FORMAT), unicodedata.unidata_version, TOKEN.pattern, repr(NGRAMS), *sorted(stop_words))
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def _count_kept(texts: tuple[str, ...], path: Path) -> tuple[list[str], Any]:
    """count_ngrams with the analysis of each text that `path` holds read from it; this fit's analysis is left there."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    keys = [_digest(text) for text in texts]
    stored = _read_analysis(path, _analyzer_key(ENGLISH_STOP_WORDS))
    known_words, row_of, (known_codes, known_counts, known_sizes) = stored or ([], {}, _NO_ANALYSIS)
    rows = [row_of.get(key, -1) for key in keys]
    docs = _tokens([text for text, row in zip(texts, rows, strict=True) if row < 0], ENGLISH_STOP_WORDS)
    words = sorted(set(known_words).union(itertools.chain.from_iterable(docs)))
    place = np.fromiter(map(dict(zip(words, itertools.count())).__getitem__, known_words), dtype=np.int64)
    codes = _recode(known_codes, place, len(words))  # in this fit's word list
    new_codes, new_counts, new_sizes = _analyse(docs, words)
    # Every text's entries in the fit's order: a known text's from the file, a new one's from its analysis.
    starts = np.r_[np.cumsum(known_sizes) - known_sizes, len(codes) + np.cumsum(new_sizes) - new_sizes]
    sizes = np.r_[known_sizes, new_sizes]
    source = np.array(rows, dtype=np.int64)
    source[source < 0] = len(known_sizes) + np.arange(len(new_sizes))
    take = np.repeat(starts[source] - np.cumsum(sizes[source]) + sizes[source], sizes[source])
    take += np.arange(len(take))
    all_codes, all_counts = np.r_[codes, new_codes][take], np.r_[known_counts, new_counts][take]
    counted = count_matrix(all_codes, all_counts, sizes[source], words)
    if stored is None or set(keys) != set(row_of):
        with contextlib.suppress(OSError):  # only a cache: the next fit analyses afresh
            _write_analysis(path, _analyzer_key(ENGLISH_STOP_WORDS), keys, all_codes, all_counts, sizes[source], words)
    return counted


_NO_ANALYSIS = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))


def _recode(codes: np.ndarray, place: np.ndarray, n_words: int) -> np.ndarray:
    """Term codes made with one word list, remade with another: `place` is each old word's place in the new one."""
    heads, tails = np.divmod(codes, len(place) + 1)
    return place[heads] * (n_words + 1) + np.where(tails > 0, 1 + place[np.maximum(tails - 1, 0)], 0)


def _read_analysis(path: Path, analyzer: str):
    """The kept analysis at path: its words, each text's row by digest, and the rows' codes, counts and sizes."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            if str(stored["analyzer"]) != analyzer:
                return None
            data = stored["words"].tobytes().decode("utf-8")
            keys, codes, counts, sizes = (stored[name] for name in ("keys", "codes", "counts", "sizes"))
    except Exception:  # missing, truncated or damaged: it is only a cache
        return None
    words = data.split("\n") if data else []
    arrays = (keys, codes, counts, sizes)
    if any(a.ndim != 1 for a in arrays) or any(a.dtype.kind not in "iu" for a in arrays[1:]):
        return None  # a well-formed file of another shape: only a cache
    consistent = keys.dtype == "S16" and len(keys) == len(sizes) and int(sizes.sum()) == len(codes) == len(counts)
    in_range = not len(codes) or (codes.min() >= 0 and codes.max() // (len(words) + 1) < len(words))
    if not (consistent and in_range and (sizes >= 0).all() and (counts >= 1).all()):
        return None
    codes, counts, sizes = (a.astype(np.int64) for a in (codes, counts, sizes))
    return words, dict(zip(keys.tolist(), range(len(keys)), strict=True)), (codes, counts, sizes)


def _write_analysis(
    path: Path, analyzer: str, keys: list[bytes], codes: np.ndarray, counts: np.ndarray, sizes: np.ndarray, words
) -> None:
    """Keep these texts' analysis at path (atomically), with only the words they use."""
    heads, tails = np.divmod(codes, len(words) + 1)
    used = np.zeros(len(words) + 1, dtype=bool)
    used[heads] = True
    used[tails[tails > 0] - 1] = True
    kept_words = [w for w, keep in zip(words, used.tolist(), strict=False) if keep]
    place = np.cumsum(used) - 1
    buffer = io.BytesIO()
    np.savez(
        buffer,
        analyzer=np.array(analyzer),
        words=np.frombuffer("\n".join(kept_words).encode("utf-8"), dtype=np.uint8),
        keys=np.array(keys, dtype="S16"),
        codes=_recode(codes, place[: len(words)], len(kept_words)),
        counts=counts.astype(np.int32),
        sizes=sizes,
    )
    atomic_write_bytes(path, buffer.getvalue())
