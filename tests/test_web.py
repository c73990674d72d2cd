"""paperrec serve through starlette's test client: every page and action, CSRF, Host and token checks, concurrency."""

from __future__ import annotations

import html
import re
import threading
import time
from datetime import date
from pathlib import Path

import html5lib
import pytest
from starlette.testclient import TestClient

from recommender.profile import load_profile
from recommender.schema import Listing, Paper, PaperrecError, UsageError
from recommender.sources import read_listing, to_jsonl
from recommender.sources.store import write_day
from recommender.web import Settings, create_app
from recommender.web.security import allowed_hosts, check_bind, local_target

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


def _wait(job, timeout: float = 300) -> None:  # a bound for a stuck job, not a measure
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


def test_a_profile_of_interests_alone_shows_no_match_and_says_when_it_will(sr):
    (sr.parent / "fresh.toml").write_text(
        'schema = 1\nname = "fresh"\ncategories = ["cs.CV"]\ninterests = ["video super-resolution"]\n'
    )
    with _client() as client:
        response, root = _page(client, "/?profile=fresh")
        assert len(_pick_ids(root)) == 10 and "% match" not in response.text
        means = "".join(root.find(".//p[@id='match-means']").itertext())
        assert "shows once this profile has 5 liked papers (it has 0 so far)" in means
        third = _pick_ids(root)[2]
        assert _post(client, "/rate", id=third, action="like", profile="fresh").status_code == 303
        response, root = _page(client, "/?profile=fresh")  # one like: the picks kept above it get no match either
        assert len(_pick_ids(root)) >= 9 and "% match" not in response.text
        assert "(it has 1 so far)" in "".join(root.find(".//p[@id='match-means']").itertext())
        _, root = _page(client, "/?profile=sr")
        assert "about one in five" in "".join(root.find(".//p[@id='match-means']").itertext())


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


def test_a_hand_edit_that_keeps_the_files_time_is_seen_too(client, sr):
    import os

    _, root = _page(client)
    first = _pick_ids(root)[0]
    before = sr.stat()
    text = sr.read_text().replace("disliked = []\n", "")
    sr.write_text(text + f'\n[[disliked]]\nid = "{first}"\ntitle = "Not for me"\n')
    os.utime(sr, ns=(before.st_atime_ns, before.st_mtime_ns))  # an editor or a sync that restores the time
    _, root = _page(client)
    assert first not in _pick_ids(root)


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


def _held_refits(monkeypatch):
    """Hold each refit behind the page until the event is set; the profiles they were for are recorded."""
    import recommender.rank as rank

    original, gate, refits = rank.score_listing, threading.Event(), []

    def held(listing, profile, *args, **kwargs):
        if threading.current_thread().name == "paperrec refit":
            refits.append(profile)
            gate.wait(60)
        return original(listing, profile, *args, **kwargs)

    monkeypatch.setattr(rank, "score_listing", held)
    return original, gate, refits


def _bounded(done, timeout: float = 60) -> None:  # a bound for a stuck thread, not a measure
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert done()


def test_quick_votes_show_at_once_and_one_refit_after_them_ranks_as_voting_one_by_one_does(sr, monkeypatch):
    import numpy as np

    original, gate, refits = _held_refits(monkeypatch)
    unvoted = sr.read_text()
    with _client() as client:
        _, root = _page(client)
        ids = _pick_ids(root)[:3]
        service = _service(client)
        service.settings.page_wait = 0.0  # serve's pages wait a moment; these not at all
        day = next(iter(service.days.values()))
        for n, arxiv_id in enumerate(ids):
            assert _post(client, "/rate", id=arxiv_id, action="like").status_code == 303
            if n == 0:
                _bounded(lambda: refits)  # the first vote's refit is under way, and held
            _, root = _page(client)
            assert list(_rated(root)) == ids[: n + 1]  # each vote shows at once, where it was given
        assert set(ids) <= {p.paper.arxiv_id for p in load_profile(sr).liked}  # on file before any refit ends
        gate.set()
        day.settle()
        assert len(refits) == 2 and {p.paper.arxiv_id for p in refits[1].liked} >= set(ids)  # the last two as one
        fresh = original(day.listing, load_profile(sr), day._embedder(), exclude=day.hidden, store=False)
        assert [p.arxiv_id for p in day.scored.candidates] == [p.arxiv_id for p in fresh.candidates]
        assert np.array_equal(day.scored.scores, fresh.scores) and np.array_equal(day.scored.matches, fresh.matches)
    # The same votes one at a time, each page waiting for its refit (as every page did): the same scores and matches.
    sr.write_text(unvoted)
    with _client() as client:
        _page(client)
        day = next(iter(_service(client).days.values()))
        for arxiv_id in ids:
            assert _post(client, "/rate", id=arxiv_id, action="like").status_code == 303
            _page(client)
        assert np.array_equal(day.scored.scores, fresh.scores) and np.array_equal(day.scored.matches, fresh.matches)


def test_a_server_stopped_mid_refit_has_every_vote_on_file(sr, monkeypatch):
    import numpy as np

    original, gate, refits = _held_refits(monkeypatch)
    with _client() as client:
        _, root = _page(client)
        first = _pick_ids(root)[0]
        _service(client).settings.page_wait = 0.0
        assert _post(client, "/rate", id=first, action="like").status_code == 303
        _bounded(lambda: refits)
        _, root = _page(client)
        assert _rated(root) == {first: "👍 liked"}
    # The server has stopped with its refit held (a thread of a process that ends goes with it).
    assert first in {p.paper.arxiv_id for p in load_profile(sr).liked}
    with _client() as client:  # the next start ranks the file as it is
        _, root = _page(client)
        assert first not in _pick_ids(root)
        day = next(iter(_service(client).days.values()))
        fresh = original(day.listing, load_profile(sr), day._embedder(), exclude=day.hidden, store=False)
        assert np.array_equal(day.scored.scores, fresh.scores)
    gate.set()


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
    # Origin: null is also what a sandboxed frame elsewhere sends; the browser's Sec-Fetch-Site tells them apart.
    for site in ("cross-site", "same-site"):
        framed = client.post(
            "/rate",
            data={"csrf": _csrf(client), "profile": "sr", "id": target, "action": "like"},
            headers={"origin": "null", "sec-fetch-site": site},
        )
        assert framed.status_code == 403 and sr.read_text() == before
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
        refused = client.get("/")
        assert refused.status_code == 401 and "?token=" in refused.text and "<script" not in refused.text
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert client.get("/", headers={"authorization": "Bearer wrong-token"}).status_code == 401
        assert client.get("/", headers={"authorization": "Bearer lab-secret-123"}).status_code == 200
        entry = client.get("/?token=lab-secret-123")
        assert entry.status_code == 303 and entry.headers["location"] == "/"
        cookie = entry.headers["set-cookie"]
        assert cookie.startswith("paperrec_token_8787=lab-secret-123;")  # the port keeps two servers' cookies apart
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
        assert client.get("/").status_code == 200  # the cookie now
        client.cookies.clear()
        assert client.post("/rate", data={"token": "lab-secret-123"}).status_code == 401
        client.cookies.set("paperrec_token_9999", "lab-secret-123")  # another port's cookie
        assert client.get("/").status_code == 401


def test_the_401_page_names_the_token_file(sr, tmp_path):
    kept = tmp_path / "serve-token"
    app = create_app(Settings(token="lab-secret-123", token_path=kept))
    with TestClient(app, client=("127.0.0.1", 50000)) as near:  # a user of this machine can read the file
        assert str(kept) in html.unescape(near.get(BASE + "/").text)
    with TestClient(create_app(Settings(token="lab-secret-123", token_path=kept)), client=("192.0.2.7", 5000)) as far:
        refused = far.get(BASE + "/")  # no request leaves this process: the client address is only in the scope
        assert refused.status_code == 401 and str(kept) not in html.unescape(refused.text)


def test_the_token_redirect_stays_on_this_server(sr):
    """The redirect that turns ?token= into a cookie keeps the path and query, never another host."""
    with _client(token="lab-secret-123") as client:
        for path, expected in [
            ("//evil.example/?token=lab-secret-123", "/evil.example/"),
            ("/%2F%2Fevil.example?token=lab-secret-123", "/evil.example"),
            ("/history?profile=sr&token=lab-secret-123&q=a+b", "/history?profile=sr&q=a+b"),
        ]:
            client.cookies.clear()
            answer = client.get(BASE + path)  # a whole URL, so the client sends //evil.example as a path
            assert answer.status_code == 303, path
            location = answer.headers["location"]
            assert location == expected, (path, location)
            assert location.startswith("/") and not location.startswith(("//", "/\\"))
    scope = {"path": "/\\\\evil.example/a b", "query_string": b"token=x&day=2021-04-22"}
    assert local_target(scope) == "/evil.example/a%20b?day=2021-04-22"  # a browser reads a backslash as a slash


def test_the_token_from_another_site_hops_on_from_this_server(sr):
    """`serve --open` starts the browser on a file: its way in is foreign, and a redirect would stay foreign."""
    from recommender.paths import seen_path

    with _client(token="lab-secret-123") as client:
        entry = client.get("/?profile=sr&token=lab-secret-123", headers={"sec-fetch-site": "cross-site"})
        assert entry.status_code == 200 and "lab-secret" not in entry.text
        assert entry.headers["set-cookie"].startswith("paperrec_token_8787=lab-secret-123;")
        assert '<meta http-equiv="refresh" content="0;url=/?profile=sr">' in entry.text
        assert "another site" not in entry.text and not seen_path().exists()  # the day is ranked on the next page
        page = client.get("/?profile=sr", headers={"sec-fetch-site": "same-origin"})  # what the refresh asks for
        assert page.status_code == 200 and "another site" not in page.text
        client.cookies.clear()
        assert client.get("/?token=wrong-token-1", headers={"sec-fetch-site": "cross-site"}).status_code == 401


def test_serve_open_starts_the_browser_without_the_token_on_its_command_line(home, fake_model, monkeypatch):
    """A browser's command line can be read by every user of the machine: it gets a private page instead."""
    import webbrowser

    import recommender.web as web
    import recommender.web.serving as serving

    opened, seen = [], {}
    monkeypatch.setattr(webbrowser, "open", opened.append)

    def serve_app(app, host, port):  # instead of uvicorn: look while it "serves"
        deadline = time.monotonic() + 30
        while not opened and time.monotonic() < deadline:
            time.sleep(0.05)
        page = Path(opened[0].removeprefix("file://"))
        seen.update(mode=page.stat().st_mode & 0o777, text=page.read_text(), page=page)

    monkeypatch.setattr(serving, "serve_app", serve_app)
    port = _free_port()
    web.run(Settings(port=port, token="lab-secret-123"), open_browser=True)
    assert len(opened) == 1 and "lab-secret" not in opened[0] and opened[0].startswith("file:///")
    assert seen["mode"] == 0o600 and f"http://127.0.0.1:{port}/?token=lab-secret-123" in seen["text"]
    assert not seen["page"].exists()  # gone when the server stops


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_signed_vote_link_opens_without_the_token(sr):
    from recommender.signing import vote_token

    with _client(token="lab-secret-123") as client:
        link = f"/vote/{vote_token('sr', '2104.10642', 'like')}"
        page = client.get(link, headers={"sec-fetch-site": "cross-site"})  # from a webmail page
        assert page.status_code == 200 and "Confirm your vote" in page.text
        assert client.post(link, data={}).status_code == 403  # the POST still needs the page's CSRF token
        assert client.post(link, data={"csrf": _csrf(client)}).status_code == 200
        assert "2104.10642" in {p.paper.arxiv_id for p in load_profile(sr).liked}
        forged = link[:-2] + ("AA" if not link.endswith("AA") else "BB")
        assert client.get(forged).status_code == 401  # a link we did not sign is no way in


def test_a_cross_site_get_has_no_side_effects(client, sr):
    """A link on another site shows the way in; it neither ranks a day nor marks picks as seen."""
    from recommender.paths import seen_path

    for path in ("/?profile=sr", "/sharpen?profile=sr", "/profile?profile=sr", "/history?profile=sr"):
        answer = client.get(path, headers={"sec-fetch-site": "cross-site"})
        assert answer.status_code == 200 and "another site" in answer.text, path
        assert f'href="{html.escape(path)}"' in answer.text
    same_site = client.get("/?profile=sr", headers={"sec-fetch-site": "same-site"})  # another port of 127.0.0.1
    assert same_site.status_code == 200 and "another site" in same_site.text
    assert not _service(client).days and not _service(client).jobs and not seen_path().exists()
    assert client.get("/?profile=sr", headers={"sec-fetch-site": "same-origin"}).status_code == 200
    assert client.get("/?profile=sr", headers={"sec-fetch-site": "none"}).status_code == 200  # typed or bookmarked


def test_binding_beyond_loopback_needs_a_token():
    with pytest.raises(UsageError, match="--no-token"):
        check_bind("0.0.0.0", None)
    with pytest.raises(UsageError, match="--no-token"):
        check_bind("192.168.1.5", None)
    with pytest.raises(UsageError, match="at least 8"):
        check_bind("192.168.1.5", "short")
    check_bind("127.0.0.1", None)
    check_bind("::1", None)
    check_bind("192.168.1.5", "long-enough-token")
    assert "127.0.0.1:8787" in allowed_hosts("127.0.0.1", 8787) and "evil:8787" not in allowed_hosts("127.0.0.1", 8787)


def test_serve_refuses_a_public_host_without_token():
    from recommender.web import serve

    with pytest.raises(UsageError, match="--no-token"):
        serve(host="0.0.0.0", port=8787, no_token=True)  # refused before anything is bound


def test_a_server_on_every_interface_answers_its_own_addresses(sr):
    """Bound to 0.0.0.0, the Host may be the IP a connection arrived on (no rebinding there), or an --allow-host."""
    with _client(host="0.0.0.0", token="lab-secret-123", allow_hosts=("lab.example.org",)) as client:
        auth = {"authorization": "Bearer lab-secret-123"}
        assert client.get("http://10.1.2.3:8787/", headers=auth).status_code == 200
        assert client.get("http://[fd00::5]:8787/", headers=auth).status_code == 200
        assert client.get("http://lab.example.org:8787/", headers=auth).status_code == 200
        assert client.get("http://evil.example:8787/", headers=auth).status_code == 421
        spoofed = client.get("http://10.1.2.3:8787/", headers={**auth, "host": "10.9.9.9:8787"})
        assert spoofed.status_code == 421  # another IP than the one the connection arrived on


def test_server_token_is_kept_private_and_reused(home, monkeypatch):
    from recommender.web.security import server_token

    monkeypatch.delenv("PAPERREC_TOKEN", raising=False)
    first = server_token()
    assert first.path is not None and first.path.stat().st_mode & 0o777 == 0o600 and len(first.value) >= 40
    assert server_token() == first  # a restart keeps the token, so a phone stays logged in
    first.path.chmod(0o644)
    with pytest.raises(PaperrecError, match="other users"):
        server_token()
    monkeypatch.setenv("PAPERREC_TOKEN", "from-the-environment")
    assert server_token().value == "from-the-environment" and server_token().path is None
    monkeypatch.setenv("PAPERREC_TOKEN", "has space in it")
    with pytest.raises(UsageError, match="PAPERREC_TOKEN"):
        server_token()


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
        _, root = _page(client)  # a new profile's first visit: no error, and the button the message names
    main = root.find(".//main")
    assert "no day to show for 'super-resolution' yet: use 'Fetch today'" in "".join(main.itertext())
    (form,) = [f for f in main.iter("form") if f.attrib.get("action") == "/fetch"]
    fields = {i.attrib["name"]: i.attrib.get("value") for i in form.iter("input")}
    assert fields == {"csrf": _csrf(client), "profile": "sr"}
    assert "".join(form.find(".//button").itertext()).strip() == "Fetch today"


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
        assert 'data-job="/job?name=rank&amp;profile=sr"' in response.text  # the page follows the ranking
        assert client.get("/job?name=rank&profile=sr").json()["running"] is True
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


def test_profile_page_says_why_no_terms_were_learned(sr):
    """A strategy that learns no term weights is named as the reason, not a like count the profile already has."""
    sr.write_text(sr.read_text().replace('strategy = "hybrid"', 'strategy = "centroid"'))
    with _client() as client:
        _page(client)
        response, _ = _page(client, "/profile?profile=sr")
        assert "needs at least 5" not in response.text
        assert "centroid learns no term weights" in response.text and "hybrid, the default strategy" in response.text


def test_profile_page_searches_and_pages_the_papers(sr, home):
    from recommender.profile import ProfilePaper, new_profile, save_profile
    from recommender.schema import Paper
    from recommender.web.app import profile_rows

    papers = [
        Paper.make(f"Paper {n} on {'diffusion' if n % 3 == 0 else 'graphs'}", f"2101.{n:05d}", "x", [f"Author {n}"])
        for n in range(1, 121)
    ]
    save_profile(new_profile("big", papers, categories=["cs.CV"]), home / "profiles" / "big.toml")
    with _client() as client:
        _, root = _page(client, "/profile?profile=big")
        rows = root.findall(".//table[@id='liked-rows']//tr")
        assert len(rows) == 50 and rows[0].attrib["id"] == "liked-1"
        pages = _by_id(root, "liked-pages")
        assert "page 1 of 3" in "".join(pages.itertext())
        (following,) = [a.attrib["href"] for a in pages.iter("a")]
        assert "liked_page=2" in following and "profile=big" in following
        _, root = _page(client, following)
        rows = root.findall(".//table[@id='liked-rows']//tr")
        assert len(rows) == 50 and rows[0].attrib["id"] == "liked-51"
        _, root = _page(client, "/profile?profile=big&liked_page=9")  # past the end: the last page
        assert len(root.findall(".//table[@id='liked-rows']//tr")) == 20
        _, root = _page(client, "/profile?profile=big&q=diffusion")
        titles = ["".join(r.find("td").itertext()) for r in root.findall(".//table[@id='liked-rows']//tr")]
        assert len(titles) == 40 and all("diffusion" in t for t in titles) and _by_id(root, "liked-pages") is None
        _, root = _page(client, "/profile?profile=big&q=2101.00007")
        (row,) = root.findall(".//table[@id='liked-rows']//tr")
        assert "".join(row.find("td").itertext()).startswith("Paper 7 ")
        assert client.get("/profile?profile=big&liked_page=two").status_code == 400
    # authors too, where the profile keeps them
    found = profile_rows([ProfilePaper(p, date(2021, 1, 1)) for p in papers], "author 117", None)
    assert [e.paper.arxiv_id for e in found.entries] == ["2101.00117"] and (found.page, found.pages) == (1, 1)


def test_profile_page_reads_latex_as_today_does_and_keeps_dates_whole(sr, home):
    from recommender.profile import new_profile, save_profile

    papers = [
        Paper.make(r"Learning $\ell_1$-sparse priors with $\mathcal{O}(n\log n)$ cost", "2101.00001", "x"),
        Paper.make("A plain title", "2101.00002", "y"),
    ]
    save_profile(new_profile("tex", papers, categories=["cs.CV"]), home / "profiles" / "tex.toml")
    with _client() as client:
        response, root = _page(client, "/profile?profile=tex")
    rows = root.findall(".//table[@id='liked-rows']//tr")
    (tex,) = [row for row in rows if "sparse" in "".join(row.itertext())]
    assert any(e.tag.endswith("math") for e in tex.iter()) and "$" not in "".join(tex.find("td").itertext())
    dates = [span for row in rows for span in row.iter("span") if re.fullmatch(r"\d{4}-\d{2}-\d{2}", span.text or "")]
    assert len(dates) == 2 and all("added" in span.attrib["class"].split() for span in dates)
    assert re.search(r"\.added\s*\{[^}]*white-space:\s*nowrap", response.text)  # "2021-" and "01-01" never part


def test_backtest_names_the_likes_the_settings_hid(sr):
    """The page's backtest counts a like its own `never` rule would have hidden, and says which setting hid it."""
    text = sr.read_text().replace('strategy = "hybrid"', 'strategy = "hybrid"\nnever = ["attentive"]', 1)
    like = '\n[[liked]]\nid = "2104.10488"\ntitle = "A Two-Stage Attentive Network"\nadded = 2021-04-21\n'
    sr.write_text(text + like)
    with _client() as client:
        _post(client, "/profile/backtest")
        _wait(_service(client).jobs[f"backtest {sr.resolve()}"])
        _, root = _page(client, "/profile?profile=sr")
    table = root.find(".//table[@id='backtest-result']")
    cells = [["".join(c.itertext()) for c in row] for row in table.iter("tr")]
    assert cells[0][-1] == "not shown" and cells[1][-1] == "1"
    assert "never hid 1 of 1" in "".join(_by_id(root, "backtest-hidden").itertext())


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
    cards = [d for d in root.iter("div") if "pick" in d.attrib.get("class", "").split()]
    assert not [d for card in cards for d in card.iter("div") if d.attrib.get("class") == "match"]  # no "score 0.00"
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
            "so like 5 recent papers (Sharpen offers some) to bring them up to date."
        )
        assert len(_pick_ids(root)) == 10  # the line is above the picks, which are all still there
        assert _post(client, "/rate", profile="old", id=_pick_ids(root)[0], action="like").status_code == 303
        _, root = _page(client, "/?profile=old")
        (line,) = [p for p in root.iter("p") if p.attrib.get("id") == "old-likes"]
        assert "so like 4 more recent papers (Sharpen offers some)" in line.text  # a like of the day counts down
        _, root = _page(client, "/?profile=sr")
        assert not [p for p in root.iter("p") if p.attrib.get("id") == "old-likes"]


def test_the_profile_page_says_old_likes_lower_nothing(sr, home):
    """The terms that lower a paper are shown, and said not to apply while the likes are old (the hybrid's lexical
    half then only raises)."""
    _write_old_profile(home)
    with _client() as client:
        for name in ("old", "sr"):
            _page(client, f"/?profile={name}")  # ranks the day, so the model's terms are known
        response, old = _page(client, "/profile?profile=old")
        _, fresh = _page(client, "/profile?profile=sr")
    assert "Terms that lower it" in response.text
    (line,) = [p for p in old.iter("p") if p.attrib.get("id") == "lower-unused"]
    assert line.text.startswith("Your likes are old, so these do not lower today's papers")
    assert not [p for p in fresh.iter("p") if p.attrib.get("id") == "lower-unused"]


@pytest.mark.parametrize("same_address", [False, True])
def test_five_recent_likes_bring_back_the_terms_that_lower(sr, home, monkeypatch, same_address):
    """The re-rank after each vote judges the likes again: the fifth recent like makes them fresh, and the Profile
    page's note goes with the lexical half's raising only. `same_address`: each new scoring lands where a freed one
    was (CPython reuses addresses), so a cache keyed by id() would show the old page."""
    import recommender.web.service as service

    if same_address:
        monkeypatch.setattr(service, "id", lambda obj: 0, raising=False)
    _write_old_profile(home)
    with _client() as client:
        _, root = _page(client, "/?profile=old")
        for n in range(5):
            _, old = _page(client, "/profile?profile=old")
            assert [p for p in old.iter("p") if p.attrib.get("id") == "lower-unused"], n
            assert _post(client, "/rate", profile="old", id=_pick_ids(root)[n], action="like").status_code == 303
            _, root = _page(client, "/?profile=old")
        _, fresh = _page(client, "/profile?profile=old")
        day = _service(client).days[(home / "profiles" / "old.toml").resolve()]
        assert not day.scored.inputs.likes_old
    assert not [p for p in root.iter("p") if p.attrib.get("id") == "old-likes"]
    assert not [p for p in fresh.iter("p") if p.attrib.get("id") == "lower-unused"]


def _sharpen_old_and_sr(client, home) -> None:
    """Ask Sharpen for the old profile, then for sr, each waited for."""
    for name in ("old", "sr"):
        assert _post(client, "/sharpen", profile=name).status_code == 303
        _wait(_service(client).jobs[f"sharpen {(home / 'profiles' / f'{name}.toml').resolve()}"])


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
        _sharpen_old_and_sr(client, home)
        _, old = _page(client, "/sharpen?profile=old")
        _, fresh = _page(client, "/sharpen?profile=sr")
    assert asked == [True, False]
    (why,) = [p for p in old.iter("p") if p.attrib.get("id") == "sharpen-why"]
    assert why.text.startswith("Your likes are from 2017\N{EN DASH}2018: these are the recent papers closest to them")
    assert len(_pick_ids(old)) == 10
    assert not [p for p in fresh.iter("p") if p.attrib.get("id") == "sharpen-why"]


def test_sharpen_scores_the_stored_pool_for_its_newest_day(sr, home, monkeypatch):
    """Whether the likes are old, for Sharpen's ranker as for its note, is judged on the newest stored day: the sr
    likes (2021) are fresh for the stored 2021 day, however long ago that was."""
    import recommender.rank.active as active

    _write_old_profile(home)
    seen = []

    def recording(*args, **kwargs):
        scored = score(*args, **kwargs)
        seen.append((scored.inputs.today, scored.inputs.likes_old))
        return scored

    score = active.score_listing
    monkeypatch.setattr(active, "score_listing", recording)
    with _client() as client:
        _sharpen_old_and_sr(client, home)
    assert seen == [(date(2021, 4, 22), True), (date(2021, 4, 22), False)]


def test_history_lists_and_searches_what_was_shown(client, sr):
    _, root = _page(client)
    ids = _pick_ids(root)
    assert _post(client, "/rate", id=ids[0], action="like").status_code == 303
    response, root = _page(client, "/history?profile=sr")
    rows = root.findall(".//table[@id='history']//tr")[1:]
    # The ten shown, plus what the re-rank after the like brought onto the page (at least one: the liked one's slot).
    assert 11 <= len(rows) <= 20 and '<span aria-hidden="true">👍</span> liked' in response.text
    shown = [a.attrib["href"].rsplit("/", 1)[1] for row in rows for a in row.iter("a")]
    assert shown[:9] == ids[:9]  # in rank order within the day (the re-rank may bring a second #10)
    assert all(row.find("td").attrib.get("class") == "day" for row in rows)  # the date stays on one line
    word = next(w for w in re.findall(r"[A-Za-z]{6,}", client.app.state.service.days[sr.resolve()].slots[0].view.title))
    response, root = _page(client, f"/history?profile=sr&q={word.lower()}")
    found = root.findall(".//table[@id='history']//tr")[1:]
    assert 1 <= len(found) <= len(rows)
    _, root = _page(client, "/history?profile=sr&q=zzzznotaword")
    assert root.findall(".//table[@id='history']//tr")[1:] == []


def test_history_links_each_paper_to_its_own_page(sr, home):
    from recommender.paths import seen_path
    from recommender.seen import SeenMemory

    on_biorxiv = Paper.make("A posting from bioRxiv", "doi:10.1101/2021.04.20.440000")
    untitled_id = Paper.make("A paper known only by its title")
    (home / "listings" / "cs.CV" / "2021-04-21.jsonl").write_text(to_jsonl([on_biorxiv, untitled_id]))
    memory = SeenMemory(seen_path())
    memory.mark_papers("super-resolution", [(on_biorxiv, 1), (untitled_id, 2)], date(2021, 4, 21))
    memory.close()
    with _client() as client:
        _, root = _page(client, "/history?profile=sr")
    cells = {"".join(td.itertext()): td for row in root.findall(".//table[@id='history']//tr")[1:] for td in row}
    (link,) = cells["A posting from bioRxiv"].iter("a")
    assert link.attrib["href"] == "https://doi.org/10.1101/2021.04.20.440000"  # not arxiv.org/abs/doi:...
    assert not list(cells["A paper known only by its title"].iter("a"))  # no page to link to


def test_history_knows_a_vote_by_any_of_a_papers_ids(sr, home):
    from recommender.paths import seen_path
    from recommender.seen import SeenMemory

    # Liked as a bioRxiv posting whose record links its arXiv copy; the arXiv copy was shown later, under its own id.
    sr.write_text(
        sr.read_text()
        + '\n[[liked]]\nid = "doi:10.1101/2021.04.20.440000"\ntitle = "A posting, liked"\n'
        + 'links = ["https://arxiv.org/abs/2104.09999"]\nadded = 2021-04-20\n'
    )
    shown = Paper.make("Its arXiv copy, shown later", "2104.09999")
    (home / "listings" / "cs.CV" / "2021-04-23.jsonl").write_text(to_jsonl([shown]))
    memory = SeenMemory(seen_path())
    memory.mark_papers("super-resolution", [(shown, 1)], date(2021, 4, 23))
    memory.close()
    with _client() as client:
        _, root = _page(client, "/history?profile=sr")
    (row,) = root.findall(".//table[@id='history']//tr")[1:]
    assert ["".join(td.itertext()).strip() for td in row][1:] == ["Its arXiv copy, shown later", "👍 liked"]


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


def test_the_page_says_what_each_source_gave_the_day(sr, example_listing, monkeypatch):
    from recommender.schema import Paper, TemporaryFailure
    from recommender.sources import biorxiv, openreview

    sr.write_text(
        sr.read_text().replace("categories = ", 'sources = ["biorxiv:neuroscience", "openreview:V"]\ncategories = ', 1)
    )
    listing = read_listing(example_listing)
    day = date(2021, 4, 23)
    # Six postings, two of them copies of the day's arXiv papers (their links name the arXiv id).
    copies = [
        Paper.make(p.title, f"doi:10.1101/2021.04.22.00000{n}", links=[p.url]) for n, p in enumerate(listing.papers[:2])
    ]
    posted = copies + [Paper.make(f"Posted paper {n} on <b>cortex</b>", f"doi:10.1101/x.{n}") for n in range(4)]
    monkeypatch.setattr(biorxiv, "fetch_listing", lambda keys, day=None, **o: (Listing(tuple(posted), date=day), None))

    def unreachable(keys, day=None, **options):
        raise TemporaryFailure("OpenReview did not answer <script>alert(1)</script>")

    monkeypatch.setattr(openreview, "fetch_listing", unreachable)

    def fetch(categories, day_=None, include_cross=False, **options):
        return Listing(papers=listing.papers[:30], date=day), None

    with _client(fetch=fetch, profiles=(sr,)) as client:
        _wait(_service(client).fetch_today())
        response, root = _page(client)
    (sources,) = [u for u in root.iter("ul") if u.attrib.get("id") == "sources"]
    lines = ["".join(li.itertext()) for li in sources.iter("li")]
    assert lines[0] == "arXiv cs.CV eess.IV: 30 papers"
    assert lines[1] == "bioRxiv neuroscience: 6 papers, 2 merged away"
    assert lines[2].startswith("OpenReview V: unreachable, retry later (OpenReview did not answer <script>")
    assert "<script>alert" not in response.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "34 papers" in response.text  # 30 from arXiv and 4 from bioRxiv: the two copies are one row each


def test_a_stored_day_of_several_sources_has_its_lines_too(sr, example_listing, monkeypatch):
    from recommender.sources import biorxiv

    sr.write_text(sr.read_text().replace("categories = ", 'sources = ["biorxiv:neuroscience"]\ncategories = ', 1))
    monkeypatch.setattr(biorxiv, "fetch_listing", lambda keys, day=None, **o: (Listing((), date=day), "nothing stored"))
    with _client() as client:
        _, root = _page(client)
    (sources,) = [u for u in root.iter("ul") if u.attrib.get("id") == "sources"]
    lines = ["".join(li.itertext()) for li in sources.iter("li")]
    assert lines[0].startswith("arXiv cs.CV eess.IV: 59 papers (offline: ranking the stored 2021-04-22;")
    assert lines[1:] == ["bioRxiv neuroscience: no postings for the day (nothing stored)"]


def test_the_day_picker_offers_the_stored_days_of_every_source(sr, home):
    from recommender.sources.records import to_jsonl

    sr.write_text(sr.read_text().replace("categories = ", 'sources = ["biorxiv:neuroscience"]\ncategories = ', 1))
    folder = home / "listings" / "biorxiv" / "neuroscience"
    folder.mkdir(parents=True)
    (folder / "2021-04-20.jsonl").write_text(to_jsonl([Paper.make("A posting", "doi:10.1101/2021.04.19.1", "A")]))
    with _client() as client:
        stored = _service(client).stored_days(sr)
    assert stored[0] == date(2021, 4, 22) and date(2021, 4, 20) in stored  # arXiv's day and bioRxiv's


def test_a_failed_fetch_is_a_failure_on_the_page_with_the_commands_line(sr):
    from recommender.run import Failure
    from recommender.schema import TemporaryFailure

    def unreachable(categories, day=None, include_cross=False):
        raise TemporaryFailure("arXiv did not answer (offline?): Connection refused (2 tries)")

    with _client(fetch=unreachable) as client:
        _page(client)  # the stored day is on the page before the fetch
        assert _post(client, "/fetch").status_code == 303
        job = _service(client).jobs["fetch"]
        _wait(job)
        response, root = _page(client)
    (line,) = [p for p in root.iter("p") if p.attrib.get("id") == "fetch-status"]
    assert "failed" in line.attrib["class"].split() and "profiles ranked" not in response.text
    stored = date(2021, 4, 22)
    for name in ("sr", "med"):  # the line `paperrec today` prints for each profile, after "paperrec: error: "
        expected = Failure(name, "arXiv did not answer (offline?): Connection refused (2 tries)", True, stored).line()
        assert expected in line.text
    assert "'paperrec today --offline' ranks it" in line.text
    assert len(_pick_ids(root)) == 10  # the stored day still shows


def test_a_fetch_that_fails_for_every_profile_keeps_the_last_ranking(sr, example_listing):
    from recommender.schema import TemporaryFailure
    from recommender.state import load_last_ranking, save_last_ranking

    shown = read_listing(example_listing).papers[:3]
    save_last_ranking(shown, [(str(sr.resolve()), [])])  # what `paperrec rank` showed: `like 3` must still find it

    def unreachable(categories, day=None, include_cross=False):
        raise TemporaryFailure("arXiv did not answer (offline?): Connection refused (2 tries)")

    with _client(fetch=unreachable) as client:
        _wait(_service(client).fetch_today())
    assert load_last_ranking().papers == tuple(shown)


def test_each_fetch_today_tries_a_host_that_refused_the_last_one_again(sr):
    import itertools

    from recommender.sources.http import PoliteClient

    from .test_network import CountingTransport, closed_port

    closed, calls, attempts = f"http://127.0.0.1:{closed_port()}", itertools.count(), []

    def refused(categories, day=None, include_cross=False):
        """Each profile's fetch asks arXiv for something of its own, as profiles of other categories do."""
        options = {"share_spacing": False, "min_interval": 0.0, "backoff": 0.0, "notify": lambda line: None}
        with PoliteClient(transport=CountingTransport(attempts), **options) as client:
            client.get(f"{closed}/rss/{next(calls)}")
        raise AssertionError("a closed port answered")

    with _client(fetch=refused) as client:
        service = _service(client)
        _wait(service.fetch_today())
        assert next(calls) == 2 and len(attempts) == 2  # sr's feed and its retry; med's failed at once
        _wait(service.fetch_today())
        assert len(attempts) == 4  # the next fetch tries arXiv again
        assert service.jobs["fetch"].error is not None


def test_a_job_answers_its_status_for_the_pages_poll(sr, example_listing):
    gate = threading.Event()
    listing = read_listing(example_listing)

    def slow(categories, day=None, include_cross=False):
        gate.wait(30)
        return Listing(papers=listing.papers[:30], date=date(2021, 4, 23)), None

    with _client(fetch=slow) as client:
        assert client.get("/job?name=fetch").json() == {"line": "idle", "running": False, "failed": False}
        assert _post(client, "/fetch").status_code == 303
        response, root = _page(client)
        (line,) = [p for p in root.iter("p") if p.attrib.get("id") == "fetch-status"]
        assert line.attrib["data-job"] == "/job?name=fetch"
        scripts = [s.text for s in root.iter("script")]
        assert any("data-job" in (text or "") for text in scripts)  # the poll that follows it
        assert '<noscript><meta http-equiv="refresh"' in response.text  # and without script, the refresh
        running = client.get("/job?name=fetch").json()
        assert running["running"] is True and running["line"].startswith("fetching cs.CV")
        gate.set()
        _wait(_service(client).jobs["fetch"])
        done = client.get("/job?name=fetch").json()
        assert done == {"line": "done", "running": False, "failed": False}
        _, root = _page(client)
        assert not [s for s in root.iter("script") if "data-job" in (s.text or "")]  # nothing left to follow
        assert client.get("/job?name=sharpen&profile=sr").json()["line"] == "idle"
        assert client.get("/job?name=explode").status_code == 400


def test_a_jobs_line_shows_its_embedding_progress(sr):
    from recommender.web.service import Job

    with _client() as client:
        service = _service(client)
        seen = []

        def work(job):
            job.status = "scoring 130 stored papers"
            embedder = service.embedder()
            embedder.chunk_size = 50
            assert embedder.on_progress == service._report  # every thread's embedder reports to its job
            embedder.on_progress = lambda done, total: (service._report(done, total), seen.append(job.line))
            embedder.embed([f"text number {n}" for n in range(130)])

        job = service.start_job("progress", work)
        _wait(job)
    assert job.error is None, job.error
    assert seen == [f"scoring 130 stored papers — embedding {n} of 130" for n in (50, 100, 130)]
    assert Job("x", status="next step", progress=("scoring", "embedding 1 of 2")).line == "next step"


def _store_three_days(home: Path, example_listing: Path) -> None:
    """cs.CV on 2021-04-20, -21 and -22, each with papers of its own (so each day's picks are its own)."""
    papers = read_listing(example_listing).papers
    folder = home / "listings" / "cs.CV"
    for day, part in (("2021-04-20", papers[40:]), ("2021-04-21", papers[20:40]), ("2021-04-22", papers[:20])):
        (folder / f"{day}.jsonl").write_text(to_jsonl(part))


def _by_id(root, name: str):
    found = [e for e in root.iter() if e.attrib.get("id") == name]
    return found[0] if found else None


def test_a_day_that_is_not_the_latest_announcement_says_so(client, monkeypatch):
    _, root = _page(client)
    assert _by_id(root, "catch-up") is None and _by_id(root, "day-picker") is None  # one stored day, one profile day
    banner = _by_id(root, "stale")
    assert banner is not None and "this is 2021-04-22, and arXiv's latest announcement is" in "".join(banner.itertext())
    assert "Fetch today" in "".join(banner.itertext())  # the latest is not stored
    monkeypatch.setattr("recommender.sources.arxiv.latest_announcement", lambda now: date(2021, 4, 22))
    _, root = _page(client)
    assert _by_id(root, "stale") is None


def _seen_count() -> int:
    from recommender.run import seen_memory

    seen = seen_memory()
    try:
        return seen.count()
    finally:
        seen.close()


def test_catch_up_offers_the_days_not_seen_newest_first(sr, home, example_listing):
    from recommender.run import seen_memory

    _store_three_days(home, example_listing)
    seen = seen_memory()
    seen.mark("super-resolution", ["1904.00001"], date(2021, 4, 19))  # the last visit, before the days away
    seen.close()
    with _client() as client:
        _, root = _page(client)
        offered = _by_id(root, "catch-up")
        assert "2 days you have not seen" in "".join(offered.itertext())
        links = [a.attrib["href"] for a in offered.iter("a")]
        assert links == ["/?profile=sr&day=2021-04-21", "/?profile=sr&day=2021-04-20"]
        # two menus on one page: a screen reader's list of landmarks tells them apart by their names
        names = [nav.attrib.get("aria-label") for nav in root.iter("nav")]
        assert len(names) == 2 and None not in names and len(set(names)) == 2, names
        picker = _by_id(root, "day-picker")
        assert picker.attrib["method"] == "get"
        assert [o.attrib["value"] for o in picker.iter("option")] == ["2021-04-22", "2021-04-21", "2021-04-20"]
        # the catch-up day is triageable: a vote reaches its own list and comes back to it
        remembered = _seen_count()
        _, root = _page(client, links[0])
        assert _seen_count() == remembered  # looking at a picked day (a GET) changes nothing
        assert "2021-04-21" in _by_id(root, "stale").text
        ids = _pick_ids(root)
        forms = [f for f in root.iter("form") if f.attrib.get("action") == "/rate"]
        assert all(any(i.attrib.get("name") == "day" for i in f.iter("input")) for f in forms)
        voted = _post(client, "/rate", id=ids[1], action="like", day="2021-04-21")
        assert voted.status_code == 303 and "day=2021-04-21" in voted.headers["location"]
        _, root = _page(client, links[0])
        assert _rated(root) == {ids[1]: "👍 liked"} and _pick_ids(root)[:2] == ids[:2]
        _, root = _page(client)
        assert "1 day you have not seen" in "".join(_by_id(root, "catch-up").itertext())
        assert _rated(root) == {}  # the latest day's list is its own


def test_today_moves_on_to_a_day_stored_while_the_server_runs(sr, home, example_listing):
    """A morning `paperrec today` from cron stores the next day while the server runs: Today shows that day."""
    papers = read_listing(example_listing).papers
    folder = home / "listings" / "cs.CV"
    (folder / "2021-04-22.jsonl").write_text(to_jsonl(papers[:30]))
    with _client() as client:
        _, root = _page(client)
        first = _pick_ids(root)
        assert _post(client, "/rate", id=first[0], action="like").status_code == 303
        (folder / "2021-04-23.jsonl").write_text(to_jsonl(papers[30:]))
        _, root = _page(client)
        assert "2021-04-23" in "".join(next(root.iter("h1")).itertext())
        assert set(_pick_ids(root)) <= {p.arxiv_id for p in papers[30:]}
        # the day before keeps its vote, from the day picker
        _, root = _page(client, "/?profile=sr&day=2021-04-22")
        assert _rated(root) == {first[0]: "👍 liked"}


def test_the_day_picker_only_takes_a_stored_day(client, sr):
    before = sr.read_text()
    assert client.get("/?profile=sr&day=2021-04-22").status_code == 200
    wrong = client.get("/?profile=sr&day=yesterday")
    assert wrong.status_code == 400 and "like 2021-04-22" in wrong.text
    absent = client.get("/?profile=sr&day=2021-04-21")
    assert absent.status_code == 404 and "no stored listing for 2021-04-21" in absent.text
    assert _post(client, "/rate", id="2104.10642", action="like", day="2020-01-01").status_code == 404
    assert sr.read_text() == before


# -- vote links -----------------------------------------------------------------------------------------------------


def test_vote_link_confirms_then_records(client, sr):
    from recommender.signing import vote_token

    token = vote_token("sr", "2104.10642", "like")
    page = client.get(f"/vote/{token}")
    assert page.status_code == 200 and "Confirm your vote" in page.text
    assert page.text.count('<span aria-hidden="true">👍</span> like') == 2  # the question and the button
    # a forwarded digest's link votes into the sender's profile: the page says whose it is
    whose = re.search(r'<p id="whose">(.*?)</p>', page.text, re.S).group(1)
    assert "<strong>super-resolution</strong> (sr.toml)" in whose and "forwarded" in whose
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


def test_a_vote_link_names_its_profile_and_votes_on_that_one(client, sr):
    from recommender.signing import vote_token

    med = sr.parent / "med.toml"
    token = vote_token("med", "2104.10642", "dislike")
    page = client.get(f"/vote/{token}")
    assert page.status_code == 200 and load_profile(med).name in page.text
    assert client.post(f"/vote/{token}", data={"csrf": _csrf(client)}).status_code == 200
    assert load_profile(med).section_of("2104.10642") == "disliked"
    assert "2104.10642" not in load_profile(sr).ids


def _signed_the_old_way(profile: str, arxiv_id: str, action: str) -> str:
    """A vote token as paperrec signed it before links named profiles: version 1, the profile file's path."""
    import base64
    import hashlib
    import hmac

    from recommender.signing import link_secret

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    payload = "\x1f".join(["1", action, date.today().strftime("%Y%m%d"), arxiv_id, profile]).encode()
    mac = hmac.new(link_secret(), b"paperrec vote link v1\x00" + payload, hashlib.sha256).digest()
    return f"{b64(payload)}.{b64(mac)}"


def test_a_link_signed_with_a_path_still_votes(client, sr):
    token = _signed_the_old_way(str(sr.resolve()), "2104.10642", "like")
    assert client.get(f"/vote/{token}").status_code == 200
    assert client.post(f"/vote/{token}", data={"csrf": _csrf(client)}).status_code == 200
    assert load_profile(sr).section_of("2104.10642") == "liked"
    gone = _signed_the_old_way(str(sr.parent / "deleted.toml"), "2104.10642", "like")
    page = client.get(f"/vote/{gone}")
    assert page.status_code == 404 and "no longer exists" in page.text and "deleted.toml" not in page.text


@pytest.mark.parametrize("profiles", [True, False])
def test_a_link_to_a_missing_profile_is_a_clear_page(home, fake_model, example_listing, profiles):
    from recommender.signing import vote_token

    if profiles:
        _write_home(home, example_listing)
    token = vote_token("gone", "2104.10642", "like")
    with _client() as client:
        for page in (client.get(f"/vote/{token}"), client.post(f"/vote/{token}", data={"csrf": _csrf(client)})):
            assert page.status_code == 404
            assert "for the profile 'gone', which is not here" in html.unescape(page.text)
            assert str(home) not in page.text and "Traceback" not in page.text


def test_a_vote_link_follows_its_profile_to_a_renamed_file(client, sr):
    """Monday's email names the profile file super-resolution.toml; on Thursday that file is sr.toml, same name."""
    from recommender.signing import vote_token

    token = vote_token("super-resolution", "2104.10642", "like")  # the file's stem when the email went out
    page = client.get(f"/vote/{token}")
    assert page.status_code == 200 and "Confirm your vote" in page.text
    assert client.post(f"/vote/{token}", data={"csrf": _csrf(client)}).status_code == 200
    assert "2104.10642" in {p.paper.arxiv_id for p in load_profile(sr).liked}


def test_a_signed_vote_link_with_a_nul_in_its_path_is_a_400(client, sr):
    token = _signed_the_old_way(str(sr.resolve()) + "\x00x", "2104.10642", "like")  # as paperrec once signed paths
    response = client.get(f"/vote/{token}")
    assert response.status_code == 400 and "NUL character" in response.text


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


# -- onboarding: a new profile from the page --------------------------------------------------------------------------

LIBRARY = REPO / "tests" / "fixtures" / "imports" / "library.bib"


def _upload(client: TestClient, name: str, content: bytes, filename: str = "library.bib", **fields):
    """The new-profile form posted; a success is followed to its report page."""
    data = {"name": name, "interests": "", **fields}
    response = client.post(f"/new?csrf={_csrf(client)}", data=data, files={"library": (filename, content)})
    if response.status_code == 303:
        assert response.headers["location"].startswith("/new/done?profile=")
        return client.get(response.headers["location"])
    return response


def _asgi_post(app, path: str, query: str, headers: dict[str, str], chunks: list[bytes]):
    """POST straight to the ASGI app, the body in chunks; returns the status, the page and how many chunks were read."""
    import asyncio

    read = 0

    async def receive():
        nonlocal read
        if read < len(chunks):
            read += 1
            return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}
        return {"type": "http.disconnect"}

    sent = []

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in {"host": "127.0.0.1:8787", **headers}.items()],
        "http_version": "1.1",
        "scheme": "http",
        "server": ("127.0.0.1", 8787),
        "client": ("127.0.0.1", 50000),
    }
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body.decode("utf-8"), read


def _multipart(filename: str, size: int, boundary: str = "paperrec-test") -> tuple[dict[str, str], bytes, bytes]:
    """Headers, the part before the file's bytes, and the end, for a multipart upload of `size` bytes."""
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nbig\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="library"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return {"content-type": f"multipart/form-data; boundary={boundary}"}, head, tail


def test_the_welcome_page_is_the_way_in_and_its_commands_wrap(home, fake_model):
    with _client() as client:
        _, root = _page(client, "/")
    forms = [f for f in root.iter("form") if f.attrib.get("action", "").startswith("/new?csrf=")]
    assert len(forms) == 1 and forms[0].attrib["enctype"] == "multipart/form-data"
    names = {i.attrib.get("name") for i in forms[0].iter("input")} | {s.attrib.get("name") for s in root.iter("select")}
    assert {"name", "library", "category", "offline", "format"} <= names
    boxes = [i for i in forms[0].iter("input") if i.attrib.get("type") == "checkbox" and i.attrib["name"] == "category"]
    assert len(boxes) > 150 and any(b.attrib["value"] == "cs.CV" for b in boxes)
    assert root.find(".//datalist[@id='arxiv-categories']") is not None
    commands = root.find(".//pre[@class='commands']")
    assert commands is not None and "paperrec profile new" in commands.text
    css = "".join(s.text or "" for s in root.iter("style"))
    assert re.search(r"pre\.commands[^{]*\{[^}]*white-space: pre-wrap[^}]*overflow-wrap: anywhere", css)


def test_upload_bibtex_creates_the_profile_and_shows_the_clis_report(client, home):
    response = _upload(client, "vision", LIBRARY.read_bytes(), category=["cs.CV", "eess.IV"], offline="on")
    assert response.status_code == 200, response.text
    root = html5lib.parse(response.text, treebuilder="etree", namespaceHTMLElements=False)
    shown = root.find(".//pre[@id='import-report']").text.splitlines()
    path = home / "profiles" / "vision.toml"
    profile = load_profile(path)
    assert profile.categories == ("cs.CV", "eess.IV") and profile.liked
    assert root.find(".//a[@id='go-today']").attrib["href"] == "/?profile=vision"
    assert root.find(".//button[@id='go-sharpen']") is not None
    assert client.get("/new/done?profile=sr").headers["location"] == "/profile?profile=sr"  # no report to show
    path.unlink()  # the same import from the command line prints the same report
    from typer.testing import CliRunner

    from recommender.cli import app

    cli = CliRunner().invoke(app, ["profile", "new", "vision", "--from", str(LIBRARY), "--offline", "-c", "cs.CV"])
    assert cli.exit_code == 0, cli.output
    assert shown == cli.stderr.replace(str(LIBRARY), "library.bib").splitlines()
    assert shown[-1] == f"profile saved: {path}" and any("library.bib:117 @misc{slides2020}" in s for s in shown)


def test_the_uploads_metadata_lookup_follows_the_offline_box_as_the_cli_does(client, home, monkeypatch):
    import recommender.sources.arxiv as arxiv
    from recommender.schema import Paper

    asked: list[list[str]] = []

    def fake_fetch_metadata(http, ids, **kwargs):
        asked.append(list(ids))
        return {i: Paper.make(f"Fetched title {i}", i, f"Fetched abstract {i}.") for i in ids}

    monkeypatch.setattr(arxiv, "fetch_metadata", fake_fetch_metadata)
    ids = b"2104.10642\n1706.03762\n"
    offline = _upload(client, "offline", ids, "ids.txt", offline="on", interests="video")
    assert offline.status_code == 200 and asked == [] and "kept by id only" in offline.text
    online = _upload(client, "online", ids, "ids.txt", interests="video")
    assert online.status_code == 200 and len(asked) == 1 and sorted(asked[0]) == ["1706.03762", "2104.10642"]
    assert {p.paper.title for p in load_profile(home / "profiles" / "online.toml").liked} == {
        "Fetched title 2104.10642",
        "Fetched title 1706.03762",
    }


def test_an_existing_name_an_empty_upload_and_a_bad_category_create_nothing(client, home, sr):
    before = sorted(p.name for p in (home / "profiles").iterdir())
    for name in ("sr", "super-resolution"):  # a file stem and a display name
        taken = _upload(client, name, LIBRARY.read_bytes(), offline="on")
        said = f"a profile named {name!r} exists already".replace("'", "&#39;")
        assert taken.status_code == 400 and said in taken.text
    empty = _upload(client, "empty", b"% an export with nothing in it\n", "empty.bib", offline="on")
    assert empty.status_code == 400 and "empty.bib: no BibTeX entries found" in empty.text
    assert "paperrec-upload" not in empty.text  # the page names the file sent, not where it was kept
    typo = _upload(client, "typo", LIBRARY.read_bytes(), category=["cs.CVV"], offline="on")
    assert typo.status_code == 400 and "did you mean cs.CV" in typo.text
    assert 'value="typo"' in typo.text  # the form comes back as it was filled in
    nothing = client.post(f"/new?csrf={_csrf(client)}", data={"name": "bare"})
    assert nothing.status_code == 400 and "upload a library export, or type at least one interest" in nothing.text
    for bad in ("../escape", "x.toml", ".hidden"):
        assert _upload(client, bad, LIBRARY.read_bytes(), offline="on").status_code == 400
    assert sorted(p.name for p in (home / "profiles").iterdir()) == before
    assert not list(home.parent.glob("escape*"))


def test_an_upload_needs_the_token_before_its_body_is_read(client, home):
    app = client.app
    headers, head, tail = _multipart("library.bib", 10)
    chunks = [head, b"@misc{a, title={A}}", tail]
    for query, extra in (("", {}), ("csrf=" + "x" * 43, {}), ("", {"x-csrf-token": "wrong"})):
        status, page, read = _asgi_post(app, "/new", query, {**headers, **extra}, chunks)
        assert status == 403 and "security token" in page and read == 0, (query, extra)
    foreign = {**headers, "origin": "http://evil.example"}
    assert _asgi_post(app, "/new", f"csrf={_csrf(client)}", foreign, chunks)[::2] == (403, 0)
    status, page, read = _asgi_post(app, "/new", "", {**headers, "x-csrf-token": _csrf(client)}, chunks)
    assert status == 303 and read == len(chunks)  # a header may carry the token too
    assert load_profile(home / "profiles" / "big.toml").liked[0].paper.title == "A"


def test_a_larger_upload_is_refused_with_one_line(client, home, monkeypatch):
    from recommender.web import onboard

    app = client.app
    headers, head, tail = _multipart("big.bib", 0)
    declared = {**headers, "content-length": str(52 * 10**6)}
    status, page, read = _asgi_post(app, "/new", f"csrf={_csrf(client)}", declared, [head, b"x" * 100, tail])
    assert status == 413 and read == 0  # refused on its declared length, before any of it is read
    message = html5lib.parse(page, treebuilder="etree", namespaceHTMLElements=False).find(".//p[@id='message']").text
    assert message == "refused: the upload is 52.0 MB; files up to 50 MB are taken"
    monkeypatch.setattr(onboard, "MAX_UPLOAD", 1000)  # no length sent, or a false one: the stream is cut at the limit
    monkeypatch.setattr(onboard, "FORM_ROOM", 0)
    chunks = [head, b"x" * 600, b"x" * 600, b"x" * 600, tail]
    status, page, read = _asgi_post(app, "/new", f"csrf={_csrf(client)}", headers, chunks)
    assert status == 413 and read == 3 and "refused: the upload is more than 0.001 MB" in page
    assert not (home / "profiles" / "big.toml").exists()
    monkeypatch.setattr(onboard, "MAX_UPLOAD", 50 * 10**6)
    monkeypatch.setattr(onboard, "FORM_ROOM", 10**6)
    at_limit = {**headers, "content-length": str(50 * 10**6 + 1000)}  # a 50 MB file and the form's other fields
    bib = b"@misc{a, title={A}}"
    assert _asgi_post(app, "/new", f"csrf={_csrf(client)}", at_limit, [head, bib, tail])[0] == 303


def test_ordinary_forms_take_no_files(client, sr):
    before = sr.read_text()
    response = client.post(
        "/profile/interests",
        data={"csrf": _csrf(client), "profile": "sr", "interests": "x"},
        files={"library": ("a.bib", b"x" * 100)},
    )
    assert response.status_code == 400 and "this form takes no files" in response.text and sr.read_text() == before


def test_upload_names_and_texts_are_escaped_where_shown(client, home):
    name = "<img src=x onerror=alert(1)>"
    hostile = (
        b"@misc{k1, note={no title <script>alert(1)</script>}}\n"
        b"@misc{k2, title={A <b>bold</b> title}, eprint={2104.10642}}\n"
    )
    response = _upload(client, name, hostile, "<script>.bib", offline="on")
    assert response.status_code == 200, response.text
    assert "<img src=x" not in response.text and "&lt;img src=x onerror=alert(1)&gt;" in response.text
    assert "<script>alert" not in response.text


def test_categories_are_edited_on_the_profile_page(client, sr):
    _page(client)  # the day of cs.CV is ranked
    _, root = _page(client, "/profile?profile=sr")
    form = next(f for f in root.iter("form") if f.attrib.get("action") == "/profile/categories")
    ticked = [i.attrib["value"] for i in form.iter("input") if "checked" in i.attrib and i.attrib["name"] == "category"]
    assert ticked == list(load_profile(sr).categories)
    response = client.post(
        "/profile/categories", data={"csrf": _csrf(client), "profile": "sr", "category": ["cs.CV", "eess.IV", ""]}
    )
    assert response.status_code == 303 and response.headers["location"] == "/profile?profile=sr#categories"
    assert load_profile(sr).categories == ("cs.CV", "eess.IV") and sr.read_text().startswith(COMMENT)
    typo = client.post("/profile/categories", data={"csrf": _csrf(client), "profile": "sr", "category": "cs.CVV"})
    assert typo.status_code == 400 and "did you mean cs.CV" in typo.text
    assert load_profile(sr).categories == ("cs.CV", "eess.IV")
    forged = client.post("/profile/categories", data={"profile": "sr", "category": "math.AG"})
    assert forged.status_code == 403 and load_profile(sr).categories == ("cs.CV", "eess.IV")
    _page(client)
    days = _service(client).days
    assert sr.resolve() in days
    _post(client, "/profile/categories", category=["eess.IV", "cs.CV"])  # the same two: the day is kept
    assert sr.resolve() in days
    _post(client, "/profile/categories", category="math.AG")  # others: their own stored listings are ranked
    assert sr.resolve() not in days and "no day to show" in client.get("/?profile=sr").text


# -- how uvicorn runs it --------------------------------------------------------------------------------------------


def test_the_server_prints_no_control_characters_and_one_line_per_event():
    import io
    import logging

    from recommender.web.serving import CleanStream, OneLine, connection_limit

    out = io.StringIO()
    CleanStream(out).write("profile 'a\x1b[31mred\x07\r' failed\x00\nnext\tline\n")
    assert out.getvalue() == "profile 'ared ' failed\nnext line\n"
    one_line = OneLine()
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("uvicorn.error", logging.ERROR, "", 0, "Exception in ASGI app", (), sys.exc_info())
    assert one_line.filter(record) and record.exc_info is None  # no traceback
    again = logging.LogRecord("uvicorn.error", logging.ERROR, "", 0, "Exception in ASGI app", (), None)
    assert not one_line.filter(again)  # the same line within LOG_EVERY seconds is held back
    assert connection_limit(256) == 192 and connection_limit(20000) == 1000 and connection_limit(40) == 16


def test_a_stalled_body_is_refused(client, sr, monkeypatch):
    """A form whose body stops arriving is answered 408 once BODY_TIMEOUT passes, not held for ever."""
    import asyncio

    import recommender.web.security as security

    monkeypatch.setattr(security, "BODY_TIMEOUT", 0.05)
    app = client.app
    sent = []

    async def receive():
        if not sent:
            sent.append(1)
            return {"type": "http.request", "body": b"csrf=", "more_body": True}
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/rate",
        "raw_path": b"/rate",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8787"), (b"content-type", b"application/x-www-form-urlencoded")],
        "server": ("127.0.0.1", 8787),
        "scheme": "http",
        "http_version": "1.1",
        "root_path": "",
        "client": ("127.0.0.1", 5000),
    }
    asyncio.run(app(scope, receive, send))
    assert next(m for m in sent if isinstance(m, dict) and m["type"] == "http.response.start")["status"] == 408


def test_a_typo_in_a_profiles_strategy_is_an_error_page_naming_it(client, sr):
    sr.write_text(sr.read_text().replace('strategy = "hybrid"', 'strategy = "hybird"'))
    response = client.get("/profile?profile=sr")
    assert response.status_code == 400 and "Traceback" not in response.text
    assert "unknown strategy &#39;hybird&#39;" in response.text and "did you mean &#39;hybrid&#39;?" in response.text


def test_a_broken_profile_keeps_its_place_in_the_menu_beside_the_others(client, sr, home):
    (home / "profiles" / "draft.toml").write_text("this is = not [ toml")
    _, root = _page(client, "/?profile=sr")
    menu = {"".join(a.itertext()): a.attrib["href"] for a in root.iter("a") if "profile=" in a.attrib.get("href", "")}
    assert menu.get("super-resolution", "").endswith("profile=sr") and "draft (unreadable)" in menu


def test_today_without_a_profile_named_opens_the_first_one_that_reads(client, sr, home):
    (home / "profiles" / "a-draft.toml").write_text("this is = not [ toml")  # first in the list, and broken
    _, root = _page(client, "/")  # not an error page whose one link, Today, leads back to it
    assert "".join(root.find(".//h1").itertext()).startswith("medical-segmentation")
    menu = {"".join(a.itertext()): a.attrib["href"] for a in root.iter("a") if "profile=" in a.attrib.get("href", "")}
    assert menu.get("a-draft (unreadable)", "").endswith("profile=a-draft")
    assert client.get("/?profile=a-draft").status_code == 400  # named, it is the error it is


def test_a_one_paper_day_counts_one_paper(home, fake_model, example_listing):
    _write_home(home, example_listing)
    (paper, *_) = read_listing(example_listing).papers
    (home / "listings" / "cs.CV" / "2021-04-22.jsonl").write_text(to_jsonl([paper]))
    with _client() as client:
        _, root = _page(client)
    meta = " ".join("".join(root.find(".//p[@class='meta']").itertext()).split())
    assert meta.endswith("· 1 paper"), meta


def test_a_broken_profile_is_a_page_that_says_so_with_the_menu_to_the_others(client, sr, home):
    (home / "profiles" / "draft.toml").write_text("this is = not [ toml")
    for page in ("/", "/profile", "/sharpen", "/history"):
        response = client.get(f"{page}?profile=draft")
        assert response.status_code == 400
        root = html5lib.parse(response.text, treebuilder="etree", namespaceHTMLElements=False)
        assert "".join(root.find(".//h1").itertext()) == "This profile cannot be read"
        assert "".join(root.find(".//title").itertext()) == "paperrec: draft cannot be read"
        (message,) = [p for p in root.iter("p") if p.attrib.get("id") == "message"]
        assert "draft.toml: invalid TOML" in "".join(message.itertext()) and "\n" not in "".join(message.itertext())
        tabs = {"".join(a.itertext()): a.attrib["href"] for a in root.find(".//div[@class='tabs']").iter("a")}
        assert tabs["super-resolution"] == f"{page}?profile=sr" and "medical-segmentation" in tabs


@pytest.mark.parametrize(
    ("day", "text", "why"), [("2021-04-22", "", "is empty"), ("2021-04-23", "{oops\n", "cannot be read")]
)
def test_an_unusable_stored_listing_is_no_day_yet_with_its_button_and_a_note(sr, home, day, text, why):
    stored = home / "listings" / "cs.CV" / f"{day}.jsonl"
    stored.write_text(text)  # emptied, or a newer day whose file is broken
    with _client() as client:
        _, root = _page(client)
    main = root.find(".//main")
    earlier = [a for a in main.iter("a") if a.attrib.get("id") == "earlier"]
    if day == "2021-04-23":  # the day before still reads: the page leads to it
        assert "".join(main.find("h1").itertext()) == "The latest day cannot be shown"
        assert earlier[0].attrib["href"] == "/?profile=sr&day=2021-04-22"
        with _client() as client:
            assert client.get(earlier[0].attrib["href"]).status_code == 200
    else:
        assert "".join(main.find("h1").itertext()) == "No day yet" and not earlier
    (note,) = [p for p in main.iter("p") if p.attrib.get("id") == "unusable"]
    note = "".join(note.itertext())
    assert note.startswith(f"The stored listing of {day} {why}: ") and str(stored) in note and "\n" not in note
    (form,) = [f for f in main.iter("form") if f.attrib.get("action") == "/fetch"]
    assert "".join(form.find(".//button").itertext()).strip() == "Fetch today"


def test_the_shortcuts_switch_is_beside_their_help_and_shows_only_with_script(client):
    _, root = _page(client)
    (keys,) = [p for p in root.iter("p") if p.attrib.get("class") == "keys"]
    (toggle,) = keys.iter("button")
    assert toggle.attrib["id"] == "keys-toggle" and toggle.attrib["type"] == "button" and "hidden" in toggle.attrib


def test_the_profile_page_says_what_a_hand_edit_left_odd_as_the_command_line_does(sr, home):
    # a setting typed at the end of the file lands in the last paper's table: the command line warns, so does the page
    sr.write_text(sr.read_text() + '\ninterests = ["image restoration <b>x</b>"]\n')
    with _client() as client:
        _, root = _page(client, "/profile?profile=sr")
    said = _by_id(root, "file-warning")
    text = "".join(said.itertext())
    assert said.attrib.get("role") == "status" and text.startswith(f"warning: {sr.name}: 'interests' is a key of")
    assert f"{home}/profiles" not in text  # the file's name, not where it lives
    with _client() as client:
        _, root = _page(client, "/profile?profile=med")
    assert _by_id(root, "file-warning") is None


def test_a_new_profile_from_the_page_can_follow_biorxiv_and_a_feed_without_arxiv(client, home):
    # a biologist who only uses the page: no arXiv category to pick, bioRxiv and a journal's feed to follow
    feed = "feed:https://journal.example/current.rss?key=secret1"
    data = {"name": "neuro", "interests": "place cells\n", "sources": f"biorxiv:neuroscience\n\n{feed}\n"}
    response = client.post(f"/new?csrf={_csrf(client)}", data=data)
    assert response.status_code == 303, response.text
    done = client.get(response.headers["location"])
    assert "no categories" not in done.text and "secret1" not in done.text
    made = load_profile(home / "profiles" / "neuro.toml")
    assert (made.categories, made.sources) == ((), ("biorxiv:neuroscience", feed))
    bad = client.post(f"/new?csrf={_csrf(client)}", data={**data, "name": "bad", "sources": "biorxiv:\n"})
    assert bad.status_code == 400 and "names no key" in bad.text and not (home / "profiles" / "bad.toml").exists()
    assert 'name="sources"' in bad.text  # the form comes back with its field


def test_a_new_profile_from_the_page_says_a_source_subject_paperrec_does_not_know(client, home):
    # interests only, no upload: the warning on a misspelt subject is said as `profile new -s` says it
    data = {"name": "neuro", "interests": "place cells\n", "sources": "biorxiv:neuroscence\n"}
    response = client.post(f"/new?csrf={_csrf(client)}", data=data)
    assert response.status_code == 303, response.text
    done = client.get(response.headers["location"])
    assert "not a bioRxiv category paperrec knows (closest: neuroscience" in done.text


def test_the_created_page_sends_a_profile_with_other_sources_to_today_not_to_pick_categories(client, home):
    data = {"name": "neuro", "interests": "place cells\n", "sources": "biorxiv:neuroscience\n"}
    response = client.post(f"/new?csrf={_csrf(client)}", data=data)
    done = client.get(response.headers["location"])
    assert "Pick its categories" not in done.text  # it follows bioRxiv: today's picks come from there
    nothing = client.post(f"/new?csrf={_csrf(client)}", data={**data, "name": "blank", "sources": ""})
    assert "Pick its categories" in client.get(nothing.headers["location"]).text


def test_sharpen_draws_a_profile_that_follows_biorxiv_from_its_biorxiv_days(home):
    """Sharpen's pool is the profile's own sources first: a bioRxiv profile is not asked about another's cs.CV."""
    from recommender.profile import Profile
    from recommender.sources.store import write_day
    from recommender.web.service import pool_days

    write_day(Listing(papers=(Paper.make("Vision", "2104.00001", "A"),)), "cs.CV", date(2021, 4, 22))
    posting = Paper.make("Place cells", "doi:10.1101/2021.04.19.1", "A")
    write_day(Listing(papers=(posting,)), "biorxiv:neuroscience", date(2021, 4, 20))
    neuro = Profile(name="neuro", sources=("biorxiv:neuroscience",))
    assert [d.category for d in pool_days(neuro)] == ["biorxiv:neuroscience"]
    assert [d.category for d in pool_days(Profile(name="cv", categories=("cs.CV",)))] == ["cs.CV"]


def test_today_shows_the_last_ranking_of_a_profile_whose_source_is_misspelt(sr, example_listing):
    """A source the registry refuses (a hand edit's 'biorxv:') leaves the last ranking to show: the page's line on
    the latest day must not fail on it."""
    from recommender.state import save_last_ranking

    sr.write_text(sr.read_text().replace("categories = ", 'sources = ["biorxv:neuroscience"]\ncategories = ', 1))
    papers = read_listing(example_listing).papers
    save_last_ranking(papers, [(str(sr), [])])
    with _client() as client:
        response = client.get("/?profile=sr")
        for _ in range(100):
            if response.status_code != 200 or "data-job" not in response.text:
                break
            time.sleep(0.1)
            response = client.get("/?profile=sr")
    assert response.status_code == 200, response.text


def test_a_vote_link_records_the_paper_of_its_id_not_one_that_links_it(sr, home):
    from recommender.signing import vote_token

    # A stat.ML paper of an earlier day, and a feed's entry (its folder comes first in the store) that links its id.
    real = Paper.make("Sparse priors", "2104.20001", "The real abstract.", categories=["stat.ML"])
    write_day(Listing(papers=(real,)), "stat.ML", date(2021, 4, 21))
    claims = Paper.make("A claim", "doi:10.1234/claim", "Other text.", links=["https://arxiv.org/abs/2104.20001"])
    write_day(Listing(papers=(claims,)), "feed:https://example.org/rss", date(2021, 4, 21))
    token = vote_token("sr", "2104.20001", "like")
    with _client() as client:
        assert "Sparse priors" in client.get(f"/vote/{token}").text
        assert client.post(f"/vote/{token}", data={"csrf": _csrf(client)}).status_code == 200
    liked = {p.paper.arxiv_id for p in load_profile(sr).liked}
    assert "2104.20001" in liked and "doi:10.1234/claim" not in liked


def test_no_page_shows_a_papers_escape_sequences_or_bidi_overrides(sr, home):
    from recommender.profile import change_profile, rate
    from recommender.signing import vote_token

    title = "Spoof \u202etxt.exe\u202c \x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\ \x07bell"
    paper = Paper.make(title, "2104.20002", "An abstract \u2066isolated\u2069.", ["Eve \x1b[31mred"])
    write_day(Listing(papers=(paper,)), "stat.ML", date(2021, 4, 21))
    change_profile(sr, [rate([paper], "liked")])
    token = vote_token("sr", "2104.20002", "dislike")
    with _client() as client:
        pages = [client.get(url).text for url in ("/profile?profile=sr", f"/vote/{token}", "/history?profile=sr")]
    for text in pages:
        assert "Spoof" in text or "/history" in text
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)


def test_a_retraction_of_a_liked_paper_is_said_above_the_picks_escaped(sr, home, example_listing):
    title = "Super-resolution for x < y & <i>friends</i>"
    sr.write_text(sr.read_text() + f'\n[[liked]]\nid = "2104.99999"\ntitle = "{title}"\nadded = 2021-08-01\n')
    retraction = Paper.make(
        f"Retraction Note: {title}", "doi:10.1234/retracted", links=["https://doi.org/10.1234/retracted"]
    )
    correction = Paper.make(f"Author Correction: {title}", "doi:10.1234/corrected")  # not news: not said
    papers = (*read_listing(example_listing).papers, retraction, correction)
    (home / "listings" / "cs.CV" / "2021-04-22.jsonl").write_text(to_jsonl(papers))
    with _client() as client:
        response, root = _page(client)
    (notice,) = [p for p in root.iter("p") if "notice" in p.attrib.get("class", "").split()]
    assert notice.attrib["class"] == "status notice"
    assert (
        "".join(notice.itertext())
        == "A notice on a paper you liked: Retraction Note: Super-resolution for x < y & friends"
    )
    assert [a.attrib["href"] for a in notice.iter("a")] == ["https://doi.org/10.1234/retracted"]
    assert "Retraction Note: Super-resolution for x &lt; y &amp; friends</a>" in response.text
    assert response.text.index("A notice on a paper you liked") < response.text.index('data-id="')
    assert "doi:10.1234/retracted" not in _pick_ids(root) and "doi:10.1234/corrected" not in _pick_ids(root)


def test_a_page_vote_that_moved_another_versions_entry_knows_where_the_paper_was(tmp_path):
    from recommender.profile import Edited, Moved, Profile, ProfilePaper
    from recommender.web.day import Action

    # Liking the journal version moved its disliked preprint's entry, whose links name the journal DOI.
    preprint = Paper.make("Preprint", "doi:10.1101/2026.01.01.1", links=["https://doi.org/10.1234/journal"])
    entry = ProfilePaper(preprint, date(2026, 1, 1))
    moved = Moved(preprint.arxiv_id, "disliked", "liked", entry, preprint)
    edited = Edited(tmp_path / "p.toml", Profile(name="p"), (moved,))
    assert Action("doi:10.1234/journal", "liked", edited).before == "disliked"
    assert Action("doi:10.1234/other", "liked", edited).before == "liked"  # nothing moved: it was there already


def test_a_page_vote_whose_paper_links_the_moved_entry_knows_where_the_paper_was(tmp_path):
    from recommender.profile import change_profile, rate, undo
    from recommender.web.day import Action

    # The usual arXiv case: the entry has no links, and the voted journal version links the preprint's abstract page.
    path = tmp_path / "p.toml"
    text = 'name = "p"\ninterests = ["x"]\n\n[[disliked]]\nid = "2401.00001"\ntitle = "Preprint"\n'
    path.write_text(text)
    journal = Paper.make("Journal", "doi:10.1234/journal", links=["https://arxiv.org/abs/2401.00001"])
    edited = change_profile(path, [rate([journal], "liked")])
    assert [(m.arxiv_id, m.before, m.after) for m in edited.moved] == [("2401.00001", "disliked", "liked")]
    assert Action(journal.arxiv_id, "liked", edited, journal.ids).before == "disliked"
    # The other way round: the entry's links name the voted paper, whose own links are none.
    preprint = Paper.make("Preprint", "2401.00001")
    assert Action(preprint.arxiv_id, "disliked", undo(edited), preprint.ids).before == "liked"
    assert path.read_text() == text
    unrelated = Paper.make("Other", "doi:10.1234/other", links=["https://arxiv.org/abs/2401.00002"])
    assert Action(unrelated.arxiv_id, "liked", edited, unrelated.ids).before == "liked"
