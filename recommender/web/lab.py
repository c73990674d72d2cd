"""`paperrec serve --users`: one server for a lab, a login per user, and each user's page over their own files.

Each logged-in request runs inside paths.as_user(NAME), so the ordinary app (web/app.py, one per user) reads and
writes users/NAME/ only. The embedding model and cache are shared, so each paper is embedded once for the lab.
A vote link from the email is /u/NAME/vote/TOKEN: its signature (by NAME's own link secret) is its authority.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import ClientDisconnect

from ..paths import as_user, users_dir
from ..users import NAME_PATTERN, Throttle, read_users, verify
from .security import MAX_FORM, Forbidden, TooLarge, TooSlow, capped, check_origin, tokens_equal
from .service import Settings, _Serialised

Scope = MutableMapping[str, Any]
SESSION_COOKIE = "paperrec_session"  # the port is added: two labs on one machine keep their own sessions
LOGIN_COOKIE = "paperrec_login"  # the browser's own before a login; its port is added too
_BROWSER = re.compile(r"[A-Za-z0-9_-]{43}")  # a login cookie as this server makes them
SESSION_DAYS = 30
NAME_TRIES = 5  # failed logins per name within WINDOW
CLIENT_TRIES = 20  # failed logins per client address within WINDOW
WINDOW = 15 * 60.0


@dataclass(frozen=True)
class Session:
    """A logged-in browser: whose it is, the secret hash it logged in with (a reset ends it), when it expires."""

    user: str
    secret_hash: str
    expires: float


class Lab:
    """The lab's ASGI app: login and logout, sessions, and a dispatch to the logged-in user's own app."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.clock = clock
        # The login form's token is this key's signature of the browser's login cookie. Another site's page can read
        # a token from /login, but only for the cookie of the browser that asked: it logs no visitor in with it.
        self._login_key = secrets.token_bytes(32)
        # A browser sends a host's cookies to all its ports: without the port, a login on one lab ends the other's.
        self.cookie = f"{SESSION_COOKIE}_{settings.port}"
        self.login_cookie = f"{LOGIN_COOKIE}_{settings.port}"
        self.sessions: dict[str, Session] = {}  # kept in memory: a restart asks everyone to log in again
        self.by_name = Throttle(NAME_TRIES, WINDOW, clock)
        self.by_client = Throttle(CLIENT_TRIES, WINDOW, clock)
        self.apps: dict[str, Any] = {}
        self.folders: dict[str, tuple[int, str]] = {}  # the inode of each app's user folder, and the user's hash
        self._lock = threading.Lock()
        self._embedder: Any = None

    # -- the login form's token -------------------------------------------------------------------------------------

    def login_token(self, browser: str) -> str:
        """The login form's token for the browser whose login cookie holds `browser`."""
        return hmac.new(self._login_key, browser.encode("ascii"), hashlib.sha256).hexdigest()

    def _browser(self, scope: Scope) -> str | None:
        """The request's login cookie, when it is one this server could have made."""
        browser = _cookie(scope, self.login_cookie)
        return browser if browser is not None and _BROWSER.fullmatch(browser) else None

    def _login_form(self, scope: Scope) -> tuple[str, str | None]:
        """The login form's token for this browser, and the login cookie to set when it has none yet."""
        browser = self._browser(scope)
        if browser is not None:
            return self.login_token(browser), None
        browser = secrets.token_urlsafe(32)
        cookie = f"{self.login_cookie}={browser}; Path=/; HttpOnly; SameSite=Lax{_secure(scope)}"
        return self.login_token(browser), cookie

    async def _login_page_of(
        self, scope: Scope, send: Any, status: int, wanted: str, name: str = "", message: str = ""
    ) -> None:
        token, cookie = self._login_form(scope)
        await _page(send, scope, status, _login_html(scope, token, wanted, name, message), cookie)

    # -- the shared model ---------------------------------------------------------------------------------------------

    def _shared_embedder(self) -> Any:
        """A CachedEmbedder for one user's service: the lab's one model, the lab's one cache file."""
        from ..embed import CachedEmbedder, EmbeddingCache

        with self._lock:
            if self._embedder is None:
                if self.settings.embedder is not None:
                    base = self.settings.embedder()
                else:
                    from ..embed import open_embedder

                    base = open_embedder(progress=False)
                base.encoder = _Serialised(base.encoder)  # one batch at a time for the whole lab
                self._embedder = base
            base = self._embedder
        cache = EmbeddingCache(base.cache.path) if base.cache is not None else None
        return CachedEmbedder(base.encoder, cache, chunk_size=base.chunk_size, progress=False)

    def app_of(self, user: str) -> Any:
        """The user's own app (made on first use): its Service, jobs and CSRF token are theirs alone."""
        try:  # a name removed and added again has a new folder: its app, with what it holds in memory, is new too
            inode = os.stat(users_dir() / user).st_ino
        except OSError:
            inode = 0
        # An inode alone may be the old folder's, deleted and reused; every 'user add' gives a new secret's hash.
        known = read_users().get(user)
        folder = (inode, known.secret_hash if known is not None else "")
        with self._lock:
            app = self.apps.get(user)
            if app is None or self.folders.get(user) != folder:
                from .app import create_app

                own = replace(self.settings, users=False, embedder=self._shared_embedder, profiles=())
                app = self.apps[user] = create_app(own, guard=False)
                self.folders[user] = folder
            return app

    # -- requests -----------------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path == "/login":
            await (self._login(scope, receive, send) if scope["method"] == "POST" else self._login_page(scope, send))
            return
        if path.startswith("/u/"):
            await self._vote_link(scope, receive, send)
            return
        session = self.session_of(scope)
        if session is None:
            if scope["method"] in ("GET", "HEAD"):
                await _redirect(send, "/login?" + _query({"next": _local_path(scope)}))
            else:
                await self._login_page_of(scope, send, 401, "/", message="log in first")
            return
        if path == "/logout" and scope["method"] == "POST":
            await self._logout(scope, receive, send, session)
            return
        if path.startswith("/vote/"):  # a lab's links name their user (/u/NAME/vote/), and a page never makes these
            await _page(send, scope, 404, _error_html(scope, 404, "a lab's vote links start with /u/NAME/vote/"))
            return
        with as_user(session.user):
            await self.app_of(session.user)(scope, receive, send)

    def session_of(self, scope: Scope) -> Session | None:
        """The request's live session: its cookie names one, unexpired, of a user whose secret is unchanged."""
        sid = _cookie(scope, self.cookie)
        session = self.sessions.get(sid) if sid else None
        if session is None:
            return None
        user = read_users().get(session.user)
        if session.expires < self.clock() or user is None or user.secret_hash != session.secret_hash:
            self.sessions.pop(sid, None)  # removed, reset or expired: that browser logs in again
            return None
        return session

    async def _vote_link(self, scope: Scope, receive: Any, send: Any) -> None:
        """/u/NAME/vote/TOKEN: NAME's app checks the token with NAME's own link secret; nothing else is open."""
        _, _, rest = scope["path"].partition("/u/")
        name, _, tail = rest.partition("/")
        if not NAME_PATTERN.fullmatch(name) or not tail.startswith("vote/") or name not in read_users():
            await _page(send, scope, 404, _error_html(scope, 404, "no such page"))
            return
        with as_user(name):
            await self.app_of(name)({**scope, "root_path": f"/u/{name}"}, receive, send)

    async def _login_page(self, scope: Scope, send: Any) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        wanted = _safe_next((query.get("next") or ["/"])[0])
        await self._login_page_of(scope, send, 200, wanted)

    async def _login(self, scope: Scope, receive: Any, send: Any) -> None:
        from starlette.concurrency import run_in_threadpool

        browser = self._browser(scope)
        try:
            form = await _form(scope, receive, self.login_token(browser) if browser is not None else None)
        except (Forbidden, TooLarge, TooSlow, ClientDisconnect) as error:
            await _refused(scope, send, error)
            return
        # A secret has no spaces: those a phone's or a chat's paste adds around it must not cost a try.
        name, secret = form.get("name", "").strip().lower(), form.get("secret", "").strip()
        wanted = _safe_next(form.get("next", "/"))
        client = (scope.get("client") or ("?", 0))[0]
        keys = [("name", name), ("client", client)]
        wait = max(self.by_name.wait(keys[:1]), self.by_client.wait(keys[1:]))
        if wait > 0:
            message = f"too many failed logins: try again in {int(wait // 60) + 1} minutes"
            await self._login_page_of(scope, send, 429, wanted, name, message)
            return
        user = read_users().get(name) if await run_in_threadpool(verify, name, secret) else None
        if user is None:  # a wrong secret, or a user removed since the check: the same answer
            self.by_name.failed(keys[:1])
            self.by_client.failed(keys[1:])
            await self._login_page_of(scope, send, 401, wanted, name, "wrong name or secret")
            return
        self.by_name.forget(keys[0])
        now = self.clock()
        for old in [k for k, s in self.sessions.items() if s.expires < now]:  # expired ones never come back
            del self.sessions[old]
        sid = secrets.token_urlsafe(32)
        self.sessions[sid] = Session(name, user.secret_hash, self.clock() + SESSION_DAYS * 86400)
        cookie = f"{self.cookie}={sid}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_DAYS * 86400}"
        await _redirect(send, wanted, cookie + _secure(scope))

    async def _logout(self, scope: Scope, receive: Any, send: Any, session: Session) -> None:
        app = self.app_of(session.user)
        try:
            await _form(scope, receive, app.state.csrf)  # the user's own pages carry their app's token
        except (Forbidden, TooLarge, TooSlow, ClientDisconnect) as error:
            await _refused(scope, send, error)
            return
        self.sessions.pop(_cookie(scope, self.cookie) or "", None)
        await _redirect(send, "/login", f"{self.cookie}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{_secure(scope)}")


def create_lab(settings: Settings) -> Any:
    """The lab app wrapped in the same Host guard and headers as a one-person server (no server token: logins)."""
    from .app import _error_body
    from .security import Guard, allowed_hosts

    lab = Lab(settings)
    hosts = allowed_hosts(settings.host, settings.port, settings.allow_hosts)
    guarded = Guard(lab, hosts=hosts, token=None, error_page=_error_body, port=settings.port)
    guarded.lab = lab  # type: ignore[attr-defined]  # tests reach the sessions and throttles
    return guarded


# -- small ASGI helpers ---------------------------------------------------------------------------------------------


def _query(params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def _local_path(scope: Scope) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    return scope["path"] + (f"?{query}" if query else "")


def _safe_next(value: str) -> str:
    """A path on this server to go to after logging in; anything else (another site, a scheme) is '/'."""
    if not value.isascii() or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(c) < 33 or c == "\x7f" for c in value):
        return "/"
    return value[:2000]


def _secure(scope: Scope) -> str:
    """'; Secure' when the login came over HTTPS (a reverse proxy's): the session then never travels in plain HTTP."""
    return "; Secure" if scope.get("scheme") == "https" else ""


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope["headers"]:
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key_text, _, found = part.strip().partition("=")
                if key_text == name and found:
                    return found
    return None


async def _form(scope: Scope, receive: Any, csrf: str | None) -> dict[str, str]:
    """A POSTed urlencoded form (at most MAX_FORM bytes), after the origin and CSRF checks (None: no token fits)."""
    from starlette.requests import Request

    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    check_origin(headers)
    if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise Forbidden("refused: this form takes only text fields")
    form = await Request(scope, capped(receive, MAX_FORM, "refused: a form of more than 1 MB")).form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if csrf is None:  # a login form posted by a browser without its login cookie
        raise Forbidden("refused: this browser sent no login cookie; allow cookies for this site and reload the page")
    if not tokens_equal(fields.get("csrf"), csrf):
        raise Forbidden("refused: the form's security token is missing or stale; reload the page and try again")
    return fields


async def _refused(scope: Scope, send: Any, error: Exception) -> None:
    """A login or logout form refused: the status each refusal has on a user's pages too."""
    if isinstance(error, ClientDisconnect):  # nobody reads the answer, and nothing is logged
        await _page(send, scope, 400, b"")
        return
    status = 413 if isinstance(error, TooLarge) else 408 if isinstance(error, TooSlow) else 403
    await _page(send, scope, status, _error_html(scope, status, str(error)))


def _nonce(scope: Scope) -> str:
    return scope.get("state", {}).get("nonce", "")


def _login_html(scope: Scope, csrf: str, wanted: str, name: str, message: str) -> bytes:
    from ..digest import environment

    page = environment().get_template("web/login.html")
    return page.render(csrf=csrf, next=wanted, name=name, message=message, nonce=_nonce(scope)).encode("utf-8")


def _error_html(scope: Scope, status: int, message: str) -> bytes:
    from .app import _error_body

    return _error_body(status, message, _nonce(scope))


async def _page(send: Any, scope: Scope, status: int, body: bytes, cookie: str | None = None) -> None:
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    if cookie is not None:
        headers.append((b"set-cookie", cookie.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Any, location: str, cookie: str | None = None) -> None:
    headers = [(b"location", location.encode("ascii"))]
    if cookie is not None:
        headers.append((b"set-cookie", cookie.encode("latin-1")))
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
