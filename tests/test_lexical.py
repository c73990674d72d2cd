"""The numpy TF-IDF space reproduces scikit-learn's vectorizer exactly, and stores as plain arrays."""

from __future__ import annotations

import io

import numpy as np
import pytest

from recommender.rank.lexical import TOKEN, TfidfSpace, _fit_distinct, count_ngrams, fit_tfidf

TRAIN = [
    "Segment Anything in medical images with SAM adapters",
    "A vision transformer for image super-resolution",
    "SAM meets video: tracking anything with segment anything",
    "Large language models for theorem proving",
]
NEW = ["Segment anything for remote sensing, SAM SAM", "zebras and giraffes", "Vision transformers, again."]


def test_project_matches_sklearn_transform():
    from sklearn.feature_extraction.text import TfidfVectorizer

    space, matrix = fit_tfidf(TRAIN)
    reference = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english").fit(TRAIN)
    assert list(space.terms) == list(reference.get_feature_names_out())
    weights = np.random.default_rng(0).normal(size=(len(space.terms), 3))
    np.testing.assert_allclose(space.project(NEW, weights), reference.transform(NEW) @ weights, atol=1e-12)
    np.testing.assert_allclose(space.project(TRAIN, weights), matrix @ weights, atol=1e-12)


def test_unknown_words_give_a_zero_row():
    space, _ = fit_tfidf(TRAIN)
    assert space.ngrams("Segment the Medical images!") == [
        "segment",
        "medical",
        "images",
        "segment medical",
        "medical images",
    ]
    np.testing.assert_array_equal(space.project(["zebras and giraffes"], np.ones(len(space.terms))), [[0.0]])
    columns, values = space.rows(["sam sam segment"])[0]
    assert len(columns) == 2  # "sam" and "segment"; the bigrams "sam sam" and "sam segment" are not in the vocabulary
    np.testing.assert_allclose(np.linalg.norm(values), 1.0)


def test_space_round_trips_through_npz_without_pickle():
    space, _ = fit_tfidf([*TRAIN, "Schrödinger bridges for naïve façade segmentation"])
    assert space.to_arrays()["tfidf_terms"].nbytes < 2 * sum(map(len, space.terms))  # bytes, not 4-byte characters
    buffer = io.BytesIO()
    np.savez(buffer, **space.to_arrays())
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as stored:
        loaded = TfidfSpace.from_arrays({k: stored[k] for k in stored.files})
    assert loaded.terms == space.terms and loaded.stop_words == space.stop_words
    weights = np.arange(len(space.terms), dtype=np.float64)
    np.testing.assert_array_equal(loaded.project(NEW, weights), space.project(NEW, weights))


def test_columns_in_any_order_give_the_same_scores():
    space, _ = fit_tfidf(TRAIN)
    permutation = np.random.default_rng(1).permutation(len(space.terms))
    shuffled = TfidfSpace(
        terms=tuple(space.terms[j] for j in permutation), idf=space.idf[permutation], stop_words=space.stop_words
    )
    weights = np.random.default_rng(2).normal(size=len(space.terms))
    np.testing.assert_allclose(shuffled.project(NEW, weights[permutation]), space.project(NEW, weights), atol=1e-12)
    assert {shuffled.terms[j] for j in shuffled.rows(NEW)[0][0]} == {space.terms[j] for j in space.rows(NEW)[0][0]}


def test_empty_texts_and_empty_batches():
    space, _ = fit_tfidf(TRAIN)
    assert space.project([], np.ones(len(space.terms))).shape == (0, 1)
    np.testing.assert_array_equal(space.project(["", "the and"], np.ones(len(space.terms))), [[0.0], [0.0]])
    assert [len(columns) for columns, _ in space.rows(["", "sam", ""])] == [0, 1, 0]


def test_a_reordered_training_set_reuses_the_fit_and_gets_its_own_row_order():
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [*TRAIN, TRAIN[0]]  # a duplicate text counts twice in the document frequencies
    space, matrix = fit_tfidf(texts)
    order = [3, 0, 4, 2, 1]
    moved_space, moved = fit_tfidf([texts[i] for i in order])  # a vote: the same texts, another split
    assert moved_space is space
    np.testing.assert_array_equal(moved.toarray(), matrix.toarray()[order])
    reference = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english").fit(texts)
    np.testing.assert_allclose(space.idf, reference.idf_)
    other, _ = fit_tfidf(texts[:-1])
    assert other is not space and not np.allclose(other.idf, space.idf)
    assert fit_tfidf(t for t in texts)[1].shape == matrix.shape  # any iterable, as before


# Texts that test the fast fit's corners: accents and other scripts, case that changes length, a final sigma,
# digits and underscores, stop words only, empty, one word, duplicates, repeats (sublinear tf), and terms that only
# one text holds.
TRICKY = [
    "Schrödinger bridges for naïve façade segmentation",
    "ΟΔΟΣ and ΣΟΦΙΑ: Greek capitals lower to a final sigma",
    "İstanbul DİLİ ﬁne-tuning: lowercase changes length",
    "深度学习 for 图像 segmentation, 3d point clouds and l2_norm x2",
    "",
    "the and of with",
    "zebra",
    "SAM SAM SAM sam segment anything segment",
    "Segment Anything in medical images with SAM adapters",
    "Segment Anything in medical images with SAM adapters",
    "a b c d — single letters are no tokens; naïve naïve",
    "emoji 🚀 rockets and ellipsis… and tabs\tand\nnewlines",
    "x_1 x_2 x_1 __init__ 1e-5 2024 2024",
]


def _reference(texts: list[str]):
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, stop_words="english", token_pattern=TOKEN.pattern
    )
    return vectorizer, vectorizer.fit_transform(texts)


def _assert_same_bits(matrix, reference) -> None:
    assert type(matrix) is type(reference) and matrix.shape == reference.shape
    for part in ("data", "indices", "indptr"):  # every value, in the same order within each row
        assert getattr(matrix, part).dtype == getattr(reference, part).dtype
        np.testing.assert_array_equal(getattr(matrix, part), getattr(reference, part))


def _random_texts(n: int, seed: int) -> list[str]:
    """Texts of words drawn from a small vocabulary with stop words, so terms recur across texts in any order."""
    rng = np.random.default_rng(seed)
    vocabulary = ["the", "of", "sam", "Segment", "anything", "vision", "ViT", "über", "3d", "x_1", "model", "and"]
    vocabulary += [f"w{i}" for i in range(40)]
    return [" ".join(rng.choice(vocabulary, size=rng.integers(0, 30))) for _ in range(n)]


@pytest.mark.parametrize("texts", [TRICKY, _random_texts(300, 0), _random_texts(40, 1) + TRICKY])
def test_the_fit_equals_scikit_learns_vectorizer_bit_for_bit(texts):
    texts = sorted(texts)  # the order fit_tfidf fits in
    space, matrix, _ = _fit_distinct(tuple(texts))
    vectorizer, reference = _reference(texts)
    assert list(space.terms) == list(vectorizer.get_feature_names_out())
    assert space.idf.dtype == np.float64
    np.testing.assert_array_equal(space.idf, vectorizer.idf_)
    assert space.stop_words == vectorizer.get_stop_words()
    _assert_same_bits(matrix, reference)


def test_fit_tfidf_gives_scikit_learns_rows_in_the_callers_order():
    texts = [*reversed(TRICKY), TRICKY[0], "Segment anything: a term only here, zygomorphic"]
    _, matrix = fit_tfidf(texts)
    order = sorted(range(len(texts)), key=texts.__getitem__)
    _, reference = _reference([texts[i] for i in order])
    _assert_same_bits(matrix, reference[np.argsort(order)])


def test_texts_without_a_term_fail_as_scikit_learn_does():
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    for texts in ([], [""], ["the and of", "a b c"]):
        with pytest.raises(ValueError, match="empty vocabulary"):
            _reference(texts)
        with pytest.raises(ValueError, match="empty vocabulary"):
            count_ngrams(texts, ENGLISH_STOP_WORDS)


def test_the_hybrid_learns_the_same_bits_as_with_scikit_learns_vectorizer(monkeypatch):
    """Rankings, scores and match come from these arrays: each is the same to the last bit."""
    from recommender.rank import lexical
    from recommender.rank.hybrid import HybridRanker

    def sklearn_fit(texts: tuple[str, ...]):  # the fit as it was: TfidfVectorizer itself
        vectorizer, matrix = _reference(list(texts))
        terms = tuple(vectorizer.get_feature_names_out())
        space = TfidfSpace(terms=terms, idf=vectorizer.idf_, stop_words=frozenset(vectorizer.get_stop_words()))
        return space, matrix, {text: row for row, text in enumerate(texts)}

    rng = np.random.default_rng(3)
    texts = _random_texts(60, 2) + TRICKY
    vectors = rng.normal(size=(len(texts), 8))
    labels = (np.arange(len(texts)) % 3 == 0).astype(float)
    weights = rng.uniform(0.5, 1.0, len(texts))
    fast = HybridRanker().fit(vectors, texts, labels, sample_weight=weights)
    monkeypatch.setattr(lexical, "_fit_distinct", sklearn_fit)
    slow = HybridRanker().fit(vectors, texts, labels, sample_weight=weights)
    assert fast.space_.terms == slow.space_.terms
    for name in ("lexical_coef_", "cv_lexical_", "cv_raising_", "cv_semantic_", "semantic_coef_"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name))
    assert fast.lexical_intercept_ == slow.lexical_intercept_
    day = _random_texts(30, 4) + NEW
    day_vectors = rng.normal(size=(len(day), 8))
    for raise_only in (False, True):
        scored = [r.lexical_scores(day, raise_only) for r in (fast, slow)]
        np.testing.assert_array_equal(*scored)
        fused = [
            r.fuse(r.semantic_scores(day_vectors), s, raise_only) for r, s in zip((fast, slow), scored, strict=True)
        ]
        np.testing.assert_array_equal(fused[0][0], fused[1][0])
        np.testing.assert_array_equal(fused[0][1], fused[1][1])


def _kept_fit(texts: tuple[str, ...], path):
    """A fit (not the cached one) within analysis_kept(path)."""
    from recommender.rank.lexical import analysis_kept

    with analysis_kept(path):
        return _fit_distinct.__wrapped__(texts)


def _recording_tokens(monkeypatch) -> list[str]:
    """The texts the fit reads words out of, from now on."""
    from recommender.rank import lexical

    analysed: list[str] = []
    real = lexical._tokens
    monkeypatch.setattr(lexical, "_tokens", lambda texts, stop_words: analysed.extend(texts) or real(texts, stop_words))
    return analysed


def test_a_kept_analysis_gives_the_same_bits_and_keeps_only_the_last_fits_texts(tmp_path, monkeypatch):
    from recommender.rank import lexical

    path = tmp_path / "analysis" / "p.npz"
    first = sorted(_random_texts(50, 5) + TRICKY[:6])
    second = sorted(first[10:] + TRICKY[6:] + ["a text only the second fit has: zygomorphic"])
    _kept_fit(tuple(first), path)
    analysed = _recording_tokens(monkeypatch)
    space, matrix, _ = _kept_fit(tuple(second), path)
    assert analysed == [t for t in second if t not in first]  # the rest was read from the file
    vectorizer, reference = _reference(second)
    assert list(space.terms) == list(vectorizer.get_feature_names_out())
    np.testing.assert_array_equal(space.idf, vectorizer.idf_)
    _assert_same_bits(matrix, reference)
    words, row_of, _ = lexical._read_analysis(path, lexical._analyzer_key(space.stop_words))
    assert set(row_of) == {lexical._digest(t) for t in second}  # bounded: the last fit's texts only
    assert set(words) == {w for text in second for w in TOKEN.findall(text.lower()) if w not in space.stop_words}
    analysed.clear()
    again = _kept_fit(tuple(second), path)
    assert analysed == [] and again[0].terms == space.terms
    _assert_same_bits(again[1], reference)


def test_only_a_fit_within_analysis_kept_keeps_its_analysis(tmp_path):
    from recommender.rank.lexical import analysis_kept

    path = tmp_path / "p.npz"
    fit_tfidf(["a text fitted elsewhere: alpha beta", "gamma delta"])
    assert not path.exists()
    texts = [*TRICKY, "kept: epsilon"]
    with analysis_kept(path):
        _, matrix = fit_tfidf(texts)
    assert path.is_file()
    order = sorted(range(len(texts)), key=texts.__getitem__)
    _assert_same_bits(matrix, _reference([texts[i] for i in order])[1][np.argsort(order)])


@pytest.mark.parametrize(
    "damage", ["empty", "not a zip", "truncated", "another analyzer", "too few words", "2-D codes", "2-D keys", "float"]
)
def test_a_damaged_or_foreign_analysis_is_not_used_and_is_written_again(tmp_path, monkeypatch, damage):
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from recommender.rank import lexical

    path = tmp_path / "p.npz"
    _kept_fit(tuple(sorted(TRICKY)), path)
    with np.load(path) as stored:
        arrays = {name: stored[name] for name in stored.files}
    reshaped = {
        "another analyzer": {"analyzer": np.array("an analyzer that keeps stop words")},
        "too few words": {"words": np.frombuffer(b"sam\nsegment", dtype=np.uint8)},
        # Well-formed files of another shape: a zip and its checksums find nothing wrong with them.
        "2-D codes": {"codes": arrays["codes"][:, None]},
        "2-D keys": {"keys": arrays["keys"][:, None]},
        "float": {"counts": arrays["counts"].astype(np.float64)},
    }
    if damage in reshaped:
        np.savez(path, **(arrays | reshaped[damage]))
    else:
        path.write_bytes(
            {"empty": b"", "not a zip": b"PK\x03\x04 not a zip", "truncated": path.read_bytes()[:300]}[damage]
        )
    analysed = _recording_tokens(monkeypatch)
    texts = sorted([*TRICKY, "one more text"])
    _, matrix, _ = _kept_fit(tuple(texts), path)
    assert analysed == texts  # nothing was read from the file
    _assert_same_bits(matrix, _reference(texts)[1])
    assert lexical._read_analysis(path, lexical._analyzer_key(ENGLISH_STOP_WORDS)) is not None  # written again


def test_a_kept_analysis_serves_duplicates_empty_texts_and_texts_without_a_term(tmp_path, monkeypatch):
    path = tmp_path / "p.npz"
    texts = sorted(["", "the and of", "zebra", "zebra", "", "segment anything, segment"])
    _kept_fit(tuple(texts), path)
    analysed = _recording_tokens(monkeypatch)
    space, matrix, _ = _kept_fit(tuple(texts), path)
    assert analysed == []
    vectorizer, reference = _reference(texts)
    assert list(space.terms) == list(vectorizer.get_feature_names_out())
    _assert_same_bits(matrix, reference)
    kept = path.read_bytes()
    with pytest.raises(ValueError, match="empty vocabulary"):  # the file's words are no terms of these texts
        _kept_fit(("", "the and of"), path)
    assert path.read_bytes() == kept  # a fit that fails keeps nothing


def test_a_kept_analysis_names_the_unicode_tables_that_read_its_words(monkeypatch):
    """\\w and str.lower() follow the running Python's Unicode tables: another version's analysis is another's."""
    import unicodedata

    from recommender.rank import lexical

    key = lexical._analyzer_key(frozenset({"the"}))
    monkeypatch.setattr(unicodedata, "unidata_version", "99.0.0")
    assert lexical._analyzer_key(frozenset({"the"})) != key
