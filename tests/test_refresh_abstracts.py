"""`paperrec profile refresh` fills the abstracts liked and disliked papers lack, and keeps every other byte."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

import recommender.sources.arxiv as arxiv
from recommender.cli import app
from recommender.profile import import_into_profile, load_profile, refresh_library, undo
from recommender.profile.library import report_lines
from recommender.sources import http, openalex

from .fixture_apis import ApiServer, arxiv_api_route, inverted, openalex_doi_route, work

DOI = "10.1109/tpami.2019.0001"
PROFILE = f"""# my library, imported offline; my notes stay
name = "lib"
categories = ["cs.CV"]  # vision only

# the first paper I read
[[liked]]
id = "2104.10642"  # diffusion SR
title = "Image Super-Resolution via Iterative Refinement"
abstract = ""
added = 2021-05-01
weight = 2.0

[[liked]]
id = "doi:{DOI}"
title = "Graph Kernels Revisited"
added = 2021-05-02   # from the journal

[[liked]]
id = "1706.03762"
title = "Attention Is All You Need"
abstract = "My own summary: attention, no recurrence."
added = 2021-05-03

[[liked]]
id = "t:0123456789ab"
title = "A Book Without Any Id"
added = 2021-05-04

# kept for the record
[[disliked]]
id = "2101.00002"
title = "A Paper I Did Not Like"
added = 2021-05-05
"""
INLINE = """name = "inline"
liked = [
  {id = "2104.10642", title = "Image Super-Resolution via Iterative Refinement"},  # one per line
  # a DOI paper
  {id = "doi:10.1109/tpami.2019.0001", title = "Graph Kernels Revisited", abstract = ""},
]
disliked = [{id = "2101.00002", title = "A Paper I Did Not Like"}]
"""
ARXIV = {
    "2104.10642": ("Image Super-Resolution via Iterative Refinement", "We present SR3 for super-resolution.", "J. Ho"),
    "1706.03762": ("Attention Is All You Need", "The Transformer, from arXiv.", "A. Vaswani"),
    "2101.00002": ("A Paper I Did Not Like", "An abstract about markets.", "B. Author"),
}
OPENALEX = [
    work(2, date(2019, 5, 1), doi=f"https://doi.org/{DOI}", abstract_inverted_index=inverted("Graph kernels compare."))
]
FOUND = {
    "2104.10642": "We present SR3 for super-resolution.",
    f"doi:{DOI}": "Graph kernels compare.",
    "2101.00002": "An abstract about markets.",
}


class Services:
    """The local arXiv API and OpenAlex the lookups are pointed at."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, status: int = 200) -> None:
        self.arxiv = ApiServer(arxiv_api_route(ARXIV, status))
        self.openalex = ApiServer(openalex_doi_route(OPENALEX, status))
        monkeypatch.setattr(arxiv, "API_URL", self.arxiv.url + "/api/query")
        monkeypatch.setattr(openalex, "API_URL", self.openalex.url + "/works")
        monkeypatch.setattr(openalex, "MIN_INTERVAL", 0.0)
        monkeypatch.setattr(http, "DEFAULT_MIN_INTERVAL", 0.0)
        monkeypatch.setattr(http, "DEFAULT_BACKOFF", 0.01)

    @property
    def asked(self) -> int:
        return len(self.arxiv.paths) + len(self.openalex.paths)

    def close(self) -> None:
        self.arxiv.close()
        self.openalex.close()


@pytest.fixture
def services(monkeypatch):
    made = Services(monkeypatch)
    yield made
    made.close()


def write(home: Path, name: str, text: str) -> Path:
    path = home / "profiles" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def abstracts(path: Path) -> dict[str, str]:
    profile = load_profile(path)
    return {e.paper.arxiv_id: e.paper.abstract for e in profile.liked + profile.disliked}


def test_refresh_fills_the_missing_abstracts_and_keeps_every_other_byte(home, services):
    path = write(home, "lib", PROFILE)
    result = invoke("profile", "refresh", "lib")
    assert result.exit_code == 0, result.output
    found = abstracts(path)
    assert {i: found[i] for i in FOUND} == FOUND
    assert found["1706.03762"] == "My own summary: attention, no recurrence."  # the user's own abstract
    assert found["t:0123456789ab"] == ""  # a title id cannot be looked up
    text = path.read_text()
    # Each new key where a new entry has it (authors, then abstract, above `added`); the first entry keeps its
    # `abstract = ""` line, now filled, and every other byte stays.
    assert text == PROFILE.replace(
        'abstract = ""\nadded = 2021-05-01',
        'authors = ["J. Ho"]\nabstract = "We present SR3 for super-resolution."\nadded = 2021-05-01',
    ).replace(
        "added = 2021-05-02",
        'authors = ["Rosalind2 Franklin", "Linus Pauling"]\nabstract = "Graph kernels compare."\nadded = 2021-05-02',
    ).replace(
        "added = 2021-05-05",
        'authors = ["B. Author"]\nabstract = "An abstract about markets."\nadded = 2021-05-05',
    )
    assert "2 liked papers got their abstract" in result.stderr
    assert "1 disliked paper got its abstract" in result.stderr and f"profile saved: {path}" in result.stderr
    asked = services.asked
    assert len(services.arxiv.paths) == 1 and "1706.03762" not in services.arxiv.paths[0]  # it has its abstract
    again = invoke("profile", "refresh", "lib")
    assert again.exit_code == 0 and path.read_text() == text and services.asked == asked
    assert "got their abstract" not in again.stderr and f"profile unchanged: {path}" in again.stderr


def test_inline_tables_in_a_multi_line_array_get_their_abstracts(home, services):
    path = write(home, "inline", INLINE)
    report = refresh_library("inline")
    assert sorted(report.abstracts) == sorted(FOUND)
    assert abstracts(path) == FOUND
    text = path.read_text()
    assert text.startswith('name = "inline"\nliked = [\n  {id = "2104.10642", title = "Image Super-Resolution')
    assert 'authors = ["J. Ho"]},  # one per line\n  # a DOI paper\n  {id = "doi:' in text
    assert text.endswith('abstract = "An abstract about markets.", authors = ["B. Author"]}]\n')
    assert report.abstract_lines() == ["2 liked papers got their abstract", "1 disliked paper got its abstract"]


@pytest.mark.parametrize("text", [PROFILE, INLINE])
def test_undo_of_the_fill_restores_the_file(home, services, text):
    path = write(home, "lib", text)
    from recommender.profile import change_profile, fill_abstracts
    from recommender.schema import Paper

    papers = [Paper.make(t, i, FOUND.get(i, "x"), authors=(a,)) for i, (t, _, a) in ARXIV.items()]
    papers.append(Paper.make("Graph Kernels Revisited", f"doi:{DOI}", FOUND[f"doi:{DOI}"]))
    edited = change_profile(path, [fill_abstracts(papers)])
    assert path.read_text() != text and {s.key for s in edited.settings} == {"abstract", "authors"}
    if "1706.03762" in text:  # asked to fill an abstract the user wrote: the change leaves it
        assert abstracts(path)["1706.03762"] == "My own summary: attention, no recurrence."
        assert "1706.03762" not in {s.paper for s in edited.settings}
    undone = undo(edited)
    assert path.read_text() == text
    undo(undone)  # and the undo's undo fills them again
    assert {i: abstracts(path)[i] for i in FOUND} == FOUND


def test_offline_asks_nothing_but_reads_the_cache(home, services):
    path = write(home, "lib", PROFILE)
    result = invoke("profile", "refresh", "lib", "--offline")
    assert result.exit_code == 0, result.output
    assert services.asked == 0 and path.read_text() == PROFILE and "got their abstract" not in result.stderr
    other = write(home, "other", PROFILE.replace('name = "lib"', 'name = "other"'))
    assert invoke("profile", "refresh", "other").exit_code == 0  # online: the answers are cached
    asked = services.asked
    result = invoke("profile", "refresh", "lib", "--offline")
    assert result.exit_code == 0, result.output
    assert services.asked == asked and abstracts(path) == abstracts(other)
    assert "2 liked papers got their abstract" in result.stderr


def test_a_failing_service_writes_nothing_and_says_one_line(home, monkeypatch):
    down = Services(monkeypatch, status=503)
    try:
        path = write(home, "lib", PROFILE)
        result = invoke("profile", "refresh", "lib")
    finally:
        down.close()
    assert result.exit_code == 75, result.output  # try later: cron's retry fetches them
    assert path.read_text() == PROFILE
    notices = [line for line in result.stderr.splitlines() if "could not fetch" in line]
    assert len(notices) == 1 and "Traceback" not in result.output
    assert "could not fetch metadata for 2 papers" in notices[0]
    assert "could not fetch abstracts of 1 DOI (" in notices[0]
    assert "got their abstract" not in result.stderr
    # With no pending paper, what is still missing and the retry are said, not "0 pending papers filled in".
    assert "pending" not in result.stderr
    assert (
        "lib: 2 liked papers and 1 disliked paper still have no abstract; run later: paperrec profile refresh lib\n"
        in (result.stderr)
    )


def test_a_refresh_with_nothing_to_fetch_says_so_and_asks_nothing(home, services):
    text = 'name = "done"\n\n[[liked]]\nid = "1706.03762"\ntitle = "Attention"\nabstract = "Mine."\n'
    path = write(home, "done", text)
    result = invoke("profile", "refresh", "done")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "done: nothing to fetch, every paper has its title and abstract",
        f"profile unchanged: {path}",
    ]
    assert services.asked == 0 and path.read_text() == text


def test_an_offline_import_names_the_refresh_that_fetches_the_abstracts(home, tmp_path, monkeypatch):
    library = tmp_path / "library.bib"
    library.write_text(
        "@article{kernels, title = {Graph Kernels Revisited}, author = {Babbage, Charles}, year = {2019},\n"
        f"  doi = {{{DOI}}}}}\n"
    )
    result = invoke("profile", "import", "lib", str(library), "--offline")
    assert result.exit_code == 0, result.output
    assert (
        "1 added paper has no abstract; its title is used instead; to fetch it, run online: "
        "paperrec profile refresh lib\n" in result.stderr
    )
    down = Services(monkeypatch, status=503)
    try:  # online, with OpenAlex down: the notice says so, and the hint says when
        online = invoke("profile", "import", "other", str(library))
    finally:
        down.close()
    assert "1 added paper has no abstract" in online.stderr
    assert "to fetch it, run later: paperrec profile refresh other\n" in online.stderr
    elsewhere = import_into_profile(tmp_path / "my lib.toml", [library], lookup=None, cache=None)
    hint = f"run online: paperrec profile refresh '{tmp_path}/my lib.toml'"
    assert any(line.endswith(hint) for line in report_lines(elsewhere))


def test_an_entry_an_offline_import_wrote_without_an_abstract_is_filled_by_refresh(home, tmp_path, services):
    library = tmp_path / "library.bib"
    title = "Image Super-Resolution via Iterative Refinement"
    library.write_text(f"@article{{sr, title = {{{title}}}, eprint = {{2104.10642}}}}\n")
    assert invoke("profile", "import", "lib", str(library), "--offline").exit_code == 0
    path = home / "profiles" / "lib.toml"
    written = path.read_text()
    assert "abstract" not in written  # no `abstract = ""` line: the entry lacks the key
    result = invoke("profile", "refresh", "lib")
    assert result.exit_code == 0, result.output
    assert abstracts(path) == {"2104.10642": "We present SR3 for super-resolution."}
    title_line = f'title = "{title}"\n'
    found = 'authors = ["J. Ho"]\nabstract = "We present SR3 for super-resolution."\n'
    assert path.read_text() == written.replace(title_line, title_line + found)  # where a new entry has them


def test_a_filled_abstract_refits_the_stored_ranker(home, services, fake_model, example_listing):
    """Stored rankers are keyed by the liked and disliked texts: an abstract found changes the key, so the next rank
    fits again instead of reusing the model fitted on titles."""
    import numpy as np

    from recommender.paths import ranker_path

    more = "".join(
        f'\n[[liked]]\nid = "2101.0100{n}"\ntitle = "Video super-resolution {n}"\nabstract = "Frames, sharper."\n'
        for n in range(2)
    )
    write(home, "lib", PROFILE + more)  # five likes or more: the hybrid fits and stores a ranker

    def stored_key() -> str:
        with np.load(ranker_path("lib"), allow_pickle=False) as stored:
            return str(stored["key"])

    assert invoke("rank", str(example_listing), "-p", "lib", "-f", "json").exit_code == 0
    on_titles = stored_key()
    assert invoke("rank", str(example_listing), "-p", "lib", "-f", "json").exit_code == 0
    assert stored_key() == on_titles  # unchanged profile: reused
    assert invoke("profile", "refresh", "lib").exit_code == 0
    assert invoke("rank", str(example_listing), "-p", "lib", "-f", "json").exit_code == 0
    assert stored_key() != on_titles


QUOTED = """name = "quoted"

[[liked]]
id = "1706.03762"
title = "Attention Is All You Need"
abstract = "My own summary."

[[ liked ]]  # a spaced header
id = "2104.10642"
title = "Image Super-Resolution via Iterative Refinement"
"abstract" = ""  # quoted, as TOML allows
added = 2021-05-01
"""


def test_a_quoted_abstract_key_is_filled_on_its_line_and_the_header_stays_as_written(home, services):
    path = write(home, "quoted", QUOTED)
    report = refresh_library("quoted")
    assert report.abstracts == ("2104.10642",)
    text = path.read_text()
    filled = '"abstract" = "We present SR3 for super-resolution."'
    assert text == QUOTED.replace('"abstract" = ""', f'authors = ["J. Ho"]\n{filled}')  # above the quoted key


def test_a_paper_the_services_have_no_abstract_for_is_named_once_asked(home, services):
    """arXiv answered and knows no such paper: the refresh says what is still missing, with no retry to run."""
    text = 'name = "gap"\n\n[[liked]]\nid = "2105.99999"\ntitle = "A Paper arXiv Does Not Know"\nadded = 2021-05-01\n'
    path = write(home, "gap", text)
    result = invoke("profile", "refresh", "gap")
    assert result.exit_code == 0, result.output
    assert services.asked == 1 and path.read_text() == text
    assert result.stderr.splitlines() == [
        "gap: 1 liked paper still has no abstract: none was found",
        f"profile unchanged: {path}",
    ]


def test_a_found_abstract_goes_above_the_keys_and_comments_that_follow_it_in_a_new_entry(tmp_path):
    """Where a new entry has its abstract: after authors, above links, added and weight, and above a comment the
    researcher wrote over `added`; CRLF files keep CRLF."""
    from recommender.profile import change_profile, fill_abstracts
    from recommender.schema import Paper

    text = (
        'name = "p"\n\n[[liked]]\nid = "2101.00006"  # mine\ntitle = "Fits"\nauthors = ["Ada Lovelace"]\n'
        '# read twice\nadded = 2021-05-01\nweight = 2.0\nmy_note = "keep"\n\n# next\n[[liked]]\nid = "2101.00007"\n'
        'title = "Wider"\nmy_note = "no paperrec key follows"\n'
    )
    found = [Paper.make("Fits", "2101.00006", "Found."), Paper.make("Wider", "2101.00007", "Too.", authors=["B"])]
    for newline in ("\n", "\r\n"):
        path = tmp_path / "p.toml"
        path.write_bytes(text.replace("\n", newline).encode())
        change_profile(path, [fill_abstracts(found)])
        last = 'my_note = "no paperrec key follows"\n'
        expected = text.replace("# read twice", 'abstract = "Found."\n# read twice')
        expected = expected.replace(last, last + 'authors = ["B"]\nabstract = "Too."\n')  # after the last key
        assert path.read_bytes() == expected.replace("\n", newline).encode()
