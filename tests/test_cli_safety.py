"""The CLI under hostile conditions: corrupt or unwritable derived data, a stdout that is not UTF-8."""

from __future__ import annotations

import os
import subprocess
import sys

from typer.testing import CliRunner

from recommender.cli import app
from recommender.paths import analysis_path, ranker_path
from recommender.profile import new_profile, save_profile
from recommender.schema import Paper

from .conftest import EXAMPLE_LISTING, REPO

SR_PROFILE = REPO / "profiles" / "super-resolution.toml"


def _rank(*options: str):
    return CliRunner().invoke(app, ["rank", str(EXAMPLE_LISTING), "-p", str(SR_PROFILE), "-f", "json", *options])


def test_a_corrupt_stored_ranker_is_refitted(fake_model):
    first = _rank()
    assert first.exit_code == 0, first.output
    stored = ranker_path("super-resolution")
    for damage in (b"", b"PK\x03\x04 not a zip", stored.read_bytes()[:200]):
        stored.write_bytes(damage)
        again = _rank()
        assert again.exit_code == 0, again.output
        assert again.stdout == first.stdout
        assert stored.stat().st_size > 1000  # refitted and stored again


def test_a_refit_from_the_kept_analysis_or_a_damaged_one_ranks_the_same(fake_model):
    from recommender.rank import lexical

    lexical._fit_distinct.cache_clear()  # each rank fits as a new process does
    first = _rank()
    assert first.exit_code == 0, first.output
    kept = analysis_path("super-resolution")
    whole = kept.read_bytes()
    for damage in (None, b"", b"PK\x03\x04 not a zip", whole[:200]):
        if damage is not None:
            kept.write_bytes(damage)
        ranker_path("super-resolution").unlink()  # the next rank refits
        lexical._fit_distinct.cache_clear()
        again = _rank()
        assert again.exit_code == 0, again.output
        assert again.stdout == first.stdout
        assert kept.read_bytes() == whole  # written again when damaged; left as it was when whole


def test_an_unwritable_ranker_store_only_costs_a_refit(fake_model, monkeypatch):
    from recommender.rank.hybrid import HybridRanker

    def refuse(self, path, key):
        raise PermissionError(13, "Permission denied")

    expected = _rank().stdout
    ranker_path("super-resolution").unlink()
    monkeypatch.setattr(HybridRanker, "save", refuse)
    result = _rank()
    assert result.exit_code == 0 and result.stdout == expected
    assert not ranker_path("super-resolution").exists()


FAKE_RUN = """
import sys
import recommender.embed
from tests.conftest import FakeEmbedder
recommender.embed.Embedder = lambda model="", **options: FakeEmbedder()
from recommender.cli import run
sys.argv = ["paperrec", *sys.argv[1:]]
run()
"""


def test_a_stdout_that_cannot_encode_titles(tmp_path, home):
    profile = tmp_path / "p.toml"
    liked = [Paper.make("Über-résolution — “quoted” ✓ super-resolution", "2001.00001", "super-resolution images")]
    save_profile(new_profile("p", liked), profile)
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    result = subprocess.run(
        [sys.executable, "-c", FAKE_RUN, "rank", str(EXAMPLE_LISTING), "-p", str(profile), "-n", "3"],
        capture_output=True,
        env=env,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(b"https://arxiv.org/abs/") == 3 and b"?" in result.stdout  # the ellipsis became ?
    assert b"Traceback" not in result.stderr


def test_a_hostile_profile_name_cannot_move_an_output_file(tmp_path, fake_model, monkeypatch):
    profiles = []
    for stem, name in (("evil", "../../../../tmp/x"), ("nul", "a\x00b"), ("long", "n" * 300)):
        path = tmp_path / f"{stem}.toml"
        save_profile(new_profile(name, [Paper.make("super-resolution", "2001.00001", "super-resolution")]), path)
        profiles += ["-p", str(path)]
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app, ["rank", str(EXAMPLE_LISTING), *profiles, "-f", "rss", "-o", "feeds/paperrec-{profile}.xml"]
    )
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.xml"))
    assert written == ["feeds/paperrec-evil.xml", "feeds/paperrec-long.xml", "feeds/paperrec-nul.xml"]
    assert oct((tmp_path / "feeds" / "paperrec-evil.xml").stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_info_never_loads_a_model(home, monkeypatch):
    import recommender.embed

    def no_loading(self):
        raise AssertionError("info loaded the model")

    monkeypatch.setattr(recommender.embed.Embedder, "_load", no_loading)
    result = CliRunner().invoke(app, ["info", "--model", "some-org/a-hub-model"])
    assert result.exit_code == 0, result.output
    assert "cache key    (known once the model has been loaded" in result.stdout
    pruned = CliRunner().invoke(app, ["cache", "prune", "--model", "some-org/a-hub-model"])
    assert pruned.exit_code == 2 and "--max-seq-length" in pruned.stderr


def test_an_error_is_one_line_whatever_it_quotes(capsys):
    """A message quoting a profile's name cannot forge lines or colours in a cron log."""
    import pytest
    import typer

    from recommender.cli import handle_errors
    from recommender.schema import PaperrecError

    @handle_errors
    def command() -> None:
        raise PaperrecError("profile 'a\nFORGED paperrec: ok\x1b[31m\r' is broken")

    with pytest.raises(typer.Exit):
        command()
    written = capsys.readouterr().err
    assert written.count("\n") == 1 and "\x1b" not in written and "\r" not in written and "FORGED" in written


def test_profile_refresh_prints_a_hostile_profile_name_as_text(home):
    folder = home / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    toml = 'name = "lab\\u001b]0;pwned\\u0007\\u001b[2J"\ncategories = ["cs.CV"]\n\n[[pending]]\nid = "2104.10642"\n'
    (folder / "lab.toml").write_text(toml)
    result = CliRunner().invoke(app, ["profile", "refresh", "lab", "--offline"])
    assert result.exit_code == 0, result.output
    assert "lab: 0 pending papers filled in" in result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr and "pwned" not in result.stderr


def _on_a_terminal(*arguments: str) -> bytes:
    """What a paperrec command (the fake model) prints to a terminal: its stdout is a pseudo-terminal."""
    import pty

    leader, follower = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-c", FAKE_RUN, *arguments], stdout=follower, stderr=subprocess.DEVNULL, cwd=REPO
    ) as process:
        os.close(follower)
        shown = b""
        while True:
            try:
                piece = os.read(leader, 65536)
            except OSError:  # EIO: the command has ended and closed the terminal
                break
            if not piece:
                break
            shown += piece
        assert process.wait() == 0
    os.close(leader)
    return shown


def test_data_printed_on_a_terminal_carries_no_escape_sequences(tmp_path, home):
    """JSON from bioRxiv, OpenReview or OpenAlex may hold ESC: CSV keeps it, JSON keeps C1 controls and bidi
    overrides. Printed on a terminal, none of it reaches the terminal; into a pipe the data is unchanged."""
    import json

    hostile = "Super-resolution \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ \x1b[2J\x9b31m \u202eevil \r done"
    listing = tmp_path / "day.jsonl"
    listing.write_text(json.dumps({"id": "2104.00001", "title": hostile, "abstract": "super-resolution"}) + "\n")
    profile = tmp_path / "p.toml"
    save_profile(new_profile("p", [Paper.make("super-resolution", "2001.00001", "super-resolution images")]), profile)
    for fmt in ("csv", "json", "html", "bibtex"):
        shown = _on_a_terminal("rank", str(listing), "-p", str(profile), "-f", fmt).decode("utf-8")
        assert "Super-resolution" in shown and "done" in shown, fmt
        assert not any(c in shown for c in "\x1b\x07\x9b\u202e"), fmt
        assert "\r " not in shown.replace("\r\n", "\n"), fmt  # a carriage return that ends no line is gone
    piped = subprocess.run(
        [sys.executable, "-c", FAKE_RUN, "rank", str(listing), "-p", str(profile), "-f", "csv"],
        capture_output=True,
        cwd=REPO,
    )
    assert b"\x1b]8;;https://evil.example" in piped.stdout and "\u202eevil".encode() in piped.stdout  # as it came


def test_like_prints_a_hostile_title_as_text(tmp_path, home):
    """`paperrec like 3` names what it liked: a title from a feed must not drive the terminal."""
    import json

    listing = tmp_path / "day.jsonl"
    title = "Super \x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\ \x1b]0;owned\x07resolution\x00"
    listing.write_text(json.dumps({"id": "2104.00001", "title": title, "abstract": "x"}) + "\n")
    profile = tmp_path / "p.toml"
    save_profile(new_profile("p \x1b[5mblink", [Paper.make("super-resolution", "2001.00001", "x")]), profile)
    for command in ("like", "like", "dislike"):  # the second like: "already liked in <profile name>"
        result = CliRunner().invoke(app, [command, "2104.00001", "-p", str(profile), "--listing", str(listing)])
        assert result.exit_code == 0, result.output
        assert "2104.00001" in result.stderr or "already" in result.stderr
        assert not any(c in result.stderr for c in "\x1b\x07\x00"), command


def test_profile_show_as_toml_on_a_terminal_carries_no_escape_sequences(tmp_path, home):
    """TOML escapes ESC but keeps C1 controls (CSI as one byte) and bidi overrides: on a terminal they go too."""
    profile = tmp_path / "p.toml"
    hostile = "Super \x9b31m \u202eevil resolution"
    save_profile(new_profile("p", [Paper.make(hostile, "2001.00001", "super-resolution images")]), profile)
    shown = _on_a_terminal("profile", "show", str(profile), "-f", "toml").decode("utf-8")
    assert "resolution" in shown and not any(c in shown for c in "\x1b\x9b\u202e")
    piped = subprocess.run(
        [sys.executable, "-c", FAKE_RUN, "profile", "show", str(profile), "-f", "toml"], capture_output=True, cwd=REPO
    )
    assert "\u202eevil".encode() in piped.stdout  # into a file or a pipe, the TOML as it is
