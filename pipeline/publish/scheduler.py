"""The scheduler: claim due posts, publish them, reconcile unknown outcomes, apply the late policy.

Our tables are the truth. APScheduler's ``BlockingScheduler`` only wakes ``tick`` every few seconds
(plus the hourly metrics job, the 6-hourly credential check and, when the CLI passes it, the look for
due watched feeds every minute); there is never one APScheduler job
per post, so a crash loses nothing.

One tick:
1. ``expire_leases``: a post left ``publishing`` past its lease (its worker died) becomes ``unknown``;
2. ``claim_unknown`` + ``publishing.reconcile``: unknown posts are looked up on the platform;
3. ``claim_due`` + ``apply_late_policy`` + ``publishing.publish_claimed``, batch after batch;
4. ``comments``: first comments of published posts — holds that ran out become unknown, unknown ones are
   looked up, due ones are posted (each once, after its post);
5. ``notices.NoticeService.run``: the notification outbox queues and sends reminders to clients whose
   approval drafts wait for, and the VA's notices (stalled approvals, changes requested, and failed,
   missed and unresolved unknown posts, each reported once).

``claim_due`` is one atomic UPDATE … RETURNING, so two workers (processes, machines) never claim the
same post: SQLite serialises writers, PostgreSQL skips rows another worker has locked.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from pipeline.core.clock import as_utc
from pipeline.store.models import PublishAttempt, ScheduledPost
from pipeline.publish.options import PublishOptions, SchedulerOptions, default_worker_id  # noqa: F401
from pipeline.publish.attempts import (Clock, Outcome, PublisherFactory, SessionFactory, publish_claimed,
                                 reconcile, record_status_change, retry_when_locked, system_clock)
from pipeline.publish.comments import (CommentOutcome, claim_comments, expire_comment_holds, post_comment,
                                       reconcile_comment)

log = logging.getLogger("castmill.scheduler")


@dataclass(frozen=True)
class MissedPost:
    id: int
    client_id: int
    platform: str
    due_at: datetime
    late_minutes: int  # the policy
    late_by_minutes: float  # how late it was when judged


@dataclass(frozen=True)
class TickReport:
    expired: tuple[int, ...] = ()  # leases that ran out: now unknown
    reconciled: tuple[Outcome, ...] = ()
    outcomes: tuple[Outcome, ...] = ()  # publish attempts
    missed: tuple[MissedPost, ...] = ()
    released: tuple[int, ...] = ()  # claimed but not started when asked to stop
    notified: int = 0  # notifications delivered by the outbox in this pass
    comments: tuple[CommentOutcome, ...] = ()  # first comments posted, retried or looked up

    @property
    def published(self) -> int:
        return sum(1 for o in self.outcomes + self.reconciled if o.status == "published")


@dataclass(frozen=True)
class StartupReport:
    """What happened while no scheduler ran: posts now missed, and posts whose worker died mid-publish."""

    missed: tuple[MissedPost, ...]
    expired: tuple[int, ...]

    def lines(self) -> list[str]:
        lines = [f"missed while the scheduler was down: {len(self.missed)} post(s)"]
        lines += [f"  post {m.id} ({m.platform}, client {m.client_id}) due {m.due_at:%Y-%m-%d %H:%M} UTC, "
                  f"{m.late_by_minutes:.0f} min late (policy: {m.late_minutes} min)" for m in self.missed]
        if self.expired:
            lines.append(f"left mid-publish by a stopped worker, now unknown (will be reconciled): "
                         f"{', '.join(map(str, self.expired))}")
        return lines


# --- claiming -----------------------------------------------------------------------------------------

def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _claimable(query: Select, session: Session):
    """The ids to claim, as something ``in_()`` takes.

    PostgreSQL: rows another worker is claiming right now are skipped, not waited for (SKIP LOCKED),
    and the selection is a MATERIALIZED CTE: as a plain ``IN (subquery … LIMIT n FOR UPDATE SKIP
    LOCKED)`` the planner may run the subquery again per row and claim far more than ``n`` rows.
    SQLite serialises writers, so the plain subquery is exact there.
    """
    if _dialect(session) != "postgresql":
        return query
    chosen = query.with_for_update(skip_locked=True).cte("chosen").prefix_with("MATERIALIZED")
    return select(chosen.c.id)


@retry_when_locked
def claim_due(session_factory: SessionFactory, worker: str, *, now: datetime, limit: int,
              lease_seconds: int) -> list[int]:
    """Atomically move up to ``limit`` due posts from ``scheduled`` to ``publishing`` for ``worker``."""
    now = as_utc(now)
    with session_factory() as session:
        due = _claimable(
            select(ScheduledPost.id)
            .where(ScheduledPost.status == "scheduled", ScheduledPost.due_at <= now,
                   or_(ScheduledPost.next_attempt_at.is_(None), ScheduledPost.next_attempt_at <= now))
            .order_by(ScheduledPost.due_at, ScheduledPost.id).limit(limit), session)
        rows = session.execute(
            update(ScheduledPost)
            .where(ScheduledPost.id.in_(due), ScheduledPost.status == "scheduled")
            .values(status="publishing", worker=worker, lease_until=now + timedelta(seconds=lease_seconds),
                    attempts=ScheduledPost.attempts + 1, updated_at=now)
            .returning(ScheduledPost.id),
            execution_options={"synchronize_session": False}).all()
    return sorted(row.id for row in rows)


def any_due(session_factory: SessionFactory, *, now: datetime) -> bool:
    """Whether a post is still waiting to be claimed (a plain read: no lock taken)."""
    now = as_utc(now)
    with session_factory() as session:
        return session.scalar(
            select(ScheduledPost.id)
            .where(ScheduledPost.status == "scheduled", ScheduledPost.due_at <= now,
                   or_(ScheduledPost.next_attempt_at.is_(None), ScheduledPost.next_attempt_at <= now))
            .limit(1)) is not None


def _late_by(due_at: datetime, now: datetime) -> float:
    return (now - as_utc(due_at)).total_seconds() / 60


@retry_when_locked
def apply_late_policy(session_factory: SessionFactory, worker: str, post_ids: list[int], *,
                      now: datetime) -> tuple[list[int], list[MissedPost]]:
    """Of the posts ``worker`` just claimed, mark those later than their ``late_minutes`` as missed.

    Returns (posts to publish, posts missed). A missed post is never sent: its slot has passed.
    """
    if not post_ids:
        return [], []
    now = as_utc(now)
    with session_factory() as session:
        rows = session.execute(
            update(ScheduledPost)
            .where(ScheduledPost.id.in_(post_ids), ScheduledPost.worker == worker,
                   ScheduledPost.status == "publishing")
            .values(updated_at=now)
            .returning(ScheduledPost.id, ScheduledPost.client_id, ScheduledPost.platform, ScheduledPost.due_at,
                       ScheduledPost.late_minutes),
            execution_options={"synchronize_session": False}).all()
        missed = [_missed(row, now) for row in rows if _late_by(row.due_at, now) > row.late_minutes]
        for post in missed:
            _mark_missed(session, post, now, from_status="publishing", worker=worker)
    late = {m.id for m in missed}
    return sorted(row.id for row in rows if row.id not in late), missed


def _missed(row, now: datetime) -> MissedPost:
    return MissedPost(row.id, row.client_id, row.platform, as_utc(row.due_at), row.late_minutes,
                      round(_late_by(row.due_at, now), 1))


def _mark_missed(session: Session, post: MissedPost, now: datetime, *, from_status: str,
                 worker: str | None = None) -> bool:
    conditions = [ScheduledPost.id == post.id, ScheduledPost.status == from_status]
    if worker is not None:
        conditions.append(ScheduledPost.worker == worker)
    values = dict(status="missed", lease_until=None, updated_at=now,
                  error=f"not published: {post.late_by_minutes:.0f} min late when the scheduler got to it "
                        f"(the post allows {post.late_minutes} min)")
    if from_status == "publishing":
        values["attempts"] = ScheduledPost.attempts - 1  # claimed, but never attempted
    done = session.execute(update(ScheduledPost).where(*conditions).values(**values)
                           .returning(ScheduledPost.id), execution_options={"synchronize_session": False}).first()
    if done is not None:
        record_status_change(session, post.id, post.client_id, from_status, "missed",
                             late_by_minutes=post.late_by_minutes)
    return done is not None


@retry_when_locked
def sweep_missed(session_factory: SessionFactory, *, now: datetime) -> list[MissedPost]:
    """Mark every scheduled post already too late as missed (run at start-up: what was missed while down)."""
    now = as_utc(now)
    with session_factory() as session:
        rows = session.execute(
            select(ScheduledPost.id, ScheduledPost.client_id, ScheduledPost.platform, ScheduledPost.due_at,
                   ScheduledPost.late_minutes)
            .where(ScheduledPost.status == "scheduled", ScheduledPost.due_at <= now)
            .order_by(ScheduledPost.due_at)).all()
    candidates = [_missed(row, now) for row in rows if _late_by(row.due_at, now) > row.late_minutes]
    missed = []
    for post in candidates:  # one short transaction each: never a read-then-write on SQLite
        with session_factory() as session:
            if _mark_missed(session, post, now, from_status="scheduled"):
                missed.append(post)
    return missed


@retry_when_locked
def release_claims(session_factory: SessionFactory, worker: str, post_ids: list[int], *,
                   now: datetime) -> list[int]:
    """Give back claimed posts this worker never started (no attempt row), e.g. on shutdown."""
    if not post_ids:
        return []
    now = as_utc(now)
    started = select(PublishAttempt.post_id).where(PublishAttempt.post_id.in_(post_ids),
                                                   PublishAttempt.outcome == "started")
    with session_factory() as session:
        rows = session.execute(
            update(ScheduledPost)
            .where(ScheduledPost.id.in_(post_ids), ScheduledPost.worker == worker,
                   ScheduledPost.status == "publishing", ScheduledPost.id.not_in(started))
            .values(status="scheduled", worker="", lease_until=None, attempts=ScheduledPost.attempts - 1,
                    updated_at=now)
            .returning(ScheduledPost.id), execution_options={"synchronize_session": False}).all()
    return sorted(row.id for row in rows)


# --- leases and reconciliation --------------------------------------------------------------------------

@retry_when_locked
def expire_leases(session_factory: SessionFactory, *, now: datetime,
                  reconcile_delay_seconds: float = 0.0) -> list[int]:
    """Posts still ``publishing`` after their lease ran out: their worker died. They become ``unknown``
    (never straight back to ``scheduled``: the platform may have the post)."""
    now = as_utc(now)
    with session_factory() as session:
        rows = session.execute(
            update(ScheduledPost)
            .where(ScheduledPost.status == "publishing", ScheduledPost.lease_until < now)
            .values(status="unknown", lease_until=None, updated_at=now,
                    next_attempt_at=now + timedelta(seconds=reconcile_delay_seconds),
                    error="the worker stopped while publishing (its lease ran out); checking the platform")
            .returning(ScheduledPost.id), execution_options={"synchronize_session": False}).all()
        ids = sorted(row.id for row in rows)
        if ids:
            session.execute(update(PublishAttempt)
                            .where(PublishAttempt.post_id.in_(ids), PublishAttempt.outcome == "started")
                            .values(outcome="unknown", finished_at=now, error="lease expired"),
                            execution_options={"synchronize_session": False})
    for post_id in ids:
        log.warning("post %s: lease expired while publishing; now unknown", post_id)
    return ids


@retry_when_locked
def claim_unknown(session_factory: SessionFactory, worker: str, *, now: datetime, limit: int,
                  lease_seconds: int) -> list[int]:
    """Hold up to ``limit`` unknown posts for reconciliation (status stays ``unknown``; the lease marks the hold)."""
    now = as_utc(now)
    free = or_(ScheduledPost.lease_until.is_(None), ScheduledPost.lease_until <= now)
    ready = or_(ScheduledPost.next_attempt_at.is_(None), ScheduledPost.next_attempt_at <= now)
    with session_factory() as session:
        due = _claimable(select(ScheduledPost.id).where(ScheduledPost.status == "unknown", free, ready)
                         .order_by(ScheduledPost.due_at, ScheduledPost.id).limit(limit), session)
        rows = session.execute(
            update(ScheduledPost).where(ScheduledPost.id.in_(due), ScheduledPost.status == "unknown", free)
            .values(worker=worker, lease_until=now + timedelta(seconds=lease_seconds), updated_at=now)
            .returning(ScheduledPost.id), execution_options={"synchronize_session": False}).all()
    return sorted(row.id for row in rows)


# --- one tick ---------------------------------------------------------------------------------------------

@dataclass
class Scheduler:
    """Everything one worker needs; ``tick`` is what APScheduler runs every ``interval`` seconds."""

    session_factory: SessionFactory
    publisher_for: PublisherFactory
    options: SchedulerOptions = field(default_factory=SchedulerOptions)
    clock: Clock = system_clock
    notifier: object | None = None  # pipeline.publish.notify.Notifier: the team's channels only
    notices: object | None = None  # pipeline.publish.notices.NoticeService: reminders and notices (wins over notifier)
    stopping: threading.Event = field(default_factory=threading.Event)

    def startup(self) -> StartupReport:
        now = self.clock()
        report = StartupReport(tuple(sweep_missed(self.session_factory, now=now)),
                               tuple(expire_leases(self.session_factory, now=now)))
        level = logging.WARNING if report.missed or report.expired else logging.INFO
        for line in report.lines():
            log.log(level, line)
        return report

    def tick(self) -> TickReport:
        o = self.options
        expired = expire_leases(self.session_factory, now=self.clock(),
                                reconcile_delay_seconds=o.publish.reconcile_delay_seconds)
        reconciled = self._reconcile_unknown()
        outcomes, missed, released = self._publish_due()
        comments = self._post_comments()
        notified = self._notify()
        return TickReport(tuple(expired), tuple(reconciled), tuple(outcomes), tuple(missed), tuple(released),
                          notified, tuple(comments))

    def _post_comments(self) -> list[CommentOutcome]:
        o = self.options
        expire_comment_holds(self.session_factory, now=self.clock())
        results: list[CommentOutcome] = []
        for from_status, handle in (("unknown", self._reconcile_comment), ("pending", self._post_comment)):
            while not self.stopping.is_set():
                held = claim_comments(self.session_factory, now=self.clock(), limit=o.batch_size,
                                      hold_seconds=o.lease_seconds, from_status=from_status)
                if not held:
                    break
                results += [handle(post_id) for post_id in held]
        return results

    def _reconcile_comment(self, post_id: int) -> CommentOutcome:
        return reconcile_comment(self.session_factory, post_id, self.publisher_for, self.clock)

    def _post_comment(self, post_id: int) -> CommentOutcome:
        return post_comment(self.session_factory, post_id, self.publisher_for, self.options.publish, self.clock)

    def _reconcile_unknown(self) -> list[Outcome]:
        o = self.options
        results: list[Outcome] = []
        while not self.stopping.is_set():
            held = claim_unknown(self.session_factory, o.worker, now=self.clock(), limit=o.batch_size,
                                 lease_seconds=o.lease_seconds)
            if not held:
                break
            results += [reconcile(self.session_factory, post_id, o.worker, self.publisher_for, o.publish, self.clock)
                        for post_id in held]
        return results

    def _publish_due(self) -> tuple[list[Outcome], list[MissedPost], list[int]]:
        o = self.options
        outcomes: list[Outcome] = []
        missed: list[MissedPost] = []
        while not self.stopping.is_set():
            claimed = claim_due(self.session_factory, o.worker, now=self.clock(), limit=o.batch_size,
                                lease_seconds=o.lease_seconds)
            if not claimed:
                if any_due(self.session_factory, now=self.clock()):
                    continue  # another worker took the batch we aimed at: aim again
                break
            to_publish, late = apply_late_policy(self.session_factory, o.worker, claimed, now=self.clock())
            missed += late
            for index, post_id in enumerate(to_publish):
                if self.stopping.is_set():  # finish the current post only; hand the rest back untouched
                    released = release_claims(self.session_factory, o.worker, to_publish[index:], now=self.clock())
                    log.info("stopping: released %d claimed post(s) not yet started", len(released))
                    return outcomes, missed, released
                outcomes.append(publish_claimed(self.session_factory, post_id, o.worker, self.publisher_for,
                                                o.publish, self.clock))
        return outcomes, missed, []

    def _notify(self) -> int:
        if self.notices is not None:
            return self.notices.run(now=self.clock()).delivered
        if self.notifier is None:
            return 0
        from pipeline.publish.notices import notify_pending

        return notify_pending(self.session_factory, self.notifier, now=self.clock())


# --- the long-running process ----------------------------------------------------------------------------

METRICS_EVERY_HOURS = 1
CREDENTIALS_EVERY_HOURS = 6
EVERGREEN_EVERY_HOURS = 1  # how often evergreen posts are recycled into free slots (pipeline.publish.evergreen)
FEEDS_EVERY_SECONDS = 60  # how often due feeds are looked for; each feed is polled every [feeds] poll_minutes


class _SkipNoise(logging.Filter):
    """A tick still running when the next is due is skipped on purpose (max_instances=1): not a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


def run_forever(scheduler: Scheduler, *, interval: float, metrics_job=None, credentials_job=None,
                feeds_job=None, evergreen_job=None) -> None:
    """Block, ticking every ``interval`` seconds, until SIGTERM/SIGINT; then finish the current post and exit.

    ``feeds_job`` polls the watched feeds that are due (the caller's, from a layer that may process episodes);
    it runs every minute, each feed keeping its own poll interval and back-off. ``evergreen_job`` recycles
    evergreen posts into free future slots every hour (``evergreen.recycle_pass``)."""
    started: list = []  # the runner, once it exists

    def stop(signum, _frame) -> None:
        log.info("signal %s: finishing the current post, then stopping", signum)
        scheduler.stopping.set()
        if started:  # shutdown(wait=True) waits for running jobs; not from inside the signal handler's frame
            threading.Thread(target=_shutdown, args=(started[0],), daemon=True).start()

    # Before anything slow: a stop that comes while the runner is being built is honoured, not fatal.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    from apscheduler.schedulers.blocking import BlockingScheduler

    logging.getLogger("apscheduler.scheduler").addFilter(_SkipNoise())
    runner = BlockingScheduler(timezone=timezone.utc)
    now = datetime.now(timezone.utc)
    runner.add_job(_safely(scheduler.tick, "tick"), "interval", seconds=interval, id="claim-loop",
                   max_instances=1, coalesce=True, next_run_time=now)
    if metrics_job is not None:
        runner.add_job(_safely(metrics_job, "metrics"), "interval", hours=METRICS_EVERY_HOURS, id="metrics",
                       max_instances=1, coalesce=True, next_run_time=now + timedelta(minutes=1))
    if credentials_job is not None:
        runner.add_job(_safely(credentials_job, "credentials"), "interval", hours=CREDENTIALS_EVERY_HOURS,
                       id="credentials", max_instances=1, coalesce=True, next_run_time=now + timedelta(seconds=5))
    if feeds_job is not None:
        runner.add_job(_safely(feeds_job, "feeds"), "interval", seconds=FEEDS_EVERY_SECONDS, id="feeds",
                       max_instances=1, coalesce=True, next_run_time=now + timedelta(seconds=1))
    if evergreen_job is not None:
        runner.add_job(_safely(evergreen_job, "evergreen"), "interval", hours=EVERGREEN_EVERY_HOURS, id="evergreen",
                       max_instances=1, coalesce=True, next_run_time=now + timedelta(minutes=2))
    started.append(runner)
    if scheduler.stopping.is_set():
        return
    runner.start()


def _shutdown(runner, wait_for_start: float = 5.0) -> None:
    from apscheduler.schedulers import SchedulerNotRunningError

    deadline = time.monotonic() + wait_for_start
    while not runner.running and time.monotonic() < deadline:  # a stop between building and starting
        time.sleep(0.02)
    try:
        runner.shutdown(wait=True)
    except SchedulerNotRunningError:
        pass


def _safely(job, name: str):
    """A job that logs its exception instead of killing the loop (the next tick tries again)."""

    def run():
        try:
            return job()
        except Exception:
            log.exception("%s job failed; it runs again at its next interval", name)
            return None

    run.__name__ = f"castmill-{name}"
    return run
