"""Lab users: names, their secrets' argon2 hashes in a 0600 users.toml, and the throttle on login attempts.

A user's own files live under users/NAME/ (paths.as_user); the secret is shown once and only its hash is kept.
argon2-cffi is the optional `lab` extra, imported only where a secret is hashed or checked.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import stat
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from .paths import atomic_write_bytes, home, locked, users_dir
from .schema import NotFound, PaperrecError, UsageError, printable

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,31}")  # a safe folder name, one case so no two differ only by it
SECRET_BYTES = 18  # 24 URL-safe characters: 144 random bits


@dataclass(frozen=True)
class User:
    """One lab user as users.toml keeps them: the name, the secret's hash and the day they were added."""

    name: str
    secret_hash: str
    added: str = ""


def users_path() -> Path:
    """The lab's users file (mode 0600)."""
    return home() / "users.toml"


def check_name(name: str) -> str:
    """The name if it can name a lab user (and their folder); a UsageError saying what is allowed otherwise."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        shown = name[:40] if isinstance(name, str) else name
        raise UsageError(
            f"invalid user name {shown!r}: use 1 to 32 lower-case letters, digits, '-' or '_', starting with a letter"
        )
    return name


def _hasher() -> Any:
    """argon2's PasswordHasher with its default (RFC 9106 low-memory) parameters."""
    try:
        from argon2 import PasswordHasher
    except ImportError:
        raise PaperrecError("lab users need argon2-cffi: pip install 'paperrec[lab]'") from None
    return PasswordHasher()


# The lab checks the file on every request: it is parsed again only when it changed. Writes replace it (a new inode),
# so a user removed is refused at the next request.
_parsed: tuple[tuple[str, int, int, int], dict[str, User]] | None = None


def read_users() -> dict[str, User]:
    """Every lab user by name (none when there is no users file)."""
    global _parsed
    path = users_path()
    try:
        stat = path.stat()
        seen = (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if _parsed is not None and _parsed[0] == seen:
            return dict(_parsed[1])
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise PaperrecError(f"cannot read the users file {path}: {error}") from None
    users = _parse_users(path, text)
    _parsed = (seen, users)
    return dict(users)


def _parse_users(path: Path, text: str) -> dict[str, User]:
    """The users of the file's text; PaperrecError when it is not TOML."""
    import rtoml

    try:
        table = rtoml.loads(text).get("users", {})
    except rtoml.TomlParsingError as error:
        raise PaperrecError(f"{path}: invalid TOML: {' '.join(str(error).split())}") from None
    users = {}
    for name, row in table.items() if isinstance(table, dict) else ():
        if NAME_PATTERN.fullmatch(name) and isinstance(row, dict) and isinstance(row.get("hash"), str):
            users[name] = User(name, row["hash"], str(row.get("added", "")))
    return users


def _write(users: dict[str, User]) -> None:
    import tomli_w

    table = {u.name: {"hash": u.secret_hash, "added": u.added} for u in sorted(users.values(), key=lambda u: u.name)}
    text = "# paperrec lab users: argon2 hashes of their secrets (paperrec user add/reset/remove)\n"
    text += tomli_w.dumps({"users": table})
    try:
        atomic_write_bytes(users_path(), text.encode("utf-8"), mode=0o600)
    except OSError as error:
        raise PaperrecError(f"cannot write the users file {users_path()}: {error.strerror or error}") from None


def _new_secret(name: str, users: dict[str, User], added: str) -> str:
    secret = secrets.token_urlsafe(SECRET_BYTES)
    users[name] = User(name, _hasher().hash(secret), added)
    _write(users)
    return secret


def add_user(name: str, *, today: date | None = None) -> str:
    """Add a lab user and make their folder; returns their secret (shown once, only its hash is kept)."""
    check_name(name)
    with locked(users_path()):
        users = read_users()
        if name in users:
            raise UsageError(f"user {name!r} already exists: 'paperrec user reset {name}' gives a new secret")
        folder = users_dir() / name
        if os.path.lexists(folder):  # an earlier user's files (removed by an older paperrec): never handed on
            raise UsageError(
                f"{folder} holds the files of an earlier user {name!r}: move it away to add {name} afresh, "
                f"then move it back over the new folder to give them those files"
            )
        secret = _new_secret(name, users, (today or date.today()).isoformat())
    try:
        users_dir().mkdir(parents=True, exist_ok=True)
        # Other accounts of a lab machine may not read a user's profiles, votes or history: the server's alone.
        (users_dir() / name).mkdir(mode=0o700, exist_ok=True)
        (users_dir() / name).chmod(0o700)
        (users_dir() / name / "profiles").mkdir(exist_ok=True)
    except OSError as error:
        raise PaperrecError(f"cannot create {users_dir() / name}: {error.strerror or error}") from None
    return secret


def reset_user(name: str) -> str:
    """A new secret for a lab user (the old one stops working); returns it."""
    check_name(name)
    with locked(users_path()):
        users = read_users()
        if name not in users:
            raise NotFound(f"no user {name!r}: see 'paperrec user list'")
        return _new_secret(name, users, users[name].added)


def remove_user(name: str, *, today: date | None = None) -> Path | None:
    """Remove a lab user (they can no longer log in); their folder is moved aside to NAME.removed-DAY, returned.

    A name added again later starts with a folder of its own: no one gets the old profiles, history or link secret.
    None when the user had no folder.
    """
    check_name(name)
    with locked(users_path()):
        users = read_users()
        if users.pop(name, None) is None:
            raise NotFound(f"no user {name!r}: see 'paperrec user list'")
        _write(users)
        folder = users_dir() / name
        if not os.path.lexists(folder):
            return None
        # A '.' is in no user's name, so the folder set aside can never be taken for a user's own.
        stem = f"{name}.removed-{(today or date.today()).isoformat()}"
        aside, count = users_dir() / stem, 1
        while os.path.lexists(aside):
            count += 1
            aside = users_dir() / f"{stem}-{count}"
        try:
            folder.rename(aside)
        except OSError as error:
            raise PaperrecError(f"cannot move {folder} aside to {aside}: {error.strerror or error}") from None
    return aside


def make_folders_private() -> list[str]:
    """Make every folder under users/ mode 0700 (those made before paperrec did); lines to show, one for those it
    changed and a warning for each it could not change."""
    changed, lines = [], []
    try:
        folders = sorted(users_dir().iterdir())
    except FileNotFoundError:
        return []
    except OSError as error:
        raise PaperrecError(f"cannot read {users_dir()}: {error.strerror or error}") from None
    for folder in folders:
        try:
            mode = folder.lstat().st_mode
            if stat.S_ISDIR(mode) and stat.S_IMODE(mode) & 0o077:
                folder.chmod(0o700)
                changed.append(folder.name)
        except OSError as error:  # another owner's folder: its user is still served, and the owner can fix it
            why = error.strerror or error
            shown = printable(str(folder))  # a name on disk may hold anything; the command is pasted into a shell
            lines.append(
                f"warning: cannot make {shown} private ({why}); as its owner, run: chmod 700 {shlex.quote(shown)}"
            )
    if changed:
        what = "user folder" if len(changed) == 1 else "user folders"
        lines.insert(0, f"made {len(changed)} {what} private (0700): {', '.join(changed)}")
    return lines


def verify(name: str, secret: str) -> bool:
    """Whether secret is the user's; an unknown name costs one hash too, so timing does not tell names apart."""
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    user = read_users().get(name) if NAME_PATTERN.fullmatch(name or "") else None
    if user is None:
        hasher.hash(secret or "-")
        return False
    try:
        return hasher.verify(user.secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


class Throttle:
    """At most `limit` failed attempts per key within `window` seconds; the clock is injected (tests move it)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[Hashable, deque[float]] = {}

    def _recent(self, key: Hashable, now: float) -> deque[float]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def wait(self, keys: Iterable[Hashable]) -> float:
        """Seconds until every key may try again (0 when all may now)."""
        now = self.clock()
        longest = 0.0
        for key in keys:
            failures = self._recent(key, now)
            if len(failures) >= self.limit:
                longest = max(longest, failures[0] + self.window - now)
        return longest

    def failed(self, keys: Iterable[Hashable]) -> None:
        """Count one failed attempt against each key."""
        now = self.clock()
        if len(self._failures) > 10_000:  # many clients or names: drop those whose failures have all aged out
            for old in list(self._failures):
                self._recent(old, now)
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)
            while len(self._failures[key]) > self.limit:  # older failures change nothing: memory stays bounded
                self._failures[key].popleft()

    def forget(self, key: Hashable) -> None:
        """Clear a key's failures (a successful login for that name)."""
        self._failures.pop(key, None)
