"""Property-based fuzzing: every parser and importer raises only PaperrecError (one line), whatever it is fed."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recommender.embed import EmbeddingCache
from recommender.profile import load_profile
from recommender.schema import Paper, PaperrecError
from recommender.shards import import_shards
from recommender.sources import read_listing
from recommender.sources.arxiv import parse_api, parse_feed
from recommender.sources.imports import read_collection

# No deadline and no too_slow check: both time the examples, which a loaded machine slows.
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text that includes what breaks parsers: lone surrogates, NULs, control characters, markup, huge numbers.
MARKUP = ["\ud800", "\udfff", "\x00", "\x1b[31m", "<", "&", "&#xD800;", "&#0;", "&#x110000;", "]]>", '"', "\\", "\n"]
ODD = st.sampled_from([*MARKUP, "9" * 5000, "\u2028"])
TEXT = st.lists(st.one_of(st.text(max_size=20), ODD), max_size=8).map("".join)
# For XML, whose parsers are slow on long text and never turn text into numbers.
SHORT_TEXT = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(MARKUP)), max_size=5).map("".join)
ID = st.one_of(st.sampled_from(["2104.10642", "2104.10642v3", "hep-th/9901001", "t:0123456789ab", "0704.0001"]), TEXT)
DATE = st.one_of(
    st.sampled_from(["2021-04-22", "0001-01-01", "9999-12-31", "2021-02-30", "99999-01-01", "Thu, 22 Apr 2021"]),
    st.dates().map(str),
    TEXT,
)
JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=True, allow_infinity=True),
        TEXT,
    ),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(TEXT, children, max_size=4)),
    max_leaves=12,
)


def _write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")  # lone surrogates become bytes that are not UTF-8
    path.write_bytes(data)
    return path


def only_paperrec_errors(call: Callable[[], Any]) -> None:
    """Run call; it may succeed (its papers then encode as UTF-8) or raise PaperrecError with a one-line message."""
    try:
        result = call()
    except PaperrecError as error:
        assert "\n" not in str(error), str(error)
        return
    papers = getattr(result, "papers", result)
    for paper in papers if isinstance(papers, list | tuple) else ():
        if isinstance(paper, Paper):
            (paper.text + paper.arxiv_id + "".join(paper.authors + paper.categories)).encode("utf-8")


def _json_text(value: Any, ascii_only: bool = False) -> str:
    # ensure_ascii writes lone surrogates as \ud800 escapes, which are valid JSON and decode to a lone surrogate.
    return json.dumps(value, ensure_ascii=ascii_only, allow_nan=True)


def json_texts(values: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    """JSON documents of these values, some with \\u escapes, and some nested far deeper than Python recurses."""
    deep = st.integers(1, 100_000).map(lambda n: "[" * n + "]" * n)
    return st.one_of(st.builds(_json_text, values, st.booleans()), deep)


# ---- listings ------------------------------------------------------------------------------------------------------

MARKDOWN_LINE = st.one_of(
    TEXT,
    st.builds(lambda c, d: f"# ArXiv {c} --{d}", TEXT, DATE),
    st.builds(lambda n, t, i: f"### {n}.{t} [ :arrow_down: ](https://arxiv.org/pdf/{i}.pdf)", st.integers(), TEXT, ID),
    st.builds(lambda t: f"> {t}", TEXT),
)


@FUZZ
@given(lines=st.lists(MARKDOWN_LINE, max_size=8))
def test_markdown(tmp_path, lines):
    path = _write(tmp_path / "l.md", "\n".join(lines))
    only_paperrec_errors(lambda: read_listing(path))


RECORD = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {},
        optional={
            "id": st.one_of(ID, JSON),
            "title": st.one_of(TEXT, JSON),
            "abstract": st.one_of(TEXT, JSON),
            "authors": st.one_of(st.lists(TEXT, max_size=3), JSON),
            "categories": st.one_of(st.lists(TEXT, max_size=3), JSON),
            "date": st.one_of(DATE, JSON),
        },
    ),
)


@FUZZ
@given(records=st.lists(st.one_of(json_texts(RECORD), TEXT), max_size=6))
def test_jsonl(tmp_path, records):
    path = _write(tmp_path / "l.jsonl", "\n".join(records))
    only_paperrec_errors(lambda: read_listing(path))


@FUZZ
@given(
    header=st.lists(st.one_of(st.sampled_from(["id", "title", "abstract", "authors", "date"]), TEXT), max_size=5),
    rows=st.lists(st.lists(st.one_of(TEXT, DATE, ID, json_texts(JSON)), max_size=6), max_size=5),
)
def test_csv(tmp_path, header, rows):
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in [header, *rows]:
        writer.writerow(row)
    path = _write(tmp_path / "l.csv", buffer.getvalue())
    only_paperrec_errors(lambda: read_listing(path))


@FUZZ
@given(data=st.one_of(st.binary(max_size=200), TEXT))
def test_listing_files_of_any_bytes(tmp_path, data):
    for name in ("l.md", "l.jsonl", "l.csv"):
        _write(tmp_path / name, data)
        only_paperrec_errors(lambda: read_listing(tmp_path / name))  # noqa: B023 (called at once)


# ---- collections ---------------------------------------------------------------------------------------------------

CSL_ITEM = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {},
        optional={
            "id": JSON,
            "citation-key": JSON,
            "title": st.one_of(TEXT, JSON),
            "abstract": st.one_of(TEXT, JSON),
            "URL": st.one_of(ID.map(lambda i: f"https://arxiv.org/abs/{i}"), JSON),
            "DOI": st.one_of(ID.map(lambda i: f"10.48550/arXiv.{i}"), JSON),
            "number": st.one_of(ID, JSON),
            "note": JSON,
            "author": st.one_of(
                st.lists(st.fixed_dictionaries({}, optional={"given": JSON, "family": JSON, "literal": JSON}))
            ),
            "issued": st.one_of(
                JSON,
                st.fixed_dictionaries(
                    {},
                    optional={
                        "date-parts": st.lists(st.lists(st.one_of(st.integers(), st.floats(), TEXT, JSON), max_size=4)),
                        "raw": st.one_of(DATE, JSON),
                    },
                ),
            ),
        },
    ),
)


@FUZZ
@given(items=st.one_of(json_texts(st.lists(CSL_ITEM, max_size=5)), json_texts(JSON), TEXT))
def test_csl_json(tmp_path, items):
    path = _write(tmp_path / "c.json", items)
    only_paperrec_errors(lambda: read_collection(path))


RDF_HEAD = (
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:z="http://www.zotero.org/namespaces/export#"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
    ' xmlns:bib="http://purl.org/net/biblio#" xmlns:foaf="http://xmlns.com/foaf/0.1/"'
    ' xmlns:prism="http://prismstandard.org/namespaces/1.2/basic/">'
)
RDF_FIELD = st.builds(
    lambda tag, text: f"<{tag}>{text}</{tag}>",
    st.sampled_from(["z:itemType", "dc:title", "dcterms:abstract", "dc:date", "dc:identifier", "z:archiveID"]),
    st.one_of(SHORT_TEXT.map(escape), SHORT_TEXT, DATE, ID),
)
RDF_ITEM = st.builds(
    lambda about, fields: f'<bib:Article rdf:about="{escape(about)}">{"".join(fields)}</bib:Article>',
    st.one_of(ID.map(lambda i: f"http://arxiv.org/abs/{i}"), SHORT_TEXT),
    st.lists(RDF_FIELD, max_size=5),
)


@FUZZ
@given(
    document=st.one_of(
        st.lists(st.one_of(RDF_ITEM, TEXT), max_size=4).map(lambda items: RDF_HEAD + "".join(items) + "</rdf:RDF>"),
        st.binary(max_size=200),
        TEXT,
    )
)
def test_zotero_rdf(tmp_path, document):
    path = _write(tmp_path / "z.rdf", document)
    only_paperrec_errors(lambda: read_collection(path))


@FUZZ
@given(lines=st.lists(st.one_of(ID, ID.map(lambda i: f"https://arxiv.org/abs/{i}"), TEXT), max_size=6))
def test_id_lists(tmp_path, lines):
    path = _write(tmp_path / "ids.txt", "\n".join(lines))
    only_paperrec_errors(lambda: read_collection(path))


# ---- arXiv feeds and API answers -----------------------------------------------------------------------------------

FEED_TEXT = st.one_of(SHORT_TEXT.map(escape), SHORT_TEXT, DATE, ID)
ATOM_ENTRY = st.builds(
    lambda i, t, s, p, c, total: (
        f"<entry><id>http://arxiv.org/abs/{i}</id><title>{t}</title><summary>{s}</summary><published>{p}</published>"
        f'<category term="{escape(c)}"/><arxiv:primary_category term="{escape(c)}"/>'
        f"<opensearch:totalResults>{total}</opensearch:totalResults></entry>"
    ),
    ID,
    FEED_TEXT,
    FEED_TEXT,
    DATE,
    SHORT_TEXT,
    st.one_of(st.integers(min_value=0).map(str), st.just("9" * 5000), SHORT_TEXT),
)
RSS_ITEM = st.builds(
    lambda t, i, kind, d, c: (
        f"<item><title>{t}</title><description>arXiv:{i} Announce Type: {kind} Abstract: {d}</description>"
        f"<category>{c}</category><dc:creator>{d}</dc:creator><pubDate>{c}</pubDate></item>"
    ),
    FEED_TEXT,
    ID,
    st.sampled_from(["new", "cross", "replace", "x"]),
    FEED_TEXT,
    FEED_TEXT,
)
FEED = st.one_of(
    st.lists(ATOM_ENTRY, max_size=3).map(
        lambda entries: (
            '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom"'
            ' xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">' + "".join(entries) + "</feed>"
        )
    ),
    st.builds(
        lambda title, date, items: (
            '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f"<title>{title} updates on arXiv.org</title><pubDate>{date}</pubDate>{''.join(items)}</channel></rss>"
        ),
        FEED_TEXT,
        DATE,
        st.lists(RSS_ITEM, max_size=3),
    ),
    SHORT_TEXT,
)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # feedparser's note on its updated/published mapping
@settings(FUZZ, max_examples=60)  # feedparser is slow; each example still meets both parsers over the run
@given(document=st.one_of(FEED, st.binary(max_size=200)), parse=st.sampled_from([parse_feed, parse_api]))
def test_feeds_and_api_answers(document, parse):
    only_paperrec_errors(lambda: parse(document))


# ---- other sources' API answers -----------------------------------------------------------------------------------

POSTING_VALUE = st.one_of(JSON, TEXT, DATE, ID, st.sampled_from(["1", "2", "10.1101/2026.12.04.600001", "doi:x"]))
POSTING = st.dictionaries(
    st.sampled_from(["doi", "title", "authors", "date", "version", "category", "abstract", "server", "published"]),
    POSTING_VALUE,
    max_size=9,
)
SURE_POSTING = st.fixed_dictionaries(
    {"doi": st.just("10.1101/2026.1"), "title": TEXT, "authors": TEXT, "abstract": TEXT}
)
DETAILS = st.one_of(
    json_texts(st.fixed_dictionaries({"collection": st.lists(SURE_POSTING, max_size=2)})),
    json_texts(
        st.fixed_dictionaries(
            {"messages": st.one_of(JSON, st.lists(st.dictionaries(TEXT, JSON), max_size=2)), "collection": JSON}
        )
    ),
    json_texts(st.fixed_dictionaries({"messages": JSON, "collection": st.lists(POSTING, max_size=4)})),
    TEXT,
    st.binary(max_size=200),
)


@FUZZ
@given(document=DETAILS)
def test_biorxiv_details(document):
    from recommender.sources.biorxiv import parse_details

    only_paperrec_errors(lambda: parse_details(document)[0])


WRAPPED = st.one_of(JSON, st.fixed_dictionaries({"value": st.one_of(JSON, st.lists(TEXT, max_size=3))}))
NOTE = st.fixed_dictionaries(
    {
        "id": st.one_of(TEXT, st.just("Forum0001")),
        "forum": st.one_of(JSON, st.just("Forum0001")),
        "cdate": st.one_of(st.integers(-(10**20), 10**20), st.floats(allow_nan=True), JSON),
        "readers": st.one_of(st.just(["everyone"]), JSON),
        "content": st.one_of(
            JSON,
            st.dictionaries(st.sampled_from(["title", "abstract", "authors", "keywords", "pdf"]), WRAPPED, max_size=5),
        ),
    }
)
NOTES = st.one_of(
    json_texts(st.fixed_dictionaries({"notes": st.lists(NOTE, max_size=3), "count": JSON})),
    json_texts(JSON),
    st.binary(max_size=200),
)
WORK = st.fixed_dictionaries(
    {
        "title": st.one_of(TEXT, JSON),
        "doi": st.one_of(JSON, st.just("https://doi.org/10.1038/x"), TEXT),
        "publication_date": DATE,
        "authorships": st.one_of(JSON, st.lists(st.fixed_dictionaries({"author": JSON}), max_size=2)),
        "abstract_inverted_index": st.one_of(JSON, st.dictionaries(TEXT, st.lists(JSON, max_size=3), max_size=4)),
        "primary_location": JSON,
    }
)
WORKS = st.one_of(
    json_texts(st.fixed_dictionaries({"meta": JSON, "results": st.lists(WORK, max_size=3)})),
    json_texts(JSON),
    st.binary(max_size=200),
)


@FUZZ
@given(document=NOTES)
def test_openreview_notes(document):
    from recommender.sources.openreview import parse_notes

    only_paperrec_errors(lambda: [paper for paper, _ in parse_notes(document)[0] if paper is not None])


@FUZZ
@given(document=WORKS)
def test_openalex_works(document):
    from recommender.sources.openalex import parse_works

    only_paperrec_errors(lambda: parse_works(document)[0])


# ---- profiles and shards -------------------------------------------------------------------------------------------

TOML_LINE = st.one_of(
    TEXT,
    st.builds(lambda k, v: f"{k} = {v}", st.sampled_from(["name", "categories", "model", "strategy", "x"]), TEXT),
    st.builds(lambda k, v: f'{k} = "{v}"', st.sampled_from(["name", "id", "title", "added"]), TEXT),
    st.sampled_from(["[[liked]]", "[[disliked]]", "[settings]", 'categories = ["cs.CV"]', "weight = 1e999"]),
)


@FUZZ
@given(lines=st.lists(TOML_LINE, max_size=8))
def test_profiles(tmp_path, lines):
    path = _write(tmp_path / "p.toml", "\n".join(lines))
    only_paperrec_errors(lambda: load_profile(path))


SHARD_ARRAY = st.one_of(
    st.builds(np.array, TEXT),
    st.builds(lambda n, d, v: np.full((n, d), v), st.integers(0, 3), st.integers(0, 4), st.floats()),
    st.builds(lambda items: np.array(items, dtype="S64"), st.lists(TEXT.map(lambda t: t.encode("utf-8", "replace")))),
    st.builds(lambda n, d: np.random.default_rng(0).normal(size=(n, d)), st.integers(0, 3), st.integers(1, 4)),
)


@FUZZ
@given(
    arrays=st.dictionaries(st.sampled_from(["key", "hashes", "vectors", "other"]), SHARD_ARRAY),
    raw=st.binary(max_size=64),
)
def test_shards(tmp_path, arrays, raw):
    path = tmp_path / "s.npz"
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with EmbeddingCache(tmp_path / "c.sqlite3") as cache:
        for content in (buffer.getvalue(), raw, buffer.getvalue()[: len(raw)]):
            path.write_bytes(content)
            only_paperrec_errors(lambda: import_shards([path], cache))


@pytest.mark.parametrize("name", ["c.json", "z.rdf", "ids.txt", "l.md", "l.jsonl", "l.csv"])
def test_empty_files(tmp_path, name):
    path = _write(tmp_path / name, "")
    only_paperrec_errors(lambda: read_collection(path))
