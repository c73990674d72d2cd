"""Signed one-click vote links: a secret under PAPERREC_HOME and HMAC-SHA256 tokens naming profile, paper and vote.

A link names the profile (its file stem, as `-p NAME` takes it), never a file path. Links made before carry the path
of the profile file (payload version 1); they are still read, until they expire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from .paths import create_private_file, current_user, state_dir
from .schema import PaperrecError

ACTIONS = ("like", "dislike")
MAX_AGE_DAYS = 60

_SECRET_BYTES = 32
_VERSION = "2"  # the profile is a name
_PATH_VERSION = "1"  # the profile is a file path: links sent before names were signed
_SEP = "\x1f"  # ASCII unit separator: never in an arXiv id, a date or an action; the profile comes last
_DOMAIN = b"paperrec vote link v1\x00"  # keeps these MACs apart from anything else signed with the secret
_MAC_CHARS = 43  # 32 bytes in unpadded base64url
_TOKEN = re.compile(rf"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{{{_MAC_CHARS}}})")


@dataclass(frozen=True)
class Vote:
    """What a verified vote link asks for: profile name (a file path if by_path), paper, 'like' or 'dislike', day
    issued."""

    profile: str
    arxiv_id: str
    action: str
    issued: date
    by_path: bool = False  # an old link, signed with the profile file's path


def secret_path() -> Path:
    """The file holding the link secret (32 random bytes, mode 0600)."""
    return state_dir() / "link-secret"


def link_secret() -> bytes:
    """The secret that signs vote links, created on first use (atomically, readable by the user only)."""
    path = secret_path()
    try:
        secret = path.read_bytes()
    except FileNotFoundError:
        secret = _create_secret(path)
    except OSError as error:
        raise PaperrecError(f"cannot read the link secret {path}: {error.strerror or error}") from None
    if len(secret) != _SECRET_BYTES:
        raise PaperrecError(
            f"the link secret {path} is damaged ({len(secret)} bytes, not {_SECRET_BYTES}): "
            "delete it and a new one is made (links already sent stop working)"
        )
    return secret


def _create_secret(path: Path) -> bytes:
    """A new secret, written with mode 0600; two first uses agree on one secret."""
    return create_private_file(path, secrets.token_bytes(_SECRET_BYTES), "the link secret")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes | None:
    """Decode unpadded base64url; None unless text is the one canonical encoding of its bytes."""
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return None
    # base64 leaves spare bits in the last character; demanding the canonical form makes every edit count
    return data if _b64(data) == text else None


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, _DOMAIN + payload, hashlib.sha256).digest()


def _check_action(action: str) -> None:
    if action not in ACTIONS:
        raise PaperrecError(f"unknown vote action {action!r}: use 'like' or 'dislike'")


def is_profile_name(name: str) -> bool:
    """Whether name can name a profile in a link: a file stem, as `-p NAME` takes it, and no path."""
    return bool(name) and "/" not in name and not name.startswith(".") and not name.endswith(".toml")


def vote_token(profile: str, arxiv_id: str, action: str, *, issued: date | None = None) -> str:
    """A URL-safe signed token for one vote, e.g. vote_token('vision', '2104.10642', 'like') (the profile's name)."""
    _check_action(action)
    profile, arxiv_id = str(profile), str(arxiv_id)
    if not is_profile_name(profile) or not arxiv_id or any(c in t for c in (_SEP, "\x00") for t in (arxiv_id, profile)):
        raise PaperrecError(f"cannot sign a vote for profile {profile!r} and paper {arxiv_id!r}: sign a profile name")
    day = (issued or date.today()).strftime("%Y%m%d")
    payload = _SEP.join((_VERSION, action, day, arxiv_id, profile)).encode("utf-8")
    return f"{_b64(payload)}.{_b64(_mac(link_secret(), payload))}"


def read_vote_token(
    token: str, *, max_age_days: int = MAX_AGE_DAYS, today: date | None = None, action: str | None = None
) -> Vote:
    """The vote a token carries, after checking its signature, age and (if given) action; a one-line PaperrecError
    otherwise."""
    match = _TOKEN.fullmatch(token.strip()) if isinstance(token, str) else None
    payload = _unb64(match.group(1)) if match else None
    mac = _unb64(match.group(2)) if match else None
    if payload is None or mac is None:
        raise PaperrecError("invalid vote link: the token is malformed (was the link cut short?)")
    if not hmac.compare_digest(mac, _mac(link_secret(), payload)):
        raise PaperrecError("invalid vote link: the signature does not match (altered, or made with another secret)")
    # from here on the payload is ours: anything odd in it comes from another version of paperrec
    try:
        version, signed_action, day, arxiv_id, profile = payload.decode("utf-8").split(_SEP, 4)
        issued = date(int(day[:4]), int(day[4:6]), int(day[6:8])) if len(day) == 8 and day.isdigit() else None
    except ValueError:
        version, signed_action, issued = "", "", None
    if version not in (_VERSION, _PATH_VERSION) or issued is None:
        raise PaperrecError("invalid vote link: made by another version of paperrec; use a newer digest")
    if signed_action not in ACTIONS:
        raise PaperrecError(f"invalid vote link: unknown action {signed_action!r}")
    if "\x00" in profile or "\x00" in arxiv_id:  # no file name holds one; an older paperrec signed what it was given
        raise PaperrecError("invalid vote link: it names a profile or paper with a NUL character")
    if action is not None and action != signed_action:
        raise PaperrecError(f"invalid vote: this link is for '{signed_action}', not '{action}'")
    today = today or date.today()
    if issued > today + timedelta(days=1):  # a day of slack for time zones
        raise PaperrecError(f"invalid vote link: issued on {issued.isoformat()}, which is in the future")
    if (today - issued).days > max_age_days:
        raise PaperrecError(
            f"vote link expired: issued on {issued.isoformat()}, links are valid for {max_age_days} days"
        )
    by_path = version == _PATH_VERSION
    if not by_path and not is_profile_name(profile):
        raise PaperrecError("invalid vote link: it does not name a profile")
    return Vote(profile=profile, arxiv_id=arxiv_id, action=signed_action, issued=issued, by_path=by_path)


def is_signed(token: str) -> bool:
    """True when a vote token carries this home's signature, whatever its age: a server lets such a link in.

    It only reads: a home that never signed a link has no secret, and a stranger's token does not make one."""
    match = _TOKEN.fullmatch(token.strip()) if isinstance(token, str) else None
    payload = _unb64(match.group(1)) if match else None
    mac = _unb64(match.group(2)) if match else None
    if payload is None or mac is None or not secret_path().is_file():  # no secret, no link signed here: none made
        return False
    try:
        return hmac.compare_digest(mac, _mac(link_secret(), payload))
    except PaperrecError:
        return False


def vote_url(base_url: str, profile: str, arxiv_id: str, action: str, *, issued: date | None = None) -> str:
    """The one-click vote link: f'{base_url}/vote/{token}' (GET shows a confirmation, POST records the vote).

    A lab user's link is f'{base_url}/u/{user}/vote/{token}', signed with that user's own secret.
    """
    user = current_user()
    prefix = f"/u/{user}" if user is not None else ""
    return f"{base_url.rstrip('/')}{prefix}/vote/{vote_token(profile, arxiv_id, action, issued=issued)}"
