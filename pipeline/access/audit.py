"""The audit trail: every state change writes one event, in the same transaction as the change.

Other modules (review, auth, calendar, scheduler) call ``record``; the dashboard's Activity
page calls ``events``, which shows a client identity only the events of its own client.

Example:
    >>> record(session, actor="scheduler", action="post.publish", entity_type="post", entity_id=7,
    ...        client_id=2, before={"status": "publishing"}, after={"status": "published"})  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.access.identity import Identity, check_session
from pipeline.access.permissions import client_scope
from pipeline.core.clock import as_utc, utcnow
from pipeline.store.models import AuditEvent, Client


DEFAULT_LIMIT = 500


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime  # UTC
    actor: str  # an email, "review link <client>", "system" or "scheduler"
    action: str  # "draft.approve", "user.login", "post.schedule" …
    entity_type: str
    entity_id: int | None
    client_id: int | None
    client_slug: str | None
    user_id: int | None
    before: dict | None
    after: dict | None


def record(session: Session, *, actor: str, action: str, entity_type: str, entity_id: int | None,
           client_id: int | None = None, user_id: int | None = None, before: dict | None = None,
           after: dict | None = None) -> AuditEvent:
    """Add one event to the session (committed or rolled back with the change it describes)."""
    event = AuditEvent(at=utcnow(), actor=actor, action=action, entity_type=entity_type, entity_id=entity_id,
                       client_id=client_id, user_id=user_id, before=before, after=after)
    session.add(event)
    return event


def events(session: Session, identity: Identity, *, client_slug: str | None = None, action: str | None = None,
           entity_type: str | None = None, since: datetime | None = None,
           limit: int = DEFAULT_LIMIT) -> list[AuditEntry]:
    """Newest first. Staff see every event; a client identity only those of its own client.

    ``action`` matches exactly, or as a prefix when it ends with "." ("draft." = every draft action).
    """

    check_session(identity)
    query = (select(AuditEvent, Client.slug).outerjoin(Client, Client.id == AuditEvent.client_id)
             .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(max(1, limit)))
    query = client_scope(query, identity, AuditEvent.client_id)
    if client_slug:
        query = query.where(Client.slug == client_slug)
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True) if action.endswith(".")
                            else AuditEvent.action == action)
    if entity_type:
        query = query.where(AuditEvent.entity_type == entity_type)
    if since is not None:
        query = query.where(AuditEvent.at >= as_utc(since))
    return [_entry(event, slug) for event, slug in session.execute(query)]


def _entry(event: AuditEvent, slug: str | None) -> AuditEntry:
    return AuditEntry(event.id, as_utc(event.at), event.actor, event.action, event.entity_type, event.entity_id,
                      event.client_id, slug, event.user_id, event.before, event.after)
