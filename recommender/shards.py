"""Embedding shards: vectors computed elsewhere (another machine, a Ray job) as files the cache imports.

A shard is one .npz file: the encoder's cache key, the texts' hashes and their unit vectors. `ShardWriter` is
the embedding function for a distributed engine: each worker builds one (it holds the model) and turns batches
of papers into shards in a shared folder; `import_shards` loads them into the local cache.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .embed import DEFAULT_MODEL, Embedder, EmbeddingCache, normalise_rows, text_hash
from .paths import atomic_write_bytes
from .schema import PaperrecError
from .sources import paper_from_record


def write_shard(path: Path, key: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
    """Write one shard atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, key=np.array(key), hashes=np.array(hashes, dtype="S64"), vectors=vectors.astype(np.float32))
    atomic_write_bytes(path, buffer.getvalue())


def read_shard(path: Path) -> tuple[str, list[str], np.ndarray]:
    """The (cache key, text hashes, vectors) of a shard."""
    try:
        with np.load(path, allow_pickle=False) as shard:
            key, hashes, vectors = str(shard["key"]), [h.decode() for h in shard["hashes"]], shard["vectors"]
    except (OSError, ValueError, KeyError) as error:
        raise PaperrecError(f"{path}: not an embedding shard ({error})") from None
    if vectors.ndim != 2 or len(vectors) != len(hashes):
        raise PaperrecError(f"{path}: {len(hashes)} hashes but vectors of shape {vectors.shape}")
    return key, hashes, vectors


def import_shards(paths: Iterable[Path], cache: EmbeddingCache) -> dict[str, int]:
    """Load shards into the cache (one transaction per shard); returns vectors imported per cache key."""
    imported: dict[str, int] = {}
    for path in paths:
        key, hashes, vectors = read_shard(path)
        cache.put_many(key, hashes, normalise_rows(vectors))
        imported[key] = imported.get(key, 0) + len(hashes)
    return imported


class ShardWriter:
    """Embeds a batch of paper records and writes it as one shard (a callable for Ray Data's map_batches)."""

    def __init__(
        self, out_dir: str, model: str = DEFAULT_MODEL, backend: str = "torch", max_seq_length: int | None = None
    ):
        self.out_dir = Path(out_dir)
        self.embedder = Embedder(model, backend=backend, max_seq_length=max_seq_length)

    def __call__(self, batch: dict[str, Any]) -> dict[str, np.ndarray]:
        """JSONL lines in (column "text"); the written shard's path and its paper count out."""
        texts = []
        for line in batch["text"]:
            if line.strip():
                record = json.loads(line)  # parsed here, as `paperrec embed` does, not by the engine's type inference
                texts.append(paper_from_record(record, f"record {record.get('id', '?')}").text)
        n = len(texts)
        path = self.out_dir / f"shard-{uuid.uuid4().hex}.npz"
        write_shard(path, self.embedder.cache_key, [text_hash(t) for t in texts], self.embedder.encode(texts))
        return {"shard": np.array([str(path)]), "papers": np.array([n])}


def embed_with_ray(
    files: Sequence[Path], out_dir: Path, *, workers: int = 2, batch_size: int = 1024, **embedder_options: Any
) -> list[Path]:
    """Embed JSONL corpora with Ray Data (a local one-node cluster unless RAY_ADDRESS names one); returns shards."""
    try:
        import ray
    except ImportError:
        raise PaperrecError(
            "the Ray engine needs the 'distributed' extra: pip install 'paperrec[distributed]'"
        ) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    logging.getLogger("ray").setLevel(logging.WARNING)  # Ray Data narrates every operator at INFO
    ray.init(ignore_reinit_error=True, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    ray.data.DataContext.get_current().enable_progress_bars = False
    dataset = ray.data.read_text([str(f) for f in files])  # one row per line
    result = dataset.map_batches(
        ShardWriter,
        fn_constructor_kwargs={"out_dir": str(out_dir), **embedder_options},
        batch_size=batch_size,
        batch_format="numpy",
        concurrency=workers,
    )
    try:
        return [Path(p) for p in result.to_pandas()["shard"]]
    except Exception as error:  # Ray wraps a worker's exception in its own types: report the worker's message
        lines = str(error).splitlines()
        reason = next((line.split("PaperrecError: ", 1)[1] for line in lines if "PaperrecError: " in line), None)
        raise PaperrecError(f"the Ray job failed: {reason or (lines[-1] if lines else type(error).__name__)}") from None
