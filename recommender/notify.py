"""The day's picks in chat: each profile's picks sent through apprise (Slack, Telegram, Mattermost and others).

Each target gets the message in its own format (Markdown, HTML or text). Paper text is escaped for that format.
apprise is imported only here, and only when picks are to be sent.
"""

from __future__ import annotations

import html
import logging
import os
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Config
from .digest import match_label
from .export import because_line
from .latex import to_text as latex_text
from .mail import VoteLink, digest_paper_keys, digest_picks_key, headline, sent_at, unsent_picks, vote_links
from .schema import PaperrecError, Pick, TemporaryFailure, UsageError, clean_text, printable, safe_url
from .sent import SentRecord, channel_key, sending, sent_record
from .summary import LABEL

if TYPE_CHECKING:
    from .run import Run, Section

NOTIFY_ENV = "PAPERREC_NOTIFY"
DEADLINE = 60.0  # seconds for all targets together; each request also has apprise's own cto/rto timeouts
FORMATS = ("markdown", "html", "text")
# The longest text from a paper or a model a pick shows (its title, reason, summary): a title of thousands of
# characters would make a message that Discord (2,000) or Telegram (4,096) refuses, and the day's picks with it.
MAX_TEXT = 300

# apprise's plugins end a refusal's line with the service's HTTP status ("... error=503."). These pass by themselves.
_STATUS = re.compile(r"\berror=(\d{3})\b")
_BUSY = frozenset({429, 502, 503, 504})
# A URL's own ?format=: apprise reads the query even after a '#channel', so a plain URL split would miss it.
_FORMAT_ASKED = re.compile(r"[?&]format=", re.IGNORECASE)
# CommonMark backslash-escapes any ASCII punctuation. These would otherwise start emphasis, code, links or HTML.
_MD_SPECIAL = re.compile(r"[\\`*_\[\]()#|~<>!]|&(?=#?\w+;)")
# @everyone and @here ping a whole Discord server, @channel and @all a Mattermost channel, @name a Telegram user, and
# Mattermost reads Slack's <!channel> and <@U123> even in plain text. A zero-width space after the @ or < keeps the
# text as it reads and pings nobody.
_MENTION = re.compile(r"(?<=@)(?=\w)|(?<=<)(?=[!@#])")
# Mattermost renders plain text as Markdown, and links Slack's <https://...|label> too: the same space unlinks them.
_TEXT_LINK = re.compile(r"(?<=\])(?=\()|(?<=<)(?=https?:|mailto:)")


class NotifyError(TemporaryFailure):
    """A target could not be reached (refused connection, timeout, DNS): exit 75, try again later."""


class NotifyRejected(PaperrecError):
    """A target answered and refused the message (a wrong token, a 4xx or 5xx reply): exit 1."""


@dataclass(frozen=True)
class Target:
    """One chat target: a label without secrets, apprise's plugin for it, and the format it is sent in."""

    label: str
    plugin: Any  # apprise's NotifyBase
    format: str  # one of FORMATS
    secrets: tuple[str, ...] = ()  # pieces of the URL the label hides, kept out of error lines too
    key: str = ""  # the target in the sent-record: a hash of its URL ("" : not remembered, always sent)

    @property
    def max_length(self) -> int:
        """The longest body the service takes (0: no limit known)."""
        return int(getattr(self.plugin, "body_maxlen", 0) or 0)


@dataclass(frozen=True)
class Delivery:
    """What send_picks did: a line per target that took the picks, and an error per target that did not."""

    sent: tuple[str, ...] = ()
    errors: tuple[NotifyError | NotifyRejected, ...] = ()


def target_urls(config: Config) -> tuple[list[str], str]:
    """The apprise URLs to send to, and where they came from: $PAPERREC_NOTIFY (space-separated), else `notify`."""
    raw = os.environ.get(NOTIFY_ENV, "").split()
    if raw:
        return raw, f"${NOTIFY_ENV}"
    where = f"{config.path}: notify"
    value = config.data.get("notify")
    if value is None:
        raise PaperrecError(
            f'no chat targets: add notify = ["slack://..."] to {config.path} (mode 0600), '
            f"or set {NOTIFY_ENV}; see the README, 'Picks in your chat'"
        )
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(u, str) and u.strip() for u in value):
        raise PaperrecError(f'{where}: must be a list of apprise URLs, e.g. ["slack://..."]')
    _check_private(config.path)
    return [u.strip() for u in value], where


def _check_private(path: Path) -> None:
    """Refuse a settings file that holds chat secrets when other users can read it."""
    if os.name != "posix":
        return  # Windows keeps access in ACLs, not in mode bits
    try:
        mode = path.stat().st_mode & 0o777
    except OSError as error:
        raise PaperrecError(f"cannot read {path}: {error.strerror or error}") from None
    if mode & 0o077:
        raise PaperrecError(
            f"{path} holds chat targets with their tokens and other users can read it (mode {mode:04o}): "
            f"run 'chmod 600 {path}', or give the targets in the environment variable {NOTIFY_ENV}"
        )


def _scheme(url: str) -> str:
    head, sep, _ = url.partition("://")
    return f"{head}://" if sep and head.isascii() and head.replace("+", "").isalnum() else "(no scheme://)"


def _label(plugin: Any) -> str:
    """The target as apprise shows it with secrets hidden, without its options."""
    return f"{plugin.service_name} {plugin.url(privacy=True).partition('?')[0]}"


def _format_of(plugin: Any, url: str) -> str:
    """The target's own format: its default, or Markdown where it takes Markdown and defaults to text; Slack's is
    text unless its URL names one."""
    if getattr(plugin, "service_name", "") == "Slack" and not _FORMAT_ASKED.search(url):
        # Slack's mrkdwn has no escapes: a paper's 'net\_work' shows its backslash, and apprise's translation of
        # Markdown turns 'A* search' into 'A_ search'. As text a title reads as written and nothing turns bold.
        return "text"
    resolve = getattr(plugin, "resolve_format", None)
    if resolve is None:  # apprise before multi-format plugins
        return str(getattr(plugin.notify_format, "value", plugin.notify_format))
    chosen = resolve(None)
    if chosen == "text":
        chosen = resolve("markdown")  # a ?format=text in the URL still wins
    return str(chosen.value)


def load_targets(config: Config) -> list[Target]:
    """The configured targets, checked before the run: a URL apprise cannot use is a UsageError (exit 2).

    Example: load_targets(load_config(missing_ok=True))
    """
    try:
        import apprise
    except ImportError:
        raise PaperrecError("sending picks to a chat needs apprise: pip install 'paperrec[notify]'") from None

    urls, where = target_urls(config)
    targets = []
    for number, url in enumerate(urls, 1):
        bundle = apprise.Apprise()
        if not bundle.add(url) or len(bundle) != 1:
            # The URL is not shown: its path or query may hold the token.
            raise UsageError(
                f"{where}: target {number} ({_scheme(url)}) is not a URL apprise can use: "
                "check it against apprise's page for that service"
            )
        plugin = bundle[0]
        label = _label(plugin)
        hidden = tuple(piece for piece in re.split(r"[/:@?&=#,]+", url) if len(piece) >= 6 and piece not in label)
        key = channel_key("chat", url)
        targets.append(Target(label=label, plugin=plugin, format=_format_of(plugin, url), secrets=hidden, key=key))
    return targets


def _escape(text: str, fmt: str) -> str:
    """Text from a paper or profile, on one line, shown as written in that format (at most MAX_TEXT characters of it),
    mentioning nobody."""
    text = clean_text(printable(text))
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1].rstrip() + "…"
    text = _MENTION.sub("\u200b", text)
    if fmt == "markdown":
        return _MD_SPECIAL.sub(lambda m: "\\" + m.group(), text)
    if fmt == "html":
        return html.escape(text, quote=True)
    return _TEXT_LINK.sub("\u200b", text)


def _link(label: str, url: str, fmt: str) -> str:
    url = safe_url(url) or url  # a ")" or space in serve_url's path must not end a Markdown link
    if fmt == "markdown":
        return f"[{label}]({url})"
    if fmt == "html":
        return f'<a href="{html.escape(url, quote=True)}">{label}</a>'
    return f"{label}: {url}"


def _detail(pick: Pick, fmt: str) -> str:
    """'24% match · because: ...': the calibrated match (none below MIN_MATCH_LIKES likes) and the reason."""
    reason = because_line(pick.because)
    parts = [match_label(pick), f"because: {_escape(reason, fmt)}" if reason else ""]
    return " · ".join(part for part in parts if part)


def pick_block(section: Section, pick: Pick, fmt: str, vote_link: VoteLink | None = None) -> str:
    """One pick as a few lines: rank and title (a link), match and reason, then the vote links."""
    paper = pick.paper
    title = _escape(latex_text(paper.title), fmt)  # LaTeX as text, as in the email
    url = safe_url(paper.url)
    if fmt == "text":
        detail = _detail(pick, fmt)
        lines = [f"{pick.rank}. {title}", *([f"   {detail}"] if detail else [])]
        if pick.summary:
            lines.append(f"   {LABEL}: {_escape(pick.summary, fmt)}")
        if url:
            lines.append(f"   {url}")
        if vote_link is not None:
            lines.append(f"   like: {vote_link(section, pick, 'like')}")
            lines.append(f"   not interested: {vote_link(section, pick, 'dislike')}")
        return "\n".join(lines)
    heading = f"{pick.rank}. {_link(title, url, fmt) if url else title}"
    heading = f"**{heading}**" if fmt == "markdown" else f"<b>{heading}</b>"
    detail = _detail(pick, fmt)
    lines = [heading, *([detail] if detail else [])]
    if pick.summary:  # the model's line is untrusted text, escaped like a paper's
        lines.append(f"{LABEL}: {_escape(pick.summary, fmt)}")
    if vote_link is not None:
        like = _link("like", vote_link(section, pick, "like"), fmt)
        lines.append(f"{like} · {_link('not interested', vote_link(section, pick, 'dislike'), fmt)}")
    # Markdown needs two spaces before a line break, or the lines run together as one paragraph.
    return ("<br>\n" if fmt == "html" else "  \n").join(lines)


def title_of(section: Section, now: datetime, fmt: str = "text") -> str:
    """The mail subject's headline for one profile, its name escaped for the message format."""
    return headline([section], _escape(section.profile.name, fmt), now)


def messages(
    section: Section, fmt: str, *, vote_link: VoteLink | None = None, now: datetime, max_length: int = 0
) -> list[tuple[str, str]]:
    """One profile's picks as (title, body) messages: one, or several of whole picks when the service has a limit."""
    title = title_of(section, now, fmt)
    gap = "<br><br>\n" if fmt == "html" else "\n\n"
    blocks = [pick_block(section, pick, fmt, vote_link) for pick in section.picks] or ["No new picks today."]
    age = section.likes_age()
    if age.is_old:  # a reader of chat alone would never learn the picks follow old likes, nor how to change that
        where = "the like links below, or Sharpen in paperrec serve" if vote_link else "paperrec like RANK, or Sharpen"
        blocks.insert(0, _escape(age.sentence(where), fmt))
    if vote_link is not None:
        blocks.append("A vote link opens a page that asks you to confirm; nothing is recorded until you do.")
    room = max_length - len(title) - 10 if max_length else 0  # apprise may put the title into the body
    bodies: list[str] = []
    for block in blocks:
        if bodies and (not room or len(bodies[-1]) + len(gap) + len(block) <= room):
            bodies[-1] += gap + block
        else:
            bodies.append(block)
    return [(title, body) for body in bodies]


class _Capture(logging.Handler):
    """apprise's log lines from one thread: they tell a refusal from an unreachable server."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.thread = threading.get_ident()
        self.warnings: list[str] = []
        self.unreachable = False
        self.busy = False

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        text = record.getMessage()
        # apprise's plugins say "A Connection error occurred" (or "... Exception ...") when requests raised,
        # and "Failed to send ...: error=404" when the service answered.
        if any(sign in text.lower() for sign in ("connection error", "exception", "timed out")):
            self.unreachable = True
        status = _STATUS.search(text)
        if status and int(status.group(1)) in _BUSY:  # rate-limited or down for now: cron's retry may get through
            self.busy = True
        if record.levelno >= logging.WARNING:
            self.warnings.append(clean_text(printable(text)))


def _send_to(target: Target, batch: Sequence[tuple[str, str]], done: list[int]) -> NotifyError | NotifyRejected | None:
    """Send the messages in order, counting those taken in `done`; the first failure stops this target and is
    returned."""
    logger = logging.getLogger("apprise")
    capture = _Capture()
    logger.addHandler(capture)
    try:
        for title, body in batch:
            if not target.plugin.notify(body=body, title=title, body_format=target.format):
                break
            done[0] += 1
        else:
            return None
    except Exception as error:  # a plugin's own bug: one line for this target, the others still go
        capture.warnings.append(clean_text(f"{type(error).__name__}: {error}"))
    finally:
        logger.removeHandler(capture)
    why = capture.warnings[-1] if capture.warnings else "no reason given"
    for secret in target.secrets:
        why = why.replace(secret, "…")
    if capture.unreachable:
        return NotifyError(f"cannot reach {target.label}: {why}")
    if capture.busy:
        return NotifyError(f"{target.label} is busy or down for now, try again later: {why}")
    return NotifyRejected(f"{target.label} refused the picks: {why}")


def _mark(record: SentRecord | None, target: Target, keys: list[str], sections: list[Section], now: datetime) -> None:
    """Record that the target had these sections' picks (not for a target built without its URL's key)."""
    if record is None or not target.key:
        return
    for key in [*keys, *(k for section in sections for k in digest_paper_keys([section], now))]:
        record.mark(target.key, key, now)


def _sections(run_or_sections: Run | Sequence[Section]) -> list[Section]:
    return list(getattr(run_or_sections, "sections", run_or_sections))


def send_picks(
    run_or_sections: Run | Sequence[Section],
    targets: Sequence[Target],
    *,
    config: Config,
    now: datetime | None = None,
    deadline: float = DEADLINE,
) -> Delivery:
    """Send each profile's picks to every target at once; one target's failure stops no other.

    Example: send_picks(run, load_targets(config), config=config)
    """
    sections = _sections(run_or_sections)
    now = (now or datetime.now()).astimezone()
    vote_link = vote_links(config.serve_url, now) if config.serve_url else None  # the email's links, the same
    # Another run sending these picks now finishes first; then this one finds which targets had them.
    with sending(), sent_record() as record:
        keys = [digest_picks_key([section], now) for section in sections]
        # Per target, the profiles whose picks it has not had yet: a holiday ranks the last announcement again.
        news = [
            [
                i
                for i in range(len(sections))
                if not target.key or sent_at(record, target.key, [sections[i]], now) is None
            ]
            for target in targets
        ]
        # Of those, only the picks it has not had: a vote re-ranks the day, and the rest would come again.
        cuts = [
            {i: unsent_picks([sections[i]], record if target.key else None, target.key, now)[0] for i in fresh}
            for target, fresh in zip(targets, news, strict=True)
        ]
        news = [[i for i in fresh if cut[i]] for fresh, cut in zip(news, cuts, strict=True)]
        results: list[NotifyError | NotifyRejected | None] = [None] * len(targets)
        done = [[0] for _ in targets]  # messages each target took, so a target cut off midway is sent only the rest
        owners: list[list[int]] = []  # the section of each message, per target
        workers = []
        for index, target in enumerate(targets):
            pairs = [
                (i, message)
                for i in news[index]
                for message in messages(
                    cuts[index][i][0], target.format, vote_link=vote_link, now=now, max_length=target.max_length
                )
            ]
            owners.append([i for i, _ in pairs])
            batch = [message for _, message in pairs]

            def work(index: int = index, target: Target = target, batch: list = batch) -> None:
                results[index] = _send_to(target, batch, done[index]) if batch else None

            # A daemon thread: a target that hangs past the deadline cannot keep paperrec from exiting.
            worker = threading.Thread(target=work, name=f"paperrec-notify-{index}", daemon=True)
            worker.start()
            workers.append(worker)
        stop_at = time.monotonic() + deadline
        for index, worker in enumerate(workers):
            worker.join(max(0.0, stop_at - time.monotonic()))
            if worker.is_alive():
                results[index] = NotifyError(f"no answer from {targets[index].label} within {deadline:g} s")
        sent = []
        for target, result, fresh, cut, took, owner in zip(targets, results, news, cuts, done, owners, strict=True):
            if result is not None:
                whole = [i for i in fresh if i not in owner[took[0] :]]  # every message of these went out
                _mark(record, target, [keys[i] for i in whole], [sections[i] for i in whole], now)
                continue
            if not fresh and sections:
                days = sorted({keys[i].split()[0] for i in range(len(sections))})
                sent.append(f"not sent again to {target.label}: it had these picks of {', '.join(days)} already")
                continue
            _mark(record, target, [keys[i] for i in fresh], [sections[i] for i in fresh], now)
            count = sum(len(cut[i][0].picks) for i in fresh)
            sent.append(f"sent {'1 pick' if count == 1 else f'{count} picks'} to {target.label}")
    return Delivery(sent=tuple(sent), errors=tuple(r for r in results if r is not None))
