"""A lab on one machine: 30 users x 3 profiles after one shared fetch of a 300-paper day, then every user's picks.

Builds a PAPERREC_HOME with the day stored once under listings/ (as one fetch leaves it) and 30 lab users, each with
3 profiles of --liked earlier papers (real ones from ../shared/bench if present, else made-up papers).
Then measures:
  embedding: the day's papers, their sentences and every profile's likes embedded once into the shared cache;
  morning: `paperrec today --all-users --offline` in a process of its own, once with no stored rankers (each of the
           90 profiles fits and stores its model) and once more with them stored; wall time and peak RSS.
Embedder: `fake` (the tests' bag-of-words, 64 dimensions) or `real` (all-MiniLM-L6-v2, which makes the embedding
phase take minutes on 2 cores; the morning loads no model either way, the cache being warm).

Run: .venv/bin/python benchmarks/lab.py [--embedder fake|real] [--users 30] [--profiles 3] [--day-size 300]
Writes benchmarks/results/lab.json.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO.parent / "shared" / "bench"
sys.path.insert(0, str(REPO))

from recommender.schema import Paper  # noqa: E402


def use_fake_model() -> None:
    """Make open_embedder build the tests' fake model (no model is loaded)."""
    import recommender.embed
    from tests.conftest import FakeEmbedder

    recommender.embed.Embedder = lambda model="", **kwargs: FakeEmbedder(f"{model}|torch-float32|256")


def bench_papers(day_size: int, pool_size: int) -> tuple[str, date, list[Paper], list[Paper]]:
    """A real day of one category with at least day_size papers, and up to pool_size earlier papers to like."""
    from recommender.sources import read_listing

    for folder in sorted((BENCH / "listings").iterdir()):
        files = sorted(folder.glob("*.jsonl"), reverse=True)
        for index, file in enumerate(files):
            papers = read_listing(file).papers
            if len(papers) < day_size:
                continue
            today = sorted(papers, key=lambda p: p.arxiv_id)[:day_size]
            ids = {p.arxiv_id for p in today}
            pool: dict[str, Paper] = {}
            for earlier in files[index + 1 :]:
                for paper in read_listing(earlier).papers:
                    if paper.arxiv_id not in ids:
                        pool.setdefault(paper.arxiv_id, paper)
                if len(pool) >= pool_size:
                    break
            return folder.name, date.fromisoformat(file.stem), today, list(pool.values())[:pool_size]
    raise SystemExit(f"no listing in {BENCH} has {day_size} papers")


def made_up_papers(day_size: int, pool_size: int) -> tuple[str, date, list[Paper], list[Paper]]:
    """Papers of random words, for a checkout without ../shared/bench."""
    rng = random.Random(0)
    words = [f"{a}{b}" for a in ("vision", "graph", "prior", "flow", "noise", "scale") for b in "abcdefghijklmnop"]

    def paper(n: int) -> Paper:
        title = " ".join(rng.choices(words, k=8))
        return Paper(f"2101.{n:05d}", title, ". ".join(" ".join(rng.choices(words, k=12)) for _ in range(5)) + ".")

    return "cs.CV", date(2021, 4, 22), [paper(n) for n in range(day_size)], [paper(50000 + n) for n in range(pool_size)]


def build_lab(home: Path, args: argparse.Namespace) -> dict[str, object]:
    """The shared day and the users' profiles under home; returns what was built."""
    from recommender import paths, users
    from recommender.profile import new_profile, save_profile
    from recommender.sources import to_jsonl

    source = bench_papers if (BENCH / "listings").is_dir() else made_up_papers
    category, day, today, pool = source(args.day_size, 4 * args.liked * args.profiles)
    stored = home / "listings" / category / f"{day.isoformat()}.jsonl"
    stored.parent.mkdir(parents=True)
    stored.write_text(to_jsonl(today))  # what one fetch of the day leaves for the whole lab
    rng = random.Random(1)
    liked_texts: set[str] = set()
    for u in range(args.users):
        name = f"user{u:02d}"
        users.add_user(name)
        with paths.as_user(name):
            for p in range(args.profiles):
                liked = rng.sample(pool, min(args.liked, len(pool)))
                liked_texts.update(paper.text for paper in liked)
                profile = new_profile(f"topic{p}", liked, categories=[category])
                save_profile(profile, paths.profiles_dir() / f"topic{p}.toml")
    return {"category": category, "day": day, "today": today, "liked_texts": sorted(liked_texts)}


def morning(home: Path, embedder: str) -> dict[str, float]:
    """`paperrec today --all-users --offline` in this process; its wall time and this process's peak RSS."""
    import os

    os.environ["PAPERREC_HOME"] = str(home)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if embedder == "fake":
        use_fake_model()
    from typer.testing import CliRunner

    from recommender.cli import app

    start = time.perf_counter()
    result = CliRunner().invoke(app, ["today", "--all-users", "--offline"])
    seconds = time.perf_counter() - start
    if result.exit_code != 0:
        raise SystemExit(result.output[-2000:])
    lines = [line for line in result.stderr.splitlines() if line.startswith("paperrec: user ")]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"seconds": seconds, "peak_rss_mib": peak, "users": len(lines)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", choices=("fake", "real"), default="fake")
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--profiles", type=int, default=3)
    parser.add_argument("--day-size", type=int, default=300)
    parser.add_argument("--liked", type=int, default=40, help="liked papers per profile")
    parser.add_argument("--morning", type=Path, help=argparse.SUPPRESS)  # the measured child process
    args = parser.parse_args()
    if args.morning is not None:
        print(json.dumps(morning(args.morning, args.embedder)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        import os

        os.environ["PAPERREC_HOME"] = str(home)
        if args.embedder == "fake":
            use_fake_model()
        from recommender.embed import open_embedder
        from recommender.rank import sentences

        lab = build_lab(home, args)
        start = time.perf_counter()
        embedder = open_embedder(progress=False)
        today = lab["today"]
        embedder.embed([p.text for p in today])
        embedder.embed([s for p in today for s in sentences(p.abstract)])
        embedder.embed(lab["liked_texts"])
        embedding = time.perf_counter() - start
        runs = []
        for _ in range(2):  # no stored rankers, then every profile's stored
            child = [sys.executable, __file__, "--morning", str(home), "--embedder", args.embedder]
            answer = subprocess.run(child, capture_output=True, text=True, check=True, cwd=REPO)
            runs.append(json.loads(answer.stdout))
    report = {
        "embedder": args.embedder,
        "data": "bench" if (BENCH / "listings").is_dir() else "made up",
        "category": lab["category"],
        "day": str(lab["day"]),
        "day_papers": len(today),
        "users": args.users,
        "profiles": args.users * args.profiles,
        "liked_per_profile": args.liked,
        "embedding_seconds": round(embedding, 2),
        "morning_first_seconds": round(runs[0]["seconds"], 2),
        "morning_first_peak_rss_mib": round(runs[0]["peak_rss_mib"]),
        "morning_stored_seconds": round(runs[1]["seconds"], 2),
        "morning_stored_peak_rss_mib": round(runs[1]["peak_rss_mib"]),
        "users_run": runs[0]["users"],
    }
    for key, value in report.items():
        print(f"{key:<28} {value}")
    out = REPO / "benchmarks" / "results" / "lab.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
