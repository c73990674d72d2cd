"""End-to-end speed of paperrec on real data, with the raw model as the yardstick, in one run.

Builds a 300-paper day and a 500-paper profile from ../shared/bench, then measures, each in a fresh process:
  raw model: import + load + encode the day's 300 abstracts (no paperrec around it), and its throughput;
  rank cold (empty cache: embeds profile and day, like a tool that re-embeds everything on every run);
  rank with the profile cached (the everyday first run of a new day);
  rank fully warm (the same day again: nothing to embed, no model loaded);
  `paperrec --help` and `paperrec profile list` start-up;
  a machine yardstick: `python -c "import numpy"`, so CPU times can be compared across machines as ratios.
Wall time, CPU time (user + sys) and peak RSS per process; medians over --repeat runs.

Run: .venv/bin/python benchmarks/speed.py [--bench ../shared/bench] [--repeat 3] [--backend torch --backend onnx]
Writes benchmarks/results/speed.json.

`--against REV` instead measures only the fast paths (warm rank, --help) of this tree against the commit REV, the two
interleaved in one run, and prints the ratios: how a change moved them, on the same machine at the same time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from recommender.profile import new_profile, save_profile  # noqa: E402
from recommender.sources import read_listing, to_jsonl  # noqa: E402

RAW_MODEL = """
import json, sys, time
start = time.perf_counter()
from recommender.embed import Embedder
from recommender.sources import read_listing
texts = [p.text for p in read_listing(sys.argv[1]).papers]
embedder = Embedder(backend=sys.argv[2]) if sys.argv[2] != "torch" else Embedder()
embedder.encode(texts[:2])  # loads the model (imports included)
loaded = time.perf_counter()
embedder.encode(texts)
done = time.perf_counter()
print(json.dumps({"load_s": loaded - start, "encode_s": done - loaded, "per_s": len(texts) / (done - loaded)}))
"""


def run(command: list[str], home: Path) -> dict[str, float]:
    """Run a process; its wall time, CPU time and peak RSS (from wait4, so only this child counts)."""
    import time

    env = {**os.environ, "PAPERREC_HOME": str(home)}
    # As installed: bytecode cached after the first run (else every run compiles the sources, and start-up
    # figures grow with the length of the files rather than with what runs).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        stderr = process.stderr.read().decode() if process.stderr else ""
        out.seek(0)
        stdout = out.read().decode()
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed: {stderr.strip()[-500:]}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "stdout": stdout,
    }


def median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in ("wall_s", "cpu_s", "peak_rss_mb")}


def build_data(bench: Path, folder: Path, day_size: int, profile_size: int) -> tuple[Path, Path, Path]:
    """A real day (day_size papers) and a profile of profile_size earlier papers, as files under folder."""
    files = sorted((bench / "listings").glob("*/*.jsonl"))
    per_day = Counter(f.stem for f in files for _ in f.open())
    day = next(d for d, n in sorted(per_day.items(), key=lambda x: (-x[1], x[0])) if n >= day_size)
    papers = {p.arxiv_id: p for f in files if f.stem == day for p in read_listing(f).papers}
    today = sorted(papers.values(), key=lambda p: p.arxiv_id)[:day_size]
    earlier: dict[str, object] = {}
    for f in sorted((f for f in files if f.stem < day), key=lambda f: f.stem, reverse=True):
        for p in read_listing(f).papers:
            if p.arxiv_id not in papers:
                earlier.setdefault(p.arxiv_id, p)
        if len(earlier) >= profile_size:
            break
    liked = list(earlier.values())[:profile_size]
    day_file, liked_file, profile_file = folder / "day.jsonl", folder / "liked.jsonl", folder / "profile.toml"
    day_file.write_text(to_jsonl(today))
    liked_file.write_text(to_jsonl(liked))
    save_profile(new_profile("bench", liked), profile_file)
    return day_file, liked_file, profile_file


def compare_against(rev: str, args: argparse.Namespace) -> None:
    """Warm rank and --help of this tree and of commit `rev`, interleaved; medians and ratios."""
    import shutil

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        baseline = root / "baseline"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(baseline), rev], check=True)
        try:
            day, liked, profile = build_data(args.bench, root, args.day_size, args.profile_size)
            trees = {"this tree": REPO, rev: baseline}
            homes = {name: root / f"home-{i}" for i, name in enumerate(trees)}
            first = next(iter(homes.values()))
            run([sys.executable, "-m", "recommender", "embed", str(liked), str(day)], first)  # the one cold run
            for home in list(homes.values())[1:]:
                shutil.copytree(first / "cache", home / "cache")
            commands = {
                "warm rank": ["rank", str(day), "--profile", str(profile), "-f", "json"],
                "--help": ["--help"],
            }
            measured: dict[tuple[str, str], list[dict[str, float]]] = {}
            for name, tree in trees.items():  # fit and store each tree's ranker before timing
                env_run(tree, commands["warm rank"], homes[name])
            for _ in range(max(args.repeat, 7)):
                for what, command in commands.items():
                    for name, tree in trees.items():
                        measured.setdefault((what, name), []).append(env_run(tree, command, homes[name]))
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(baseline)], check=False)
    print(f"fast paths, this tree against {rev}; medians of {max(args.repeat, 7)} interleaved runs")
    for what in commands:
        mine, theirs = median(measured[(what, "this tree")]), median(measured[(what, rev)])
        print(
            f"  {what:<10} this tree cpu {mine['cpu_s']:.3f} s wall {mine['wall_s']:.3f} s | {rev} cpu "
            f"{theirs['cpu_s']:.3f} s wall {theirs['wall_s']:.3f} s | cpu ratio {mine['cpu_s'] / theirs['cpu_s']:.2f}"
        )


def env_run(tree: Path, args: list[str], home: Path) -> dict[str, float]:
    """paperrec from a given source tree (PYTHONPATH first, so it wins over the installed checkout)."""
    os.environ["PYTHONPATH"] = str(tree)
    try:
        return run([sys.executable, "-m", "recommender", *args], home)
    finally:
        del os.environ["PYTHONPATH"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=REPO.parent / "shared" / "bench")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--day-size", type=int, default=300)
    parser.add_argument("--profile-size", type=int, default=500)
    parser.add_argument("--backend", action="append", help="torch (default) and/or onnx; repeat")
    parser.add_argument("--against", metavar="REV", help="Only the fast paths, against this commit (interleaved).")
    args = parser.parse_args()
    if args.against:
        compare_against(args.against, args)
        return
    backends = args.backend or ["torch"]
    paperrec = [sys.executable, "-m", "recommender"]
    results: dict[str, object] = {
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "day_size": args.day_size,
        "profile_size": args.profile_size,
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        day, liked, profile = build_data(args.bench, root, args.day_size, args.profile_size)
        startup = {
            name: median([run([*paperrec, *command], root / "startup") for _ in range(max(args.repeat, 5))])
            for name, command in (("--help", ["--help"]), ("profile list", ["profile", "list"]))
        }
        results["startup"] = startup
        yardstick = median([run([sys.executable, "-c", "import numpy"], root) for _ in range(max(args.repeat, 5))])
        results["import_numpy"] = yardstick
        for backend in backends:
            env_backend = [] if backend == "torch" else ["--backend", backend]
            rank = [*paperrec, "rank", str(day), "--profile", str(profile), "-f", "json", *env_backend]
            raw, cold, profile_cached, warm = [], [], [], []
            for i in range(args.repeat):
                measured = run([sys.executable, "-c", RAW_MODEL, str(day), backend], root / "raw")
                raw.append({**measured, **json.loads(measured["stdout"])})
                cold.append(run(rank, root / f"cold-{backend}-{i}"))
                home = root / f"profile-{backend}-{i}"
                run([*paperrec, "embed", str(liked), *env_backend], home)
                profile_cached.append(run(rank, home))
                warm.append(run(rank, home))
            raw_summary = median(raw) | {
                "load_s": statistics.median(r["load_s"] for r in raw),
                "encode_s": statistics.median(r["encode_s"] for r in raw),
                "abstracts_per_s": statistics.median(r["per_s"] for r in raw),
            }
            summary = {
                "raw_model": raw_summary,
                "rank_cold_reembed_everything": median(cold),
                "rank_profile_cached": median(profile_cached),
                "rank_warm": median(warm),
            }
            summary["ratios"] = {
                "profile_cached_over_raw_model": summary["rank_profile_cached"]["wall_s"] / raw_summary["wall_s"],
                "reembed_over_warm": summary["rank_cold_reembed_everything"]["wall_s"] / summary["rank_warm"]["wall_s"],
            }
            results[backend] = summary
    out = REPO / "benchmarks" / "results" / "speed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"machine: {results['machine']}; day {args.day_size} papers, profile {args.profile_size}; medians")
    print(f"  yardstick: python -c 'import numpy'  cpu {yardstick['cpu_s']:.2f} s")
    for name, m in startup.items():
        print(f"  paperrec {name:<14} wall {m['wall_s']:.2f} s  cpu {m['cpu_s']:.2f} s  rss {m['peak_rss_mb']:.0f} MB")
    for backend in backends:
        summary = results[backend]
        print(f"backend {backend}:")
        raw = summary["raw_model"]
        print(
            f"  raw model          wall {raw['wall_s']:.2f} s (import+load {raw['load_s']:.2f} s, encode "
            f"{raw['encode_s']:.2f} s = {raw['abstracts_per_s']:.1f} abstracts/s)  rss {raw['peak_rss_mb']:.0f} MB"
        )
        for key in ("rank_cold_reembed_everything", "rank_profile_cached", "rank_warm"):
            m = summary[key]
            print(f"  {key:<30} wall {m['wall_s']:.2f} s  cpu {m['cpu_s']:.2f} s  rss {m['peak_rss_mb']:.0f} MB")
        warm_cpu = summary["rank_warm"]["cpu_s"]
        print(f"  warm rank cpu = {warm_cpu / yardstick['cpu_s']:.1f} x the numpy-import yardstick")
        ratios = summary["ratios"]
        print(
            f"  profile-cached rank / raw model = {ratios['profile_cached_over_raw_model']:.2f}; "
            f"re-embed everything / warm = {ratios['reembed_over_warm']:.1f}x"
        )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
