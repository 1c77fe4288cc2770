"""Notices to the VA: a client asked for changes, an approval stalls, a post failed or was missed; each once,
each linking to the item in the dashboard; through the VA's own email and the team's [notify] webhook."""

from __future__ import annotations

import re
from datetime import timedelta

from pipeline import review
from pipeline.access import auth
from pipeline.publish.notices import NoticeService
from pipeline.publish.notify import Notifier, WebhookChannel
from pipeline.publish.publishers import AuthError
from pipeline.publish.scheduler import Scheduler, SchedulerOptions
from tests.helpers.scheduler import T0, World as Platform, make_posts, post_row
from tests.publish.notices.conftest import PASSWORD, PUBLIC_URL, Hook, draft_ids_in, smtp_settings


def ask_for_changes(world, draft_id: int, reason: str) -> None:
    with world.db.session() as session:
        token = auth.make_review_link_token(session, "acme", home=world.settings.home)
        client = auth.identity_from_review_link(session, token, home=world.settings.home)
        review.request_changes(session, client, draft_id, reason)


def test_a_clients_request_for_changes_reaches_the_va_once_with_a_link_to_the_draft(world):
    draft_id = world.acme_drafts[0]
    ask_for_changes(world, draft_id, "Shorter, and name the guest")
    with Hook() as hook:
        team = Notifier([WebhookChannel(hook.url("/hook/team"))])
        assert world.run(hours=1, team=team).delivered == 2  # the VA's own mail and the team's webhook
        assert world.run(hours=2, team=team).delivered == 0
    [mail] = world.mail.to(world.va_email)
    body = mail.get_content()
    assert "review link acme asked for changes" in body and "Shorter, and name the guest" in body
    assert f"{PUBLIC_URL}/review?draft={draft_id}" in body
    assert world.mail.to(world.acme_email) == []  # the client is not told of their own request
    [payload] = hook.payloads("team")
    [item] = payload["items"]
    assert (item["kind"], item["draft_id"], item["link"]) == ("changes_requested", draft_id,
                                                              f"{PUBLIC_URL}/review?draft={draft_id}")


def test_an_edit_after_the_request_is_no_new_notice_and_a_second_request_is(world):
    draft_id = world.acme_drafts[0]
    ask_for_changes(world, draft_id, "Shorter")
    world.run(hours=1)
    va = auth.system_identity("va")
    with world.db.session() as session:
        review.edit(session, va, draft_id, ["Short"], base_version=1)
        review.approve(session, va, draft_id, version=2)
    world.run(hours=2)
    assert len(world.mail.to(world.va_email)) == 1
    ask_for_changes(world, draft_id, "Now too short")
    world.run(hours=3)
    assert len(world.mail.to(world.va_email)) == 2 and "Now too short" in world.mail.to(world.va_email)[-1].get_content()


def test_a_stalled_approval_is_told_to_the_va_once_per_version(world):
    assert world.run(hours=71).delivered == 3  # the clients' reminders only
    assert world.mail.to(world.va_email) == []
    world.run(hours=73)
    [mail] = world.mail.to(world.va_email)
    assert draft_ids_in(mail) == set(world.acme_drafts + world.budi_drafts)
    assert "for Acme's approval" in mail.get_content() and "for Budi's approval" in mail.get_content()
    world.run(hours=100)
    assert len(world.mail.to(world.va_email)) == 1


def test_failed_and_missed_posts_reach_the_va_with_links_to_the_calendar(fresh_db, settings, mail):
    platform = Platform()
    [failing] = make_posts(fresh_db, 1, due_at=T0)
    [late] = make_posts(fresh_db, 1, due_at=T0 - timedelta(hours=3), key_prefix="late-")
    platform.script[post_row(fresh_db, failing).idempotency_key] = [AuthError("scripted: HTTP 401: token revoked")]
    with fresh_db.session() as session:
        auth.add_user(session, "va@castmill.test", PASSWORD, "va")
    notices = NoticeService(fresh_db.session, email=smtp_settings(mail.port), public_url=PUBLIC_URL,
                            home=settings.home)
    scheduler = Scheduler(fresh_db.session, platform.factory(), SchedulerOptions(worker="w"), clock=lambda: T0,
                          notices=notices)
    assert scheduler.tick().notified == 2
    assert scheduler.tick().notified == 0
    [message] = mail.to("va@castmill.test")
    body = message.get_content()
    assert f"post {failing} (acme, outbox) due 2026-12-01 09:00 UTC: FAILED - scripted: HTTP 401: token revoked" in body
    assert f"post {late} (acme, outbox) due 2026-12-01 06:00 UTC: MISSED" in body
    assert set(re.findall(r"/calendar\?post=(\d+)", body)) == {str(failing), str(late)}
    assert f"{PUBLIC_URL}/calendar?post={failing}" in body


def test_a_disabled_or_opted_out_staff_user_and_a_va_on_the_team_list_get_no_mail_of_their_own(world):
    from pipeline.publish.notify import EmailChannel

    with world.db.session() as session:
        auth.add_user(session, "gone@castmill.test", PASSWORD, "admin")
        auth.set_disabled(session, "gone@castmill.test", True)
    ask_for_changes(world, world.acme_drafts[0], "Please change")
    team = Notifier([EmailChannel(smtp_settings(world.mail.port).model_copy(update={"email_to": [world.va_email]}))])
    world.run(hours=1, team=team)
    [mail] = world.mail.to(world.va_email)  # one: through the team's list, not twice
    assert mail["To"] == world.va_email and "Please change" in mail.get_content()
    assert world.mail.to("gone@castmill.test") == []
