"""Bad input gives one clear error line, never a traceback; damaged derived data heals itself."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime

import numpy as np
import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.embed import CachedEmbedder, EmbeddingCache, text_hash
from recommender.schema import PaperrecError, UsageError
from recommender.shards import ShardsRefused, import_shards, write_shard
from recommender.sources import iter_papers, read_listing
from recommender.sources.arxiv import fetch_listing, parse_api, parse_feed
from recommender.sources.imports import read_collection
from recommender.sources.metadata import MetadataCache

from .conftest import FakeEmbedder

DEEP = "[" * 100_000 + "]" * 100_000
HUGE = "9" * 5000
ATOM = '<feed xmlns="http://www.w3.org/2005/Atom">{}</feed>'
ENTRY = "<entry><id>http://arxiv.org/abs/2104.10642v1</id><title>{}</title><summary>an abstract</summary></entry>"


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def assert_one_error(result, code: int, text: str = "") -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("paperrec: error:"), result.stderr
    assert "internal error" not in lines[0] and text in lines[0], lines[0]
    assert "Traceback" not in result.output


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


# ---- listings and collections --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("deep.jsonl", DEEP + "\n", "deep.jsonl:1: invalid JSON (nested too deeply)"),
        ("huge.jsonl", HUGE + "\n", "huge.jsonl:1: invalid JSON (Exceeds the limit"),
        ("huge-id.jsonl", f'{{"title": "t", "id": {HUGE}}}\n', "huge-id.jsonl:1: invalid JSON"),
        ("types.jsonl", '{"title": "t", "id": {"a": 1}}\n', "types.jsonl:1: 'id' must be a string"),
        ("authors.csv", 'title,authors\nt,"' + "[" * 5000 + '"\n', "authors.csv:2: 'authors' is not a valid JSON list"),
    ],
)
def test_listing_files_raise_one_line_naming_the_file(tmp_path, name, text, message):
    path = write(tmp_path, name, text)
    with pytest.raises(PaperrecError) as caught:
        read_listing(path)
    assert str(caught.value).startswith(str(tmp_path)) and message in str(caught.value)
    assert "\n" not in str(caught.value)
    with pytest.raises(PaperrecError):
        list(iter_papers(path))


def test_lone_surrogates_become_replacement_characters(tmp_path):
    path = write(tmp_path, "s.jsonl", json.dumps({"title": "a \ud800 b", "authors": ["\udfff"], "abstract": "x"}))
    (paper,) = read_listing(path).papers
    assert paper.title == "a \ufffd b" and paper.authors == ("\ufffd",)
    paper.text.encode("utf-8")  # hashable and writable
    csv_path = write(tmp_path, "s.csv", 'title,authors\nt,"[""\\ud800""]"\n')
    assert read_listing(csv_path).papers[0].authors == ("\ufffd",)
    csl = write(tmp_path, "s.json", json.dumps([{"title": "x \udc80", "URL": "https://arxiv.org/abs/2104.10642"}]))
    assert read_collection(csl).papers[0].title == "x \ufffd"
    (feed_paper,) = parse_api(ATOM.format(ENTRY.format("a &#xD800; b")))
    assert feed_paper.title == "a \ufffd b"
    mixed = write(tmp_path, "m.jsonl", json.dumps({"title": "Schrödinger \ud800", "abstract": "ASCII only"}))
    assert read_listing(mixed).papers[0].title == "Schrödinger \ufffd"  # other non-ASCII text is searched too


@pytest.mark.parametrize(
    "item",
    [
        {"title": "t", "issued": {"date-parts": [[10**300, 1, 1]]}},
        {"title": "t", "issued": {"date-parts": [[1e308, 1, 1]]}},
        {"title": "t", "issued": {"date-parts": [["9" * 4000, "1", "1"]]}},
        {"title": "t", "issued": {"date-parts": [[2021, 13, 40]]}},
    ],
)
def test_csl_dates_out_of_range_are_left_out(tmp_path, item):
    text = json.dumps([item]).replace("1e+308", "1e308")
    (paper,) = read_collection(write(tmp_path, "c.json", text)).papers
    assert paper.title == "t" and paper.date is None


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("deep.json", DEEP, "nested too deeply"),
        ("huge.json", "[" + HUGE + "]", "invalid JSON"),
        ("year.json", '[{"title": "t", "issued": {"date-parts": [[Infinity, 1, 1]]}, "author": [{"family": {}}]}]', ""),
        ("ids.txt", "2104.10642\n\udcff\n", "not a UTF-8 text file"),
        ("x.rdf", '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rdf:RDF/>', "DTD or entities"),
        ("y.rdf", "<rdf:RDF", "not well-formed XML"),
    ],
)
def test_collections_raise_one_line_or_read(tmp_path, name, text, message):
    path = write(tmp_path, name, text)
    if not message:
        read_collection(path)
        return
    with pytest.raises(PaperrecError, match=message) as caught:
        read_collection(path)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


def test_billion_laughs_is_refused_quickly(tmp_path):
    entities = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    bomb = f'<?xml version="1.0"?><!DOCTYPE r [{entities}]>'
    rdf = write(
        tmp_path, "bomb.rdf", bomb + '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">&a9;</rdf:RDF>'
    )
    with pytest.raises(PaperrecError, match="DTD"):
        read_collection(rdf)
    for parse in (parse_feed, parse_api):
        with pytest.raises(PaperrecError, match="DTD"):
            parse(bomb + ATOM.format(ENTRY.format("&a9;")))


@pytest.mark.parametrize(
    "xml",
    [
        ATOM.format("<a>" * 10_000 + "</a>" * 10_000),
        ATOM.format(
            f"<opensearch:totalResults xmlns:opensearch='http://a9.com/-/spec/opensearch/1.1/'>{HUGE}"
            "</opensearch:totalResults>"
        ),
        ATOM.format(ENTRY.format("t").replace("</entry>", "<published>0001-01-01T00:00:00+05:00</published></entry>")),
        ATOM.format("<updated>9999-12-31T23:59:59-05:00</updated>" + ENTRY.format("t")),
        ATOM.format(ENTRY.format("&#x110000; &#0; &#99999999999999999999;")),
    ],
)
def test_feeds_with_odd_content_parse_or_raise_one_line(xml):
    for parse in (parse_feed, parse_api):
        try:
            parse(xml)
        except PaperrecError as error:
            assert "\n" not in str(error)


# ---- dates ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", [date(1, 1, 1), date(9999, 12, 31), date(1990, 1, 1), date(2100, 1, 4)])
def test_fetch_listing_refuses_dates_outside_arxivs_life(tmp_path, day):
    now = datetime(2021, 4, 23, 12, tzinfo=UTC)
    with pytest.raises(UsageError, match="arXiv's listings run from 1991-08-14"):
        fetch_listing(["cs.CV"], day, store=tmp_path, now=now)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1900-02-05"])
def test_cli_date_out_of_range_is_a_usage_error(day):
    assert_one_error(invoke("fetch", "cs.CV", "--date", day), 2, "arXiv's listings run from")


def test_cli_today_date_out_of_range_is_a_usage_error(tmp_path, fake_model):
    record = {"id": "2001.00001", "title": "Super-resolution", "abstract": "images"}
    liked = write(tmp_path, "liked.jsonl", json.dumps(record) + "\n")
    made = invoke("profile", "new", "sr", "--from", str(liked), "-c", "cs.CV")
    assert made.exit_code == 0, made.output
    assert_one_error(invoke("today", "--profile", "sr", "--date", "0001-01-01"), 2, "run from 1991-08-14")


# ---- the CLI on bad files ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [("deep.json", DEEP), ("huge.json", f"[{HUGE}]"), ("deep.jsonl", DEEP), ("bomb.rdf", "<!DOCTYPE x><x/>")],
)
def test_cli_profile_import_of_bad_files_is_one_line(tmp_path, fake_model, name, text):
    path = write(tmp_path, name, text)
    assert_one_error(invoke("profile", "import", "p", str(path), "--offline"), 1, str(path))


def test_cli_surrogates_in_a_listing_still_rank(tmp_path, fake_model):
    corpus = write(tmp_path, "c.jsonl", json.dumps({"id": "2104.10642", "title": "x \ud800 super-resolution"}) + "\n")
    result = invoke("embed", str(corpus))
    assert result.exit_code == 0, result.output


# ---- the embedding cache heals ---------------------------------------------------------------------------------------


def test_a_cache_that_is_not_sqlite_is_moved_aside_and_rebuilt(tmp_path, home, fake_model, capsys):
    path = home / "cache" / "embeddings.sqlite3"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    corpus = write(tmp_path, "c.jsonl", json.dumps({"id": "2104.10642", "title": "Super-resolution"}) + "\n")
    result = invoke("embed", str(corpus))
    assert result.exit_code == 0, result.output
    notice = result.stderr.strip().splitlines()
    assert len(notice) == 1 and "was damaged" in notice[0] and "moved it to embeddings.sqlite3.corrupt-" in notice[0]
    (aside,) = path.parent.glob("embeddings.sqlite3.corrupt-*")
    assert aside.read_bytes().startswith(b"this is not") and EmbeddingCache(path).count() == 1


def test_a_truncated_cache_is_moved_aside_and_rebuilt(tmp_path, fake_embedder, capsys):
    path = tmp_path / "c.sqlite3"
    texts = [f"paper number {i} about topic {i % 7}" for i in range(3000)]
    with EmbeddingCache(path) as cache:
        CachedEmbedder(fake_embedder, cache, progress=False).embed(texts)
        cache._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    fresh = FakeEmbedder()
    with EmbeddingCache(path) as cache:
        vectors = CachedEmbedder(fresh, cache, progress=False).embed(texts)
    assert vectors.shape == (3000, 64) and fresh.calls > 0
    assert "moved it to c.sqlite3.corrupt-" in capsys.readouterr().err
    assert list(tmp_path.glob("c.sqlite3.corrupt-*"))


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob, dim: blob[:-2],  # wrong length
        lambda blob, dim: np.full(dim, np.nan, np.float16).tobytes(),
        lambda blob, dim: np.full(dim, np.inf, np.float16).tobytes(),
        lambda blob, dim: np.full(dim, 3.0, np.float16).tobytes(),  # not unit
        lambda blob, dim: np.full(dim * 2, 0.125, np.float16).tobytes(),  # other dimension: blob and dim disagree
    ],
)
def test_a_damaged_vector_row_is_re_embedded_and_overwritten(tmp_path, fake_embedder, damage):
    texts = ["super-resolution of images", "video frames", "medical segmentation"]
    with EmbeddingCache(tmp_path / "c.sqlite3") as cache:
        embedder = CachedEmbedder(fake_embedder, cache, progress=False)
        before = embedder.embed(texts)
        key, target = fake_embedder.cache_key, text_hash(texts[1])
        (blob,) = cache._db.execute("SELECT vector FROM vectors WHERE hash = ?", [target]).fetchone()
        with cache._db:
            cache._db.execute("UPDATE vectors SET vector = ? WHERE hash = ?", [damage(blob, 64), target])
        assert set(cache.get_many(key, [text_hash(t) for t in texts])) == {text_hash(texts[0]), text_hash(texts[2])}
        again = FakeEmbedder()
        after = CachedEmbedder(again, cache, progress=False).embed(texts)
        np.testing.assert_array_equal(after, before)
        assert again.texts == [texts[1]]
        assert len(cache.get_many(key, [target])) == 1  # overwritten with a good row


def test_rows_of_a_foreign_dimension_are_re_embedded(tmp_path, fake_embedder):
    texts = ["super-resolution of images", "video frames"]
    with EmbeddingCache(tmp_path / "c.sqlite3") as cache:
        cache.put_many(fake_embedder.cache_key, [text_hash(texts[0])], np.full((1, 4), 0.5, np.float32))
        vectors = CachedEmbedder(fake_embedder, cache, progress=False).embed(texts)
        assert vectors.shape == (2, 64) and fake_embedder.texts == [texts[1], texts[0]]


def test_a_read_only_cache_is_one_clear_error(tmp_path, fake_embedder):
    path = tmp_path / "c.sqlite3"
    EmbeddingCache(path).close()
    cache = EmbeddingCache(path)
    cache._db.close()
    cache._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(PaperrecError, match=r"cannot use the embedding cache .*readonly"):
        CachedEmbedder(fake_embedder, cache, progress=False).embed(["a text"])


def test_a_damaged_metadata_cache_heals(tmp_path, capsys):
    path = tmp_path / "m.sqlite3"
    path.write_bytes(b"\x00garbage" * 64)
    cache = MetadataCache(path)
    assert cache.get_many(["2104.10642"]) == {}
    assert "moved it to m.sqlite3.corrupt-" in capsys.readouterr().err
    with cache._db:
        cache._db.execute("INSERT INTO papers VALUES ('2104.10642', '[[[not json')")
    assert cache.get_many(["2104.10642"]) == {}


# ---- shards --------------------------------------------------------------------------------------------------------


def _unit(n: int, dim: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _hashes(n: int, tag: str = "") -> list[str]:
    return [text_hash(f"{tag}{i}") for i in range(n)]


KEY = "m|torch-float32|256"


@pytest.mark.parametrize(
    ("key", "hashes", "vectors", "message"),
    [
        (KEY, _hashes(2), _unit(2, 16), "16-dim vectors, but the cache holds 8-dim ones"),
        (KEY, _hashes(2), np.where(np.eye(2, 8) > 0, np.nan, _unit(2, 8)), "NaN or infinite"),
        (KEY, _hashes(2), _unit(2, 8) * 2, "not a unit vector"),
        (KEY, ["z" * 64, *_hashes(1)], _unit(2, 8), "is not 64 hex digits"),
        ("no key", _hashes(2), _unit(2, 8), "its key is not like"),
    ],
)
def test_a_bad_shard_is_refused_whole_and_the_others_import(tmp_path, key, hashes, vectors, message):
    with EmbeddingCache(tmp_path / "c.sqlite3") as cache:
        cache.put_many(KEY, _hashes(1, "old"), _unit(1, 8))
        write_shard(tmp_path / "good.npz", KEY, _hashes(3, "good"), _unit(3, 8, seed=1))
        write_shard(tmp_path / "bad.npz", key, hashes, vectors)
        with pytest.raises(ShardsRefused, match=message) as caught:
            import_shards([tmp_path / "bad.npz", tmp_path / "good.npz"], cache)
        assert caught.value.imported == {KEY: 3} and "bad.npz" in str(caught.value)
        assert cache.count() == 4  # nothing from the bad shard


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04garbage", b"\x93NUMPY garbage", b"nope"])
def test_files_that_are_not_shards_are_refused(tmp_path, content):
    (tmp_path / "x.npz").write_bytes(content)
    with EmbeddingCache(tmp_path / "c.sqlite3") as cache, pytest.raises(ShardsRefused, match="not an embedding shard"):
        import_shards([tmp_path / "x.npz"], cache)


def test_a_npy_file_is_not_a_shard(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros(3))
    with EmbeddingCache(tmp_path / "c.sqlite3") as cache, pytest.raises(ShardsRefused, match="not an embedding shard"):
        import_shards([tmp_path / "x.npy"], cache)


def test_cli_cache_import_refuses_bad_shards_and_exits_1(tmp_path, home):
    write_shard(tmp_path / "good.npz", KEY, _hashes(3), _unit(3, 8))
    write_shard(tmp_path / "nan.npz", KEY, _hashes(2, "n"), np.full((2, 8), np.nan, np.float32))
    write_shard(tmp_path / "dim.npz", KEY, _hashes(2, "d"), _unit(2, 5))
    result = invoke("cache", "import", str(tmp_path / "good.npz"), str(tmp_path / "nan.npz"), str(tmp_path / "dim.npz"))
    assert_one_error(result, 1, "refused 2 shards")
    assert "nan.npz" in result.stderr and "dim.npz" in result.stderr and "imported 3 vectors" in result.stderr
    assert EmbeddingCache(home / "cache" / "embeddings.sqlite3").count(KEY) == 3
