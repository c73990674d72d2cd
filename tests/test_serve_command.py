"""`paperrec serve` as a user starts it: a real process on a free port, answering, refusing what it must."""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .conftest import REPO

TOKEN = "test-token-0123456789"


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _get(url: str, host: str | None = None, token: str | None = None, opener=None) -> tuple[int, str]:
    headers = {"Host": host} if host else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, headers=headers)
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=30) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


@contextlib.contextmanager
def _serving(home: Path, log: Path, *options: str, host: str = "127.0.0.1", launcher: bool = True, **env: str):
    """A `paperrec serve` process (the fake model through tests/web_launcher.py unless launcher is False): (base
    URL, process); its stderr goes to log."""
    port = _free_port(host)
    command = ["tests.web_launcher", str(port)] if launcher else ["recommender", "serve", "--port", str(port)]
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", *command, "--host", host, *options],
            cwd=REPO,
            env={**os.environ, "PAPERREC_HOME": str(home), **env},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        base = f"http://{host}:{port}"
        try:
            deadline = time.monotonic() + 300  # a wait for the start, not a measure of it (benchmarks/serve_speed.py)
            while process.poll() is None and time.monotonic() < deadline:
                try:
                    _get(f"{base}/status")
                    break
                except OSError:
                    time.sleep(0.05)
            assert process.poll() is None, log.read_text()
            yield base, process
        finally:
            process.terminate()
            process.wait(timeout=10)


def _printed_url(log: Path) -> str:
    found = re.search(r"paperrec serve: (http://\S+)", log.read_text())
    assert found, log.read_text()
    return found.group(1)


def test_paperrec_serve_asks_for_its_token_and_its_printed_url_opens_the_page(home, tmp_path):
    log = tmp_path / "serve.log"
    with _serving(home, log, launcher=False) as (base, _):
        url = _printed_url(log)
        kept = home / "state" / "serve-token"
        assert kept.stat().st_mode & 0o777 == 0o600 and url.endswith(f"/?token={kept.read_text().strip()}")
        status, page = _get(f"{base}/")
        assert status == 401 and str(kept) in page  # on loopback too: the page says where the token is
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        status, page = _get(url, opener=browser)  # the redirect turns the token into a cookie
        assert status == 200 and "paperrec" in page, (status, page[:300])
        assert _get(f"{base}/", opener=browser)[0] == 200
        rebound, _ = _get(f"{base}/", host="evil.example:80", token=kept.read_text().strip())
        assert rebound in (400, 421)
        forged = urllib.request.Request(f"{base}/rate", data=b"id=2104.10642", method="POST")
        try:
            browser.open(forged, timeout=5)
            refused = False
        except urllib.error.HTTPError as error:
            refused = error.code in (400, 403, 404, 405)
        assert refused
    with _serving(home, log, launcher=False) as (base, _):
        assert _printed_url(log).split("?")[1] == url.split("?")[1]  # a restart keeps the token: phones stay in
    assert "Traceback" not in log.read_text()


def test_a_token_on_the_command_line_is_refused(home):
    for options in (["--token", TOKEN], ["--no-token", "--host", "192.0.2.1"], ["--allow-host", "a/b"]):
        done = subprocess.run(
            [sys.executable, "-m", "recommender", "serve", *options],
            cwd=REPO,
            env={**os.environ, "PAPERREC_HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        expected = {"--token": "PAPERREC_TOKEN", "--no-token": "loopback", "--allow-host": "--allow-host"}
        assert expected[options[0]] in done.stderr
    assert not (home / "state" / "serve-token").exists()


def test_a_server_on_a_second_loopback_address_answers_to_that_ip(home, tmp_path):
    try:
        _free_port("127.0.0.2")
    except OSError:
        pytest.skip("127.0.0.2 cannot be bound here")
    log = tmp_path / "serve.log"
    with _serving(home, log, host="127.0.0.2", PAPERREC_TOKEN=TOKEN) as (base, _):
        assert _printed_url(log) == f"{base}/?token={TOKEN}"
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        status, page = _get(f"{base}/?token={TOKEN}", opener=browser)
        assert status == 200 and "paperrec" in page, (status, page[:300])
        assert _get(f"{base}/")[0] == 401
        assert _get(f"{base}/", host="evil.example", token=TOKEN)[0] == 421
    assert not (home / "state" / "serve-token").exists()  # PAPERREC_TOKEN was the token


def test_idle_and_slow_connections_do_not_stop_the_server(home, tmp_path):
    """300 silent or half-sent connections against a limit of 256 open files: the page still answers, stderr stays
    a few lines, and a client that leaves mid-POST leaves no traceback."""
    log = tmp_path / "serve.log"
    env = {"PAPERREC_TOKEN": TOKEN, "PAPERREC_TEST_NOFILE": "256", "PAPERREC_TEST_HEADER_TIMEOUT": "1"}
    with _serving(home, log, **env) as (base, _):
        port = int(base.rsplit(":", 1)[1])
        held = []
        try:
            for number in range(300):
                connection = socket.create_connection(("127.0.0.1", port), timeout=30)
                if number % 10 == 0:  # a slowloris: headers begun, never ended
                    connection.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                held.append(connection)
            left = socket.create_connection(("127.0.0.1", port), timeout=30)
            left.sendall(f"POST /rate HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 1000\r\n".encode())
            left.sendall(f"Authorization: Bearer {TOKEN}\r\n\r\ncsrf=abc".encode())
            left.close()  # gone mid-body
            status, page = None, ""
            deadline = time.monotonic() + 120  # a bound on the wait, not a measure of it
            while status != 200 and time.monotonic() < deadline:
                with contextlib.suppress(OSError):
                    status, page = _get(f"{base}/", token=TOKEN)
            assert status == 200 and "paperrec" in page, (status, page[:300])
        finally:
            for connection in held:
                connection.close()
    written = log.read_bytes()
    assert len(written) < 2000 and b"Traceback" not in written, written[-2000:]


def test_a_client_leaving_mid_post_is_quiet(home, tmp_path):
    """A form or an upload whose sender goes away mid-body leaves no traceback, and the server goes on."""
    log = tmp_path / "serve.log"
    with _serving(home, log, PAPERREC_TOKEN=TOKEN) as (base, _):
        port = int(base.rsplit(":", 1)[1])
        for path, kind in (("/rate", "application/x-www-form-urlencoded"), ("/new", "multipart/form-data; b=x")):
            with socket.create_connection(("127.0.0.1", port), timeout=30) as left:
                head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {TOKEN}\r\n"
                left.sendall(f"{head}Content-Type: {kind}\r\nContent-Length: 100000\r\n\r\ncsrf=abc".encode())
            assert _get(f"{base}/status", token=TOKEN)[0] == 200
    assert "Traceback" not in log.read_text() and len(log.read_text().splitlines()) <= 2, log.read_text()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stop_by_signal_is_clean_and_removes_the_page_open_started(home, tmp_path, stop):
    """Ctrl-C, and a service manager's or `kill`'s SIGTERM, stop the server the same way: one line, exit 0, and the
    page that holds the token for the browser gone."""
    log = tmp_path / "serve.log"
    with _serving(home, log, "--open", BROWSER="true") as (base, process):
        opened = home / "state" / f"serve-open-{base.rsplit(':', 1)[1]}.html"
        assert opened.exists()
        process.send_signal(stop)
        assert process.wait(timeout=30) == 0, log.read_text()
    assert not opened.exists()
    assert log.read_text().splitlines()[-1] == "paperrec serve: stopped", log.read_text()
