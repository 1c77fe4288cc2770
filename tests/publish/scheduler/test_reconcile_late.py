"""Unknown outcomes, lease expiry, reconciliation and the late policy, with an injected clock."""

from __future__ import annotations

from datetime import timedelta

from pipeline.access.audit import as_utc as utc
from pipeline.store.models import ScheduledPost
from pipeline.publish.publishers import OutcomeUnknown, PublishError
from pipeline.publish.attempts import PublishOptions
from pipeline.publish.scheduler import Scheduler, SchedulerOptions, claim_due, expire_leases
from tests.helpers.scheduler import T0, World, attempts_of, make_posts, post_row, statuses


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def scheduler_for(db, world, clock, worker="w1", lease_seconds=120):
    options = SchedulerOptions(worker=worker, batch_size=10, lease_seconds=lease_seconds,
                               publish=PublishOptions(backoff_base_seconds=60))
    return Scheduler(db.session, world.factory(), options, clock=clock)


def test_accepted_but_unanswered_post_becomes_unknown_then_is_reconciled_not_resent(db):
    [post] = make_posts(db, 1, due_at=T0)
    key = post_row(db, post).idempotency_key
    world = World()
    world.script[key] = ["accept-then-unknown"]
    clock = Clock(T0)
    first = scheduler_for(db, world, clock).tick()
    # reconciliation runs before publishing within a tick, so the next tick asks the platform
    assert [o.status for o in first.outcomes] == ["unknown"]
    assert post_row(db, post).status == "unknown"
    clock.now += timedelta(seconds=5)
    second = scheduler_for(db, world, clock).tick()
    assert [o.attempt for o in second.reconciled] == ["reconciled_published"]
    row = post_row(db, post)
    assert row.status == "published" and row.remote_id == f"r-{key}"
    assert world.calls[key] == 1 and world.posted[key] == 1 and world.lookups_made[key] == 1
    assert attempts_of(db, post) == ["unknown", "reconciled_published"]


def test_unknown_post_absent_on_the_platform_is_sent_again_once(fresh_db):
    [post] = make_posts(fresh_db, 1, due_at=T0)
    key = post_row(fresh_db, post).idempotency_key
    world = World()
    world.script[key] = [OutcomeUnknown("scripted: connection reset before the platform read it")]
    clock = Clock(T0)
    scheduler_for(fresh_db, world, clock).tick()
    clock.now += timedelta(seconds=5)
    report = scheduler_for(fresh_db, world, clock).tick()
    assert [o.attempt for o in report.reconciled] == ["reconciled_absent"]
    assert [o.status for o in report.outcomes] == ["published"]  # same tick: back to scheduled, then sent
    assert world.posted[key] == 1 and world.calls[key] == 2
    assert attempts_of(fresh_db, post) == ["unknown", "reconciled_absent", "published"]


def test_failing_reconciliation_keeps_the_post_unknown_and_never_resends(fresh_db):
    [post] = make_posts(fresh_db, 1, due_at=T0)
    key = post_row(fresh_db, post).idempotency_key
    world = World()
    world.script[key] = ["accept-then-unknown"]
    world.lookups[key] = [PublishError("scripted: HTTP 502: bad gateway", retryable=True)]
    clock = Clock(T0)
    scheduler_for(fresh_db, world, clock).tick()
    clock.now += timedelta(seconds=1)
    report = scheduler_for(fresh_db, world, clock).tick()
    row = post_row(fresh_db, post)
    assert [o.attempt for o in report.reconciled] == ["reconcile_failed"]
    assert row.status == "unknown" and row.error == "reconcile failed: scripted: HTTP 502: bad gateway"
    assert utc(row.next_attempt_at) == clock.now + timedelta(seconds=60)
    clock.now += timedelta(seconds=30)  # not yet
    assert scheduler_for(fresh_db, world, clock).tick().reconciled == ()
    clock.now += timedelta(seconds=30)
    report = scheduler_for(fresh_db, world, clock).tick()
    assert [o.attempt for o in report.reconciled] == ["reconciled_published"]
    assert world.calls[key] == 1


def test_lease_expiry_makes_unknown_and_reconciles(db):
    posts = make_posts(db, 2, due_at=T0)
    keys = [post_row(db, p).idempotency_key for p in posts]
    # worker "dead" claimed both; it had sent the first (the platform has it) and died before the second
    assert claim_due(db.session, "dead", now=T0, limit=2, lease_seconds=60) == posts
    world = World()
    world.posted[keys[0]] = 1
    clock = Clock(T0 + timedelta(seconds=59))
    assert expire_leases(db.session, now=clock.now) == []  # still within the lease
    clock.now = T0 + timedelta(seconds=61)
    report = scheduler_for(db, world, clock, worker="alive").tick()
    assert list(report.expired) == posts
    by_post = {o.post_id: o.attempt for o in report.reconciled}
    assert by_post == {posts[0]: "reconciled_published", posts[1]: "reconciled_absent"}
    assert statuses(db) == {"published": 2}
    assert world.calls[keys[0]] == 0 and world.calls[keys[1]] == 1
    assert world.posted[keys[0]] == 1 and world.posted[keys[1]] == 1


def test_expired_lease_never_goes_straight_back_to_scheduled(fresh_db):
    [post] = make_posts(fresh_db, 1, due_at=T0)
    claim_due(fresh_db.session, "dead", now=T0, limit=1, lease_seconds=60)
    assert expire_leases(fresh_db.session, now=T0 + timedelta(minutes=5)) == [post]
    row = post_row(fresh_db, post)
    assert row.status == "unknown" and "lease" in row.error
    assert claim_due(fresh_db.session, "w", now=T0 + timedelta(minutes=5), limit=5, lease_seconds=60) == []


def test_scheduler_down_for_three_hours_misses_late_posts_and_reports_them_at_start(db):
    down_from = T0
    back_at = T0 + timedelta(hours=3)
    # due while down: 2h50 late (policy 60 min) -> missed; 2h late with a 4 h policy -> published
    missed = make_posts(db, 2, due_at=down_from + timedelta(minutes=10), late_minutes=60)
    tolerant = make_posts(db, 1, due_at=down_from + timedelta(hours=1), late_minutes=240)
    recent = make_posts(db, 1, due_at=back_at - timedelta(minutes=30), late_minutes=60)
    upcoming = make_posts(db, 1, due_at=back_at + timedelta(minutes=30))
    world = World()
    scheduler = scheduler_for(db, world, Clock(back_at))
    startup = scheduler.startup()
    assert [m.id for m in startup.missed] == missed
    assert startup.missed[0].late_by_minutes == 170.0 and startup.missed[0].late_minutes == 60
    assert "missed while the scheduler was down: 2 post(s)" in startup.lines()[0]
    assert any(f"post {missed[0]} " in line for line in startup.lines())
    report = scheduler.tick()
    assert sorted(o.post_id for o in report.outcomes) == tolerant + recent
    assert {p: post_row(db, p).status for p in missed + upcoming} == {
        missed[0]: "missed", missed[1]: "missed", upcoming[0]: "scheduled"}
    row = post_row(db, missed[0])
    assert "170 min late" in row.error and row.attempts == 0
    assert sum(world.posted.values()) == 2


def test_clock_jump_forward_between_ticks_applies_the_late_policy_at_claim_time(fresh_db):
    [on_time, late] = make_posts(fresh_db, 2, due_at=T0, spacing=timedelta(minutes=10), late_minutes=15)
    world = World()
    clock = Clock(T0)
    scheduler = scheduler_for(fresh_db, world, clock)
    assert [o.post_id for o in scheduler.tick().outcomes] == [on_time]
    clock.now = T0 + timedelta(minutes=10 + 16)  # the clock jumps: the second post is now 16 min late
    report = scheduler.tick()
    assert [m.id for m in report.missed] == [late] and report.outcomes == ()
    assert post_row(fresh_db, late).status == "missed" and post_row(fresh_db, late).attempts == 0


def test_clock_jump_backwards_does_not_republish_or_claim_early(fresh_db):
    [post] = make_posts(fresh_db, 1, due_at=T0 + timedelta(minutes=5))
    world = World()
    clock = Clock(T0 + timedelta(minutes=6))
    scheduler_for(fresh_db, world, clock).tick()
    clock.now = T0  # NTP steps the clock back
    assert scheduler_for(fresh_db, world, clock).tick().outcomes == ()
    later = make_posts(fresh_db, 1, due_at=T0 + timedelta(minutes=5), key_prefix="b-")
    assert scheduler_for(fresh_db, world, clock).tick().outcomes == ()  # not due on this clock
    assert post_row(fresh_db, post).status == "published" and post_row(fresh_db, later[0]).status == "scheduled"
    assert sum(world.calls.values()) == 1


def test_cancelled_posts_are_never_claimed(fresh_db):
    [post] = make_posts(fresh_db, 1, due_at=T0)
    with fresh_db.session() as session:
        session.get(ScheduledPost, post).status = "cancelled"
    world = World()
    assert scheduler_for(fresh_db, world, Clock(T0)).tick().outcomes == ()
    assert post_row(fresh_db, post).status == "cancelled"
