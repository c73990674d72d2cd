"""`paperrec serve`: the local web page to triage a day with one click, sharpen a profile and vote from the email.

Built on starlette + uvicorn: a small ASGI core with routing, forms, redirects and a test client, and nothing more —
no ORM, no sessions, no template magic of its own (jinja2 does the pages, the library does the work). The app is a
thin layer like the CLI: every click calls the same library functions (rate_papers, score_listing, run_today).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import webbrowser
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import quote

from ..paths import atomic_write_bytes, serve_open_path
from ..schema import PaperrecError
from .security import ServerToken, check_bind, check_host_name, hop_page, is_loopback, server_token
from .service import Settings

__all__ = ["Settings", "create_app", "serve"]


def create_app(settings: Settings | None = None):
    """The ASGI app for these settings (see recommender.web.app.create_app; a lab's: web.lab.create_lab)."""
    settings = settings or Settings()
    if settings.users:
        from .lab import create_lab

        return create_lab(settings)
    from .app import create_app as build

    return build(settings)


def serve(
    host: str = "127.0.0.1",
    port: int = 8787,
    open_browser: bool = False,
    token: str | None = None,
    *,
    no_token: bool = False,
    allow_hosts: Sequence[str] = (),
    users: bool = False,
) -> None:
    """Serve the web page on host:port until interrupted; every page asks for the token unless no_token (loopback),
    or with users for a login (web/lab.py).

    The token is `token` if given, else $PAPERREC_TOKEN, else the one kept in PAPERREC_HOME/state/serve-token.
    Example: serve(port=8787, open_browser=True)
    """
    names = tuple(check_host_name(name) for name in allow_hosts)  # usage errors first: no token file is made
    if users:  # each user logs in: no server token
        run(Settings(host=host, port=port, allow_hosts=names, users=True), open_browser=open_browser)
        return
    secret = None if no_token else (ServerToken(token) if token else server_token())
    check_bind(host, secret.value if secret else None)
    settings = Settings(
        host=host,
        port=port,
        token=secret.value if secret else None,
        token_path=secret.path if secret else None,
        allow_hosts=names,
    )
    run(settings, open_browser=open_browser)


def run(settings: Settings, *, open_browser: bool = False) -> None:
    """Serve an app built from settings with uvicorn (tests pass settings with a fake embedder)."""
    import socket

    from .serving import serve_app

    if settings.users:
        from ..users import make_folders_private, read_users

        if not read_users():
            raise PaperrecError("no lab users yet: add one with 'paperrec user add NAME'")
        for line in make_folders_private():  # folders made before user add made them 0700
            print(f"paperrec serve: {line}", file=sys.stderr)
    else:
        check_bind(settings.host, settings.token)
    app = create_app(settings)
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"http://{shown}:{settings.port}/"
    if settings.token:
        url += f"?token={quote(settings.token, safe='')}"
    try:  # one clear line instead of uvicorn's traceback when the port is taken
        family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((settings.host, settings.port))
    except OSError as error:
        raise PaperrecError(f"cannot listen on {settings.host}:{settings.port}: {error.strerror or error}") from None
    where = "" if is_loopback(settings.host) else " (reachable from other machines)"
    print(f"paperrec serve: {url}{where}", file=sys.stderr)
    if settings.users:
        print("paperrec serve: every page asks for a lab user's login (paperrec user add NAME)", file=sys.stderr)
    elif not settings.token:
        print("paperrec serve: no token: every user of this machine can use this page", file=sys.stderr)
    opened = browser_start(url, settings.port) if open_browser and settings.token else None
    if open_browser:
        threading.Timer(0.5, webbrowser.open, [opened.as_uri() if opened else url]).start()
    try:
        with _sigterm_as_interrupt():
            serve_app(app, settings.host, settings.port)
    except KeyboardInterrupt:
        print("paperrec serve: stopped", file=sys.stderr)
    finally:
        if opened is not None:
            opened.unlink(missing_ok=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (kill, a service manager) stops the server as Ctrl-C does, so the --open page is removed too."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    # uvicorn stops on either signal, then raises it again under this handler: without it SIGTERM ends the process
    # before any cleanup.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def browser_start(url: str, port: int) -> Path:
    """A private page (mode 0600) that goes on to url: the browser starts on it, since every user of this machine
    can read a browser's command line (ps), and url holds the token."""
    path = serve_open_path(port)
    try:
        atomic_write_bytes(path, hop_page(url), mode=0o600)
    except OSError as error:
        raise PaperrecError(f"cannot write {path} for --open: {error.strerror or error}") from None
    return path
