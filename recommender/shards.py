"""Embedding shards: vectors computed elsewhere (another machine, a Ray job) as files the cache imports.

A shard is one .npz file: the encoder's cache key, the texts' hashes and their unit vectors. `ShardWriter` is
the embedding function for a distributed engine: each worker builds one (it holds the model) and turns batches
of papers into shards in a shared folder; `import_shards` loads them into the local cache.
"""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .embed import DEFAULT_MODEL, Embedder, EmbeddingCache, normalise_rows, text_hash
from .paths import atomic_write_bytes
from .schema import PaperrecError
from .sources import paper_from_record
from .sources.guard import one_line


def write_shard(path: Path, key: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
    """Write one shard atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, key=np.array(key), hashes=np.array(hashes, dtype="S64"), vectors=vectors.astype(np.float32))
    atomic_write_bytes(path, buffer.getvalue())


_KEY = re.compile(r"^[^|\x00-\x1f]+\|[a-z0-9]+-[a-z0-9]+\|[1-9][0-9]{0,5}$")  # model id|backend-precision|length
_HASH = re.compile(r"^[0-9a-f]{64}$")
_UNIT_TOLERANCE = 1e-3


class ShardsRefused(PaperrecError):
    """Some shards were refused (nothing imported from them); the others were imported."""

    def __init__(self, message: str, imported: dict[str, int], refused: list[tuple[Path, str]]):
        super().__init__(message)
        self.imported = imported
        self.refused = refused


def read_shard(path: Path) -> tuple[str, list[str], np.ndarray]:
    """The (cache key, text hashes, vectors) of a shard, checked: PaperrecError naming the shard when it is bad."""
    try:
        with np.load(path, allow_pickle=False) as shard:
            if not isinstance(shard, np.lib.npyio.NpzFile):
                raise ValueError("a .npy array, not an .npz archive")
            raw_key, raw_hashes, vectors = shard["key"], shard["hashes"], shard["vectors"]
    except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile, zlib.error) as error:
        raise PaperrecError(f"{path}: not an embedding shard ({one_line(error)})") from None
    except MemoryError:
        raise PaperrecError(f"{path}: not an embedding shard (too large to load)") from None
    if raw_key.ndim != 0 or raw_key.dtype.kind != "U" or not _KEY.match(str(raw_key)):
        raise PaperrecError(f"{path}: not an embedding shard (its key is not like 'model|torch-float32|256')")
    if raw_hashes.ndim != 1 or raw_hashes.dtype.kind != "S":
        raise PaperrecError(f"{path}: not an embedding shard (its hashes are not a list of text hashes)")
    hashes = [h.decode("ascii", "replace") for h in raw_hashes]
    if vectors.ndim != 2 or len(vectors) != len(hashes):
        raise PaperrecError(f"{path}: {len(hashes)} hashes but vectors of shape {vectors.shape}")
    return str(raw_key), hashes, vectors


def check_shard(path: Path, key: str, hashes: list[str], vectors: np.ndarray, cache_dim: int | None) -> None:
    """PaperrecError naming the shard unless its hashes are sha256 hex, its vectors finite, unit and of `cache_dim`."""
    bad = next((h for h in hashes if not _HASH.match(h)), None)
    if bad is not None:
        raise PaperrecError(f"{path}: text hash {bad[:70]!r} is not 64 hex digits")
    if not len(hashes):
        return
    if vectors.dtype.kind != "f" or vectors.shape[1] == 0:
        raise PaperrecError(f"{path}: vectors must be floating-point rows, got {vectors.dtype} {vectors.shape}")
    if cache_dim is not None and vectors.shape[1] != cache_dim:
        dims = f"{vectors.shape[1]}-dim vectors, but the cache holds {cache_dim}-dim ones"
        raise PaperrecError(f"{path}: {dims} for {key}")
    rows = vectors.astype(np.float64)  # (n, dim); float64 so no finite row overflows when its norm is taken
    finite = np.isfinite(rows).all(axis=1)
    if not finite.all():
        raise PaperrecError(f"{path}: row {int(np.argmin(finite))} holds NaN or infinite values")
    norms = np.linalg.norm(rows, axis=1)
    # Zero rows are what normalise_rows gives for a text without content, as in the cache itself.
    unit = (np.abs(norms - 1) <= _UNIT_TOLERANCE) | (norms == 0)
    if not unit.all():
        row = int(np.argmin(unit))
        raise PaperrecError(f"{path}: row {row} is not a unit vector (norm {norms[row]:.4g})")


def import_shards(paths: Iterable[Path], cache: EmbeddingCache) -> dict[str, int]:
    """Load shards into the cache, each checked and imported whole or not at all; returns vectors imported per key.

    A bad shard does not stop the others: the good ones are imported, then ShardsRefused names the refused ones.
    """
    imported: dict[str, int] = {}
    refused: list[tuple[Path, str]] = []
    dims: dict[str, int | None] = {}  # per key, asked of the cache once: the query scans the key's rows
    for path in paths:
        try:
            key, hashes, vectors = read_shard(path)
            if key not in dims:
                dims[key] = cache.dim(key)
            check_shard(path, key, hashes, vectors, dims[key])
        except PaperrecError as error:
            refused.append((path, str(error)))
            continue
        if hashes:
            cache.put_many(key, hashes, normalise_rows(vectors))
            dims[key] = vectors.shape[1]
        imported[key] = imported.get(key, 0) + len(hashes)
    if refused:
        done = sum(imported.values())
        others = f"; imported {done} vectors from the other shards" if imported else ""
        reasons = "; ".join(reason for _, reason in refused)
        count = "a shard, nothing imported from it" if len(refused) == 1 else f"{len(refused)} shards, none imported"
        raise ShardsRefused(f"refused {count}: {reasons}{others}", imported, refused)
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


def embed_corpus_with_ray(
    files: Sequence[Path],
    cache: EmbeddingCache,
    *,
    folder: Path | None = None,
    workers: int = 2,
    batch_size: int = 1024,
    model: str | None = None,
    backend: str | None = None,
    max_seq_length: int | None = None,
) -> tuple[Path, list[Path], dict[str, int]]:
    """`paperrec embed --engine ray`: embed with Ray into shards (default: $PAPERREC_HOME/shards), then import them.

    Returns the shard folder, the shards written and the vectors imported per cache key.
    """
    from .embed import embedding_settings
    from .paths import home

    model, backend, max_seq_length = embedding_settings(model, backend, max_seq_length)
    folder = folder or home() / "shards"
    options = {"model": model, "backend": backend, "max_seq_length": max_seq_length}
    written = embed_with_ray(files, folder, workers=workers, batch_size=batch_size, **options)
    return folder, written, import_shards(written, cache)
