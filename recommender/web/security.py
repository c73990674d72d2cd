"""The server's guards: Host check (DNS rebinding), the optional access token, CSRF checks, body limits, headers."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..schema import PaperrecError, UsageError

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
TOKEN_COOKIE = "paperrec_token"


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to serve a non-loopback address without a token: anyone who can reach it could edit the profiles."""
    if not is_loopback(host) and not token:
        raise UsageError(
            f"--host {host} makes the server reachable from other machines: also pass --token SECRET "
            "(then open http://HOST:PORT/?token=SECRET once), or keep the default --host 127.0.0.1"
        )
    if token is not None and len(token) < 8:
        raise UsageError("--token must be at least 8 characters")


def allowed_hosts(host: str, port: int) -> set[str]:
    """The Host header values that name this server (lower case); any other is a rebinding attempt."""
    names = {host.lower()}
    if is_loopback(host) or host in ("0.0.0.0", "::"):
        names |= {"127.0.0.1", "localhost", "[::1]"}
    if host in ("0.0.0.0", "::"):
        import socket

        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    names = {f"[{n}]" if ":" in n and not n.startswith("[") else n for n in names}
    values = {f"{n}:{port}" for n in names}
    if port == 80:
        values |= names
    return values


def same_origin(value: str, host: str) -> bool:
    """True when an Origin or Referer header names this server (http://<Host>)."""
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


def new_csrf_token() -> str:
    """A fresh random token for this server start."""
    return secrets.token_urlsafe(32)


def tokens_equal(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented token with the expected one."""
    return given is not None and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class Guard:
    """ASGI middleware: Host check, token check (when set), and the security headers on every response."""

    def __init__(self, app: Any, *, hosts: set[str], token: str | None, error_page: Callable[[int, str, str], bytes]):
        self.app = app
        self.hosts = hosts
        self.token = token
        self.error_page = error_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "").lower()
        if host not in self.hosts:
            await self._refuse(send, 421, f"this server does not answer to the host {host or '(none)'!r}")
            return
        if self.token is not None:
            allowed, set_cookie = self._token_ok(scope, headers)
            if not allowed:
                await self._refuse(send, 401, "this server needs its token: open it once as /?token=YOUR_TOKEN")
                return
            if set_cookie:
                await self._redirect_with_cookie(scope, send)
                return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["nonce"] = nonce

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *security_headers(nonce)]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _token_ok(self, scope: Scope, headers: dict[str, str]) -> tuple[bool, bool]:
        """(allowed, the token came in the query and should become a cookie)."""
        assert self.token is not None
        authorization = headers.get("authorization", "")
        if authorization.lower().startswith("bearer ") and tokens_equal(authorization[7:].strip(), self.token):
            return True, False
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == TOKEN_COOKIE and tokens_equal(value, self.token):
                return True, False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if scope["method"] == "GET" and tokens_equal((query.get("token") or [None])[0], self.token):
            return True, True
        return False, False

    async def _redirect_with_cookie(self, scope: Scope, send: Send) -> None:
        cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", scope["path"].encode("latin-1")),
                    (b"set-cookie", cookie.encode("latin-1")),
                    *security_headers(secrets.token_urlsafe(16)),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    async def _refuse(self, send: Send, status: int, message: str) -> None:
        nonce = secrets.token_urlsafe(16)
        body = self.error_page(status, message, nonce)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    *security_headers(nonce),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def security_headers(nonce: str) -> list[tuple[bytes, bytes]]:
    """CSP (only this server, inline script and style by nonce), no framing, no referrer, no sniffing, no caching."""
    policy = (
        f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
    return [
        (b"content-security-policy", policy.encode("latin-1")),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-content-type-options", b"nosniff"),
        (b"cache-control", b"no-store"),
    ]


MAX_FORM = 10**6  # an ordinary form: a few fields and the interests text
MAX_UPLOAD = 50 * 10**6  # a library export
FORM_ROOM = 10**6  # an upload's other fields and the multipart framing, beyond the file
UPLOAD_HEADER = "x-csrf-token"


def check_post(headers: Any, form: Any, csrf: str) -> None:
    """A state change must carry this server's CSRF token and must not come from a foreign page."""
    check_origin(headers)
    if not tokens_equal(form.get("csrf"), csrf):
        raise Forbidden("refused: the form's security token is missing or stale; reload the page and try again")


def check_upload(headers: Any, query: Any, csrf: str, limit: int = MAX_UPLOAD) -> None:
    """Checks made before an upload's body is read: origin, the CSRF token (header or query), the declared size."""
    check_origin(headers)
    if not (tokens_equal(headers.get(UPLOAD_HEADER), csrf) or tokens_equal(query.get("csrf"), csrf)):
        raise Forbidden("refused: the upload's security token is missing or stale; reload the page and try again")
    length = headers.get("content-length", "")
    if length.strip().isdigit() and int(length) > limit + FORM_ROOM:
        raise TooLarge(f"refused: the upload is {int(length) / 1e6:.1f} MB; files up to {limit / 1e6:g} MB are taken")


def capped(receive: Receive, limit: int, refusal: str) -> Receive:
    """The request body stream, ending in TooLarge(refusal) past limit bytes (a body sent without its length)."""
    seen = 0

    async def read() -> MutableMapping[str, Any]:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise TooLarge(refusal)
        return message

    return read


def check_origin(headers: Any) -> None:
    """Refuse a request whose Origin or Referer names another site."""
    host = headers.get("host", "")
    origin = headers.get("origin")
    # Referrer-Policy: no-referrer makes browsers send "Origin: null" on our own forms; the token still decides.
    if origin and origin != "null" and not same_origin(origin, host):
        raise Forbidden(f"refused: the request came from another site ({origin})")
    referer = headers.get("referer")
    if not origin and referer and not same_origin(referer, host):
        raise Forbidden("refused: the request came from another site")


class Forbidden(PaperrecError):
    """A request refused by a guard (403)."""


class TooLarge(PaperrecError):
    """A request body over its limit (413)."""
