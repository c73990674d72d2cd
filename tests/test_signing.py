"""Signed vote links: round trip, every kind of tampering refused, the secret file."""

from __future__ import annotations

import base64
import re
import stat
from datetime import date, timedelta
from urllib.parse import quote

import pytest

from recommender.paths import home
from recommender.schema import PaperrecError
from recommender.signing import Vote, link_secret, read_vote_token, secret_path, vote_token, vote_url

DAY = date(2021, 4, 22)
PROFILE = "super résolution|v2"  # spaces, accents and separators in a profile name


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _refused(token: str, **kwargs) -> str:
    with pytest.raises(PaperrecError) as caught:
        read_vote_token(token, today=DAY, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and message
    return message


@pytest.mark.parametrize("action", ["like", "dislike"])
@pytest.mark.parametrize("arxiv_id", ["2104.10642", "hep-th/9901001", "t:0123456789ab"])
def test_round_trip(action, arxiv_id):
    token = vote_token(PROFILE, arxiv_id, action, issued=DAY)
    assert read_vote_token(token, today=DAY) == Vote(PROFILE, arxiv_id, action, DAY)


def test_token_needs_no_url_escaping_and_is_stable():
    token = vote_token(PROFILE, "hep-th/9901001", "dislike", issued=DAY)
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", token)
    assert quote(token, safe="") == token
    assert vote_token(PROFILE, "hep-th/9901001", "dislike", issued=DAY) == token
    assert vote_token(PROFILE, "hep-th/9901001", "like", issued=DAY) != token


def _signed_the_old_way(profile: str, arxiv_id: str, action: str, day: date) -> str:
    """A token as paperrec signed it before links named profiles: version 1, the profile file's path."""
    import hashlib
    import hmac

    payload = "\x1f".join(["1", action, day.strftime("%Y%m%d"), arxiv_id, profile]).encode()
    mac = hmac.new(link_secret(), b"paperrec vote link v1\x00" + payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


@pytest.mark.parametrize("path", ["/home/me/profiles/vision.toml", "profiles/vision", "vision.toml", ".vision", ""])
def test_a_path_is_never_signed(path):
    with pytest.raises(PaperrecError, match="sign a profile name"):
        vote_token(path, "2104.10642", "like")


def test_old_links_with_a_path_still_read_until_they_expire():
    old_path = "/home/me/profiles/super résolution.toml"
    token = _signed_the_old_way(old_path, "2104.10642", "like", DAY)
    assert read_vote_token(token, today=DAY) == Vote(old_path, "2104.10642", "like", DAY, by_path=True)
    assert read_vote_token(token, today=DAY + timedelta(days=60)).by_path
    expired = _signed_the_old_way(old_path, "2104.10642", "like", DAY - timedelta(days=61))
    assert "expired" in _refused(expired)


def test_a_new_link_naming_a_path_is_refused():
    import recommender.signing as signing

    payload = "\x1f".join(["2", "like", "20210422", "2104.10642", "/home/me/vision.toml"]).encode()
    token = f"{_b64(payload)}.{_b64(signing._mac(link_secret(), payload))}"
    assert "does not name a profile" in _refused(token)


def test_vote_url():
    url = vote_url("http://127.0.0.1:8787/", "vision", "2104.10642", "like")
    base, token = url.rsplit("/vote/", 1)
    assert base == "http://127.0.0.1:8787"
    assert read_vote_token(token) == Vote("vision", "2104.10642", "like", date.today())


def test_flipped_payload_byte_is_refused():
    payload, mac = vote_token(PROFILE, "2104.10642", "dislike", issued=DAY).split(".")
    raw = _unb64(payload)
    for index in range(len(raw)):
        changed = bytearray(raw)
        changed[index] ^= 0x01
        assert "signature" in _refused(f"{_b64(bytes(changed))}.{mac}")
    # the attack that matters: turn a dislike into a like, keeping the MAC
    forged = raw.replace(b"dislike", b"like")
    assert "signature" in _refused(f"{_b64(forged)}.{mac}")


def test_flipped_mac_byte_is_refused():
    payload, mac = vote_token(PROFILE, "2104.10642", "like", issued=DAY).split(".")
    raw = _unb64(mac)
    for index in range(len(raw)):
        changed = bytearray(raw)
        changed[index] ^= 0x80
        assert "signature" in _refused(f"{payload}.{_b64(bytes(changed))}")


def test_every_changed_character_is_refused():
    token = vote_token("vision", "2104.10642", "like", issued=DAY)
    for index, char in enumerate(token):
        for other in {"A", "B", "_", "-", "."} - {char}:
            _refused(token[:index] + other + token[index + 1 :])


def test_truncated_and_malformed_tokens_are_refused():
    token = vote_token("vision", "2104.10642", "like", issued=DAY)
    for cut in range(len(token)):
        _refused(token[:cut])
    for bad in ["", ".", "abc", token + "x", token + ".x", token.replace(".", "%2E"), "é" + token, token + "="]:
        _refused(bad)


def test_another_secret_is_refused(tmp_path, monkeypatch):
    token = vote_token("vision", "2104.10642", "like", issued=DAY)
    monkeypatch.setenv("PAPERREC_HOME", str(tmp_path / "other-home"))
    assert "signature" in _refused(token)


def test_expired_and_future_tokens_are_refused():
    old = vote_token("vision", "2104.10642", "like", issued=DAY - timedelta(days=61))
    assert "expired" in _refused(old)
    assert read_vote_token(old, today=DAY, max_age_days=61).action == "like"
    edge = vote_token("vision", "2104.10642", "like", issued=DAY - timedelta(days=60))
    assert read_vote_token(edge, today=DAY).issued == DAY - timedelta(days=60)
    future = vote_token("vision", "2104.10642", "like", issued=DAY + timedelta(days=2))
    assert "future" in _refused(future)


def test_bad_action_is_refused_when_signing_and_when_reading():
    with pytest.raises(PaperrecError, match="unknown vote action"):
        vote_token("vision", "2104.10642", "upvote")
    # a correctly signed payload with an action this version does not know (as another version might make)
    import recommender.signing as signing

    payload = "\x1f".join(["1", "delete", "20210422", "2104.10642", "vision"]).encode()
    token = f"{_b64(payload)}.{_b64(signing._mac(link_secret(), payload))}"
    assert "unknown action" in _refused(token)


def test_a_vote_for_another_action_is_refused():
    token = vote_token("vision", "2104.10642", "dislike", issued=DAY)
    assert read_vote_token(token, today=DAY, action="dislike").action == "dislike"
    assert "for 'dislike', not 'like'" in _refused(token, action="like")


def test_secret_is_created_once_with_mode_0600():
    assert not secret_path().exists()
    first = link_secret()
    assert secret_path().is_relative_to(home())
    assert len(first) == 32
    assert stat.S_IMODE(secret_path().stat().st_mode) == 0o600
    assert link_secret() == first
    assert [p.name for p in secret_path().parent.iterdir()] == ["link-secret"]  # no temporary left


def test_damaged_secret_is_one_line_error():
    secret_path().parent.mkdir(parents=True)
    secret_path().write_bytes(b"short")
    with pytest.raises(PaperrecError, match="damaged") as caught:
        vote_token("vision", "2104.10642", "like")
    assert "\n" not in str(caught.value)


def signed(payload: str) -> str:
    """A token for any payload, signed with this home's secret, as another paperrec version could have made it."""
    import hashlib
    import hmac

    data = payload.encode("utf-8")
    mac = hmac.new(link_secret(), b"paperrec vote link v1\x00" + data, hashlib.sha256).digest()
    return f"{_b64(data)}.{_b64(mac)}"


def test_a_nul_in_a_profile_or_paper_is_refused_when_signing_and_when_reading():
    for profile, arxiv_id in (("vi\x00sion", "2104.10642"), ("vision", "2104.10642\x00")):
        with pytest.raises(PaperrecError, match="cannot sign a vote"):
            vote_token(profile, arxiv_id, "like", issued=DAY)
    cases = [
        ("2", "vi\x00sion", "2104.10642"),
        ("2", "vision", "2104.10642\x00"),
        ("1", "/home/me/a\x00b.toml", "2104.10642"),
    ]
    for version, profile, arxiv_id in cases:  # version 1 links carry the profile's path
        token = signed("\x1f".join((version, "like", "20210422", arxiv_id, profile)))
        assert _refused(token) == "invalid vote link: it names a profile or paper with a NUL character"


def test_checking_a_stranger_s_token_makes_no_secret(tmp_path, monkeypatch):
    from recommender.signing import is_signed

    token = vote_token("sr", "2104.10642", "like")  # signed in another home
    monkeypatch.setenv("PAPERREC_HOME", str(tmp_path / "fresh"))
    assert not secret_path().exists()
    assert not is_signed(token) and not secret_path().exists()  # read only: no secret made for a stranger
