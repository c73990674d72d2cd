"""History: what each profile was shown, with its papers from the stored listings, parsed only when asked for."""

from __future__ import annotations

import os
from datetime import date

import pytest

import recommender.history as history
from recommender.history import shown_papers, stored_papers
from recommender.paths import seen_path
from recommender.schema import Paper
from recommender.seen import SeenMemory
from recommender.sources.store import iter_stored, write_day


@pytest.fixture(autouse=True)
def fresh_index():
    """Each test starts with an empty index, as a new process does."""
    for table in (history._INDEX, history._WHERE, history._INDEXED):
        table.clear()
    yield
    for table in (history._INDEX, history._WHERE, history._INDEXED):
        table.clear()


def _paper(i: int, title: str = "", **fields) -> Paper:
    return Paper.make(title or f"Paper {i}", f"2601.{i:05d}", f"Abstract {i}.", ["Ada Lovelace"], **fields)


def _whole_read() -> dict[str, Paper]:
    """Every stored paper by key, from a whole read of every file in store order (the first copy of a key wins)."""
    index: dict[str, Paper] = {}
    for stored in iter_stored():
        for paper in stored.read().papers:
            for key in paper.ids:
                index.setdefault(key, paper)
    return index


def _store() -> None:
    from recommender.schema import Listing

    merged = Paper.make("A preprint", "doi:10.1101/2026.01.02.123456", "B", links=["https://arxiv.org/abs/2601.00007"])
    days = {
        ("cs.CV", date(2026, 1, 5)): [_paper(1), _paper(2), _paper(3)],
        # a cross-list: the same ids with other text, stored under a later source in store order
        ("cs.LG", date(2026, 1, 5)): [_paper(2, "Paper 2 as cs.LG lists it"), _paper(4)],
        ("cs.CV", date(2026, 1, 6)): [_paper(5), merged, _paper(7, "Paper 7 again, after its merged copy")],
        ("biorxiv:neuroscience", date(2026, 1, 6)): [_paper(8, categories=["neuroscience"])],
    }
    for (category, day), papers in days.items():
        write_day(Listing(papers=tuple(papers)), category, day)


def test_asked_papers_are_those_of_a_whole_read_and_only_they_are_parsed(home, monkeypatch):
    _store()
    whole = _whole_read()
    parsed = []
    import recommender.sources.records as records

    parse = records.paper_from_record
    monkeypatch.setattr(records, "paper_from_record", lambda record, at: parsed.append(at) or parse(record, at))
    asked = ["2601.00002", "2601.00007", "doi:10.1101/2026.01.02.123456", "2601.00099"]
    found = stored_papers(asked)
    assert found == {key: whole[key] for key in asked if key in whole}
    assert found["2601.00002"].title == "Paper 2"  # the first file in store order
    assert found["2601.00007"].title == "A preprint"  # its merged copy comes first in the file
    # 2601.00002 and the merged paper (not in the store's plain form), nothing else of the plain lines
    assert len(parsed) == 2 and all(":" in where for where in parsed)
    parsed.clear()
    assert stored_papers(["2601.00004"]) == {"2601.00004": whole["2601.00004"]}  # a noted place, parsed now
    assert len(parsed) == 1 and parsed[0].endswith(":2")
    assert stored_papers() == whole


def test_history_rows_name_their_papers_and_a_rewritten_day_is_read_again(home):
    _store()
    memory = SeenMemory(seen_path())
    memory.mark_papers("p", [(_paper(1), 1), (_paper(2), 2)], date(2026, 1, 5))
    memory.mark_papers("p", [(_paper(7), 1)], date(2026, 1, 6))
    memory.close()
    rows = shown_papers("p", liked={"2601.00002"})
    whole = _whole_read()
    assert [(r.arxiv_id, r.paper, r.verdict) for r in rows] == [
        ("doi:10.1101/2026.01.02.123456", whole["2601.00007"], None),  # shown by its arXiv id, known by its DOI
        ("2601.00001", whole["2601.00001"], None),
        ("2601.00002", whole["2601.00002"], "liked"),
    ]
    from recommender.schema import Listing

    path = write_day(Listing(papers=(_paper(1, "Paper 1, corrected"),)), "cs.CV", date(2026, 1, 5)).sources[0]
    os.utime(path, ns=(1, 1))  # however quickly it was rewritten
    titles = [r.paper.title if r.paper else None for r in shown_papers("p")]
    assert titles == ["A preprint", "Paper 1, corrected", "Paper 2 as cs.LG lists it"]


def test_a_line_not_in_the_stores_own_form_is_read_whole(home):
    from recommender.paths import listings_dir

    folder = listings_dir() / "cs.CV"
    folder.mkdir(parents=True)
    lines = [
        '{"id": "2601.00031", "title": "Escaped", "\\u0069d": "2601.00032"}',  # the last "id" is the paper's
        '{"id": "2601.00033", "title": "Linked", "links": ["https://doi.org/10.1101/2026.01.02.654321"]}',
        '{"id": "2601.00034v2", "title": "Versioned"}',
    ]
    (folder / "2026-01-07.jsonl").write_text("\n".join(lines) + "\n")
    found = stored_papers(["2601.00031", "2601.00032", "doi:10.1101/2026.01.02.654321", "2601.00034"])
    assert {key: paper.title for key, paper in found.items()} == {
        "2601.00032": "Escaped",
        "doi:10.1101/2026.01.02.654321": "Linked",
        "2601.00034": "Versioned",
    }
    assert found == {key: paper for key, paper in _whole_read().items() if key in found}


def test_paperrec_history_lists_what_a_profile_was_shown_with_its_votes_and_searches_it(home, liked_jsonl):
    from typer.testing import CliRunner

    from recommender.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["profile", "new", "sr", "--from", str(liked_jsonl)]).exit_code == 0
    _store()
    memory = SeenMemory(seen_path())
    memory.mark("sr", ["2601.00001", "2601.00002"], date(2026, 1, 5), ranks=[1, 2])
    memory.mark("sr", ["2601.00005"], date(2026, 1, 6), ranks=[1])
    memory.close()
    (home / "listings" / "cs.CV" / "2026-01-05.jsonl").write_text(
        (home / "listings" / "cs.CV" / "2026-01-05.jsonl").read_text().replace('"Paper 2"', '"Paper 2 \\u001b[31mred"')
    )
    voted = runner.invoke(app, ["dislike", "2601.00002", "-p", "sr"])
    assert voted.exit_code == 0, voted.output
    result = runner.invoke(app, ["history"])  # the only profile
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["2026-01-06", "2601.00005"], ["2026-01-05", "2601.00001"],
                                                    ["2026-01-05", "2601.00002"]]  # fmt: skip
    assert lines[2].endswith("Paper 2 red  (not interested)") and "\x1b" not in result.stdout
    found = runner.invoke(app, ["history", "-p", "sr", "paper", "5"])
    assert found.stdout.splitlines() == [lines[0]] and "1 of 3 shown papers match" in found.stderr
    assert runner.invoke(app, ["history", "-n", "1"]).stdout.splitlines() == [lines[0]]
    assert runner.invoke(app, ["history", "-p", "nosuch"]).exit_code == 1
    assert runner.invoke(app, ["profile", "new", "other", "--from", str(liked_jsonl)]).exit_code == 0
    assert runner.invoke(app, ["rank", str(liked_jsonl), "-f", "json"]).exit_code == 0  # both profiles ranked
    which = runner.invoke(app, ["history"])
    assert which.exit_code == 2 and "ranked several profiles: say which with --profile (other, sr)" in which.stderr


def test_a_file_ranked_with_mark_seen_shows_its_titles_in_the_history(home, fake_model):
    """`rank FILE --mark-seen` (or the page's day of such a file) stores no listing: the last ranking has the papers."""
    from typer.testing import CliRunner

    from recommender.cli import app

    from .conftest import EXAMPLE_LISTING, REPO

    (home / "profiles").mkdir(parents=True, exist_ok=True)
    (home / "profiles" / "sr.toml").write_text((REPO / "profiles" / "super-resolution.toml").read_text())
    runner = CliRunner()
    ranked = runner.invoke(app, ["rank", str(EXAMPLE_LISTING), "-p", "sr", "-n", "3", "--mark-seen", "-f", "json"])
    assert ranked.exit_code == 0, ranked.output
    rows = history.profile_history(home / "profiles" / "sr.toml").rows
    assert len(rows) == 3 and all(row.paper is not None and row.paper.title for row in rows)
    shown = runner.invoke(app, ["history", "-p", "sr"])
    assert "(in no stored listing)" not in shown.stdout
