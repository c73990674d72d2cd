"""paperrec after three years of daily use, as ratios to a fresh home timed in the same run.

Run: .venv/bin/python benchmarks/years_of_use.py [--repeat 3] [--keep DIR] [--only OP ...]

Two homes are built from real bench papers (`../shared/bench`, cs.CV and cs.CL):
  fresh   a profile of 30 liked and 5 disliked papers, 5 stored listing days, the seen-memory of those days
  years   a profile of 3,000 liked and 500 disliked papers with the user's comments and `note` keys, 750 stored
          days (the bench's 387 cs.CV days and their cs.CL days, reused under consecutive dates), a seen-memory of
          about 100k rows, an embedding cache of every stored paper
Both homes end on the same latest day, so ranking that day is the same work in each.
Embedder: the tests' fake bag-of-words model (tests/conftest.py, 64 dimensions), so only paperrec's own code is timed.
Each operation runs in a process of its own (module caches cold, as a command has them); the time excludes the
interpreter's start and the imports both homes share. Web views go through starlette's test client: the first
request of a fresh app, then the median of three more. `web_like` is a like on the Today page until the updated page
is back (median of three likes in one app). A process's first refit also imports scikit-learn and fits the
TF-IDF space on the 3,500 likes and the day: about 2.5 s more, once.
`PYTHONPATH=OTHER_CHECKOUT` times another commit's code on the same homes (with `--keep`, built once).

Measured on this project's 2-core shared CPU (medians of 3; seconds in the three-years home, and its ratio to the fresh
home). Before: main at e8a3985; after: with the fixes this benchmark led to.

    operation              before          after
    load_profile           0.149 s   75x   0.157 s   70x   linear: 3,500 papers parsed (rtoml, then Paper.make each)
    rank (warm)            0.504 s  4.6x   0.561 s  4.3x
    like                   0.331 s   10x   0.332 s   10x   linear: the file parsed, edited, parsed again to check
    dislike / unlike       0.33 s    11-13x  0.34 s  12-13x
    profile show           0.194 s   21x   0.173 s   20x
    today --offline        0.866 s  3.9x   0.727 s  3.3x
    evaluate --profile     0.231 s  2.9x   0.214 s  3.2x   (3 stored days)
    web Today              0.450 s   45x   0.075 s  9.9x   the profile was parsed three times per view
    web Today, first       1.445 s  5.7x   0.812 s  3.2x
    web Profile            0.364 s   16x   0.084 s  5.8x
    web History            0.537 s   70x   0.299 s   49x   linear: 24k shown papers of 100k seen rows, every view
    web History, first     6.327 s   71x   2.049 s   30x   every stored paper (120k) was parsed; now only those shown
    web like + page        1.293 s   13x   1.011 s   11x   the hybrid refitted on 3,500 likes
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO.parent / "shared" / "bench"
LAST_DAY = date(2026, 7, 1)
CATEGORIES = ("cs.CV", "cs.CL")
NOTES = (
    "read for the reading group",
    "good baseline table",
    "code released, try it",
    "compare with our method",
    "cite in the thesis intro",
)
OPERATIONS = (
    "load_profile",
    "rank",
    "like",
    "dislike",
    "unlike",
    "profile_show",
    "today_offline",
    "evaluate_profile",
    "web_today",
    "web_profile",
    "web_history",
    "web_like",
)


def use_fake_model() -> None:
    """Make open_embedder build the tests' fake model (no model is loaded)."""
    sys.path.append(str(REPO))  # after PYTHONPATH, so another checkout's recommender can be timed (`before`)
    import recommender.embed
    from tests.conftest import FakeEmbedder

    recommender.embed.Embedder = lambda model="", **kwargs: FakeEmbedder(f"{model}|torch-float32|256")


def bench_days() -> list[date]:
    """The bench days that have a cs.CV listing, oldest first."""
    return sorted(date.fromisoformat(p.stem) for p in (BENCH / "listings" / "cs.CV").glob("*.jsonl"))


def read_bench_day(category: str, day: date, meta: dict[str, dict]):
    """The bench listing of one category and day as Papers with their authors and categories."""
    from recommender.schema import Paper

    path = BENCH / "listings" / category / f"{day.isoformat()}.jsonl"
    if not path.is_file():
        return []
    papers = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        extra = meta.get(row["id"], {})
        papers.append(
            Paper.make(
                row["title"],
                row["id"],
                row["abstract"],
                authors=extra.get("authors", ()),
                categories=extra.get("categories", ()),
            )
        )
    return papers


def profile_text(name: str, liked, disliked, rng: random.Random) -> str:
    """The profile as paperrec writes it, with comments and notes a user added over the years."""
    from recommender.profile import Profile, ProfilePaper, profile_to_toml

    profile = Profile(
        name=name,
        description="Vision and language: what I read each morning",
        categories=CATEGORIES,
        interests=("segmentation of medical images", "long-context language models"),
        liked=tuple(ProfilePaper(p, d) for p, d in liked),
        disliked=tuple(ProfilePaper(p, d) for p, d in disliked),
    )
    lines = []
    for line in profile_to_toml(profile).splitlines(keepends=True):
        if line.startswith("[[") and rng.random() < 0.1:
            lines.append(f"# {rng.choice(NOTES)}\n")
        lines.append(line)
        if line.startswith("added = ") and rng.random() < 0.05:
            lines.append(f'note = "{rng.choice(NOTES)}"\n')
    return "# my profile, edited by hand now and then\n" + "".join(lines)


def bench_meta() -> dict[str, dict]:
    """The bench's metadata rows (authors, categories) by paper id."""
    meta = {}
    with (BENCH / "papers-meta.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            meta[row["id"]] = row
    return meta


def build_home(home: Path, *, days: int, liked: int, disliked: int, seen_per_day: int) -> dict:
    """A home of `days` stored days ending on LAST_DAY, a profile 'mine' and the seen-memory of every day."""
    from recommender.embed import open_embedder
    from recommender.seen import SeenMemory
    from recommender.sources.store import write_day

    os.environ["PAPERREC_HOME"] = str(home)
    meta = bench_meta()
    sources = bench_days()
    rng = random.Random(7)
    memory = SeenMemory(home / "state" / "seen.sqlite3")
    embedder = open_embedder(progress=False)
    pool: dict[str, tuple] = {}  # each paper once, on the first day it was listed
    embedded: set[str] = set()
    for back in range(days - 1, -1, -1):
        day = LAST_DAY - timedelta(days=back)
        # The last day is the bench's last; older days cycle through the others, so no paper of the last day was
        # shown before it (reused days would hide it from the ranking).
        source = sources[-1] if back == 0 else sources[-2 - (back - 1) % (len(sources) - 1)]
        papers = []
        for category in CATEGORIES:
            listing = read_bench_day(category, source, meta)
            if listing:
                from recommender.schema import Listing

                write_day(Listing(papers=tuple(listing), date=day, category=category), category, day)
                papers += listing
        fresh = [p for p in papers if p.arxiv_id not in embedded]
        embedder.embed([p.text for p in fresh])
        embedded.update(p.arxiv_id for p in fresh)
        if back:  # the last day is today's: not yet shown
            shown = papers[:seen_per_day]
            memory.mark_papers(("mine",), [(p, rank) for rank, p in enumerate(shown, 1)], day)
            for paper in papers[seen_per_day : seen_per_day + 20]:
                pool.setdefault(paper.arxiv_id, (paper, day))
    memory.close()
    rows = sorted(
        rng.sample(sorted(pool.values(), key=lambda row: row[0].arxiv_id), min(len(pool), liked + disliked)),
        key=lambda row: (row[1], row[0].arxiv_id),
    )
    chosen = rng.sample(range(len(rows)), len(rows))
    liked_rows = sorted((rows[i] for i in chosen[:liked]), key=lambda r: r[1])
    disliked_rows = sorted((rows[i] for i in chosen[liked : liked + disliked]), key=lambda r: r[1])
    folder = home / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mine.toml").write_text(profile_text("mine", liked_rows, disliked_rows, rng), encoding="utf-8")
    today = [p for c in CATEGORIES for p in read_bench_day(c, sources[-1], meta)]
    profile_ids = {p.arxiv_id for p, _ in liked_rows + disliked_rows}
    return {
        "liked": len(liked_rows),
        "disliked": len(disliked_rows),
        "days": days,
        "today": [p.arxiv_id for p in today if p.arxiv_id not in profile_ids][:3],
    }


def child(operation: str, home: Path, info: dict) -> float:
    """Run one operation in this process against `home`; its seconds."""
    use_fake_model()
    os.environ["PAPERREC_HOME"] = str(home)
    import numpy  # noqa: F401  (shared by both homes: not timed)
    from typer.testing import CliRunner

    from recommender.cli import app
    from recommender.profile import load_profile

    runner = CliRunner()
    profile = home / "profiles" / "mine.toml"
    listing = home / "listings" / "cs.CV" / f"{LAST_DAY.isoformat()}.jsonl"
    few = home.parent / f"{home.name}-few-days"

    def cli(*args: str) -> float:
        start = time.perf_counter()
        result = runner.invoke(app, list(args))
        seconds = time.perf_counter() - start
        if result.exit_code != 0:
            raise SystemExit(f"{args}: exit {result.exit_code}: {result.output[-2000:]}")
        return seconds

    def web(url: str) -> tuple[float, float]:
        from starlette.testclient import TestClient

        from recommender.web import Settings, create_app

        times = []
        with TestClient(create_app(Settings(page_wait=120)), base_url="http://127.0.0.1:8787") as client:
            for _ in range(4):
                start = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise SystemExit(f"{url}: {response.status_code}")
        return times[0], statistics.median(times[1:])

    if operation == "load_profile":
        start = time.perf_counter()
        load_profile(profile)
        return time.perf_counter() - start
    if operation == "rank":
        return cli("rank", str(listing), "-p", "mine")
    if operation in ("like", "dislike"):
        return cli(operation, info["today"][0], "-p", "mine", "-l", str(listing))
    if operation == "unlike":
        return cli("unlike", info["today"][1], "-p", "mine")
    if operation == "profile_show":
        return cli("profile", "show", "mine")
    if operation == "today_offline":
        return cli("today", "--offline", "-p", "mine")
    if operation == "evaluate_profile":
        return cli("evaluate", "--profile", "mine", "--listings", str(few), "-s", "hybrid")
    if operation == "web_like":  # a like on the Today page until the updated page is back
        from starlette.testclient import TestClient

        from recommender.web import Settings, create_app

        times = []
        with TestClient(create_app(Settings(page_wait=120)), base_url="http://127.0.0.1:8787") as client:
            client.get("/?profile=mine")
            csrf = client.app.state.csrf
            for arxiv_id in info["today"]:
                start = time.perf_counter()
                form = {"csrf": csrf, "profile": "mine", "id": arxiv_id, "action": "like"}
                posted = client.post("/rate", data=form, follow_redirects=False)
                page = client.get("/?profile=mine")
                times.append(time.perf_counter() - start)
                if posted.status_code != 303 or page.status_code != 200:
                    raise SystemExit(f"like {arxiv_id}: {posted.status_code} {posted.text[:500]}")
        return statistics.median(times)
    if operation.startswith("web_"):
        page = operation.removeprefix("web_")
        first, warm = web("/?profile=mine" if page == "today" else f"/{page}?profile=mine")
        print(json.dumps({"first": first}), file=sys.stderr)
        return warm
    raise SystemExit(f"unknown operation {operation}")


def prepare(home: Path, info: dict) -> None:
    """Warm the home: the ranker fitted, the picks' sentences embedded, a liked paper to unlike, a few days apart."""
    for operation in ("rank", "today_offline"):
        run_child(operation, home, info)
    few = home.parent / f"{home.name}-few-days"
    for category in CATEGORIES:
        days = sorted((home / "listings" / category).glob("*.jsonl"))[-4:-1]
        (few / category).mkdir(parents=True, exist_ok=True)
        for path in days:
            shutil.copy(path, few / category / path.name)
    run_child("evaluate_profile", home, info)  # embeds what the backtest needs once


def run_child(operation: str, home: Path, info: dict) -> tuple[float, float | None]:
    """One operation in a process of its own: (seconds, seconds of a web view's first request)."""
    command = [sys.executable, __file__, "--child", operation, "--home", str(home), "--info", json.dumps(info)]
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ | {"OPENBLAS_NUM_THREADS": "1"})
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    first = [json.loads(line)["first"] for line in done.stderr.splitlines() if line.startswith('{"first"')]
    return float(done.stdout.strip().splitlines()[-1]), first[0] if first else None


def measure(operation: str, home: Path, info: dict, repeat: int) -> tuple[float, float | None]:
    """Median seconds of `repeat` runs (and of a web view's first request); profile edits are undone in between."""
    profile = home / "profiles" / "mine.toml"
    original = profile.read_bytes()
    times, firsts = [], []
    for _ in range(repeat):
        if operation == "unlike":  # a paper to remove, liked the way a user likes it
            run_child("like", home, info | {"today": [info["today"][1]]})
        seconds, first = run_child(operation, home, info)
        times.append(seconds)
        firsts.append(first)
        profile.write_bytes(original)
    return statistics.median(times), (statistics.median(firsts) if firsts[0] is not None else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="Build the homes here once and reuse them on later runs.")
    parser.add_argument("--only", nargs="*", choices=OPERATIONS, default=list(OPERATIONS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--info", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(child(args.child, args.home, json.loads(args.info)))
        return
    use_fake_model()
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    root = args.keep or Path(tempfile.mkdtemp(prefix="years-of-use-"))
    homes = {}
    for name, sizes in (
        ("fresh", {"days": 5, "liked": 30, "disliked": 5, "seen_per_day": 65}),
        ("years", {"days": 750, "liked": 3000, "disliked": 500, "seen_per_day": 65}),
    ):
        home = root / name
        saved = root / f"{name}.json"
        if not saved.is_file():
            start = time.perf_counter()
            info = build_home(home, **sizes)
            prepare(home, info)
            saved.write_text(json.dumps(info))
            print(f"built {name} in {time.perf_counter() - start:.0f} s: {info}", file=sys.stderr)
        homes[name] = (home, json.loads(saved.read_text()))
    print(f"{'operation':<18} {'fresh s':>8} {'years s':>8} {'ratio':>7}")
    for operation in args.only:
        fresh, fresh_first = measure(operation, *homes["fresh"], args.repeat)
        years, years_first = measure(operation, *homes["years"], args.repeat)
        print(f"{operation:<18} {fresh:8.3f} {years:8.3f} {years / fresh:7.1f}", flush=True)
        if fresh_first is not None:
            label = f"{operation} first"
            print(f"{label:<18} {fresh_first:8.3f} {years_first:8.3f} {years_first / fresh_first:7.1f}", flush=True)
    if args.keep is None:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
