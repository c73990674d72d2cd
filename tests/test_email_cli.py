"""paperrec today --email end to end: the digest reaches a local SMTP server, or is kept with exit 75."""

from __future__ import annotations

import email.utils
import socket
import stat
from datetime import datetime, timedelta
from email import message_from_bytes, policy

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.mail import compose_digest, keep_unsent
from recommender.profile import load_profile
from recommender.signing import read_vote_token

aiosmtpd = pytest.importorskip("aiosmtpd.controller")


class Handler:
    """Keeps each message it accepts; set `answer` to refuse them instead."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.answer = "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.answer.startswith("250"):
            self.received.append(envelope.original_content or envelope.content)
        return self.answer


@pytest.fixture
def smtp_handler():
    handler = Handler()
    controller = aiosmtpd.Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    handler.port = controller.port
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(smtp_handler):
    return smtp_handler.port, smtp_handler.received


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _setup(home, liked_jsonl, port: int, serve_url: str = "http://127.0.0.1:8787") -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f'serve_url = "{serve_url}"\n\n[email]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        'from = "paperrec <me@example.org>"\nto = ["me@example.org"]\n'
    )
    made = CliRunner().invoke(app, ["profile", "new", "sr", "--from", str(liked_jsonl), "-c", "cs.CV"])
    assert made.exit_code == 0, made.output


def test_today_email_sends_the_digest_with_signed_links(home, liked_jsonl, fake_model, fake_arxiv, smtp_server):
    port, received = smtp_server
    _setup(home, liked_jsonl, port)
    result = CliRunner().invoke(app, ["today", "--email"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and "sent 'paperrec: 10 picks for sr" in result.stderr
    message = message_from_bytes(received[0], policy=policy.default)
    kinds = [part.get_content_type() for part in message.walk()]
    assert "text/plain" in kinds and "text/html" in kinds
    html = message.get_body(("html",)).get_content()
    tokens = [chunk.split('"')[0] for chunk in html.split("http://127.0.0.1:8787/vote/")[1:]]
    assert len(tokens) == 20  # like and dislike under each of the 10 picks
    votes = [read_vote_token(token) for token in tokens]
    assert {v.action for v in votes} == {"like", "dislike"}
    assert {(v.profile, v.by_path) for v in votes} == {("sr", False)}  # the profile's name, never its file
    warning = "paperrec: warning: serve_url http://127.0.0.1:8787 is this machine: vote links will work only"
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and warnings[0].startswith(warning)


def test_an_unsent_digest_is_kept_and_exits_75(home, liked_jsonl, fake_model, fake_arxiv):
    _setup(home, liked_jsonl, _free_port())  # nothing listens there
    result = CliRunner().invoke(app, ["today", "--email"])
    assert result.exit_code == 75, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("paperrec: error:") and "kept in" in lines[-1]
    kept = list((home / "state" / "unsent").glob("*.eml"))
    assert len(kept) == 1 and b"text/html" in kept[0].read_bytes()
    assert stat.S_IMODE(kept[0].stat().st_mode) == 0o600


def test_a_broken_mail_setting_fails_before_the_run(home, liked_jsonl, fake_model, fake_arxiv):
    _setup(home, liked_jsonl, 25)
    (home / "config.toml").write_text("[email]\nhost = 'smtp.example.org'\n")
    result = CliRunner().invoke(app, ["today", "--email"])
    assert result.exit_code == 1 and result.stderr.startswith("paperrec: error:")
    assert fake_arxiv.asked == []  # nothing fetched, nothing marked as seen


def _date(raw: bytes) -> datetime:
    return email.utils.parsedate_to_datetime(message_from_bytes(raw, policy=policy.default)["Date"])


def _keep_digests(home, days_ago: list[int]) -> list:
    """Digests kept unsent on those days before today (made from a run of the `sr` profile)."""
    from recommender.config import load_config
    from recommender.run import Section

    config = load_config()
    sections = [Section(home / "profiles" / "sr.toml", load_profile(home / "profiles" / "sr.toml"), [])]
    kept = []
    for days in days_ago:
        moment = datetime.now() - timedelta(days=days)
        kept.append(keep_unsent(compose_digest(sections, config=config, now=moment), now=moment))
    return kept


def test_resend_sends_the_kept_digests_oldest_first(home, liked_jsonl, smtp_handler):
    _setup(home, liked_jsonl, smtp_handler.port, serve_url="https://papers.lab.example.org")
    kept = _keep_digests(home, [2, 70, 5])
    result = CliRunner().invoke(app, ["email", "--resend"])
    assert result.exit_code == 0, result.output
    assert [_date(raw).date() for raw in smtp_handler.received] == [
        (datetime.now() - timedelta(days=d)).date() for d in (5, 2)
    ]
    lines = result.stderr.splitlines()
    assert len(lines) == 3 and "dropped the unsent digest" in lines[0] and "expired after 60 days" in lines[0]
    assert all(line.startswith("paperrec: sent the kept digest") for line in lines[1:])
    assert not any(path.exists() for path in kept)
    again = CliRunner().invoke(app, ["email", "--resend"])
    assert again.exit_code == 0 and again.stderr == "paperrec: no digest is waiting to be sent\n"
    assert CliRunner().invoke(app, ["email"]).exit_code == 2


def test_today_sends_the_kept_digests_first(home, liked_jsonl, fake_model, fake_arxiv, smtp_handler):
    _setup(home, liked_jsonl, smtp_handler.port, serve_url="https://papers.lab.example.org")
    _keep_digests(home, [1])
    result = CliRunner().invoke(app, ["today", "--email"])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr  # serve_url is reachable from elsewhere
    subjects = [message_from_bytes(raw, policy=policy.default)["Subject"] for raw in smtp_handler.received]
    assert subjects[0] == f"paperrec: no new picks for sr, {(datetime.now() - timedelta(days=1)).date()}"
    assert subjects[1].startswith("paperrec: 10 picks for sr")
    assert not list((home / "state" / "unsent").glob("*.eml"))


@pytest.mark.parametrize(("answer", "code"), [("550 5.7.1 refused", 1), ("451 4.3.0 try later", 75)])
def test_a_refused_digest_exits_1_if_for_good_and_75_if_it_may_pass(
    home, liked_jsonl, fake_model, fake_arxiv, smtp_handler, answer, code
):
    _setup(home, liked_jsonl, smtp_handler.port)
    smtp_handler.answer = answer
    result = CliRunner().invoke(app, ["today", "--email"])
    assert result.exit_code == code, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("paperrec: error: cannot send the digest:") and answer in last and "kept in" in last
    assert len(list((home / "state" / "unsent").glob("*.eml"))) == 1
    resent = CliRunner().invoke(app, ["email", "--resend"])
    assert resent.exit_code == code and answer in resent.stderr
    assert len(list((home / "state" / "unsent").glob("*.eml"))) == 1  # still kept
    smtp_handler.answer = "250 OK"
    assert CliRunner().invoke(app, ["email", "--resend"]).exit_code == 0
    assert len(smtp_handler.received) == 1 and not list((home / "state" / "unsent").glob("*.eml"))


def test_a_failed_resend_does_not_cost_the_days_picks(home, liked_jsonl, fake_model, fake_arxiv, smtp_handler):
    _setup(home, liked_jsonl, smtp_handler.port)
    _keep_digests(home, [1])
    smtp_handler.answer = "451 4.3.0 try later"
    result = CliRunner().invoke(app, ["today", "--email", "--format", "json", "--output", str(home / "today.json")])
    assert result.exit_code == 75, result.output
    lines = result.stderr.splitlines()
    resend = next(i for i, line in enumerate(lines) if "(resending 'paperrec: no new picks" in line)
    summary = next(i for i, line in enumerate(lines) if line.startswith("sr: cs.CV"))
    assert resend < summary and lines[resend].startswith("paperrec: error: cannot send the digest:")
    assert fake_arxiv.asked and (home / "today.json").exists()  # ranked, and the file asked for is written
    assert len(list((home / "state" / "unsent").glob("*.eml"))) == 2


def test_a_day_tried_again_is_kept_once_and_sent_once(home, liked_jsonl, fake_model, fake_arxiv, smtp_handler):
    _setup(home, liked_jsonl, smtp_handler.port)
    unsent = home / "state" / "unsent"
    smtp_handler.answer = "451 4.3.0 try later"
    for _ in range(3):  # cron tries again after each exit 75
        assert CliRunner().invoke(app, ["today", "--email"]).exit_code == 75
    assert len(list(unsent.glob("*.eml"))) == 1
    smtp_handler.answer = "250 OK"
    result = CliRunner().invoke(app, ["today", "--email"])
    assert result.exit_code == 0, result.output
    assert len(smtp_handler.received) == 1 and not list(unsent.glob("*.eml"))
    assert "copy kept from an earlier try" in result.stderr


def test_a_holiday_does_not_send_yesterdays_digest_again(home, liked_jsonl, fake_model, fake_arxiv, smtp_handler):
    _setup(home, liked_jsonl, smtp_handler.port)
    assert CliRunner().invoke(app, ["today", "--email"]).exit_code == 0
    assert len(smtp_handler.received) == 1
    # The next morning is a holiday: arXiv announces nothing, so the run ranks the same announcement again.
    result = CliRunner().invoke(app, ["today", "--email"])
    assert result.exit_code == 0, result.output
    assert len(smtp_handler.received) == 1
    assert "already sent" in result.stderr and "2021-04-22" in result.stderr
    # A new announcement is a new digest.
    fake_arxiv.day = fake_arxiv.day + timedelta(days=1)
    result = CliRunner().invoke(app, ["today", "--email"])
    assert result.exit_code == 0, result.output
    assert len(smtp_handler.received) == 2


def _pick_titles(raw: bytes) -> list[str]:
    text = message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content()
    return [line.split(". ", 1)[1] for line in text.splitlines() if line[:1].isdigit() and ". " in line]


def test_a_holiday_after_votes_sends_none_of_the_picks_again(home, liked_jsonl, fake_model, fake_arxiv, smtp_handler):
    _setup(home, liked_jsonl, smtp_handler.port)
    assert CliRunner().invoke(app, ["today", "--email"]).exit_code == 0
    # Votes from the email's links change the profile, so the holiday re-ranks the day in another order.
    assert CliRunner().invoke(app, ["like", "1", "-p", "sr"]).exit_code == 0
    assert CliRunner().invoke(app, ["dislike", "4", "-p", "sr"]).exit_code == 0
    result = CliRunner().invoke(app, ["today", "--email"])
    assert result.exit_code == 0, result.output
    monday = _pick_titles(smtp_handler.received[0])
    later = [title for raw in smtp_handler.received[1:] for title in _pick_titles(raw)]
    assert not set(monday) & set(later)  # a pick that went out once never comes again
    assert CliRunner().invoke(app, ["today", "--email"]).exit_code == 0
    assert "already sent" in CliRunner().invoke(app, ["today", "--email"]).stderr


def test_a_changed_profile_sends_the_same_day_again(home, liked_jsonl, fake_model, fake_arxiv, smtp_handler):
    _setup(home, liked_jsonl, smtp_handler.port)
    assert CliRunner().invoke(app, ["today", "--email"]).exit_code == 0
    # Other picks for the same day (here: more of them) are news, so they go out.
    result = CliRunner().invoke(app, ["today", "--email", "--top", "12"])
    assert result.exit_code == 0, result.output
    assert len(smtp_handler.received) == 2


def test_a_kept_digest_sent_later_counts_as_sent(home, liked_jsonl, fake_model, fake_arxiv, smtp_handler):
    _setup(home, liked_jsonl, smtp_handler.port)
    smtp_handler.answer = "451 4.3.0 try later"
    assert CliRunner().invoke(app, ["email", "--resend"]).exit_code == 0  # nothing kept yet
    assert CliRunner().invoke(app, ["today", "--email"]).exit_code == 75
    smtp_handler.answer = "250 OK"
    assert CliRunner().invoke(app, ["email", "--resend"]).exit_code == 0
    result = CliRunner().invoke(app, ["today", "--email"])  # the holiday after
    assert result.exit_code == 0, result.output
    assert len(smtp_handler.received) == 1 and "already sent" in result.stderr


def test_a_broken_sent_record_never_holds_a_digest_back(home, liked_jsonl, fake_model, fake_arxiv, smtp_handler):
    _setup(home, liked_jsonl, smtp_handler.port)
    (home / "state").mkdir(exist_ok=True)
    (home / "state" / "sent.sqlite3").write_bytes(b"not a database" * 100)
    for _ in range(2):
        result = CliRunner().invoke(app, ["today", "--email"])
        assert result.exit_code == 0, result.output
    assert len(smtp_handler.received) == 2


class HangsUpOnQuit(Handler):
    """Takes each message, then drops the connection at QUIT instead of answering it, as some servers do."""

    async def handle_QUIT(self, server, session, envelope):
        server.transport.abort()
        return "221 Bye"


def test_a_server_that_hangs_up_after_taking_the_digest_has_it_sent(home, liked_jsonl, fake_model, fake_arxiv):
    handler = HangsUpOnQuit()
    controller = aiosmtpd.Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        _setup(home, liked_jsonl, controller.port)
        result = CliRunner().invoke(app, ["today", "--email"])
        assert result.exit_code == 0, result.output
        assert len(handler.received) == 1 and "paperrec: error" not in result.stderr
        assert not list((home / "state" / "unsent").glob("*.eml"))  # nothing kept to go out a second time
        again = CliRunner().invoke(app, ["today", "--email"])  # cron's retry, or the holiday after
        assert again.exit_code == 0 and len(handler.received) == 1 and "already sent" in again.stderr
    finally:
        controller.stop()


def test_a_hostile_server_answer_reaches_the_terminal_as_text(home, liked_jsonl, fake_model, fake_arxiv, smtp_handler):
    """An SMTP server's reply is quoted in the error line: its escape sequences must not reach the terminal."""
    _setup(home, liked_jsonl, smtp_handler.port)
    smtp_handler.answer = "554 \x1b]0;owned\x07\x1b[2J\x1b]8;;https://evil.example\x1b\\refused\x1b]8;;\x1b\\"
    for command in (["today", "--email"], ["email", "--resend"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 1 and "554" in result.stderr and "refused" in result.stderr, command
        assert "\x1b" not in result.stderr and "\x07" not in result.stderr, command
