"""A Zotero sync of a 2,000-item library from the local test server: the first sync, then an unchanged second one.

The library is served by tests/zotero_server.py on 127.0.0.1 as the desktop's local API would serve it (pages of
100 items, Link headers, Last-Modified-Version). The first sync reads every item and writes the profile; the second
asks once for every item's version and finds none changed. A third sync after 10 new items reads only those, by key.
Abstracts come with the items, so no arXiv lookup is made (offline).

Run: .venv/bin/python benchmarks/zotero_sync.py [--items 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _library(server, count: int, start: int = 0) -> None:
    from tests.zotero_server import preprint

    for n in range(start, start + count):
        arxiv_id = f"21{n // 9000 + 1:02d}.{n % 9000 + 10000:05d}"
        abstract = f"Paper {n} studies problem {n % 37} with method {n % 11} and reports results on benchmark {n % 5}."
        server.add_item(preprint(arxiv_id, f"A study number {n} of things", abstract, ("Ada Lovelace", "Alan Turing")))


def _once(items: int) -> dict[str, float]:
    from recommender.profile.zotero_sync import sync_zotero
    from tests.zotero_server import ZoteroServer

    server = ZoteroServer()
    _library(server, items)
    with tempfile.TemporaryDirectory() as home, server.running():
        os.environ["PAPERREC_HOME"] = home
        os.environ["PAPERREC_ZOTERO_LOCAL_API"] = server.local_api
        figures: dict[str, float] = {}
        for name in ("first", "unchanged", "ten new"):
            if name == "ten new":
                _library(server, 10, start=items)
            before = len(server.requests)
            started = time.perf_counter()
            report = sync_zotero("library", offline=True)
            figures[f"{name} s"] = time.perf_counter() - started
            figures[f"{name} requests"] = len(server.requests) - before
            figures[f"{name} added"] = len(report.report.added) if report.report else 0
        figures["liked"] = len(report.profile.liked)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = [_once(args.items) for _ in range(args.repeat)]
    print(f"Zotero sync of a {args.items:,}-item library (local test server), median of {args.repeat}:")
    for name in ("first", "unchanged", "ten new"):
        seconds = statistics.median(r[f"{name} s"] for r in runs)
        requests = int(runs[0][f"{name} requests"])
        added = int(runs[0][f"{name} added"])
        print(f"  {name:<10} {seconds * 1000:8.1f} ms  {requests:3d} requests  {added:5d} papers added")
    print(f"  profile holds {int(runs[0]['liked']):,} liked papers")


if __name__ == "__main__":
    main()
