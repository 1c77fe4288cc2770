"""Notifications of failed, missed and unresolved posts: a webhook and email, each post reported once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.core.settings import load_settings
from pipeline.core.errors import ConfigError
from sqlalchemy import select

from pipeline.store.models import Notification, ScheduledPost
from pipeline.publish.notices import notify_pending
from pipeline.publish.notify import EmailChannel, NotifySettings, Notifier, WebhookChannel, load_notify_settings
from pipeline.publish.publishers import AuthError
from pipeline.publish.scheduler import Scheduler, SchedulerOptions
from tests.fakes.server import FakeServer, Response
from tests.fakes.smtp import FakeSMTP
from tests.helpers.scheduler import T0, World, make_posts, post_row


class FakeHook(FakeServer):
    """A Slack/Zapier-style incoming webhook: JSON with a ``text`` field, answers 200 ``ok``."""

    def __init__(self):
        super().__init__()
        self.received = []
        self.route("POST", r"/notify", self.notify)

    def notify(self, request):
        if (request.header("content-type") or "").split(";")[0] != "application/json":
            return Response(415, {"error": "JSON only"})
        payload = request.json()
        if not isinstance(payload.get("text"), str):
            return Response(400, {"error": "text is required"})
        self.received.append(payload)
        return Response(200, body=b"ok", content_type="text/plain")


def failed_and_missed(fresh_db):
    """One post failing with an auth error and one missed (3 h late), handled by one tick."""
    world = World()
    [failing] = make_posts(fresh_db, 1, due_at=T0)
    [late] = make_posts(fresh_db, 1, due_at=T0 - timedelta(hours=3), key_prefix="late-")
    world.script[post_row(fresh_db, failing).idempotency_key] = [AuthError("scripted: HTTP 401: token revoked")]
    return world, failing, late


def test_webhook_gets_one_digest_and_posts_are_reported_once(fresh_db):
    world, failing, late = failed_and_missed(fresh_db)
    with FakeHook() as hook:
        notifier = Notifier([WebhookChannel(hook.url("/notify"))])
        scheduler = Scheduler(fresh_db.session, world.factory(), SchedulerOptions(worker="w"), clock=lambda: T0,
                              notifier=notifier)
        report = scheduler.tick()
        assert report.notified == 2
        assert scheduler.tick().notified == 0  # already reported
    [payload] = hook.received
    assert payload["event"] == "posts_need_attention"
    by_id = {p["post_id"]: p for p in payload["posts"]}
    assert by_id[failing]["status"] == "failed" and by_id[failing]["error"] == "scripted: HTTP 401: token revoked"
    assert by_id[late]["status"] == "missed" and by_id[late]["client"] == "acme"
    assert payload["text"].startswith("Castmill: 2 post(s) need attention (acme)")
    assert f"post {failing} (acme, outbox)" in payload["text"]
    assert post_row(fresh_db, failing).notified_at is not None


def test_email_digest_through_smtp_with_auth(fresh_db, monkeypatch):
    world, failing, late = failed_and_missed(fresh_db)
    with FakeSMTP(username="castmill", password="smtp-pass-42") as smtp:
        settings = NotifySettings(email_to=["va@example.com", "boss@example.com"], email_from="castmill@example.com",
                                  smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_username="castmill",
                                  smtp_password="smtp-pass-42")
        notifier = Notifier.from_settings(settings)
        assert [c.name for c in notifier.channels] == ["email"]
        Scheduler(fresh_db.session, world.factory(), SchedulerOptions(worker="w"), clock=lambda: T0,
                  notifier=notifier).tick()
    [(sender, recipients, message)] = smtp.messages
    assert sender == "castmill@example.com" and recipients == ["va@example.com", "boss@example.com"]
    assert message["Subject"] == "Castmill: 2 post(s) need attention (acme)"
    body = message.get_content()
    assert f"post {failing} (acme, outbox) due 2026-12-01 09:00 UTC: FAILED - scripted: HTTP 401: token revoked" in body
    assert f"post {late} (acme, outbox) due 2026-12-01 06:00 UTC: MISSED" in body
    assert smtp.auth_seen == [("castmill", "smtp-pass-42")]


def test_undeliverable_notification_is_recorded_and_retried_after_its_back_off(fresh_db):
    world, failing, late = failed_and_missed(fresh_db)
    clock = [T0]
    with FakeSMTP(refuse_recipients=True) as smtp:
        settings = NotifySettings(email_to=["va@example.com"], smtp_host="127.0.0.1", smtp_port=smtp.port)
        scheduler = Scheduler(fresh_db.session, world.factory(), SchedulerOptions(worker="w"), clock=lambda: clock[0],
                              notifier=Notifier.from_settings(settings))
        assert scheduler.tick().notified == 0
        with fresh_db.session() as session:
            rows = session.scalars(select(Notification).order_by(Notification.id)).all()
        assert {(r.post_id, r.status, r.attempts) for r in rows} == {(failing, "failed", 1), (late, "failed", 1)}
        assert all("550 5.1.1 mailbox unavailable" in r.last_error for r in rows)
        smtp.refuse_recipients = False
        assert scheduler.tick().notified == 0  # still waiting out its back-off
        clock[0] = T0 + timedelta(minutes=2)
        assert scheduler.tick().notified == 2
        clock[0] = T0 + timedelta(hours=2)
        assert scheduler.tick().notified == 0
    assert len(smtp.messages) == 1


def test_unknown_posts_are_reported_only_when_reconciliation_fails(fresh_db):
    [post] = make_posts(fresh_db, 1, due_at=T0)
    with fresh_db.session() as session:
        row = session.get(ScheduledPost, post)
        row.status, row.error = "unknown", "scripted: no answer after sending"
    sent = []

    class Recorder:
        name = "recorder"

        def send(self, notices):
            sent.append(notices)

    notifier = Notifier([Recorder()])
    assert notify_pending(fresh_db.session, notifier, now=T0) == 0  # reconciliation may still settle it
    with fresh_db.session() as session:
        session.get(ScheduledPost, post).error = "reconcile failed: scripted: HTTP 502"
    assert notify_pending(fresh_db.session, notifier, now=T0) == 1
    assert sent[0][0].status == "unknown" and sent[0][0].error == "reconcile failed: scripted: HTTP 502"


def test_email_message_names_the_local_time_of_the_post(fresh_db):
    [post] = make_posts(fresh_db, 1, due_at=T0)
    with fresh_db.session() as session:
        row = session.get(ScheduledPost, post)
        row.status, row.error, row.timezone = "failed", "x", "America/New_York"
    captured = []

    class Capture(EmailChannel):
        def send(self, notices):
            captured.append(self.message(notices))

    notify_pending(fresh_db.session, Notifier([Capture(NotifySettings(email_to=["a@b.c"], smtp_host="h"))]), now=T0)
    assert "due 2026-12-01 04:00 America/New_York" in captured[0].get_content()


def test_settings_come_from_the_notify_table_and_the_password_from_the_environment(castmill_home, monkeypatch):
    castmill_home.mkdir(parents=True, exist_ok=True)
    (castmill_home / "castmill.toml").write_text(
        '[notify]\nemail_to = ["va@example.com"]\nsmtp_host = "mail.example.com"\nsmtp_port = 587\n'
        'smtp_starttls = true\nsmtp_username = "castmill"\n')
    monkeypatch.setenv("CASTMILL_SMTP_PASSWORD", "from-env")
    loaded = load_notify_settings(load_settings(castmill_home))
    assert (loaded.smtp_host, loaded.smtp_port, loaded.smtp_starttls) == ("mail.example.com", 587, True)
    assert loaded.smtp_password == "from-env" and "from-env" not in repr(loaded)
    assert loaded.enabled
    (castmill_home / "castmill.toml").write_text('[notify]\nsmtp_port = 0\n')
    with pytest.raises(ConfigError, match="smtp_port"):
        load_notify_settings(load_settings(castmill_home))
