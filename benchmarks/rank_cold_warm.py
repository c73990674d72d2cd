"""Time `paperrec rank` on the example listing: cold (empty cache) versus warm (everything cached).

Run: .venv/bin/python benchmarks/rank_cold_warm.py [--repeat 3]
Prints wall times of whole processes and the warm/cold ratio; writes benchmarks/results/rank_cold_warm.json.
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
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMMAND = [
    sys.executable,
    "-m",
    "recommender",
    "rank",
    "examples/arxiv-cs.CV-2021-04-22.md",
    "--profile",
    "profiles/super-resolution.toml",
    "--format",
    "json",
]


def timed(home: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        COMMAND, cwd=REPO, env={**os.environ, "PAPERREC_HOME": str(home)}, check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cold, warm = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            cold.append(timed(Path(tmp)))
            warm.extend(timed(Path(tmp)) for _ in range(3))
    result = {
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, {platform.python_version()}",
        "papers": 59,
        "cold_s": statistics.median(cold),
        "warm_s": statistics.median(warm),
    }
    result["warm_over_cold"] = result["warm_s"] / result["cold_s"]
    print(f"cold rank (empty cache, model load + 65 embeddings): {result['cold_s']:.2f} s")
    print(f"warm rank (all vectors cached):                      {result['warm_s']:.2f} s")
    print(f"warm / cold: {result['warm_over_cold']:.3f}  ({1 / result['warm_over_cold']:.0f}x faster)")
    out = REPO / "benchmarks" / "results" / "rank_cold_warm.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
