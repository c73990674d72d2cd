"""Likes back to Zotero: from the command line, the web page and an email link, queued, sent once, taken back."""

from __future__ import annotations

import time

import pytest
from typer.testing import CliRunner

from recommender import paths
from recommender.cli import app
from recommender.profile import load_profile
from recommender.profile.zotero_push import pending_pushes, push_pending
from recommender.sources import read_listing

from .test_web import _client, _csrf, _post, _write_home
from .zotero_server import KEY, USER, preprint, sample_library

LIKES = "paperrec likes"


@pytest.fixture
def zotero(monkeypatch, home):
    with sample_library(monkeypatch) as server:
        monkeypatch.setenv("ZOTERO_API_KEY", KEY)
        yield server


@pytest.fixture
def sr(home, fake_model, example_listing):
    """The super-resolution profile, its likes going to the 'paperrec likes' collection of users/123."""
    path = _write_home(home, example_listing)
    text = path.read_text()
    path.write_text(f'zotero_collection = "{LIKES}"\n' + text + f'\n[zotero]\nlibrary = "users/{USER}"\n')
    return path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def _paper(example_listing, index: int = 5):
    return read_listing(example_listing).papers[index]


def _like(example_listing, *ids: str, verb: str = "like"):
    result = invoke(verb, *ids, "-p", "sr", "--listing", str(example_listing))
    assert result.exit_code == 0, result.output
    return result


def _created(zotero) -> list[dict]:
    return [body for method, path, body in zotero.bodies if method == "POST" and path.endswith("/items")]


def _writes(zotero) -> list[tuple[str, str, bytes]]:
    return [(m, p, h) for m, p, h in zotero.requests if m != "GET"]


def test_a_like_from_the_command_line_creates_one_item_in_the_collection(zotero, sr, example_listing):
    paper = _paper(example_listing)
    _like(example_listing, paper.arxiv_id)
    assert zotero.asked("POST") == [] and len(pending_pushes()) == 1  # queued at vote time, sent later
    report = push_pending()
    assert report.sent == 1 and report.failed == () and pending_pushes() == []
    [item] = zotero.in_collection(LIKES)
    assert item["title"] == paper.title and item["abstractNote"] == paper.abstract
    assert item["archiveID"] == f"arXiv:{paper.arxiv_id}" and item["url"] == f"https://arxiv.org/abs/{paper.arxiv_id}"
    assert paper.arxiv_id in item["extra"] and item["itemType"] == "preprint"
    assert [f"{c['firstName']} {c['lastName']}".strip() for c in item["creators"]] == list(paper.authors)
    posts = [h for m, p, h in zotero.requests if m == "POST" and p.endswith("/items")]
    assert len(posts) == 1 and len(posts[0]["Zotero-Write-Token"]) == 32
    assert push_pending().sent == 0 and len(zotero.in_collection(LIKES)) == 1  # nothing sent twice


def test_a_write_whose_answer_was_lost_is_not_a_failure_when_its_retry_gets_412(
    zotero, sr, example_listing, monkeypatch
):
    import recommender.sources.zotero_api as zotero_api

    made = zotero_api.for_source
    monkeypatch.setattr(zotero_api, "for_source", lambda *args, **options: made(*args, **{**options, "backoff": 0}))
    paper = _paper(example_listing)
    _like(example_listing, paper.arxiv_id)
    zotero.lose_answers = 2  # the collection and the item are written, and neither answer arrives
    report = push_pending()
    assert report.sent == 1 and report.failed == () and pending_pushes() == []
    posts = [(p.split("?")[0], h["Zotero-Write-Token"]) for m, p, h in zotero.requests if m == "POST"]
    assert [path.rsplit("/", 1)[1] for path, _ in posts] == ["collections", "collections", "items", "items"]
    assert posts[0][1] == posts[1][1] and posts[2][1] == posts[3][1]  # retried with the same token: Zotero's 412
    [item] = zotero.in_collection(LIKES)
    assert item["archiveID"] == f"arXiv:{paper.arxiv_id}" and len(zotero.collections) == 2
    invoke("unlike", paper.arxiv_id, "-p", "sr")
    assert push_pending().sent == 1 and zotero.in_collection(LIKES) == []  # the key found again was the right one


def test_of_several_copies_find_prefers_the_collection_then_the_newest(zotero, home):
    from recommender.schema import Paper
    from recommender.sources.zotero_api import ZoteroApi, web_library

    from .zotero_server import preprint

    likes = zotero.add_collection(LIKES)
    old = zotero.add_item({**preprint("2301.00007", "A paper kept twice"), "collections": []})
    filed = zotero.add_item({**preprint("2301.00007", "A paper kept twice"), "collections": [likes]})
    newest = zotero.add_item({**preprint("2301.00007", "A paper kept twice"), "collections": []})
    api = ZoteroApi(web_library(f"users/{USER}", KEY))
    try:
        paper = Paper.make("A paper kept twice", "2301.00007", "")
        assert api.find(paper)["key"] == newest and api.find(paper, likes)["key"] == filed
        assert old not in {newest, filed} and api.find(Paper.make("Elsewhere", "2301.00008", "")) is None
    finally:
        api.close()


def test_a_paper_already_in_zotero_is_added_to_the_collection_not_created_again(zotero, sr, example_listing):
    listed = {p.arxiv_id for p in read_listing(example_listing).papers}
    assert "2104.10642" in listed
    invoke("unlike", "2104.10642", "-p", "sr")  # the profile liked it already: like it anew
    count = len(zotero.items)
    _like(example_listing, "2104.10642")
    assert push_pending().sent == 1
    assert len(zotero.items) == count and not zotero.asked("POST")[1:]  # only the collection was created
    [item] = zotero.in_collection(LIKES)
    assert item["archiveID"] == "arXiv:2104.10642" and len(item["collections"]) == 2  # Vision and paperrec likes


def test_undo_before_the_push_cancels_it(zotero, sr, example_listing):
    paper = _paper(example_listing)
    _like(example_listing, paper.arxiv_id)
    invoke("unlike", paper.arxiv_id, "-p", "sr")
    assert pending_pushes() == []
    push_pending()
    assert _writes(zotero) == []


def test_undo_after_the_push_takes_the_item_out_of_the_collection_and_keeps_it(zotero, sr, example_listing):
    paper = _paper(example_listing)
    _like(example_listing, paper.arxiv_id)
    push_pending()
    count = len(zotero.items)
    invoke("unlike", paper.arxiv_id, "-p", "sr")
    assert [op["action"] for op in pending_pushes()] == ["remove"]
    assert push_pending().sent == 1
    assert zotero.in_collection(LIKES) == [] and len(zotero.items) == count and zotero.deleted == []


def test_undo_after_the_item_was_deleted_or_merged_in_zotero_is_no_failure(zotero, sr, example_listing):
    from .zotero_server import preprint

    first, second = _paper(example_listing), _paper(example_listing, 7)
    _like(example_listing, first.arxiv_id, second.arxiv_id)
    assert push_pending().sent == 2
    [likes] = [k for k, c in zotero.collections.items() if c["data"]["name"] == LIKES]
    pushed = {i["archiveID"]: i["key"] for i in zotero.in_collection(LIKES)}
    zotero.remove_item(pushed[f"arXiv:{first.arxiv_id}"])  # deleted in Zotero
    zotero.remove_item(pushed[f"arXiv:{second.arxiv_id}"])  # merged into a copy that is kept
    copy = zotero.add_item({**preprint(second.arxiv_id, second.title), "collections": [likes]})
    invoke("unlike", first.arxiv_id, second.arxiv_id, "-p", "sr")
    report = push_pending()
    assert report.failed == () and report.sent == 2 and pending_pushes() == []
    assert zotero.in_collection(LIKES) == [] and copy in zotero.items and zotero.deleted == []


def test_a_failed_push_is_kept_and_retried(zotero, sr, example_listing, monkeypatch):
    paper = _paper(example_listing)
    monkeypatch.setenv("PAPERREC_ZOTERO_WEB_API", "http://127.0.0.1:9/")
    _like(example_listing, paper.arxiv_id)
    failed = push_pending()
    assert failed.sent == 0 and len(failed.failed) == 1 and "kept" in failed.lines()[0]
    assert paper.arxiv_id in load_profile(sr).ids  # the vote is saved whatever Zotero does
    [op] = pending_pushes()
    assert op["tries"] == 1 and op["error"]
    monkeypatch.setenv("PAPERREC_ZOTERO_WEB_API", zotero.web_api)
    assert push_pending().sent == 1 and len(zotero.in_collection(LIKES)) == 1


def test_a_zotero_collection_without_a_key_is_refused_at_the_settings_check(zotero, sr, monkeypatch):
    monkeypatch.delenv("ZOTERO_API_KEY")
    result = invoke("today", "-p", "sr")
    assert result.exit_code == 2 and "local API is read-only" in result.stderr and "ZOTERO_API_KEY" in result.stderr
    (paths.user_root() / "zotero-key").write_text(KEY + "\n")
    (paths.user_root() / "zotero-key").chmod(0o644)
    loose = invoke("profile", "sync", "sr", "--zotero", "--offline")
    assert loose.exit_code == 2 and "chmod 600" in loose.stderr


def _wait_for(check, timeout: float = 300.0) -> None:  # a bound for a stuck test, not a measure
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert check()


def test_a_like_on_the_web_page_is_sent_by_the_worker_and_its_undo_too(zotero, sr, example_listing):
    paper = _paper(example_listing)
    with _client() as client:
        assert _post(client, "/rate", id=paper.arxiv_id, action="like").status_code == 303
        _wait_for(lambda: len(zotero.in_collection(LIKES)) == 1)
        assert zotero.in_collection(LIKES)[0]["title"] == paper.title
        assert _post(client, "/undo", id=paper.arxiv_id).status_code == 303
        _wait_for(lambda: zotero.in_collection(LIKES) == [])
    assert zotero.deleted == [] and len(_created(zotero)) == 1


def test_an_email_vote_link_is_sent_too(zotero, sr, example_listing):
    from recommender.signing import vote_token

    paper = _paper(example_listing, 7)
    with _client() as client:
        link = f"/vote/{vote_token('sr', paper.arxiv_id, 'like')}"
        assert client.post(link, data={"csrf": _csrf(client)}).status_code == 200
        _wait_for(lambda: len(zotero.in_collection(LIKES)) == 1)
    [created] = _created(zotero)
    assert created[0]["archiveID"] == f"arXiv:{paper.arxiv_id}"


def test_the_next_run_sends_what_is_queued(zotero, sr, example_listing, fake_arxiv):
    paper = _paper(example_listing)
    _like(example_listing, paper.arxiv_id)
    ran = invoke("today", "-p", "sr", "-f", "json")
    assert ran.exit_code == 0, ran.output
    assert "Zotero: 1 likes sent" in ran.stderr and pending_pushes() == []
    assert [i["title"] for i in zotero.in_collection(LIKES)] == [paper.title]


@pytest.mark.parametrize(
    ("method", "path", "answer", "says"),
    [  # a list or search answered with objects it cannot read: none of them is the one, so the item is made
        ("GET", "/collections", [{"key": "C0000001", "data": "not an object"}], "1 likes sent"),
        ("GET", "/items", [{"key": "K0000001", "data": "not an object", "csljson": {"id": "x"}}], "1 likes sent"),
        ("POST", "/items", {"failed": ["not an object"], "success": 5}, "refused to create it: ['not an object']"),
        ("POST", "/items", {"failed": {"0": "no reason as an object"}}, "refused to create it: no reason as an"),
        ("POST", "/items", {"success": ["K0000099"]}, "created nothing"),
    ],
)
def test_a_zotero_answer_of_the_wrong_shape_costs_no_picks(
    zotero, sr, example_listing, fake_arxiv, method, path, answer, says
):
    import json

    _like(example_listing, _paper(example_listing).arxiv_id)
    real = zotero.answer

    def garbled(verb, raw, headers, body):
        status, sent_headers, payload = real(verb, raw, headers, body)
        if verb == method and raw.split("?")[0].endswith(path):
            return 200, sent_headers, json.dumps(answer).encode()
        return status, sent_headers, payload

    zotero.answer = garbled
    result = invoke("today", "-f", "json")
    assert result.exit_code == 0, result.output  # the picks are out; the push waits for the next run
    assert len(json.loads(result.stdout)) == 20  # ten for each of the two profiles
    [line] = [line for line in result.stderr.splitlines() if line.startswith("Zotero:")]
    assert says in line and len(pending_pushes()) == (0 if "sent" in says else 1)


def test_a_dislike_of_a_paper_sent_to_zotero_is_not_undone_by_the_next_sync(zotero, sr, example_listing):
    from recommender.profile.zotero_sync import sync_zotero

    sync_zotero("sr", offline=True)  # this morning's run: the sync, then the pushes
    paper = _paper(example_listing)
    _like(example_listing, paper.arxiv_id)
    assert push_pending().sent == 1  # its item is made in Zotero after the sync read the library
    _like(example_listing, paper.arxiv_id, verb="dislike")
    sync_zotero("sr", offline=True)  # the next run syncs before it sends the dislike's remove
    assert load_profile(sr).section_of(paper.arxiv_id) == "disliked"
    assert push_pending().sent == 1 and zotero.in_collection(LIKES) == []
    report = sync_zotero("sr", offline=True)  # the item stays in the library, out of the likes collection
    assert load_profile(sr).section_of(paper.arxiv_id) == "disliked"
    assert report.moved_out == ()


def _from_the_desktop(sr, monkeypatch) -> None:
    """The profile reads the desktop; its likes go to the Web API library of ZOTERO_LIBRARY."""
    sr.write_text(sr.read_text().replace(f'library = "users/{USER}"', 'library = "local"'))
    monkeypatch.setenv("ZOTERO_LIBRARY", f"users/{USER}")


def _pushed_not_downloaded(zotero, sr, example_listing) -> str:
    """A like sent to Zotero, then disliked, whose item the desktop has not synced down yet; the paper's id."""
    from recommender.profile.zotero_sync import sync_zotero

    sync_zotero("sr", offline=True)
    paper = _paper(example_listing)
    _like(example_listing, paper.arxiv_id)
    assert push_pending().sent == 1
    [item] = zotero.in_collection(LIKES)
    zotero.not_downloaded.add(item["key"])
    _like(example_listing, paper.arxiv_id, verb="dislike")
    return paper.arxiv_id


def test_a_pushed_item_the_desktop_has_not_downloaded_yet_keeps_its_protection(
    zotero, sr, example_listing, monkeypatch
):
    from recommender.profile.zotero_sync import sync_zotero

    _from_the_desktop(sr, monkeypatch)
    arxiv_id = _pushed_not_downloaded(zotero, sr, example_listing)
    early = sync_zotero("sr", offline=True)  # before the desktop's own sync brought the item down
    assert early.report is None and early.requests == 1  # still unchanged, as the desktop shows it
    zotero.not_downloaded.clear()
    sync_zotero("sr", offline=True)
    assert load_profile(sr).section_of(arxiv_id) == "disliked"


def test_a_pushed_item_the_desktop_never_shows_waits_only_so_long(zotero, sr, example_listing, monkeypatch):
    import json

    from recommender.profile.zotero import DESKTOP_WAIT
    from recommender.profile.zotero_sync import sync_zotero

    _from_the_desktop(sr, monkeypatch)
    arxiv_id = _pushed_not_downloaded(zotero, sr, example_listing)
    state = json.loads(paths.zotero_sync_path().read_text())
    [items] = [s["items"] for s in state.values()]
    [waiting] = [entry for entry in items.values() if entry[0] == -1]
    waiting[2] -= DESKTOP_WAIT + 1  # pushed longer ago than a desktop takes to sync
    paths.zotero_sync_path().write_text(json.dumps(state))
    sync_zotero("sr", offline=True)
    zotero.not_downloaded.clear()
    sync_zotero("sr", offline=True)  # so late, the item reads as an add to the library: it likes the paper again
    assert load_profile(sr).section_of(arxiv_id) == "liked"


def test_an_unlike_of_a_paper_sent_to_zotero_is_not_undone_by_a_whole_library_sync(zotero, sr, example_listing):
    from recommender.profile.zotero_sync import sync_zotero

    sync_zotero("sr", offline=True)  # the whole library
    paper = _paper(example_listing)
    _like(example_listing, paper.arxiv_id)
    assert push_pending().sent == 1
    invoke("unlike", paper.arxiv_id, "-p", "sr")
    assert push_pending().sent == 1  # out of the likes collection, still in the library
    sync_zotero("sr", offline=True)
    assert load_profile(sr).section_of(paper.arxiv_id) is None
    _like(example_listing, paper.arxiv_id)  # liked again in paperrec: in the profile again, and back in the collection
    assert push_pending().sent == 1 and len(zotero.in_collection(LIKES)) == 1
    sync_zotero("sr", offline=True)
    assert load_profile(sr).section_of(paper.arxiv_id) == "liked"


def test_a_like_sent_while_a_sync_runs_keeps_its_protection(zotero, sr, example_listing, monkeypatch):
    """The sync's record is written after the sync read the library: a like sent in between (by the page's worker)
    must stay in it, or its item reads as an add at the next sync and undoes a dislike."""
    from recommender.profile import zotero_sync

    zotero_sync.sync_zotero("sr", offline=True)
    paper = _paper(example_listing)
    _like(example_listing, paper.arxiv_id)
    zotero.add_item(preprint("2105.11111", "A new preprint"))  # something for the sync to read and record
    real = zotero_sync.read_changes

    def and_a_push_meanwhile(*args, **kwargs):
        changes = real(*args, **kwargs)
        assert push_pending().sent == 1
        return changes

    monkeypatch.setattr(zotero_sync, "read_changes", and_a_push_meanwhile)
    assert zotero_sync.sync_zotero("sr", offline=True).report is not None
    monkeypatch.setattr(zotero_sync, "read_changes", real)
    _like(example_listing, paper.arxiv_id, verb="dislike")
    zotero_sync.sync_zotero("sr", offline=True)
    assert load_profile(sr).section_of(paper.arxiv_id) == "disliked"


def test_a_pushed_item_given_another_id_before_the_next_sync_is_that_paper(zotero, sr, example_listing):
    from recommender.profile.zotero_sync import sync_zotero

    sync_zotero("sr", offline=True)
    paper = _paper(example_listing)
    _like(example_listing, paper.arxiv_id)
    assert push_pending().sent == 1
    [item] = zotero.in_collection(LIKES)
    right = {"archiveID": "arXiv:2105.55555", "url": "https://arxiv.org/abs/2105.55555", "extra": "arXiv:2105.55555"}
    zotero.add_item({**item, **right, "title": "The right paper"}, item["key"])  # the user points it elsewhere
    report = sync_zotero("sr", offline=True)
    # Not a paper disliked or unliked in paperrec: the item's new paper is liked, and the one sent is named as kept.
    assert report.held == () and report.profile.section_of("2105.55555") == "liked"
    assert report.renamed == (paper.arxiv_id,) and report.profile.section_of(paper.arxiv_id) == "liked"


def test_a_pushed_item_recorded_without_the_sent_ids_is_still_read_as_the_paper_sent(zotero, sr, example_listing):
    import json

    from recommender.profile.zotero_sync import sync_zotero

    sync_zotero("sr", offline=True)
    paper = _paper(example_listing)
    _like(example_listing, paper.arxiv_id)
    assert push_pending().sent == 1
    state = json.loads(paths.zotero_sync_path().read_text())
    [items] = [s["items"] for s in state.values()]
    [entry] = [entry for entry in items.values() if entry[0] == -1]
    assert entry[1] == "" and paper.arxiv_id in entry[3]
    del entry[3:]  # as a record written before the sent ids were kept
    paths.zotero_sync_path().write_text(json.dumps(state))
    _like(example_listing, paper.arxiv_id, verb="dislike")
    report = sync_zotero("sr", offline=True)
    assert load_profile(sr).section_of(paper.arxiv_id) == "disliked" and report.held == (paper.arxiv_id,)
