"""Imports as reference managers write them: Zotero, Better BibLaTeX, NASA ADS, Mendeley, Google Scholar, notes."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.profile import import_into_profile, load_profile, refresh_profile
from recommender.schema import Paper, PaperrecError, title_id
from recommender.sources.bibtex import latex_to_text
from recommender.sources.idlist import bibcode_arxiv_id, find_arxiv_id, parse_arxiv_ref
from recommender.sources.imports import read_collection, read_collections
from recommender.sources.metadata import MetadataCache

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
ZOTERO = FIXTURES / "zotero-style.bib"
ADS = FIXTURES / "ads-style.bib"
MENDELEY = FIXTURES / "mendeley-style.bib"
SCHOLAR = FIXTURES / "scholar-style.bib"
CSL = FIXTURES / "zotero-notes.json"
RDF = FIXTURES / "zotero-notes.rdf"
IDS = FIXTURES / "ids-placeholders.txt"
OVER_TIME = FIXTURES / "liked-over-time.bib"
ALL = [ZOTERO, ADS, MENDELEY, SCHOLAR, CSL, RDF, IDS]
TODAY = date.today()


def ids_by_title(path: Path) -> dict[str, str]:
    return {p.title: p.arxiv_id for p in read_collection(path).papers}


@pytest.mark.parametrize(
    ("bibcode", "arxiv_id"),
    [
        ("2022arXiv220801611B", "2208.01611"),
        ("2014arXiv1412.6980K", "1412.6980"),
        ("1998astro.ph..2064X", "astro-ph/9802064"),
        ("2004hep.th....8048S", "hep-th/0408048"),
        ("2003math......6266C", "math/0306266"),
        ("1997cond.mat..6061A", "cond-mat/9706061"),
        ("2021ApJ...912...41X", None),  # a journal's bibcode
        ("2021arXiv220801611B", None),  # the year does not fit the id
        ("2022arXiv220800000B", None),  # a number of zero
        ("1998astro.ph.2064X", None),  # 18 characters
        ("1998foo.ba...2064X", None),  # not an arXiv archive
    ],
)
def test_ads_bibcodes(bibcode, arxiv_id):
    assert bibcode_arxiv_id(bibcode) == arxiv_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("arXiv:2305.00000", None),  # a placeholder
        ("arXiv:0000.00000", None),
        ("arXiv:hep-th/9901000", None),
        ("doi:10.1103/arxiv:2104.10642", None),  # another publisher's DOI
        ("report 12104.106421 and arXiv:2104.106421", None),  # inside longer numbers
        ("eprint: arXiv:astro-ph/9802064", ("astro-ph/9802064", None)),
        ("see https://ui.adsabs.harvard.edu/abs/2022arXiv220801611B/abstract", ("2208.01611", None)),
        ("arXiv:2104.10642v2 [cs.CV]", ("2104.10642", 2)),
    ],
)
def test_find_arxiv_id_never_invents_one(text, expected):
    assert find_arxiv_id(text) == expected


def test_parse_arxiv_ref_takes_ads_urls_and_refuses_placeholders():
    assert parse_arxiv_ref("https://ui.adsabs.harvard.edu/abs/2020arXiv200608561X") == ("2006.08561", None)
    assert parse_arxiv_ref("2305.00000") is None
    assert parse_arxiv_ref("2305.00000", placeholder=True) == ("2305.00000", None)


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"\$\textbackslash alpha\$-{Divergence}", r"$\alpha$-Divergence"),  # Zotero's escaped math
        (r"\$\textbackslash mathcal\{O\}(n)\$ time", r"$\mathcal{O}(n)$ time"),
        (r"Z\textasciitilde 4-7", "Z~4-7"),
        (r"3 \texttimes{} 2pt", "3 \N{MULTIPLICATION SIGN} 2pt"),
        (r"TGF-{\textbeta} and NF-{\textkappa}B, {\textDelta}G", "TGF-β and NF-κB, ΔG"),  # Better BibTeX's Greek
        (r"5 {\textmu}M, 3 {\textperiodcentered} 2", "5 \N{MICRO SIGN}M, 3 \N{MIDDLE DOT} 2"),
        (r"at {\textminus}80 {\textdegree}C, 2{\textpermille}", "at \N{MINUS SIGN}80 °C, 2‰"),
        (r"a{\textunderscore}b{\textbar}c", "a_b|c"),
        (r"{\"u}ber M{\"u}ller", "über Müller"),
        (r"$z\sim0.1$ kept", r"$z\sim0.1$ kept"),
        ("50% better & faster", "50% better & faster"),  # a bare % is no comment in a title
        (r"\url{https://github.com/x/y} and \href{https://x.org}{the site}", "https://github.com/x/y and the site"),
    ],
)
def test_latex_reads_as_zotero_shows_it(latex, text):
    assert latex_to_text(latex) == text


def test_zotero_bibtex_titles_abstracts_and_dates():
    result = read_collection(ZOTERO)
    papers = {p.arxiv_id: p for p in result.papers}
    alpha = papers["2106.04417"]
    assert alpha.title == r"$\alpha$-Divergence Minimization for Sparse Gaussian Processes"
    times = "\N{MULTIPLICATION SIGN}"
    assert (
        alpha.abstract
        == f"We minimise the $\\alpha$-divergence at Z~4-7 on a 3 {times} 2pt grid, with über-simple priors."
    )
    assert alpha.authors == ("Anna Rossi", "Jörg Müller")
    assert papers["2011.01234"].title == "Café and Naïve François: Accents in BibTeX \N{EN DASH} and Dashes"
    assert papers["2208.01611"].title == r"Ultra-Fast Gaussian Splatting at $\mathcal{O}(n \log n)$ Cost"
    added = dict(zip([p.arxiv_id for p in result.papers], result.added, strict=True))
    assert added["2106.04417"] == date(2021, 6, 20)  # urldate, before year + month = jun
    assert added["2208.01611"] == date(2022, 8, 10)  # urldate, before the BibLaTeX date
    assert added["2011.01234"] == date(2020, 11, 1)  # month = {11}


def test_works_sharing_a_title_stay_apart_and_duplicates_are_merged():
    result = read_collection(ZOTERO)
    titles = [p.title for p in result.papers]
    # "Deep learning" (2015) and "Deep Learning" (2016) are two works; so are two pages without a year
    assert titles.count("Online reference") == 2 and {"Deep learning", "Deep Learning"} <= set(titles)
    assert len({p.arxiv_id for p in result.papers}) == len(result.papers) == 7 and result.merged == 0
    assert title_id("Deep learning") in {p.arxiv_id for p in result.papers}  # the first keeps the plain title id
    both = read_collections([ZOTERO, CSL, RDF])
    deep = [p for p in both.papers if p.title.lower() == "deep learning"]
    assert len(deep) == 2  # the CSL 2015 article joins the BibTeX one (same DOI), the RDF 2016 book the book
    assert both.merged == 4  # deep learning twice, the alpha-divergence paper (arXiv id), 2208.01611 (ADS URL)


def test_every_arxiv_id_is_found_and_none_invented():
    found = {path.name: ids_by_title(path) for path in (ADS, MENDELEY, SCHOLAR)}
    assert found["ads-style.bib"] == {
        "Dust Lanes in Nearby Galaxies at $z\\sim0.1$": "2006.08561",
        "A Galaxy Survey Published in a Journal": "doi:10.3847/1538-4357/abe000",  # no arXiv id: its DOI
        "An Old Preprint Known Only by Its Address": "astro-ph/9802064",
        "Only the Bibcode Tells": "2209.00017",  # the entry key is the bibcode
        "An Old-Style Bibcode": "astro-ph/9803123",
        "A Bibcode Whose Year Does Not Fit": title_id("A Bibcode Whose Year Does Not Fit"),
    }
    assert found["mendeley-style.bib"] == {
        "Attention is all you need": "1706.03762",
        "Deep residual learning for image recognition": "1512.03385",  # second of two space-separated URLs
        "An image is worth 16x16 words": "2010.11929",  # comma-separated
        "BERT: Pre-training of deep bidirectional transformers": "1810.04805",  # newline-separated
    }
    scholar = found["scholar-style.bib"]
    assert scholar["Adam: A method for stochastic optimization"] == "1412.6980"
    for title in ("A draft whose id was never filled in", "A report numbered like an id"):
        assert scholar[title] == title_id(title)  # 2305.00000 and 12104.106421 are no ids


def test_malformed_entries_are_skipped_with_their_true_reason():
    skipped = dict(read_collection(SCHOLAR).skipped)
    assert skipped == {
        f"{SCHOLAR}:23 @article{{nocomma2020}}": "malformed BibTeX entry: a comma is missing after the entry key",
        f"{SCHOLAR}:28 @article{{runon2021}}": "malformed BibTeX entry: a comma is missing before the field 'author'",
    }


def test_zotero_notes_attachments_and_annotations_are_never_papers():
    csl = read_collection(CSL)
    assert "germ" not in [p.title for p in csl.papers] and "Full Text PDF" not in [p.title for p in csl.papers]
    assert [what.rsplit("/", 1)[-1] for what, _ in csl.ignored] == ["GERM0001)", "ATTACH01)"]
    assert {p.arxiv_id for p in csl.papers} == {"2104.10642", "2106.04417", "doi:10.1038/nature14539", "2208.01611"}
    rdf = read_collection(RDF)
    assert [p.title for p in rdf.papers] == ["Dust Lanes in Nearby Galaxies", "Deep Learning"]
    assert "1706.03762" not in {p.arxiv_id for p in rdf.papers}  # mentioned only in a note
    assert len(rdf.ignored) == 3 and rdf.skipped == ()
    # dateAdded first, then the access date; CSL: accessed, then issued
    assert rdf.added == (date(2020, 7, 1), date(2019, 3, 4))
    assert csl.added[:3] == (date(2021, 4, 23), date(2021, 6, 1), date(2015, 5, 27))


def test_id_lists_refuse_placeholders_and_merge_repeats():
    result = read_collection(IDS)
    assert [p.arxiv_id for p in result.papers] == ["2104.10642", "1706.03762", "hep-th/9901001"]
    assert result.merged == 2
    assert [why.split(":")[0] for _, why in result.skipped] == [
        "not an id arXiv has issued (a placeholder or a typo?)"
    ] * 3


def fake_lookup(asked: list[list[str]], known: set[str] | None = None):
    def lookup(ids: list[str]) -> dict[str, Paper]:
        asked.append(list(ids))
        return {
            i: Paper.make(f"Title of {i}", i, f"Abstract of {i}.", ["A. Author"])
            for i in ids
            if known is None or i in known
        }

    return lookup


def test_the_report_accounts_for_every_entry(tmp_path):
    report = import_into_profile(tmp_path / "all.toml", ALL, lookup=None, cache=None)
    entries = 7 + 6 + 4 + 6 + 6 + 5 + 8  # per file: entries, items or id lines, broken and notes included
    assert report.read == entries
    accounted = len(report.added) + report.already_present + report.merged + len(report.pending)
    assert accounted + len(report.skipped) + report.ignored == entries
    assert report.ignored == 5 and len(report.skipped) == 5 and report.merged == 10
    assert report.pending == ("hep-th/9901001",)  # the other ids of the list come with a title from other files
    profile = load_profile(tmp_path / "all.toml")
    assert [p.arxiv_id for p in profile.pending] == ["hep-th/9901001"]
    assert len(profile.liked) == len(report.added)


def test_offline_id_list_is_kept_pending_then_filled_by_an_online_import(tmp_path):
    path = tmp_path / "ids.toml"
    offline = import_into_profile(path, [IDS], lookup=None, cache=None)
    assert offline.added == () and offline.notice is None  # nothing was fetched, so nothing "could not be"
    assert offline.pending == ("2104.10642", "1706.03762", "hep-th/9901001")
    profile = load_profile(path)
    assert profile.liked == () and [p.arxiv_id for p in profile.pending] == list(offline.pending)
    assert profile.ids == set(offline.pending)  # never picked as if new
    text = path.read_text()
    assert '[[pending]]\nid = "2104.10642"\nsection = "liked"\nadded = ' in text

    asked: list[list[str]] = []
    cache = MetadataCache(tmp_path / "meta.sqlite3")
    online = import_into_profile(path, [RDF], lookup=fake_lookup(asked, {"2104.10642", "1706.03762"}), cache=cache)
    assert sorted(asked[0]) == sorted(["2006.08561", "2104.10642", "1706.03762", "hep-th/9901001"])  # one batch
    assert [p.arxiv_id for p in online.filled] == ["2104.10642", "1706.03762"]
    profile = load_profile(path)
    liked = {p.paper.arxiv_id: p.paper for p in profile.liked}
    assert liked["2104.10642"].title == "Title of 2104.10642" and "2006.08561" in liked
    assert [p.arxiv_id for p in profile.pending] == []  # hep-th/9901001: arXiv answered without it
    assert online.pending == ()


@pytest.mark.parametrize("online", [False, True])
def test_a_library_file_with_the_text_of_pending_papers_fills_them_in(tmp_path, online):
    path = tmp_path / "ids.toml"
    import_into_profile(path, [IDS], lookup=None, cache=None)
    library = tmp_path / "library.bib"
    library.write_text(
        "@article{vaswani2017,\n  title = {Attention Is All You Need},\n  author = {Vaswani, Ashish},\n"
        "  abstract = {The dominant sequence transduction models.},\n  eprint = {1706.03762},\n  year = {2017}\n}\n"
    )
    lookup = fake_lookup([], set()) if online else None
    report = import_into_profile(path, [library], lookup=lookup, cache=None)
    assert [p.arxiv_id for p in report.filled] == ["1706.03762"] and report.added == ()
    profile = load_profile(path)
    assert [p.paper.arxiv_id for p in profile.liked] == ["1706.03762"]  # once, with the file's text
    assert profile.liked[0].paper.abstract == "The dominant sequence transduction models."
    assert "1706.03762" not in [p.arxiv_id for p in profile.pending]
    assert path.read_text().count('"1706.03762"') == 1


def test_a_reimport_with_abstracts_fills_the_ones_the_profile_lacks_and_keeps_the_rest(tmp_path, home):
    def entry(key: str, arxiv_id: str, title: str, abstract: str = "") -> str:
        text = f"  abstract = {{{abstract}}},\n" if abstract else ""
        return f"@article{{{key},\n  title = {{{title}}},\n{text}  eprint = {{{arxiv_id}}},\n  year = {{2021}}\n}}\n"

    bare = tmp_path / "bare.bib"  # a first export made without abstracts
    bare.write_text(entry("a", "2104.10642", "Temporal Modulation") + entry("b", "2104.10490", "FIERY"))
    path = tmp_path / "p.toml"
    import_into_profile(path, [bare], lookup=None, cache=None)
    written = path.read_text()
    assert "abstract" not in written  # an import without abstracts writes no empty ones
    path.write_text(written.replace('Modulation"\n', 'Modulation"\nabstract = "My own words."\n'))
    before = path.read_text()
    full = tmp_path / "full.bib"  # the same library exported again, abstracts included
    full.write_text(
        entry("a", "2104.10642", "Temporal Modulation", "From the file, a.")
        + entry("b", "2104.10490", "FIERY", "From the file, b.")
    )
    report = import_into_profile(path, [full], lookup=None, cache=None)
    assert report.saved and report.abstracts == ("2104.10490",) and report.already_present == 2
    liked = {p.paper.arxiv_id: p.paper.abstract for p in load_profile(path).liked}
    assert liked == {"2104.10642": "My own words.", "2104.10490": "From the file, b."}  # one written is kept
    fiery = re.search(r'title = "FIERY"\n', before).end()  # its abstract goes where a new entry has it
    assert path.read_text() == before[:fiery] + 'abstract = "From the file, b."\n' + before[fiery:]  # nothing else
    result = CliRunner().invoke(app, ["profile", "import", str(path), str(full), "--offline"])
    assert result.exit_code == 0 and "nothing new, 2 already there" in result.stderr
    bare.write_text(entry("c", "2104.10325", "SRWarp"))
    import_into_profile(path, [bare], lookup=None, cache=None)
    full.write_text(entry("c", "2104.10325", "SRWarp", "Arbitrary warping."))
    result = CliRunner().invoke(app, ["profile", "import", str(path), str(full), "--offline"])
    assert "1 paper already there got its abstract from this import" in result.stderr, result.stderr


def test_an_offline_refresh_says_it_asked_no_one_and_names_the_file_to_refresh(home):
    runner = CliRunner()
    assert runner.invoke(app, ["profile", "import", "my ids", str(IDS), "--offline"]).exit_code == 0
    result = runner.invoke(app, ["profile", "refresh", "my ids", "--offline"])
    assert result.exit_code == 0, result.output
    assert "arXiv did not answer" not in result.stderr
    assert (
        "3 still kept by id only (offline: only the metadata cache was read); "
        "to fetch them, run online: paperrec profile refresh 'my ids'\n" in result.stderr
    ), result.stderr


def test_one_paper_still_kept_by_id_is_said_in_the_singular(tmp_path):
    path = tmp_path / "one.toml"
    path.write_text('name = "one"\ncategories = ["cs.CV"]\n\n[[pending]]\nid = "2104.10642"\n')
    lines = refresh_profile(path, lookup=None).lines()
    assert (
        "1 still kept by id only (offline: only the metadata cache was read); to fetch it, run online: "
        in "\n".join(lines)
    ), lines


def test_a_pending_like_imported_as_disliked_is_disliked_once(tmp_path):
    path = tmp_path / "ids.toml"
    import_into_profile(path, [IDS], lookup=None, cache=None)  # kept by id, waiting to be liked
    library = tmp_path / "not-for-me.jsonl"
    library.write_text('{"id": "1706.03762", "title": "Attention Is All You Need", "abstract": "Transduction."}\n')
    import_into_profile(path, [library], lookup=None, cache=None, section="disliked")
    profile = load_profile(path)
    assert [p.paper.arxiv_id for p in profile.disliked] == ["1706.03762"]  # what this import asked for
    assert "1706.03762" not in [p.paper.arxiv_id for p in profile.liked]
    assert "1706.03762" not in [p.arxiv_id for p in profile.pending]
    assert path.read_text().count('"1706.03762"') == 1


def test_refresh_profile_fills_pending_papers(tmp_path):
    path = tmp_path / "ids.toml"
    import_into_profile(path, [IDS], lookup=None, cache=None)
    path.write_text("# my own comment\n" + path.read_text())

    def down(ids):
        raise PaperrecError("arXiv did not answer (offline?)")

    still = refresh_profile(path, down, None)
    assert still.filled == () and len(still.pending) == 3 and "could not fetch" in still.notice
    asked: list[list[str]] = []
    done = refresh_profile(path, fake_lookup(asked, {"2104.10642", "1706.03762"}), None)
    assert [p.arxiv_id for p in done.filled] == ["2104.10642", "1706.03762"]
    assert done.gone == ("hep-th/9901001",) and done.pending == ()
    profile = load_profile(path)
    assert [p.paper.title for p in profile.liked] == ["Title of 2104.10642", "Title of 1706.03762"]
    assert profile.pending == () and path.read_text().startswith("# my own comment\n")
    assert refresh_profile(path, fake_lookup(asked), None).filled == () and len(asked) == 1


def test_unlike_removes_a_pending_paper_and_keeps_the_rest(tmp_path):
    from recommender.profile import rate_papers, unrate_papers
    from recommender.schema import Paper

    path = tmp_path / "ids.toml"
    import_into_profile(path, [IDS], lookup=None, cache=None)
    path.write_text("# my own comment\n" + path.read_text())
    profile, found = unrate_papers(path, ["1706.03762v5"])
    assert found == ["1706.03762"]
    assert [p.arxiv_id for p in profile.pending] == ["2104.10642", "hep-th/9901001"]
    assert [p.arxiv_id for p in load_profile(path).pending] == ["2104.10642", "hep-th/9901001"]
    assert path.read_text().startswith("# my own comment\n") and "1706.03762" not in path.read_text()
    profile, _ = rate_papers(path, [Paper.make("Attention again", "2104.10642")], "liked")  # liked while pending
    assert [p.arxiv_id for p in profile.pending] == ["hep-th/9901001"]  # its pending entry became the like
    assert path.read_text().count("2104.10642") == 1 and path.read_text().startswith("# my own comment\n")
    profile, found = unrate_papers(path, ["2104.10642"])
    assert found == ["2104.10642"]  # one paper, said once
    assert "2104.10642" not in profile.ids and "2104.10642" not in path.read_text()


def test_an_import_that_keeps_nothing_creates_no_profile(tmp_path):
    placeholders = tmp_path / "bad.txt"
    placeholders.write_text("2305.00000\n0704.00000\n")
    with pytest.raises(PaperrecError, match=r"no paper to import .*2 entries skipped.*was not created"):
        import_into_profile(tmp_path / "p.toml", [placeholders], lookup=None, cache=None)
    assert not (tmp_path / "p.toml").exists()
    placeholders.write_text("2305.00000\n")
    with pytest.raises(PaperrecError, match=r"no paper to import .*: 1 entry skipped, e\.g\. "):
        import_into_profile(tmp_path / "p.toml", [placeholders], lookup=None, cache=None)


def test_cli_import_offline_reports_pending_merged_and_ignored(home):
    runner = CliRunner()
    result = runner.invoke(app, ["profile", "import", "lib", str(IDS), str(CSL), "--offline"])
    assert result.exit_code == 0, result.output
    assert "could not" not in result.stderr
    assert (
        "2 papers kept by id only: they get their title and abstract at the next online import or "
        "'paperrec profile refresh'" in result.stderr
    )
    assert "3 duplicate entries merged" in result.stderr and "2 notes and attachments ignored" in result.stderr
    assert "lib: 4 papers added to liked" in result.stderr


def test_the_import_report_counts_one_paper_in_the_singular(home, tmp_path):
    bib = tmp_path / "one.bib"
    bib.write_text(
        "@article{a, title = {Enhanced Deep Residual Networks}, eprint = {1707.02921}}\n"
        "@article{b, title = {Enhanced Deep Residual Networks}, url = {https://arxiv.org/abs/1707.02921}}\n"
    )
    ids = tmp_path / "one.txt"
    ids.write_text("2104.10642\n")
    result = CliRunner().invoke(app, ["profile", "import", "one", str(bib), str(ids), "--offline", "-c", "cs.CV"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[:4] == [
        "one: 1 paper added to liked, 0 already there",
        "1 duplicate entry merged (same arXiv id, DOI, or title and year)",
        "1 paper kept by id only: it gets its title and abstract at the next online import or "
        "'paperrec profile refresh'",
        "1 added paper has no abstract; its title is used instead; to fetch it, run online: "
        "paperrec profile refresh one",
    ]


def test_one_note_ignored_is_said_in_the_singular(home, tmp_path):
    csl = tmp_path / "one.json"
    csl.write_text(
        '[{"id": "a", "type": "article", "title": "Kept", "URL": "https://arxiv.org/abs/2104.10642"},'
        ' {"id": "b", "type": "attachment", "title": "PDF"}]'
    )
    result = CliRunner().invoke(app, ["profile", "import", "one", str(csl), "--offline", "-c", "cs.CV"])
    assert result.exit_code == 0 and "\n1 note or attachment ignored (not a paper)\n" in result.stderr, result.stderr


def test_a_reimport_that_brings_nothing_new_says_so_and_leaves_the_file_alone(home):
    made = CliRunner().invoke(app, ["profile", "import", "lib", str(ZOTERO), "--offline", "-c", "cs.CV"])
    assert made.exit_code == 0, made.output
    path = home / "profiles" / "lib.toml"
    before, stamp = path.read_bytes(), path.stat().st_mtime_ns
    for extra in ([], ["-c", "cs.CV"]):  # the same categories again change nothing either
        again = CliRunner().invoke(app, ["profile", "import", "lib", str(ZOTERO), "--offline", *extra])
        assert again.exit_code == 0, again.output
        lines = again.stderr.splitlines()
        assert lines[0] == "lib: nothing new, 7 already there" and lines[-1] == f"profile unchanged: {path}"
        assert "profile saved" not in again.stderr
        assert path.read_bytes() == before and path.stat().st_mtime_ns == stamp


def _listing(day: str, liked: list[dict], others: int) -> str:
    rows = [dict(paper, date=day) for paper in liked]
    rows += [
        {"id": f"{day[2:4]}{day[5:7]}.{9000 + i:05d}", "title": f"Unrelated paper {i} on {topic}", "date": day}
        for i, topic in enumerate(["galaxies", "proteins", "graphs", "robots", "markets"] * (others // 5))
    ]
    return "".join(json.dumps(row) + "\n" for row in rows)


def test_evaluate_profile_on_an_imported_library_finds_the_liked_papers(home, fake_model, tmp_path):
    runner = CliRunner()
    imported = runner.invoke(app, ["profile", "import", "sr", str(OVER_TIME), "--offline"])
    assert imported.exit_code == 0, imported.output
    profile = load_profile(home / "profiles" / "sr.toml")
    assert [p.added for p in profile.liked] == [
        date(2021, 1, 5),
        date(2021, 2, 10),
        date(2021, 3, 15),
        date(2021, 4, 1),
    ]
    stored = tmp_path / "listings" / "cs.CV"
    stored.mkdir(parents=True)
    by_id = {
        p.paper.arxiv_id: {"id": p.paper.arxiv_id, "title": p.paper.title, "abstract": p.paper.abstract}
        for p in profile.liked
    }
    # each liked paper is announced on a day after the likes before it were added
    (stored / "2021-03-16.jsonl").write_text(_listing("2021-03-16", [by_id["2103.00303"]], 40))
    (stored / "2021-04-02.jsonl").write_text(_listing("2021-04-02", [by_id["2104.00404"]], 40))
    result = runner.invoke(
        app, ["evaluate", "--profile", "sr", "--listings", str(tmp_path / "listings"), "-s", "centroid"]
    )
    assert result.exit_code == 0, result.output
    assert "2 of 4 liked papers are on a stored day" in result.stdout
    assert "centroid                   2            1       2 (100%)" in result.stdout  # both ranked first


def test_every_fixture_entry_is_read_skipped_or_ignored():
    result = read_collections(ALL)
    assert result.read + len(result.skipped) + len(result.ignored) == 42
