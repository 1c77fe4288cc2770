"""Users, passwords, sign-in with rate limiting, sessions and signed review links.

The dashboard keeps the ``Identity`` that ``login`` or ``identity_from_review_link``
returns and hands it to every library call that reads or changes client data; those calls
scope their queries by it. ``Identity`` itself is defined in ``pipeline.access.identity``.

Example:
    >>> identity = login(session, "anna@example.com", "correct horse")   # doctest: +SKIP
    >>> identity.is_staff, identity.expires_at                            # doctest: +SKIP
    (True, datetime.datetime(2026, 11, 24, 6, 0, tzinfo=datetime.timezone.utc))
"""

from __future__ import annotations

import math
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.access import audit
from pipeline.access.options import DEFAULTS
from pipeline.access.identity import Identity, SessionExpired, check_session, system_identity  # noqa: F401 (re-exported)
from pipeline.core.clock import as_utc, utcnow
from pipeline.core.errors import CastmillError, ConfigError, NotFoundError
from pipeline.core.vocab import ROLES, STAFF_ROLES  # noqa: F401 (re-exported)
from pipeline.store.models import Client, LoginAttempt, User

# The option values under the names this module has always had (tests and the demo read them).
SESSION_HOURS = DEFAULTS.session_hours
MAX_FAILURES = DEFAULTS.max_failures
FAILURE_WINDOW = DEFAULTS.failure_window
MIN_PASSWORD_LENGTH = DEFAULTS.min_password_length
REVIEW_LINK_HOURS = DEFAULTS.review_link_hours
SECRET_ENV = "CASTMILL_SECRET_KEY"
SECRET_FILE = "secret.key"
_REVIEW_LINK_SALT = "castmill.review-link"  # separates these tokens from any other use of the secret
WRONG_CREDENTIALS = "wrong email or password"

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters (RFC 9106 low-memory)
_dummy_hash: str | None = None


class AuthFailed(CastmillError):
    """Sign-in refused: wrong credentials, or too many attempts."""


class ReviewLinkInvalid(CastmillError):
    """A review link token is expired, tampered with, or names a client that is gone."""


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    role: str
    client_slug: str | None
    display_name: str
    timezone: str
    disabled: bool
    created_at: datetime


# --------------------------------------------------------------------------- passwords

def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _waste_a_verify(password: str) -> None:
    """Spend the time of a real check, so an unknown email answers as slowly as a known one."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_hex(16))
    verify_password(_dummy_hash, password)


# --------------------------------------------------------------------------- users

def normalize_email(email: str) -> str:
    return email.strip().lower()


def add_user(session: Session, email: str, password: str, role: str, client_slug: str | None = None,
             display_name: str = "", timezone: str = "UTC", *, actor: str = "system") -> User:
    """Create a user. ConfigError on a bad role, unknown client, duplicate email or weak password."""
    email = normalize_email(email)
    _check_email(email)
    client = _client_for_role(session, role, client_slug)
    _check_zone(timezone)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"password is too short: use at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise ConfigError(f"a user with email {email} already exists")
    user = User(email=email, password_hash=hash_password(password), role=role,
                client_id=client.id if client else None, display_name=display_name.strip(), timezone=timezone,
                disabled=False)
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.add", entity_type="user", entity_id=user.id,
                 client_id=user.client_id,
                 after={"email": email, "role": role, "client": client_slug if client else None})
    return user


def _user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise NotFoundError(f"no user {normalize_email(email)}")
    return user


def set_password(session: Session, email: str, password: str, *, actor: str = "system") -> User:
    """A new password for an existing user (their open sessions end at their next action)."""
    user = _user_by_email(session, email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"password is too short: use at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = hash_password(password)
    audit.record(session, actor=actor, action="user.password_reset", entity_type="user", entity_id=user.id,
                 client_id=user.client_id)
    return user


def set_disabled(session: Session, email: str, disabled: bool, *, actor: str = "system") -> User:
    """Disable (or re-enable) a user: a disabled user cannot sign in and is stopped at the next action."""
    user = _user_by_email(session, email)
    before = user.disabled
    user.disabled = disabled
    audit.record(session, actor=actor, action="user.disable" if disabled else "user.enable", entity_type="user",
                 entity_id=user.id, client_id=user.client_id, before={"disabled": before}, after={"disabled": disabled})
    return user


def _check_email(email: str) -> None:
    local, _, domain = email.partition("@")
    if not local or not domain or any(c.isspace() for c in email):
        raise ConfigError(f"{email!r} is not an email address")


def _client_for_role(session: Session, role: str, client_slug: str | None) -> Client | None:
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if role != "client":
        if client_slug:
            raise ConfigError(f"a {role} sees every client; --client is only for client users")
        return None
    if not client_slug:
        raise ConfigError("a client user needs a client: pass --client SLUG")
    client = session.scalar(select(Client).where(Client.slug == client_slug))
    if client is None:
        raise ConfigError(f"unknown client {client_slug!r}; add it with `castmill client add`")
    return client


def _check_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {name!r} (use an IANA name like Asia/Jakarta)") from None


def list_users(session: Session) -> list[UserRow]:
    rows = session.execute(select(User, Client.slug).outerjoin(Client, Client.id == User.client_id)
                           .order_by(User.role, User.email))
    return [UserRow(u.id, u.email, u.role, slug, u.display_name, u.timezone, u.disabled, as_utc(u.created_at))
            for u, slug in rows]


# --------------------------------------------------------------------------- sign-in

def login(session: Session, email: str, password: str, *, now: datetime | None = None) -> Identity:
    """The identity for these credentials, valid for SESSION_HOURS.

    Raises AuthFailed with one message for an unknown email and a wrong password; after
    MAX_FAILURES failures for the email within FAILURE_WINDOW, every attempt is refused until
    the oldest of them leaves the window. A failed attempt is committed before raising, so a
    caller that rolls back still counts it.
    """
    now = as_utc(now or utcnow())
    email = normalize_email(email)
    locked_for = _lockout_left(session, email, now)
    if locked_for is not None:
        minutes = max(1, math.ceil(locked_for.total_seconds() / 60))
        _refuse(session, email, now, reason="rate_limited", count_failure=False)
        raise AuthFailed(f"too many attempts; try again in {minutes} minute{'s' if minutes != 1 else ''}")
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        _waste_a_verify(password)
    if user is None or not verify_password(user.password_hash, password) or user.disabled:
        _refuse(session, email, now, reason="wrong_credentials", user=user)
        raise AuthFailed(WRONG_CREDENTIALS)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.add(LoginAttempt(email=email, at=now, ok=True))
    audit.record(session, actor=email, action="user.login", entity_type="user", entity_id=user.id,
                 user_id=user.id, client_id=user.client_id)
    return _identity_of(session, user, now + timedelta(hours=SESSION_HOURS))


def _lockout_left(session: Session, email: str, now: datetime) -> timedelta | None:
    """How long the email stays locked, or None. Failures before its last success do not count."""
    recent = session.execute(
        select(LoginAttempt.at, LoginAttempt.ok)
        .where(LoginAttempt.email == email, LoginAttempt.at > now - FAILURE_WINDOW)
        .order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc())
    ).all()
    failures = []
    for at, ok in recent:
        if ok:
            break
        failures.append(as_utc(at))
    if len(failures) < MAX_FAILURES:
        return None
    return failures[MAX_FAILURES - 1] + FAILURE_WINDOW - now


def _refuse(session: Session, email: str, now: datetime, *, reason: str, user: User | None = None,
            count_failure: bool = True) -> None:
    # Refusals while locked are not counted, so hammering cannot extend the lock forever.
    if count_failure:
        session.add(LoginAttempt(email=email, at=now, ok=False))
    audit.record(session, actor=email, action="user.login_failed", entity_type="user",
                 entity_id=user.id if user else None, user_id=user.id if user else None,
                 client_id=user.client_id if user else None, after={"reason": reason})
    session.commit()


def _identity_of(session: Session, user: User, expires_at: datetime) -> Identity:
    slug = session.scalar(select(Client.slug).where(Client.id == user.client_id)) if user.client_id else None
    return Identity(user_id=user.id, email=user.email, role=user.role, client_id=user.client_id, client_slug=slug,
                    display_name=user.display_name or user.email, timezone=user.timezone, expires_at=expires_at)


# --------------------------------------------------------------------------- review links

def secret_key(home: Path | None = None) -> str:
    """CASTMILL_SECRET_KEY, else a random key created once in ``<home>/secret.key`` (mode 0600)."""
    if value := os.environ.get(SECRET_ENV):
        return value
    from pipeline.core.settings import default_home

    path = Path(home or default_home()).expanduser() / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _serializer(home: Path | None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(home), salt=_REVIEW_LINK_SALT)


def make_review_link_token(session: Session, client_slug: str, hours: int = REVIEW_LINK_HOURS, *,
                           home: Path | None = None, actor: str = "system") -> str:
    """A signed token that opens ``client_slug``'s review queue (only) for ``hours``."""
    client = session.scalar(select(Client).where(Client.slug == client_slug))
    if client is None:
        raise ConfigError(f"unknown client {client_slug!r}; add it with `castmill client add`")
    if hours <= 0:
        raise ConfigError("a review link must last at least one hour")
    token = _serializer(home).dumps({"client_id": client.id, "client": client.slug, "hours": hours})
    audit.record(session, actor=actor, action="review_link.create", entity_type="client", entity_id=client.id,
                 client_id=client.id, after={"hours": hours})
    return token


def review_link_url(public_url: str, token: str) -> str:
    """The address a review link opens: the dashboard's public address ([server] public_url) with the token."""
    return f"{public_url.rstrip('/')}/?token={token}"


def identity_from_review_link(session: Session, token: str, *, now: datetime | None = None,
                              home: Path | None = None) -> Identity:
    """A client identity for that client only, expiring with the token."""
    try:
        payload, signed_at = _serializer(home).loads(token, return_timestamp=True)
        client_id, slug, hours = int(payload["client_id"]), str(payload["client"]), float(payload["hours"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise ReviewLinkInvalid("this review link is not valid") from None
    expires_at = as_utc(signed_at) + timedelta(hours=hours)
    if as_utc(now or utcnow()) >= expires_at:
        raise ReviewLinkInvalid("this review link has expired")
    client = session.get(Client, client_id)
    if client is None or client.slug != slug or _created_after(client, signed_at):
        raise ReviewLinkInvalid("this review link is not valid")
    return Identity(user_id=None, email=f"review link {slug}", role="client", client_id=client.id, client_slug=slug,
                    display_name=client.name, timezone=client.timezone, expires_at=expires_at)


def _created_after(client: Client, signed_at: datetime) -> bool:
    """True when ``client`` was created after the token was signed: the client the link named was erased and
    one was added again under the same slug (SQLite may even give it the same id). The token's time has
    whole seconds; one second of slack keeps a link made at once after its client valid."""
    return client.created_at is not None and as_utc(client.created_at) > as_utc(signed_at) + timedelta(seconds=1)


def check_active(session: Session, identity: Identity, *, now: datetime | None = None) -> None:
    """Raise SessionExpired unless ``identity`` still stands: not expired; a signed-in user still exists with the
    same role and client and is not disabled; a client identity's client still exists under the same slug (an
    erased client's sessions and review links stop here)."""
    check_session(identity, now)
    if identity.user_id is not None:
        user = session.get(User, identity.user_id)
        if user is None or user.disabled or user.role != identity.role or user.client_id != identity.client_id:
            raise SessionExpired("your account has changed; sign in again")
    if identity.client_id is not None:
        client = session.get(Client, identity.client_id)
        if client is None or client.slug != identity.client_slug:
            raise SessionExpired("this review link is not valid any more" if identity.is_review_link
                                 else "your account has changed; sign in again")
