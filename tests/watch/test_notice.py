"""The "new episode" notice: a staff notice in the notification outbox, one per feed entry, sent by the outbox's
send pass with each user's preferences through a real SMTP server (aiosmtpd) and a local webhook, retried while
the server is down; logged when nobody can be told."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from pipeline.access import auth
from pipeline.publish.notices import NoticeService, next_digest
from pipeline.publish.preferences import set_preferences
from pipeline.store.models import Episode, Notification
from pipeline.watch.options import POLL_LEASE
from pipeline.watch.poll import ItemResult
from tests.publish.notices.conftest import Hook, MailServer, smtp_settings
from tests.review.conftest import PASSWORD, cheap_hashing  # noqa: F401
from tests.watch.conftest import entries, episode, ingest_only, subscribe
from tests.watch.test_poll import poll

VA = "va@castmill.test"


@pytest.fixture
def mail():
    server = MailServer().start()
    yield server
    server.stop()


def with_smtp(settings, port: int):
    """The settings with [notify]'s SMTP server for users' own email (no team list, no team webhook)."""
    return settings.model_copy(update={"notify": smtp_settings(port)})


def add_staff(db, *emails: str, role: str = "va") -> None:
    with db.session() as session:
        for email in emails:
            auth.add_user(session, email, PASSWORD, role)


def outbox_rows(db) -> list[Notification]:
    with db.session() as session:
        rows = list(session.scalars(select(Notification).order_by(Notification.id)))
        session.expunge_all()
        return rows


def a_new_episode(db, settings, host, clock, media: bytes, title: str) -> None:
    host.add(episode("old", clock.now - timedelta(days=7)))
    subscribe(db, settings, host, clock)
    host.add(episode("new", clock.now + timedelta(minutes=1), media, title=title))


def episode_link(settings, episode_id: int) -> str:
    return f"{settings.server.public_url.rstrip('/')}/episodes?episode={episode_id}"


def test_with_nobody_to_tell_the_notice_is_logged_and_recorded(db, settings, host, clock, spoken, caplog):
    add_staff(db, VA)  # on email, but [notify] has no SMTP server: unreachable
    a_new_episode(db, settings, host, clock, spoken[0], "Pricing, part two")
    with caplog.at_level(logging.INFO, logger="castmill.feeds"):
        [report] = poll(db, settings, clock)
    assert [p.notified_via for p in report.picked_up] == ["log"]
    [entry] = entries(db, status="processed")
    assert entry.notified_via == "log" and entry.notified_at is not None
    assert any("new episode for acme: 'Pricing, part two'" in r.getMessage() for r in caplog.records)
    assert outbox_rows(db) == []


def test_the_va_hears_of_a_new_episode_once_by_email_with_a_link_to_it(db, settings, host, clock, spoken, mail):
    add_staff(db, VA)
    settings = with_smtp(settings, mail.port)
    a_new_episode(db, settings, host, clock, spoken[0], "Hiring well")
    [report] = poll(db, settings, clock)
    host.edit("new", title="Hiring well (edited)")
    [edited] = poll(db, settings, clock)
    NoticeService.from_settings(settings, db.session).run(now=clock.advance(hours=1))

    [picked] = report.picked_up
    assert picked.notified_via == "outbox" and edited.picked_up == []
    [row] = outbox_rows(db)
    [entry] = entries(db, status="processed")
    assert (row.kind, row.item, row.status) == ("new_episode", f"entry:{entry.id}", "sent")
    [message] = mail.to(VA)
    body = message.get_content()
    assert "acme: new episode \u201cHiring well\u201d from feed 1" in body
    assert f"ready as episode {picked.episode_id}" in body and episode_link(settings, picked.episode_id) in body


def test_smtp_down_during_the_poll_leaves_the_notice_failed_and_a_later_pass_sends_it_once(
        db, settings, host, clock, spoken):
    add_staff(db, VA)
    mail = MailServer()  # nothing listens on its port yet
    settings = with_smtp(settings, mail.port)
    a_new_episode(db, settings, host, clock, spoken[0], "Churn")
    [report] = poll(db, settings, clock)
    polled_at = clock.now

    assert [p.notified_via for p in report.picked_up] == ["outbox"]
    [row] = outbox_rows(db)
    assert (row.kind, row.status, row.attempts) == ("new_episode", "failed", 1)
    assert f"127.0.0.1:{mail.port}" in row.last_error and row.next_attempt_at is not None
    mail.start()
    try:
        notices = NoticeService.from_settings(settings, db.session)
        assert notices.run(now=polled_at + timedelta(seconds=30)).delivered == 0  # still backing off
        assert notices.run(now=polled_at + timedelta(seconds=61)).delivered == 1
        assert notices.run(now=polled_at + timedelta(hours=3)).delivered == 0
        [message] = mail.to(VA)
    finally:
        mail.stop()
    assert "Churn" in message.get_content()
    [row] = outbox_rows(db)
    assert (row.status, row.attempts) == ("sent", 2)


def test_each_staff_user_gets_it_their_way_a_webhook_at_once_a_digest_at_its_hour(db, settings, host, clock, spoken,
                                                                                  mail):
    add_staff(db, VA, "hooked@castmill.test")
    add_staff(db, "boss@castmill.test", role="admin")
    settings = with_smtp(settings, mail.port)
    with Hook() as hook:
        admin = auth.system_identity("test admin")
        with db.session() as session:
            set_preferences(session, admin, "hooked@castmill.test", channel="webhook",
                            webhook_url=hook.url("/hook/hooked"))
            set_preferences(session, admin, "boss@castmill.test", cadence="daily")
        a_new_episode(db, settings, host, clock, spoken[1], "A digest's episode")
        [report] = poll(db, settings, clock)
        [payload] = hook.payloads("hooked")
    [picked] = report.picked_up
    [item] = payload["items"]
    assert (item["kind"], item["link"]) == ("new_episode", episode_link(settings, picked.episode_id))
    assert "A digest's episode" in payload["text"]
    assert len(mail.to(VA)) == 1 and mail.to("boss@castmill.test") == []
    digest_at = next_digest(clock.now, "UTC", 8)
    notices = NoticeService.from_settings(settings, db.session)
    assert notices.run(now=digest_at - timedelta(minutes=1)).delivered == 0
    assert notices.run(now=digest_at).delivered == 1
    [digest] = mail.to("boss@castmill.test")
    assert episode_link(settings, picked.episode_id) in digest.get_content()


def test_two_polls_of_the_same_new_item_make_one_notice(db, settings, host, clock, spoken, mail):
    """The first poll stalls past its claim; a second poll takes the entry over and settles it; then the first
    one settles it too. Both say it is a new episode: the VA hears it once."""
    add_staff(db, VA)
    settings = with_smtp(settings, mail.port)
    a_new_episode(db, settings, host, clock, spoken[2], "Told once")
    first_started, second_done = threading.Event(), threading.Event()

    def stalled(db_, settings_, slug, sources):
        first_started.set()
        second_done.wait(timeout=60)
        with db_.session() as session:
            return {s.uri: ItemResult("processed", session.scalar(select(Episode.id).where(
                Episode.source_uri == s.uri)), new_episode=True) for s in sources}

    clock.advance(minutes=31)
    firsts = []
    first = threading.Thread(target=lambda: firsts.extend(poll(db, settings, clock, minutes=0, processor=stalled)))
    first.start()
    assert first_started.wait(timeout=60)
    [second] = poll(db, settings, clock, minutes=POLL_LEASE.total_seconds() / 60 + 1)
    second_done.set()
    first.join(timeout=60)

    [first_report] = firsts
    assert [(p.status, p.notified_via) for p in first_report.picked_up] == [("processed", "-")]
    assert [(p.status, p.notified_via) for p in second.picked_up] == [("processed", "outbox")]
    [entry] = entries(db, status="processed")
    assert entry.notified_via == "outbox"
    NoticeService.from_settings(settings, db.session).run(now=clock.advance(hours=1))
    assert len(mail.to(VA)) == 1 and len(outbox_rows(db)) == 1


def test_a_failed_episode_reaches_the_teams_webhook_with_its_reason(db, settings, host, clock, monkeypatch):
    monkeypatch.setenv("CASTMILL_NOTIFY_WEBHOOK_URL", host.hook_url)
    a_new_episode(db, settings, host, clock, b"not audio at all" * 100, "Broken upload")
    [report] = poll(db, settings, clock, processor=ingest_only)
    [picked] = report.picked_up
    assert (picked.status, picked.notified_via) == ("failed", "outbox") and picked.episode_id is not None
    [payload] = host.notices
    [item] = payload["items"]
    assert (item["kind"], item["link"]) == ("new_episode", episode_link(settings, picked.episode_id))
    assert item["summary"] == f"new episode \u201cBroken upload\u201d from feed 1 - processing failed: {picked.error}"
    assert f"acme: {item['summary']}" in payload["text"]
    assert [row.recipient for row in outbox_rows(db)] == ["team"]
