"""Exactly once after a restore: no post of a restored home goes out a second time.

A backup is one instant. After it, the backed-up home may have gone on publishing until it stopped, and at
the instant itself some posts may have been mid-call. So, on restore:

- ``published`` posts stay published (the claim loop only takes ``scheduled`` posts), and every post keeps
  its idempotency key, which is what the platforms are asked about;
- ``publishing`` posts (a claim in flight at backup time) become ``unknown``, their "started" attempts
  ``unknown`` too: exactly what ``publish.scheduler.expire_leases`` does when a worker dies. The scheduler
  leaves ``unknown`` only through ``publish.attempts.reconcile``: it asks the platform
  (``Publisher.find_existing``) and only a clear "not there" schedules the post again;
- ``scheduled`` posts already due at restore time become ``unknown`` the same way: the old home may have
  sent them after the backup. One that is not on the platform is scheduled again and sent once (or marked
  missed by the late policy); a platform that cannot tell keeps it unknown and the operator is notified;
- a reconciliation hold (``unknown`` with a lease) is released: its holder is gone.

Posts due later are untouched: the restored home sends them when due. This holds only when the old home's
scheduler is stopped before the restored one starts (they would otherwise both send future posts).
Each change is an audit event (actor "restore"), in the same transaction. This module writes ``AuditEvent``
rows itself: ``access.audit`` sits above the store.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, case, insert, update

from pipeline.store.models import AuditEvent, PublishAttempt, ScheduledPost

ACTOR = "restore"
IN_FLIGHT = ("restored from a backup taken while it was being published; checking the platform before any "
             "resend")
DUE = ("due before the restore: the backed-up home may have published it after the backup; checking the "
       "platform before any resend")


def settle_posts(connection: Connection, now: datetime) -> tuple[list[int], list[int]]:
    """Put in-flight and due posts where the scheduler reconciles them first; returns (in flight, due) ids."""
    posts = ScheduledPost.__table__
    in_flight = _to_unknown(connection, posts.c.status == "publishing", now, IN_FLIGHT, "publishing")
    if in_flight:
        attempts = PublishAttempt.__table__
        connection.execute(update(attempts)
                           .where(attempts.c.post_id.in_(in_flight), attempts.c.outcome == "started")
                           .values(outcome="unknown", finished_at=now, error="restored from a backup mid-publish"))
    due = _to_unknown(connection, and_(posts.c.status == "scheduled", posts.c.due_at <= now), now, DUE, "scheduled")
    connection.execute(update(posts).where(posts.c.status == "unknown", posts.c.lease_until.is_not(None))
                       .values(lease_until=None, updated_at=now))
    return in_flight, due


def _to_unknown(connection: Connection, condition, now: datetime, message: str, before: str) -> list[int]:
    posts = ScheduledPost.__table__
    later = case((posts.c.next_attempt_at > now, posts.c.next_attempt_at), else_=now)  # a retry's wait is kept
    rows = connection.execute(update(posts).where(condition)
                              .values(status="unknown", lease_until=None, next_attempt_at=later, error=message,
                                      updated_at=now)
                              .returning(posts.c.id, posts.c.client_id)).all()
    if rows:
        connection.execute(insert(AuditEvent.__table__), [
            {"at": now, "actor": ACTOR, "action": "post.unknown", "entity_type": "post", "entity_id": row.id,
             "client_id": row.client_id, "before": {"status": before}, "after": {"status": "unknown", "why": message}}
            for row in rows])
    return sorted(row.id for row in rows)


def record_restore(connection: Connection, now: datetime, details: dict) -> None:
    connection.execute(insert(AuditEvent.__table__).values(at=now, actor=ACTOR, action="home.restore",
                                                           entity_type="home", entity_id=None, after=details))
