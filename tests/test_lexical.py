"""The numpy TF-IDF space reproduces scikit-learn's vectorizer exactly, and stores as plain arrays."""

from __future__ import annotations

import io

import numpy as np

from recommender.rank.lexical import TfidfSpace, fit_tfidf

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
