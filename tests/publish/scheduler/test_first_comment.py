"""The scheduler posts a post's first comment once, right after the post, against each platform's fake."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

import pipeline.publish.publishers.base as publisher_base
from pipeline.access.audit import AuditEvent
from pipeline.publish.attempts import PublishOptions, default_publisher_factory
from pipeline.publish.publishers import get_publisher
from pipeline.publish.scheduler import Scheduler, SchedulerOptions
from pipeline.store.models import DraftVersion, PublishAttempt, ScheduledPost
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.facebook import FacebookFake
from tests.fakes.linkedin import FakeLinkedIn
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.webhook import FakeWebhook
from tests.fakes.x import FakeX
from tests.helpers.scheduler import T0, make_posts, post_row

COMMENT = "#podcast #interviews Listen: https://example.com/ep/12"
FAKES = {"mastodon": FakeMastodon, "bluesky": FakeBluesky, "x": FakeX, "linkedin": FakeLinkedIn,
         "facebook": FacebookFake}
COMMENT_PATHS = {"mastodon": r"/api/v1/statuses$", "x": r"/2/tweets$"}


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def with_first_comment(db, post_id: int, text: str = COMMENT) -> None:
    with db.session() as session:
        version = session.get(DraftVersion, session.get(ScheduledPost, post_id).version_id)
        version.first_comment = text


def scheduler_for(db, publisher_for, clock):
    options = SchedulerOptions(worker="w1", batch_size=10, lease_seconds=120,
                               publish=PublishOptions(max_attempts=3, backoff_base_seconds=60))
    return Scheduler(db.session, publisher_for, options, clock=clock)


def comment_attempts(db, post_id: int) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(PublishAttempt.outcome).where(
            PublishAttempt.post_id == post_id, PublishAttempt.kind == "comment").order_by(PublishAttempt.id)))


def comment_audit(db, post_id: int) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity_type == "post", AuditEvent.entity_id == post_id,
            AuditEvent.action.like("post.comment_%")).order_by(AuditEvent.id)))


def one_post_with_comment(db, platform: str, fake, clock):
    [post] = make_posts(db, 1, due_at=T0, platform=platform)
    with_first_comment(db, post)
    return post, scheduler_for(db, lambda session, row: get_publisher(fake.account()), clock)


@pytest.fixture
def fast_timeouts(monkeypatch):
    monkeypatch.setattr(publisher_base, "READ_TIMEOUT", 0.5)


@pytest.mark.parametrize("platform", sorted(FAKES))
def test_comment_is_posted_once_right_after_the_post(fresh_db, platform):
    clock = Clock(T0)
    with FAKES[platform]() as fake:
        post, scheduler = one_post_with_comment(fresh_db, platform, fake, clock)
        report = scheduler.tick()
        row = post_row(fresh_db, post)
        assert row.status == "published" and row.comment_status == "posted" and row.comment_remote_id
        assert [c.status for c in report.comments] == ["posted"]
        clock.now += timedelta(minutes=5)
        assert scheduler.tick().comments == ()
        assert fake.comments_on(row.remote_id) == [COMMENT]
    assert comment_attempts(fresh_db, post) == ["published"]
    assert comment_audit(fresh_db, post) == ["post.comment_pending", "post.comment_posted"]


def test_post_without_a_first_comment_posts_nothing_more(fresh_db):
    with FakeMastodon() as fake:
        [post] = make_posts(fresh_db, 1, due_at=T0, platform="mastodon")
        scheduler_for(fresh_db, lambda session, row: get_publisher(fake.account()), Clock(T0)).tick()
        assert post_row(fresh_db, post).comment_status == "none" and fake.post_count == 1


def test_failed_comment_leaves_the_post_published_and_is_retried_once(db):
    """On SQLite and PostgreSQL (the ``db`` fixture)."""
    clock = Clock(T0)
    with FakeMastodon() as fake:
        post, scheduler = one_post_with_comment(db, "mastodon", fake, clock)
        fake.fail_next(503, method="POST", path=r"/api/v1/statuses$", after=1, json={"error": "busy"})
        scheduler.tick()
        row = post_row(db, post)
        assert row.status == "published" and row.comment_status == "pending" and "503" in row.comment_error
        clock.now += timedelta(seconds=30)  # the back-off is 60 s: not yet
        assert scheduler.tick().comments == ()
        clock.now += timedelta(seconds=31)
        assert [c.status for c in scheduler.tick().comments] == ["posted"]
        row = post_row(db, post)
        assert fake.comments_on(row.remote_id) == [COMMENT] and fake.post_count == 2  # the post was sent once
    assert row.status == "published" and row.attempts == 1 and row.comment_attempts == 2
    assert comment_attempts(db, post) == ["retry", "published"]


def test_refused_comment_fails_for_good_and_the_post_stays_published(fresh_db):
    clock = Clock(T0)
    with FakeMastodon() as fake:
        post, scheduler = one_post_with_comment(fresh_db, "mastodon", fake, clock)
        fake.fail_next(422, method="POST", path=r"/api/v1/statuses$", after=1,
                       json={"error": "Validation failed: Text character limit of 500 exceeded"})
        scheduler.tick()
        clock.now += timedelta(hours=2)
        assert scheduler.tick().comments == ()
    row = post_row(fresh_db, post)
    assert row.status == "published" and row.comment_status == "failed" and "character limit" in row.comment_error
    assert comment_audit(fresh_db, post) == ["post.comment_pending", "post.comment_failed"]


def test_retryable_comment_failures_stop_after_the_attempt_limit(fresh_db):
    clock = Clock(T0)
    with FakeMastodon() as fake:
        post, scheduler = one_post_with_comment(fresh_db, "mastodon", fake, clock)
        fake.fail_next(503, times=10, method="POST", path=r"/api/v1/statuses$", after=1, json={"error": "busy"})
        for _ in range(5):
            scheduler.tick()
            clock.now += timedelta(hours=1)
        assert fake.comments_on(post_row(fresh_db, post).remote_id) == []
    row = post_row(fresh_db, post)
    assert row.comment_status == "failed" and row.comment_attempts == 3
    assert comment_attempts(fresh_db, post) == ["retry", "retry", "failed"]


@pytest.mark.parametrize("platform", sorted(COMMENT_PATHS))
def test_unknown_comment_outcome_is_reconciled_without_a_duplicate(fresh_db, fast_timeouts, platform):
    clock = Clock(T0)
    with FAKES[platform]() as fake:
        post, scheduler = one_post_with_comment(fresh_db, platform, fake, clock)
        fake.hang_next(method="POST", path=COMMENT_PATHS[platform], after=1, seconds=2)
        scheduler.tick()
        assert post_row(fresh_db, post).comment_status == "unknown"
        clock.now += timedelta(seconds=5)
        assert [c.attempt for c in scheduler.tick().comments] == ["reconciled_published"]
        clock.now += timedelta(minutes=5)
        assert scheduler.tick().comments == ()
        row = post_row(fresh_db, post)
        assert fake.comments_on(row.remote_id) == [COMMENT]
    assert row.comment_status == "posted"
    assert comment_attempts(fresh_db, post) == ["unknown", "reconciled_published"]


def test_a_worker_that_died_while_commenting_leaves_an_unknown_that_is_looked_up(fresh_db):
    clock = Clock(T0)
    with FakeMastodon() as fake:
        post, scheduler = one_post_with_comment(fresh_db, "mastodon", fake, clock)
        fake.fail_next(503, method="POST", path=r"/api/v1/statuses$", after=1, json={"error": "busy"})
        scheduler.tick()  # the comment waits for its retry; now pretend a worker held it and died
        with fresh_db.session() as session:
            session.get(ScheduledPost, post).comment_status = "posting"
            session.get(ScheduledPost, post).comment_next_at = T0
        clock.now += timedelta(minutes=10)
        outcomes = scheduler.tick().comments
        # not found on the platform: only then is it posted again, in the same tick
        assert [o.attempt for o in outcomes] == ["reconciled_absent", "published"]
        assert fake.comments_on(post_row(fresh_db, post).remote_id) == [COMMENT]


def test_outbox_writes_the_first_comment_beside_the_post(fresh_db, castmill_home):
    [post] = make_posts(fresh_db, 1, due_at=T0)
    with_first_comment(fresh_db, post)
    scheduler_for(fresh_db, default_publisher_factory(castmill_home), Clock(T0)).tick()
    row = post_row(fresh_db, post)
    assert row.status == "published" and row.comment_status == "posted"
    written = json.loads((castmill_home / "outbox" / "acme" / f"{row.remote_id}.comment.json").read_text())
    assert written["text"] == COMMENT and written["comment_on"] == row.remote_id


def test_a_publisher_without_comments_fails_the_comment_not_the_post(fresh_db):
    with FakeWebhook() as hook:
        [post] = make_posts(fresh_db, 1, due_at=T0, platform="webhook")
        with_first_comment(fresh_db, post)
        scheduler_for(fresh_db, lambda session, row: get_publisher(hook.account()), Clock(T0)).tick()
    row = post_row(fresh_db, post)
    assert row.status == "published" and row.comment_status == "failed"
    assert row.comment_error == "not sent: webhook cannot post comments"
