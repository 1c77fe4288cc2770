"""``castmill user add|list`` and ``castmill review-link``."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from pipeline.access import auth
from pipeline.cli.root import cli
from pipeline.core.settings import load_settings
from pipeline.store.db import Database
from pipeline.store.models import User


def castmill(*args, stdin: str | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


@pytest.fixture
def home(castmill_home):
    assert castmill("client", "add", "acme", "--name", "Acme").exit_code == 0
    return castmill_home


def stored_users(home):
    db = Database(load_settings(home).database_url)
    try:
        with db.session() as session:
            return {u.email: (u.role, u.client_id, u.password_hash) for u in session.scalars(select(User))}
    finally:
        db.dispose()


def test_user_add_reads_the_password_from_stdin_and_stores_only_its_hash(home):
    result = castmill("user", "add", "Budi@Acme.test", "--role", "client", "--client", "acme", "--name", "Budi",
                      "--timezone", "Asia/Jakarta", "--password-stdin", stdin="s3cret-password\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "added client budi@acme.test for client acme\n"
    role, client_id, password_hash = stored_users(home)["budi@acme.test"]
    assert role == "client" and client_id is not None
    assert auth.verify_password(password_hash, "s3cret-password") and "s3cret" not in password_hash


def test_user_add_prompts_twice_without_echoing(home):
    result = castmill("user", "add", "va@castmill.test", "--role", "va", stdin="hunter2hunter2\nhunter2hunter2\n")
    assert result.exit_code == 0, result.stderr
    assert "hunter2" not in result.output and "Repeat for confirmation" in result.output
    assert auth.verify_password(stored_users(home)["va@castmill.test"][2], "hunter2hunter2")


def test_user_add_rejects_a_mismatched_confirmation(home):
    result = castmill("user", "add", "va@castmill.test", "--role", "va",
                      stdin="hunter2hunter2\nsomething-else\nhunter2hunter2\nhunter2hunter2\n")
    assert "do not match" in result.output and result.exit_code == 0
    assert list(stored_users(home)) == ["va@castmill.test"]


@pytest.mark.parametrize("args, stdin, message", [
    (("--role", "client", "--client", "nope"), "long-enough\n", "unknown client 'nope'"),
    (("--role", "va"), "short\n", "password is too short"),
    (("--role", "client"), "long-enough\n", "a client user needs a client"),
])
def test_user_add_errors_are_one_line_and_exit_1(home, args, stdin, message):
    result = castmill("user", "add", "x@castmill.test", *args, "--password-stdin", stdin=stdin)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and message in result.stderr and result.stderr.count("\n") == 1
    assert stored_users(home) == {}


def test_a_duplicate_email_is_refused(home):
    castmill("user", "add", "va@castmill.test", "--role", "va", "--password-stdin", stdin="long-enough\n")
    result = castmill("user", "add", "VA@castmill.test", "--role", "admin", "--password-stdin", stdin="long-enough\n")
    assert result.exit_code == 1 and "already exists" in result.stderr


def test_user_list_shows_users_without_password_hashes(home):
    castmill("user", "add", "va@castmill.test", "--role", "va", "--name", "Vera", "--password-stdin",
             stdin="long-enough\n")
    castmill("user", "add", "ceo@acme.test", "--role", "client", "--client", "acme", "--password-stdin",
             stdin="long-enough\n")
    listed = json.loads(castmill("user", "list", "--json").stdout)
    assert [(u["email"], u["role"], u["client"], u["name"]) for u in listed] == [
        ("ceo@acme.test", "client", "acme", ""), ("va@castmill.test", "va", None, "Vera")]
    assert "argon2" not in json.dumps(listed)
    table = castmill("user", "list").stdout
    assert "va@castmill.test" in table and "argon2" not in table


def test_review_link_prints_a_url_whose_token_opens_that_client(home, monkeypatch):
    monkeypatch.delenv(auth.SECRET_ENV, raising=False)
    result = castmill("review-link", "acme", "--hours", "24", "--base-url", "https://review.example.com/")
    assert result.exit_code == 0, result.stderr
    url = urlparse(result.stdout.strip())
    assert (url.scheme, url.netloc, url.path) == ("https", "review.example.com", "/")
    token = parse_qs(url.query)["token"][0]
    assert "valid for 24 hours" in result.stderr
    db = Database(load_settings(home).database_url)
    try:
        with db.session() as session:
            identity = auth.identity_from_review_link(session, token, home=home)
    finally:
        db.dispose()
    assert (identity.client_slug, identity.role) == ("acme", "client")
    assert (home / "secret.key").is_file()


def test_review_link_is_on_the_public_address_from_the_settings(home, monkeypatch):
    (home / "castmill.toml").write_text('[server]\npublic_url = "https://review.acme.example/castmill/"\n')
    url = urlparse(castmill("review-link", "acme").stdout.strip())
    assert (url.scheme, url.netloc, url.path) == ("https", "review.acme.example", "/castmill/")
    monkeypatch.setenv("CASTMILL_PUBLIC_URL", "https://other.example")
    assert castmill("review-link", "acme").stdout.startswith("https://other.example/?token=")


def test_a_public_address_that_is_not_http_is_refused_in_one_line(home):
    (home / "castmill.toml").write_text('[server]\npublic_url = "review.acme.example"\n')
    result = castmill("review-link", "acme")
    assert result.exit_code != 0
    assert "public_url" in result.stderr and "https://review.example.com" in result.stderr


def test_review_link_for_an_unknown_client_fails_cleanly(home):
    result = castmill("review-link", "nope")
    assert result.exit_code == 1 and "unknown client 'nope'" in result.stderr
    assert castmill("review-link", "acme", "--hours", "0").exit_code == 2  # click's range check


def test_password_reset_and_disable_take_effect_at_sign_in(home):
    assert castmill("user", "add", "va@x.test", "--role", "va", "--password-stdin", stdin="first-password\n").exit_code == 0
    reset = castmill("user", "password", "VA@x.test", "--password-stdin", stdin="second-password\n")
    assert reset.exit_code == 0 and reset.stdout == "new password set for va@x.test\n"
    db = Database(load_settings(home).database_url)
    try:
        with db.session() as session:
            with pytest.raises(auth.AuthFailed):
                auth.login(session, "va@x.test", "first-password")
            assert auth.login(session, "va@x.test", "second-password").role == "va"
        assert castmill("user", "disable", "va@x.test").stdout == "va@x.test is disabled\n"
        with db.session() as session, pytest.raises(auth.AuthFailed, match="wrong email or password"):
            auth.login(session, "va@x.test", "second-password")
        assert castmill("user", "disable", "va@x.test", "--enable").stdout == "va@x.test is enabled\n"
        with db.session() as session:
            assert auth.login(session, "va@x.test", "second-password").email == "va@x.test"
    finally:
        db.dispose()
    missing = castmill("user", "disable", "nobody@x.test")
    assert missing.exit_code == 1 and "no user nobody@x.test" in missing.stderr
