"""A lab's server fetches no feed on its own machine or network; one person's paperrec still may."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from recommender import paths, users
from recommender.cli import app
from recommender.sources import public
from recommender.sources.feed import fetch_listing
from recommender.sources.public import PrivateAddress, refusal

from .fixture_apis import feed_route, nature_rss, serving

NOW = {"now": datetime(2026, 12, 5, 9, tzinfo=UTC)}
FEEDS = {"/neuro.rss": nature_rss([("s1", "Cortical waves", None)])}


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    from recommender.sources import feed

    monkeypatch.setattr(feed, "MIN_INTERVAL", 0.0)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fd00::1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("fe80::1%eth0", "a link-local address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("2002:7f00:1::", "a loopback address"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "a link-local address"),  # NAT64 around 169.254.169.254
        ("64:ff9b:1::a00:5", "a private address"),  # NAT64's local-use prefix around 10.0.0.5
        ("::ffff:0:a00:5", "a private address"),  # SIIT's IPv4-translated form of 10.0.0.5
        ("::a00:5", "a private address"),  # IPv4-compatible 10.0.0.5
        ("64:ff9b::5db8:d70e", None),  # NAT64 around a public address
        ("100.100.100.200", "not a public address"),  # shared address space: one cloud's metadata service
        ("93.184.215.14", None),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", None),
    ],
)
def test_only_a_public_address_may_be_fetched_in_a_lab(address, kind):
    assert refusal(address) == kind


def test_one_persons_paperrec_reads_a_feed_on_its_own_machine(home):
    with serving(feed_route(FEEDS)) as server:
        listing, _ = fetch_listing([server.url + "/neuro.rss"], **NOW)
    assert [p.title for p in listing.papers] == ["Cortical waves"]


def test_a_lab_members_feed_on_the_servers_machine_is_refused_before_any_request(home, monkeypatch):
    users.add_user("ada")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):  # a proxy would connect anywhere: a lab's feed uses none
        monkeypatch.setenv(name, "http://proxy.example.org:3128")
    with serving(feed_route(FEEDS)) as server, paths.as_user("ada"), pytest.raises(PrivateAddress) as refused:
        fetch_listing([server.url + "/neuro.rss"], **NOW)
    assert str(refused.value).startswith("refused: 127.0.0.1 is a loopback address, and a lab's server fetches no")
    assert "allow_private_sources = true in the lab's config.toml" in str(refused.value)
    assert server.paths == []


def test_a_name_that_resolves_to_a_private_address_is_refused(home, monkeypatch):
    users.add_user("ada")
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        return real("10.0.0.7" if host == "feeds.example.org" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with paths.as_user("ada"), pytest.raises(PrivateAddress, match=r"feeds\.example\.org \(10\.0\.0\.7\) is a private"):
        fetch_listing(["http://feeds.example.org/neuro.rss"], **NOW)


def test_each_connection_of_a_redirect_is_checked_on_the_address_it_connects_to(home, monkeypatch):
    users.add_user("ada")
    real_resolve, real_refusal = socket.getaddrinfo, public.refusal
    asked: list[str] = []

    def resolve(host, port, *args, **kwargs):
        asked.append(host)
        # The feed's own name is the test server; its www. name answers with the cloud's metadata address.
        found = {"feeds.example.org": "127.0.0.1", "www.feeds.example.org": "169.254.169.254"}.get(host, host)
        return real_resolve(found, port, *args, **kwargs)

    def route(path, query):
        if path == "/neuro.rss":
            return 302, {"Location": f"http://www.feeds.example.org:{port}/latest/meta-data/"}, b""
        return feed_route(FEEDS)(path, query)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(public, "refusal", lambda address: None if address == "127.0.0.1" else real_refusal(address))
    with serving(route) as server, paths.as_user("ada"):
        port = server.url.rsplit(":", 1)[1]
        with pytest.raises(PrivateAddress, match=r"www\.feeds\.example\.org \(169\.254\.169\.254\) is a link-local"):
            fetch_listing([f"http://feeds.example.org:{port}/neuro.rss"], **NOW)
    assert server.paths == ["/neuro.rss"] and "www.feeds.example.org" in asked


def test_the_labs_own_config_may_allow_its_members_private_feeds_and_a_members_may_not(home):
    users.add_user("ada")
    mine = home / "users" / "ada" / "config.toml"
    mine.write_text("allow_private_sources = true\n")
    with serving(feed_route(FEEDS)) as server, paths.as_user("ada"):
        with pytest.raises(PrivateAddress):
            fetch_listing([server.url + "/neuro.rss"], **NOW)
        (home / "config.toml").write_text("allow_private_sources = true\n")
        listing, _ = fetch_listing([server.url + "/neuro.rss"], **NOW)
    assert [p.title for p in listing.papers] == ["Cortical waves"]


def test_the_labs_morning_run_says_why_a_private_feed_is_not_read(home, fake_model):
    users.add_user("ada")
    with serving(feed_route(FEEDS)) as server:
        profile = f'name = "neuro"\nsources = ["feed:{server.url}/neuro.rss"]\ninterests = ["cortex"]\n'
        (home / "users" / "ada" / "profiles" / "neuro.toml").write_text(profile)
        result = CliRunner().invoke(app, ["today", "--all-users"])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if "refused" in line]
    assert len(errors) == 1 and "127.0.0.1 is a loopback address, and a lab's server fetches no source" in errors[0]
    assert server.paths == [] and "Traceback" not in result.output


def test_the_labs_fetch_today_says_why_a_private_feed_is_not_read(home, fake_model, monkeypatch):
    import time

    from argon2 import PasswordHasher

    from recommender.web import Settings, create_app

    from .test_lab import _client, _csrf, _login

    monkeypatch.setattr(users, "_hasher", lambda: PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    secret = users.add_user("ada")
    app = create_app(Settings(users=True, page_wait=30))
    with serving(feed_route(FEEDS)) as server, _client(app) as page:
        profile = f'name = "neuro"\nsources = ["feed:{server.url}/neuro.rss"]\ninterests = ["cortex"]\n'
        (home / "users" / "ada" / "profiles" / "neuro.toml").write_text(profile)
        assert _login(page, "ada", secret).status_code == 303
        assert page.post("/fetch", data={"csrf": _csrf(app, "ada"), "profile": "neuro"}).status_code == 303
        for _ in range(600):  # the job runs in a thread of its own: a bound for a stuck one only
            job = page.get("/job?name=fetch").json()
            if not job["running"]:
                break
            time.sleep(0.05)
    assert job["failed"] and "refused: 127.0.0.1 is a loopback address, and a lab's server fetches no" in job["line"]
    assert server.paths == []
