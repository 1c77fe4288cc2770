"""Accounts: tokens never stored in plain text, clear messages that never carry a token."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timezone

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from pipeline.publish.credentials import (CredentialError, account_for_post, add_account, list_accounts, resolve_account)
from pipeline.core.errors import ConfigError, NotFoundError
from pipeline.store.models import Account
from pipeline.publish.publishers import Account as PublisherAccount
from pipeline.publish.publishers import UnknownPublisher
from tests.helpers.calendar import add_client, add_draft, add_post

TOKEN = "tok_" + "S3cr3tV4lue" * 3


@pytest.fixture
def secret_key(monkeypatch) -> str:
    key = secrets.token_urlsafe(48)
    monkeypatch.setenv("CASTMILL_SECRET_KEY", key)
    return key


def test_an_encrypted_token_is_nowhere_in_the_database_file_in_plain_text(db, settings, secret_key):
    with db.session() as session:
        add_client(session, "acme", "America/New_York")
        add_account(session, "acme", "mastodon", base_url="https://social.example", token=TOKEN)
    with db.session() as session:
        stored = session.execute(text("SELECT token_env, token_encrypted FROM accounts")).one()
        assert stored.token_env == ""
        assert TOKEN not in stored.token_encrypted and stored.token_encrypted
        assert resolve_account(session, session.query(Account).one()).token == TOKEN
    db.dispose()  # flush SQLite's WAL into the file before grepping the bytes
    raw = settings.home.joinpath("castmill.db").read_bytes()
    assert TOKEN.encode() not in raw
    assert base64.b64encode(TOKEN.encode()) not in raw


def test_the_key_is_derived_from_the_secret_so_another_secret_cannot_decrypt(db, secret_key, monkeypatch):
    with db.session() as session:
        add_client(session, "acme")
        account = add_account(session, "acme", "mastodon", token=TOKEN)
        blob = account.token_encrypted
        with pytest.raises(Exception):  # the secret is not used as the Fernet key directly
            Fernet(base64.urlsafe_b64encode(secret_key.encode()[:32])).decrypt(blob.encode())
        monkeypatch.setenv("CASTMILL_SECRET_KEY", secrets.token_urlsafe(48))
        with pytest.raises(CredentialError, match="cannot be decrypted with CASTMILL_SECRET_KEY") as caught:
            resolve_account(session, account)
        assert TOKEN not in str(caught.value)
        assert "acme/mastodon/default" in str(caught.value)


def test_encrypting_without_a_secret_key_says_how_to_set_one(db, monkeypatch):
    monkeypatch.delenv("CASTMILL_SECRET_KEY", raising=False)
    with db.session() as session:
        add_client(session, "acme")
        with pytest.raises(ConfigError, match="CASTMILL_SECRET_KEY is not set") as caught:
            add_account(session, "acme", "mastodon", token=TOKEN)
    assert "export CASTMILL_SECRET_KEY" in str(caught.value) and "--token-env" in str(caught.value)


def test_a_token_from_the_environment_is_read_at_resolve_time(db, monkeypatch):
    monkeypatch.delenv("ACME_MASTODON_TOKEN", raising=False)
    with db.session() as session:
        add_client(session, "acme")
        account = add_account(session, "acme", "mastodon", base_url="https://social.example", handle="acme",
                              token_env="ACME_MASTODON_TOKEN", expires_at=datetime(2027, 1, 1))
        assert (account.token_env, account.token_encrypted) == ("ACME_MASTODON_TOKEN", "")
        with pytest.raises(CredentialError) as caught:
            resolve_account(session, account)
        assert str(caught.value) == "ACME_MASTODON_TOKEN is not set (the token of account acme/mastodon/default)"

        monkeypatch.setenv("ACME_MASTODON_TOKEN", TOKEN)
        resolved = resolve_account(session, account)
    assert (resolved.platform, resolved.base_url, resolved.token, resolved.handle) == \
        ("mastodon", "https://social.example", TOKEN, "acme")
    assert resolved.expires_at == datetime(2027, 1, 1, tzinfo=timezone.utc)


def test_adding_the_same_account_again_replaces_it_and_drops_the_old_token(db, secret_key):
    with db.session() as session:
        add_client(session, "acme")
        add_account(session, "acme", "mastodon", token=TOKEN)
        add_account(session, "acme", "mastodon", token_env="ACME_MASTODON_TOKEN")
        add_account(session, "acme", "mastodon", name="second", token_env="OTHER_TOKEN")
        rows = [(a.name, a.token_env, a.token_encrypted) for a, _slug in list_accounts(session, "acme")]
    assert rows == [("default", "ACME_MASTODON_TOKEN", ""), ("second", "OTHER_TOKEN", "")]


@pytest.mark.parametrize("kwargs, message", [
    ({"token": TOKEN, "token_env": "X_TOKEN"}, "not both"),
    ({"token_env": "ACME TOKEN; rm -rf"}, "not an environment variable name"),
])
def test_bad_token_sources_are_refused(db, secret_key, kwargs, message):
    with db.session() as session:
        add_client(session, "acme")
        with pytest.raises(ConfigError, match=message):
            add_account(session, "acme", "mastodon", **kwargs)


def test_unknown_platform_and_client_are_refused(db):
    with db.session() as session:
        add_client(session, "acme")
        with pytest.raises(UnknownPublisher, match="no publisher for 'myspace'"):
            add_account(session, "acme", "myspace", token_env="T")
        with pytest.raises(NotFoundError, match="unknown client 'nobody'"):
            add_account(session, "nobody", "mastodon", token_env="T")


def test_a_post_without_an_account_goes_to_the_clients_outbox(db, monkeypatch):
    monkeypatch.setenv("ACME_X", TOKEN)
    with db.session() as session:
        client = add_client(session, "acme")
        post = add_post(session, add_draft(session, client), datetime(2027, 1, 1, tzinfo=timezone.utc))
        assert account_for_post(session, post) == PublisherAccount(platform="outbox", base_url="", handle="acme")
        account = add_account(session, "acme", "x", token_env="ACME_X")
        post.account_id = account.id
        resolved = account_for_post(session, post)
    assert (resolved.platform, resolved.token) == ("x", TOKEN)
