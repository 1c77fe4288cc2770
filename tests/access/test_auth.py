"""Users, passwords, sign-in rate limits, sessions and review links."""

from __future__ import annotations

import os
import stat
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pipeline.access import auth
from pipeline.core.errors import ConfigError
from pipeline.core.clock import utcnow
from pipeline.store.models import AuditEvent, LoginAttempt, User
from tests.review.conftest import PASSWORD, sign_in


def test_the_real_hasher_uses_argon2id_with_the_library_defaults(production_hasher):
    from argon2 import PasswordHasher, Type

    assert production_hasher.type is Type.ID
    assert production_hasher.memory_cost == PasswordHasher().memory_cost >= 19 * 1024  # OWASP floor, KiB
    stored = production_hasher.hash(PASSWORD)
    assert production_hasher.verify(stored, PASSWORD)


def test_the_stored_hash_is_argon2id_and_verifies_only_the_right_password(world):
    with world.db.session() as session:
        stored = session.scalar(select(User.password_hash).where(User.email == "va@castmill.test"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert auth.verify_password(stored, PASSWORD)
    assert not auth.verify_password(stored, PASSWORD + "!")
    assert not auth.verify_password("not a hash", PASSWORD)
    assert auth.hash_password(PASSWORD) != auth.hash_password(PASSWORD)  # salted


@pytest.mark.parametrize("kwargs, message", [
    ({"role": "owner"}, "unknown role 'owner'"),
    ({"role": "client"}, "a client user needs a client"),
    ({"role": "client", "client_slug": "nope"}, "unknown client 'nope'"),
    ({"role": "va", "client_slug": "acme"}, "a va sees every client"),
    ({"role": "va", "password": "short7!"}, "password is too short: use at least 8 characters"),
    ({"role": "va", "email": "VA@Castmill.test"}, "a user with email va@castmill.test already exists"),
    ({"role": "va", "email": "not-an-email"}, "is not an email address"),
    ({"role": "va", "timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
])
def test_add_user_refuses_bad_input_with_a_config_error(world, kwargs, message):
    arguments = {"email": "new@castmill.test", "password": PASSWORD} | kwargs
    with pytest.raises(ConfigError, match=message):
        with world.db.session() as session:
            auth.add_user(session, **arguments)


def test_login_returns_an_identity_valid_for_twelve_hours(world):
    now = utcnow()
    identity = sign_in(world.db, "  CEO@acme.TEST ", now=now)
    assert (identity.email, identity.role, identity.client_id, identity.client_slug) == \
        ("ceo@acme.test", "client", world.acme, "acme")
    assert identity.timezone == "America/New_York" and identity.display_name == "ceo@acme.test"
    assert identity.expires_at == now + timedelta(hours=auth.SESSION_HOURS)
    assert not identity.is_staff and identity.can_see_client(world.acme) and not identity.can_see_client(world.budi)
    assert world.va.is_staff and world.va.can_see_client(world.budi) and world.va.display_name == "Vera"


def test_unknown_email_and_wrong_password_get_the_same_message(world):
    with pytest.raises(auth.AuthFailed) as unknown:
        sign_in(world.db, "nobody@castmill.test")
    with pytest.raises(auth.AuthFailed) as wrong:
        sign_in(world.db, "va@castmill.test", "wrong password")
    assert str(unknown.value) == str(wrong.value) == "wrong email or password"


def test_a_disabled_user_gets_the_same_message(world):
    with world.db.session() as session:
        session.scalar(select(User).where(User.email == "va@castmill.test")).disabled = True
    with pytest.raises(auth.AuthFailed, match="^wrong email or password$"):
        sign_in(world.db, "va@castmill.test")


def test_five_failures_lock_the_email_for_fifteen_minutes_even_with_the_right_password(world):
    start = utcnow()
    for minute in range(5):
        with pytest.raises(auth.AuthFailed, match="wrong email or password"):
            sign_in(world.db, "va@castmill.test", "guess", now=start + timedelta(minutes=minute))
    with pytest.raises(auth.AuthFailed, match="^too many attempts; try again in 11 minutes$"):
        sign_in(world.db, "va@castmill.test", now=start + timedelta(minutes=4))
    with pytest.raises(auth.AuthFailed, match="try again in 1 minute$"):
        sign_in(world.db, "va@castmill.test", now=start + timedelta(minutes=14, seconds=30))
    # the first failure has left the window: four remain, the right password works again
    assert sign_in(world.db, "va@castmill.test", now=start + timedelta(minutes=15, seconds=1)).role == "va"


def test_the_lock_applies_to_unknown_emails_and_is_per_email(world):
    now = utcnow()
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(auth.AuthFailed, match="wrong email"):
            sign_in(world.db, "ghost@castmill.test", "x", now=now)
    with pytest.raises(auth.AuthFailed, match="too many attempts"):
        sign_in(world.db, "ghost@castmill.test", "x", now=now)
    assert sign_in(world.db, "va@castmill.test", now=now).email == "va@castmill.test"


def test_a_success_clears_earlier_failures(world):
    now = utcnow()
    for _ in range(4):
        with pytest.raises(auth.AuthFailed):
            sign_in(world.db, "va@castmill.test", "guess", now=now)
    sign_in(world.db, "va@castmill.test", now=now + timedelta(seconds=1))
    for _ in range(4):
        with pytest.raises(auth.AuthFailed, match="wrong email"):
            sign_in(world.db, "va@castmill.test", "guess", now=now + timedelta(seconds=2))
    assert sign_in(world.db, "va@castmill.test", now=now + timedelta(seconds=3)).role == "va"


def test_failed_attempts_are_kept_although_the_caller_rolls_back(world):
    with pytest.raises(auth.AuthFailed):
        sign_in(world.db, "va@castmill.test", "guess")  # the session context rolls back on the exception
    with world.db.session() as session:
        attempts = session.execute(select(LoginAttempt.ok).where(LoginAttempt.email == "va@castmill.test")).all()
        failures = session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action == "user.login_failed"))
    assert attempts.count((False,)) == 1 and failures == 1


def test_sessions_expire(world):
    identity = world.va
    auth.check_session(identity, now=identity.expires_at - timedelta(seconds=1))
    with pytest.raises(auth.SessionExpired, match="your session has expired; sign in again"):
        auth.check_session(identity, now=identity.expires_at)


# --------------------------------------------------------------------------- review links

def make_link(world, slug="acme", hours=72, **kwargs):
    with world.db.session() as session:
        return auth.make_review_link_token(session, slug, hours, **kwargs)


def open_link(world, token, **kwargs):
    with world.db.session() as session:
        return auth.identity_from_review_link(session, token, **kwargs)


def test_a_review_link_opens_that_client_only_until_it_expires(world, castmill_home, monkeypatch):
    monkeypatch.delenv(auth.SECRET_ENV, raising=False)
    token = make_link(world, hours=48)
    identity = open_link(world, token)
    assert (identity.role, identity.client_id, identity.client_slug, identity.user_id) == \
        ("client", world.acme, "acme", None)
    assert identity.is_review_link and not identity.can_see_client(world.budi)
    assert timedelta(hours=47, minutes=59) < identity.expires_at - utcnow() <= timedelta(hours=48)
    with pytest.raises(auth.ReviewLinkInvalid, match="^this review link has expired$"):
        open_link(world, token, now=utcnow() + timedelta(hours=48, seconds=1))
    with pytest.raises(auth.SessionExpired, match="this review link has expired"):
        auth.check_session(identity, now=identity.expires_at)


def test_tampered_or_foreign_review_links_are_not_valid(world, monkeypatch):
    monkeypatch.delenv(auth.SECRET_ENV, raising=False)
    token = make_link(world)
    payload, signature = token.rsplit(".", 1)
    # the first character: the last one of unpadded base64 also carries unused bits
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    from itsdangerous import URLSafeTimedSerializer

    forged = URLSafeTimedSerializer("another secret", salt="castmill.review-link").dumps(
        {"client_id": world.budi, "client": "budi", "hours": 72})
    for bad in (payload + "." + flipped, forged, "", "garbage"):
        with pytest.raises(auth.ReviewLinkInvalid, match="^this review link is not valid$"):
            open_link(world, bad)


def test_a_review_link_for_a_deleted_client_is_not_valid(world):
    from sqlalchemy import delete

    from pipeline.store.models import Client

    token = make_link(world, slug="budi")
    with world.db.session() as session:
        session.execute(delete(Client).where(Client.id == world.budi))
    with pytest.raises(auth.ReviewLinkInvalid, match="not valid"):
        open_link(world, token)


def test_the_secret_is_created_once_with_mode_0600_unless_the_environment_sets_it(world, castmill_home, monkeypatch):
    monkeypatch.delenv(auth.SECRET_ENV, raising=False)
    token = make_link(world)
    key_file = castmill_home / "secret.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    first = key_file.read_text()
    assert open_link(world, token).client_slug == "acme" and key_file.read_text() == first
    monkeypatch.setenv(auth.SECRET_ENV, "from-the-environment")
    with pytest.raises(auth.ReviewLinkInvalid, match="not valid"):
        open_link(world, token)  # signed with the file's key, checked with the environment's
    assert open_link(world, make_link(world)).client_slug == "acme"


def test_review_links_need_a_known_client_and_at_least_an_hour(world):
    with pytest.raises(ConfigError, match="unknown client 'nope'"):
        make_link(world, slug="nope")
    with pytest.raises(ConfigError, match="at least one hour"):
        make_link(world, hours=0)
