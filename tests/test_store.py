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


def test_find_stored_gives_every_days_papers_a_key_names_newest_first(home):
    from recommender.sources.store import find_stored

    # A preprint links its journal version's DOI (in capitals, and with parentheses a link encodes) and a page.
    doi = "10.1016/S0092-8674(24)00001-2"
    links = ("https://doi.org/10.1101/2026.01.01.1", f"https://doi.org/{doi}", "https://www.Cell.com/cell/issue/7")
    first = Paper.make("Preprint", "doi:10.1101/2026.01.01.1", links=links)  # its links as a listing stores them
    second = Paper("doi:10.1101/2026.01.01.2", "Other", links=links[2:])
    write_day(Listing(papers=(first,)), "biorxiv:cell_biology", DAY)
    write_day(Listing(papers=(first, second)), "biorxiv:cell_biology", date(2021, 4, 23))
    journal, page = f"doi:{doi.lower()}", "page:www.cell.com/cell/issue/7"
    found = find_stored([journal, page, "doi:10.1101/2026.01.01.2", "doi:10.1/none"])
    assert {key: [p.arxiv_id for p in papers] for key, papers in found.items()} == {
        journal: [first.arxiv_id, first.arxiv_id],
        page: [first.arxiv_id, second.arxiv_id, first.arxiv_id],
        "doi:10.1101/2026.01.01.2": [second.arxiv_id],
    }
    # A paper's own id names it alone: the search ends at the newest day that has it.
    (newest,) = find_stored([first.arxiv_id])[first.arxiv_id]
    assert newest == read_day("biorxiv:cell_biology", date(2021, 4, 23)).papers[0]
