"""One paper, one row: copies on several sources merged by id, DOI, forum, or title and first author."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.schema import Listing, Paper
from recommender.sources import registry
from recommender.sources.merge import merge_pair, merge_sources
from recommender.sources.registry import SourceKind

DAY = date(2026, 12, 4)
SURNAMES = ["Lovelace", "Noether", "Hopper", "Curie", "Turing", "Franklin", "Gauss", "Euler", "Ramanujan", "Meitner"]
TOPICS = ["cortical", "retinal", "synaptic", "hippocampal", "motor", "auditory", "olfactory", "spinal"]


def title(n: int) -> str:
    return f"{TOPICS[n % 8].capitalize()} circuits of kind {n} under {SURNAMES[n % 10]}'s model"


def author(n: int) -> str:
    return f"Ada{n} {SURNAMES[(n * 3) % 10]}{n}"


def arxiv_paper(n: int) -> Paper:
    return Paper.make(title(n), f"2612.{10000 + n}", f"Abstract {n}.", [author(n), "B. Other"], ["q-bio.NC"], DAY)


def biorxiv_copy(n: int, number: int) -> Paper:
    """A bioRxiv posting of arXiv paper n: the title in other case and punctuation, the author as 'I. Surname'."""
    given, surname = author(n).split()
    doi = f"10.1101/2026.12.04.{700000 + number}"
    return Paper.make(
        title(n).replace("'", "\u2019").replace(" of ", " of: ").upper(),
        f"doi:{doi}",
        f"Abstract {n} as posted.",
        [f"{given[0]}. {surname}"],
        ["neuroscience"],
        DAY,
        links=[f"https://www.biorxiv.org/content/{doi}v1"],
    )


def openreview_copy(n: int, forum: str, *, arxiv_link: bool) -> Paper:
    links = [f"https://openreview.net/forum?id={forum}"]
    if arxiv_link:
        links.append(f"https://arxiv.org/abs/2612.{10000 + n}")
    return Paper.make(title(n), f"openreview:{forum}", "", [author(n)], ["ICLR 2027"], DAY, links=links)


def unique(prefix: str, n: int, raw_id: str) -> Paper:
    return Paper.make(f"{prefix} study number {n} of {TOPICS[n % 8]} coding", raw_id, "", [f"Zed{n} {prefix}"])


def fixture_day() -> tuple[list[Listing], set[int]]:
    """arXiv, bioRxiv and OpenReview listings with 40 known cross-posts (arXiv papers 0-39) and near misses."""
    arxiv = [arxiv_paper(n) for n in range(120)]
    biorxiv = [biorxiv_copy(n, n) for n in range(20)]
    biorxiv += [unique("Bio", n, f"doi:10.1101/2026.12.04.{800000 + n}") for n in range(40)]
    # Near misses: an arXiv title by another first author, and an arXiv first author with another title.
    biorxiv += [
        Paper.make(title(50 + n), f"doi:10.1101/2026.12.04.{900000 + n}", "", ["Someone Else"]) for n in range(5)
    ]
    biorxiv += [
        Paper.make(f"Another question {n}", f"doi:10.1101/2026.12.04.{910000 + n}", "", [author(60 + n)])
        for n in range(5)
    ]
    openreview = [openreview_copy(n, f"forum{n:04d}", arxiv_link=True) for n in range(20, 30)]
    openreview += [openreview_copy(n, f"forum{n:04d}", arxiv_link=False) for n in range(30, 40)]
    openreview += [unique("Review", n, f"openreview:fresh{n:04d}") for n in range(30)]
    listings = [
        Listing(tuple(arxiv), date=DAY),
        Listing(tuple(biorxiv), date=DAY),
        Listing(tuple(openreview), date=DAY),
    ]
    return listings, set(range(40))


def test_forty_cross_posts_are_merged_and_no_two_different_papers_are():
    listings, crossed = fixture_day()
    merged, counts = merge_sources(listings)
    assert counts == [0, 20, 20]
    assert len(merged) == sum(map(len, listings)) - 40
    assert len({p.arxiv_id for p in merged.papers}) == len(merged)
    by_id = {p.arxiv_id: p for p in merged.papers}
    for n in crossed:
        paper = by_id[f"2612.{10000 + n}"]  # the arXiv id wins
        assert paper.title == title(n) and paper.abstract == f"Abstract {n}."
        assert f"https://arxiv.org/abs/2612.{10000 + n}" in paper.links
        other = "https://www.biorxiv.org/content/" if n < 20 else "https://openreview.net/forum?id="
        assert any(link.startswith(other) for link in paper.links), paper.links
    # Every paper that is not a cross-post is its own row.
    assert sum(len(p.links) > 1 for p in merged.papers if p.has_arxiv_id) == 40


def test_a_merged_paper_keeps_every_link_and_id():
    arxiv = arxiv_paper(1)
    posted = biorxiv_copy(1, 1)
    forum = openreview_copy(1, "abcDEF", arxiv_link=False)
    one = merge_pair(merge_pair(posted, arxiv), forum)
    assert one.arxiv_id == "2612.10001" and one.abstract == "Abstract 1." and one.categories[0] == "q-bio.NC"
    assert one.links == (
        "https://arxiv.org/abs/2612.10001",
        "https://doi.org/10.1101/2026.12.04.700001",
        "https://www.biorxiv.org/content/10.1101/2026.12.04.700001v1",
        "https://openreview.net/forum?id=abcDEF",
    )
    assert one.ids == ("2612.10001", "doi:10.1101/2026.12.04.700001", "openreview:abcDEF")
    # The journal a copy names is kept too: a feed's DOI copy of a paper known first by its arXiv id.
    journal = Paper.make(arxiv.title, "doi:10.1038/s1", "", arxiv.authors, venue="Nature Neuroscience")
    assert merge_pair(arxiv, journal).venue == "Nature Neuroscience" and merge_pair(journal, arxiv).has_arxiv_id


def test_a_paper_liked_under_its_doi_is_known_under_its_arxiv_id(home, liked_jsonl, fake_model):
    from recommender.embed import CachedEmbedder
    from recommender.profile import load_profile
    from recommender.rank import score_listing

    assert CliRunner().invoke(app, ["profile", "new", "neuro", "--from", str(liked_jsonl)]).exit_code == 0
    path = home / "profiles" / "neuro.toml"
    merged = merge_pair(arxiv_paper(3), biorxiv_copy(3, 3))
    posted = biorxiv_copy(3, 3)
    text = path.read_text() + f'\n[[liked]]\nid = "{posted.arxiv_id}"\ntitle = "x"\nadded = 2026-12-01\n'
    path.write_text(text)
    from .conftest import FakeEmbedder

    scored = score_listing(
        Listing((merged, arxiv_paper(4)), date=DAY),
        load_profile(path),
        CachedEmbedder(FakeEmbedder(), None, progress=False),
    )
    assert scored.known == 1 and [p.arxiv_id for p in scored.candidates] == ["2612.10004"]


@pytest.fixture
def venue(monkeypatch):
    """A second kind ('venue') whose day the test sets, served through arXiv's module slot."""
    import recommender.sources.arxiv as arxiv

    monkeypatch.setitem(registry.SOURCES, "venue", SourceKind("venue", "Venue", "venue:x", "x", "x", "arxiv"))
    days: dict[str, Listing] = {}

    def fetch_listing(keys, day=None, **options):
        return days["venue" if keys == ["x"] else "arxiv"], None

    monkeypatch.setattr(arxiv, "fetch_listing", fetch_listing)
    return days


def test_a_paper_shown_from_arxiv_is_not_shown_again_from_openreview(home, liked_jsonl, fake_model, venue):
    made = CliRunner().invoke(
        app, ["profile", "new", "mix", "--from", str(liked_jsonl), "-c", "cs.CV", "-s", "venue:x"]
    )
    assert made.exit_code == 0, made.output
    day2 = date(2026, 12, 5)
    venue["arxiv"] = Listing(tuple(arxiv_paper(n) for n in range(12)), date=DAY)
    venue["venue"] = Listing(tuple(openreview_copy(n, f"f{n:04d}", arxiv_link=False) for n in range(3)), date=DAY)
    first = CliRunner().invoke(app, ["today", "-f", "json", "--top", "12"])
    assert first.exit_code == 0, first.output
    assert "mix: Venue x: 3 papers, 3 merged away" in first.stderr
    picks = json.loads(first.stdout)
    assert len(picks) == 12 and all(p["id"].startswith("2612.") for p in picks)
    assert {link for p in picks for link in p.get("links", [])} >= {"https://openreview.net/forum?id=f0000"}
    # The next day OpenReview alone brings the three again, by forum id only: they were shown, so they are hidden.
    venue["arxiv"] = Listing((arxiv_paper(50),), date=day2)
    venue["venue"] = Listing(tuple(openreview_copy(n, f"f{n:04d}", arxiv_link=False) for n in range(3)), date=day2)
    second = CliRunner().invoke(app, ["today", "-f", "json"])
    assert second.exit_code == 0, second.output
    assert [p["id"] for p in json.loads(second.stdout)] == ["2612.10050"]
    assert "mix: 3 papers hidden as already shown" in second.stderr


def test_a_profile_with_three_sources_ranks_one_merged_day(home, liked_jsonl, fake_model, monkeypatch):
    import recommender.sources.arxiv as arxiv
    from recommender.sources import biorxiv, http, openreview

    from .fixture_apis import OPENREVIEW_TOKEN, biorxiv_route, note, openreview_route, posting, serving

    monkeypatch.setenv("OPENREVIEW_TOKEN", OPENREVIEW_TOKEN)  # the API answers note queries only when signed in
    monkeypatch.setattr(http, "DEFAULT_BACKOFF", 0.0)
    monkeypatch.setattr(biorxiv, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(openreview, "MIN_INTERVAL", 0.0)
    postings = [posting(n, DAY) for n in range(6)]
    notes = [note(n, DAY) for n in range(4)]
    # arXiv lists postings 0 and 1 (same title and first author) and note 0: each of them is one row.
    copies = [
        Paper.make(str(p["title"]), f"2612.2000{n}", "", [f"A. Author{n}"], ["q-bio.NC"], DAY)
        for n, p in enumerate(postings[:2])
    ]
    copies.append(Paper.make("Sparse attention for graph transformers, variant 0", "2612.20009", "", ["Grace0 Hopper"]))
    monkeypatch.setattr(arxiv, "fetch_listing", lambda keys, day=None, **o: (Listing(tuple(copies), date=DAY), None))
    made = CliRunner().invoke(
        app,
        [
            "profile",
            "new",
            "neuro",
            "--from",
            str(liked_jsonl),
            "-c",
            "q-bio.NC",
            "-s",
            "biorxiv:neuroscience",
            "-s",
            "openreview:ICLR.cc/2027/Conference",
        ],
    )
    assert made.exit_code == 0, made.output
    with (
        serving(biorxiv_route({("biorxiv", DAY): postings})) as bio,
        serving(openreview_route({"ICLR.cc/2027/Conference": notes})) as review,
    ):
        monkeypatch.setattr(biorxiv, "API_URL", bio.url + "/details")
        monkeypatch.setattr(openreview, "API_URL", review.url + "/notes")
        result = CliRunner().invoke(app, ["today", "--date", "2026-12-04", "-f", "json", "--top", "20"])
        assert result.exit_code == 0, result.output
        assert "neuro: bioRxiv neuroscience: 6 papers, 2 merged away" in result.stderr
        assert "neuro: OpenReview ICLR.cc/2027/Conference: 4 papers, 1 merged away" in result.stderr
        assert "neuro: q-bio.NC, biorxiv:neuroscience, openreview:ICLR.cc/2027/Conference 2026-12-04: 10 papers" in (
            result.stderr
        )
        picks = json.loads(result.stdout)
        assert len(picks) == 3 + 6 + 4 - 3 and len({p["id"] for p in picks}) == len(picks)
        merged = next(p for p in picks if p["id"] == "2612.20000")
        assert any("biorxiv.org" in link for link in merged["links"])
        # OpenReview down: one line for it, the other sources still ranked (a new day, so nothing is stored).
        review.faults = ["503"] * 5
        second = CliRunner().invoke(app, ["today", "--date", "2026-12-03", "-f", "json", "--include-seen"])
    assert second.exit_code == 0, second.output
    lines = [line for line in second.stderr.splitlines() if line.startswith("neuro: OpenReview")]
    assert lines == [
        "neuro: OpenReview ICLR.cc/2027/Conference: unreachable, retry later "
        "(OpenReview is unavailable (HTTP 503) after 5 tries; try again later)"
    ]
    assert "neuro: arXiv q-bio.NC: 3 papers" in second.stderr


def test_a_title_is_normalised_alike_whether_or_not_it_is_ascii():
    import unicodedata

    from recommender.schema import normalise_title

    def by_decomposing(title: str) -> str:  # the path every title took before ASCII ones skipped it
        text = "".join(ch for ch in unicodedata.normalize("NFKD", title) if not unicodedata.combining(ch))
        return " ".join(re.findall(r"[a-z0-9]+", text.lower()))

    titles = ["".join(map(chr, range(128))), "ViT-22B: Scaling to 22 Billion", "Café Élan", "ﬁne-tuning ①", ""]
    for title in titles:
        assert normalise_title(title) == by_decomposing(title)
