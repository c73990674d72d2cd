"""Sources as a concept: the registry and its specs, one day merged from several sources, a line per source."""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.schema import Listing, Paper, PaperrecError, TemporaryFailure, UsageError
from recommender.sources import registry
from recommender.sources.day import fetch_sources
from recommender.sources.registry import SourceKind, Spec, parse_spec, parse_specs, profile_specs

DAY = date(2026, 12, 4)


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def fake_kind(monkeypatch):
    """A second registered kind ('fake'), fetched by the test's own function."""
    kind = SourceKind("fake", "Fake", "fake:x", "a name", "its posting date", "arxiv")
    monkeypatch.setitem(registry.SOURCES, "fake", kind)
    return kind


def _listing(*ids: str) -> Listing:
    return Listing(papers=tuple(Paper.make(f"Paper {i}", i, "An abstract.") for i in ids), date=DAY)


def test_a_spec_names_a_kind_and_a_key():
    assert parse_spec("cs.CV") == parse_spec("arxiv:cs.CV") == Spec("arxiv", "cs.CV")
    assert str(parse_spec(" ArXiv:q-bio.NC ")) == "arxiv:q-bio.NC"
    assert profile_specs(["cs.CV"], ["arxiv:cs.LG", "cs.CV"]) == [Spec("arxiv", "cs.CV"), Spec("arxiv", "cs.LG")]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("nowhere:x", "'paperrec sources'"),
        ("arxiv:", "names no key"),
        ("arxiv:not a category", "not an arXiv category"),
    ],
)
def test_a_bad_spec_is_a_usage_error_that_says_where_to_look(text, says):
    with pytest.raises(UsageError, match=says):
        parse_spec(text)


def test_a_key_that_could_leave_the_store_is_refused(fake_kind):
    assert parse_spec("fake:ICLR.cc/2026/Conference").key == "ICLR.cc/2026/Conference"
    for text in ("fake:..", "fake:a/../b", "fake:a\\b"):
        with pytest.raises(UsageError):
            parse_spec(text)


def test_sources_are_merged_into_one_day_with_a_line_each(fake_kind):
    def arxiv(keys, day, **options):
        return _listing("2104.00001", "2104.00002"), None

    def fake(keys, day, **options):
        assert keys == ["a", "b"] and options == {"include_cross": False}
        return _listing("2104.00002", "2104.00003"), None

    fetched = fetch_sources(parse_specs(["cs.CV", "fake:a", "fake:b"]), fetchers={"arxiv": arxiv, "fake": fake})
    assert [p.arxiv_id for p in fetched.listing.papers] == ["2104.00001", "2104.00002", "2104.00003"]
    assert fetched.lines() == ["arXiv cs.CV: 2 papers", "Fake a b: 2 papers, 1 merged away"]
    assert fetched.listing.date == DAY


def test_sources_of_different_days_make_the_newest_day(fake_kind):
    # arXiv's latest announcement is a day behind a journal feed first seen this morning: the run is today's, not
    # "undated" on its summary line while the page shows the same picks as today's.
    def arxiv(keys, day, **options):
        return Listing(papers=_listing("2104.00001").papers, date=date(2026, 12, 3)), None

    def fake(keys, day, **options):
        return _listing("2104.00002"), None

    fetched = fetch_sources(parse_specs(["cs.CV", "fake:a"]), fetchers={"arxiv": arxiv, "fake": fake})
    assert fetched.listing.date == DAY
    assert fetched.lines() == ["arXiv cs.CV 2026-12-03: 1 paper", "Fake a 2026-12-04: 1 paper"]


def test_a_failing_source_leaves_one_line_and_the_others(fake_kind):
    def arxiv(keys, day, **options):
        return _listing("2104.00001"), None

    def down(keys, day, **options):
        raise TemporaryFailure("Fake did not answer (offline?)")

    def empty(keys, day, **options):
        return Listing(papers=(), date=DAY), None

    fetched = fetch_sources(parse_specs(["cs.CV", "fake:a"]), fetchers={"arxiv": arxiv, "fake": down})
    assert len(fetched.listing) == 1
    assert fetched.lines()[1] == "Fake a: unreachable, retry later (Fake did not answer (offline?))"
    fetched = fetch_sources(parse_specs(["cs.CV", "fake:a"]), fetchers={"arxiv": arxiv, "fake": empty})
    assert fetched.lines()[1] == "Fake a: no postings on 2026-12-04"


def test_a_run_keeps_the_lines_of_its_sources_for_the_page(home, liked_jsonl, fake_model, fake_kind):
    from recommender.embed import CachedEmbedder
    from recommender.run import run_today

    from .conftest import FakeEmbedder

    made = invoke("profile", "new", "two", "--from", str(liked_jsonl), "-c", "cs.CV", "-s", "fake:a")
    assert made.exit_code == 0, made.output

    def arxiv(keys, day, **options):
        return _listing("2104.00001"), None

    def empty(keys, day, **options):
        return Listing(papers=(), date=DAY), None

    embedder = CachedEmbedder(FakeEmbedder(), None, progress=False)
    run = run_today(["two"], embedder, seen=None, fetch=arxiv, fetchers={"fake": empty})
    assert run.sections[0].sources == ("arXiv cs.CV: 1 paper", "Fake a: no postings on 2026-12-04")


def test_when_every_source_fails_the_day_fails(fake_kind):
    def down(keys, day, **options):
        raise TemporaryFailure("did not answer")

    def broken(keys, day, **options):
        raise PaperrecError("HTTP 404")

    with pytest.raises(TemporaryFailure, match=r"^did not answer$"):  # one kind: its own error, as before
        fetch_sources(parse_specs(["fake:a"]), fetchers={"fake": down})
    with pytest.raises(TemporaryFailure, match=r"arXiv cs.CV: unreachable.*; Fake a: unreachable"):
        fetch_sources(parse_specs(["cs.CV", "fake:a"]), fetchers={"arxiv": down, "fake": down})
    with pytest.raises(PaperrecError) as raised:
        fetch_sources(parse_specs(["cs.CV", "fake:a"]), fetchers={"arxiv": down, "fake": broken})
    assert not isinstance(raised.value, TemporaryFailure)


def test_the_sources_command_lists_each_kind():
    result = invoke("sources")
    assert result.exit_code == 0
    kinds = [line.split(":", 1)[0] for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert kinds == [source.kind for source in registry.REGISTRY]
    assert "arxiv:KEY  arXiv, e.g. arxiv:cs.CV" in result.stdout


def test_an_unknown_source_is_exit_2_pointing_at_the_sources_command():
    result = invoke("fetch", "cs.CV", "nowhere:x")
    assert result.exit_code == 2
    assert "unknown source 'nowhere:x': 'paperrec sources' lists the kinds" in result.stderr


def test_fetch_takes_any_source(fake_kind, monkeypatch, tmp_path):
    import recommender.sources.arxiv as arxiv

    def fetch_listing(keys, day=None, **options):
        if keys == ["cs.CV"]:
            return _listing("2104.00001", "2104.00002"), None
        raise TemporaryFailure("Fake is down")

    monkeypatch.setattr(arxiv, "fetch_listing", fetch_listing)  # the fake kind's module is arxiv too
    result = invoke("fetch", "cs.CV", "fake:a", "-o", str(tmp_path / "day.jsonl"))
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[:2] == ["arXiv cs.CV: 2 papers", "Fake a: unreachable, retry later (Fake is down)"]
    assert result.stderr.splitlines()[-1] == "2 papers of 2026-12-04"  # not arXiv's alone: 'announced' is its word
    assert len((tmp_path / "day.jsonl").read_text().splitlines()) == 2


def test_fetch_of_sources_of_different_days_names_each_sources_day(fake_kind, monkeypatch, tmp_path):
    # the last line names the newest day: each source's line says its own, as the run's lines do
    import recommender.sources.arxiv as arxiv

    def fetch_listing(keys, day=None, **options):
        if keys == ["cs.CV"]:
            return Listing(papers=_listing("2104.00001").papers, date=date(2026, 12, 3)), None
        return _listing("2104.00002"), None

    monkeypatch.setattr(arxiv, "fetch_listing", fetch_listing)  # the fake kind's module is arxiv too
    result = invoke("fetch", "cs.CV", "fake:a", "-o", str(tmp_path / "day.jsonl"))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[:2] == ["arXiv cs.CV 2026-12-03: 1 paper", "Fake a 2026-12-04: 1 paper"]


def test_a_profile_with_several_sources_ranks_one_day(home, liked_jsonl, fake_model, fake_arxiv, fake_kind):
    import recommender.sources.arxiv as arxiv

    made = invoke("profile", "new", "mixed", "--from", str(liked_jsonl), "-c", "cs.CV", "--source", "fake:a")
    assert made.exit_code == 0, made.output
    assert 'sources = ["fake:a"]\n' in (home / "profiles" / "mixed.toml").read_text()
    cv = arxiv.fetch_listing

    def both(keys, day=None, **options):
        if keys == ["a"]:
            raise TemporaryFailure("Fake did not answer")
        return cv(keys, day, **options)

    arxiv.fetch_listing = both  # restored by the fixture's monkeypatch
    result = invoke("today", "-f", "json")
    assert result.exit_code == 0, result.output
    assert "mixed: arXiv cs.CV: 40 papers" in result.stderr
    assert "mixed: Fake a: unreachable, retry later (Fake did not answer)" in result.stderr
    assert '"rank": 1' in result.stdout or '"rank":1' in result.stdout


def test_a_profile_naming_an_unknown_source_fails_alone(home, liked_jsonl, fake_model, fake_arxiv):
    assert invoke("profile", "new", "good", "--from", str(liked_jsonl), "-c", "cs.CV").exit_code == 0
    (home / "profiles" / "odd.toml").write_text('schema = 1\nname = "odd"\nsources = ["nowhere:x"]\n')
    result = invoke("today", "-f", "json")
    assert result.exit_code == 1
    assert "paperrec: error: odd: profile 'odd'" in result.stderr and "'paperrec sources'" in result.stderr
    assert "good: cs.CV" in result.stderr


def test_profile_new_refuses_an_unknown_source():
    result = invoke("profile", "new", "x", "--source", "nowhere:x")
    assert result.exit_code == 2 and "'paperrec sources'" in result.stderr


def test_a_paper_without_an_arxiv_id_is_known_by_doi_or_forum():
    doi = Paper.make("A", "doi:10.1101/2026.12.04.600001", links=["https://www.biorxiv.org/x", "javascript:x"])
    from recommender.schema import doi_id

    assert doi.arxiv_id == doi_id("https://doi.org/10.1101/2026.12.04.600001")
    assert doi.arxiv_id == Paper.make("A", "doi:10.1101/2026.12.04.600001X").arxiv_id.removesuffix("x")
    assert doi.links == ("https://www.biorxiv.org/x",) and not doi.has_arxiv_id and doi.pdf_url is None
    forum = Paper.make("B", "openreview:AbC_d-1")
    assert forum.url == "https://openreview.net/forum?id=AbC_d-1"
    for bad in ("doi:11.1/x", "openreview:a b", "doi:"):
        with pytest.raises(ValueError):
            Paper.make("C", bad)


@pytest.mark.parametrize(
    ("ref", "key"),
    [
        ("10.1101/2026.12.04.600001", "doi:10.1101/2026.12.04.600001"),
        (" DOI:10.1016/J.Neuron.2026.11.007 ", "doi:10.1016/j.neuron.2026.11.007"),
        ("https://dx.doi.org/10.1101/2026.12.04.600001", "doi:10.1101/2026.12.04.600001"),
        ("https://www.medrxiv.org/content/10.1101/2026.12.04.26312345v2.full.pdf", "doi:10.1101/2026.12.04.26312345"),
        ("https://biorxiv.org/content/10.1101/2026.12.04.600001v1.abstract?x=1", "doi:10.1101/2026.12.04.600001"),
        ("https://arxiv.org/abs/2104.10642v2", "2104.10642"),
        ("arXiv:2104.10642", "2104.10642"),
        ("https://openreview.net/forum?id=AbC_d-1", "openreview:AbC_d-1"),
        ("t:0123456789ab", "t:0123456789ab"),
    ],
)
def test_a_reference_names_a_paper_however_it_was_copied(ref, key):
    from recommender.schema import paper_key

    assert paper_key(ref) == key
