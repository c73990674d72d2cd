"""The library the CLI, the notebook and the web page share: score_listing, the strategy registry, runs, the API."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import recommender
from recommender import cli
from recommender.embed import CachedEmbedder
from recommender.profile import load_profile, new_profile
from recommender.rank import REGISTRY, STRATEGIES, Strategy, get_strategy, recommend, score_listing
from recommender.run import rank_listing
from recommender.schema import Listing, Paper, UsageError
from recommender.sources import read_listing

from .conftest import EXAMPLE_LISTING, REPO

SR_PROFILE = REPO / "profiles" / "super-resolution.toml"


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_picks_scores_are_score_listing_scores(name, fake_embedder):
    listing, profile = read_listing(EXAMPLE_LISTING), load_profile(SR_PROFILE)
    embedder = CachedEmbedder(fake_embedder, None)
    scored = score_listing(listing, profile, embedder, strategy=name)
    picks = recommend(listing, profile, embedder, strategy=name, top=10)
    assert scored.strategy.name == name and len(scored) == len(listing) - scored.known
    assert len(picks) == 10
    assert [p.score for p in picks] == [scored.score_of(p.paper.arxiv_id) for p in picks]
    best = sorted(zip(-scored.scores, (p.arxiv_id for p in scored.candidates), strict=True))[:10]
    assert [p.paper.arxiv_id for p in picks] == [arxiv_id for _, arxiv_id in best]


def test_scored_counts_what_was_left_out(fake_embedder):
    listing = read_listing(EXAMPLE_LISTING)
    profile = new_profile("p", [listing.papers[0]], interests=["super-resolution"])
    profile = type(profile)(**{**profile.__dict__, "never": ("segmentation",)})
    scored = score_listing(listing, profile, CachedEmbedder(fake_embedder, None), exclude={listing.papers[1].arxiv_id})
    assert (scored.listed, scored.known, scored.excluded) == (len(listing), 1, 1)
    assert scored.ruled_out > 0 and len(scored) == len(listing) - 2 - scored.ruled_out
    assert not any("segmentation" in p.text.lower() for p in scored.candidates)


def test_a_subset_keeps_the_days_calibration(fake_embedder, monkeypatch):
    listing, profile = read_listing(EXAMPLE_LISTING), load_profile(SR_PROFILE)
    scored = score_listing(listing, profile, CachedEmbedder(fake_embedder, None))
    rows = [5, 0, 9]
    part = scored.subset(rows)
    assert [p.arxiv_id for p in part.candidates] == [scored.candidates[i].arxiv_id for i in rows]
    assert part.scores.tolist() == scored.scores[rows].tolist()
    calls = []
    monkeypatch.setattr("recommender.rank.scoring.match_scores", lambda *a, **k: calls.append(a) or np.zeros(3))
    assert part.matches.tolist() == scored.matches[rows].tolist()  # the day's, not refitted on three papers
    assert calls == [] and np.ptp(part.matches) > 0


def test_a_new_strategy_is_one_function_and_one_registry_line(monkeypatch, fake_model, tmp_path):
    def shortest_title(inp):
        return -np.array([len(text) for text in inp.candidate_texts], dtype=np.float64)

    monkeypatch.setitem(STRATEGIES, "short", Strategy("short", shortest_title, "shortest text first"))
    result = CliRunner().invoke(
        cli.app, ["rank", str(EXAMPLE_LISTING), "-p", str(SR_PROFILE), "-s", "short", "-f", "json", "-n", "3"]
    )
    assert result.exit_code == 0, result.output
    listing = read_listing(EXAMPLE_LISTING)
    known = load_profile(SR_PROFILE).ids
    shortest = sorted((len(p.text), p.arxiv_id) for p in listing.papers if p.arxiv_id not in known)[:3]
    assert [p["id"] for p in json.loads(result.stdout)] == [i for _, i in shortest]


def test_unknown_strategy_lists_the_registry():
    with pytest.raises(UsageError) as raised:
        get_strategy("nope")
    assert all(s.name in str(raised.value) for s in REGISTRY)


def test_strategy_traits_are_fields_of_their_record():
    hybrid = get_strategy("hybrid")
    assert hybrid.uses_negatives and hybrid.standardised and hybrid.lexical and hybrid.fit is not None
    assert not get_strategy("centroid").uses_negatives and get_strategy("classifier").learns_dislikes
    assert [s.name for s in REGISTRY] == list(STRATEGIES)


def test_public_api_is_listed_and_lazy():
    names = {name for names in recommender._EXPORTS.values() for name in names}
    assert set(recommender.__all__) == names | {"__version__"}
    assert set(recommender.__all__) <= set(dir(recommender))
    for name in ("score_listing", "Scored", "rank_listing", "run_today", "open_embedder", "Because", "fetch_listing"):
        assert name in recommender.__all__ and callable(getattr(recommender, name))


def test_open_embedder_uses_the_home_cache(fake_model, home):
    embedder = recommender.open_embedder(progress=False)
    embedder.embed(["a title. an abstract"])
    assert embedder.cache is not None and embedder.cache.path.is_relative_to(home)
    assert recommender.open_embedder(progress=False).embed(["a title. an abstract"]).shape == (1, 64)
    assert sum(e.calls for e in fake_model) == 1  # the second embedder found it in the cache


def test_rank_listing_returns_a_run_that_like_can_use(fake_model, tmp_path):
    listing = read_listing(EXAMPLE_LISTING)
    embedder = recommender.open_embedder(progress=False)
    run = rank_listing(listing, [SR_PROFILE, REPO / "profiles" / "medical-segmentation.toml"], embedder, top=3)
    assert [s.profile.name for s in run.sections] == ["super-resolution", "medical-segmentation"]
    assert all(len(s.picks) == 3 for s in run.sections) and len(run.papers) == len(listing)
    run.remember()
    from recommender.state import load_last_ranking

    last = load_last_ranking()
    assert [s.name for s in last.sections] == ["super-resolution", "medical-segmentation"]
    assert last.sections[0].pick_ids == tuple(p.paper.arxiv_id for p in run.sections[0].picks)


def test_an_unexpected_error_is_one_line_and_debug_shows_it(monkeypatch, fake_model, allow_internal_error):
    import recommender.run

    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(recommender.run, "rank_listing", broken)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    result = CliRunner().invoke(cli.app, ["rank", str(EXAMPLE_LISTING), "-p", str(SR_PROFILE)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "internal error: RuntimeError: boom second line" in lines[0]
    assert cli.DEBUG_ENV in lines[0] and isinstance(result.exception, SystemExit)
    monkeypatch.setenv(cli.DEBUG_ENV, "1")
    result = CliRunner().invoke(cli.app, ["rank", str(EXAMPLE_LISTING), "-p", str(SR_PROFILE)])
    assert isinstance(result.exception, RuntimeError)


def test_nan_options_are_refused(fake_model):
    for option in (["--dislike-weight", "nan"], ["--min-score", "inf"], ["--diversity", "nan"]):
        result = CliRunner().invoke(cli.app, ["rank", str(EXAMPLE_LISTING), "-p", str(SR_PROFILE), *option])
        assert result.exit_code == 2, (option, result.output)
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("paperrec: error:")


def test_an_empty_listing_scores_nothing(fake_embedder):
    profile = new_profile("p", [Paper.make("x", "2001.00001", "x")])
    scored = score_listing(Listing(papers=()), profile, CachedEmbedder(fake_embedder, None))
    assert len(scored) == 0 and scored.inputs is None
    assert recommend(Listing(papers=()), profile, CachedEmbedder(fake_embedder, None)) == []


def test_readme_python_snippet_runs(fake_model, monkeypatch):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Python API") :]
    snippet = section[
        section.index("```python") + len("```python") : section.index("```", section.index("```python") + 9)
    ]
    assert len(snippet.strip().splitlines()) <= 5 + 1  # five lines of code and one blank line
    monkeypatch.chdir(REPO)
    namespace: dict = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    assert len(namespace["scored"]) > 50 and namespace["scored"].strategy.name == "hybrid"


def test_key_sentences_only_for_the_first_picks_unless_asked(fake_model):
    def sentences_of(*options):
        result = CliRunner().invoke(
            cli.app, ["rank", str(EXAMPLE_LISTING), "-p", str(SR_PROFILE), "-n", "30", "-f", "json", *options]
        )
        assert result.exit_code == 0, result.output
        return [bool(p["because"]["sentence"]) for p in json.loads(result.stdout)]

    default = sentences_of()
    assert all(default[:10]) and not any(default[10:])
    assert all(sentences_of("--all-sentences"))


def test_min_match_hides_unlikely_picks(fake_model):
    def matches(*options):
        result = CliRunner().invoke(
            cli.app, ["rank", str(EXAMPLE_LISTING), "-p", str(SR_PROFILE), "-n", "59", "-f", "json", *options]
        )
        assert result.exit_code == 0, result.output
        return [p["match"] for p in json.loads(result.stdout)]

    every = matches()
    threshold = sorted(every)[len(every) // 2]
    kept = matches("--min-match", str(threshold))
    assert 0 < len(kept) < len(every) and all(m >= threshold for m in kept)
    refused = CliRunner().invoke(cli.app, ["rank", str(EXAMPLE_LISTING), "-p", str(SR_PROFILE), "--min-match", "2"])
    assert refused.exit_code == 2 and "--min-match" in refused.stderr


def test_old_likes_are_told_to_the_ranker_and_its_lexical_half_only_raises(fake_embedder):
    """The same profile on its own day and on a day five years later: only then are its likes old."""
    from dataclasses import replace
    from datetime import date

    listing, profile = read_listing(EXAMPLE_LISTING), load_profile(SR_PROFILE)
    embedder = CachedEmbedder(fake_embedder, None)
    then = score_listing(listing, profile, embedder, store=False)
    later = score_listing(replace(listing, date=date(2026, 4, 22)), profile, embedder, store=False)
    assert not then.inputs.likes_old and later.inputs.likes_old
    ranker = later.inputs.ranker
    texts = later.inputs.candidate_texts
    raised = ranker.fuse(ranker.semantic_scores(later.inputs.candidates), ranker.lexical_scores(texts, True), True)
    np.testing.assert_allclose(later.scores, raised[0])


def test_an_undated_listing_is_judged_by_its_newest_paper_not_by_today(fake_embedder):
    """A file of 2021 papers without a listing date, ranked years later, is a 2021 day: the likes are not old,
    and the recency weights count from then. A listing with no dates at all is today's; a typo'd future date is
    never believed."""
    from dataclasses import replace
    from datetime import date, timedelta

    listing, profile = read_listing(EXAMPLE_LISTING), load_profile(SR_PROFILE)
    assert listing.date is not None
    undated = replace(listing, date=None)
    dated_papers = [p.date for p in undated.papers if p.date is not None]
    assert dated_papers, "the example's papers carry their dates"
    assert undated.day == max(dated_papers) and undated.day.year == 2021
    scored = score_listing(undated, profile, CachedEmbedder(fake_embedder, None), store=False)
    assert scored.inputs.today == undated.day and not scored.inputs.likes_old
    blank = replace(undated, papers=tuple(replace(p, date=None) for p in undated.papers))
    assert blank.day == date.today()
    future = date.today() + timedelta(days=400)
    assert replace(blank, papers=(replace(blank.papers[0], date=future), *blank.papers[1:])).day == date.today()


def test_old_likes_sharing_no_term_with_the_day_keep_a_finite_match(fake_embedder):
    """Every candidate's raise-only lexical score is then the intercept. The likes' held-out margins stay near the
    semantic half's scale (41 papers: a day whose equal scores leave a spread of rounding error), and match stays a
    probability."""
    from datetime import date

    words = ["protein", "folding", "graph", "robotics", "lattice", "quantum", "galaxy", "neuron", "battery", "vision"]
    liked = [
        Paper.make(f"Zyxwv qwertz {w}ish", f"1801.0{i:04d}", f"Blorft snargle {w}ish") for i, w in enumerate(words)
    ]
    day = [
        Paper.make(f"{a.title()} and {b}", f"2604.1{i:04d}", f"On {a} with {b} methods")
        for i, (a, b) in enumerate((a, b) for a in words for b in words[::-1] if a != b)
    ]
    listing = Listing(papers=tuple(day[:41]), date=date(2026, 4, 22))
    scored = score_listing(listing, new_profile("old", liked), CachedEmbedder(fake_embedder, None), store=False)
    ranker = scored.inputs.ranker
    assert scored.inputs.likes_old and ranker is not None
    assert np.ptp(ranker.lexical_scores(scored.inputs.candidate_texts, True)) == 0
    assert np.isfinite(scored.held_out).all() and np.abs(scored.held_out).max() < 100
    assert np.ptp(scored.scores) > 0 and ((scored.matches >= 0) & (scored.matches <= 1)).all()
