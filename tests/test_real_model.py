"""End to end with the real packaged model (marked slow; part of the full suite and of CI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from recommender import CachedEmbedder, Embedder, EmbeddingCache, new_profile, read_listing, recommend
from recommender.rank import score_listing
from recommender.schema import Paper

from .conftest import BENCH, EXAMPLE_LISTING, REPO, require_bench

pytestmark = pytest.mark.slow

SUPER_RESOLUTION = ["2104.10642", "2104.10563", "2104.10325", "2104.10488", "2104.10268"]  # #1 #7 #32 #46 #58
AUTO_FEDAVG = "2104.10195"  # #59
SR_PROFILE_IDS = ["2105.09645", "2105.10422", "2106.06847", "2106.00783", "2107.00708", "2106.12778"]
MEDSEG_PROFILE_IDS = ["2105.09511", "2105.12924", "2106.06716", "2106.06801", "2107.00781", "2107.04263"]


def bench_papers(ids: list[str]) -> list[Paper]:
    """Real papers (title + abstract) from the bench listings, by id."""
    require_bench()
    wanted, found = set(ids), {}
    for path in sorted((BENCH / "listings").glob("*/2021-*.jsonl")):
        for paper in read_listing(path).papers:
            if paper.arxiv_id in wanted:
                found.setdefault(paper.arxiv_id, paper)
    assert set(found) == wanted, f"bench is missing {wanted - set(found)}"
    return [found[i] for i in ids]


@pytest.fixture(scope="module")
def embedder(tmp_path_factory) -> CachedEmbedder:
    return CachedEmbedder(Embedder(), EmbeddingCache(tmp_path_factory.mktemp("cache") / "e.sqlite3"))


def test_super_resolution_profile_finds_all_five(embedder):
    listing = read_listing(EXAMPLE_LISTING)
    profile = new_profile("sr", bench_papers(SR_PROFILE_IDS))
    picks = recommend(listing, profile, embedder, top=8)
    top_ids = [p.paper.arxiv_id for p in picks]
    assert set(SUPER_RESOLUTION) <= set(top_ids), top_ids
    assert [p.score for p in picks] == sorted((p.score for p in picks), reverse=True)
    assert set(top_ids[:5]) == set(SUPER_RESOLUTION)  # the default (hybrid) puts all five first
    cosine = recommend(listing, profile, embedder, top=8, strategy="centroid")
    assert -1 <= cosine[-1].score <= cosine[0].score <= 1


def test_a_library_by_titles_alone_still_finds_all_five(embedder):
    """Likes imported without abstracts train against the day's papers shown by title too (rank/negatives.py)."""
    listing = read_listing(EXAMPLE_LISTING)
    titles = [replace(p, abstract="") for p in bench_papers(SR_PROFILE_IDS)]
    scored = score_listing(listing, new_profile("sr-titles", titles), embedder, store=False)
    ranked = [scored.candidates[i].arxiv_id for i in np.argsort(-scored.scores, kind="stable")]
    assert set(ranked[:5]) == set(SUPER_RESOLUTION), ranked[:8]
    assert set(scored.inputs.negative_texts) == {p.title for p in scored.candidates}


def test_medical_segmentation_profile_puts_auto_fedavg_above_super_resolution(embedder):
    listing = read_listing(EXAMPLE_LISTING)
    profile = new_profile("medseg", bench_papers(MEDSEG_PROFILE_IDS))
    ranks = {p.paper.arxiv_id: p.rank for p in recommend(listing, profile, embedder, top=None)}
    assert all(ranks[AUTO_FEDAVG] < ranks[i] for i in SUPER_RESOLUTION), ranks


def test_real_vectors_are_unit_and_cached(embedder):
    before = embedder.encoded
    vectors = embedder.embed(["Video super-resolution with transformers.", "Protein folding."])
    assert vectors.shape == (2, 384)
    assert abs(float((vectors**2).sum(axis=1)[0]) - 1.0) < 1e-5
    assert float(vectors[0] @ vectors[1]) < 0.5
    again = embedder.embed(["Video super-resolution with transformers."])
    assert embedder.encoded == before + 2 and (again[0] == vectors[0]).all()


def _paperrec(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PAPERREC_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "recommender", *args], capture_output=True, text=True, env=env, cwd=REPO
    )


def test_cli_json_interface_from_another_program(tmp_path):
    """profile new X --from liked.jsonl --output x.toml, then rank today.jsonl --format json --top 100."""
    liked = tmp_path / "liked.jsonl"
    liked.write_text(
        "".join(
            json.dumps({"id": p.arxiv_id, "title": p.title, "abstract": p.abstract}) + "\n"
            for p in bench_papers(SR_PROFILE_IDS[:3])
        )
    )
    today = tmp_path / "today.jsonl"
    today.write_text(
        "".join(
            json.dumps({"id": p.arxiv_id, "title": p.title, "abstract": p.abstract}) + "\n"
            for p in read_listing(EXAMPLE_LISTING).papers
        )
    )
    home = tmp_path / "home"
    created = _paperrec("profile", "new", "x", "--from", str(liked), "--output", str(tmp_path / "x.toml"), home=home)
    assert created.returncode == 0, created.stderr
    ranked = _paperrec(
        "rank", str(today), "--profile", str(tmp_path / "x.toml"), "--format", "json", "--top", "100", home=home
    )
    assert ranked.returncode == 0, ranked.stderr
    picks = json.loads(ranked.stdout)
    assert len(picks) == 59 and [p["rank"] for p in picks] == list(range(1, 60))
    assert {p["id"] for p in picks[:8]} >= set(SUPER_RESOLUTION)
    # Warm run: every vector is cached, so the answer is identical.
    again = _paperrec(
        "rank", str(today), "--profile", str(tmp_path / "x.toml"), "--format", "json", "--top", "100", home=home
    )
    assert json.loads(again.stdout) == picks


def test_shipped_example_profile_on_shipped_listing(tmp_path):
    result = _paperrec(
        "rank",
        "examples/arxiv-cs.CV-2021-04-22.md",
        "--profile",
        "profiles/super-resolution.toml",
        "-f",
        "json",
        home=tmp_path / "home",
    )
    assert result.returncode == 0, result.stderr
    assert {p["id"] for p in json.loads(result.stdout)[:8]} >= set(SUPER_RESOLUTION)


def _imported(*args: str, home: Path) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run paperrec with -X importtime; returns the result and the top-level packages it imported."""
    env = {**os.environ, "PAPERREC_HOME": str(home)}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "recommender", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    modules = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
    return result, modules


def test_warm_rank_loads_no_model_and_no_learner(tmp_path):
    """Once the listing and profile are cached (and the ranker stored), rank needs numpy alone."""
    home = tmp_path / "home"
    args = ("rank", "examples/arxiv-cs.CV-2021-04-22.md", "--profile", "profiles/super-resolution.toml", "-f", "json")
    cold, cold_modules = _imported(*args, home=home)
    assert cold.returncode == 0 and {"torch", "sentence_transformers", "sklearn"} <= cold_modules
    warm, warm_modules = _imported(*args, home=home)
    assert warm.returncode == 0
    assert json.loads(warm.stdout) == json.loads(cold.stdout)
    # pydantic: typer 0.29 coerces options through it (+0.25 s per start), hence the typer<0.29 pin.
    assert (
        not {"torch", "sentence_transformers", "transformers", "sklearn", "scipy", "pandas", "pydantic"} & warm_modules
    )
    for command in (("--help",), ("profile", "list"), ("info",), ("cache", "info")):
        result, modules = _imported(*command, home=home)
        assert result.returncode == 0 and "torch" not in modules and "sklearn" not in modules, command
