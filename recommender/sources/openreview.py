"""OpenReview: a venue's public submissions of a day, from the API v2 notes.

The API is https://api2.openreview.net/notes?invitation={venue}/-/Submission&sort=cdate:desc&offset=&limit=. Its
answer is {"notes": [{"id", "forum", "cdate", "odate" (ms, UTC), "readers", "content": {"title": {"value"}, "abstract",
"authors", "keywords", "pdf", "venue", "venueid"}}], "count"}. The venue is what the forum page shows ("ICLR 2025
Poster"). The venueid names it for machines ("ICLR.cc/2025/Conference"). A day is the day a note was made public
(odate, "online date") in UTC, else its creation date (cdate): a venue often releases weeks of submissions at once.
Only notes that everyone may read are kept: a paper that is not public, withdrawn or desk-rejected is never shown.
paperrec calls this REST API through its polite client rather than openreview-py, whose `requests` transport cannot
be bounded by the same deadline and size cap.

Since late 2025 the API refuses anonymous note queries: HTTP 403 with {"name": "ChallengeRequiredError", "message":
"Challenge verification required", "details": {"challengeUrl"}}, an anti-bot check meant for browsers. A client
signs in instead. It sends `Authorization: Bearer <token>`, with a token from $OPENREVIEW_TOKEN or the file
openreview_token_path(), or one it gets once per run (once per fetch outside a run) from POST /login {"id",
"password"} -> {"token"} with $OPENREVIEW_USERNAME and $OPENREVIEW_PASSWORD. A token from the sign-in lives in memory
for that run and is never written down. Tokens expire within hours to a week, and the API refuses more than a few
sign-ins a minute, so one a run is both fresh and polite. An expired token is answered 401; one sign-in with the
password then renews it. No message or log line shows a token or a password.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ..paths import openreview_token_path
from ..schema import Listing, Paper, PaperrecError, TemporaryFailure, UsageError, openreview_id
from .daily import fetch_keyed
from .guard import answer_object, checked_keys, read_secret, scrubbed
from .http import Answer, NetworkError, Outgoing, PoliteClient, redacted
from .once import ask_once

API_URL = "https://api2.openreview.net/notes"
HOSTS = frozenset({"api2.openreview.net"})
MIN_INTERVAL = 1.0
PAGE_SIZE = 1000  # the API's largest page
MAX_PAGES = 50
TOKEN_ENV = "OPENREVIEW_TOKEN"
USERNAME_ENV = "OPENREVIEW_USERNAME"
PASSWORD_ENV = "OPENREVIEW_PASSWORD"
_VENUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9._-]+)*$")
_REFUSED = frozenset({401, 403})  # read as answers, so their body can say why
_LOGIN_REFUSED = frozenset({400, 401, 403})
_TOKEN = re.compile(r"^[A-Za-z0-9._~+/=-]{1,8000}$")  # a JWT or an opaque token: nothing that could break a header
_ERROR_NAME = re.compile(r"^[A-Za-z]{1,60}$")
_GONE = frozenset({"Withdrawn_Submission", "Desk_Rejected_Submission"})  # the last part of such a note's venueid
_ASKS_SIGN_IN = re.compile(r"challenge|sign[ -]?in|log[ -]?in|authenticat|unauthori[sz]ed", re.IGNORECASE)


def sign_in_hint() -> str:
    """How to sign in, for messages: the variables and the file, never a value."""
    return (
        f"set {TOKEN_ENV} (or write the token to {openreview_token_path()}, chmod 600), "
        f"or {USERNAME_ENV} and {PASSWORD_ENV}"
    )


def _refusal_body(answer: Answer) -> dict[str, Any]:
    """The JSON object of a refusal ({"name", "message", ...}); {} when it is none."""
    try:
        data = json.loads(answer.text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _why(answer: Answer) -> str:
    """'HTTP 403, ChallengeRequiredError': the status and the error name OpenReview gives, never its free text."""
    name = _refusal_body(answer).get("name")
    return f"HTTP {answer.status}" + (f", {name}" if isinstance(name, str) and _ERROR_NAME.match(name) else "")


def asks_to_sign_in(answer: Answer) -> bool:
    """True for a refusal that wants a signed-in client: a 401, or a 403 whose body asks for a challenge or sign-in."""
    if answer.status == 401:
        return True
    body = _refusal_body(answer)
    said = " ".join(str(body.get(key, "")) for key in ("name", "message")) if body else answer.text[:2000]
    return answer.status == 403 and bool(_ASKS_SIGN_IN.search(said))


def login(client: PoliteClient, url: str, username: str, password: str) -> str:
    """A token for the account from POST /login; UsageError when OpenReview refuses the username or password."""
    body = json.dumps({"id": username, "password": password}).encode("utf-8")
    out = Outgoing("POST", {"Content-Type": "application/json", "Accept": "application/json"}, body)
    answer = client.send(url, out=out, accept=_LOGIN_REFUSED)
    if answer.status == 403 and _ASKS_SIGN_IN.search(str(_refusal_body(answer).get("name", ""))):
        # An anti-bot challenge on the sign-in itself: the username and password were never checked.
        raise UsageError(
            f"OpenReview answered the sign-in with a browser check ({_why(answer)}), so the username and password "
            f"were not checked: set {TOKEN_ENV} to a token instead"
        )
    if answer.status in _LOGIN_REFUSED:
        raise UsageError(
            f"OpenReview refused the sign-in with {USERNAME_ENV} and {PASSWORD_ENV} ({_why(answer)}): "
            f"check both, or set {TOKEN_ENV}"
        )
    data = answer_object(answer.content, "OpenReview")
    if data.get("mfaPending"):
        raise UsageError(
            f"the OpenReview account in {USERNAME_ENV} asks for a second sign-in step (MFA), "
            f"which paperrec cannot answer: set {TOKEN_ENV} instead"
        )
    token = data.get("token")
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise TemporaryFailure("OpenReview's sign-in answer holds no token; try again later")
    return token


def _login_or_refusal(client: PoliteClient, url: str, username: str, password: str) -> str | UsageError:
    """login's token, or the UsageError it raised (a refusal, which the run keeps for its other profiles)."""
    try:
        return login(client, url, username, password)
    except UsageError as refused:
        return refused


class Session:
    """How one fetch signs in to OpenReview: a token given, or one got from the username and password when needed.

    Credentials are read on first use, so an offline run never reads them. The token stays in this object only.
    """

    def __init__(self, login_url: str) -> None:
        self.login_url = login_url
        self._loaded = False
        self._token: str | None = None
        self._where = TOKEN_ENV  # where the token came from, for messages: the variable or the file
        self._username: str | None = None
        self._password: str | None = None
        self._from_login = False

    def __repr__(self) -> str:
        return f"Session(login_url={self.login_url!r}, signed_in={self.signed_in})"

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        token = read_secret(TOKEN_ENV, openreview_token_path(), "OpenReview token")
        if token is not None:
            if not os.environ.get(TOKEN_ENV, "").strip():
                self._where = str(openreview_token_path())
            token = token.removeprefix("Bearer ").strip()
            if not _TOKEN.match(token):
                raise UsageError(f"the OpenReview token in {self._where} is not a token: copy it again, whole")
            self._token = token
        self._username = os.environ.get(USERNAME_ENV, "").strip() or None
        self._password = os.environ.get(PASSWORD_ENV) or None
        if token is None and (self._username is None) != (self._password is None):
            have, lack = (USERNAME_ENV, PASSWORD_ENV) if self._password is None else (PASSWORD_ENV, USERNAME_ENV)
            raise UsageError(f"{have} is set but {lack} is not: set both, or {TOKEN_ENV}")

    @property
    def signed_in(self) -> bool:
        """True when there is a token or a username and password to get one."""
        self._load()
        return self._token is not None or (self._username is not None and self._password is not None)

    def headers(self, client: PoliteClient) -> dict[str, str]:
        """The Authorization header of a request, signing in first when only a password is known; {} when anonymous."""
        self._load()
        if self._token is None and self._username is not None and self._password is not None:
            self._sign_in(client)
        return {"Authorization": f"Bearer {self._token}"} if self._token is not None else {}

    def _sign_in(self, client: PoliteClient) -> None:
        """Sign in with the username and password, once per run for all its sessions."""
        username, password = self._username or "", self._password or ""
        # One sign-in per run: each gives a new token, which would make every later request of the run new too. A
        # refused one is not tried again for the next profile either: the API allows few sign-ins a minute.
        key = ("OpenReview sign-in", self.login_url, username)
        answer = ask_once(key, lambda: _login_or_refusal(client, self.login_url, username, password))
        if isinstance(answer, UsageError):
            raise answer.with_traceback(None)
        self._token = answer
        self._from_login = True

    def renew(self, client: PoliteClient) -> bool:
        """Sign in again with the password once, when a token that did not come from it was refused (an old one)."""
        if self._from_login or self._username is None or self._password is None:
            return False
        self._sign_in(client)
        return True

    def refusal(self, answer: Answer) -> PaperrecError:
        """The one line for a refused note query: how to sign in, or which credentials were refused."""
        why = _why(answer)
        if not self.signed_in:
            if asks_to_sign_in(answer):
                return UsageError(f"OpenReview now asks API clients to sign in ({why}): {sign_in_hint()}")
            refused = NetworkError(f"OpenReview returned HTTP {answer.status} for {redacted(answer.url)}")
            refused.status = answer.status
            return refused
        if self._from_login:
            return UsageError(
                f"OpenReview refused the queries signed in with {USERNAME_ENV} ({why}): "
                f"check the account on openreview.net, or set {TOKEN_ENV}"
            )
        return UsageError(
            f"OpenReview refused the token in {self._where} ({why}): it may have expired; "
            f"put a fresh one there, or set {USERNAME_ENV} and {PASSWORD_ENV}"
        )


def login_url(notes_url: str) -> str:
    """The sign-in address beside a notes address: https://api2.openreview.net/login."""
    return notes_url.rstrip("/").rsplit("/", 1)[0] + "/login"


def _page(client: PoliteClient, url: str, params: dict[str, Any], session: Session) -> bytes:
    """One page of notes, signed in when there are credentials; a refusal is one line that says how to sign in."""
    answer = client.send(url, params, Outgoing(headers=session.headers(client)), accept=_REFUSED)
    if answer.status in _REFUSED and session.renew(client):
        answer = client.send(url, params, Outgoing(headers=session.headers(client)), accept=_REFUSED)
    if answer.status in _REFUSED:
        raise session.refusal(answer)
    return answer.content


def check_venue(text: str) -> str:
    """A venue id as OpenReview writes it ('ICLR.cc/2026/Conference'); UsageError for anything else."""
    venue = text.strip().strip("/")
    if not _VENUE.match(venue) or ".." in venue.split("/"):
        raise UsageError(f"{text!r} is not an OpenReview venue id; use one like ICLR.cc/2026/Conference")
    return venue


def _value(content: dict[str, Any], key: str) -> Any:
    """A content field: API v2 wraps each in {"value": ...}; API v1 wrote it bare."""
    field = content.get(key)
    return field.get("value") if isinstance(field, dict) else field


def _strings(value: Any) -> list[str]:
    return [scrubbed(v) for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _day(cdate: Any) -> date | None:
    """The UTC day of a cdate in milliseconds since the epoch; None when it is not one."""
    if isinstance(cdate, bool) or not isinstance(cdate, int | float) or not 0 <= cdate < 253402300800000:
        return None
    return datetime.fromtimestamp(cdate / 1000, UTC).date()


def _note_day(note: dict[str, Any]) -> date | None:
    """The day a note became public (odate), else the day it was created (cdate)."""
    return _day(note.get("odate")) or _day(note.get("cdate"))


def _gone(content: dict[str, Any]) -> bool:
    """True for a submission its authors withdrew or the venue desk-rejected: its venueid says so."""
    venueid = _value(content, "venueid")
    return isinstance(venueid, str) and venueid.rsplit("/", 1)[-1] in _GONE


def _venue(content: dict[str, Any]) -> str:
    """Where a note was submitted or accepted, as its forum page says it; else its venue id; '' when neither."""
    for key in ("venue", "venueid"):
        value = scrubbed(_value(content, key))
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _paper(note: Any) -> tuple[Paper | None, date | None]:
    """One public submission as a Paper and its day (_note_day); (None, day) for a note not public or unreadable."""
    if not isinstance(note, dict):
        return None, None
    day = _note_day(note)
    readers = note.get("readers")
    content = note.get("content")
    if not isinstance(readers, list) or "everyone" not in readers or not isinstance(content, dict) or _gone(content):
        return None, day
    forum = note.get("forum") or note.get("id")
    found = openreview_id(forum) if isinstance(forum, str) else None
    title = scrubbed(_value(content, "title"))
    if found is None or not isinstance(title, str) or not title.strip():
        return None, day
    abstract = scrubbed(_value(content, "abstract"))
    forum_id = found.removeprefix("openreview:")
    links = [f"https://openreview.net/forum?id={forum_id}"]
    if isinstance(_value(content, "pdf"), str):
        links.append(f"https://openreview.net/pdf?id={forum_id}")
    paper = Paper.make(
        title=title,
        raw_id=found,
        abstract=abstract if isinstance(abstract, str) else "",
        authors=_strings(_value(content, "authors")),
        categories=_strings(_value(content, "keywords")),
        date=day,
        links=links,
        venue=_venue(content),
    )
    return paper, day


def parse_notes(content: bytes | str) -> tuple[list[tuple[Paper | None, date | None]], int | None]:
    """Each note of one page as (paper or None, its day), and the count the answer announces."""
    notes, count = _notes(content)
    return [_paper(note) for note in notes], count


def _notes(content: bytes | str) -> tuple[list[Any], int | None]:
    """The notes of one page and the count the answer announces."""
    data = answer_object(content, "OpenReview")
    notes = data.get("notes")
    count = data.get("count")
    count = count if isinstance(count, int) and not isinstance(count, bool) else None
    return (notes if isinstance(notes, list) else []), count


def _before(notes: list[Any], day: date) -> bool:
    """True when the page's oldest note was created before `day`."""
    created = [_day(note.get("cdate")) for note in notes if isinstance(note, dict)]
    return min((made for made in created if made is not None), default=day) < day


def fetch_day(
    client: PoliteClient, venue: str, day: date, *, base_url: str | None = None, session: Session | None = None
) -> Listing:
    """A venue's public submissions of `day` (UTC, see _note_day), newest created first until no later one can be."""
    url = base_url or API_URL  # read at call time, so a test can point it at its own server
    session = session or Session(login_url(url))
    papers: dict[str, Paper] = {}
    offset = 0
    # A note made public after it was created (it has an odate) may be of any later day, whatever its cdate: once
    # one is seen, every page is read. Without odates, paging ends at the first page that reaches back before the day.
    released = False
    for _ in range(MAX_PAGES):
        params = {
            "invitation": f"{venue}/-/Submission",
            "sort": "cdate:desc",
            "offset": offset,
            "limit": PAGE_SIZE,
        }
        notes, count = _notes(_page(client, url, params, session))
        for paper, on in map(_paper, notes):
            if paper is not None and on == day:
                papers.setdefault(paper.arxiv_id, paper)
        offset += len(notes)
        released = released or any(isinstance(note, dict) and note.get("odate") is not None for note in notes)
        ended = not notes or len(notes) < PAGE_SIZE or (count is not None and offset >= count)
        if ended or (not released and _before(notes, day)):
            break
    else:
        raise PaperrecError(f"OpenReview needed more than {MAX_PAGES} pages for {venue} back to {day}: stopped")
    return Listing(papers=tuple(papers.values()), category=venue, date=day, sources=(f"{url}?invitation={venue}",))


def fetch_listing(
    keys: list[str],
    day: date | None = None,
    *,
    include_cross: bool = False,
    offline: bool = False,
    store: Path | None = None,
    client: PoliteClient | None = None,
    now: datetime | None = None,
    base_url: str | None = None,
) -> tuple[Listing, str | None]:
    """The public submissions of venues created on `day` (None: yesterday, UTC). Example: fetch_listing(['TMLR'])."""
    venues = checked_keys(keys, check_venue, "OpenReview venue", "openreview:ICLR.cc/2026/Conference")
    session = Session(login_url(base_url or API_URL))  # one sign-in for all the venues
    return fetch_keyed(
        "openreview",
        "OpenReview",
        venues,
        day,
        fetch_one=lambda client, venue, on: fetch_day(client, venue, on, base_url=base_url, session=session),
        hosts=HOSTS,
        min_interval=MIN_INTERVAL,
        now=now,
        client=client,
        offline=offline,
        store=store,
    )
