"""Runs over several profiles: each on its own, a summary per profile, reasons for an empty result, exit codes."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from typer.testing import CliRunner

from recommender.cli import app
from recommender.schema import TemporaryFailure

from .fixture_apis import ApiServer, serving


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def _profiles(home, liked_jsonl) -> None:
    for name in ("alpha", "gamma"):
        made = invoke("profile", "new", name, "--from", str(liked_jsonl), "-c", "cs.CV")
        assert made.exit_code == 0, made.output
    (home / "profiles" / "beta.toml").write_text('schema = 1\nname = "beta"\n[[liked]]\ntitle = "x"\n')  # no category


def test_one_broken_profile_does_not_stop_the_others(home, liked_jsonl, fake_model, fake_arxiv, tmp_path):
    _profiles(home, liked_jsonl)
    (home / "profiles" / "delta.toml").write_text("this is = not [ toml")
    result = invoke("today", "-f", "json", "-o", str(tmp_path / "out-{profile}.json"))
    assert result.exit_code == 1
    assert sorted(p.name for p in tmp_path.glob("out-*.json")) == ["out-alpha.json", "out-gamma.json"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("paperrec: error:")]
    assert len(errors) == 2 and "beta:" in errors[0] and "categories" in errors[0] and "delta:" in errors[1]
    summaries = [line for line in result.stderr.splitlines() if " newly embedded, " in line]
    assert [line.split(":")[0] for line in summaries] == ["alpha", "gamma"]
    assert "cs.CV 2021-04-22: 40 papers" in summaries[0] and summaries[0].endswith(" s")
    one = invoke("today", "-p", "alpha", "-n", "1", "-f", "json", "-o", str(tmp_path / "one.json"))
    assert one.exit_code == 0 and ", 1 pick, " in one.stderr  # not '1 picks'


def test_a_network_failure_of_every_profile_exits_75(home, liked_jsonl, fake_model, monkeypatch):
    import recommender.sources.arxiv as arxiv

    def offline(categories, day=None, **options):
        raise TemporaryFailure("cannot reach arXiv (offline?)")

    for name in ("alpha", "gamma"):
        assert invoke("profile", "new", name, "--from", str(liked_jsonl), "-c", "cs.CV").exit_code == 0
    monkeypatch.setattr(arxiv, "fetch_listing", offline)
    result = invoke("today")
    assert result.exit_code == 75 and result.stdout == ""
    assert result.stderr.count("paperrec: error:") == 2 and "offline?" in result.stderr
    assert "--offline" not in result.stderr  # nothing is stored: no hint


def test_a_failed_fetch_with_stored_days_says_offline_ranks_them(home, liked_jsonl, fake_model, monkeypatch):
    import recommender.sources.arxiv as arxiv
    from recommender.sources import read_listing, to_jsonl

    from .conftest import EXAMPLE_LISTING

    def offline(categories, day=None, **options):
        raise TemporaryFailure("cannot reach arXiv (offline?)")

    assert invoke("profile", "new", "alpha", "--from", str(liked_jsonl), "-c", "cs.CV").exit_code == 0
    stored = home / "listings" / "cs.CV"
    stored.mkdir(parents=True)
    for day in ("2021-04-21", "2021-04-22"):
        (stored / f"{day}.jsonl").write_text(to_jsonl(read_listing(EXAMPLE_LISTING).papers[:5]))
    monkeypatch.setattr(arxiv, "fetch_listing", offline)
    result = invoke("today")
    assert result.exit_code == 75 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        "paperrec: error: alpha: cannot reach arXiv (offline?); "
        "the stored 2021-04-22 is there: 'paperrec today --offline' ranks it"
    )


def test_an_empty_result_says_why(home, liked_jsonl, fake_model, example_listing, tmp_path):
    made = invoke("profile", "new", "sr", "--from", str(liked_jsonl), "-c", "cs.CV")
    assert made.exit_code == 0
    text = (home / "profiles" / "sr.toml").read_text()
    (home / "profiles" / "sr.toml").write_text(
        text.replace('strategy = "hybrid"', 'strategy = "hybrid"\nmust = ["xylophone"]')
    )
    result = invoke("rank", str(example_listing), "-p", "sr")
    assert result.exit_code == 0 and result.stdout == "No picks.\n"
    assert "sr: no picks among 59 papers: 59 dropped by the must/never rules" in result.stderr


def test_dash_is_stdin_and_stdout(example_listing, fake_model, tmp_path):
    profile = str(example_listing.parent.parent / "profiles" / "super-resolution.toml")
    text = example_listing.read_text(encoding="utf-8")
    from_file = invoke("rank", str(example_listing), "-p", profile, "-f", "json")
    piped = CliRunner().invoke(
        app, ["rank", "-", "--input-format", "md", "-p", profile, "-f", "json", "-o", "-"], input=text
    )
    assert piped.exit_code == 0, piped.output
    assert piped.stdout == from_file.stdout and not (tmp_path / "-").exists()
    unformatted = CliRunner().invoke(app, ["rank", "-", "-p", profile], input=text)
    assert unformatted.exit_code == 2 and "--input-format" in unformatted.stderr


def test_today_offline_ranks_the_stored_listing_without_the_network(home, liked_jsonl, fake_model, monkeypatch):
    import recommender.sources.http as http
    from recommender.sources import read_listing, to_jsonl

    from .conftest import EXAMPLE_LISTING

    def no_network(*args, **kwargs):
        raise AssertionError("the network was used")

    monkeypatch.setattr(http.PoliteClient, "get", no_network)
    assert invoke("profile", "new", "sr", "--from", str(liked_jsonl), "-c", "cs.CV").exit_code == 0
    nothing = invoke("today", "--offline")
    assert (
        nothing.exit_code == 1
        and "no stored cs.CV listing" in nothing.stderr
        and "paperrec fetch cs.CV" in nothing.stderr
    )
    stored = home / "listings" / "cs.CV"
    stored.mkdir(parents=True)
    papers = read_listing(EXAMPLE_LISTING).papers
    (stored / "2021-04-21.jsonl").write_text(to_jsonl(papers[:20]))
    (stored / "2021-04-22.jsonl").write_text(to_jsonl(papers))
    result = invoke("today", "--offline", "--include-seen", "-f", "json")
    assert result.exit_code == 0, result.output
    assert "offline: ranking the stored 2021-04-22" in result.stderr and "59 papers" in result.stderr
    older = invoke("today", "--offline", "--date", "2021-04-21", "--include-seen")
    assert older.exit_code == 0 and "20 papers" in older.stderr


@contextlib.contextmanager
def _arxiv_served_by(monkeypatch, route) -> Iterator[ApiServer]:
    """arXiv's feeds and API answered by a server on 127.0.0.1 through `route`, with no spacing or backoff to wait."""
    import recommender.sources.arxiv as arxiv
    import recommender.sources.http as http

    with serving(route) as server:
        monkeypatch.setattr(arxiv, "RSS_URL", f"{server.url}/rss")
        monkeypatch.setattr(arxiv, "API_URL", f"{server.url}/api/query")
        monkeypatch.setattr(http, "DEFAULT_MIN_INTERVAL", 0.0)
        monkeypatch.setattr(http, "DEFAULT_BACKOFF", 0.001)
        yield server


def test_a_source_that_fails_is_asked_once_for_every_profile_sharing_it(home, liked_jsonl, fake_model, monkeypatch):
    for name in ("alpha", "beta", "gamma"):
        assert invoke("profile", "new", name, "--from", str(liked_jsonl), "-c", "cs.CV").exit_code == 0
    with _arxiv_served_by(monkeypatch, lambda path, query: (503, {}, b"unavailable")) as served:
        result = invoke("today")
    assert result.exit_code == 75 and result.stdout == ""
    assert len(served.paths) == 5  # one fetch of the cs.CV feed, retried 4 times; not one such fetch per profile
    errors = [line for line in result.stderr.splitlines() if line.startswith("paperrec: error:")]
    assert [line.split(":")[2] for line in errors] == [" alpha", " beta", " gamma"]
    assert len({line.split(":", 3)[3] for line in errors}) == 1  # each profile gets the same one-line failure
    assert "arXiv is unavailable (HTTP 503) after 5 tries" in errors[0]


def test_a_source_fetched_is_asked_once_however_many_profiles_share_it(home, liked_jsonl, fake_model, monkeypatch):
    from .test_arxiv import FIXTURES

    feed = (FIXTURES / "rss-cs.CV-2021-04-22.xml").read_bytes()
    for name in ("alpha", "beta", "gamma"):
        assert invoke("profile", "new", name, "--from", str(liked_jsonl), "-c", "cs.CV").exit_code == 0
    # The feed holds a day before the latest, so no profile finds the latest day stored: each would fetch the feed.
    with _arxiv_served_by(monkeypatch, lambda path, query: (200, {}, feed)) as served:
        result = invoke("today", "-f", "json")
    assert result.exit_code == 0, result.output
    assert served.paths == ["/rss/cs.CV"]
    summaries = [line for line in result.stderr.splitlines() if " newly embedded, " in line]
    assert [line.split(":")[0] for line in summaries] == ["alpha", "beta", "gamma"]
    assert len({line.split(":", 1)[1].split(", ")[0] for line in summaries}) == 1  # the same day for each


def test_a_keyed_source_that_fails_is_asked_once_too(home, liked_jsonl, fake_model, monkeypatch):
    import recommender.sources.biorxiv as biorxiv
    import recommender.sources.http as http

    for name in ("alpha", "beta"):
        made = invoke("profile", "new", name, "--from", str(liked_jsonl), "-s", "biorxiv:neuroscience")
        assert made.exit_code == 0, made.output
    monkeypatch.setattr(http, "DEFAULT_BACKOFF", 0.001)
    monkeypatch.setattr(biorxiv, "MIN_INTERVAL", 0.0)
    with serving(lambda path, query: (503, {}, b"unavailable")) as server:
        monkeypatch.setattr(biorxiv, "API_URL", server.url + "/details")
        result = invoke("today", "--date", "2026-12-04")
    assert result.exit_code == 75, result.output
    assert len(server.paths) == 5  # one day's first page, retried 4 times, for both profiles
    errors = [line for line in result.stderr.splitlines() if line.startswith("paperrec: error:")]
    assert len(errors) == 2 and errors[0].replace("alpha:", "beta:") == errors[1]


def test_with_the_network_down_a_run_waits_for_arxiv_once_not_once_per_profile(
    home, liked_jsonl, fake_model, monkeypatch
):
    import functools

    import recommender.sources.arxiv as arxiv
    from recommender.sources.http import PoliteClient

    from .test_arxiv import FakeTime
    from .test_network import closed_port, point_arxiv_at

    for name in ("alpha", "beta", "gamma"):
        assert invoke("profile", "new", name, "--from", str(liked_jsonl), "-c", "cs.CV").exit_code == 0
    point_arxiv_at(monkeypatch, f"http://127.0.0.1:{closed_port()}")
    fake = FakeTime()
    monkeypatch.setattr(arxiv, "PoliteClient", functools.partial(PoliteClient, clock=fake.clock, sleep=fake.sleep))
    result = invoke("today")
    assert result.exit_code == 75 and result.stderr.count("paperrec: error:") == 3
    assert result.stderr.count("cannot reach arXiv (Connection refused), retry 1/1 in 3 s") == 1
    assert fake.sleeps == [2.0, 1.0]  # on the fake clock: one retry 3 s later, then nothing more for beta and gamma


def test_with_the_network_down_a_run_tries_arxiv_once_though_each_profile_asks_for_other_categories(
    home, liked_jsonl, fake_model, monkeypatch
):
    import recommender.sources.arxiv as arxiv
    from recommender.sources.http import PoliteClient

    from .test_arxiv import FakeTime
    from .test_network import CountingTransport, closed_port, point_arxiv_at

    for name, category in (("alpha", "cs.CV"), ("beta", "cs.LG"), ("gamma", "eess.IV")):
        assert invoke("profile", "new", name, "--from", str(liked_jsonl), "-c", category).exit_code == 0
    point_arxiv_at(monkeypatch, f"http://127.0.0.1:{closed_port()}")
    fake, attempts = FakeTime(), []

    def client(**options) -> PoliteClient:
        return PoliteClient(clock=fake.clock, sleep=fake.sleep, transport=CountingTransport(attempts), **options)

    monkeypatch.setattr(arxiv, "PoliteClient", client)
    result = invoke("today")
    assert result.exit_code == 75, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("paperrec: error:")]
    refused = "arXiv did not answer (offline?): Connection refused"
    said = [f"{refused} (2 tries)", *[f"{refused} (not tried again in this run)"] * 2]  # no tries claimed for these
    names = ("alpha", "beta", "gamma")
    assert errors == [f"paperrec: error: {n}: {why}" for n, why in zip(names, said, strict=True)], result.stderr
    assert result.stderr.count("cannot reach arXiv (Connection refused), retry 1/1 in 3 s") == 1
    assert len(attempts) == 2 and fake.sleeps == [2.0, 1.0]  # alpha's feed and its one retry; beta and gamma: none


def test_a_profile_whose_output_file_cannot_be_written_stops_no_other(
    home, liked_jsonl, fake_model, fake_arxiv, tmp_path
):
    from recommender.paths import last_ranking_path

    for name in ("alpha", "gamma"):
        assert invoke("profile", "new", name, "--from", str(liked_jsonl), "-c", "cs.CV").exit_code == 0
    (tmp_path / "out-alpha.json").mkdir()  # alpha's feed cannot be written; gamma's can
    result = invoke("today", "-f", "json", "-o", str(tmp_path / "out-{profile}.json"))
    assert result.exit_code == 1, result.output
    assert (tmp_path / "out-gamma.json").is_file() and f"wrote {tmp_path / 'out-gamma.json'}" in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("paperrec: error:")]
    assert len(errors) == 1 and "out-alpha.json" in errors[0], result.stderr
    assert last_ranking_path().is_file()  # `paperrec like 3` still knows what was shown
    assert "Traceback" not in result.output


def test_rank_of_a_file_names_the_categories_the_file_holds(home, liked_jsonl, fake_model, tmp_path):
    import json

    assert invoke("profile", "new", "alpha", "--from", str(liked_jsonl), "-c", "cs.CV").exit_code == 0
    day = tmp_path / "mixed.jsonl"
    rows = [("2104.00001", "cs.CL"), ("2104.00002", "cs.CV"), ("2104.00003", "cs.CL"), ("2104.00004", "")]
    day.write_text(
        "".join(
            json.dumps({"id": i, "title": f"Paper {i}", "abstract": f"About {i}.", "categories": [c] if c else []})
            + "\n"
            for i, c in rows
        )
    )
    result = invoke("rank", str(day), "-p", "alpha", "-f", "json")
    assert result.exit_code == 0, result.output
    summary = next(line for line in result.stderr.splitlines() if " newly embedded, " in line)
    # not the profile's own cs.CV: the file is what was ranked, and it is mostly cs.CL
    assert summary.startswith("alpha: cs.CL, cs.CV undated: 4 papers, "), summary
    # more texts than papers on a cold run (the likes are embedded too), so it says texts
    assert re.search(r", [1-9]\d* texts newly embedded, 4 picks, ", summary), summary
    only_cv = tmp_path / "cv.jsonl"
    only_cv.write_text(json.dumps({"id": "2104.00002", "title": "P", "abstract": "A.", "categories": ["cs.CV"]}) + "\n")
    result = invoke("rank", str(only_cv), "-p", "alpha", "-f", "json")
    assert "alpha: cs.CV undated: 1 paper," in result.stderr, result.stderr


def test_rank_of_a_file_of_no_category_names_the_file_not_the_profiles_sources(home, liked_jsonl, fake_model, tmp_path):
    made = invoke("profile", "new", "bio", "--from", str(liked_jsonl), "-s", "biorxiv:cell_biology", "-c", "cs.CV")
    assert made.exit_code == 0, made.output
    exported = tmp_path / "pubmed.csv"  # a journal's or PubMed's export names no category
    exported.write_text("doi,title,abstract\n10.1016/j.cell.2026.1,Cilia,Cilia.\n10.1016/j.cell.2026.2,Pore,Pore.\n")
    result = invoke("rank", str(exported), "-p", "bio", "-f", "json")
    assert result.exit_code == 0, result.output
    summary = next(line for line in result.stderr.splitlines() if " newly embedded, " in line)
    assert summary.startswith(f"bio: {exported} undated: 2 papers, "), summary
    piped = CliRunner().invoke(app, ["rank", "-", "--input-format", "csv", "-p", "bio"], input=exported.read_text())
    assert piped.exit_code == 0, piped.output
    assert "bio: <stdin> undated: 2 papers, " in piped.stderr, piped.stderr


def test_a_profile_that_fails_keeps_its_picks_of_the_last_ranking(home, liked_jsonl, fake_model, fake_arxiv):
    """`like 3 -p gamma` votes on the picks gamma's reader saw: a run that could not rank gamma leaves them."""
    from recommender.state import load_last_ranking

    _profiles(home, liked_jsonl)
    assert invoke("today", "-f", "json").exit_code == 1  # beta has no category: it fails every time
    shown = {s.name: s.pick_ids for s in load_last_ranking().sections}
    assert sorted(shown) == ["alpha", "gamma"] and shown["gamma"]
    gamma = home / "profiles" / "gamma.toml"
    gamma.write_text(gamma.read_text() + "\nthis is = not [ toml\n")  # a hand edit gone wrong
    assert invoke("today", "-f", "json", "--include-seen").exit_code == 1
    now = {s.name: s.pick_ids for s in load_last_ranking().sections}
    assert now == shown  # alpha ranked again (the same day), gamma's section as it was
    assert {shown["gamma"][2]} <= {p.arxiv_id for p in load_last_ranking().papers}
