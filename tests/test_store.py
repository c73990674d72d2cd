"""The listing store: where days are kept, which days are there, reading and writing one day."""

from __future__ import annotations

from datetime import date

from recommender.schema import Listing, Paper
from recommender.sources.store import (
    day_path,
    iter_stored,
    latest_day,
    listing_files,
    read_day,
    stored_days,
    write_day,
)

DAY = date(2021, 4, 22)
PAPERS = (Paper.make("One", "2104.00001", "Abstract one."), Paper.make("Two", "2104.00002", "Abstract two."))


def test_day_path_is_under_the_home_listings_folder(home):
    assert day_path("cs.CV", DAY) == home / "listings" / "cs.CV" / "2021-04-22.jsonl"


def test_write_then_read_a_day(home):
    written = write_day(Listing(papers=PAPERS), "cs.CV", DAY)
    assert written == read_day("cs.CV", DAY)
    assert (written.category, written.date) == ("cs.CV", DAY)
    assert [p.arxiv_id for p in written.papers] == ["2104.00001", "2104.00002"]
    assert read_day("cs.CV", date(2021, 4, 23)) is None


def test_days_found_in_name_order_and_other_files_skipped(home):
    for category, day in [("cs.LG", DAY), ("cs.CV", date(2021, 4, 23)), ("cs.CV", DAY)]:
        write_day(Listing(papers=PAPERS[:1]), category, day)
    (home / "listings" / "cs.CV" / "notes.jsonl").write_text("")
    found = [(s.category, s.day) for s in iter_stored()]
    assert found == [("cs.CV", DAY), ("cs.CV", date(2021, 4, 23)), ("cs.LG", DAY)]
    assert stored_days("cs.CV") == [DAY, date(2021, 4, 23)]
    assert latest_day(["cs.LG"]) == DAY
    assert latest_day(["cs.LG", "cs.CV"]) == date(2021, 4, 23)
    assert latest_day(["math.AG"]) is None
    assert len(listing_files()) == 4  # any .jsonl file, as a folder given to a backtest


def test_another_root_with_the_same_layout(tmp_path):
    write_day(Listing(papers=PAPERS), "cs.CV", DAY, tmp_path / "bench" / "listings")
    assert [s.path for s in iter_stored(tmp_path / "bench" / "listings")] == [
        tmp_path / "bench" / "listings" / "cs.CV" / "2021-04-22.jsonl"
    ]
    assert list(iter_stored()) == []


def test_a_source_key_is_one_folder_and_the_old_category_folders_stay(home):
    from recommender.sources.store import encode_key

    assert encode_key("ICLR.cc/2026/Conference") == "ICLR.cc%2F2026%2FConference"
    venue = "openreview:ICLR.cc/2026/Conference"
    assert day_path(venue, DAY) == home / "listings" / "openreview" / "ICLR.cc%2F2026%2FConference" / "2021-04-22.jsonl"
    assert day_path("arxiv:cs.CV", DAY) == day_path("cs.CV", DAY) == home / "listings" / "cs.CV" / "2021-04-22.jsonl"
    write_day(Listing(papers=PAPERS), venue, DAY)
    write_day(Listing(papers=PAPERS[:1]), "cs.CV", DAY)
    assert [(s.category, s.day) for s in iter_stored()] == [("cs.CV", DAY), (venue, DAY)]
    assert stored_days(venue) == [DAY] and latest_day([venue, "cs.CV"]) == DAY
    assert read_day(venue, DAY).papers == PAPERS


def test_a_key_that_could_leave_its_folder_is_refused(home):
    import pytest

    from recommender.schema import UsageError
    from recommender.sources.store import encode_key

    for key in ("..", "a/../b", "./x", "a\\b", "", "a//b", "x\x00y"):
        with pytest.raises(UsageError):
            encode_key(key)
    for spec in ("..", "../x", "a\\b", "Bio Rxiv:x"):
        with pytest.raises(UsageError):
            day_path(spec, DAY)


def test_a_url_key_is_one_folder_of_its_host_and_a_hash(home):
    spec = "feed:https://www.Cell.com/rss/neuron.xml?token=SECRET"
    path = day_path(spec, DAY)
    assert path.parent.parent == home / "listings" / "feed" and path.name == "2021-04-22.jsonl"
    name = path.parent.name
    assert name.startswith("www.cell.com-") and len(name) == len("www.cell.com-") + 16 and "SECRET" not in name
    assert day_path("feed:https://www.cell.com/rss/neuron.xml?token=OTHER", DAY).parent != path.parent
    write_day(Listing(papers=PAPERS), spec, DAY)
    assert stored_days(spec) == [DAY] and read_day(spec, DAY).papers == PAPERS


def test_an_empty_day_is_a_mark_that_no_reader_of_listings_sees(home):
    from recommender.sources.store import empty_path, fetched_days, mark_empty

    mark_empty("medrxiv:epidemiology", DAY)
    mark_empty("medrxiv:epidemiology", DAY)  # marked again: still one mark
    assert (
        empty_path("medrxiv:epidemiology", DAY) == home / "listings" / "medrxiv" / "epidemiology" / "2021-04-22.empty"
    )
    assert fetched_days("medrxiv:epidemiology") == [DAY]
    assert read_day("medrxiv:epidemiology", DAY) is None and stored_days("medrxiv:epidemiology") == []
    assert list(iter_stored()) == [] and listing_files() == [] and latest_day(["medrxiv:epidemiology"]) is None
    write_day(Listing(papers=PAPERS), "medrxiv:epidemiology", DAY)  # papers came after all: the mark goes
    assert not empty_path("medrxiv:epidemiology", DAY).exists()
    assert fetched_days("medrxiv:epidemiology") == stored_days("medrxiv:epidemiology") == [DAY]


def test_a_stored_paper_is_found_by_its_own_id_before_a_paper_that_only_links_it(home):
    from recommender.sources.store import find_stored

    real = Paper.make("The paper itself", "2104.00001", "Its abstract.")
    # A feed's entry may link any arXiv id or page: it must not take a vote meant for the paper of that id.
    claims = Paper.make("Another", "doi:10.1234/other", "Other.", links=["https://arxiv.org/abs/2104.00001"])
    write_day(Listing(papers=(real, claims)), "cs.CV", DAY)
    assert find_stored(["2104.00001"]) == {"2104.00001": real}
    newer = Paper.make("Newer", "doi:10.1234/newer", "N.", links=["https://arxiv.org/abs/2104.00001"])
    write_day(Listing(papers=(newer,)), "feed", date(2021, 4, 23))  # a newer day: still not the paper of that id
    assert find_stored(["2104.00001"]) == {"2104.00001": real}
    assert find_stored(["doi:10.1234/newer"]) == {"doi:10.1234/newer": newer}


def test_an_id_that_the_links_of_two_papers_of_a_day_name_finds_neither(home):
    from recommender.sources.store import find_stored

    one = Paper.make("One", "doi:10.1234/one", "1.", links=["https://arxiv.org/abs/2104.00009"])
    two = Paper.make("Two", "doi:10.1234/two", "2.", links=["https://arxiv.org/abs/2104.00009"])
    write_day(Listing(papers=(one, two)), "feed", DAY)
    assert find_stored(["2104.00009"]) == {}
    alone = Paper.make("Alone", "doi:10.1234/alone", "3.", links=["https://arxiv.org/abs/2104.00008"])
    write_day(Listing(papers=(alone,)), "feed", date(2021, 4, 21))
    assert find_stored(["2104.00008"]) == {"2104.00008": alone}  # a published version found by its preprint's id
