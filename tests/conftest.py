"""Shared fixtures: a temporary PAPERREC_HOME, a deterministic fake embedder, paths to real data."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

# The suite tries the same examples on every run, so it passes or fails the same on every machine (a red CI blocks
# everyone); `make fuzz` explores new examples, and what it finds becomes a plain test.
settings.register_profile("suite", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("PAPERREC_HYPOTHESIS", "suite"))

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_LISTING = REPO / "examples" / "arxiv-cs.CV-2021-04-22.md"
BENCH = REPO.parent / "shared" / "bench"


def unit(rows, dtype=np.float32) -> np.ndarray:
    """Rows scaled to unit length, (n, dim)."""
    array = np.asarray(rows, dtype=dtype)
    return array / np.linalg.norm(array, axis=1, keepdims=True)


def scoring_input(
    liked: np.ndarray,
    candidates: np.ndarray,
    *,
    disliked: np.ndarray | None = None,
    weights=None,
    liked_texts=None,
    candidate_texts=None,
    negatives: np.ndarray | None = None,
    added=(),
    today=None,
    dislike_weight: float = 0.5,
):
    """A ScoringInput from vectors, with placeholder texts where none are given."""
    from recommender.profile import ProfileVectors
    from recommender.rank import ScoringInput

    dim = candidates.shape[1]
    profile = ProfileVectors(
        liked=liked,
        weights=np.ones(len(liked), np.float32) if weights is None else np.asarray(weights, np.float32),
        disliked=np.zeros((0, dim), np.float32) if disliked is None else disliked,
        added=tuple(added),
        liked_texts=tuple(liked_texts or ["x"] * len(liked)),
    )
    return ScoringInput(
        candidates=candidates,
        candidate_texts=candidate_texts or ["x"] * len(candidates),
        profile=profile,
        negatives=negatives if negatives is not None else np.zeros((0, dim), np.float32),
        negative_texts=["negative paper text"] * (0 if negatives is None else len(negatives)),
        today=today,
        dislike_weight=dislike_weight,
    )


def require_bench() -> Path:
    """The bench folder beside the repository; skips the test where it is absent (CI always has it)."""
    if not (BENCH / "listings").is_dir():
        pytest.skip("../shared/bench is not present")
    return BENCH


class FakeEmbedder:
    """Bag-of-words hashing into 64 dimensions: deterministic, fast, and similar texts share words."""

    dim = 64

    def __init__(self, key: str = "fake|torch-float32|256"):
        self.cache_key = key
        self.calls = 0
        self.texts: list[str] = []

    @property
    def known_cache_key(self) -> str:
        return self.cache_key

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


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def pytest_sessionstart(session: pytest.Session) -> None:
    """Remember the PAPERREC_HOME set when the suite started, to prove at the end that no test touched it."""
    folder = os.environ.get("PAPERREC_HOME")
    session.config._preset_home = (Path(folder), _snapshot(Path(folder))) if folder and Path(folder).is_dir() else None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    preset = getattr(session.config, "_preset_home", None)
    if preset is not None and _snapshot(preset[0]) != preset[1]:
        print(f"\nthe test suite changed the PAPERREC_HOME it was started with ({preset[0]})", file=sys.stderr)
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Iterator[Path]:
    """An empty PAPERREC_HOME for every test, so no test reads or writes the user's own data folder.

    The page's background work a test started ends within the test: a ranking thread left running would read the next
    test's PAPERREC_HOME and write its picks into that test's seen-memory.
    """
    before = set(threading.enumerate())
    path = tmp_path / "home"
    monkeypatch.setenv("PAPERREC_HOME", str(path))
    for name in (
        "PAPERREC_MODEL",
        "PAPERREC_BACKEND",
        "PAPERREC_MAX_SEQ_LENGTH",
        "PAPERREC_TOKEN",
        "PAPERREC_NOTIFY",
        "OPENALEX_API_KEY",  # a developer's own key must never reach a test's fake server or output
        "OPENREVIEW_TOKEN",  # nor a developer's own OpenReview sign-in
        "OPENREVIEW_USERNAME",
        "OPENREVIEW_PASSWORD",
    ):
        monkeypatch.delenv(name, raising=False)
    yield path
    for thread in set(threading.enumerate()) - before:
        if thread.name.startswith("paperrec ") and thread.name != "paperrec zotero":  # zotero: a loop its app stops
            _join_started(thread)


def _join_started(thread: threading.Thread, timeout: float = 300) -> None:
    """Join a thread that enumerate() lists, though start() may not have marked it started yet (it raises then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            thread.join(timeout=max(deadline - time.monotonic(), 0))
            return
        except RuntimeError:  # "cannot join thread before it is started": it is between start() and running
            time.sleep(0.01)


@pytest.fixture(autouse=True)
def no_internal_errors(request, monkeypatch):
    """Fail any test whose input reached the CLI's last-resort handler: every input gets a specific message.

    PAPERREC_DEBUG=1 makes paperrec subprocesses show the traceback of such an error, which tests then see.
    """
    from recommender import cli

    monkeypatch.setenv(cli.DEBUG_ENV, "1")
    cli.internal_errors.clear()
    yield
    if "allow_internal_error" not in request.fixturenames:
        assert not cli.internal_errors, f"the last-resort handler was reached: {cli.internal_errors!r}"


@pytest.fixture
def allow_internal_error():
    """For the test of the last-resort handler itself."""


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


@pytest.fixture
def liked_jsonl(tmp_path):
    path = tmp_path / "liked.jsonl"
    rows = [
        {
            "id": "2001.00001",
            "title": "Image super-resolution networks",
            "abstract": "super-resolution of images video",
        },
        {"id": "2001.00002", "title": "Video super-resolution", "abstract": "temporal super-resolution video frames"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def fake_arxiv(monkeypatch, example_listing):
    """Replace arXiv with two announcement days built from the example listing; records what was asked."""
    from datetime import date
    from types import SimpleNamespace

    import recommender.sources.arxiv as arxiv
    from recommender.schema import Listing
    from recommender.sources import read_listing

    papers = read_listing(example_listing).papers
    days = {
        date(2021, 4, 22): Listing(papers=papers[:40], date=date(2021, 4, 22), category="cs.CV"),
        # the next day repeats ten papers (as cross-lists would) and brings 19 new ones
        date(2021, 4, 23): Listing(papers=papers[30:], date=date(2021, 4, 23), category="cs.CV"),
    }
    state = SimpleNamespace(day=date(2021, 4, 22), asked=[])

    def fetch_listing(categories, day=None, *, include_cross=False, **kwargs):
        state.asked.append((tuple(categories), day, include_cross))
        wanted = day or state.day
        notice = (
            "no arXiv announcement today (weekend or holiday); showing 2021-04-23"
            if day is None and state.day.weekday() >= 5
            else None
        )
        return days[min(wanted, date(2021, 4, 23))], notice

    monkeypatch.setattr(arxiv, "fetch_listing", fetch_listing)
    return state
