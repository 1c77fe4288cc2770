"""The calendar on a real PostgreSQL: timestamptz round trips, the draft lock, the guarded updates."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from pipeline.calendar import cancel, entries, export_ics, reschedule, schedule
from pipeline.store.db import Database
from pipeline.store.models import ScheduledPost
from tests.helpers.calendar import (NY_WEEKDAYS_0900, add_client, approved_draft, schedule_at_once,
                                      staff_identity)

UTC = timezone.utc
NOW = datetime(2030, 5, 30, 12, 0, tzinfo=UTC)


def test_schedule_move_cancel_list_and_export_on_postgresql(postgres_url):
    db = Database(postgres_url)
    try:
        with db.session() as session:
            staff = staff_identity(session)
            client = add_client(session, "acme", "America/New_York", NY_WEEKDAYS_0900)
            first = schedule(session, staff, approved_draft(session, staff, client).id, now=NOW)
            second = schedule(session, staff, approved_draft(session, staff, client).id,
                              at=datetime(2030, 11, 3, 1, 30), now=NOW)  # the repeated hour: first 01:30 (EDT)
        with db.session() as session:
            stored = session.get(ScheduledPost, second.id).due_at
            assert stored == datetime(2030, 11, 3, 5, 30, tzinfo=UTC) and stored.tzinfo is not None
            reschedule(session, staff, first.id, at=datetime(2030, 6, 10, 9, 0), now=NOW)
            cancel(session, staff, second.id, "not this week")
        with db.session() as session:
            rows = entries(session, staff, start_utc=datetime(2030, 6, 1, tzinfo=UTC),
                           end_utc=datetime(2030, 12, 1, tzinfo=UTC))
            assert [(r.post_id, r.status, r.due_local_client.isoformat()) for r in rows] == [
                (first.id, "scheduled", "2030-06-10T09:00:00-04:00"),
                (second.id, "cancelled", "2030-11-03T01:30:00-04:00")]
            feed = export_ics(session, "acme")
        with db.session() as session:
            assert export_ics(session, "acme") == feed
    finally:
        db.dispose()


def test_concurrent_scheduling_of_one_draft_makes_one_post_on_postgresql(postgres_url):
    db = Database(postgres_url)
    try:
        with db.session() as session:
            staff = staff_identity(session)
            draft_id = approved_draft(session, staff, add_client(session, "acme", "America/New_York",
                                                                 NY_WEEKDAYS_0900)).id
        race = schedule_at_once(db, staff, draft_id, NOW)
        assert race.second_waited  # blocked on the draft's row lock
        assert race.second.get("error", "").startswith(f"draft {draft_id} already has post {race.first_post_id}")
        with db.session() as session:
            assert session.scalars(select(ScheduledPost.id)).all() == [race.first_post_id]
    finally:
        db.dispose()
