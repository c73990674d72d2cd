"""The first morning after importing an old library, end to end with the real model: how many picks are on topic.

    python benchmarks/library_first_day.py --bench ../shared/bench [--tree PATH] [--gap 540]

For each case (a bench list and one of its days) the library is the list's papers known at least `--gap` days before
the day, as `evaluate --library-titles --profile-gap-days` builds it (mostly titles alone: a DBLP or Scholar export).
In a fresh PAPERREC_HOME it runs the command line a new user runs: `paperrec profile new lib --from library.jsonl
--offline`, then `paperrec rank day.jsonl -p lib --top 10 -f json`, with the default model, and counts the picks that
are in the list. `--tree` runs another checkout's `recommender` (e.g. a worktree of an older commit) on the same
files, for a before/after comparison; wall times include the model load and embedding every text once.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from recommender.evaluate.bench import load_bench

CASES = (("lm-safety-security-privacy", date(2025, 5, 23)), ("long-context-llm", date(2026, 5, 28)))


def write_jsonl(path: Path, papers, day: date | None = None) -> None:
    """Papers as listing JSONL (the day's date on each when given)."""
    with path.open("w", encoding="utf-8") as out:
        for p in papers:
            row = {"id": p.arxiv_id, "title": p.title, "abstract": p.abstract, "authors": list(p.authors)}
            row |= {"categories": list(p.categories)} | ({"date": day.isoformat()} if day else {})
            out.write(json.dumps(row) + "\n")


def run_case(tree: Path, folder: Path, name: str, day: date) -> dict:
    """Import the library and rank the day in a fresh home; the picks in the list, the notice and the times."""
    home = Path(tempfile.mkdtemp(prefix="paperrec-library-", dir=folder))
    env = os.environ | {"PAPERREC_HOME": str(home), "PYTHONPATH": str(tree)}
    command = [sys.executable, "-m", "recommender"]
    started = time.perf_counter()
    library = folder / f"{name}.library.jsonl"
    subprocess.run(
        [*command, "profile", "new", "lib", "--from", str(library), "--offline"],
        env=env, cwd=tree, check=True, capture_output=True, text=True,
    )  # fmt: skip
    imported = time.perf_counter()
    out = folder / f"{name}.picks.json"
    ranked = subprocess.run(
        [*command, "rank", str(folder / f"{name}.day.jsonl"), "-p", "lib", "--top", "10", "-f", "json", "-o", str(out)],
        env=env, cwd=tree, check=True, capture_output=True, text=True,
    )  # fmt: skip
    done = time.perf_counter()
    positives = set(json.loads((folder / f"{name}.positives.json").read_text()))
    picks = json.loads(out.read_text())
    return {
        "list": name,
        "day": day.isoformat(),
        "on_list": [p["rank"] for p in picks if p["id"] in positives],
        "titles": [("* " if p["id"] in positives else "  ") + p["title"] for p in picks],
        "notice": [line for line in ranked.stderr.splitlines() if "your likes are from" in line],
        "import_s": round(imported - started, 1),
        "rank_s": round(done - imported, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=Path("../shared/bench"))
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--gap", type=int, default=540)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    bench = load_bench(args.bench)
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for name, day in CASES:
            library = bench.profile(name, day, gap_days=args.gap, library=True)
            write_jsonl(folder / f"{name}.library.jsonl", library)
            write_jsonl(folder / f"{name}.day.jsonl", bench.candidates(day), day)
            (folder / f"{name}.positives.json").write_text(json.dumps(sorted(bench.positives(name, day))))
            result = run_case(args.tree.resolve(), folder, name, day)
            result |= {"library": len(library), "by_title": sum(1 for p in library if not p.abstract)}
            result |= {"candidates": len(bench.candidates(day)), "positives": len(bench.positives(name, day))}
            results.append(result)
            print(f"{name} {day}: library {result['library']} papers ({result['by_title']} by title alone), "
                  f"{result['candidates']} candidates, {result['positives']} in the list")  # fmt: skip
            print(f"  {len(result['on_list'])} of the top 10 in the list (ranks {result['on_list']}); "
                  f"import {result['import_s']} s, first rank {result['rank_s']} s")  # fmt: skip
            for line in result["notice"]:
                print(f"  {line}")
            for title in result["titles"]:
                print(f"    {title[:100]}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "library_first_day.json").write_text(json.dumps({"tree": str(args.tree), "cases": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
