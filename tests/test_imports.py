"""Collections in: BibTeX, Zotero CSL JSON and RDF, id lists; format detection, errors and merging duplicates."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from recommender.schema import Paper, PaperrecError, UsageError, title_id
from recommender.sources.bibtex import latex_to_text, read_bibtex
from recommender.sources.idlist import find_arxiv_id, parse_arxiv_ref, read_id_list
from recommender.sources.imports import IMPORT_FORMATS, ImportResult, read_collection, read_collections
from recommender.sources.zotero import read_csl_json, read_zotero_rdf

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
BIB = FIXTURES / "library.bib"
CSL = FIXTURES / "zotero-export.json"
RDF = FIXTURES / "zotero-export.rdf"
IDS = FIXTURES / "liked-ids.txt"


def by_title(papers: list[Paper] | tuple[Paper, ...]) -> dict[str, Paper]:
    return {p.title: p for p in papers}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2104.10642v3", ("2104.10642", 3)),
        ("arXiv:2104.10642", ("2104.10642", None)),
        ("arXiv: 2104.10642", ("2104.10642", None)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("math.AG/0601001v2", ("math.AG/0601001", 2)),
        ("0704.0001", ("0704.0001", None)),
        ("https://arxiv.org/abs/2010.11929v2", ("2010.11929", 2)),
        ("http://arxiv.org/pdf/1512.03385.pdf", ("1512.03385", None)),
        ("https://arxiv.org/pdf/2104.10642v1", ("2104.10642", 1)),
        ("https://arxiv.org/pdf/hep-th/9711200v3.pdf", ("hep-th/9711200", 3)),
        ("https://export.arxiv.org/abs/2104.10642?context=cs", ("2104.10642", None)),
        ("10.48550/arXiv.2104.10642", ("2104.10642", None)),
        ("https://doi.org/10.48550/ARXIV.1810.04805", ("1810.04805", None)),
        ("2104.1064", None),  # since 2015 the number has five digits
        ("1412.69801", None),  # and before it four
        ("2113.00001", None),  # no month 13
        ("0612.0001", None),  # new-style ids start in April 2007
        ("10.1038/nature14539", None),
        ("https://openreview.net/forum?id=2104.10642", None),
        ("see 2104.10642", None),
        ("", None),
    ],
)
def test_parse_arxiv_ref(text, expected):
    assert parse_arxiv_ref(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("arXiv preprint arXiv:1412.6980", ("1412.6980", None)),
        ("arXiv preprint hep-th/9901001", ("hep-th/9901001", None)),
        ("arXiv:2306.13455 [cs]", ("2306.13455", None)),
        ("arXiv: 1512.03385", ("1512.03385", None)),
        (r"\url{https://arxiv.org/abs/1706.03762v5}", ("1706.03762", 5)),
        ("Also at 10.48550/arXiv.1810.04805.", ("1810.04805", None)),
        ("arXiv e-prints", None),
        ("Published in Nature 521, 2015.1234", None),  # a number that is not marked as an arXiv id
        ("arXiv:2104.106421", None),
    ],
)
def test_find_arxiv_id_in_free_text(text, expected):
    assert find_arxiv_id(text) == expected


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        ("{BERT}: Pre-training", "BERT: Pre-training"),
        ("Attention {{Is All You Need}}", "Attention Is All You Need"),
        (r"{$O(n)$} Connections and $\{0,1\}^n$", r"$O(n)$ Connections and $\{0,1\}^n$"),
        (r"Caf\'e, {\'E}cole, na\"{\i}ve, Fran{\c{c}}ois", "Café, École, naïve, François"),
        (r"\L{}ukasz, Stra\ss e, \o{} and \aa", "Łukasz, Straße, ø and å"),
        (r"\emph{Deep} \textbf{Learning} {\em now}", "Deep Learning now"),
        (r"Q\&A: 50\% of \$5 -- or~so", "Q&A: 50% of $5 \N{EN DASH} or so"),
        ("Two\n   lines", "Two lines"),
        # what paperrec's BibTeX export writes for characters LaTeX would otherwise read as markup
        (r"\textbackslash{}\%, \textbackslash{}\} and \textbraceleft{}", r"\%, \} and {"),
        (r"-{}- -{}-{}- '{}' `{}` \textasciitilde{}\textasciicircum{} \_x\_ \$5", "-- --- '' `` ~^ _x_ $5"),
    ],
)
def test_latex_to_text(latex, text):
    assert latex_to_text(latex) == text


def test_bibtex_finds_the_arxiv_id_wherever_the_entry_keeps_it():
    papers, _ = read_bibtex(BIB)
    ids = {p.title: (p.arxiv_id, p.version) for p in papers}
    # eprint with 'arXiv:' and version, no archivePrefix (Better BibTeX style)
    assert ids["Temporal Modulation Network for Controllable Space-Time Video Super-Resolution"] == ("2104.10642", 1)
    # eprint with archivePrefix, capitalised field names (JabRef style)
    assert ids["Attention Is All You Need"] == ("1706.03762", 5)
    assert ids["The Large $N$ Limit of Superconformal Field Theories and Supergravity"] == ("hep-th/9711200", None)
    # url: abs page, and an old-style pdf link
    assert ids["An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale"] == ("2010.11929", 2)
    assert ids["Anti de Sitter Space and Holography"] == ("hep-th/9802150", 2)
    # doi 10.48550, even though the url points elsewhere
    assert ids["BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"] == (
        "1810.04805",
        None,
    )
    # journal, note and howpublished (Google Scholar style), eprinttype (DBLP style)
    assert ids["Adam: A method for stochastic optimization"] == ("1412.6980", None)
    assert ids["Deep Residual Learning for Image Recognition"] == ("1512.03385", None)
    assert ids["$O(n)$ Connections are Expressive Enough: Universal Approximability of Sparse Transformers"] == (
        "2006.04862",
        None,
    )
    assert ids["Transformers are RNNs: Fast Autoregressive Transformers with Linear Attention"] == ("2006.16236", None)
    # an eprint of another archive is not an arXiv id
    assert ids["A Paper Indexed Elsewhere"] == (title_id("A Paper Indexed Elsewhere"), None)
    assert len(papers) == 13


def test_bibtex_fields_are_cleaned():
    papers = by_title(read_bibtex(BIB)[0])
    first = papers["Temporal Modulation Network for Controllable Space-Time Video Super-Resolution"]
    assert first.authors == ("Gang Xu", "Jun Xu", "Zhen Li", "Liang Wang", "Xing Sun", "Ming-Ming Cheng")
    assert first.categories == ("cs.CV",)
    assert first.date == date(2021, 4, 21)
    assert first.abstract.startswith("Space-time video super-resolution (STVSR) aims")
    assert papers["Attention Is All You Need"].authors == ("Ashish Vaswani", "Noam Shazeer", "Niki Parmar")
    assert papers["Attention Is All You Need"].categories == ("cs.CL",)
    linear = papers["Transformers are RNNs: Fast Autoregressive Transformers with Linear Attention"]
    assert linear.authors[-1] == "François Fleuret"
    thesis = papers["Über die Schätzung von Tiefe aus Études & Bildern"]
    assert thesis.authors == ("Jürgen Müller",)
    assert papers["Adam: A method for stochastic optimization"].authors == ("Diederik P Kingma", "Jimmy Ba")


def test_bibtex_entry_without_arxiv_id_is_kept_by_doi_else_by_title():
    papers = by_title(read_bibtex(BIB)[0])
    deep = papers["Deep learning"]
    assert deep.arxiv_id == "doi:10.1038/nature14539" and deep.links == ()
    assert not deep.has_arxiv_id
    thesis = papers["Über die Schätzung von Tiefe aus Études & Bildern"]
    assert thesis.arxiv_id == title_id(thesis.title)
    assert deep.abstract.startswith("Deep learning allows computational models")
    assert deep.authors == ("Yann LeCun", "Yoshua Bengio", "Geoffrey Hinton")


def test_bibtex_broken_and_empty_entries_are_skipped_with_reasons():
    papers, skipped = read_bibtex(BIB)
    assert skipped == [
        (f"{BIB}:117 @misc{{slides2020}}", "neither an arXiv id nor a title"),
        (
            f"{BIB}:123 @article{{broken2019}}",
            "malformed BibTeX entry: Unexpected block start: `@article`. Was still looking for field-value closing `}`",
        ),
    ]
    # the entry after the broken one is still read
    assert papers[-1].title == "A Paper Indexed Elsewhere"
    assert not any("Closing Brace" in p.title for p in papers)


def test_bibtex_duplicate_key_and_field_entries_are_still_read(tmp_path):
    path = tmp_path / "dups.bib"
    path.write_text(
        "@string{venue = {CVPR}}\n@string{venue = {ICCV}}\n"
        "@misc{a, title = {First}, eprint = {2104.10642}}\n"
        "@misc{a, title = {{Second} Entry}, url = {https://arxiv.org/abs/1706.03762}}\n"
        '@misc{b, title = "Twice", title = "Twice {Again}", eprint = "2010.11929v2"}\n'
    )
    papers, skipped = read_bibtex(path)
    assert skipped == []
    assert [(p.arxiv_id, p.title) for p in papers] == [
        ("2104.10642", "First"),
        ("1706.03762", "Second Entry"),
        ("2010.11929", "Twice Again"),
    ]
    assert papers[2].version == 2


def test_bibtex_entry_with_id_but_no_title_keeps_an_empty_title(tmp_path):
    path = tmp_path / "id-only.bib"
    path.write_text("@misc{x, author = {Doe, Jane}, eprint = {2104.10642v2}, archivePrefix = {arXiv}}\n")
    (paper,), skipped = read_bibtex(path)
    assert (paper.arxiv_id, paper.version, paper.title, paper.authors) == ("2104.10642", 2, "", ("Jane Doe",))
    assert skipped == []


def test_a_file_without_bibtex_entries_is_an_error(tmp_path):
    path = tmp_path / "notes.bib"
    path.write_text("These are my notes, not a bibliography.\n")
    with pytest.raises(PaperrecError, match=r"notes\.bib: no BibTeX entries found"):
        read_collection(path)
    empty = tmp_path / "empty.bib"
    empty.write_text("")
    assert read_collection(empty) == ImportResult(papers=(), skipped=())


def test_csl_json_from_zotero():
    papers, skipped = read_csl_json(CSL)
    assert [p.arxiv_id for p in papers] == [
        "2104.10642",  # number, URL, DOI and note all agree
        "1706.03762",  # only container-title, as older Zotero versions saved arXiv papers
        "1512.03385",  # only note ("extra"); the URL is the CVF page
        "doi:10.1038/nature14539",  # no arXiv id: known by its DOI
        "2303.08774",
    ]
    first = papers[0]
    assert first.title == "Temporal Modulation Network for Controllable Space-Time Video Super-Resolution"
    assert first.authors[0] == "Gang Xu" and len(first.authors) == 6
    assert first.date == date(2021, 4, 21)  # date-parts with the year as a string
    assert first.abstract.startswith("Space-time video super-resolution")
    assert papers[2].date is None  # year only
    assert papers[3].date is None  # year and month only
    assert papers[3].abstract.startswith("Deep learning allows")
    assert papers[4].authors == ("OpenAI",)
    assert skipped == [
        (f"{CSL}: item 6 (http://zotero.org/users/local/Wq3fTz8x/items/QQ8V3M1D)", "neither an arXiv id nor a title")
    ]


def test_csl_json_names_particles_and_odd_items(tmp_path):
    path = tmp_path / "odd.json"
    items = [
        {
            "title": "A <i>sparse</i> attention",
            "URL": "https://arxiv.org/abs/2101.00001v4",
            "author": [{"family": "Waals", "non-dropping-particle": "van der", "given": "J. D."}, "not a name"],
            "issued": {"raw": "2021-01-05"},
        },
        "not an item",
    ]
    path.write_text(json.dumps(items))
    papers, skipped = read_csl_json(path)
    assert [(p.arxiv_id, p.version, p.title, p.authors, p.date) for p in papers] == [
        ("2101.00001", 4, "A sparse attention", ("J. D. van der Waals",), date(2021, 1, 5))
    ]
    assert skipped == [(f"{path}: item 2", "not a JSON object")]


def test_csl_json_errors_name_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[\n  {"title": "ok"},\n  {"title": }\n]\n')
    with pytest.raises(PaperrecError, match=r"bad\.json:3: invalid JSON"):
        read_collection(bad)
    better = tmp_path / "better-bibtex.json"
    better.write_text('{"config": {}, "items": []}')
    with pytest.raises(PaperrecError, match=r"better-bibtex\.json: expected a JSON array of CSL items"):
        read_collection(better)


def test_zotero_rdf_items_without_attachments_and_notes():
    papers, skipped = read_zotero_rdf(RDF)
    assert [p.arxiv_id for p in papers] == [
        "2104.10642",
        "1706.03762",  # from the journal title "arXiv:1706.03762 [cs]"
        "doi:10.1038/nature14539",  # its DOI lives on the journal node it refers to
        "1810.04805",  # DOI 10.48550 only
        "1512.03385",  # only in dc:description (Zotero's "extra")
    ]
    titles = [p.title for p in papers]
    assert "arXiv Fulltext PDF" not in titles and "arXiv.org Snapshot" not in titles
    assert "2010.11929" not in [p.arxiv_id for p in papers]  # mentioned only in a note
    first = papers[0]
    assert first.authors == ("Gang Xu", "Ming-Ming Cheng")
    assert first.date == date(2021, 4, 21)
    assert first.abstract.startswith("Space-time video super-resolution")
    assert papers[1].authors == ("Ashish Vaswani",)  # foaf:givenname, as older Zotero wrote it
    assert papers[3].title == "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"
    assert papers[2].date is None  # "2015-05" is not a day
    assert skipped == [(f"{RDF}: webpage https://example.org/reading-group", "neither an arXiv id nor a title")]


def test_zotero_rdf_errors(tmp_path):
    broken = tmp_path / "broken.rdf"
    broken.write_text(
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n  <rdf:Description>\n</rdf:RDF>\n'
    )
    with pytest.raises(PaperrecError, match=r"broken\.rdf:3: not well-formed XML"):
        read_collection(broken)
    other = tmp_path / "feed.rdf"
    other.write_text("<rss><channel/></rss>")
    with pytest.raises(PaperrecError, match=r"feed\.rdf: not a Zotero RDF export"):
        read_collection(other)


def test_id_list():
    papers, skipped = read_id_list(IDS)
    assert [(p.arxiv_id, p.version) for p in papers] == [
        ("2104.10642", 3),
        ("1706.03762", None),
        ("2010.11929", 2),
        ("1512.03385", None),
        ("2006.04862", 2),
        ("hep-th/9901001", None),
        ("math.AG/0601001", 2),
    ]
    assert all(p.title == "" and p.abstract == "" for p in papers)
    assert skipped == [
        (f"{IDS}:10", "not an arXiv id or URL: 'see also: the BERT paper'"),
        (f"{IDS}:11", "not an id arXiv has issued (a placeholder or a typo?): '2104.1064'"),
    ]


@pytest.mark.parametrize(
    ("path", "count"),
    [(BIB, 13), (CSL, 5), (RDF, 5), (IDS, 7)],
)
def test_read_collection_chooses_the_reader_by_extension(path, count):
    result = read_collection(path)
    assert isinstance(result, ImportResult)
    assert len(result.papers) == count
    assert len({p.arxiv_id for p in result.papers}) == count


def test_read_collection_format_override_and_unknown_formats(tmp_path):
    path = tmp_path / "liked.dat"
    path.write_text("2104.10642\n")
    with pytest.raises(UsageError, match=r"liked\.dat: cannot tell the format.*--format bibtex\|csl-json"):
        read_collection(path)
    assert [p.arxiv_id for p in read_collection(path, fmt="ids").papers] == ["2104.10642"]
    with pytest.raises(UsageError, match="unknown import format 'endnote'"):
        read_collection(path, fmt="endnote")
    assert set(IMPORT_FORMATS) == {"bibtex", "csl-json", "zotero-rdf", "ris", "ids", "md", "jsonl", "csv"}


def test_read_collection_reads_listing_files(example_listing, tmp_path):
    result = read_collection(example_listing)
    assert len(result.papers) == 59 and result.skipped == ()
    listing = tmp_path / "liked.jsonl"
    listing.write_text(json.dumps({"id": "2104.10642v2", "title": "Temporal Modulation Network", "abstract": "STVSR."}))
    (paper,) = read_collection(listing).papers
    assert (paper.arxiv_id, paper.version, paper.abstract) == ("2104.10642", 2, "STVSR.")


def test_read_collection_file_errors(tmp_path):
    with pytest.raises(PaperrecError, match=r"missing\.bib: no such file"):
        read_collection(tmp_path / "missing.bib")
    with pytest.raises(PaperrecError, match="is a directory"):
        read_collection(tmp_path, fmt="ids")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("2104.10642 # Müller\n".encode("latin-1"))
    with pytest.raises(PaperrecError, match=r"latin\.txt: not a UTF-8 text file"):
        read_collection(latin)
    with pytest.raises(UsageError, match="no collection file given"):
        read_collections([])


def test_read_collections_merges_duplicates_across_files():
    result = read_collections([BIB, IDS])
    ids = [p.arxiv_id for p in result.papers]
    assert len(ids) == len(set(ids))
    temporal = result.papers[ids.index("2104.10642")]
    assert temporal.title == "Temporal Modulation Network for Controllable Space-Time Video Super-Resolution"
    assert temporal.authors[0] == "Gang Xu"
    assert temporal.version == 3  # the newest version either file named
    # papers only the id list names are kept, without metadata, after the BibTeX ones
    assert ids[-2:] == ["hep-th/9901001", "math.AG/0601001"]
    assert result.papers[-1].title == ""
    assert len(result.papers) == 13 + 2
    assert result.skipped == read_collection(BIB).skipped + read_collection(IDS).skipped


def test_merge_keeps_the_richer_record_in_first_seen_order():
    result = read_collections([IDS, BIB])
    ids = [p.arxiv_id for p in result.papers]
    assert ids[:2] == ["2104.10642", "1706.03762"]
    temporal, attention = result.papers[:2]
    assert temporal.title.startswith("Temporal Modulation Network") and temporal.version == 3
    assert attention.title == "Attention Is All You Need" and attention.version == 5


def test_merge_fills_gaps_from_the_other_record_and_joins_title_only_papers(tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@misc{t, title = {Temporal Modulation Network}, eprint = {2104.10642}, author = {Xu, Gang}}\n"
        "@article{v, title = {Attention is all you need}, author = {Vaswani, Ashish}, year = 2017}\n"
    )
    listing = tmp_path / "day.jsonl"
    listing.write_text(
        json.dumps({"id": "2104.10642", "title": "Temporal Modulation Network", "abstract": "STVSR."})
        + "\n"
        + json.dumps({"id": "1706.03762", "title": "Attention Is All You Need", "abstract": "Transformers."})
        + "\n"
    )
    result = read_collections([bib, listing])
    assert [(p.arxiv_id, p.title, p.abstract, p.authors) for p in result.papers] == [
        ("2104.10642", "Temporal Modulation Network", "STVSR.", ("Gang Xu",)),
        # the BibTeX entry without an id is the same paper as the listing's 1706.03762: same title, and 2017 fits it
        ("1706.03762", "Attention Is All You Need", "Transformers.", ("Ashish Vaswani",)),
    ]


def test_merged_duplicates_keep_the_day_the_paper_was_added_not_the_publication_year(tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(
        # Zotero's entry with its access date, then a Google Scholar copy that has only a year.
        "@article{lim, title = {Enhanced Deep Residual Networks}, eprint = {1707.02921}, year = {2017},"
        " urldate = {2023-03-01}}\n"
        "@article{lim2, title = {Enhanced Deep Residual Networks}, url = {https://arxiv.org/abs/1707.02921},"
        " year = 2017}\n"
        # The copy with only a year first, the dated one after it.
        "@article{vsr, title = {BasicVSR}, author = {Chan, Kelvin}, year = {2021}}\n"
        "@article{vsr2, title = {BasicVSR}, author = {Chan, Kelvin}, year = {2021}, timestamp = {2021-06-01}}\n"
        # Two dates added: the earlier one is when the paper joined the library.
        "@article{sw, title = {SwinIR}, eprint = {2108.10257}, dateadded = {2022-05-02}}\n"
        "@article{sw2, title = {SwinIR}, eprint = {2108.10257}, dateadded = {2022-01-15}}\n"
        # Neither says when it was added: the earlier publication date stands.
        "@article{pub, title = {RepVGG}, eprint = {2101.03697}, year = {2021}, month = {jun}}\n"
        "@article{pub2, title = {RepVGG}, eprint = {2101.03697}, year = {2021}, month = {mar}}\n"
    )
    result = read_collection(bib)
    assert result.merged == 4
    assert dict(zip((p.title for p in result.papers), result.added, strict=True)) == {
        "Enhanced Deep Residual Networks": date(2023, 3, 1),
        "BasicVSR": date(2021, 6, 1),
        "SwinIR": date(2022, 1, 15),
        "RepVGG": date(2021, 3, 1),
    }


def test_each_reference_managers_date_added_is_the_day_the_paper_joined(tmp_path):
    # BibDesk writes date-added (with a time and zone), JabRef timestamp with dots, BibSonomy added-at.
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{bd, title = {A BibDesk paper}, year = {2018}, date-added = {2019-05-04 10:12:00 +0200},"
        " date-modified = {2024-01-04 10:12:00 +0100}}\n"
        "@article{jr, title = {A JabRef paper}, year = {2017}, timestamp = {2020.02.03}}\n"
        "@article{bs, title = {A BibSonomy paper}, year = {2016}, added-at = {2021-07-08T09:10:11.000+0200}}\n"
        "@article{none, title = {A paper with no date}}\n"
    )
    result = read_collection(bib)
    assert dict(zip((p.title for p in result.papers), result.added, strict=True)) == {
        "A BibDesk paper": date(2019, 5, 4),
        "A JabRef paper": date(2020, 2, 3),
        "A BibSonomy paper": date(2021, 7, 8),
        "A paper with no date": None,
    }


def test_the_same_paper_from_every_zotero_format_is_one_paper():
    result = read_collections([BIB, CSL, RDF, IDS])
    ids = [p.arxiv_id for p in result.papers]
    assert ids.count("2104.10642") == 1 and ids.count("doi:10.1038/nature14539") == 1
    assert {"2303.08774", "1810.04805", "hep-th/9901001"} <= set(ids)
    assert {p.arxiv_id for p in result.papers if not p.title} == {"hep-th/9901001", "math.AG/0601001"}


def test_merge_prefers_the_record_with_more_information_over_the_first(tmp_path):
    listing = tmp_path / "short.jsonl"
    listing.write_text(json.dumps({"id": "2104.10642v2", "title": "TMNet"}) + "\n")
    (paper,) = [p for p in read_collections([listing, CSL]).papers if p.arxiv_id == "2104.10642"]
    assert paper.title == "Temporal Modulation Network for Controllable Space-Time Video Super-Resolution"
    assert paper.abstract.startswith("Space-time video super-resolution")
    assert paper.version == 2


def test_a_preprint_and_its_published_version_a_year_later_are_one_work(tmp_path):
    bib = tmp_path / "library.bib"
    bib.write_text(
        "@article{dosovitskiy2020image, title = {An Image is Worth 16x16 Words: Transformers for Image Recognition"
        " at Scale}, author = {Dosovitskiy, Alexey and Beyer, Lucas}, journal = {arXiv preprint}, year = {2020}}\n"
        "@inproceedings{dosovitskiy2021an, title = {An image is worth 16x16 words: Transformers for image recognition"
        " at scale}, author = {Alexey Dosovitskiy and Lucas Beyer}, booktitle = {ICLR}, year = {2021},"
        " doi = {10.48550/iclr.2021.x}}\n"
        # the same title by another first author, and by the same one years later, are other works
        "@article{other, title = {An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale},"
        " author = {Someone, Else}, year = {2019}}\n"
        "@article{later, title = {An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale},"
        " author = {Dosovitskiy, Alexey}, year = {2025}}\n"
        # a short, common title is no evidence of one work, even by one author a year apart
        "@incollection{i1, title = {Introduction}, author = {Smith, Jane}, year = {2019}}\n"
        "@incollection{i2, title = {Introduction}, author = {Smith, Jane}, year = {2020}}\n"
    )
    result = read_collections([bib])
    assert result.merged == 1
    assert result.papers[0].arxiv_id == "doi:10.48550/iclr.2021.x"  # the published version's DOI names the work
    assert len(result.papers) == 5


def test_a_citation_in_an_imported_abstract_keeps_its_keys():
    assert latex_to_text(r"See \cite{x, y} and \citep[p.~2]{z}.") == "See [x, y] and [z]."


def test_jats_in_a_bibtex_abstract_is_text(tmp_path):
    path = tmp_path / "crossref.bib"
    path.write_text(
        "@article{a, title = {Theta sequences}, doi = {10.1101/2024.03.01.582999}, author = {Nguyen, Linh},\n"
        "  abstract = {<jats:title>Abstract</jats:title><jats:p>Place cells in CA1 of mice.</jats:p>}}\n"
    )
    assert read_bibtex(path)[0][0].abstract == "Place cells in CA1 of mice."


def test_html_italics_in_a_bibtex_title_are_text_however_the_exporter_escaped_them(tmp_path):
    # Mendeley writes a title's <i> as {\textless}i{\textgreater}; Paperpile and others leave it as <i>.
    path = tmp_path / "mendeley.bib"
    path.write_text(
        '@article{a, doi = {10.1016/j.devcel.2019.01.001}, author = {M{\\"{u}}ller, K.},\n'
        "  title = {{Dpp maintains {\\textless}i{\\textgreater}Drosophila{\\textless}/i{\\textgreater} stem cells}},\n"
        "  abstract = {Loss of {\\textless}i{\\textgreater}dpp{\\textless}/i{\\textgreater} (p {\\textless} 0.05).}}\n"
        "@article{b, doi = {10.1038/x}, title = {Wnt signalling in <i>C. elegans</i>}}\n"
    )
    papers = read_bibtex(path)[0]
    assert [p.title for p in papers] == ["Dpp maintains Drosophila stem cells", "Wnt signalling in C. elegans"]
    assert papers[0].abstract == "Loss of dpp (p < 0.05)." and papers[0].authors == ("K. Müller",)


def test_a_title_with_html_and_the_same_title_without_are_one_work(tmp_path):
    # A listing keeps a title's <i>; BibTeX's title loses it. Read together, they are one paper.
    listing = tmp_path / "shown.jsonl"
    listing.write_text(
        json.dumps({"title": "Wnt signalling in <i>C. elegans</i> embryos", "authors": ["Jane Smith"]}) + "\n"
    )
    bib = tmp_path / "lib.bib"
    bib.write_text(
        "@article{b, author = {Smith, Jane}, year = {2020}, title = {Wnt signalling in <i>C. elegans</i> embryos}}\n"
    )
    result = read_collections([listing, bib])
    assert len(result.papers) == 1 and result.merged == 1


@pytest.mark.parametrize("text", ["", "  \n\n"])
def test_an_empty_json_export_says_it_is_empty(tmp_path, text):
    path = tmp_path / "export.json"
    path.write_text(text)
    with pytest.raises(PaperrecError) as refused:
        read_collection(path)
    assert str(refused.value) == f"{path}: empty, where JSON was expected"


RIS = """\ufeffTY  - JOUR
TI  - Replay of place cell sequences
  during sleep
AU  - Wilson, Matthew A.
AU  - McNaughton, Bruce L.
PY  - 1994///
DA  - 1994/07/29/
DO  - https://doi.org/10.1126/SCIENCE.8036517
AB  - Hippocampal <i>place cells</i> replay
sequences during slow-wave sleep.
Y2  - 2024/03/05/
ER  -

TY  - JOUR
T1  - Theta sequences in CA1
A1  - Nguyen, L.
Y1  - 2024
UR  - https://www.biorxiv.org/content/10.1101/2024.03.01.582999v1
N2  - Place cells compress trajectories.
ER  -
TY  - ELEC
TI  - Deep learning of grid cells
AU  - Banino, Andrea
PY  - 2018
UR  - https://arxiv.org/abs/1805.09709v2
ER  -
TY  - GEN
N1  - a record with nothing to know it by
ER  -
""".replace("ER  -\n\n", "ER  - \n\n")  # most writers end a record with 'ER  - ', some with 'ER  -'


def test_an_ris_export_is_imported_with_dois_arxiv_ids_and_dates(tmp_path):
    path = tmp_path / "endnote.ris"
    path.write_text(RIS, encoding="utf-8")
    result = read_collection(path)
    replay, theta, grid = result.papers
    assert replay.arxiv_id == "doi:10.1126/science.8036517"
    assert replay.title == "Replay of place cell sequences during sleep"
    assert replay.authors == ("Matthew A. Wilson", "Bruce L. McNaughton")
    assert replay.abstract == "Hippocampal place cells replay sequences during slow-wave sleep."
    assert replay.date == date(1994, 7, 29) and result.added[0] == date(2024, 3, 5)  # Y2: when it was accessed
    assert theta.arxiv_id == "doi:10.1101/2024.03.01.582999" and theta.abstract == "Place cells compress trajectories."
    assert theta.authors == ("L. Nguyen",) and result.added[1] == date(2024, 1, 1)
    assert (grid.arxiv_id, grid.version) == ("1805.09709", 2)
    assert result.skipped == ((f"{path}:27 TY GEN", "neither an arXiv id nor a title"),)


def test_an_ris_record_missing_its_er_line_is_still_read_when_the_next_begins(tmp_path):
    # A hand-joined export may lose an 'ER  -': the next 'TY' still ends the record, which is read, not dropped.
    path = tmp_path / "joined.ris"
    path.write_text("TY  - JOUR\nTI  - First paper\nTY  - JOUR\nTI  - Second paper\nER  -\n", encoding="utf-8")
    assert [p.title for p in read_collection(path).papers] == ["First paper", "Second paper"]


def test_a_chinese_or_korean_name_in_two_fields_reads_family_name_first_as_written(tmp_path):
    # Zotero keeps 王芳 as family 王 and given 芳, and shows it as 王芳: a CJK name has no space and no reordering.
    ris = tmp_path / "zotero.ris"
    ris.write_text(
        "TY  - JOUR\nAU  - 王, 芳\nAU  - 김, 민수\nAU  - Müller, Jürgen\nTI  - Glia and the barrier\nER  - \n",
        encoding="utf-8",
    )
    bib = tmp_path / "mendeley.bib"
    bib.write_text(
        '@article{w, author = {王, 芳 and Sch{\\"{o}}nberg, Fran{\\c{c}}ois}, title = {Glia}}\n', encoding="utf-8"
    )
    csl = tmp_path / "zotero.json"
    people = [{"family": "王", "given": "芳"}, {"family": "Li", "given": "Na"}]
    csl.write_text(json.dumps([{"type": "article-journal", "title": "Glia", "author": people}]), encoding="utf-8")
    assert read_collection(ris).papers[0].authors == ("王芳", "김민수", "Jürgen Müller")
    assert read_collection(bib).papers[0].authors == ("王芳", "François Schönberg")
    assert read_collection(csl).papers[0].authors == ("王芳", "Na Li")
