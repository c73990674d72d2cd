"""A mixed day against an arXiv-only day of the same size: fetched from fixture servers, merged, ranked warm.

The mixed day is 300 arXiv papers, 150 bioRxiv postings (30 of them also on arXiv) and 100 OpenReview submissions
(20 of them also on arXiv). The arXiv-only day is 550 arXiv papers. Each comes from servers on 127.0.0.1 that
answer like the documented APIs (arXiv's API pages, bioRxiv's details pages with a cursor, OpenReview's notes).
Each repetition starts from an empty listing store, so every source is fetched, parsed, stored and merged again.
The embedding cache is warm: every text was embedded by a first, untimed pass. The figure is the ratio of the
medians, mixed over arXiv-only (target: at most 1.5).

Run: .venv/bin/python benchmarks/mixed_day.py [--repeat 5] [--model]   (--model: the real model, else the tests'
fake embedder, which leaves only fetching, merging and ranking to time)
Writes benchmarks/results/mixed_day.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DAY = date(2026, 12, 3)
VENUE = "ICLR.cc/2027/Conference"
WORDS = [
    "sparse",
    "dense",
    "video",
    "image",
    "graph",
    "protein",
    "neuron",
    "cortex",
    "retina",
    "signal",
    "model",
    "network",
    "learning",
]


def arxiv_route(count: int, copies: dict[int, tuple[str, str]]):
    """arXiv's API over `count` papers (some titled and authored like another source's copy), paged by start."""

    def entry(n: int) -> str:
        title, author = copies.get(n, (f"{WORDS[n % 13]} {WORDS[(n * 7) % 13]} study {n}", f"Author{n} Smith"))
        abstract = " ".join(WORDS[(n + k) % 13] for k in range(40)) + f" result {n}."
        return (
            f"<entry><id>http://arxiv.org/abs/2612.{30000 + n}v1</id><published>2026-12-02T15:00:00Z</published>"
            f"<updated>2026-12-02T15:00:00Z</updated><title>{title}</title><summary>{abstract}</summary>"
            f"<author><name>{author}</name></author>"
            '<arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.CV"/>'
            '<category term="cs.CV"/></entry>'
        )

    def route(path, query):
        start, size = int(query.get("start", ["0"])[0]), int(query.get("max_results", ["200"])[0])
        entries = "".join(entry(n) for n in range(start, min(start + size, count)))
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            "<title>ArXiv Query</title><id>http://arxiv.org/api/x</id><updated>2026-12-03T00:00:00-05:00</updated>"
            f'<opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{count}'
            f"</opensearch:totalResults>{entries}</feed>"
        )
        return 200, {"Content-Type": "application/atom+xml"}, body.encode()

    return route


def setup(home: Path) -> None:
    """Two profiles: one follows cs.CV only, one follows cs.CV, bioRxiv neuroscience and an OpenReview venue."""
    profile = (REPO / "profiles" / "super-resolution.toml").read_text()
    (home / "profiles").mkdir(parents=True)
    (home / "profiles" / "arxiv.toml").write_text(profile.replace('name = "super-resolution"', 'name = "arxiv"'))
    mixed = profile.replace('name = "super-resolution"', 'name = "mixed"')
    mixed = mixed.replace("\nstrategy =", f'\nsources = ["biorxiv:neuroscience", "openreview:{VENUE}"]\nstrategy =', 1)
    (home / "profiles" / "mixed.toml").write_text(mixed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--model", action="store_true", help="the real model (default: the tests' fake embedder)")
    args = parser.parse_args()

    import os

    home = Path(tempfile.mkdtemp(prefix="paperrec-mixed-"))
    os.environ["PAPERREC_HOME"] = str(home)
    from recommender.embed import CachedEmbedder, EmbeddingCache, open_embedder
    from recommender.run import run_today
    from recommender.sources import arxiv, biorxiv, http, openreview
    from tests.fixture_apis import OPENREVIEW_TOKEN, biorxiv_route, note, openreview_route, posting, serving

    os.environ["OPENREVIEW_TOKEN"] = OPENREVIEW_TOKEN  # the fake API, as the real one, answers signed-in clients only

    http.DEFAULT_MIN_INTERVAL = 0.0  # fixture servers on this machine: no need to be polite to ourselves
    biorxiv.MIN_INTERVAL = openreview.MIN_INTERVAL = 0.0
    setup(home)
    postings = [posting(n, DAY) for n in range(150)]
    notes = [note(n, DAY) for n in range(100)]
    copies = {n: (str(postings[n]["title"]), f"A. Author{n}") for n in range(30)}
    copies |= {100 + n: (str(notes[n]["content"]["title"]["value"]), f"Grace{n} Hopper") for n in range(20)}  # type: ignore[index]
    if args.model:
        embedder = open_embedder(progress=False)
    else:
        from tests.conftest import FakeEmbedder

        embedder = CachedEmbedder(FakeEmbedder(), EmbeddingCache(home / "cache" / "embeddings.sqlite3"), progress=False)

    def one(profile: str) -> tuple[float, int]:
        shutil.rmtree(home / "listings", ignore_errors=True)  # every source fetched again
        start = time.perf_counter()
        run = run_today([profile], embedder, seen=None, day=DAY, top=20)
        seconds = time.perf_counter() - start
        assert not run.failures, [f.line() for f in run.failures]
        return seconds, len(run.papers)

    results: dict[str, list[float]] = {"arxiv": [], "mixed": []}
    sizes: dict[str, int] = {}
    with (
        serving(arxiv_route(550, {})) as arxiv_only,
        serving(arxiv_route(300, copies)) as arxiv_mixed,
        serving(biorxiv_route({("biorxiv", DAY): postings})) as bio,
        serving(openreview_route({VENUE: notes})) as review,
    ):
        biorxiv.API_URL = bio.url + "/details"
        openreview.API_URL = review.url + "/notes"
        for round_ in range(args.repeat + 1):  # the first round warms the embedding cache and is not counted
            for name, server in (("arxiv", arxiv_only), ("mixed", arxiv_mixed)):
                arxiv.API_URL = server.url + "/api/query"
                seconds, size = one(name)
                sizes[name] = size
                if round_:
                    results[name].append(seconds)
    medians = {name: statistics.median(times) for name, times in results.items()}
    ratio = medians["mixed"] / medians["arxiv"]
    report = {
        "embedder": "model" if args.model else "fake",
        "papers": sizes,
        "median_seconds": {name: round(value, 4) for name, value in medians.items()},
        "ratio": round(ratio, 3),
        "target": 1.5,
        "repeat": args.repeat,
    }
    print(json.dumps(report, indent=2))
    out = REPO / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "mixed_day.json").write_text(json.dumps(report, indent=2) + "\n")
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
