"""Zotero live: sync from the local API and the Web API (first, incremental, unreachable), and likes sent back."""

from __future__ import annotations

import re
import socket

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.profile import load_profile
from recommender.profile.zotero_sync import sync_zotero

from .zotero_server import ABSTRACT, KEY, USER, preprint, sample_library


@pytest.fixture
def zotero(monkeypatch, home):
    """The sample library (three preprints, a journal article, a note) served on 127.0.0.1."""
    with sample_library(monkeypatch) as server:
        yield server


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_first_sync_reads_the_library_like_an_export(zotero, home):
    report = sync_zotero("vision", offline=True)
    profile = load_profile(home / "profiles" / "vision.toml")
    ids = sorted(p.paper.arxiv_id for p in profile.liked)
    assert ids[:3] == ["2103.00001", "2104.10615", "2104.10642"] and ids[3] == "doi:10.1000/xyz1"
    assert report.report is not None and report.report.ignored == 1  # the note: not a paper
    assert profile.zotero == {"library": "local"}  # remembered, so `paperrec today` syncs it first
    added = {p.paper.arxiv_id: p.added.isoformat() for p in profile.liked}
    assert added["2104.10642"] == "2021-05-02"  # Zotero's dateAdded
    reads = zotero.asked()
    assert reads[0].startswith("/api/users/0/items/top?") and "format=versions" in reads[0]
    assert "include=data%2Ccsljson" in reads[1] and "since=" not in reads[1]


def test_the_desktop_is_asked_for_every_version_and_an_unchanged_one_costs_one_request(zotero, home):
    sync_zotero("vision", offline=True)
    before = len(zotero.requests)
    again = sync_zotero("vision", offline=True)
    assert again.report is None and again.requests == 1 and len(zotero.requests) == before + 1
    # The desktop's versions are not library versions to send back (local_api.md): it is asked for all of them.
    _, path, headers = zotero.requests[-1]
    assert "If-Modified-Since-Version" not in headers and "since=" not in path
    assert "unchanged" in again.lines()[0]
    zotero.add_item(preprint("2105.11111", "A new preprint", ABSTRACT))
    third = sync_zotero("vision", offline=True)
    assert third.report is not None and [p.arxiv_id for p in third.report.added] == ["2105.11111"]
    assert third.requests == 2 and "since=" not in zotero.asked()[-1] and "itemKey=K0000007&" in zotero.asked()[-1]


@pytest.mark.parametrize("upgrade", [False, True])
def test_a_new_item_is_found_whatever_versions_the_desktop_reports(zotero, home, upgrade):
    if upgrade:  # a synced Zotero 7 reports the Web API's versions; Zotero 10 its own much lower ones
        zotero.desktop, zotero.version = "synced", zotero.version + 1000
    else:  # a Zotero 7 that never synced reports version 0 for everything, forever
        zotero.desktop = "unsynced"
    first = sync_zotero("vision", offline=True)
    assert len(first.profile.liked) == 4
    zotero.desktop = "10" if upgrade else zotero.desktop
    zotero.add_item(preprint("2105.11111", "A new preprint", ABSTRACT))
    second = sync_zotero("vision", offline=True)
    assert second.report is not None and [p.arxiv_id for p in second.report.added] == ["2105.11111"]


def test_another_zotero_database_is_read_as_new(zotero, home):
    sync_zotero("vision", offline=True)
    zotero.server_id = "sAnotherDB"  # the same numbers, but another database's: they mean nothing here
    report = sync_zotero("vision", offline=True)
    assert report.report is not None and report.requests == 2  # every item read again


def test_a_web_library_is_asked_only_for_what_changed_since_its_version(zotero, home, monkeypatch):
    monkeypatch.setenv("ZOTERO_API_KEY", KEY)
    sync_zotero("web", {"library": f"users/{USER}"}, offline=True)
    again = sync_zotero("web", offline=True)
    assert again.report is None and again.requests == 1
    assert zotero.requests[-1][2]["If-Modified-Since-Version"] == str(zotero.version)
    version = zotero.version
    zotero.add_item(preprint("2105.11111", "A new preprint", ABSTRACT))
    third = sync_zotero("web", offline=True)
    assert third.report is not None and [p.arxiv_id for p in third.report.added] == ["2105.11111"]
    assert f"since={version}" in zotero.asked()[-1]


def test_a_like_gone_from_zotero_is_kept_and_reported(zotero, home):
    sync_zotero("vision", offline=True)
    gone = next(k for k, i in zotero.items.items() if i["data"].get("archiveID") == "arXiv:2104.10615")
    zotero.remove_item(gone)
    report = sync_zotero("vision", offline=True)
    assert report.vanished == ("2104.10615",)
    assert any("no longer in Zotero" in line and "2104.10615" in line for line in report.lines())
    assert "2104.10615" in load_profile(home / "profiles" / "vision.toml").ids


def test_duplicates_merged_in_zotero_lose_no_like(zotero, home):
    sync_zotero("vision", offline=True)
    kept = zotero.add_item(preprint("2104.10615", "Medical segmentation with transformers", ABSTRACT))
    sync_zotero("vision", offline=True)
    merged = [k for k, i in zotero.items.items() if i["data"].get("archiveID") == "arXiv:2104.10615" and k != kept]
    zotero.trash_item(merged[0])  # Zotero's merge keeps one item and moves the other to the trash
    report = sync_zotero("vision", offline=True)
    assert report.vanished == () and not any("no longer in Zotero" in line for line in report.lines())
    zotero.remove_item(kept)  # the last copy gone: now it is named
    assert sync_zotero("vision", offline=True).vanished == ("2104.10615",)


def test_a_collection_and_a_tag_narrow_the_sync_and_paging_follows_link(zotero, home):
    zotero.max_page = 1
    report = sync_zotero("vision", {"collection": "vision"}, offline=True)  # the name in any case
    liked = sorted(p.paper.arxiv_id for p in report.profile.liked)
    assert liked[0] == "2104.10642" and liked[1] == "doi:10.1000/xyz1" and len(liked) == 2
    assert sum("/collections/K0000001/items/top?" in p and "format=versions" not in p for p in zotero.asked()) == 2
    tagged = sync_zotero("seg", {"tag": "seg"}, offline=True)
    assert [p.paper.arxiv_id for p in tagged.profile.liked] == ["2104.10615"]


@pytest.mark.parametrize("library", ["local", f"users/{USER}"])
def test_an_item_skipped_while_zotero_changed_between_pages_is_read_at_the_next_sync(
    zotero, home, monkeypatch, library
):
    monkeypatch.setenv("ZOTERO_API_KEY", KEY)
    zotero.max_page = 1
    real, first = zotero.answer, next(iter(zotero.items))

    def deleting(method, raw, headers, body):
        if re.search(r"[?&]start=2(&|$)", raw) and first in zotero.items:
            zotero.remove_item(first)  # deleted in Zotero while paperrec reads page 3: the pages move up by one
        return real(method, raw, headers, body)

    zotero.answer = deleting
    report = sync_zotero("vision", {"library": library}, offline=True)
    assert "2103.00001" not in report.profile.ids  # the item that moved onto page 2 was not read
    again = sync_zotero("vision", offline=True)
    assert "2103.00001" in again.profile.ids


def test_a_collection_made_again_in_zotero_is_found_again(zotero, home):
    sync_zotero("vision", {"collection": "Vision"}, offline=True)
    old = next(k for k, c in zotero.collections.items() if c["data"]["name"] == "Vision")
    del zotero.collections[old]
    again = zotero.add_collection("Vision")
    zotero.add_item({**preprint("2106.33333", "In the new collection", ABSTRACT), "collections": [again]})
    report = sync_zotero("vision", offline=True)
    assert report.report is not None and [p.arxiv_id for p in report.report.added] == ["2106.33333"]


def test_429_and_503_are_waited_out(zotero, home):
    zotero.faults += ["429", "503"]
    report = sync_zotero("vision", offline=True)
    assert len(report.profile.liked) == 4


def test_a_backoff_header_pauses_the_next_request(zotero):
    from recommender.sources.http import PoliteClient
    from recommender.sources.zotero_api import ZoteroApi, local_library

    now, slept = [1000.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    client = PoliteClient(
        name="Zotero",
        hosts=frozenset({"127.0.0.1"}),
        min_interval=0,
        share_spacing=False,
        clock=lambda: now[0],
        sleep=sleep,
    )
    zotero.backoff = "5"
    api = ZoteroApi(local_library(), client)
    api.versions("items/top", {}, None)
    assert slept == []
    api.versions("items/top", {}, None)
    assert slept == [5.0]


def test_a_backoff_longer_than_a_minute_ends_the_sync_as_try_again_later(zotero, home):
    zotero.backoff = "3600"  # Zotero asks for no request at all for an hour: not one after a minute's wait
    ended = invoke("profile", "sync", "vision", "--zotero", "--offline")
    assert ended.exit_code == 75, ended.output
    assert "Zotero asks for a pause of 3600 s (Backoff); try again later" in ended.stderr
    assert len(zotero.requests) == 1
    # The next run keeps the pause too (a cron job an hour early, the web page's next sync): no request at all.
    zotero.backoff = None
    again = invoke("profile", "sync", "vision", "--zotero", "--offline")
    assert again.exit_code == 75 and "asks for a pause of" in again.stderr and len(zotero.requests) == 1


def test_the_command_syncs_and_an_unreachable_zotero_is_one_line(zotero, home, monkeypatch):
    made = invoke("profile", "sync", "vision", "--zotero", "--collection", "Vision", "--offline")
    assert made.exit_code == 0, made.output
    assert "vision: synced from the Zotero desktop (local API)" in made.stderr
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("PAPERREC_ZOTERO_LOCAL_API", f"http://127.0.0.1:{port}/api/")
    failed = invoke("profile", "sync", "vision", "--zotero", "--offline")
    assert failed.exit_code == 75
    assert len(failed.stderr.strip().splitlines()) == 1 and "Zotero" in failed.stderr
    # On this machine, 'offline?' would mislead: the desktop is closed, or its local API is off.
    assert f"the Zotero desktop did not answer at http://127.0.0.1:{port}/api/: " in failed.stderr
    assert ". Is Zotero open? If it is, turn on 'Allow other applications" in failed.stderr
    assert "offline?" not in failed.stderr


def test_a_desktop_with_its_local_api_off_says_where_to_turn_it_on(zotero, home, monkeypatch):
    zotero.local_api_on = False
    refused = invoke("profile", "sync", "vision", "--zotero", "--offline")
    assert refused.exit_code == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert "the Zotero desktop (local API) refused access (HTTP 403)" in refused.stderr
    assert "'Allow other applications on this computer to communicate with Zotero'" in refused.stderr
    assert "Settings" in refused.stderr and "key" not in refused.stderr
    monkeypatch.setenv("ZOTERO_API_KEY", "a-wrong-key")
    wrong = invoke("profile", "sync", "web", "--zotero", "--library", f"users/{USER}", "--offline")
    assert wrong.exit_code == 1 and "(HTTP 403): check the key's rights" in wrong.stderr


def test_today_syncs_first_and_uses_the_stored_profile_when_zotero_is_away(
    zotero, home, fake_model, fake_arxiv, monkeypatch
):
    invoke("profile", "sync", "vision", "--zotero", "--offline")
    path = home / "profiles" / "vision.toml"
    path.write_text(path.read_text().replace("categories = []", 'categories = ["cs.CV"]'))
    zotero.add_item(preprint("2105.22222", "Another one", ABSTRACT))
    ran = invoke("today", "-p", "vision", "-f", "json")
    assert ran.exit_code == 0, ran.output
    assert "2105.22222" in load_profile(path).ids
    monkeypatch.setenv("PAPERREC_ZOTERO_LOCAL_API", "http://127.0.0.1:9/api/")
    away = invoke("today", "-p", "vision", "-f", "json", "--include-seen")
    assert away.exit_code == 0, away.output
    notices = [line for line in away.stderr.splitlines() if "Zotero" in line]
    assert len(notices) == 1 and "stored profile" in notices[0]


def test_a_web_api_library_needs_its_key_and_reads_with_it(zotero, home, monkeypatch):
    refused = invoke("profile", "sync", "vision", "--zotero", "--library", f"users/{USER}", "--offline")
    assert refused.exit_code == 2 and "ZOTERO_API_KEY" in refused.stderr
    monkeypatch.setenv("ZOTERO_API_KEY", KEY)
    made = invoke("profile", "sync", "vision", "--zotero", "--library", f"users/{USER}", "--offline")
    assert made.exit_code == 0, made.output
    assert all(h.get("Zotero-API-Key") == KEY for _, p, h in zotero.requests if p.startswith("/users/"))
    assert KEY not in (home / "profiles" / "vision.toml").read_text()


def test_the_morning_brief_says_nothing_of_a_sync_that_added_nothing(home):
    # the Web API's library version moves when anything outside the synced collection changes: the sync then reads,
    # finds nothing for this profile, and a "0 papers added" line every morning would be noise
    from recommender.profile import Profile
    from recommender.profile.library import ImportReport
    from recommender.profile.zotero_sync import SyncReport
    from recommender.schema import Paper

    profile = Profile(name="vision")
    quiet = ImportReport(profile, added=(), already_present=3, skipped=(), without_abstract=0)
    report = SyncReport(profile, home / "vision.toml", "Zotero users/1 (Web API)", quiet, 2)
    assert report.brief() == []
    new = ImportReport(
        profile, added=(Paper.make("A", "2105.00001", "B"),), already_present=3, skipped=(), without_abstract=0
    )
    assert SyncReport(profile, home / "vision.toml", "Zotero users/1 (Web API)", new, 2).brief() == [
        "vision: 1 paper added from Zotero users/1 (Web API) (2 requests)"
    ]


def _key_of(zotero, arxiv_id: str) -> str:
    return next(k for k, i in zotero.items.items() if i["data"].get("archiveID") == f"arXiv:{arxiv_id}")


@pytest.mark.parametrize("vote", ["disliked", None])
@pytest.mark.parametrize("library", ["local", f"users/{USER}"])
def test_a_dislike_or_unlike_after_the_sync_outlasts_edits_of_the_item_until_it_is_added_again(
    zotero, home, monkeypatch, library, vote
):
    from recommender.profile.changes import move, remove
    from recommender.profile.edit import change_profile

    monkeypatch.setenv("ZOTERO_API_KEY", KEY)
    sync_zotero("vision", {"library": library, "collection": "Vision"}, offline=True)
    path = home / "profiles" / "vision.toml"
    path.write_text("# my own note\n" + path.read_text())
    # The user's dislike or unlike, on the page or the command line
    change_profile(path, [move(["2104.10642"], "disliked") if vote else remove(["2104.10642"])])
    key, vision = _key_of(zotero, "2104.10642"), next(iter(zotero.collections))
    data = zotero.items[key]["data"]
    zotero.add_item({**data, "title": "Super-resolution by diffusion, revised"}, key)  # any edit: a new version
    edited = sync_zotero("vision", offline=True)
    assert edited.profile.section_of("2104.10642") == vote
    assert edited.held == ("2104.10642",) and edited.report is not None and edited.report.already_present == 0
    assert "vision: 0 papers added to liked, 0 already there" in edited.lines()
    assert "1 paper edited in Zotero stays out of liked, as you disliked or unliked it in paperrec: 2104.10642" in (
        edited.lines()
    )
    assert load_profile(path).section_of("2104.10642") == vote
    zotero.set_collections(key, [])  # out of the collection, then back after the vote
    sync_zotero("vision", offline=True)
    assert load_profile(path).section_of("2104.10642") == vote
    zotero.set_collections(key, [vision])
    again = sync_zotero("vision", offline=True)
    assert again.profile.section_of("2104.10642") == "liked"
    assert path.read_text().startswith("# my own note\n")


@pytest.mark.parametrize("library", ["local", f"users/{USER}"])
def test_an_item_moved_out_of_the_collection_is_not_said_to_have_left_zotero(zotero, home, monkeypatch, library):
    monkeypatch.setenv("ZOTERO_API_KEY", KEY)
    sync_zotero("vision", {"library": library, "collection": "Vision"}, offline=True)
    moved = _key_of(zotero, "2104.10642")
    zotero.set_collections(moved, [])  # still in the library
    report = sync_zotero("vision", offline=True)
    assert report.vanished == () and report.moved_out == ("2104.10642",)
    lines = report.lines()
    assert not any("no longer in Zotero" in line for line in lines)
    assert any("moved out of the collection Vision" in line and "2104.10642" in line for line in lines)
    assert any("moved out of the collection Vision" in line for line in report.brief())
    journal = next(k for k, i in zotero.items.items() if i["data"].get("DOI") == "10.1000/xyz1")
    zotero.trash_item(journal)  # in the trash: deleted, as the user sees it
    gone = sync_zotero("vision", offline=True)
    assert gone.vanished == ("doi:10.1000/xyz1",) and gone.moved_out == ()
    assert any("no longer in Zotero" in line and "doi:10.1000/xyz1" in line for line in gone.lines())


def test_an_item_that_lost_the_synced_tag_is_said_to_have_lost_it(zotero, home):
    sync_zotero("seg", {"tag": "seg"}, offline=True)
    key = _key_of(zotero, "2104.10615")
    zotero.add_item({**zotero.items[key]["data"], "tags": []}, key)
    report = sync_zotero("seg", offline=True)
    assert report.moved_out == ("2104.10615",) and report.vanished == ()
    assert any("lost the tag 'seg'" in line for line in report.lines())


def test_an_item_skipped_then_given_an_id_and_a_title_in_zotero_is_liked(zotero, home):
    blank = {**preprint("", ""), "archiveID": "", "url": ""}  # neither an arXiv id nor a title: skipped
    key = zotero.add_item(blank)
    first = sync_zotero("vision", offline=True)
    assert first.report is not None and any(f"Zotero item {key}" in name for name, _ in first.report.skipped)
    zotero.add_item(preprint("2105.33333", "A paper filled in later", ABSTRACT), key)  # the user fixes it
    fixed = sync_zotero("vision", offline=True)
    assert fixed.profile.section_of("2105.33333") == "liked"
    assert fixed.report is not None and [p.arxiv_id for p in fixed.report.added] == ["2105.33333"]
    assert fixed.report.already_present == 0


def test_an_id_corrected_in_zotero_likes_the_corrected_paper_and_keeps_the_old_like(zotero, home):
    key = zotero.add_item(preprint("2105.22221", "A paper with a mistyped id", ABSTRACT))
    sync_zotero("vision", offline=True)
    zotero.add_item(preprint("2105.22222", "A paper with a mistyped id", ABSTRACT), key)  # the id corrected
    corrected = sync_zotero("vision", offline=True)
    assert corrected.profile.section_of("2105.22222") == "liked"
    assert corrected.report is not None and [p.arxiv_id for p in corrected.report.added] == ["2105.22222"]
    # The mistyped id stays liked, as a like whose item left Zotero does: paperrec takes back no like by itself.
    assert corrected.profile.section_of("2105.22221") == "liked"
    assert corrected.renamed == ("2105.22221",)
    said = "1 liked paper had the id of its Zotero item changed; the profile keeps it: 2105.22221"
    assert said in corrected.lines() and f"vision: {said}" in corrected.brief()


def _title_only(zotero, title: str) -> str:
    """An item with neither an arXiv id nor a DOI, in the Vision collection: known by its title only."""
    data = {**preprint("", title, ABSTRACT, ()), "archiveID": "", "url": "", "itemType": "conferencePaper"}
    return zotero.add_item({**data, "collections": [next(iter(zotero.collections))]})


@pytest.mark.parametrize("vote", ["liked", "disliked", None])
@pytest.mark.parametrize("edit", ["title", "arxiv"])
@pytest.mark.parametrize("library", ["local", f"users/{USER}"])
def test_an_item_known_by_its_title_only_is_the_same_paper_after_an_edit(
    zotero, home, monkeypatch, library, edit, vote
):
    from recommender.profile.changes import move, remove
    from recommender.profile.edit import change_profile
    from recommender.schema import title_id

    monkeypatch.setenv("ZOTERO_API_KEY", KEY)
    key = _title_only(zotero, "Learning to see in the dark with deep nets")
    sync_zotero("vision", {"library": library, "collection": "Vision"}, offline=True)
    path, old = home / "profiles" / "vision.toml", title_id("Learning to see in the dark with deep nets")
    if vote != "liked":
        change_profile(path, [move([old], "disliked") if vote else remove([old])])
    data = zotero.items[key]["data"]
    if edit == "title":  # the title fixed: another title id
        zotero.add_item({**data, "title": "Learning to See in the Dark with Deep Networks"}, key)
        new = title_id("Learning to See in the Dark with Deep Networks")
    else:  # the arXiv id added
        zotero.add_item({**data, "extra": "arXiv: 1805.01934"}, key)
        new = "1805.01934"
    report = sync_zotero("vision", offline=True)
    profile = load_profile(path)
    assert report.renamed == () and not any("had the id" in line for line in report.lines())
    assert report.report is not None and report.report.added == ()
    titled = [e for e in profile.liked + profile.disliked if "dark" in e.paper.title.lower()]
    assert [e.paper.arxiv_id for e in titled] == ([old] if vote else [])  # one entry, under the id it had
    assert profile.section_of(old) == vote and profile.section_of(new) is None
    if vote and edit == "arxiv":  # the entry learns the arXiv id its item now gives
        assert titled[0].paper.ids == (old, new)
    assert report.held == {"liked": (), "disliked": (old,), None: (new,)}[vote]  # by the id the profile has
    zotero.add_item({**zotero.items[key]["data"], "title": "Learning to see in the dark (v2)"}, key)
    again = sync_zotero("vision", offline=True)  # edited once more: still that one paper
    newer = title_id("Learning to see in the dark (v2)") if edit == "title" else new
    assert again.renamed == () and again.report is not None and again.report.added == ()
    assert again.held == {"liked": (), "disliked": (old,), None: (newer,)}[vote]
    assert load_profile(path).liked == profile.liked


@pytest.mark.parametrize("library", ["local", f"users/{USER}"])
def test_an_id_mistyped_then_put_back_in_zotero_keeps_the_dislike(zotero, home, monkeypatch, library):
    import json

    from recommender import paths
    from recommender.profile.changes import move
    from recommender.profile.edit import change_profile

    monkeypatch.setenv("ZOTERO_API_KEY", KEY)
    sync_zotero("vision", {"library": library, "collection": "Vision"}, offline=True)
    path = home / "profiles" / "vision.toml"
    change_profile(path, [move(["2104.10642"], "disliked")])
    key = _key_of(zotero, "2104.10642")
    data = zotero.items[key]["data"]
    zotero.add_item({**data, "archiveID": "arXiv:2104.10643", "url": "https://arxiv.org/abs/2104.10643"}, key)
    typo = sync_zotero("vision", offline=True)
    assert typo.profile.section_of("2104.10643") == "liked"  # another paper to the sync, as a corrected id is
    zotero.add_item(data, key)  # the typo put back
    back = sync_zotero("vision", offline=True)
    assert back.profile.section_of("2104.10642") == "disliked" and back.held == ("2104.10642",)
    assert back.renamed == ("2104.10643",)  # the mistyped paper stays liked, and is named
    for n in range(6):  # the record keeps the last few ids an item brought, not all of them
        zotero.add_item({**data, "archiveID": f"arXiv:2104.2000{n}", "url": f"https://arxiv.org/abs/2104.2000{n}"}, key)
        sync_zotero("vision", offline=True)
    [items] = [s["items"] for s in json.loads(paths.zotero_sync_path().read_text()).values()]
    assert items[key][1:] == ["2104.20005", ["2104.20004", "2104.20003", "2104.20002", "2104.20001"]]


def test_today_asks_a_zotero_desktop_that_is_away_once_for_all_its_profiles(
    zotero, home, fake_model, fake_arxiv, monkeypatch
):
    from recommender.sources import http

    from .test_network import CountingTransport

    for name in ("vision", "optics"):
        invoke("profile", "sync", name, "--zotero", "--offline")
        path = home / "profiles" / f"{name}.toml"
        path.write_text(path.read_text().replace("categories = []", 'categories = ["cs.CV"]'))
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("PAPERREC_ZOTERO_LOCAL_API", f"http://127.0.0.1:{port}/api/")
    attempts: list[str] = []

    class Counting(http.PoliteClient):
        def __init__(self, **options):
            super().__init__(transport=CountingTransport(attempts), **options)

    monkeypatch.setattr(http, "PoliteClient", Counting)
    away = invoke("today", "-f", "json")
    assert away.exit_code == 0, away.output
    notices = [line for line in away.stderr.splitlines() if "Zotero" in line]
    assert len(notices) == 2 and all("stored profile" in line for line in notices), away.stderr
    assert len(attempts) == 1  # the first profile's sync found the desktop closed; the second did not ask again
