"""paperrec today --email end to end: the digest reaches a local SMTP server, or is kept with exit 75."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.signing import read_vote_token

aiosmtpd = pytest.importorskip("aiosmtpd.controller")


@pytest.fixture
def smtp_server():
    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.original_content or envelope.content)
            return "250 OK"

    controller = aiosmtpd.Controller(Handler(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller.port, received
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _setup(home, liked_jsonl, port: int) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f'serve_url = "http://127.0.0.1:8787"\n\n[email]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
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
    votes = {read_vote_token(token).action for token in tokens}
    assert votes == {"like", "dislike"}


def test_an_unsent_digest_is_kept_and_exits_75(home, liked_jsonl, fake_model, fake_arxiv):
    _setup(home, liked_jsonl, _free_port())  # nothing listens there
    result = CliRunner().invoke(app, ["today", "--email"])
    assert result.exit_code == 75, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("paperrec: error:") and "kept in" in lines[-1]
    kept = list((home / "state" / "unsent").glob("*.eml"))
    assert len(kept) == 1 and b"text/html" in kept[0].read_bytes()


def test_a_broken_mail_setting_fails_before_the_run(home, liked_jsonl, fake_model, fake_arxiv):
    _setup(home, liked_jsonl, 25)
    (home / "config.toml").write_text("[email]\nhost = 'smtp.example.org'\n")
    result = CliRunner().invoke(app, ["today", "--email"])
    assert result.exit_code == 1 and result.stderr.startswith("paperrec: error:")
    assert fake_arxiv.asked == []  # nothing fetched, nothing marked as seen
