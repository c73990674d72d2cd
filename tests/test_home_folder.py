"""A PAPERREC_HOME paperrec cannot write into is one line that names the variable, not SQLite's own words alone."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.paths import open_database
from recommender.schema import PaperrecError

REPO = Path(__file__).resolve().parent.parent
TABLE = "CREATE TABLE IF NOT EXISTS t (x TEXT)"


def test_a_home_that_is_a_file_is_named_with_the_variable(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.write_text("not a folder")
    monkeypatch.setenv("PAPERREC_HOME", str(home))
    with pytest.raises(PaperrecError) as refused:
        open_database(home / "cache" / "x.sqlite3", TABLE, "test cache")
    message = str(refused.value)
    assert message.startswith(f"cannot open the test cache {home / 'cache' / 'x.sqlite3'}: ")
    assert f"{home} is a file, not a folder: point $PAPERREC_HOME at a folder" in message


def test_the_command_line_says_it_in_one_line(tmp_path, monkeypatch, example_listing, fake_model):
    home = tmp_path / "home"
    home.write_text("not a folder")
    monkeypatch.setenv("PAPERREC_HOME", str(home))
    profile = REPO / "profiles" / "super-resolution.toml"
    result = CliRunner().invoke(app, ["rank", str(example_listing), "-p", str(profile)])
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("paperrec: error: ") and "$PAPERREC_HOME" in line


def test_a_folder_that_cannot_be_written_says_so(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "cache").mkdir(parents=True)
    monkeypatch.setattr("recommender.paths.os.access", lambda path, mode: False)  # as on a read-only mount

    def refuse(*args, **kwargs):
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(sqlite3, "connect", refuse)
    monkeypatch.setenv("PAPERREC_HOME", str(home))
    with pytest.raises(PaperrecError, match=r"cannot be written: make it writable or point \$PAPERREC_HOME"):
        open_database(home / "cache" / "x.sqlite3", TABLE, "test cache")


def test_a_file_inside_the_home_where_a_folder_goes_is_named_without_moving_the_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "cache").write_text("a file where paperrec keeps a folder")
    monkeypatch.setenv("PAPERREC_HOME", str(home))
    with pytest.raises(PaperrecError) as refused:
        open_database(home / "cache" / "x.sqlite3", TABLE, "test cache")
    message = str(refused.value)
    assert f"{home / 'cache'} is a file, not a folder: move it away" in message
    assert "$PAPERREC_HOME" not in message  # the home is a folder: pointing it elsewhere is not the fix
