"""Publishing one claimed post, and reconciling one post whose outcome is unknown.

The rules that make "never twice" hold (the scheduler in ``pipeline.publish.scheduler`` claims posts first):

- a ``PublishAttempt`` (outcome "started") is committed *before* the platform is called, so a crash
  mid-call leaves a trace; nothing holds a database transaction open during the call;
- the outcome is written with a guarded UPDATE (``worker`` and status must still be ours), and the
  platform's answer decides the status: published | scheduled again (retryable, with back-off) |
  failed | unknown;
- ``unknown`` is only left through ``reconcile``: the platform is asked whether the post exists
  (``Publisher.find_existing``) and only a clear "no" puts it back to ``scheduled``.

Each write transaction starts with its UPDATE, so on SQLite the write lock is taken before any read
(a read-then-write transaction in WAL mode fails with "database is locked" instead of waiting).
"""

from __future__ import annotations

import logging
import mimetypes
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, ContextManager

from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from tenacity import RetryCallState, retry, retry_if_exception, stop_after_attempt, wait_exponential, wait_random

from pipeline.access import audit
from pipeline.publish.options import PublishOptions
from pipeline.core.clock import Clock, as_utc, system_clock
from pipeline.core.errors import CastmillError
from pipeline.core.settings import NetworkSettings, Settings
from pipeline.media.safe_fetch import safe_session
from pipeline.media.storage import local_media
from pipeline.store.models import Client, Clip, Draft, DraftVersion, Episode, Highlight, PublishAttempt, ScheduledPost
from pipeline.publish.publishers import (AuthError, MediaFile, OutcomeUnknown, Post, Published,
                                           PublishError, Publisher, get_publisher)

log = logging.getLogger("castmill.scheduler")

SessionFactory = Callable[[], ContextManager[Session]]
PublisherFactory = Callable[[Session, ScheduledPost], Publisher]


class PostNotPublishable(CastmillError):
    """The post cannot be sent as stored (media not rendered, file gone, no account): fails at once."""


@dataclass(frozen=True)
class Outcome:
    post_id: int
    status: str  # the post's status afterwards
    attempt: str  # the PublishAttempt outcome written
    message: str = ""
    remote_id: str = ""
    url: str = ""


def _is_lock_error(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and "locked" in str(exc).lower()


# Every write below is guarded (status and worker), so re-running a rolled-back transaction is safe.
retry_when_locked = retry(retry=retry_if_exception(_is_lock_error), stop=stop_after_attempt(8),
                          wait=wait_exponential(multiplier=0.05, max=2) + wait_random(0, 0.05), reraise=True)


def retry_delay(attempt: int, options: PublishOptions, retry_after: float | None = None) -> float:
    """Seconds to wait before attempt ``attempt + 1``: tenacity's exponential back-off, or Retry-After."""
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
    state.attempt_number = max(1, attempt)
    strategy = wait_exponential(multiplier=options.backoff_base_seconds, min=options.backoff_base_seconds,
                                max=options.backoff_max_seconds)
    return max(strategy(state), retry_after or 0.0)


# --- from rows to a Post and a Publisher ------------------------------------------------------------

def build_post(session: Session, row: ScheduledPost, *, with_media: bool = True,
               settings: Settings | None = None) -> Post:
    """The platform-neutral post. ``with_media=False`` (for look-ups) skips the clip files. Build it *before*
    recording a new attempt: ``first_attempt_at`` is the earliest recorded attempt's start, and the attempt
    being made must not count as an earlier one. ``settings`` name the media storage a clip file missing
    here is fetched from (``_media_file``)."""
    version = session.get(DraftVersion, row.version_id)
    draft = session.get(Draft, row.draft_id)
    episode = session.get(Episode, draft.episode_id)
    highlight = session.get(Highlight, draft.highlight_id) if draft.highlight_id else None
    title = (highlight.title if highlight else "") or episode.title
    media = tuple(_media_file(item, session, settings) for item in version.media or []) if with_media else ()
    return Post(parts=tuple(version.parts), idempotency_key=row.idempotency_key, media=media, title=title,
                link=(episode.feed_meta or {}).get("link") or "",
                first_attempt_at=first_attempt_started(session, row.id), context=_client_context(episode.client))


def _client_context(client) -> dict:
    return {"client_name": client.name, "language": client.language, "templates_dir": client.templates_dir or ""}


def first_attempt_started(session: Session, post_id: int) -> datetime | None:
    """When the post's earliest recorded attempt started (aware UTC); None before any attempt."""
    started = session.scalar(select(func.min(PublishAttempt.started_at)).where(PublishAttempt.post_id == post_id,
                                                                               PublishAttempt.kind == "post"))
    return as_utc(started) if started is not None else None


def _media_file(item: dict, session: Session | None = None, settings: Settings | None = None) -> MediaFile:
    """The file a draft's media item names. When it is not on this machine but is in the shared media storage
    (the item's ``stored`` ref, or its clip row's), the stored copy is fetched (``local_media``)."""
    path = item.get("path")
    if not path:
        raise PostNotPublishable(f"its {item.get('kind', 'media')} clip is not rendered yet "
                                 "(run `castmill clips render`)")
    if not Path(path).is_file():
        stored = item.get("stored") or _stored_ref(session, path)
        if not stored:
            raise PostNotPublishable(f"clip file {path} is missing: render it again with `castmill clips render`")
        path = str(local_media(settings, stored))
    mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return MediaFile(path=Path(path), kind=item.get("kind", "video"), mime=mime, alt=item.get("alt", ""))


def _stored_ref(session: Session | None, path: str) -> str:
    """The stored ref of the ready clip rendered at ``path`` (drafts made before clips were stored lack it)."""
    if session is None:
        return ""
    probes = session.scalars(select(Clip.probe).where(Clip.path == path, Clip.status == "ready")).all()
    return next(((probe or {}).get("stored") for probe in probes if (probe or {}).get("stored")), "")


def default_publisher_factory(home: Path, network: NetworkSettings | None = None) -> PublisherFactory:
    """Publishers from the stored accounts (tokens resolved by ``pipeline.publish.credentials``); a post without
    an account goes to the outbox folder ``<home>/outbox/<client>``. Their calls go through ``safe_fetch`` with
    the ``[network]`` settings ``network`` (default: loaded)."""

    def publisher_for(session: Session, row: ScheduledPost) -> Publisher:
        from pipeline.publish.credentials import account_for_post

        if row.account_id is None and row.platform != "outbox":
            client = session.get(Client, row.client_id)
            raise PostNotPublishable(f"no {row.platform} account is connected for client {client.slug}")
        account = account_for_post(session, row)
        if account.platform == "outbox" and not account.base_url:
            account = replace(account, base_url=str(home / "outbox" / (account.handle or "default")))
        return get_publisher(account, safe_session(network) if network is not None else None)

    return publisher_for


def _check_still_approved(session: Session, row: ScheduledPost) -> None:
    """An edit after scheduling sends the draft back to review: the old text must not go out."""
    from pipeline.review.queries import latest_version

    draft = session.get(Draft, row.draft_id)
    latest = latest_version(session, row.draft_id)
    if draft.status != "approved" or latest is None or latest.id != row.version_id:
        raise PostNotPublishable(f"draft {row.draft_id} changed after it was scheduled (it is {draft.status}); "
                                 "cancel this post, approve the new version and schedule it again")


@dataclass(frozen=True)
class _Prepared:
    client_id: int
    attempts: int
    post: Post | None
    publisher: Publisher | None
    problem: str = ""


def _prepare(session_factory: SessionFactory, post_id: int, publisher_for: PublisherFactory, *,
             with_media: bool = True) -> _Prepared:
    with session_factory() as session:
        row = session.get(ScheduledPost, post_id)
        try:
            _check_still_approved(session, row)
            return _Prepared(row.client_id, row.attempts, build_post(session, row, with_media=with_media),
                             publisher_for(session, row))
        except (CastmillError, ValueError, KeyError) as exc:
            return _Prepared(row.client_id, row.attempts, None, None, str(exc))


# --- publishing one claimed post --------------------------------------------------------------------

def publish_claimed(session_factory: SessionFactory, post_id: int, worker: str, publisher_for: PublisherFactory,
                    options: PublishOptions = PublishOptions(), clock: Clock = system_clock) -> Outcome:
    """Send one post this worker claimed (status ``publishing``) and record what happened."""
    prepared = _prepare(session_factory, post_id, publisher_for)  # before _start_attempt: see build_post
    if prepared.publisher is None:
        return _finish_without_call(session_factory, post_id, worker, prepared, clock())
    attempt_id = _start_attempt(session_factory, post_id, worker, clock())
    if attempt_id is None:
        return Outcome(post_id, "lost", "none", f"worker {worker} no longer holds the claim")
    try:
        published = prepared.publisher.publish(prepared.post)
    except OutcomeUnknown as exc:
        return _record_unknown(session_factory, post_id, attempt_id, worker, _clean(exc, prepared), clock())
    except PublishError as exc:
        return _record_error(session_factory, post_id, attempt_id, worker, exc, _clean(exc, prepared),
                             prepared, options, clock())
    except Exception as exc:  # anything unexpected after sending began: we cannot know, so reconcile
        log.exception("post %s: unexpected error while publishing", post_id)
        message = f"unexpected error while publishing: {type(exc).__name__}: {_clean(exc, prepared)}"
        return _record_unknown(session_factory, post_id, attempt_id, worker, message, clock())
    return _record_published(session_factory, post_id, attempt_id, worker, published, clock())


@retry_when_locked
def _start_attempt(session_factory: SessionFactory, post_id: int, worker: str, now: datetime) -> int | None:
    with session_factory() as session:
        still_ours = session.execute(
            update(ScheduledPost)
            .where(ScheduledPost.id == post_id, ScheduledPost.status == "publishing", ScheduledPost.worker == worker)
            .values(updated_at=now).returning(ScheduledPost.id),
            execution_options={"synchronize_session": False}).first()
        if still_ours is None:
            return None
        attempt = PublishAttempt(post_id=post_id, worker=worker, started_at=now, outcome="started")
        session.add(attempt)
        session.flush()
        return attempt.id


@retry_when_locked
def _finish_without_call(session_factory: SessionFactory, post_id: int, worker: str, prepared: _Prepared,
                         now: datetime) -> Outcome:
    message = f"not sent: {prepared.problem}"
    with session_factory() as session:
        client_id = _transition(session, post_id, worker, ("publishing",), status="failed", error=message,
                                lease_until=None, updated_at=now)
        if client_id is None:
            return Outcome(post_id, "lost", "none", f"worker {worker} no longer holds the claim")
        session.add(PublishAttempt(post_id=post_id, worker=worker, started_at=now, finished_at=now,
                                   outcome="failed", error=message))
        record_status_change(session, post_id, client_id, "publishing", "failed", error=message)
    log.warning("post %s failed before sending: %s", post_id, message)
    return Outcome(post_id, "failed", "failed", message)


@retry_when_locked
def _record_published(session_factory: SessionFactory, post_id: int, attempt_id: int, worker: str,
                      published: Published, now: datetime) -> Outcome:
    with session_factory() as session:
        # "unknown" too: a lease that ran out while the call was slow must not hide a confirmed post.
        client_id = _transition(session, post_id, worker, ("publishing", "unknown"), status="published",
                                remote_id=published.remote_id, remote_url=published.url, published_at=now,
                                error="", lease_until=None, next_attempt_at=None, notified_at=None, updated_at=now)
        _finish_attempt(session, attempt_id, now, "published", remote_id=published.remote_id,
                        remote_url=published.url)
        if client_id is not None:
            record_status_change(session, post_id, client_id, "publishing", "published",
                                 remote_id=published.remote_id, url=published.url)
            queue_first_comment(session, post_id, now)
    if client_id is None:
        log.error("post %s was published (%s) after worker %s lost its claim: check for a duplicate",
                  post_id, published.remote_id, worker)
    log.info("post %s published: %s", post_id, published.url or published.remote_id)
    return Outcome(post_id, "published", "published", "", published.remote_id, published.url)


@retry_when_locked
def _record_unknown(session_factory: SessionFactory, post_id: int, attempt_id: int, worker: str, message: str,
                    now: datetime) -> Outcome:
    with session_factory() as session:
        client_id = _transition(session, post_id, worker, ("publishing",), status="unknown", error=message,
                                lease_until=None, next_attempt_at=now, updated_at=now)
        _finish_attempt(session, attempt_id, now, "unknown", error=message)
        if client_id is not None:
            record_status_change(session, post_id, client_id, "publishing", "unknown", error=message)
    log.warning("post %s: outcome unknown (%s); will ask the platform before any retry", post_id, message)
    return Outcome(post_id, "unknown", "unknown", message)


@retry_when_locked
def _record_error(session_factory: SessionFactory, post_id: int, attempt_id: int, worker: str, exc: PublishError,
                  message: str, prepared: _Prepared, options: PublishOptions, now: datetime) -> Outcome:
    retry_again = exc.retryable and not isinstance(exc, AuthError) and prepared.attempts < options.max_attempts
    with session_factory() as session:
        if retry_again:
            delay = retry_delay(prepared.attempts, options, exc.retry_after)
            _transition(session, post_id, worker, ("publishing",), status="scheduled", error=message,
                        lease_until=None, worker="", next_attempt_at=now + timedelta(seconds=delay), updated_at=now)
            _finish_attempt(session, attempt_id, now, "retry", error=message)
            log.info("post %s: %s; retry %d of %d in %.0f s", post_id, message, prepared.attempts + 1,
                     options.max_attempts, delay)
            return Outcome(post_id, "scheduled", "retry", message)
        if exc.retryable and not isinstance(exc, AuthError):
            message = f"gave up after {prepared.attempts} attempts: {message}"
        client_id = _transition(session, post_id, worker, ("publishing",), status="failed", error=message,
                                lease_until=None, updated_at=now)
        _finish_attempt(session, attempt_id, now, "failed", error=message)
        if client_id is not None:
            record_status_change(session, post_id, client_id, "publishing", "failed", error=message)
    log.warning("post %s failed: %s", post_id, message)
    return Outcome(post_id, "failed", "failed", message)


# --- reconciling a post whose outcome is unknown ----------------------------------------------------

def reconcile(session_factory: SessionFactory, post_id: int, worker: str, publisher_for: PublisherFactory,
              options: PublishOptions = PublishOptions(), clock: Clock = system_clock) -> Outcome:
    """Ask the platform about one ``unknown`` post this worker holds for reconciliation."""
    prepared = _prepare(session_factory, post_id, publisher_for, with_media=False)
    failures = _reconcile_failures(session_factory, post_id) + 1
    if prepared.publisher is None:
        return _record_reconcile_failure(session_factory, post_id, worker, prepared.problem, failures, options,
                                         clock())
    try:
        found = prepared.publisher.find_existing(prepared.post)
    except NotImplementedError:
        return _record_reconcile_failure(session_factory, post_id, worker,
                                         f"{prepared.publisher.name} cannot look posts up; check the account by "
                                         "hand, then retry or cancel the post", None, options, clock())
    except Exception as exc:  # the platform could not answer: stay unknown, never re-send blind
        return _record_reconcile_failure(session_factory, post_id, worker, _clean(exc, prepared), failures,
                                         options, clock())
    if found is not None:
        return _record_reconciled(session_factory, post_id, worker, found, clock())
    return _record_absent(session_factory, post_id, worker, clock())


def _reconcile_failures(session_factory: SessionFactory, post_id: int) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(PublishAttempt).where(
            PublishAttempt.post_id == post_id, PublishAttempt.kind == "post",
            PublishAttempt.outcome == "reconcile_failed")) or 0


@retry_when_locked
def _record_reconciled(session_factory: SessionFactory, post_id: int, worker: str, found: Published,
                       now: datetime) -> Outcome:
    with session_factory() as session:
        client_id = _transition(session, post_id, worker, ("unknown",), status="published",
                                remote_id=found.remote_id, remote_url=found.url, published_at=now, error="",
                                lease_until=None, next_attempt_at=None, notified_at=None, updated_at=now)
        ok = client_id is not None
        if ok:
            session.add(PublishAttempt(post_id=post_id, worker=worker, started_at=now, finished_at=now,
                                       outcome="reconciled_published", remote_id=found.remote_id,
                                       remote_url=found.url))
            record_status_change(session, post_id, client_id, "unknown", "published", remote_id=found.remote_id,
                                 url=found.url, reconciled=True)
            queue_first_comment(session, post_id, now)
    log.info("post %s: found on the platform (%s); marked published", post_id, found.url or found.remote_id)
    return Outcome(post_id, "published" if ok else "lost", "reconciled_published", "", found.remote_id, found.url)


@retry_when_locked
def _record_absent(session_factory: SessionFactory, post_id: int, worker: str, now: datetime) -> Outcome:
    message = "not found on the platform after an unknown outcome; scheduled again"
    with session_factory() as session:
        client_id = _transition(session, post_id, worker, ("unknown",), status="scheduled", error=message,
                                lease_until=None, worker="", next_attempt_at=None, notified_at=None, updated_at=now)
        ok = client_id is not None
        if ok:
            session.add(PublishAttempt(post_id=post_id, worker=worker, started_at=now, finished_at=now,
                                       outcome="reconciled_absent", error=message))
            record_status_change(session, post_id, client_id, "unknown", "scheduled", reconciled=True)
    log.info("post %s: %s", post_id, message)
    return Outcome(post_id, "scheduled" if ok else "lost", "reconciled_absent", message)


RECONCILE_FAILED = "reconcile failed: "  # prefix of ``error``; notify.py reports such posts


@retry_when_locked
def _record_reconcile_failure(session_factory: SessionFactory, post_id: int, worker: str, problem: str,
                              attempt: int | None, options: PublishOptions, now: datetime) -> Outcome:
    message = RECONCILE_FAILED + problem
    # None: no point asking again soon (the platform cannot answer); a day keeps it visible, not busy.
    delay = retry_delay(attempt, options) if attempt else 86400.0
    with session_factory() as session:
        _transition(session, post_id, worker, ("unknown",), status="unknown", error=message, lease_until=None,
                    next_attempt_at=now + timedelta(seconds=delay), updated_at=now)
        session.add(PublishAttempt(post_id=post_id, worker=worker, started_at=now, finished_at=now,
                                   outcome="reconcile_failed", error=message))
    log.warning("post %s stays unknown: %s", post_id, message)
    return Outcome(post_id, "unknown", "reconcile_failed", message)


# --- shared row helpers -----------------------------------------------------------------------------

def _transition(session: Session, post_id: int, holder: str, from_statuses: tuple[str, ...],
                **values) -> int | None:
    """Guarded UPDATE: only when the post is still in ``from_statuses`` and held by worker ``holder``.
    Returns the post's client id when it changed, None when the guard did not hold."""
    return session.execute(
        update(ScheduledPost)
        .where(ScheduledPost.id == post_id, ScheduledPost.status.in_(from_statuses), ScheduledPost.worker == holder)
        .values(**values).returning(ScheduledPost.client_id),
        execution_options={"synchronize_session": False}).scalar()


def _finish_attempt(session: Session, attempt_id: int, now: datetime, outcome: str, **values) -> None:
    session.execute(update(PublishAttempt).where(PublishAttempt.id == attempt_id)
                    .values(finished_at=now, outcome=outcome, **values),
                    execution_options={"synchronize_session": False})


def _clean(exc: BaseException, prepared: _Prepared) -> str:
    """The error's one-line message with the account's token masked (publishers should never include it)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    token = getattr(getattr(prepared.publisher, "account", None), "token", "")
    return text.replace(token, "***") if token else text


def queue_first_comment(session: Session, post_id: int, now: datetime) -> bool:
    """Mark the just-published post's first comment as due (no-op without one). Call it in the transaction
    that records the post as published."""
    row = session.get(ScheduledPost, post_id)
    version = session.get(DraftVersion, row.version_id)
    if not (version.first_comment or "").strip():
        return False
    changed = session.execute(
        update(ScheduledPost).where(ScheduledPost.id == post_id, ScheduledPost.comment_status == "none")
        .values(comment_status="pending", comment_next_at=now, comment_error=""),
        execution_options={"synchronize_session": False}).rowcount
    if changed:
        record_comment_change(session, row.id, row.client_id, "none", "pending")
    return bool(changed)


def record_comment_change(session: Session, post_id: int, client_id: int, before: str, after: str,
                          **details) -> None:
    """An audit event for a change of the post's first comment (``pipeline.publish.comments``)."""
    audit.record(session, actor="scheduler", action=f"post.comment_{after}", entity_type="post", entity_id=post_id,
                 client_id=client_id, before={"comment_status": before}, after={"comment_status": after, **details})


def record_status_change(session: Session, post_id: int, client_id: int, before: str, after: str,
                         **details) -> None:
    """An audit event for a status change made by the scheduler, in the same transaction as the change."""
    audit.record(session, actor="scheduler", action=f"post.{after}", entity_type="post", entity_id=post_id,
                 client_id=client_id, before={"status": before}, after={"status": after, **details})


__all__ = ["Clock", "Outcome", "PostNotPublishable", "PublishOptions", "PublisherFactory",
           "RECONCILE_FAILED", "SessionFactory", "build_post", "default_publisher_factory", "first_attempt_started",
           "publish_claimed", "queue_first_comment", "reconcile", "record_comment_change", "record_status_change",
           "retry_delay", "retry_when_locked",
           "system_clock"]
