"""Imports know a paper by its arXiv id, else its DOI, else its OpenReview forum, and find it under any of them."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from recommender.cli import app
from recommender.profile import change_profile, import_into_profile, load_profile, set_links, undo
from recommender.profile.library import report_lines
from recommender.schema import Listing, Paper, title_id
from recommender.sources.idlist import id_list_references
from recommender.sources.imports import read_collection, read_collections
from recommender.sources.store import write_day

BIORXIV_DOI = "10.1101/2026.12.01.700001"
TITLE = "Cortical circuits of working memory"
JOURNAL_DOI = "10.1016/j.neuron.2027.01.001"
JOURNAL_LINK = f"https://doi.org/{JOURNAL_DOI}"

BIB = r"""
@inproceedings{smith2026forum,
  title = {Sparse Attention for Graph Transformers},
  author = {Smith, Jane and Doe, John},
  booktitle = {The Fourteenth International Conference on Learning Representations},
  year = {2026},
  url = {https://openreview.net/forum?id=AbC_d-12}
}

@article{posted2026,
  title = {Cortical circuits of working memory},
  author = {Lovelace, Ada and Noether, Emmy},
  year = {2026},
  doi = {https://doi.org/10.1101/2026.12.01.ABC123}
}

@article{published2021,
  title = {Image Super-Resolution via Iterative Refinement},
  author = {Saharia, Chitwan},
  eprint = {2104.07636},
  archivePrefix = {arXiv},
  doi = {10.1109/TPAMI.2022.3204461},
  year = {2022}
}

@misc{preprint2021,
  title = {Only on arXiv},
  author = {Ho, Jonathan},
  doi = {10.48550/arXiv.2104.10642},
  year = {2021}
}

@inproceedings{both2026,
  title = {A Journal Paper Also on OpenReview},
  author = {Curie, Marie},
  doi = {10.1000/XYZ.1},
  note = {Reviews at https://openreview.net/forum?id=Zz9},
  year = {2026}
}

@book{plain,
  title = {A Book Without Any Id},
  author = {Hopper, Grace},
  year = {1990}
}
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_bibtex_names_a_paper_by_arxiv_id_else_doi_else_forum_else_title(tmp_path):
    papers = {p.title: p for p in read_collection(write(tmp_path / "lib.bib", BIB)).papers}
    forum = papers["Sparse Attention for Graph Transformers"]
    assert forum.arxiv_id == "openreview:AbC_d-12" and forum.links == ()
    posted = papers[TITLE]
    assert posted.arxiv_id == "doi:10.1101/2026.12.01.abc123"  # lower case, no resolver
    published = papers["Image Super-Resolution via Iterative Refinement"]
    assert published.arxiv_id == "2104.07636"
    # Known by two ids: a link to each, so a copy under its DOI is the same paper.
    assert published.links == ("https://arxiv.org/abs/2104.07636", "https://doi.org/10.1109/tpami.2022.3204461")
    assert published.ids == ("2104.07636", "doi:10.1109/tpami.2022.3204461")
    assert papers["Only on arXiv"].arxiv_id == "2104.10642" and papers["Only on arXiv"].links == ()  # arXiv's DOI
    both = papers["A Journal Paper Also on OpenReview"]
    assert both.ids == ("doi:10.1000/xyz.1", "openreview:Zz9")
    plain = papers["A Book Without Any Id"]
    assert plain.arxiv_id == title_id(plain.title) and plain.links == ()


def test_zotero_csl_items_are_named_by_doi_or_forum(tmp_path):
    items = [
        {"id": "a", "type": "article-journal", "title": "Posted", "DOI": "10.1101/2026.01.02.123456", "author": []},
        {"id": "b", "type": "paper-conference", "title": "Reviewed", "URL": "https://openreview.net/forum?id=Q1w2"},
        {"id": "c", "type": "article", "title": "Both", "DOI": "10.1/x", "URL": "https://arxiv.org/abs/2104.10642"},
    ]
    papers = {p.title: p for p in read_collection(write(tmp_path / "lib.json", json.dumps(items))).papers}
    assert papers["Posted"].arxiv_id == "doi:10.1101/2026.01.02.123456"
    assert papers["Reviewed"].arxiv_id == "openreview:Q1w2"
    assert papers["Both"].arxiv_id == "2104.10642" and papers["Both"].ids == ("2104.10642",)  # 10.1/x is no DOI


def test_an_id_list_takes_a_doi_to_look_up_and_says_why_a_forum_alone_is_not_imported(tmp_path):
    path = write(tmp_path / "ids.txt", f"2104.10642\ndoi:{BIORXIV_DOI}\nhttps://openreview.net/forum?id=Q1w2\n")
    references, skipped = id_list_references(path)
    assert [r.paper.arxiv_id for r in references] == ["2104.10642", f"doi:{BIORXIV_DOI}"]
    assert [why.split(":")[0] for _, why in skipped] == ["an OpenReview forum without a title"]


def test_records_of_one_paper_under_a_doi_and_an_arxiv_id_are_one(tmp_path):
    entry = f"@article{{a, title = {{{TITLE}}}, author = {{Lovelace, Ada}}, doi = {{{BIORXIV_DOI}}}}}"
    bib = write(tmp_path / "a.bib", entry)
    item = {"id": "x", "type": "article", "title": TITLE, "DOI": BIORXIV_DOI, "number": "arXiv:2612.10001"}
    result = read_collections([bib, write(tmp_path / "b.json", json.dumps([item]))])
    assert len(result.papers) == 1 and result.merged == 1
    paper = result.papers[0]
    assert paper.arxiv_id == "2612.10001" and paper.ids == ("2612.10001", f"doi:{BIORXIV_DOI}")


OLD_PROFILE = f"""name = "neuro"
categories = ["q-bio.NC"]

# kept from an import of 2025, when only arXiv ids were found
[[liked]]
id = "{title_id(TITLE)}"
title = "{TITLE}"
authors = ["Ada Lovelace", "Emmy Noether"]
abstract = "How cortex holds a number."
added = 2025-03-01

[[liked]]
id = "2104.07636"
title = "Image Super-Resolution via Iterative Refinement"
authors = ["Chitwan Saharia"]
abstract = "SR3."
added = 2025-03-02

[[disliked]]
id = "{title_id("A Book Without Any Id")}"
title = "A Book Without Any Id"
authors = ["Grace Hopper"]
abstract = ""
added = 2025-03-03
"""


def test_an_import_that_now_finds_a_doi_adds_no_duplicate_and_records_the_doi(tmp_path):
    profile = write(tmp_path / "neuro.toml", OLD_PROFILE)
    library = write(tmp_path / "lib.bib", BIB)
    report = import_into_profile(profile, [library])
    after = load_profile(profile)
    titles = [p.paper.title for p in after.liked]
    assert titles.count(TITLE) == 1 and titles.count("Image Super-Resolution via Iterative Refinement") == 1
    # Found by title and first author under its title hash: it keeps that id and learns its DOI.
    kept = after.liked[0].paper
    assert kept.arxiv_id == title_id(TITLE) and kept.links == ("https://doi.org/10.1101/2026.12.01.abc123",)
    # Found by its arXiv id: it learns its journal DOI.
    assert "doi:10.1109/tpami.2022.3204461" in after.liked[1].paper.ids
    assert {"doi:10.1101/2026.12.01.abc123", "doi:10.1109/tpami.2022.3204461"} <= after.ids
    # The disliked book, found by title and author, moves to liked under its own id, not as a second paper.
    assert not after.disliked and [p.paper.arxiv_id for p in after.liked].count(title_id("A Book Without Any Id")) == 1
    assert len(after.liked) == 2 + 1 + 3  # the two kept, the moved book and three new papers
    assert {p.title for p in report.relinked} == {TITLE, "Image Super-Resolution via Iterative Refinement"}
    relinked = "2 papers already there are now also known by another id (an arXiv id, a DOI, a forum)"
    assert relinked in report_lines(report)
    text = profile.read_text()
    assert "# kept from an import of 2025, when only arXiv ids were found" in text
    assert text.startswith(OLD_PROFILE.split("[[liked]]")[0])
    # A second import finds everything where the first left it.
    again = import_into_profile(profile, [library])
    assert not again.added and not again.relinked and profile.read_text() == text


def test_recording_links_knows_its_undo(tmp_path):
    profile = write(tmp_path / "neuro.toml", OLD_PROFILE)
    paper = load_profile(profile).liked[0].paper
    from dataclasses import replace

    edited = change_profile(profile, [set_links([replace(paper, links=(f"https://doi.org/{BIORXIV_DOI}",))])])
    assert f"doi:{BIORXIV_DOI}" in edited.profile.ids
    undo(edited)
    assert profile.read_text() == OLD_PROFILE


def test_a_paper_liked_by_doi_is_not_shown_again_when_its_arxiv_copy_appears(home, liked_jsonl, fake_model, tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["profile", "new", "neuro", "--from", str(liked_jsonl)]).exit_code == 0
    posted = {
        "id": f"doi:{BIORXIV_DOI}",
        "title": TITLE.upper() + ".",
        "abstract": "super-resolution of working memory",
        "authors": ["A. Lovelace"],
        "links": [f"https://www.biorxiv.org/content/{BIORXIV_DOI}v1", f"https://doi.org/{BIORXIV_DOI}"],
    }
    day1 = write(tmp_path / "day1.jsonl", json.dumps(posted) + "\n")
    liked = runner.invoke(app, ["like", f"doi:{BIORXIV_DOI.upper()}", "--listing", str(day1), "-p", "neuro"])
    assert liked.exit_code == 0, liked.output
    assert f"doi:{BIORXIV_DOI}" in load_profile(home / "profiles" / "neuro.toml").ids
    # A later day brings the arXiv copy alone, by its arXiv id: the same title and first author.
    copy = {"id": "2612.10001", "title": TITLE, "abstract": "super-resolution video", "authors": ["Ada Lovelace"]}
    other = {"id": "2612.10002", "title": "Video super-resolution again", "abstract": "video super-resolution"}
    day2 = write(tmp_path / "day2.jsonl", "".join(json.dumps(r) + "\n" for r in (copy, other)))
    ranked = runner.invoke(app, ["rank", str(day2), "-p", "neuro", "-f", "json"])
    assert ranked.exit_code == 0, ranked.output
    assert [p["id"] for p in json.loads(ranked.stdout)] == ["2612.10002"]
    # A day where both copies appear merged: one row under the arXiv id, known through the DOI it links.
    merged = {**copy, "links": [f"https://doi.org/{BIORXIV_DOI}"], "title": "Another title on arXiv"}
    day3 = write(tmp_path / "day3.jsonl", "".join(json.dumps(r) + "\n" for r in (merged, other)))
    ranked = runner.invoke(app, ["rank", str(day3), "-p", "neuro", "-f", "json"])
    assert [p["id"] for p in json.loads(ranked.stdout)] == ["2612.10002"]


def test_an_offline_import_dates_an_undated_arxiv_paper_by_its_ids_month(home, tmp_path):
    # Offline no lookup gives a publication date. Dated on the import day, a years-old paper would count as a fresh
    # like in recency weights and in the profile backtest. Its id names the month it was posted.
    bib = tmp_path / "lib.bib"
    bib.write_text(
        "@misc{a, title = {An undated preprint}, howpublished = {\\url{https://arxiv.org/abs/2106.06321}}}\n"
        "@misc{b, title = {A dated preprint}, eprint = {2107.00135}, year = {2022}}\n"
        "@misc{c, title = {A book with no id at all}}\n"
    )
    ids = write(tmp_path / "ids.txt", "1904.10509\n")
    result = CliRunner().invoke(app, ["profile", "new", "lib", "--from", str(bib), "--from", str(ids), "--offline"])
    assert result.exit_code == 0, result.output
    profile = load_profile(home / "profiles" / "lib.toml")
    added = {e.paper.arxiv_id: e.added for e in profile.liked}
    assert added["2106.06321"] == date(2021, 6, 1)
    assert added["2107.00135"] == date(2022, 1, 1)  # the file's own date wins
    assert added[title_id("A book with no id at all")] == date.today()  # nothing dates it
    assert {p.arxiv_id: p.added for p in profile.pending} == {"1904.10509": date(2019, 4, 1)}


def test_liking_the_published_version_of_a_liked_preprint_says_it_is_liked_already(home):
    # An import merged the preprint with its journal version: the entry keeps the preprint's DOI and links both.
    (home / "profiles").mkdir(parents=True, exist_ok=True)
    (home / "profiles" / "bio.toml").write_text(
        f'name = "bio"\nsources = ["biorxiv:cell_biology"]\n\n[[liked]]\nid = "doi:{BIORXIV_DOI}"\ntitle = "{TITLE}"\n'
        f'links = ["https://doi.org/{BIORXIV_DOI}", "https://doi.org/10.1016/j.neuron.2027.01.001"]\n'
        "added = 2026-12-01\n"
    )
    before = (home / "profiles" / "bio.toml").read_text()
    result = CliRunner().invoke(app, ["like", "https://doi.org/10.1016/J.NEURON.2027.01.001"])
    assert result.exit_code == 0, result.output
    assert result.stderr == "1 already liked in bio\n"
    assert (home / "profiles" / "bio.toml").read_text() == before


def test_unlike_finds_an_entry_by_an_id_or_a_page_its_links_name_as_like_does(home):
    # The liked preprint links its journal version's DOI and the journal's page; a second entry is liked beside it.
    (home / "profiles").mkdir(parents=True, exist_ok=True)
    profile = home / "profiles" / "bio.toml"
    text = (
        f'name = "bio"\nsources = ["biorxiv:cell_biology"]\n\n[[liked]]\nid = "doi:{BIORXIV_DOI}"\ntitle = "{TITLE}"\n'
        f'links = ["https://doi.org/{BIORXIV_DOI}", "https://doi.org/10.1016/j.molcel.2024.05.012",'
        ' "https://www.cell.com/molecular-cell/fulltext/S1097-2765(24)00412-3"]\nadded = 2026-12-01\n\n'
        '[[liked]]\nid = "doi:10.1101/2026.12.01.700002"\ntitle = "Condensates of MED1"\nadded = 2026-12-01\n'
    )
    profile.write_text(text)
    by_doi = CliRunner().invoke(app, ["unlike", "10.1016/j.molcel.2024.05.012"])
    assert by_doi.exit_code == 0, by_doi.output
    assert by_doi.stderr == f"removed doi:{BIORXIV_DOI} from bio\n"
    assert [e.paper.arxiv_id for e in load_profile(profile).liked] == ["doi:10.1101/2026.12.01.700002"]
    profile.write_text(text)
    page = "https://www.cell.com/molecular-cell/fulltext/S1097-2765(24)00412-3/?utm_source=rss#secsectitle0010"
    by_page = CliRunner().invoke(app, ["unlike", page, "-p", "bio"])
    assert by_page.exit_code == 0, by_page.output
    assert by_page.stderr == f"removed doi:{BIORXIV_DOI} from bio\n"
    profile.write_text(text)
    neither = CliRunner().invoke(app, ["unlike", "10.1016/j.cell.2026.11.001", "-p", "bio"])
    assert neither.exit_code == 1 and "none of 10.1016/j.cell.2026.11.001 is in profile 'bio'" in neither.stderr
    assert profile.read_text() == text


MENDELEY_BIB = r"""
@article{a, author = {M{\"{u}}ller, Karl}, year = {2019},
  title = {{Dpp maintains {\textless}i{\textgreater}Drosophila{\textless}/i{\textgreater} germline stem cells}}}
@article{b, author = {Smith, Jane}, year = {2020}, title = {Wnt signalling in <i>C. elegans</i> embryos}}
@misc{c, year = {2021},
  title = {{Hedgehog gradients in the {\textless}i{\textgreater}Drosophila{\textless}/i{\textgreater} wing disc}}}
@misc{d, year = {2022}, title = {Notch and <i>Xenopus</i> somites}}
"""

# The profile the version before 2026-12-05 wrote from MENDELEY_BIB: Mendeley's escaped <i> read as 'i' and '/i',
# and a plain <i> kept, so each title id is of that title.
HTML_TITLES_PROFILE = """schema = 1
name = "bio"
description = ""
categories = []
strategy = "hybrid"
interests = []
disliked = []

[[liked]]
id = "t:a87d5c439e36"
title = "Dpp maintains iDrosophila/i germline stem cells"
authors = ["Karl Müller"]
added = 2019-01-01

[[liked]]
id = "t:f5951e57cc19"
title = "Wnt signalling in <i>C. elegans</i> embryos"
authors = ["Jane Smith"]
added = 2020-01-01

[[liked]]
id = "t:42c4062aaf6f"
title = "Hedgehog gradients in the iDrosophila/i wing disc"
added = 2021-01-01

[[liked]]
id = "t:ee9d51962c5e"
title = "Notch and <i>Xenopus</i> somites"
added = 2022-01-01
"""


def test_a_library_imported_before_its_titles_lost_their_html_is_all_already_there(tmp_path):
    assert title_id("Dpp maintains iDrosophila/i germline stem cells") == "t:a87d5c439e36"
    profile = write(tmp_path / "bio.toml", HTML_TITLES_PROFILE)
    report = import_into_profile(profile, [write(tmp_path / "lib.bib", MENDELEY_BIB)])
    assert report_lines(report)[0] == "bio: nothing new, 4 already there"
    assert not report.added and not report.relinked
    assert profile.read_text() == HTML_TITLES_PROFILE


def _preprint_profile(home: Path, section: str) -> Path:
    """A profile whose one entry is a preprint that links its journal version's DOI, in `section`."""
    (home / "profiles").mkdir(parents=True, exist_ok=True)
    return write(
        home / "profiles" / "bio.toml",
        f'name = "bio"\nsources = ["biorxiv:cell_biology"]\n\n[[{section}]]\nid = "doi:{BIORXIV_DOI}"\n'
        f'title = "{TITLE}"\nnote = "read in the lab"\n'
        f'links = ["https://doi.org/{BIORXIV_DOI}", "https://doi.org/{JOURNAL_DOI}"]\nadded = 2026-12-01\n',
    )


def _store_journal_version() -> None:
    """A feed's day that holds the journal version, known by its own DOI only."""
    journal = Paper(f"doi:{JOURNAL_DOI}", TITLE, "Abstract.", date=date(2027, 1, 2), links=(JOURNAL_LINK,))
    write_day(Listing(papers=(journal,)), "feed:https://www.cell.com/neuron.rss", date(2027, 1, 3))


def test_liking_a_liked_preprints_journal_version_a_feed_stored_says_it_is_liked_already(home):
    path = _preprint_profile(home, "liked")
    _store_journal_version()
    before = path.read_text()
    result = CliRunner().invoke(app, ["like", JOURNAL_LINK])
    assert result.exit_code == 0, result.output
    assert result.stderr == "1 already liked in bio\n"
    assert path.read_text() == before


def test_liking_a_disliked_preprints_journal_version_moves_its_entry(home):
    path = _preprint_profile(home, "disliked")
    _store_journal_version()
    result = CliRunner().invoke(app, ["like", JOURNAL_LINK])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"liked doi:{BIORXIV_DOI} ")
    profile = load_profile(path)
    assert profile.disliked == () and [e.paper.arxiv_id for e in profile.liked] == [f"doi:{BIORXIV_DOI}"]
    assert 'note = "read in the lab"' in path.read_text()  # the entry moved, with its own keys
    again = CliRunner().invoke(app, ["dislike", f"doi:{JOURNAL_DOI}"])
    assert again.exit_code == 0, again.output
    profile = load_profile(path)
    assert profile.liked == () and [e.paper.arxiv_id for e in profile.disliked] == [f"doi:{BIORXIV_DOI}"]
