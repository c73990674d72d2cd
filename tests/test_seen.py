"""The seen-memory and the morning run: yesterday's picks are hidden today unless asked for."""

from __future__ import annotations

import json
from datetime import date

from recommender.embed import CachedEmbedder
from recommender.profile import new_profile, save_profile
from recommender.run import run_today
from recommender.schema import Listing, Paper
from recommender.seen import SeenMemory, shown_keys


def test_memory_is_per_profile_and_per_day(tmp_path):
    memory = SeenMemory(tmp_path / "seen.sqlite3")
    memory.mark("a", ["2101.00001", "2101.00002"], date(2021, 5, 3))
    memory.mark("a", ["2101.00001"], date(2021, 5, 4))  # first day shown is kept
    assert memory.seen_before("a", date(2021, 5, 3)) == set()
    assert memory.seen_before("a", date(2021, 5, 4)) == {"2101.00001", "2101.00002"}
    assert memory.seen_before("b", date(2021, 5, 4)) == set()
    assert memory.count() == 2 and memory.count("a") == 2
    assert memory.days("a") == {date(2021, 5, 3)} and memory.days("b") == set()
    memory.close()
    assert SeenMemory(tmp_path / "seen.sqlite3").count("a") == 2


def test_memory_lists_what_was_shown_in_rank_order_within_a_day(tmp_path):
    memory = SeenMemory(tmp_path / "seen.sqlite3")
    memory.mark("a", ["2101.00009", "2101.00001"], date(2021, 5, 3), [1, 2])
    memory.mark("a", ["2101.00005", "2101.00002"], date(2021, 5, 4), [2, 1])
    memory.mark("a", ["2101.00000"], date(2021, 5, 4))  # no rank: after the ranked ones
    assert memory.shown("a") == [
        ("2101.00002", date(2021, 5, 4)),
        ("2101.00005", date(2021, 5, 4)),
        ("2101.00000", date(2021, 5, 4)),
        ("2101.00009", date(2021, 5, 3)),
        ("2101.00001", date(2021, 5, 3)),
    ]
    memory.close()


def test_the_keys_a_profile_was_shown_come_from_the_homes_memory_and_none_without_one(home):
    from recommender.paths import seen_path

    assert shown_keys("a") == [] and not seen_path().exists()  # asking makes no memory
    memory = SeenMemory(seen_path())
    memory.mark("a", ["2101.00009", "2101.00001"], date(2021, 5, 3), [2, 1])
    memory.close()
    assert shown_keys(("a", "A")) == [("2101.00001", date(2021, 5, 3)), ("2101.00009", date(2021, 5, 3))]


def test_a_memory_from_before_ranks_gains_the_column_and_keeps_its_rows(tmp_path):
    import sqlite3

    path = tmp_path / "seen.sqlite3"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE seen (profile TEXT NOT NULL, arxiv_id TEXT NOT NULL, day TEXT NOT NULL,"
            " PRIMARY KEY (profile, arxiv_id)) WITHOUT ROWID"
        )
        old.execute("INSERT INTO seen VALUES ('a', '2101.00001', '2021-05-03')")
    old.close()
    memory = SeenMemory(path)
    memory.mark("a", ["2101.00002"], date(2021, 5, 3), [1])
    assert memory.shown("a") == [("2101.00002", date(2021, 5, 3)), ("2101.00001", date(2021, 5, 3))]
    memory.close()
    SeenMemory(path).close()  # opened again: the column is there already


def _day(day: date, *papers: tuple[str, str]) -> Listing:
    return Listing(papers=tuple(Paper.make(t, i, t, date=day) for i, t in papers), date=day)


def test_yesterdays_picks_are_hidden_today(tmp_path, fake_embedder):
    profile = tmp_path / "p.toml"
    liked = [Paper.make("graph neural networks", "2001.00001", "graph networks")]
    save_profile(new_profile("p", liked, categories=["cs.LG"]), profile)
    memory = SeenMemory(tmp_path / "seen.sqlite3")
    embedder = CachedEmbedder(fake_embedder, None)
    days = {
        date(2021, 5, 3): _day(
            date(2021, 5, 3), ("2105.00001", "graph neural networks for molecules"), ("2105.00002", "cats")
        ),
        # Tuesday: the same paper comes back as a cross-list with a new version; it is the same paper.
        date(2021, 5, 4): Listing(
            papers=(
                Paper.make("graph neural networks for molecules", "2105.00001v2", "graph", ["X"], ["cs.AI"]),
                Paper.make("graph networks on meshes", "2105.00003", "graph networks meshes"),
            ),
            date=date(2021, 5, 4),
        ),
    }
    asked = []

    def fetch(categories, day=None, *, include_cross=False):
        asked.append((tuple(categories), day))
        return days[day], None

    def run(day, **options):
        return run_today([profile], embedder, seen=memory, day=day, fetch=fetch, **options).sections[0]

    first = run(date(2021, 5, 3), top=1)
    assert [p.paper.arxiv_id for p in first.picks] == ["2105.00001"] and asked[-1] == (("cs.LG",), date(2021, 5, 3))
    again = run(date(2021, 5, 3), top=1)  # same day: same answer
    assert [p.paper.arxiv_id for p in again.picks] == ["2105.00001"] and again.hidden_seen == 0

    hidden = run(date(2021, 5, 4), top=5)
    assert [p.paper.arxiv_id for p in hidden.picks] == ["2105.00003"] and hidden.hidden_seen == 1
    shown = run(date(2021, 5, 4), top=5, include_seen=True)
    assert "2105.00001" in [p.paper.arxiv_id for p in shown.picks]


def test_a_profile_renamed_by_hand_still_hides_what_it_was_shown(tmp_path, fake_embedder):
    profile = tmp_path / "p.toml"
    liked = [Paper.make("graph neural networks", "2001.00001", "graph networks")]
    save_profile(new_profile("Graphs", liked, categories=["cs.LG"]), profile)
    memory = SeenMemory(tmp_path / "seen.sqlite3")
    memory.mark("Graphs", ["2105.00009"], date(2021, 5, 2))  # kept under the display name, as before
    embedder = CachedEmbedder(fake_embedder, None)
    monday = _day(date(2021, 5, 3), ("2105.00001", "graph neural networks for molecules"), ("2105.00002", "cats"))
    tuesday = _day(
        date(2021, 5, 4),
        ("2105.00001", "graph neural networks for molecules"),  # back as a cross-list
        ("2105.00009", "graph neural networks for proteins"),
        ("2105.00003", "graph networks on meshes"),
    )

    def run(listing: Listing):
        return run_today([profile], embedder, seen=memory, day=listing.date, fetch=lambda *a, **k: (listing, None))

    assert [p.paper.arxiv_id for p in run(monday).sections[0].picks][:1] == ["2105.00001"]
    profile.write_text(profile.read_text().replace('name = "Graphs"', 'name = "Graph learning"'))
    picks = run(tuesday).sections[0].picks
    assert [p.paper.arxiv_id for p in picks] == ["2105.00003"]


def test_rank_records_nothing_without_mark_seen(tmp_path, home, fake_model, example_listing):
    from typer.testing import CliRunner

    from recommender.cli import app
    from recommender.paths import seen_path

    profile = tmp_path / "p.toml"
    save_profile(new_profile("p", [Paper.make("super-resolution video", "2001.00001", "video")]), profile)
    runner = CliRunner()
    first = runner.invoke(app, ["rank", str(example_listing), "-p", str(profile), "-f", "json"])
    assert first.exit_code == 0 and not seen_path().exists()
    marked = runner.invoke(app, ["rank", str(example_listing), "-p", str(profile), "-f", "json", "--mark-seen"])
    assert json.loads(marked.stdout) == json.loads(first.stdout)
    assert SeenMemory(seen_path()).count("p") == 10


def test_concurrent_processes_keep_every_mark(tmp_path):
    import subprocess
    import sys

    db = tmp_path / "seen.sqlite3"
    code = (
        "import sys; from datetime import date; from recommender.seen import SeenMemory; m = SeenMemory(sys.argv[1]);"
        " m.mark('p', [sys.argv[2]], date(2021, 4, 22)); m.close()"
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", code, str(db), f"2101.{i:05d}"], stderr=subprocess.PIPE)
        for i in range(8)
    ]
    errors = [w.communicate(timeout=60)[1].decode() for w in workers]
    assert [w.returncode for w in workers] == [0] * 8, errors
    memory = SeenMemory(db)
    assert memory.count("p") == 8
    memory.close()


def test_a_copy_from_another_source_without_a_link_is_known_by_title_and_first_author(tmp_path, home):
    from recommender.history import shown_papers
    from recommender.paths import listings_dir, seen_path
    from recommender.sources.records import to_jsonl

    preprint = Paper.make("Grid Cells Map Time", "doi:10.1101/2026.01.02.123456", "A", ["Ada Lovelace", "B. Other"])
    copy = Paper.make("Grid cells map time.", "2601.00042", "A", ["A. Lovelace"])  # its arXiv copy, no link between
    other = Paper.make("Grid Cells Map Time", "2601.00043", "A", ["Charles Babbage"])  # same title, another author
    memory = SeenMemory(seen_path())
    memory.mark_papers("neuro", [(preprint, 1)], date(2026, 1, 5))
    assert memory.hidden("neuro", date(2026, 1, 6), [copy, other]) == {"2601.00042"}
    assert memory.hidden("neuro", date(2026, 1, 5), [copy]) == set()  # the same day again is shown again
    memory.close()
    folder = listings_dir() / "biorxiv" / "neuroscience"
    folder.mkdir(parents=True)
    (folder / "2026-01-05.jsonl").write_text(to_jsonl([preprint]))
    rows = shown_papers("neuro", liked={preprint.arxiv_id})
    assert [(r.arxiv_id, r.verdict) for r in rows] == [(preprint.arxiv_id, "liked")]  # one row, not one per key
