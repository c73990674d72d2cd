"""Profile edits keep the researcher's file: text, comments, keys, mode and links; locked; values validated."""

from __future__ import annotations

import errno
import json
import math
import os
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender import paths
from recommender.cli import app
from recommender.profile import edit as profile_module
from recommender.profile import (
    edit_profile,
    import_into_profile,
    load_profile,
    new_profile,
    profile_to_toml,
    rate_papers,
    save_profile,
    unrate_papers,
    update_profile,
)
from recommender.schema import Paper, PaperrecError, UsageError
from recommender.sources import paper_to_record

REPO = Path(__file__).resolve().parent.parent
TODAY = date.today().isoformat()

HAND_WRITTEN = """\
# My super-resolution profile, kept by hand since 2019.
schema = 1
name = "sr"   # the short name
categories = ["cs.CV"]
future_setting = { depth = 2 }   # a key a newer paperrec might write

# The paper that started it all
[[liked]]
id = "2101.00001"
title = "One"
note = "key paper"
tags = ["sr", "classic"]
added = 2021-08-01

[[liked]]
id = "2101.00002"
title = "Two"
added = 2021-08-01T10:00:00Z  # a date-time is read as its date
"""

NEW_TABLE = '[[liked]]\nid = "2101.00003"\ntitle = "Three"\nabstract = "Abstract three."\nadded = {day}\n'
P3 = Paper.make("Three", "2101.00003", "Abstract three.")


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def assert_one_line_error(result, code: int, text: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("paperrec: error:") and text in lines[0], result.stderr


@pytest.fixture
def profile(tmp_path) -> Path:
    path = tmp_path / "sr.toml"
    path.write_text(HAND_WRITTEN)
    return path


@pytest.fixture
def tomlkit_calls(monkeypatch) -> list[str]:
    """Count the edits that needed tomlkit (the text edit handles the usual layouts alone)."""
    calls: list[str] = []
    original = profile_module.edit_text_tomlkit

    def spy(text, change):
        calls.append(change.section)
        return original(text, change)

    monkeypatch.setattr(profile_module, "edit_text_tomlkit", spy)
    return calls


def write_listing(path: Path, papers: list[Paper]) -> Path:
    path.write_text("".join(json.dumps(paper_to_record(p)) + "\n" for p in papers))
    return path


def test_like_appends_a_table_and_keeps_every_byte(profile, tomlkit_calls):
    updated, new = rate_papers(profile, [P3], "liked")
    assert new == [P3] and [p.paper.arxiv_id for p in updated.liked][-1] == "2101.00003"
    assert profile.read_text() == HAND_WRITTEN + "\n" + NEW_TABLE.format(day=TODAY)
    assert rate_papers(profile, [P3], "liked")[1] == []  # already there: nothing written
    assert load_profile(profile).liked[1].added == date(2021, 8, 1)  # the date-time's date
    assert tomlkit_calls == []


def test_dislike_then_like_moves_the_table_with_its_keys_and_comment(profile, tomlkit_calls):
    one = Paper.make("One", "2101.00001")
    rate_papers(profile, [one], "disliked")
    text = profile.read_text()
    assert "[[disliked]]" in text and text.count("[[liked]]") == 1
    moved = text[text.index("# The paper that started it all") :]
    assert moved == (
        "# The paper that started it all\n[[disliked]]\n"
        f'id = "2101.00001"\ntitle = "One"\nnote = "key paper"\ntags = ["sr", "classic"]\nadded = {TODAY}\n'
    )
    loaded = load_profile(profile)
    assert [p.paper.arxiv_id for p in loaded.disliked] == ["2101.00001"] and len(loaded.liked) == 1
    rate_papers(profile, [one], "liked")
    loaded = load_profile(profile)
    assert loaded.disliked == () and [p.paper.arxiv_id for p in loaded.liked] == ["2101.00002", "2101.00001"]
    assert 'note = "key paper"' in profile.read_text() and "# My super-resolution profile" in profile.read_text()
    assert tomlkit_calls == []


def test_a_move_keeps_the_comment_on_the_header_line(profile, tomlkit_calls):
    profile.write_text(
        HAND_WRITTEN.replace('[[liked]]\nid = "2101.00001"', '[[liked]]   # reread yearly\nid = "2101.00001"')
    )
    rate_papers(profile, [Paper.make("One", "2101.00001")], "disliked")
    assert '# The paper that started it all\n[[disliked]]   # reread yearly\nid = "2101.00001"' in profile.read_text()
    assert tomlkit_calls == []


def test_a_vote_leaves_a_paper_both_liked_and_disliked_by_hand_alone(profile, tomlkit_calls):
    # Two files merged by hand: 2101.00002 is liked and disliked. Disliking another paper must not settle that one.
    both = '\n[[disliked]]\nid = "2101.00002"\ntitle = "Two"\nadded = 2021-09-01\n'
    profile.write_text(HAND_WRITTEN + both)
    rate_papers(profile, [Paper.make("One", "2101.00001")], "disliked")
    loaded = load_profile(profile)
    assert [p.paper.arxiv_id for p in loaded.liked] == ["2101.00002"]
    assert [p.paper.arxiv_id for p in loaded.disliked] == ["2101.00002", "2101.00001"]
    assert "added = 2021-08-01T10:00:00Z  # a date-time is read as its date\n" in profile.read_text()


def test_a_paper_is_an_entry_any_of_whose_ids_it_shares_already_there_or_moved_back(profile, tomlkit_calls):
    from recommender.profile import change_profile, dislike, like, undo

    # Entry One links its published version's DOI; the vote brings that version, known by the DOI alone.
    profile.write_text(
        HAND_WRITTEN.replace('title = "One"\n', 'title = "One"\nlinks = ["https://doi.org/10.1234/ONE"]\n')
    )
    published = Paper("doi:10.1234/one", "One, published", links=("https://doi.org/10.1234/one",))
    assert rate_papers(profile, [published], "liked")[1] == []  # already liked
    one, text = load_profile(profile).liked[0], profile.read_text()
    edited = change_profile(profile, [dislike([published])])
    assert [(m.arxiv_id, m.before, m.after) for m in edited.moved] == [("2101.00001", "liked", "disliked")]
    assert [e.paper.arxiv_id for e in edited.profile.disliked] == ["2101.00001"]
    assert [e.paper.arxiv_id for e in edited.profile.liked] == ["2101.00002"]
    back = undo(edited).profile
    assert back.disliked == () and [e.paper.arxiv_id for e in back.liked] == ["2101.00001", "2101.00002"]
    assert back.liked[0] == one and profile.read_text() == text  # back in its place, its links, its day
    # Two refs to one work in one vote: one entry.
    edited = change_profile(
        profile, [like([P3, Paper("doi:10.1234/three", "Three", links=("https://arxiv.org/abs/2101.00003",))])]
    )
    assert [m.arxiv_id for m in edited.moved] == ["2101.00003"]
    assert tomlkit_calls == []


VERSIONS = """\
name = "p"
interests = ["x"]

# the preprint
[[disliked]]
id = "2401.00001"
title = "Preprint"   # read once
added = 2024-01-02

# the journal version, kept with my note
[[disliked]]
id = "doi:10.1234/journal"
title = "Journal"
links = ["https://arxiv.org/abs/2401.00001"]
note = "my words"
added = 2024-03-04

[[disliked]]
id = "2402.00002"
title = "Unrelated"
"""
PREPRINT = Paper.make("Preprint", "2401.00001")
JOURNAL = Paper.make("Journal", "doi:10.1234/journal", links=["https://arxiv.org/abs/2401.00001"])


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("pasted", [False, True], ids=["plain", "pasted"])
@pytest.mark.parametrize(
    ("voted", "moves"),
    [
        (PREPRINT, "2401.00001"),  # its own id, though the journal version links it
        (JOURNAL, "doi:10.1234/journal"),  # its own id, though it links the preprint
        (Paper.make("Another", "doi:10.5555/x", links=["https://arxiv.org/abs/2401.00001"]), "2401.00001"),
    ],
    ids=["preprint", "journal", "a-third-version"],
)
def test_a_vote_moves_one_entry_of_a_work_and_its_undo_gives_back_every_byte(
    tmp_path, tomlkit_calls, newline, pasted, voted, moves
):
    from recommender.profile import change_profile, like, undo

    text = VERSIONS + (
        '\n[[disliked]]\nid = "2403.00003"\ntitle = "Long"\nabstract = """\nPasted."""\n' if pasted else ""
    )
    text = text.replace("\n", newline)
    path = tmp_path / "p.toml"
    path.write_bytes(text.encode())
    edited = change_profile(path, [like([voted])])
    assert [(m.arxiv_id, m.before, m.after, m.place) for m in edited.moved] == [
        (moves, "disliked", "liked", 0 if moves == "2401.00001" else 1)
    ]
    after = path.read_bytes().decode()
    assert [e.paper.arxiv_id for e in load_profile(path).liked] == [moves]
    stayed = [e.paper.arxiv_id for e in load_profile(path).disliked]
    assert (
        stayed
        == [i for i in ["2401.00001", "doi:10.1234/journal", "2402.00002", "2403.00003"] if i != moves][
            : 3 if pasted else 2
        ]
    )
    # Every other entry byte for byte: the text less the moved table is the file less the liked one.
    kept = after[: after.index(f"{newline}# the preprint{newline}[[liked]]")] if moves == "2401.00001" else after
    for table in text.split(newline * 2)[2:]:
        if f'id = "{moves}"' not in table:
            assert table in kept
    undo(edited)  # a multi-line abstract elsewhere is no header: the text path still does it
    assert path.read_bytes().decode() == text and tomlkit_calls == []


def test_a_vote_on_a_paper_the_section_has_changes_nothing_anywhere(tmp_path):
    # The journal version's disliked entry links the liked preprint: liking the preprint again leaves it alone.
    path = tmp_path / "p.toml"
    text = VERSIONS.replace('[[disliked]]\nid = "2401.00001"', '[[liked]]\nid = "2401.00001"', 1)
    path.write_text(text)
    listing = write_listing(tmp_path / "l.jsonl", [PREPRINT, JOURNAL])
    result = invoke("like", "2401.00001", "-p", str(path), "-l", str(listing))
    assert result.exit_code == 0 and result.stderr == "1 already liked in p\n"
    assert path.read_text() == text
    result = invoke("dislike", "doi:10.1234/journal", "-p", str(path), "-l", str(listing))
    assert result.exit_code == 0 and result.stderr == "1 already disliked in p\n"
    assert path.read_text() == text
    # The work is liked and disliked by hand: a vote on either version is on a paper its section has.
    result = invoke("dislike", "2401.00001", "-p", str(path), "-l", str(listing))
    assert result.exit_code == 0 and result.stderr == "1 already disliked in p\n"
    assert path.read_text() == text


def test_undo_of_several_moves_puts_each_back_in_its_place(profile, tomlkit_calls):
    from recommender.profile import PendingPaper, add_pending, change_profile, dislike, undo

    four = '\n[[liked]]\nid = "2101.00004"\ntitle = "Four"\nadded = 2021-08-02\n'
    profile.write_text(HAND_WRITTEN + '\n[[liked]]   # the third\nid = "2101.00003"\ntitle = "Three"\n' + four)
    change_profile(profile, [add_pending([PendingPaper(f"2101.0000{i}") for i in (5, 6, 7)])])
    text = profile.read_text()
    one, six = Paper.make("One", "2101.00001"), Paper.make("Six", "2101.00006")
    edited = change_profile(profile, [dislike([P3, one, six])])  # the third table, then the first
    assert [(m.arxiv_id, m.before, m.after, m.place) for m in edited.moved] == [
        ("2101.00003", "liked", "disliked", 2),
        ("2101.00001", "liked", "disliked", 0),
        ("2101.00006", None, "disliked", None),
        ("2101.00006", "pending", None, 1),
    ]
    assert [e.paper.arxiv_id for e in load_profile(profile).liked] == ["2101.00002", "2101.00004"]
    undo(edited)
    assert profile.read_text() == text
    assert tomlkit_calls == []


def test_unlike_removes_only_that_table(profile, tomlkit_calls):
    _, found = unrate_papers(profile, ["2101.00001v2", "9999.99999"])
    assert found == ["2101.00001"]
    assert profile.read_text() == HAND_WRITTEN.replace(HAND_WRITTEN[HAND_WRITTEN.index("# The paper") :], "") + (
        '[[liked]]\nid = "2101.00002"\ntitle = "Two"\nadded = 2021-08-01T10:00:00Z  # a date-time is read as its date\n'
    )
    _, found = unrate_papers(profile, ["2101.00002"])
    assert found == ["2101.00002"] and load_profile(profile).liked == ()
    assert profile.read_text().startswith("# My super-resolution profile") and "future_setting" in profile.read_text()
    assert tomlkit_calls == []


def test_cli_like_dislike_unlike_import_keep_the_text(profile, tmp_path):
    listing = write_listing(tmp_path / "l.jsonl", [P3, Paper.make("Four", "2101.00004", "Abstract four.")])
    result = invoke("like", "2101.00003", "-p", str(profile), "-l", str(listing))
    assert result.exit_code == 0 and result.stderr == "liked 2101.00003  Three\n"
    assert profile.read_text() == HAND_WRITTEN + "\n" + NEW_TABLE.format(day=TODAY)
    result = invoke("dislike", "2101.00004", "2101.00003", "-p", str(profile), "-l", str(listing))
    assert result.exit_code == 0
    assert result.stderr == "disliked 2101.00004  Four\ndisliked 2101.00003  Three (was liked)\n"
    result = invoke("unlike", "2101.00004", "-p", str(profile))
    assert result.exit_code == 0 and result.stderr == "removed 2101.00004 from sr\n"
    library = write_listing(tmp_path / "library.jsonl", [Paper.make("Five", "2101.00005", "Abstract five.")])
    result = invoke("profile", "import", str(profile), str(library), "--offline")
    assert result.exit_code == 0, result.output
    text = profile.read_text()
    assert text.startswith(HAND_WRITTEN[: HAND_WRITTEN.index('[[liked]]\nid = "2101.00002"')])
    assert "2101.00005" in text and 'tags = ["sr", "classic"]' in text
    assert [p.paper.arxiv_id for p in load_profile(profile).disliked] == ["2101.00003"]


def test_the_like_that_brings_match_says_so_once(profile, tmp_path):
    papers = [Paper.make(f"Paper {n}", f"2101.0001{n}", f"Abstract {n}.") for n in range(4)]
    listing = write_listing(tmp_path / "l.jsonl", papers)
    result = invoke("like", "2101.00010", "2101.00011", "-p", str(profile), "-l", str(listing))  # 2 -> 4 likes
    assert result.exit_code == 0 and "match" not in result.stderr
    result = invoke("like", "2101.00012", "-p", str(profile), "-l", str(listing))  # the fifth
    assert result.stderr.splitlines()[-1] == (
        "sr now has 5 liked papers: its picks show match, the estimated chance that you like each"
    )
    result = invoke("like", "2101.00013", "-p", str(profile), "-l", str(listing))  # the sixth: said already
    assert result.exit_code == 0 and "match" not in result.stderr


def test_layouts_the_text_path_does_not_handle_still_keep_comments(tmp_path, tomlkit_calls):
    path = tmp_path / "p.toml"
    original = (
        'name = "p"\ndisliked = []\ndescription = """\nmulti-line\n[[liked]]\n"""\npending = [{id = "2101.00099"}]\n'
        '# keep me\n[[liked]]\nid = "2101.00001"\ntitle = "One"\n\n[other]\nkey = 1  # and me\n'
    )
    path.write_text(original)
    rate_papers(path, [P3], "disliked")
    rate_papers(path, [Paper.make("Four", "2101.00004")], "liked")
    text = path.read_text()
    assert "# keep me" in text and "key = 1  # and me" in text and "multi-line\n[[liked]]\n" in text
    loaded = load_profile(path)
    assert [p.paper.arxiv_id for p in loaded.liked] == ["2101.00001", "2101.00004"]
    assert [p.paper.arxiv_id for p in loaded.disliked] == ["2101.00003"]
    assert loaded.description == "multi-line\n[[liked]]\n" and loaded.extra == {"other": {"key": 1}}
    assert tomlkit_calls == ["disliked", "liked"]


def test_tables_added_through_tomlkit_are_set_apart_by_a_blank_line_as_on_the_text_path(tmp_path, tomlkit_calls):
    path = tmp_path / "p.toml"  # an inline array of tables sends edits through tomlkit
    original = 'name = "p"\npending = [{id = "2101.00099"}]\n\n[[liked]]\nid = "2101.00001"\ntitle = "One"\n'
    original += 'abstract = """\nPasted."""\nadded = 2021-04-22\n'
    path.write_text(original)
    rate_papers(path, [P3, Paper.make("Four", "2101.00004")], "liked")
    rate_papers(path, [Paper.make("Five", "2101.00005")], "disliked")
    text = path.read_text()
    assert tomlkit_calls == ["liked", "disliked"] and text.startswith(original)
    assert text.count("\n\n[[liked]]\n") == 3 and text.count("\n\n[[disliked]]\n") == 1
    assert "\n\n\n" not in text
    path.write_text(original + "\n")  # a blank line already ends the last table: no second one
    rate_papers(path, [P3], "liked")
    assert "\n\n\n" not in path.read_text() and path.read_text().count("\n\n[[liked]]\n") == 2


def test_crlf_and_tables_in_the_middle(tmp_path, tomlkit_calls):
    path = tmp_path / "p.toml"
    original = (
        'name = "p"\r\n\r\n[[liked]]\r\nid = "2101.00001"\r\ntitle = "One"\r\n\r\n[[disliked]]\r\ntitle = "Bad"\r\n'
    )
    path.write_bytes(original.encode())
    rate_papers(path, [P3], "liked")
    data = path.read_bytes().decode()
    assert "\n" not in data.replace("\r\n", "") and data.startswith(original[:20])
    loaded = load_profile(path)
    assert [p.paper.arxiv_id for p in loaded.liked] == ["2101.00001", "2101.00003"] and len(loaded.disliked) == 1
    assert tomlkit_calls == [] and data.index("2101.00003") < data.index("[[disliked]]")
    expected = original.replace("\r\n\r\n[[disliked]]", f"\r\n\r\n{NEW_TABLE.format(day=TODAY)}\r\n[[disliked]]")
    assert data == expected.replace("\r\n", "\n").replace("\n", "\r\n")


def test_new_profiles_write_their_papers_as_tables_so_edits_stay_on_the_text_path(tmp_path, tomlkit_calls):
    from recommender.profile import new_profile, save_profile

    path = tmp_path / "p.toml"
    save_profile(new_profile("p", [Paper.make("One", "2101.00001")]), path)
    assert "[[liked]]" in path.read_text() and "disliked = []" in path.read_text()
    rate_papers(path, [P3], "disliked")
    rate_papers(path, [Paper.make("Four", "2101.00004")], "liked")
    assert "disliked = []" not in path.read_text() and tomlkit_calls == []
    assert len(load_profile(path).liked) == 2 and len(load_profile(path).disliked) == 1


def test_update_profile_and_edit_profile(profile):
    assert update_profile(profile, lambda edit: edit.remove(["2101.00002"])) == ["2101.00002"]
    with pytest.raises(RuntimeError), edit_profile(profile) as edit:
        edit.add([P3])
        raise RuntimeError  # nothing is written when the block fails
    assert "2101.00003" not in profile.read_text()


def test_symlinked_profile_is_written_through(profile, tmp_path):
    link = tmp_path / "link.toml"
    link.symlink_to(profile)
    rate_papers(link, [P3], "liked")
    assert link.is_symlink() and "2101.00003" in profile.read_text()
    assert sorted(f.name for f in tmp_path.iterdir()) == ["home", "link.toml", "sr.toml"]


def test_hard_linked_profile_is_edited_in_place_and_the_link_holds(profile, tmp_path):
    # The edit is checked as text first, then written into the same inode under the lock: both names see it.
    other = tmp_path / "synced.toml"
    os.link(profile, other)
    rate_papers(other, [P3], "liked")
    unrate_papers(profile, ["2101.00001"])
    assert profile.stat().st_ino == other.stat().st_ino and profile.stat().st_nlink == 2
    assert profile.read_text() == other.read_text()
    assert "2101.00003" in profile.read_text() and "2101.00001" not in profile.read_text()
    assert sorted(f.name for f in tmp_path.iterdir()) == ["home", "sr.toml", "synced.toml"]


def test_hard_linked_profile_shrinks_in_place(profile, tmp_path):
    other = tmp_path / "synced.toml"
    os.link(profile, other)
    save_profile(new_profile("short"), other)
    assert profile.read_text() == other.read_text() == profile_to_toml(new_profile("short"))


def test_hard_linked_profile_on_a_full_disk_is_left_whole(profile, tmp_path, monkeypatch):
    os.link(profile, tmp_path / "synced.toml")

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(paths.os, "posix_fallocate", full_disk)
    with pytest.raises(PaperrecError, match=f"cannot write profile {profile}: No space left on device"):
        rate_papers(profile, [P3], "liked")
    assert profile.read_text() == HAND_WRITTEN


def test_edits_through_two_hard_links_share_one_lock(profile, tmp_path):
    other = tmp_path / "synced.toml"
    os.link(profile, other)
    waiting = pytest.raises(PaperrecError, match="is being edited by another paperrec")
    with paths.locked(profile), waiting, paths.locked(other, timeout=0.05):
        pass


def test_a_profile_name_with_a_nul_is_a_usage_error():
    with pytest.raises(UsageError, match="contains a NUL character"):
        paths.resolve_profile("sr\x00.toml")


def test_read_only_profile_is_refused_and_left_alone(profile, tmp_path):
    profile.chmod(0o444)
    listing = write_listing(tmp_path / "l.jsonl", [P3])
    for args in (("like", "2101.00003", "-l", str(listing)), ("unlike", "2101.00001")):
        result = invoke(*args, "-p", str(profile))
        assert_one_line_error(result, 1, f"{profile} is read-only")
    assert profile.read_text() == HAND_WRITTEN and stat.S_IMODE(profile.stat().st_mode) == 0o444


def test_write_failure_is_one_error_and_nothing_is_damaged(profile, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(paths.os, "replace", full_disk)
    with pytest.raises(PaperrecError, match=f"cannot write profile {profile}: No space left on device"):
        rate_papers(profile, [P3], "liked")
    assert profile.read_text() == HAND_WRITTEN
    assert sorted(f.name for f in profile.parent.iterdir()) == ["home", "sr.toml"]


def test_a_profile_in_a_read_only_folder_is_one_error_and_left_alone(profile, monkeypatch):
    # As root a chmod cannot make the folder refuse a file: the OSError a read-only folder gives is injected.
    opened = os.open

    def read_only_folder(path, flags, *args):
        if flags & os.O_CREAT and Path(path).parent == profile.parent:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return opened(path, flags, *args)

    monkeypatch.setattr(paths.os, "open", read_only_folder)
    with pytest.raises(PaperrecError, match=f"cannot write profile {profile}: Read-only file system"):
        rate_papers(profile, [P3], "liked")
    assert profile.read_text() == HAND_WRITTEN
    assert sorted(f.name for f in profile.parent.iterdir()) == ["home", "sr.toml"]


def test_a_read_only_locks_folder_is_one_error(profile, monkeypatch):
    import filelock

    def refused(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(filelock.FileLock, "acquire", refused)
    result = invoke("unlike", "2101.00001", "-p", str(profile))
    assert_one_line_error(result, 1, f"cannot lock {profile} for editing")
    assert profile.read_text() == HAND_WRITTEN


def test_leftover_temporary_files_are_cleaned_up_on_the_next_edit(profile):
    stale = profile.parent / ".sr.toml.0123abcd.tmp"
    stale.write_text("half a profile")
    other = profile.parent / ".sr.toml.x.toml.0123abcd.tmp"  # another file's temporary: not ours
    other.write_text("")
    rate_papers(profile, [P3], "liked")
    assert not stale.exists() and other.exists()


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_new_files_follow_the_umask_and_existing_ones_keep_their_mode(tmp_path, umask):
    old = os.umask(umask)
    try:
        paths.atomic_write_text(tmp_path / "new.txt", "x")
        assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o666 & ~umask
        kept = tmp_path / "kept.txt"
        kept.write_text("x")
        kept.chmod(0o640)
        paths.atomic_write_text(kept, "y")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_text() == "y"
    finally:
        os.umask(old)


@pytest.mark.parametrize("key", ["dislike_weight", "min_score", "diversity", "half_life_days"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_nan_and_inf_are_refused(tmp_path, key, value):
    path = tmp_path / "p.toml"
    path.write_text(f'name = "p"\n{key} = {value}\n')
    with pytest.raises(PaperrecError, match=rf"p\.toml:2: '{key}' must be a finite number"):
        load_profile(path)


@pytest.mark.parametrize(
    ("line", "message"),
    [("weight = nan", "'weight' must be a number >= 0"), ("weight = inf", "'weight' must be a number >= 0")],
)
def test_paper_weight_must_be_finite(tmp_path, line, message):
    path = tmp_path / "p.toml"
    path.write_text(f'name = "p"\n[[liked]]\ntitle = "t"\n{line}\n')
    with pytest.raises(PaperrecError, match=rf"liked\[1\]: {message}"):
        load_profile(path)


@pytest.mark.parametrize("value", ["0", "-3"])
def test_half_life_must_be_positive(tmp_path, value):
    path = tmp_path / "p.toml"
    path.write_text(f'name = "p"\nhalf_life_days = {value}\n')
    with pytest.raises(PaperrecError, match="'half_life_days' must be > 0"):
        load_profile(path)


def test_datetime_added_is_its_date(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('name = "p"\nhalf_life_days = 30\n[[liked]]\ntitle = "t"\nadded = 2021-08-01T10:00:00Z\n')
    added = load_profile(path).liked[0].added
    assert type(added) is date and added == date(2021, 8, 1)
    assert isinstance((date(2021, 8, 31) - added).days, int)  # the recency arithmetic that used to fail


def test_long_profile_names(home):
    long_name = "a" * 300
    ranker = paths.ranker_path(long_name)
    assert len(ranker.name) < 100 and ranker != paths.ranker_path("a" * 299)
    assert paths.ranker_path("sr").name == "sr.npz"
    with pytest.raises(UsageError, match="too long"):
        paths.resolve_profile(long_name)
    assert_one_line_error(invoke("profile", "new", long_name), 2, "too long")
    path = home / "long.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'name = "{long_name}"\n')
    assert load_profile(path).name == long_name


def test_import_merges_under_the_lock_with_edits_made_during_the_lookup(profile, tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text("2101.00007\n")

    def slow_lookup(wanted: list[str]) -> dict[str, Paper]:
        rate_papers(profile, [P3], "liked")  # another paperrec likes a paper while the import looks abstracts up
        return {i: Paper.make(f"Title {i}", i, "Fetched.") for i in wanted}

    report = import_into_profile(profile, [ids], lookup=slow_lookup)
    assert [p.arxiv_id for p in report.added] == ["2101.00007"] and report.path == profile
    assert [p.paper.arxiv_id for p in load_profile(profile).liked][-2:] == ["2101.00003", "2101.00007"]
    assert "# The paper that started it all" in profile.read_text()


def test_sixteen_concurrent_likes_keep_all_sixteen(tmp_path, home):
    profile = tmp_path / "sr.toml"
    profile.write_text(HAND_WRITTEN)
    profile.chmod(0o644)
    papers = [Paper.make(f"Paper {i}", f"2102.{i:05d}", f"Abstract {i}.") for i in range(16)]
    listing = write_listing(tmp_path / "listing.jsonl", papers)
    env = {**os.environ, "PAPERREC_HOME": str(home)}
    command = [sys.executable, "-m", "recommender", "like", "--profile", str(profile), "--listing", str(listing)]
    workers = [subprocess.Popen([*command, p.arxiv_id], cwd=REPO, env=env, stderr=subprocess.PIPE) for p in papers]
    errors = [w.communicate(timeout=120)[1].decode() for w in workers]
    assert [w.returncode for w in workers] == [0] * 16, errors
    loaded = load_profile(profile)
    assert {p.paper.arxiv_id for p in loaded.liked} == {"2101.00001", "2101.00002"} | {p.arxiv_id for p in papers}
    text = profile.read_text()
    assert text.startswith(HAND_WRITTEN) and text.count("[[liked]]") == 18
    assert stat.S_IMODE(profile.stat().st_mode) == 0o644
    assert not [f for f in tmp_path.iterdir() if f.name.endswith(".tmp")]
    assert not any(math.isnan(p.weight) for p in loaded.liked)


def test_the_header_scan_finds_what_the_header_regex_finds():
    from recommender.profile.text_edit import _HEADER, _header_matches

    lines = ["[[liked]]", "  [[liked]] # c", "x = [1]", "a [b] c", "[x]", "\t[[disliked]]", "[[liked]", ""]
    lines += ["#[[liked]]"]
    lines += ["id = '[[liked]]'", " [ [liked]]", 'abstract = "see [3] and"', "[ [ disliked ] ]", '[["liked"]]']
    for newline in ("\n", "\r\n"):
        for shift in range(len(lines)):
            text = newline.join(lines[shift:] + lines[:shift])
            expected = [(m.start(), m.end()) for m in _HEADER.finditer(text)]
            assert [(m.start(), m.end()) for m in _header_matches(text)] == expected


def test_an_edit_is_checked_against_the_exact_data_expected():
    from recommender.profile.text_edit import same_data

    day = date(2021, 8, 1)
    base = {"name": "sr", "liked": [{"id": "1", "added": day, "tags": ["a"], "weight": 1}]}
    assert same_data(base, {"name": "sr", "liked": [{"id": "1", "added": day, "tags": ("a",), "weight": 1}]})
    assert same_data({"name": "sr"}, {"name": "sr", "liked": [], "disliked": None})  # no section is an empty one
    assert same_data({"x": math.nan}, {"x": math.nan})
    for changed in ({"weight": 1.0}, {"weight": True}, {"added": TODAY}, {"tags": ["b"]}, {"extra": 1}):
        other = {"name": "sr", "liked": [{**base["liked"][0], **changed}]}
        assert not same_data(base, other) and not same_data(other, base)


def test_the_profile_an_edit_leaves_for_the_next_reader_is_the_file_read_afresh(profile):
    from recommender.profile.model import parse_toml, profile_from_dict

    rate_papers(profile, [P3], "liked")
    rate_papers(profile, [Paper.make("One", "2101.00001", "")], "disliked")
    kept = load_profile(profile)  # the edit's own profile: the file is not parsed again
    text = profile.read_text()
    assert kept == profile_from_dict(parse_toml(text, profile), str(profile), default_name=profile.stem)
    kept.extra["changed by a caller"] = 1
    assert "changed by a caller" not in load_profile(profile).extra


def test_a_new_entry_has_no_empty_fields_and_its_short_lists_on_one_line(profile, tmp_path, tomlkit_calls):
    """An entry as a person writes it: no `abstract = ""`, a one-author list on its key's line."""
    bare = Paper.make("Bare", "2101.00005", authors=["Ada Lovelace"])
    rate_papers(profile, [bare], "liked")
    entry = f'[[liked]]\nid = "2101.00005"\ntitle = "Bare"\nauthors = ["Ada Lovelace"]\nadded = {TODAY}\n'
    assert profile.read_text() == HAND_WRITTEN + "\n" + entry
    path = tmp_path / "inline.toml"  # an inline array of tables sends the edit through tomlkit: the same entry
    path.write_text('name = "p"\npending = [{id = "2101.00099"}]\n')
    rate_papers(path, [bare], "liked")
    assert path.read_text() == 'name = "p"\npending = [{id = "2101.00099"}]\n\n' + entry
    assert tomlkit_calls == ["liked"] and load_profile(path).liked[0].paper == bare


@pytest.mark.parametrize("pasted", [False, True])
def test_a_list_has_an_item_a_line_once_it_does_not_fit_in_100_columns(tmp_path, tomlkit_calls, pasted):
    fits = Paper.make("Fits", "2101.00006", authors=["A" * 41, "B" * 41])  # `authors = [...]` is 100 columns
    wider = Paper.make("Wider", "2101.00007", authors=["A" * 41, "B" * 42])
    path = tmp_path / "p.toml"
    original = 'name = "p"\n' + ('pending = [{id = "2101.00099"}]\n' if pasted else "")  # tomlkit's
    path.write_text(original)
    rate_papers(path, [fits, wider], "liked")
    text = path.read_text()
    assert f'authors = ["{"A" * 41}", "{"B" * 41}"]\n' in text
    assert f'authors = [\n    "{"A" * 41}",\n    "{"B" * 42}",\n]\n' in text
    assert text.startswith(original) and [p.paper for p in load_profile(path).liked] == [fits, wider]
    assert tomlkit_calls == (["liked"] if pasted else [])


def test_authors_a_refresh_adds_follow_the_same_rule(tmp_path):
    from recommender.profile import change_profile, fill_abstracts

    path = tmp_path / "p.toml"
    original = 'name = "p"\n\n[[liked]]\nid = "2101.00006"\ntitle = "Fits"\n\n[[liked]]\nid = "2101.00007"\n'
    original += 'title = "Wider"\n'
    path.write_text(original)
    found = [
        Paper.make("Fits", "2101.00006", "Found.", authors=["Ada Lovelace"]),
        Paper.make("Wider", "2101.00007", "Found too.", authors=[f"Author Number {i}" for i in range(12)]),
    ]
    change_profile(path, [fill_abstracts(found)])
    many = "".join(f'    "Author Number {i}",\n' for i in range(12))
    assert (
        path.read_text()
        == original.replace('title = "Fits"\n', 'title = "Fits"\nauthors = ["Ada Lovelace"]\nabstract = "Found."\n')
        + f'authors = [\n{many}]\nabstract = "Found too."\n'
    )  # in the order a new entry has them
    assert [p.paper.authors for p in load_profile(path).liked] == [p.authors for p in found]


def test_a_new_profile_writes_short_lists_on_one_line_and_interests_one_a_line(tmp_path):
    path = tmp_path / "p.toml"
    save_profile(new_profile("p", categories=["cs.CV", "eess.IV"], interests=["video super-resolution"]), path)
    text = path.read_text()
    assert 'categories = ["cs.CV", "eess.IV"]\n' in text
    assert 'interests = [\n    "video super-resolution",\n]\n' in text  # sentences, as the editor writes them


def test_a_profile_that_holds_a_feeds_token_is_for_its_owner_alone(home):
    from recommender.profile import change_profile
    from recommender.profile.changes import set_sources

    old = os.umask(0o022)
    try:
        runner = CliRunner()
        assert runner.invoke(app, ["profile", "new", "open", "-c", "cs.CV"]).exit_code == 0
        path = home / "profiles" / "open.toml"
        assert stat.S_IMODE(path.stat().st_mode) == 0o644  # no secret in it: as the umask says
        # A feed's query may hold a private token, as the page and messages assume: others may not read it.
        change_profile(path, [set_sources(["feed:https://example.org/rss?token=s3cret"])])
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        spec = "feed:https://example.org/rss?key=s3cret"
        assert runner.invoke(app, ["profile", "new", "fed", "-c", "cs.CV", "-s", spec]).exit_code == 0
        assert stat.S_IMODE((home / "profiles" / "fed.toml").stat().st_mode) == 0o600
    finally:
        os.umask(old)


KEPT = """\
name = "p"
interests = ["x"]

# keep me: why I disliked it
[[disliked]]
id = "2401.00001"
title = "Preprint"  # mine
abstract = \"\"\"
Pasted
[[liked]]
\"\"\"
added = 2024-01-02

# about the next one
[[disliked]]
id = "2402.00002"
title = "Unrelated"  # its own
abstract = '''
Pasted too.'''
"""


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("by_tomlkit", [False, True], ids=["text", "tomlkit"])
@pytest.mark.parametrize("voted", ["2401.00001", "2402.00002"])
def test_a_vote_moves_the_table_as_written_and_its_undo_gives_back_every_byte(
    tmp_path, monkeypatch, tomlkit_calls, newline, voted, by_tomlkit
):
    from recommender.profile import change_profile, like, undo

    if by_tomlkit:  # the layouts that need tomlkit (inline arrays of tables, subtables) move a table the same way
        monkeypatch.setattr(profile_module, "edit_text_fast", lambda *_: None)
    text = KEPT.replace("\n", newline)
    path = tmp_path / "p.toml"
    path.write_bytes(text.encode())
    edited = change_profile(path, [like([Paper.make("Voted", voted)])])
    after = path.read_bytes().decode()
    head, first, second = (block.strip("\r\n") for block in text.split(newline * 2))
    moved, stayed = (first, second) if voted == "2401.00001" else (second, first)
    # The moved table with its comments and its strings as written; the comment lines above it go with it.
    liked = moved.replace("[[disliked]]", "[[liked]]").replace("added = 2024-01-02", f"added = {TODAY}")
    assert after == head + newline * 2 + stayed + newline * 2 + liked + newline
    undo(edited)
    assert path.read_bytes().decode() == text
    assert tomlkit_calls == (["liked", "disliked"] if by_tomlkit else [])


@pytest.mark.parametrize("by_tomlkit", [False, True], ids=["text", "tomlkit"])
def test_the_undo_of_a_vote_gives_back_a_date_time_as_written(tmp_path, monkeypatch, by_tomlkit):
    from recommender.profile import change_profile, like, undo

    if by_tomlkit:
        monkeypatch.setattr(profile_module, "edit_text_fast", lambda *_: None)
    path = tmp_path / "p.toml"
    text = 'name = "p"\n\n[[disliked]]\nid = "2401.00001"\ntitle = "Preprint"\nadded = 2024-01-02T10:00:00Z  # noon\n'
    text += '\n[[disliked]]\nid = "2402.00002"\ntitle = "Other"\nadded = 2024-01-03T10:00:00+02:00\n'
    path.write_text(text)
    for voted in ("2401.00001", "2402.00002"):
        edited = change_profile(path, [like([Paper.make("Voted", voted)])])
        assert f"added = {TODAY}" in path.read_text()
        undo(edited)
        assert path.read_text() == text


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_the_undo_of_a_vote_on_a_pending_paper_gives_back_its_table_as_written(tmp_path, tomlkit_calls, newline):
    from recommender.profile import change_profile, like, remove, undo

    path = tmp_path / "p.toml"
    text = 'name = "p"\nabstract_note = """\nmine\n"""\n\n[[disliked]]\nid = "2402.00002"\ntitle = "U"\n\n'
    text += '# waiting for its text\n[[pending]]\nid = "2401.00001"  # from a talk\n\n[[pending]]\nid = "2407.00007"\n'
    text = text.replace("\n", newline)
    path.write_bytes(text.encode())
    edited = change_profile(path, [like([Paper.make("Talk", "2401.00001")])])
    assert [p.arxiv_id for p in load_profile(path).pending] == ["2407.00007"]
    undo(edited)
    assert path.read_bytes().decode() == text
    undo(change_profile(path, [remove(["2407.00007"])]))  # an unlike of a pending paper too
    assert path.read_bytes().decode() == text
    assert tomlkit_calls == []


def test_a_pending_table_tomlkit_writes_comes_back_with_its_own_keys_only(tmp_path, tomlkit_calls):
    from recommender.profile import change_profile, like, undo
    from recommender.profile.model import parse_toml

    path = tmp_path / "p.toml"  # an inline array of tables: tomlkit rewrites it, the data come back as they were
    text = 'name = "p"\npending = [{id = "2401.00001"}, {id = "2407.00007"}]\n'
    path.write_text(text)
    undo(change_profile(path, [like([Paper.make("Talk", "2401.00001")])]))
    assert parse_toml(path.read_text(), path) == parse_toml(text, path)  # no `section` or `added` of its own
    assert tomlkit_calls == ["liked", "pending"]  # the liked table goes on the text


@pytest.mark.parametrize("order", ["first-first", "last-first"])
def test_votes_undone_out_of_order_put_each_entry_back_between_its_neighbours(tmp_path, order):
    from recommender.profile import change_profile, like, remove, undo

    path = tmp_path / "p.toml"
    text = 'name = "p"\n' + "".join(f'\n[[disliked]]\nid = "2401.0000{i}"\ntitle = "{i}"\n' for i in range(1, 6))
    path.write_text(text)
    one = change_profile(path, [like([Paper.make("Two", "2401.00002")])])
    two = change_profile(path, [like([Paper.make("Three", "2401.00003")])])
    three = change_profile(path, [like([Paper.make("Five", "2401.00005")])])
    for edited in [one, two, three] if order == "first-first" else [two, three, one]:
        undo(edited)
    assert path.read_text() == text
    one = change_profile(path, [remove(["2401.00002"])])  # an unlike's undo writes its table anew, in its place
    two = change_profile(path, [remove(["2401.00003"])])
    for edited in [one, two] if order == "first-first" else [two, one]:
        undo(edited)
    assert [e.paper.arxiv_id for e in load_profile(path).disliked] == [f"2401.0000{i}" for i in range(1, 6)]


def test_lines_of_a_multi_line_string_are_neither_headers_nor_comments_above_one(tmp_path, tomlkit_calls):
    from recommender.profile import change_profile, like

    path = tmp_path / "p.toml"
    text = 'name = "p"\n\n[[disliked]]\nid = "2402.00002"\ntitle = "U"\nabstract = """\n[[liked]]\n# not a comment\n'
    text += '# nor this"""\n\n[[disliked]]\nid = "2401.00001"\ntitle = "Preprint"\n'
    path.write_text(text)
    change_profile(path, [like([Paper.make("Preprint", "2401.00001")])])
    kept = text[: text.index('\n[[disliked]]\nid = "2401.00001"')]
    assert path.read_text() == kept + '\n[[liked]]\nid = "2401.00001"\ntitle = "Preprint"\n'
    assert tomlkit_calls == []


UNLIKED = (
    'name = "p"\n\n# the paper that started it\n[[liked]]\nid = "2101.00001"\ntitle = "One"\n'
    'note = "mine"   # why I liked it\n# a line of my own\nabstract = """\nTwo  spaces.\n"""\n\n'
    '[[liked]]\nid = "2101.00002"\ntitle = "Two"\n\n[[disliked]]\nid = "2101.00003"\ntitle = "Three"\n'
)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("gone", ["2101.00001", "2101.00002", "2101.00003"])
def test_the_undo_of_an_unlike_gives_back_the_table_as_written(tmp_path, tomlkit_calls, newline, gone):
    from recommender.profile import change_profile, remove, undo

    path = tmp_path / "p.toml"
    text = UNLIKED.replace("\n", newline)
    path.write_bytes(text.encode())
    edited = change_profile(path, [remove([gone])])
    assert gone not in path.read_text()
    undo(edited)  # its own keys, comments and the abstract's spaces; no `added` of today
    assert path.read_bytes().decode() == text
    assert tomlkit_calls == []


def test_the_undo_of_an_unlike_of_several_tables_gives_back_every_byte(tmp_path):
    from recommender.profile import change_profile, remove, undo

    path = tmp_path / "p.toml"
    text = UNLIKED.replace("[[disliked]]", '[[liked]]\nid = "2101.00004"\ntitle = "Four"\n\n[[disliked]]')
    text += '\n[[disliked]]\nid = "2101.00005"  # mine\ntitle = "Five"\n'
    path.write_text(text)
    undo(change_profile(path, [remove(["2101.00001", "2101.00002", "2101.00003"])]))
    assert path.read_text() == text


def test_the_undo_of_an_unlike_on_a_layout_for_tomlkit_gives_back_the_data(tmp_path, tomlkit_calls):
    from recommender.profile import change_profile, remove, undo
    from recommender.profile.model import parse_toml

    path = tmp_path / "p.toml"  # an inline array of tables: tomlkit writes it, the keys come back as they were
    text = 'name = "p"\nliked = [{id = "2101.00001", title = "One", note = "mine"}, {id = "2101.00002", title = "T"}]\n'
    path.write_text(text)
    undo(change_profile(path, [remove(["2101.00001"])]))
    assert parse_toml(path.read_text(), path) == parse_toml(text, path)


def test_a_byte_order_mark_before_the_first_header_is_kept_and_votes_pass(tmp_path, tomlkit_calls):
    from recommender.profile import change_profile, dislike, undo

    path = tmp_path / "p.toml"
    text = "\ufeff" + UNLIKED[len('name = "p"\n\n# the paper that started it\n') :]
    path.write_bytes(text.encode())
    edited = change_profile(path, [dislike([Paper.make("Two", "2101.00002")])])
    assert path.read_bytes().startswith("\ufeff[[liked]]".encode())
    assert [e.paper.arxiv_id for e in load_profile(path).disliked] == ["2101.00003", "2101.00002"]
    undo(edited)
    assert path.read_bytes().decode() == text
    assert tomlkit_calls == []
