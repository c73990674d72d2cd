"""What cached summaries add to a morning: `paperrec today --offline` with every pick's summary cached, against without.

A temporary home holds two profiles (super-resolution, medical-segmentation) and the example cs.CV day in the
listing store. A first, untimed run embeds the day and has llm-echo summarise each profile's 10 picks, so the
summary cache holds them all. Then each repetition runs the same command twice, as a user would from cron: without
summaries, and with `--summary-model echo`. The timed runs load no llm plugin (LLM_LOAD_PLUGINS is empty), so a
summary that was not cached would be a notice on stderr, which the script refuses. Each command is a fresh process
with the real embedding model, so model loading is in both figures.
Target (issue 23, with Zotero sync and notifications): at most 2 s more than without.

Run: .venv/bin/python benchmarks/summary_speed.py [--repeat 3]
Writes benchmarks/results/summary_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PROFILES = ("super-resolution", "medical-segmentation")


def setup(home: Path) -> None:
    """The profiles and one stored day."""
    from recommender.sources import read_listing, to_jsonl

    (home / "profiles").mkdir(parents=True)
    for name in PROFILES:
        (home / "profiles" / f"{name}.toml").write_text((REPO / "profiles" / f"{name}.toml").read_text())
    folder = home / "listings" / "cs.CV"
    folder.mkdir(parents=True)
    day = read_listing(REPO / "examples" / "arxiv-cs.CV-2021-04-22.md")
    (folder / "2021-04-22.jsonl").write_text(to_jsonl(day.papers))


def today(env: dict[str, str], *extra: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Seconds one `paperrec today --offline --include-seen -f json` takes, and what it printed."""
    command = [sys.executable, "-m", "recommender", "today", "--offline", "--include-seen", "-f", "json", *extra]
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"paperrec today failed ({result.returncode}):\n{result.stderr}")
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        setup(home)
        env = {**os.environ, "PAPERREC_HOME": str(home), "LLM_USER_PATH": str(Path(folder) / "llm")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
        _, first = today(env, "--summary-model", "echo")
        picks = json.loads(first.stdout)
        if not picks or not all("summary" in p for p in picks):
            raise SystemExit(f"the first run left picks without a summary:\n{first.stderr}")
        timed = {**env, "LLM_LOAD_PLUGINS": ""}  # no plugin: a summary not in the cache could only fail
        without, cached = [], []
        for _ in range(args.repeat):
            seconds, _ = today(timed)
            without.append(seconds)
            seconds, result = today(timed, "--summary-model", "echo")
            if "summaries:" in result.stderr or not all("summary" in p for p in json.loads(result.stdout)):
                raise SystemExit(f"a timed run asked the model:\n{result.stderr}")
            cached.append(seconds)
    figures = {
        "picks": len(picks),
        "repeat": args.repeat,
        "without_s": round(statistics.median(without), 3),
        "cached_summaries_s": round(statistics.median(cached), 3),
    }
    figures["added_s"] = round(figures["cached_summaries_s"] - figures["without_s"], 3)
    print(
        f"today --offline, {len(picks)} picks: without summaries {figures['without_s']:.2f} s, "
        f"with cached summaries {figures['cached_summaries_s']:.2f} s ({figures['added_s']:+.2f} s; target: +2 s)"
    )
    out = REPO / "benchmarks" / "results" / "summary_speed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
