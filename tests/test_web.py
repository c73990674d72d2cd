"""paperrec serve through starlette's test client: every page and action, CSRF, Host and token checks, concurrency."""

from __future__ import annotations

import re
import threading
import time
from datetime import date
from pathlib import Path

import html5lib
import pytest
from starlette.testclient import TestClient

from recommender.profile import load_profile
from recommender.schema import Listing, PaperrecError, UsageError
from recommender.sources import read_listing, to_jsonl
from recommender.web import Settings, create_app
from recommender.web.security import allowed_hosts, check_bind

REPO = Path(__file__).resolve().parent.parent
BASE = "http://127.0.0.1:8787"
COMMENT = "# my own notes: keep this line\n"


def _write_home(home: Path, example_listing: Path) -> Path:
    profiles = home / "profiles"
    profiles.mkdir(parents=True)
    text = (REPO / "profiles" / "super-resolution.toml").read_text()
    (profiles / "sr.toml").write_text(COMMENT + text.replace('strategy = "hybrid"', 'strategy = "hybrid"  # default'))
    (profiles / "med.toml").write_text((REPO / "profiles" / "medical-segmentation.toml").read_text())
    folder = home / "listings" / "cs.CV"
    folder.mkdir(parents=True)
    (folder / "2021-04-22.jsonl").write_text(to_jsonl(read_listing(example_listing).papers))
    return profiles / "sr.toml"


@pytest.fixture
def sr(home, fake_model, example_listing) -> Path:
    return _write_home(home, example_listing)


def _client(**settings) -> TestClient:
    app = create_app(Settings(page_wait=30, **settings))
    return TestClient(app, base_url=BASE, follow_redirects=False, raise_server_exceptions=False)


@pytest.fixture
def client(sr) -> TestClient:
    with _client() as client:
        yield client


def _csrf(client: TestClient) -> str:
    return client.app.state.csrf


def _service(client: TestClient):
    return client.app.state.service


def _page(client: TestClient, url: str = "/?profile=sr"):
    response = client.get(url)
    assert response.status_code == 200, response.text
    return response, html5lib.parse(response.text, treebuilder="etree", namespaceHTMLElements=False)


def _pick_ids(root) -> list[str]:
    return [d.attrib["data-id"] for d in root.iter("div") if "pick" in d.attrib.get("class", "").split()]


def _rated(root) -> dict[str, str]:
    verdicts = {}
    for pick in (d for d in root.iter("div") if "pick" in d.attrib.get("class", "").split()):
        for span in pick.iter("span"):
            if span.attrib.get("class") == "verdict":
                verdicts[pick.attrib["data-id"]] = " ".join("".join(span.itertext()).split())
    return verdicts


def _post(client: TestClient, url: str, **fields):
    return client.post(url, data={"csrf": _csrf(client), "profile": "sr", **fields})


def _wait(job, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while job.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not job.running


# -- pages ----------------------------------------------------------------------------------------------------------


def test_today_page_shows_ten_picks_with_forms_tabs_and_security_headers(client):
    response, root = _page(client)
    ids = _pick_ids(root)
    assert len(ids) == 10 and len(set(ids)) == 10
    assert "super-resolution" in response.text and "of the day&#39;s 59 papers" in response.text
    tabs = [a.text for a in root.iter("a") if "profile=" in a.attrib.get("href", "") and a.text]
    assert {"super-resolution", "medical-segmentation"} <= set(tabs)
    forms = [f for f in root.iter("form") if f.attrib.get("action") == "/rate"]
    assert len(forms) == 20 and all(f.attrib["method"] == "post" for f in forms)
    assert all(any(i.attrib.get("name") == "csrf" for i in f.iter("input")) for f in forms)
    headers = response.headers
    assert "default-src 'self'" in headers["content-security-policy"]
    nonce = re.search(r"script-src 'nonce-([^']+)'", headers["content-security-policy"]).group(1)
    scripts = list(root.iter("script"))
    assert scripts and all(s.attrib.get("nonce") == nonce for s in scripts)
    assert headers["x-frame-options"] == "DENY" and headers["referrer-policy"] == "no-referrer"
    assert not any(h.startswith("access-control-") for h in headers)
    assert " style=" not in response.text  # the CSP allows no style attribute: the bar is drawn by classes


def test_every_page_answers(client, sr):
    for url in ("/", "/?profile=med", "/sharpen?profile=sr", "/profile?profile=sr", "/history?profile=sr", "/status"):
        response = client.get(url)
        assert response.status_code == 200, (url, response.text)
    assert client.get("/history?profile=sr&q=super").status_code == 200


def test_like_records_in_the_file_keeps_comments_and_reranks(client, sr):
    response, root = _page(client)
    before = _pick_ids(root)
    assert "· 59 papers" in response.text
    standings = [s.view.standing for s in next(iter(_service(client).days.values())).slots]
    third = before[2]
    response = _post(client, "/rate", id=third, action="like")
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/?profile=sr#p-")
    text = sr.read_text()
    assert text.startswith(COMMENT) and 'strategy = "hybrid"  # default' in text
    assert third in {p.paper.arxiv_id for p in load_profile(sr).liked}
    _, root = _page(client)
    after = _pick_ids(root)
    assert after[:3] == before[:3] and _rated(root) == {third: "👍 liked"}
    assert len(after) == 10 and len(set(after)) == 10
    day = next(iter(_service(client).days.values()))
    assert third not in {p.arxiv_id for p in day.scored.candidates}  # the rest was re-scored without it
    # the picks kept above the vote show their match by the refitted model; their place in the day stays put
    for slot, place in zip(day.slots[:2], standings[:2], strict=True):
        assert slot.view.standing == place and place.endswith("of the day's 59 papers")
        assert slot.pick.score == day.scored.score_of(slot.pick.paper.arxiv_id)
    assert "· 59 papers" in _page(client)[0].text  # one count for the day, before and after the vote


def test_dislike_and_undo(client, sr):
    _, root = _page(client)
    first = _pick_ids(root)[0]
    assert _post(client, "/rate", id=first, action="dislike").status_code == 303
    assert first in {p.paper.arxiv_id for p in load_profile(sr).disliked}
    assert _post(client, "/undo").status_code == 303  # the last vote, as the u key does
    profile = load_profile(sr)
    assert first not in profile.ids and sr.read_text().startswith(COMMENT)
    _, root = _page(client)
    assert _rated(root) == {} and _pick_ids(root)[0] == first
    assert _post(client, "/rate", id=first, action="like").status_code == 303
    assert _post(client, "/undo", id=first).status_code == 303  # the per-pick undo
    assert first not in load_profile(sr).ids


def test_an_edit_made_elsewhere_reranks_the_day(client, sr):
    from recommender.feedback import rate

    _, root = _page(client)
    first = _pick_ids(root)[0]
    rate([first], "liked", profile=str(sr), listing=sr.parent.parent / "listings" / "cs.CV" / "2021-04-22.jsonl")
    _, root = _page(client)
    assert first not in _pick_ids(root)  # `paperrec like` in a terminal: the page follows the file


def test_show_more(client):
    assert _post(client, "/more").status_code == 303
    _, root = _page(client)
    assert len(_pick_ids(root)) == 20


def test_concurrent_likes_lose_nothing(client, sr):
    _, root = _page(client)
    ids = _pick_ids(root)[:8]
    barrier = threading.Barrier(len(ids))
    results = []

    def like(arxiv_id: str) -> None:
        barrier.wait()
        results.append(_post(client, "/rate", id=arxiv_id, action="like").status_code)

    threads = [threading.Thread(target=like, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [303] * len(ids)
    assert set(ids) <= {p.paper.arxiv_id for p in load_profile(sr).liked}
    assert sr.read_text().startswith(COMMENT)
    _, root = _page(client)
    assert set(_rated(root)) == set(ids)


# -- guards ---------------------------------------------------------------------------------------------------------


def test_forged_posts_are_refused(client, sr):
    _, root = _page(client)
    target = _pick_ids(root)[0]
    before = sr.read_text()
    assert client.post("/rate", data={"profile": "sr", "id": target, "action": "like"}).status_code == 403
    assert (
        client.post("/rate", data={"csrf": "x" * 43, "profile": "sr", "id": target, "action": "like"}).status_code
        == 403
    )
    foreign = client.post(
        "/rate",
        data={"csrf": _csrf(client), "profile": "sr", "id": target, "action": "like"},
        headers={"origin": "http://evil.example"},
    )
    assert foreign.status_code == 403 and "another site" in foreign.text
    referred = client.post(
        "/rate",
        data={"csrf": _csrf(client), "profile": "sr", "id": target, "action": "like"},
        headers={"referer": "http://evil.example/page"},
    )
    assert referred.status_code == 403
    assert client.get("/rate").status_code == 405  # no state change by GET
    assert sr.read_text() == before
    same = client.post(
        "/rate",
        data={"csrf": _csrf(client), "profile": "sr", "id": target, "action": "like"},
        headers={"origin": "null"},  # what a browser sends for our own form under Referrer-Policy: no-referrer
    )
    assert same.status_code == 303


def test_rebinding_host_is_refused(client):
    for host in ("evil.example", "evil.example:8787", "127.0.0.1:9999", "localhost.evil.example:8787"):
        response = client.get("/", headers={"host": host})
        assert response.status_code == 421, host
        assert "<script" not in response.text and "does not answer" in response.text
    assert client.get("/", headers={"host": "localhost:8787"}).status_code == 200


def test_a_token_guards_every_request(sr):
    with _client(token="lab-secret-123") as client:
        assert client.get("/").status_code == 401
        assert client.get("/", headers={"authorization": "Bearer wrong-token"}).status_code == 401
        assert client.get("/", headers={"authorization": "Bearer lab-secret-123"}).status_code == 200
        entry = client.get("/?token=lab-secret-123")
        assert entry.status_code == 303 and "paperrec_token=lab-secret-123" in entry.headers["set-cookie"]
        assert "HttpOnly" in entry.headers["set-cookie"] and entry.headers["location"] == "/"
        assert client.get("/").status_code == 200  # the cookie now
        client.cookies.clear()
        assert client.post("/rate", data={"token": "lab-secret-123"}).status_code == 401


def test_binding_beyond_loopback_needs_a_token():
    with pytest.raises(UsageError, match="--token"):
        check_bind("0.0.0.0", None)
    with pytest.raises(UsageError, match="--token"):
        check_bind("192.168.1.5", None)
    check_bind("127.0.0.1", None)
    check_bind("::1", None)
    check_bind("192.168.1.5", "long-enough-token")
    assert "127.0.0.1:8787" in allowed_hosts("127.0.0.1", 8787) and "evil:8787" not in allowed_hosts("127.0.0.1", 8787)


def test_serve_refuses_a_public_host_without_token():
    from recommender.web import serve

    with pytest.raises(UsageError, match="--token"):
        serve(host="0.0.0.0", port=8787)


# -- errors ---------------------------------------------------------------------------------------------------------


def test_errors_are_small_pages(client):
    unknown = client.get("/?profile=nobody")
    assert unknown.status_code == 404 and "unknown profile" in unknown.text and "Traceback" not in unknown.text
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and "no such page" in missing.text
    bad = _post(client, "/rate", id="2104.10642", action="explode")
    assert bad.status_code == 400 and "unknown action" in bad.text
    absent = _post(client, "/rate", id="9999.99999", action="like")
    assert absent.status_code == 400 and "not in the day" in absent.text


def test_no_profiles_is_a_welcome_page_that_says_what_to_do(home, fake_model):
    with _client() as client:
        response = client.get("/")
        unknown = client.get("/?profile=nobody")
    assert response.status_code == 200 and "No profile yet" in response.text and "paperrec profile new" in response.text
    assert unknown.status_code in (400, 404)


def test_no_day_yet_says_what_to_do(home, fake_model):
    (home / "profiles").mkdir(parents=True)
    (home / "profiles" / "sr.toml").write_text((REPO / "profiles" / "super-resolution.toml").read_text())
    with _client() as client:
        response = client.get("/")
    assert response.status_code == 400 and "Fetch today" in response.text


def test_a_slow_day_shows_a_loading_page(sr):
    from recommender.embed import open_embedder

    gate = threading.Event()

    def slow_embedder():
        gate.wait(10)
        return open_embedder()

    app = create_app(Settings(page_wait=0.05, embedder=slow_embedder))
    with TestClient(app, base_url=BASE) as client:
        response = client.get("/?profile=sr")
        assert response.status_code == 200 and 'http-equiv="refresh"' in response.text and "Ranking" in response.text
        gate.set()
        _wait(next(iter(app.state.service.loading.values())))
        assert len(_pick_ids(_page(client)[1])) == 10


# -- the other pages ------------------------------------------------------------------------------------------------


def test_profile_page_edits(client, sr):
    _page(client)  # ranks the day, so the model's terms are known
    response, root = _page(client, "/profile?profile=sr")
    assert "Terms that raise a paper" in response.text or "needs at least 5" in response.text
    assert root.find(".//ol[@id='clusters']/li") is not None
    liked = load_profile(sr).liked
    first, second = liked[0].paper.arxiv_id, liked[1].paper.arxiv_id
    assert _post(client, "/profile/paper", id=first, to="disliked").status_code == 303
    assert first in {p.paper.arxiv_id for p in load_profile(sr).disliked}
    assert _post(client, "/profile/paper", id=first, to="liked").status_code == 303
    assert _post(client, "/profile/paper", id=second, to="remove").status_code == 303
    assert second not in load_profile(sr).ids
    assert (
        _post(client, "/profile/interests", interests="single-image super-resolution\n\nvideo <b>SR</b>\n").status_code
        == 303
    )
    profile = load_profile(sr)
    assert profile.interests == ("single-image super-resolution", "video <b>SR</b>")
    text = sr.read_text()
    assert text.startswith(COMMENT) and 'strategy = "hybrid"  # default' in text
    response, _ = _page(client, "/profile?profile=sr")
    assert "video &lt;b&gt;SR&lt;/b&gt;" in response.text
    assert _post(client, "/profile/paper", id="0000.00000", to="remove").status_code == 400


def test_backtest_on_demand(client, sr):
    response = _post(client, "/profile/backtest")
    assert response.status_code == 303
    _wait(_service(client).jobs[f"backtest {sr.resolve()}"])
    response, root = _page(client, "/profile?profile=sr")
    assert root.find(".//table[@id='backtest-result']") is not None or "failed" in response.text


def test_sharpen_suggests_and_records(client, sr):
    assert _post(client, "/sharpen").status_code == 303
    _wait(_service(client).jobs[f"sharpen {sr.resolve()}"])
    _, root = _page(client, "/sharpen?profile=sr")
    ids = _pick_ids(root)
    assert len(ids) == 10 and not set(ids) & load_profile(sr).ids
    assert _post(client, "/rate", id=ids[0], action="like", **{"from": "sharpen"}).status_code == 303
    assert ids[0] in {p.paper.arxiv_id for p in load_profile(sr).liked}
    _, root = _page(client, "/sharpen?profile=sr")
    assert _rated(root) == {ids[0]: "👍 liked"}
    assert _post(client, "/undo", id=ids[0], **{"from": "sharpen"}).status_code == 303
    assert ids[0] not in load_profile(sr).ids


def _write_old_profile(home: Path) -> Path:
    """The super-resolution profile with its likes moved back to 2017-2018: old for the stored day, 2021-04-22."""
    text = (REPO / "profiles" / "super-resolution.toml").read_text().replace('"super-resolution"', '"old-sr"')
    text = (
        text.replace('id = "2105.', 'id = "1705.')
        .replace('id = "2106.', 'id = "1806.')
        .replace('id = "2107.', 'id = "1807.')
    )
    path = home / "profiles" / "old.toml"
    path.write_text(text)
    return path


def test_today_says_when_the_likes_are_old(sr, home):
    _write_old_profile(home)
    with _client() as client:
        _, root = _page(client, "/?profile=old")
        (line,) = [p for p in root.iter("p") if p.attrib.get("id") == "old-likes"]
        assert line.text == (
            "Your likes are from 2017\N{EN DASH}2018; today's picks follow them, "
            "so vote on a few recent papers (Sharpen offers some) to bring them up to date."
        )
        assert len(_pick_ids(root)) == 10  # the line is above the picks, which are all still there
        _, root = _page(client, "/?profile=sr")
        assert not [p for p in root.iter("p") if p.attrib.get("id") == "old-likes"]


def test_sharpen_bridges_old_likes_and_says_why(sr, home, monkeypatch):
    import recommender.rank.active as active

    _write_old_profile(home)
    asked = []

    def recording(*args, **kwargs):
        asked.append(kwargs.get("bridge", False))
        return suggest(*args, **kwargs)

    suggest = active.suggest_ratings
    monkeypatch.setattr(active, "suggest_ratings", recording)
    with _client() as client:
        for name in ("old", "sr"):
            assert _post(client, "/sharpen", profile=name).status_code == 303
            _wait(_service(client).jobs[f"sharpen {(home / 'profiles' / f'{name}.toml').resolve()}"])
        _, old = _page(client, "/sharpen?profile=old")
        _, fresh = _page(client, "/sharpen?profile=sr")
    assert asked == [True, False]
    (why,) = [p for p in old.iter("p") if p.attrib.get("id") == "sharpen-why"]
    assert why.text.startswith("Your likes are from 2017\N{EN DASH}2018: these are the recent papers closest to them")
    assert len(_pick_ids(old)) == 10
    assert not [p for p in fresh.iter("p") if p.attrib.get("id") == "sharpen-why"]


def test_history_lists_and_searches_what_was_shown(client, sr):
    _, root = _page(client)
    ids = _pick_ids(root)
    assert _post(client, "/rate", id=ids[0], action="like").status_code == 303
    response, root = _page(client, "/history?profile=sr")
    rows = root.findall(".//table[@id='history']//tr")[1:]
    # The ten shown, plus what the re-rank after the like brought onto the page (at least one: the liked one's slot).
    assert 11 <= len(rows) <= 20 and "👍 liked" in response.text
    word = next(w for w in re.findall(r"[A-Za-z]{6,}", client.app.state.service.days[sr.resolve()].slots[0].view.title))
    response, root = _page(client, f"/history?profile=sr&q={word.lower()}")
    found = root.findall(".//table[@id='history']//tr")[1:]
    assert 1 <= len(found) <= len(rows)
    _, root = _page(client, "/history?profile=sr&q=zzzznotaword")
    assert root.findall(".//table[@id='history']//tr")[1:] == []


def test_fetch_today_runs_in_the_background(sr, example_listing):
    calls = []
    listing = read_listing(example_listing)

    def fetch(categories, day=None, include_cross=False):
        calls.append(list(categories))
        return Listing(papers=listing.papers[:30], date=date(2021, 4, 23)), "a notice"

    with _client(fetch=fetch) as client:
        response = _post(client, "/fetch")
        assert response.status_code == 303
        job = _service(client).jobs["fetch"]
        _wait(job)
        assert job.error is None, job.error
        assert calls and "2 profiles ranked" in job.result
        response, root = _page(client)
        assert "2021-04-23" in response.text and "fetched" in response.text
        assert len(_pick_ids(root)) == 10
        assert client.get("/status").text == "done"


# -- vote links -----------------------------------------------------------------------------------------------------


def test_vote_link_confirms_then_records(client, sr):
    from recommender.signing import vote_token

    token = vote_token(str(sr.resolve()), "2104.10642", "like")
    page = client.get(f"/vote/{token}")
    assert page.status_code == 200 and "Confirm your vote" in page.text
    assert "2104.10642" not in load_profile(sr).ids  # a prefetching scanner casts no vote
    assert client.post(f"/vote/{token}", data={}).status_code == 403
    done = client.post(f"/vote/{token}", data={"csrf": _csrf(client)})
    assert done.status_code == 200 and "Recorded" in done.text
    assert "2104.10642" in {p.paper.arxiv_id for p in load_profile(sr).liked}
    assert sr.read_text().startswith(COMMENT)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    refused = client.get(f"/vote/{tampered}")
    assert refused.status_code == 400 and "invalid vote link" in refused.text
    dislike = vote_token("sr", "2104.10615", "dislike")
    assert client.post(f"/vote/{dislike}", data={"csrf": _csrf(client)}).status_code == 200
    assert "2104.10615" in {p.paper.arxiv_id for p in load_profile(sr).disliked}


def test_hostile_listing_is_inert_on_the_page(home, fake_model, sr):
    hostile = '"><svg onload=alert(1)> <script>alert(2)</script> super resolution image'
    folder = home / "listings" / "cs.CV"
    papers = read_listing(folder / "2021-04-22.jsonl").papers
    from dataclasses import replace

    changed = [replace(p, title=hostile + p.title, authors=("<img src=x onerror=alert(3)>",)) for p in papers]
    (folder / "2021-04-22.jsonl").write_text(to_jsonl(changed))
    with _client() as client:
        response, root = _page(client)
    assert len(root.findall(".//script")) == 1 and root.find(".//svg") is None and root.find(".//img") is None
    assert "<svg onload" not in response.text and "&lt;svg onload=alert(1)&gt;" in response.text


def test_paperrec_error_in_a_thread_is_a_message(sr, monkeypatch):
    def broken(*args, **kwargs):
        raise PaperrecError("the listing is broken")

    monkeypatch.setattr("recommender.web.service.stored_day", broken)
    with _client() as client:
        response = client.get("/?profile=sr")
    assert response.status_code == 400 and "the listing is broken" in response.text


# -- sharpen: suggest_ratings -----------------------------------------------------------------------------------------


def test_suggest_ratings_is_deterministic_diverse_and_new(sr, example_listing):
    from recommender.embed import open_embedder
    from recommender.rank.active import suggest_ratings

    embedder = open_embedder()
    profile = load_profile(sr)
    pool = list(read_listing(example_listing).papers)
    first = suggest_ratings(profile, pool, embedder, k=10)
    again = suggest_ratings(profile, list(reversed(pool)), embedder, k=10)
    assert [p.arxiv_id for p in first] == [p.arxiv_id for p in again]
    assert len(first) == 10 and len({p.arxiv_id for p in first}) == 10 and not {p.arxiv_id for p in first} & profile.ids
    assert suggest_ratings(profile, pool, embedder, k=0) == []


def test_suggest_ratings_asks_where_the_match_is_least_sure(sr, example_listing):
    import numpy as np

    from recommender.embed import open_embedder
    from recommender.rank import score_listing
    from recommender.rank.active import suggest_ratings

    embedder = open_embedder()
    profile = load_profile(sr)
    listing = read_listing(example_listing)
    scored = score_listing(listing, profile, embedder)
    unsure = {p.arxiv_id: m * (1 - m) for p, m in zip(scored.candidates, scored.matches, strict=True)}
    picked = suggest_ratings(profile, list(listing.papers), embedder, k=5, diversity=0.0)
    assert len(picked) == 5
    assert min(unsure[p.arxiv_id] for p in picked) >= sorted(unsure.values())[-5] - 1e-6
    assert np.ptp(scored.matches) > 0  # the match does tell the papers apart here


def test_suggest_ratings_bridge_asks_among_the_papers_nearest_the_likes(sr, example_listing):
    import numpy as np

    from recommender.embed import open_embedder
    from recommender.profile import profile_vectors
    from recommender.rank import score_listing
    from recommender.rank.active import suggest_ratings

    embedder = open_embedder()
    profile = load_profile(sr)
    listing = read_listing(example_listing)
    scored = score_listing(listing, profile, embedder)
    closeness = (scored.vectors @ profile_vectors(profile, embedder).liked.T).max(axis=1)
    nearest = {scored.candidates[i].arxiv_id for i in np.argsort(-closeness)[:8]}
    unsure = {p.arxiv_id: m * (1 - m) for p, m in zip(scored.candidates, scored.matches, strict=True)}
    pool = list(listing.papers)
    picked = suggest_ratings(profile, pool, embedder, k=3, diversity=0.0, bridge=True, nearest=8)
    ids = {p.arxiv_id for p in picked}
    assert len(ids) == 3 and ids <= nearest  # only papers near a like
    assert min(unsure[i] for i in ids) >= sorted(unsure[i] for i in nearest)[-3] - 1e-6  # the least sure of those
    again = suggest_ratings(profile, list(reversed(pool)), embedder, k=3, diversity=0.0, bridge=True, nearest=8)
    assert [p.arxiv_id for p in again] == [p.arxiv_id for p in picked]
    whole = suggest_ratings(profile, pool, embedder, k=10, bridge=True, nearest=len(pool))
    assert whole == suggest_ratings(profile, pool, embedder, k=10)  # nearest the whole pool: the plain choice


def test_suggest_ratings_for_a_profile_with_only_interests_or_nothing(home, fake_model, example_listing):
    from recommender.embed import open_embedder
    from recommender.profile import new_profile
    from recommender.rank.active import suggest_ratings

    pool = list(read_listing(example_listing).papers)
    interests = new_profile("fresh", interests=["image super-resolution"])
    assert len(suggest_ratings(interests, pool, open_embedder(), k=10)) == 10
    empty = new_profile("empty")
    spread = suggest_ratings(empty, pool, open_embedder(), k=10)
    assert len(spread) == 10 and len({p.arxiv_id for p in spread}) == 10


def test_the_next_picks_sentences_are_embedded_ahead(client, sr, fake_model):
    _page(client)
    for thread in threading.enumerate():  # the page started its own prefetch: let it finish before counting calls
        if thread.name == "paperrec prefetch":
            thread.join(timeout=60)
    day = _service(client).days[sr.resolve()]
    day.prefetch()
    assert day.prefetch() == 0  # all in the cache now: a click that brings them up embeds nothing
    calls = sum(e.calls for e in fake_model)
    assert _post(client, "/rate", id=day.slots[0].pick.paper.arxiv_id, action="like").status_code == 303
    assert sum(e.calls for e in fake_model) <= calls + 1  # at most the new like's own text
