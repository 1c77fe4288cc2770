"""A post's first comment: posted once, right after the post, with its own attempts and state.

``ScheduledPost.comment_status`` moves:

- ``none`` → ``pending`` when the post is published and its approved version has a first comment
  (``queue_first_comment``, in the same transaction as the post's own "published");
- ``pending`` → ``posting`` by one atomic UPDATE (``claim_comments``; ``comment_next_at`` is then the
  hold's end), a ``PublishAttempt`` with ``kind="comment"`` is committed, and only then is
  ``Publisher.publish_comment`` called;
- ``posting`` → ``posted`` | ``pending`` again (retryable error, back-off, at most
  ``PublishOptions.max_attempts`` attempts) | ``failed`` | ``unknown`` (no answer after sending, or the
  hold ran out: ``expire_comment_holds``);
- ``unknown`` → ``checking`` (held) → ``posted`` when ``Publisher.find_comment`` finds it, ``pending``
  on a clear "not there", ``unknown`` again when the platform cannot tell. Never re-sent blind.

The post itself is never touched: a failed comment leaves it ``published``. Every change is audited.
A comment that failed for good (``failed``, or ``unknown`` after the platform could not say) is reported to
the VA once: ``claim_comments_to_report`` marks it (``comment_notified_at``) for the notification outbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from pipeline.core.clock import Clock, as_utc, system_clock
from pipeline.core.errors import CastmillError
from pipeline.publish.attempts import (PublisherFactory, SessionFactory, record_comment_change, retry_delay,
                                       retry_when_locked)
from pipeline.publish.options import PublishOptions
from pipeline.publish.publishers import AuthError, OutcomeUnknown, Published, PublishError, Publisher
from pipeline.store.models import DraftVersion, PublishAttempt, ScheduledPost

log = logging.getLogger("castmill.scheduler")

COMMENT_KIND = "comment"
# Seconds before the platform is asked again when it could not say whether the comment exists.
LOOKUP_RETRY_SECONDS = 3600.0
LOOKUP_FAILED = "cannot look the comment up: "  # prefix of ``comment_error`` when the platform could not say


@dataclass(frozen=True)
class CommentOutcome:
    post_id: int
    status: str  # the comment's status afterwards
    attempt: str  # the attempt outcome written
    message: str = ""
    remote_id: str = ""


def comment_key(post_key: str) -> str:
    """The first comment's idempotency key: the post's, with ``/comment``."""
    return f"{post_key}/comment"


# --- claims and holds -----------------------------------------------------------------------------------

@retry_when_locked
def expire_comment_holds(session_factory: SessionFactory, *, now: datetime) -> list[int]:
    """Comments held past their hold (the worker died): ``posting`` ones may exist, so they become
    ``unknown``; ``checking`` ones go back to ``unknown`` to be looked up again."""
    now = as_utc(now)
    with session_factory() as session:
        rows = session.execute(
            update(ScheduledPost)
            .where(ScheduledPost.comment_status.in_(("posting", "checking")), ScheduledPost.comment_next_at < now)
            .values(comment_status="unknown", comment_next_at=now,
                    comment_error="the worker stopped while posting the first comment; checking the platform")
            .returning(ScheduledPost.id, ScheduledPost.client_id), execution_options={"synchronize_session": False}
        ).all()
        for row in rows:
            session.execute(update(PublishAttempt).where(PublishAttempt.post_id == row.id,
                                                         PublishAttempt.kind == COMMENT_KIND,
                                                         PublishAttempt.outcome == "started")
                            .values(outcome="unknown", finished_at=now, error="hold expired"),
                            execution_options={"synchronize_session": False})
            record_comment_change(session, row.id, row.client_id, "posting", "unknown", error="hold expired")
    return sorted(row.id for row in rows)


@retry_when_locked
def claim_comments(session_factory: SessionFactory, *, now: datetime, limit: int, hold_seconds: int,
                   from_status: str = "pending") -> list[int]:
    """Atomically hold up to ``limit`` due comments: ``pending`` → ``posting`` (counted as an attempt) or
    ``unknown`` → ``checking``."""
    now = as_utc(now)
    to_status = "posting" if from_status == "pending" else "checking"
    due = (select(ScheduledPost.id)
           .where(ScheduledPost.comment_status == from_status, ScheduledPost.status == "published",
                  or_(ScheduledPost.comment_next_at.is_(None), ScheduledPost.comment_next_at <= now))
           .order_by(ScheduledPost.id).limit(limit))
    values = {"comment_status": to_status, "comment_next_at": now + timedelta(seconds=hold_seconds)}
    if to_status == "posting":
        values["comment_attempts"] = ScheduledPost.comment_attempts + 1
    with session_factory() as session:
        rows = session.execute(
            update(ScheduledPost).where(ScheduledPost.id.in_(due.scalar_subquery()),
                                        ScheduledPost.comment_status == from_status)
            .values(**values).returning(ScheduledPost.id), execution_options={"synchronize_session": False}).all()
    return sorted(row.id for row in rows)


# --- posting one held comment ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Target:
    client_id: int
    attempts: int
    remote_id: str
    text: str
    key: str
    publisher: Publisher | None
    problem: str = ""


def _target(session_factory: SessionFactory, post_id: int, publisher_for: PublisherFactory) -> _Target:
    with session_factory() as session:
        row = session.get(ScheduledPost, post_id)
        text = session.get(DraftVersion, row.version_id).first_comment or ""
        base = (row.client_id, row.comment_attempts, row.remote_id, text, comment_key(row.idempotency_key))
        try:
            publisher = publisher_for(session, row)
        except (CastmillError, ValueError, KeyError) as exc:
            return _Target(*base, None, str(exc))
        if not publisher.supports_comments:
            return _Target(*base, None, f"{publisher.name} cannot post comments")
        return _Target(*base, publisher)


def post_comment(session_factory: SessionFactory, post_id: int, publisher_for: PublisherFactory,
                 options: PublishOptions = PublishOptions(), clock: Clock = system_clock) -> CommentOutcome:
    """Post one held (``posting``) first comment and record what happened."""
    target = _target(session_factory, post_id, publisher_for)
    if target.publisher is None:
        return _finish(session_factory, post_id, None, "failed", clock(), error=f"not sent: {target.problem}")
    attempt_id = _start_attempt(session_factory, post_id, clock())
    if attempt_id is None:
        return CommentOutcome(post_id, "lost", "none", "the comment is no longer held")
    try:
        posted = target.publisher.publish_comment(target.remote_id, target.text, key=target.key)
    except OutcomeUnknown as exc:
        return _finish(session_factory, post_id, attempt_id, "unknown", clock(), error=_clean(exc, target))
    except PublishError as exc:
        retry = exc.retryable and not isinstance(exc, AuthError) and target.attempts < options.max_attempts
        if retry:
            delay = retry_delay(target.attempts, options, exc.retry_after)
            return _finish(session_factory, post_id, attempt_id, "pending", clock(), attempt="retry",
                           error=_clean(exc, target), next_at=clock() + timedelta(seconds=delay))
        return _finish(session_factory, post_id, attempt_id, "failed", clock(), error=_clean(exc, target))
    except Exception as exc:  # after sending began we cannot know: look it up before any retry
        log.exception("post %s: unexpected error while posting its first comment", post_id)
        return _finish(session_factory, post_id, attempt_id, "unknown", clock(),
                       error=f"unexpected error: {type(exc).__name__}: {_clean(exc, target)}")
    return _finish(session_factory, post_id, attempt_id, "posted", clock(), attempt="published", posted=posted)


@retry_when_locked
def _start_attempt(session_factory: SessionFactory, post_id: int, now: datetime) -> int | None:
    with session_factory() as session:
        held = session.execute(
            update(ScheduledPost).where(ScheduledPost.id == post_id, ScheduledPost.comment_status == "posting")
            .values(updated_at=now).returning(ScheduledPost.id), execution_options={"synchronize_session": False}
        ).first()
        if held is None:
            return None
        attempt = PublishAttempt(post_id=post_id, kind=COMMENT_KIND, started_at=now, outcome="started")
        session.add(attempt)
        session.flush()
        return attempt.id


@retry_when_locked
def _finish(session_factory: SessionFactory, post_id: int, attempt_id: int | None, status: str, now: datetime, *,
            attempt: str | None = None, error: str = "", posted: Published | None = None,
            next_at: datetime | None = None, from_status: str = "posting") -> CommentOutcome:
    """Move the held comment to ``status`` and close (or write) its attempt row."""
    attempt = attempt or status
    remote_id = posted.remote_id if posted else ""
    if status == "unknown" and next_at is None:
        next_at = now
    with session_factory() as session:
        row = session.execute(
            update(ScheduledPost).where(ScheduledPost.id == post_id, ScheduledPost.comment_status == from_status)
            .values(comment_status=status, comment_error=error, comment_next_at=next_at,
                    **({"comment_remote_id": remote_id} if posted else {}))
            .returning(ScheduledPost.client_id), execution_options={"synchronize_session": False}).first()
        values = {"finished_at": now, "outcome": attempt, "error": error, "remote_id": remote_id,
                  "remote_url": posted.url if posted else ""}
        if attempt_id is None:
            session.add(PublishAttempt(post_id=post_id, kind=COMMENT_KIND, started_at=now, **values))
        else:
            session.execute(update(PublishAttempt).where(PublishAttempt.id == attempt_id).values(**values),
                            execution_options={"synchronize_session": False})
        if row is not None:
            details = {"remote_id": remote_id} if posted else {"error": error}
            record_comment_change(session, post_id, row.client_id, from_status, status, **details)
    if row is None:
        log.error("post %s: first comment %s after its hold was lost", post_id, attempt)
        return CommentOutcome(post_id, "lost", attempt, error, remote_id)
    level = logging.INFO if status in ("posted", "pending") else logging.WARNING
    log.log(level, "post %s: first comment %s%s", post_id, status, f" ({error})" if error else "")
    return CommentOutcome(post_id, status, attempt, error, remote_id)


# --- comments the VA is told about ----------------------------------------------------------------------

@dataclass(frozen=True)
class FailedComment:
    post_id: int
    client_id: int
    platform: str
    status: str  # failed | unknown
    error: str


def _failed_for_good():
    lookup_failed = and_(ScheduledPost.comment_status == "unknown",
                         ScheduledPost.comment_error.startswith(LOOKUP_FAILED))
    return and_(ScheduledPost.comment_notified_at.is_(None),
                or_(ScheduledPost.comment_status == "failed", lookup_failed))


def claim_comments_to_report(session: Session, *, now: datetime, limit: int = 200) -> list[FailedComment]:
    """Mark the comments that failed for good and were not reported yet as reported; what they are. One
    guarded UPDATE, so of two schedulers one gets each; the caller queues the notices in the same transaction."""
    pending = select(ScheduledPost.id).where(_failed_for_good()).order_by(ScheduledPost.id).limit(limit)
    rows = session.execute(
        update(ScheduledPost).where(ScheduledPost.id.in_(pending.scalar_subquery()),
                                    ScheduledPost.comment_notified_at.is_(None))
        .values(comment_notified_at=as_utc(now))
        .returning(ScheduledPost.id, ScheduledPost.client_id, ScheduledPost.platform, ScheduledPost.comment_status,
                   ScheduledPost.comment_error), execution_options={"synchronize_session": False}).all()
    return sorted((FailedComment(*row) for row in rows), key=lambda comment: comment.post_id)


# --- reconciling one comment whose outcome is unknown ---------------------------------------------------

def reconcile_comment(session_factory: SessionFactory, post_id: int, publisher_for: PublisherFactory,
                      clock: Clock = system_clock) -> CommentOutcome:
    """Ask the platform whether a held (``checking``) comment exists; only a clear "no" allows a new try."""
    target = _target(session_factory, post_id, publisher_for)
    if target.publisher is None:
        return _finish(session_factory, post_id, None, "unknown", clock(), attempt="reconcile_failed",
                       error=f"{LOOKUP_FAILED}{target.problem}", from_status="checking",
                       next_at=clock() + timedelta(seconds=LOOKUP_RETRY_SECONDS))
    try:
        found = target.publisher.find_comment(target.remote_id, target.text, key=target.key)
    except Exception as exc:  # the platform could not answer: stay unknown, never re-send blind
        return _finish(session_factory, post_id, None, "unknown", clock(), attempt="reconcile_failed",
                       error=f"{LOOKUP_FAILED}{_clean(exc, target)}", from_status="checking",
                       next_at=clock() + timedelta(seconds=LOOKUP_RETRY_SECONDS))
    if found is not None:
        return _finish(session_factory, post_id, None, "posted", clock(), attempt="reconciled_published",
                       posted=found, from_status="checking")
    return _finish(session_factory, post_id, None, "pending", clock(), attempt="reconciled_absent",
                   error="not found on the platform after an unknown outcome; will post it again",
                   from_status="checking", next_at=clock())


def _clean(exc: BaseException, target: _Target) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    token = getattr(getattr(target.publisher, "account", None), "token", "")
    return text.replace(token, "***") if token else text


__all__ = ["COMMENT_KIND", "CommentOutcome", "FailedComment", "claim_comments", "claim_comments_to_report",
           "comment_key", "expire_comment_holds", "post_comment", "reconcile_comment"]
