"""Run state: the last ranking is written whole and atomically; failures are one clear error. A vote finds its paper
by one rule, among the shown, the stored and the profile's papers."""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

from recommender import paths
from recommender.cli import app
from recommender.profile import load_profile
from recommender.schema import Listing, Paper, PaperrecError
from recommender.sources.store import write_day
from recommender.state import load_last_ranking, save_last_ranking

P1 = Paper.make("One", "2101.00001", "Abstract.")


def test_last_ranking_round_trip_and_write_failure(home, monkeypatch):
    save_last_ranking([P1], [("/profiles/sr.toml", [])])
    assert load_last_ranking().papers == (P1,)
    before = paths.last_ranking_path().read_text()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(paths.os, "replace", full_disk)
    with pytest.raises(PaperrecError, match=r"cannot write the last ranking .*No space left"):
        save_last_ranking([], [])
    assert paths.last_ranking_path().read_text() == before
    assert [f.name for f in paths.state_dir().iterdir()] == ["last_ranking.json"]


ISSUE = "https://www.example.org/issue/42"  # a feed whose every entry links its issue's page
FEED = "feed:https://www.example.org/rss"
A = Paper("doi:10.1234/aaaa", "Paper A", "a", links=("https://doi.org/10.1234/aaaa", ISSUE))
B = Paper("doi:10.1234/bbbb", "Paper B", "b", links=("https://doi.org/10.1234/bbbb", ISSUE))
REFUSED = f"paperrec: error: {ISSUE} names 2 papers (doi:10.1234/aaaa, doi:10.1234/bbbb): give the paper's own id"


def _profile(home):
    (home / "profiles").mkdir(parents=True, exist_ok=True)
    path = home / "profiles" / "bio.toml"
    path.write_text('name = "bio"\nsources = ["feed:https://www.example.org/rss"]\n')
    return path


def _refused(path, *args: str) -> None:
    """A vote by the shared page is one line asking for the paper's id, and the profile is left as it was."""
    before = path.read_text()
    result = CliRunner().invoke(app, [*args, ISSUE])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(REFUSED) and result.stderr.count("\n") == 1
    assert path.read_text() == before


def test_a_page_two_papers_of_one_stored_day_share_names_neither(home):
    path = _profile(home)
    write_day(Listing(papers=(B, A)), FEED, date(2027, 1, 3))
    _refused(path, "like")


def test_a_page_two_papers_of_two_stored_days_share_names_neither(home):
    path = _profile(home)
    write_day(Listing(papers=(A,)), FEED, date(2027, 1, 3))
    write_day(Listing(papers=(B,)), FEED, date(2027, 1, 4))  # the newest day's paper is no better a guess
    _refused(path, "like")
    _refused(path, "dislike")
    voted = CliRunner().invoke(app, ["like", "10.1234/aaaa"])
    assert voted.exit_code == 0 and voted.stderr.startswith("liked doi:10.1234/aaaa ")


def test_a_page_a_shown_and_a_stored_paper_share_names_neither(home):
    path = _profile(home)
    save_last_ranking([B], [(str(path), [])])
    write_day(Listing(papers=(A,)), FEED, date(2027, 1, 3))
    _refused(path, "like")


def test_a_page_of_one_paper_names_it_on_every_day_it_was_stored(home):
    path = _profile(home)
    older = Paper("doi:10.1234/aaaa", "Paper A", "a", links=("https://doi.org/10.1234/AAAA", ISSUE))
    write_day(Listing(papers=(older,)), FEED, date(2027, 1, 3))
    write_day(Listing(papers=(A,)), FEED, date(2027, 1, 4))
    for ref in (ISSUE + "?utm_source=rss", "https://doi.org/10.1234/AAAA"):  # its page, the DOI its links name
        voted = CliRunner().invoke(app, ["like", ref])
        assert voted.exit_code == 0, voted.output
    assert [e.paper.arxiv_id for e in load_profile(path).liked] == ["doi:10.1234/aaaa"]
    assert load_profile(path).liked[0].paper.links == A.links  # the newest day's copy


def test_unlike_by_a_page_two_entries_link_asks_for_the_id(home):
    path = _profile(home)
    with path.open("a") as file:
        for paper in (A, B):
            links = ", ".join(f'"{link}"' for link in paper.links)
            file.write(f'\n[[liked]]\nid = "{paper.arxiv_id}"\ntitle = "{paper.title}"\nlinks = [{links}]\n')
    assert len(load_profile(path).liked) == 2
    _refused(path, "unlike")
    _refused(path, "unlike", "-p", "bio")


def test_a_stored_papers_own_id_wins_over_papers_that_link_it_on_the_same_or_a_newer_day(home):
    """A feed's entry may link any arXiv id: it must not take a vote meant for the paper of that id."""
    path = _profile(home)
    real = Paper.make("The paper itself", "2104.00001", "Its abstract.")
    claims = Paper.make("Another", "doi:10.1234/other", "Other.", links=["https://arxiv.org/abs/2104.00001"])
    write_day(Listing(papers=(claims, real)), "cs.CV", date(2027, 1, 3))
    newer = Paper.make("Newer", "doi:10.1234/newer", "N.", links=["https://arxiv.org/abs/2104.00001"])
    write_day(Listing(papers=(newer,)), FEED, date(2027, 1, 4))
    voted = CliRunner().invoke(app, ["like", "2104.00001"])
    assert voted.exit_code == 0, voted.output
    assert [e.paper.title for e in load_profile(path).liked] == ["The paper itself"]
