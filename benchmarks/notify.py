"""What `today --notify` adds to a morning: `paperrec today --offline` with three local chat targets against without.

A temporary home holds the super-resolution profile, the example cs.CV day and a serve_url, so each pick carries
signed vote links. A local HTTP server takes apprise's json://, form:// and json://?format=html messages and
answers 200 at once, so the figure is paperrec's own cost: importing apprise, composing each target's message,
signing the links and posting. Runs alternate (without, with) after one warm-up run that fills the embedding cache.
Each run is a fresh process, as from cron. Target (issue 23, with the other parts): at most 2 s more.

Run: .venv/bin/python benchmarks/notify.py [--repeat 5] [--fake-model]
--fake-model ranks with the tests' fake embedder (no model to load: quicker, same notify cost).
Writes benchmarks/results/notify.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# The command line with the fake embedder patched in (as tests/web_launcher.py does for serve).
FAKE = """
import sys
import recommender.embed
from tests.conftest import FakeEmbedder
recommender.embed.Embedder = lambda model="", **kwargs: FakeEmbedder(f"{model}|torch-float32|256")
from recommender.cli import run
sys.argv = ["paperrec", *sys.argv[1:]]
run()
"""


class Chat(BaseHTTPRequestHandler):
    """Takes every message at once and counts it."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.count += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def setup(home: Path, port: int) -> None:
    """One profile, one stored day, and config.toml with serve_url and three targets (mode 0600)."""
    from recommender.sources import read_listing, to_jsonl

    (home / "profiles").mkdir(parents=True)
    (home / "profiles" / "sr.toml").write_text((REPO / "profiles" / "super-resolution.toml").read_text())
    folder = home / "listings" / "cs.CV"
    folder.mkdir(parents=True)
    day = read_listing(REPO / "examples" / "arxiv-cs.CV-2021-04-22.md")
    (folder / "2021-04-22.jsonl").write_text(to_jsonl(day.papers))
    targets = [f"json://127.0.0.1:{port}/a", f"form://127.0.0.1:{port}/b", f"json://127.0.0.1:{port}/c?format=html"]
    config = home / "config.toml"
    config.write_text(f'serve_url = "http://127.0.0.1:8787"\nnotify = {json.dumps(targets)}\n')
    config.chmod(0o600)


def run(command: list[str], home: Path) -> float:
    """Wall seconds of one paperrec process; stops the benchmark if it fails."""
    env = {**os.environ, "PAPERREC_HOME": str(home)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached after the first run
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return wall


def measure(repeat: int, fake_model: bool) -> dict[str, object]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Chat)
    server.count = 0
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    base = [sys.executable, "-c", FAKE] if fake_model else [sys.executable, "-m", "recommender"]
    today = [*base, "today", "--offline", "--include-seen", "-p", "sr", "-f", "json"]
    without, with_notify = [], []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp) / "home"
            setup(home, server.server_address[1])
            run(today, home)  # fills the embedding cache; the figures below are warm mornings
            for _ in range(repeat):
                without.append(run(today, home))
                with_notify.append(run([*today, "--notify"], home))
    finally:
        server.shutdown()
        server.server_close()
    if server.count != 3 * repeat:
        raise SystemExit(f"expected {3 * repeat} messages, the server took {server.count}")
    plain, notified = statistics.median(without), statistics.median(with_notify)
    return {
        "model": "fake" if fake_model else "default",
        "today_s_median": round(plain, 3),
        "today_notify_s_median": round(notified, 3),
        "added_s": round(notified - plain, 3),
        "ratio": round(notified / plain, 3),
        "target_added_s": 2.0,
        "runs_without": [round(x, 3) for x in without],
        "runs_with": [round(x, 3) for x in with_notify],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fake-model", action="store_true", help="rank with the tests' fake embedder")
    args = parser.parse_args()
    figures = measure(args.repeat, args.fake_model)
    for key, value in figures.items():
        print(f"{key:24} {value}")
    out = REPO / "benchmarks" / "results" / "notify.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
