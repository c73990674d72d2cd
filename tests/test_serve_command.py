"""`paperrec serve` as a user starts it: a real process on a free port, answering fast, refusing what it must."""

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
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "recommender", "serve", "--port", str(port)],
        cwd=REPO,
        env={**os.environ, "PAPERREC_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        status, page, answered = None, "", None
        while time.perf_counter() - start < 20:
            try:
                status, page = _get(f"http://127.0.0.1:{port}/")
                answered = time.perf_counter() - start
                break
            except OSError:
                time.sleep(0.05)
        assert status == 200 and "paperrec" in page, (status, page[:300])
        assert answered is not None and answered < 10  # the model is not loaded to answer (figure: benchmarks/)
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
