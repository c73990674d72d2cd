"""Listings in: markdown, JSONL and CSV parsing, merging and error reporting."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from recommender.schema import Paper, PaperrecError, UsageError, split_arxiv_id, title_id
from recommender.sources import merge_listings, read_listing, read_listings, to_csv, to_jsonl
from recommender.sources.markdown import strip_html
from recommender.sources.notices import notice_of


def test_example_markdown_parses_to_59_papers(example_listing):
    listing = read_listing(example_listing)
    assert len(listing) == 59
    assert listing.category == "cs.CV"
    assert listing.date == date(2021, 4, 22)
    first = listing.papers[0]
    assert first.arxiv_id == "2104.10642"
    assert first.title == "Temporal Modulation Network for Controllable Space-Time Video Super-Resolution"
    assert first.categories == ("cs.CV",)
    assert first.date == date(2021, 4, 22)
    assert listing.papers[-1].arxiv_id == "2104.10195"
    assert listing.papers[-1].title.startswith("Auto-FedAvg")
    assert len({p.arxiv_id for p in listing.papers}) == 59


def test_markdown_abstract_html_link_keeps_its_address(example_listing):
    first = read_listing(example_listing).papers[0]
    assert first.abstract.endswith("The code is available at https://github.com/CS-GangXu/TMNet.")
    assert first.code_url == "https://github.com/CS-GangXu/TMNet"
    assert "<a" not in first.abstract and "href" not in first.abstract and "this https URL" not in first.abstract
    assert first.abstract.startswith("Space-time video super-resolution (STVSR)")
    assert "  " not in first.abstract


def test_markdown_keeps_latex(example_listing):
    abstracts = " ".join(p.abstract for p in read_listing(example_listing).papers)
    assert "$-0.15\\pm0.11$" in abstracts
    assert "$\\%$" in abstracts


def test_strip_html_keeps_latex_comparisons():
    assert strip_html("if $a<b$ and $c>d$ then &amp; <i>x</i><br>y") == "if $a<b$ and $c>d$ then & x y"


def test_strip_html_removes_jats_and_mathml_as_crossref_and_openalex_give_them():
    crossref = (
        "<jats:title>Abstract</jats:title><jats:p>Ca<jats:sup>2+</jats:sup> waves <jats:italic>in vivo</jats:italic>"
        " at <mml:math><mml:mi>θ</mml:mi></mml:math>.</jats:p><jats:p>Next, p < 0.05.</jats:p>"
    )
    assert strip_html(crossref) == "Ca2+ waves in vivo at θ. Next, p < 0.05."
    assert strip_html("<title>Background</title><p>Mice <sc>LTP</sc>, <bold>n</bold> = 4</p>") == (
        "Background Mice LTP, n = 4"
    )


def test_markdown_versioned_link_and_errors(tmp_path):
    good = tmp_path / "day.md"
    good.write_text(
        "# ArXiv cs.LG --Mon, 3 May 2021\n"
        "### 1.A Title  [ :arrow_down: ](https://arxiv.org/pdf/2105.00001v3.pdf)\n"
        ">  First line\n"
        "> second line &lt;3\n"
    )
    paper = read_listing(good).papers[0]
    assert (paper.arxiv_id, paper.version, paper.abstract) == ("2105.00001", 3, "First line second line <3")

    bad = tmp_path / "bad.md"
    bad.write_text("# ArXiv cs.LG --Mon, 3 May 2021\n### 1.No link here\n> text\n")
    with pytest.raises(PaperrecError, match=r"bad\.md:2: expected"):
        read_listing(bad)

    orphan = tmp_path / "orphan.md"
    orphan.write_text("# ArXiv cs.LG --Mon, 3 May 2021\n> abstract with no paper\n")
    with pytest.raises(PaperrecError, match=r"orphan\.md:2:"):
        read_listing(orphan)

    header = tmp_path / "header.md"
    header.write_text("# Not a listing header\n")
    with pytest.raises(PaperrecError, match=r"header\.md:1: expected header"):
        read_listing(header)


def test_jsonl_round_trip(tmp_path, example_listing):
    papers = read_listing(example_listing).papers
    path = tmp_path / "day.jsonl"
    path.write_text(to_jsonl(papers))
    assert read_listing(path).papers == tuple(Paper(**{**p.__dict__, "version": None}) for p in papers)


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_a_file_whose_papers_share_one_date_is_that_days_listing(tmp_path, example_listing, suffix):
    # `paperrec fetch --output day.jsonl` dates every paper with the announcement day; ranking that file is that day
    papers = read_listing(example_listing).papers[:3]
    write = to_jsonl if suffix == "jsonl" else to_csv
    path = tmp_path / f"day.{suffix}"
    path.write_text(write(papers))
    assert read_listing(path).date == date(2021, 4, 22)
    path.write_text(write([*papers[:2], replace(papers[2], date=date(2021, 4, 23))]))
    assert read_listing(path).date is None  # several days: no one day
    path.write_text(write([*papers[:2], replace(papers[2], date=None)]))
    assert read_listing(path).date is None


def test_rank_of_a_fetched_file_names_its_day(tmp_path, example_listing, liked_jsonl, fake_model):
    from typer.testing import CliRunner

    from recommender.cli import app

    path = tmp_path / "today.jsonl"
    path.write_text(to_jsonl(read_listing(example_listing).papers))
    runner = CliRunner()
    assert runner.invoke(app, ["profile", "new", "sr", "--from", str(liked_jsonl)]).exit_code == 0
    result = runner.invoke(app, ["rank", str(path), "-p", "sr", "-f", "markdown", "--top", "2"])
    # the file names no category of its own; its papers do, and the summary names them
    assert result.exit_code == 0 and "sr: cs.CV 2021-04-22: 59 papers" in result.stderr, result.stderr
    assert result.stdout.startswith("# paperrec picks for sr: 2021-04-22, 2 picks")


def test_csv_round_trip_with_lists(tmp_path):
    papers = (
        Paper.make(
            "One; with semicolon",
            "2101.00001v2",
            "Abstract, with comma",
            ["A. Author", "B. Author"],
            ["cs.CV", "cs.LG"],
            date(2021, 1, 4),
        ),
        Paper.make("Two", None, "", [], [], None),
    )
    path = tmp_path / "day.csv"
    path.write_text(to_csv(papers))
    back = read_listing(path).papers
    assert back[0].authors == ("A. Author", "B. Author")
    assert back[0].categories == ("cs.CV", "cs.LG")
    assert back[0].arxiv_id == "2101.00001" and back[0].date == date(2021, 1, 4)
    assert back[1].arxiv_id == title_id("Two") and back[1].date is None


def test_records_fields(tmp_path):
    path = tmp_path / "x.jsonl"
    rows = [
        {"id": "2104.10642v2", "title": "T1", "abstract": "a", "authors": ["X"], "unknown": 1},
        {"title": "  Deep   Learning! ", "abstract": "", "categories": "cs.CV;cs.AI", "date": "2021-04-22"},
        {"id": "hep-th/9901001v1", "title": "Old style"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    papers = read_listing(path).papers
    assert papers[0].arxiv_id == "2104.10642" and papers[0].authors == ("X",)
    assert papers[1].arxiv_id == title_id("deep learning") and papers[1].title == "Deep Learning!"
    assert papers[1].categories == ("cs.CV", "cs.AI") and papers[1].date == date(2021, 4, 22)
    assert papers[2].arxiv_id == "hep-th/9901001"


def test_a_listing_names_a_paper_by_its_doi_however_it_was_copied(tmp_path):
    # A journal's or a lab's own listing names papers by DOI: bare, as a doi.org link, or in a 'doi' column.
    path = tmp_path / "journal.csv"
    path.write_text(
        "id,title,doi\n"
        "10.1038/S41556-026-07777-7,Condensates of MED1,\n"
        "https://doi.org/10.1016/j.cell.2026.11.001,NF-κB oscillations,\n"
        ",Wnt in the crypt,10.1101/2026.12.04.600400\n"
        "2104.10642,An arXiv paper,10.48550/arXiv.2104.10642\n"
        ",No id at all,n/a\n"
        "10.48550/arXiv.2104.10643v2,arXiv's own DOI names its arXiv id,\n"
        ",So it does in a doi column,https://doi.org/10.48550/arXiv.2104.10644\n"
        ",And so does an arXiv address,https://arxiv.org/abs/2104.10645\n"
    )
    papers = read_listing(path).papers
    assert [p.arxiv_id for p in papers] == [
        "doi:10.1038/s41556-026-07777-7",
        "doi:10.1016/j.cell.2026.11.001",
        "doi:10.1101/2026.12.04.600400",
        "2104.10642",
        title_id("No id at all"),
        "2104.10643",
        "2104.10644",
        "2104.10645",
    ]
    assert papers[5].version == 2


def test_title_id_is_stable_and_normalised():
    assert title_id("Deep Learning!") == title_id("  deep   learning ")
    assert title_id("Déjà vu") == title_id("deja vu")
    assert title_id("a").startswith("t:") and len(title_id("a")) == 14


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2104.10642", ("2104.10642", None)),
        ("arXiv:2104.10642v3", ("2104.10642", 3)),
        ("math.AG/0601001v2", ("math.AG/0601001", 2)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("10.1000/xyz", None),
        ("2104.106", None),
        ("1412.1234", ("1412.1234", None)),
    ],
)
def test_split_arxiv_id(raw, expected):
    assert split_arxiv_id(raw) == expected


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ('{"id": "1", "title": "x"}\n', ".jsonl", r"x\.jsonl:1: not an arXiv id"),
        ('{"title": "ok"}\n{"title": \n', ".jsonl", r"x\.jsonl:2: invalid JSON"),
        # A line cut short: what is wrong and where, not "Invalid control character at" (the line's own newline).
        ('{"title": "cut sho\n', ".jsonl", r"x\.jsonl:1: invalid JSON \(Unterminated string starting at column 11\)$"),
        ('{"title": "a" "b"}\n', ".jsonl", r"x\.jsonl:1: invalid JSON \(Expecting ',' delimiter at column 15\)$"),
        ('{"abstract": "no title"}\n', ".jsonl", r"x\.jsonl:1: missing 'title'"),
        ("[1, 2]\n", ".jsonl", r"x\.jsonl:1: expected a JSON object"),
        ('{"title": "t", "date": "22/04/2021"}\n', ".jsonl", r"x\.jsonl:1: 'date' must be YYYY-MM-DD"),
        ("id,abstract\n1,x\n", ".csv", r"x\.csv:1: CSV header must name a 'title'"),
        ("title,abstract\nok,fine\n,empty title\n", ".csv", r"x\.csv:3: missing 'title'"),
        ("title,abstract\na,b,c\n", ".csv", r"x\.csv:2: more fields"),
        ('id,title\n2104.10640,"open\n2104.10641,swallowed\n', ".csv", r"x\.csv:2: a quote opened in this record"),
        ('title,abstract\nok,fine\n\nnext,"open\n', ".csv", r"x\.csv:4: a quote opened in this record"),
        ('title,"abstract\nok,fine\n', ".csv", r"x\.csv:1: a quote opened in this record"),
        ('{"id": "t:zz", "title": "x"}\n', ".jsonl", r"x\.jsonl:1: not a title id \('t:' and 12 hex digits\)"),
        ('{"id": "t:0123456789abc", "title": "x"}\n', ".jsonl", r"x\.jsonl:1: not a title id"),
        ('{"id": "t:0123456789AB", "title": "x"}\n', ".jsonl", r"x\.jsonl:1: not a title id"),
    ],
)
def test_malformed_records_name_file_and_line(tmp_path, content, suffix, message):
    path = tmp_path / f"x{suffix}"
    path.write_text(content)
    with pytest.raises(PaperrecError, match=message):
        read_listing(path)


def test_format_detection_and_override(tmp_path, example_listing):
    copy = tmp_path / "listing.txt"
    copy.write_text(example_listing.read_text())
    with pytest.raises(UsageError, match="--input-format"):
        read_listing(copy)
    assert len(read_listing(copy, "md")) == 59
    with pytest.raises(UsageError, match="unknown input format 'xml'"):
        read_listing(copy, "xml")


def test_missing_empty_and_directory(tmp_path):
    with pytest.raises(PaperrecError, match="no such file"):
        read_listing(tmp_path / "missing.jsonl")
    with pytest.raises(PaperrecError, match="is a directory"):
        read_listing(tmp_path, "jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(PaperrecError, match="no papers"):
        read_listings([empty])
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00title\n")
    with pytest.raises(PaperrecError, match="not a UTF-8"):
        read_listing(binary)


def test_merge_by_id_unites_categories(tmp_path):
    a = tmp_path / "cv.jsonl"
    b = tmp_path / "lg.jsonl"
    a.write_text(
        json.dumps({"id": "2101.00001", "title": "Shared", "categories": ["cs.CV"]})
        + "\n"
        + json.dumps({"id": "2101.00002", "title": "Only CV"})
        + "\n"
    )
    b.write_text(
        json.dumps({"id": "2101.00001v2", "title": "Shared", "categories": ["cs.LG"]})
        + "\n"
        + json.dumps({"id": "2101.00003", "title": "Only LG"})
        + "\n"
    )
    merged = read_listings([a, b])
    assert [p.arxiv_id for p in merged.papers] == ["2101.00001", "2101.00002", "2101.00003"]
    assert merged.papers[0].categories == ("cs.CV", "cs.LG")
    assert merge_listings([]).papers == ()


def test_byte_order_marks_are_not_text(tmp_path, example_listing):
    markdown = tmp_path / "day.md"
    markdown.write_bytes(b"\xef\xbb\xbf" + example_listing.read_bytes())
    assert read_listing(markdown) == replace(read_listing(example_listing), sources=(str(markdown),))
    for suffix, text in ((".csv", "id,title\n2104.10642,A\n"), (".jsonl", '{"id": "2104.10642", "title": "A"}\n')):
        path = tmp_path / f"bom{suffix}"
        path.write_bytes(b"\xef\xbb\xbf" + text.encode())
        assert [(p.arxiv_id, p.title) for p in read_listing(path).papers] == [("2104.10642", "A")]


def test_numeric_json_ids_are_read_as_written(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": 2104.10640, "title": "A"}\n{"id": 2104.1064, "title": "B"}\n')
    assert [p.arxiv_id for p in read_listing(path).papers] == ["2104.10640", "2104.1064"]


def test_null_authors_are_no_authors(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(
        '{"title": "A", "authors": null}\n{"title": "B", "authors": [null, "Ada Lovelace", null]}\n'
        '{"title": "C", "authors": "[null]", "categories": [null, "cs.CV"]}\n'
    )
    papers = read_listing(path).papers
    assert [p.authors for p in papers] == [(), ("Ada Lovelace",), ()]
    assert papers[2].categories == ("cs.CV",)


def test_title_ids_are_t_and_twelve_hex_digits(tmp_path):
    assert Paper.make("x", "t:0123456789ab").arxiv_id == "t:0123456789ab"
    assert Paper.make("x", title_id("x")).arxiv_id == title_id("x")
    for bad in ("t:", "t:zz", "t:0123456789ab x", "t:0123456789abcd", "t:../../etc"):
        with pytest.raises(ValueError, match="not a title id"):
            Paper.make("x", bad)


@pytest.mark.parametrize("title", ["", "   ", "<b></b>"])
def test_markdown_paper_without_a_title_names_its_line(tmp_path, title):
    path = tmp_path / "day.md"
    path.write_text(
        "# ArXiv cs.LG --Mon, 3 May 2021\n"
        "### 1.Fine  [ :arrow_down: ](https://arxiv.org/pdf/2105.00001.pdf)\n"
        f"### 2.{title}  [ :arrow_down: ](https://arxiv.org/pdf/2105.00002.pdf)\n"
        "> abstract\n"
    )
    with pytest.raises(PaperrecError, match=r"day\.md:3: the paper has no title"):
        read_listing(path)


@pytest.mark.parametrize(
    ("title", "kind", "names"),
    [
        ("Author Correction: Cilia in <i>S. pombe</i>", "correction", "cilia in s pombe"),
        ("Publisher Correction: Cilia", "correction", "cilia"),
        ("Correction to: Cilia", "correction", "cilia"),
        ("Erratum: Cilia", "correction", "cilia"),
        ("Corrigendum to \u201cCilia\u201d [Cell 185 (2022) 1\u201310]", "correction", "cilia"),
        ("Correction for Smith et al., Cilia", "correction", "cilia"),
        ("Retraction Note: Cilia", "retraction", "cilia"),
        ("RETRACTED: Cilia", "retraction", "cilia"),
        ("Retraction notice to \u201cCilia\u201d [Mol Cell 84 (2024) 1\u20139]", "retraction", "cilia"),
        ("Expression of Concern: Cilia", "retraction", "cilia"),
        # papers, whose titles only begin with such a word
        ("Correction to the Born rule in open systems", None, None),
        ("Retracted papers in biology: a census", None, None),
        ("Erratum-free decoding of surface codes", None, None),
    ],
)
def test_a_notice_is_told_from_a_paper_by_its_title(title, kind, names):
    notice = notice_of(title)
    assert (notice.kind, notice.names) == (kind, names) if kind else notice is None


def test_a_notice_names_a_paper_by_a_long_title_or_by_a_short_one_with_an_author_in_common():
    specific = Paper.make("Piezo1 licenses chromatin looping in S. cerevisiae", "doi:10.1234/a", authors=["J. Smith"])
    # The editors' notice of a specific title: the title says it all.
    assert notice_of(f"Retraction: {specific.title}", ["The PLOS ONE Editors"]).is_of(specific)
    assert notice_of(f"Retraction: {specific.title}").is_of(specific)
    generic = Paper.make("A review", "doi:10.1234/b", authors=["Smith, John"])
    assert not notice_of("Retraction: A review").is_of(generic)
    assert not notice_of("Retraction: A review", ["A. Doe"]).is_of(generic)
    assert notice_of("Retraction: A review", ["Doe A", "J. Smith"]).is_of(generic)
    assert not notice_of("Retraction: Cilia", ["J. Smith"]).is_of(generic)  # another title


def test_a_pubmed_scopus_or_web_of_science_export_reads_by_its_own_column_names(tmp_path):
    pubmed = tmp_path / "pubmed.csv"
    pubmed.write_text(
        "PMID,Title,Authors,Citation,First Author,Journal/Book,Publication Year,Create Date,PMCID,NIHMS ID,DOI\n"
        '39500001,"Condensates of MED1 organise chromatin.","Müller J, Østergaard Ø, van der Berg TH, COVID-19'
        ' Genomics Consortium.","Nat Cell Biol. 2026 Dec;28(12):1-10.",Müller J,Nat Cell Biol,2026,2026/12/04,,,'
        "10.1038/s41556-026-07777-7\n",
        encoding="utf-8",
    )
    (paper,) = read_listing(pubmed).papers
    assert (paper.arxiv_id, paper.title, paper.date) == (
        "doi:10.1038/s41556-026-07777-7",
        "Condensates of MED1 organise chromatin.",
        date(2026, 12, 4),
    )
    # PubMed writes 'Surname Initials', comma-separated: each is one author, given name first as the sources write it.
    assert paper.authors == ("J. Müller", "Ø. Østergaard", "T. H. van der Berg", "COVID-19 Genomics Consortium")
    scopus = tmp_path / "scopus.csv"
    scopus.write_text(
        '"Authors","Author full names","Title","Year","Source title","DOI","Abstract"\n'
        '"Chen W.; Tanaka K.","Chen, Wei (1); Tanaka, Ken (2)","Cilia","2026","Cell","10.1016/j.cell.2026.1",'
        '"On cilia."\n'
    )
    (paper,) = read_listing(scopus).papers
    assert (paper.arxiv_id, paper.title, paper.abstract, paper.authors, paper.date) == (
        "doi:10.1016/j.cell.2026.1",
        "Cilia",
        "On cilia.",
        ("W. Chen", "K. Tanaka"),  # Scopus writes 'Surname Initials.' too
        None,
    )
    wos = tmp_path / "wos.csv"
    wos.write_text(
        "Publication Type,Authors,Article Title,Source Title,Abstract,Publication Date,Publication Year,DOI\n"
        'J,"Chen, W; Tanaka, K",Pores,Mol Cell,Of pores.,DEC 2026,2026,10.1016/j.molcel.2026.2\n'
    )
    (paper,) = read_listing(wos).papers
    assert (paper.arxiv_id, paper.title, paper.abstract, paper.authors, paper.date) == (
        "doi:10.1016/j.molcel.2026.2",
        "Pores",
        "Of pores.",
        ("Chen, W", "Tanaka, K"),
        None,  # a month is no day
    )
    jsonl = tmp_path / "mine.jsonl"
    jsonl.write_text('{"Title": "Pores", "DOI": "10.1016/j.molcel.2026.2", "Date": "2026-12-04"}\n')
    (paper,) = read_listing(jsonl).papers
    assert (paper.arxiv_id, paper.title, paper.date) == ("doi:10.1016/j.molcel.2026.2", "Pores", date(2026, 12, 4))


def test_a_scopus_export_names_its_authors_given_name_first_in_either_of_its_forms(tmp_path):
    scopus = tmp_path / "scopus.csv"
    scopus.write_text(
        "Authors,Title,Year,Source title,DOI,Abstract,EID\n"
        '"Smith J.; van der Berg T.H.; Doe J.-P.; [No author name available]",A paper,2021,Nature,10.1038/x1,A,'
        "2-s2.0-1\n"
        '"Smith J., Doe A.",Another paper,2020,Cell,10.1016/x2,B,2-s2.0-2\n'  # its export before 2023
    )
    first, second = read_listing(scopus).papers
    assert first.authors == ("J. Smith", "T. H. van der Berg", "Doe J.-P.", "[No author name available]")
    assert second.authors == ("J. Smith", "A. Doe")
    from recommender.sources.merge import first_author

    assert first_author(first) == "smith"  # so a title-plus-author match finds the paper kept from another source


def test_another_files_date_column_dates_a_paper_only_when_it_is_a_whole_day(tmp_path):
    zotero = tmp_path / "zotero.csv"
    zotero.write_text(
        '"Key","Item Type","Publication Year","Author","Title","DOI","Abstract Note","Date"\n'
        '"A1","journalArticle","2021","Smith, John","A paper","10.1038/x1","An abstract","2021"\n'
        '"A2","journalArticle","2020","Roe, Rick","Another paper","10.1016/x2","Abs","April 2020"\n'
        '"A3","journalArticle","2020","Roe, Rick","A third paper","10.1016/x3","Abs","2020-04-22 10:00:00"\n'
    )
    assert [paper.date for paper in read_listing(zotero).papers] == [None, None, date(2020, 4, 22)]
    jsonl = tmp_path / "theirs.jsonl"
    jsonl.write_text('{"Title": "Pores", "Date": "2021"}\n{"Title": "Cilia", "DATE": 2021}\n')
    assert [paper.date for paper in read_listing(jsonl).papers] == [None, None]
    # paperrec's own 'date' is still read strictly, and its files read back as written.
    mine = tmp_path / "mine.csv"
    mine.write_text("title,date\nMine,2021\n")
    with pytest.raises(PaperrecError, match="'date' must be YYYY-MM-DD"):
        read_listing(mine)
    papers = read_listing(zotero).papers
    written = tmp_path / "written.csv"
    written.write_text(to_csv(papers), encoding="utf-8")
    assert to_csv(read_listing(written).papers) == written.read_text(encoding="utf-8")


def test_a_csv_of_no_export_keeps_its_authors_as_written_and_its_own_title_column_first(tmp_path):
    mine = tmp_path / "mine.csv"
    mine.write_text('Title,Article Title,authors,date\nMine,Theirs,"Smith J, Doe A",2026-12-04\n')
    (paper,) = read_listing(mine).papers
    assert (paper.title, paper.authors) == ("Mine", ("Smith J, Doe A",))  # split at ';' only, as before
    bad = tmp_path / "bad.csv"
    bad.write_text("Title,Date\nMine,2026/13/04\n")
    with pytest.raises(PaperrecError, match="'date' must be YYYY-MM-DD"):
        read_listing(bad)
    untitled = tmp_path / "untitled.csv"
    untitled.write_text("Name,Date\nMine,2026-12-04\n")
    with pytest.raises(PaperrecError, match="CSV header must name a 'title' column"):
        read_listing(untitled)


def test_a_listings_inline_html_leaves_its_titles_and_a_literal_angle_bracket_stays(tmp_path):
    day = tmp_path / "day.jsonl"
    day.write_text(
        json.dumps({"title": "Septins in <i>S. pombe</i>", "abstract": "K<sub>d</sub> of <b>40</b> nM."})
        + "\n"
        + json.dumps({"title": 'Cilia of <span class="sc">Xenopus</span> <EM>laevis</EM>'})
        + "\n",
        encoding="utf-8",
    )
    papers = read_listing(day).papers
    assert [(p.title, p.abstract) for p in papers] == [
        ("Septins in S. pombe", "Kd of 40 nM."),
        ("Cilia of Xenopus laevis", ""),
    ]
    exported = tmp_path / "export.csv"
    exported.write_text('title\n"Ca<sup>2+</sup> waves in <i>Drosophila</i>"\n')
    assert read_listing(exported).papers[0].title == "Ca2+ waves in Drosophila"
    # Text that only looks like a tag is a title's own: a stored day reads back as written, byte for byte.
    kept = [
        Paper.make(title, f"2101.0000{i}", "The <s> and </s> tokens; $a<b>c$ and x < y &amp; z.")
        for i, title in enumerate(["The <s> token", "x < y for <i> in range", "AT&amp;T <b>bold", "$a<b>c$ </i>"])
    ]
    stored = tmp_path / "stored.jsonl"
    stored.write_text(to_jsonl(kept), encoding="utf-8")
    assert to_jsonl(read_listing(stored).papers) == stored.read_text(encoding="utf-8")


def test_a_notice_names_an_unsigned_liked_paper_by_a_title_of_three_words_or_by_a_linked_doi():
    """A hand-written entry has no authors: a title of 3 or 4 words is then enough, 2 is not; a DOI the notice's links
    name is enough whatever the title."""
    unsigned = Paper.make("Denoising diffusion probabilistic models", "2006.11239")
    assert notice_of(f"Retraction: {unsigned.title}", ["J. Ho", "A. Jain"]).is_of(unsigned)
    assert not notice_of("Retraction: Deep learning").is_of(Paper.make("Deep learning", "doi:10.1234/c"))
    signed = Paper.make("A review", "doi:10.1234/b", authors=["Smith, John"])
    cites = Paper.make("Retraction Note", "doi:10.1234/notice", links=["https://doi.org/10.1234/b"])
    notice = notice_of("Retraction Note: A review of something else", ["The Editors"], cites.ids)
    assert notice is not None and notice.is_of(signed)
    assert not notice_of("Retraction Note: A review", ["The Editors"], ("doi:10.1234/notice",)).is_of(signed)


def test_an_export_that_writes_surname_comma_initials_or_splits_at_semicolons_keeps_each_author_whole(tmp_path):
    """'Doe, AB; Smith, J.' (a file with a 'Source title' column) and a PubMed file whose cell is split at ';' give one
    name per author, not a surname with a comma or two halves of one author."""
    source = tmp_path / "dimensions.csv"
    source.write_text('Title,Authors,Source title\n"Cilia","Doe, AB; Smith, J.",Cell\n')
    assert read_listing(source).papers[0].authors == ("A. B. Doe", "J. Smith")
    pubmed = tmp_path / "pubmed.csv"
    pubmed.write_text('PMID,Title,Authors\n1,"Cilia","Doe, Anna; Smith, John"\n')
    assert len(read_listing(pubmed).papers[0].authors) == 2
