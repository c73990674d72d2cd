"""The command line's rough edges: run-time must/never, unknown profile keys, unlike without -p, and more."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from recommender.cli import app
from recommender.profile import load_profile

from .conftest import EXAMPLE_LISTING, REPO

EXAMPLE_PROFILE = REPO / "profiles" / "super-resolution.toml"


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def _new(name: str, liked_jsonl, *extra: str) -> None:
    made = invoke("profile", "new", name, "--from", str(liked_jsonl), "-c", "cs.CV", *extra)
    assert made.exit_code == 0, made.output


def _said(example_listing, prefix: str, *more: str) -> list[str]:
    """The stderr lines starting with `prefix` of a successful `rank` of the example day for profile sr."""
    result = invoke("rank", str(example_listing), "-p", "sr", *more)
    assert result.exit_code == 0, result.output
    return [line for line in result.stderr.splitlines() if line.startswith(prefix)]


def _mentions(pick: dict, term: str) -> bool:
    return re.search(rf"(?<!\w){term}(?!\w)", pick["title"] + " " + pick["abstract"], re.I) is not None


def _ranked(*args: str) -> list[dict]:
    result = invoke("rank", *args, "-f", "json", "-n", "100")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_must_and_never_on_rank(liked_jsonl, fake_model, example_listing, home):
    _new("sr", liked_jsonl)
    everything = _ranked(str(example_listing), "-p", "sr")
    with_video = {p["id"] for p in everything if _mentions(p, "video")}
    assert with_video and len(with_video) < len(everything)
    only = _ranked(str(example_listing), "-p", "sr", "--must", "video")
    assert {p["id"] for p in only} == with_video
    without = _ranked(str(example_listing), "-p", "sr", "--never", "video")
    assert {p["id"] for p in without} == {p["id"] for p in everything} - with_video


def test_must_replaces_and_never_extends_the_profile(liked_jsonl, fake_model, example_listing, home):
    _new("sr", liked_jsonl)
    path = home / "profiles" / "sr.toml"
    text = path.read_text()
    path.write_text(text.replace('strategy = "hybrid"', 'strategy = "hybrid"\nmust = ["xylophone"]\nnever = ["image"]'))
    picks = _ranked(str(example_listing), "-p", "sr", "--must", "video", "--never", "network")
    assert picks
    for pick in picks:
        assert _mentions(pick, "video") and not _mentions(pick, "network") and not _mentions(pick, "image")


def test_empty_must_term_is_a_usage_error(liked_jsonl, fake_model, example_listing):
    _new("sr", liked_jsonl)
    result = invoke("rank", str(example_listing), "-p", "sr", "--must", " ")
    assert result.exit_code == 2 and "--must" in result.stderr


def test_must_and_never_on_today(liked_jsonl, fake_model, fake_arxiv, home):
    _new("sr", liked_jsonl)
    result = invoke("today", "-p", "sr", "-f", "json", "-n", "50", "--never", "video")
    assert result.exit_code == 0, result.output
    picks = json.loads(result.stdout)
    assert picks and not any(_mentions(p, "video") for p in picks)


def test_an_unknown_profile_key_is_a_one_line_warning(liked_jsonl, fake_model, example_listing, home):
    _new("sr", liked_jsonl)
    path = home / "profiles" / "sr.toml"
    path.write_text(path.read_text().replace('strategy = "hybrid"', 'strategy = "hybrid"\nnevr = ["video"]'))
    warnings = _said(example_listing, "warning:")
    assert warnings == [f"warning: {path}: unknown key 'nevr' (did you mean 'never'?) ignored"]
    shown = invoke("profile", "show", "sr")
    assert shown.exit_code == 0 and shown.stderr.strip() == warnings[0]
    assert "nevr" in path.read_text()  # kept on save: a newer paperrec may have written it


def test_a_setting_appended_below_the_papers_is_a_one_line_warning(liked_jsonl, fake_model, example_listing, home):
    """A line added at the end of the file lands in the last paper's table (TOML's rule): say so, not ignore it."""
    _new("sr", liked_jsonl)
    path = home / "profiles" / "sr.toml"
    last = load_profile(path).liked[-1].paper.arxiv_id
    path.write_text(path.read_text().replace("disliked = []\n", "") + 'interests = ["satellite imagery"]\nnote = "x"\n')
    assert load_profile(path).interests == ()  # the paper's key, as TOML reads it
    warnings = _said(example_listing, "warning:")
    assert warnings == [
        f"warning: {path}: 'interests' is a key of the [[liked]] paper {last} above it, not a setting: "
        "move it above the first [[liked]], [[disliked]] or [[pending]]"
    ]
    assert invoke("profile", "show", "sr").stderr.strip() == warnings[0]


def test_a_setting_the_strategy_ignores_is_a_one_line_note(liked_jsonl, fake_model, example_listing, home):
    """half_life_days does nothing for max: rank says so instead of leaving the researcher to wonder."""
    _new("sr", liked_jsonl)
    path = home / "profiles" / "sr.toml"
    path.write_text(path.read_text().replace('strategy = "hybrid"', 'strategy = "max"\nhalf_life_days = 30'))
    assert _said(example_listing, "note:") == [
        f"note: {path}: no effect with strategy max: half_life_days (max counts every like the same, whatever its age)"
    ]
    assert _said(example_listing, "note:", "-s", "centroid") == []


def test_a_paper_entered_twice_by_hand_is_a_one_line_warning(liked_jsonl, fake_model, example_listing, home):
    _new("sr", liked_jsonl)
    path = home / "profiles" / "sr.toml"
    first = load_profile(path).liked[0].paper.arxiv_id
    path.write_text(path.read_text() + f'\n[[liked]]\nid = "{first}v2"\ntitle = "Pasted again"\n')
    text = path.read_text().replace("disliked = []\n", "")
    path.write_text(text + f'\n[[disliked]]\nid = "{first}"\ntitle = "And disliked"\n')
    warnings = _said(example_listing, "warning:")
    assert warnings == [f"warning: {path}: {first} is liked twice and disliked: each entry counts, so keep one"]
    assert invoke("profile", "show", "sr").stderr.strip() == warnings[0]


def test_profile_show_keeps_its_columns_for_long_ids(home, tmp_path):
    bib = tmp_path / "lib.bib"
    bib.write_text(
        "@article{a, title = {Short id}, eprint = {2101.00001}, urldate = {2022-01-02}}\n"
        "@article{b, title = {Journal only}, doi = {10.1109/TPAMI.2015.2439281}, urldate = {2022-01-03}}\n"
        "@misc{c, title = {Forum only}, url = {https://openreview.net/forum?id=AbC123xyz_}, urldate = {2022-01-04}}\n"
    )
    assert invoke("profile", "import", "lib", str(bib), "--offline").exit_code == 0
    shown = invoke("profile", "show", "lib").stdout.splitlines()
    rows = [line for line in shown if re.search(r"\d{4}-\d{2}-\d{2}", line)]
    assert len(rows) == 3
    assert len({line.index("2022-01-0") for line in rows}) == 1  # dates in one column, titles in the next
    assert len({line.index(title) for line, title in zip(rows, ("Short", "Journal", "Forum"), strict=True)}) == 1


def test_unlike_finds_the_one_profile_with_the_id(liked_jsonl, home):
    _new("sr", liked_jsonl)
    result = invoke("unlike", "2001.00001")
    assert result.exit_code == 0, result.output
    assert result.stderr == "removed 2001.00001 from sr\n"  # the profile it was found in, by name
    assert "2001.00001" not in (home / "profiles" / "sr.toml").read_text()


def test_unlike_without_profile_refuses_none_or_several(liked_jsonl, home):
    _new("sr", liked_jsonl)
    _new("vision", liked_jsonl)
    several = invoke("unlike", "2001.00002")
    assert several.exit_code == 2 and several.stdout == ""
    assert several.stderr.splitlines() == [
        "paperrec: error: 2001.00002: in 2 profiles (sr, vision); say which with --profile"
    ]
    none = invoke("unlike", "2104.99999")
    assert none.exit_code == 1
    assert len(none.stderr.splitlines()) == 1 and "2104.99999 is in no profile in " in none.stderr
    neither = invoke("unlike", "2104.99999", "2104.99998")
    assert "none of 2104.99999, 2104.99998 is in any profile" in neither.stderr
    assert "2001.00002" in (home / "profiles" / "sr.toml").read_text()


def test_unlike_without_profile_refuses_while_another_profile_cannot_be_read(liked_jsonl, home):
    _new("sr", liked_jsonl)
    _new("vision", liked_jsonl)
    vision = home / "profiles" / "vision.toml"
    vision.write_text(vision.read_text().replace('name = "vision"', "name = vision", 1))  # a hand edit gone wrong
    result = invoke("unlike", "2001.00002")
    assert result.exit_code == 1 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"paperrec: error: 2001.00002 is in sr, but {vision} cannot be read (invalid TOML: ")
    assert line.endswith("): fix it, or say which profile with --profile")
    assert "2001.00002" in (home / "profiles" / "sr.toml").read_text()  # not taken from the other profile
    none = invoke("unlike", "2104.99999")
    assert none.exit_code == 1 and f"2104.99999 is in no readable profile, and {vision} cannot be read" in none.stderr


def test_a_vote_finds_a_paper_the_profile_already_has_without_a_listing(liked_jsonl, home):
    _new("sr", liked_jsonl)
    sr = home / "profiles" / "sr.toml"
    text = sr.read_text().replace('id = "2001.00001"\n', 'id = "2001.00001"\nnote = "changed my mind"\n', 1)
    sr.write_text(text)
    result = invoke("dislike", "2001.00001", "-p", "sr")  # no ranking shown, no stored listing: the profile has it
    assert result.exit_code == 0, result.output
    assert "(was liked)" in result.stderr
    profile = load_profile(sr)
    assert [p.paper.arxiv_id for p in profile.disliked] == ["2001.00001"]
    assert 'note = "changed my mind"' in sr.read_text()  # its table moved with its keys
    again = invoke("like", "2001.00001", "-p", "sr")
    assert again.exit_code == 0, again.output
    assert sr.read_text() != text and load_profile(sr).liked[-1].paper.arxiv_id == "2001.00001"


def test_unlike_takes_back_a_vote_by_its_rank_number_as_like_gave_it(liked_jsonl, fake_model, home):
    _new("sr", liked_jsonl)
    _new("vision", liked_jsonl)
    shown = _ranked(str(EXAMPLE_LISTING), "-p", "sr")
    assert invoke("like", "2").exit_code == 0
    result = invoke("unlike", "2")
    assert result.exit_code == 0, result.output
    assert result.stderr == f"removed {shown[1]['id']} from sr\n"
    assert shown[1]["id"] not in (home / "profiles" / "sr.toml").read_text()
    assert invoke("unlike", "2", "-p", "vision").exit_code == 1  # vision was not ranked last
    assert "no pick #101" in invoke("unlike", "101").stderr


def test_unlike_takes_the_file_stem_or_the_display_name(liked_jsonl, home):
    _new("sr", liked_jsonl)
    path = home / "profiles" / "sr.toml"
    path.write_text(path.read_text().replace('name = "sr"', 'name = "Super resolution / video"'))
    by_name = invoke("unlike", "2001.00001", "-p", "Super resolution / video")
    assert by_name.exit_code == 0, by_name.output
    by_stem = invoke("unlike", "2001.00002", "-p", "sr")
    assert by_stem.exit_code == 0, by_stem.output
    assert "2001.0000" not in path.read_text()
    unknown = invoke("unlike", "2001.00002", "-p", "nobody")
    assert unknown.exit_code == 1 and "unknown profile" in unknown.stderr


def test_a_vote_for_a_misspelt_profile_names_the_profile_first(liked_jsonl, fake_model, example_listing, home):
    """A typo in -p is what is wrong: not the ranking, and no advice to import into the misspelt name."""
    _new("vision", liked_jsonl)
    assert invoke("rank", str(example_listing), "-p", "vision", "-n", "3").exit_code == 0
    for vote in (["like", "3"], ["dislike", "2104.99999"], ["unlike", "3"]):
        result = invoke(*vote, "-p", "visoin")
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("paperrec: error: unknown profile: "), result.stderr
        assert "did you mean 'vision'?" in result.stderr and "import visoin" not in result.stderr
    assert not (home / "profiles" / "visoin.toml").exists()


def _pick_with_reason():
    from recommender.schema import Because, Paper, Pick

    paper = Paper.make("Fast video upscaling", "2104.10642", "We upscale video.", ["Ada Lovelace"])
    because = Because(papers=(("2001.00002", "Video super-resolution", 0.8234),), terms=("video", "frames"))
    return Pick(paper, 0.5, 1, "sr", because=because)


def test_because_is_one_line_in_markdown_csv_and_atom():
    import csv
    import io

    import feedparser

    from recommender.export import render

    pick = _pick_with_reason()
    line = "Video super-resolution (0.82) · video, frames"
    assert "\nbecause: Video super-resolution (0.82) · video, frames\n" in render([pick], "markdown")
    (row,) = csv.DictReader(io.StringIO(render([pick], "csv")))
    assert row["because"] == line
    (entry,) = feedparser.parse(render([pick], "rss")).entries
    assert entry.summary == f"score 0.500 for sr. Because: {line}. We upscale video."


def test_markdown_heading_has_the_day_and_count(liked_jsonl, fake_model, example_listing):
    _new("sr", liked_jsonl)
    result = invoke("rank", str(example_listing), "-p", "sr", "-f", "markdown", "-n", "3")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "# paperrec picks for sr: 2021-04-22, 3 picks"
    assert result.stdout.count("\nbecause: ") == 3


def test_an_empty_feed_keeps_its_profiles_title_and_id(liked_jsonl, fake_model, example_listing, home):
    import feedparser

    _new("Super resolution", liked_jsonl)
    path = home / "profiles" / "Super resolution.toml"
    path.write_text(path.read_text().replace('strategy = "hybrid"', 'strategy = "hybrid"\nmust = ["xylophone"]'))
    result = invoke("rank", str(example_listing), "-p", "Super resolution", "-f", "rss")
    assert result.exit_code == 0, result.output
    feed = feedparser.parse(result.stdout)
    assert not feed.bozo and feed.entries == []
    assert feed.feed.title == "paperrec picks for Super resolution"
    assert feed.feed.id == "urn:paperrec:profile:super-resolution"


LIBRARY = """@article{a,
  title = {Image super-resolution networks},
  author = {Lovelace, Ada and Turing, Alan},
  eprint = {2001.00001},
  abstract = {super-resolution of images},
  year = {2020},
}
@article{c,
  title = {Depth from one image},
  author = {Hopper, Grace},
  eprint = {2001.00003},
  abstract = {monocular depth},
  year = {2020},
}
"""


def test_import_disliked_moves_liked_papers_and_counts_them(liked_jsonl, home, tmp_path):
    from recommender.profile import load_profile

    _new("sr", liked_jsonl)
    library = tmp_path / "lib.bib"
    library.write_text(LIBRARY)
    result = invoke("profile", "import", "sr", str(library), "--disliked", "--offline")
    assert result.exit_code == 0, result.output
    assert "sr: 1 paper added to disliked, 1 moved there from liked, 0 already there" in result.stderr.splitlines()
    profile = load_profile(home / "profiles" / "sr.toml")
    assert [p.paper.arxiv_id for p in profile.liked] == ["2001.00002"]
    assert sorted(p.paper.arxiv_id for p in profile.disliked) == ["2001.00001", "2001.00003"]
    again = invoke("profile", "import", "sr", str(library), "--disliked", "--offline")
    assert "sr: nothing new, 2 already there" in again.stderr.splitlines()


def test_imported_papers_keep_their_authors(home, tmp_path):
    from recommender.profile import load_profile

    library = tmp_path / "lib.bib"
    library.write_text(LIBRARY)
    assert invoke("profile", "import", "sr", str(library), "--offline").exit_code == 0
    profile = load_profile(home / "profiles" / "sr.toml")
    assert [p.paper.authors for p in profile.liked] == [("Ada Lovelace", "Alan Turing"), ("Grace Hopper",)]


def test_bibtex_added_prefers_when_the_entry_was_added_or_read(tmp_path):
    from datetime import date

    from recommender.sources.bibtex import bibtex_references

    library = tmp_path / "lib.bib"
    library.write_text(
        "@article{a, title = {One}, eprint = {2001.00001}, year = {2020}, urldate = {2024-03-05}}\n"
        "@article{b, title = {Two}, eprint = {2001.00002}, date = {2020-02-03}, timestamp = {2023-11-02T10:12:13Z}}\n"
        "@article{c, title = {Three}, eprint = {2001.00003}, year = {2020}, timestamp = {2022.06.07}}\n"
        "@article{d, title = {Four}, eprint = {2001.00004}, year = {2020}, month = {mar}, urldate = {soon}}\n"
    )
    references, skipped = bibtex_references(library)
    assert not skipped
    assert [r.added for r in references] == [date(2024, 3, 5), date(2023, 11, 2), date(2022, 6, 7), date(2020, 3, 1)]


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_hub_model_fails_at_once_when_the_hub_is_unreachable(liked_jsonl, example_listing, tmp_path, monkeypatch):
    import os
    import subprocess
    import sys

    _new("sr", liked_jsonl)
    port = _closed_port()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache: the model must come from the hub
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    command = [sys.executable, "-m", "recommender", "rank", str(example_listing), "-p", "sr", "--model", "org/model"]
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ, check=False)
    assert done.returncode == 75, done.stderr
    assert done.stderr.splitlines()[-1] == (
        f"paperrec: error: sr: cannot load model 'org/model': the model hub http://127.0.0.1:{port} is unreachable "
        "([Errno 111] Connection refused) and the model is not in the local cache; try again online, or give a local "
        "model folder with --model"
    )


def test_a_cached_hub_model_loads_from_the_cache_when_the_hub_is_unreachable(tmp_path, monkeypatch):
    import sys
    import types

    import huggingface_hub.constants

    from recommender.embed import Embedder

    snapshot = tmp_path / "hub" / "models--org--model" / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (tmp_path / "hub" / "models--org--model" / "refs").mkdir()
    (tmp_path / "hub" / "models--org--model" / "refs" / "main").write_text("abc")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    asked = []

    class FakeSentenceTransformer:
        max_seq_length = 128

        def __init__(self, source, **options):
            asked.append((source, options))

    fake = types.ModuleType("sentence_transformers")
    fake.SentenceTransformer = FakeSentenceTransformer
    monkeypatch.setitem(sys.modules, "sentence_transformers", fake)
    Embedder("org/model")._load()
    assert asked == [("org/model", {"device": "cpu", "local_files_only": True})]


class SpyEncoder:
    """An encoder whose model is not loaded: it records every text it is asked to encode."""

    loaded = False

    def __init__(self, fake):
        self.fake, self.cache_key, self.asked = fake, fake.cache_key, []

    def encode(self, texts):
        self.asked.extend(texts)
        return self.fake.encode(texts)


def _embedded_day(fake_embedder, tmp_path, strategy: str):
    from recommender.embed import CachedEmbedder, EmbeddingCache
    from recommender.profile import load_profile, profile_vectors
    from recommender.rank import RankOptions, score_listing
    from recommender.sources import read_listing

    listing = read_listing(EXAMPLE_LISTING)
    profile = load_profile(EXAMPLE_PROFILE)
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    warm = CachedEmbedder(fake_embedder, cache)
    warm.embed_papers(listing.papers)  # yesterday's rank embedded the day and the profile, not the sentences
    profile_vectors(profile, warm)
    spy = SpyEncoder(fake_embedder)
    embedder = CachedEmbedder(spy, cache)
    scored = score_listing(listing, profile, embedder, RankOptions(strategy=strategy))
    assert spy.asked == []
    return scored, embedder, spy, warm


def test_explanations_do_not_load_the_model_on_an_embedded_day(fake_embedder, tmp_path):
    from recommender.rank import RankOptions, pick_from, sentences

    scored, embedder, spy, warm = _embedded_day(fake_embedder, tmp_path, "centroid")
    first = pick_from(scored, embedder, RankOptions(strategy="centroid", top=5))
    assert spy.asked == []  # the model was not loaded only for key sentences
    assert all(p.because.sentence in sentences(p.paper.abstract) for p in first if sentences(p.paper.abstract))
    # Sentences already embedded are used as they are: the same key sentence as a loaded model gives.
    warm.embed([s for p in first for s in sentences(p.paper.abstract)])
    spy.loaded = True
    loaded = pick_from(scored, embedder, RankOptions(strategy="centroid", top=5))
    spy.loaded = False
    reused = pick_from(scored, embedder, RankOptions(strategy="centroid", top=5))
    assert spy.asked == [] and [p.because for p in reused] == [p.because for p in loaded]


def test_key_sentences_asked_for_are_embedded(fake_embedder, tmp_path):
    from recommender.rank import RankOptions, pick_from, sentences

    scored, embedder, spy, _ = _embedded_day(fake_embedder, tmp_path, "knn")
    picks = pick_from(scored, embedder, RankOptions(strategy="knn", top=3, key_sentences=None))
    assert spy.asked == [s for p in picks for s in sentences(p.paper.abstract)]


def test_date_on_a_day_arxiv_never_announces_is_a_usage_error(liked_jsonl, fake_model, fake_arxiv):
    _new("sr", liked_jsonl)
    for args in (("today", "-p", "sr"), ("today", "-p", "sr", "--offline"), ("fetch", "cs.CV")):
        result = invoke(*args, "--date", "2021-04-24")  # a Saturday
        assert result.exit_code == 2, result.output
        assert result.stderr.splitlines() == [
            "paperrec: error: 2021-04-24 is a Saturday: arXiv listings are dated Monday to Friday; try 2021-04-23"
        ]
    assert fake_arxiv.asked == []


def test_iso_week_and_compact_dates_are_usage_errors(liked_jsonl, fake_model, fake_arxiv):
    _new("sr", liked_jsonl)
    for text in ("2021-W16-4", "20210422", "2021W164", " "):
        result = invoke("today", "-p", "sr", "--date", text)
        assert result.exit_code == 2, result.output
        assert result.stderr.splitlines() == [f"paperrec: error: --date must be YYYY-MM-DD, got {text!r}"]


def test_evaluate_prints_a_summary_within_100_columns(tmp_path, fake_model):
    from .test_evaluate import write_bench

    root = write_bench(tmp_path / "bench")
    result = invoke("evaluate", "--bench", str(root), "-s", "centroid", "-s", "tfidf", "-s", "hybrid", "--days", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= 100
    assert lines[-1].startswith("summary: best ") and " on 4 pairs in 2 lists" in lines[-1]
    headers = [line.split() for line in lines if line.startswith("scorer ")]
    assert headers == [["scorer", "nDCG@10", "recall@10", "recall@25"], ["scorer", "MAP", "MRR"]]


def test_evaluate_shows_one_pair_as_n_1(tmp_path, fake_model):
    from .test_evaluate import write_bench

    root = write_bench(tmp_path / "bench")
    result = invoke("evaluate", "--bench", str(root), "-s", "centroid", "-s", "tfidf", "--limit", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 pair over 1 list;")
    assert "(n = 1)" in result.stdout and not re.search(r"\[([-+]?\d\.\d{3}), \1\]", result.stdout)
    assert result.stdout.splitlines()[-1].startswith("summary: best ") and "on 1 pair in 1 list" in result.stdout


def test_evaluate_refuses_bad_numbers_and_an_unknown_baseline(tmp_path, fake_model):
    from .test_evaluate import write_bench

    root = write_bench(tmp_path / "bench")
    for args, message in (
        (["--days", "0"], "--days must be at least 1, got 0"),
        (["--limit", "-1"], "--limit must be at least 1, got -1"),
        (["--baseline", "bogus"], "unknown --baseline 'bogus': choose one of "),
    ):
        result = invoke("evaluate", "--bench", str(root), "-s", "centroid", *args)
        assert result.exit_code == 2, result.output
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"paperrec: error: {message}")


def test_a_run_must_that_drops_everything_says_so(liked_jsonl, fake_model, example_listing):
    _new("sr", liked_jsonl)
    result = invoke("rank", str(example_listing), "-p", "sr", "--must", "xylophone")
    assert result.exit_code == 0 and result.stdout == "No picks.\n"
    assert "sr: no picks among 59 papers: 59 dropped by the must/never rules" in result.stderr
