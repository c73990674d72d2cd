"""Journals through OpenAlex: a journal's works of a day, abstracts rebuilt from the inverted index, cursor pages."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from recommender.schema import TemporaryFailure, UsageError
from recommender.sources.http import NetworkError, PoliteClient, TemporaryNetworkError
from recommender.sources.openalex import check_journal, fetch_by_doi, fetch_listing, parse_works, rebuild_abstract

from .fixture_apis import inverted, openalex_doi_route, openalex_route, serving, work

DAY = date(2026, 12, 4)
NOW = {"now": datetime(2026, 12, 5, 12, tzinfo=UTC)}


def client() -> PoliteClient:
    notes: list[str] = []
    made = PoliteClient(
        name="OpenAlex", notify=notes.append, sleep=lambda s: None, share_spacing=False, backoff=0.0, min_interval=0
    )
    made.notes = notes  # type: ignore[attr-defined]
    return made


def test_an_abstract_is_rebuilt_from_its_inverted_index():
    text = "the cat saw the other cat"
    assert rebuild_abstract(inverted(text)) == text
    assert rebuild_abstract({"a": [1], "b": [0, "x", -1, 10**9], 3: [2]}) == "b a"
    assert rebuild_abstract(None) == ""


def test_a_page_of_works_is_parsed():
    untitled = work(2, DAY, title=None, display_name="")
    no_doi = work(3, DAY, doi=None)
    papers, held, cursor = parse_works(
        json.dumps({"meta": {"next_cursor": "abc"}, "results": [work(1, DAY), untitled, no_doi]})
    )
    assert (held, cursor, len(papers)) == (3, "abc", 2)
    paper = papers[0]
    assert paper.arxiv_id == "doi:10.1038/s41586-026-00001-x" and paper.authors == (
        "Rosalind1 Franklin",
        "Linus Pauling",
    )
    assert paper.abstract == "Proteins fold into shapes and number 1 folds into shapes too" and paper.date == DAY
    assert paper.links == (
        "https://doi.org/10.1038/s41586-026-00001-x",
        "https://www.nature.com/articles/s41586-026-00001-x",
        "https://openalex.org/W4000000001",
    )
    assert papers[1].arxiv_id.startswith("t:")  # no DOI: the title hash


def test_journals_are_named_by_issn_or_source_id():
    assert check_journal("00280836") == check_journal("0028-0836") == "0028-0836"
    assert check_journal("1476-468x") == "1476-468X" and check_journal("s137773608") == "S137773608"
    with pytest.raises(UsageError, match="not an ISSN"):
        check_journal("Nature")


def test_a_day_is_every_cursor_page(home):
    works = {("0028-0836", DAY): [work(n, DAY) for n in range(450)]}
    with serving(openalex_route(works)) as server, client() as polite:
        listing, _ = fetch_listing(["0028-0836"], DAY, client=polite, base_url=server.url + "/works", **NOW)
    assert len(listing) == 450 and len(server.paths) == 3
    assert "primary_location.source.issn%3A0028-0836" in server.paths[0] and "cursor=%2A" in server.paths[0]
    assert (home / "listings" / "journal" / "0028-0836" / "2026-12-04.jsonl").is_file()


@pytest.mark.parametrize(
    ("faults", "error", "says"),
    [
        (["429"], None, "OpenAlex busy (HTTP 429), retry 1/4"),
        (["truncated"], None, "the connection to OpenAlex broke"),
        (["503"] * 5, TemporaryNetworkError, "OpenAlex is unavailable (HTTP 503) after 5 tries"),
        (["malformed"], TemporaryFailure, "OpenAlex's answer: invalid JSON"),
        (["redirect"], NetworkError, "outside OpenAlex: refused"),
    ],
)
def test_faults_are_retried_or_one_line_naming_openalex(home, faults, error, says):
    with serving(openalex_route({("0028-0836", DAY): [work(1, DAY)]})) as server, client() as polite:
        server.faults = list(faults)
        if error is None:
            listing, _ = fetch_listing(["0028-0836"], DAY, client=polite, base_url=server.url + "/works", **NOW)
            assert len(listing) == 1 and any(says in line for line in polite.notes), polite.notes
        else:
            with pytest.raises(error, match=re.escape(says)):
                fetch_listing(["0028-0836"], DAY, client=polite, base_url=server.url + "/works", **NOW)


def test_works_are_looked_up_by_doi_in_batches_of_50_under_the_callers_ids():
    works = [work(n, DAY) for n in range(120)]
    works[7]["doi"] = "https://doi.org/10.1038/S41586-026-00007-X"  # OpenAlex's case need not be ours
    ids = [f"doi:10.1038/s41586-026-{n:05d}-x" for n in range(120)] + ["https://doi.org/10.1038/S41586-026-00003-X"]
    with serving(openalex_doi_route(works)) as server, client() as polite:
        found = fetch_by_doi(polite, [*ids, "doi:10.9999/unknown", "doi:10.1000/a|b"], base_url=server.url + "/works")
    queries = [parse_qs(urlsplit(path).query) for path in server.paths]
    assert [len(q["filter"][0].removeprefix("doi:").split("|")) for q in queries] == [50, 50, 21]
    assert "10.9999/unknown" in queries[-1]["filter"][0] and "a|b" not in queries[-1]["filter"][0]
    assert set(queries[0]["select"][0].split(",")) >= {"doi", "title", "abstract_inverted_index", "authorships"}
    assert sorted(found) == sorted(ids[:120])  # the unknown DOI is left out, the doi.org form is one of them
    seventh = found["doi:10.1038/s41586-026-00007-x"]
    assert seventh.arxiv_id == "doi:10.1038/s41586-026-00007-x"
    assert seventh.abstract == "Proteins fold into shapes and number 7 folds into shapes too"
    assert seventh.authors == ("Rosalind7 Franklin", "Linus Pauling") and seventh.date == DAY


def test_of_two_works_with_one_doi_the_one_with_an_abstract_is_kept():
    bare = work(1, DAY, abstract_inverted_index=None, title="The record without an abstract")
    with serving(openalex_doi_route([bare, work(1, DAY)])) as server, client() as polite:
        found = fetch_by_doi(polite, ["doi:10.1038/s41586-026-00001-x"], base_url=server.url + "/works")
    assert found["doi:10.1038/s41586-026-00001-x"].abstract.startswith("Proteins fold")
