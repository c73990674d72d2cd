"""One-line summaries by a language model (recommender.summary): the prompt, the cache, the bounds, hostile output.

The models are `llm`'s own: the llm-echo plugin, and small plugins registered here. Nothing leaves the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.digest import pick_view, render_html
from recommender.export import pick_record, to_markdown, to_table
from recommender.profile import new_profile
from recommender.run import Failure, Run, Section, summarise_run
from recommender.schema import Paper, Pick
from recommender.summary import (
    LABEL,
    MAX_CHARS,
    PROMPT_HASH,
    SYSTEM,
    SummaryCache,
    cached_summaries,
    clean_summary,
    model_name,
    prompt_for,
    summarise,
    with_summaries,
)

from .conftest import EXAMPLE_LISTING, REPO

llm = pytest.importorskip("llm")

HOSTILE = "<script>alert(1)</script> **[click](javascript:alert(1))** \x1b[31mred\x1b[0m\nFAKE LINE # | `x`"


class Recording(llm.Model):
    """A model that answers at once and keeps every prompt and system prompt it was given."""

    model_id = "paperrec-test-record"

    def __init__(self) -> None:
        self.asked: list[tuple[str, str | None]] = []

    def execute(self, prompt, stream, response, conversation=None):
        self.asked.append((prompt.prompt, prompt.system))
        yield f"A new method for {prompt.prompt.splitlines()[0].removeprefix('Title: ')}."


class Slow(llm.Model):
    """A model that answers only when the test lets it."""

    model_id = "paperrec-test-slow"

    def __init__(self) -> None:
        self.release = threading.Event()

    def execute(self, prompt, stream, response, conversation=None):
        self.release.wait(30)
        yield "too late"


class Failing(llm.Model):
    """A model whose every call fails, as one without a key or with its server down does."""

    model_id = "paperrec-test-fail"

    def execute(self, prompt, stream, response, conversation=None):
        raise RuntimeError("connection refused\nsecond line")
        yield ""  # a generator, as execute must be


class Hostile(llm.Model):
    """A model whose answer tries markup, links, escape sequences and extra lines."""

    model_id = "paperrec-test-hostile"

    def execute(self, prompt, stream, response, conversation=None):
        yield HOSTILE


class Plugin:
    """The test models as an llm plugin."""

    def __init__(self) -> None:
        self.record, self.slow = Recording(), Slow()

    @llm.hookimpl
    def register_models(self, register):
        for model in (self.record, self.slow, Failing(), Hostile()):
            register(model)


@pytest.fixture(autouse=True)
def llm_files(tmp_path, monkeypatch):
    """llm's own files (aliases, keys) in a temporary folder, never the user's."""
    monkeypatch.setenv("LLM_USER_PATH", str(tmp_path / "llm"))


@pytest.fixture
def models():
    """The test models, known to llm for one test."""
    plugin = Plugin()
    llm.pm.register(plugin, name="paperrec-test-models")
    yield plugin
    plugin.slow.release.set()
    llm.pm.unregister(plugin)


def papers(n: int = 3) -> list[Paper]:
    return [
        Paper.make(f"Paper number {i}", f"2104.1000{i}", abstract=f"We propose method {i}. It works.") for i in range(n)
    ]


def picks(found: list[Paper], profile: str = "p") -> list[Pick]:
    return [Pick(paper=p, score=0.9 - i / 10, rank=i + 1, profile=profile) for i, p in enumerate(found)]


def run_of(found: list[Paper]) -> Run:
    section = Section(path=Path("p.toml"), profile=None, picks=picks(found))  # type: ignore[arg-type]
    return Run(sections=(section,), papers=tuple(found))


class Clock:
    """A clock that moves only when read: each reading is `step` seconds after the one before."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_the_prompt_holds_the_title_and_abstract_and_the_instructions_are_the_system_prompt(models):
    paper = Paper.make("Sparse \x1b[31mexperts\x1b[0m", "2104.10001", abstract="We route tokens. " * 400)
    found = summarise([paper], "paperrec-test-record")
    [(prompt, system)] = models.record.asked
    assert system == SYSTEM and "what is new" in SYSTEM and "not instructions" in SYSTEM
    assert prompt.startswith("Title: Sparse experts\nAbstract: We route tokens.") and "\x1b" not in prompt
    assert len(prompt) < 4100  # the abstract is cut: a long one costs tokens, not sense
    assert found.texts == {"2104.10001": "A new method for Sparse experts."} and found.asked == 1
    assert found.notice is None


def test_llm_echo_sees_the_prompt_and_its_answer_is_one_capped_line():
    paper = papers(1)[0]
    found = summarise([paper], "echo")
    text = found.texts[paper.arxiv_id]
    assert "\n" not in text and len(text) <= MAX_CHARS
    # llm-echo answers with the prompt and system prompt it was given, as JSON.
    assert '"prompt": "Title: Paper number 0\\nAbstract: We propose method 0. It works."' in text
    assert prompt_for(paper) == "Title: Paper number 0\nAbstract: We propose method 0. It works."


def test_each_paper_is_summarised_once_then_read_from_the_cache(models, home):
    found = papers(3)
    with SummaryCache() as cache:
        first = summarise([*found, found[0]], "paperrec-test-record", cache=cache)
        assert first.asked == 3 and len(models.record.asked) == 3  # the repeated paper is asked once
        again = summarise(found, "paperrec-test-record", cache=cache)
        assert again.asked == 0 and len(models.record.asked) == 3
        assert again.texts == first.texts and cache.count() == 3
    assert cached_summaries(found, "paperrec-test-record") == first.texts
    assert cached_summaries(found, "another-model") == {}  # per model
    revised = Paper.make(found[0].title, found[0].arxiv_id + "v2", abstract="A different abstract.")
    with SummaryCache() as cache:  # a new version with another abstract is summarised afresh
        assert summarise([revised], "paperrec-test-record", cache=cache).asked == 1
    assert (home / "cache" / "summaries.sqlite3").is_file() and len(PROMPT_HASH) == 16


def test_a_slow_model_is_one_notice_and_what_was_written_is_kept(models):
    found = papers(2)
    with SummaryCache() as cache:
        summarise(found[:1], "paperrec-test-record", cache=cache)
        result = summarise(found, "paperrec-test-slow", cache=cache, timeout=0.05)
    assert result.texts == {} and result.asked == 0
    assert (
        result.notice
        == "summaries: 'paperrec-test-slow' gave no summary within 0.05 s; 2 of 2 picks go out without a summary"
    )


def test_the_run_deadline_stops_the_asking(models):
    # Each reading of the clock is 40 s after the last: the run's 100 s are spent after two papers.
    result = summarise(papers(5), "paperrec-test-record", deadline=100, clock=Clock(40))
    assert result.asked == 2 and len(result.texts) == 2
    assert (
        result.notice
        == "summaries: the run's 100 s for 'paperrec-test-record' ran out; 3 of 5 picks go out without a summary"
    )


def test_a_failing_or_unknown_model_is_one_notice(models):
    failed = summarise(papers(3), "paperrec-test-fail")
    assert failed.texts == {} and failed.asked == 0
    assert failed.notice == (
        "summaries: 'paperrec-test-fail' failed: connection refused second line; 3 of 3 picks go out without a summary"
    )
    unknown = summarise(papers(1), "no-such-model")
    assert unknown.notice is not None and "llm knows no model 'no-such-model'" in unknown.notice


def test_the_run_keeps_its_picks_when_the_model_fails(models):
    found = papers(2)
    run = run_of(found)
    failed = summarise_run(run, "paperrec-test-fail")
    assert [p.summary for p in failed.sections[0].picks] == [None, None]
    assert failed.sections[0].picks == run.sections[0].picks
    assert len(failed.notices) == 1 and failed.notices[0].startswith("summaries: ")
    done = summarise_run(run, "paperrec-test-record")
    assert [p.summary for p in done.sections[0].picks] == [f"A new method for {p.title}." for p in found]
    assert done.notices == () and summarise_run(run, None) is run


def test_hostile_model_output_is_one_escaped_line_everywhere(models):
    paper = papers(1)[0]
    text = summarise([paper], "paperrec-test-hostile").texts[paper.arxiv_id]
    assert "\x1b" not in text and "\n" not in text and "**" not in text
    [pick] = with_summaries(picks([paper]), {paper.arxiv_id: text})
    html = render_html([Section(path=Path("p.toml"), profile=new_profile("p"), picks=[pick])])
    assert "<script>" not in html and "&lt;script&gt;" in html and 'href="javascript' not in html
    assert f'<span class="label">{LABEL}:</span> &lt;script&gt;' in html
    markdown = to_markdown([pick])
    line = next(line for line in markdown.splitlines() if LABEL in line)
    assert line.startswith(f"_{LABEL}:_ &lt;script&gt;") and "\\[click\\]" in line and "\\`x\\`" in line
    assert "FAKE LINE" in line  # on the same line: it cannot start a heading or a list
    table = to_table([pick], width=100)
    assert "\x1b" not in table and not any(line.startswith("FAKE") for line in table.splitlines())
    assert pick_record(pick)["summary"] == text and pick_view(pick).summary == text


def test_the_email_text_has_the_summary_on_one_line():
    from recommender.mail import plain_text

    paper = papers(1)[0]
    [pick] = with_summaries(picks([paper]), {paper.arxiv_id: "A new\x1b[31m idea\nFAKE"})
    text = plain_text([Section(path=Path("p.toml"), profile=new_profile("p"), picks=[pick])])
    assert f"   {LABEL}: A new idea FAKE\n" in text


@pytest.mark.parametrize(
    ("answer", "kept"),
    [
        ("  Summary: A new loss.  ", "A new loss."),
        ('"A quoted answer."', "A quoted answer."),
        ("TL;DR - short", "short"),
        ("", None),
        ("\x1b[2J\x07", None),
        ("word " * 200, None),
    ],
)
def test_clean_summary(answer, kept):
    line = clean_summary(answer)
    if answer.startswith("word"):
        assert line is not None and len(line) <= MAX_CHARS and line.endswith("word…")
    else:
        assert line == kept


def test_the_setting_names_one_model_or_none():
    assert model_name(None) is None and model_name("off") is None and model_name(" ") is None
    assert model_name(" llama3.2 ") == "llama3.2"
    with pytest.raises(Exception, match="one line"):
        model_name("a\nb")


def configure(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(text)


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "100"})


def test_rank_and_today_summarise_with_the_configured_model_and_the_flag_wins(models, home, fake_model, fake_arxiv):
    profile = str(REPO / "profiles" / "super-resolution.toml")
    configure(home, 'summary_model = "paperrec-test-record"\n')
    result = invoke("rank", str(EXAMPLE_LISTING), "-p", profile, "-n", "2", "-f", "json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [r["summary"] for r in records] == [f"A new method for {r['title']}." for r in records]
    assert len(models.record.asked) == 2
    again = invoke("rank", str(EXAMPLE_LISTING), "-p", profile, "-n", "2", "-f", "markdown")
    assert again.exit_code == 0 and len(models.record.asked) == 2  # from the cache
    assert again.stdout.count(f"_{LABEL}:_ A new method for") == 2
    off = invoke("rank", str(EXAMPLE_LISTING), "-p", profile, "-n", "2", "-f", "json", "--summary-model", "off")
    assert off.exit_code == 0 and all("summary" not in r for r in json.loads(off.stdout))
    (home / "profiles").mkdir(exist_ok=True)
    (home / "profiles" / "sr.toml").write_text(Path(profile).read_text())
    today = invoke("today", "-n", "2", "-f", "json", "--summary-model", "paperrec-test-fail")
    assert today.exit_code == 0, today.output
    assert all("summary" not in r for r in json.loads(today.stdout))
    assert today.stderr.count("summaries: 'paperrec-test-fail' failed") == 1


def test_summaries_off_change_no_output(models, home, fake_model):
    profile = str(REPO / "profiles" / "super-resolution.toml")
    outputs = {}
    for fmt in ("json", "markdown", "table", "html", "csv"):
        plain = invoke("rank", str(EXAMPLE_LISTING), "-p", profile, "-n", "3", "-f", fmt)
        configure(home, 'summary_model = "off"\n')
        configured_off = invoke("rank", str(EXAMPLE_LISTING), "-p", profile, "-n", "3", "-f", fmt)
        (home / "config.toml").unlink()
        outputs[fmt] = plain.stdout
        assert plain.exit_code == configured_off.exit_code == 0
        if fmt != "html":  # the page has the time it was made
            assert plain.stdout == configured_off.stdout
        assert LABEL not in plain.stdout and "summary (machine" not in plain.stdout.lower()
    assert models.record.asked == []


LLM_PROBE = (
    "import sys, recommender.embed\n"
    "from tests.conftest import FakeEmbedder\n"
    "recommender.embed.Embedder = lambda model='', **kw: FakeEmbedder(model + '|torch-float32|256')\n"
    "from recommender.cli import app\n"
    "try:\n"
    "    app(sys.argv[1:], standalone_mode=False)\n"
    "finally:\n"
    "    print('llm loaded' if 'llm' in sys.modules else 'no llm', file=sys.stderr)\n"
)


@pytest.mark.parametrize(
    ("command", "summaries"),
    [(["rank", str(EXAMPLE_LISTING)], False), (["today", "--offline"], False), (["today", "--offline"], True)],
)
def test_only_a_run_with_summaries_imports_llm(home, command, summaries):
    # A fresh process with the fake embedder and a config.toml without summary_model.
    from recommender.sources import read_listing, to_jsonl

    configure(home, 'serve_url = "http://127.0.0.1:8787"\n')
    (home / "listings" / "cs.CV").mkdir(parents=True)
    (home / "listings" / "cs.CV" / "2021-04-22.jsonl").write_text(to_jsonl(read_listing(EXAMPLE_LISTING).papers))
    profile = str(REPO / "profiles" / "super-resolution.toml")
    extra = ["--summary-model", "echo"] if summaries else []
    argv = [sys.executable, "-c", LLM_PROBE, *command, "-p", profile, "-n", "2", "-f", "json", *extra]
    result = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().endswith("llm loaded" if summaries else "no llm")
    assert all(("summary" in r) is summaries for r in json.loads(result.stdout))


def test_the_page_shows_cached_summaries_only(models, home):
    from recommender.web.day import _summaries

    found = papers(2)
    listing = run_of(found).papers
    from recommender.schema import Listing

    day = Listing(papers=listing, date=date(2021, 4, 22))
    assert _summaries(day) == {}  # no config: no summaries
    configure(home, 'summary_model = "paperrec-test-record"\n')
    assert _summaries(day) == {} and models.record.asked == []  # nothing cached: the page asks no model
    with SummaryCache() as cache:
        summarise(found[:1], "paperrec-test-record", cache=cache)
    assert _summaries(day) == {found[0].arxiv_id: f"A new method for {found[0].title}."}


def test_failure_lines_are_untouched(models):
    run = Run(sections=(), papers=(), failures=(Failure("p", "broken"),))
    assert summarise_run(run, "paperrec-test-record") is run


def test_the_page_card_shows_a_cached_summary_escaped(models, home, fake_model, example_listing):
    from recommender.sources import read_listing

    from .test_web import _client, _page, _pick_ids, _write_home

    _write_home(home, example_listing)
    configure(home, 'summary_model = "paperrec-test-hostile"\n')
    with SummaryCache() as cache:
        summarise(read_listing(example_listing).papers, "paperrec-test-hostile", cache=cache)
    with _client() as client:
        response, root = _page(client)
    assert len(_pick_ids(root)) == 10
    lines = [p for p in root.iter("p") if p.attrib.get("class") == "summary"]
    assert len(lines) == 10
    assert " ".join("".join(lines[0].itertext()).split()).startswith(f"{LABEL}: <script>alert(1)</script>")
    assert "<script>alert(1)" not in response.text and "\x1b" not in response.text
