"""The bench protocol (eligibility, profiles, day choice), the metrics, the runner, its averages and the backtest."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from recommender.embed import CachedEmbedder, EmbeddingCache
from recommender.evaluate import (
    EvalCase,
    EvaluationResult,
    average_precision,
    backtest,
    backtest_summary,
    centroid_scorer,
    evaluate,
    evenly_spaced,
    load_bench,
    make_case,
    ndcg_at_k,
    random_scorer,
    rank_ids,
    ranking_metrics,
    recall_at_k,
    reciprocal_rank,
)
from recommender.profile import Profile, ProfilePaper
from recommender.schema import Listing, Paper, PaperrecError, UsageError
from recommender.sources import to_jsonl

from .conftest import FakeEmbedder, require_bench

DAYS = [date(2025, 1, 1) + timedelta(days=n) for n in range(8)]
SMALL_DAY = 5  # only 20 papers: fewer than 30 candidates
# Paper numbers (within a day) that are in each list; every listed paper n of day d has id 2501.{d:02}{n:03}.
ALPHA = {d: (1, 2) for d in range(8)}
BETA = {0: (3, 4), 1: (3, 4), 2: (3,), 3: (3,), 4: (), 5: (3,), 6: (3,), 7: ()}
REPEATED = "2501.03001"  # an alpha paper of day 3 that shows up again on day 4 (as 2021 cross-lists do)
FILLER = ["graph", "quantum", "protein", "robot", "audio", "finance", "weather", "galaxy", "sensor", "compiler"]


def paper_id(day: int, n: int) -> str:
    return f"2501.{day:02d}{n:03d}"


def record(day: int, n: int, category: str) -> dict:
    if n in ALPHA[day]:
        title, abstract = f"Segmentation masks number {n}", "We segment image masks with prompts for segmentation."
    elif n in BETA[day]:
        title, abstract = f"Agent planning number {n}", "Language agents plan tool calls and planning steps."
    else:
        words = [FILLER[(day * 7 + n * 3 + k) % len(FILLER)] for k in range(3)]
        title, abstract = f"{words[0]} {words[1]} study {day} {n}", f"A study of {' '.join(words)} methods."
    return {"id": paper_id(day, n), "title": title, "abstract": abstract, "date": DAYS[day].isoformat(),
            "category": category, "kind": "new", "primary": category}  # fmt: skip


# Titled alpha papers in no listing (an imported library): id month 2024-10 or 2024-11, known from the month after.
LIBRARY = {f"24{10 + n % 2}.{n:05d}": f"Promptable segmentation of masks, part {n}" for n in range(6)}


def write_bench(root: Path, library: bool = False) -> Path:
    """Eight days in two category folders (40 papers a day, 20 on SMALL_DAY), lists alpha and beta; with `library`,
    alpha also names the LIBRARY papers by title (and one untitled and one listed paper with a title)."""
    for d, day in enumerate(DAYS):
        rows: dict[str, list[dict]] = {"cs.CV": [], "cs.CL": []}
        for n in range(20 if d == SMALL_DAY else 40):
            rows["cs.CV" if n % 2 == 0 else "cs.CL"].append(record(d, n, "cs.CV" if n % 2 == 0 else "cs.CL"))
        rows["cs.CL"].append(record(d, 0, "cs.CL"))  # paper 0 is cross-listed: the same id in both folders
        if d == 4:
            rows["cs.CL"].append(record(3, 1, "cs.CL") | {"date": day.isoformat()})
        for category, records in rows.items():
            folder = root / "listings" / category
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{day.isoformat()}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (root / "lists").mkdir(parents=True)
    for name, spec in (("alpha", ALPHA), ("beta", BETA)):
        ids = [paper_id(d, n) for d, numbers in spec.items() for n in numbers] + ["2401.00001v2"]  # unlisted
        rows = [{"id": i} for i in ids]
        if library and name == "alpha":
            rows += [{"id": i, "title": t, "title_source": "list"} for i, t in LIBRARY.items()]
            rows += [{"id": "2409.00009", "title": "   "}, {"id": paper_id(0, 1), "title": "A guessed title"}]
        (root / "lists" / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (root / "lists" / "SOURCES.md").write_text("not a list\n")
    return root


@pytest.fixture
def bench(tmp_path):
    return load_bench(write_bench(tmp_path / "bench"))


@pytest.fixture
def embedder(tmp_path) -> CachedEmbedder:
    return CachedEmbedder(FakeEmbedder(), EmbeddingCache(tmp_path / "cache.sqlite"), progress=False)


def oracle_scorer(case: EvalCase) -> np.ndarray:
    return np.array([1.0 if p.arxiv_id in case.positives else 0.0 for p in case.candidates])


def reversed_scorer(case: EvalCase) -> np.ndarray:
    return -oracle_scorer(case)


# --- loading ---------------------------------------------------------------------------------------------------


def test_load_bench_days_lists_and_first_seen(bench):
    assert bench.days == tuple(DAYS)
    assert sorted(bench.lists) == ["alpha", "beta"]
    assert "2401.00001" in bench.lists["alpha"]  # version dropped
    assert bench.first_seen[REPEATED] == DAYS[3]
    assert len(bench.day_ids[DAYS[0]]) == 40


def test_candidates_are_deduplicated_across_folders_and_sorted(bench):
    candidates = bench.candidates(DAYS[0])
    ids = [p.arxiv_id for p in candidates]
    assert len(ids) == 40 and ids == sorted(set(ids))
    assert REPEATED in {p.arxiv_id for p in bench.candidates(DAYS[4])}


def test_load_bench_rejects_a_folder_without_listings(tmp_path):
    with pytest.raises(PaperrecError, match="not a bench folder"):
        load_bench(tmp_path)


# --- protocol --------------------------------------------------------------------------------------------------


def test_eligibility_rules(bench):
    # alpha: day 2 has 4 profile papers, day 5 has 20 candidates; beta: day 2 has 4 profile papers,
    # days 4 and 7 have no positive, day 5 has 20 candidates; beta day 3 has exactly 5 profile papers.
    assert bench.eligible_days("alpha") == [DAYS[d] for d in (3, 4, 6, 7)]
    assert bench.eligible_days("beta") == [DAYS[d] for d in (3, 6)]
    assert len(bench.profile("beta", DAYS[2])) == 4
    assert len(bench.profile("beta", DAYS[3])) == 5
    assert bench.positives("beta", DAYS[4]) == frozenset()
    assert bench.eligible_days("alpha", min_candidates=20) == [DAYS[d] for d in (3, 4, 5, 6, 7)]


def test_profile_holds_only_papers_seen_before_the_day(bench):
    for day in DAYS:
        for name in bench.lists:
            profile = bench.profile(name, day)
            assert all(p.date < day for p in profile)
            assert not {p.arxiv_id for p in profile} & bench.day_ids[day]
            assert [p.date for p in profile] == sorted(p.date for p in profile)  # oldest first
    # Seen on day 3, listed again on day 4: a positive on day 4, so not in that day's profile.
    assert REPEATED in bench.positives("alpha", DAYS[4])
    assert REPEATED not in {p.arxiv_id for p in bench.profile("alpha", DAYS[4])}
    assert len(bench.profile("alpha", DAYS[4])) == 7


def test_profile_keeps_the_most_recent_papers(bench):
    profile = bench.profile("alpha", DAYS[7], max_papers=3)
    assert [p.arxiv_id for p in profile] == [paper_id(5, 1), paper_id(6, 1), paper_id(6, 2)]
    assert len(bench.profile("alpha", DAYS[7])) == 14


def test_profile_papers_carry_listing_text(bench):
    paper = bench.profile("alpha", DAYS[3])[0]
    assert paper.abstract.startswith("We segment") and paper.text.startswith("Segmentation masks")


def test_history_is_the_preceding_days(bench):
    history = bench.history(DAYS[4], n_days=2)
    assert {p.date for p in history} == {DAYS[2], DAYS[3]}
    assert REPEATED not in {p.arxiv_id for p in history}  # it is a candidate of day 4
    assert bench.history(DAYS[0]) == ()
    assert {p.date for p in bench.history(DAYS[7])} == set(DAYS[:7])


def test_evenly_spaced():
    items = list(range(10))
    assert evenly_spaced(items, 3) == [0, 5, 9]
    assert evenly_spaced(items, 2) == [0, 9]
    assert evenly_spaced(items, 1) == [4]
    assert evenly_spaced(items[:4], 1) == [1]
    assert evenly_spaced(items[:5], 3) == [0, 2, 4]
    assert evenly_spaced(items[:3], 5) == [0, 1, 2]
    assert evenly_spaced([], 3) == []
    assert evenly_spaced(items, 4) == [0, 3, 6, 9]


def test_pairs_select_days_and_limit(bench):
    assert bench.pairs(2) == [("alpha", DAYS[3]), ("alpha", DAYS[7]), ("beta", DAYS[3]), ("beta", DAYS[6])]
    assert bench.pairs(1) == [("alpha", DAYS[4]), ("beta", DAYS[3])]
    assert bench.pairs(5, lists=["beta"]) == [("beta", DAYS[3]), ("beta", DAYS[6])]
    # limit takes each list's first day before any list's second day
    assert bench.pairs(5, limit=3) == [("alpha", DAYS[3]), ("alpha", DAYS[4]), ("beta", DAYS[3])]
    with pytest.raises(UsageError, match="unknown list gamma"):
        bench.pairs(5, lists=["gamma"])


# --- metrics ---------------------------------------------------------------------------------------------------

RANKED = ["a", "b", "c", "d", "e"]
POSITIVES = {"b", "d", "x"}  # hits at ranks 2 and 4; x is never ranked


def test_ndcg_by_hand():
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)  # three positives fit in the top 3 and in the top 10
    assert ndcg_at_k(RANKED, POSITIVES, 3) == pytest.approx((1 / math.log2(3)) / ideal)
    assert ndcg_at_k(RANKED, POSITIVES, 10) == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / ideal)
    assert ndcg_at_k(RANKED, {"a"}, 10) == pytest.approx(1.0)
    assert ndcg_at_k(RANKED, {"e"}, 1) == 0.0
    assert ndcg_at_k(RANKED, set(), 10) == 0.0


def test_recall_precision_and_reciprocal_rank_by_hand():
    assert recall_at_k(RANKED, POSITIVES, 2) == pytest.approx(1 / 3)
    assert recall_at_k(RANKED, POSITIVES, 5) == pytest.approx(2 / 3)
    assert average_precision(RANKED, POSITIVES) == pytest.approx((1 / 2 + 2 / 4) / 3)
    assert average_precision(["a", "b"], {"a", "b"}) == pytest.approx(1.0)
    assert reciprocal_rank(RANKED, POSITIVES) == pytest.approx(1 / 2)
    assert reciprocal_rank(RANKED, {"x"}) == 0.0
    assert ranking_metrics(RANKED, POSITIVES)["mrr"] == pytest.approx(1 / 2)


def test_rank_ids_breaks_ties_by_id():
    papers = [Paper.make("x", raw_id=i) for i in ("2501.00003", "2501.00001", "2501.00002")]
    assert rank_ids(papers, np.array([0.5, 0.5, 0.9])) == ["2501.00002", "2501.00001", "2501.00003"]


# --- runner ----------------------------------------------------------------------------------------------------


def test_evaluate_perfect_and_reversed(bench, embedder):
    scorers = {"oracle": oracle_scorer, "reversed": reversed_scorer, "centroid": centroid_scorer}
    result = evaluate(bench, scorers, embedder, days=5, progress=False)
    assert len(result.rows) == 6 * 3
    assert result.macro("oracle") == pytest.approx({m: 1.0 for m in result.macro("oracle")})
    assert result.macro("reversed")["ndcg@10"] < 1.0
    assert result.macro("centroid")["ndcg@10"] > result.macro("reversed")["ndcg@10"]
    row = next(r for r in result.rows if r["list"] == "alpha" and r["day"] == DAYS[4].isoformat())
    assert (row["n_candidates"], row["n_positives"], row["n_profile"]) == (41, 3, 7)
    per_list = result.per_list("reversed")
    assert result.macro("reversed")["map"] == pytest.approx((per_list["alpha"]["map"] + per_list["beta"]["map"]) / 2)


def test_evaluate_embeds_through_the_cache_and_history_only_on_demand(bench, tmp_path):
    fake = FakeEmbedder()
    embedder = CachedEmbedder(fake, EmbeddingCache(tmp_path / "c.sqlite"), progress=False)
    evaluate(bench, {"centroid": centroid_scorer}, embedder, lists=["beta"], progress=False)
    needed = {p.text for d in (3, 6) for p in bench.candidates(DAYS[d])}
    needed |= {p.text for d in (3, 6) for p in bench.profile("beta", DAYS[d])}
    assert set(fake.texts) == needed and len(fake.texts) == len(needed)

    seen: list[EvalCase] = []

    def learner(case: EvalCase) -> np.ndarray:
        seen.append(case)
        assert case.history_vectors.shape == (len(case.history), FakeEmbedder.dim)
        return centroid_scorer(case)

    evaluate(bench, {"learner": learner}, embedder, lists=["beta"], history_days=2, progress=False)
    assert len(fake.texts) > len(needed)  # history papers were embedded on demand
    for case in seen:
        assert all(p.arxiv_id not in bench.lists["beta"] for p in case.history)
        assert all(p.date < case.day for p in case.history)

    before = len(fake.texts)
    evaluate(bench, {"learner": learner}, embedder, lists=["beta"], history_days=2, progress=False)
    assert len(fake.texts) == before  # a second run embeds nothing


def test_evaluate_rejects_a_wrong_score_shape(bench, embedder):
    with pytest.raises(PaperrecError, match="returned shape"):
        evaluate(bench, {"bad": lambda case: np.zeros(3)}, embedder, progress=False)


def test_make_case_shapes(bench, embedder):
    case = make_case(bench, "alpha", DAYS[7], embedder, max_profile=4)
    assert case.profile_vectors.shape == (4, FakeEmbedder.dim)
    assert case.candidate_vectors.shape == (40, FakeEmbedder.dim)
    assert case.positives == frozenset({paper_id(7, 1), paper_id(7, 2)})
    assert random_scorer(case).tolist() == random_scorer(case).tolist()


def synthetic_result() -> EvaluationResult:
    rng = np.random.default_rng(1)
    rows = []
    for scorer, shift in (("a", 0.2), ("b", 0.0)):
        for n, name in enumerate(["l1", "l2", "l3", "l4"]):
            for d in range(5):
                value = float(np.clip(0.2 + 0.15 * n + shift + rng.normal(0, 0.1), 0, 1))
                metrics = dict.fromkeys(("ndcg@10", "recall@10", "recall@25", "map", "mrr"), value)
                rows.append({"scorer": scorer, "list": name, "day": f"2025-01-0{d + 1}"} | metrics)
    return EvaluationResult(rows=rows, scorers=("a", "b"))


def test_bootstrap_interval_contains_the_mean_and_is_seeded():
    result = synthetic_result()
    macro = result.macro("a")
    intervals = result.confidence_intervals("a", seed=3)
    for metric, (low, high) in intervals.items():
        assert low < macro[metric] < high
    assert result.confidence_intervals("a", seed=3) == intervals
    assert result.confidence_intervals("a", seed=4) != intervals


def test_paired_comparison():
    result = synthetic_result()
    comparison = result.compare("a", "b", seed=0)
    assert comparison["difference"] == pytest.approx(result.macro("a")["ndcg@10"] - result.macro("b")["ndcg@10"])
    assert 0 < comparison["low"] < comparison["difference"] < comparison["high"]
    with pytest.raises(UsageError):
        result.compare("a", "zzz")


def test_json_and_table(bench, embedder):
    result = evaluate(bench, {"oracle": oracle_scorer, "centroid": centroid_scorer}, embedder, progress=False)
    data = json.loads(json.dumps(result.to_json(n_resamples=50)))
    assert data["pairs"] == 6 and data["lists"] == 2
    assert data["scorers"]["oracle"]["macro"]["ndcg@10"] == pytest.approx(1.0)
    assert data["scorers"]["centroid"]["per_list"].keys() == {"alpha", "beta"}
    table = result.format_table(n_resamples=50)
    assert "nDCG@10" in table and "MRR" in table and "centroid" in table and "alpha" in table
    assert "1.000 [1.000, 1.000]" in table
    assert "minus" not in table
    versus = result.format_table(n_resamples=50, baseline="centroid").splitlines()[-1]
    oracle_gain = 1.0 - result.macro("centroid")["ndcg@10"]
    assert versus.startswith("oracle") and f"{oracle_gain:+.3f}" in versus
    assert len(result.to_dataframe()) == 12


# --- backtest --------------------------------------------------------------------------------------------------


def _backtest_days() -> tuple[list[Paper], Paper, list[Paper], list[Listing]]:
    def paper(n: int, title: str, day: date) -> Paper:
        return Paper.make(title, raw_id=f"2502.{n:05d}", abstract=title, date=day)

    d1, d2 = date(2025, 2, 3), date(2025, 2, 4)
    likes = [paper(n, f"segmentation masks prompts {n}", d1) for n in range(3)]
    late = paper(9, "segmentation masks prompts late", d2)
    others = [paper(100 + n, f"{FILLER[n]} {FILLER[(n + 3) % 10]} methods", d2) for n in range(10)]
    # Day 2 is stored as two files (two categories): rank ranks their union, and so does the backtest.
    listings = [
        Listing(papers=(*likes, *others[:5]), date=d1),
        Listing(papers=(late, *others[5:7]), date=d2),
        Listing(papers=tuple(others[7:]), date=d2),
    ]
    return likes, late, others, listings


def _profile_of(likes: list[Paper], late: Paper, **settings) -> Profile:
    d1, d2 = likes[0].date, late.date
    liked = (*(ProfilePaper(p, d1 - timedelta(days=1)) for p in likes), ProfilePaper(late, d2 + timedelta(3)))
    return Profile(name="backtest test", liked=liked, **settings)


def test_backtest_ranks_each_hidden_like_on_its_day(embedder):
    likes, late, _, listings = _backtest_days()
    rows = backtest(_profile_of(likes, late), listings, "centroid", embedder)
    by_id = {row["id"]: row for row in rows}
    assert by_id[late.arxiv_id]["rank"] == 1 and by_id[late.arxiv_id]["n_profile"] == 3
    assert by_id[late.arxiv_id]["n_candidates"] == 6  # the day's two files, as rank ranks them
    assert by_id[likes[0].arxiv_id]["n_profile"] == 2  # the other likes, added before its day
    assert by_id[likes[0].arxiv_id]["n_candidates"] == 6  # the profile papers are not candidates
    summary = backtest_summary(rows)
    assert summary["papers"] == 4 and summary["hits@10"] == 4 and summary["median_rank"] == 1.0
    assert summary["missed"] == 0
    assert backtest_summary([])["median_rank"] is None


def test_backtest_applies_the_profile_settings_as_rank_does(embedder):
    """A paper the profile's rules or thresholds would have hidden is a miss, named with the setting that hid it."""
    likes, late, _, listings = _backtest_days()
    never = backtest(_profile_of(likes, late, never=("late",)), listings, "centroid", embedder)
    row = next(r for r in never if r["id"] == late.arxiv_id)
    assert row["rank"] is None and row["missed"] == "never"
    high = backtest(_profile_of(likes, late, min_score=1.5), listings, "centroid", embedder)
    assert {r["missed"] for r in high} == {"min_score"}
    summary = backtest_summary(high)
    assert summary["papers"] == 4 and summary["missed"] == 4 and summary["hits@10"] == 0
    assert summary["median_rank"] is None  # most were not shown at all
    # A dislike added before the day counts against papers like it; the profile's own settings reach the strategy.
    unwanted = Paper.make("segmentation masks prompts", raw_id="2501.99999", abstract="segmentation masks", date=None)
    disliked = (ProfilePaper(unwanted, likes[0].date - timedelta(days=1)),)
    profile = replace(_profile_of(likes, late), disliked=disliked, dislike_weight=5.0)
    row = next(r for r in backtest(profile, listings, "centroid", embedder) if r["id"] == late.arxiv_id)
    assert row["rank"] > 1 and row["missed"] is None


# --- the real bench --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_real_bench_end_to_end(tmp_path):
    bench = load_bench(require_bench())
    assert len(bench.lists) >= 17 and len(bench.first_seen) > 80_000
    embedder = CachedEmbedder(FakeEmbedder(), EmbeddingCache(tmp_path / "cache.sqlite"), progress=False)
    result = evaluate(bench, {"centroid": centroid_scorer, "random": random_scorer}, embedder, days=1, limit=3)
    assert len(result.rows) == 6 and len(result.lists) == 3
    for row in result.rows:
        assert row["n_candidates"] >= 30 and row["n_positives"] >= 1 and row["n_profile"] >= 5
    name, day = result.rows[0]["list"], date.fromisoformat(result.rows[0]["day"])
    assert all(p.date < day for p in bench.profile(name, day))
    assert result.macro("centroid")["ndcg@10"] >= 0.0
    assert "centroid" in result.format_table(n_resamples=20)


def test_cli_evaluate_bench_and_backtest(tmp_path, home, fake_model):
    import json

    from typer.testing import CliRunner

    from recommender.cli import app
    from recommender.profile import ProfilePaper, new_profile, save_profile
    from recommender.sources import to_jsonl

    runner = CliRunner()
    root = write_bench(tmp_path / "bench")
    out = tmp_path / "eval.json"
    result = runner.invoke(
        app, ["evaluate", "--bench", str(root), "-s", "centroid", "-s", "tfidf", "--days", "2", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "centroid" in result.stdout and "nDCG@10" in result.stdout
    difference = [line for line in result.stdout.splitlines() if line.startswith("tfidf ")][-1]
    assert "minus centroid" in result.stdout and "%)" in difference  # paired difference to the baseline
    report = json.loads(out.read_text())
    assert report and "centroid" in json.dumps(report) and "tfidf" in json.dumps(report)
    bad = runner.invoke(app, ["evaluate", "--bench", str(root), "-s", "magic"])
    assert bad.exit_code == 2 and "unknown strategy" in bad.stderr
    assert runner.invoke(app, ["evaluate"]).exit_code == 2

    # Backtest: likes that appear in stored listings are hidden in turn and ranked on their day.
    bench_data = load_bench(root)
    days = bench_data.days
    stored = tmp_path / "listings"
    for day in days:
        (stored / "x").mkdir(parents=True, exist_ok=True)
        (stored / "x" / f"{day}.jsonl").write_text(to_jsonl(bench_data.candidates(day)))
    name = sorted(bench_data.lists)[0]
    liked = [p for day in days for p in bench_data.candidates(day) if p.arxiv_id in bench_data.lists[name]]
    profile = new_profile(name)
    profile = profile.__class__(**{**profile.__dict__, "liked": tuple(ProfilePaper(p, p.date) for p in liked)})
    save_profile(profile, tmp_path / "p.toml")
    result = runner.invoke(
        app, ["evaluate", "--profile", str(tmp_path / "p.toml"), "--listings", str(stored), "-s", "centroid"]
    )
    assert result.exit_code == 0, result.output
    assert "median rank" in result.stdout


def test_evaluate_profile_says_what_it_measured_and_what_to_do(tmp_path, home, fake_model):
    """The backtest's report reads on its own: what was hidden and ranked, per strategy, then one next step."""
    from typer.testing import CliRunner

    from recommender.cli import app
    from recommender.profile import save_profile

    likes, late, _, listings = _backtest_days()
    stored = tmp_path / "listings"
    for n, listing in enumerate(listings):
        folder = stored / ("cs.CV" if n < 2 else "cs.CL")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{listing.date}.jsonl").write_text(to_jsonl(listing.papers))
    profile = replace(_profile_of(likes, late, never=("late",), half_life_days=30.0), strategy="max")
    save_profile(profile, tmp_path / "p.toml")
    (tmp_path / "p.toml").write_text("nevr = ['x']\n" + (tmp_path / "p.toml").read_text())
    runner = CliRunner()
    args = ["evaluate", "--profile", str(tmp_path / "p.toml"), "--listings", str(stored)]
    result = runner.invoke(app, [*args, "-s", "max", "-s", "centroid"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert all(len(line) <= 100 for line in out.splitlines()), out
    assert "2 stored days (2025-02-03 to 2025-02-04)" in out
    assert "hidden" in out and "as 'paperrec rank' ranks it" in out
    assert "4 of 4 liked papers are on a stored day" in out
    table = out[out.index("strategy") :].splitlines()
    assert table[0].split() == ["strategy", "papers", "median", "rank", "in", "the", "top", "10", "not", "shown"]
    assert table[1].split()[:2] == ["max", "(yours)"] or table[2].split()[:2] == ["max", "(yours)"]
    assert "never hid 1 of 4" in out  # the setting that hid a like, by name
    assert "half_life_days (max counts every like the same" in out  # a setting that does nothing here
    assert "a difference of one or two hits is noise" in out  # 4 papers
    assert "unknown key 'nevr'" in result.stderr  # a typo in a setting is named, as rank names it
    only = ProfilePaper(likes[0], likes[0].date - timedelta(days=1))
    save_profile(Profile(name="one", liked=(only,), strategy="max"), tmp_path / "one.toml")
    one = runner.invoke(app, ["evaluate", "--profile", str(tmp_path / "one.toml"), "--listings", str(stored)])
    assert "1 of 1 liked paper is on a stored day" in one.stdout, one.output
    (tmp_path / "empty").mkdir()
    none = runner.invoke(
        app, ["evaluate", "--profile", str(tmp_path / "p.toml"), "--listings", str(tmp_path / "empty")]
    )
    assert none.exit_code == 1 and "no stored listings" in none.stderr
    learned = runner.invoke(
        app, ["evaluate", "--profile", str(tmp_path / "p.toml"), "--listings", str(stored), "-s", "hybrid"]
    )
    assert learned.exit_code == 0, learned.output
    assert "hybrid" in learned.stdout and "median rank" in learned.stdout


# --- the product's path: score_listing on the bench day ----------------------------------------------------------


@pytest.mark.parametrize("strategy", ["centroid", "tfidf-svm", "hybrid"])
def test_a_bench_pair_scores_exactly_what_rank_scores(bench, embedder, strategy):
    from recommender.evaluate import strategy_scorer
    from recommender.profile import ProfilePaper, new_profile
    from recommender.rank import score_listing

    case = make_case(bench, "alpha", DAYS[6], embedder)
    scored = strategy_scorer(strategy)(case)
    profile = replace(new_profile("someone"), liked=tuple(ProfilePaper(p, p.date) for p in case.profile))
    direct = score_listing(Listing(papers=case.candidates, date=DAYS[6]), profile, embedder, strategy=strategy)
    np.testing.assert_allclose(scored.scores, direct.scores)
    assert [p.arxiv_id for p in scored.candidates] == [p.arxiv_id for p in case.candidates]
    np.testing.assert_allclose(scored.matches, direct.matches)


def test_pairs_never_share_a_stored_model(bench, embedder, home):
    from recommender.evaluate import strategy_scorer

    evaluate(bench, {"hybrid": strategy_scorer("hybrid")}, embedder, progress=False)
    assert not (home / "cache" / "rankers").exists() or not list((home / "cache" / "rankers").iterdir())
    names = {make_case(bench, n, d, embedder).user_profile().name for n, d in bench.pairs(5)}
    assert len(names) == len(bench.pairs(5))


def test_evaluate_reports_match_calibration(bench, embedder):
    from recommender.evaluate import strategy_scorer

    result = evaluate(bench, {"centroid": strategy_scorer("centroid")}, embedder, progress=False)
    matches, labels = result.calibration["centroid"]
    assert len(matches) == len(labels) == sum(r["n_candidates"] for r in result.rows)
    assert np.all((matches >= 0) & (matches <= 1)) and labels.sum() == sum(r["n_positives"] for r in result.rows)
    assert 0 <= result.ece("centroid") <= 1 and result.reliability("centroid")
    assert "ECE" in result.format_table(n_resamples=20)
    assert json.loads(json.dumps(result.to_json(n_resamples=20)))["calibration"]["centroid"]["ece"] >= 0


def test_bench_papers_carry_authors_and_categories_from_the_metadata(tmp_path):
    root = write_bench(tmp_path / "b")
    rows = [{"id": paper_id(6, 1), "authors": ["Ada Lovelace"], "categories": ["cs.CV", "cs.LG"]}]
    (root / "papers-meta.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    bench = load_bench(root)
    paper = next(p for p in bench.candidates(DAYS[6]) if p.arxiv_id == paper_id(6, 1))
    assert paper.authors == ("Ada Lovelace",) and paper.categories == ("cs.CV", "cs.LG")
    assert next(p for p in bench.profile("alpha", DAYS[7]) if p.arxiv_id == paper_id(6, 1)).authors


def test_topic_of_a_list_name():
    from recommender.evaluate import topic_of

    assert topic_of("segment-anything") == "segment anything"
    assert topic_of("rl-reasoning-mllm") == "reinforcement learning reasoning multimodal large language model"


def test_cold_start_profiles_and_scorers(bench, embedder):
    from recommender.evaluate import cold_start_scorers, small_profile

    case = make_case(bench, "alpha", DAYS[7], embedder)
    assert small_profile(case, 0).interests == ("alpha",) and not small_profile(case, 0).liked
    three = small_profile(case, 3)
    assert [p.paper.arxiv_id for p in three.liked] == [p.arxiv_id for p in case.profile[-3:]]
    result = evaluate(bench, cold_start_scorers(sizes=(0, 1, 5)), embedder, progress=False)
    assert result.scorers == tuple(f"{s}@{k}" for k in ("interest", "1", "5", "full") for s in ("centroid", "hybrid"))
    assert result.macro("hybrid@5")["ndcg@10"] >= result.macro("centroid@interest")["ndcg@10"]


def test_active_learning_simulation_rates_papers_of_the_day_before(bench, embedder):
    from recommender.evaluate import active_scorers, small_profile, with_ratings

    case = make_case(bench, "alpha", DAYS[7], embedder)
    assert {p.date for p in case.shown} == {DAYS[6]}
    base = small_profile(case, 2)
    rated = with_ratings(case, base, [p for p in case.shown if p.arxiv_id in (paper_id(6, 1), paper_id(6, 7))])
    assert [p.paper.arxiv_id for p in rated.liked][-1] == paper_id(6, 1)  # in the list: liked
    assert [p.paper.arxiv_id for p in rated.disliked] == [paper_id(6, 7)]  # not in it: disliked
    result = evaluate(bench, active_scorers(k=4, base=2), embedder, progress=False)
    assert result.scorers == ("hybrid@2 none", "hybrid@2 random", "hybrid@2 suggested")
    assert len(result.rows) == 3 * len(bench.pairs(5))


def test_active_learning_suggests_for_the_day_the_pool_was_shown(bench, embedder):
    """The suggested ratings are chosen on the pool's day, not the clock's: a replay gives the same figures on any
    day, and old likes are judged old as they were then."""
    from recommender.evaluate import active_scorers

    days = []

    def recording(scored):
        days.append(scored.inputs.today)
        return scored.scores

    case = make_case(bench, "alpha", DAYS[7], embedder)
    active_scorers(k=4, base=2, uncertainty=recording)["hybrid@2 suggested"](case)
    assert days == [DAYS[6]]


def test_cli_evaluate_cold_start_and_active(tmp_path, fake_model):
    from typer.testing import CliRunner

    from recommender.cli import app

    root = write_bench(tmp_path / "bench")
    runner = CliRunner()
    cold = runner.invoke(app, ["evaluate", "--bench", str(root), "--cold-start", "--days", "1"])
    assert cold.exit_code == 0, cold.output
    assert "hybrid@interest" in cold.stdout and "centroid@10" in cold.stdout
    active = runner.invoke(app, ["evaluate", "--bench", str(root), "--active", "3", "--days", "1"])
    assert active.exit_code == 0, active.output and "hybrid@5 suggested" in active.stdout
    both = runner.invoke(app, ["evaluate", "--bench", str(root), "--active", "3", "--cold-start"])
    assert both.exit_code == 2
    assert runner.invoke(app, ["evaluate", "--bench", str(root), "--active", "0"]).exit_code == 2


# --- aged profiles: --profile-gap-days and --fresh-profiles -----------------------------------------------------


def ids_of(papers) -> list[str]:
    return [p.arxiv_id for p in papers]


def test_profile_gap_keeps_only_papers_seen_that_long_before(bench):
    for gap in (2, 3, 5):
        aged = bench.profile("alpha", DAYS[7], gap_days=gap)
        assert aged and all(p.date <= DAYS[7] - timedelta(days=gap) for p in aged)
        fresh = bench.profile("alpha", DAYS[7])
        assert aged == tuple(p for p in fresh if p.date <= DAYS[7] - timedelta(days=gap))
    assert ids_of(bench.profile("alpha", DAYS[7], 3, gap_days=2)) == [paper_id(4, 1), paper_id(5, 1), paper_id(5, 2)]
    # Gap 1 is the fresh profile; a paper listed again on the day stays out of an aged profile too.
    assert bench.profile("alpha", DAYS[4], gap_days=1) == bench.profile("alpha", DAYS[4])
    assert REPEATED not in ids_of(bench.profile("alpha", DAYS[4], gap_days=1))
    assert len(bench.profile("alpha", DAYS[3], gap_days=3)) == 2 and bench.profile("alpha", DAYS[3], gap_days=4) == ()
    with pytest.raises(UsageError, match="0 or more"):
        bench.profile("alpha", DAYS[7], gap_days=-1)


def test_eligibility_follows_the_profile_gap(bench):
    assert bench.eligible_days("alpha", gap_days=0) == bench.eligible_days("alpha")
    assert bench.eligible_days("alpha", gap_days=2) == [DAYS[d] for d in (4, 6, 7)]
    assert bench.eligible_days("beta", gap_days=2) == [DAYS[6]]
    assert bench.eligible_days("alpha", gap_days=5) == [DAYS[7]]
    assert bench.eligible_days("beta", gap_days=5) == []
    # The fast count agrees with the profile it stands for, at every gap.
    for gap in range(8):
        for name in bench.lists:
            expected = [
                day
                for day in DAYS
                if bench.positives(name, day)
                and len(bench.day_ids[day]) >= 30
                and len(bench.profile(name, day, gap_days=gap)) >= 5
            ]
            assert bench.eligible_days(name, gap_days=gap) == expected, (name, gap)
    assert bench.pairs(5, gap_days=2) == [("alpha", DAYS[4]), ("alpha", DAYS[6]), ("alpha", DAYS[7]), ("beta", DAYS[6])]
    assert bench.pairs(1, gap_days=5) == [("alpha", DAYS[7])]


def profile_recorder(seen: dict) -> object:
    def scorer(case: EvalCase) -> np.ndarray:
        seen[(case.list_name, case.day)] = ids_of(case.profile)
        return centroid_scorer(case)

    return scorer


def test_a_gap_of_zero_is_the_fresh_protocol(bench, embedder):
    seen_default: dict = {}
    seen_zero: dict = {}
    default = evaluate(bench, {"centroid": profile_recorder(seen_default)}, embedder, progress=False)
    zero = evaluate(bench, {"centroid": profile_recorder(seen_zero)}, embedder, progress=False, profile_gap_days=0)
    assert zero.rows == default.rows and zero.protocol == default.protocol
    assert seen_zero == seen_default
    assert list(seen_default) == bench.pairs(5)
    assert all(seen_default[(n, d)] == ids_of(bench.profile(n, d)) for n, d in bench.pairs(5))
    assert default.protocol["pair_gap_days"] == default.protocol["profile_gap_days"] == 0
    assert default.protocol["lists_without_pairs"] == []


def test_aged_profiles_and_fresh_profiles_on_the_same_pairs(bench, embedder):
    aged_seen: dict = {}
    fresh_seen: dict = {}
    aged = evaluate(bench, {"c": profile_recorder(aged_seen)}, embedder, progress=False, profile_gap_days=2)
    fresh = evaluate(
        bench, {"c": profile_recorder(fresh_seen)}, embedder, progress=False, profile_gap_days=2, fresh_profiles=True
    )
    pairs = bench.pairs(5, gap_days=2)
    assert list(aged_seen) == list(fresh_seen) == pairs
    for name, day in pairs:
        assert aged_seen[(name, day)] == ids_of(bench.profile(name, day, gap_days=2))
        assert fresh_seen[(name, day)] == ids_of(bench.profile(name, day))
        assert len(fresh_seen[(name, day)]) > len(aged_seen[(name, day)])
    assert [(r["list"], r["day"]) for r in aged.rows] == [(r["list"], r["day"]) for r in fresh.rows]
    assert [r["n_profile"] for r in aged.rows] == [len(aged_seen[p]) for p in pairs]
    assert (aged.protocol["pair_gap_days"], aged.protocol["profile_gap_days"]) == (2, 2)
    assert (fresh.protocol["pair_gap_days"], fresh.protocol["profile_gap_days"]) == (2, 0)
    assert "profile gap 2 days: profiles hold the list papers first seen at least 2 days" in aged.format_table()
    assert "profile gap 2 days chose the pairs; their profiles are built with a gap of 0 days" in fresh.format_table()
    # A gap that leaves a list without an eligible day says so.
    late = evaluate(bench, {"centroid": centroid_scorer}, embedder, progress=False, profile_gap_days=5)
    assert late.lists == ["alpha"] and late.protocol["lists_without_pairs"] == ["beta"]
    assert "without an eligible pair at profile gap 5 days (1): beta" in late.format_table(n_resamples=20)
    with pytest.raises(PaperrecError, match=r"no eligible \(list, day\) pair with profiles aged at least 8 days"):
        evaluate(bench, {"centroid": centroid_scorer}, embedder, progress=False, profile_gap_days=8)


def test_profile_gap_is_checked_before_the_bench_is_read(tmp_path, embedder):
    from recommender.evaluate import evaluate_bench

    missing = tmp_path / "no-bench"
    with pytest.raises(UsageError, match="--profile-gap-days must be 0 or more"):
        evaluate_bench(missing, embedder, profile_gap_days=-1)
    with pytest.raises(UsageError, match="--fresh-profiles needs --profile-gap-days"):
        evaluate_bench(missing, embedder, fresh_profiles=True)


def test_cli_evaluate_profile_gap(tmp_path, fake_model):
    from typer.testing import CliRunner

    from recommender.cli import app

    root = write_bench(tmp_path / "bench")
    runner = CliRunner()
    out = tmp_path / "aged.json"
    aged = runner.invoke(
        app, ["evaluate", "--bench", str(root), "-s", "centroid", "--profile-gap-days", "5", "-o", str(out)]
    )
    assert aged.exit_code == 0, aged.output
    assert aged.stdout.startswith("1 pair over 1 list")
    assert (
        "profile gap 5 days" in aged.stdout
        and "without an eligible pair at profile gap 5 days (1): beta" in aged.stdout
    )
    report = json.loads(out.read_text())
    assert report["protocol"]["pair_gap_days"] == report["protocol"]["profile_gap_days"] == 5
    fresh = runner.invoke(
        app, ["evaluate", "--bench", str(root), "-s", "centroid", "--profile-gap-days", "5", "--fresh-profiles"]
    )
    assert fresh.exit_code == 0, fresh.output
    assert "profile gap 5 days chose the pairs" in fresh.stdout
    for args, message in (
        (["--profile-gap-days", "-1"], "--profile-gap-days must be 0 or more"),
        (["--fresh-profiles"], "--fresh-profiles needs --profile-gap-days above 0"),
    ):
        bad = runner.invoke(app, ["evaluate", "--bench", str(root), *args])
        assert bad.exit_code == 2 and message in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.output
    backtest_gap = runner.invoke(app, ["evaluate", "--profile", "p", "--profile-gap-days", "30"])
    assert backtest_gap.exit_code == 2 and "give --bench" in backtest_gap.stderr


def test_library_titles_join_profiles_from_the_month_after_their_id(tmp_path, embedder):
    bench = load_bench(write_bench(tmp_path / "lib", library=True))
    # Only titled list papers in no listing: the untitled one, and a listed one with a title, are not library papers.
    assert sorted(bench.library) == sorted(LIBRARY)
    first = bench.library["2410.00000"]
    assert (first.title, first.abstract, first.date) == (LIBRARY["2410.00000"], "", date(2024, 11, 1))
    assert bench.library["2411.00001"].date == date(2024, 12, 1)
    assert bench.list_papers[paper_id(0, 1)].title.startswith("Segmentation masks")
    # Without `library` nothing changes; with it, the library papers come first (they are older), oldest first.
    assert bench.profile("alpha", DAYS[7]) == load_bench(write_bench(tmp_path / "plain")).profile("alpha", DAYS[7])
    both = bench.profile("alpha", DAYS[7], library=True)
    assert ids_of(both[:6]) == sorted(LIBRARY, key=lambda i: (bench.library[i].date, i))
    assert ids_of(both[6:]) == ids_of(bench.profile("alpha", DAYS[7]))
    # A gap past every listing day leaves the library alone, and days stay eligible by it.
    aged = bench.profile("alpha", DAYS[7], gap_days=20, library=True)
    assert ids_of(aged) == ids_of(both[:6]) and bench.profile("alpha", DAYS[7], gap_days=20) == ()
    gap = (DAYS[7] - date(2024, 12, 1)).days  # the 2024-11 papers are known from 2024-12-01, the 2024-10 ones before
    assert len(bench.profile("alpha", DAYS[7], gap_days=gap, library=True)) == 6
    assert len(bench.profile("alpha", DAYS[7], gap_days=gap + 1, library=True)) == 3
    assert bench.eligible_days("alpha", gap_days=20) == [] and bench.eligible_days("alpha", gap_days=20, library=True)
    for gap in (0, 3, 20, 40):
        expected = [
            day
            for day in DAYS
            if bench.positives("alpha", day)
            and len(bench.day_ids[day]) >= 30
            and len(bench.profile("alpha", day, gap_days=gap, library=True)) >= 5
        ]
        assert bench.eligible_days("alpha", gap_days=gap, library=True) == expected, gap
    seen: dict = {}
    result = evaluate(bench, {"c": profile_recorder(seen)}, embedder, progress=False, profile_gap_days=20, library=True)
    assert result.lists == ["alpha"] and result.protocol["library_titles"] is True
    assert all(v == ids_of(both[:6]) for v in seen.values())
    assert "library titles: profiles also hold the list papers in no listing" in result.format_table(n_resamples=20)


def test_cli_evaluate_library_titles(tmp_path, fake_model):
    from typer.testing import CliRunner

    from recommender.cli import app

    root = write_bench(tmp_path / "bench", library=True)
    runner = CliRunner()
    found = runner.invoke(
        app, ["evaluate", "--bench", str(root), "-s", "centroid", "--profile-gap-days", "20", "--library-titles"]
    )
    assert found.exit_code == 0, found.output
    assert "library titles" in found.stdout and "(1): beta" in found.stdout
    alone = runner.invoke(app, ["evaluate", "--profile", "p", "--library-titles"])
    assert alone.exit_code == 2 and "give --bench" in alone.stderr


def test_real_bench_aged_profiles():
    bench = load_bench(require_bench())
    fresh_pairs = bench.pairs(6)
    aged_pairs = bench.pairs(6, gap_days=180)
    assert 0 < len(aged_pairs) < len(fresh_pairs)
    for name, day in aged_pairs:
        profile = bench.profile(name, day, gap_days=180)
        assert len(profile) >= 5 and all(p.date <= day - timedelta(days=180) for p in profile)


def test_the_backtest_advises_a_switch_only_for_more_hits():
    from recommender.evaluate import ProfileBacktest

    def result(hits: int, middle: float) -> dict:
        return {"summary": {"papers": 20, "median_rank": middle, "hits@10": hits, "missed": 0}, "papers": []}

    profile = Profile(name="p", strategy="hybrid")
    tied = ProfileBacktest(profile, Path("p.toml"), {"tfidf": result(12, 3.0), "hybrid": result(12, 4.0)}, (), ())
    assert "hybrid, this profile's strategy, puts as many likes in the top 10 as any" in " ".join(tied.text().split())
    assert "To switch" not in tied.text()
    better = ProfileBacktest(profile, Path("p.toml"), {"tfidf": result(15, 3.0), "hybrid": result(12, 4.0)}, (), ())
    assert 'To switch, set strategy = "tfidf" in p.toml' in " ".join(better.text().split())
    # A library whose likes are years older than the stored days has one or two of them there: one hit is luck.
    lucky = {"tfidf": result(1, 3.0), "hybrid": result(0, 15.0)}
    lucky = {name: {**r, "summary": {**r["summary"], "papers": 1}} for name, r in lucky.items()}
    few = " ".join(ProfileBacktest(profile, Path("p.toml"), lucky, (), ()).text().split())
    assert "To switch" not in few and "tfidf put 1 of 1 likes in the top 10, hybrid" in few
    assert "too few to choose by, so keep hybrid" in few and "a difference of one or two hits is noise" in few


@pytest.mark.parametrize(
    ("file", "named"),
    [
        ("p.toml", "-p p --strategy tfidf"),  # a plain name as it was
        ("deep learning.toml", "-p 'deep learning' --strategy tfidf"),
        ("a;b$(x).toml", "-p 'a;b$(x)' --strategy tfidf"),
    ],
)
def test_the_backtests_command_to_try_a_strategy_quotes_the_profiles_name(home, file, named):
    from recommender.evaluate import ProfileBacktest
    from recommender.paths import profiles_dir

    def result(hits: int) -> dict:
        return {"summary": {"papers": 20, "median_rank": 3.0, "hits@10": hits, "missed": 0}, "papers": []}

    results = {"tfidf": result(15), "hybrid": result(12)}
    report = ProfileBacktest(Profile(name="x", strategy="hybrid"), profiles_dir() / file, results, (), ())
    assert f"'paperrec rank FILE {named}' tries it on one day first." in " ".join(report.text().split())


def _stored_backtest(tmp_path: Path, *extra: Paper) -> Paper:
    """The backtest days stored as cs.CV under tmp_path/listings (`extra` on the late day), the profile saved as
    tmp_path/p.toml; the late liked paper."""
    from recommender.profile import save_profile

    likes, late, _, listings = _backtest_days()
    folder = tmp_path / "listings" / "cs.CV"
    folder.mkdir(parents=True)
    (folder / f"{likes[0].date}.jsonl").write_text(to_jsonl(listings[0].papers))
    (folder / f"{late.date}.jsonl").write_text(to_jsonl((*listings[1].papers, *listings[2].papers, *extra)))
    save_profile(replace(_profile_of(likes, late), categories=("cs.CV",)), tmp_path / "p.toml")
    return late


def test_the_backtest_says_when_the_likes_came_from_the_strategys_own_picks(tmp_path, home, embedder):
    """Likes voted on from a strategy's own picks favour it in the replay: 'keep it' then comes with that caveat."""
    from recommender.evaluate import ProfileBacktest, run_backtest
    from recommender.run import seen_memory

    rows = [{"id": f"2501.0000{i}", "replayed": True} for i in range(4)]

    def result(hits: int) -> dict:
        return {"summary": {"papers": 4, "median_rank": 2.0, "hits@10": hits, "missed": 0}, "papers": rows}

    profile = Profile(name="p", strategy="hybrid")
    runs = {"tfidf": result(2), "hybrid": result(4)}
    picked = ProfileBacktest(profile, Path("p.toml"), runs, (), (), from_picks=frozenset(r["id"] for r in rows[:3]))
    text = " ".join(picked.text().split())
    assert "keep it" in text and "3 of the 4 likes replayed were liked from this profile's own picks" in text
    found = ProfileBacktest(profile, Path("p.toml"), runs, (), (), from_picks=frozenset(["2501.00000"]))
    assert "own picks" not in found.text()  # most likes were found elsewhere: the replay is fair to each strategy
    # run_backtest reads which likes were shown as picks from the seen-memory
    late = _stored_backtest(tmp_path)
    seen = seen_memory()
    seen.mark("p", [late.arxiv_id], late.date)
    seen.close()
    result = run_backtest(tmp_path / "p.toml", embedder, strategies=["centroid"], listings=tmp_path / "listings")
    assert result.from_picks == frozenset([late.arxiv_id])


def test_the_backtest_runs_when_the_seen_memory_cannot_be_read(tmp_path, home, embedder):
    """The own-picks caveat is a remark: a seen-memory that cannot be opened (damaged, a read-only state folder)
    leaves it out instead of failing the backtest, which never needed the seen-memory before."""
    from recommender.evaluate import run_backtest
    from recommender.paths import seen_path

    _stored_backtest(tmp_path)
    seen_path().parent.mkdir(parents=True, exist_ok=True)
    seen_path().write_bytes(b"not a database, " * 64)
    result = run_backtest(tmp_path / "p.toml", embedder, strategies=["centroid"], listings=tmp_path / "listings")
    assert result.from_picks == frozenset() and result.results["centroid"]["papers"]


def test_the_backtest_of_a_profile_without_likes_says_what_to_do():
    from recommender.evaluate import ProfileBacktest

    empty = {"centroid": {"summary": backtest_summary([]), "papers": []}}
    text = ProfileBacktest(Profile(name="p", interests=("x",)), Path("p.toml"), empty, (), ()).text()
    assert "0 of 0" not in text and "The profile has no liked papers yet" in " ".join(text.split())


def test_the_backtest_leaves_out_cross_lists_as_today_does(tmp_path, embedder):
    """`today` ranks a category's own papers (no --include-cross): a paper cross-listed from elsewhere is no
    candidate of the backtest either."""
    from recommender.evaluate import run_backtest

    _, late, _, _ = _backtest_days()
    cross = Paper.make("segmentation masks prompts elsewhere", "2502.00500", "x", date=late.date, categories=["cs.LG"])
    _stored_backtest(tmp_path, cross)
    result = run_backtest(tmp_path / "p.toml", embedder, strategies=["centroid"], listings=tmp_path / "listings")
    row = next(r for r in result.results["centroid"]["papers"] if r["id"] == late.arxiv_id)
    assert row["n_candidates"] == 6 and row["rank"] == 1


def test_the_backtest_shows_its_progress_only_when_asked(tmp_path, embedder, capsys):
    from recommender.evaluate import run_backtest

    _stored_backtest(tmp_path)
    quiet = run_backtest(tmp_path / "p.toml", embedder, strategies=["centroid"], listings=tmp_path / "listings")
    assert capsys.readouterr().err == ""
    shown = run_backtest(
        tmp_path / "p.toml", embedder, strategies=["centroid"], listings=tmp_path / "listings", progress=True
    )
    assert "centroid" in capsys.readouterr().err  # a bar per strategy, on a terminal's stderr
    assert shown.results == quiet.results
