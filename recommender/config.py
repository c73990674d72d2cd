"""Settings in $PAPERREC_HOME/config.toml: how to send the digest by email, and where `paperrec serve` is reached."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .paths import user_root
from .schema import PaperrecError

SECURITIES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}

EXAMPLE = """\
serve_url = "http://127.0.0.1:8787"      # optional: adds one-click like/dislike links to the digest

[email]
host = "smtp.example.org"
port = 587                               # default: 587 for starttls, 465 for ssl, 25 for none
security = "starttls"                    # starttls | ssl | none (none only for a server on this machine)
username = "me@example.org"              # optional: log in
password_env = "PAPERREC_SMTP_PASSWORD"  # the NAME of an environment variable holding the password
from = "paperrec <me@example.org>"
to = ["me@example.org"]                  # one address or a list
"""
_EXAMPLE_LINE = (
    'add an [email] table with host, from and to (e.g. host = "smtp.example.org", '
    'from = "me@example.org", to = "me@example.org")'
)


def config_path() -> Path:
    """The settings file (a lab user's own: the digest's recipients are theirs)."""
    return user_root() / "config.toml"


@dataclass(frozen=True)
class EmailConfig:
    """The [email] table: an SMTP server, how to secure and log in to it, sender and recipients."""

    host: str
    sender: str  # the `from` key
    to: tuple[str, ...]
    port: int = 587
    security: str = "starttls"
    username: str | None = None
    password_env: str | None = None
    ca_file: Path | None = None  # trust this CA bundle instead of the system's (a lab server's own CA)

    def password(self) -> str | None:
        """The password from the environment variable password_env; None when no login is configured."""
        if self.username is None:
            return None
        value = os.environ.get(self.password_env or "")
        if not value:
            raise PaperrecError(
                f"the SMTP password is missing: set the environment variable {self.password_env} "
                f"(named by email.password_env in {config_path()})"
            )
        return value


@dataclass(frozen=True)
class Config:
    """Everything config.toml says: the file, [email] (or None), serve_url (or None), and every key as read."""

    path: Path
    email: EmailConfig | None = None
    serve_url: str | None = None
    data: dict[str, Any] = field(default_factory=dict, compare=False)  # keys other parts of paperrec may read

    def require_email(self) -> EmailConfig:
        """The [email] settings, or an error saying what to add."""
        if self.email is None:
            raise PaperrecError(f"{self.path} has no [email] table: {_EXAMPLE_LINE}; see the README, 'Email digest'")
        return self.email


def load_config(path: Path | None = None, *, missing_ok: bool = False) -> Config:
    """Read config.toml; errors name the file and key. A missing file is an error unless missing_ok."""
    path = Path(path) if path is not None else config_path()
    data = _read(path, missing_ok=missing_ok)
    if data is None:
        return Config(path=path)
    serve_url = _serve_url(data.get("serve_url"), path)
    table = data.get("email")
    if table is None:
        return Config(path=path, serve_url=serve_url, data=data)
    if not isinstance(table, dict):
        raise PaperrecError(f"{path}: 'email' must be a table ([email]), not a {type(table).__name__}")
    return Config(path=path, email=_email(table, path), serve_url=serve_url, data=data)


def _read(path: Path, *, missing_ok: bool) -> dict[str, Any] | None:
    """Every key of the settings file as written (None for a missing file when missing_ok)."""
    import rtoml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return None
        raise PaperrecError(f"no settings file {path}: create it and {_EXAMPLE_LINE}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PaperrecError(f"{path}: cannot read settings ({error})") from None
    try:
        return rtoml.loads(text)
    except rtoml.TomlParsingError as error:
        raise PaperrecError(f"{path}: invalid TOML: {' '.join(str(error).split())}") from None


def read_setting(key: str, path: Path | None = None) -> Any:
    """One top-level key of config.toml as written (None when it or the file is absent); the others unchecked."""
    data = _read(Path(path) if path is not None else config_path(), missing_ok=True)
    return None if data is None else data.get(key)


def _fail(path: Path, key: str, what: str) -> PaperrecError:
    return PaperrecError(f"{path}: {key}: {what}")


def _string(table: dict[str, Any], key: str, path: Path, *, required: bool = False) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise _fail(path, f"email.{key}", "missing (see the README, 'Email digest')")
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"email.{key}", "must be a non-empty string")
    if any(c in value for c in "\r\n\0"):
        raise _fail(path, f"email.{key}", "must be one line")
    return value.strip()


def _address(value: str, path: Path, key: str) -> str:
    _, address = parseaddr(value)
    if "@" not in address or len(getaddresses([value])) != 1:
        raise _fail(path, key, f"{value!r} is not an email address")
    return value


def is_local_host(host: str) -> bool:
    """Whether host names this machine (localhost, a loopback address)."""
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _email(table: dict[str, Any], path: Path) -> EmailConfig:
    if "password" in table:
        raise _fail(
            path,
            "email.password",
            "paperrec does not read passwords from files: put it in an environment variable "
            "and name that variable in email.password_env",
        )
    host = _string(table, "host", path, required=True)
    security = _string(table, "security", path) or "starttls"
    if security.lower() not in SECURITIES:
        raise _fail(path, "email.security", f"{security!r} is not one of {', '.join(SECURITIES)}")
    security = security.lower()
    if security == "none" and not is_local_host(host):
        raise _fail(
            path,
            "email.security",
            f"'none' sends mail unencrypted, allowed only for a server on this machine "
            f"(localhost, 127.0.0.1), not {host}: use starttls or ssl",
        )
    port = table.get("port", DEFAULT_PORTS[security])
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise _fail(path, "email.port", f"{port!r} is not a port number (1-65535)")
    username = _string(table, "username", path)
    password_env = _string(table, "password_env", path)
    if username is not None and password_env is None:
        raise _fail(path, "email.password_env", "missing: name the environment variable that holds the password")
    if password_env is not None and not password_env.replace("_", "a").isalnum():
        raise _fail(path, "email.password_env", f"{password_env!r} should be the NAME of an environment variable")
    sender = _address(_string(table, "from", path, required=True), path, "email.from")
    raw_to = table.get("to")
    if isinstance(raw_to, str):
        raw_to = [raw_to]
    if not isinstance(raw_to, list) or not raw_to:
        raise _fail(path, "email.to", "missing: give an address or a list of addresses")
    to = tuple(_address(_string({"to": item}, "to", path) or "", path, "email.to") for item in raw_to)
    ca_file = _string(table, "ca_file", path)
    return EmailConfig(
        host=host,
        sender=sender,
        to=to,
        port=port,
        security=security,
        username=username,
        password_env=password_env,
        ca_file=Path(ca_file).expanduser() if ca_file else None,
    )


def _serve_url(value: Any, path: Path) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise _fail(path, "serve_url", f"{value!r} is not an http(s) address like 'http://127.0.0.1:8787'")
    return value.rstrip("/")
