"""``Post.first_attempt_at``: what publishers get to bound their look-ups by text (see publishers/base.py)."""

from __future__ import annotations

from datetime import timedelta

from pipeline.store.models import PublishAttempt, ScheduledPost
from pipeline.publish.publishers import Post, PublishError
from pipeline.publish.attempts import PublishOptions, build_post, first_attempt_started
from pipeline.publish.scheduler import Scheduler, SchedulerOptions
from tests.helpers.scheduler import T0, ScriptedPublisher, World, attempts_of, make_posts, post_row


class RecordingWorld(World):
    """The scripted platform, remembering the Post every publish and find_existing call was given."""

    def __init__(self):
        super().__init__()
        self.published_posts: list[Post] = []
        self.looked_up_posts: list[Post] = []

    def factory(self):
        world = self

        class Recording(ScriptedPublisher):
            def publish(self, post):
                world.published_posts.append(post)
                return super().publish(post)

            def find_existing(self, post):
                world.looked_up_posts.append(post)
                return super().find_existing(post)

        return lambda session, row: Recording(world)


def tick(db, world, now):
    options = SchedulerOptions(worker="w1", batch_size=5, lease_seconds=120,
                               publish=PublishOptions(backoff_base_seconds=10))
    return Scheduler(db.session, world.factory(), options, clock=lambda: now).tick()


def built(db, post_id: int) -> Post:
    with db.session() as session:
        return build_post(session, session.get(ScheduledPost, post_id), with_media=False)


def test_a_fresh_post_has_no_first_attempt(db):
    [post] = make_posts(db, 1, due_at=T0)

    assert built(db, post).first_attempt_at is None


def test_a_retry_carries_the_first_attempts_start_not_its_own(db):
    [post] = make_posts(db, 1, due_at=T0)
    world = RecordingWorld()
    world.script[post_row(db, post).idempotency_key] = [PublishError("scripted: HTTP 503", retryable=True)] * 2

    tick(db, world, T0)  # the "started" attempt is committed before the call: it must not count as earlier
    tick(db, world, T0 + timedelta(seconds=10))
    tick(db, world, T0 + timedelta(seconds=40))

    assert [p.first_attempt_at for p in world.published_posts] == [None, T0, T0]
    assert attempts_of(db, post) == ["retry", "retry", "published"]
    assert built(db, post).first_attempt_at == T0


def test_reconciling_an_unknown_post_uses_its_earliest_attempt(db):
    [post] = make_posts(db, 1, due_at=T0)
    world = RecordingWorld()
    world.script[post_row(db, post).idempotency_key] = ["accept-then-unknown"]

    tick(db, world, T0)
    report = tick(db, world, T0 + timedelta(seconds=5))

    assert [o.attempt for o in report.reconciled] == ["reconciled_published"]
    assert [p.first_attempt_at for p in world.looked_up_posts] == [T0]


def test_first_attempt_started_is_the_earliest_of_several(db):
    [post, other] = make_posts(db, 2, due_at=T0)
    with db.session() as session:
        for minutes in (30, 0, 10):
            session.add(PublishAttempt(post_id=post, worker="w", started_at=T0 + timedelta(minutes=minutes),
                                       outcome="retry"))
        session.add(PublishAttempt(post_id=other, worker="w", started_at=T0 - timedelta(days=1), outcome="failed"))

    with db.session() as session:
        assert first_attempt_started(session, post) == T0
