"""config.toml: the [email] table and serve_url, and a one-line error for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from recommender.config import EXAMPLE, Config, EmailConfig, config_path, load_config
from recommender.paths import home
from recommender.schema import PaperrecError

MINIMAL = '[email]\nhost = "smtp.example.org"\nfrom = "me@example.org"\nto = "me@example.org"\n'


def _write(text: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _error(text: str | None = None, *, password: bool = False) -> str:
    if text is not None:
        _write(text)
    with pytest.raises(PaperrecError) as caught:
        config = load_config()
        config.require_email()
        if password:
            config.require_email().password()
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_config_lives_under_home():
    assert config_path() == home() / "config.toml"


def test_the_readme_example_reads(monkeypatch):
    path = _write(EXAMPLE + '\n[serve]\nport = 8787\n\n[email.extra]\nanything = 1\nfuture_key = "kept"\n')
    config = load_config()
    assert config.serve_url == "http://127.0.0.1:8787"
    assert config.path == path
    assert config.data["serve"] == {"port": 8787}  # unknown keys are kept for whoever reads them, not refused
    email = config.require_email()
    assert email == EmailConfig(
        host="smtp.example.org",
        sender="paperrec <me@example.org>",
        to=("me@example.org",),
        port=587,
        security="starttls",
        username="me@example.org",
        password_env="PAPERREC_SMTP_PASSWORD",
    )
    monkeypatch.setenv("PAPERREC_SMTP_PASSWORD", "s3cret")
    assert email.password() == "s3cret"


def test_defaults_and_lists():
    _write(MINIMAL.replace('to = "me@example.org"', 'to = ["a@example.org", "B <b@example.org>"]'))
    email = load_config().require_email()
    assert (email.port, email.security, email.username, email.password()) == (587, "starttls", None, None)
    assert email.to == ("a@example.org", "B <b@example.org>")
    _write(MINIMAL + 'security = "SSL"\nca_file = "~/lab-ca.pem"\n')
    email = load_config().require_email()
    assert (email.port, email.security, email.ca_file) == (465, "ssl", Path("~/lab-ca.pem").expanduser())
    _write(MINIMAL.replace("smtp.example.org", "localhost") + 'security = "none"\nport = 1025\n')
    assert load_config().require_email().port == 1025
    for host in ("127.0.0.1", "::1", "[::1]"):
        _write(MINIMAL.replace("smtp.example.org", host) + 'security = "none"\n')
        assert load_config().require_email().security == "none"


def test_missing_file():
    message = _error()
    assert str(config_path()) in message and "[email]" in message and "host" in message
    assert load_config(missing_ok=True) == Config(path=config_path())


def test_missing_email_table():
    _write('serve_url = "http://127.0.0.1:8787/"\n')
    assert load_config().serve_url == "http://127.0.0.1:8787"
    message = _error()
    assert "no [email] table" in message and str(config_path()) in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MINIMAL + 'security = "tls"\n', "email.security: 'tls' is not one of starttls, ssl, none"),
        (MINIMAL + 'security = "none"\n', "email.security: 'none' sends mail unencrypted"),
        (MINIMAL + "port = 0\n", "email.port: 0 is not a port number"),
        (MINIMAL + 'port = "587"\n', "email.port"),
        (MINIMAL + 'username = "me"\n', "email.password_env: missing"),
        (MINIMAL + 'username = "me"\npassword_env = "hunter2 !"\n', "should be the NAME of an environment variable"),
        (MINIMAL + 'password = "hunter2"\n', "email.password: paperrec does not read passwords from files"),
        (MINIMAL.replace('host = "smtp.example.org"\n', ""), "email.host: missing"),
        (MINIMAL.replace('from = "me@example.org"\n', ""), "email.from: missing"),
        (MINIMAL.replace('to = "me@example.org"\n', ""), "email.to: missing"),
        (MINIMAL.replace('to = "me@example.org"', "to = []"), "email.to: missing"),
        (MINIMAL.replace('to = "me@example.org"', 'to = ["nobody"]'), "email.to: 'nobody' is not an email address"),
        (MINIMAL.replace('to = "me@example.org"', "to = [1]"), "email.to: must be a non-empty string"),
        (MINIMAL.replace('"me@example.org"\nto', '"a@x.org, b@y.org"\nto'), "email.from"),
        (MINIMAL.replace("smtp.example.org", "smtp\\nexample.org"), "email.host: must be one line"),
        ('email = "smtp.example.org"\n', "'email' must be a table"),
        ('serve_url = "127.0.0.1:8787"\n' + MINIMAL, "serve_url: '127.0.0.1:8787' is not an http(s) address"),
        ('serve_url = "ftp://h/"\n' + MINIMAL, "serve_url"),
        ("[email\nhost = 1\n", "invalid TOML"),
    ],
)
def test_each_mistake_is_one_line_naming_file_and_key(text, expected):
    message = _error(text)
    assert expected in message
    assert message.startswith(str(config_path())) or "TOML" in message


def test_missing_password_variable(monkeypatch):
    monkeypatch.delenv("PAPERREC_TEST_SMTP_PASSWORD", raising=False)
    text = MINIMAL + 'username = "me"\npassword_env = "PAPERREC_TEST_SMTP_PASSWORD"\n'
    message = _error(text, password=True)
    assert "set the environment variable PAPERREC_TEST_SMTP_PASSWORD" in message
    monkeypatch.setenv("PAPERREC_TEST_SMTP_PASSWORD", "")
    assert "PAPERREC_TEST_SMTP_PASSWORD" in _error(text, password=True)
