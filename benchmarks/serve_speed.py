"""How fast `paperrec serve` answers, on real data: start, a warm first page, a like (refit + re-rank), idle memory.

Builds a 300-paper day and a 500-paper profile from ../shared/bench (as benchmarks/speed.py does), stores the day as
the profile's latest listing, then runs a real server (uvicorn, its own process) on 127.0.0.1 and measures:
  start: process start until the first answer (GET /status; no model load);
  first day: the first Today page, which scores the day (and fits the hybrid ranker once);
  warm page: the Today page again, the day in memory (median of --repeat);
  like: POST /rate for the next unrated pick until the updated page is back (redirect followed): the profile file
        edit, the refit of the hybrid ranker on 500 likes, the re-scoring of the day and the new picks' reasons
        (median and max of --repeat likes);
  idle RSS of the server process after the likes;
  warm page under idle load: the Today page on a new connection each time while 200 idle connections are held open
        (median and max of --repeat; target 0.3 s), with the sockets the server held open meanwhile.
The server asks for its token (PAPERREC_TOKEN, sent as a bearer header), as a user's does.
Embedder: `fake` (the tests' bag-of-words, 64 dimensions) or `real` (all-MiniLM-L6-v2; the cache is filled first,
picks' sentences included, so no model loads while measuring). Warm cache either way.

Run: .venv/bin/python benchmarks/serve_speed.py [--embedder fake|real] [--repeat 5]
Writes benchmarks/results/serve_speed.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from speed import build_data  # noqa: E402

from recommender.sources import read_listing, to_jsonl  # noqa: E402

REAL_SERVER = "from recommender.web import serve; import sys; serve(port=int(sys.argv[1]))"
TOKEN = "bench-token-0123456789"
IDLE = 200
WARM_REAL = """
import sys
from recommender.embed import open_embedder
from recommender.rank import sentences
from recommender.sources import read_listing
embedder = open_embedder(progress=False)
papers = [p for f in sys.argv[1:] for p in read_listing(f).papers]
embedder.embed([p.text for p in papers])
embedder.embed([s for p in papers for s in sentences(p.abstract)])
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def open_sockets(pid: int) -> int:
    """How many sockets the process holds open."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            count += os.readlink(fd).startswith("socket:")
    return count


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def setup(home: Path, bench: Path, work: Path) -> Path:
    """The day stored as listings/<primary category>/<day>.jsonl, the profile naming those categories."""
    day_file, liked_file, profile_file = build_data(bench, work, 300, 500)
    day = read_listing(day_file)
    when = next(p.date for p in day.papers if p.date)
    by_category = defaultdict(list)
    for paper in day.papers:
        by_category[paper.categories[0] if paper.categories else "cs.LG"].append(paper)
    for category, papers in by_category.items():
        folder = home / "listings" / category
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{when.isoformat()}.jsonl").write_text(to_jsonl(papers))
    profiles = home / "profiles"
    profiles.mkdir(parents=True)
    from recommender.profile import load_profile, save_profile

    profile = load_profile(profile_file)
    save_profile(replace(profile, categories=tuple(sorted(by_category))), profiles / "bench.toml")
    return day_file, liked_file


def measure(args: argparse.Namespace) -> dict[str, object]:
    import httpx

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        home = root / "home"
        day_file, liked_file = setup(home, args.bench, root)
        env = {**os.environ, "PAPERREC_HOME": str(home), "PAPERREC_TOKEN": TOKEN}
        if args.embedder == "real":
            print("filling the embedding cache (real model, once)...", file=sys.stderr)
            subprocess.run([sys.executable, "-c", WARM_REAL, str(liked_file), str(day_file)], env=env, check=True)
        port = free_port()
        command = (
            [sys.executable, "-m", "tests.web_launcher", str(port)]
            if args.embedder == "fake"
            else [sys.executable, "-c", REAL_SERVER, str(port)]
        )
        base = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        server = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE)
        try:
            auth = {"authorization": f"Bearer {TOKEN}"}
            with httpx.Client(base_url=base, timeout=120, headers=auth) as client:
                while True:
                    try:
                        client.get("/status")
                        break
                    except httpx.TransportError:
                        if server.poll() is not None:
                            raise SystemExit(server.stderr.read().decode()) from None
                        time.sleep(0.005)
                start_s = time.perf_counter() - started
                rss_started = rss_mb(server.pid)
                began = time.perf_counter()
                while (
                    "ranking" in (page := client.get("/?profile=bench")).text.lower()[:2000]
                    and 'http-equiv="refresh"' in page.text
                ):
                    time.sleep(0.05)  # the loading page: the day is being scored in the background
                first_day_s = time.perf_counter() - began
                found = re.search(r'name="csrf" value="([^"]+)"', page.text)
                if found is None:
                    raise SystemExit(f"no page: {page.status_code} {page.text[-600:]}")
                csrf = found.group(1)
                warm = []
                for _ in range(args.repeat):
                    began = time.perf_counter()
                    page = client.get("/?profile=bench")
                    warm.append(time.perf_counter() - began)
                likes = []
                for _ in range(args.repeat):
                    unrated = re.findall(
                        r'data-action="like">(?:(?!</form>).)*?name="id" value="([^"]+)"', page.text, re.S
                    )
                    if not unrated:
                        body = page.text[page.text.index("<body>") :][:3000]
                        raise SystemExit(f"no pick to like: {page.status_code} {body}")
                    began = time.perf_counter()
                    answer = client.post(
                        "/rate", data={"csrf": csrf, "profile": "bench", "id": unrated[0], "action": "like"}
                    )
                    page = client.get(answer.headers["location"])
                    likes.append(time.perf_counter() - began)
                    assert answer.status_code == 303 and page.status_code == 200, answer.text
                time.sleep(1.0)
                rss_idle = rss_mb(server.pid)
                idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(IDLE)]
                try:
                    time.sleep(0.5)  # the server accepts them
                    held = open_sockets(server.pid)
                    loaded = []
                    for _ in range(args.repeat):
                        began = time.perf_counter()
                        page = httpx.get(f"{base}/?profile=bench", headers=auth, timeout=120)  # a new connection
                        loaded.append(time.perf_counter() - began)
                        assert page.status_code == 200, page.status_code
                finally:
                    for connection in idle:
                        connection.close()
        finally:
            server.terminate()
            server.wait(10)
    return {
        "embedder": args.embedder,
        "start_to_first_answer_s": round(start_s, 3),
        "first_day_page_s": round(first_day_s, 3),
        "warm_page_s_median": round(statistics.median(warm), 4),
        "warm_page_s_max": round(max(warm), 4),
        "like_to_updated_page_s_median": round(statistics.median(likes), 3),
        "like_to_updated_page_s_max": round(max(likes), 3),
        "likes": [round(x, 3) for x in likes],
        "rss_after_start_mb": round(rss_started, 1),
        "rss_idle_after_likes_mb": round(rss_idle, 1),
        "idle_connections": IDLE,
        "server_sockets_idle_held": held,
        "warm_page_idle_held_s_median": round(statistics.median(loaded), 4),
        "warm_page_idle_held_s_max": round(max(loaded), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=REPO.parent / "shared" / "bench")
    parser.add_argument("--embedder", choices=["fake", "real"], default="fake")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    figures = measure(args)
    for key, value in figures.items():
        print(f"{key:32} {value}")
    out = REPO / "benchmarks" / "results" / f"serve_speed-{args.embedder}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
