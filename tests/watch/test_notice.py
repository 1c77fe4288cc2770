"""The "new episode" notice: by email and webhook when [notify] has them, logged and recorded when not, once."""

from __future__ import annotations

import logging
from datetime import timedelta

from tests.fakes.smtp import FakeSMTP
from tests.watch.conftest import entries, episode, ingest_only, subscribe
from tests.watch.test_poll import poll


def test_without_notify_settings_the_notice_is_logged_and_recorded(db, settings, host, clock, spoken, caplog):
    host.add(episode("old", clock.now - timedelta(days=7)))
    subscribe(db, settings, host, clock)
    host.add(episode("new", clock.now + timedelta(minutes=1), spoken[0], title="Pricing, part two"))
    with caplog.at_level(logging.INFO, logger="castmill.feeds"):
        [report] = poll(db, settings, clock)
    assert [p.notified_via for p in report.picked_up] == ["log"]
    [entry] = entries(db, status="processed")
    assert entry.notified_via == "log" and entry.notified_at is not None
    assert any("new episode for acme: 'Pricing, part two'" in r.getMessage() for r in caplog.records)


def test_the_notice_goes_by_email_once_and_a_refusing_webhook_does_not_stop_it(db, settings, host, clock, spoken,
                                                                               monkeypatch):
    monkeypatch.setenv("CASTMILL_NOTIFY_WEBHOOK_URL", host.url("/no-such-hook"))
    host.add(episode("old", clock.now - timedelta(days=7)))
    subscribe(db, settings, host, clock)
    host.add(episode("new", clock.now + timedelta(minutes=1), spoken[0], title="Hiring well"))
    with FakeSMTP() as smtp:
        notify = settings.notify.model_copy(update={"email_to": ["va@example.com"], "smtp_host": "127.0.0.1",
                                                    "smtp_port": smtp.port})
        with_email = settings.model_copy(update={"notify": notify})
        [report] = poll(db, with_email, clock)
        host.edit("new", title="Hiring well (edited)")
        [edited] = poll(db, with_email, clock)
    assert [p.notified_via for p in report.picked_up] == ["email"] and edited.picked_up == []
    [(_sender, recipients, message)] = smtp.messages
    assert recipients == ["va@example.com"] and message["Subject"] == "Castmill: new episode for acme: Hiring well"
    assert f"ready as episode {report.picked_up[0].episode_id}" in message.get_content()


def test_a_failed_episode_is_announced_with_its_reason(db, settings, host, clock, spoken, monkeypatch):
    monkeypatch.setenv("CASTMILL_NOTIFY_WEBHOOK_URL", host.hook_url)
    host.add(episode("old", clock.now - timedelta(days=7)))
    subscribe(db, settings, host, clock)
    host.add(episode("broken", clock.now + timedelta(minutes=1), b"not audio at all" * 100, title="Broken upload"))
    [report] = poll(db, settings, clock, processor=ingest_only)
    [picked] = report.picked_up
    assert (picked.status, picked.notified_via) == ("failed", "webhook") and picked.episode_id is not None
    [notice] = host.notices
    assert notice["episode"]["status"] == "failed" and notice["episode"]["error"] == picked.error
    assert f"'Broken upload' from feed 1 - processing failed: {picked.error}" in notice["text"]
