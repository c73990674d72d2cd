"""Every export is safe where it goes: read back by a real reader, with hostile and with arbitrary papers."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import bibtexparser
import feedparser
import html5lib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from recommender.export import output_path, profile_slug, render, render_sections, to_table, xml_text
from recommender.latex import to_text
from recommender.schema import Paper, Pick, UsageError, clean_text, printable, safe_url
from recommender.sources.bibtex import latex_to_text, parse_authors, read_bibtex
from recommender.sources.records import to_csv as listing_csv

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "![x](data:text/html;base64,PHNjcmlwdD4=)",
    "<javascript:alert(1)>",
    '=HYPERLINK("http://evil","click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
    "\tleading tab",
    "link \x1b]8;;http://evil\x1b\\here\x1b]8;;\x1b\\ done",
    "red \x1b[31malert\x1b[0m",
    "nul \x00 here",
    "vertical \x0b tab",
    "lone \ud800 surrogate",
    "escaped \\} brace",
    "trailing backslash \\",
    "open { only",
    "close } only",
    "100% & #1 _under_ ~tilde^ $x_1$ and \\(y\\) costs $5",
    "Eve and Mallory",
    "-- dashes --- and ''quotes'' ``here``",
    "`code` **bold** *it* __u__ ~~s~~ | pipe | # hash #",
    "# heading",
    "> quote",
    "- item",
    "1. item",
    "bidi \u202eevil\u202c end",
    "\\'e \\textbf{x} \\\\ line",
]
HOSTILE_AUTHORS = ["Eve and Mallory", "Lovelace, Ada", "{Braced} Name", "others", "AND", "Jo \\ Doe", "=cmd"]
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _picks(texts: list[str], profile: str = "<b>prof</b> [x](javascript:1)") -> list[Pick]:
    papers = [
        Paper.make(text, f"2101.{index:05d}", "abstract " + text, [text, *HOSTILE_AUTHORS], ["cs.CV"], date(2021, 1, 2))
        for index, text in enumerate(texts)
    ]
    title_only = Paper.make("title-only " + texts[0], None, texts[0], [texts[0]])
    papers.append(replace(title_only, arxiv_id="t:`<b>` ``x"))  # no reader makes this id; exports must not trust ids
    return [Pick(paper, 0.5, rank, profile) for rank, paper in enumerate(papers, start=1)]


def _bibtex_plain(text: str) -> str:
    """What a text reads as after a BibTeX round trip: no controls, lone surrogates as U+FFFD, whitespace collapsed."""
    text = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]", "", text)
    return clean_text(re.sub("[\ud800-\udfff]", "\ufffd", text))


# Markdown: rendered as a browser would get it, parsed as a browser would.


def _html_tree(markdown: str) -> ElementTree.Element:
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)
    return html5lib.parse(html, namespaceHTMLElements=False)


def _as_read(text: str) -> str:
    """What Markdown should show for a paper's text: no escape sequences, LaTeX as text, whitespace collapsed."""
    return clean_text(printable(to_text(printable(text))).replace("\ufeff", " "))


def _assert_harmless(tree: ElementTree.Element) -> None:
    for element in tree.iter():
        assert element.tag not in ("script", "img", "iframe", "object", "embed", "style", "svg"), element.tag
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), name
            if name in ("href", "src"):
                assert re.match(r"https?://", value), value


def _text(element: ElementTree.Element) -> str:
    return clean_text("".join(element.itertext()).replace("\ufeff", " "))


def test_markdown_keeps_hostile_text_as_text():
    picks = _picks(HOSTILE)
    tree = _html_tree(render(picks, "markdown"))
    _assert_harmless(tree)
    assert _text(tree.find(".//h1")) == f"paperrec picks for {picks[0].profile}: {len(picks)} picks"
    headings, quotes = tree.findall(".//h3"), tree.findall(".//blockquote")
    assert len(headings) == len(picks) and len(quotes) == len(picks)
    for pick, heading, quote, code in zip(picks, headings, quotes, tree.findall(".//code"), strict=True):
        expected = _as_read(pick.paper.title)
        assert _text(heading) == f"{pick.rank}. {expected}"
        assert _text(quote) == _as_read(pick.paper.abstract)
        assert code.text == pick.paper.arxiv_id
        links = heading.findall(".//a")
        assert [a.get("href") for a in links] == ([pick.paper.url] if pick.paper.url else [])
    assert "\x1b" not in render(picks, "markdown")


def test_markdown_sections_escape_the_profile_name():
    text = render_sections([("<script>x</script>", []), ("ok", _picks(["a"], "ok"))], "markdown")
    tree = _html_tree(text)
    _assert_harmless(tree)
    headings = [_text(h) for h in tree.findall(".//h1")]
    assert headings == ["paperrec picks for <script>x</script>: 0 picks", "paperrec picks for ok: 2 picks"]


def test_markdown_links_only_http():
    assert safe_url("https://arxiv.org/abs/2104.10642") == "https://arxiv.org/abs/2104.10642"
    assert (
        safe_url("https://arxiv.org/abs/x) [y](javascript:z") == "https://arxiv.org/abs/x%29%20%5By%5D%28javascript:z"
    )
    for url in ("javascript:alert(1)", "data:text/html,x", " https://x", "//evil", "HTTPS:", None, ""):
        assert safe_url(url) is None
    # A paper built directly (not through Paper.make) can carry an id that would break out of the link.
    odd = Paper("1234.5678) [x](javascript:alert(1)", "Odd", "", (), (), None)
    _assert_harmless(_html_tree(render([Pick(odd, 0.1, 1, "p")], "markdown")))


# CSV: read back with csv, no cell a spreadsheet would evaluate.


def _assert_no_formula(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA), cell
    return rows


def test_csv_neutralises_formulas():
    picks = _picks(HOSTILE)
    rows = list(csv.DictReader(io.StringIO(render(picks, "csv"))))
    _assert_no_formula(render(picks, "csv"))
    for pick, row in zip(picks, rows, strict=True):
        title = pick.paper.title.replace("\ud800", "\ufffd")
        assert row["title"] == ("'" + title if title.startswith(FORMULA) else title)
    assert rows[5]["title"] == '\'=HYPERLINK("http://evil","click")' and rows[5]["score"] == "0.5"


def test_listing_csv_neutralises_formulas_too():
    papers = [pick.paper for pick in _picks(HOSTILE)]
    rows = _assert_no_formula(listing_csv(papers))
    assert len(rows) == len(papers) + 1


def test_csv_cells_with_carriage_returns_read_back():
    picks = _picks(["a"], "\rprofile\r\nname")
    rows = _assert_no_formula(render(picks, "csv"))
    assert rows[1][rows[0].index("profile")] == "'\nprofile\nname" and len(rows) == len(picks) + 1


def test_csv_quote_prefix_is_reversible():
    paper = Paper.make("'=1+1", "2101.00001", "''-x", ["'plain"])
    (row,) = csv.DictReader(io.StringIO(render([Pick(paper, 0.1, 1, "p")], "csv")))
    assert (row["title"], row["abstract"], row["authors"]) == ("''=1+1", "'''-x", "'plain")


# Atom: well-formed XML that feedparser reads without complaint.


def _assert_feed(picks: list[Pick]) -> feedparser.FeedParserDict:
    text = render(picks, "rss")
    root = ElementTree.fromstring(text)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in root.findall("a:entry", ns)]
    # A feed reader shows text: the title as a reader sees it on the page (LaTeX as text, no escape sequences).
    assert [clean_text((t or "").replace("\ufeff", " ")) for t in titles] == [
        clean_text(f"{p.rank}. {_as_read(p.paper.title)}") for p in picks
    ]
    feed = feedparser.parse(text)
    assert not feed.bozo, feed.get("bozo_exception")
    assert len(feed.entries) == len(picks)
    return feed


def test_atom_is_well_formed_with_hostile_text():
    picks = _picks(HOSTILE)
    feed = _assert_feed(picks)
    assert feed.feed.title == "paperrec picks for " + picks[0].profile
    for entry in feed.entries:
        assert all(link.href.startswith(("https://", "http://")) for link in entry.get("links", []))
    assert xml_text("a\x00b\x0bc\ud800d\ufffe") == "ab cd"


# BibTeX: bibtexparser and paperrec's own importer read back every entry with its title and authors.


def _assert_bibtex_round_trip(picks: list[Pick], tmp_path: Path) -> None:
    text = render(picks, "bibtex")
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks, library.failed_blocks[0].error
    entries = library.entries
    assert len(entries) == len(picks) and len({e.key for e in entries}) == len(picks)
    for pick, entry in zip(picks, entries, strict=True):
        assert latex_to_text(entry["title"]) == _bibtex_plain(pick.paper.title)
        names = tuple(filter(None, map(_bibtex_plain, pick.paper.authors)))
        assert parse_authors(entry.fields_dict["author"].value if names else "") == names
    path = tmp_path / "picks.bib"
    path.write_text(text, encoding="utf-8")
    papers, skipped = read_bibtex(path)
    kept = [p.paper for p in picks if p.paper.has_arxiv_id or _bibtex_plain(p.paper.title)]
    assert len(skipped) == len(picks) - len(kept)  # an entry with neither an arXiv id nor a title
    assert [p.title for p in papers] == [_bibtex_plain(p.title) for p in kept]
    assert [p.authors for p in papers] == [tuple(filter(None, map(_bibtex_plain, p.authors))) for p in kept]
    assert [p.abstract for p in papers] == [_bibtex_plain(p.abstract) for p in kept]


def test_bibtex_round_trips_hostile_text(tmp_path):
    _assert_bibtex_round_trip(_picks(HOSTILE), tmp_path)


def test_bibtex_protects_names_and_keeps_ordinary_ones_plain():
    paper = Paper.make("Eve and Mallory", "2101.00001", "", ["Ada Lovelace", "Eve and Mallory", "Lovelace, Ada"])
    text = render([Pick(paper, 0.1, 1, "p")], "bibtex")
    assert "title = {{Eve and Mallory}}" in text
    assert "author = {Ada Lovelace and {Eve and Mallory} and {Lovelace, Ada}}" in text


def test_bibtex_escapes_read_by_latex_decoders():
    # pylatexenc (bibtexparser's LaTeX decoding middleware) reads the escapes as the same characters; it does not
    # know \textbraceright (an unpaired brace) and reads \textasciicircum as U+02C6, so those are left out here.
    from bibtexparser.middlewares import LatexDecodingMiddleware

    texts = ["100% & #1 _x_ ~t", "open { and } close", "back \\ slash", "-- and ''q'' ``r``", "\\'e $5"]
    library = bibtexparser.parse_string(render(_picks(texts), "bibtex"), append_middleware=[LatexDecodingMiddleware()])
    assert [e["title"] for e in library.entries[: len(texts)]] == texts


# Terminal: no escape sequence or control character reaches it.


def test_printable_strips_terminal_sequences():
    assert printable("a\x1b[31mred\x1b[0m b") == "ared b"
    assert printable("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x07 x") == "link x"
    assert printable("\x1b]0;title") == "0;title"  # unterminated: only the introducer goes
    assert printable("t\x9b2Jx\x00y\x7f\x85z\tw\nv") == "txy z w v"
    assert printable("bidi \u202eevil\u2066x\u2069") == "bidi evilx"
    assert printable("lone \ud800") == "lone \ufffd"
    assert printable("Ünïcødé — 東京 🎉") == "Ünïcødé — 東京 🎉"


def test_table_is_printable():
    picks = _picks(HOSTILE)
    table = to_table(picks, width=200)
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]", table)
    table.encode("utf-8")
    sections = render_sections([("\x1b[2Jevil", picks), ("b", picks)], "table")
    assert "\x1b" not in sections and "== evil ==" in sections
    # A terminal link in a title reads as its text: LaTeX must not take the sequence's backslash for a macro.
    linked = to_table(_picks(["link \x1b]8;;http://evil\x1b\\here\x1b]8;;\x1b\\ done"]), width=200, wrap=True)
    assert "link here done" in linked and "8;;" not in linked and "evil" not in linked


def test_json_survives_lone_surrogates_and_stays_plain():
    picks = _picks(["lone \ud800 surrogate", "<script>"])
    for fmt in ("json", "jsonl"):
        text = render(picks, fmt)
        text.encode("utf-8")
        assert "<script>" in text
    assert json.loads(render(picks, "json"))[0]["title"] == "lone \ufffd surrogate"


# Output paths: {profile} never leads out of the folder the user named.


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("super-resolution", "super-resolution"),
        ("../../../../tmp/x", "_._._._tmp_x"),
        ("/etc/x", "_etc_x"),
        ("nul\x00name", "nul_name"),
        ("..", "profile"),
        (".hidden", "hidden"),
        ("", "profile"),
        ("café au lait", "caf__au_lait"),
    ],
)
def test_profile_slug(name, slug):
    assert profile_slug(None, name) == slug


def test_output_path_stays_in_its_folder():
    template = Path("feeds/paperrec-{profile}.xml")
    for name in ("../../x", "/etc/x", "a\x00b", "x" * 5000, "..", "../" * 50, "a/../../b", "\u202e\x1b[2J"):
        path = output_path(template, None, name)
        assert path.parent == Path("feeds") and path.name.startswith("paperrec-") and "\x00" not in str(path)
        assert len(path.name) <= len("paperrec-.xml") + 64
    assert output_path(template, Path("/p/vision.toml"), "../evil") == Path("feeds/paperrec-vision.xml")
    assert output_path(Path("/out/{profile}/picks.md"), None, "../x") == Path("/out/_x/picks.md")
    assert output_path(Path("picks.md"), None, "../x") == Path("picks.md")
    long_a, long_b = output_path(template, None, "y" * 100 + "a"), output_path(template, None, "y" * 100 + "b")
    assert long_a != long_b
    with pytest.raises(UsageError, match="outside"):
        output_path(Path("feeds/{profile}/../../../x.xml"), None, "a")


# Arbitrary papers: never a crash, titles intact wherever the format carries them.

_AWKWARD = [*"\\{}$%&#_~^-'`<>[]()*!|=+@\"\x1b\x00\x07\x0b\x85\u202e\ufeff\ud800 ", "and", " and ", "--", "$x$"]
TEXT = st.lists(st.one_of(st.characters(), st.sampled_from(_AWKWARD)), max_size=30).map("".join)
PAPERS = st.lists(st.tuples(TEXT, TEXT, st.lists(TEXT, max_size=3), st.booleans()), min_size=1, max_size=4)


def _arbitrary_picks(rows: list[tuple[str, str, list[str], bool]], profile: str) -> list[Pick]:
    picks = []
    for index, (title, abstract, authors, arxiv) in enumerate(rows):
        raw_id = f"2101.{index:05d}" if arxiv else None
        picks.append(Pick(Paper.make(title, raw_id, abstract, authors, ["cs.LG"]), 0.5, index + 1, profile))
    return picks


# No deadline and no too_slow check: both time the examples, which a loaded machine slows.
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(PAPERS, TEXT)
def test_arbitrary_papers_render_in_every_format(rows, profile):
    picks = _arbitrary_picks(rows, profile)
    for fmt in ("table", "json", "jsonl", "csv", "markdown", "rss", "bibtex"):
        render(picks, fmt).encode("utf-8")
    records = json.loads(render(picks, "json"))
    assert [r["title"] for r in records] == [re.sub("[\ud800-\udfff]", "\ufffd", p.paper.title) for p in picks]
    for row, pick in zip(_assert_no_formula(render(picks, "csv"))[1:], picks, strict=True):
        title = re.sub("[\ud800-\udfff]", "\ufffd", pick.paper.title)
        assert row[2] == ("'" + title if re.match(r"'*[=+\-@]", title) else title)


@FUZZ
@given(PAPERS, TEXT)
def test_arbitrary_papers_markdown_is_harmless_and_faithful(rows, profile):
    picks = _arbitrary_picks(rows, profile)
    tree = _html_tree(render(picks, "markdown"))
    _assert_harmless(tree)
    for pick, heading in zip(picks, tree.findall(".//h3"), strict=True):
        assert _text(heading) == clean_text(f"{pick.rank}. {_as_read(pick.paper.title)}")


@FUZZ
@given(PAPERS, TEXT)
def test_arbitrary_papers_atom_is_well_formed(rows, profile):
    _assert_feed(_arbitrary_picks(rows, profile))


@FUZZ
@given(PAPERS, TEXT)
def test_arbitrary_papers_bibtex_round_trips(tmp_path, rows, profile):
    _assert_bibtex_round_trip(_arbitrary_picks(rows, profile), tmp_path)


def test_profile_show_and_list_print_no_escape_sequences(home):
    from typer.testing import CliRunner

    from recommender.cli import app

    folder = home / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "evil.toml").write_text(
        'schema = 1\nname = "evil\\u001b]0;pwned\\u0007\\u001b[2J"\ndescription = "x\\u009b31m"\n'
        'strategy = "hybrid"\n\n[[liked]]\nid = "2101.00001"\n'
        'title = "red \\u001b[31mtitle\\u202e"\nadded = 2021-01-01\n',
        encoding="utf-8",
    )
    (folder / "broken\x1b[2J.toml").write_text("not = [toml", encoding="utf-8")
    runner = CliRunner()
    shown = runner.invoke(app, ["profile", "show", "evil"])
    assert shown.exit_code == 0, shown.output
    assert "name         evil\n" in shown.stdout and "red title" in shown.stdout
    listed = runner.invoke(app, ["profile", "list"])
    assert listed.exit_code == 0, listed.output
    assert "evil" in listed.stdout and "broken" in listed.stdout
    for output in (shown.stdout, listed.stdout):
        assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]", output), repr(output)


def test_bibtex_round_trips_a_title_that_reads_like_a_field(tmp_path):
    # Found by hypothesis: '\ and =' inside a braced title was read back as a missing comma before a field 'and'.
    _assert_bibtex_round_trip(_picks(["\\ and =", "x \\ and = y", "a} b = {c"]), tmp_path)


def test_bibtex_round_trips_authors_that_read_like_a_field(tmp_path):
    # Found by hypothesis: authors '0 and 0', '=0' are written {{0 and 0} and =0}, which was read back as a value
    # '{0 and 0}' and a missing comma before a field 'and'.
    picks = _picks(["0"])
    picks = [replace(pick, paper=replace(pick.paper, authors=("0 and 0", "=0"))) for pick in picks]
    _assert_bibtex_round_trip(picks, tmp_path)


def test_bibtex_key_of_a_paper_without_an_arxiv_id_is_safe():
    from recommender.export import bibtex_key

    titled = Paper.make("A title", "", "abstract")
    assert bibtex_key(titled) == "title-" + titled.arxiv_id.removeprefix("t:")
    foreign = replace(titled, arxiv_id="t:`<b>` ``x")  # not a title hash: nothing of it may reach the key
    assert re.fullmatch(r"title-[0-9a-f]{12}", bibtex_key(foreign))
