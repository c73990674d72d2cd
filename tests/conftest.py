"""Shared fixtures: a temporary PAPERREC_HOME, a deterministic fake embedder, paths to real data."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_LISTING = REPO / "examples" / "arxiv-cs.CV-2021-04-22.md"
BENCH = REPO.parent / "shared" / "bench"


class FakeEmbedder:
    """Bag-of-words hashing into 64 dimensions: deterministic, fast, and similar texts share words."""

    dim = 64

    def __init__(self, key: str = "fake|torch-float32|256"):
        self.cache_key = key
        self.calls = 0
        self.texts: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts.extend(texts)
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                if len(word) > 2:
                    vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    """An empty PAPERREC_HOME for every test, so no test reads or writes the user's own data folder."""
    path = tmp_path / "home"
    monkeypatch.setenv("PAPERREC_HOME", str(path))
    monkeypatch.delenv("PAPERREC_MODEL", raising=False)
    return path


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def fake_model(monkeypatch, home) -> list[FakeEmbedder]:
    """Make the CLI build FakeEmbedders instead of loading sentence-transformers; returns those built."""
    import recommender.embed

    built: list[FakeEmbedder] = []

    def factory(model: str = "", **kwargs) -> FakeEmbedder:
        embedder = FakeEmbedder(f"{model}|torch-float32|256")
        built.append(embedder)
        return embedder

    monkeypatch.setattr(recommender.embed, "Embedder", factory)
    return built


@pytest.fixture
def example_listing() -> Path:
    return EXAMPLE_LISTING
