"""Scheduling approved drafts: approval rules, times, accounts, one live post per draft, audit."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from pipeline import review
from pipeline.calendar import ScheduleError, auto_schedule, cancel, reschedule, schedule
from pipeline.publish.credentials import add_account
from pipeline.core.errors import NotFoundError
from pipeline.store.models import AuditEvent, ScheduledPost
from tests.helpers.calendar import (NY_WEEKDAYS_0900, add_client, add_draft, approve, approved_draft,
                                      schedule_at_once)

UTC = timezone.utc
NOW = datetime(2030, 5, 30, 12, 0, tzinfo=UTC)  # a Thursday


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def acme(db, staff):
    """(database, staff identity, client id) for client acme in New York with Mon/Wed/Fri 09:00 x slots."""
    with db.session() as session:
        client = add_client(session, "acme", "America/New_York", NY_WEEKDAYS_0900)
        return db, staff, client.id


def events(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def client_of(session, client_id):
    from pipeline.store.models import Client

    return session.get(Client, client_id)


def test_a_draft_that_is_not_approved_cannot_be_scheduled(acme):
    db, identity, client_id = acme
    with db.session() as session:
        draft = add_draft(session, client_of(session, client_id))
        with pytest.raises(ScheduleError, match=rf"draft {draft.id} is not approved \(status draft\)"):
            schedule(session, identity, draft.id, at=datetime(2030, 6, 3, 9, 0), now=NOW)
        # halfway: the VA approved, the client has not yet (two-stage client)
        client_of(session, client_id).approval_stages = 2
        review.approve(session, identity, draft.id, version=1)
        assert draft.status == "client_review"
        with pytest.raises(ScheduleError, match="is not approved"):
            schedule(session, identity, draft.id, at=datetime(2030, 6, 3, 9, 0), now=NOW)
        assert session.scalar(select(ScheduledPost.id)) is None


def test_a_draft_edited_after_approval_cannot_be_scheduled_until_approved_again(acme):
    db, identity, client_id = acme
    with db.session() as session:
        draft = approved_draft(session, identity, client_of(session, client_id))
        review.edit(session, identity, draft.id, ["A better post about the episode"], base_version=1)
        with pytest.raises(ScheduleError, match="is not approved"):
            schedule(session, identity, draft.id, at=datetime(2030, 6, 3, 9, 0), now=NOW)
        approve(session, identity, draft)
        post = schedule(session, identity, draft.id, at=datetime(2030, 6, 3, 9, 0), now=NOW)
        assert post.version_id == review.latest_version(session, draft.id).id
        assert review.latest_version(session, draft.id).number == 2


def test_a_naive_time_is_local_to_the_clients_zone_and_stored_in_utc(acme):
    db, identity, client_id = acme
    with db.session() as session:
        draft = approved_draft(session, identity, client_of(session, client_id))
        post = schedule(session, identity, draft.id, at=datetime(2030, 6, 3, 9, 0), late_minutes=15, now=NOW)
    with db.session() as session:
        stored = session.get(ScheduledPost, post.id)
        assert stored.due_at.replace(tzinfo=UTC) == utc(2030, 6, 3, 13, 0)  # 09:00 EDT
        assert (stored.timezone, stored.status, stored.late_minutes) == ("America/New_York", "scheduled", 15)
        assert (stored.platform, stored.account_id) == ("outbox", None)  # acme has no x account
        assert re.fullmatch(r"[0-9a-f]{32}", stored.idempotency_key)


def test_a_time_in_another_zone_or_with_an_offset(acme):
    db, identity, client_id = acme
    with db.session() as session:
        client = client_of(session, client_id)
        berlin = schedule(session, identity, approved_draft(session, identity, client).id,
                          at=datetime(2030, 6, 3, 9, 0), tz="Europe/Berlin", now=NOW)
        aware = schedule(session, identity, approved_draft(session, identity, client).id,
                         at=datetime(2030, 6, 3, 9, 0, 30, 999, tzinfo=timezone(timedelta(hours=7))), now=NOW)
        assert (berlin.due_at, berlin.timezone) == (utc(2030, 6, 3, 7, 0), "Europe/Berlin")
        assert aware.due_at == utc(2030, 6, 3, 2, 0, 30)  # whole seconds
        assert aware.timezone == "America/New_York"


def test_a_time_in_the_past_is_refused(acme):
    db, identity, client_id = acme
    with db.session() as session:
        draft = approved_draft(session, identity, client_of(session, client_id))
        with pytest.raises(ScheduleError, match=r"2030-05-30 08:00 EDT is in the past"):
            schedule(session, identity, draft.id, at=datetime(2030, 5, 30, 8, 0), now=NOW)


def test_without_a_time_drafts_take_the_next_free_slots(acme):
    db, identity, client_id = acme
    with db.session() as session:
        client = client_of(session, client_id)
        first = schedule(session, identity, approved_draft(session, identity, client).id, now=NOW)
        second = schedule(session, identity, approved_draft(session, identity, client).id, now=NOW)
        # NOW is Thu 30 May 2030: the next slots are Fri 31 May and Mon 3 June, 09:00 EDT.
        assert (first.due_at, second.due_at) == (utc(2030, 5, 31, 13), utc(2030, 6, 3, 13))


def test_one_live_post_per_draft(acme):
    db, identity, client_id = acme
    with db.session() as session:
        draft = approved_draft(session, identity, client_of(session, client_id))
        post = schedule(session, identity, draft.id, now=NOW)
        with pytest.raises(ScheduleError, match=rf"already has post {post.id} \(scheduled\): use `castmill "
                                                rf"calendar reschedule {post.id}"):
            schedule(session, identity, draft.id, now=NOW)

        cancel(session, identity, post.id, "wrong day")
        again = schedule(session, identity, draft.id, now=NOW)
        assert again.id != post.id and again.idempotency_key != post.idempotency_key

        session.execute(update(ScheduledPost).where(ScheduledPost.id == again.id).values(status="published"))
        with pytest.raises(ScheduleError, match=rf"draft {draft.id} was already published \(post {again.id}\)"):
            schedule(session, identity, draft.id, now=NOW)


def test_the_clients_account_for_the_platform_is_used(acme, monkeypatch):
    db, identity, client_id = acme
    with db.session() as session:
        client = client_of(session, client_id)
        brand = add_account(session, "acme", "x", name="brand", token_env="ACME_X_BRAND")
        main = add_account(session, "acme", "x", name="default", token_env="ACME_X")
        by_default = schedule(session, identity, approved_draft(session, identity, client).id, now=NOW)
        by_name = schedule(session, identity, approved_draft(session, identity, client).id, account_name="brand",
                           now=NOW)
        assert (by_default.account_id, by_default.platform) == (main.id, "x")
        assert (by_name.account_id, by_name.platform) == (brand.id, "x")
        with pytest.raises(NotFoundError, match="acme has no x account 'other' \\(known: brand, default\\)"):
            schedule(session, identity, approved_draft(session, identity, client).id, account_name="other", now=NOW)


def test_scheduling_is_audited(acme):
    db, identity, client_id = acme
    with db.session() as session:
        post = schedule(session, identity, approved_draft(session, identity, client_of(session, client_id)).id,
                        now=NOW)
    with db.session() as session:
        [event] = events(session, "post.schedule")
        assert (event.actor, event.entity_type, event.entity_id, event.client_id, event.user_id) == \
            ("anna@example.com", "post", post.id, client_id, identity.user_id)
        assert event.before is None
        assert event.after["due_at"] == "2030-05-31T13:00:00+00:00" and event.after["status"] == "scheduled"


def test_reschedule_moves_the_post_keeps_its_key_and_is_audited(acme):
    db, identity, client_id = acme
    with db.session() as session:
        post = schedule(session, identity, approved_draft(session, identity, client_of(session, client_id)).id,
                        now=NOW)
        key = post.idempotency_key
        moved = reschedule(session, identity, post.id, at=datetime(2030, 6, 5, 14, 30), now=NOW)
        assert (moved.due_at.replace(tzinfo=UTC), moved.status, moved.idempotency_key) == \
            (utc(2030, 6, 5, 18, 30), "scheduled", key)
    with db.session() as session:
        [event] = events(session, "post.reschedule")
        assert event.before["due_at"] == "2030-05-31T13:00:00+00:00"
        assert event.after["due_at"] == "2030-06-05T18:30:00+00:00"
        assert event.entity_id == post.id and event.actor == "anna@example.com"


def test_a_failed_or_missed_post_can_be_rescheduled_a_published_one_cannot(acme):
    db, identity, client_id = acme
    with db.session() as session:
        client = client_of(session, client_id)
        failed = schedule(session, identity, approved_draft(session, identity, client).id, now=NOW)
        published = schedule(session, identity, approved_draft(session, identity, client).id, now=NOW)
        session.execute(update(ScheduledPost).where(ScheduledPost.id == failed.id)
                        .values(status="failed", error="x: HTTP 403: forbidden", attempts=3))
        session.execute(update(ScheduledPost).where(ScheduledPost.id == published.id).values(status="published"))
        session.expire_all()
        again = reschedule(session, identity, failed.id, at=datetime(2030, 6, 7, 9, 0), now=NOW)
        assert (again.status, again.error, again.attempts) == ("scheduled", "", 0)
        with pytest.raises(ScheduleError, match=rf"post {published.id} is published: only scheduled, missed, failed"):
            reschedule(session, identity, published.id, at=datetime(2030, 6, 7, 9, 0), now=NOW)
        with pytest.raises(ScheduleError, match="is in the past"):
            reschedule(session, identity, failed.id, at=datetime(2030, 5, 1, 9, 0), now=NOW)


def test_reschedule_refuses_a_post_whose_draft_changed_since(acme):
    db, identity, client_id = acme
    with db.session() as session:
        draft = approved_draft(session, identity, client_of(session, client_id))
        post = schedule(session, identity, draft.id, now=NOW)
        review.edit(session, identity, draft.id, ["Changed after scheduling"], base_version=1)
        with pytest.raises(ScheduleError, match=rf"draft {draft.id} changed since post {post.id} was scheduled"):
            reschedule(session, identity, post.id, at=datetime(2030, 6, 7, 9, 0), now=NOW)


def test_cancel_needs_a_reason_and_is_audited_with_it(acme):
    db, identity, client_id = acme
    with db.session() as session:
        post = schedule(session, identity, approved_draft(session, identity, client_of(session, client_id)).id,
                        now=NOW)
        with pytest.raises(ScheduleError, match="a reason is required"):
            cancel(session, identity, post.id, "  ")
        assert cancel(session, identity, post.id, "guest asked to hold it").status == "cancelled"
        with pytest.raises(ScheduleError, match="is cancelled: only scheduled, missed, failed posts can be cancelled"):
            cancel(session, identity, post.id, "twice")
    with db.session() as session:
        [event] = events(session, "post.cancel")
        assert (event.before["status"], event.after["status"], event.after["reason"]) == \
            ("scheduled", "cancelled", "guest asked to hold it")


def test_cancel_loses_cleanly_to_a_scheduler_that_claimed_the_post_meanwhile(acme):
    db, identity, client_id = acme
    with db.session() as session:
        post = schedule(session, identity, approved_draft(session, identity, client_of(session, client_id)).id,
                        now=NOW)
    with db.session() as ui:
        loaded = ui.get(ScheduledPost, post.id)  # the page loaded the post while it was still scheduled
        with db.session() as scheduler:
            scheduler.execute(update(ScheduledPost).where(ScheduledPost.id == post.id).values(status="publishing"))
        with pytest.raises(ScheduleError, match=f"post {post.id} became publishing meanwhile"):
            cancel(ui, identity, loaded.id, "too late")
    with db.session() as session:
        assert session.get(ScheduledPost, post.id).status == "publishing"
        assert events(session, "post.cancel") == []


def test_auto_schedule_fills_free_slots_oldest_approval_first(acme):
    db, identity, client_id = acme
    with db.session() as session:
        client = client_of(session, client_id)
        client.posting_slots = NY_WEEKDAYS_0900 + [{"platform": "linkedin", "days": ["tue"], "time": "10:00"}]
        first, second, third = (add_draft(session, client, text=f"post {n}") for n in (1, 2, 3))
        for draft in (third, first, second):  # approval order differs from creation order
            approve(session, identity, draft)
        linked = approved_draft(session, identity, client, "linkedin")
        add_draft(session, client, text="never approved")
        manual = approved_draft(session, identity, client, text="scheduled by hand")
        schedule(session, identity, manual.id, now=NOW)  # takes Fri 31 May

        created = auto_schedule(session, identity, "acme", horizon_days=7, now=NOW)
        placed = {post.draft_id: post.due_at for post in created}
        assert placed == {third.id: utc(2030, 6, 3, 13), first.id: utc(2030, 6, 5, 13),
                          linked.id: utc(2030, 6, 4, 14)}  # second waits: no free x slot within 7 days
        assert auto_schedule(session, identity, "acme", horizon_days=7, now=NOW) == []
        later = auto_schedule(session, identity, "acme", horizon_days=14, now=NOW)
        assert [(p.draft_id, p.due_at) for p in later] == [(second.id, utc(2030, 6, 7, 13))]
        assert len(events(session, "post.schedule")) == 5


def test_two_people_scheduling_the_same_draft_at_once_make_one_post(acme):
    db, identity, client_id = acme
    with db.session() as session:
        draft_id = approved_draft(session, identity, client_of(session, client_id)).id
    race = schedule_at_once(db, identity, draft_id, NOW)
    assert race.second_waited
    post_id = race.first_post_id
    assert race.second == {"error": f"draft {draft_id} already has post {post_id} (scheduled): use `castmill calendar "
                                    f"reschedule {post_id} --at …` to move it"}
    with db.session() as session:
        assert session.scalars(select(ScheduledPost.id)).all() == [post_id]
