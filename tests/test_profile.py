"""Profiles: TOML round trip, validation messages, atomic saves, editing."""

from __future__ import annotations

import os
import time
from datetime import date

import numpy as np
import pytest

from recommender import paths
from recommender.embed import CachedEmbedder
from recommender.profile import (
    Profile,
    add_papers,
    load_profile,
    new_profile,
    profile_vectors,
    remove_papers,
    save_profile,
)
from recommender.schema import Paper, PaperrecError, UsageError

from .conftest import REPO

P1 = Paper.make("Super-resolution with transformers", "2101.00001", "We upscale images.")
P2 = Paper.make("Medical segmentation", "2101.00002", 'Quotes " and \\ backslashes $x^2$.')
P3 = Paper.make("A paper without arXiv id", None, "")


def test_toml_round_trip(tmp_path):
    profile = new_profile("sr", [P1, P2], description="desc", categories=["cs.CV"], interests=["image restoration"])
    profile, _ = add_papers(profile, [P3], "disliked", added=date(2021, 4, 22))
    path = tmp_path / "sr.toml"
    save_profile(profile, path)
    loaded = load_profile(path)
    assert loaded == profile
    text = path.read_text()
    assert "schema = 1" in text and "[[liked]]" in text and "added = 2021-04-22" in text
    assert 'id = "t:' in text


def test_unknown_keys_survive_and_weights(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(
        'schema = 1\nname = "x"\nfuture_key = "kept"\ndislike_weight = 0.25\n'
        '[[liked]]\nid = "2104.10642v2"\ntitle = "T"\nabstract = "A"\nadded = 2021-04-22\nweight = 2\n'
    )
    profile = load_profile(path)
    assert profile.liked[0].paper.arxiv_id == "2104.10642" and profile.liked[0].weight == 2.0
    assert profile.dislike_weight == 0.25 and profile.extra == {"future_key": "kept"}
    save_profile(profile, path)
    assert 'future_key = "kept"' in path.read_text() and "weight = 2.0" in path.read_text()


def test_a_profile_read_again_is_parsed_again_only_when_its_text_changed(tmp_path, monkeypatch):
    import os

    import recommender.profile.model as model

    parsed = []
    parse = model.parse_toml
    monkeypatch.setattr(model, "parse_toml", lambda text, path: parsed.append(path) or parse(text, path))
    path = tmp_path / "p.toml"
    text = 'name = "x"\nfuture = {a = 1}\n[[liked]]\nid = "2104.10642"\ntitle = "T"\nabstract = "A"\n'
    path.write_text(text)
    first = load_profile(path)
    first.extra["other"] = 1  # a caller changing its copy of the unknown keys changes no other reader's
    again = load_profile(path)
    assert len(parsed) == 1 and again.liked == first.liked and again.extra == {"future": {"a": 1}}
    assert again.liked[0].added == date.today()  # a table without 'added' is added today, as parsed today
    stat = path.stat()
    path.write_text(text.replace('"T"', '"U"'))  # same size, and the same time stamp as before
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert load_profile(path).liked[0].paper.title == "U" and len(parsed) == 2
    copy = tmp_path / "q.toml"  # the same text under another name: the name comes from the file
    copy.write_text('future = 1\n[[liked]]\nid = "2104.10642"\ntitle = "T"\nabstract = "A"\n')
    assert load_profile(copy).name == "q" and len(parsed) == 3


def test_unknown_keys_of_every_toml_type_round_trip(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(
        'name = "x"\nsince = 2021-04-22\nat = 1979-05-27T07:32:00+02:00\nlocal = 1979-05-27T07:32:00\n'
        'wake = 07:30:00\nratio = 0.5\n[tool]\nnested = ["a", 1]\n'
    )
    first = load_profile(path).extra
    save_profile(load_profile(path), path)
    assert load_profile(path).extra == first
    assert first["since"].isoformat() == "2021-04-22" and first["at"].utcoffset().total_seconds() == 7200


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('name = "x"\nstrategy = centroid\n', r"bad\.toml: invalid TOML: .*line 2,? column 12"),
        ('name = "x"\nname = "y"\n', r"invalid TOML: duplicate key at line 2"),
        ('schema = 2\nname = "x"\n', "unsupported profile schema 2"),
        ("name = 3\n", "'name' has the wrong type"),
        ('name = "x"\n[[liked]]\nid = "2101.00001"\n', r"liked\[1\] \(id 2101\.00001\): missing 'title'"),
        ('name = "x"\n[[liked]]\ntitle = "t"\n[[liked]]\n', r"liked\[2\]: missing 'title'"),
        ('name = "x"\ncategories = "cs.CV"\n', r"'categories' must be a list of strings, like \[.cs\.CV.\], not a str"),
        ('name = "x"\n[[liked]]\ntitle = "t"\nadded = "yesterday"\n', "'added' must be a TOML date"),
        ('name = "x"\n[[disliked]]\ntitle = "t"\nid = "nope"\n', r"disliked\[1\]: not an arXiv id"),
        ('name = "x"\n[[liked]]\ntitle = "t"\nweight = -1\n', "'weight' must be a number"),
        ('name = "x"\ndislike_weight = -1\n', r"'dislike_weight' must be >= 0"),
        # hand edits: a quoted number, an id without its quotes (TOML reads 2101.00010 as the float 2101.0001)
        ('name = "x"\n[[liked]]\ntitle = "t"\nweight = "2"\n', r"'weight' must be a number >= 0, not the string '2'$"),
        (
            'name = "x"\n[[liked]]\ntitle = "t"\nid = 2101.00010\n',
            r"liked\[1\]: 'id' must be in quotes, like id = \"2104\.10642\"$",
        ),
    ],
)
def test_invalid_profiles_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(PaperrecError, match=message):
        load_profile(path)


def test_a_missing_abstract_reads_exactly_as_an_empty_one(tmp_path):
    """paperrec writes no `abstract = ""`: an entry without the key is the same paper."""
    path = tmp_path / "p.toml"
    entry = 'name = "x"\n[[liked]]\nid = "2101.00001"\ntitle = "t"\nadded = 2021-04-22\n'
    path.write_text(entry)
    missing = load_profile(path)
    path.write_text(entry + 'abstract = ""\n')
    assert load_profile(path) == missing and missing.liked[0].paper.abstract == ""


def test_an_error_in_a_paper_names_the_line_of_its_table(tmp_path):
    """In a file of thousands of papers `liked[1500]` is hard to find: the line is given, as editors read it."""
    path = tmp_path / "big.toml"
    papers = [f'[[liked]]\nid = "2101.{i:05d}"\ntitle = "Paper {i}"\nadded = 2021-04-22\n' for i in range(1, 2001)]
    papers[1] += 'abstract = """\n[[liked]]\n  [[liked]]\n"""\n'  # lines like headers inside strings
    papers[2] += "note = '''\n[[liked]]\n'''  # [[liked]]\n# [[liked]]\n"
    papers[1499] = papers[1499].replace("2021-04-22", '"yesterday"')
    path.write_text('name = "big"\ndescription = """\n[[liked]]\n"""\n\n' + "\n".join(papers))
    lines = path.read_text().splitlines()
    line = lines.index('id = "2101.01500"') + 3  # 1-based: the header, id, title, then the bad `added`
    assert lines[line - 1] == 'added = "yesterday"'
    with pytest.raises(PaperrecError) as raised:
        load_profile(path)
    assert (
        str(raised.value) == f"{path}:{line}: liked[1500] (id 2101.01500): 'added' must be a TOML date like 2021-04-22"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('name = "x"\n\nmin_match = 3\n', ":3: 'min_match' must be between 0 and 1 (a probability)"),
        ('name = "x"\n"diversity" = 2  # quoted\n', ":2: 'diversity' must be between 0 and 1"),
        ('name = "x"\ncategories = "cs.CV"\n', ":2: 'categories' must be a list of strings"),
        ('name = "x"\n[zotero]\nlibrary = "local"\ncolection = "V"\n', ":2: unknown key 'zotero.colection'"),
        ('name = "x"\n[[pending]]\nid = "2101.00001"\n\n[[pending]]\nid = "nope"\n', ":6: pending[2]: 'id' must"),
        ('name = "x"\n[[liked]]  # mine\ntitle = "t"\n[[ disliked ]]\ntitle = ""\n', ":4: disliked[1]: missing"),
        # no line where the scan cannot be sure: papers as inline tables, a dotted key
        ('name = "x"\nliked = [\n  {title = "t", weight = -1},\n]\n', ": liked[1]: 'weight' must be"),
        ('name = "x"\nzotero.colection = "V"\n', ": unknown key 'zotero.colection'"),
    ],
)
def test_an_error_in_a_key_names_its_line_where_the_scan_is_sure(tmp_path, content, message):
    path = tmp_path / "p.toml"
    path.write_text(content)
    with pytest.raises(PaperrecError) as raised:
        load_profile(path)
    assert str(raised.value).startswith(f"{path}{message}"), str(raised.value)


def test_the_line_of_a_bad_paper_comes_in_the_one_line_the_cli_prints(home, tmp_path):
    from typer.testing import CliRunner

    from recommender.cli import app

    path = tmp_path / "p.toml"
    path.write_text('name = "p"\n\n[[liked]]\nid = "2101.00001"\ntitle = "t"\nweight = "2"\n')
    result = CliRunner().invoke(app, ["profile", "show", str(path)])
    message = f"{path}:6: liked[1] (id 2101.00001): 'weight' must be a number >= 0, not the string '2'"
    assert result.exit_code == 1 and result.stderr == f"paperrec: error: {message}\n"


def test_a_key_set_twice_by_hand_names_the_key_and_both_lines(tmp_path):
    """A second `interests = [...]` line is the likely hand edit: the error says which key and where the first is."""
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\ninterests = [\n    "video",\n]\nstrategy = "max"\ninterests = ["satellites"]\n')
    with pytest.raises(PaperrecError) as raised:
        load_profile(path)
    assert str(raised.value) == (
        f"{path}: invalid TOML: duplicate key at line 6 column 1: "
        "'interests' is set at line 2 and again at line 6; keep one"
    )
    two = '[[liked]]\ntitle = "t"\nnote = "a"\n\n[[liked]]\ntitle = "u"\nnote = "b"\nnote = "c"\n'
    path.write_text('name = "x"\n' + two)  # the first note is another paper's: not named
    with pytest.raises(PaperrecError, match=r"line 9 column 1: 'note' is set at line 8 and again at line 9; keep one$"):
        load_profile(path)


def test_missing_profile(tmp_path):
    with pytest.raises(PaperrecError, match="unknown profile"):
        load_profile(tmp_path / "nope.toml")


def test_atomic_save_survives_failure_mid_write(tmp_path, monkeypatch):
    path = tmp_path / "p.toml"
    save_profile(new_profile("p", [P1]), path)
    before = path.read_text()

    def exploding_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(paths.os, "replace", exploding_replace)
    with pytest.raises(PaperrecError, match="No space left"):
        save_profile(new_profile("p", [P1, P2]), path)
    assert path.read_text() == before
    assert [f.name for f in tmp_path.iterdir() if f.name != "home"] == ["p.toml"]  # no temporary file left behind


def test_atomic_write_interrupted_while_writing(tmp_path, monkeypatch):
    path = tmp_path / "out.txt"
    paths.atomic_write_text(path, "old")

    def interrupted_fsync(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(paths.os, "fsync", interrupted_fsync)
    with pytest.raises(KeyboardInterrupt):
        paths.atomic_write_text(path, "new")
    assert path.read_text() == "old" and len(list(tmp_path.iterdir())) == 1


def test_a_write_sweeps_the_temporary_files_a_killed_write_left_and_no_other(tmp_path):
    path = tmp_path / "p.toml"
    paths.atomic_write_text(path, "old")
    stale, fresh = tmp_path / ".p.toml.0a1b2c3d.tmp", tmp_path / ".p.toml.4e5f6a7b.tmp"
    other, mine = tmp_path / ".q.toml.0a1b2c3d.tmp", tmp_path / ".p.toml.notes.tmp"
    for left in (stale, fresh, other, mine):
        left.write_text("half a write")
    long_ago = time.time() - 2 * paths.STALE_TEMP_SECONDS
    for left in (stale, other, mine):
        os.utime(left, (long_ago, long_ago))
    paths.atomic_write_text(path, "new")  # a killed writer's temp of this file goes; another writer's may be live
    assert path.read_text() == "new"
    assert not stale.exists() and fresh.exists() and other.exists() and mine.exists()


def test_add_move_and_remove():
    profile = new_profile("p", [P1, P1, P2])
    assert [p.paper.arxiv_id for p in profile.liked] == ["2101.00001", "2101.00002"]
    profile, new = add_papers(profile, [P2], "disliked")
    assert new == [P2] and [p.paper.arxiv_id for p in profile.liked] == ["2101.00001"]
    assert [p.paper.arxiv_id for p in profile.disliked] == ["2101.00002"]
    profile, new = add_papers(profile, [P1], "liked")
    assert new == []
    profile, found = remove_papers(profile, ["2101.00002", "9999.99999"])
    assert found == ["2101.00002"] and profile.disliked == ()
    assert profile.ids == {"2101.00001"}


def test_profile_vectors_include_interests(fake_embedder):
    profile = new_profile("p", [P1], interests=["image restoration"])
    profile, _ = add_papers(profile, [P2], "disliked")
    vectors = profile_vectors(profile, CachedEmbedder(fake_embedder, None))
    assert vectors.liked.shape == (2, fake_embedder.dim) and vectors.disliked.shape == (1, fake_embedder.dim)
    np.testing.assert_array_equal(vectors.weights, [1.0, 1.0])
    assert Profile(name="empty").is_empty()


def test_resolve_profile(home, tmp_path):
    assert paths.resolve_profile("vision") == home / "profiles" / "vision.toml"
    assert paths.resolve_profile(str(tmp_path / "x.toml")) == tmp_path / "x.toml"
    existing = tmp_path / "plainfile"
    existing.write_text("")
    assert paths.resolve_profile(str(existing)) == existing
    with pytest.raises(UsageError):
        paths.resolve_profile("../escape")


def test_the_strategy_names_a_profile_may_take_are_the_registered_ones():
    from recommender.rank import STRATEGIES
    from recommender.schema import STRATEGY_NAMES

    assert tuple(STRATEGIES) == STRATEGY_NAMES


def test_a_typo_in_the_strategy_is_one_line_for_every_command_reading_the_profile(home, liked_jsonl, example_listing):
    from typer.testing import CliRunner

    from recommender.cli import app

    def invoke(*args: str):
        return CliRunner().invoke(app, list(args))

    assert invoke("profile", "new", "sr", "--from", str(liked_jsonl), "-c", "cs.CV").exit_code == 0
    path = home / "profiles" / "sr.toml"
    path.write_text(path.read_text().replace('strategy = "hybrid"', 'strategy = "hybird"'))
    line = path.read_text().splitlines().index('strategy = "hybird"') + 1
    with pytest.raises(
        PaperrecError, match=rf"sr\.toml:{line}: unknown strategy 'hybird' \(known: centroid, .*hybrid\)"
    ):
        load_profile(path)
    before = path.read_bytes()
    for args in (
        ("profile", "show", "sr"),
        ("like", "2104.10325", "-p", "sr", "--listing", str(example_listing)),
        ("rank", str(example_listing), "-p", "sr"),
    ):
        result = invoke(*args)
        assert result.exit_code == 1 and "Traceback" not in result.output, (args, result.output)
        errors = result.stderr.strip().splitlines()
        assert len(errors) == 1 and str(path) in errors[0], (args, result.stderr)
        assert "unknown strategy 'hybird'" in errors[0] and "did you mean 'hybrid'?" in errors[0]
        assert "centroid, max, knn" in errors[0]
    assert path.read_bytes() == before


def test_a_blank_interest_is_no_interest(tmp_path, home, example_listing, fake_model):
    from typer.testing import CliRunner

    from recommender.cli import app

    path = tmp_path / "blank.toml"
    path.write_text('schema = 1\nname = "blank"\ninterests = ["", "   "]  # to fill in later\n')
    assert load_profile(path).interests == () and load_profile(path).is_empty()
    assert new_profile("p", interests=["", "image restoration", " "]).interests == ("image restoration",)
    result = CliRunner().invoke(app, ["rank", str(example_listing), "-p", str(path)])
    assert result.exit_code == 1 and "has no liked papers or interests" in result.stderr  # not picks of nothing
    assert path.read_text().endswith('interests = ["", "   "]  # to fill in later\n')


def test_a_typo_in_a_profile_name_gets_the_closest_profile(home, liked_jsonl, example_listing, tmp_path):
    from typer.testing import CliRunner

    from recommender.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["profile", "new", "video", "--from", str(liked_jsonl)]).exit_code == 0
    for args in (
        ["rank", str(example_listing), "-p", "vidoe"],
        ["profile", "show", "vidoe"],
        ["profile", "delete", "vidoe", "--yes"],
        ["like", "2104.10642", "-p", "vidoe", "--listing", str(example_listing)],
        ["profile", "import", "vidoe", "-c", "cs.CV"],
    ):
        result = runner.invoke(app, args)
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 1 and len(lines) == 1, (args, result.stderr)
        assert "vidoe.toml does not exist; did you mean 'video'? (see 'paperrec profile list')" in lines[0], args
    (tmp_path / "pyproject.toml").write_text("")  # outside the profiles folder, no file is offered as a profile
    result = runner.invoke(app, ["profile", "show", str(tmp_path / "pyproject2.toml")])
    assert result.exit_code == 1 and "did you mean" not in result.stderr


def test_delete_waits_for_an_edit_under_way(home, tmp_path):
    import threading

    from recommender.paths import locked
    from recommender.profile import delete_profile_file

    path = tmp_path / "p.toml"
    path.write_text('name = "p"\n')
    deleting = threading.Thread(target=delete_profile_file, args=(path,))
    with locked(path):  # an edit holds the profile's lock
        deleting.start()
        deleting.join(0.5)
        assert deleting.is_alive() and path.exists()  # still waiting: nothing can fail here by being slow
    deleting.join()
    assert not path.exists()


def test_the_readmes_example_profile_loads_as_written(tmp_path):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = readme.split("## Profile format", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.toml"
    path.write_text(example, encoding="utf-8")
    profile = load_profile(path)
    assert profile.name == "super-resolution" and len(profile.liked) == 1 and len(profile.disliked) == 1
