"""The digest by email, against local SMTP servers on 127.0.0.1 (plain, STARTTLS, SSL, with a login)."""

from __future__ import annotations

import base64
import email
import html
import re
import shutil
import socket
import ssl
import stat
import subprocess
import unicodedata
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email import policy
from pathlib import Path
from typing import ClassVar

import pytest

from recommender.config import Config, EmailConfig
from recommender.mail import (
    MailError,
    MailRejected,
    compose_digest,
    digest_key,
    digest_paper_keys,
    digest_picks_key,
    keep_unsent,
    link_note,
    link_warning,
    name_warnings,
    plain_text,
    resend_unsent,
    send_digest,
    subject,
    unsent_dir,
    unsent_picks,
    vote_links,
)
from recommender.profile import Profile
from recommender.run import Section
from recommender.schema import Paper, PaperrecError, Pick, TemporaryFailure
from recommender.signing import read_vote_token

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

SERVE_URL = "http://127.0.0.1:8787"
PASSWORD_ENV = "PAPERREC_TEST_SMTP_PASSWORD"
NOW = datetime.now().replace(microsecond=0)  # vote links are dated; a fixed old day would have them expire


def _sections(tmp_path: Path) -> list[Section]:
    profile_path = tmp_path / "profiles" / "super-resolution.toml"
    papers = [
        Paper(
            "2104.10642", "Real-World <b>Super</b>-Resolution\n  via Kernels", "An abstract.", ("A. One",), ("cs.CV",)
        ),
        Paper("hep-th/9901001", r"An old id, \textbf{bold}, $\alpha$ and \foo", authors=("B", "C", "D", "E")),
        Paper("t:0123456789ab", "A paper without an arXiv id"),
    ]
    papers = [Paper(**{**p.__dict__, "date": NOW.date()}) for p in papers]
    picks = [Pick(paper, 1.0 - i / 10, i + 1, "super-resolution") for i, paper in enumerate(papers)]
    other = Section(tmp_path / "profiles" / "vision.toml", Profile(name="vision"), [], hidden_seen=2)
    return [Section(profile_path, Profile(name="super-resolution"), picks, hidden_seen=1), other]


def fake_render(sections, *, title=None, vote_link=None, now=None, note=None) -> str:
    """A stand-in for digest.render_html: a link per pick and per vote, escaped."""
    rows = []
    for section in sections:
        for pick in section.picks:
            rows.append(f"<li>{html.escape(pick.paper.title)}")
            if vote_link is not None:
                for action in ("like", "dislike"):
                    rows.append(f'<a href="{html.escape(vote_link(section, pick, action))}">{action}</a>')
    return "<!doctype html><html><body><ul>" + "".join(rows) + "</ul></body></html>"


def _config(port: int, *, security: str = "none", serve_url: str | None = SERVE_URL, **settings) -> Config:
    settings = {"host": "127.0.0.1", "sender": "paperrec <me@example.org>", "to": ("me@example.org",)} | settings
    return Config(
        path=Path("config.toml"), email=EmailConfig(port=port, security=security, **settings), serve_url=serve_url
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sink:
    """An aiosmtpd handler that keeps every envelope it accepts; set `answer` to refuse the message instead."""

    def __init__(self) -> None:
        self.envelopes: list = []
        self.answer = "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.answer.startswith("250"):
            self.envelopes.append(envelope)
        return self.answer


def _authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"me", b"s3cret pass")
    return AuthResult(success=ok, handled=False)  # handled=True (the default) would leave the reply to us


AUTH = {"authenticator": _authenticator, "auth_required": True}


@pytest.fixture
def serve():
    """Start an aiosmtpd server on a free 127.0.0.1 port (keyword arguments go to the controller); stop it after."""
    started = []

    def start(**kwargs):
        sink = Sink()
        controller = aiosmtpd_controller.Controller(sink, hostname="127.0.0.1", port=_free_port(), **kwargs)
        controller.start()
        started.append(controller)
        return controller.port, sink

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert, key), made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def _server_context(certificate) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, certificate))
    return context


def _received(sink: Sink) -> email.message.EmailMessage:
    assert len(sink.envelopes) == 1
    return email.message_from_bytes(sink.envelopes[0].original_content, policy=policy.default)


def _vote_links(text: str) -> list[str]:
    return [html.unescape(u) for u in re.findall(r"""(https?://[^\s"'<>]+/vote/[^\s"'<>]+)""", text)]


def _one_line_mail_error(call, kind: type[PaperrecError] = MailError) -> str:
    with pytest.raises(kind) as caught:
        call()
    assert isinstance(caught.value, TemporaryFailure) == (kind is MailError)  # exit 75 only when it may pass
    message = str(caught.value)
    assert "\n" not in message and message.startswith("cannot send the digest: ")
    return message


def test_digest_arrives_with_both_parts_and_signed_links(serve, tmp_path):
    port, sink = serve()
    sections = _sections(tmp_path)
    config = _config(port, to=("me@example.org", "Lab <lab@example.org>"))
    send_digest(compose_digest(sections, config=config, now=NOW, render=fake_render), config, timeout=5)

    received = _received(sink)
    assert sink.envelopes[0].mail_from == "me@example.org"
    assert sink.envelopes[0].rcpt_tos == ["me@example.org", "lab@example.org"]
    assert received["Subject"] == f"paperrec: 3 picks for super-resolution, vision, {NOW.date().isoformat()}"
    assert received["From"] == "paperrec <me@example.org>"
    assert received["To"] == "me@example.org, Lab <lab@example.org>"
    assert received["Auto-Submitted"] == "auto-generated"
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(("plain",)).get_content()
    page = received.get_body(("html",)).get_content()
    assert [part.get_content_type() for part in received.iter_parts()] == ["text/plain", "text/html"]
    assert "Real-World &lt;b&gt;Super&lt;/b&gt;-Resolution" in page

    links = _vote_links(page)
    assert len(links) == 6 and _vote_links(text) == links
    votes = []
    for link in links:
        base, token = link.rsplit("/vote/", 1)
        assert base == SERVE_URL
        votes.append(read_vote_token(token))
    assert [(v.profile, v.arxiv_id, v.action, v.by_path) for v in votes[:2]] == [
        ("super-resolution", "2104.10642", "like", False),  # the profile's name: no file path travels in a link
        ("super-resolution", "2104.10642", "dislike", False),
    ]
    assert {v.arxiv_id for v in votes} == {"2104.10642", "hep-th/9901001", "t:0123456789ab"}
    assert all(v.issued == NOW.date() for v in votes)

    token = links[0].rsplit("/vote/", 1)[1]
    payload, mac = token.split(".")
    for tampered in (
        payload[:-2] + "AA." + mac,
        payload + "." + mac[:-1] + ("A" if mac[-1] != "A" else "B"),
        token[:-5],
    ):
        with pytest.raises(PaperrecError, match="invalid vote link"):
            read_vote_token(tampered)


def test_plain_text_lists_rank_title_url_and_votes(tmp_path):
    sections = _sections(tmp_path)
    text = plain_text(sections, vote_link=lambda section, pick, action: f"<{action} {pick.rank}>")
    assert text.splitlines()[:9] == [
        "super-resolution",
        "================",
        "",
        "1. Real-World <b>Super</b>-Resolution via Kernels",
        "   A. One",  # no calibrated match: no line for it (a raw score means nothing), as the HTML shows none
        "   https://arxiv.org/abs/2104.10642",
        "   like: <like 1>",
        "   not interested: <dislike 1>",
        "",
    ]
    assert "   B, C, D et al." in text
    assert "2. An old id, bold, \N{GREEK SMALL LETTER ALPHA} and \\foo\n" in text  # LaTeX as text, as in the HTML
    assert "(1 paper shown on earlier days left out.)" in text
    assert "vision\n======\n\nNo new picks today.\n\n(2 papers shown on earlier days left out.)" in text
    assert "like:" not in plain_text(sections)


def test_plain_text_says_when_a_profiles_likes_are_old(tmp_path):
    from dataclasses import replace

    from recommender.profile import Profile, ProfilePaper
    from recommender.schema import Listing, Paper

    section = _sections(tmp_path)[0]
    likes = tuple(ProfilePaper(Paper.make(f"Old paper {i}", f"17{i:02d}.{i:05d}"), date(2018, 1, 1)) for i in (5, 11))
    old = replace(section, profile=Profile(name="old", liked=likes), listing=Listing((), date=date(2021, 4, 22)))
    assert plain_text([old]).splitlines()[:7] == [
        "old",
        "===",
        "",
        "Your likes are from 2017; today's picks follow them, so like 5 recent papers",
        "(Sharpen in paperrec serve offers some) to bring them up to date.",
        "",
        "1. Real-World <b>Super</b>-Resolution via Kernels",
    ]
    assert "Your likes are from" not in plain_text([section])


def test_plain_text_says_the_match_the_reason_the_summary_and_the_key_sentence_as_the_html_does(tmp_path):
    from recommender.digest import render_html
    from recommender.schema import Because
    from recommender.summary import LABEL as SUMMARY_LABEL

    key = "We recover sharp images from real photographs with a kernel estimated by a small network at test time."
    abstract = f"Super-resolution is hard. {key} It is fast."
    paper = Paper("2104.10642", "Real-World Super-Resolution", abstract, ("A. One",), date=NOW.date())
    closest = (
        "2001.00001",
        r"A liked paper on \emph{blind} kernels, with a title long enough to wrap in a terminal",
        0.8,
    )
    because = Because(papers=(closest,), terms=("kernel",), sentence=key)
    pick = Pick(paper, 0.9, 1, "vision", because=because, match=0.24, summary="A kernel learned at test time.")
    by_terms = Pick(replace(paper, arxiv_id="2104.10643"), 0.8, 2, "vision", because=Because(terms=("kernel", "blur")))
    section = Section(tmp_path / "p.toml", Profile(name="vision"), [pick, by_terms])
    text = plain_text([section])
    assert "\n   24% match\n" in text
    assert f"\n   {SUMMARY_LABEL}: A kernel learned at test time.\n" in text
    assert (
        "\n   Close to your A liked paper on blind kernels, with a title long enough to\n   wrap in a terminal\n"
        in text
    )
    assert "\n   Key sentence: We recover sharp images from real photographs with a kernel\n   estimated by" in text
    assert "\n   Terms: kernel, blur\n" in text
    assert max(len(line) for line in text.splitlines() if not line.startswith("   http")) <= 76
    html = render_html([section])
    for shown in ("24% match", f"{SUMMARY_LABEL}:", "Close to your", "Terms: kernel, blur", key):
        assert shown in html


def test_the_plain_text_carries_no_control_characters(tmp_path):
    # read in a terminal (mutt, mail), an escape sequence in a title would recolour or retitle it
    hostile = "Title \x1b[31mred\x1b]0;owned\x07 bell \x07 nul \x00 bidi \u202eevil\u202c"
    paper = Paper("2104.10642", hostile, authors=("A. \x1b[2JOne",), date=NOW.date())
    section = Section(tmp_path / "p.toml", Profile(name="vision \x1b[5m"), [Pick(paper, 0.9, 1, "vision")])
    text = plain_text([section])
    assert [c for c in text if unicodedata.category(c) in ("Cc", "Cf") and c != "\n"] == []
    assert "1. Title red" in text and "A. One" in text


def test_without_serve_url_there_are_no_vote_links(serve, tmp_path):
    calls = []

    def render(sections, **kwargs):
        calls.append(kwargs)
        return fake_render(sections, **kwargs)

    message = compose_digest(_sections(tmp_path), config=_config(25, serve_url=None), now=NOW, render=render)
    assert calls[0]["vote_link"] is None
    assert "/vote/" not in message.as_string()


def test_subject():
    def named(name: str, picks: int) -> Section:
        paper = Paper("2104.10642", "T", date=datetime(2021, 4, 22).date())
        return Section(Path(f"{name}.toml"), Profile(name=name), [Pick(paper, 1.0, i + 1, name) for i in range(picks)])

    assert subject([named("super-resolution", 10)], NOW) == "paperrec: 10 picks for super-resolution, 2021-04-22"
    assert subject([named("a", 1)], NOW) == "paperrec: 1 pick for a, 2021-04-22"
    assert subject([named(n, 1) for n in "abcd"], NOW) == "paperrec: 4 picks for 4 profiles, 2021-04-22"
    empty = Section(Path("a.toml"), Profile(name="a"), [])
    assert subject([empty], datetime(2021, 4, 23)) == "paperrec: no new picks for a, 2021-04-23"


def test_an_encoded_word_in_a_profile_name_is_not_decoded_by_the_mail_client(tmp_path):
    from email import message_from_bytes

    forged = "=?utf-8?b?" + base64.b64encode(b"Your account is locked").decode() + "?="
    sections = _sections(tmp_path)
    sections[0] = replace(sections[0], profile=replace(sections[0].profile, name=f"sr {forged}"))
    message = compose_digest(sections, config=_config(25), now=NOW, render=fake_render)
    received = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert "locked" not in str(received["Subject"])  # what a mail client shows
    assert "= ?utf-8?b?" in str(received["Subject"])


def test_the_default_render_is_the_html_digest(tmp_path):
    digest = pytest.importorskip("recommender.digest")
    sections = _sections(tmp_path)
    page = compose_digest(sections, config=_config(25), now=NOW).get_body(("html",)).get_content()
    # tokens are deterministic (same secret, paper, action, day), so the page is exactly the digest's
    note = "The like and not-interested links open only on the computer that runs paperrec serve."
    expected = digest.render_html(sections, vote_link=vote_links(SERVE_URL, NOW), now=NOW, note=note)
    assert page.rstrip("\n") == expected.rstrip("\n")
    assert f'<p class="small" id="note">{note}</p>' in page
    links = _vote_links(page)
    assert links and all(
        read_vote_token(link.rsplit("/vote/", 1)[1]).profile == sections[0].path.stem for link in links
    )


def test_starttls_with_login(serve, certificate, monkeypatch, tmp_path):
    port, sink = serve(
        tls_context=_server_context(certificate),
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
    )
    monkeypatch.setenv(PASSWORD_ENV, "s3cret pass")
    config = _config(port, security="starttls", username="me", password_env=PASSWORD_ENV, ca_file=certificate[0])
    send_digest(compose_digest(_sections(tmp_path), config=config, now=NOW, render=fake_render), config, timeout=5)
    assert _received(sink)["Subject"].startswith("paperrec: 3 picks")


def test_wrong_password_is_a_mail_error(serve, certificate, monkeypatch, tmp_path):
    port, sink = serve(tls_context=_server_context(certificate), **AUTH)
    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    config = _config(port, security="starttls", username="me", password_env=PASSWORD_ENV, ca_file=certificate[0])
    message = compose_digest(_sections(tmp_path), config=config, now=NOW, render=fake_render)
    error = _one_line_mail_error(lambda: send_digest(message, config, timeout=5), MailRejected)
    assert f"127.0.0.1:{port} refused the login of me: 535" in error
    assert "wrong" not in error
    assert not sink.envelopes


def test_implicit_ssl(serve, certificate, tmp_path):
    port, sink = serve(ssl_context=_server_context(certificate))
    config = _config(port, security="ssl", ca_file=certificate[0])
    send_digest(compose_digest(_sections(tmp_path), config=config, now=NOW, render=fake_render), config, timeout=5)
    assert _received(sink).get_body(("html",)) is not None


def test_untrusted_certificate_is_refused(serve, certificate, tmp_path):
    port, sink = serve(ssl_context=_server_context(certificate))
    config = _config(port, security="ssl")  # the system's CAs do not know our self-signed certificate
    message = compose_digest(_sections(tmp_path), config=config, now=NOW, render=fake_render)
    assert "is not trusted" in _one_line_mail_error(lambda: send_digest(message, config, timeout=5))
    assert not sink.envelopes


def test_ssl_against_a_plain_server_is_a_mail_error(serve, tmp_path):
    port, _ = serve()
    config = _config(port, security="ssl")
    message = compose_digest(_sections(tmp_path), config=config, now=NOW, render=fake_render)
    _one_line_mail_error(lambda: send_digest(message, config, timeout=5))


def test_starttls_not_offered_never_falls_back_to_plain_text(serve, tmp_path):
    port, sink = serve()
    config = _config(port, security="starttls")
    message = compose_digest(_sections(tmp_path), config=config, now=NOW, render=fake_render)
    assert "does not offer STARTTLS" in _one_line_mail_error(lambda: send_digest(message, config, timeout=5))
    assert not sink.envelopes


def test_refused_connection_is_one_line_within_the_timeout(tmp_path):
    config = _config(_free_port())  # nothing listens there
    message = compose_digest(_sections(tmp_path), config=config, now=NOW, render=fake_render)
    error = _one_line_mail_error(lambda: send_digest(message, config, timeout=2))
    assert "refused the connection" in error


def test_silent_server_times_out(tmp_path):
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        config = _config(silent.getsockname()[1])
        message = compose_digest(_sections(tmp_path), config=config, now=NOW, render=fake_render)
        error = _one_line_mail_error(lambda: send_digest(message, config, timeout=0.5))
    # Only the timeout ends this: without it smtplib would wait for the greeting forever.
    assert "no answer from 127.0.0.1" in error and "within 0.5 s" in error


def test_missing_password_variable_fails_before_connecting(monkeypatch, tmp_path):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    config = _config(_free_port(), security="starttls", username="me", password_env=PASSWORD_ENV)
    message = compose_digest(_sections(tmp_path), config=config, now=NOW, render=fake_render)
    with pytest.raises(PaperrecError, match=f"set the environment variable {PASSWORD_ENV}") as caught:
        send_digest(message, config)
    assert not isinstance(caught.value, MailError)


class FakeSMTP:
    """Records what send_digest asks of an SMTP connection."""

    log: ClassVar[list] = []
    extensions: ClassVar[set[str]] = {"starttls"}

    def __init__(self, host, port, *, timeout, context=None):
        self.log.append(("connect", type(self).__name__, host, port, timeout, context is not None))

    def ehlo(self):
        self.log.append(("ehlo",))

    def has_extn(self, name):
        return name in self.extensions

    def starttls(self, *, context):
        self.log.append(("starttls", isinstance(context, ssl.SSLContext)))

    def login(self, user, password):
        self.log.append(("login", user, password))

    def send_message(self, message, *, from_addr, to_addrs):
        self.log.append(("send", from_addr, tuple(to_addrs)))

    def quit(self):
        self.log.append(("quit",))

    def close(self):
        self.log.append(("close",))


class FakeSMTPSSL(FakeSMTP):
    pass


@pytest.mark.parametrize(
    ("security", "username", "expected"),
    [
        ("ssl", None, [("connect", "FakeSMTPSSL", "h", 1, 7, True), ("ehlo",)]),
        ("starttls", "me", [("connect", "FakeSMTP", "h", 1, 7, False), ("ehlo",), ("starttls", True), ("ehlo",)]),
        ("none", "me", [("connect", "FakeSMTP", "h", 1, 7, False), ("ehlo",)]),
    ],
)
def test_connection_steps_per_security(monkeypatch, security, username, expected):
    FakeSMTP.log = []
    monkeypatch.setenv(PASSWORD_ENV, "pw")
    settings = EmailConfig("h", "me@example.org", ("you@example.org",), 1, security, username, PASSWORD_ENV)
    send_digest(email.message.EmailMessage(), settings, timeout=7, smtp_class=FakeSMTP, smtp_ssl_class=FakeSMTPSSL)
    login = [("login", "me", "pw")] if username else []
    assert FakeSMTP.log == [*expected, *login, ("send", "me@example.org", ("you@example.org",)), ("quit",), ("close",)]


def test_keep_unsent_writes_a_readable_eml(tmp_path):
    config = _config(25)
    message = compose_digest(_sections(tmp_path), config=config, now=NOW, render=fake_render)
    path = keep_unsent(message)
    other = keep_unsent(message)
    assert path.parent == unsent_dir() and path.suffix == ".eml" and other != path
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # its vote links vote for whoever reads it
    back = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert back["Subject"] == message["Subject"] and back["To"] == "me@example.org"
    assert back.get_body(("plain",)).get_content() == message.get_body(("plain",)).get_content()
    assert back.get_body(("html",)).get_content() == message.get_body(("html",)).get_content()
    assert sorted(p.name for p in unsent_dir().iterdir()) == sorted([path.name, other.name])  # no temporaries left


@pytest.mark.parametrize(
    ("answer", "kind"),
    [("550 5.7.1 message refused", MailRejected), ("451 4.3.0 try again later", MailError)],
)
def test_a_5xx_reply_is_for_good_and_a_4xx_reply_may_pass(serve, tmp_path, answer, kind):
    port, sink = serve()
    sink.answer = answer
    config = _config(port)
    message = compose_digest(_sections(tmp_path), config=config, now=NOW, render=fake_render)
    error = _one_line_mail_error(lambda: send_digest(message, config, timeout=5), kind)
    assert answer in error


def _keep(tmp_path, config, days_ago: int) -> Path:
    moment = NOW - timedelta(days=days_ago)
    return keep_unsent(compose_digest(_sections(tmp_path), config=config, now=moment, render=fake_render), now=moment)


def _dates(sink: Sink) -> list[datetime]:
    return [email.utils.parsedate_to_datetime(_parsed(e)["Date"]).replace(tzinfo=None) for e in sink.envelopes]


def _parsed(envelope) -> email.message.EmailMessage:
    return email.message_from_bytes(envelope.original_content, policy=policy.default)


def test_resend_sends_the_kept_digests_oldest_first_and_deletes_them(serve, tmp_path):
    port, sink = serve()
    config = _config(port)
    middle, newest, oldest = _keep(tmp_path, config, 3), _keep(tmp_path, config, 1), _keep(tmp_path, config, 59)
    kept_html = email.message_from_bytes(oldest.read_bytes(), policy=policy.default).get_body(("html",)).get_content()
    expired = _keep(tmp_path, config, 61)

    resent = resend_unsent(config, today=NOW.date())
    assert resent.error is None
    assert _dates(sink) == [NOW - timedelta(days=d) for d in (59, 3, 1)]
    resent_html = _parsed(sink.envelopes[0]).get_body(("html",)).get_content().replace("\r\n", "\n")  # SMTP's CRLF
    assert resent_html == kept_html and "/vote/" in kept_html  # the whole message, unchanged
    assert len(resent.sent) == 3 and resent.sent[0].startswith("sent the kept digest 'paperrec: 3 picks")
    day = (NOW - timedelta(days=61)).date().isoformat()
    assert resent.dropped == (
        f"dropped the unsent digest 'paperrec: 3 picks for super-resolution, vision, {NOW.date()}' of {day}: "
        "its vote links expired after 60 days",
    )
    assert not any(p.exists() for p in (oldest, middle, newest, expired))
    assert resend_unsent(config, today=NOW.date()) == type(resent)()  # nothing left


@pytest.mark.parametrize(
    ("answer", "kind"),
    [("451 4.3.0 try again later", MailError), ("554 5.7.1 refused for good", MailRejected)],
)
def test_resend_stops_at_the_first_failure_and_keeps_the_rest(serve, tmp_path, answer, kind):
    port, sink = serve()
    sink.answer = answer
    config = _config(port)
    kept = [_keep(tmp_path, config, 2), _keep(tmp_path, config, 1)]
    resent = resend_unsent(config, today=NOW.date())
    assert isinstance(resent.error, kind) and resent.sent == ()
    assert answer in str(resent.error) and "2 digests still kept" in str(resent.error)
    assert ("delete" in str(resent.error)) == (kind is MailRejected)
    assert all(p.exists() for p in kept)


def test_refused_connection_keeps_the_digests_for_a_resend(tmp_path):
    config = _config(_free_port())  # nothing listens there
    kept = _keep(tmp_path, config, 0)
    resent = resend_unsent(config)
    assert isinstance(resent.error, MailError) and "refused the connection" in str(resent.error)
    assert kept.exists()


@pytest.mark.parametrize(
    ("serve_url", "local"),
    [
        ("http://127.0.0.1:8787", True),
        ("http://localhost:8787", True),
        ("http://[::1]:8787", True),
        ("https://papers.lab.example.org", False),
        ("http://192.168.1.20:8787", False),
        (None, False),
    ],
)
def test_a_loopback_serve_url_is_warned_about(tmp_path, serve_url, local):
    config = _config(25, serve_url=serve_url)
    warning = link_warning(config)
    assert (warning is not None) == local
    assert warning is None or "vote links will work only on this machine" in warning
    text = compose_digest(_sections(tmp_path), config=config, now=NOW, render=fake_render).get_body(("plain",))
    note = link_note(config)
    assert (note is not None) == local
    assert text.get_content().startswith(f"{note}\n\n") == local


def test_the_email_carries_no_mathml(tmp_path):
    pytest.importorskip("recommender.digest")
    paper = Paper(
        "2104.10642", r"A $\times 2$ \textbf{bold} $\alpha$-net", r"We learn $f(x) = \sum_i x_i^2$.", date=NOW.date()
    )
    section = Section(tmp_path / "sr.toml", Profile(name="sr"), [Pick(paper, 0.9, 1, "sr")])
    message = compose_digest([section], config=_config(25), now=NOW)
    for part in (message.get_body(("html",)), message.get_body(("plain",))):
        assert "<math" not in part.get_content()  # mail readers show MathML as a jumble of symbols, if at all


def test_the_digest_is_of_the_runs_day_not_of_a_journals_own_dates(tmp_path):
    pytest.importorskip("recommender.digest")
    from recommender.digest import render_html
    from recommender.schema import Listing

    # A feed's entries keep their journal's dates (often days old); the day ranked is the day they arrived.
    day, journal_day = date(2026, 12, 5), date(2026, 12, 2)
    paper = Paper("doi:10.1038/s41556-026-01001-1", "Condensates of MED1", "Super-enhancers.", date=journal_day)
    listing = Listing(papers=(paper,), date=day)
    section = Section(tmp_path / "bio.toml", Profile(name="bio"), [Pick(paper, 0.9, 1, "bio")], listing=listing)
    assert subject([section], NOW) == "paperrec: 1 pick for bio, 2026-12-05"
    assert "<title>paperrec — 2026-12-05</title>" in render_html([section])
    # The sent-record holds the picks under the day ranked too, so the next day's run is news.
    assert digest_key([section], NOW).startswith("2026-12-05 ")
    assert digest_picks_key([section], NOW).startswith("2026-12-05 ")
    assert [key[:11] for key in digest_paper_keys([section], NOW)] == ["2026-12-05:"]


def test_an_undated_day_is_the_day_of_the_digests_now_not_the_clocks(tmp_path):
    pytest.importorskip("recommender.digest")
    from recommender.digest import render_html
    from recommender.schema import Listing

    paper = Paper("t:0123456789ab", "A paper of a file without dates")
    listing = Listing(papers=(paper,))
    section = Section(tmp_path / "bio.toml", Profile(name="bio"), [Pick(paper, 0.9, 1, "bio")], listing=listing)
    then = datetime(2021, 4, 22, 7)
    assert subject([section], then) == "paperrec: 1 pick for bio, 2021-04-22"
    assert digest_picks_key([section], then).startswith("2021-04-22 ")
    assert "<title>paperrec — 2021-04-22</title>" in render_html([section], now=then)


def _mixed_day(tmp_path: Path) -> list[Section]:
    """A day of arXiv and a journal's feed, ranked on 2026-12-05: no pick is dated that day."""
    from recommender.schema import Listing

    arxiv = Paper("2612.01234", "An arXiv paper", "x", date=date(2026, 12, 4))
    journal = Paper("doi:10.1038/s41556-026-01001-1", "A journal paper", "y", date=date(2026, 12, 1))
    listing = Listing(papers=(arxiv, journal), date=date(2026, 12, 5))
    picks = [Pick(arxiv, 0.9, 1, "bio"), Pick(journal, 0.8, 2, "bio")]
    return [Section(tmp_path / "bio.toml", Profile(name="bio"), picks, listing=listing)]


def _sent_before_the_upgrade(sections: list[Section], channel: str, at: datetime, picks: int | None = None) -> None:
    """Mark the keys the version before 2026-12-05 marked: of the newest pick's date (a section without its listing)."""

    old = [replace(s, listing=None, picks=s.picks[:picks]) for s in sections]
    keys = [digest_picks_key(old, at), *digest_paper_keys(old, at)]
    assert all(key.startswith("2026-12-04") for key in keys)
    _rows_of_the_previous_version(channel, keys, at)


def _rows_of_the_previous_version(channel: str, keys: list[str], at: datetime) -> None:
    """Rows as the version before 2026-12-05 wrote them: no note of when this version began."""
    import sqlite3
    from contextlib import closing

    from recommender.paths import sent_path
    from recommender.sent import sent_record

    with sent_record() as record:
        assert record is not None and record.start() is None  # the table is made
    with closing(sqlite3.connect(sent_path())) as database, database:
        rows = [(channel, key, at.astimezone(UTC).isoformat()) for key in keys]
        database.executemany("INSERT OR REPLACE INTO sent VALUES (?, ?, ?)", rows)


def test_a_day_the_previous_version_mailed_is_not_mailed_again(home, tmp_path, serve):
    import recommender.mail as mail

    port, sink = serve()
    config = _config(port, serve_url=None)
    sections, now = _mixed_day(tmp_path), datetime(2026, 12, 5, 7, 30).astimezone()
    _sent_before_the_upgrade(sections, mail._channel(compose_digest(sections, config=config, now=now)), now)
    delivered = mail.deliver_digest(sections, config, now=now + timedelta(hours=1))
    assert not delivered.sent and "already sent" in delivered.line
    assert sink.envelopes == []


def test_of_a_day_the_previous_version_mailed_in_part_only_the_rest_goes_out(home, tmp_path, serve):
    import recommender.mail as mail

    port, sink = serve()
    config = _config(port, serve_url=None)
    sections, now = _mixed_day(tmp_path), datetime(2026, 12, 5, 7, 30).astimezone()
    _sent_before_the_upgrade(sections, mail._channel(compose_digest(sections, config=config, now=now)), now, picks=1)
    left, when = unsent_picks(sections, None, "", now)
    assert left == sections and when is None  # no record: all goes
    delivered = mail.deliver_digest(sections, config, now=now + timedelta(hours=1))
    assert delivered.sent and delivered.message["Subject"] == "paperrec: 1 pick for bio, 2026-12-05"
    assert "A journal paper" in _received(sink).get_body(("plain",)).get_content()


def test_a_kept_copy_the_previous_version_wrote_is_replaced_by_the_days_new_try(home, tmp_path):
    import recommender.mail as mail

    config = _config(_free_port(), serve_url=None)  # nothing listens there
    sections, now = _mixed_day(tmp_path), datetime(2026, 12, 5, 7, 30).astimezone()
    old = compose_digest([replace(s, listing=None) for s in sections], config=config, now=now, render=fake_render)
    assert old[mail.DIGEST_HEADER].startswith("2026-12-04 ")  # as the previous version kept it
    keep_unsent(old, now=now)
    with pytest.raises(MailError):
        mail.deliver_digest(sections, config, now=now + timedelta(hours=1))
    [kept] = unsent_dir().glob("*.eml")
    assert email.message_from_bytes(kept.read_bytes(), policy=policy.default)[mail.DIGEST_HEADER].startswith(
        "2026-12-05 "
    )


def _day_of(tmp_path: Path, day: date, papers: list[Paper]) -> list[Section]:
    """A day ranked on `day` (its listing's date) whose picks are `papers`, in order."""
    from recommender.schema import Listing

    picks = [Pick(paper, 0.9 - rank / 10, rank + 1, "bio") for rank, paper in enumerate(papers)]
    return [Section(tmp_path / "bio.toml", Profile(name="bio"), picks, listing=Listing(tuple(papers), date=day))]


X = Paper("doi:10.1/x", "Paper X", "x", date=date(2026, 12, 4))
Y = Paper("doi:10.1/y", "Paper Y", "y", date=date(2026, 12, 3))


def test_picks_this_version_sent_are_not_taken_for_a_later_day_of_the_same_newest_date(home, tmp_path, serve):
    import recommender.mail as mail
    from recommender.sent import sent_record

    port, sink = serve()
    config = _config(port, serve_url=None)
    dec4 = datetime(2026, 12, 4, 7).astimezone()
    first = mail.deliver_digest(_day_of(tmp_path, date(2026, 12, 4), [X]), config, now=dec4)
    assert first.sent
    # The day ranked 2026-12-05 picks X again (a second profile's run, --include-seen): its newest pick is of 12-04.
    dec5, both = dec4 + timedelta(days=1), _day_of(tmp_path, date(2026, 12, 5), [X, Y])
    with sent_record() as record:
        assert unsent_picks(both, record, mail._channel(first.message), dec5) == (both, None)
        only_x = _day_of(tmp_path, date(2026, 12, 5), [X])
        assert mail.sent_at(record, mail._channel(first.message), only_x, dec5) is None
    delivered = mail.deliver_digest(both, config, now=dec5)
    assert delivered.sent and delivered.message["Subject"] == "paperrec: 2 picks for bio, 2026-12-05"
    assert len(sink.envelopes) == 2


def test_a_kept_copy_of_a_day_is_not_replaced_by_a_later_days_of_the_same_newest_date(home, tmp_path):
    import recommender.mail as mail

    config = _config(_free_port(), serve_url=None)  # nothing listens there
    dec4 = datetime(2026, 12, 4, 7).astimezone()
    with pytest.raises(MailError):
        mail.deliver_digest(_day_of(tmp_path, date(2026, 12, 4), [X]), config, now=dec4)
    with pytest.raises(MailError):
        mail.deliver_digest(_day_of(tmp_path, date(2026, 12, 5), [X, Y]), config, now=dec4 + timedelta(days=1))
    kept = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in unsent_dir().glob("*.eml")]
    assert sorted(m[mail.DIGEST_HEADER][:10] for m in kept) == ["2026-12-04", "2026-12-05"]


def test_a_kept_copy_the_previous_version_wrote_counts_for_its_day_once_resent(home, tmp_path, serve):
    import recommender.mail as mail
    from recommender.sent import sent_record

    port, sink = serve()
    config = _config(port, serve_url=None)
    sections, now = _mixed_day(tmp_path), datetime(2026, 12, 5, 7, 30).astimezone()
    old = compose_digest([replace(s, listing=None) for s in sections], config=config, now=now - timedelta(hours=1))
    keep_unsent(old, now=now - timedelta(hours=1))
    with sent_record() as record:
        assert record is not None and record.begin(now - timedelta(minutes=30))  # this version, since then
    assert len(resend_unsent(config, today=now.date()).sent) == 1
    delivered = mail.deliver_digest(sections, config, now=now + timedelta(hours=1))
    assert not delivered.sent and "already sent" in delivered.line
    assert len(sink.envelopes) == 1


def test_a_profile_outside_the_profiles_folder_is_warned_about(home, tmp_path):
    inside = Section(home / "profiles" / "sr.toml", Profile(name="sr"), [])
    outside = Section(tmp_path / "elsewhere" / "sr.toml", Profile(name="sr"), [])
    assert name_warnings(_config(25), [inside]) == []
    (warning,) = name_warnings(_config(25), [inside, outside])
    assert warning.startswith(f"the vote links for {outside.path} name it 'sr'")
    assert name_warnings(_config(25, serve_url=None), [outside]) == []  # no links, nothing to warn about


def test_the_warning_about_a_profile_outside_the_folder_quotes_its_path_for_the_shell(home, tmp_path):
    import shlex

    odd = Section(tmp_path / "my papers" / "sr;rm.toml", Profile(name="sr"), [])
    plain = Section(tmp_path / "elsewhere" / "sr.toml", Profile(name="sr"), [])
    (warning, kept) = name_warnings(_config(25), [odd, plain])
    assert warning.endswith(f"(serve -p {shlex.quote(str(odd.path))})") and "'" in warning.rpartition("-p ")[2]
    assert kept.endswith(f"(serve -p {plain.path})")


def test_two_runs_at_once_send_the_same_picks_once(tmp_path, home, serve, monkeypatch):
    import threading

    import recommender.mail as mail

    port, sink = serve()
    config = _config(port)
    sections = _sections(tmp_path)
    inside, go_on = threading.Event(), threading.Event()
    real_send = mail.send_digest

    def slow_send(message, config):  # the first run's server is slow to take the digest
        inside.set()
        assert go_on.wait(60)
        real_send(message, config)

    monkeypatch.setattr(mail, "send_digest", slow_send)
    done: dict[str, mail.Delivered] = {}
    first = threading.Thread(target=lambda: done.update(first=mail.deliver_digest(sections, config, now=NOW)))
    first.start()
    assert inside.wait(60)  # the first run holds the record: checked, now sending
    second = threading.Thread(target=lambda: done.update(second=mail.deliver_digest(sections, config, now=NOW)))
    second.start()
    second.join(0.5)
    assert second.is_alive()  # it waits for the first: nothing here can fail by being slow
    go_on.set()
    first.join(60)
    second.join(60)
    assert done["first"].sent and not done["second"].sent and "already sent" in done["second"].line
    assert len(sink.envelopes) == 1
