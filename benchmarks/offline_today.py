"""How long 'paperrec today' takes to give up with no network, for two profiles that ask arXiv for other categories.

Each run is a fresh process in a network namespace of its own with no interface up (`unshare -rn`), so every name
lookup fails at once, as with the cable pulled. The home is temporary and holds two profiles, cs.CV and cs.LG, and no
stored day. The figure is the wall time of the whole process, from start to exit (75 expected). `--source` times
another checkout of paperrec (e.g. one from before a change) with this machine's Python.

Run: .venv/bin/python benchmarks/offline_today.py [--repeat 3] [--source PATH]
Writes benchmarks/results/offline_today.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROFILES = {"vision": "cs.CV", "learning": "cs.LG"}


def write_profiles(home: Path) -> None:
    """Two profiles of one category each, no papers: the run fails at the fetch, before any model is loaded."""
    folder = home / "profiles"
    folder.mkdir(parents=True)
    for name, category in PROFILES.items():
        (folder / f"{name}.toml").write_text(
            f'schema = 1\nname = "{name}"\ncategories = ["{category}"]\ninterests = ["papers on {name}"]\n'
            "liked = []\ndisliked = []\n"
        )


def one_run(source: Path) -> tuple[float, int, list[str]]:
    """Seconds, exit code and stderr lines of one offline 'paperrec today'."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        write_profiles(home)
        env = {**os.environ, "PAPERREC_HOME": str(home), "PYTHONPATH": str(source)}
        command = ["unshare", "-rn", sys.executable, "-m", "recommender", "today"]
        started = time.perf_counter()
        # From the temporary folder: `python -m` imports from the working folder before PYTHONPATH.
        done = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
    return seconds, done.returncode, done.stderr.strip().splitlines()


def measure(source: Path, repeat: int) -> dict[str, object]:
    runs = [one_run(source) for _ in range(repeat)]
    seconds = [round(s, 2) for s, _, _ in runs]
    return {
        "source": str(source),
        "seconds_median": round(statistics.median(seconds), 2),
        "seconds": seconds,
        "exit_codes": sorted({code for _, code, _ in runs}),
        "stderr": runs[-1][2],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--source", type=Path, default=REPO, help="the checkout whose recommender package is run")
    args = parser.parse_args()
    if shutil.which("unshare") is None:
        raise SystemExit("needs unshare(1) from util-linux, and user namespaces allowed")
    figures = measure(args.source.resolve(), args.repeat)
    for key, value in figures.items():
        print(f"{key:16} {value}")
    out = REPO / "benchmarks" / "results" / "offline_today.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
