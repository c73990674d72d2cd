"""Picks out: every format carries the documented fields."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from datetime import date

import pytest

from recommender.export import PICK_COLUMNS, render, to_table
from recommender.schema import Paper, Pick, UsageError

PICKS = [
    Pick(
        Paper.make(
            "A very long title " * 8,
            "2104.10642v2",
            "Abstract one.",
            ["Ada Lovelace", "Alan Turing"],
            ["cs.CV"],
            date(2021, 4, 22),
        ),
        0.8123456,
        1,
        "sr",
    ),
    Pick(Paper.make("No id [brackets]", None, "", [], [], None), 0.5, 2, "sr"),
]


def test_json_schema():
    records = json.loads(render(PICKS, "json"))
    assert [list(r) for r in records] == [[*PICK_COLUMNS, "because"]] * 2
    first, second = records
    assert first["rank"] == 1 and first["id"] == "2104.10642"
    assert first["url"] == "https://arxiv.org/abs/2104.10642" and first["pdf_url"] == "https://arxiv.org/pdf/2104.10642"
    assert first["authors"] == ["Ada Lovelace", "Alan Turing"] and first["categories"] == ["cs.CV"]
    assert first["date"] == "2021-04-22" and first["score"] == pytest.approx(0.812346) and first["profile"] == "sr"
    assert second["url"] is None and second["pdf_url"] is None and second["date"] is None
    assert second["id"].startswith("t:")


def test_jsonl_matches_json():
    lines = render(PICKS, "jsonl").splitlines()
    assert [json.loads(line) for line in lines] == json.loads(render(PICKS, "json"))


def test_csv_columns_and_lists():
    rows = list(csv.DictReader(io.StringIO(render(PICKS, "csv"))))
    assert list(rows[0]) == [*PICK_COLUMNS, "because"]
    assert rows[0]["authors"] == "Ada Lovelace;Alan Turing" and rows[1]["url"] == ""


def test_markdown_and_table():
    markdown = render(PICKS, "markdown")
    assert "### 1. [A very long title" in markdown and "(https://arxiv.org/abs/2104.10642)" in markdown
    assert "No id \\[brackets\\]" in markdown and "> Abstract one." in markdown
    table = to_table(PICKS, width=80, wrap=False)
    assert all(len(line) <= 80 for line in table.splitlines())
    assert "Turing et al." not in table and "Lovelace et al. · https://arxiv.org/abs/2104.10642" in table
    assert " 0.812 " in table and "…" in table
    assert to_table([]) == "No picks.\n"


def test_unknown_format():
    with pytest.raises(UsageError, match="unknown format 'xml'"):
        render(PICKS, "xml")


def test_rss_reads_back_with_feedparser():
    import feedparser

    feed = feedparser.parse(render(PICKS, "rss"))
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "paperrec picks for sr"
    assert len(feed.entries) == 2
    first = feed.entries[0]
    assert first.link == "https://arxiv.org/abs/2104.10642" and first.id == "https://arxiv.org/abs/2104.10642"
    assert first.title.startswith("1. A very long title")
    assert [a.name for a in first.authors] == ["Ada Lovelace", "Alan Turing"]
    assert "Abstract one." in first.summary and first.tags[0].term == "cs.CV"
    assert feed.entries[1].id.startswith("urn:paperrec:t:")


def test_bibtex_reads_back_with_bibtexparser():
    import bibtexparser

    tricky = Pick(
        Paper.make("50% better {robust} & fast", "2105.00001", "Uses $x_1 < y$ and 100% of {data", ["Jo Doe"]),
        0.4,
        3,
        "sr",
    )
    library = bibtexparser.parse_string(render([*PICKS, tricky], "bibtex"))
    assert not library.failed_blocks
    entries = library.entries
    assert len(entries) == 3 and len({e.key for e in entries}) == 3
    first = entries[0]
    assert [e.key for e in entries] == ["arxiv2104.10642", "title-" + PICKS[1].paper.arxiv_id[2:], "arxiv2105.00001"]
    assert first["eprint"] == "2104.10642" and first["archivePrefix"] == "arXiv"
    assert first["primaryClass"] == "cs.CV" and first["url"] == "https://arxiv.org/abs/2104.10642"
    assert first["author"] == "Ada Lovelace and Alan Turing" and first["year"] == "2021"
    assert "eprint" not in entries[1].fields_dict  # a paper without arXiv id has no eprint
    # A title's own braces are characters, not BibTeX grouping: escaped, so that an import reads them back.
    assert entries[2]["title"] == "{50\\% better \\{robust\\} \\& fast}" and entries[2]["year"] == "2021"


def test_bibtex_keys_come_from_ids_so_days_append_without_clashes():
    from recommender.export import bibtex_key

    def entry(title: str, arxiv_id: str | None, authors: list[str]) -> Pick:
        return Pick(Paper.make(title, arxiv_id, "abstract", authors), 0.1, 1, "sr")

    # Two days' papers that the old author-year-word keys gave the same key (lovelace2021deep).
    monday = render([entry("Deep nets", "2104.10642", ["Ada Lovelace"])], "bibtex")
    tuesday = render([entry("Deep codes", "2104.20000", ["Ada Lovelace"])], "bibtex")
    assert "@misc{arxiv2104.10642," in monday and "@misc{arxiv2104.20000," in tuesday
    old_style = Paper.make("Strings", "hep-th/9901001", "", [])
    assert bibtex_key(old_style) == "arxivhep-th-9901001"
    untitled = Paper.make("A paper without an id", None, "", [])
    assert bibtex_key(untitled) == "title-" + untitled.arxiv_id.removeprefix("t:")
    assert bibtex_key(Paper.make("A paper  without an ID", None, "", [])) == bibtex_key(untitled)  # same title
    # A DOI reads as itself, its first '/' written '-' and others ':'; a prefix holds no '-', so no two DOIs clash.
    assert bibtex_key(Paper.make("Brain", "doi:10.1093/brain/awab123")) == "doi10.1093-brain:awab123"
    assert bibtex_key(Paper.make("Theta", "doi:10.1101/2026.12.04.600400")) == "doi10.1101-2026.12.04.600400"
    assert bibtex_key(Paper.make("Ramps", "doi:10.1016/J.Neuron.2026.11.008")) == "doi10.1016-j.neuron.2026.11.008"
    odd = Paper.make("Old", "doi:10.1002/(sici)1097-4679(199901)55:1<1::aid-jclp1>3.0.co;2-e")
    assert re.fullmatch(r"doi-[0-9a-f]{12}", bibtex_key(odd))  # characters a key cannot hold: the DOI's hash
    twice = render([entry("Deep nets", "2104.10642", []), entry("Deep nets", "2104.10642", [])], "bibtex")
    assert "@misc{arxiv2104.10642," in twice and "@misc{arxiv2104.10642-2," in twice  # two profiles, one file


def test_table_wraps_off_a_terminal_shortens_on_one_and_never_cuts_a_url():
    from recommender.export import to_table
    from recommender.schema import Paper, Pick

    title = "A very long title about image super-resolution that does not fit in a narrow terminal at all"
    paper = Paper.make(title, "2104.10268", "abstract", authors=["Ada Lovelace", "Alan Turing"])
    picks = [Pick(paper=paper, score=1.0, rank=1, profile="p")]
    wrapped = to_table(picks, width=50, wrap=True)
    assert " ".join(line[24:].strip() for line in wrapped.splitlines()[1:4]).startswith(title[:60])
    assert "…" not in wrapped and "https://arxiv.org/abs/2104.10268" in wrapped
    short = to_table(picks, width=50, wrap=False)
    assert "…" in short and "https://arxiv.org/abs/2104.10268" in short.splitlines()[-1]
    assert all(len(line) <= 50 for line in short.splitlines() if "https://" not in line)


def test_the_table_puts_the_similarity_after_the_paper_it_belongs_to():
    from recommender.export import to_table
    from recommender.schema import Because, Paper, Pick

    closest = "Image super-resolution via iterative refinement with a rather long title indeed"
    because = Because(papers=(("2104.07636", closest, 0.8123),), terms=("diffusion", "super resolution", "sr3"))
    pick = Pick(Paper.make("A paper", "2104.10268", "abstract"), 1.0, 1, "p", because=because)
    wrapped = " ".join(line.strip() for line in to_table([pick], width=100, wrap=True).splitlines())
    assert f"because: {closest} (0.81) · diffusion, super resolution, sr3" in wrapped
    for width in (100, 70, 50):
        (line,) = [line for line in to_table([pick], width=width, wrap=False).splitlines() if "because:" in line]
        assert "(0.81)" in line and len(line) <= width  # the title gives way first, then the terms
        assert line.index("(0.81)") < line.index(" · ") if " · " in line else line.endswith("(0.81)")


def test_the_because_line_shows_the_first_three_terms_as_explain_made_them():
    """Each term is already said once (rank.explain joins a term's pieces): the line shows the first three."""
    from recommender.export import because_line
    from recommender.rank.explain import readable_terms
    from recommender.schema import Because

    pieces = ("resolution", "super resolution", "super", "frequency", "image super")
    terms = readable_terms(pieces, "Image Super-Resolution with Frequency Priors.")
    because = Because(papers=(("2101.00001", "Liked", 0.8),), terms=terms)
    assert because_line(because) == "Liked (0.80) · image super-resolution, frequency"
    assert because_line(Because(terms=("a", "b", "c", "d"))) == "a, b, c"
    pick = Pick(paper=Paper.make("A paper", "2101.00002", "x"), score=1.0, rank=1, profile="p", because=because)
    assert "(0.80) · image super-resolution, frequency\n" in render([pick], "table")


def _bibtex_entries(picks: list[Pick]) -> list:
    import bibtexparser

    library = bibtexparser.parse_string(render(picks, "bibtex"))
    assert not library.failed_blocks
    return library.entries


def test_a_journal_pick_is_an_article_with_its_journal_doi_and_year():
    paper = Paper.make(
        "Cortical waves in mice",
        "doi:10.1038/s41593-026-01234-5",
        "We record.",
        ["Ada Lovelace"],
        date=date(2026, 12, 4),
        links=["https://www.nature.com/articles/s41593-026-01234-5"],
        venue="Nature Neuroscience",
    )
    text = render([Pick(paper, 0.7, 1, "neuro")], "bibtex")
    assert text.startswith("@article{doi10.1038-s41593-026-01234-5,\n  title = {{Cortical waves in mice}},\n")
    [entry] = _bibtex_entries([Pick(paper, 0.7, 1, "neuro")])
    assert entry.entry_type == "article" and entry["journal"] == "Nature Neuroscience"
    assert entry["doi"] == "10.1038/s41593-026-01234-5" and entry["year"] == "2026"
    assert entry["url"] == "https://doi.org/10.1038/s41593-026-01234-5" and "eprint" not in entry.fields_dict
    assert json.loads(render([Pick(paper, 0.7, 1, "neuro")], "json"))[0]["venue"] == "Nature Neuroscience"


def test_a_biorxiv_pick_is_an_article_in_biorxiv_as_the_server_exports_it():
    links = [
        "https://www.medrxiv.org/content/10.1101/2026.12.04.26300001v1",
        "https://doi.org/10.1101/2026.12.04.26300001",
    ]
    posted = Paper.make(
        "Flu waves", "doi:10.1101/2026.12.04.26300001", "", ["Jo Doe"], date=date(2026, 12, 4), venue="medRxiv"
    )
    # A day stored before papers kept their venue: its record still links the server's page.
    stored = Paper.make(
        "Flu waves", "doi:10.1101/2026.12.04.26300001", "", ["Jo Doe"], date=date(2026, 12, 4), links=links
    )
    for paper in (posted, stored):
        [entry] = _bibtex_entries([Pick(paper, 0.5, 1, "epi")])
        assert entry.entry_type == "article" and entry["journal"] == "medRxiv", paper
        assert entry["doi"] == "10.1101/2026.12.04.26300001" and entry["year"] == "2026"
    # Cold Spring Harbor's journals share bioRxiv's DOI prefix: without the server's page there is no server.
    genome = Paper.make("Genomes", "doi:10.1101/gr.280001.124", "", ["Jo Doe"], links=["https://genome.cshlp.org/x"])
    assert _bibtex_entries([Pick(genome, 0.5, 1, "g")])[0].entry_type == "misc"


def test_a_journals_name_from_a_feed_is_escaped_and_reads_back_as_written():
    from recommender.sources.bibtex import latex_to_text

    names = [
        "Nature & Science",
        "J. {Weird",
        "A}b @misc{x, title={y}}",
        "100% #1 back\\slash ~ ^_",
        "$x}$ and $\\beta$",
    ]
    for name in names:
        paper = Paper.make("T", "doi:10.5555/x1", "", ["Jo Doe"], venue=name)
        [entry] = _bibtex_entries([Pick(paper, 0.5, 1, "p")])  # one entry, nothing injected beside it
        assert entry.entry_type == "article" and latex_to_text(entry["journal"]) == name, name
        assert set(entry.fields_dict) == {"title", "author", "journal", "doi", "url", "note"}


def test_a_paper_without_a_journal_stays_misc_and_arxiv_as_it_was():
    doi = Paper.make("Untold venue", "doi:10.5555/x1", "", ["Jo Doe"], date=date(2026, 1, 2))
    [entry] = _bibtex_entries([Pick(doi, 0.5, 1, "p")])
    assert entry.entry_type == "misc" and "journal" not in entry.fields_dict and entry["doi"] == "10.5555/x1"
    # An arXiv paper also published in a journal keeps its arXiv entry: the merge keeps the arXiv identity.
    both = Paper.make("Deep nets", "2104.10642", "", ["Jo Doe"], ["cs.CV"], date(2021, 4, 22), venue="Nature")
    assert render([Pick(both, 0.5, 1, "p")], "bibtex") == render([Pick(replace(both, venue=""), 0.5, 1, "p")], "bibtex")
    # OpenReview's venue says where a paper was submitted ("ICLR 2027 Conference Submission"): no journal of an article.
    submitted = Paper.make("Graphs", "openreview:Forum000001", "", ["Jo Doe"], venue="ICLR 2027 Conference Submission")
    [entry] = _bibtex_entries([Pick(submitted, 0.5, 1, "p")])
    assert entry.entry_type == "misc" and "journal" not in entry.fields_dict


def test_the_table_shows_latex_as_a_reader_sees_it_while_data_keeps_it_as_listed():
    from recommender.schema import Because

    title = r"Sparse $\beta$-VAEs for \textit{fast} inference"
    liked = r"$\alpha$-nets, imported from BibTeX"
    paper = Paper.make(title, "2104.10642", "", ["Ada Lovelace"], ["cs.LG"], date(2021, 4, 22))
    pick = Pick(paper, 0.5, 1, "sr", Because(papers=(("2001.00001", liked, 0.81),), terms=("vae",)))
    table = to_table([pick], width=120, wrap=True)
    assert "Sparse β-VAEs for fast inference" in table and "because: \u03b1-nets, imported from BibTeX (0.81)" in table
    assert "$" not in table and "\\" not in table
    assert json.loads(render([pick], "json"))[0]["title"] == title  # JSON and CSV are stable: the title as listed
    assert title in render([pick], "csv") and liked in render([pick], "csv")


def test_markdown_shows_latex_as_a_reader_sees_it_and_no_dollar_opens_math():
    from markdown_it import MarkdownIt

    from recommender.schema import Because

    title = r"Sparse $\beta$-VAEs for \textit{fast} inference"
    abstract = r"Errors of $\mathcal{O}(n^2)$ cost $5 a run. [x](javascript:1)"
    paper = Paper.make(title, "2104.10642", abstract, ["Ada Lovelace"], ["cs.LG"], date(2021, 4, 22))
    pick = Pick(paper, 0.5, 1, "sr", Because(papers=(("2001.00001", r"$\alpha$-nets", 0.81),), terms=("vae",)))
    markdown = render([pick], "markdown")
    assert "[Sparse β-VAEs for fast inference](https://arxiv.org/abs/2104.10642)" in markdown
    assert "\nbecause: \u03b1-nets (0.81) · vae\n" in markdown
    # A $ left in the text is escaped: GitHub and Obsidian would read "$5 ... $" as a formula.
    assert "> Errors of \N{MATHEMATICAL SCRIPT CAPITAL O}(n^2) cost \\$5 a run. \\[x\\](javascript:1)\n" in markdown
    assert not re.search(r"(?<!\\)\$", markdown)
    html = MarkdownIt("commonmark").render(markdown)
    assert "cost $5 a run. [x](javascript:1)" in html and 'href="javascript' not in html
    assert json.loads(render([pick], "json"))[0]["abstract"] == abstract  # data formats keep the text as listed


def test_atom_shows_latex_as_a_feed_reader_should():
    """A feed reader shows text, not TeX: the title, the reason and the abstract read as on the page."""
    import feedparser

    from recommender.schema import Because

    title, abstract = r"Sparse $\beta$-VAEs", r"Errors of $\mathcal{O}(n^2)$ here."
    paper = Paper.make(title, "2104.10642", abstract, ["Ada Lovelace"], ["cs.LG"], date(2021, 4, 22))
    pick = Pick(paper, 0.5, 1, "sr", Because(papers=(("2001.00001", r"$\alpha$-nets", 0.81),), terms=("vae",)))
    [entry] = feedparser.parse(render([pick], "rss")).entries
    assert entry.title == "1. Sparse β-VAEs"
    assert "\u03b1-nets (0.81)" in entry.summary and "\N{MATHEMATICAL SCRIPT CAPITAL O}(n^2) here." in entry.summary
    assert "$" not in entry.title + entry.summary
