"""The server's guards: Host check (DNS rebinding), the access token, CSRF checks, body limits, headers."""

from __future__ import annotations

import asyncio
import hmac
import html
import ipaddress
import os
import re
import secrets
import stat
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit

from ..paths import create_private_file, serve_token_path
from ..schema import PaperrecError, UsageError

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
TOKEN_COOKIE = "paperrec_token"  # the port is added: two servers on one machine keep their own cookie
TOKEN_ENV = "PAPERREC_TOKEN"
MIN_TOKEN = 8
BODY_TIMEOUT = 30.0  # seconds a request body may stall between two pieces
# printable ASCII but space, double quote, comma, semicolon and backslash (a cookie value takes no others)
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9!#$%&'()*+\-./:<=>?@\[\]^_`{|}~]+")
_VOTE_PATH = re.compile(r"(?:/u/([a-z][a-z0-9_-]{0,31}))?/vote/([^/]+)")  # a lab user's links name them
# Sec-Fetch-Site values of a request another page made. same-site counts: any port of 127.0.0.1 is the same site,
# and on a shared machine another user's server may be on one of them.
FOREIGN = ("cross-site", "same-site")
WAY_IN = "Open the address that paperrec serve printed (it ends in ?token=...)."


@dataclass(frozen=True)
class ServerToken:
    """The secret a server asks for, and the file it is kept in (None when it came from PAPERREC_TOKEN)."""

    value: str
    path: Path | None = None


def server_token() -> ServerToken:
    """PAPERREC_TOKEN if set, else the token kept under PAPERREC_HOME, made (mode 0600) on the first start."""
    given = os.environ.get(TOKEN_ENV, "")
    if given:
        check_token(given, TOKEN_ENV)
        return ServerToken(given)
    path = serve_token_path()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        value = create_private_file(path, secrets.token_urlsafe(32).encode("ascii"), "the server token")
        return ServerToken(value.decode("ascii", "replace").strip(), path)
    except OSError as error:
        raise PaperrecError(f"cannot read the server token {path}: {error.strerror or error}") from None
    if mode & 0o077:
        raise PaperrecError(
            f"the server token {path} can be read by other users (mode {stat.filemode(mode)}): "
            "delete it and a new one is made, or chmod 600 it"
        )
    try:
        value = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise PaperrecError(f"cannot read the server token {path}: {error}") from None
    if len(value) < MIN_TOKEN or not _TOKEN_CHARS.fullmatch(value):
        raise PaperrecError(f"the server token {path} is damaged: delete it and a new one is made")
    return ServerToken(value, path)


def check_token(token: str, name: str) -> None:
    """Refuse a token that is short or would not survive a cookie (spaces, quotes, commas, semicolons)."""
    if len(token) < MIN_TOKEN:
        raise UsageError(f"{name} must be at least {MIN_TOKEN} characters")
    if not _TOKEN_CHARS.fullmatch(token):
        raise UsageError(f"{name} must be printable ASCII without spaces, quotes, commas, semicolons or backslashes")


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
            f"--no-token is only for a loopback address: on --host {host} anyone who can reach this machine "
            "could read and edit the profiles"
        )
    if token is not None:
        check_token(token, TOKEN_ENV)


def allowed_hosts(host: str, port: int, extra: tuple[str, ...] = ()) -> set[str]:
    """The Host header values that name this server (lower case); any other is a rebinding attempt.

    A connection's own local address is accepted too (see Guard), so a server on 0.0.0.0 answers its IP addresses.
    """
    extra = tuple(name.lower() for name in extra)
    names = {host.lower(), *extra}
    if is_loopback(host) or host in ("0.0.0.0", "::"):
        names |= {"127.0.0.1", "localhost", "[::1]"}
    if host in ("0.0.0.0", "::"):
        import socket

        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    values = set()
    for name in names:
        if _HAS_PORT.fullmatch(name):
            values.add(name)  # an --allow-host given with its port
            if name.endswith((":80", ":443")):  # browsers leave a default port out of the Host
                values.add(name.rpartition(":")[0])
            continue
        name = f"[{name}]" if ":" in name and not name.startswith("[") else name
        values.add(f"{name}:{port}")
        if port == 80 or name in extra:  # a reverse proxy on the name passes the browser's Host, with no port
            values.add(name)
    return values


_HAS_PORT = re.compile(r"(\[[0-9a-f:.]+\]|[^:\[\]]+):[0-9]+")


def check_host_name(name: str) -> str:
    """A name for --allow-host (a DNS name or an IP address, optionally with :PORT), lower case."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+(:[0-9]+)?|\[[0-9A-Fa-f:.]+\](:[0-9]+)?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*", name):
        raise UsageError(f"--allow-host takes a host name or an IP address, not {name[:60]!r}")
    return name.lower()


def own_address(scope: Scope) -> set[str]:
    """The Host values naming the address this connection arrived on: an IP literal cannot be rebound."""
    server = scope.get("server")
    if not server or server[1] is None:
        return set()
    try:
        address = ipaddress.ip_address(str(server[0]).split("%")[0])
    except ValueError:
        return set()
    forms = [address]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        forms.append(address.ipv4_mapped)  # a dual-stack socket names IPv4 clients' addresses this way
    values = set()
    for form in forms:
        shown = f"[{form}]" if form.version == 6 else str(form)
        values.add(f"{shown}:{server[1]}")
        if server[1] == 80:
            values.add(shown)
    return values


def local_target(scope: Scope) -> str:
    """The request's path and query, without the token, as a path on this server (never //host or /\\host)."""
    path = "/" + scope["path"].lstrip("/\\")
    query = [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"), True) if k != "token"]
    target = quote(path, safe="/-._~!$&'()*+,;=:@")
    return target + (f"?{urlencode(query)}" if query else "")


def signed_vote(path: str) -> bool:
    """True for /vote/TOKEN when TOKEN is a vote link this home signed: its signature is its authority.

    A lab user's link, /u/NAME/vote/TOKEN, is checked with that user's own secret.
    """
    from ..signing import is_signed

    match = _VOTE_PATH.fullmatch(path)
    if match is None:
        return False
    user, token = match.groups()
    if user is None:
        return is_signed(token)
    from ..paths import as_user
    from ..users import read_users

    try:
        if user not in read_users():  # no secret is made for a name that is no lab user
            return False
    except PaperrecError:
        return False
    with as_user(user):
        return is_signed(token)


def same_origin(value: str, host: str) -> bool:
    """True when an Origin or Referer header names this server (http://<Host>)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        return False
    default = ":443" if parts.scheme == "https" else ":80"  # browsers leave the default port out of the Origin
    return host.lower() in (parts.netloc.lower(), parts.netloc.lower() + default)


def new_csrf_token() -> str:
    """A fresh random token for this server start."""
    return secrets.token_urlsafe(32)


def tokens_equal(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented token with the expected one."""
    return given is not None and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class Guard:
    """ASGI middleware: Host check, token check (when set), no effects from cross-site GETs, body read timeout,
    and the security headers on every response."""

    def __init__(
        self,
        app: Any,
        *,
        hosts: set[str],
        token: str | None,
        error_page: Callable[..., bytes],
        port: int = 8787,
        way_in: str = "",
    ):
        self.app = app
        self.hosts = hosts
        self.token = token
        self.error_page = error_page
        self.cookie = f"{TOKEN_COOKIE}_{port}"
        self.way_in = way_in

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "").lower()
        if host not in self.hosts and host not in own_address(scope):
            await self._refuse(send, 421, f"this server does not answer to the host {host or '(none)'!r}")
            return
        vote = signed_vote(scope["path"])
        if self.token is not None and not vote:
            allowed, set_cookie = self._token_ok(scope, headers)
            if not allowed:
                # The token file's path helps only someone on this machine: others learn no user name from it.
                local = is_loopback(str((scope.get("client") or ("",))[0]))
                message = "this paperrec server needs its token. " + (self.way_in if local else WAY_IN)
                await self._refuse(send, 401, message, [(b"www-authenticate", b'Bearer realm="paperrec"')])
                return
            if set_cookie:
                await self._redirect_with_cookie(scope, send, headers.get("sec-fetch-site") in FOREIGN)
                return
        if scope["method"] in ("GET", "HEAD") and headers.get("sec-fetch-site") in FOREIGN and not vote:
            # A link on another site may only show the way in: the page itself ranks a day and marks picks seen.
            target = local_target(scope)
            message = "This link came from another site. Open the page from paperrec:"
            await self._refuse(send, 200, message, heading="paperrec", link=target)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["nonce"] = nonce

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *security_headers(nonce)]
            await send(message)

        await self.app(scope, timed(receive, BODY_TIMEOUT), send_with_headers)

    def _token_ok(self, scope: Scope, headers: dict[str, str]) -> tuple[bool, bool]:
        """(allowed, the token came in the query and should become a cookie)."""
        assert self.token is not None
        authorization = headers.get("authorization", "")
        if authorization.lower().startswith("bearer ") and tokens_equal(authorization[7:].strip(), self.token):
            return True, False
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == self.cookie and tokens_equal(value, self.token):
                return True, False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if scope["method"] == "GET" and tokens_equal((query.get("token") or [None])[0], self.token):
            return True, True
        return False, False

    async def _redirect_with_cookie(self, scope: Scope, send: Send, foreign: bool = False) -> None:
        """The cookie, and on to the same address without the token.

        A redirect keeps a navigation from another site foreign (`serve --open` starts from a file), and the next
        page would only show the way in. From another site the hop is made by a page of this server instead.
        """
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        cookie = f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000{secure}"
        target = local_target(scope)
        body = hop_page(target) if foreign else b""
        moving = [(b"content-type", b"text/html; charset=utf-8")] if foreign else [(b"location", target.encode())]
        await send(
            {
                "type": "http.response.start",
                "status": 200 if foreign else 303,
                "headers": [
                    *moving,
                    (b"content-length", str(len(body)).encode()),
                    (b"set-cookie", cookie.encode("latin-1")),
                    *security_headers(secrets.token_urlsafe(16)),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _refuse(
        self, send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]] = (), **page: str
    ) -> None:
        nonce = secrets.token_urlsafe(16)
        body = self.error_page(status, message, nonce, **page)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    *extra,
                    *security_headers(nonce),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def hop_page(url: str) -> bytes:
    """A page that goes on to url at once (meta refresh, no script), with a link for a browser that waits."""
    shown = html.escape(url, quote=True)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0;url={shown}"><title>paperrec</title></head>\n'
        f'<body><p><a href="{shown}">Open paperrec</a></p></body></html>\n'
    ).encode()


def timed(receive: Receive, seconds: float) -> Receive:
    """The request body stream, ending in TooSlow when the client sends nothing for `seconds` before its end."""
    ended = False

    async def read() -> MutableMapping[str, Any]:
        nonlocal ended
        if ended:  # the body is in: what comes next is a disconnect, which may rightly take forever
            return await receive()
        try:
            message = await asyncio.wait_for(receive(), seconds)
        except TimeoutError:
            raise TooSlow(f"refused: the request body stalled for {seconds:g} s") from None
        ended = message["type"] != "http.request" or not message.get("more_body", False)
        return message

    return read


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
    """Refuse a request whose Origin or Referer names another site, or that the browser says another site made."""
    if headers.get("sec-fetch-site") in FOREIGN:  # a sandboxed frame elsewhere posts with Origin: null
        raise Forbidden("refused: the request came from another site")
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


class TooSlow(PaperrecError):
    """A request body that stalled (408)."""
