"""Claiming, publishing one post, retries and failures: the scheduler against an in-process platform."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import select

from pipeline.access.audit import as_utc as utc
from pipeline.store.models import PublishAttempt, ScheduledPost
from pipeline.publish.publishers import AuthError, PublishError
from pipeline.publish.attempts import PublishOptions, publish_claimed, retry_delay
from pipeline.publish.scheduler import Scheduler, SchedulerOptions, claim_due, release_claims
from tests.helpers.scheduler import T0, World, attempts_of, make_posts, post_row, statuses


def scheduler_for(db, world, *, now, worker="w1", **publish):
    options = SchedulerOptions(worker=worker, batch_size=5, lease_seconds=120, publish=PublishOptions(**publish))
    return Scheduler(db.session, world.factory(), options, clock=lambda: now)


def test_claim_takes_only_due_posts_in_due_order_up_to_the_limit(db):
    due = make_posts(db, 3, due_at=T0 - timedelta(minutes=30), spacing=timedelta(minutes=1))
    future = make_posts(db, 2, due_at=T0 + timedelta(minutes=1))
    first = claim_due(db.session, "w1", now=T0, limit=2, lease_seconds=60)
    second = claim_due(db.session, "w2", now=T0, limit=10, lease_seconds=60)
    assert first == due[:2] and second == due[2:]
    assert claim_due(db.session, "w3", now=T0, limit=10, lease_seconds=60) == []
    row = post_row(db, due[0])
    assert (row.status, row.worker, row.attempts) == ("publishing", "w1", 1)
    assert utc(row.lease_until) == T0 + timedelta(seconds=60)
    assert all(post_row(db, p).status == "scheduled" for p in future)


def test_claim_waits_for_next_attempt_at(db):
    [post] = make_posts(db, 1, due_at=T0 - timedelta(minutes=5))
    with db.session() as session:
        session.get(ScheduledPost, post).next_attempt_at = T0 + timedelta(minutes=2)
    assert claim_due(db.session, "w", now=T0, limit=5, lease_seconds=60) == []
    assert claim_due(db.session, "w", now=T0 + timedelta(minutes=2), limit=5, lease_seconds=60) == [post]


def test_concurrent_claimers_never_share_a_post(db):
    posts = make_posts(db, 120, due_at=T0 - timedelta(minutes=1))
    claimed: dict[str, list[int]] = {}

    def worker(name):
        mine = []
        while batch := claim_due(db.session, name, now=T0, limit=7, lease_seconds=60):
            mine += batch
        claimed[name] = mine

    threads = [threading.Thread(target=worker, args=(f"w{k}",)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [p for ids in claimed.values() for p in ids]
    assert sorted(every) == posts  # each post exactly once across all workers
    with db.session() as session:
        assert set(session.scalars(select(ScheduledPost.attempts))) == {1}


def test_publish_commits_a_started_attempt_before_calling_the_platform(fresh_db):
    [post] = make_posts(fresh_db, 1, due_at=T0)
    world = World()
    seen = []
    world.during_publish = lambda p: seen.append(attempts_of(fresh_db, post))  # another connection looks
    report = scheduler_for(fresh_db, world, now=T0).tick()
    assert seen == [["started"]]
    assert attempts_of(fresh_db, post) == ["published"]
    row = post_row(fresh_db, post)
    assert (row.status, row.remote_id, row.worker) == ("published", f"r-{row.idempotency_key}", "w1")
    assert row.remote_url.startswith("https://social.test/") and utc(row.published_at) == T0
    assert report.published == 1 and world.calls[row.idempotency_key] == 1


def test_retryable_error_goes_back_to_scheduled_with_backoff_then_fails_after_max_attempts(fresh_db):
    [post] = make_posts(fresh_db, 1, due_at=T0)
    key = post_row(fresh_db, post).idempotency_key
    world = World()
    world.script[key] = [PublishError("scripted: HTTP 503: busy", retryable=True) for _ in range(3)]
    now = T0
    options = dict(max_attempts=3, backoff_base_seconds=10, backoff_max_seconds=1000)
    scheduler_for(fresh_db, world, now=now, **options).tick()
    row = post_row(fresh_db, post)
    assert row.status == "scheduled" and row.error == "scripted: HTTP 503: busy"
    assert utc(row.next_attempt_at) == now + timedelta(seconds=10)
    # not before the back-off has passed
    assert scheduler_for(fresh_db, world, now=now + timedelta(seconds=9), **options).tick().outcomes == ()
    now += timedelta(seconds=10)
    scheduler_for(fresh_db, world, now=now, **options).tick()
    assert utc(post_row(fresh_db, post).next_attempt_at) == now + timedelta(seconds=20)
    now += timedelta(seconds=20)
    scheduler_for(fresh_db, world, now=now, **options).tick()
    row = post_row(fresh_db, post)
    assert row.status == "failed" and row.attempts == 3
    assert row.error == "gave up after 3 attempts: scripted: HTTP 503: busy"
    assert attempts_of(fresh_db, post) == ["retry", "retry", "failed"]
    assert world.posted[key] == 0


def test_retry_after_from_the_platform_wins_over_a_shorter_backoff():
    options = PublishOptions(backoff_base_seconds=30, backoff_max_seconds=600)
    assert retry_delay(1, options) == 30 and retry_delay(2, options) == 60 and retry_delay(10, options) == 600
    assert retry_delay(1, options, retry_after=120) == 120
    assert retry_delay(3, options, retry_after=5) == 120


def test_auth_and_validation_errors_fail_at_once_with_the_platform_message(fresh_db):
    auth, invalid = make_posts(fresh_db, 2, due_at=T0)
    world = World()
    world.script[post_row(fresh_db, auth).idempotency_key] = [
        AuthError("scripted: HTTP 401: token expired", status=401)]
    world.script[post_row(fresh_db, invalid).idempotency_key] = [
        PublishError("scripted: HTTP 422: Text character limit of 500 exceeded", status=422)]
    scheduler_for(fresh_db, world, now=T0, max_attempts=5).tick()
    assert post_row(fresh_db, auth).status == "failed"
    assert post_row(fresh_db, auth).error == "scripted: HTTP 401: token expired"
    assert post_row(fresh_db, invalid).error == "scripted: HTTP 422: Text character limit of 500 exceeded"
    assert post_row(fresh_db, invalid).attempts == 1


def test_a_token_in_an_error_message_is_masked_before_it_is_stored(fresh_db, caplog):
    caplog.set_level(logging.DEBUG)
    [post] = make_posts(fresh_db, 1, due_at=T0)
    world = World(token="tok-SECRET-987")
    world.script[post_row(fresh_db, post).idempotency_key] = [PublishError("bad request with tok-SECRET-987 in it")]
    scheduler_for(fresh_db, world, now=T0).tick()
    row = post_row(fresh_db, post)
    assert row.error == "bad request with *** in it"
    assert "tok-SECRET-987" not in caplog.text


def test_a_post_whose_clip_was_never_rendered_fails_without_calling_the_platform(fresh_db):
    [post] = make_posts(fresh_db, 1, due_at=T0, media=[{"kind": "video", "status": "planned", "seconds": 30}])
    world = World()
    scheduler_for(fresh_db, world, now=T0).tick()
    row = post_row(fresh_db, post)
    assert row.status == "failed" and "not rendered" in row.error
    assert sum(world.calls.values()) == 0


def test_a_worker_that_lost_its_claim_does_not_publish(fresh_db):
    [post] = make_posts(fresh_db, 1, due_at=T0)
    assert claim_due(fresh_db.session, "w1", now=T0, limit=1, lease_seconds=60) == [post]
    with fresh_db.session() as session:  # someone else took over (e.g. after the lease ran out)
        session.get(ScheduledPost, post).worker = "w2"
    world = World()
    outcome = publish_claimed(fresh_db.session, post, "w1", world.factory(), clock=lambda: T0)
    assert outcome.status == "lost" and sum(world.calls.values()) == 0
    assert attempts_of(fresh_db, post) == []


def test_stopping_finishes_the_current_post_and_releases_the_rest(fresh_db):
    posts = make_posts(fresh_db, 4, due_at=T0)
    world = World()
    scheduler = scheduler_for(fresh_db, world, now=T0)
    world.during_publish = lambda p: scheduler.stopping.set()  # SIGTERM arrives during the first post
    report = scheduler.tick()
    assert [o.post_id for o in report.outcomes] == posts[:1] and report.outcomes[0].status == "published"
    assert list(report.released) == posts[1:]
    assert statuses(fresh_db) == {"published": 1, "scheduled": 3}
    assert {post_row(fresh_db, p).attempts for p in posts[1:]} == {0}
    assert sum(world.calls.values()) == 1


def test_release_leaves_posts_that_were_already_started(fresh_db):
    posts = make_posts(fresh_db, 2, due_at=T0)
    claim_due(fresh_db.session, "w1", now=T0, limit=2, lease_seconds=60)
    with fresh_db.session() as session:
        session.add(PublishAttempt(post_id=posts[0], worker="w1", started_at=T0, outcome="started"))
    assert release_claims(fresh_db.session, "w1", posts, now=T0) == [posts[1]]
    assert post_row(fresh_db, posts[0]).status == "publishing"


def test_an_edit_after_scheduling_stops_the_old_text_and_says_so(fresh_db):
    from pipeline import review
    from pipeline.access.auth import system_identity

    edited, untouched = make_posts(fresh_db, 2, due_at=T0)
    with fresh_db.session() as session:
        draft_id = session.get(ScheduledPost, edited).draft_id
        review.edit(session, system_identity("va test"), draft_id, ["A better text #podcast"], base_version=1)
    world = World()
    scheduler_for(fresh_db, world, now=T0).tick()
    row = post_row(fresh_db, edited)
    assert row.status == "failed" and "changed after it was scheduled" in row.error
    assert world.calls[row.idempotency_key] == 0  # nothing was sent
    assert post_row(fresh_db, untouched).status == "published"
