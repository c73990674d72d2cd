"""The digest by email: an HTML message with a plain-text alternative, sent through SMTP, kept on disk if it fails.

A kept digest waits in state/unsent/ until `paperrec email --resend` (or the next `today --email`) sends it.
"""

from __future__ import annotations

import hashlib
import secrets
import shlex
import smtplib
import socket
import ssl
import textwrap
from collections.abc import Callable, Collection, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .config import Config, EmailConfig, is_local_host
from .digest import section_view
from .latex import to_text as latex_text
from .paths import atomic_write_bytes, locked, profiles_dir, state_dir
from .schema import PaperrecError, Pick, TemporaryFailure, printable
from .sent import SentRecord, channel_key, paper_keys, picks_key, sending, sent_record
from .signing import MAX_AGE_DAYS, vote_url
from .summary import LABEL as SUMMARY_LABEL

if TYPE_CHECKING:
    from .run import Run, Section

# render(sections, *, title=None, vote_link=None, now=None, note=None) -> HTML, as recommender.digest.render_html
Render = Callable[..., str]
VoteLink = Callable[["Section", Pick, str], str]

TEXT_WIDTH = 76  # the plain-text digest's lines, for a terminal of 80 columns
_SUBJECT_PROFILES = 3  # more profiles than this are counted in the subject, not named
DIGEST_HEADER = "X-Paperrec-Digest"  # the day and profiles a digest is of: a later copy of them replaces a kept one
PICKS_HEADER = "X-Paperrec-Picks"  # the day, profiles and picks: the same again (a holiday) is not sent twice
PAPERS_HEADER = "X-Paperrec-Papers"  # a word per pick: a rerun of the day sends only the picks not sent yet


class MailError(TemporaryFailure):
    """Sending failed for a reason that may pass (server down, a 4xx reply, timeout, TLS): exit 75, digest kept."""


class MailRejected(PaperrecError):
    """The server refused the digest for good (a 5xx reply, e.g. a wrong password): exit 1, digest kept."""


def unsent_dir() -> Path:
    """Digests that could not be sent, as .eml files."""
    return state_dir() / "unsent"


def _sections(run_or_sections: Run | Sequence[Section]) -> list[Section]:
    sections = getattr(run_or_sections, "sections", run_or_sections)
    return list(sections)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _shown(text: str) -> str:
    """A paper's or profile's text as one printable line, for the plain-text digest."""
    return _one_line(printable(text))


def _wrapped(text: str) -> list[str]:
    """A line of a pick in the plain-text digest, wrapped for a terminal and indented under its title."""
    if not text:
        return []
    return textwrap.wrap(
        _one_line(text),
        width=TEXT_WIDTH,
        initial_indent="   ",
        subsequent_indent="   ",
        break_long_words=False,
        break_on_hyphens=False,
    )


def sections_day(sections: Sequence[Section], now: datetime) -> date:
    """The day a digest is of: the newest day its sections ranked, else today."""
    return max((day for s in sections if (day := s.day_on(now.date())) is not None), default=now.date())


def _keyed_days(sections: Sequence[Section], now: datetime) -> list[date]:
    """The days the sent-record may hold these picks under: the day ranked, then their newest date if another.

    Before 2026-12-05 a digest was keyed by its newest pick's date, else today. A feed dates its entries days before
    they arrive, so that day can differ, and the rows marked then are kept KEEP_DAYS: they still say what went out.
    Under that second day only the previous version's rows count (_when): this version's are of the day it ranked.
    """
    ranked = sections_day(sections, now)
    newest = max((p.paper.date for s in sections for p in s.picks if p.paper.date is not None), default=now.date())
    return [ranked] if newest == ranked else [ranked, newest]


def _when(record: SentRecord, channel: str, key: str, ranked: bool) -> datetime | None:
    """When the channel had `key`: of the day ranked, or (not `ranked`) of the previous version's keying."""
    return record.when(channel, key) if ranked else record.when_before_upgrade(channel, key)


def headline(sections: Sequence[Section], who: str, now: datetime) -> str:
    """E.g. 'paperrec: 10 picks for super-resolution, 2021-04-22' (the day ranked, else today)."""
    picks = [p for s in sections for p in s.picks]
    what = "no new picks" if not picks else "1 pick" if len(picks) == 1 else f"{len(picks)} picks"
    return f"paperrec: {what} for {who}, {sections_day(sections, now).isoformat()}"


def subject(sections: Sequence[Section], now: datetime) -> str:
    """The digest's subject: the headline of every section's picks, naming the profiles (or how many)."""
    # A name holding an RFC 2047 encoded word ("=?utf-8?b?...?=") would be decoded by the mail client into text
    # the profile never showed; broken apart, it is shown as written.
    names = [_one_line(s.profile.name).replace("=?", "= ?") for s in sections]
    who = ", ".join(names) if len(names) <= _SUBJECT_PROFILES else f"{len(names)} profiles"
    return headline(sections, who, now)


def _digest_key(sections: Sequence[Section], day: date) -> str:
    names = "\x1f".join(s.profile.name for s in sections)
    return f"{day.isoformat()} {hashlib.sha256(names.encode()).hexdigest()[:16]}"


def _digest_picks_key(sections: Sequence[Section], day: date) -> str:
    return picks_key(day, [(s.profile.name, [p.paper.arxiv_id for p in s.picks]) for s in sections])


def _digest_paper_keys(sections: Sequence[Section], day: date) -> list[str]:
    return [k for s in sections for k in paper_keys(day, s.profile.name, [p.paper.arxiv_id for p in s.picks])]


def digest_key(sections: Sequence[Section], now: datetime) -> str:
    """The day (as the subject names it) and the profiles a digest is of, as one ASCII word pair."""
    return _digest_key(sections, sections_day(sections, now))


def digest_picks_key(sections: Sequence[Section], now: datetime) -> str:
    """The day, profiles and picks a digest is of, as one word pair (recommender.sent)."""
    return _digest_picks_key(sections, sections_day(sections, now))


def digest_paper_keys(sections: Sequence[Section], now: datetime) -> list[str]:
    """A word per pick of a digest (its day, profile and paper), as recommender.sent.paper_keys makes them."""
    return _digest_paper_keys(sections, sections_day(sections, now))


def sent_at(record: SentRecord | None, channel: str, sections: Sequence[Section], now: datetime) -> datetime | None:
    """When the channel had these very picks of their day (under digest_picks_key or an earlier version's), or None."""
    for index, day in enumerate(_keyed_days(sections, now) if record is not None else ()):
        if (when := _when(record, channel, _digest_picks_key(sections, day), index == 0)) is not None:
            return when
    return None


def unsent_picks(
    sections: Sequence[Section], record: SentRecord | None, channel: str, now: datetime
) -> tuple[list[Section], datetime | None]:
    """The sections cut to the picks the channel has not had from their day, and when it had the others.

    A vote re-ranks the day, so a holiday would otherwise send the day's picks again in a new order. With no pick
    had, the sections are as given and the time is None. A section whose every pick was had is left out.
    """
    had: list[datetime | None] = [None] * sum(len(s.picks) for s in sections)
    for index, day in enumerate(_keyed_days(sections, now) if record is not None else ()):
        for i, key in enumerate(_digest_paper_keys(sections, day)):
            had[i] = had[i] or _when(record, channel, key, index == 0)
    times = [when for when in had if when is not None]
    if not times:
        return list(sections), None
    flags = iter(had)
    cut = [replace(s, picks=[p for p in s.picks if next(flags) is None]) for s in sections]
    return [s for s in cut if s.picks], max(times)


def _links_here_only(config: Config) -> bool:
    """Whether serve_url is on this machine, so the digest's vote links open nowhere else."""
    host = urlsplit(config.serve_url).hostname if config.serve_url else None
    return host is not None and is_local_host(host)


def link_warning(config: Config) -> str | None:
    """A warning for the command line when the vote links will work only on this machine; else None."""
    if not _links_here_only(config):
        return None
    return (
        f"serve_url {config.serve_url} is this machine: vote links will work only on this machine "
        "(see the README, 'The digest by email')"
    )


def name_warnings(config: Config, sections: Sequence[Section]) -> list[str]:
    """A warning per profile outside the profiles folder: its vote links name it, and serve must serve its file."""
    if not config.serve_url:
        return []
    lines = []
    for section in sections:
        path = Path(section.path)
        if path.resolve() != (profiles_dir() / f"{path.stem}.toml").resolve():
            lines.append(
                f"the vote links for {path} name it {path.stem!r}: they work on a paperrec serve that serves "
                f"that file (serve -p {shlex.quote(str(path))})"
            )
    return lines


def link_note(config: Config) -> str | None:
    """A line for the top of the digest when its vote links open only on the machine that runs paperrec."""
    if not _links_here_only(config):
        return None
    return "The like and not-interested links open only on the computer that runs paperrec serve."


def vote_links(serve_url: str, now: datetime) -> VoteLink:
    """vote_link(section, pick, action) for the digest: a signed link to serve_url's /vote/ page, issued today.

    The link names the profile by its file stem (what `-p NAME` takes), never by its path.
    """

    def vote_link(section: Section, pick: Pick, action: str) -> str:
        return vote_url(serve_url, Path(section.path).stem, pick.paper.arxiv_id, action, issued=now.date())

    return vote_link


def plain_text(sections: Sequence[Section], *, vote_link: VoteLink | None = None, note: str | None = None) -> str:
    """The digest as plain text: a note if given, then per profile each pick as the HTML shows it, wrapped for a
    terminal: rank, title, authors, match, summary, reason, key sentence, link and votes.

    Its texts are printable, as the HTML's are: a terminal mail reader shows no escape sequence from a paper.
    """
    lines: list[str] = [note, ""] if note else []
    for section in sections:
        name = _shown(section.profile.name)
        lines += [name, "=" * len(name), ""]
        shown_section = section_view(section)
        if shown_section.old_likes:
            lines += [*textwrap.wrap(shown_section.old_likes, TEXT_WIDTH), ""]
        for title, url in shown_section.notices:
            told = textwrap.wrap(f"A notice on a paper you liked: {title}", TEXT_WIDTH)
            lines += [*told, *([url] if url else []), ""]
        if not section.picks:
            lines += ["No new picks today.", ""]
        for pick, view in zip(section.picks, shown_section.picks, strict=True):
            paper = pick.paper
            lines.append(f"{pick.rank}. {_shown(latex_text(paper.title))}")  # LaTeX as text, as in the HTML
            authors = ", ".join(_shown(a) for a in paper.authors[:3]) + (" et al." if len(paper.authors) > 3 else "")
            if authors:
                lines.append(f"   {authors}")
            lines += _wrapped(" ".join(filter(None, (view.match, view.standing))))
            if pick.summary:  # a model's text: printable, like any feed text
                lines += _wrapped(f"{SUMMARY_LABEL}: {_one_line(printable(pick.summary))}")
            if view.reasons:
                lines += _wrapped(f"Close to your {_shown(latex_text(view.reasons[0].title))}")
            elif view.terms:
                lines += _wrapped(f"Terms: {', '.join(view.terms)}")
            if view.abstract[1]:
                lines += _wrapped(f"Key sentence: {_shown(latex_text(view.abstract[1]))}")
            if paper.url:
                lines.append(f"   {paper.url}")
            if vote_link is not None:
                lines.append(f"   like: {vote_link(section, pick, 'like')}")
                lines.append(f"   not interested: {vote_link(section, pick, 'dislike')}")
            lines.append("")
        if section.hidden_seen:
            shown = "paper" if section.hidden_seen == 1 else "papers"
            lines += [f"({section.hidden_seen} {shown} shown on earlier days left out.)", ""]
    if vote_link is not None:
        lines.append("A vote link opens a page that asks you to confirm; nothing is recorded until you do.")
    return "\n".join(lines).rstrip() + "\n"


def compose_digest(
    run_or_sections: Run | Sequence[Section],
    *,
    config: Config,
    now: datetime | None = None,
    render: Render | None = None,
) -> EmailMessage:
    """The digest as an email: multipart/alternative, plain text and the HTML digest, with vote links if serve_url.

    Example: compose_digest(run_today([], open_embedder()), config=load_config())
    """
    email = config.require_email()
    sections = _sections(run_or_sections)
    now = (now or datetime.now()).astimezone()
    if render is None:
        from .digest import render_html as render
    vote_link = vote_links(config.serve_url, now) if config.serve_url else None
    note = link_note(config)

    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = subject(sections, now)
    message["From"] = email.sender
    message["To"] = ", ".join(email.to)
    message["Date"] = format_datetime(now)
    domain = parseaddr(email.sender)[1].rpartition("@")[2] or "paperrec.invalid"
    message["Message-ID"] = make_msgid("paperrec", domain=domain)  # a domain, so no slow lookup of our own name
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders do not answer it
    message[DIGEST_HEADER] = digest_key(sections, now)
    message[PICKS_HEADER] = digest_picks_key(sections, now)
    if any(s.picks for s in sections):
        message[PAPERS_HEADER] = " ".join(digest_paper_keys(sections, now))
    message.set_content(plain_text(sections, vote_link=vote_link, note=note))
    html = render(sections, vote_link=vote_link, now=now.replace(tzinfo=None), note=note)
    message.add_alternative(html, subtype="html")
    return message


def _reply(error: smtplib.SMTPResponseException) -> str:
    text = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
    return _one_line(f"{error.smtp_code} {text}")


def _explain(error: BaseException, email: EmailConfig, timeout: float) -> str:
    """What went wrong, in one line a person can act on."""
    server = f"{email.host}:{email.port}"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return f"{server} refused the login of {email.username}: {_reply(error)}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(
            f"{who}: {code} {_one_line(text.decode('utf-8', 'replace'))}"
            for who, (code, text) in error.recipients.items()
        )
        return f"{server} refused every recipient ({refused})"
    if isinstance(error, smtplib.SMTPSenderRefused):
        return f"{server} refused the sender {email.sender}: {_reply(error)}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{server} answered {_reply(error)}"
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return f"{server}: {_one_line(str(error))}"
    if isinstance(error, smtplib.SMTPServerDisconnected) and isinstance(error.__context__, TimeoutError):
        return f"no answer from {server} within {timeout:g} s"  # smtplib reports a read timeout as a disconnect
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return f"{server} closed the connection ({_one_line(str(error)) or 'no reason given'})"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"the TLS certificate of {server} is not trusted ({_one_line(error.verify_message or str(error))})"
    if isinstance(error, ssl.SSLError):
        hint = ""
        if email.security == "ssl" and email.port != 465:
            hint = ' (port 587 usually wants security = "starttls")'
        elif email.security == "starttls" and email.port == 465:
            hint = ' (port 465 usually wants security = "ssl")'
        return f"TLS with {server} failed: {_one_line(error.reason or str(error))}{hint}"
    if isinstance(error, ConnectionRefusedError):
        return f"{server} refused the connection (is the SMTP server running, and is the port right?)"
    if isinstance(error, TimeoutError):
        return f"no answer from {server} within {timeout:g} s"
    if isinstance(error, socket.gaierror):
        return f"cannot find the SMTP server {email.host} ({_one_line(error.strerror or str(error))})"
    if isinstance(error, OSError):
        return f"cannot reach {server}: {_one_line(error.strerror or str(error))}"
    return f"{server}: {_one_line(str(error)) or type(error).__name__}"


def _permanent(error: BaseException) -> bool:
    """Whether the server said no for good (5xx): trying the same message again will not help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(code >= 500 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def _tls_context(email: EmailConfig) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=str(email.ca_file) if email.ca_file else None)
    except (OSError, ssl.SSLError) as error:
        raise PaperrecError(f"cannot read email.ca_file {email.ca_file}: {_one_line(str(error))}") from None


def send_digest(
    message: EmailMessage,
    config: Config | EmailConfig,
    *,
    timeout: float = 30,
    smtp_class: type[smtplib.SMTP] | None = None,
    smtp_ssl_class: type[smtplib.SMTP_SSL] | None = None,
) -> None:
    """Send the message through the configured SMTP server; MailError (one line) when the server cannot take it.

    A configuration problem (no [email], the password variable unset, an unreadable ca_file) is a plain
    PaperrecError raised before connecting. Recipients the server refuses while it accepts others are not an error.
    """
    email = config.require_email() if isinstance(config, Config) else config
    password = email.password()
    context = _tls_context(email) if email.security != "none" else None
    smtp: smtplib.SMTP | None = None
    try:
        try:
            if email.security == "ssl":
                smtp = (smtp_ssl_class or smtplib.SMTP_SSL)(email.host, email.port, timeout=timeout, context=context)
            else:
                smtp = (smtp_class or smtplib.SMTP)(email.host, email.port, timeout=timeout)
            smtp.ehlo()
            if email.security == "starttls":
                if not smtp.has_extn("starttls"):
                    # never fall back to plain text: the password and the vote links would travel unencrypted
                    raise MailError(f"cannot send the digest: {email.host}:{email.port} does not offer STARTTLS")
                smtp.starttls(context=context)
                smtp.ehlo()
            if email.username is not None:
                smtp.login(email.username, password or "")
            to_addrs = [parseaddr(a)[1] for a in email.to]
            smtp.send_message(message, from_addr=parseaddr(email.sender)[1], to_addrs=to_addrs)
        except (smtplib.SMTPException, OSError) as error:  # OSError covers refused, timeout, DNS and TLS errors
            failure = MailRejected if _permanent(error) else MailError
            raise failure(f"cannot send the digest: {_explain(error, email, timeout)}") from None
        with suppress(smtplib.SMTPException, OSError):
            # The server has taken the message: a connection dropped at goodbye must not make it go out twice.
            smtp.quit()
    finally:
        if smtp is not None:
            smtp.close()


def keep_unsent(message: EmailMessage, *, now: datetime | None = None) -> Path:
    """Store a message that could not be sent as an .eml file under state/unsent/ (atomically, mode 0600)."""
    folder = unsent_dir()
    moment = (now or datetime.now()).strftime("%Y-%m-%dT%H%M%S")
    path = folder / f"digest-{moment}-{secrets.token_hex(3)}.eml"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)  # its vote links cast votes for whoever opens them
        atomic_write_bytes(path, message.as_bytes(policy=policy.default), mode=0o600)
    except OSError as error:
        raise PaperrecError(f"cannot keep the unsent digest in {folder}: {error.strerror or error}") from None
    return path


def _by_previous_version(record: SentRecord | None, composed: datetime) -> bool:
    """Whether the version before 2026-12-05 composed a kept digest (False when the record cannot tell)."""
    if record is None:
        return False
    start = record.start()
    return start is None or composed < start.replace(microsecond=0)  # a Date header holds whole seconds


def _drop_kept_copies(sections: Sequence[Section], now: datetime, record: SentRecord | None, keep: Path) -> None:
    """Delete the kept digests of the same day and profiles, other than `keep` (a run tried again).

    A copy the previous version kept names the newest pick's date instead (_keyed_days): only its copies are taken
    for that day's.
    """
    ranked, *others = [_digest_key(sections, day) for day in _keyed_days(sections, now)]
    for path in unsent_dir().glob("*.eml"):
        kept = _read_kept(path) if path != keep else None
        if kept is None:
            continue
        key = kept.message[DIGEST_HEADER]
        if key == ranked or (key in others and _by_previous_version(record, kept.composed)):
            path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Delivered:
    """What deliver_digest did with the digest, and the line that says so."""

    message: EmailMessage
    line: str
    sent: bool  # False: these picks had gone out already


def _channel(message: EmailMessage) -> str:
    return channel_key("email", str(message["To"]))


def _mark_sent(record: SentRecord | None, message: EmailMessage, now: datetime, *, old: bool = False) -> None:
    """Mark the message's picks sent (`old`: the previous version composed it, so its keys are of its keying)."""
    if record is not None and message[PICKS_HEADER]:
        record.mark(_channel(message), str(message[PICKS_HEADER]), now, before_upgrade=old)
    for key in str(message[PAPERS_HEADER] or "").split() if record is not None else ():
        record.mark(_channel(message), key, now, before_upgrade=old)


def deliver_digest(
    run_or_sections: Run | Sequence[Section],
    config: Config,
    *,
    now: datetime | None = None,
    sent: Collection[str] = (),
) -> Delivered:
    """Compose and send the digest; when sending fails it is kept under unsent/ and the error says where.

    A kept digest of the same day and profiles is replaced by the new one, so a run tried again goes out once. Not
    sent when a kept copy of it was just sent (`sent`: Resent.keys), nor when the same picks of the same day went
    out before (a holiday ranks the last announcement again). Of a day already sent, only the picks not sent go out.
    """
    now = (now or datetime.now()).astimezone()
    sections = _sections(run_or_sections)
    message = compose_digest(sections, config=config, now=now)
    if digest_key(sections, now) in sent:  # a copy the previous version kept is found in the record instead
        return Delivered(message, "the day's digest went out as the copy kept from an earlier try", sent=False)
    # Another run sending these picks now finishes first, then this one finds them sent.
    with sending(), sent_record() as record:
        earlier = sent_at(record, _channel(message), sections, now)
        whole = message
        news, had_at = unsent_picks(sections, record, _channel(message), now)
        if earlier is None and had_at is not None:
            earlier = None if news else had_at
            if news:
                message, sections = compose_digest(news, config=config, now=now), news
        if earlier is not None:
            day = str(message[PICKS_HEADER]).split()[0]
            line = (
                f"the digest of {day} with these picks was already sent on {earlier.astimezone():%a %Y-%m-%d at %H:%M}"
                ": not sent again (no new announcement since)"
            )
            return Delivered(message, line, sent=False)
        try:
            send_digest(message, config)
        except (MailError, MailRejected) as error:
            if record is not None:
                record.begin(now)  # a copy kept from now on is this version's (_by_previous_version)
            kept = keep_unsent(message, now=now)
            _drop_kept_copies(sections, now, record, kept)
            raise type(error)(f"{error}; the digest is kept in {kept} for 'paperrec email --resend'") from None
        _mark_sent(record, message, now)
        _mark_sent(record, whole, now)  # the day's picks as ranked: the same again is found at once
    return Delivered(message, f"sent {message['Subject']!r} to {message['To']}", sent=True)


@dataclass(frozen=True)
class Resent:
    """What resend_unsent did: a line per digest sent and per expired one dropped, and why it stopped, if it did."""

    sent: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    error: MailError | MailRejected | None = None
    keys: tuple[str, ...] = ()  # the DIGEST_HEADER of each digest sent


@dataclass(frozen=True)
class _Kept:
    composed: datetime  # its vote links were issued on this day
    path: Path
    message: EmailMessage

    @property
    def label(self) -> str:
        return f"{_one_line(self.message['Subject'] or 'a digest')!r} of {self.composed.date().isoformat()}"


def _read_kept(path: Path) -> _Kept | None:
    """A kept digest and when it was composed (its Date header, else the file's time); None if it is gone."""
    try:
        data = path.read_bytes()
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None  # deleted meanwhile
    except OSError as error:
        raise PaperrecError(f"cannot read the unsent digest {path}: {error.strerror or error}") from None
    message = message_from_bytes(data, _class=EmailMessage, policy=policy.SMTP)
    try:
        composed = parsedate_to_datetime(str(message["Date"])).astimezone()
    except (TypeError, ValueError):
        composed = datetime.fromtimestamp(mtime).astimezone()
    return _Kept(composed, path, message)


def resend_unsent(
    config: Config, *, today: date | None = None, send: Callable[[EmailMessage, Config], None] = send_digest
) -> Resent:
    """Send the digests kept in unsent/, oldest first, each deleted once the server takes it.

    Digests older than the vote links' 60 days are dropped. Sending stops at the first failure and the rest stay.
    Example: resend_unsent(load_config())
    """
    folder = unsent_dir()
    if not folder.is_dir():
        return Resent()
    today = today or date.today()
    sent: list[str] = []
    dropped: list[str] = []
    keys: list[str] = []
    # Two paperrecs resending at once would send each digest twice.
    with sent_record() as record, locked(folder, timeout=300):
        kept = [k for k in map(_read_kept, sorted(folder.glob("*.eml"))) if k is not None]
        kept.sort(key=lambda k: (k.composed, k.path.name))
        for index, digest in enumerate(kept):
            if (today - digest.composed.date()).days > MAX_AGE_DAYS:
                digest.path.unlink(missing_ok=True)
                dropped.append(
                    f"dropped the unsent digest {digest.label}: its vote links expired after {MAX_AGE_DAYS} days"
                )
                continue
            try:
                send(digest.message, config)
            except (MailError, MailRejected) as error:
                left = len(kept) - index
                what = f"{error} (resending {digest.label}; {left} digest{'s' if left > 1 else ''} still kept"
                if isinstance(error, MailRejected):
                    what += f"; if the server will never take it, delete {digest.path}"
                return Resent(tuple(sent), tuple(dropped), type(error)(what + ")"), tuple(keys))
            digest.path.unlink(missing_ok=True)
            old = _by_previous_version(record, digest.composed)
            _mark_sent(record, digest.message, datetime.now().astimezone(), old=old)
            sent.append(f"sent the kept digest {digest.label} to {_one_line(digest.message['To'])}")
            keys.extend(filter(None, [digest.message[DIGEST_HEADER]]))
    return Resent(tuple(sent), tuple(dropped), keys=tuple(keys))
