"""Imported papers known only by DOI get their abstracts from OpenAlex, cached, beside arXiv's lookup."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

import recommender.sources.arxiv as arxiv
from recommender.cli import app
from recommender.profile import load_profile
from recommender.schema import Paper
from recommender.sources import http, openalex
from recommender.sources.http import NetworkError

from .fixture_apis import ApiServer, inverted, openalex_doi_route, serving, work

DAY = date(2020, 7, 5)
LIBRARY = """
@inproceedings{parser, title = {A Parser for Long Documents}, author = {Lovelace, Ada}, year = {2020},
  doi = {10.18653/v1/2020.acl-main.1}}
@article{kernels, title = {Graph Kernels Revisited}, author = {Babbage, Charles}, year = {2019},
  doi = {10.1109/TPAMI.2019.0001}}
@article{cortex, title = {Sparse Coding in Cortex}, author = {Hopper, Grace}, year = {2018},
  doi = {https://doi.org/10.1016/J.NEURON.2018.01.001}}
@article{closed, title = {A Journal Keeping Its Abstracts}, author = {Noether, Emmy}, year = {2016},
  doi = {10.1016/j.cell.2016.02.002}}
@inproceedings{attention, title = {Attention Is All You Need}, author = {Vaswani, Ashish}, year = {2017},
  eprint = {1706.03762}, archivePrefix = {arXiv}}
"""
UNKNOWN = """
@article{unknown, title = {A Paper OpenAlex Has Never Seen}, author = {Turing, Alan}, year = {2017},
  doi = {10.5555/unknown.1}}
"""
WORKS = [
    work(1, DAY, doi="https://doi.org/10.18653/v1/2020.acl-main.1", title="OpenAlex's own title for the parser",
         abstract_inverted_index=inverted("We parse long documents with a parser.")),
    work(2, DAY, doi="https://doi.org/10.1109/TPAMI.2019.0001",  # OpenAlex's case need not be the file's
         abstract_inverted_index=inverted("Graph kernels compare graphs by their walks.")),
    work(3, DAY, doi="https://doi.org/10.1016/j.neuron.2018.01.001",
         abstract_inverted_index=inverted("Neurons in cortex code sparsely.")),
    work(4, DAY, doi="https://doi.org/10.1016/j.cell.2016.02.002", abstract_inverted_index=None),
]  # fmt: skip
ABSTRACTS = {
    "doi:10.18653/v1/2020.acl-main.1": "We parse long documents with a parser.",
    "doi:10.1109/tpami.2019.0001": "Graph kernels compare graphs by their walks.",
    "doi:10.1016/j.neuron.2018.01.001": "Neurons in cortex code sparsely.",
}


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def library(tmp_path: Path) -> Path:
    path = tmp_path / "library.bib"
    path.write_text(LIBRARY)
    return path


@pytest.fixture
def arxiv_asked(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The arXiv lookups made, each answered with a title and an abstract per id."""
    asked: list[list[str]] = []

    def fake_fetch_metadata(client, ids, **kwargs):
        asked.append(list(ids))
        return {i: Paper.make(f"Fetched title {i}", i, f"Fetched abstract {i}.") for i in ids}

    monkeypatch.setattr(arxiv, "fetch_metadata", fake_fetch_metadata)
    return asked


def openalex_at(monkeypatch: pytest.MonkeyPatch, status: int = 200) -> ApiServer:
    """A local OpenAlex answering for WORKS, with no spacing and short backoffs."""
    server = ApiServer(openalex_doi_route(WORKS, status))
    monkeypatch.setattr(openalex, "API_URL", server.url + "/works")
    monkeypatch.setattr(openalex, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(http, "DEFAULT_BACKOFF", 0.01)
    return server


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    made = openalex_at(monkeypatch)
    yield made
    made.close()


def liked(home: Path, name: str) -> dict[str, Paper]:
    return {p.paper.arxiv_id: p.paper for p in load_profile(home / "profiles" / f"{name}.toml").liked}


def test_doi_only_entries_import_with_their_abstracts(home, library, server, arxiv_asked):
    result = invoke("profile", "new", "lib", "--from", str(library))
    assert result.exit_code == 0, result.output
    papers = liked(home, "lib")
    assert {i: papers[i].abstract for i in ABSTRACTS} == ABSTRACTS  # upper case and a doi.org prefix match too
    assert papers["doi:10.18653/v1/2020.acl-main.1"].title == "A Parser for Long Documents"  # the file's title
    assert papers["1706.03762"].abstract == "Fetched abstract 1706.03762."
    assert arxiv_asked == [["1706.03762"]]  # no DOI goes to arXiv
    assert len(server.paths) == 1 and "select=" in server.paths[0]
    assert "3 papers known by DOI got their abstract from OpenAlex" in result.stderr
    assert "1 added paper has no abstract" in result.stderr  # the journal OpenAlex has no abstract of
    assert "could not fetch" not in result.stderr


def test_a_doi_openalex_does_not_know_keeps_its_title(home, tmp_path, server, arxiv_asked):
    path = tmp_path / "unknown.bib"
    path.write_text(UNKNOWN)
    result = invoke("profile", "new", "lib", "--from", str(path))
    assert result.exit_code == 0, result.output
    paper = liked(home, "lib")["doi:10.5555/unknown.1"]
    assert (paper.title, paper.abstract) == ("A Paper OpenAlex Has Never Seen", "")
    assert len(server.paths) == 1 and "10.5555%2Funknown.1" in server.paths[0]
    assert "skipped" not in result.stderr and "1 added paper has no abstract" in result.stderr


def test_a_second_import_takes_the_abstracts_from_the_cache(home, library, server, arxiv_asked):
    assert invoke("profile", "new", "first", "--from", str(library)).exit_code == 0
    asked = (len(server.paths), len(arxiv_asked))
    result = invoke("profile", "new", "second", "--from", str(library))
    assert result.exit_code == 0, result.output
    assert (len(server.paths), len(arxiv_asked)) == asked == (1, 1)  # the work without an abstract is cached too
    assert {i: liked(home, "second")[i].abstract for i in ABSTRACTS} == ABSTRACTS


def test_offline_asks_neither_service(home, library, server, arxiv_asked):
    result = invoke("profile", "new", "lib", "--from", str(library), "--offline")
    assert result.exit_code == 0, result.output
    assert server.paths == [] and arxiv_asked == []
    assert all(not liked(home, "lib")[i].abstract for i in ABSTRACTS)
    assert "5 added papers have no abstract" in result.stderr  # the arXiv paper's too


def test_openalex_down_still_imports_and_arxiv_ids_get_theirs(home, library, monkeypatch, arxiv_asked):
    with serving(openalex_doi_route(WORKS, 503)) as down:
        monkeypatch.setattr(openalex, "API_URL", down.url + "/works")
        monkeypatch.setattr(openalex, "MIN_INTERVAL", 0.0)
        monkeypatch.setattr(http, "DEFAULT_BACKOFF", 0.01)
        result = invoke("profile", "new", "lib", "--from", str(library))
    assert result.exit_code == 0, result.output
    assert len(down.paths) == 5  # retried, then given up
    assert "could not fetch abstracts of 4 DOIs (OpenAlex is unavailable (HTTP 503)" in result.stderr
    assert "Traceback" not in result.output
    papers = liked(home, "lib")
    assert papers["1706.03762"].abstract == "Fetched abstract 1706.03762." and len(papers) == 5
    assert "4 added papers have no abstract" in result.stderr


def test_a_spent_openalex_allowance_still_imports_and_says_how_a_key_helps(home, library, monkeypatch, arxiv_asked):
    with serving(openalex_doi_route(WORKS, 429)) as spent:
        monkeypatch.setattr(openalex, "API_URL", spent.url + "/works")
        monkeypatch.setattr(openalex, "MIN_INTERVAL", 0.0)
        monkeypatch.setattr(http, "DEFAULT_BACKOFF", 0.01)
        result = invoke("profile", "new", "lib", "--from", str(library))
    assert result.exit_code == 0, result.output
    notices = [line for line in result.stderr.splitlines() if "could not fetch abstracts" in line]
    assert (
        len(notices) == 1
        and "could not fetch abstracts of 4 DOIs (OpenAlex is rate-limiting us (HTTP 429)" in notices[0]
    )
    assert "a free OpenAlex API key raises the daily allowance: set OPENALEX_API_KEY" in notices[0]
    assert len(liked(home, "lib")) == 5 and len(spent.paths) == 5


def test_arxiv_down_still_fills_the_dois(home, library, server, monkeypatch):
    def offline(client, ids, **kwargs):
        raise NetworkError("arXiv did not answer (offline?): connection refused")

    monkeypatch.setattr(arxiv, "fetch_metadata", offline)
    result = invoke("profile", "new", "lib", "--from", str(library))
    assert result.exit_code == 0, result.output
    assert "could not fetch metadata for 1 paper (arXiv did not answer" in result.stderr
    # A re-import asks nothing for papers already there: the report names the command that fetches them later.
    assert "titles are used instead; to fetch them, run later: paperrec profile refresh lib\n" in result.stderr
    assert {i: liked(home, "lib")[i].abstract for i in ABSTRACTS} == ABSTRACTS


def test_a_list_of_dois_becomes_liked_papers_with_openalex_titles(home, tmp_path, server, arxiv_asked):
    path = tmp_path / "dois.txt"
    path.write_text(
        "10.1109/TPAMI.2019.0001\nhttps://doi.org/10.1016/j.neuron.2018.01.001  # from a journal page\n"
        "https://www.biorxiv.org/content/10.18653/v1/2020.acl-main.1v2\n1706.03762\n10.5555/unknown.1\n"
    )
    offline = invoke("profile", "new", "away", "--from", str(path), "-i", "cortex", "--offline")
    assert offline.exit_code == 0, offline.output
    assert "doi:10.1109/tpami.2019.0001: no title: OpenAlex was not asked (--offline)" in offline.stderr
    assert liked(home, "away") == {}  # 1706.03762 is kept pending, as an arXiv id offline always is
    result = invoke("profile", "new", "lib", "--from", str(path), "-i", "cortex")
    assert result.exit_code == 0, result.output
    papers = liked(home, "lib")
    assert papers["doi:10.1109/tpami.2019.0001"].title == "A journal article on protein folding, number 2"
    assert papers["doi:10.18653/v1/2020.acl-main.1"].title == "OpenAlex's own title for the parser"
    assert {i: papers[i].abstract for i in ABSTRACTS} == ABSTRACTS
    assert arxiv_asked == [["1706.03762"]]  # no DOI goes to arXiv
    # A DOI OpenAlex does not know has no text to rank: it is not liked, and the report says so.
    assert "doi:10.5555/unknown.1" not in papers and "doi:10.5555/unknown.1" in result.stderr


def test_dois_without_a_date_of_their_own_are_dated_by_their_publication(home, tmp_path, server, arxiv_asked):
    # A list of DOIs says nothing of when each paper was read. Dated on the import day, a library of 2018-2020 papers
    # would count as five recent likes: the old-likes sentence would stay silent and recency weights would be full.
    path = tmp_path / "dois.txt"
    path.write_text("10.1109/TPAMI.2019.0001\n10.1016/j.neuron.2018.01.001\n10.18653/v1/2020.acl-main.1\n")
    assert invoke("profile", "new", "lib", "--from", str(path), "-i", "cortex").exit_code == 0
    entries = {e.paper.arxiv_id: e for e in load_profile(home / "profiles" / "lib.toml").liked}
    assert {i: e.added for i, e in entries.items()} == dict.fromkeys(entries, DAY) and len(entries) == 3
    # A date the file gives (BibTeX's year) still wins over the lookup's.
    bib = tmp_path / "lib.bib"
    bib.write_text(LIBRARY)
    assert invoke("profile", "new", "bib", "--from", str(bib), "-i", "cortex").exit_code == 0
    dated = {e.paper.arxiv_id: e.added for e in load_profile(home / "profiles" / "bib.toml").liked}
    assert dated["doi:10.1109/tpami.2019.0001"] == date(2019, 1, 1)


def test_refresh_with_both_services_on_a_host_that_refuses_tries_it_once(home, library, monkeypatch):
    import socket

    assert invoke("profile", "new", "lib", "--from", str(library), "--offline").exit_code == 0
    with socket.socket() as probe:  # a port nothing listens on: each connection is refused
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setattr(arxiv, "API_URL", closed + "/api/query")
    monkeypatch.setattr(openalex, "API_URL", closed + "/works")
    monkeypatch.setattr(openalex, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(http, "DEFAULT_MIN_INTERVAL", 0.0)
    monkeypatch.setattr(http, "DEFAULT_BACKOFF", 0.01)
    result = invoke("profile", "refresh", "lib")
    assert result.exit_code == 75, result.output
    assert result.stderr.count("retry 1/1") == 1  # arXiv's one retry; OpenAlex, on the same host, failed at once
    refused = "could not fetch abstracts of 4 DOIs (OpenAlex did not answer (offline?): Connection refused"
    assert refused in result.stderr
