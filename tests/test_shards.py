"""Embedding shards: round trip and import (always); the Ray engine end to end (marked, needs the extra)."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from recommender.embed import EmbeddingCache, text_hash
from recommender.schema import PaperrecError
from recommender.shards import ShardWriter, import_shards, read_shard, write_shard

from .conftest import FakeEmbedder


def test_shard_round_trip_and_import(tmp_path):
    vectors = np.random.default_rng(0).normal(size=(3, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)  # shards hold unit vectors, as ShardWriter writes
    hashes = [text_hash(t) for t in ("a", "b", "c")]
    write_shard(tmp_path / "s.npz", "m|torch-float32|256", hashes, vectors)
    key, read_hashes, read_vectors = read_shard(tmp_path / "s.npz")
    assert key == "m|torch-float32|256" and read_hashes == hashes
    np.testing.assert_array_equal(read_vectors, vectors)
    cache = EmbeddingCache(tmp_path / "c.sqlite3")
    assert import_shards([tmp_path / "s.npz"], cache) == {"m|torch-float32|256": 3}
    stored = cache.get_many("m|torch-float32|256", hashes[:1])[hashes[0]]
    np.testing.assert_allclose(stored, vectors[0], atol=1e-3)
    (tmp_path / "bad.npz").write_bytes(b"nope")
    with pytest.raises(PaperrecError, match="not an embedding shard"):
        read_shard(tmp_path / "bad.npz")


def test_shard_writer_embeds_a_batch_like_the_cache_does(tmp_path, monkeypatch):
    import recommender.shards

    monkeypatch.setattr(recommender.shards, "Embedder", lambda *a, **k: FakeEmbedder())
    writer = ShardWriter(str(tmp_path))
    lines = [json.dumps({"id": "2301.00001", "title": "One", "abstract": "x"}), "", '{"title": "Two", "abstract": "y"}']
    out = writer({"text": np.array(lines)})
    key, hashes, vectors = read_shard(out["shard"][0])
    assert out["papers"].tolist() == [2] and key == "fake|torch-float32|256"
    assert hashes == [text_hash("One. x"), text_hash("Two. y")]  # the same text (and hash) as Paper.text
    assert vectors.shape == (2, FakeEmbedder.dim)


@pytest.mark.slow
@pytest.mark.distributed
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="the distributed extra (Ray) is not installed")
def test_ray_engine_on_a_local_cluster(tmp_path, home):
    """The real model in a Ray worker process (a fake in this process would not reach it)."""
    from typer.testing import CliRunner

    from recommender.cli import app

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"2301.{i:05d}", "title": f"Paper {i}"}) + "\n" for i in range(50)))
    result = CliRunner().invoke(
        app,
        [
            "embed",
            str(corpus),
            "--engine",
            "ray",
            "--workers",
            "1",
            "--batch-size",
            "20",
            "--shards",
            str(tmp_path / "s"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert " shards in " in result.stdout and "50 vectors imported" in result.stdout
    assert len(list((tmp_path / "s").glob("shard-*.npz"))) >= 3  # batches of at most 20
    again = CliRunner().invoke(app, ["embed", str(corpus)])
    assert again.stdout.startswith("50 papers read, 0 embedded now")  # the shards filled the cache
