"""The command line through typer's CliRunner: every command, every format, every error path."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender import __version__, paths
from recommender.cli import app
from recommender.profile import load_profile

from .conftest import REPO

runner = CliRunner()


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def assert_error(result, code: int, text: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("paperrec: error:"), result.stderr
    assert text in lines[0]
    assert "Traceback" not in result.output


@pytest.fixture
def profile_file(tmp_path, liked_jsonl, home):
    path = tmp_path / "sr.toml"
    result = invoke("profile", "new", "sr", "--from", str(liked_jsonl), "--output", str(path), "-c", "cs.CV")
    assert result.exit_code == 0, result.output
    return path


def test_version_and_help():
    assert invoke("--version").stdout.strip() == f"paperrec {__version__}"
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("rank", "like", "dislike", "unlike", "info", "profile"):
        assert command in result.stdout


def test_help_does_not_import_torch():
    code = "import sys; from recommender.cli import app; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_rank_table_and_profile_exclusion(profile_file, example_listing, fake_model):
    result = invoke("rank", str(example_listing), "--profile", str(profile_file), "--top", "5")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["#", "score"] and lines[0].split()[-2:] == ["id", "title"]
    assert lines[1].split()[0] == "1" and any(word.startswith("2104.") for word in lines[1].split()[2:4])
    assert "https://arxiv.org/abs/" in result.stdout
    assert sum(1 for line in lines if line[:3].strip().isdigit()) == 5


def test_rank_without_a_profile_ranks_every_profile_as_today_does(home, example_listing, fake_model):
    assert_error(invoke("rank", str(example_listing)), 1, "no profiles in")
    # the hint starts as the README's first screen does: a category and an interest
    assert "paperrec profile new NAME -c cs.CV -i 'your topic'" in invoke("rank", str(example_listing)).stderr
    assert invoke("profile", "new", "vision", "-i", "video super-resolution").exit_code == 0
    alone = invoke("rank", str(example_listing), "-f", "json")
    assert alone.exit_code == 0, alone.output
    assert {pick["profile"] for pick in json.loads(alone.stdout)} == {"vision"}
    assert invoke("profile", "new", "medical", "-i", "medical image segmentation").exit_code == 0
    both = invoke("rank", str(example_listing), "-f", "json")
    assert {pick["profile"] for pick in json.loads(both.stdout)} == {"vision", "medical"}


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "markdown", "table"])
def test_rank_every_format_to_file(profile_file, example_listing, fake_model, tmp_path, fmt):
    out = tmp_path / f"picks.{fmt}"
    result = invoke("rank", str(example_listing), "-p", str(profile_file), "-f", fmt, "-o", str(out), "-n", "7")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    text = out.read_text()
    if fmt == "json":
        picks = json.loads(text)
        assert [p["rank"] for p in picks] == list(range(1, 8))
        assert all(p["profile"] == "sr" for p in picks)
        scores = [p["score"] for p in picks]
        assert scores == sorted(scores, reverse=True)
    elif fmt == "jsonl":
        assert len(text.splitlines()) == 7
    elif fmt == "csv":
        assert len(list(csv.DictReader(io.StringIO(text)))) == 7
    elif fmt == "markdown":
        assert text.count("\n### ") == 7
    else:
        assert text.splitlines()[0].startswith("  #")


def test_rank_output_to_a_fifo_writes_into_it(profile_file, example_listing, fake_model, tmp_path):
    fifo = tmp_path / "picks.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = invoke("rank", str(example_listing), "-p", str(profile_file), "-f", "jsonl", "-o", str(fifo), "-n", "3")
    reader.join(timeout=30)  # a guard, not a measure: a FIFO replaced by a file would leave the reader waiting
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(fifo.stat().st_mode) and len(received) == 1 and len(received[0].splitlines()) == 3


def test_rank_output_to_dev_null(profile_file, example_listing, fake_model, monkeypatch):
    rename = os.replace

    def guarded(source, target):  # as root, a regression would replace the machine's /dev/null with a file
        assert not str(target).startswith("/dev/"), f"renamed over {target}"
        rename(source, target)

    monkeypatch.setattr(paths.os, "replace", guarded)
    result = invoke("rank", str(example_listing), "-p", str(profile_file), "-o", "/dev/null", "-n", "3")
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_output_to_dev_stdout_appends_to_what_stdout_is(capfd):
    print("before", flush=True)
    paths.atomic_write_text(Path("/dev/stdout"), "picks\n")
    assert capfd.readouterr().out == "before\npicks\n"


def test_rank_output_to_a_read_only_folder_is_one_line(
    profile_file, example_listing, fake_model, tmp_path, monkeypatch
):
    opened = os.open

    def read_only_folder(path, flags, *args):  # injected: as root a chmod cannot make the folder refuse a file
        if flags & os.O_CREAT and Path(path).parent == tmp_path / "out":
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return opened(path, flags, *args)

    (tmp_path / "out").mkdir()
    monkeypatch.setattr(paths.os, "open", read_only_folder)
    out = tmp_path / "out" / "picks.json"
    result = invoke("rank", str(example_listing), "-p", str(profile_file), "-f", "json", "-o", str(out))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.splitlines()[-1] == f"paperrec: error: cannot write {out}: Read-only file system"
    assert list((tmp_path / "out").iterdir()) == []


def test_rank_output_to_a_socket_is_refused(profile_file, example_listing, fake_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with socket.socket(socket.AF_UNIX) as server:
        server.bind("s.sock")
        result = invoke("rank", str(example_listing), "-p", str(profile_file), "-o", "s.sock")
    assert result.exit_code == 1 and "Traceback" not in result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last == "paperrec: error: cannot write s.sock: not a regular file, a FIFO or a character device"


def test_rank_min_score_strategy_and_merge(profile_file, example_listing, fake_model, tmp_path):
    extra = tmp_path / "extra.jsonl"
    extra.write_text(
        json.dumps({"id": "2104.99999", "title": "Super-resolution video frames", "abstract": "video"})
        + "\n"
        + json.dumps({"id": "2104.10642v2", "title": "dup", "abstract": ""})
        + "\n"
    )
    result = invoke(
        "rank",
        str(example_listing),
        str(extra),
        "-p",
        str(profile_file),
        "-f",
        "json",
        "--top",
        "100",
        "--min-score",
        "0.2",
        "--strategy",
        "max",
    )
    picks = json.loads(result.stdout)
    ids = [p["id"] for p in picks]
    assert "2104.99999" in ids and len(ids) == len(set(ids)) and all(p["score"] >= 0.2 for p in picks)
    assert len(ids) < 60


def test_cache_means_second_rank_embeds_nothing(profile_file, example_listing, fake_model):
    invoke("rank", str(example_listing), "-p", str(profile_file))
    first = fake_model[-1]
    assert len(first.texts) == len(set(first.texts))  # nothing embedded twice
    from recommender.sources import read_listing

    assert {p.text for p in read_listing(example_listing).papers} <= set(first.texts)
    invoke("rank", str(example_listing), "-p", str(profile_file))
    assert fake_model[-1] is not first and fake_model[-1].calls == 0


def test_profile_new_list_show_delete(home, liked_jsonl, fake_model):
    result = invoke(
        "profile", "new", "vision", "--from", str(liked_jsonl), "-d", "SR papers", "-i", "image restoration"
    )
    assert result.exit_code == 0, result.output
    path = home / "profiles" / "vision.toml"
    profile = load_profile(path)
    assert [p.paper.arxiv_id for p in profile.liked] == ["2001.00001", "2001.00002"]
    assert profile.interests == ("image restoration",) and profile.description == "SR papers"
    assert_error(invoke("profile", "new", "vision"), 1, "already exists")
    assert invoke("profile", "new", "vision", "--force").exit_code == 0
    assert load_profile(path).liked == ()

    listed = invoke("profile", "list")
    assert listed.stdout.split()[:3] == ["vision", "0", "liked"]
    shown = invoke("profile", "show", "vision")
    assert "name         vision" in shown.stdout and "liked (0)" in shown.stdout
    assert invoke("profile", "show", "vision", "-f", "toml").stdout.startswith("schema = 1")
    assert_error(invoke("profile", "show", "vision", "-f", "yaml"), 2, "unknown format")

    assert_error(invoke("profile", "delete", "vision"), 2, "--yes")
    assert invoke("profile", "delete", "vision", "--yes").exit_code == 0
    assert not path.exists()
    assert "no profiles" in invoke("profile", "list").stderr


def test_profile_new_never_takes_a_file_of_the_current_folder_for_the_profile(home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    notes = tmp_path / "notes"  # a file that merely has the profile's name
    notes.write_text("my own notes\n")
    result = invoke("profile", "new", "notes", "-c", "cs.CV")
    assert result.exit_code == 0, result.output
    assert (home / "profiles" / "notes.toml").is_file()
    assert invoke("profile", "new", "notes", "-c", "cs.LG", "--force").exit_code == 0
    assert notes.read_text() == "my own notes\n"
    assert load_profile(home / "profiles" / "notes.toml").categories == ("cs.LG",)


def test_profile_delete_that_the_folder_refuses_is_one_line(home, liked_jsonl, monkeypatch):
    assert invoke("profile", "new", "vision", "--from", str(liked_jsonl)).exit_code == 0
    path = home / "profiles" / "vision.toml"

    def read_only(self, missing_ok=False):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "unlink", read_only)
    result = invoke("profile", "delete", "vision", "--yes")
    assert_error(result, 1, f"cannot delete profile {path}: Read-only file system")
    assert path.is_file()


def test_like_dislike_unlike_from_listing_and_last_ranking(profile_file, example_listing, fake_model):
    result = invoke("like", "2104.10325v1", "-p", str(profile_file), "--listing", str(example_listing))
    assert result.exit_code == 0, result.output
    assert "liked 2104.10325  SRWarp" in result.stderr and "(was" not in result.stderr
    liked = load_profile(profile_file).liked[-1]
    assert liked.paper.title.startswith("SRWarp") and liked.paper.abstract
    # a change of mind moves the paper, and the line says it moved rather than that it was new
    moved = invoke("dislike", "2104.10325", "-p", str(profile_file), "--listing", str(example_listing))
    assert "disliked 2104.10325  SRWarp" in moved.stderr and moved.stderr.rstrip().endswith("(was liked)")
    assert invoke("like", "2104.10325", "-p", str(profile_file), "--listing", str(example_listing)).exit_code == 0

    invoke("rank", str(example_listing), "-p", str(profile_file), "-f", "json")
    shown = json.loads(invoke("rank", str(example_listing), "-p", str(profile_file), "-f", "json").stdout)
    result = invoke("dislike", "2")  # rank number; profile taken from the last ranking
    assert result.exit_code == 0, result.output
    profile = load_profile(profile_file)
    assert [p.paper.arxiv_id for p in profile.disliked] == [shown[1]["id"]]
    assert invoke("like", shown[0]["id"], "-p", str(profile_file)).exit_code == 0  # looked up in the last ranking

    result = invoke("unlike", shown[1]["id"], "2104.10325", "9999.99999", "-p", str(profile_file))
    assert result.exit_code == 0 and "not in the profile: 9999.99999" in result.stderr
    profile = load_profile(profile_file)
    assert profile.disliked == () and "2104.10325" not in profile.ids
    assert_error(invoke("unlike", "9999.99999", "-p", str(profile_file)), 1, "none of 9999.99999")


def test_like_by_id_finds_a_paper_of_an_earlier_stored_day(profile_file, example_listing, fake_model, home, tmp_path):
    from recommender.sources import read_listing, to_jsonl

    papers = read_listing(example_listing).papers
    folder = home / "listings" / "cs.CV"
    folder.mkdir(parents=True)
    (folder / "2021-04-21.jsonl").write_text(to_jsonl(papers[:30]))
    today = tmp_path / "today.jsonl"
    today.write_text(to_jsonl(papers[30:]))
    assert invoke("rank", str(today), "-p", str(profile_file)).exit_code == 0
    # yesterday's digest named papers[3]; today's ranking does not hold it
    result = invoke("dislike", f"{papers[3].arxiv_id}v2", "-p", str(profile_file))
    assert result.exit_code == 0, result.output
    assert [p.paper.title for p in load_profile(profile_file).disliked] == [papers[3].title]
    assert_error(invoke("like", "2104.00000", "-p", str(profile_file)), 1, "not in the last ranking or any stored")


def test_like_before_any_ranking_takes_the_only_profile_or_asks_which(home, liked_jsonl, example_listing, tmp_path):
    # a first week: a profile made from a library, a listing file, and no `rank` run yet
    assert invoke("profile", "new", "sr", "--from", str(liked_jsonl)).exit_code == 0
    result = invoke("like", "2104.10325", "--listing", str(example_listing))
    assert result.exit_code == 0, result.output
    assert "2104.10325" in load_profile(home / "profiles" / "sr.toml").ids

    folder = home / "listings" / "cs.CV"  # a stored day is searched without a ranking too, as for a profile named
    folder.mkdir(parents=True)
    from recommender.sources import read_listing, to_jsonl

    (folder / "2021-04-22.jsonl").write_text(to_jsonl(read_listing(example_listing).papers))
    result = invoke("dislike", "2104.10642", "-p", "sr")
    assert result.exit_code == 0, result.output
    assert [p.paper.arxiv_id for p in load_profile(home / "profiles" / "sr.toml").disliked] == ["2104.10642"]

    assert invoke("profile", "new", "vision").exit_code == 0
    assert_error(invoke("like", "2104.10490", "--listing", str(example_listing)), 2, "--profile (sr, vision)")
    assert_error(invoke("like", "3", "-p", "sr"), 1, "no ranking shown yet: run 'paperrec today' or 'paperrec rank'")
    assert "--listing" not in invoke("like", "3", "-p", "sr").stderr  # a listing gives no rank numbers
    unliked = invoke("unlike", "3", "-p", "sr")
    assert_error(unliked, 1, "no ranking shown yet: run 'paperrec today' or 'paperrec rank' first")
    assert "--listing" not in invoke("unlike", "3", "-p", "sr").stderr  # unlike has no --listing


def test_like_errors(profile_file, example_listing, fake_model):
    assert_error(invoke("like", "3", "-p", str(profile_file)), 1, "no ranking shown yet")
    assert_error(
        invoke("like", "2104.00000", "-p", str(profile_file), "-l", str(example_listing)), 1, "not in the listing"
    )
    invoke("rank", str(example_listing), "-p", str(profile_file), "-n", "3")
    assert_error(invoke("like", "4", "-p", str(profile_file)), 1, "no pick #4")
    assert_error(invoke("like", "2104.10642", "-p", "nobody"), 1, "unknown profile")


def test_rank_error_paths(profile_file, example_listing, fake_model, tmp_path, home):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"title": "fine"}\nnot json\n')
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text('name = "x"\nstrategy = centroid\n')
    empty_profile = tmp_path / "empty.toml"
    empty_profile.write_text('name = "e"\n')
    listing = str(example_listing)
    assert_error(invoke("rank", str(tmp_path / "missing.md"), "-p", str(profile_file)), 1, "no such file")
    assert_error(invoke("rank", str(empty), "-p", str(profile_file)), 1, "no papers")
    assert_error(invoke("rank", str(broken), "-p", str(profile_file)), 1, "broken.jsonl:2: invalid JSON")
    assert_error(invoke("rank", listing, "-p", "nobody"), 1, "unknown profile")
    assert_error(invoke("rank", listing, "-p", str(bad_toml)), 1, "at line 2 column 12")
    assert_error(invoke("rank", listing, "-p", str(empty_profile)), 1, "no liked papers or interests")
    assert_error(invoke("rank", listing, "-p", str(profile_file), "-f", "xml"), 2, "unknown format 'xml'")
    assert_error(invoke("rank", listing, "-p", str(profile_file), "-s", "magic"), 2, "unknown strategy")
    assert_error(invoke("rank", listing, "-p", str(profile_file), "--input-format", "xml"), 2, "unknown input format")
    assert_error(invoke("rank", str(tmp_path / "x.txt"), "-p", str(profile_file)), 2, "--input-format")
    assert_error(invoke("rank", listing, "-p", str(profile_file), "-n", "0"), 2, "--top")
    assert_error(invoke("rank", listing), 1, "no profiles in")  # no --profile: every profile, and there is none


def test_missing_model_is_a_clear_error(profile_file, example_listing, tmp_path):
    result = invoke("rank", str(example_listing), "-p", str(profile_file), "--model", str(tmp_path / "no-such-model"))
    assert_error(result, 1, "cannot load model")
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "modules.json").write_text("[]")
    assert_error(
        invoke("rank", str(example_listing), "-p", str(profile_file), "--model", str(broken)), 1, "cannot load model"
    )


def test_info_shows_paths_and_model(home):
    result = invoke("info")
    assert result.exit_code == 0
    assert f"home         {home}" in result.stdout
    assert "sentence-transformers/all-MiniLM-L6-v2" in result.stdout and "(empty)" in result.stdout
    assert "(0 profiles)" in result.stdout
    assert "(rankers and term analyses: 0 files, 0.0 MB; deleting them costs one refit)" in result.stdout
    assert invoke("profile", "new", "vision", "-i", "video super-resolution").exit_code == 0
    assert "(1 profile)" in invoke("info").stdout


def test_info_counts_the_stored_rankers_and_analyses(home, example_listing, fake_model):
    """`info` sums these (its own model check cannot run with the fake model, so the files are checked here)."""
    (home / "profiles").mkdir(parents=True, exist_ok=True)
    (home / "profiles" / "sr.toml").write_text((REPO / "profiles" / "super-resolution.toml").read_text())
    assert paths.derived_files() == []
    assert invoke("rank", str(example_listing), "-p", "sr", "-n", "3").exit_code == 0  # stores its fitted ranker
    named = "super-resolution.npz"  # by the profile's name
    assert paths.derived_files() == [home / "cache" / "analysis" / named, home / "cache" / "rankers" / named]


def test_python_dash_m(home):
    out = subprocess.run([sys.executable, "-m", "recommender", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"paperrec {__version__}"


def test_the_feed_format_answers_to_atom_too(home, liked_jsonl, example_listing):
    assert invoke("profile", "new", "sr", "--from", str(liked_jsonl)).exit_code == 0
    atom = invoke("rank", str(example_listing), "-p", "sr", "-n", "3", "-f", "atom")
    rss = invoke("rank", str(example_listing), "-p", "sr", "-n", "3", "-f", "rss")

    def undated(text: str) -> str:  # each run stamps the feed with its own second
        return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "T", text)

    assert atom.exit_code == 0 and undated(atom.stdout) == undated(rss.stdout) and "<entry" in atom.stdout


def test_several_profiles_one_section_each(home, liked_jsonl, fake_model, example_listing, tmp_path):
    assert invoke("profile", "new", "sr", "--from", str(liked_jsonl)).exit_code == 0
    assert invoke("profile", "new", "bio", "-i", "protein folding biology cells").exit_code == 0
    table = invoke("rank", str(example_listing), "-p", "sr", "-p", "bio", "-n", "3")
    assert table.exit_code == 0, table.output
    assert "== sr ==" in table.stdout and "== bio ==" in table.stdout
    picks = json.loads(invoke("rank", str(example_listing), "-p", "sr", "-p", "bio", "-n", "3", "-f", "json").stdout)
    assert [p["profile"] for p in picks] == ["sr"] * 3 + ["bio"] * 3
    assert_error(invoke("rank", str(example_listing), "-p", "sr", "-p", "bio", "-f", "rss"), 2, "{profile}")
    out = tmp_path / "feeds" / "picks-{profile}.xml"
    assert invoke("rank", str(example_listing), "-p", "sr", "-p", "bio", "-f", "rss", "-o", str(out)).exit_code == 0
    assert sorted(f.name for f in (tmp_path / "feeds").iterdir()) == ["picks-bio.xml", "picks-sr.xml"]

    # like by rank number needs to know which section after a multi-profile run
    assert_error(invoke("like", "1"), 2, "choose one with --profile")
    result = invoke("like", "1", "--profile", "bio")
    assert result.exit_code == 0, result.output
    bio = load_profile(home / "profiles" / "bio.toml")
    assert [p.paper.arxiv_id for p in bio.liked] == [picks[3]["id"]]


def test_today_hides_yesterdays_picks(home, liked_jsonl, fake_model, fake_arxiv):
    from datetime import date

    assert invoke("profile", "new", "sr", "--from", str(liked_jsonl), "-c", "cs.CV", "--offline").exit_code == 0
    first = invoke("today", "-f", "json", "-n", "40")
    assert first.exit_code == 0, first.output
    shown = [p["id"] for p in json.loads(first.stdout)]
    assert len(shown) == 40 and fake_arxiv.asked[-1] == (("cs.CV",), None, False)

    fake_arxiv.day = date(2021, 4, 23)
    second = invoke("today", "-p", "sr", "-f", "json", "-n", "40")
    ids = [p["id"] for p in json.loads(second.stdout)]
    assert len(ids) == 19 and not set(ids) & set(shown)
    assert "10 papers hidden as already shown" in second.stderr
    again = invoke("today", "-p", "sr", "-f", "json", "-n", "40", "--include-seen")
    assert len(json.loads(again.stdout)) == 29

    fake_arxiv.day = date(2021, 4, 24)  # a Saturday: the latest announced day is ranked, exit 0
    weekend = invoke("today", "-f", "json")
    assert weekend.exit_code == 0 and "no arXiv announcement today" in weekend.stderr
    assert invoke("like", "1").exit_code == 0  # rank numbers refer to what today showed


def test_today_errors(home, fake_model, fake_arxiv):
    assert_error(invoke("today"), 1, "no profiles in")
    assert invoke("profile", "new", "nocat", "-i", "anything").exit_code == 0
    assert_error(invoke("today"), 1, "names no categories")
    assert_error(invoke("today", "--date", "22-04-2021"), 2, "--date must be YYYY-MM-DD")


def test_a_profile_that_follows_nothing_is_told_of_other_sources_too(home, fake_model):
    # A biologist's profile follows bioRxiv or a journal's feed, not an arXiv category: the hint names both.
    assert invoke("profile", "new", "bio", "-i", "sleep spindles").exit_code == 0
    result = invoke("today")
    assert_error(result, 1, 'add e.g. categories = ["cs.CV"] or sources = ["biorxiv:neuroscience"]')
    assert "('paperrec sources' lists them)" in result.stderr


# A read-only state/ folder. As root, permissions alone cannot make a write fail, so the error is injected: the
# rename under state/ raises the OSError a read-only file system gives, and SQLite gets a read-only connection.


def _read_only_state(monkeypatch, *, seen_opens: bool) -> None:
    import sqlite3

    from recommender import run, state
    from recommender.seen import SeenMemory

    def read_only(path, text):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(state, "atomic_write_text", read_only)
    connect = sqlite3.connect

    def refuse(path, *args, **kwargs):
        if str(path) == str(paths.seen_path()):
            raise sqlite3.OperationalError("unable to open database file")
        return connect(path, *args, **kwargs)

    def read_only_seen_memory():
        memory = SeenMemory(paths.seen_path())
        memory._db.close()
        memory._db = connect(f"file:{paths.seen_path()}?mode=ro", uri=True)
        return memory

    if seen_opens:
        monkeypatch.setattr(run, "seen_memory", read_only_seen_memory)
    else:
        monkeypatch.setattr(sqlite3, "connect", refuse)


def test_rank_prints_its_picks_before_saying_state_is_read_only(profile_file, example_listing, fake_model, monkeypatch):
    _read_only_state(monkeypatch, seen_opens=True)
    result = invoke("rank", str(example_listing), "-p", str(profile_file), "-f", "json")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(json.loads(result.stdout)) == 10
    assert result.stderr.splitlines()[-1] == (
        f"paperrec: error: cannot write the last ranking {paths.last_ranking_path()}: Read-only file system"
    )


@pytest.mark.parametrize("seen_opens", [True, False])
def test_today_prints_its_picks_before_saying_state_is_read_only(
    home, liked_jsonl, fake_model, fake_arxiv, monkeypatch, seen_opens
):
    assert invoke("profile", "new", "sr", "--from", str(liked_jsonl), "-c", "cs.CV", "--offline").exit_code == 0
    _read_only_state(monkeypatch, seen_opens=seen_opens)
    result = invoke("today", "-f", "json")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(json.loads(result.stdout)) == 10
    seen = (
        f"cannot write the seen-memory {paths.seen_path()}: attempt to write a readonly database"
        if seen_opens
        else f"cannot open the seen-memory {paths.seen_path()}: unable to open database file"
    )
    assert result.stderr.splitlines()[-2:] == [
        f"paperrec: error: {seen}",
        f"paperrec: error: cannot write the last ranking {paths.last_ranking_path()}: Read-only file system",
    ]


def _likes_file(tmp_path, name: str, ids: list[str]):
    path = tmp_path / f"{name}.jsonl"
    rows = [{"id": i, "title": f"Image super-resolution {i}", "abstract": "super-resolution of images"} for i in ids]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_old_likes_are_said_once_on_stderr_for_rank_and_today(home, tmp_path, fake_model, fake_arxiv, example_listing):
    # The example listing (and the fake arXiv's day) is 2021-04-22: likes of 2017-2018 are old, of 2021 fresh.
    old = _likes_file(tmp_path, "old", ["1703.00001", "1711.00002", "1805.00003"])
    fresh = _likes_file(tmp_path, "fresh", ["2103.00001", "2104.00002"])
    for name, path in (("old", old), ("fresh", fresh)):
        assert invoke("profile", "new", name, "--from", str(path), "-c", "cs.CV", "--offline").exit_code == 0
    sentence = (
        "old: your likes are from 2017\N{EN DASH}2018; today's picks follow them, "
        "so like 5 recent papers (paperrec like RANK, or Sharpen in paperrec serve) to bring them up to date"
    )
    ranked = invoke("rank", str(example_listing), "-p", "old", "-p", "fresh", "-f", "json")
    today = invoke("today", "-f", "json")
    for result in (ranked, today):
        assert result.exit_code == 0, result.output
        lines = result.stderr.splitlines()
        assert lines.count(sentence) == 1 and not any(line.startswith("fresh: your likes") for line in lines)
        assert {p["profile"] for p in json.loads(result.stdout)} == {"old", "fresh"}  # stdout holds only the picks


def test_fetch_writes_jsonl(home, fake_arxiv, tmp_path):
    out = tmp_path / "day.jsonl"
    result = invoke("fetch", "cs.CV", "--date", "2021-04-22", "--cross-lists", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert fake_arxiv.asked[-1][1:] == (__import__("datetime").date(2021, 4, 22), True)
    assert len(out.read_text().splitlines()) == 40 and "40 papers, announced 2021-04-22" in result.stderr


FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures" / "imports"


def test_profile_import_from_zotero_and_ids_fetches_missing_abstracts(home, monkeypatch):
    import recommender.sources.arxiv as arxiv
    from recommender.schema import Paper

    asked: list[list[str]] = []

    def fake_fetch_metadata(client, ids, **kwargs):
        asked.append(list(ids))
        return {i: Paper.make(f"Fetched title {i}", i, f"Fetched abstract {i}.") for i in ids}

    monkeypatch.setattr(arxiv, "fetch_metadata", fake_fetch_metadata)
    result = invoke("profile", "import", "zot", str(FIXTURES / "zotero-export.rdf"), str(FIXTURES / "liked-ids.txt"))
    assert result.exit_code == 0, result.output
    profile = load_profile(home / "profiles" / "zot.toml")
    assert len(asked) == 1 and asked[0]  # one batched lookup for the papers without abstracts
    assert all(p.paper.title for p in profile.liked)
    assert "papers added to liked" in result.stderr and "skipped" in result.stderr
    count = len(profile.liked)

    again = invoke("profile", "import", "zot", str(FIXTURES / "liked-ids.txt"))  # cached metadata, nothing new
    assert again.exit_code == 0 and len(asked) == 1
    assert "zot: nothing new, " in again.stderr and len(load_profile(home / "profiles" / "zot.toml").liked) == count


def test_profile_import_offline_still_succeeds(home, monkeypatch):
    import recommender.sources.arxiv as arxiv
    from recommender.sources.http import NetworkError

    def offline(client, ids, **kwargs):
        raise NetworkError("arXiv did not answer (offline?): connection refused")

    monkeypatch.setattr(arxiv, "fetch_metadata", offline)
    result = invoke("profile", "new", "bib", "--from", str(FIXTURES / "library.bib"))
    assert result.exit_code == 0, result.output
    assert "could not fetch metadata" in result.stderr and "have no abstract" in result.stderr
    assert load_profile(home / "profiles" / "bib.toml").liked
    assert_error(invoke("profile", "import", "bib", str(FIXTURES / "nope.bib")), 1, "nope.bib")
    assert_error(
        invoke("profile", "import", "bib", str(FIXTURES / "library.bib"), "--format", "word"),
        2,
        "unknown import format",
    )


def test_embed_corpus_then_cache_info_and_prune(tmp_path, fake_model):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"2301.{i:05d}", "title": f"Paper {i}"}) + "\n" for i in range(40)))
    first = invoke("embed", str(corpus), "--batch-size", "16")
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("40 papers read, 40 embedded now, 0 already cached")
    again = invoke("embed", str(corpus))
    assert again.stdout.startswith("40 papers read, 0 embedded now, 40 already cached")
    other = invoke("embed", str(corpus), "--model", "other-model")
    assert "40 embedded now" in other.stdout
    info = invoke("cache", "info")
    assert info.exit_code == 0 and "80 vectors" in info.stdout
    lines = [line.split() for line in info.stdout.splitlines()[1:]]
    assert sorted((int(n), "(current)" in rest) for n, *rest in lines) == [(40, False), (40, True)]
    pruned = invoke("cache", "prune")
    assert pruned.exit_code == 0 and pruned.stdout.startswith("deleted 40 vectors, 40 kept")
    assert invoke("cache", "prune", "--all").stdout.startswith("deleted 40 vectors, 0 kept")


def test_embed_bad_input_is_one_line(tmp_path, fake_model):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "2301.00001", "title": "ok"}\nnot json\n')
    result = invoke("embed", str(bad))
    assert result.exit_code == 1 and result.stderr.strip().count("\n") == 0
    assert f"{bad}:2: invalid JSON" in result.stderr
    assert invoke("embed", str(tmp_path / "missing.jsonl")).exit_code == 1
    assert invoke("embed", str(bad), "--batch-size", "0").exit_code == 2
    assert invoke("cache", "info").stdout.startswith(str(tmp_path / "home"))


def test_unknown_backend_is_a_usage_error(home):
    assert_error(invoke("info", "--backend", "tensorrt"), 2, "unknown backend 'tensorrt'")
    assert_error(invoke("cache", "info", "--backend", "gpu"), 2, "unknown backend 'gpu'")


def test_package_api_is_complete_and_lazy():
    import recommender

    assert set(recommender.__all__) == set(recommender._MODULE_OF) | {"__version__"}
    assert all(getattr(recommender, name) is not None for name in recommender.__all__)
    with pytest.raises(AttributeError):
        recommender.no_such_name  # noqa: B018
    # `--help` loads what it prints: no numpy, and not a second click beside the one typer vendors.
    code = "import sys, recommender.cli; print(sorted({'numpy', 'click', 'secrets'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"


def test_a_profile_name_cannot_forge_lines_on_stderr(tmp_path, home, fake_model, example_listing):
    path = tmp_path / "e.toml"
    path.write_text('name = "evil\\nFAKE LINE\\u001b[31m"\ncategories = ["cs.CV"]\ninterests = ["super-resolution"]\n')
    result = invoke("rank", str(example_listing), "-p", str(path), "-f", "json", "--top", "1")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert not any(line.startswith("FAKE LINE") for line in lines) and "\x1b" not in result.stderr
    assert any(line.startswith("evil FAKE LINE: ") for line in lines)


def test_profile_import_sets_categories_with_c(home, liked_jsonl):
    made = invoke("profile", "import", "vision", str(liked_jsonl), "-c", "cs.CV", "-c", "eess.IV", "--offline")
    assert made.exit_code == 0, made.output
    path = home / "profiles" / "vision.toml"
    assert load_profile(path).categories == ("cs.CV", "eess.IV") and "follows no arXiv category" not in made.stderr
    again = invoke("profile", "import", "vision", str(liked_jsonl), "-c", "cs.LG")  # replaces the list
    assert again.exit_code == 0 and load_profile(path).categories == ("cs.LG",)
    only = invoke("profile", "import", "vision", "-c", "cs.CV")  # no file: only the categories change
    assert only.exit_code == 0 and only.stderr.strip() == "vision now follows cs.CV"
    assert len(load_profile(path).liked) == 2
    assert_error(invoke("profile", "import", "vision"), 2, "-c CATEGORY or -s SOURCE")
    assert_error(invoke("profile", "import", "nobody", "-c", "cs.CV"), 1, "unknown profile")


def test_profile_import_refuses_an_unknown_category_before_anything(home, liked_jsonl):
    result = invoke("profile", "import", "vision", str(liked_jsonl), "-c", "cs.CVV")
    assert_error(result, 2, "unknown arXiv category 'cs.CVV'; did you mean cs.CV")
    assert not (home / "profiles" / "vision.toml").exists()
    assert_error(invoke("profile", "new", "v2", "-c", "stat.mll"), 2, "did you mean stat.ML")
    assert invoke("profile", "new", "v3", "-c", "stat.ml").exit_code == 0  # another case is the same category
    assert '"stat.ML"' in (home / "profiles" / "v3.toml").read_text()


def test_an_import_sets_the_sources_a_biologist_follows(home, liked_jsonl):
    imported = invoke("profile", "import", "neuro", str(liked_jsonl), "-s", "biorxiv:neuroscience", "--offline")
    assert imported.exit_code == 0 and "follows no" not in imported.stderr, imported.output
    assert load_profile(home / "profiles" / "neuro.toml").sources == ("biorxiv:neuroscience",)
    again = invoke("profile", "import", "neuro", "-s", "medrxiv:neurology", "-s", "journal:0896-6273")
    assert again.exit_code == 0, again.output
    assert load_profile(home / "profiles" / "neuro.toml").sources == ("medrxiv:neurology", "journal:0896-6273")
    assert_error(invoke("profile", "import", "neuro", "-s", "rss:x"), 2, "unknown source 'rss:x'")


def test_an_import_that_leaves_no_categories_says_how_to_set_them(home, liked_jsonl):
    expected = (
        "vision follows no arXiv category yet, so 'paperrec today' has nothing to fetch for it: set them on the "
        "Profile page of 'paperrec serve', or run: paperrec profile import vision -c cs.CV"
        " (or -s biorxiv:neuroscience, another source: 'paperrec sources')"
    )
    imported = invoke("profile", "import", "vision", str(liked_jsonl))
    assert imported.exit_code == 0 and imported.stderr.splitlines().count(expected) == 1
    created = invoke("profile", "new", "plain", "-i", "video super-resolution")
    assert created.exit_code == 0 and "plain follows no arXiv category yet" in created.stderr
    spaced = invoke("profile", "new", "my lab", "--from", str(liked_jsonl))
    assert "run: paperrec profile import 'my lab' -c cs.CV (or -s" in spaced.stderr  # the command unwrapped
    # a profile that follows other sources has something to fetch: no warning, from a file or without
    for name, files in (("neuro", ["--from", str(liked_jsonl)]), ("neuro2", [])):
        sourced = invoke("profile", "new", name, "--source", "biorxiv:neuroscience", "--offline", *files)
        assert sourced.exit_code == 0 and "follows no arXiv category" not in sourced.stderr, sourced.stderr


def test_the_import_hint_for_a_paper_found_nowhere_quotes_the_profile_for_a_shell(home, example_listing):
    """A profile named with a space or a shell's characters is named as a shell reads it, once, in the hint."""
    (home / "profiles").mkdir(parents=True)
    path = home / "profiles" / "my lab; x.toml"
    path.write_text('name = "my lab"\ncategories = ["cs.CV"]\n')
    result = invoke("like", "2104.00000", "-p", str(path))
    assert result.exit_code == 1
    assert "run: paperrec profile import 'my lab; x' FILE (its title" in result.stderr
