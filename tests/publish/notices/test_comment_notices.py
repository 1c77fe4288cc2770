"""A first comment that fails for good reaches the VA once, through the outbox and a real SMTP server, with a link
to its post on the calendar: refused by the platform, out of retries, or unknown when the platform cannot say."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

import pipeline.publish.publishers.base as publisher_base
from pipeline.access import auth
from pipeline.publish.attempts import PublishOptions
from pipeline.publish.notices import NoticeService
from pipeline.publish.publishers import get_publisher
from pipeline.publish.scheduler import Scheduler, SchedulerOptions
from pipeline.store.db import Database
from pipeline.store.models import Notification, User
from tests.fakes.mastodon import FakeMastodon
from tests.helpers.scheduler import T0, make_posts, post_row
from tests.publish.notices.conftest import PASSWORD, PUBLIC_URL, smtp_settings
from tests.publish.scheduler.test_first_comment import Clock, with_first_comment

VA = "va@castmill.test"
STATUSES = r"/api/v1/statuses$"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, castmill_home):
    url = (f"sqlite:///{castmill_home / 'castmill.db'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    database = Database(url)
    yield database
    database.dispose()


def a_post_with_a_comment(db, fake: FakeMastodon, mail, settings) -> tuple[int, Scheduler, Clock]:
    [post] = make_posts(db, 1, due_at=T0, platform="mastodon")
    with_first_comment(db, post)
    with db.session() as session:
        auth.add_user(session, VA, PASSWORD, "va")
    clock = Clock(T0)
    notices = NoticeService(db.session, email=smtp_settings(mail.port), public_url=PUBLIC_URL, home=settings.home)
    options = SchedulerOptions(worker="w1", batch_size=10, lease_seconds=120,
                               publish=PublishOptions(max_attempts=3, backoff_base_seconds=60))
    scheduler = Scheduler(db.session, lambda session, row: get_publisher(fake.account()), options, clock=clock,
                          notices=notices)
    return post, scheduler, clock


def ticks(scheduler: Scheduler, clock: Clock, count: int, every: timedelta = timedelta(hours=1)) -> None:
    for _ in range(count):
        clock.now += every
        scheduler.tick()


def outbox(db) -> list[tuple[str, str, str, str]]:
    with db.session() as session:
        return [tuple(row) for row in session.execute(select(Notification.kind, Notification.item,
                                                             Notification.status, Notification.recipient))]


def test_a_refused_comment_is_told_to_the_va_once_with_its_reason_and_a_link(db, settings, mail):
    with FakeMastodon() as fake:
        post, scheduler, clock = a_post_with_a_comment(db, fake, mail, settings)
        fake.fail_next(422, method="POST", path=STATUSES, after=1,
                       json={"error": "Validation failed: Text character limit of 500 exceeded"})
        assert scheduler.tick().notified == 1
        ticks(scheduler, clock, 3)
    assert post_row(db, post).comment_status == "failed"
    [message] = mail.to(VA)
    body = message.get_content()
    assert f"acme: the first comment of post {post} on Mastodon failed: " in body
    assert "Text character limit of 500 exceeded" in body
    assert f"{PUBLIC_URL}/calendar?post={post}" in body
    assert outbox(db) == [("comment_failed", f"post:{post}", "sent", f"user:{_user_id(db)}")]


def test_a_comment_out_of_retries_is_told_once_and_not_while_it_is_retried(fresh_db, settings, mail):
    with FakeMastodon() as fake:
        post, scheduler, clock = a_post_with_a_comment(fresh_db, fake, mail, settings)
        fake.fail_next(503, times=10, method="POST", path=STATUSES, after=1, json={"error": "busy"})
        scheduler.tick()
        assert post_row(fresh_db, post).comment_status == "pending" and mail.to(VA) == []
        ticks(scheduler, clock, 5)
    assert post_row(fresh_db, post).comment_status == "failed"
    [message] = mail.to(VA)
    assert f"post {post} on Mastodon failed: " in message.get_content() and "503" in message.get_content()


def test_an_unknown_comment_the_platform_cannot_look_up_is_told_once(fresh_db, settings, mail, monkeypatch):
    monkeypatch.setattr(publisher_base, "READ_TIMEOUT", 0.5)
    with FakeMastodon() as fake:
        post, scheduler, clock = a_post_with_a_comment(fresh_db, fake, mail, settings)
        fake.hang_next(method="POST", path=STATUSES, after=1, seconds=2)
        scheduler.tick()
        assert post_row(fresh_db, post).comment_status == "unknown" and mail.to(VA) == []  # looked up first
        fake.fail_next(500, times=20, method="GET", json={"error": "down"})
        ticks(scheduler, clock, 3, every=timedelta(minutes=61))
    row = post_row(fresh_db, post)
    assert row.comment_status == "unknown" and row.comment_error.startswith("cannot look the comment up")
    [message] = mail.to(VA)
    assert f"post {post} on Mastodon may or may not be there: cannot look the comment up" in message.get_content()


def test_a_posted_comment_tells_nobody(fresh_db, settings, mail):
    with FakeMastodon() as fake:
        post, scheduler, clock = a_post_with_a_comment(fresh_db, fake, mail, settings)
        ticks(scheduler, clock, 2)
    assert post_row(fresh_db, post).comment_status == "posted"
    assert mail.to(VA) == [] and outbox(fresh_db) == []


def _user_id(db) -> int:
    with db.session() as session:
        return session.scalar(select(User.id).where(User.email == VA))
