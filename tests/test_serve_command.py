"""`paperrec serve` as a user starts it: a real process on a free port, answering, refusing what it must."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from .conftest import REPO


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, host: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def test_paperrec_serve_starts_answers_and_stops(home):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "recommender", "serve", "--port", str(port)],
        cwd=REPO,
        env={**os.environ, "PAPERREC_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        status, page = None, ""
        deadline = time.monotonic() + 60  # a wait for the start, not a measure of it (benchmarks/serve_speed.py)
        while status is None and process.poll() is None and time.monotonic() < deadline:
            try:
                status, page = _get(f"http://127.0.0.1:{port}/")
            except OSError:
                time.sleep(0.05)
        assert status == 200 and "paperrec" in page, (status, page[:300])
        rebound, _ = _get(f"http://127.0.0.1:{port}/", host="evil.example:80")
        assert rebound in (400, 421)
        forged = urllib.request.Request(f"http://127.0.0.1:{port}/like", data=b"id=2104.10642", method="POST")
        try:
            urllib.request.urlopen(forged, timeout=5)
            refused = False
        except urllib.error.HTTPError as error:
            refused = error.code in (400, 403, 404, 405)
        assert refused
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "Traceback" not in process.stderr.read().decode()
