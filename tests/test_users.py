"""Lab users: the store (names, argon2 hashes in a 0600 users.toml), the login throttle, the per-user paths, and
`paperrec user` and `paperrec today --all-users`."""

from __future__ import annotations

import shlex
import stat
import threading
from datetime import date

import pytest
from typer.testing import CliRunner

from recommender import paths, users
from recommender.cli import app
from recommender.schema import NotFound, UsageError
from recommender.sources import read_listing, to_jsonl
from tests.test_web import REPO

runner = CliRunner()


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch):
    """argon2 at its smallest cost: the tests check the logic, not the hash's strength (which stays the default)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(users, "_hasher", lambda: PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def test_add_keeps_only_a_hash_in_a_0600_file_and_the_secret_verifies(home):
    secret = users.add_user("ada")
    text = users.users_path().read_text()
    assert secret not in text and "$argon2id$" in text
    assert stat.S_IMODE(users.users_path().stat().st_mode) == 0o600
    assert (home / "users" / "ada" / "profiles").is_dir()
    # a lab machine has other accounts: a user's profiles, votes and history are theirs and the server's alone
    assert stat.S_IMODE((home / "users" / "ada").stat().st_mode) == 0o700
    assert users.verify("ada", secret)
    assert not users.verify("ada", secret + "x")
    assert not users.verify("bob", secret)  # an unknown name is no error, only a failed login
    assert not users.verify("../ada", secret)


def test_the_users_file_is_never_readable_by_others_even_while_written(home, monkeypatch):
    modes = []
    real_open = paths.os.open

    def spying_open(path, flags, mode=0o777, *args, **kwargs):
        if str(path).endswith(".tmp") and "users.toml" in str(path):
            modes.append(mode)
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(paths.os, "open", spying_open)
    users.add_user("ada")
    users.add_user("bob")
    assert modes and all(mode == 0o600 for mode in modes)


def test_reset_changes_the_secret_and_remove_keeps_the_folder(home):
    old = users.add_user("ada")
    new = users.reset_user("ada")
    assert new != old and users.verify("ada", new) and not users.verify("ada", old)
    (home / "users" / "ada" / "profiles" / "mine.toml").write_text("name = 'mine'\n")
    folder = users.remove_user("ada")
    assert folder is not None and folder.parent == home / "users" and folder.name.startswith("ada.removed-")
    assert (folder / "profiles" / "mine.toml").is_file() and not (home / "users" / "ada").exists()
    assert users.read_users() == {}
    with pytest.raises(NotFound):
        users.reset_user("ada")
    with pytest.raises(NotFound):
        users.remove_user("ada")


def test_the_users_file_is_parsed_again_only_when_it_changed(home, monkeypatch):
    users.add_user("ada")
    users.add_user("bob")
    parsed = []
    real = users._parse_users
    monkeypatch.setattr(users, "_parse_users", lambda *args: parsed.append(1) or real(*args))
    first = users.read_users()
    first.pop("ada")  # a caller's copy: the next read is whole
    assert sorted(users.read_users()) == ["ada", "bob"] and len(parsed) == 1
    users.remove_user("bob")
    assert sorted(users.read_users()) == ["ada"] and len(parsed) == 2
    path = users.users_path()
    path.write_text(path.read_text() + "\n# edited by hand, in place\n")
    assert sorted(users.read_users()) == ["ada"] and len(parsed) == 3
    path.unlink()
    assert users.read_users() == {}


@pytest.mark.parametrize("name", ["", "Ada", "../x", "a/b", ".ada", "-ada", "a" * 33, "ada\n", "ad a", "ädä"])
def test_names_must_be_safe_folder_names(name):
    with pytest.raises(UsageError, match="invalid user name"):
        users.add_user(name)
    assert not users.users_path().exists()


def test_a_name_is_added_once(home):
    users.add_user("ada")
    with pytest.raises(UsageError, match="already exists"):
        users.add_user("ada")


def test_adds_at_once_all_land_under_the_lock(home):
    names = [f"u{i}" for i in range(8)]
    threads = [threading.Thread(target=users.add_user, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(users.read_users()) == names


def test_throttle_counts_failures_per_key_within_the_window():
    now = [1000.0]
    throttle = users.Throttle(limit=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        assert throttle.wait(["ada"]) == 0
        throttle.failed(["ada"])
    assert throttle.wait(["ada"]) == pytest.approx(60)
    assert throttle.wait(["bob"]) == 0  # another key is untouched
    now[0] += 59
    assert throttle.wait(["ada"]) == pytest.approx(1)
    now[0] += 1
    assert throttle.wait(["ada"]) == 0  # the failures left the window
    throttle.failed(["ada"] * 3)
    assert throttle.wait(["ada"]) == pytest.approx(60)
    throttle.forget("ada")
    assert throttle.wait(["ada"]) == 0


def test_the_user_context_moves_profiles_state_and_config_but_not_listings_or_cache(home):
    shared = (paths.listings_dir(), paths.cache_path(), paths.locks_dir())
    assert paths.profiles_dir() == home / "profiles" and paths.current_user() is None
    with paths.as_user("ada"):
        assert paths.current_user() == "ada"
        assert paths.profiles_dir() == home / "users" / "ada" / "profiles"
        assert paths.state_dir() == home / "users" / "ada" / "state"
        assert paths.ranker_path("vision").is_relative_to(home / "users" / "ada")
        from recommender.config import config_path
        from recommender.signing import secret_path

        assert config_path() == home / "users" / "ada" / "config.toml"
        assert secret_path() == home / "users" / "ada" / "state" / "link-secret"
        assert (paths.listings_dir(), paths.cache_path(), paths.locks_dir()) == shared
    assert paths.profiles_dir() == home / "profiles"


def test_vote_links_name_the_user_and_are_signed_with_their_own_secret(home):
    from recommender.schema import PaperrecError
    from recommender.signing import read_vote_token, vote_url

    with paths.as_user("ada"):
        url = vote_url("http://10.0.0.5:8787", "vision", "2104.10642", "like")
    assert url.startswith("http://10.0.0.5:8787/u/ada/vote/")
    token = url.rsplit("/", 1)[1]
    with paths.as_user("ada"):
        assert read_vote_token(token).profile == "vision"
    with paths.as_user("bob"), pytest.raises(PaperrecError, match="signature"):
        read_vote_token(token)
    assert vote_url("http://127.0.0.1:8787", "vision", "2104.10642", "like").startswith("http://127.0.0.1:8787/vote/")


# -- the command line ---------------------------------------------------------------------------------------------


def test_user_commands(home):
    added = runner.invoke(app, ["user", "add", "ada"])
    assert added.exit_code == 0, added.output
    secret = added.stdout.strip()
    assert "shown only once" in added.stderr and users.verify("ada", secret)
    assert runner.invoke(app, ["user", "add", "Ada"]).exit_code == 2
    listed = runner.invoke(app, ["user", "list"])
    assert listed.stdout.split()[:2] == ["ada", "added"]
    reset = runner.invoke(app, ["user", "reset", "ada"])
    assert reset.exit_code == 0 and users.verify("ada", reset.stdout.strip())
    removed = runner.invoke(app, ["user", "remove", "ada"])
    assert removed.exit_code == 0 and "their files were moved to" in removed.stderr
    assert runner.invoke(app, ["user", "remove", "ada"]).exit_code == 1
    assert "no lab users" in runner.invoke(app, ["user", "list"]).stderr


def _lab_user(home, name: str, profile: str | None = "super-resolution") -> None:
    users.add_user(name)
    if profile is not None:
        text = (REPO / "profiles" / f"{profile}.toml").read_text()
        (home / "users" / name / "profiles" / "mine.toml").write_text(text)


def test_today_all_users_runs_each_user_once_with_one_model_and_a_broken_profile_is_one_line(
    home, fake_model, example_listing
):
    folder = home / "listings" / "cs.CV"
    folder.mkdir(parents=True)
    (folder / "2021-04-22.jsonl").write_text(to_jsonl(read_listing(example_listing).papers))
    _lab_user(home, "ada")
    _lab_user(home, "bob", "medical-segmentation")
    _lab_user(home, "cy")
    (home / "users" / "bob" / "profiles" / "broken.toml").write_text("liked = [\n")
    result = runner.invoke(app, ["today", "--all-users", "--offline", "--top", "3"])
    assert result.exit_code == 1, result.output  # a broken profile is an error, as for one user
    assert [line for line in result.stderr.splitlines() if "user " in line and "error" not in line] == [
        "paperrec: user ada",
        "paperrec: user bob",
        "paperrec: user cy",
    ]
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "broken" in errors[0]
    for name in ("ada", "bob", "cy"):  # each user's seen-memory is their own
        assert (home / "users" / name / "state" / "seen.sqlite3").is_file()
    assert not (home / "state" / "seen.sqlite3").exists()
    assert len(fake_model) == 1  # one model for the lab
    texts = fake_model[0].texts
    assert len(texts) == len(set(texts))  # the shared cache: no paper embedded twice across users


def test_today_all_users_passes_over_a_new_user_with_no_profile_yet(home, fake_model, example_listing):
    """A user just added has nothing to rank: a note, not a failure that cron reports every morning until then."""
    folder = home / "listings" / "cs.CV"
    folder.mkdir(parents=True)
    (folder / "2021-04-22.jsonl").write_text(to_jsonl(read_listing(example_listing).papers))
    _lab_user(home, "ada")
    users.add_user("cy")
    result = runner.invoke(app, ["today", "--all-users", "--offline", "--top", "3"])
    assert result.exit_code == 0, result.output
    assert "paperrec: user cy: no profiles yet" in result.stderr and "error" not in result.stderr
    assert "paperrec: user cy\n" not in result.stderr  # one line for cy, not a header and then the note
    assert "paperrec: user ada\n" in result.stderr
    assert (home / "users" / "ada" / "state" / "seen.sqlite3").is_file()


def test_today_all_users_refuses_profile_and_output_and_needs_users(home, fake_model):
    assert runner.invoke(app, ["today", "--all-users", "--offline"]).exit_code == 1
    _lab_user(home, "ada")
    result = runner.invoke(app, ["today", "--all-users", "-p", "mine"])
    assert result.exit_code == 2 and "--all-users" in result.stderr


def test_today_all_users_email_each_their_own_digest_with_their_own_links(home, fake_model, example_listing):
    from email import message_from_bytes, policy

    import aiosmtpd.controller

    from recommender.signing import read_vote_token
    from tests.test_email_cli import Handler, _free_port

    handler = Handler()
    controller = aiosmtpd.controller.Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        folder = home / "listings" / "cs.CV"
        folder.mkdir(parents=True)
        (folder / "2021-04-22.jsonl").write_text(to_jsonl(read_listing(example_listing).papers))
        for name, port in (("ada", controller.port), ("bob", _free_port())):  # nothing listens on bob's
            _lab_user(home, name)
            (home / "users" / name / "config.toml").write_text(
                f'serve_url = "http://10.0.0.5:8787"\n\n[email]\nhost = "127.0.0.1"\nport = {port}\n'
                f'security = "none"\nfrom = "paperrec <lab@example.org>"\nto = ["{name}@example.org"]\n'
            )
        result = runner.invoke(app, ["today", "--all-users", "--offline", "--email"])
        assert result.exit_code == 75, result.output  # bob's mail may pass later: the rules of one user
        assert len(handler.received) == 1
        message = message_from_bytes(handler.received[0], policy=policy.default)
        assert message["To"] == "ada@example.org"
        html = message.get_body(("html",)).get_content()
        tokens = [chunk.split('"')[0] for chunk in html.split("http://10.0.0.5:8787/u/ada/vote/")[1:]]
        assert len(tokens) == 20 and "/vote/" not in html.replace("/u/ada/vote/", "")
        with paths.as_user("ada"):
            assert {read_vote_token(t).profile for t in tokens} == {"mine"}
        assert list((home / "users" / "bob" / "state" / "unsent").glob("*.eml"))  # kept in bob's own state
        _lab_user(home, "cy")  # no config.toml: one line, and the others still run
        again = runner.invoke(app, ["today", "--all-users", "--offline", "--email"])
        assert again.exit_code == 1
        missing = [line for line in again.stderr.splitlines() if "no settings file" in line]
        assert len(missing) == 1 and "users/cy/config.toml" in missing[0]
    finally:
        controller.stop()


def test_today_all_users_asks_a_failing_source_once_for_the_whole_lab(home, fake_model, monkeypatch):
    from .test_run import _arxiv_served_by

    for name in ("ada", "bob", "cy"):
        _lab_user(home, name)
    with _arxiv_served_by(monkeypatch, lambda path, query: (503, {}, b"unavailable")) as served:
        result = runner.invoke(app, ["today", "--all-users"])
    assert result.exit_code == 75, result.output
    assert len(served.paths) == 5  # one fetch of the cs.CV feed, retried 4 times; not one such fetch per user
    errors = [line for line in result.stderr.splitlines() if line.startswith("paperrec: error:")]
    assert len(errors) == 3 and all("arXiv is unavailable (HTTP 503) after 5 tries" in line for line in errors)
    assert "Traceback" not in result.output


def test_today_all_users_a_bug_met_in_one_users_files_stops_no_other(
    home, fake_model, example_listing, monkeypatch, allow_internal_error
):
    import recommender.run
    from recommender import cli

    folder = home / "listings" / "cs.CV"
    folder.mkdir(parents=True)
    (folder / "2021-04-22.jsonl").write_text(to_jsonl(read_listing(example_listing).papers))
    for name in ("ada", "bob", "cy"):
        _lab_user(home, name)
    real = recommender.run.run_today

    def run_today(*args, **kwargs):
        if paths.current_user() == "bob":
            raise ValueError("something in bob's files paperrec did not foresee")
        return real(*args, **kwargs)

    monkeypatch.setattr(recommender.run, "run_today", run_today)
    monkeypatch.delenv(cli.DEBUG_ENV)
    result = runner.invoke(app, ["today", "--all-users", "--offline", "--top", "3"])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("paperrec: error:")]
    assert len(errors) == 1 and "user bob: internal error: ValueError" in errors[0]
    assert [line.split(":")[0] for line in result.stderr.splitlines() if " newly embedded, " in line] == [
        "super-resolution"
    ] * 2  # ada and cy
    assert "Traceback" not in result.output


def test_a_name_added_again_gets_a_new_folder_and_the_old_one_stays_recoverable(home):
    users.add_user("ada", today=date(2026, 1, 5))
    (home / "users" / "ada" / "profiles" / "mine.toml").write_text("name = 'mine'\n")
    (home / "users" / "ada" / "state").mkdir()
    (home / "users" / "ada" / "state" / "link-secret").write_text("old")
    first = users.remove_user("ada", today=date(2026, 2, 1))
    assert first == home / "users" / "ada.removed-2026-02-01"
    users.add_user("ada")
    assert list((home / "users" / "ada").rglob("*")) == [home / "users" / "ada" / "profiles"]  # nothing of hers
    second = users.remove_user("ada", today=date(2026, 2, 1))  # twice in a day: neither overwrites the other
    assert second == home / "users" / "ada.removed-2026-02-01-2" and first.is_dir()
    assert (first / "state" / "link-secret").read_text() == "old"


def test_add_refuses_a_folder_left_by_an_earlier_user_of_that_name(home):
    old = home / "users" / "ada" / "profiles"
    old.mkdir(parents=True)  # removed by a paperrec that kept the folder in place
    (old / "mine.toml").write_text("name = 'mine'\n")
    refused = runner.invoke(app, ["user", "add", "ada"])
    assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert str(home / "users" / "ada") in refused.stderr and "move it" in refused.stderr
    assert users.read_users() == {} and (old / "mine.toml").is_file()


def test_user_folders_made_before_0700_are_made_private_and_said_once(home):
    users.add_user("ada")
    users.add_user("bob")
    (home / "users" / "ada").chmod(0o755)
    (home / "users" / "bob").chmod(0o750)
    listed = runner.invoke(app, ["user", "list"])
    assert listed.exit_code == 0
    lines = [line for line in listed.stderr.splitlines() if "0700" in line]
    assert len(lines) == 1 and "ada" in lines[0] and "bob" in lines[0]
    for name in ("ada", "bob"):
        assert stat.S_IMODE((home / "users" / name).stat().st_mode) == 0o700
    again = runner.invoke(app, ["user", "list"])
    assert "0700" not in again.stderr


def _refuse_chmod(monkeypatch, folder) -> None:
    """A folder whose mode cannot be changed (another owner's); tests may run as root, who can change any."""
    import os

    real = os.chmod

    def chmod(path, mode, *args, **kwargs):
        if os.fspath(path) == os.fspath(folder):
            raise PermissionError(1, "Operation not permitted")
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "chmod", chmod)


def test_a_user_folder_that_cannot_be_made_private_is_one_warning_and_the_rest_are(home, monkeypatch):
    users.add_user("ada")
    users.add_user("bob")
    (home / "users" / "ada").chmod(0o755)
    (home / "users" / "bob").chmod(0o755)
    _refuse_chmod(monkeypatch, home / "users" / "ada")
    listed = runner.invoke(app, ["user", "list"])
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.startswith("ada ") and "bob" in listed.stdout
    [warning] = [line for line in listed.stderr.splitlines() if "warning" in line]
    assert warning.startswith(f"paperrec: warning: cannot make {home / 'users' / 'ada'} private (")
    assert warning.endswith(f"; as its owner, run: chmod 700 {shlex.quote(str(home / 'users' / 'ada'))}")
    assert "made 1 user folder private (0700): bob" in listed.stderr
    assert stat.S_IMODE((home / "users" / "bob").stat().st_mode) == 0o700


def test_serve_users_serves_when_a_user_folder_cannot_be_made_private(home, monkeypatch, capsys):
    from recommender.web import Settings, run, serving

    users.add_user("ada")
    (home / "users" / "ada").chmod(0o755)
    _refuse_chmod(monkeypatch, home / "users" / "ada")
    served = []
    monkeypatch.setattr(serving, "serve_app", lambda app, host, port: served.append(port))
    monkeypatch.setattr("recommender.web.create_app", lambda settings: object())
    run(Settings(host="127.0.0.1", port=0, users=True))
    assert served == [0]
    [warning] = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warning.startswith("paperrec serve: warning: cannot make ") and "chmod 700" in warning


def test_serve_users_makes_old_user_folders_private_before_it_serves(home, monkeypatch, capsys):
    from recommender.web import Settings, run, serving

    users.add_user("ada")
    (home / "users" / "ada").chmod(0o755)
    served = []
    monkeypatch.setattr(serving, "serve_app", lambda app, host, port: served.append(port))
    monkeypatch.setattr("recommender.web.create_app", lambda settings: object())
    run(Settings(host="127.0.0.1", port=0, users=True))
    assert served == [0] and stat.S_IMODE((home / "users" / "ada").stat().st_mode) == 0o700
    assert "made 1 user folder private (0700): ada" in capsys.readouterr().err


def test_the_chmod_to_run_is_quoted_for_a_shell(tmp_path, monkeypatch):
    """macOS keeps paperrec's data under 'Application Support': the command the warning names must paste as is."""
    root = tmp_path / "Application Support" / "paperrec"
    monkeypatch.setenv("PAPERREC_HOME", str(root))
    users.add_user("ada")
    folder = root / "users" / "ada"
    folder.chmod(0o755)
    _refuse_chmod(monkeypatch, folder)
    [warning] = users.make_folders_private()
    command = warning.split("as its owner, run: ", 1)[1]
    assert shlex.split(command) == ["chmod", "700", str(folder)]
