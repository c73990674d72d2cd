"""paperrec today --notify: the picks reach apprise's json:// and form:// targets on a local server, one line a
failure, exit 75 when a target is out of reach and 1 when one refuses, exit 2 for a bad URL before the run."""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.config import load_config
from recommender.profile import load_profile
from recommender.run import Section
from recommender.schema import Paper, Pick
from recommender.signing import read_vote_token

from .fixture_apis import QuietServer

apprise = pytest.importorskip("apprise")

from recommender.mail import vote_links  # noqa: E402
from recommender.notify import Target, load_targets, messages, send_picks  # noqa: E402

SERVE_URL = "http://127.0.0.1:8787"


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(size)
        self.server.received.append((self.path, self.headers.get("Content-Type", ""), body))
        status = int(self.path.rsplit("/", 1)[-1]) if self.path.rsplit("/", 1)[-1].isdigit() else 200
        if getattr(self.server, "limit", None) is not None and len(self.server.received) > self.server.limit:
            status = 429  # a rate limit, as Telegram's on a burst of messages
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def chat():
    """A local HTTP server standing in for chat services: /…/500 answers 500, any other path 200."""
    server = QuietServer(("127.0.0.1", 0), _Handler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _port(server) -> int:
    return server.server_address[1]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _message(received) -> str:
    """The message text of one request apprise made, JSON or form."""
    _, kind, body = received
    if kind.startswith("application/json"):
        return json.loads(body)["message"]
    return parse_qs(body.decode())["message"][0]


def _setup(home, liked_jsonl, targets: list[str], *, mode: int = 0o600) -> None:
    home.mkdir(parents=True, exist_ok=True)
    config = home / "config.toml"
    config.write_text(f'serve_url = "{SERVE_URL}"\nnotify = {json.dumps(targets)}\n')
    config.chmod(mode)
    made = CliRunner().invoke(app, ["profile", "new", "sr", "--from", str(liked_jsonl), "-c", "cs.CV"])
    assert made.exit_code == 0, made.output


def _errors(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("paperrec: error:")]


def test_today_notify_sends_the_picks_with_signed_links(home, liked_jsonl, fake_model, fake_arxiv, chat):
    port = _port(chat)
    _setup(home, liked_jsonl, [f"json://127.0.0.1:{port}/json", f"form://127.0.0.1:{port}/form"])
    result = CliRunner().invoke(app, ["today", "--notify"])
    assert result.exit_code == 0, result.output
    assert f"sent 10 picks to JSON json://127.0.0.1:{port}/json" in result.stderr
    assert f"sent 10 picks to Form form://127.0.0.1:{port}/form" in result.stderr
    assert "1." in result.stdout  # the table still goes to stdout
    assert sorted(path for path, _, _ in chat.received) == ["/form", "/json"]
    for received in chat.received:
        text = _message(received)
        assert text.count("**") == 20  # each of the 10 titles in bold, in the target's own Markdown
        assert "% match" not in text and "because: " in text  # two likes: too few for a calibrated match
        # likes of 2020 on a 2021 day: chat says so too, with how to bring the picks up to date
        assert "Your likes are from 2020; today's picks follow them, so like 5 recent papers" in text
        tokens = [chunk.split(")")[0] for chunk in text.split(f"{SERVE_URL}/vote/")[1:]]
        assert len(tokens) == 20
        votes = [read_vote_token(token) for token in tokens]
        assert {v.action for v in votes} == {"like", "dislike"}
        assert {(v.profile, v.by_path) for v in votes} == {("sr", False)}


def test_a_holiday_sends_no_target_the_same_picks_again(home, liked_jsonl, fake_model, fake_arxiv, chat):
    port, dead = _port(chat), _closed_port()
    _setup(home, liked_jsonl, [f"json://127.0.0.1:{port}/json", f"json://127.0.0.1:{dead}/"])
    assert CliRunner().invoke(app, ["today", "--notify"]).exit_code == 75  # the second target was out of reach
    assert [path for path, _, _ in chat.received] == ["/json"]
    # The next morning arXiv announces nothing: the same announcement is ranked again, with the same picks.
    targets = [f"json://127.0.0.1:{port}/json", f"form://127.0.0.1:{port}/form"]
    (home / "config.toml").write_text(f'serve_url = "{SERVE_URL}"\nnotify = {json.dumps(targets)}\n')
    result = CliRunner().invoke(app, ["today", "--notify"])
    assert result.exit_code == 0, result.output
    assert f"not sent again to JSON json://127.0.0.1:{port}/json: it had these picks of 2021-04-22" in result.stderr
    assert f"sent 10 picks to Form form://127.0.0.1:{port}/form" in result.stderr  # it had not had them
    assert sorted(path for path, _, _ in chat.received) == ["/form", "/json"]
    fake_arxiv.day = date(2021, 4, 23)  # a new announcement: new picks for both
    result = CliRunner().invoke(app, ["today", "--notify"])
    assert result.exit_code == 0, result.output
    assert sorted(path for path, _, _ in chat.received) == ["/form", "/form", "/json", "/json"]


def test_a_holiday_after_votes_sends_none_of_the_picks_again(home, liked_jsonl, fake_model, fake_arxiv, chat):
    _setup(home, liked_jsonl, [f"json://127.0.0.1:{_port(chat)}/json"])
    assert CliRunner().invoke(app, ["today", "--notify"]).exit_code == 0
    assert CliRunner().invoke(app, ["like", "1", "-p", "sr"]).exit_code == 0  # a like link, say
    assert CliRunner().invoke(app, ["today", "--notify"]).exit_code == 0  # the holiday re-ranks the day
    first, *later = [_message(received) for received in chat.received]
    urls = [set(re.findall(r"\]\((https://arxiv\.org/abs/[^)]+)\)", text)) for text in (first, *later)]
    assert len(urls[0]) == 10 and not any(urls[0] & other for other in urls[1:])


def test_a_target_cut_off_midway_gets_only_the_rest_next_time(home, liked_jsonl, fake_model, fake_arxiv, chat):
    _setup(home, liked_jsonl, [f"json://127.0.0.1:{_port(chat)}/json"])
    made = CliRunner().invoke(app, ["profile", "new", "sr2", "--from", str(liked_jsonl), "-c", "cs.CV"])
    assert made.exit_code == 0, made.output
    chat.limit = 1  # the first profile's message goes through, the second is refused for now
    assert CliRunner().invoke(app, ["today", "--notify"]).exit_code == 75
    chat.limit = None
    assert CliRunner().invoke(app, ["today", "--notify"]).exit_code == 0  # cron's retry
    titles = [json.loads(body)["title"] for _, _, body in chat.received]
    assert len(titles) == 3 and len(set(titles)) == 2  # the refused one again, never the one that went out


def test_a_dead_target_stops_no_other_and_exits_75(home, liked_jsonl, fake_model, fake_arxiv, chat):
    port, dead = _port(chat), _closed_port()
    _setup(
        home,
        liked_jsonl,
        [f"json://127.0.0.1:{dead}/", f"json://127.0.0.1:{port}/json", f"form://127.0.0.1:{port}/form"],
    )
    result = CliRunner().invoke(app, ["today", "--notify"])
    assert result.exit_code == 75, result.output
    assert _errors(result) == [
        f"paperrec: error: cannot reach JSON json://127.0.0.1:{dead}/: "
        "A Connection error occurred sending JSON notification to 127.0.0.1."
    ]
    assert sorted(path for path, _, _ in chat.received) == ["/form", "/json"]


def test_a_refusing_target_is_one_line_and_exit_1(home, liked_jsonl, fake_model, fake_arxiv, chat):
    port, dead = _port(chat), _closed_port()
    _setup(home, liked_jsonl, [f"json://127.0.0.1:{port}/hook/500", f"form://127.0.0.1:{port}/form"])
    result = CliRunner().invoke(app, ["today", "--notify"])
    assert result.exit_code == 1, result.output
    [line] = _errors(result)
    assert line.startswith(f"paperrec: error: JSON json://127.0.0.1:{port}/hook/500 refused the picks: ")
    assert "error=500" in line
    assert [path for path, _, _ in chat.received if path == "/form"] == ["/form"]
    # a refusal and an unreachable target together: the refusal needs a person, so 1
    targets = [f"json://127.0.0.1:{port}/hook/401", f"json://127.0.0.1:{dead}/"]
    (home / "config.toml").write_text(f"notify = {json.dumps(targets)}\n")
    both = CliRunner().invoke(app, ["today", "--notify", "--include-seen"])
    assert both.exit_code == 1 and len(_errors(both)) == 2


def test_a_malformed_url_is_exit_2_before_anything_is_ranked(home, liked_jsonl, fake_model, fake_arxiv, chat):
    _setup(home, liked_jsonl, [f"json://127.0.0.1:{_port(chat)}/", "slack://only-a-secret-token"])
    result = CliRunner().invoke(app, ["today", "--notify"])
    assert result.exit_code == 2, result.output
    [line] = _errors(result)
    assert "notify: target 2 (slack://) is not a URL apprise can use" in line
    assert "only-a-secret-token" not in result.stderr  # the URL may hold a token: never printed
    assert fake_arxiv.asked == [] and chat.received == []  # nothing fetched, ranked or sent


def test_a_settings_file_others_can_read_is_refused_before_the_run(home, liked_jsonl, fake_model, fake_arxiv, chat):
    _setup(home, liked_jsonl, [f"json://127.0.0.1:{_port(chat)}/"], mode=0o644)
    result = CliRunner().invoke(app, ["today", "--notify"])
    assert result.exit_code == 1 and "chmod 600" in result.stderr and "PAPERREC_NOTIFY" in result.stderr
    assert fake_arxiv.asked == []


def test_the_targets_can_come_from_the_environment_alone(home, liked_jsonl, fake_model, fake_arxiv, chat, monkeypatch):
    made = CliRunner().invoke(app, ["profile", "new", "sr", "--from", str(liked_jsonl), "-c", "cs.CV"])
    assert made.exit_code == 0 and not (home / "config.toml").exists()
    monkeypatch.setenv("PAPERREC_NOTIFY", f"json://127.0.0.1:{_port(chat)}/a  form://127.0.0.1:{_port(chat)}/b")
    result = CliRunner().invoke(app, ["today", "--notify"])
    assert result.exit_code == 0, result.output
    assert sorted(path for path, _, _ in chat.received) == ["/a", "/b"]
    assert "/vote/" not in _message(chat.received[0])  # no serve_url: no vote links
    monkeypatch.delenv("PAPERREC_NOTIFY")
    none = CliRunner().invoke(app, ["today", "--notify"])
    assert none.exit_code == 1 and "no chat targets" in none.stderr


SPECIAL = "*Not* _bold_ [a](https://evil.example) <b>x</b> & &amp; `code` # | ~ !"


def _section(home) -> Section:
    paper = Paper(
        arxiv_id="2104.10642",
        title=SPECIAL,
        abstract="An abstract.",
        authors=("A. Author",),
        date=date(2021, 4, 22),
    )
    profile_path = home / "profiles" / "sr.toml"
    return Section(profile_path, load_profile(profile_path), [Pick(paper, 0.5, 1, "sr", match=0.24)])


def test_paper_text_arrives_escaped_for_each_format(home, liked_jsonl, chat, monkeypatch):
    from markdown_it import MarkdownIt

    _setup(home, liked_jsonl, [])
    port = _port(chat)
    targets = [f"json://127.0.0.1:{port}/md", f"json://127.0.0.1:{port}/html?format=html"]
    targets.append(f"json://127.0.0.1:{port}/text?format=text")
    monkeypatch.setenv("PAPERREC_NOTIFY", " ".join(targets))
    config = load_config()
    loaded = load_targets(config)
    assert [t.format for t in loaded] == ["markdown", "html", "text"]
    delivery = send_picks([_section(home)], loaded, config=config)
    assert delivery.errors == () and len(delivery.sent) == 3
    got = {received[0].split("?")[0]: _message(received) for received in chat.received}
    heading = MarkdownIt().render(next(line for line in got["/md"].split("\n") if line.startswith("**1.")))
    assert '>1. <a href="https://arxiv.org/abs/2104.10642">' in heading
    assert "<em>" not in heading and 'evil.example">' not in heading  # no emphasis, no link from the title
    assert "*Not* _bold_ [a](https://evil.example) &lt;b&gt;x&lt;/b&gt; &amp; &amp;amp; `code` # | ~ !" in heading
    assert "<b>x</b>" not in got["/html"] and "&lt;b&gt;x&lt;/b&gt; &amp; &amp;amp;" in got["/html"]
    lines = got["/text"].replace("\u200b", "").splitlines()
    assert any(line.startswith(f"1. {SPECIAL}") for line in lines)  # it reads the same, and links nowhere


def test_a_summary_is_marked_machine_written_and_escaped(home, liked_jsonl):
    from dataclasses import replace

    from recommender.notify import pick_block

    _setup(home, liked_jsonl, [])
    section = _section(home)
    summarised = replace(section.picks[0], summary="New: <b>x</b> & *fast*")
    html = pick_block(section, summarised, "html")
    assert "Summary (machine-written): New: &lt;b&gt;x&lt;/b&gt; &amp; *fast*" in html
    assert "Summary (machine-written): New: <b>" not in html
    markdown = pick_block(section, summarised, "markdown")
    assert r"Summary (machine-written): New: \<b\>x\</b\> & \*fast\*" in markdown
    assert "   Summary (machine-written): New: <b>x</b> & *fast*" in pick_block(section, summarised, "text")
    assert "Summary" not in pick_block(section, section.picks[0], "markdown")  # none without a summary


def test_a_long_message_is_split_between_picks(home, liked_jsonl):
    _setup(home, liked_jsonl, [])
    section = _section(home)
    many = [Pick(section.picks[0].paper, 0.5, rank, "sr") for rank in range(1, 11)]
    section = Section(section.path, section.profile, many)
    now = datetime(2021, 4, 22, 8)
    [whole] = messages(section, "markdown", now=now)
    parts = messages(section, "markdown", now=now, max_length=400)
    assert len(parts) > 1 and all(len(body) <= 400 for _, body in parts)
    assert "\n\n".join(body for _, body in parts) == whole[1]


def test_a_target_that_never_answers_is_cut_at_the_deadline(home, liked_jsonl, monkeypatch):
    _setup(home, liked_jsonl, [])
    with socket.socket() as silent:  # takes connections and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        monkeypatch.setenv("PAPERREC_NOTIFY", f"json://127.0.0.1:{silent.getsockname()[1]}/?rto=2")
        config = load_config()
        delivery = send_picks([_section(home)], load_targets(config), config=config, deadline=0.2)
    [error] = delivery.errors
    assert "no answer from JSON" in str(error) and "within 0.2 s" in str(error)


def test_a_target_built_without_its_key_is_sent_every_time(home, liked_jsonl):
    _setup(home, liked_jsonl, [])
    sent: list[str] = []

    class Plugin:
        def notify(self, body, title, body_format):
            sent.append(title)
            return True

    target = Target(label="hand-built", plugin=Plugin(), format="text")  # no key: nothing to remember it by
    for _ in range(2):
        delivery = send_picks([_section(home)], [target], config=load_config(missing_ok=True))
        assert delivery.errors == () and delivery.sent[0].startswith("sent ")
    assert len(sent) == 2


def test_help_and_the_other_commands_import_no_apprise():
    code = "import sys, recommender.cli, recommender.run, recommender.mail; print('apprise' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("status", [429, 503])
def test_a_busy_or_unavailable_target_may_pass_exit_75(home, liked_jsonl, fake_model, fake_arxiv, chat, status):
    port = _port(chat)
    _setup(home, liked_jsonl, [f"json://127.0.0.1:{port}/hook/{status}", f"form://127.0.0.1:{port}/form"])
    result = CliRunner().invoke(app, ["today", "--notify"])
    assert result.exit_code == 75, result.output  # cron tries again later, as for arXiv's own 429 and 503
    [line] = _errors(result)
    assert line.startswith(f"paperrec: error: JSON json://127.0.0.1:{port}/hook/{status} ") and f"{status}" in line
    assert "Traceback" not in result.output
    again = CliRunner().invoke(app, ["today", "--notify"])  # the busy target still gets the picks on the retry
    assert len([path for path, _, _ in chat.received if path == f"/hook/{status}"]) == 2
    assert [path for path, _, _ in chat.received if path == "/form"] == ["/form"] and again.exit_code == 75


def test_a_mention_in_paper_text_pings_nobody(home, liked_jsonl):
    from dataclasses import replace

    from recommender.notify import pick_block, title_of

    # Discord pings the whole server for @everyone and @here, Mattermost the channel for @channel, @all, @here and
    # Slack's <!channel>, Telegram the user for @name; Mattermost links plain text's [label](url) and <url|label>.
    # Text from a paper or a model must do none of it.
    _setup(home, liked_jsonl, [])
    section = _section(home)
    hostile = "Ping @everyone, @here and @channel (@all, @ada) via e@mail.org, <!channel> <!here|x> <@U123> <#C1>"
    hostile += " [vote](https://evil.example) ![](https://evil.example/t.png) <https://evil.example|arxiv.org>"
    paper = replace(section.picks[0].paper, title=hostile)
    pick = replace(section.picks[0], paper=paper, summary="also @everyone")
    profile = replace(section.profile, name="lab @here")
    section = Section(section.path, profile, [pick])
    now = datetime(2021, 4, 22, 8)
    for fmt in ("markdown", "html", "text"):
        shown = pick_block(section, pick, fmt) + title_of(section, now, fmt)
        for name in ("everyone", "here", "channel", "all", "ada", "mail"):
            assert f"@{name}" not in shown, (fmt, name)
        assert not any(opening in shown for opening in ("<!", "<@", "<#")), fmt
        assert "\u200b" in shown
    text = pick_block(section, pick, "text")
    assert "](https://evil" not in text and "<https://evil" not in text
    assert "Ping @\u200beveryone, @\u200bhere" in pick_block(section, pick, "text")  # it still reads the same


def test_a_title_of_thousands_of_characters_still_fits_a_message(home, liked_jsonl):
    """Discord takes 2,000 characters and Telegram 4,096: one overlong title must not cost the day's picks."""
    from dataclasses import replace

    _setup(home, liked_jsonl, [])
    section = _section(home)
    paper = replace(section.picks[0].paper, title="Super-resolution " + "&<*" * 3000)
    pick = replace(section.picks[0], paper=paper, summary="A" * 5000)
    section = Section(section.path, section.profile, [pick, replace(pick, rank=2)])
    vote_link = vote_links(SERVE_URL, datetime(2021, 4, 22, 8))
    for fmt in ("markdown", "html", "text"):
        sent = messages(section, fmt, vote_link=vote_link, now=datetime(2021, 4, 22, 8), max_length=2000)
        assert len(sent) >= 2 and all(len(title) + len(body) <= 2000 for title, body in sent), fmt
        assert "Super-resolution" in sent[0][1] and "…" in sent[0][1], fmt


SLACK = "slack://T1234ABCD/B1234ABCD/abcdefghijklmnopqrstuvwx/#papers"


def _slack_payloads(monkeypatch) -> list[dict]:
    """The JSON that apprise's Slack plugin posts, caught before it leaves the machine."""
    import apprise.plugins.slack as slack

    posted: list[dict] = []

    class Answer:
        status_code, content, text, headers = 200, b"ok", "ok", {}

    def request(method, url, data=None, **kwargs):
        posted.append(json.loads(data))
        return Answer()

    monkeypatch.setattr(slack.requests, "request", request)
    return posted


def test_slack_shows_a_title_as_written_without_backslashes(home, liked_jsonl, monkeypatch):
    """Slack's mrkdwn has no backslash escapes, and apprise's Markdown turns 'A* search' into 'A_ search'."""
    from dataclasses import replace

    _setup(home, liked_jsonl, [])
    section = _section(home)
    title = "Graph net_work for A* search and *Not* _bold_ <b>x</b> & `code`"
    pick = replace(section.picks[0], paper=replace(section.picks[0].paper, title=title))
    section = Section(section.path, section.profile, [pick])
    monkeypatch.setenv("PAPERREC_NOTIFY", f"{SLACK} tgram://123456:ABCdef/987654321/")
    config = load_config()
    slack, telegram = load_targets(config)
    assert (slack.format, telegram.format) == ("text", "html")  # Telegram keeps its HTML, escaped as before
    posted = _slack_payloads(monkeypatch)
    delivery = send_picks([section], [slack], config=config)
    assert delivery.errors == (), delivery.errors
    [payload] = posted
    text = payload["attachments"][0]["text"]
    # Only &, < and > are Slack's to escape; with mrkdwn off no * or _ becomes bold or italics.
    assert "1. Graph net_work for A* search and *Not* _bold_ &lt;b&gt;x&lt;/b&gt; &amp; `code`" in text
    assert "\\" not in text and payload["mrkdwn"] is False
    assert "https://arxiv.org/abs/2104.10642" in text  # the link is still there, as a bare address Slack links


def test_a_slack_url_that_asks_for_markdown_still_gets_it(home, liked_jsonl, monkeypatch):
    _setup(home, liked_jsonl, [])
    monkeypatch.setenv("PAPERREC_NOTIFY", f"{SLACK}?format=markdown")
    [slack] = load_targets(load_config())
    assert slack.format == "markdown"


def test_a_day_the_previous_version_sent_to_a_chat_is_not_sent_again(home, tmp_path):
    from dataclasses import replace

    from recommender.mail import digest_paper_keys, digest_picks_key
    from recommender.paths import sent_path
    from recommender.profile import Profile
    from recommender.schema import Listing
    from recommender.sent import sent_record

    sent: list[str] = []

    class Plugin:
        def notify(self, body, title, body_format):
            sent.append(body)
            return True

    # A day of arXiv and a journal's feed ranked on 2026-12-05: the previous version keyed it by its newest pick.
    arxiv = Paper("2612.01234", "An arXiv paper", "x", date=date(2026, 12, 4))
    journal = Paper("doi:10.1038/s41556-026-01001-1", "A journal paper", "y", date=date(2026, 12, 1))
    listing = Listing(papers=(arxiv, journal), date=date(2026, 12, 5))
    picks = [Pick(arxiv, 0.9, 1, "bio"), Pick(journal, 0.8, 2, "bio")]
    section = Section(tmp_path / "bio.toml", Profile(name="bio"), picks, listing=listing)
    now = datetime(2026, 12, 5, 7, 30).astimezone()
    old = replace(section, listing=None)  # the keys it marked: of the newest pick's date
    keys = [digest_picks_key([old], now), *digest_paper_keys([old], now)]
    assert all(key.startswith("2026-12-04") for key in keys)
    with sent_record() as record:
        assert record is not None  # the table is made
    # Its rows, as it wrote them: with no note of when this version began.
    with closing(sqlite3.connect(sent_path())) as database, database:
        rows = [("chat", key, now.astimezone(UTC).isoformat()) for key in keys]
        database.executemany("INSERT OR REPLACE INTO sent VALUES (?, ?, ?)", rows)
    target = Target(label="chat", plugin=Plugin(), format="text", key="chat")
    config = load_config(missing_ok=True)
    delivery = send_picks([section], [target], config=config, now=now.replace(hour=9))
    assert delivery.errors == () and sent == []
    assert delivery.sent == ("not sent again to chat: it had these picks of 2026-12-05 already",)


def test_picks_a_chat_had_are_not_taken_for_a_later_day_of_the_same_newest_date(home, tmp_path):
    from datetime import timedelta

    from recommender.profile import Profile
    from recommender.schema import Listing

    sent: list[str] = []

    class Plugin:
        def notify(self, body, title, body_format):
            sent.append(body)
            return True

    paper = Paper("doi:10.1/x", "Paper X", "x", date=date(2026, 12, 4))

    def day(ranked: date) -> Section:
        listing = Listing(papers=(paper,), date=ranked)
        return Section(tmp_path / "bio.toml", Profile(name="bio"), [Pick(paper, 0.9, 1, "bio")], listing=listing)

    target = Target(label="chat", plugin=Plugin(), format="text", key="chat")
    config = load_config(missing_ok=True)
    dec4 = datetime(2026, 12, 4, 7).astimezone()
    assert send_picks([day(date(2026, 12, 4))], [target], config=config, now=dec4).sent == ("sent 1 pick to chat",)
    # The day ranked 2026-12-05 picks the paper again: its newest pick is of 12-04, and this version sent that day.
    later = send_picks([day(date(2026, 12, 5))], [target], config=config, now=dec4 + timedelta(days=1))
    assert later.sent == ("sent 1 pick to chat",) and len(sent) == 2
