"""How long a vote on `paperrec serve`'s Today page takes as the profile grows, as ratios to a 300-paper profile.

Run: .venv/bin/python benchmarks/vote_latency.py [--sizes 300 1000 3500 8000] [--votes 6] [--rounds 1] [--keep DIR]
     [--against OTHER_CHECKOUT] [--commands] [--breakdown]

For each size a home is built from real bench papers (`../shared/bench`): a profile 'mine' of that many papers (six
in seven liked, one in seven disliked, added over the past three years) and one stored day (a cs.CV and a cs.CL
listing, about 400 papers), with every text in the embedding cache. Embedder: the tests' fake bag-of-words model
(64 dimensions), so paperrec's own code is timed. Each size runs in a process of its own, warm as a server is: the
first Today page (which fits the ranker) is not timed. Then, one vote at a time, liking or disliking the top unrated
pick as a researcher triaging with the keyboard does:
  vote + page  POST /rate until the page after it is back (the redirect followed): what the researcher waits for;
  settled      from the POST until the day is re-ranked for the vote (the same as `vote + page` when the page waits
               for the refit; later when the refit runs behind the page);
  refit        the hybrid ranker fitted on the profile and the day (fit_hybrid), once its inputs are built, its TF-IDF
               space reused as after a vote (a vote moves a paper between likes and negatives: the same texts);
  refit, new TF-IDF  the same with the TF-IDF space fitted afresh (a new day, or a paper new to the profile);
  today page, profile page  a view of each after the votes (after a first view, not timed);
  (medians over --votes votes; refit and pages: median of 3.)
--commands adds `rank` (warm: the server stored its ranker), `profile show`, `like` (a paper of the day, by id) and
`rank` again (it refits), each in a process of its own (the interpreter's start and imports not counted).
--breakdown adds where one vote's time goes (cProfile, cumulative seconds of the named steps; profiling slows it).
The sizes' ratios are to the smallest size of the same run. Seconds depend on the machine; ratios less so.
`--against OTHER_CHECKOUT` runs another commit's code (a folder holding its `recommender`) in turn with this one on
the same homes, and adds each figure's ratio to it.

Measured on this project's 2-core shared CPU (`--against` main at fd18eaf, `--rounds 2`, `--commands`; seconds, and
the ratio to before in the same run). Rankings and matches are unchanged (tests/test_web.py compares them).

    profile papers             300             1,000           3,500           8,000
    vote + page     before     0.154 s         0.296 s         0.974 s         2.178 s   (14.1x the 300 figure)
                    after      0.104 s 0.68x   0.184 s 0.62x   0.463 s 0.47x   0.788 s 0.36x   (7.6x)
    settled         before     0.154 s         0.296 s         0.974 s         2.178 s
                    after      0.104 s 0.68x   0.184 s 0.62x   0.529 s 0.54x   1.303 s 0.60x
    refit           after      0.043 s         0.063 s         0.190 s         0.510 s   (before: the same)
    refit, new TF-IDF after    0.256 s         0.563 s         1.889 s         4.299 s   (before: the same)
    rank (warm)     after      0.248 s 0.91x   0.311 s 0.91x   0.605 s 0.94x   1.020 s 0.86x
    rank (refit)    after      1.370 s 0.99x   1.729 s 0.98x   3.218 s 1.00x   6.161 s 0.97x
    profile show    after      0.136 s 0.94x   0.168 s 1.03x   0.283 s 0.99x   0.503 s 0.98x
    like            after      0.164 s 0.88x   0.215 s 0.91x   0.390 s 0.87x   0.752 s 0.83x
    profile page    after      0.007 s 1.04x   0.013 s 0.98x   0.033 s 0.98x   0.119 s 1.02x
    today page      after      0.005 s 0.89x   0.015 s 0.98x   0.054 s 1.05x   0.166 s 1.39x

Where one vote went before, at 8,000 papers (--breakdown, profiled): the profile edit 1.16 s (the file parsed twice,
headers found by a regex over every line, both parses compared as JSON), the stored ranker's save 0.39 s (53 MB,
its terms as 4-byte characters), the profile's titles normalised again 0.56 s, the SVM's six fits 0.54 s (five of
them cross-validation for `match`), the TF-IDF fit 0.02 s (a vote keeps the same texts: reused). What changed: the
edit reuses the parse of the text it wrote last and checks by walking the data (1.16 -> 0.62 s); the ranker's terms
are UTF-8 bytes (21 MB, save 0.19 s); titles are normalised once; and the page no longer waits for the refit: it
shows the vote at once when the refit takes longer than `page_wait` (0.25 s), and votes given meanwhile share one
refit. The fits themselves are unchanged (liblinear's random state is global, so folds cannot run in threads).
The today page at 8,000 papers reads the 13 MB profile file twice; its 1.39x is the allocator's: with
MALLOC_MMAP_THRESHOLD_ fixed it is 0.188 s before and 0.136 s after.
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
DAY = date(2026, 7, 1)
CATEGORIES = ("cs.CV", "cs.CL")
SIZES = (300, 1000, 3500, 8000)
# Steps of a vote, by the function that does each (cProfile's cumulative time of the first match).
STEPS = (
    ("profile edit (parse, edit, write)", "edit.py", "change_profile"),
    ("profile parse", "model.py", "load_profile"),
    ("embedding look-ups", "model.py", "profile_vectors"),
    ("training key", "hybrid.py", "training_key"),
    ("refit", "hybrid.py", "fit_hybrid"),
    ("  TF-IDF fit", "lexical.py", "fit_tfidf"),
    ("  logistic regression fits", "_logistic.py", "fit"),
    ("  linear SVM fits", "_classes.py", "fit"),
    ("ranker save", "hybrid.py", "save"),
    ("day scored (score_listing)", "scoring.py", "score_listing"),
    ("picks shown (_display)", "day.py", "_display"),
)


def use_fake_model() -> None:
    """Make open_embedder build the tests' fake model (no model is loaded)."""
    sys.path.append(str(REPO))  # after PYTHONPATH, so another checkout's recommender can be timed
    import recommender.embed
    from tests.conftest import FakeEmbedder

    recommender.embed.Embedder = lambda model="", **kwargs: FakeEmbedder(f"{model}|torch-float32|256")


def bench_day() -> date:
    """The last bench day with a cs.CV listing."""
    return max(date.fromisoformat(p.stem) for p in (BENCH / "listings" / "cs.CV").glob("*.jsonl"))


def read_papers(path: Path, meta: dict[str, dict]) -> list:
    """The papers of one bench listing file, with their authors and categories."""
    from recommender.schema import Paper

    papers = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        extra = meta.get(row["id"], {})
        authors, categories = extra.get("authors", ()), extra.get("categories", ())
        papers.append(Paper.make(row["title"], row["id"], row["abstract"], authors=authors, categories=categories))
    return papers


def build_home(home: Path, size: int) -> None:
    """A home with one stored day and a profile 'mine' of `size` papers from other bench days, all embedded."""
    from recommender.embed import open_embedder
    from recommender.profile import Profile, ProfilePaper, profile_to_toml
    from recommender.schema import Listing
    from recommender.sources.store import write_day

    os.environ["PAPERREC_HOME"] = str(home)
    from years_of_use import bench_meta  # benchmarks/ is on the path when this script runs

    meta = bench_meta()
    source = bench_day()
    today = []
    for category in CATEGORIES:
        papers = read_papers(BENCH / "listings" / category / f"{source.isoformat()}.jsonl", meta)
        write_day(Listing(papers=tuple(papers), date=DAY, category=category), category, DAY)
        today += papers
    taken = {p.arxiv_id for p in today}
    pool = []
    for category in CATEGORIES:  # earlier days, newest first, until the profile is full
        for path in sorted((BENCH / "listings" / category).glob("*.jsonl"), reverse=True)[1:]:
            pool += [p for p in read_papers(path, meta) if p.arxiv_id not in taken and not taken.add(p.arxiv_id)]
            if len(pool) >= 4 * size:
                break
    rng = random.Random(size)
    chosen = rng.sample(pool, size)
    added = [DAY - timedelta(days=rng.randrange(1, 3 * 365)) for _ in chosen]
    rows = sorted(zip(added, chosen, strict=True), key=lambda row: (row[0], row[1].arxiv_id))
    disliked = {i for i in range(len(rows)) if i % 7 == 3}
    profile = Profile(
        name="mine",
        description="Vision and language: what I read each morning",
        categories=CATEGORIES,
        liked=tuple(ProfilePaper(p, d) for i, (d, p) in enumerate(rows) if i not in disliked),
        disliked=tuple(ProfilePaper(p, d) for i, (d, p) in enumerate(rows) if i in disliked),
    )
    (home / "profiles").mkdir(parents=True, exist_ok=True)
    (home / "profiles" / "mine.toml").write_text(profile_to_toml(profile), encoding="utf-8")
    embedder = open_embedder(progress=False)
    embedder.embed([p.text for p in today + chosen])


def child(home: Path, votes: int, breakdown: bool) -> dict:
    """Time votes on the Today page of `home` in this process; a dict of medians in seconds."""
    use_fake_model()
    os.environ["PAPERREC_HOME"] = str(home)
    import numpy  # noqa: F401  (not timed)
    from starlette.testclient import TestClient

    from recommender.web import Settings, create_app

    path = home / "profiles" / "mine.toml"
    result: dict = {}
    with TestClient(create_app(Settings()), base_url="http://127.0.0.1:8787") as client:  # serve's own waits
        client.get("/?profile=mine")
        service = client.app.state.service
        csrf = client.app.state.csrf
        day = service.day(path, 600.0)
        client.get("/?profile=mine")
        page, settled = [], []
        for n in range(votes):
            settle(day)
            arxiv_id = next(s.pick.paper.arxiv_id for s in day.slots if s.rated is None)
            form = {"csrf": csrf, "profile": "mine", "id": arxiv_id, "action": "dislike" if n % 3 == 2 else "like"}
            start = time.perf_counter()
            posted = client.post("/rate", data=form, follow_redirects=False)
            shown = client.get("/?profile=mine")
            page.append(time.perf_counter() - start)
            settle(day)
            settled.append(time.perf_counter() - start)
            if posted.status_code != 303 or shown.status_code != 200:
                raise SystemExit(f"vote on {arxiv_id}: {posted.status_code} {posted.text[:500]}")
        result["vote_page"] = statistics.median(page)
        result["settled"] = statistics.median(settled)
        result["pages"] = {"today page": median_get(client, "/?profile=mine"), "profile page": 0.0}
        result["pages"]["profile page"] = median_get(client, "/profile?profile=mine")
        result["refit"] = time_refit(day, afresh=False)
        result["refit, new TF-IDF"] = time_refit(day, afresh=True)
        if breakdown:
            result["steps"] = profile_vote(client, day, csrf)
    return result


def median_get(client, url: str) -> float:
    """Median seconds of three views of a page after a first one (which may compute what the page keeps)."""
    client.get(url)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        if client.get(url).status_code != 200:
            raise SystemExit(f"{url}: not 200")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def settle(day) -> None:
    """Wait until the day is scored for its profile file as it is now (a refit behind the page, if any, is done)."""
    if hasattr(day, "settle"):
        day.settle()


def time_refit(day, afresh: bool) -> float:
    """Median seconds of fitting the hybrid on the day's inputs, with the TF-IDF space fitted afresh each time or
    reused (as after a vote, which moves a paper between the likes and the negatives)."""
    from recommender.rank import hybrid, lexical

    inp = day.scored.inputs
    times = []
    for _ in range(3):
        if afresh:
            lexical._fit_distinct.cache_clear()
        start = time.perf_counter()
        hybrid.fit_hybrid(inp)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def profile_vote(client, day, csrf: str) -> dict[str, float]:
    """Where one vote's time goes: cProfile's cumulative seconds of each step in STEPS.

    The vote is given on the day in this thread, its refit too (cProfile sees no other thread); the page is timed apart.
    """
    import cProfile
    import pstats

    arxiv_id = next(s.pick.paper.arxiv_id for s in day.slots if s.rated is None)
    settle(day)
    if hasattr(day, "_rescore_later"):  # a refit behind the page: here, in this thread
        day._rescore_later = day.rescore
    profiler = cProfile.Profile()
    profiler.enable()
    day.rate(arxiv_id, "liked")
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    steps = {}
    for label, filename, function in STEPS:
        found = [v[3] for (file, _, name), v in stats.items() if file.endswith(filename) and name == function]
        steps[label] = max(found, default=0.0)
    steps["whole vote (profiled)"] = max(v[3] for v in stats.values())
    start = time.perf_counter()
    client.get("/?profile=mine")
    steps["the page after it"] = time.perf_counter() - start
    return steps


def command(home: Path, operation: str) -> float:
    """Seconds of one command in this process, as `paperrec` runs it (start and imports not counted)."""
    use_fake_model()
    os.environ["PAPERREC_HOME"] = str(home)
    import numpy  # noqa: F401  (not timed)
    from typer.testing import CliRunner

    from recommender.cli import app

    listing = home / "listings" / "cs.CV" / f"{DAY.isoformat()}.jsonl"
    args = {
        "rank": ["rank", str(listing), "-p", "mine"],
        "profile_show": ["profile", "show", "mine"],
        "like": ["like", json.loads(listing.read_text().splitlines()[-1])["id"], "-p", "mine", "-l", str(listing)],
    }[operation]
    start = time.perf_counter()
    result = CliRunner().invoke(app, args)
    seconds = time.perf_counter() - start
    if result.exit_code != 0:
        raise SystemExit(f"{args}: exit {result.exit_code}: {result.output[-2000:]}")
    return seconds


# The server stored the ranker of its last vote: the first rank reuses it; the like makes the second one refit.
COMMANDS = (("rank (warm)", "rank"), ("profile show", "profile_show"), ("like", "like"), ("rank (refit)", "rank"))


def run_commands(home: Path, code: str | None) -> dict[str, float]:
    """Each command in a process of its own."""
    times = {}
    for name, operation in COMMANDS:
        command_line = [sys.executable, __file__, "--command", operation, "--child", str(home)]
        env = os.environ | {"OPENBLAS_NUM_THREADS": "1"} | ({"PYTHONPATH": code} if code else {})
        done = subprocess.run(command_line, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise SystemExit(done.stderr[-3000:])
        times[name] = float(done.stdout.strip().splitlines()[-1])
    return times


def run_child(home: Path, votes: int, breakdown: bool, code: str | None) -> dict:
    """One size in a process of its own, with this checkout's code or another's (`code`: its folder)."""
    command = [sys.executable, __file__, "--child", str(home), "--votes", str(votes)]
    command += ["--breakdown"] if breakdown else []
    env = os.environ | {"OPENBLAS_NUM_THREADS": "1"} | ({"PYTHONPATH": code} if code else {})
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def figures(result: dict) -> dict[str, float]:
    """One run's seconds by measure, in the order they are printed."""
    flat = {"vote + page": result["vote_page"], "settled": result["settled"]}
    flat |= {"refit": result["refit"], "refit, new TF-IDF": result["refit, new TF-IDF"], **result["pages"]}
    return flat | result.get("commands", {})


def table(title: str, rows: dict[str, dict[int, float]], ratio: dict[str, dict[int, float]] | None = None) -> None:
    """Seconds by measure (rows) and size (columns), each with its ratio to the first size or to `ratio`."""
    sizes = list(next(iter(rows.values())))
    print(f"\n{title:<20}" + "".join(f"{s:>17}" for s in sizes))
    for label, by_size in rows.items():
        base = ratio[label] if ratio else {s: by_size[sizes[0]] for s in sizes}
        print(f"{label:<20}" + "".join(f"{by_size[s]:8.3f} s {by_size[s] / base[s]:5.2f}x" for s in sizes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--votes", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=1, help="Runs per size (and code), interleaved; medians.")
    parser.add_argument("--keep", type=Path, help="Build the homes here once and reuse them on later runs.")
    parser.add_argument("--against", help="Another checkout's code folder, run in turn with this one's.")
    parser.add_argument("--breakdown", action="store_true", help="Also profile one vote per size.")
    parser.add_argument("--commands", action="store_true", help="Also time rank, profile show and like.")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--command", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.command:
        print(command(args.child, args.command))
        return
    if args.child:
        print(json.dumps(child(args.child, args.votes, args.breakdown)))
        return
    use_fake_model()
    root = args.keep or Path(tempfile.mkdtemp(prefix="vote-latency-"))
    codes = {"before": args.against, "this": None} if args.against else {"this": None}
    runs: dict[str, dict[int, list[dict]]] = {name: {} for name in codes}
    for size in args.sizes:
        home = root / str(size)
        original = home / "mine.toml.orig"
        if not original.is_file():
            start = time.perf_counter()
            build_home(home, size)
            shutil.copy(home / "profiles" / "mine.toml", original)
            print(f"built {size} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        for _ in range(args.rounds):
            for name, code in codes.items():
                shutil.copy(original, home / "profiles" / "mine.toml")  # every run votes on the same profile
                shutil.rmtree(home / "state", ignore_errors=True)  # and sees the same picks (no seen-memory)
                shutil.rmtree(home / "cache" / "rankers", ignore_errors=True)  # and fits its own first ranker
                result = run_child(home, args.votes, args.breakdown, code)
                if args.commands:
                    result["commands"] = run_commands(home, code)
                runs[name].setdefault(size, []).append(result)
    tables = {}
    for name in codes:
        labels = figures(runs[name][args.sizes[0]][0])
        rows = {k: {s: statistics.median(figures(r)[k] for r in runs[name][s]) for s in args.sizes} for k in labels}
        tables[name] = rows
        table(f"{name}: s (to {args.sizes[0]})", rows)
    if args.against:
        table("this: s (to before)", tables["this"], tables["before"])
    if args.breakdown:
        for name in codes:
            print(f"\n{name + ': one vote, cum. s':<36}" + "".join(f"{s:>8}" for s in args.sizes))
            for label in runs[name][args.sizes[0]][0]["steps"]:
                cells = [statistics.median(r["steps"][label] for r in runs[name][s]) for s in args.sizes]
                print(f"{label:<36}" + "".join(f"{c:8.3f}" for c in cells))
    if args.keep is None:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
