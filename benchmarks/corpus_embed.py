"""`paperrec embed` on a large corpus from ../shared/bench: throughput, peak memory, and resuming after an interrupt.

Writes N distinct bench papers to a JSONL file, then in a fresh PAPERREC_HOME:
  1. starts `paperrec embed`, interrupts it (SIGINT) after --interrupt-after seconds;
  2. runs it again to the end (it must skip what the first run committed);
  3. runs it a third time (nothing left to embed).
Wall time, throughput and peak RSS (wait4, this child only) for each run.

Run: .venv/bin/python benchmarks/corpus_embed.py [--n 20000] [--interrupt-after 60] [--backend torch]
Writes benchmarks/results/corpus_embed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def corpus(bench: Path, n: int, out: Path) -> int:
    """The first n distinct papers of the bench listings, as JSONL."""
    seen: set[str] = set()
    with out.open("w") as handle:
        for path in sorted((bench / "listings").glob("*/*.jsonl")):
            for line in path.open():
                record = json.loads(line)
                if record["id"] not in seen and len(seen) < n:
                    seen.add(record["id"])
                    handle.write(json.dumps({k: record[k] for k in ("id", "title", "abstract")}) + "\n")
    return len(seen)


def run(command: list[str], home: Path, stop_after: float | None = None) -> dict[str, object]:
    """Run a process (optionally interrupted after stop_after s); wall time, peak RSS, exit code, stdout."""
    env = {**os.environ, "PAPERREC_HOME": str(home)}
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        # A background shell may have SIGINT ignored; give the child the default handler so ^C semantics hold.
        process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=out, stderr=subprocess.DEVNULL,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler),
        )  # fmt: skip
        if stop_after is not None:
            try:
                process.wait(timeout=stop_after)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGINT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0)
        return {
            "wall_s": wall,
            "peak_rss_mb": usage.ru_maxrss / 1024,
            "exit": os.waitstatus_to_exitcode(status),
            "stdout": out.read().decode().strip(),
        }


def cached(home: Path) -> int:
    """Vectors in the cache of a home."""
    import sqlite3

    path = home / "cache" / "embeddings.sqlite3"
    return sqlite3.connect(path).execute("SELECT COUNT(*) FROM vectors").fetchone()[0] if path.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=REPO.parent / "shared" / "bench")
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--interrupt-after", type=float, default=60.0)
    parser.add_argument("--backend", default="torch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        n = corpus(args.bench, args.n, root / "corpus.jsonl")
        command = [sys.executable, "-m", "recommender", "embed", str(root / "corpus.jsonl"), "--backend", args.backend]
        home = root / "home"
        results = {"papers": n, "backend": args.backend, "cpus": os.cpu_count()}
        results["interrupted"] = run(command, home, stop_after=args.interrupt_after) | {"cached_after": cached(home)}
        results["resumed"] = run(command, home) | {"cached_after": cached(home)}
        results["again"] = run(command, home) | {"cached_after": cached(home)}
    print(f"{n} papers, backend {args.backend}, {os.cpu_count()} CPUs")
    for name in ("interrupted", "resumed", "again"):
        r = results[name]
        print(
            f"  {name:<11} exit {r['exit']:>3}  wall {r['wall_s']:7.1f} s  peak RSS {r['peak_rss_mb']:6.0f} MB  "
            f"cached after {r['cached_after']:>6}  {r['stdout']}"
        )
    out = REPO / "benchmarks" / "results" / "corpus_embed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
