"""Time one like on a 500-paper profile (each abstract ~1000 characters), against a plain load_profile.

Run: .venv/bin/python benchmarks/profile_edit.py [--papers 500] [--repeat 5]
Prints medians in milliseconds: load_profile, like in-process on the text path (rate_papers), the same like
when the layout needs tomlkit (liked tables not last and a multi-line string), a whole tomlkit parse + dump,
and `paperrec like` as a subprocess.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from recommender.profile import load_profile, new_profile, rate_papers, save_profile  # noqa: E402
from recommender.schema import Paper  # noqa: E402
from recommender.sources import to_jsonl  # noqa: E402

WORDS = [
    "image",
    "super",
    "resolution",
    "network",
    "transformer",
    "attention",
    "diffusion",
    "restoration",
    "blind",
    "kernel",
]


def abstract(i: int) -> str:
    words = [WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(140)]
    return " ".join(words)[:1000]


def median_ms(run: Callable[[], object], repeat: int, reset: Callable[[], object] = lambda: None) -> float:
    times = []
    for _ in range(repeat):
        reset()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        os.environ["PAPERREC_HOME"] = str(root / "home")
        papers = [Paper.make(f"Paper {i} on SR", f"2101.{i:05d}", abstract(i)) for i in range(args.papers)]
        path = root / "big.toml"
        save_profile(new_profile("big", papers), path)
        original = path.read_text()
        slow_path = root / "slow.toml"  # a layout the text path hands to tomlkit
        slow_text = original.replace('description = ""', 'description = """\nmulti-line\n"""')
        new = Paper.make("A new paper", "2201.00001", abstract(9999))
        listing = root / "listing.jsonl"
        listing.write_text(to_jsonl([new]))
        command = [sys.executable, "-m", "recommender", "like", new.arxiv_id, "-p", str(path), "-l", str(listing)]

        def reset() -> None:
            path.write_text(original)
            slow_path.write_text(slow_text)

        import tomlkit

        reset()
        rows = {
            "load_profile": median_ms(lambda: load_profile(path), args.repeat),
            "like, in-process (text path)": median_ms(lambda: rate_papers(path, [new], "liked"), args.repeat, reset),
            "like, in-process (tomlkit layout)": median_ms(
                lambda: rate_papers(slow_path, [new], "liked"), args.repeat, reset
            ),
            "tomlkit parse + dump alone": median_ms(lambda: tomlkit.dumps(tomlkit.parse(original)), args.repeat),
            "paperrec like (subprocess)": median_ms(
                lambda: subprocess.run(command, cwd=REPO, check=True, capture_output=True), args.repeat, reset
            ),
        }
        reset()
        rate_papers(path, [new], "liked")
        assert path.read_text().startswith(original) and len(load_profile(path).liked) == args.papers + 1
    print(f"profile: {args.papers} papers, {len(original) / 1000:.0f} kB; median of {args.repeat}; {date.today()}")
    for name, ms in rows.items():
        print(f"  {name:36s} {ms:8.1f} ms")


if __name__ == "__main__":
    main()
