"""`paperrec serve --users` through starlette's test client: login, sessions, throttling, and one user trying every
route on another's data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from recommender import paths, users
from recommender.profile import load_profile
from recommender.sources import read_listing, to_jsonl
from recommender.web import Settings, create_app
from tests.test_web import BASE, REPO


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr(users, "_hasher", lambda: PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def lab(home, fake_model, example_listing):
    """A lab of ada and bob, each with a profile 'sr' (different files), bob also with 'bob-only'; one stored day."""
    folder = home / "listings" / "cs.CV"
    folder.mkdir(parents=True)
    (folder / "2021-04-22.jsonl").write_text(to_jsonl(read_listing(example_listing).papers))
    secrets = {name: users.add_user(name) for name in ("ada", "bob")}
    ada, bob = home / "users" / "ada" / "profiles", home / "users" / "bob" / "profiles"
    (ada / "sr.toml").write_text((REPO / "profiles" / "super-resolution.toml").read_text())
    (bob / "sr.toml").write_text((REPO / "profiles" / "medical-segmentation.toml").read_text())
    (bob / "bob-only.toml").write_text((REPO / "profiles" / "super-resolution.toml").read_text())
    app = create_app(Settings(users=True, page_wait=30))
    return app, secrets


def ada_alone(home: Path, example_listing: Path) -> str:
    """A lab of ada alone, with her profile 'sr', and one stored day; her secret."""
    folder = home / "listings" / "cs.CV"
    folder.mkdir(parents=True)
    (folder / "2021-04-22.jsonl").write_text(to_jsonl(read_listing(example_listing).papers))
    secret = users.add_user("ada")
    (home / "users" / "ada" / "profiles" / "sr.toml").write_text(
        (REPO / "profiles" / "super-resolution.toml").read_text()
    )
    return secret


def _client(app) -> TestClient:
    return TestClient(app, base_url=BASE, follow_redirects=False, raise_server_exceptions=False)


def _login_token(client: TestClient, base: str = "") -> str:
    """The login form's token, as the login page gives it to this client (whose cookie jar keeps its login cookie)."""
    return re.search(r'name="csrf" value="([^"]+)"', client.get(f"{base}/login").text).group(1)


def _login(client: TestClient, name: str, secret: str, next_path: str = "/"):
    csrf = _login_token(client)
    return client.post("/login", data={"name": name, "secret": secret, "csrf": csrf, "next": next_path})


def _logged_in(app, name: str, secret: str) -> TestClient:
    client = _client(app)
    assert _login(client, name, secret).status_code == 303
    return client


def _csrf(app, name: str) -> str:
    return app.lab.app_of(name).state.csrf


def _snapshot(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_pages_need_a_login_and_the_session_cookie_is_httponly_and_lax(lab):
    app, secrets = lab
    with _client(app) as client:
        first = client.get("/profile?profile=sr")
        assert first.status_code == 303 and first.headers["location"] == "/login?next=%2Fprofile%3Fprofile%3Dsr"
        assert client.post("/rate", data={"csrf": _csrf(app, "ada"), "profile": "sr"}).status_code == 401
        page = client.get("/login?next=%2Fprofile%3Fprofile%3Dsr")
        assert page.status_code == 200 and 'name="secret"' in page.text and "content-security-policy" in page.headers
        wrong = _login(client, "ada", secrets["bob"])
        assert wrong.status_code == 401 and "wrong name or secret" in wrong.text
        assert _login(client, "eve", secrets["ada"]).status_code == 401
        done = _login(client, "ada", secrets["ada"], "/profile?profile=sr")
        assert done.status_code == 303 and done.headers["location"] == "/profile?profile=sr"
        cookie = done.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
        profile = client.get("/profile?profile=sr")
        assert profile.status_code == 200 and "Log out ada" in profile.text


def test_two_labs_on_one_host_keep_their_own_sessions(lab):
    """A browser sends a host's cookies to each of its ports: each lab's session cookie names its own port."""
    app, secrets = lab
    other = create_app(Settings(users=True, port=8788, page_wait=30))

    async def by_port(scope, receive, send):  # one browser, one cookie jar, two servers on one host
        port = dict(scope.get("headers", [])).get(b"host", b"").rpartition(b":")[2]
        await (other if port == b"8788" else app)(scope, receive, send)

    def login(lab_app, base: str, name: str):
        form = {"name": name, "secret": secrets[name], "csrf": _login_token(browser, base), "next": "/"}
        return browser.post(f"{base}/login", data=form).headers["set-cookie"]

    with TestClient(by_port, base_url=BASE, follow_redirects=False) as browser:
        assert login(app, BASE, "ada").startswith("paperrec_session_8787=")
        assert login(other, "http://127.0.0.1:8788", "bob").startswith("paperrec_session_8788=")
        assert "Log out ada" in browser.get(f"{BASE}/profile?profile=sr").text
        assert "Log out bob" in browser.get("http://127.0.0.1:8788/profile?profile=sr").text
        out = browser.post("http://127.0.0.1:8788/logout", data={"csrf": _csrf(other, "bob")})
        assert out.status_code == 303
        assert "Log out ada" in browser.get(f"{BASE}/profile?profile=sr").text  # the other lab's logout ends no session


def test_a_login_over_https_keeps_its_session_off_plain_http(lab):
    """Behind an HTTPS reverse proxy the session cookie is Secure: an http:// visit on the lab's network never
    carries it."""
    app, secrets = lab
    with TestClient(app, base_url="https://127.0.0.1:8787", follow_redirects=False) as client:
        done = _login(client, "ada", secrets["ada"])
        assert done.status_code == 303 and "; Secure" in done.headers["set-cookie"]
        out = client.post("/logout", data={"csrf": _csrf(app, "ada")})
        assert out.status_code == 303 and "; Secure" in out.headers["set-cookie"]
    with _client(app) as plain:  # plain HTTP on a machine of its own: a Secure cookie would never come back
        assert "Secure" not in _login(plain, "ada", secrets["ada"]).headers["set-cookie"]


@pytest.mark.parametrize("wanted", ["//evil.example/x", "http://evil.example/", "/\\evil.example", "evil", "/a b"])
def test_the_login_goes_only_to_a_path_of_this_server(lab, wanted):
    app, secrets = lab
    with _client(app) as client:
        assert _login(client, "ada", secrets["ada"], wanted).headers["location"] == "/"


def test_the_login_form_needs_its_csrf_token_and_our_origin(lab):
    app, secrets = lab
    with _client(app) as client:
        bare = client.post("/login", data={"name": "ada", "secret": secrets["ada"]})
        assert bare.status_code == 403
        foreign = client.post(
            "/login",
            data={"name": "ada", "secret": secrets["ada"], "csrf": _login_token(client)},
            headers={"origin": "http://evil.example"},
        )
        assert foreign.status_code == 403 and "set-cookie" not in foreign.headers


def test_a_refused_login_or_logout_form_says_its_own_status(lab, monkeypatch):
    from recommender.users import remove_user

    app, secrets = lab
    with _client(app) as client:
        big = client.post("/login", data={"name": "ada", "secret": "x" * 1_100_000, "csrf": _login_token(client)})
        assert big.status_code == 413 and "413" in big.text and "403" not in big.text
    client = _logged_in(app, "ada", secrets["ada"])
    with client:
        big = client.post("/logout", data={"csrf": _csrf(app, "ada"), "pad": "x" * 1_100_000})
        assert big.status_code == 413
    # a user removed between the secret's check and the session: a failed login, not a server error
    monkeypatch.setattr("recommender.web.lab.verify", lambda name, secret: (remove_user(name), True)[1])
    with _client(app) as client:
        assert _login(client, "bob", secrets["bob"]).status_code == 401


def test_a_secret_pasted_with_spaces_around_it_logs_in(lab):
    """A phone's paste adds a space, a chat's copy a newline: a secret never has either, so they cost no try."""
    app, secrets = lab
    with _client(app) as client:
        assert _login(client, "Ada ", f" {secrets['ada']}\n").status_code == 303
        assert _login(client, "ada", secrets["ada"][:-1] + " ").status_code == 401


def test_logins_are_throttled_per_name_and_per_client(lab):
    app, secrets = lab
    now = [0.0]
    app.lab.by_name.clock = app.lab.by_client.clock = lambda: now[0]
    with _client(app) as client:
        for _ in range(5):
            assert _login(client, "ada", "guess").status_code == 401
        held = _login(client, "ada", secrets["ada"])  # even the right secret waits: guesses cannot go on
        assert held.status_code == 429 and "too many failed logins" in held.text
        now[0] += 15 * 60
        assert _login(client, "ada", secrets["ada"]).status_code == 303
        for i in range(20):  # one client trying many names
            _login(client, f"nobody{i}", "guess")
        assert _login(client, "bob", secrets["bob"]).status_code == 429
        now[0] += 15 * 60
        assert _login(client, "bob", secrets["bob"]).status_code == 303


def test_logout_reset_and_remove_end_sessions(lab):
    app, secrets = lab
    with _logged_in(app, "ada", secrets["ada"]) as ada, _logged_in(app, "bob", secrets["bob"]) as bob:
        assert ada.post("/logout", data={}).status_code == 403  # a cross-site form cannot log anyone out
        out = ada.post("/logout", data={"csrf": _csrf(app, "ada")})
        assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]
        assert ada.get("/profile").status_code == 303
        assert bob.get("/profile").status_code == 200
        users.reset_user("bob")
        assert bob.get("/profile").status_code == 303
        bob2 = _logged_in(app, "ada", secrets["ada"])
        users.remove_user("ada")
        assert bob2.get("/profile").status_code == 303


def test_a_user_can_never_see_or_change_another_users_data(lab, home):
    from recommender.signing import vote_token

    app, secrets = lab
    bob_folder = home / "users" / "bob"
    ada = _logged_in(app, "ada", secrets["ada"])
    bob = _logged_in(app, "bob", secrets["bob"])
    assert bob.get("/?profile=bob-only").status_code == 200  # bob's day ranked and shown to bob
    assert bob.post("/rate", data={"csrf": _csrf(app, "bob"), "profile": "bob-only", "id": "2104.10642",
                                   "action": "like"}).status_code == 303  # fmt: skip
    with paths.as_user("bob"):
        bob_link = vote_token("bob-only", "2104.10615", "like")
    before = _snapshot(bob_folder)
    bob_path = str(bob_folder / "profiles" / "bob-only.toml")
    mine, theirs = _csrf(app, "ada"), _csrf(app, "bob")
    for profile in ("bob-only", bob_path):
        for url in ("/", "/sharpen", "/profile", "/history", "/new/done"):
            response = ada.get(url, params={"profile": profile})
            assert response.status_code == 404, (url, profile, response.status_code)
            assert "2104.10642" not in response.text
        for name in ("rank", "sharpen", "backtest"):
            assert ada.get("/job", params={"name": name, "profile": profile}).status_code == 404
        for url, fields in [
            ("/rate", {"id": "2104.10615", "action": "like"}),
            ("/undo", {"id": "2104.10642"}),
            ("/more", {}),
            ("/sharpen", {}),
            ("/profile/backtest", {}),
            ("/profile/paper", {"id": "2104.10642", "to": "remove"}),
            ("/profile/interests", {"interests": "taken over"}),
            ("/profile/categories", {"category": "cs.AI"}),
        ]:
            own = ada.post(url, data={"csrf": mine, "profile": profile, **fields})
            assert own.status_code == 404, (url, profile, own.status_code)
            stolen = ada.post(url, data={"csrf": theirs, "profile": profile, **fields})  # bob's token is not ada's
            assert stolen.status_code == 403, (url, profile, stolen.status_code)
    assert ada.post("/fetch", data={"csrf": theirs}).status_code == 403
    upload = ada.post(f"/new?csrf={theirs}", data={"name": "bob-only"}, files={"library": ("x.bib", b"@misc{a,}")})
    assert upload.status_code == 403
    # bob's signed link: no session opens it outside /u/bob/, and ada's own secret does not sign it
    assert ada.get(f"/vote/{bob_link}").status_code == 404
    assert ada.post(f"/vote/{bob_link}", data={"csrf": mine}).status_code == 404
    assert ada.get(f"/u/ada/vote/{bob_link}").status_code == 400  # the signature is bob's, not ada's
    assert ada.post(f"/u/ada/vote/{bob_link}", data={"csrf": mine}).status_code == 400
    for other in ("/u/bob/profile", "/u/bob/", "/u/bob/rate", "/u/nobody/vote/x", "/u/../vote/x"):
        assert ada.get(other).status_code == 404
        assert ada.post(other, data={"csrf": theirs}).status_code == 404
    assert _snapshot(bob_folder) == before
    assert "2104.10642" in load_profile(bob_folder / "profiles" / "bob-only.toml").ids
    assert not (home / "users" / "ada" / "profiles" / "bob-only.toml").exists()


def test_a_vote_link_opens_without_a_login_in_its_users_own_files(lab, home):
    from recommender.signing import vote_url

    app, _ = lab
    with paths.as_user("bob"):
        url = vote_url(BASE, "sr", "2104.10642", "like")
    path = url.removeprefix(BASE)
    assert path.startswith("/u/bob/vote/")
    ada_before = _snapshot(home / "users" / "ada")
    with _client(app) as phone:
        page = phone.get(path, headers={"sec-fetch-site": "cross-site"})  # opened from a webmail's page
        assert page.status_code == 200 and "Confirm your vote" in page.text
        whose = re.search(r'<p id="whose">(.*?)</p>', page.text, re.S).group(1)
        assert "<strong>bob</strong>" in whose and "medical-segmentation" in whose and "forwarded" in whose
        forged = phone.get(path.replace("/u/bob/", "/u/ada/"), headers={"sec-fetch-site": "cross-site"})
        assert "Confirm your vote" not in forged.text  # ada's secret did not sign it: a foreign link shows no page
        action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
        assert action == path  # the confirmation posts back under /u/bob/
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert phone.post(path, data={}).status_code == 403
        done = phone.post(action, data={"csrf": csrf})
        assert done.status_code == 200 and "Recorded" in done.text
        assert phone.get("/profile").status_code == 303  # the link opened nothing else
    assert "2104.10642" in load_profile(home / "users" / "bob" / "profiles" / "sr.toml").ids
    assert _snapshot(home / "users" / "ada") == ada_before


def test_each_paper_is_embedded_once_for_the_whole_lab(lab, fake_model, home):
    app, secrets = lab
    with _logged_in(app, "ada", secrets["ada"]) as ada, _logged_in(app, "bob", secrets["bob"]) as bob:
        assert ada.get("/?profile=sr").status_code == 200
        assert bob.get("/?profile=sr").status_code == 200
        assert bob.get("/?profile=bob-only").status_code == 200
    assert len(fake_model) == 1  # one model for the lab
    texts = fake_model[0].texts
    assert texts and len(texts) == len(set(texts))
    assert (home / "cache" / "embeddings.sqlite3").is_file()
    assert not list((home / "users").rglob("embeddings.sqlite3"))


def test_the_readme_lab_setup_bound_to_an_ip_and_addressed_by_it(home, example_listing, tmp_path):
    """A real `paperrec serve --users --host 127.0.0.2`: the login page, a login and the Today page, by IP."""
    import http.client
    import os
    import subprocess
    import sys
    import time
    from urllib.parse import urlencode

    from tests.test_browser import _free_port

    secret = ada_alone(home, example_listing)
    port = _free_port()
    env = {**os.environ, "PAPERREC_HOME": str(home)}
    log = (tmp_path / "server.log").open("w")
    command = [sys.executable, "-m", "tests.web_launcher", str(port), "--users", "--host", "127.0.0.2"]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log)

    def request(method: str, path: str, body: str | None = None, cookie: str = ""):
        connection = http.client.HTTPConnection("127.0.0.2", port, timeout=60)
        headers = {"Cookie": cookie} if cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            return answer.status, dict(answer.getheaders()), answer.read().decode("utf-8")
        finally:
            connection.close()

    try:
        deadline = time.monotonic() + 300  # a bound for a stuck start only
        while True:
            try:
                status, shown, page = request("GET", "/login")
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                time.sleep(0.1)
        assert status == 200
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        form = urlencode({"name": "ada", "secret": secret, "csrf": csrf})
        status, headers, _ = request("POST", "/login", form, cookie=shown["set-cookie"].split(";")[0])
        assert status == 303 and "HttpOnly" in headers["set-cookie"]
        cookie = headers["set-cookie"].split(";")[0]
        status, _, page = request("GET", "/profile?profile=sr", cookie=cookie)
        assert status == 200 and "Log out ada" in page
    finally:
        process.terminate()  # ours, by its pid
        process.wait(30)
        log.close()
    printed = (tmp_path / "server.log").read_text()
    assert f"http://127.0.0.2:{port}/" in printed and "lab user's login" in printed and "no token" not in printed


def test_the_lab_behind_an_https_reverse_proxy_on_its_own_name(lab):
    """A proxy on the lab's name passes the browser's Host (no port: 443 is the default) to a server on 127.0.0.1;
    --allow-host NAME lets it in, and the browser's Origin (no port either) passes the form check."""
    _, secrets = lab
    app = create_app(Settings(users=True, allow_hosts=("lab.example.org",), page_wait=30))
    origin = {"origin": "https://lab.example.org"}
    with TestClient(app, base_url="https://lab.example.org", follow_redirects=False, headers=origin) as client:
        done = _login(client, "ada", secrets["ada"])
        assert done.status_code == 303 and "; Secure" in done.headers["set-cookie"]
        assert client.get("/").status_code == 200
        assert client.get("/", headers={"host": "evil.example"}).status_code == 421
    app = create_app(Settings(users=True, allow_hosts=("lab.example.org:443",), page_wait=30))
    with TestClient(app, base_url="https://lab.example.org:443", follow_redirects=False, headers=origin) as client:
        assert _login(client, "ada", secrets["ada"]).status_code == 303
        client.headers["host"] = "lab.example.org:443"  # a proxy that passes the port the browser left out
        assert client.get("/").status_code == 200
        assert client.post("/logout", data={"csrf": _csrf(app, "ada")}).status_code == 303


def test_a_name_removed_and_added_again_gets_a_new_app_and_none_of_the_old_files(lab, home):
    app, secrets = lab
    with _logged_in(app, "ada", secrets["ada"]) as ada:
        assert ada.get("/profile?profile=sr").status_code == 200
    old_app = app.lab.app_of("ada")
    users.remove_user("ada")
    secret = users.add_user("ada")
    assert app.lab.app_of("ada") is not old_app
    with _logged_in(app, "ada", secret) as ada:
        assert ada.get("/profile?profile=sr").status_code in (400, 404)  # it went aside with her folder
    assert any(p.name.startswith("ada.removed-") for p in (home / "users").iterdir())


def test_a_name_added_again_after_its_old_folder_was_deleted_gets_a_new_app(lab, home):
    import shutil

    app, _ = lab
    old_app = app.lab.app_of("ada")
    shutil.rmtree(users.remove_user("ada"))  # the old files deleted: a file system may give the new folder their inode
    users.add_user("ada")
    assert app.lab.app_of("ada") is not old_app


def test_a_login_form_posted_from_another_site_is_refused_whatever_its_origin_says(lab):
    # A page elsewhere may post the login form from a sandboxed frame (Origin: null), to log its visitor in as its
    # author. The browser says where the post came from, whatever the form holds.
    app, secrets = lab
    with _client(app) as victim:
        form = {"name": "bob", "secret": secrets["bob"], "csrf": _login_token(victim), "next": "/"}
        for site in ("cross-site", "same-site"):  # same-site: another port of this host
            forged = victim.post("/login", data=form, headers={"origin": "null", "sec-fetch-site": site})
            assert forged.status_code == 403 and "set-cookie" not in forged.headers
        own = victim.post("/login", data=form, headers={"origin": "null", "sec-fetch-site": "same-origin"})
        assert own.status_code == 303 and own.headers["set-cookie"].startswith("paperrec_session_8787=")


def test_a_login_forms_token_is_its_browsers_own_so_another_sites_page_logs_no_visitor_in(lab):
    # The attacker reads a token from /login with their own browser, and their page posts it, with their name and
    # secret, from the visitor's browser: one that says nothing of where the post came from (no Sec-Fetch-Site).
    app, secrets = lab
    with _client(app) as attacker:
        token = _login_token(attacker)
    with _client(app) as visitor:
        form = {"name": "bob", "secret": secrets["bob"], "csrf": token, "next": "/"}
        cold = visitor.post("/login", data=form, headers={"origin": "null"})  # a visitor who never saw /login
        assert cold.status_code == 403 and "set-cookie" not in cold.headers and "login cookie" in cold.text
        own = _login_token(visitor)  # the visitor's browser has its own login cookie now: the attacker's token fits not
        forged = visitor.post("/login", data=form, headers={"origin": "null"})
        assert forged.status_code == 403 and "set-cookie" not in forged.headers
        assert token != own and app.lab.sessions == {}
        done = visitor.post("/login", data={**form, "csrf": own}, headers={"origin": "null"})
        assert done.status_code == 303 and done.headers["set-cookie"].startswith("paperrec_session_8787=")


def test_the_login_cookie_is_httponly_samesite_and_secure_over_https(lab):
    app, _ = lab
    with _client(app) as plain:
        cookie = plain.get("/login").headers["set-cookie"]
        assert cookie.startswith("paperrec_login_8787=") and "; HttpOnly; SameSite=Lax" in cookie
        assert "Secure" not in cookie
        assert "set-cookie" not in plain.get("/login").headers  # one cookie per browser: its open tabs keep working
    with TestClient(app, base_url="https://127.0.0.1:8787", follow_redirects=False) as secure:
        assert secure.get("/login").headers["set-cookie"].endswith("; HttpOnly; SameSite=Lax; Secure")
