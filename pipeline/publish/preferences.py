"""How and when each user is told: by email, to their own webhook, or not at all; at once or in a daily digest.

A user without a row gets email at once. Users change their own preferences (the dashboard passes their
identity); an admin may change anyone's (``castmill user notify`` acts as the admin "cli"). A webhook URL is
a secret (its path often is the key): it is never shown in the audit trail, only its host.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.access import audit
from pipeline.access.auth import check_active, normalize_email
from pipeline.access.identity import Identity
from pipeline.access.permissions import PermissionDenied
from pipeline.core.clock import utcnow
from pipeline.core.errors import ConfigError, NotFoundError
from pipeline.core.vocab import (ADMIN, NOTIFY_CADENCES, NOTIFY_CHANNELS, NOTIFY_EMAIL, NOTIFY_IMMEDIATE,
                                 NOTIFY_WEBHOOK)
from pipeline.store.models import NotificationPreference, User


@dataclass(frozen=True)
class Preference:
    email: str
    channel: str  # email | webhook | off
    cadence: str  # immediate | daily
    webhook_url: str  # for channel "webhook"

    def to_dict(self, *, show_url: bool = False) -> dict:
        return {"email": self.email, "channel": self.channel, "cadence": self.cadence,
                "webhook": (self.webhook_url if show_url else url_host(self.webhook_url)) or None}


def preferences_by_user(session: Session, user_ids: list[int]) -> dict[int, NotificationPreference]:
    """The stored rows of these users (a user missing here has the defaults: email, at once)."""
    if not user_ids:
        return {}
    rows = session.scalars(select(NotificationPreference).where(NotificationPreference.user_id.in_(user_ids)))
    return {row.user_id: row for row in rows}


def effective(row: NotificationPreference | None) -> tuple[str, str, str]:
    """(channel, cadence, webhook_url) of a stored row, or the defaults."""
    if row is None:
        return NOTIFY_EMAIL, NOTIFY_IMMEDIATE, ""
    return row.channel, row.cadence, row.webhook_url or ""


def get_preferences(session: Session, identity: Identity, email: str) -> Preference:
    """``email``'s preferences, for that user or an admin."""
    user = _user_you_may_change(session, identity, email)
    channel, cadence, url = effective(session.get(NotificationPreference, user.id))
    return Preference(user.email, channel, cadence, url)


def set_preferences(session: Session, identity: Identity, email: str, *, channel: str | None = None,
                    cadence: str | None = None, webhook_url: str | None = None) -> Preference:
    """Change what is given (None keeps it); a webhook channel needs a webhook URL, given now or before."""
    user = _user_you_may_change(session, identity, email)
    row = session.get(NotificationPreference, user.id)
    before = Preference(user.email, *effective(row))
    if webhook_url is not None:
        webhook_url = check_webhook_url(webhook_url) if webhook_url.strip() else ""
    after = Preference(user.email, _choice(channel, NOTIFY_CHANNELS, "channel") or before.channel,
                       _choice(cadence, NOTIFY_CADENCES, "digest") or before.cadence,
                       before.webhook_url if webhook_url is None else webhook_url)
    if after.channel == NOTIFY_WEBHOOK and not after.webhook_url:
        raise ConfigError(f"{user.email} has no webhook URL: give one with --webhook URL")
    if row is None:
        row = NotificationPreference(user_id=user.id)
        session.add(row)
    row.channel, row.cadence, row.webhook_url, row.updated_at = after.channel, after.cadence, after.webhook_url, utcnow()
    audit.record(session, actor=identity.email, action="user.notify", entity_type="user", entity_id=user.id,
                 client_id=user.client_id, user_id=identity.user_id, before=before.to_dict(), after=after.to_dict())
    session.flush()
    return after


def check_webhook_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"the webhook {url_host(url) or 'URL'} is not an http(s) URL like https://hooks.example.com/…")
    return url


def url_host(url: str) -> str:
    """Only the host of a webhook URL: what may be shown and logged."""
    return urlsplit(url).hostname or "" if url else ""


def _choice(value: str | None, allowed: tuple[str, ...], what: str) -> str | None:
    if value is None:
        return None
    if value not in allowed:
        raise ConfigError(f"unknown {what} {value!r}; choose one of {', '.join(allowed)}")
    return value


def _user_you_may_change(session: Session, identity: Identity, email: str) -> User:
    check_active(session, identity)
    email = normalize_email(email)
    if identity.role != ADMIN and (identity.user_id is None or identity.email != email):
        raise PermissionDenied("you may change only your own notifications (signed in); an admin may change anyone's")
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        raise NotFoundError(f"no user {email}")
    return user
