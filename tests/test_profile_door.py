"""The one door: every vote path changes a profile through profile/edit.py, and each change's record undoes it."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.profile import (
    Edited,
    PendingPaper,
    ProfileEdit,
    add_pending,
    change_profile,
    like,
    load_profile,
    move,
    remove,
    set_categories,
    set_interests,
    undo,
)
from recommender.schema import Paper, PaperrecError

from .test_web import COMMENT, _client, _csrf, _page, _pick_ids, _post, _service, _wait, _write_home

ROOT = Path(__file__).resolve().parent.parent / "recommender"
NOTE = "  # read this one twice"
PROFILE = f"""# my profile, my notes
name = "door"
categories = ["cs.CV"]  # only vision
interests = []

[[liked]]
id = "2101.00001"
title = "Kept paper"
abstract = "about super-resolution"
added = 2020-01-02
weight = 2.0{NOTE}

# a dislike I keep for the record
[[disliked]]
id = "2101.00002"
title = "Disliked paper"
abstract = "about something else"
added = 2020-03-04
mood = "grumpy"
"""
NEW = Paper.make("A new paper", "2101.00003", "new abstract")


@pytest.fixture
def door(monkeypatch) -> list[tuple[str, str, str]]:
    """Every change that reaches the editor, as (file name, kind, the sections it is for)."""
    seen: list[tuple[str, str, str]] = []
    original = ProfileEdit.apply

    def spy(self, change):
        where = {"rate": change.section, "move": change.section, "remove": ",".join(change.sections)}
        seen.append((self.path.name, change.kind, where.get(change.kind, "")))
        return original(self, change)

    monkeypatch.setattr(ProfileEdit, "apply", spy)
    return seen


@pytest.fixture
def profile(home) -> Path:
    path = home / "profiles" / "door.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PROFILE)
    return path


# -- the record and its undo ---------------------------------------------------------------------------------------


def test_a_like_records_what_moved_and_its_undo_restores_every_byte(profile):
    edited = change_profile(profile, [like([NEW])])
    assert [(m.arxiv_id, m.before, m.after) for m in edited.moved] == [("2101.00003", None, "liked")]
    assert edited.added("liked") == [NEW] and "2101.00003" in edited.profile.ids
    undone = undo(edited)
    assert profile.read_text() == PROFILE and "2101.00003" not in undone.profile.ids


def test_a_move_and_its_undo_keep_the_table_its_keys_and_day(profile):
    edited = change_profile(profile, [like([Paper.make("Disliked paper", "2101.00002", "about something else")])])
    assert [(m.before, m.after) for m in edited.moved] == [("disliked", "liked")]
    text = profile.read_text()
    assert 'mood = "grumpy"' in text and "# a dislike I keep for the record" in text
    undo(edited)
    back = load_profile(profile)
    assert back.section_of("2101.00002") == "disliked" and back.disliked[0].added == date(2020, 3, 4)
    assert 'mood = "grumpy"' in profile.read_text() and profile.read_text().startswith("# my profile, my notes\n")


def test_a_removal_is_undone_with_its_day_and_weight(profile):
    edited = change_profile(profile, [remove(["2101.00001v2"])])
    assert edited.removed() == ["2101.00001"] and load_profile(profile).liked == ()
    undo(edited)
    entry = load_profile(profile).liked[0]
    assert (entry.paper.arxiv_id, entry.added, entry.weight) == ("2101.00001", date(2020, 1, 2), 2.0)


def test_moving_by_id_needs_the_paper_in_the_other_section(profile):
    edited = change_profile(profile, [move(["2101.00001"], "disliked")])
    assert load_profile(profile).section_of("2101.00001") == "disliked" and NOTE in profile.read_text()
    undo(edited)
    assert load_profile(profile).section_of("2101.00001") == "liked"
    before = profile.read_text()
    with pytest.raises(PaperrecError, match="not in the profile's disliked papers"):
        change_profile(profile, [move(["2101.00001"], "liked")])
    assert profile.read_text() == before


def test_settings_change_in_place_and_undo(profile):
    edited = change_profile(profile, [set_interests(["video SR", "deblurring"]), set_categories(["cs.CV", "eess.IV"])])
    changed = load_profile(profile)
    assert changed.interests == ("video SR", "deblurring") and changed.categories == ("cs.CV", "eess.IV")
    assert [s.key for s in edited.settings] == ["interests", "categories"]
    assert "# only vision" in profile.read_text() or "# my profile, my notes" in profile.read_text()
    undo(edited)
    assert profile.read_text() == PROFILE


def test_a_pending_paper_filled_in_undoes_in_order(profile):
    change_profile(profile, [add_pending([PendingPaper("2101.00009", "liked", date(2020, 5, 6))])])
    kept = profile.read_text()
    filled = Paper.make("Now with text", "2101.00009", "an abstract")
    edited = change_profile(
        profile, [like([filled], {"2101.00009": date(2020, 5, 6)}), add_pending((), ["2101.00009"])]
    )
    after = load_profile(profile)
    assert after.section_of("2101.00009") == "liked" and after.pending == ()
    undo(edited)
    assert profile.read_text() == kept and load_profile(profile).section_of("2101.00009") == "pending"


def test_no_change_records_nothing_and_writes_nothing(profile):
    edited = change_profile(profile, [like([Paper.make("Kept paper", "2101.00001", "x")]), set_interests([])])
    assert edited == Edited(profile, load_profile(profile)) and profile.read_text() == PROFILE


# -- every front end goes through the door --------------------------------------------------------------------------


def test_cli_like_dislike_and_unlike_go_through_the_door(profile, door, fake_model, example_listing):
    runner = CliRunner()
    listing = str(example_listing)
    for command in ("like", "dislike"):
        result = runner.invoke(app, [command, "2104.10325", "-p", "door", "--listing", listing])
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["unlike", "2104.10325", "-p", "door"])
    assert result.exit_code == 0, result.output
    assert door == [
        ("door.toml", "rate", "liked"),
        ("door.toml", "rate", "disliked"),
        ("door.toml", "remove", "liked,disliked,pending"),
    ]
    assert profile.read_text() == PROFILE


@pytest.fixture
def served(home, fake_model, example_listing):
    path = _write_home(home, example_listing)
    with _client() as client:
        yield client, path


def test_today_votes_and_undo_go_through_the_door(served, door):
    client, sr = served
    first, second = _pick_ids(_page(client)[1])[:2]
    assert _post(client, "/rate", id=first, action="like").status_code == 303
    assert _post(client, "/rate", id=second, action="dislike").status_code == 303
    assert _post(client, "/undo").status_code == 303
    assert _post(client, "/undo", id=first).status_code == 303
    assert [kind for _, kind, _ in door] == ["rate", "rate", "remove", "remove"]
    assert {name for name, _, _ in door} == {"sr.toml"}
    assert not {first, second} & load_profile(sr).ids and sr.read_text().startswith(COMMENT)


def test_sharpen_votes_and_undo_go_through_the_door(served, door):
    client, sr = served
    assert _post(client, "/sharpen").status_code == 303
    _wait(_service(client).jobs[f"sharpen {sr.resolve()}"])
    ids = _pick_ids(_page(client, "/sharpen?profile=sr")[1])
    assert _post(client, "/rate", id=ids[0], action="dislike", **{"from": "sharpen"}).status_code == 303
    assert load_profile(sr).section_of(ids[0]) == "disliked"
    assert _post(client, "/undo", id=ids[0], **{"from": "sharpen"}).status_code == 303
    assert _post(client, "/rate", id=ids[1], action="like", **{"from": "sharpen"}).status_code == 303
    assert door == [("sr.toml", "rate", "disliked"), ("sr.toml", "remove", "disliked"), ("sr.toml", "rate", "liked")]
    assert ids[0] not in load_profile(sr).ids and load_profile(sr).section_of(ids[1]) == "liked"


def test_the_email_vote_page_goes_through_the_door(served, door):
    from recommender.signing import vote_token

    client, sr = served
    for action in ("like", "dislike"):
        token = vote_token("sr", "2104.10642", action)
        assert client.post(f"/vote/{token}", data={"csrf": _csrf(client)}).status_code == 200
    assert door == [("sr.toml", "rate", "liked"), ("sr.toml", "rate", "disliked")]
    assert load_profile(sr).section_of("2104.10642") == "disliked"


def test_the_profile_page_goes_through_the_door(served, door):
    client, sr = served
    first = load_profile(sr).liked[0].paper.arxiv_id
    assert _post(client, "/profile/paper", id=first, to="disliked").status_code == 303
    assert _post(client, "/profile/paper", id=first, to="remove").status_code == 303
    assert _post(client, "/profile/interests", interests="video SR").status_code == 303
    assert [(kind, section) for _, kind, section in door] == [
        ("move", "disliked"),
        ("remove", "liked,disliked,pending"),
        ("interests", ""),
    ]
    assert load_profile(sr).interests == ("video SR",) and first not in load_profile(sr).ids


def test_no_other_module_writes_a_profile_file():
    """Only profile/edit.py opens a profile for editing or writes profile text."""
    writers = re.compile(r"\b(ProfileEdit\(|edit_profile\(|update_profile\(|_write_text\(|profile_to_toml\()")
    found = set()
    for module in ROOT.rglob("*.py"):
        relative = module.relative_to(ROOT).as_posix()
        for line in module.read_text(encoding="utf-8").splitlines():
            if writers.search(line) and not line.lstrip().startswith(("def ", "#")):
                found.add(relative)
    # cli.py prints profile_to_toml for `profile show --format toml` (stdout, no file)
    assert found <= {"profile/edit.py", "cli.py"}, found
    cli = (ROOT / "cli.py").read_text(encoding="utf-8")
    assert "ProfileEdit(" not in cli and "edit_profile(" not in cli and "update_profile(" not in cli


def test_a_list_setting_keeps_the_comments_in_and_after_the_array(tmp_path):
    path = tmp_path / "c.toml"
    original = (
        'name = "c"\ncategories = [\n    "cs.CV",  # vision\n    # "cs.LG",  off for now\n]\n'
        'interests = ["video SR"]  # the main one\n'
    )
    path.write_text(original)
    edited = change_profile(path, [set_categories(["cs.CV", "eess.IV"]), set_interests(["video SR", "y"])])
    text = path.read_text()
    assert '"cs.CV",  # vision\n    # "cs.LG",  off for now\n' in text and "# the main one" in text
    profile = load_profile(path)
    assert profile.categories == ("cs.CV", "eess.IV") and profile.interests == ("video SR", "y")
    undo(edited)
    assert load_profile(path).categories == ("cs.CV",) and "# vision" in path.read_text()
    change_profile(path, [set_categories(["eess.IV", "cs.CV"])])  # another order: a new array, still right
    assert load_profile(path).categories == ("eess.IV", "cs.CV")
