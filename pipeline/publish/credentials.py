"""Platform accounts and their credentials.

A token is never stored in plain text. An account holds either
- ``token_env``: the NAME of an environment variable read at publish time, or
- ``token_encrypted``: the token encrypted with Fernet (AES-128-CBC + HMAC-SHA256).

The Fernet key is derived from the environment variable ``CASTMILL_SECRET_KEY`` with
HKDF-SHA256 (fixed salt and info below), whatever its form (a Fernet key, or any long random
string). Deriving even from a Fernet key is deliberate: the same variable also signs review
links (pipeline.access.auth), and HKDF keeps the two uses' keys apart. HKDF is not a password hash:
use a long random secret, not a word. Changing the secret makes stored tokens unreadable
(add the accounts again); there is no fallback key file, so a missing variable is an error.

Messages name variables and accounts, never a token's value.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.core.clock import as_utc
from pipeline.core.errors import CastmillError, ConfigError, NotFoundError
from pipeline.store.clients import get_client
from pipeline.core.clock import utcnow
from pipeline.store.models import Account, Client, ScheduledPost
from pipeline.publish import publishers

SECRET_KEY_ENV = "CASTMILL_SECRET_KEY"
# Fixed: a different salt or info would derive a different key from the same secret.
HKDF_SALT = b"castmill-credentials"
HKDF_INFO = b"castmill account tokens v1"
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
GENERATE_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


class CredentialError(CastmillError):
    """An account's token cannot be found or read."""


# --- the key and the cipher ---------------------------------------------------------------------

def fernet() -> Fernet:
    secret = os.environ.get(SECRET_KEY_ENV, "")
    if not secret:
        raise ConfigError(f"{SECRET_KEY_ENV} is not set: stored tokens are encrypted with it. "
                          f"Create one with {GENERATE_HINT} and export {SECRET_KEY_ENV}=<key>, "
                          "or use --token-env to read the token from an environment variable instead")
    return Fernet(_fernet_key(secret))


def _fernet_key(secret: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=HKDF_INFO).derive(secret.encode("utf-8"))
    return base64.urlsafe_b64encode(derived)


def encrypt_token(token: str) -> str:
    return fernet().encrypt(token.encode("utf-8")).decode("ascii")


def decrypt_token(blob: str, label: str) -> str:
    try:
        return fernet().decrypt(blob.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise CredentialError(f"the stored token of {label} cannot be decrypted with {SECRET_KEY_ENV} "
                              "(was the key changed?); add the account again") from None


# --- accounts -----------------------------------------------------------------------------------

def add_account(session: Session, client_slug: str, platform: str, *, name: str = "default", base_url: str = "",
                handle: str = "", token_env: str | None = None, token: str | None = None,
                expires_at: datetime | None = None, extra: dict | None = None) -> Account:
    """Add the account, or replace the one with the same client, platform and name."""
    client = get_client(session, client_slug)
    platform = platform.strip().lower()
    if platform not in publishers.PUBLISHERS:
        valid = ", ".join(publishers.PUBLISHERS)
        raise publishers.UnknownPublisher(f"no publisher for {platform!r}; valid names: {valid}")
    _check_token_source(token_env, token)
    account = session.scalar(select(Account).where(Account.client_id == client.id, Account.platform == platform,
                                                   Account.name == name))
    if account is None:
        account = Account(client_id=client.id, platform=platform, name=name)
        session.add(account)
    account.base_url = base_url
    account.handle = handle
    account.token_env = token_env or ""
    account.token_encrypted = encrypt_token(token) if token else ""
    account.expires_at = _aware(expires_at)
    account.extra = dict(extra or {})
    account.last_check_at = None
    account.last_check_error = ""
    session.flush()
    return account


def _check_token_source(token_env: str | None, token: str | None) -> None:
    if token_env and token:
        raise ConfigError("give either a token environment variable or a token, not both")
    if token_env and not ENV_NAME.match(token_env):
        raise ConfigError(f"{token_env!r} is not an environment variable name (letters, digits, _)")


def _aware(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def list_accounts(session: Session, client_slug: str | None = None) -> list[tuple[Account, str]]:
    """(account, client slug) pairs, by client, platform and name."""
    query = (select(Account, Client.slug).join(Client, Client.id == Account.client_id)
             .order_by(Client.slug, Account.platform, Account.name))
    if client_slug:
        query = query.where(Account.client_id == get_client(session, client_slug).id)
    return [(account, slug) for account, slug in session.execute(query)]


def label(account: Account, client_slug: str) -> str:
    return f"account {client_slug}/{account.platform}/{account.name}"


def resolve_account(session: Session, account: Account) -> publishers.Account:
    """The publisher's view of an account, with its token read from the environment or decrypted."""
    client = session.get(Client, account.client_id)
    return publishers.Account(platform=account.platform, base_url=account.base_url,
                              token=_token_of(account, client.slug),
                              handle=account.handle or (client.slug if account.platform == "outbox" else ""),
                              extra=dict(account.extra or {}), expires_at=_aware(account.expires_at))


def _token_of(account: Account, client_slug: str) -> str:
    if account.token_env:
        value = os.environ.get(account.token_env)
        if not value:
            raise CredentialError(f"{account.token_env} is not set (the token of {label(account, client_slug)})")
        return value
    if account.token_encrypted:
        return decrypt_token(account.token_encrypted, label(account, client_slug))
    return ""


def account_for_post(session: Session, post: ScheduledPost) -> publishers.Account:
    """The account a post goes out on: its own, or the client's outbox when it has none."""
    if post.account_id is None:
        slug = session.get(Client, post.client_id).slug
        return publishers.Account(platform="outbox", base_url="", handle=slug)
    account = session.get(Account, post.account_id)
    if account is None:
        raise NotFoundError(f"the account of post {post.id} was removed")
    return resolve_account(session, account)


# --- checks -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AccountCheck:
    account_id: int
    client_slug: str
    platform: str
    name: str
    ok: bool  # the token resolves, the platform accepts it and it has not expired
    message: str  # one line, never the token
    warning: str = ""  # e.g. the token expires before the account's next due post
    expires_at: datetime | None = None
    next_due_at: datetime | None = None

    def to_dict(self) -> dict:
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for key in ("expires_at", "next_due_at"):
            values[key] = values[key].isoformat() if values[key] else None
        return values


def check_accounts(session: Session, *, now: datetime | None = None, http=None,
                   client_slug: str | None = None) -> list[AccountCheck]:
    """Check every account (of one client, or all) and record the outcome on the account row."""
    now = _aware(now) or utcnow()
    pairs = list_accounts(session, client_slug)
    next_due = _next_due_by_account(session, now)
    checks = []
    for account, slug in pairs:
        check = _check_one(session, account, slug, now, next_due.get(account.id), http)
        account.last_check_at = now
        account.last_check_error = "" if check.ok else check.message
        checks.append(check)
    session.flush()
    return checks


def _next_due_by_account(session: Session, now: datetime) -> dict[int, datetime]:
    rows = session.execute(select(ScheduledPost.account_id, func.min(ScheduledPost.due_at))
                           .where(ScheduledPost.status == "scheduled", ScheduledPost.account_id.is_not(None),
                                  ScheduledPost.due_at >= now)
                           .group_by(ScheduledPost.account_id))
    return {account_id: _aware(due) for account_id, due in rows}


def _check_one(session: Session, account: Account, slug: str, now: datetime, next_due: datetime | None,
               http) -> AccountCheck:
    ok, message, expires = _platform_check(session, account, http)
    expires = expires or _aware(account.expires_at)
    warning = ""
    if ok and expires is not None and expires <= now:
        ok, message = False, f"the token expired at {_when(expires)}"
    elif expires is not None and next_due is not None and expires < next_due:
        warning = f"the token expires at {_when(expires)}, before the next post due {_when(next_due)}"
    return AccountCheck(account.id, slug, account.platform, account.name, ok, message, warning, expires, next_due)


def _platform_check(session: Session, account: Account, http) -> tuple[bool, str, datetime | None]:
    try:
        resolved = resolve_account(session, account)
        status = publishers.get_publisher(resolved, http).check_credentials()
    except CastmillError as exc:
        return False, str(exc), None
    return status.ok, status.message, _aware(status.expires_at)


def _when(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
