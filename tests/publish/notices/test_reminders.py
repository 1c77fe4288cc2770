"""Reminders to clients whose approval drafts wait for: once per draft per period, with a review link that
opens that client's drafts only, through a real SMTP server; retried when the server is down, never twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from pipeline import review
from pipeline.access import auth
from pipeline.core.errors import NotFoundError
from pipeline.publish.options import NoticeOptions
from pipeline.store.db import Database
from pipeline.store.models import Client, Notification
from pipeline.calendar import schedule
from tests.fakes.smtp_servers import DropsAfterData
from tests.helpers.processes import free_port
from tests.publish.notices.conftest import PUBLIC_URL, MailServer, build_world, draft_ids_in, review_token_in


def rows(world, **where) -> list[Notification]:
    with world.db.session() as session:
        query = select(Notification).order_by(Notification.id)
        for name, value in where.items():
            query = query.where(getattr(Notification, name) == value)
        return list(session.scalars(query))


def test_nothing_before_the_deadline_then_one_reminder_per_client_per_period(world):
    assert world.run(hours=23).delivered == 0
    assert world.mail.messages() == []

    report = world.run(hours=25)
    assert report.delivered == 3 and report.messages == 2  # acme's two drafts in one mail, budi's one in another
    [acme_mail] = world.mail.to(world.acme_email)
    [budi_mail] = world.mail.to(world.budi_email)
    assert acme_mail["Subject"] == "Reminder: 2 post(s) waiting for your approval"
    assert draft_ids_in(acme_mail) == set(world.acme_drafts)  # never another client's draft
    assert draft_ids_in(budi_mail) == set(world.budi_drafts)
    assert "Pricing with Acme" in acme_mail.get_content() and "Pricing with Acme" not in budi_mail.get_content()
    assert world.mail.to(world.va_email) == []  # the VA hears of a stall only after 72 h

    assert world.run(hours=25).delivered == 0  # the same pass again
    assert world.run(hours=48).delivered == 0  # still the first period (24 h from the deadline)
    assert len(world.mail.messages()) == 2

    assert world.run(hours=49.5).delivered == 3  # the next period: one more each
    assert len(world.mail.to(world.acme_email)) == 2
    assert {r.period_key for r in rows(world, draft_id=world.acme_drafts[0])} == {"v1:p0", "v1:p1"}


def test_the_review_link_opens_that_clients_drafts_and_no_others(world):
    world.run(hours=25)
    [acme_mail] = world.mail.to(world.acme_email)
    body = acme_mail.get_content()
    token = review_token_in(acme_mail)
    assert f"{PUBLIC_URL}/?token={token}" in body
    assert f"{PUBLIC_URL}/?token={token}&draft={world.acme_drafts[0]}" in body
    with world.db.session() as session:
        identity = auth.identity_from_review_link(session, token, home=world.settings.home)
        assert (identity.client_slug, identity.role) == ("acme", "client")
        assert review.draft_detail(session, identity, world.acme_drafts[0]).client_slug == "acme"
        with pytest.raises(NotFoundError):
            review.draft_detail(session, identity, world.budi_drafts[0])
    # The token is in the mail only: the outbox keeps the plain dashboard link.
    assert all(token not in (r.link + r.summary) for r in rows(world))


def test_an_approved_or_edited_draft_stops_its_reminders(world):
    world.run(hours=25)
    with world.db.session() as session:
        reviewer = auth.identity_from_review_link(session, review_token_in(world.mail.to(world.acme_email)[0]),
                                                  home=world.settings.home)
        review.approve(session, reviewer, world.acme_drafts[0], version=1)
    world.run(hours=49.5)
    latest = world.mail.to(world.acme_email)[-1]
    assert draft_ids_in(latest) == {world.acme_drafts[1]}


def test_a_scheduled_slot_brings_the_reminder_forward(world):
    """A draft on the calendar whose client has not approved its latest version (edited after scheduling) is
    reminded ``before_slot_hours`` before the slot, even when ``after_hours`` has not passed."""
    draft_id = world.acme_drafts[0]
    admin = auth.system_identity("test")
    with world.db.session() as session:
        reviewer = auth.identity_from_review_link(session, auth.make_review_link_token(
            session, "acme", home=world.settings.home), home=world.settings.home)
        review.approve(session, reviewer, draft_id, version=1)
        schedule(session, admin, draft_id, at=world.t0 + timedelta(hours=30))
        review.edit(session, admin, draft_id, ["A better post"], base_version=1)
        review.approve(session, admin, draft_id, version=2)  # the VA's stage again: back with the client
    options = NoticeOptions(after_hours=48, before_slot_hours=24)
    assert world.run(hours=5, options=options).delivered == 0
    assert world.run(hours=7, options=options).delivered == 1  # 23 h before the slot
    [mail] = world.mail.to(world.acme_email)
    assert draft_ids_in(mail) == {draft_id} and "due to go out" in mail.get_content()


def test_a_clients_own_reminder_hours_win_and_off_means_none(world):
    with world.db.session() as session:
        session.get(Client, world.acme).reminder_settings = {"after_hours": 2}
        session.get(Client, world.budi).reminder_settings = {"enabled": False}
    assert world.run(hours=3).delivered == 2
    assert draft_ids_in(world.mail.to(world.acme_email)[0]) == set(world.acme_drafts)
    assert world.mail.to(world.budi_email) == []
    world.run(hours=30)
    assert world.mail.to(world.budi_email) == []


def test_smtp_down_is_recorded_retried_with_back_off_then_sent_exactly_once(fresh_db, settings):
    mail = MailServer(free_port())  # not started: nothing listens on its port
    world = build_world(fresh_db, settings, mail)
    report = world.run(hours=25)
    assert report.delivered == 0 and report.failed == 3
    failed = rows(world)
    assert {r.status for r in failed} == {"failed"} and {r.attempts for r in failed} == {1}
    assert all("ConnectionRefusedError" in r.last_error and f"127.0.0.1:{mail.port}" in r.last_error for r in failed)
    first_retry = min(r.next_attempt_at for r in failed)

    mail.start()
    try:
        assert world.run(hours=25).delivered == 0  # before its back-off: not tried
        assert {r.attempts for r in rows(world)} == {1}
        assert world.run(hours=25 + 2 / 60).delivered == 3
        assert {r.status for r in rows(world)} == {"sent"}
        for later in (25.1, 26, 30):
            assert world.run(hours=later).delivered == 0
    finally:
        mail.stop()
    assert first_retry is not None
    assert len(mail.to(world.acme_email)) == 1 and len(mail.to(world.budi_email)) == 1


def test_a_message_the_server_took_without_answering_is_unknown_and_never_resent(fresh_db, settings):
    with DropsAfterData() as drops:  # reads the whole message, then drops the connection before its "250"
        world = build_world(fresh_db, settings, MailServer(drops.port))
        with world.db.session() as session:  # one recipient: the fake takes one connection
            session.get(Client, world.budi).reminder_settings = {"enabled": False}
        report = world.run(hours=25)
    assert (report.delivered, report.unknown) == (0, 2)
    assert len(drops.bodies) == 1
    unknown = rows(world)
    assert {r.status for r in unknown} == {"unknown"}
    assert all("may have been delivered" in r.last_error for r in unknown)
    world.mail = MailServer(drops.port).start()
    try:
        for later in (25.5, 30, 40):
            assert world.run(hours=later).delivered == 0
    finally:
        world.mail.stop()
    assert world.mail.messages() == []
    assert {r.status for r in rows(world)} == {"unknown"}


def test_a_sender_that_died_after_handing_over_leaves_unknown_and_one_that_died_before_sends_again(world):
    world.mail.stop()
    world.mail.port = free_port()  # down: the first pass only queues and fails
    world.run(hours=25)
    handed, not_handed = [r for r in rows(world) if r.client_id == world.acme]
    lease_over = world.t0 + timedelta(hours=25)
    with world.db.session() as session:  # two senders died mid-send: one after the hand-over, one before it
        session.execute(update(Notification).where(Notification.id == handed.id).values(
            status="sending", lease_until=lease_over, handed_at=lease_over - timedelta(seconds=1)))
        session.execute(update(Notification).where(Notification.id == not_handed.id).values(
            status="sending", lease_until=lease_over, handed_at=None))
    world.mail.start()
    world.run(hours=26)
    after = {r.id: r for r in rows(world)}
    assert after[handed.id].status == "unknown" and "not sent again" in after[handed.id].last_error
    assert after[not_handed.id].status == "sent"
    [acme_mail] = world.mail.to(world.acme_email)
    assert draft_ids_in(acme_mail) == {not_handed.draft_id}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_schedulers_at_once_send_one_reminder(backend, castmill_home, settings, mail, request):
    url = f"sqlite:///{castmill_home / 'castmill.db'}" if backend == "sqlite" else request.getfixturevalue(
        "postgres_url")
    db = Database(url)
    try:
        world = build_world(db, settings, mail)
        start = threading.Barrier(2)
        reports = {}

        def run(worker: str) -> None:
            service = world.service(worker=worker)
            start.wait()
            reports[worker] = service.run(now=world.t0 + timedelta(hours=25))

        threads = [threading.Thread(target=run, args=(name,)) for name in ("w1", "w2")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sum(r.delivered for r in reports.values()) == 3
        assert len(mail.to(world.acme_email)) == 1 and len(mail.to(world.budi_email)) == 1
        assert len(rows(world)) == 3
    finally:
        db.dispose()
