"""Filling titles and abstracts of id-only papers: cached, batched by the caller, offline-tolerant."""

from __future__ import annotations

from recommender.schema import Paper, PaperrecError
from recommender.sources.metadata import MetadataCache, complete_papers

ID_ONLY = Paper(arxiv_id="2104.10642", title="")
TITLE_ONLY = Paper.make("Known title", "2104.10325")
FULL = Paper.make("Full", "2104.10000", "Has an abstract.")
LOCAL = Paper.make("No arXiv id", None, "")


def test_lookup_fills_and_caches(tmp_path):
    asked: list[list[str]] = []

    def lookup(ids):
        asked.append(ids)
        return {
            "2104.10642": Paper.make("TMNet", "2104.10642", "Video SR.", ["A"], ["cs.CV"]),
            "2104.10325": Paper.make("SRWarp (API title)", "2104.10325", "Warping SR."),
        }

    cache = MetadataCache(tmp_path / "m.sqlite3")
    done = complete_papers([ID_ONLY, TITLE_ONLY, FULL, LOCAL], lookup, cache)
    assert asked == [["2104.10642", "2104.10325"]]
    by_id = {p.arxiv_id: p for p in done.papers}
    assert by_id["2104.10642"].title == "TMNet" and by_id["2104.10642"].categories == ("cs.CV",)
    assert by_id["2104.10325"].title == "Known title" and by_id["2104.10325"].abstract == "Warping SR."
    assert done.without_abstract == 1 and done.unresolved == () and done.notice is None  # LOCAL has no abstract

    def no_network(ids):
        raise AssertionError("should come from the cache")

    again = complete_papers([ID_ONLY, TITLE_ONLY], no_network, MetadataCache(tmp_path / "m.sqlite3"))
    assert [p.title for p in again.papers] == ["TMNet", "Known title"]


def test_offline_keeps_titles_and_reports(tmp_path):
    def offline(ids):
        raise PaperrecError("arXiv did not answer (offline?)")

    done = complete_papers([ID_ONLY, TITLE_ONLY, FULL], offline, MetadataCache(tmp_path / "m.sqlite3"))
    assert [p.arxiv_id for p in done.papers] == ["2104.10325", "2104.10000"]
    assert done.unresolved == ("2104.10642",) and done.without_abstract == 1
    assert "offline" in done.notice and "2 papers" in done.notice


def test_arxiv_ids_and_dois_are_asked_apart_so_one_failure_keeps_the_other(tmp_path):
    by_doi = Paper.make("Known by DOI", "doi:10.1000/xyz.1")
    asked: list[list[str]] = []

    def dois_down(ids):
        asked.append(ids)
        if ids[0].startswith("doi:"):
            raise PaperrecError("OpenAlex is unavailable (HTTP 503)")
        return {"2104.10642": Paper.make("TMNet", "2104.10642", "Video SR.")}

    done = complete_papers([ID_ONLY, by_doi], dois_down, MetadataCache(tmp_path / "m.sqlite3"))
    assert asked == [["2104.10642"], ["doi:10.1000/xyz.1"]]
    assert [p.abstract for p in done.papers] == ["Video SR.", ""] and done.by_doi == ()
    assert done.notice == "could not fetch abstracts of 1 DOI (OpenAlex is unavailable (HTTP 503))"
    assert done.unresolved == () and done.missing == ()

    found = complete_papers([by_doi], lambda ids: {ids[0]: Paper.make("x", ids[0], "From OpenAlex.")}, None)
    assert done.without_abstract == 1 and found.by_doi == ("doi:10.1000/xyz.1",) and found.without_abstract == 0
    assert found.papers[0].title == "Known by DOI" and found.papers[0].abstract == "From OpenAlex."
