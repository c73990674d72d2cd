"""`paperrec serve`: the local web page to triage a day with one click, sharpen a profile and vote from the email.

Built on starlette + uvicorn: a small ASGI core with routing, forms, redirects and a test client, and nothing more —
no ORM, no sessions, no template magic of its own (jinja2 does the pages, the library does the work). The app is a
thin layer like the CLI: every click calls the same library functions (rate_papers, score_listing, run_today).
"""

from __future__ import annotations

import sys
import threading
import webbrowser

from ..schema import PaperrecError
from .security import check_bind, is_loopback
from .service import Settings

__all__ = ["Settings", "create_app", "serve"]


def create_app(settings: Settings | None = None):
    """The ASGI app for these settings (see recommender.web.app.create_app)."""
    from .app import create_app as build

    return build(settings or Settings())


def serve(host: str = "127.0.0.1", port: int = 8787, open_browser: bool = False, token: str | None = None) -> None:
    """Serve the web page on host:port until interrupted; a non-loopback host needs a token.

    Example: serve(port=8787, open_browser=True)
    """
    check_bind(host, token)
    settings = Settings(host=host, port=port, token=token)
    run(settings, open_browser=open_browser)


def run(settings: Settings, *, open_browser: bool = False) -> None:
    """Serve an app built from settings with uvicorn (tests pass settings with a fake embedder)."""
    import socket

    import uvicorn

    check_bind(settings.host, settings.token)
    app = create_app(settings)
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"http://{shown}:{settings.port}/"
    if settings.token:
        url += f"?token={settings.token}"
    try:  # one clear line instead of uvicorn's traceback when the port is taken
        family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((settings.host, settings.port))
    except OSError as error:
        raise PaperrecError(f"cannot listen on {settings.host}:{settings.port}: {error.strerror or error}") from None
    print(
        f"paperrec serve: {url}" + ("" if is_loopback(settings.host) else " (reachable from other machines)"),
        file=sys.stderr,
    )
    if open_browser:
        threading.Timer(0.5, webbrowser.open, [url]).start()
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
